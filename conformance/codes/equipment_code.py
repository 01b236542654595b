"""特种设备代码 (equipment code), TSG 08-2017 《特种设备使用管理规则》 annex "特种设备代码编号方法".

Today's form (``tsg08-2017``, the only one the "issued" question accepts), 18 characters, no
spaces: 设备基本代码 (4: the 品种 code of the catalogue, e.g. ``2150``) + 制造单位代号 (5: 2-digit
region of the licensing authority, ``10`` = national, else the province code, + the 3-digit unit
sequence of the manufacturing licence number) + 制造年份 (4) + 制造顺序号 (5; "如果制造顺序号超过
99999，可用拼音字母代替", so capital letters are accepted there).

Forms held in the data (accepted by "held" with a note naming the form; docs/identifiers.md has a
real sample of each and where it was published): the 20-character 设备注册代码 that registration
authorities assigned before TSG 08-2017, in two layouts, read by form, not guessed:

* ``reg-code-yyyymm``: 设备类别代码 (4) + 行政区划代码 (6) + 注册年月 (6, ``yyyymm``) + 顺序号 (4);
  e.g. ``11303325002002100003`` (Lishui, Zhejiang, registered 2002-10); a pressure-piping sequence
  past 9999 takes a letter (``A002``).
* ``reg-code-year``: 设备类别代码 (4) + 行政区划代码 (6) + 注册年份 (4) + 顺序号 (6), e.g.
  ``31104403002009001047`` (Shenzhen, 2009): positions 15–16 are part of the sequence, not a month.

A value that reads validly in both layouts (``31103506002016053337``: May 2016 + 3337, or 2016 +
053337) is accepted and both readings are named; one that reads in neither is refused with the
reason of each. Rules applied to every form:

* Catalogue part: must exist in equipment-catalogue.json. 18 characters: it must be a 品种 (or a
  class with no variety under it); a kind / class code is an error for "issued", a warning for
  "held" (a deviation seen in data, not a form). 20 characters: old classification codes missing
  from the 2014 catalogue only warn.
* Region: ``10`` or a province code of provinces.json; division (20 characters): GB/T 2260
  structure, membership only warned (codes withdrawn since stay in old registration codes).
* Years: 1950 … the current year.
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
    FORM_PART,
    INFO,
    WARNING,
    CodeKind,
    Form,
    Part,
    PartSpec,
    Problem,
    by_severity,
    char_problems,
    form_note,
    year_problems,
)
from conformance.codes.catalogue_code import catalogue_problems
from conformance.codes.division import division_problems

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
LEGACY_YEAR_SPECS = (
    PartSpec("设备分类码", "catalogue code", 0, 4),
    PartSpec("行政区划代码", "division", 4, 10),
    PartSpec("注册年份", "registration year", 10, 14),
    PartSpec("顺序码", "sequence", 14, 20),
)

#: The forms of an equipment code that authorities issued; ``current`` is today's.
FORMS: dict[str, Form] = {
    f.id: f
    for f in (
        Form(
            "tsg08-2017",
            "18位特种设备代码（TSG 08-2017）",
            "18-character equipment code (TSG 08-2017)",
            "2017年8月1日起由制造单位编制",
            "assigned by the manufacturer from 1 August 2017",
            current=True,
        ),
        Form(
            "reg-code-yyyymm",
            "20位设备注册代码（类别4+行政区划6+注册年月6+顺序号4）",
            "20-character registration code (category 4 + division 6 + registration yyyymm 6 + sequence 4)",
            "TSG 08-2017 施行前由登记机关编制，设备使用期内继续沿用",
            "assigned by the registration authority before TSG 08-2017; kept for the life of the equipment",
        ),
        Form(
            "reg-code-year",
            "20位设备注册代码（类别4+行政区划6+注册年份4+顺序号6）",
            "20-character registration code (category 4 + division 6 + registration year 4 + sequence 6)",
            "TSG 08-2017 施行前由登记机关编制，设备使用期内继续沿用",
            "assigned by the registration authority before TSG 08-2017; kept for the life of the equipment",
        ),
    )
}
CURRENT = FORMS["tsg08-2017"]
_LAYOUTS = {"reg-code-yyyymm": LEGACY_SPECS, "reg-code-year": LEGACY_YEAR_SPECS}

_FAST = re.compile(r"[0-9A-Z]{4}[0-9]{9}[0-9A-Z]{5}")


def _split(value: str) -> list[Part]:
    if len(value) == 20:
        fits = _legacy_fits(value)
        specs = _LAYOUTS[fits[0]] if fits else LEGACY_SPECS
    else:
        specs = SPECS
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


def _slow(value: str, issued: bool) -> tuple[list[Problem], tuple[str, ...]]:
    """``issued`` True asks "issued" (18 characters only), False "held" (20-character codes too)."""
    n = len(value)
    if n == 18:
        problems = _problems18(value, issued)
        return problems, (CURRENT.id,) if not any(p.severity == ERROR for p in problems) else ()
    if n == 20:
        return _problems20(value, issued)
    return [
        Problem(
            "value",
            f"长度应为18位（TSG 08-2017 特种设备代码；旧的设备注册代码为20位），实为{n}位",
            f"length should be 18 (TSG 08-2017 equipment code; legacy registration codes have 20), is {n}",
        )
    ], ()


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
    problems.extend(year_problems(value[9:13], "manufacture year", "制造年份", 9, EARLIEST_YEAR))
    problems.extend(
        char_problems(value[13:], UPPER_ALNUM, "serial", "制造顺序号", "数字或大写字母", "0-9 or A-Z", start=13)
    )
    return problems


def _month_problems(ym: str) -> list[Problem]:
    """Problems of a registration ``yyyymm`` (positions 11-16)."""
    bad = year_problems(ym[:4], "registration year-month", "注册年份", 10, EARLIEST_YEAR)
    if bad:
        return bad
    month = ym[4:]
    if month.isascii() and month.isdigit() and 1 <= int(month) <= 12:
        return []
    return [
        Problem(
            "registration year-month",
            f"注册年月「{ym}」的月份「{month}」（第15–16位）不是 01–12",
            f"registration year-month {ym}: month {month!r} (positions 15-16) is not 01-12",
        )
    ]


def _layout_problems(value: str) -> dict[str, list[Problem]]:
    """The problems of positions 11-20 read in each 20-character layout (form id → problems)."""
    return {
        "reg-code-yyyymm": _month_problems(value[10:16])
        + char_problems(value[16:], UPPER_ALNUM, "sequence", "顺序码", "数字或大写字母", "0-9 or A-Z", start=16),
        "reg-code-year": year_problems(value[10:14], "registration year", "注册年份", 10, EARLIEST_YEAR)
        + char_problems(value[14:], string.digits, "sequence", "顺序码", "数字", "a digit", start=14),
    }


def _legacy_fits(value: str) -> tuple[str, ...]:
    """The 20-character layouts in which positions 11-20 read validly."""
    return tuple(form for form, problems in _layout_problems(value).items() if not problems)


def _problems20(value: str, issued: bool) -> tuple[list[Problem], tuple[str, ...]]:
    layouts = _layout_problems(value)
    fits = tuple(form for form, problems in layouts.items() if not problems)
    problems: list[Problem] = []
    problems.extend(catalogue_problems(value[:4], part="catalogue code", part_zh="设备分类码", missing=WARNING))
    problems.extend(
        division_problems(
            value[4:10],
            membership=WARNING,
            part_zh="行政区划代码",
            start=4,
            lifetime=not issued,  # a legacy code keeps the division of the year it was registered
        )
    )
    if not fits:
        for form, found in layouts.items():
            f = FORMS[form]
            problems.extend(
                Problem(p.part, f"按{f.zh}读：{p.zh}", f"read as a {f.en}: {p.en}", p.severity) for p in found
            )
    elif issued:
        names_zh = "或".join(FORMS[f].zh for f in fits)
        names_en = " or ".join(FORMS[f].en for f in fits)
        problems.append(
            Problem(
                "value",
                f"长度为20位：这是{names_zh}，TSG 08-2017 施行前的形式；今天编制的是18位特种设备代码",
                f"20 characters: a {names_en}, the form used before TSG 08-2017; codes assigned today are the "
                "18-character equipment code",
            )
        )
    elif len(fits) == 1:
        problems.append(form_note(FORMS[fits[0]]))
    else:
        era = FORMS[fits[0]]
        problems.append(
            Problem(
                FORM_PART,
                "20位设备注册代码，第11–20位两种形式都读得通：注册年月6+顺序号4，或注册年份4+顺序号6"
                f"（两者都是{era.era_zh}）",
                "20-character registration code; positions 11-20 read validly in both of its layouts: "
                f"registration yyyymm 6 + sequence 4, or registration year 4 + sequence 6 (both {era.era_en})",
                INFO,
            )
        )
    return by_severity(problems), fits


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


KIND = CodeKind(
    "equipment-code",
    "特种设备代码",
    "equipment code",
    "TSG 08-2017 附件（特种设备代码编号方法）；旧的20位设备注册代码见 docs/identifiers.md",
    _split,
    _slow,
    generate,
    fast_ok,
    quick_forms=(CURRENT.id,),
    unique_values=True,
)
