"""The national data generator (``tzsb-conform generate``): clean records are valid by the project's own validator,
every seeded defect kind's count and keys in truth.json are exactly what an independent check over the written files
finds, clean references resolve, the same seed writes the same files, JSON Lines and Parquet hold the same records."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from conformance.check.schema import validator
from conformance.cli import main
from conformance.codes import lists
from conformance.codes.registration_no import char_for
from conformance.codes.uscc import uscc_check_char
from conformance.datagen.national import defects, frames, tables, truth
from conformance.datagen.national.defects import earliest
from conformance.datagen.national.generate import generate

DATA_SETS = tables.DATA_SETS
AS_OF = dt.date(2025, 6, 30)


def _rates() -> dict[str, float]:
    """High rates so that every kind is seeded in a tiny data set."""
    return {k.id: 0.3 if k.default_rate > defects.DEFAULT_RATE else 0.02 for k in defects.KINDS}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("national")
    plan = frames.Plan(equipment=3000, seed=11, as_of=AS_OF, chunk_rows=1100, rates=_rates())
    generate(plan, path, "both")
    return path


@pytest.fixture(scope="module")
def records(out: Path) -> dict[str, list[dict[str, Any]]]:
    return {ds: [json.loads(line) for line in (out / f"{ds}.jsonl").open(encoding="utf-8")] for ds in DATA_SETS}


@pytest.fixture(scope="module")
def answer(out: Path) -> dict[str, Any]:
    return json.loads((out / "truth.json").read_text(encoding="utf-8"))


def _key(ds: str) -> str:
    return tables.data_set_specs()[ds].key


def _seeded(answer: dict[str, Any], ds: str) -> set[str]:
    return {k for d in answer["defects"].values() if d["dataSet"] == ds for k in d["keys"]}


def _enum(ds: str, field: str) -> set[str]:
    return set(tables.enum(ds, field))


def _found(kind: str, records: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The keys of the records an independent check of ``kind`` flags (its own code, not the generator's)."""
    _dimension, ds, field, rule = kind.split("/")
    recs, key = records[ds], _key(ds)
    as_of = AS_OF.isoformat()
    if rule == "required":
        return [r[key] for r in recs if r.get(field) is None]
    if rule == "code-list":
        every = lists.division_codes() | set(lists.division_history())
        return [r[key] for r in recs if r[field] not in every]
    if rule == "schema":
        return [r[key] for r in recs if r[field] not in _enum(ds, field)]
    if rule == "identifier":
        return [r[key] for r in recs if uscc_check_char(r[field][:17]) != r[field][17]]
    if rule == "date":
        return [r[key] for r in recs if not earliest() <= r[field][:10] <= as_of]
    if rule == "key":
        return sorted(k for k, n in Counter(r[key] for r in recs).items() for _ in range(n - 1))
    if rule == "reference":
        target = tables.data_set_specs()[ds].references.get(field) or "equipment"
        have = {r[_key(target)] for r in records[target]}
        return [r[key] for r in recs if r[field] not in have]
    if rule == "kind-digits":
        return [
            r[key] for r in recs if r[key][0] != char_for(r["catalogueCode"]) or r[key][1:3] != r["catalogueCode"][1:3]
        ]
    if rule == "unit-name":
        names = {u["uscc"]: u["name"] for u in records["units"]}
        return [r[key] for r in recs if r["useUnitUscc"] in names and names[r["useUnitUscc"]] != r[field]]
    if rule == "overdue":
        return [r[key] for r in recs if r["status"] == "in-use" and r[field] < as_of]
    if rule == "stale":
        return [r[key] for r in recs if r[field][:10] < r["lastInspectionDate"]]
    raise AssertionError(f"no independent check for {kind}")


def test_every_kind_is_seeded_and_exact(records: dict[str, list[dict[str, Any]]], answer: dict[str, Any]) -> None:
    assert len(answer["defects"]) == len(defects.KINDS) >= 12
    for kind, entry in answer["defects"].items():
        found = sorted(_found(kind, records))
        assert entry["count"] == len(entry["keys"]) > 0, kind
        assert sorted(entry["keys"]) == found, kind


def test_record_counts(records: dict[str, list[dict[str, Any]]], answer: dict[str, Any]) -> None:
    assert answer["records"] == {ds: len(recs) for ds, recs in records.items()}
    assert answer["parameters"]["asOf"] == AS_OF.isoformat()
    assert validator("datagen-truth").is_valid(answer)


def test_seeded_records_are_disjoint(answer: dict[str, Any]) -> None:
    for ds in DATA_SETS:
        keys = [k for d in answer["defects"].values() if d["dataSet"] == ds for k in set(d["keys"])]
        assert len(keys) == len(set(keys)), ds


def test_clean_records_validate(records: dict[str, list[dict[str, Any]]], answer: dict[str, Any]) -> None:
    for ds in DATA_SETS:
        check = validator(tables.data_set_specs()[ds].schema, strict=True)
        seeded = _seeded(answer, ds)
        clean = [r for r in records[ds] if r[_key(ds)] not in seeded]
        assert len(clean) > 0.7 * len(records[ds])
        bad = [(r[_key(ds)], check.errors(r)) for r in clean if not check.is_valid(r)]
        assert bad == [], bad[:3]


