"""The audit against the generator's answer key: every seeded defect is found at its exact count, and nothing else.

``tzsb-conform generate`` seeds defects of known kinds on known records and writes ``truth.json``, whose ``expected``
gives, per audit check, the exact number of failing records (docs/national-data.md). Here a small generation is audited
from its Parquet files and from its JSON Lines (the same seed writes the same records), and every check of the audit
must report exactly that number: the seeded ones their count, every other one none. The kinds' declared effect on the
record's contract verdict (``breaks_record``, ``breaks_field``) is held against the project's own validator.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.audit.engine import DuckDBEngine
from conformance.audit.run import Options, audit
from conformance.check.schema import validator
from conformance.contract.datasets import data_sets
from conformance.datagen.national import defects, frames
from conformance.datagen.national.generate import generate

AS_OF = dt.date(2025, 6, 30)


def _plan() -> frames.Plan:
    rates = {k.id: 0.3 if k.default_rate > defects.DEFAULT_RATE else 0.02 for k in defects.KINDS}
    return frames.Plan(equipment=3000, seed=23, as_of=AS_OF, chunk_rows=1300, rates=rates)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("truth")
    generate(_plan(), root / "parquet", "parquet")
    generate(_plan(), root / "jsonl", "jsonl")
    return {"parquet": root / "parquet", "jsonl": root / "jsonl"}


def _audit(folder: Path) -> dict[str, Any]:
    engine = DuckDBEngine(memory_limit="512MB", threads=1)
    try:
        return audit(engine, folder, Options(as_of=AS_OF, samples=5))
    finally:
        engine.close()


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_every_seeded_defect_is_found_at_its_exact_count_and_nothing_else(generated: dict[str, Path], fmt: str) -> None:
    truth = json.loads((generated["parquet"] / "truth.json").read_text(encoding="utf-8"))
    expected: dict[str, int] = truth["expected"]
    assert all(truth["defects"][k]["count"] > 0 for k in truth["defects"]), "every kind seeded at least once"
    report = _audit(generated[fmt])
    assert report["complete"]
    found = {c["id"]: c for c in report["checks"]}
    missing = sorted(set(expected) - set(found))
    assert not missing, f"checks the answer key names but the audit does not have: {missing}"
    wrong = {
        c["id"]: (c["failing"], expected.get(c["id"], 0))
        for c in report["checks"]
        if c["failing"] is not None and c["failing"] != expected.get(c["id"], 0)
    }
    assert not wrong, f"check: (audit, answer key) — {wrong}"
    for check_id, n in expected.items():
        assert found[check_id]["verdict"] in ("符合", "不符合") and found[check_id]["failing"] == n


def test_the_kinds_declared_effect_on_the_contract_verdict_is_the_validators(generated: dict[str, Path]) -> None:
    """A kind that ``breaks_record`` makes every seeded record invalid against its schema, one that does not leaves it
    valid; ``breaks_field`` names the field the validator finds broken."""
    folder = generated["jsonl"]
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    records: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for ds in {k.data_set for k in defects.KINDS}:
        key = data_sets()[ds].key
        by_key: dict[str, list[dict[str, Any]]] = {}
        for line in (folder / f"{ds}.jsonl").open(encoding="utf-8"):
            rec = json.loads(line)
            by_key.setdefault(rec[key], []).append(rec)
        records[ds] = by_key
    for kind in defects.KINDS:
        v = validator(data_sets()[kind.data_set].schema, strict=False)
        keys = truth["defects"][kind.id]["keys"]
        seeded = [rec for k in keys for rec in records[kind.data_set][k]]
        assert seeded, kind.id
        if kind.rule == "key":
            continue  # the copy and its original: two valid records
        for rec in seeded:
            assert v.is_valid(rec) is (not kind.breaks_record), (kind.id, rec)
            if kind.breaks_field:
                assert kind.field in v.failing_fields(rec), (kind.id, rec)
