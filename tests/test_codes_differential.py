"""Differential tests against python-stdnum: ``stdnum.cn.ric`` (citizen IDs) and ``stdnum.cn.uscc``.

The same values go to both libraries, for both questions ("issued" = strict, "held" = lenient).
Where the verdicts differ, the difference must belong to a class listed in docs/divisions.md
("Disagreements with python-stdnum", each with the clause that decides it); the classifiers below
use stdnum's own data and independent reference check characters, never the validator under test.
A disagreement of no known class fails the test and shows the value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import string
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import stdnum
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric as std_ric
from stdnum.cn import uscc as std_uscc

from conformance.codes import check, citizen_check_char, uscc_check_char
from conformance.codes.strategies import ref_org_check
from conformance.contract.documents import codelist

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "divisions.md"
TODAY = dt.date.today()
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

RIC_CLASSES = {
    "RIC-BIRTH-OUTSIDE-YEARS": "stdnum refuses a code not in use in the birth year; the code is the one given at registration",
    "RIC-NOT-IN-STDNUM": "a code of the 民政部 tables (or a summary / erratum code) missing from stdnum's table",
    "RIC-RESIDENCE-PERMIT": "830000: the address code of 台湾居民 residence permits, not in stdnum's table",
    "RIC-ONLY-STDNUM": "a code of stdnum's table that no 民政部 table since 1981 has: gone before 1984, "
    "statistical, or one of STDNUM_ONLY_CODES",
    "RIC-FUTURE-BIRTH": "a birth date after today: stdnum does not look at the date's range",
    "RIC-LOWER-X": "a lower-case x check character: stdnum upper-cases the input",
    "RIC-HELD-UNKNOWN-CODE": "'held' accepts, with a warning, a well-formed code of no GB/T 2260 table (功能区 …)",
}
USCC_CLASSES = {
    "USCC-ORG-CHECK": "positions 9-17 fail their own GB 11714 check: 'issued' refuses, stdnum does not look",
    "USCC-LETTER-DEPT": "a letter in position 1 or 2 (Y 其他, A, N …): stdnum wants digits there",
    "USCC-DIVISION-STRUCTURE": "positions 3-8 are no GB/T 2260 code by structure: stdnum does not look",
    "USCC-LOWERCASE": "lower-case letters: stdnum upper-cases the input",
}


#: Codes of stdnum's table (维基百科) that no 民政部 year-end table since 1981 has and that were still
#: in use (per stdnum) in 1984 or later, when resident identity cards began: each is listed in
#: docs/divisions.md. A code outside this list, the statistical codes and the codes gone before 1984
#: is an unexplained disagreement (it would mean a gap in divisions-history.json).
STDNUM_ONLY_CODES = frozenset(
    {
        "232434",
        "232702",
        "232703",
        "232704",
        "332800",
        "332801",
        "332802",
        "332821",
        "332822",
        "332823",
        "332824",
        "332825",
        "332826",
        "332827",
        "332828",
        "332829",
        "340900",
        "352105",
        "420211",
        "421021",
        "422900",
        "430727",
        "440302",
        "512402",
        "620320",
        "632400",
        "632858",
        "632859",
    }
)


# ------------------------------------------------------------------ our tables, read from the contracts


@cache
def our_codes() -> frozenset[str]:
    """Codes of the current table and of the history (an absent history reads as empty)."""
    codes = {it["code"] for it in codelist("divisions")["items"]}
    with contextlib.suppress(FileNotFoundError):
        codes |= {it["code"] for it in codelist("divisions-history")["items"]}
    return frozenset(codes)


@cache
def our_statistical() -> frozenset[str]:
    return frozenset(it["code"] for it in codelist("divisions").get("functionalZones") or ())


@cache
def residence_permit_codes() -> frozenset[str]:
    try:
        return frozenset(it["code"] for it in codelist("divisions-history").get("residencePermitCodes") or ())
    except FileNotFoundError:
        return frozenset()


# ------------------------------------------------------------------ stdnum's own data


@cache
def std_table() -> dict[str, list[tuple[int | None, int | None]]]:
    """Every code of stdnum's ``cn/loc.dat`` with its years of use as stdnum reads them."""
    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    out: dict[str, list[tuple[int | None, int | None]]] = {}
    province = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r'^(\s*)(\d+)\s+(\w+)="(.*)"', line)
        if not m:
            continue
        indent, digits, key, value = m.groups()
        if not indent:
            province = digits
            continue
        if key != "county":
            continue
        spans: list[tuple[int | None, int | None]] = []
        for county in value.split(","):
            if county.startswith("["):
                first, last = county[1:].split("]")[0].split("-")
                spans.append((int(first) if first else None, int(last) if last else None))
            else:
                spans.append((None, None))
        out[province + digits] = spans
    return out


