"""Honest verdicts against miniature targets (``tests/miniature.py``, ``docs/honest-verdicts.md``): each target
misbehaves in one way a real deployment does, and the run must give the verdicts and exit code a supervisor relies on.

* a clause is 符合 only when every deciding check ran and passed: missing data, or a missing means of testing, makes
  it 未测 with the reason (what is missing, how to provide it), never 符合 and never 不适用;
* an error answered as success is 不符合 of PROFILE.STATUS.1, whatever else the run saw;
* slowness alone changes no verdict;
* exit 0 only for 通过, 1 for 不通过, 2 when the target could not be judged (unreachable, unknown role).

Each run is narrow (a suite module or two, ``-k``, profile quick). No duration is judged: every run goes in a thread the
test waits for with a generous bound (:data:`HANG_S`), which only stops a hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.clauses import is_means_of_testing, load_catalogue, provide_text
from conformance.contract.datasets import content_clause, data_sets
from tests import miniature
from tests.refserver import Api

#: Only stops a hang (each run below takes well under a minute on a quiet machine); never a judged duration.
HANG_S = 900.0
#: The paging checks of the sharing suite (the kill matrix's selection for paging-drops-boundary, plus the first page).
PAGING = "walking or slice or query_page"
#: Clauses that only data at the target can decide.
DATA_CLAUSES = ("SHARE.IF.FUNC.2", "PROFILE.PAGE.1")
DRIVER = "workflow-driver"
#: The Hypothesis seed of the workflow suites (items sampled), fixed so the runs are reproducible.
SEED = "20241122"
CONFORMS, FAILS, UNTESTED, NOT_APPLICABLE = "符合", "不符合", "未测", "不适用"


def _bounded(**kw: Any) -> int:
    return miniature.run_bounded(HANG_S, **kw)


def _run(m: miniature.Miniature, out: Path, suites: list[str], k: str | None = None) -> tuple[int, dict[str, Any]]:
    """The named suite modules against a miniature (profile quick); the exit code and report.json."""
    code = miniature.run_quick(HANG_S, m.target, out, role=m.role, suites=suites, extra=["-k", k] if k else [])
    report_file = out / "report.json"
    assert report_file.is_file(), f"{m.name}: no report.json (exit {code})"
    return code, json.loads(report_file.read_text(encoding="utf-8"))


def _clauses(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["clauses"]}


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    """The verdict of every clause some check of the run decided."""
    return {c["id"]: c["verdict"] for c in report["clauses"] if c["tests"]}


def _show(report: dict[str, Any], cid: str) -> str:
    c = _clauses(report)[cid]
    tests = [
        (t["nodeid"].split("::")[-1], t["outcome"], (t["reason"] or t["message"] or "")[:160])
        for t in report["tests"]
        if cid in t["clauses"]
    ]
    return f"{cid}: {c['verdict']} ({c['reason']}); checks: {tests}"


@pytest.fixture(autouse=True)
def _seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZSB_HYPOTHESIS_SEED", SEED)


# ---------------------------------------------------------------------------------------------- no data


@pytest.mark.parametrize("defects", [(), ("paging-drops-boundary",)], ids=["clean", "paging-drops-boundary"])
def test_an_empty_platform_leaves_the_data_clauses_untested(tmp_path: Path, defects: tuple[str, ...]) -> None:
    """No record anywhere: the paging clauses cannot be decided — 未测 with the reason naming each empty data set, never
    符合 (even though the checks that need no data pass), and even with a paging defect the data would have shown."""
    with miniature.empty_platform(tmp_path, defects=defects) as m:
        code, report = _run(m, tmp_path / "out", ["test_sharing_functional"], PAGING)
    clauses = _clauses(report)
    for cid in DATA_CLAUSES:
        c = clauses[cid]
        assert c["verdict"] == UNTESTED, _show(report, cid)
        for ds in data_sets().values():  # the reason says what is missing: the records of each data set
            assert any(ds.label in r and "没有数据" in r and "empty" in r for r in c["untested"]), (
                ds.name,
                c["untested"],
            )
        assert cid in report["summary"]["shallUntested"], report["summary"]
    # the checks that need no data ran and passed: a pass beside a skip does not make the clause conform
    assert any(t["outcome"] == "passed" and "SHARE.IF.FUNC.2" in t["clauses"] for t in report["tests"]), report["tests"]
    assert report["summary"]["certification"] == "不通过"
    assert code == 1


def test_a_seeded_platform_with_the_paging_defect_does_not_conform(tmp_path: Path) -> None:
    """The control of the empty platform: with data, the same checks catch the same defect (SHARE.IF.FUNC.2 不符合)."""
    with miniature.seeded_platform(tmp_path, defects=("paging-drops-boundary",)) as m:
        code, report = _run(m, tmp_path / "out", ["test_sharing_functional"], PAGING)
    assert _clauses(report)["SHARE.IF.FUNC.2"]["verdict"] == FAILS, _show(report, "SHARE.IF.FUNC.2")
    assert "SHARE.IF.FUNC.2" in report["summary"]["shallNonConforming"]
    assert code == 1


def test_a_partly_seeded_platform_leaves_only_the_empty_data_sets_checks_untested(tmp_path: Path) -> None:
    """One data set emptied (its records deleted over the push interface), the others full: what is decided per data
    set is 未测 for the empty one — its reason names that data set — and 符合 for the others; a clause that some check
    of the empty data set decides is 未测, not 符合."""
    with miniature.partly_seeded_platform(tmp_path) as m:
        emptied = m.notes["emptied"]
        assert m.notes["deleted"] > 0, "the seed had no record to delete: the miniature proves nothing"
        code, report = _run(
            m,
            tmp_path / "out",
            ["test_sharing_functional", "test_sharing_dataset"],
            "get_by_key or query_page or completeness",
        )
    label = data_sets()[emptied].label
    clauses = _clauses(report)
    empty_content = content_clause(data_sets()[emptied].schema)
    assert empty_content is not None
    for cid in (empty_content, "SHARE.IF.FUNC.1", "IPQS.QUALITY.COMPLETENESS.1"):
        c = clauses[cid]
        assert c["verdict"] == UNTESTED, _show(report, cid)
        assert c["untested"] and all(label in r for r in c["untested"]), (cid, c["untested"])  # only the emptied one
    for name, ds in data_sets().items():
        if name == emptied:
            continue
        cid = content_clause(ds.schema)
        assert clauses[cid]["verdict"] == CONFORMS, _show(report, cid)
        skipped = [t["nodeid"] for t in report["tests"] if f"[{name}]" in t["nodeid"] and t["outcome"] != "passed"]
        assert not skipped, skipped
    assert code == 1


# ---------------------------------------------------------------------------------------------- no means of testing


def test_a_licensing_system_without_the_driver_leaves_the_workflow_untested_not_inapplicable(tmp_path: Path) -> None:
    """The workflow driver is a means of testing, not an option of the standard: without it every workflow clause is
    未测 with what is missing (workflow-driver) and how to provide it, never 不适用 and never 符合. Only clauses of an
    undeclared option, or the driver's own PROFILE.WORKFLOW.*, may be 不适用."""
    catalogue = {c["id"]: c for c in load_catalogue()}
    with miniature.driverless_licensing(tmp_path) as m:
        base = m.target.read_text(encoding="utf-8")
        assert DRIVER not in base, "the target file declares the driver"
        proxied = Api(f"{m.proxy.url}/licensing")  # the driver's paths are not there: a harness ignoring the
        assert proxied.get("/driver/v1/cases/tzsb-miniature-0/history").status_code == 404  # file would notice
        assert proxied.get("/health").status_code == 200
        code, report = _run(m, tmp_path / "out", ["test_workflow", "test_workflow_refusals"])
    declared = set(report["run"]["target"]["features"])
    assert DRIVER not in declared
    clauses = _clauses(report)
    needs_driver = [t for t in report["tests"] if DRIVER in (t["reason"] or "")]
    assert needs_driver, "no check reported the missing driver"
    workflow = {cid for t in needs_driver for cid in t["clauses"]}
    assert {"DB42.6.1", "DB42.8.2"} <= workflow, sorted(workflow)
    provide = provide_text(DRIVER)
    for cid in ("DB42.6.1", "DB42.8.2"):
        c = clauses[cid]
        assert c["verdict"] == UNTESTED, _show(report, cid)
        assert any(DRIVER in r and provide in r for r in c["untested"]), (cid, c["untested"])
        assert DRIVER in (c["reason"] or ""), c["reason"]
    wrong = {}
    for cid in sorted(workflow):
        c, entry = clauses[cid], catalogue[cid]
        option_undeclared = (
            bool(entry.get("feature"))
            and not is_means_of_testing(entry["feature"])
            and entry["feature"] not in declared
        )
        if c["verdict"] == CONFORMS or (
            c["verdict"] == NOT_APPLICABLE and not option_undeclared and not cid.startswith("PROFILE.WORKFLOW.")
        ):
            wrong[cid] = _show(report, cid)
    assert not wrong, wrong
    # no 不适用 anywhere rests on the missing means of testing
    leaning = {
        c["id"]: c["reason"]
        for c in report["clauses"]
        if c["verdict"] == NOT_APPLICABLE
        and DRIVER in (c["reason"] or "")
        and not c["id"].startswith("PROFILE.WORKFLOW.")
    }
    assert not leaning, leaning
    assert report["summary"]["certification"] == "不通过"
    assert code == 1


