"""行政区划代码 (administrative division code), GB/T 2260.

Structure: 6 digits = province (2) + prefecture (2) + county (2). A province-level code ends in
``0000``, a prefecture-level code in ``00``; a county-level code never has ``00`` as its
prefecture part. ``000000`` and province part ``00`` are never valid; the province part must be a
province of ``provinces.json``.

Membership: the code must be in ``divisions.json`` (the project's GB/T 2260 snapshot, see its
``source`` and ``date``). Strict: error; lenient: warning (the snapshot lags the live table, and
platforms use their own 功能区 codes, DB42/T 2279-2024 §9.2 — the list's ``functionalZones`` are
named as such in the message). Entries flagged ``doubtful`` in the list (units abolished in 2021,
statistics-only codes) are accepted with a warning in both modes.

Other identifiers embed a division code with their own severity for membership: the USCC
(GB 32100-2015: the registering authority's code at issue time, possibly withdrawn since; ``100000``
= central level) and the citizen ID (GB 11643-1999: the code at first registration) only warn.
"""

from __future__ import annotations

import random
import string

from conformance.codes import lists
from conformance.codes.base import (
    ERROR,
    INFO,
    WARNING,
    CodeKind,
    CodeResult,
    PartSpec,
    Problem,
    Severity,
    char_problems,
    parts_of,
    register,
    surface_problems,
)
from conformance.contracts import codelist

NAME = "division"
TITLE_ZH = "行政区划代码"
TITLE_EN = "division code"

SPECS = (
    PartSpec("省级代码", "province part", 0, 2),
    PartSpec("地级代码", "prefecture part", 2, 4),
    PartSpec("县级代码", "county part", 4, 6),
)
_split = parts_of(SPECS)

#: GB 32100-2015: registration at central level uses ``100000`` in the USCC.
CENTRAL = "100000"


def division_problems(
    code: str,
    *,
    membership: Severity,
    part: str = "division",
    part_zh: str = "行政区划代码",
    start: int = 0,
    offset: int = 0,
    allow_central: bool = False,
) -> list[Problem]:
    """Problems of a 6-character division code embedded at ``start`` (+ ``offset``).

    ``membership`` is the severity of "not in divisions.json" (structure errors are always errors).
    """
    digit_problems = char_problems(code, string.digits, part, part_zh, "数字", "a digit", start=start, offset=offset)
    if digit_problems:
        return digit_problems
    if allow_central and code == CENTRAL:
        return [
            Problem(
                part, f"{part_zh} 100000 表示中央级登记管理机关", f"{part} 100000 means a central-level authority", INFO
            )
        ]
    prov, pref, county = code[:2], code[2:4], code[4:]
    if prov == "00":
        return [Problem(part, f"{part_zh}「{code}」的省级部分不能为 00", f"{part} {code}: province part cannot be 00")]
    if pref == "00" and county != "00":
        return [
            Problem(
                part,
                f"{part_zh}「{code}」结构错误：地级部分为 00 时县级部分也应为 00（GB/T 2260）",
                f"{part} {code} malformed: a prefecture part of 00 requires a county part of 00 (GB/T 2260)",
            )
        ]
    if prov not in lists.provinces():
        return [
            Problem(
                part,
                f"{part_zh}「{code}」的省级部分 {prov} 不是任何省级行政区的代码",
                f"{part} {code}: province part {prov} is not the code of any province",
                ERROR if membership == ERROR else WARNING,
            )
        ]
    item = lists.divisions().get(code)
    if item is not None:
        if not item.get("doubtful"):
            return []
        note = item.get("note") or ""
        successor = item.get("supersededBy")
        succ_zh = f"，现为 {successor}" if successor else ""
        succ_en = f", now {successor}" if successor else ""
        return [
            Problem(
                part,
                f"{part_zh}「{code}」（{item['name']}）在代码表中标为存疑{succ_zh}：{note}",
                f"{part} {code} ({item['name']}) is flagged doubtful in the code list{succ_en}: {note}",
                WARNING,
            )
        ]
    snapshot = codelist("divisions").get("date", "")
    zone = lists.functional_zones().get(code)
    if zone is not None:
        return [
            Problem(
                part,
                f"{part_zh}「{code}」是统计用功能区代码（{zone['name']}），不是 GB/T 2260 行政区划代码",
                f"{part} {code} is a statistical functional-zone code ({zone['name']}), not a GB/T 2260 code",
                membership,
            )
        ]
    return [
        Problem(
            part,
            f"{part_zh}「{code}」不在 GB/T 2260 代码表（divisions.json {snapshot}）中",
            f"{part} {code} is not in the GB/T 2260 table (divisions.json {snapshot})",
            membership,
        )
    ]


def validate(value: str, strict: bool = True) -> CodeResult:
    if type(value) is str and value in lists.division_codes():
        return CodeResult(NAME, value, [], split=_split, title_zh=TITLE_ZH, title_en=TITLE_EN)
    problems = surface_problems(value)
    if problems:
        return CodeResult(NAME, str(value), problems, parts=[], title_zh=TITLE_ZH, title_en=TITLE_EN)
    if len(value) != 6:
        problems = [Problem("value", f"长度应为6位，实为{len(value)}位", f"length should be 6, is {len(value)}")]
    else:
        problems = division_problems(value, membership=ERROR if strict else WARNING)
    return CodeResult(NAME, value, problems, split=_split, title_zh=TITLE_ZH, title_en=TITLE_EN)


def generate(rng: random.Random, **hints: object) -> str:
    """A code from divisions.json; hints: ``level`` (province / prefecture / county), ``within`` (prefix)."""
    level = str(hints.get("level") or "county")
    within = str(hints.get("within") or "")
    pool = lists.division_pool(level, within)
    if not pool:
        raise ValueError(f"no {level} division under {within!r} in divisions.json")
    return rng.choice(pool)


KIND = register(
    CodeKind(
        name=NAME,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        source="GB/T 2260",
        validator=validate,
        generator=generate,
    )
)
