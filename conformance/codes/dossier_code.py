"""电子卷宗编码 (electronic dossier code), DB42/T 2279-2024 §9.2 and Table 3.

Parts: 许可类别代码 (2, Table 3; 特种设备使用登记 = ``05``) + 许可事项代码 (8, SG 6-2021;
use registration = ``01100000``) + 行政区划代码 (6, the licensing authority, GB/T 2260) +
统一社会信用代码 (18, the applicant, GB 32100 full check) + 创建年份 (4) + 序列号 (4, per
applicant per year, from ``0001``).

**Known defect of the standard**: §9.2 says "编码由34位组成" but its own parts add up to 42.
The harness validates by the parts (42 characters) and every result carries an ``info``
problem saying so. A 34-character value gets an error explaining that it probably follows the
stated length and lacks 8 characters, and which parts cannot be located: 2 + 6 + 18 + 4 + 4 = 34
(no item code) and 2 + 8 + 6 + 18 = 34 (no year and sequence) are both tried.

"Issued" (alias strict): category must be ``05``, item ``01100000``, division in divisions.json;
"held" (alias lenient): those three only warn (functional-zone codes are allowed by §9.2:
"功能区代码与政务服务平台设置一致"). The code is new (DB42/T 2279-2024): it has no older form.
The USCC part is checked in full in both modes; sequence ``0000`` is always an error.
"""

from __future__ import annotations

import datetime as dt
import random
import string

from conformance.codes import lists, uscc
from conformance.codes.base import (
    ERROR,
    INFO,
    WARNING,
    CodeKind,
    PartSpec,
    Problem,
    Severity,
    by_severity,
    char_problems,
    parts_of,
    shift,
    year_problems,
)
from conformance.codes.division import division_problems

LENGTH = 42
STATED_LENGTH = 34
EARLIEST_YEAR = 1950

SPECS = (
    PartSpec("许可类别代码", "licence category", 0, 2),
    PartSpec("许可事项代码", "item code", 2, 10),
    PartSpec("行政区划代码", "division", 10, 16),
    PartSpec("统一社会信用代码", "USCC", 16, 34),
    PartSpec("创建年份", "year", 34, 38),
    PartSpec("序列号", "sequence", 38, 42),
)

DISCREPANCY = Problem(
    "value",
    "DB42/T 2279-2024 §9.2 称编码由34位组成，但其各部分（2+8+6+18+4+4）之和为42位：本工具按各部分校验（42位），"
    "此为标准的已知缺陷",
    "DB42/T 2279-2024 §9.2 says the code has 34 characters, but its parts (2+8+6+18+4+4) add up to 42: "
    "validated by the parts (42); a known defect of the standard",
    INFO,
)


def _quick(value: object) -> bool:
    if type(value) is not str or len(value) != LENGTH:
        return False
    cat, item = lists.use_registration()
    year, seq = value[34:38], value[38:]
    return (
        value[:2] == cat
        and value[2:10] == item
        and value[10:16] in lists.division_codes()
        and year.isascii()
        and year.isdigit()
        and EARLIEST_YEAR <= int(year) <= dt.date.today().year
        and seq.isascii()
        and seq.isdigit()
        and seq != "0000"
        and uscc.fast_ok(value[16:34], central=True)
    )


def _slow(value: str, issued: bool) -> list[Problem]:
    n = len(value)
    if n == LENGTH:
        return _problems42(value, issued)
    if n == STATED_LENGTH:
        return [_problem34(value)]
    return [
        Problem(
            "value",
            f"长度应为42位（按 §9.2 各部分：2+8+6+18+4+4），实为{n}位",
            f"length should be 42 (by the parts of §9.2: 2+8+6+18+4+4), is {n}",
        )
    ]