# ---------------------------------------------------------------------------------------------- unreachable, usage


def test_an_unreachable_target_is_a_harness_error_with_a_report(tmp_path: Path) -> None:
    """Nothing listens: the preflight ends the run — exit 2, report.json with the preflight and the harness error,
    no clause judged 符合."""
    with miniature.unreachable(tmp_path) as m:
        code, report = _run(m, tmp_path / "out", ["test_security_basics"])
    assert code == 2
    assert report.get("preflight"), "report.json has no preflight"
    assert report["summary"].get("harnessError"), report["summary"]
    assert report["summary"]["certification"] == "不通过"
    assert CONFORMS not in _verdicts(report).values(), _verdicts(report)
    assert any(c["fatal"] for c in report["preflight"]["checks"]), report["preflight"]


def test_an_unknown_role_is_a_usage_error_and_runs_nothing(tmp_path: Path) -> None:
    with miniature.unreachable(tmp_path) as m:
        code = _bounded(
            target=str(m.target),
            role="nosuch",
            profile="quick",
            client_id=None,
            features=[],
            out=tmp_path / "out",
            answers=None,
            lang="zh",
            suites=["test_security_basics"],
        )
    assert code == 2
    assert not (tmp_path / "out").exists(), "a run with an unknown role wrote a report folder"


