"""The nightly comparison (``tzsb-conform audit --previous``, conformance/audit/trend.py).

Two generations of the same seed are audited: the second with one defect kind raised tenfold, one kind switched off
and the inspection reports withheld. The lists of the comparison must be exactly what the change implies: failing
counts from the generator's answer key (truth.json), denominators and thresholds from the reports, the rule from
data-quality.yaml. Also: a province whose equipment stopped arriving, a previous report of another catalogue, the
noise rule at 100 and at 21 M records, and the command line (one full run; a file that is not a report is exit 2).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conformance.audit import rules, trend
from conformance.audit.catalogue import checks
from conformance.audit.engine import DuckDBEngine
from conformance.audit.report import problems, write
from conformance.audit.run import Options, audit
from conformance.cli import main
from conformance.datagen.national import defects, frames
from conformance.datagen.national.generate import generate

AS_OF = dt.date(2025, 12, 31)
RAISED = "accuracy/equipment/manufacturerUscc/identifier"  # default rate 0.5 %: raised to 5 %
SWITCHED_OFF = "uniqueness/units/uscc/key"  # threshold 0: 不符合 whenever seeded
WITHHELD = "inspection-reports"


def _plan(rates: dict[str, float]) -> frames.Plan:
    base = {k.id: k.default_rate for k in defects.KINDS}
    return frames.Plan(equipment=3000, seed=11, as_of=AS_OF, chunk_rows=3000, rates={**base, **rates})


def _audit(folder: Path) -> dict[str, Any]:
    engine = DuckDBEngine(memory_limit="256MB", threads=1)
    try:
        return audit(engine, folder, Options(as_of=AS_OF, samples=2))
    finally:
        engine.close()


def _truth(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("trend")
    generate(_plan({}), root / "before", "parquet")
    generate(_plan({RAISED: 0.05, SWITCHED_OFF: 0.0}), root / "after", "parquet")
    shutil.rmtree(root / "after" / WITHHELD)
    before, after = _audit(root / "before"), _audit(root / "after")
    return {"root": root, "before": before, "after": after, "tb": _truth(root / "before"), "ta": _truth(root / "after")}


def _verdict(failing: int, n: int, max_rate: float) -> str:
    return "符合" if failing / n <= max_rate else "不符合"


def test_lists_are_what_the_change_implies(nights: dict[str, Any]) -> None:
    before, after = nights["before"], copy.deepcopy(nights["after"])
    eb, ea = nights["tb"]["expected"], nights["ta"]["expected"]
    rule = rules.trend_rule()
    out = trend.compare(after, before, "before/audit.json")
    assert problems(after) == []
    old = {c["id"]: c for c in before["checks"]}
    want: dict[str, set[str]] = {"regressions": set(), "newFailures": set(), "fixed": set(), "newlyUntested": set()}
    needs = {c.id: {c.data_set, *c.needs_sets} for c in checks()}
    for c in after["checks"]:
        p = old[c["id"]]
        if c["kind"] != "rate" or p["verdict"] == "未测":
            continue
        limit = c["threshold"]["maxRate"]
        if WITHHELD in needs[c["id"]]:  # reads the withheld data set: it cannot be measured tonight
            want["newlyUntested"].add(c["id"])
            continue
        xb, xa = eb.get(c["id"], 0), ea.get(c["id"], 0)  # the answer key's failing counts
        assert (p["failing"], c["failing"]) == (xb, xa), c["id"]
        vb, va = _verdict(xb, p["denominator"], limit), _verdict(xa, c["denominator"], limit)
        z = trend.z_rise(xb, p["denominator"], xa, c["denominator"])
        assert z is not None
        rose = xa / c["denominator"] > xb / p["denominator"] and z > rule.z
        if (vb, va) == ("符合", "不符合") or rose:
            want["regressions"].add(c["id"])
        elif (vb, va) == ("不符合", "符合"):
            want["fixed"].add(c["id"])
    got = {name: {i["id"] for i in out[name]} for name in want}
    assert got == want
    assert RAISED in got["regressions"] and SWITCHED_OFF in got["fixed"]
    assert out["counts"]["regressions"] == len(want["regressions"]) and out["counts"]["newlyUntested"] > 0
    raised = next(i for i in out["regressions"] if i["id"] == RAISED)
    assert "rate" in raised["reasons"] and raised["verdict"] == "不符合"
    assert ("verdict" in raised["reasons"]) == (raised["previousVerdict"] == "符合")
    by_id = {c["id"]: c for c in after["checks"]}
    assert by_id[RAISED]["change"]["byProvince"], "a check that got worse carries its provinces' changes"
    assert all(i["untested"] for i in out["newlyUntested"])
    sets = {d["name"]: d for d in out["dataSets"]}
    assert (
        sets[WITHHELD]["status"] == "missing" and sets[WITHHELD]["previousRecords"] == nights["tb"]["records"][WITHHELD]
    )
    assert out["counts"]["dataSetsMissing"] == 1 and not out["newChecks"] and not out["droppedChecks"]


def test_a_province_that_stopped_delivering_is_reported(nights: dict[str, Any], tmp_path: Path) -> None:
    src = nights["root"] / "before"
    shutil.copytree(src, tmp_path / "night", ignore=shutil.ignore_patterns("equipment"))
    con = duckdb.connect()
    glob = str(src / "equipment" / "*.parquet")
    # the province with most equipment stops sending its equipment records
    prov, lost = con.execute(
        f"SELECT substr(division, 1, 2) p, count(*) n FROM read_parquet('{glob}') GROUP BY p ORDER BY n DESC LIMIT 1"
    ).fetchone()
    (tmp_path / "night" / "equipment").mkdir()
    out_file = tmp_path / "night" / "equipment" / "part-00000.parquet"
    con.execute(f"COPY (SELECT * FROM read_parquet('{glob}') WHERE substr(division, 1, 2) <> '{prov}') TO '{out_file}'")
    before = nights["before"]
    tonight = _audit(tmp_path / "night")
    out = trend.compare(tonight, before, "x")
    eq = next(d for d in out["dataSets"] if d["name"] == "equipment")
    previous_records = next(d["records"] for d in before["dataSets"] if d["name"] == "equipment")
    assert eq["records"] == previous_records - lost
    assert eq["status"] == ("dropped" if rules.trend_rule().dropped(previous_records, eq["records"]) else "steady")
    stopped = [p for p in eq["provinces"] if p["status"] == "stopped"]
    assert [p["code"] for p in stopped] == [prov] and stopped[0]["previousRecords"] == lost
    assert out["counts"]["provincesStopped"] == 1
    # the use registrations of that province's equipment now point nowhere: a regression of the reference check
    assert "consistency/use-registrations/equipmentCode/reference" in {i["id"] for i in out["regressions"]}


def test_a_previous_report_of_another_catalogue(nights: dict[str, Any]) -> None:
    before, after = copy.deepcopy(nights["before"]), copy.deepcopy(nights["after"])
    gone = before["checks"].pop(0)
    extra = copy.deepcopy(before["checks"][0])
    extra["id"] = "accuracy/equipment/retiredField/identifier"
    before["checks"].append(extra)
    assert problems(before) == []
    out = trend.compare(after, before, "x")
    assert problems(after) == []
    assert out["newChecks"] == [gone["id"]] and out["droppedChecks"] == [extra["id"]]
    change = next(c["change"] for c in after["checks"] if c["id"] == gone["id"])
    assert change["status"] == ("new-failure" if gone["verdict"] == "不符合" else "new")


def _rate_check(failing: int, n: int) -> dict[str, Any]:
    return {
        "id": "accuracy/equipment/manufacturerUscc/identifier",
        "kind": "rate",
        "verdict": "符合" if failing / n <= 0.1 else "不符合",
        "threshold": {"maxRate": 0.1, "assumption": True, "reason": "test"},
        "denominator": n,
        "failing": failing,
        "rate": failing / n,
        "byProvince": [],
    }


@pytest.mark.parametrize("n", [100, 21_000_000])
def test_the_same_rise_is_noise_at_100_records_and_a_regression_at_21_million(n: int) -> None:
    """5 % → 7 % (within a 10 % threshold both times): the z rule of data-quality.yaml decides."""
    rule = rules.trend_rule()
    before, now = _rate_check(n * 5 // 100, n), _rate_check(n * 7 // 100, n)
    change = trend.check_change(now, before, rule)
    z = trend.z_rise(before["failing"], n, now["failing"], n)
    assert z is not None
    assert change["status"] == ("regressed" if z > rule.z else "steady")
    assert (change["status"] == "regressed") == (n > 1000)


def test_cli_compares_and_refuses_what_is_not_a_report(nights: dict[str, Any], tmp_path: Path) -> None:
    prev_json, _ = write(nights["before"], tmp_path / "prev", "zh")
    folder = nights["root"] / "after"
    base = ["audit", str(folder), "--out", str(tmp_path / "out"), "--as-of", AS_OF.isoformat(), "--no-progress"]
    base += ["--memory-limit", "256MB"]
    truth = folder / "truth.json"  # JSON, but not an audit report
    assert main([*base, "--previous", str(truth)]) == 2
    assert not (tmp_path / "out").exists(), "nothing is audited when the previous file is wrong"
    code = main([*base, "--previous", str(prev_json)])
    written = json.loads((tmp_path / "out" / "audit.json").read_text(encoding="utf-8"))
    assert code == (1 if written["verdict"] == "不符合" else 0), "regressions do not change the exit code"
    assert written["previous"]["counts"]["regressions"] >= 1
    assert RAISED in {i["id"] for i in written["previous"]["regressions"]}
    page = (tmp_path / "out" / "audit.html").read_text(encoding="utf-8")
    regressions = page.split("<h3>退步")[1].split("<h3>")[0]  # the first list of the comparison
    assert "与上次相比" in page and RAISED in regressions
