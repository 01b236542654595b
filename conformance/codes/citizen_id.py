"""公民身份号码 (citizen identity number), GB 11643-1999.

Layout (18 characters): 地址码 (6, GB/T 2260 code of the place of first registration) + 出生日期码
(8, YYYYMMDD) + 顺序码 (3; odd = male, even = female) + 校验码 (1).

Rules applied:

* Check character ISO 7064 MOD 11-2: weights 2^(18−i) mod 11 = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2,
  ``(12 − Σ mod 11) mod 11`` with 10 written ``X`` (upper case; ``x`` is an error in both modes).
* Birth date: a real calendar date, not after today (before 1900-01-01 only warns: the
  standard's own example 440524188001010014 is born in 1880).
* Address code (GB 11643-1999 §5.2: the GB/T 2260 code of the county of permanent residence when
  the number was given; 《居民身份证法》 §3: the number never changes): judged against every
  year-end table since 1981 (``divisions-history.json``), not only the current one. A code that
  existed at any time is fine, with an ``info`` note of its era and successors when it is not
  current (海南省 ``4600xx`` 1988–2001, 市辖区 ``xxxx01`` …); ``830000``, the address code of the
  台湾居民 residence permits (``810000``/``820000`` are GB/T 2260 codes), is noted as such; a code
  that never existed is an error in strict mode, a warning in lenient mode (the tables end at the
  newest year-end table). The birth date is *not* compared with the years of the code: a person
  born before a code was created gets it when registered there later (docs/divisions.md).
* 15-digit numbers (the pre-1999 form) are errors: the interfaces carry the 18-character form.
"""

from __future__ import annotations

import datetime as dt
import random
from operator import getitem

from conformance.codes import lists
from conformance.codes.base import (
    ERROR,
    WARNING,
    CodeKind,
    PartSpec,
    Problem,
    by_severity,
    char_problems,
    digit_or_x_problem,
    length_problem,
    parts_of,
    wrong_check,
)
from conformance.codes.division import division_problems

DIGITS = "0123456789"
WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
CHECK_CHARS = "10X98765432"  # index = Σ mod 11

SPECS = (
    PartSpec("地址码", "address code", 0, 6),
    PartSpec("出生日期码", "birth date", 6, 14),
    PartSpec("顺序码", "sequence code", 14, 17),
    PartSpec("校验码", "check character", 17, 18),
)
_TABLES: tuple[dict[str, int], ...] = tuple({d: int(d) * w for d in DIGITS} for w in WEIGHTS)
EARLIEST = dt.date(1900, 1, 1)


def citizen_check_char(first17: str) -> str:
    """GB 11643-1999 (ISO 7064 MOD 11-2) check character of the first 17 digits."""
    if len(first17) != 17:
        raise ValueError(f"citizen ID check needs 17 digits, got {len(first17)}")
    try:
        return CHECK_CHARS[sum(map(getitem, _TABLES, first17)) % 11]
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not a digit") from None


def _birth(s: str) -> dt.date | None:
    try:
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        return None


def _quick(value: object) -> bool:
    """Check character, current address code and a birth date from 1900 to today all right."""
    if type(value) is not str or len(value) != 18:
        return False
    try:
        if CHECK_CHARS[sum(map(getitem, _TABLES, value)) % 11] != value[17]:
            return False
    except KeyError:
        return False
    born = _birth(value[6:14]) if value[:6] in lists.division_codes() else None
    return born is not None and EARLIEST <= born <= dt.date.today()


def _slow(value: str, issued: bool) -> list[Problem]:
    n = len(value)
    if n != 18:
        if n == 15 and value.isdigit():
            return [
                Problem(
                    "value",
                    "长度应为18位，实为15位（1999年以前的15位旧号码，应升位为18位）",
                    "length should be 18, is 15 (a pre-1999 15-digit number; convert it to 18 characters)",
                )
            ]
        return [length_problem(18, n)]
    problems = char_problems(value[:17], DIGITS, "digits", "本体码", "数字", "a digit")
    if problems:
        return problems
    last = value[17]
    if last not in "0123456789X":
        problems.append(digit_or_x_problem(17, last))
    expected = citizen_check_char(value[:17])
    if not problems and expected != last:
        problems.append(wrong_check(17, expected, last, "GB 11643 MOD 11-2"))
    birth = value[6:14]
    born = _birth(birth)
    if born is None:
        problems.append(
            Problem(
                "birth date",
                f"出生日期码「{birth}」（第7–14位）不是有效日期",
                f"birth date {birth} (positions 7-14) is not a valid date",
            )
        )
    elif born > dt.date.today():
        problems.append(
            Problem("birth date", f"出生日期码「{birth}」在今天之后", f"birth date {birth} is in the future")
        )
    elif born < EARLIEST:
        problems.append(
            Problem(
                "birth date",
                f"出生日期码「{birth}」早于1900年，请核实",
                f"birth date {birth} is before 1900; verify it",
                WARNING,
            )
        )
    problems.extend(
        division_problems(
            value[:6], membership=ERROR if issued else WARNING, part="address code", part_zh="地址码", lifetime=True
        )
    )
    return by_severity(problems)


def generate(rng: random.Random, **hints: object) -> str:
    """A valid number; hints: ``division`` (6 digits: a current code, or one of the history table),
    ``birth`` (date or YYYYMMDD), ``sex`` ("m"/"f")."""
    division = str(hints.get("division") or "")
    if division not in lists.division_codes() and division not in lists.division_history():
        division = rng.choice(lists.division_pool("county"))
    birth = hints.get("birth")
    if isinstance(birth, dt.date):
        born = birth.strftime("%Y%m%d")
    elif isinstance(birth, str) and _birth(birth) is not None:
        born = birth
    else:
        day = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65))
        born = day.strftime("%Y%m%d")
    seq = rng.randrange(0, 1000)
    sex = hints.get("sex")
    if sex in ("m", "f") and (seq % 2 == 1) != (sex == "m"):
        seq = (seq + 1) % 1000
    first17 = f"{division}{born}{seq:03d}"
    return first17 + citizen_check_char(first17)


KIND = CodeKind(
    "citizen-id",
    "公民身份号码",
    "citizen ID number",
    "GB 11643-1999",
    parts_of(SPECS),
    _slow,
    generate,
    quick=_quick,
    unique_values=True,
)
