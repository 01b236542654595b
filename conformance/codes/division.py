"""行政区划代码 (administrative division code), GB/T 2260.

Structure: 6 digits = province (2) + prefecture (2) + county (2). A province-level code ends in
``0000``, a prefecture-level code in ``00``. ``000000`` and province part ``00`` are never valid;
the province part must be a province of ``provinces.json``. "Prefecture part 00 ⇒ county part 00"
holds for every code of the current table but not for every code that was ever issued (海南省
1988–2001: ``460001``–``460039``, county-level units directly under the province), so a code of
the history table is judged by the history, and only a code found in no table is malformed.

Two tables (docs/divisions.md): ``divisions.json``, the current 民政部 year-end table, and
``divisions-history.json``, every code of every year-end table since 1981 with its years of use
and successors (plus the GB/T 2260 summary codes 市辖区 ``xxxx01`` … the tables omit).

* A code in a **new record** (the ``division`` kind, and the default for embedded codes) must be
  current. Not in the current table: strict error, lenient warning (the snapshot lags the live
  table; platforms use their own 功能区 codes, DB42/T 2279-2024 §9.2 — the list's
  ``functionalZones`` are named as such). An abolished code is a **warning in both modes** that
  names its years of use and its successors; a summary code (市辖区) is treated as not current.
  Entries flagged ``doubtful`` (grouping codes aside: changes reported after the table) are
  accepted with a warning in both modes.
* A code **kept for life** (``lifetime=True``: the address code of a citizen ID, GB 11643-1999
  §5.2 with 《居民身份证法》 §3) is judged against every table since 1981: a code that existed at
  any time is fine (an ``info`` note names its era when it is not current); a code that never
  existed gets ``membership`` (the citizen ID: strict error, lenient warning). The 港澳台居民居住证
  address codes (``830000`` …) are noted as such.

Other identifiers embed a division code with their own severity for membership: the USCC
(GB 32100-2015: the registering authority's code at issue time, possibly withdrawn since; ``100000``
= central level) and the legacy equipment code only warn.
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
    PartSpec,
    Problem,
    Severity,
    char_problems,
    length_problem,
    parts_of,
)
from conformance.contract.documents import codelist

SPECS = (
    PartSpec("省级代码", "province part", 0, 2),
    PartSpec("地级代码", "prefecture part", 2, 4),
    PartSpec("县级代码", "county part", 4, 6),
)

#: GB 32100-2015: registration at central level uses ``100000`` in the USCC.
CENTRAL = "100000"


def _era(entry: dict, first: int) -> tuple[str, str]:
    """Years of use of one history entry, Chinese and English ("1988–2001 年")."""
    since, until = entry["from"], entry.get("to")
    zh_from = f"{since} 年或更早" if since <= first else f"{since} 年"
    en_from = f"{since} or earlier" if since <= first else str(since)
    return f"{zh_from}至{f' {until} 年' if until else '今'}", f"{en_from} to {until or 'now'}"


def _eras(entries: tuple[dict, ...], first: int) -> tuple[str, str]:
    eras = [_era(e, first) for e in entries]
    return "、".join(z for z, _ in eras), ", ".join(e for _, e in eras)


def _place(entry: dict) -> str:
    """``entry``'s name preceded by its parent's (海南省通什市)."""
    parent = entry.get("parent")
    prefix = lists.division_name(parent) if parent else ""
    name = str(entry["name"])
    return f"{prefix}{name}" if prefix and not name.startswith(prefix) else name


def _successors(code: str) -> tuple[str, str]:
    """ "，其区域现属 469001（五指山市）" in Chinese and English, or "" when no successor is known."""
    succ = lists.division_successors(code)
    if not succ:
        return "", ""
    named = [f"{c}（{lists.division_name(c)}）" for c in succ[:3]]
    more = f" 等 {len(succ)} 个" if len(succ) > 3 else ""
    named_en = [f"{c} ({lists.division_name(c)})" for c in succ[:3]]
    more_en = f" and {len(succ) - 3} more" if len(succ) > 3 else ""
    return f"，其区域现属 {'、'.join(named)}{more}", f"; its area is now {', '.join(named_en)}{more_en}"


def _history_problems(
    code: str, entries: tuple[dict, ...], *, membership: Severity, part: str, part_zh: str, lifetime: bool
) -> list[Problem]:
    """A code of the history table that is not current (abolished, renamed away, summary, erratum)."""
    first = int(lists.division_history_meta().get("firstTable") or 0)
    era_zh, era_en = _eras(entries, first)
    last = entries[-1]
    place = _place(last)
    succ_zh, succ_en = _successors(code)
    real = [e for e in entries if not e.get("summary")]
    if lifetime:
        kind_zh = " GB/T 2260 汇总码" if not real else "行政区划代码"
        kind_en = "GB/T 2260 summary code" if not real else "division code"
        return [
            Problem(
                part,
                f"{part_zh}「{code}」是 {era_zh}使用的{kind_zh}（{place}），号码终身不变，仍然有效{succ_zh}",
                f"{part} {code} is a {kind_en} used {era_en} ({place}); the number keeps it for life{succ_en}",
                INFO,
            )
        ]
    if not real:
        return [
            Problem(
                part,
                f"{part_zh}「{code}」是 GB/T 2260 的汇总码（{place}，{era_zh}），不对应一个行政区划单位，"
                "现行代码表不列此码；应使用县级行政区划代码",
                f"{part} {code} is a GB/T 2260 summary code ({place}, {era_en}), not an administrative unit, "
                "and not in the current table; use the county-level code",
                membership,
            )
        ]
    return [
        Problem(
            part,
            f"{part_zh}「{code}」（{place}）已不在现行 GB/T 2260 代码表中：{era_zh}使用{succ_zh or '，无已知后继代码'}",
            f"{part} {code} ({place}) is no longer in the GB/T 2260 table: used {era_en}"
            f"{succ_en or '; no successor known'}",
            WARNING,
        )
    ]


def division_problems(
    code: str,
    *,
    membership: Severity,
    part: str = "division",
    part_zh: str = "行政区划代码",
    start: int = 0,
    offset: int = 0,
    allow_central: bool = False,
    lifetime: bool = False,
) -> list[Problem]:
    """Problems of a 6-character division code embedded at ``start`` (+ ``offset``).

    ``membership`` is the severity of "in no table" (structure errors are always errors).
    ``lifetime``: the code is kept for life (citizen ID address code) and is judged against every
    table since 1981 instead of the current one.
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
    history = lists.division_history().get(code, ())
    item = lists.divisions().get(code)
    if item is not None and not item.get("doubtful"):
        return []
    if lifetime and any(e.get("to") is None and not e.get("summary") for e in history):
        return []  # in the newest year-end table; a later change only flags it
    if item is not None:
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
    permit = lists.residence_permit_codes().get(code) if lifetime else None
    if permit is not None:
        return [
            Problem(
                part,
                f"{part_zh}「{code}」是港澳台居民居住证号码的地址码（{permit['name']}；{permit['note']}），"
                "不是 GB/T 2260 代码",
                f"{part} {code} is the address code of the residence-permit numbers of {permit['name']} "
                "(港澳台居民居住证, 国办发〔2018〕81号), not a GB/T 2260 code",
                INFO,
            )
        ]
    if history:
        return _history_problems(code, history, membership=membership, part=part, part_zh=part_zh, lifetime=lifetime)
    if pref == "00" and county != "00":
        return [
            Problem(
                part,
                f"{part_zh}「{code}」结构错误：地级部分为 00 时县级部分也应为 00（GB/T 2260；1981 年以来的历年代码表中也无此码）",
                f"{part} {code} malformed: a prefecture part of 00 requires a county part of 00 (GB/T 2260; "
                "no table since 1981 has this code either)",
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
    zone = lists.functional_zones().get(code)
    if zone is not None:
        what_zh = "统计用功能区代码" if zone.get("level") == "functional-zone" else "统计用区划代码"
        what_en = "statistical functional-zone code" if zone.get("level") == "functional-zone" else "statistical code"
        return [
            Problem(
                part,
                f"{part_zh}「{code}」是{what_zh}（{zone['name']}），不是 GB/T 2260 行政区划代码",
                f"{part} {code} is a {what_en} ({zone['name']}), not a GB/T 2260 code",
                membership,
            )
        ]
    snapshot = codelist("divisions").get("date", "")
    if lifetime:
        meta = lists.division_history_meta()
        return [
            Problem(
                part,
                f"{part_zh}「{code}」不是 {meta.get('firstTable')} 年以来任何一年的 GB/T 2260 行政区划代码"
                f"（divisions-history.json，截至 {meta.get('date')}）",
                f"{part} {code} is in no GB/T 2260 table since {meta.get('firstTable')} "
                f"(divisions-history.json, to {meta.get('date')})",
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


def _slow(value: str, issued: bool) -> list[Problem]:
    if len(value) != 6:
        return [length_problem(6, len(value))]
    return division_problems(value, membership=ERROR if issued else WARNING)


def generate(rng: random.Random, **hints: object) -> str:
    """A code from divisions.json; hints: ``level`` (province / prefecture / county), ``within`` (prefix)."""
    level = str(hints.get("level") or "county")
    within = str(hints.get("within") or "")
    pool = lists.division_pool(level, within)
    if not pool:
        raise ValueError(f"no {level} division under {within!r} in divisions.json")
    return rng.choice(pool)


KIND = CodeKind(
    "division",
    "行政区划代码",
    "division code",
    "GB/T 2260",
    parts_of(SPECS),
    _slow,
    generate,
    quick=lambda value: type(value) is str and value in lists.division_codes(),
)
