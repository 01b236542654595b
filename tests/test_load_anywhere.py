"""``tzsb-conform load`` as a user runs it: from a working directory outside the repository, with relative
paths (the default ``--out``, a relative ``--out`` with a worker process), and against a sharing platform
whose data sets are empty (every operation group 未测 with what is missing and how to provide it — never
不符合, never 错误; the run 不通过, exit 1). Short smoke runs against the reference server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.load.cli import EXIT_FAIL, main
from conformance.selfcheck.target_file import write_target
from tests.refserver import running

SHORT = ["--profile", "smoke", "--users", "4", "--spawn-rate", "4", "--warmup", "1", "--duration", "2"]
REPO = Path(__file__).resolve().parents[1]


def _target(path: Path, url: str, load: str) -> Path:
    target = write_target(path, {"sharing": url}, "sharing")
    target.write_text(target.read_text(encoding="utf-8") + "\n[load]\n" + load, encoding="utf-8")
    return target


def _doc(out: Path) -> dict[str, Any]:
    return json.loads((out / "load.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running(tmp_path_factory.mktemp("seeded"), "sharing", seed=1, access_log=False) as srv:
        yield srv


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The reference sharing platform without demo data: every data set empty."""
    with running(tmp_path_factory.mktemp("empty"), "sharing", access_log=False) as srv:
        yield srv


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory outside the repository."""
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    assert not cwd.resolve().is_relative_to(REPO)
    monkeypatch.chdir(cwd)
    return cwd


def test_the_default_out_from_a_directory_outside_the_repository(seeded: Any, elsewhere: Path) -> None:
    """The default ``--out`` (reports/load-<run id>, relative) and a relative target file: the Locust
    process writes its results where the harness reads them (every evidence file in the one folder)."""
    _target(elsewhere / "t.toml", seeded.url("sharing"), "concurrency = 4\n")
    code = main(["--target", "t.toml", *SHORT, "--writes", "none"])
    runs = list((elsewhere / "reports").glob("load-*"))
    assert len(runs) == 1, runs
    out = runs[0]
    doc = _doc(out)
    assert doc["run"]["aborted"] is None, doc["run"]["aborted"]
    assert code == _exit_of(doc), (code, doc["summary"], doc["checks"])
    assert all(c["verdict"] != "错误" for c in doc["clauses"]), doc["clauses"]
    for f in ("raw.json", "config.json", "locust_stats.csv", "locust-report.html", "load.html", "manifest.json"):
        assert (out / f).is_file(), f
    assert not (out / "reports").exists(), "Locust wrote its files relative to its own working directory"
    assert sum(g["requests"] for g in doc["groups"].values()) > 0
    assert not any(g["errors"] for g in doc["groups"].values()), {n: g["errors"] for n, g in doc["groups"].items()}


def test_a_relative_out_with_a_worker_process(seeded: Any, elsewhere: Path) -> None:
    """A relative ``--out`` in master / worker mode: the worker runs in the evidence folder too."""
    _target(elsewhere / "t.toml", seeded.url("sharing"), "concurrency = 4\n")
    code = main(["--target", "t.toml", *SHORT, "--writes", "none", "--workers", "1", "--out", "out/load"])
    out = elsewhere / "out" / "load"
    doc = _doc(out)
    assert doc["run"]["aborted"] is None, doc["run"]["aborted"]
    assert code == _exit_of(doc), (code, doc["summary"], doc["checks"])
    assert doc["run"]["workers"]["connected"] == 1
    assert (out / "locust-worker-1.log").is_file() and (out / "raw.json").is_file()
    assert sum(g["requests"] for g in doc["groups"].values()) > 0


def test_an_empty_platform_is_untested_never_failing(empty: Any, elsewhere: Path) -> None:
    """No records anywhere: get by key, paged queries and the change feeds are not loaded (no guessed
    key is requested, so no 404 is counted), every group is 未测 with what is missing and how to provide it;
    a key the target file gives but the platform does not know is probed once and left out. Every
    clause is 未测, the run 不通过, exit 1 (a finding, not an error)."""
    _target(
        elsewhere / "t.toml",
        empty.url("sharing"),
        'concurrency = 4\n[load.samples]\nequipmentCode = ["NOT-A-KEY-OF-THIS-PLATFORM"]\n',
    )
    code = main(["--target", "t.toml", *SHORT, "--writes", "none", "--out", "empty"])
    doc = _doc(elsewhere / "empty")
    assert code == EXIT_FAIL, doc["checks"]
    verdicts = {c["id"]: c for c in doc["clauses"]}
    for cid in ("SHARE.IF.PERF.1", "SHARE.IF.PERF.2", "SHARE.IF.PERF.3"):
        assert verdicts[cid]["verdict"] == "未测", verdicts[cid]
    assert not {c["verdict"] for c in doc["clauses"]} & {"不符合", "部分符合", "错误"}
    assert {c["outcome"] for c in doc["checks"]} == {"skipped"}
    assert sum(g["requests"] for g in doc["groups"].values()) == 0, "nothing was requested with a guessed key"
    reasons = {c["group"]: c["reason"] for c in doc["checks"]}
    for group in ("sharing.get", "sharing.query", "sharing.changes"):
        assert reasons[group].startswith("未测：") and "如何补足" in reasons[group] and "预置数据" in reasons[group], (
            reasons[group]
        )
        assert " / " in reasons[group]  # Chinese, then English
    assert "[load.samples]" in reasons["sharing.get"]
    assert "如何补足" in verdicts["SHARE.IF.PERF.1"]["reason"]
    summary = doc["summary"]
    assert summary["verdict"] == "不通过" and summary["nothingMeasured"]
    assert set(summary["unmeasuredGroups"]) == {"sharing.get", "sharing.query", "sharing.changes", "sharing.push"}
    assert any("NOT-A-KEY-OF-THIS-PLATFORM" in n for n in doc["notes"]), doc["notes"]
    html = (elsewhere / "empty" / "load.html").read_text(encoding="utf-8")
    assert "性能测试结论" in html and "不通过" in html and "如何补足" in html


def _exit_of(doc: dict) -> int:
    """One verdict everywhere: the load command exits 0 only when the verdict it prints is 通过, else 1."""
    return 0 if doc["summary"]["verdict"] == "通过" else 1
