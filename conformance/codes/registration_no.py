"""使用登记证编号 (use-registration certificate number), TSG 08-2017 《特种设备使用管理规则》.

Layout: 设备代号 (1 汉字: 锅 容 管 梯 起 索 游 车 瓶, ``equipment-characters.json``) + 品种代号
(2: the 2nd–3rd characters of a catalogue code of that equipment, 梯11 ← 3110) + 省份简称 (1,
``provinces.json``) + 地市代号 (1 capital letter) + 流水号 + 年份号 ``(yy)``.

The annex text of TSG 08-2017 is not available to the project, so the rule is a profile built
from real certificate numbers (docs/identifiers.md lists the samples and where they were
published). Two questions (``conformance.codes.base``, "issued" / "held"):

=====================  ===========================  ===========================================
part                   "issued" (today's form)      "held": other forms really issued, accepted
                                                    with a note naming the form (``FORMS``)
=====================  ===========================  ===========================================
流水号                  5 characters: 5 digits, or   4 digits: numbers issued before TSG 08-2017
                       1 capital letter + 4 digits  (``serial-4``, e.g. 梯11闽E3622(16))
年份号                  ``(yy)``, half-width         ``（yy）`` full-width, as printed on the
                       brackets                     certificate (``printed-brackets``); no year
                                                    at all on old numbers (``no-year``,
                                                    梯11粤EM0866); mixed brackets ``(yy）`` are a
                                                    data-entry slip, not a form: warning
省份简称                the abbreviation of          an alternative (蜀 黔 滇 秦 陇,
                       provinces.json               ``alt-province``)
品种代号                from a variety (or a class   — (same in both)
                       without varieties) of the
                       character's catalogue kinds
=====================  ===========================  ===========================================

A value may combine several older features (a 4-digit serial without a year); each is named.
Characters whose numeric part the code list marks doubtful (管, 瓶) give a warning in both modes.
Full-width digits or letters are errors in both modes; only the brackets have a full-width form.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string

from conformance.codes import lists
from conformance.codes.base import (
    ERROR,
    WARNING,
    CodeKind,
    Form,
    Part,
    Problem,
    Severity,
    by_severity,
    form_note,
    pos,
)

UPPER = string.ascii_uppercase
PAIR_ALPHABET = string.digits + string.ascii_uppercase

_STRICT = re.compile(r"(.)([0-9A-Z]{2})(.)([A-Z])([0-9]{5}|[A-Z][0-9]{4})\(([0-9]{2})\)")
_SERIAL_STRICT = re.compile(r"[0-9]{5}|[A-Z][0-9]{4}")
_SERIAL_LENIENT = re.compile(r"[0-9]{4}")
_YEAR = re.compile(r"([(（])([0-9]{2})([)）])")

#: The forms of a registration number that authorities issued; ``current`` is today's.
FORMS: dict[str, Form] = {
    f.id: f
    for f in (
        Form(
            "tsg08-2017",
            "TSG 08-2017 的编号（5位流水号，半角括号年份号）",
            "TSG 08-2017 number (5-character serial, (yy) in half-width brackets)",
            "2017年8月1日起发证",
            "issued from 1 August 2017",
            current=True,
        ),
        Form(
            "serial-4",
            "4位流水号的编号",
            "number with a 4-digit serial",
            "TSG 08-2017 施行前发证，证书在设备使用期内继续有效",
            "issued before TSG 08-2017; such certificates stay valid for the life of the equipment",
        ),
        Form(
            "no-year",
            "无年份号的编号",
            "number without a year suffix",
            "早期发证，未加年份号",
            "early numbers, issued without a year suffix",
        ),
        Form(
            "printed-brackets",
            "全角括号的年份号",
            "year in full-width brackets",
            "证书上印制的写法",
            "as printed on certificates",
        ),
        Form(
            "alt-province",
            "省份用别称的编号",
            "number with an alternative province abbreviation",
            "以省份别称（蜀 黔 滇 秦 陇）书写",
            "written with an alternative abbreviation (蜀 黔 滇 秦 陇)",
        ),
    )
}
CURRENT = FORMS["tsg08-2017"]

PART_NAMES = (
    ("设备代号", "equipment character"),
    ("品种代号", "variety digits"),
    ("省份简称", "province abbreviation"),
    ("地市代号", "prefecture letter"),
    ("流水号", "serial"),
    ("年份号", "year"),
)


def _cut(value: str) -> tuple[str, str, str, str, str, str]:
    serial_end = next((i for i in range(5, len(value)) if value[i] in "(（"), len(value))
    return value[:1], value[1:3], value[3:4], value[4:5], value[5:serial_end], value[serial_end:]


def _split(value: str) -> list[Part]:
    return [Part(zh, en, v) for (zh, en), v in zip(PART_NAMES, _cut(value), strict=True)]


def fast_ok(value: object) -> bool:
    """True when ``value`` is a strictly valid registration number with no problem at all."""
    if type(value) is not str:
        return False
    m = _STRICT.fullmatch(value)
    if m is None:
        return False
    char, pair, prov = m.group(1), m.group(2), m.group(3)
    item = lists.equipment_chars().get(char)
    found = lists.province_by_abbr().get(prov)
    return (
        item is not None
        and not item.get("doubtful")
        and pair in lists.char_variety_pairs(char)
        and found is not None
        and not found[1]
    )


def _slow(value: str, issued: bool) -> tuple[list[Problem], tuple[str, ...]]:
    """Problems, and the older forms the value is in (``("tsg08-2017",)`` when it is in today's).

    ``issued`` True asks "issued" (today's form), False "held" (every form really issued).
    """
    relaxed: Severity = ERROR if issued else WARNING
    if len(value) < 9:
        return [
            Problem(
                "value",
                f"长度过短（{len(value)}位）：应为 设备代号+2位品种代号+省份简称+地市字母+流水号+(年份)，如 梯11鄂A00001(24)",
                f"too short ({len(value)} characters): expected character + 2 variety digits + province + "
                "prefecture letter + serial + (yy), e.g. 梯11鄂A00001(24)",
            )
        ], ()
    char, pair, prov, pref, serial, year = _cut(value)
    problems: list[Problem] = []
    older: list[tuple[Form, Problem]] = []  # (older form, the error "issued" gives for it)

    chars = lists.equipment_chars()
    item = chars.get(char)
    if item is None:
        problems.append(
            Problem(
                "equipment character",
                f"设备代号「{char}」（第1位）不是已知的设备代号（{'、'.join(chars)}）",
                f"equipment character {char!r} (position 1) is not a known one ({', '.join(chars)})",
            )
        )
    elif item.get("doubtful"):
        problems.append(
            Problem(
                "equipment character",
                f"设备代号「{char}」的编号规则在代码表中标为存疑：{item.get('note') or ''}",
                f"the numbering rule for equipment character {char!r} is flagged doubtful in the code list",
                WARNING,
            )
        )

    bad_pair = [c for c in pair if c not in PAIR_ALPHABET]
    if bad_pair:
        problems.append(
            Problem(
                "variety digits",
                f"品种代号「{pair}」（第2–3位）应为2位数字（品种代码的第2、3位）",
                f"variety digits {pair!r} (positions 2-3) should be 2 digits (2nd and 3rd of the variety code)",
            )
        )
    elif item is not None:
        pairs = lists.char_variety_pairs(char)
        if pair not in pairs:
            problems.append(
                Problem(
                    "variety digits",
                    f"品种代号「{pair}」与设备代号「{char}」不符：应为{item['equipment']}品种代码的第2、3位"
                    f"（{'、'.join(sorted(pairs))}）",
                    f"variety digits {pair} do not fit equipment character {char!r}: expected the 2nd-3rd "
                    f"characters of a {item['equipment']} variety code ({', '.join(sorted(pairs))})",
                )
            )

    found = lists.province_by_abbr().get(prov)
    if found is None:
        problems.append(
            Problem(
                "province abbreviation",
                f"省份简称「{prov}」（第4位）不是任何省级行政区的简称",
                f"province abbreviation {prov!r} (position 4) is not that of any province",
            )
        )
    elif found[1]:
        older.append(
            (
                FORMS["alt-province"],
                Problem(
                    "province abbreviation",
                    f"省份简称「{prov}」是{found[0]['name']}的别称，今天发证用「{found[0]['abbr']}」",
                    f"{prov!r} is an alternative abbreviation of {found[0]['name']}; numbers issued today use "
                    f"{found[0]['abbr']!r}",
                ),
            )
        )

    if pref not in UPPER:
        extra_zh = "（小写字母）" if "a" <= pref <= "z" else ""
        extra_en = " (lower-case)" if "a" <= pref <= "z" else ""
        problems.append(
            Problem(
                "prefecture letter",
                f"地市代号「{pref}」（第5位）应为1个大写字母 A–Z{extra_zh}",
                f"prefecture letter {pref!r} (position 5) should be one capital letter A-Z{extra_en}",
            )
        )

    if not _SERIAL_STRICT.fullmatch(serial):
        if _SERIAL_LENIENT.fullmatch(serial):
            older.append(
                (
                    FORMS["serial-4"],
                    Problem(
                        "serial",
                        f"流水号「{serial}」为4位：这是 TSG 08-2017 施行前的编号形式（如 梯11闽E3622(16)），"
                        "今天发证的流水号为5位",
                        f"serial {serial} has 4 digits: the form of numbers issued before TSG 08-2017 (such as "
                        "梯11闽E3622(16)); numbers issued today have a 5-character serial",
                    ),
                )
            )
        else:
            problems.append(
                Problem(
                    "serial",
                    f"流水号「{serial}」（自第6位起）应为5位数字，或1个大写字母加4位数字"
                    "（2017年以前的编号也可为4位数字）",
                    f"serial {serial!r} (from position 6) should be 5 digits, or a capital letter and 4 digits "
                    "(4 digits on numbers issued before 2017)",
                )
            )

    year_problems, year_form = _year_problems(year, 5 + len(serial), relaxed)
    problems.extend(year_problems)
    if year_form is not None:
        older.append(year_form)

    # the forms it is in: none when something else is wrong (then it is in no form at all)
    broken = any(p.severity == ERROR for p in problems)
    forms = () if broken else tuple(f.id for f, _ in older) or (CURRENT.id,)
    for form, error in older:
        problems.append(error if issued else form_note(form))
    return by_severity(problems), forms


def _year_problems(year: str, start: int, relaxed: Severity) -> tuple[list[Problem], tuple[Form, Problem] | None]:
    """Problems of the year suffix, and the older form it is in (with the error "issued" gives)."""
    if not year:
        return [], (
            FORMS["no-year"],
            Problem(
                "year",
                "缺少年份号「(yy)」：无年份号是早期编号的形式（如 梯11粤EM0866），今天发证应带年份号（如 (24)）",
                "the year suffix (yy) is missing: the form of early numbers (such as 梯11粤EM0866); numbers "
                "issued today carry one (e.g. (24))",
            ),
        )
    m = _YEAR.fullmatch(year)
    zh_pos, en_pos = pos(start)
    if m is None:
        return [
            Problem(
                "year",
                f"年份号「{year}」（自{zh_pos}起）应为括号中的2位数字，如 (24)",
                f"year {year!r} (from {en_pos}) should be 2 digits in brackets, e.g. (24)",
            )
        ], None
    if m.group(1) == "（" and m.group(3) == "）":
        return [], (
            FORMS["printed-brackets"],
            Problem(
                "year",
                f"年份号「{year}」使用了全角括号（证书印制的写法），今天的编号数据应为半角「({m.group(2)})」",
                f"year {year!r} uses full-width brackets (as printed on certificates); numbers issued as data "
                f"today use half-width ({m.group(2)})",
            ),
        )
    if m.group(1) != "(" or m.group(3) != ")":
        return [
            Problem(
                "year",
                f"年份号「{year}」全角、半角括号混用（录入差错，不是任何发证形式），应为「({m.group(2)})」",
                f"year {year!r} mixes full-width and half-width brackets (a data-entry slip, not a form any "
                f"authority issued); use ({m.group(2)})",
                relaxed,
            )
        ], None
    return [], None


def char_for(catalogue_code: str) -> str | None:
    """The equipment character whose catalogue kinds cover ``catalogue_code`` (None if none)."""
    for char in lists.equipment_chars():
        if catalogue_code in lists.char_variety_pairs(char).values():
            return char
    return None


def generate(rng: random.Random, **hints: object) -> str:
    """A strictly valid number.

    Hints: ``catalogue`` (variety code, e.g. 3110), ``char`` (equipment character), ``division`` or
    ``province`` (2-digit code) for the province, ``prefecture`` (letter), ``seq`` (int), ``year``.
    """
    chars = lists.equipment_chars()
    catalogue = str(hints.get("catalogue") or "")
    char = char_for(catalogue) if catalogue else None
    if char is None:
        hinted = hints.get("char")
        if isinstance(hinted, str) and hinted in chars:
            char = hinted
        else:
            char = rng.choice(sorted(c for c, it in chars.items() if not it.get("doubtful")))
    pairs = lists.char_variety_pairs(char)
    pair = catalogue[1:3] if catalogue and pairs.get(catalogue[1:3]) == catalogue else rng.choice(sorted(pairs))
    province = str(hints.get("province") or str(hints.get("division") or "")[:2])
    provinces = lists.provinces()
    if province not in provinces:
        province = rng.choice(sorted(provinces))
    abbr = provinces[province]["abbr"]
    pref = hints.get("prefecture")
    if not (isinstance(pref, str) and len(pref) == 1 and pref in UPPER):
        pref = rng.choice(UPPER[:12])
    seq = hints.get("seq")
    serial = f"{seq:05d}" if isinstance(seq, int) and 0 <= seq <= 99999 else f"{rng.randrange(1, 100000):05d}"
    year = hints.get("year")
    y = int(year) if isinstance(year, int | str) and str(year).isdigit() else rng.randint(2017, dt.date.today().year)
    return f"{char}{pair}{abbr}{pref}{serial}({y % 100:02d})"


KIND = CodeKind(
    "registration-no",
    "使用登记证编号",
    "use-registration certificate number",
    "TSG 08-2017（使用登记证编号；今天发证的形式与历史形式见 docs/identifiers.md）",
    _split,
    _slow,
    generate,
    fast_ok,
    quick_forms=(CURRENT.id,),
    allow_fullwidth="（）",
    unique_values=True,
)
