"""The public API of conformance.codes: kinds, check(), CodeResult, helpers (docs/CONVENTIONS.md)."""

from __future__ import annotations

import random

import pytest

from conformance.codes import (
    FORMATS,
    KINDS,
    CodeResult,
    check,
    citizen_check_char,
    mod37_36_check,
    org_check_char,
    uscc_check_char,
)
from conformance.codes.base import Part, Problem

EXPECTED_KINDS = [
    "uscc",
    "org-code",
    "division",
    "equipment-code",
    "registration-no",
    "dossier-code",
    "elicense-id",
    "item-code",
    "citizen-id",
    "catalogue-code",
]


def test_kinds_are_the_ten_of_the_conventions() -> None:
    assert list(KINDS) == EXPECTED_KINDS
    for name, kind in KINDS.items():
        assert kind.name == name
        assert kind.format_name == f"tzsb-{name}"
        assert FORMATS[kind.format_name] is kind
        assert kind.title_zh and kind.title_en and kind.source


def test_unknown_kind_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="unknown identifier kind"):
        check("vin", "LSVAU2180N2183294")


@pytest.mark.parametrize("kind", EXPECTED_KINDS)
def test_generated_value_is_valid_and_split_into_parts(kind: str) -> None:
    rng = random.Random(20240922)
    for _ in range(25):
        value = KINDS[kind].generate(rng)
        result = check(kind, value)
        assert isinstance(result, CodeResult)
        assert result.ok, (value, result.problems)
        assert result.kind == kind and result.value == value
        assert result.parts and all(isinstance(p, Part) and p.name_zh and p.name_en for p in result.parts)
        joined = {"item-code": "-", "elicense-id": "."}.get(kind, "")
        assert joined.join(p.value for p in result.parts) == value
        assert result.message() == f"{KINDS[kind].title_zh}有效"
        assert result.message("en") == f"valid {KINDS[kind].title_en}"


@pytest.mark.parametrize("kind", EXPECTED_KINDS)
@pytest.mark.parametrize("bad", [None, 42, "", "   "])
def test_garbage_is_an_error_not_a_crash(kind: str, bad: object) -> None:
    result = check(kind, bad)  # type: ignore[arg-type]
    assert not result.ok
    assert result.errors and all(isinstance(p, Problem) for p in result.problems)
    assert result.message().startswith(KINDS[kind].title_zh + "无效：")
    assert result.message("en").startswith(f"invalid {KINDS[kind].title_en}: ")


def test_message_names_the_failing_part_in_both_languages() -> None:
    result = check("uscc", "91310115591693856B")
    assert not result.ok
    assert [p.part for p in result.errors] == ["check character"]
    assert (
        result.message()
        == "统一社会信用代码无效：校验码错误：第18位应为 A，实为 B（GB 32100）；第9–17位组织机构代码自身校验正确"
    )
    assert result.message("en").startswith(
        "invalid unified social credit code: check character wrong: position 18 should be A, is B"
    )


def test_message_counts_further_errors_and_shows_warnings() -> None:
    several = check("citizen-id", "11010519491331002Y")
    assert len(several.errors) >= 2
    assert "另有" in several.message() and "more error" in several.message("en")
    warned = check("registration-no", "梯11鄂A00001(24）", mode="held")  # mixed brackets: a slip, not a form
    assert warned.ok and warned.warnings
    assert warned.message().startswith("使用登记证编号有效，但有警告：年份号")
    assert warned.message("en").startswith("valid use-registration certificate number, with a warning: year")


def test_a_held_form_is_valid_with_a_note_not_a_warning() -> None:
    """Two questions, two answers: the older form is a note in "held", an error naming it in "issued"."""
    held = check("registration-no", "梯11闽E3622(16)", mode="held")
    assert held.ok and held.clean and not held.warnings
    assert held.forms == ("serial-4",) and [p.part for p in held.notes] == ["form"]
    assert (
        held.message()
        == "使用登记证编号有效（注：4位流水号的编号：TSG 08-2017 施行前发证，证书在设备使用期内继续有效）"
    )
    assert held.message("en").startswith(
        "valid use-registration certificate number (note: number with a 4-digit serial"
    )
    issued = check("registration-no", "梯11闽E3622(16)", mode="issued")
    assert not issued.ok and issued.forms == ("serial-4",) and "TSG 08-2017 施行前" in issued.message()


@pytest.mark.parametrize("kind", EXPECTED_KINDS)
def test_mode_and_its_strict_alias_give_the_same_answer(kind: str) -> None:
    rng = random.Random(11)
    values = [KINDS[kind].generate(rng) for _ in range(5)]
    values += ["梯11闽E3622(16)", "31104403002009001047", "梯11宁A00123（19）", "", "x"]
    for value in values:
        for mode, strict in (("issued", True), ("held", False)):
            by_mode, by_alias = check(kind, value, mode=mode), check(kind, value, strict=strict)  # type: ignore[arg-type]
            assert by_mode.problems == by_alias.problems and by_mode.forms == by_alias.forms
            assert by_mode.mode == by_alias.mode == mode
            assert KINDS[kind].validate(value, mode).problems == by_mode.problems  # type: ignore[arg-type]
            assert KINDS[kind].is_ok(value, mode) == by_mode.ok  # type: ignore[arg-type]
    assert check(kind, values[0]).mode == "issued"  # a caller who does not choose gets today's rule


def test_mode_is_keyword_only_and_checked() -> None:
    with pytest.raises(TypeError):
        check("uscc", "91310115591693856A", False)  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown mode"):
        check("uscc", "91310115591693856A", mode="lenient")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="contradicts"):
        check("uscc", "91310115591693856A", mode="held", strict=True)
    assert check("uscc", "91310115591693856A", mode="issued", strict=True).ok


def test_check_helpers() -> None:
    assert uscc_check_char("91310115591693856") == "A"
    assert org_check_char("00001333") == "8"
    assert citizen_check_char("11010519491231002") == "X"
    # ISO/IEC 7064 MOD 37,36 vectors published with public ISO 7064 implementations
    assert mod37_36_check("A12425GABC1234002") == "M"
    assert mod37_36_check("B159D8FA01240000") == "K"
    assert mod37_36_check("188166C734200000") == "3"
    for helper, arg in [
        (uscc_check_char, "9131011559169385I"),
        (org_check_char, "0000133"),
        (citizen_check_char, "1101051949123100A"),
        (mod37_36_check, "abc"),
    ]:
        with pytest.raises(ValueError):
            helper(arg)
