"""Bulk validation gives exactly the single-record verdicts; vectorised identifier checks give
exactly the per-value fast path (True only for values with no problem at all)."""

from __future__ import annotations

import copy
import random

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.check.bulk import BulkValidator, _marks
from conformance.check.formats import KnownGood
from conformance.check.limits import MAX_JSON_DEPTH
from conformance.check.schema import validator
from conformance.codes import KINDS, check
from conformance.codes.strategies import near_miss, valid
from conformance.codes.vectorized import MANY, VALID_MANY
from conformance.datagen import DataGen


def _draw(data: st.DataObject, kind: str) -> tuple[list[str], list[str], list[str]]:
    """Valid values, near misses (invalid by construction), and all of them with some odd text."""
    goods = data.draw(st.lists(valid(kind), min_size=1, max_size=20))
    misses = [v for v, _ in data.draw(st.lists(near_miss(kind), min_size=1, max_size=20))]
    return goods, misses, goods + misses + data.draw(st.lists(st.text(max_size=20), max_size=5))


@pytest.mark.parametrize("kind", sorted(MANY))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_vectorised_equals_fast_path(kind: str, data: st.DataObject) -> None:
    goods, misses, values = _draw(data, kind)
    assert MANY[kind](values).tolist() == [KINDS[kind].fast(v) for v in values]
    assert all(MANY[kind](goods)) or not all(KINDS[kind].fast(v) for v in goods)
    assert not any(MANY[kind](misses))


@pytest.mark.parametrize("kind", sorted(MANY))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_vectorised_reads_arrow_arrays_as_lists(kind: str, data: st.DataObject) -> None:
    """The audit hands the fast paths Arrow arrays (read from their buffers, no Python text per value): the same
    answers as for the list, whatever the array's offset and offset width."""
    _, _, values = _draw(data, kind)
    values += data.draw(st.lists(st.text(alphabet=st.sampled_from("梯容A1(é😀\x00 "), max_size=20), max_size=5))
    expected = MANY[kind](values).tolist()
    for array in (pa.array(values), pa.array(["x", *values], type=pa.large_string()).slice(1)):
        assert MANY[kind](array).tolist() == expected
        assert VALID_MANY[kind](array).tolist() == VALID_MANY[kind](values).tolist()


def test_arrow_matrix_equals_list_matrix() -> None:
    from conformance.codes.vectorized import _as_matrix

    values = ["AB", "梯1", "", "ABC", "é1", "😀x", "C", "DE", "\x00\x00", "容2"]
    for wide in (False, True):
        raw, fits = _as_matrix(values, 2, wide)
        for array in (pa.array(values), pa.array(["z", *values], type=pa.large_string()).slice(1)):
            got_raw, got_fits = _as_matrix(array, 2, wide)
            assert got_fits.tolist() == fits.tolist()
            assert got_raw.tolist() == raw.tolist()


@pytest.mark.parametrize("kind", sorted(VALID_MANY))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_vectorised_valid_answer_is_sound(kind: str, data: st.DataObject) -> None:
    """VALID_MANY may say "unsure" more often than needed, never "valid" for an invalid value."""
    _, misses, values = _draw(data, kind)
    sure = VALID_MANY[kind](values).tolist()
    for strict in (True, False):
        assert all(check(kind, v, strict=strict).ok for v, s in zip(values, sure, strict=True) if s)
    assert all(s for s, perfect in zip(sure, MANY[kind](values).tolist(), strict=True) if perfect)
    assert not any(VALID_MANY[kind](misses))


def test_doubtful_registration_numbers_are_valid_without_the_slow_path() -> None:
    """瓶 (gas cylinders) numbers carry a warning, not an error: the vectorised valid answer says so."""
    values = ["瓶32闽L02032(17)", "瓶3T粤L90704(24)", "瓶99闽L02032(17)", "梯11鄂A00001(24)"]
    assert [check("registration-no", v).ok for v in values] == [True, True, False, True]
    assert VALID_MANY["registration-no"](values).tolist() == [True, True, False, True]
    assert MANY["registration-no"](values).tolist() == [False, False, False, True]


def _mixed_records(seed: int, count: int) -> list[object]:
    gen = DataGen(seed)
    rng = random.Random(seed)
    out: list[object] = []
    for _ in range(count):
        rec = gen.equipment()
        roll = rng.random()
        if roll < 0.1:
            u = rec["useUnitUscc"]
            rec["useUnitUscc"] = u[:17] + ("0" if u[17] != "0" else "1")
        elif roll < 0.15:
            rec["registrationNo"] = rec["registrationNo"].replace("(", "（")
        elif roll < 0.2:
            rec["equipmentCode"] = "0000" + rec["equipmentCode"][4:]
        elif roll < 0.25:
            del rec["status"]
        elif roll < 0.35:  # a nested identifier site: provider.uscc and provider.division
            rec["provider"] = {
                "uscc": rec["useUnitUscc"],
                "name": rec["useUnitName"],
                "division": rec["division"],
                "system": "省级特种设备监管平台",
            }
            if roll < 0.3:
                rec["provider"]["uscc"] = rec["useUnitUscc"][:17] + ("0" if rec["useUnitUscc"][17] != "0" else "1")
        out.append(rec)
        if roll > 0.97:
            out.append(copy.deepcopy(rec))  # repeated values exercise the memory of good values
    return [*out, None, [], "x", 3]