def _problems42(value: str, strict: bool) -> list[Problem]:
    relaxed: Severity = ERROR if strict else WARNING
    use_cat, use_item = lists.use_registration()
    categories = lists.licence_categories()
    problems: list[Problem] = []

    cat = value[:2]
    bad = char_problems(cat, string.digits, "licence category", "许可类别代码", "数字", "a digit")
    if bad:
        problems.extend(bad)
    elif cat not in categories:
        known = "、".join(f"{k} {v['name']}" for k, v in categories.items())
        problems.append(
            Problem(
                "licence category",
                f"许可类别代码「{cat}」（第1–2位）不在表3中（{known}）",
                f"licence category {cat} (positions 1-2) is not in Table 3 ({', '.join(categories)})",
            )
        )
    elif cat != use_cat:
        problems.append(
            Problem(
                "licence category",
                f"许可类别代码为「{cat}」（{categories[cat]['name']}），特种设备使用登记应为 {use_cat}"
                f"（{categories[use_cat]['name']}）",
                f"licence category is {cat}; use registration requires {use_cat}",
                relaxed,
            )
        )

    item = value[2:10]
    bad = char_problems(item, string.digits, "item code", "许可事项代码", "数字", "a digit", start=2)
    if bad:
        problems.extend(bad)
    elif item != use_item:
        problems.append(
            Problem(
                "item code",
                f"许可事项代码「{item}」（第3–10位）应为特种设备使用登记的 {use_item}（SG 6-2021）",
                f"item code {item} (positions 3-10) should be {use_item}, 特种设备使用登记 (SG 6-2021)",
                relaxed,
            )
        )

    problems.extend(division_problems(value[10:16], membership=relaxed, part_zh="行政区划代码（第11–16位）", start=10))

    code = value[16:34]
    problems.extend(
        shift(
            uscc.uscc_problems(code, strict, offset=16),
            "统一社会信用代码（第17–34位）：",
            "USCC (positions 17-34): ",
            part="USCC",
        )
    )

    problems.extend(year_problems(value[34:38], "year", "创建年份", 34, EARLIEST_YEAR))

    seq = value[38:]
    bad = char_problems(seq, string.digits, "sequence", "序列号", "数字", "a digit", start=38)
    if bad:
        problems.extend(bad)
    elif seq == "0000":
        problems.append(
            Problem(
                "sequence",
                "序列号「0000」（第39–42位）无效：同一行政相对人同一年份内从 0001 起依次编号",
                "sequence 0000 (positions 39-42) is invalid: numbering starts at 0001 per applicant and year",
            )
        )
    return by_severity(problems)


def _uscc_at(value: str, start: int) -> bool:
    code = value[start : start + 18]
    try:
        return len(code) == 18 and uscc.uscc_check_char(code[:17]) == code[17]
    except ValueError:
        return False


def _problem34(value: str) -> Problem:
    """Explain a 34-character value: which 8 characters of the 42 are missing."""
    cat, item = lists.use_registration()
    # H1: 2 + 6 + 18 + 4 + 4 (no item code); H2: 2 + 8 + 6 + 18 (no year, no sequence)
    h1 = _uscc_at(value, 8) and value[26:34].isascii() and value[26:34].isdigit()
    h2 = value[2:10] == item and _uscc_at(value, 16)
    head_zh = "长度为34位：可能是按 §9.2 正文“编码由34位组成”编制的，但各部分之和为42位（2+8+6+18+4+4），缺少8位；"
    head_en = (
        "34 characters: probably follows §9.2's stated length of 34, but the parts add up to 42 "
        "(2+8+6+18+4+4), so 8 characters are missing; "
    )
    if h1 and not h2:
        return Problem(
            "value",
            head_zh + f"无法定位许可事项代码（8位，应为 {item}）：第9–26位是统一社会信用代码，其后为年份和序列号",
            head_en + f"the item code (8 characters, {item}) cannot be located: positions 9-26 hold the USCC, "
            "followed by year and sequence",
        )
    if h2 and not h1:
        return Problem(
            "value",
            head_zh + "无法定位创建年份（4位）和序列号（4位）：第17–34位是统一社会信用代码，其后再无字符",
            head_en + "the year (4) and sequence (4) cannot be located: positions 17-34 hold the USCC and "
            "nothing follows",
        )
    return Problem(
        "value",
        head_zh + f"无法定位的部分：许可事项代码（8位，应为 {item}），或创建年份（4位）与序列号（4位）；"
        f"统一社会信用代码也无法可靠定位（许可类别应为 {cat}）",
        head_en + f"the parts that cannot be located: the item code (8, {item}), or the year (4) and "
        "sequence (4); the USCC cannot be located reliably either",
    )


def generate(rng: random.Random, **hints: object) -> str:
    """A valid 42-character code; hints: ``division`` (authority), ``uscc`` (applicant), ``year``, ``seq``."""
    cat, item = lists.use_registration()
    division = str(hints.get("division") or "")
    if division not in lists.division_codes():
        level = rng.choice(("prefecture", "county", "county"))
        division = rng.choice(lists.division_pool(level))
    applicant = str(hints.get("uscc") or "")
    if not uscc.validate(applicant).ok:
        applicant = uscc.generate(rng)
    now = dt.date.today().year
    year = hints.get("year")
    y = int(year) if isinstance(year, int | str) and str(year).isdigit() else rng.randint(2018, now)
    y = min(max(y, EARLIEST_YEAR), now)
    seq = hints.get("seq")
    s = int(seq) if isinstance(seq, int) and 1 <= seq <= 9999 else rng.choice((1, 1, 2, 3, rng.randint(1, 9999)))
    return f"{cat}{item}{division}{applicant}{y:04d}{s:04d}"


KIND = CodeKind(
    "dossier-code",
    "电子卷宗编码",
    "electronic dossier code",
    "DB42/T 2279-2024 §9.2、表3",
    parts_of(SPECS),
    _slow,
    generate,
    quick=_quick,
    always=(DISCREPANCY,),
    unique_values=True,
)
