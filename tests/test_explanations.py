"""``SchemaValidator.errors`` explains only the parts of a record that fail (the root's own keywords,
each failing property alone): the same explanations as the explaining engine over the whole record."""

from __future__ import annotations

import json
import random

import pytest
import yaml

from conformance.check.schema import SchemaValidator, validator
from conformance.contract import documents as contracts
from conformance.datagen import DataGen


def _whole_record(v: SchemaValidator, instance: object) -> list[object]:
    plain, v._plain_root = v._plain_root, None
    try:
        return v.errors(instance)  # type: ignore[return-value]
    finally:
        v._plain_root = plain


def _broken(rng: random.Random, rec: dict[str, object]) -> dict[str, object]:
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(sorted(rec))
        roll = rng.random()
        if roll < 0.3:
            del rec[key]
        elif roll < 0.5:
            rec[key] = 12
        elif roll < 0.7 and isinstance(rec[key], str):
            rec[key] = " " + str(rec[key])[:-1] + "Ｘ"
        elif roll < 0.85:
            rec["extraField"] = "x"
        else:
            rec[key] = {"nested": [1]}
    return rec


@pytest.mark.parametrize(
    "schema", ["equipment", "unit", "accident", "inspection-report", "use-registration", "personnel"]
)
def test_failing_parts_explain_like_the_whole_record(schema: str) -> None:
    gen, rng = DataGen(21), random.Random(21)
    authority = {"name": "武汉市市场监督管理局", "uscc": gen.uscc("420100"), "division": "420100"}
    make = {
        "equipment": gen.equipment,
        "unit": gen.unit,
        "personnel": gen.personnel,
        "accident": lambda: gen.accident(gen.equipment()),
        "inspection-report": lambda: gen.inspection_report(gen.equipment()),
        "use-registration": lambda: gen.use_registration(gen.equipment(), dict(authority)),
    }[schema]
    v = validator(schema)
    compared = 0
    for _ in range(60):
        rec = _broken(rng, make())
        if v.is_valid(rec):
            continue
        got = v.errors(rec)
        assert got and got == _whole_record(v, rec), rec
        compared += 1
    assert compared > 30


def test_failing_parts_explain_every_invalid_fixture_like_the_whole_record() -> None:
    folder = contracts.FIXTURES / "json"
    checked = 0
    for labels in sorted(folder.glob("*/labels.yaml")):
        for entry in yaml.safe_load(labels.read_text(encoding="utf-8")) or []:
            if entry["valid"] is not False:
                continue
            v = validator(entry["schema"])
            instance = json.loads((labels.parent / entry["file"]).read_text(encoding="utf-8"))
            assert v.errors(instance) == _whole_record(v, instance), entry["file"]
            checked += 1
    assert checked > 100