# ---------------------------------------------------------------------------------------------- lying, slow


def test_errors_answered_as_success_do_not_conform(tmp_path: Path) -> None:
    """Every error answered 200 with the error envelope: the status/body contradiction is 不符合 of PROFILE.STATUS.1
    (test_zz_exchanges, over every answer of the run)."""
    with miniature.lying(tmp_path) as m:
        code, report = _run(m, tmp_path / "out", ["test_security_basics", "test_zz_exchanges"])
    check = [t for t in report["tests"] if t["nodeid"].endswith("test_every_status_agrees_with_its_envelope")]
    assert check and check[0]["outcome"] == "failed", check
    assert "PROFILE.STATUS.1" in check[0]["clauses"]
    assert _clauses(report)["PROFILE.STATUS.1"]["verdict"] == FAILS, _show(report, "PROFILE.STATUS.1")
    assert "PROFILE.STATUS.1" in report["summary"]["shallNonConforming"]
    assert code == 1


def test_slowness_alone_changes_no_verdict(tmp_path: Path) -> None:
    """Every answer held SLOW_S: the verdicts are those of the same server unproxied (符合 where it gets 符合)."""
    suites = ["test_security_basics", "test_zz_exchanges"]
    with miniature.plain(tmp_path) as m:
        code_plain, plain = _run(m, tmp_path / "plain", suites)
    with miniature.slow(tmp_path) as m:
        code_slow, slow = _run(m, tmp_path / "slow", suites)
        assert m.proxy is not None and m.proxy.count > 0, "nothing went through the slow proxy"
    expected, got = _verdicts(plain), _verdicts(slow)
    assert CONFORMS in expected.values(), expected
    differ = {cid: (v, got.get(cid)) for cid, v in expected.items() if got.get(cid) != v}
    assert not differ, differ
    assert code_slow == code_plain


def test_a_clause_the_run_never_exercised_is_untested_not_inapplicable(tmp_path: Path) -> None:
    """PROFILE.STATUS.5 (429 with Retry-After) applies to a supervision system: its contract declares 429 answers.
    A run that provoked no 429 (here: only the basics and the checks over every exchange, whose 429 check is then
    "nothing recorded in this run") has not tested the clause — 未测, not 不适用: not answering a question is not the
    contract ruling it out."""
    from conformance.contract.openapi import role_operations

    assert any("429" in op.responses for op in role_operations("supervision")), "the contract declares no 429"
    with miniature.plain(tmp_path) as m:
        _, report = _run(m, tmp_path / "out", ["test_security_basics", "test_zz_exchanges"])
    c = _clauses(report)["PROFILE.STATUS.5"]
    assert c["verdict"] == UNTESTED, _show(report, "PROFILE.STATUS.5")


# ---------------------------------------------------------------------------------------------- plain pytest


def test_plain_pytest_exits_1_and_writes_junit_and_allure_without_being_asked(tmp_path: Path) -> None:
    """``pytest --pyargs conformance.suites`` from a folder outside the project, against a target that fails: exit 1,
    junit.xml and allure-results in the report folder though neither was asked for, and the verdict block printed."""
    work = tmp_path / "ci"
    work.mkdir()
    report_dir = tmp_path / "report"
    with miniature.plain(tmp_path, defects=("accept-missing-auth",)) as m:
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--pyargs",
                "conformance.suites.test_security_basics",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                "--tzsb-target",
                str(m.target),
                "--tzsb-profile",
                "quick",
                "--tzsb-report",
                str(report_dir),
            ],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=HANG_S,
            check=False,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert (report_dir / "junit.xml").is_file(), sorted(p.name for p in report_dir.iterdir())
    assert (report_dir / "allure-results").is_dir() and any((report_dir / "allure-results").iterdir())
    assert (report_dir / "report.json").is_file()
    assert "认证结论" in out, out[-3000:]
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["certification"] == "不通过"
    assert _clauses(report)["SHARE.SEC.AUTH.1"]["verdict"] == FAILS
    assert not (work / "reports").exists(), "the report went to the working folder, not to --tzsb-report"
