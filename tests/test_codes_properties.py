"""Property tests: every valid(kind) passes, every near_miss(kind) fails ("issued", alias strict mode),
every held_form(kind) is refused by "issued" and accepted by "held" with its form named.

The near misses are invalid by construction (conformance.codes.strategies): this test fails if a
validator lets a broken value through, or if a generator produces values its own validator refuses.
"""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.codes import (
    KINDS,
    check,
    citizen_check_char,
    mod37_36_check,
    org_check_char,
    uscc_check_char,
)
from conformance.codes.strategies import (
    HELD_FORMS,
    MUTATIONS,
    held_form,
    mutators,
    near_miss,
    ref_citizen_check,
    ref_mod37_36,
    ref_org_check,
    ref_uscc_check,
    valid,
)

ALL_KINDS = list(KINDS)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_valid_values_pass(kind: str) -> None:
    @settings(max_examples=60, deadline=None)
    @given(valid(kind))
    def prop(value: str) -> None:
        issued = check(kind, value, mode="issued")
        assert issued.ok and not issued.warnings, (value, issued.problems)
        assert check(kind, value, mode="held").ok

    prop()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_near_misses_fail(kind: str) -> None:
    @settings(max_examples=80, deadline=None)
    @given(near_miss(kind))
    def prop(pair: tuple[str, str]) -> None:
        value, mutation = pair
        result = check(kind, value)
        assert not result.ok, (value, mutation)
        assert result.message().startswith(KINDS[kind].title_zh + "无效：")
        assert result.message("en").startswith(f"invalid {KINDS[kind].title_en}: ")

    prop()


@pytest.mark.parametrize("kind", sorted(HELD_FORMS))
def test_older_forms_are_held_not_issued(kind: str) -> None:
    """An older form (built by construction) is an error for "issued" and a note, not a warning, for "held"."""

    @settings(max_examples=80, deadline=None)
    @given(held_form(kind))
    def prop(pair: tuple[str, str]) -> None:
        value, form = pair
        issued = check(kind, value, mode="issued")
        assert not issued.ok and form in issued.forms, (value, form, issued.problems)
        held = check(kind, value, mode="held")
        assert held.ok and not held.warnings and form in held.forms, (value, form, held.problems)
        assert held.notes and held.message().startswith(KINDS[kind].title_zh + "有效（注：")

    prop()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_mutation_is_caught(kind: str) -> None:
    """Each mutator on its own (Hypothesis may not draw them all): 25 seeds each."""
    assert len(MUTATIONS[kind]) >= 5
    for mutate in mutators(kind):
        for seed in range(25):
            rng = random.Random(seed)
            base = KINDS[kind].generate(rng)
            value, mutation = mutate(rng, base)
            assert value != base
            assert not check(kind, value).ok, (kind, mutate.__name__, value, mutation)


def test_hints_steer_the_generators() -> None:
    rng = random.Random(3)
    assert KINDS["uscc"].generate(rng, division="420100")[2:8] == "420100"
    code = KINDS["equipment-code"].generate(rng, catalogue="3110", division="420100", year=2020, seq=98)
    assert code.startswith("311042") and code[9:] == "202000098"
    reg = KINDS["registration-no"].generate(rng, catalogue="3110", division="420100", year=2024)
    assert reg.startswith("梯11鄂") and reg.endswith("(24)")
    dossier = KINDS["dossier-code"].generate(rng, division="420100", year=2024, seq=7)
    assert dossier[10:16] == "420100" and dossier.endswith("20240007")
    assert KINDS["item-code"].generate(rng, group="07", operation="01") == "01100000-07-01"
    with pytest.raises(ValueError):
        KINDS["item-code"].generate(rng, group="07", operation="04")  # no such item
    assert KINDS["citizen-id"].generate(rng, division="420102", birth="19900307")[:14] == "42010219900307"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_uscc_check_agrees_with_reference(body: str) -> None:
    assert uscc_check_char(body) == ref_uscc_check(body)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.digits + string.ascii_uppercase, min_size=8, max_size=8))
def test_org_check_agrees_with_reference(body: str) -> None:
    assert org_check_char(body) == ref_org_check(body)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.digits, min_size=17, max_size=17))
def test_citizen_check_agrees_with_reference(body: str) -> None:
    assert citizen_check_char(body) == ref_citizen_check(body)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.digits + string.ascii_uppercase, min_size=1, max_size=80))
def test_mod37_36_agrees_with_reference_and_detects_substitutions(s: str) -> None:
    c = mod37_36_check(s)
    assert c == ref_mod37_36(s)
    # ISO/IEC 7064 hybrid systems detect every single substitution
    i = len(s) // 2
    other = "0" if s[i] != "0" else "1"
    assert mod37_36_check(s[:i] + other + s[i + 1 :]) != c
