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
    warned = check("registration-no", "梯11闽E3622(16)", strict=False)
    assert warned.ok and warned.warnings
    assert warned.message().startswith("使用登记证编号有效，但有警告：流水号")
    assert warned.message("en").startswith("valid use-registration certificate number, with a warning: serial")


def test_strict_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        check("uscc", "91310115591693856A", False)  # type: ignore[misc]


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