def test_clean_references_and_dates(records: dict[str, list[dict[str, Any]]], answer: dict[str, Any]) -> None:
    units = {u["uscc"]: u for u in records["units"]}
    equipment = {e["equipmentCode"]: e for e in records["equipment"]}
    as_of = AS_OF.isoformat()
    seeded = _seeded(answer, "equipment")
    for e in records["equipment"]:
        if e["equipmentCode"] in seeded:
            continue
        assert units[e["useUnitUscc"]]["name"] == e["useUnitName"]
        chain = [e["manufactureDate"], e["installDate"], e.get("registrationDate"), e["lastInspectionDate"]]
        chain = [d for d in chain if d]
        assert chain == sorted(chain) and chain[0] >= "1950-01-01"
        assert e["lastInspectionDate"] <= e["updatedAt"][:10] <= as_of
        if e["status"] == "in-use":
            assert e["nextInspectionDate"] > as_of
    reg_seeded = _seeded(answer, "use-registrations")
    for r in records["use-registrations"]:
        if r["registrationNo"] in reg_seeded:
            continue
        e = equipment[r["equipmentCode"]]
        assert (r["catalogueCode"], r["useUnitUscc"], r["useUnitName"]) == (
            e["catalogueCode"],
            e["useUnitUscc"],
            e["useUnitName"],
        )
        assert lists.provinces()[r["authority"]["division"][:2]]["abbr"] == r["registrationNo"][3]
        assert r["registeredAt"][:10] == e["registrationDate"] <= r["updatedAt"][:10] <= as_of
    rep_seeded = _seeded(answer, "inspection-reports")
    for p in records["inspection-reports"]:
        if p["reportNo"] not in rep_seeded:
            e = equipment[p["equipmentCode"]]
            assert e.get("registrationDate", e["installDate"]) <= p["inspectionDate"] <= p["issuedAt"][:10]
            assert p["issuedAt"] <= p["updatedAt"] and p["updatedAt"][:10] <= as_of


def test_jsonl_holds_the_parquet_records(out: Path, records: dict[str, list[dict[str, Any]]]) -> None:
    for ds in DATA_SETS:
        parts = sorted((out / ds).glob("part-*.parquet"))
        assert len(parts) == 3 or ds == "units"
        rows = [r for p in parts for r in pq.read_table(p).to_pylist()]
        strip = [{k: v for k, v in r.items() if v is not None} for r in rows]
        assert strip == records[ds]


def test_same_seed_same_files(tmp_path: Path) -> None:
    written = []
    for name in ("a", "b"):
        generate(frames.Plan(equipment=400, seed=5, chunk_rows=150, rates=_rates()), tmp_path / name, "both")
        written.append({p.relative_to(tmp_path / name): p.read_bytes() for p in sorted((tmp_path / name).rglob("*.*"))})
    assert written[0] == written[1]
    generate(frames.Plan(equipment=400, seed=6, chunk_rows=150, rates=_rates()), tmp_path / "c", "parquet")
    assert (tmp_path / "c/equipment.jsonl").exists() is False
    assert pq.read_table(tmp_path / "c/equipment/part-00000.parquet") != pq.read_table(
        tmp_path / "a/equipment/part-00000.parquet"
    )


def test_many_keys_go_to_the_keys_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(truth, "INLINE_KEYS", 3)
    doc = generate(frames.Plan(equipment=600, seed=2, rates=_rates()), tmp_path, "parquet")
    spilled = {k: d for k, d in doc["defects"].items() if d["count"] > 3}
    assert spilled and all(d["keysFile"] == truth.KEYS_FILE and "keys" not in d for d in spilled.values())
    table = pq.read_table(tmp_path / truth.KEYS_FILE).to_pylist()
    for kind, d in spilled.items():
        assert sum(1 for r in table if r["kind"] == kind and r["data_set"] == d["dataSet"]) == d["count"]


def test_cli_without_defects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--lang", "en", "generate", "--equipment", "300", "--out", str(tmp_path), "--no-defects", "--no-progress"]
    )
    assert code == 0
    doc = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert doc["defects"] == {} and doc["records"]["equipment"] == 300
    assert "records" in capsys.readouterr().out
    assert main(["generate", "--equipment", "10", "--out", str(tmp_path), "--defect", "no/such/kind/x=0.1"]) == 2


def test_json_lines_escape_and_leave_out_nulls() -> None:
    import pyarrow as pa

    from conformance.datagen.national import jsonl

    inner = pa.StructArray.from_arrays([pa.array(["n1", None]), pa.array([None, "u"])], names=["name", "uscc"])
    batch = pa.record_batch(
        {
            "a": pa.array(['x"y', None, "t\tz\\", None, "{,好"]),
            "n": pa.array([1, None, 3, 4, 5]),
            "s": pa.concat_arrays([inner, pa.nulls(3, inner.type)]),
        }
    )
    got = [json.loads(line) for line in jsonl.lines(batch).decode().splitlines()]
    assert got == [
        {"a": 'x"y', "n": 1, "s": {"name": "n1"}},
        {"s": {"uscc": "u"}},
        {"a": "t\tz\\", "n": 3},
        {"n": 4},
        {"a": "{,好", "n": 5},
    ]