@pytest.mark.parametrize("strict", [True, False])
def test_bulk_equals_single_record_verdicts(strict: bool) -> None:
    records = _mixed_records(5, 600)
    bulk = BulkValidator("equipment", strict=strict)
    single = validator("equipment", strict)
    got: list[bool] = []
    for i in range(0, len(records), 97):  # uneven batches
        got += bulk.valid_mask(records[i : i + 97])
    assert got == [single.is_valid(r) for r in records]
    assert 0 < sum(got) < len(records)
    with_provider = [i for i, r in enumerate(records) if isinstance(r, dict) and "provider" in r]
    assert {got[i] for i in with_provider} == {True, False}


def test_bulk_verdicts_when_values_never_repeat() -> None:
    """Kinds whose values hardly repeat skip the memory of good values: same verdicts."""
    records = _mixed_records(7, 400)
    bulk = BulkValidator("equipment")
    bulk._by_kind = [
        (KnownGood(known.kind, pattern=known.pattern), idx, strings) for known, idx, strings in bulk._by_kind
    ]
    for known, _, _ in bulk._by_kind:
        known.unique = True
    assert bulk.valid_mask(records) == [validator("equipment").is_valid(r) for r in records]


@pytest.mark.parametrize("unique", [False, True])
def test_known_good_checks_the_site_pattern_too(unique: bool) -> None:
    """At a format site the bulk structure check leaves the schema's pattern to KnownGood."""
    gen = DataGen(9)
    codes = [gen.uscc("420102") for _ in range(5)]  # valid codes, all of them starting 91
    assert all(check("uscc", v).ok and v.startswith("91") for v in codes)
    for pattern, bad in (("^91", set()), ("^92", set(codes))):
        known = KnownGood("uscc", pattern=pattern)
        known.unique = unique
        assert known.check_many(codes, [None, *codes], strings=True) == bad
        assert known.check_many(codes) == bad  # the second time from memory when not unique
        assert known.check_many([5, None, ["x"], *codes]) == bad  # non-strings are not the format's business
        assert all(known(v) == (not bad) for v in codes)


def test_bulk_structure_check_leaves_site_patterns_out() -> None:
    """The per-record check of a bulk pass has no pattern at identifier sites, the full one has."""
    from conformance.check.bulk import structure_validator
    from conformance.contract.registry import schema_uri

    rec = DataGen(3).equipment()
    rec["useUnitUscc"] = "91" + "x" * 16  # breaks the pattern (and the USCC check), nothing else
    assert not validator("equipment").structure_valid(rec)
    assert structure_validator(schema_uri("equipment"))(rec)
    assert BulkValidator("equipment").valid_mask([rec]) == [False]
    rec["useUnitName"] = " 前导空格"  # a pattern away from any identifier site stays in the per-record check
    assert not structure_validator(schema_uri("equipment"))(rec)
    rec = DataGen(3).equipment()
    rec["equipmentCode"] = "x" * 18  # so does the pattern of a kind whose values never repeat
    assert not structure_validator(schema_uri("equipment"))(rec)


def test_fixed_width_matrix_only_when_every_value_fits() -> None:
    from conformance.codes.vectorized import _fixed

    assert _fixed(["AB", "CD"], 2).tolist() == [[65, 66], [67, 68]]
    assert _fixed(["梯1", "容2"], 2, wide=True).tolist() == [[ord("梯"), ord("1")], [ord("容"), ord("2")]]
    for values in (["AB", "CDE"], ["AB", "C"], ["ABC", "D"], ["A\0\0", "B"], ["A\0", "BC"], ["AB", "梯1"]):
        assert _fixed(values, 2) is None, values
    assert _fixed([], 2).shape == (0, 2)


def test_marks_tolerate_unhashable_values() -> None:
    assert _marks({"X"}, ["X", None, {"a": 1}, ["X"], "Y"]) == [True, False, False, False, False]
    assert _marks({"X"}, ["X", None, "Y"]) == [True, False, False]


def test_bulk_falls_back_per_record_for_formats_under_combinators() -> None:
    gen = DataGen(6)
    people = [gen.personnel() for _ in range(30)]
    people[3]["personId"] = people[3]["personId"][:17] + ("0" if people[3]["personId"][17] != "0" else "1")
    bulk = BulkValidator("personnel")
    assert bulk.valid_mask(people) == [validator("personnel").is_valid(p) for p in people]
    assert not bulk.valid_mask([people[3]])[0]


def test_bulk_verdicts_on_deeply_nested_records() -> None:
    """Nesting past ``MAX_JSON_DEPTH``: invalid in bulk as alone, where the schema is closed (no check per
    record needed) and where it leaves a value open (``record`` of a change: checked)."""
    deep = orjson.loads(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    near = orjson.loads(b"[" * (MAX_JSON_DEPTH - 2) + b"]" * (MAX_JSON_DEPTH - 2))
    gen = DataGen(8)
    records = [gen.equipment() for _ in range(6)]
    records[1]["remark"] = deep
    records[3] = deep
    bulk = BulkValidator("equipment")
    lines = [orjson.dumps(r) for r in records]
    assert bulk.add_lines(lines) == [True] * 6
    assert (
        bulk.finish() == [True, False, True, False, True, True] == [validator("equipment").is_valid(r) for r in records]
    )
    change = {"seq": 1, "operation": "UPLOAD", "key": "k", "changedAt": "2024-05-01T08:00:00+08:00", "record": {}}
    changes = [{**change, "record": {"a": v}} for v in (1, deep, near, [deep])]
    single = validator("sharing#/$defs/change")
    expected = [True, False, True, False]
    assert [single.is_valid(c) for c in changes] == expected
    bulk = BulkValidator("sharing#/$defs/change")
    assert not bulk._per_record and bulk.single.depth_open
    assert bulk.valid_mask(changes) == expected
    bulk.add_lines([orjson.dumps(c) for c in changes])
    assert bulk.finish() == expected
