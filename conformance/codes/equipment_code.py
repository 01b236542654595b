"""特种设备代码 (equipment code), TSG 08-2017 《特种设备使用管理规则》 annex "特种设备代码编号方法".

18 characters, no spaces: 设备基本代码 (4: the 品种 code of the catalogue, e.g. ``2150``) +
制造单位代号 (5: 2-digit region of the licensing authority, ``10`` = national, else the province
code, + the 3-digit unit sequence of the manufacturing licence number) + 制造年份 (4) + 制造顺序号
(5; "如果制造顺序号超过99999，可用拼音字母代替", so capital letters are accepted there).

Rules applied:

* Catalogue part: must exist in equipment-catalogue.json; strict: it must be a 品种 (or a class
  with no variety under it), a kind / class code is an error; lenient: a warning.
* Region: ``10`` or a province code of provinces.json. Year: 1950 … the current year.
* 20-character legacy 注册代码 (品种 4 + division 6 + registration yyyymm 6 + sequence 4, the
  pre-2017 registration code of e.g. 特种设备注册代码编制规定): strict → error (not an equipment
  code); lenient → accepted with a warning, its parts checked (old classification codes missing
  from the 2014 catalogue only warn; pressure-piping sequences past 9999 use a letter, ``A002``).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import string

from conformance.codes import lists
from conformance.codes.base import (
    ERROR,
    WARNING,
    CodeKind,
    CodeResult,
    Part,
    PartSpec,
    Problem,
    char_problems,
    register,
    surface_problems,
)
from conformance.codes.catalogue_code import catalogue_problems
from conformance.codes.division import division_problems

NAME = "equipment-code"
TITLE_ZH = "特种设备代码"
TITLE_EN = "equipment code"

UPPER_ALNUM = string.digits + string.ascii_uppercase
EARLIEST_YEAR = 1950
NATIONAL = "10"

SPECS = (
    PartSpec("设备基本代码（品种）", "catalogue variety", 0, 4),
    PartSpec("制造单位代号-审批机关区域", "manufacturer region", 4, 6),
    PartSpec("制造单位代号-许可顺序号", "manufacturer licence sequence", 6, 9),
    PartSpec("制造年份", "manufacture year", 9, 13),
    PartSpec("制造顺序号", "serial", 13, 18),
)
LEGACY_SPECS = (
    PartSpec("设备分类码", "catalogue code", 0, 4),
    PartSpec("行政区划代码", "division", 4, 10),
    PartSpec("注册年月", "registration year-month", 10, 16),
    PartSpec("顺序码", "sequence", 16, 20),
)

_FAST = re.compile(r"[0-9A-Z]{4}[0-9]{9}[0-9A-Z]{5}")


def _split(value: str) -> list[Part]:
    specs = LEGACY_SPECS if len(value) == 20 else SPECS
    return [s.take(value) for s in specs]


@functools.cache
def _this_year() -> int:
    return dt.date.today().year


def fast_ok(value: object) -> bool:
    """True when ``value`` is an 18-character equipment code with no problem at all."""
    if type(value) is not str or len(value) != 18 or _FAST.fullmatch(value) is None:
        return False
    region = value[4:6]
    return (
        value[:4] in lists.catalogue_specific()
        and (region == NATIONAL or region in lists.provinces())
        and EARLIEST_YEAR <= int(value[9:13]) <= _this_year()
        and not lists.catalogue()[value[:4]].get("doubtful")
    )


def validate(value: str, strict: bool = True) -> CodeResult:
    if fast_ok(value):
        return CodeResult(NAME, value, [], split=_split, title_zh=TITLE_ZH, title_en=TITLE_EN)
    problems = surface_problems(value)
    if problems:
        return CodeResult(NAME, str(value), problems, parts=[], title_zh=TITLE_ZH, title_en=TITLE_EN)
    n = len(value)
    if n == 18:
        problems = _problems18(value, strict)
    elif n == 20:
        problems = _problems20(value, strict)
    else:
        problems = [
            Problem(
                "value",
                f"长度应为18位（TSG 08-2017 特种设备代码），实为{n}位",
                f"length should be 18 (TSG 08-2017 equipment code), is {n}",
            )
        ]
    return CodeResult(NAME, value, problems, split=_split, title_zh=TITLE_ZH, title_en=TITLE_EN)


def _problems18(value: str, strict: bool) -> list[Problem]:
    problems = catalogue_problems(value[:4], part="catalogue variety", part_zh="设备基本代码（品种）")
    variety = value[:4]
    if not problems and variety not in lists.catalogue_specific():
        item = lists.catalogue()[variety]
        kids = [c for c in lists.catalogue_descendants(variety) if c in lists.catalogue_specific()][:3]
        problems.append(
            Problem(
                "catalogue variety",
                f"设备基本代码「{variety}」（{item['name']}）是{'种类' if item.get('level') == 'kind' else '类别'}代码，"
                f"应为品种代码（如 {'、'.join(kids)}）",
                f"catalogue part {variety} ({item['name']}) is a {item.get('level', 'class')} code; "
                f"a variety code is required (e.g. {', '.join(kids)})",
                ERROR if strict else WARNING,
            )
        )
    region = value[4:6]
    region_chars = char_problems(
        region, string.digits, "manufacturer region", "制造单位代号（审批机关区域）", "数字", "a digit", start=4
    )
    if region_chars:
        problems.extend(region_chars)
    elif region != NATIONAL and region not in lists.provinces():
        problems.append(
            Problem(
                "manufacturer region",
                f"制造单位代号的审批机关区域代码「{region}」（第5–6位）应为 10（国家）或省级行政区代码",
                f"manufacturer region {region} (positions 5-6) should be 10 (national) or a province code",
            )
        )
    problems.extend(
        char_problems(
            value[6:9],
            string.digits,
            "manufacturer licence sequence",
            "制造单位代号（许可顺序号）",
            "数字",
            "a digit",
            start=6,
        )
    )
    problems.extend(_year_problems(value[9:13], "manufacture year", "制造年份", 9))
    problems.extend(
        char_problems(value[13:], UPPER_ALNUM, "serial", "制造顺序号", "数字或大写字母", "0-9 or A-Z", start=13)
    )
    return problems


def _year_problems(year: str, part: str, part_zh: str, start: int) -> list[Problem]:
    bad = char_problems(year, string.digits, part, part_zh, "数字", "a digit", start=start)
    if bad:
        return bad
    now = dt.date.today().year
    y = int(year)
    if not EARLIEST_YEAR <= y <= now:
        return [
            Problem(
                part,
                f"{part_zh}「{year}」（第{start + 1}–{start + 4}位）超出范围 {EARLIEST_YEAR}–{now}",
                f"{part} {year} (positions {start + 1}-{start + 4}) outside {EARLIEST_YEAR}-{now}",
            )
        ]
    return []


def _problems20(value: str, strict: bool) -> list[Problem]:
    if strict:
        return [
            Problem(
                "value",
                "长度为20位：这是旧的设备注册代码（品种4+行政区划6+注册年月6+顺序号4），"
                "严格模式要求18位特种设备代码（TSG 08-2017）；旧代码只在宽松模式下接受",
                "20 characters: this is a legacy registration code (variety 4 + division 6 + yyyymm 6 + "
                "sequence 4); strict mode requires the 18-character TSG 08-2017 equipment code "
                "(legacy codes are accepted in lenient mode only)",
            )
        ]
    problems = [
        Problem(
            "value",
            "20位旧设备注册代码（TSG 08-2017 之前），不是18位特种设备代码",
            "20-character legacy registration code (before TSG 08-2017), not an 18-character equipment code",
            WARNING,
        )
    ]
    problems.extend(catalogue_problems(value[:4], part="catalogue code", part_zh="设备分类码", missing=WARNING))
    problems.extend(
        division_problems(value[4:10], membership=WARNING, part="division", part_zh="行政区划代码", start=4)
    )
    ym = value[10:16]
    ym_bad = _year_problems(ym[:4], "registration year-month", "注册年份", 10)
    if not ym_bad:
        month = ym[4:]
        if not (month.isascii() and month.isdigit() and 1 <= int(month) <= 12):
            ym_bad = [
                Problem(
                    "registration year-month",
                    f"注册年月「{ym}」的月份「{month}」（第15–16位）不是 01–12",
                    f"registration year-month {ym}: month {month!r} (positions 15-16) is not 01-12",
                )
            ]
    problems.extend(ym_bad)
    problems.extend(
        char_problems(value[16:], UPPER_ALNUM, "sequence", "顺序码", "数字或大写字母", "0-9 or A-Z", start=16)
    )
    problems.sort(key=lambda p: 0 if p.severity == ERROR else 1)
    return problems


@functools.cache
def _sound_varieties() -> tuple[str, ...]:
    cat = lists.catalogue()
    return tuple(sorted(c for c in lists.catalogue_specific() if not cat[c].get("doubtful")))


def generate(rng: random.Random, **hints: object) -> str:
    """A valid 18-character code.

    Hints: ``catalogue`` (variety code), ``division`` or ``region`` (the licensing province; default
    national or a random province), ``year``, ``seq`` (serial number, int).
    """
    variety = str(hints.get("catalogue") or "")
    if variety not in _sound_varieties():
        variety = rng.choice(_sound_varieties())
    region = str(hints.get("region") or "")
    division = str(hints.get("division") or "")
    if not region and len(division) >= 2:
        region = division[:2]
    if region != NATIONAL and region not in lists.provinces():
        region = NATIONAL if rng.random() < 0.4 else rng.choice(sorted(lists.provinces()))
    year = hints.get("year")
    now = dt.date.today().year
    y = int(year) if isinstance(year, int | str) and str(year).isdigit() else rng.randint(1995, now)
    y = min(max(y, EARLIEST_YEAR), now)
    seq = hints.get("seq")
    serial = f"{int(seq):05d}" if isinstance(seq, int) and 0 <= seq <= 99999 else f"{rng.randrange(1, 100000):05d}"
    return f"{variety}{region}{rng.randrange(1, 1000):03d}{y:04d}{serial}"


KIND = register(
    CodeKind(
        name=NAME,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        source="TSG 08-2017 附件（特种设备代码编号方法）",
        validator=validate,
        generator=generate,
        fast=fast_ok,
        unique_values=True,
    )
)
