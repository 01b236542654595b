"""USCC (GB 32100-2015) and organisation code (GB 11714-1997)."""

from __future__ import annotations

import random

import pytest

from conformance.codes import KINDS, check, org_check_char, uscc_check_char
from conformance.codes.strategies import ref_org_check, ref_uscc_check
from conformance.codes.uscc import ALPHABET, WEIGHTS

#: Codes published in public sources that pass both checks: hutool's CreditCodeUtilTest, and the
#: defining bodies / issuers inside real e-licence identifiers (see test_codes_kinds.py) ...
REAL_VALID = [
    "91310115591693856A",
    "91310110666007217T",
    "11100000000013338W",
    "11430000006122244L",
    "11330105002500287C",
    "11100000MB03271699",
    "113700000045046442",
    # ... and large enterprises' codes as printed on their public filings
    "91330100799655058B",
    "9144030071526726XG",
    "914403001922038216",
    "91110000710925462X",
    "91110000100010433L",
    "91110000710931141J",
]


@pytest.mark.parametrize("code", REAL_VALID)
def test_real_codes_are_valid(code: str) -> None:
    for strict in (True, False):
        result = check("uscc", code, strict=strict)
        assert result.ok, result.problems
    assert [p.value for p in check("uscc", code).parts] == [code[0], code[1], code[2:8], code[8:17], code[17]]


def test_weights_are_those_of_gb_32100() -> None:
    assert list(WEIGHTS) == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert len(ALPHABET) == 31 and not set("IOZSV") & set(ALPHABET)


def _codes_for_exhaustive_test() -> list[str]:
    rng = random.Random(32100)
    return REAL_VALID[:4] + [KINDS["uscc"].generate(rng) for _ in range(4)]


@pytest.mark.parametrize("code", _codes_for_exhaustive_test())
def test_every_single_substitution_is_caught(code: str) -> None:
    """All 30 other alphabet values at each of the 18 positions: 540 near misses per code."""
    assert check("uscc", code).ok
    for i in range(18):
        for ch in ALPHABET:
            if ch == code[i]:
                continue
            mutated = code[:i] + ch + code[i + 1 :]
            for strict in (True, False):
                result = check("uscc", mutated, strict=strict)
                assert not result.ok, (mutated, i, ch)
                parts = {p.part for p in result.errors}
                if 2 <= i <= 7 and not ch.isdigit():
                    assert parts == {"division"}, (mutated, result.problems)
                else:
                    assert "check character" in parts, (mutated, result.problems)


def test_early_pilot_code_fails_gb_32100_but_passes_gb_11714() -> None:
    # hutool's known-bad sample: issued early in a pilot region, not GB 32100 compliant
    result = check("uscc", "91350211M00013FA1N", strict=False)
    assert not result.ok
    assert [p.part for p in result.errors] == ["check character"]
    assert "第18位应为 3，实为 N" in result.errors[0].zh
    assert "组织机构代码自身校验正确" in result.errors[0].zh
    assert "inner organisation code (positions 9-17) checks out" in result.errors[0].en


def _with_wrong_org_check(code: str) -> str:
    right = org_check_char(code[8:16])
    wrong = "0" if right != "0" else "1"
    first17 = code[:16] + wrong
    return first17 + uscc_check_char(first17)


def test_code_passing_gb_32100_but_failing_gb_11714() -> None:
    code = _with_wrong_org_check("91310115591693856A")
    strict = check("uscc", code)
    assert not strict.ok
    assert [p.part for p in strict.errors] == ["organisation code"]
    assert "主体标识码（组织机构代码）校验位错误" in strict.message()
    assert "统一社会信用代码校验码本身正确" in strict.message()
    assert "USCC check character itself is right" in strict.message("en")
    lenient = check("uscc", code, strict=False)
    assert lenient.ok and [p.part for p in lenient.warnings] == ["organisation code"]


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_excluded_letters_are_named(letter: str) -> None:
    code = "91310115591693856A"
    result = check("uscc", code[:9] + letter + code[10:], strict=False)
    assert not result.ok
    assert "不含 I、O、Z、S、V" in result.message()
    assert "no I, O, Z, S, V" in result.message("en")