def std_ok_ric(value: str) -> bool:
    """stdnum's verdict. Its ``get_birth_place`` raises ``KeyError`` (not a ``ValidationError``) for a code
    of a known province that its table lacks (e.g. 330113): that is its refusal, raised the wrong way
    (docs/divisions.md)."""
    try:
        return std_ric.is_valid(value)
    except KeyError:
        return False


def _birth(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def _in_our_tables(code: str) -> bool:
    return code in our_codes()


def _only_stdnum_explained(code: str) -> bool:
    """A code of stdnum's table only: gone (per stdnum) before 1984, statistical, or a listed one."""
    spans = std_table()[code]
    gone_before_cards = all(last is not None and last <= 1983 for _, last in spans)
    return gone_before_cards or code in our_statistical() or code in STDNUM_ONLY_CODES


def ric_class(value: str, ours_ok: bool, theirs_ok: bool, issued: bool) -> str | None:
    """The documented class of a disagreement on a citizen ID, or None (an unexplained one)."""
    code = value[:6]
    born = _birth(value)
    if theirs_ok and not ours_ok:
        if value[17] == "x":
            return "RIC-LOWER-X"
        if born is not None and born > TODAY:
            return "RIC-FUTURE-BIRTH"
        if issued and code in std_table() and not _in_our_tables(code) and _only_stdnum_explained(code):
            return "RIC-ONLY-STDNUM"
        return None
    if ours_ok and not theirs_ok:
        if std_ric.calc_check_digit(value) != value[17] or born is None:
            return None  # both libraries compute the same check character and read the same dates
        if code in residence_permit_codes() and code not in std_table():
            return "RIC-RESIDENCE-PERMIT"
        if not issued and not _in_our_tables(code) and code not in std_table():
            return "RIC-HELD-UNKNOWN-CODE"
        spans = std_table().get(code)
        if spans is None:
            return "RIC-NOT-IN-STDNUM" if _in_our_tables(code) else None
        if not any((a is None or born.year >= a) and (b is None or born.year <= b) for a, b in spans):
            return "RIC-BIRTH-OUTSIDE-YEARS"
    return None


def uscc_class(value: str, ours_ok: bool, theirs_ok: bool, issued: bool) -> str | None:
    """The documented class of a disagreement on a USCC, or None (an unexplained one)."""
    if theirs_ok and not ours_ok:
        if value != value.upper():
            return "USCC-LOWERCASE"
        division = value[2:8]
        if division[:2] == "00" or (division[2:4] == "00" and division[4:] != "00" and division not in our_codes()):
            return "USCC-DIVISION-STRUCTURE"
        if issued and ref_org_check(value[8:16]) != value[16]:
            return "USCC-ORG-CHECK"
        return None
    if ours_ok and not theirs_ok:
        if std_uscc.calc_check_digit(value[:17]) != value[17]:
            return None
        if not (value[0].isdigit() and value[1].isdigit()):
            return "USCC-LETTER-DEPT"
    return None


# ------------------------------------------------------------------ generated values


@cache
def all_codes() -> tuple[str, ...]:
    """Codes of both libraries' tables, the statistical codes and the residence-permit codes."""
    return tuple(sorted(our_codes() | our_statistical() | set(std_table()) | residence_permit_codes()))


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    code = draw(st.one_of(st.sampled_from(all_codes()), st.text(string.digits, min_size=6, max_size=6)))
    if draw(st.integers(0, 19)) == 0:
        birth = (
            f"{draw(st.integers(1900, TODAY.year + 2)):04d}{draw(st.integers(1, 12)):02d}{draw(st.integers(29, 31))}"
        )
    else:
        birth = draw(st.dates(dt.date(1900, 1, 1), TODAY + dt.timedelta(days=900))).strftime("%Y%m%d")
    body = f"{code}{birth}{draw(st.integers(0, 999)):03d}"
    right = citizen_check_char(body)
    return body + draw(st.one_of(st.just(right), st.just(right), st.sampled_from("0123456789Xx")))


@st.composite
def usccs(draw: st.DrawFn) -> str:
    dept = draw(st.one_of(st.sampled_from("1235799ANY"), st.sampled_from(USCC_ALPHABET)))
    category = draw(st.one_of(st.sampled_from("1239"), st.sampled_from(USCC_ALPHABET)))
    division = draw(
        st.one_of(
            st.sampled_from(all_codes()),
            st.text(string.digits, min_size=6, max_size=6),
            st.just("100000"),
        )
    )
    body = draw(st.text(USCC_ALPHABET, min_size=8, max_size=8))
    org = draw(st.one_of(st.just(ref_org_check(body)), st.sampled_from(USCC_ALPHABET)))
    first17 = dept + category + division + body + org
    right = std_uscc.calc_check_digit(first17)
    value = first17 + draw(st.one_of(st.just(right), st.just(right), st.sampled_from(USCC_ALPHABET)))
    return value.lower() if draw(st.integers(0, 14)) == 0 else value


def _compare(kind: str, value: str, theirs_ok: bool, classify) -> list[tuple[str, str, str | None]]:
    """[(question, value, class)] for each question on which the two libraries disagree."""
    out = []
    for question in ("issued", "held"):
        ours_ok = check(kind, value, mode=question).ok
        if ours_ok != theirs_ok:
            out.append((question, value, classify(value, ours_ok, theirs_ok, question == "issued")))
    return out


@settings(max_examples=600, deadline=None)
@given(citizen_ids())
def test_citizen_ids_agree_with_stdnum_or_differ_by_a_documented_class(value: str) -> None:
    for question, v, cls in _compare("citizen-id", value, std_ok_ric(value), ric_class):
        assert cls is not None, (question, v, check("citizen-id", v, mode=question).problems)


@settings(max_examples=600, deadline=None)
@given(usccs())
def test_usccs_agree_with_stdnum_or_differ_by_a_documented_class(value: str) -> None:
    for question, v, cls in _compare("uscc", value, std_uscc.is_valid(value), uscc_class):
        assert cls is not None, (question, v, check("uscc", v, mode=question).problems)


@settings(max_examples=500, deadline=None)
@given(st.text(string.digits, min_size=17, max_size=17))
def test_citizen_check_characters_agree_with_stdnum(body: str) -> None:
    assert citizen_check_char(body) == std_ric.calc_check_digit(body + "0")


@settings(max_examples=500, deadline=None)
@given(st.text(USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_characters_agree_with_stdnum(first17: str) -> None:
    assert uscc_check_char(first17) == std_uscc.calc_check_digit(first17)


# ------------------------------------------------------------------ every code of both tables, once


def _birth_in_use(code: str) -> str:
    """A birth date in a year stdnum gives the code (so that RIC-BIRTH-OUTSIDE-YEARS stays out of the sweep)."""
    spans = std_table().get(code) or [(None, None)]
    first, last = spans[-1]
    year = last if last is not None else max(first or 1990, 1990)
    return f"{min(year, TODAY.year - 1)}0615"


def test_every_code_of_both_tables_once() -> None:
    """One number per code of either table (born in a year stdnum gives the code): counts per class."""
    counts: Counter[str] = Counter()
    unexplained = []
    for code in all_codes():
        body = f"{code}{_birth_in_use(code)}123"
        value = body + citizen_check_char(body)
        for question, v, cls in _compare("citizen-id", value, std_ok_ric(value), ric_class):
            if cls is None:
                unexplained.append((question, v))
            counts[f"{question}:{cls}"] += 1
    assert not unexplained, unexplained[:20]
    # the classes this sweep must show, with the codes that prove them
    assert counts["issued:RIC-NOT-IN-STDNUM"] > 0 and counts["issued:RIC-ONLY-STDNUM"] > 0
    assert counts["issued:RIC-RESIDENCE-PERMIT"] == 1
    print(dict(sorted(counts.items())))


@pytest.mark.parametrize(
    ("code", "birth", "cls"),
    [
        ("460001", "19700101", "RIC-BIRTH-OUTSIDE-YEARS"),  # born 1970, registered in 通什市 (1988–2001) later
        ("460303", "19500101", "RIC-BIRTH-OUTSIDE-YEARS"),  # born 1950, 南沙区 created 2020
        ("330113", "19900101", "RIC-NOT-IN-STDNUM"),  # 临平区 (2021) is missing from stdnum's table
        ("830000", "19800101", "RIC-RESIDENCE-PERMIT"),
        ("140120", "19800101", "RIC-ONLY-STDNUM"),  # 太原市 市区 (before 1983): no 民政部 table since 1981 has it
    ],
)
def test_known_disagreements_on_citizen_ids(code: str, birth: str, cls: str) -> None:
    body = f"{code}{birth}123"
    value = body + citizen_check_char(body)
    theirs = std_ok_ric(value)
    issued = check("citizen-id", value, mode="issued").ok
    assert issued != theirs and ric_class(value, issued, theirs, True) == cls


def test_a_lower_case_check_character_is_refused_here_and_upper_cased_by_stdnum() -> None:
    value = "11010519491231002x"  # the standard's example with a lower-case x
    assert std_ok_ric(value) and not check("citizen-id", value, mode="held").ok
    assert ric_class(value, False, True, False) == "RIC-LOWER-X"


def test_known_disagreements_on_usccs() -> None:
    body = "Y1420102" + "MA4K2" + "XXX"
    pilot = body + ref_org_check(body[8:16])
    value = pilot + uscc_check_char(pilot)
    assert check("uscc", value).ok and not std_uscc.is_valid(value)  # 登记管理部门 Y 其他
    assert uscc_class(value, True, False, True) == "USCC-LETTER-DEPT"
    bad_org = "9142010259169385"
    bad_org += "0" if ref_org_check(bad_org[8:16]) != "0" else "1"
    value = bad_org + uscc_check_char(bad_org)
    assert std_uscc.is_valid(value) and not check("uscc", value).ok and check("uscc", value, mode="held").ok
    assert uscc_class(value, False, True, True) == "USCC-ORG-CHECK"


def test_every_class_is_documented_with_its_clause() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Disagreements with python-stdnum") :]
    for cls in (*RIC_CLASSES, *USCC_CLASSES):
        line = next((ln for ln in section.splitlines() if f"`{cls}`" in ln), "")
        assert line, f"{cls} is not listed in docs/divisions.md"
        assert re.search(r"GB(/T)? \d+|居民身份证法|国办发", line), f"{cls}: no clause named on its line"
    for code in STDNUM_ONLY_CODES:
        assert code in section, f"{code} (RIC-ONLY-STDNUM) is not listed in docs/divisions.md"
