"""Bulk validation gives exactly the single-record verdicts; vectorised identifier checks give
exactly the per-value fast path (True only for values with no problem at all)."""

from __future__ import annotations

import copy
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.bulk import BulkValidator
from conformance.codes import KINDS
from conformance.codes.strategies import near_miss, valid
from conformance.codes.vectorized import MANY
from conformance.datagen import DataGen
from conformance.validation import validator


@pytest.mark.parametrize("kind", sorted(MANY))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_vectorised_equals_fast_path(kind: str, data: st.DataObject) -> None:
    goods = data.draw(st.lists(valid(kind), min_size=1, max_size=20))
    misses = [v for v, _ in data.draw(st.lists(near_miss(kind), min_size=1, max_size=20))]
    odd = data.draw(st.lists(st.text(max_size=20), max_size=5))
    values = goods + misses + odd
    assert MANY[kind](values) == [KINDS[kind].fast(v) for v in values]
    assert all(MANY[kind](goods)) or not all(KINDS[kind].fast(v) for v in goods)
    assert not any(MANY[kind](misses))


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
        got += bulk.valid_mask(records[i:i + 97])
    assert got == [single.is_valid(r) for r in records]
    assert 0 < sum(got) < len(records)


def test_bulk_falls_back_per_record_for_nested_formats() -> None:
    gen = DataGen(6)
    people = [gen.personnel() for _ in range(30)]
    people[3]["personId"] = people[3]["personId"][:17] + ("0" if people[3]["personId"][17] != "0" else "1")
    bulk = BulkValidator("personnel")
    assert bulk.valid_mask(people) == [validator("personnel").is_valid(p) for p in people]
    assert not bulk.valid_mask([people[3]])[0]