def test_lower_case_is_an_error_in_both_modes() -> None:
    for strict in (True, False):
        result = check("uscc", "91310115591693856a", strict=strict)
        assert not result.ok
        assert "小写字母" in result.message() and "lower-case" in result.message("en")


def test_full_width_is_reported_and_not_normalised() -> None:
    value = "".join(chr(ord(c) + 0xFEE0) for c in "91310115591693856A")
    for strict in (True, False):
        result = check("uscc", value, strict=strict)
        assert not result.ok
        assert "全角" in result.message() and "full-width" in result.message("en")
    half = "9131011559169385６A"
    assert "第17位" in check("uscc", half).message()


@pytest.mark.parametrize("value", [" 91310115591693856A", "91310115591693856A ", "91310115591693856A\n"])
def test_surrounding_whitespace_is_an_error(value: str) -> None:
    for strict in (True, False):
        result = check("uscc", value, strict=strict)
        assert not result.ok and "空白" in result.message() and "whitespace" in result.message("en")


def test_length_explanations() -> None:
    assert "15位工商注册号" in check("uscc", "310115000123456").message()
    assert "组织机构代码" in check("uscc", "59169385-6").message()
    assert "实为17位" in check("uscc", "9131011559169385A").message()


def _recheck(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def test_unknown_department_category_pair_is_only_a_warning() -> None:
    code = _recheck("A4310115591693856"[:17])
    result = check("uscc", code)
    assert result.ok
    assert [p.part for p in result.warnings] == ["organisation category"]
    assert "未知的机构类别代码 4" in result.warnings[0].zh
    unknown_dept = check("uscc", _recheck("B1" + "310115591693856"))
    assert unknown_dept.ok and "未知的登记管理部门代码 B" in unknown_dept.warnings[0].zh


def test_division_part_unknown_warns_central_informs_malformed_fails() -> None:
    unknown = check("uscc", _recheck("91429999591693856"))
    assert unknown.ok and [p.part for p in unknown.warnings] == ["division"]
    assert "429999" in unknown.warnings[0].zh
    central = check("uscc", _recheck("91100000591693856"))
    assert central.ok and not central.warnings
    assert any(p.severity == "info" and "中央" in p.zh for p in central.problems)
    malformed = check("uscc", _recheck("91420012591693856"), strict=False)
    assert not malformed.ok and "结构错误" in malformed.message()


def test_reference_and_library_check_characters_agree() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        body = "".join(rng.choice(ALPHABET) for _ in range(17))
        assert uscc_check_char(body) == ref_uscc_check(body)
        org = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(8))
        assert org_check_char(org) == ref_org_check(org)


# ------------------------------------------------------------------ organisation code


@pytest.mark.parametrize("value", ["000013338", "00001333-8", "MB0327169", "MB032716-9", "59169385-6"])
def test_org_code_forms(value: str) -> None:
    assert check("org-code", value).ok, check("org-code", value).problems


def test_org_code_problems() -> None:
    wrong = check("org-code", "00001333-7")
    assert not wrong.ok and "第10位应为 8，实为 7" in wrong.message()
    assert "小写" in check("org-code", "mb0327169").message()
    assert check("org-code", "0000133A8").message() == "组织机构代码无效：校验码错误：第9位应为 5，实为 8（GB 11714）"
    assert "实为8位" in check("org-code", "00001333").message()
    assert "小写 x 应写作大写 X" in check("org-code", "12345670x").message()
    assert "应为数字或 X" in check("org-code", "12345670A").message()


def test_org_code_blind_spot_is_documented_behaviour() -> None:
    # GB 11714 cannot see a substitution by a character 11 values away ('0' -> 'B'): both are valid
    body = "00001333"
    twin = "B0001333"
    assert org_check_char(body) == org_check_char(twin)
    assert check("org-code", twin + org_check_char(twin)).ok
