"""The Spark engine of ``tzsb-conform audit`` gives DuckDB's results, record by record (docs/data-audit.md).

A small national data set with seeded defects (``tzsb-conform generate``'s Python API, several Parquet parts per data
set and JSON Lines) is audited by DuckDB and by Spark in local mode (``local[2]``, one SparkSession for the module);
every check must agree on its verdict, denominator, failing count, value, its failing records (all of them: row
number, key and division) and its breakdowns per province, prefecture and kind.

Skipped only when pyspark cannot be imported; without Java the module fails (the engine cannot start).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip extra `spark`): the Spark engine is not tested")

from conformance.audit import spark as spark_engine
from conformance.audit.engine import DuckDBEngine
from conformance.audit.report import problems
from conformance.audit.run import UNTESTED, Options, audit
from conformance.datagen.national import defects, frames
from conformance.datagen.national.generate import generate

EQUIPMENT = 3000
PLAN = frames.Plan(equipment=EQUIPMENT, seed=23, chunk_rows=1000, rates=defects.default_rates())
#: the data sets read from JSON Lines; the others from their Parquet parts (a folder of part-*.parquet)
FROM_JSONL = ("equipment", "units")


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Equipment and units as JSON Lines, use registrations and inspection reports as Parquet parts."""
    out = tmp_path_factory.mktemp("national")
    truth = generate(PLAN, out, "both")
    assert sum(d["count"] for d in truth["defects"].values()) > 0
    folder = tmp_path_factory.mktemp("audit-input")
    for name in ("equipment", "units", "use-registrations", "inspection-reports"):
        if name in FROM_JSONL:
            (folder / f"{name}.jsonl").symlink_to(out / f"{name}.jsonl")
        else:
            (folder / name).symlink_to(out / name, target_is_directory=True)
    assert len(list((out / "inspection-reports").glob("part-*.parquet"))) > 1  # rows numbered across files
    return folder


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[spark_engine.SparkEngine]:
    eng = spark_engine.SparkEngine(master="local[2]", memory_limit="1GB", temp_directory=tmp_path_factory.mktemp("sp"))
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def reports(dump: Path, engine: spark_engine.SparkEngine) -> tuple[dict[str, Any], dict[str, Any]]:
    opts = Options(as_of=PLAN.as_of, samples=None)  # every failing record, not samples
    duck = DuckDBEngine(memory_limit="1GB", threads=2)
    try:
        expected = audit(duck, dump, opts)
    finally:
        duck.close()
    return expected, audit(engine, dump, opts)


def _same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 (the engines sum and interpolate in their own order)."""
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_every_check_agrees_with_duckdb(reports: tuple[dict[str, Any], dict[str, Any]]) -> None:
    duck, spark = reports
    assert duck["complete"] and spark["complete"]
    assert [c["id"] for c in duck["checks"]] == [c["id"] for c in spark["checks"]]
    assert [(d["name"], d["records"], d["fields"]) for d in duck["dataSets"]] == [
        (d["name"], d["records"], d["fields"]) for d in spark["dataSets"]
    ]
    differ = []
    for a, b in zip(duck["checks"], spark["checks"], strict=True):
        for part in ("verdict", "untested", "denominator", "failing", "rate", "value", "p90"):
            if not _same(a.get(part), b.get(part)):
                differ.append((a["id"], part, a.get(part), b.get(part)))
        for part in ("byProvince", "byPrefecture", "byKind"):
            if not _same(a[part], b[part]):
                differ.append((a["id"], part, "…", "…"))
        # every failing record: the same rows, keys and divisions (row numbers in input order, across files)
        if a["samples"] != b["samples"]:
            differ.append((a["id"], "failing records", len(a["samples"]), len(b["samples"])))
    assert not differ, differ[:10]
    assert duck["summary"] == spark["summary"]


def test_the_comparison_has_teeth(reports: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """The data set's seeded defects are found (by both): failing checks of every kind, with their records."""
    duck, spark = reports
    failing = {c["id"]: c for c in spark["checks"] if c.get("failing")}
    rules = {c["id"].split("/")[0] for c in failing.values()}
    assert {"completeness", "normativeness", "accuracy", "uniqueness", "consistency", "timeliness"} <= rules
    assert all(len(c["samples"]) == c["failing"] for c in failing.values())
    assert any(c["rule"] == "identifier" for c in failing.values())  # the Arrow UDF on Spark
    assert any(c["rule"] == "record" for c in failing.values())  # the record verdict on Spark
    figures = [c for c in spark["checks"] if c["rule"] == "lag" and c["verdict"] is None and c["denominator"]]
    assert figures and all(c["value"] is not None and c["p90"] is not None for c in figures)
    assert any(c["verdict"] == UNTESTED for c in spark["checks"])  # accidents and personnel are not in the input
    assert sum(len(c["samples"]) for c in duck["checks"]) == sum(len(c["samples"]) for c in spark["checks"])


def test_report_names_the_engine(reports: tuple[dict[str, Any], dict[str, Any]]) -> None:
    import pyspark

    _duck, spark = reports
    assert spark["engine"]["name"] == "spark"
    assert spark["engine"]["version"] == pyspark.__version__
    assert spark["engine"]["master"] == "local[2]"
    report = dict(spark, seconds=1.0, lang="zh")
    for c in report["checks"]:
        c["samples"] = c["samples"][:5]
    assert problems(report) == []


@pytest.mark.parametrize(
    ("missing", "says"),
    [("pyspark", "pyspark"), ("java", "openjdk-17-jre-headless")],
)
def test_cli_says_what_to_install(
    missing: str, says: str, dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from conformance.cli import main

    if missing == "pyspark":
        monkeypatch.setattr(spark_engine.importlib.util, "find_spec", lambda name: None)
    else:
        monkeypatch.delenv("JAVA_HOME", raising=False)
        monkeypatch.setattr(spark_engine.shutil, "which", lambda name: None)
    for lang in ("zh", "en"):
        monkeypatch.setattr(sys, "argv", ["tzsb-conform"])
        argv = ["--lang", lang, "audit", str(dump), "--engine", "spark", "--out", str(tmp_path), "--no-progress"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert says in err and "--engine spark" in err
        assert ("需要" in err) == (lang == "zh")
    assert not (tmp_path / "audit.json").exists()


def test_master_is_for_spark_only(dump: Path, tmp_path: Path, capsys: Any) -> None:
    from conformance.cli import main

    assert main(["--lang", "en", "audit", str(dump), "--master", "local[2]", "--out", str(tmp_path)]) == 2
    assert "--master" in capsys.readouterr().err
