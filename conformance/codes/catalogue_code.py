"""特种设备目录 code (special-equipment catalogue, 2014 edition, 质检总局 2014年第114号公告).

Four characters ``0-9`` and capital letters (e.g. ``3110``, ``4D00``, ``23T0``, ``F000``): kind (种类,
``X000``), class (类别, ``XY00``) or variety (品种). The code must be an entry of
``equipment-catalogue.json``; entries flagged ``doubtful`` there give a warning. "Issued" and
"held" are the same: the catalogue is a closed list.
"""

from __future__ import annotations

import random
import string

from conformance.codes import lists
from conformance.codes.base import (
    ERROR,
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

ALPHABET = string.digits + string.ascii_uppercase
SPECS = (
    PartSpec("种类", "kind", 0, 1),
    PartSpec("类别", "class", 1, 2),
    PartSpec("品种", "variety", 2, 3),
    PartSpec("补充位", "extension", 3, 4),
)
LEVEL_ZH = {"kind": "种类", "class": "类别", "variety": "品种"}


def catalogue_problems(
    code: str,
    *,
    part: str = "catalogue code",
    part_zh: str = "目录代码",
    start: int = 0,
    offset: int = 0,
    missing: Severity = ERROR,
) -> list[Problem]:
    """Problems of a 4-character catalogue code embedded at ``start`` (+ ``offset``).

    ``missing`` is the severity of "not in the catalogue" (legacy codes only warn).
    """
    problems = char_problems(code, ALPHABET, part, part_zh, "数字或大写字母", "0-9 or A-Z", start=start, offset=offset)
    if problems:
        return problems
    item = lists.catalogue().get(code)
    if item is None:
        year = codelist("equipment-catalogue").get("date", "2014")
        return [
            Problem(
                part,
                f"{part_zh}「{code}」不在《特种设备目录》（equipment-catalogue.json，{year}）中",
                f"{part} {code} is not in the special-equipment catalogue (equipment-catalogue.json, {year})",
                missing,
            )
        ]
    if item.get("doubtful"):
        note = item.get("note") or ""
        return [
            Problem(
                part,
                f"{part_zh}「{code}」（{item['name']}）在目录代码表中标为存疑{('：' + note) if note else ''}",
                f"{part} {code} ({item['name']}) is flagged doubtful in the catalogue code list"
                f"{(': ' + note) if note else ''}",
                WARNING,
            )
        ]
    return []


def _quick(value: object) -> bool:
    item = lists.catalogue().get(value) if type(value) is str else None
    return item is not None and not item.get("doubtful")


def _slow(value: str, issued: bool) -> list[Problem]:
    return catalogue_problems(value) if len(value) == 4 else [length_problem(4, len(value))]


def generate(rng: random.Random, **hints: object) -> str:
    """A non-doubtful catalogue code; hints: ``level`` (kind / class / variety), ``within`` (ancestor code)."""
    level = hints.get("level")
    within = str(hints.get("within") or "")
    pool = lists.catalogue_descendants(within) if within in lists.catalogue() else tuple(sorted(lists.catalogue()))
    cat = lists.catalogue()
    choices = [c for c in pool if not cat[c].get("doubtful") and (level is None or cat[c].get("level") == level)]
    if not choices:
        raise ValueError(f"no catalogue code of level {level!r} under {within!r}")
    return rng.choice(choices)


KIND = CodeKind(
    "catalogue-code",
    "特种设备目录代码",
    "equipment catalogue code",
    "特种设备目录（质检总局2014年第114号公告）",
    parts_of(SPECS),
    _slow,
    generate,
    quick=_quick,
)
