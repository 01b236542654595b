"""``tzsb-conform audit``: GB/T 36344 data-quality checks over tiny hand-made dumps with known answers.

The dump: six equipment records built valid by the project's record builder, then given one defect each where the
answer is known (a missing required field, a value outside its enum, a broken check character, a duplicate key, a
date after the as-of date, an overdue inspection, a stale updatedAt, a registration number of another kind and
province, a use unit's name unlike the units data set's); units for their use units; inspection reports for two.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from jsonschema import Draft202012Validator
from sqlglot.errors import ErrorLevel

from conformance.audit import rules, sql
from conformance.audit.catalogue import checks, table
from conformance.audit.engine import DuckDBEngine
from conformance.audit.report import problems, write
from conformance.audit.run import NOT_MET, UNTESTED, Options, audit, load
from conformance.check.files import JsonlSummary, iter_jsonl
from conformance.codes import lists
from conformance.contract.datasets import data_sets
from conformance.contract.documents import load_data
from conformance.datagen import DataGen

AS_OF = dt.date(2026, 6, 30)


def _other_variety(code: str) -> str:
    """Another specific catalogue code of the same kind whose characters 2-3 differ."""
    kind = lists.catalogue_kind_of(code)
    return next(
        c for c in sorted(lists.catalogue_specific()) if lists.catalogue_kind_of(c) == kind and c[1:3] != code[1:3]
    )


def _other_province_division(division: str) -> str:
    return next(
        c for c in sorted(lists.division_codes()) if c[:2] != division[:2] and c.endswith("01") and c[4:] != "00"
    )


def _break_uscc(value: str) -> str:
    return value[:17] + ("0" if value[17] != "0" else "1")


def dump() -> dict[str, list[dict[str, Any]]]:
    g = DataGen(7)
    eq = [g.equipment() for _ in range(6)]
    for i, e in enumerate(eq):
        e["status"] = "in-use"
        e["registrationDate"] = "2015-03-01"
        e["lastInspectionDate"] = "2026-01-10"
        e["nextInspectionDate"] = "2027-01-10"
        e["installDate"] = "2015-01-01"
        e["manufactureDate"] = "2014-06-01"
        e["updatedAt"] = f"2026-0{i + 1}-15T10:00:00+08:00"
        e["useUnitUscc"] = g.uscc(e["division"])  # a use unit of its own: the units data set has no duplicate
    units = []
    for e in eq:
        u = g.unit()
        u["uscc"], u["name"] = e["useUnitUscc"], e["useUnitName"]
        u["updatedAt"] = "2026-02-01T00:00:00+08:00"
        u.pop("registeredAt", None)
        units.append(u)
    reports = [g.inspection_report(e) for e in eq[:2]]
    for r in reports:
        r["inspectionType"] = "定期检验"
        r["inspectionDate"] = "2026-01-10"
        r["issuedAt"] = "2026-01-12T09:00:00+08:00"
        r["updatedAt"] = "2026-01-12T09:00:00+08:00"
    # the defects, one known answer each
    del eq[1]["useUnitName"]  # completeness required; the record invalid
    eq[1]["catalogueCode"] = _other_variety(eq[1]["catalogueCode"])  # kind-digits and catalogue-prefix
    eq[2]["status"] = "broken"  # normativeness schema (enum)
    eq[2]["division"] = _other_province_division(eq[2]["division"])  # registration number's province differs
    eq[3]["useUnitUscc"] = _break_uscc(eq[3]["useUnitUscc"])  # accuracy identifier; reference not found
    eq[4]["equipmentCode"] = eq[0]["equipmentCode"]  # uniqueness: two records
    eq[4]["updatedAt"] = "2014-01-01T00:00:00+08:00"  # stale: before its registration
    eq[5]["registrationDate"] = "2026-12-01"  # accuracy date: after the as-of date
    eq[5]["nextInspectionDate"] = "2026-06-01"  # overdue, in use
    units[5]["name"] = units[5]["name"] + "分公司"  # unit-name
    reports[1]["inspectionDate"] = "2014-12-31"  # a periodic inspection before registration
    reports[1]["nextInspectionDate"] = "2015-12-31"
    return {"equipment": eq, "units": units, "inspection-reports": reports}


def write_jsonl(
    folder: Path, data: dict[str, list[dict[str, Any]]], extra: dict[str, list[bytes]] | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, recs in data.items():
        lines = [orjson.dumps(r) for r in recs] + list((extra or {}).get(name, ()))
        (folder / f"{name}.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    return folder


def write_csv(folder: Path, data: dict[str, list[dict[str, Any]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, recs in data.items():
        columns = list(dict.fromkeys(k for r in recs for k in r))
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(columns)
            for r in recs:
                w.writerow(
                    [
                        ""
                        if k not in r
                        else json.dumps(r[k], ensure_ascii=False)
                        if isinstance(r[k], dict | list)
                        else r[k]
                        for k in columns
                    ]
                )
    return folder


def write_parquet(folder: Path, data: dict[str, list[dict[str, Any]]]) -> Path:
    for name, recs in data.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        half = len(recs) // 2  # a folder of parts
        for i, part in enumerate((recs[:half], recs[half:])):
            pq.write_table(pa.Table.from_pylist(part), folder / name / f"part-{i}.parquet")
    return folder


def run_audit(folder: Path, **kw: Any) -> dict[str, Any]:
    engine = DuckDBEngine(memory_limit="512MB", threads=1)
    try:
        return audit(engine, folder, Options(as_of=AS_OF, **kw))
    finally:
        engine.close()


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict[str, Any]]]:
    return dump()


@pytest.fixture(scope="module")
def report(data: dict[str, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_audit(write_jsonl(tmp_path_factory.mktemp("jsonl"), data))


def _by_id(rep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in rep["checks"]}


KNOWN = {  # check id: (denominator, failing)
    "completeness/equipment/useUnitName/required": (6, 1),
    "completeness/equipment/status/required": (6, 0),
    # the record check: useUnitName missing, status, the broken check character; a date after the as-of date, a
    # duplicate key, an overdue inspection or a stale updatedAt break no schema
    "normativeness/equipment/-/record": (6, 3),
    "normativeness/equipment/status/schema": (6, 1),
    "accuracy/equipment/useUnitUscc/identifier": (6, 1),
    "accuracy/equipment/registrationDate/date": (6, 1),
    "uniqueness/equipment/equipmentCode/key": (6, 2),
    "uniqueness/units/uscc/key": (6, 0),
    "consistency/equipment/useUnitUscc/reference": (6, 1),
    "consistency/equipment/registrationNo/kind-digits": (6, 1),
    # the other variety (record 2) and the duplicate code (record 5 took record 1's code, not its catalogue code)
    "consistency/equipment/equipmentCode/catalogue-prefix": (6, 2),
    "consistency/equipment/registrationNo/division": (6, 1),
    "consistency/equipment/useUnitName/unit-name": (4, 1),
    "consistency/inspection-reports/equipmentCode/reference": (2, 0),
    "consistency/inspection-reports/inspectionDate/after-registration": (2, 1),
    "timeliness/equipment/nextInspectionDate/overdue": (5, 1),  # record 3 ("broken") is not in use
    "timeliness/equipment/updatedAt/stale": (6, 2),  # record 5, and record 6 registered after its updatedAt
}


def test_known_answers_for_every_dimension(report: dict[str, Any]) -> None:
    found = _by_id(report)
    assert {k: (found[k]["denominator"], found[k]["failing"]) for k in KNOWN} == KNOWN
    assert report["complete"]


def test_verdicts_thresholds_and_samples(report: dict[str, Any], data: dict[str, list[dict[str, Any]]]) -> None:
    found = _by_id(report)
    dup = found["uniqueness/equipment/equipmentCode/key"]
    assert dup["verdict"] == NOT_MET and dup["threshold"]["maxRate"] == 0 and not dup["threshold"]["assumption"]
    assert [s["row"] for s in dup["samples"]] == [1, 5]
    assert {s["key"] for s in dup["samples"]} == {data["equipment"][0]["equipmentCode"]}
    fine = found["completeness/equipment/status/required"]
    assert fine["verdict"] == "符合" and fine["rate"] == 0
    assert found["completeness/equipment/legacyCode/filled"]["verdict"] is None  # a figure
    assert found["completeness/equipment/model/filled"]["value"] == 1.0
    lag = found["timeliness/equipment/updatedAt/lag"]
    days = sorted((AS_OF - dt.date.fromisoformat(e["updatedAt"][:10])).days for e in data["equipment"])
    assert lag["value"] == (days[2] + days[3]) / 2
    assert report["verdict"] == NOT_MET


def test_breakdown_per_province_and_kind(report: dict[str, Any], data: dict[str, list[dict[str, Any]]]) -> None:
    c = _by_id(report)["accuracy/equipment/useUnitUscc/identifier"]
    broken = data["equipment"][3]
    prov = {p["code"]: p for p in c["byProvince"]}
    assert prov[broken["division"][:2]]["hits"] == 1
    assert sum(p["denominator"] for p in c["byProvince"]) == 6
    assert sum(p["hits"] for p in c["byPrefecture"]) == 1
    kinds = {k["code"]: k for k in c["byKind"]}
    assert kinds[lists.catalogue_kind_of(broken["catalogueCode"])]["hits"] == 1
    assert kinds[lists.catalogue_kind_of(broken["catalogueCode"])]["name"]


def test_missing_data_set_and_field_are_untested(report: dict[str, Any]) -> None:
    found = _by_id(report)
    for cid in ("normativeness/personnel/-/record", "uniqueness/accidents/accidentId/key"):
        assert found[cid]["verdict"] == UNTESTED and found[cid]["denominator"] == 0
    # the use-registrations data set is absent: the reference of use-registrations is not measured
    assert found["consistency/use-registrations/equipmentCode/reference"]["verdict"] == UNTESTED
    # a field no record has (units without registeredAt): its date check is not measured, never 符合
    assert found["accuracy/units/registeredAt/date"]["verdict"] == UNTESTED


def _defective_records() -> tuple[list[bytes], int]:
    """Equipment records with a defect of every kind (and lines that are not records)."""
    g = DataGen(11)
    base = g.equipment()
    mutations: list[tuple[str, Any]] = [
        ("equipmentName", None),  # null
        ("equipmentName", ""),  # length
        ("status", "unknown"),  # enum
        ("designLifeYears", "thirty"),  # type
        ("designLifeYears", 400),  # range
        ("division", "12345"),  # pattern
        ("division", "999999"),  # not in the division table: held mode only warns, the record stays valid
        ("useUnitUscc", _break_uscc(base["useUnitUscc"])),  # check character
        ("equipmentCode", "9999" + base["equipmentCode"][4:]),  # catalogue part of the code
        ("registrationNo", base["registrationNo"].replace("(", "[")),  # registration number
        ("updatedAt", base["updatedAt"][:19]),  # date-time without offset
        ("registrationDate", "2024-02-30"),  # impossible date
        ("parameters", {f"p{i}": i for i in range(60)}),  # too many properties
        ("provider", {"uscc": base["useUnitUscc"]}),  # nested: required parts missing
        ("extraField", 1),  # additional property
    ]
    lines = [orjson.dumps(base)]
    for name, value in mutations:
        rec = copy.deepcopy(base)
        rec[name] = value
        lines.append(orjson.dumps(rec))
    missing = copy.deepcopy(base)
    del missing["address"]
    lines += [orjson.dumps(missing), b"", b"{not json", b"[1, 2]", b'"text"', orjson.dumps(g.equipment())]
    # a member named twice: DuckDB reads the first value, validate (orjson) the last; valid then not, and the other
    # way round, at the top level and inside an object (records without "parameters", which the compiled schema
    # does not vouch for: these must be ones it would vouch for but for the repeated member)
    plain = {k: v for k, v in base.items() if k != "parameters"}
    good = orjson.dumps(plain)
    lines += [
        good[:-1] + b',"status":"unknown"}',
        good.replace(b'"status":"', b'"status":"x', 1)[:-1] + b',"status":"in-use"}',
    ]
    provider = copy.deepcopy(plain)
    provider["provider"] = {
        "uscc": base["useUnitUscc"],
        "name": "某某公司",
        "division": base["division"],
        "system": "s",
    }
    nested = orjson.dumps(provider)
    lines.append(nested.replace(b'"system":"s"', b'"system":"s","uscc":"1"', 1))
    return lines, len(lines)


def test_record_verdict_equals_validate(tmp_path: Path) -> None:
    lines, count = _defective_records()
    path = tmp_path / "equipment.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(line + b"\n" for line in lines))  # with a byte-order mark
    expected = [v.ok for _, v in iter_jsonl(path, "equipment", JsonlSummary(), strict=False, explain=False)]
    assert len(expected) == count and [i for i, ok in enumerate(expected, 1) if ok] == [1, 8, 22, 24]
    engine = DuckDBEngine(memory_limit="256MB", threads=1)
    try:
        load(engine, tmp_path)
        got = [ok for _, ok in engine.rows(f"SELECT _row, _bad IS NULL FROM {table('equipment')} ORDER BY _row")]
        bad_fields = dict(engine.rows(f"SELECT _row, _bad FROM {table('equipment')} ORDER BY _row"))
    finally:
        engine.close()
    assert got == expected
    assert bad_fields[4] == ["status"] and bad_fields[5] == ["designLifeYears"]
    # a broken check character breaks the field's own schema (its identifier format, as validate judges it); accuracy
    # reports it again as an identifier error
    assert bad_fields[9] == ["useUnitUscc"]


def test_jsonl_csv_and_parquet_give_the_same_result(data: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    def essence(rep: dict[str, Any]) -> dict[str, Any]:
        return {
            c["id"]: (c["verdict"], c["denominator"], c["failing"], c["value"], [s["row"] for s in c["samples"]])
            for c in rep["checks"]
        }

    only = {"only": lambda c: c.data_set in ("equipment", "units")}
    first = essence(run_audit(write_jsonl(tmp_path / "j", data), **only))
    assert essence(run_audit(write_csv(tmp_path / "c", data), **only)) == first
    assert essence(run_audit(write_parquet(tmp_path / "p", data), **only)) == first


def test_report_follows_its_schema_and_is_written(report: dict[str, Any], tmp_path: Path) -> None:
    assert problems(report) == []
    json_path, html_path = write(report, tmp_path, "en")
    assert json.loads(json_path.read_text(encoding="utf-8"))["schema"] == "tzsb-audit/1"
    page = html_path.read_text(encoding="utf-8")
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "uniqueness/equipment/equipmentCode/key" in page
    broken = copy.deepcopy(report)
    broken["checks"][0]["verdict"] = "通过"
    assert problems(broken)


def test_every_check_transpiles_to_spark() -> None:
    for c in checks():
        key = data_sets()[c.data_set].key
        trees = [sql.counts(c, AS_OF), sql.samples(c, key, AS_OF, 5)] + (
            [sql.figure(c, AS_OF)] if c.rule == "lag" else []
        )
        for tree in trees:
            (spark,) = sqlglot.transpile(
                sql.render(tree), read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
            )
            assert spark


def test_check_ids_and_the_quality_contract() -> None:
    Draft202012Validator.check_schema(load_data(rules.SCHEMA_FILE))  # the schema itself is a valid JSON Schema
    assert rules.problems(rules.quality()) == []
    ids = [c.id for c in checks()]
    assert len(ids) == len(set(ids))
    assert "timeliness/equipment/nextInspectionDate/overdue" in ids
    assert "consistency/equipment/useUnitUscc/reference" in ids
    for c in checks():
        dimension, ds, _field, rule = c.id.split("/")
        assert ds in data_sets() and dimension == c.dimension and rule == c.rule
        # every field a rule or check reads is a property of its data set (a typo in data-quality.yaml fails here)
        assert sql.needed_fields(c) <= set(data_sets()[ds].properties), c.id
    for name, spec in rules.quality()["breakdown"].items():
        for expr in spec.values():
            found = {
                c.name for c in sqlglot.parse_one(expr, read="duckdb").find_all(sqlglot.exp.Column) if c.table == "r"
            }
            assert found <= set(data_sets()[name].properties), (name, expr)
    broken = copy.deepcopy(rules.quality())
    broken["thresholds"]["uniqueness/key"].pop("reason")
    assert rules.problems(broken)


def test_interrupted_audit_keeps_what_finished(data: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    folder = write_jsonl(tmp_path, data)
    engine = DuckDBEngine(memory_limit="256MB", threads=1)

    def interrupt(i: int, n: int, result: dict[str, Any]) -> None:
        if i == 3:
            raise KeyboardInterrupt

    try:
        rep = audit(engine, folder, Options(as_of=AS_OF), on_check=interrupt)
    finally:
        engine.close()
    assert not rep["complete"] and len(rep["checks"]) == 3
    assert rep["verdict"] == UNTESTED  # the first three checks are met, the rest was not run
    assert problems(rep) == []


def test_cli_exit_codes(data: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    from conformance.cli import main

    folder = write_jsonl(tmp_path / "in", {"units": data["units"][:5]})
    assert main(["audit", str(folder), "--out", str(tmp_path / "out"), "--as-of", "2026-06-30", "--no-progress"]) == 0
    assert (tmp_path / "out" / "audit.html").is_file()
    assert main(["audit", str(tmp_path / "nowhere"), "--no-progress"]) == 2
    assert main(["audit", str(folder), "--as-of", "30/06/2026", "--no-progress"]) == 2
    folder2 = write_jsonl(tmp_path / "in2", data)
    assert main(["audit", str(folder2), "--out", str(tmp_path / "out2"), "--as-of", "2026-06-30", "--no-progress"]) == 1


def test_engine_that_cannot_go_on_still_writes_the_report(
    data: dict[str, list[dict[str, Any]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Out of memory (or disk) in the middle of the run: the report is written with what finished and the engine's
    error, the exit code is 2 and the message says what to change, not a traceback."""
    import duckdb

    from conformance.cli import main

    real = DuckDBEngine._run
    built: list[str] = []

    def failing(self: DuckDBEngine, sql_text: str) -> Any:
        if sql_text.lstrip().upper().startswith("CREATE TABLE T_"):
            built.append(sql_text)
            if len(built) == 2:
                raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block of size 256.0 KiB")
        return real(self, sql_text)

    monkeypatch.setattr(DuckDBEngine, "_run", failing)
    folder = write_jsonl(tmp_path / "in", data)
    out = tmp_path / "out"
    assert main(["audit", str(folder), "--out", str(out), "--as-of", "2026-06-30", "--no-progress"]) == 2
    assert "OutOfMemoryException" in capsys.readouterr().err
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert problems(report) == []
    assert report["complete"] is False and report["stopped"]["error"] == "OutOfMemoryException"
    assert report["verdict"] == UNTESTED and report["checks"] == []
    assert "memory-limit" in (out / "audit.html").read_text(encoding="utf-8")
