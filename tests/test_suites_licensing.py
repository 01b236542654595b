"""The licensing workflow and dossier suites against the reference server: every clause they mark is
符合 on the clean server, each licensing defect switch makes at least one of its declared clauses
不符合 (docs/design.md principle 7), and no other clause fails except the knock-on failures listed in
``KNOCK_ON`` (each explained there).

Every licensing defect of ``conformance/reference/defects/declared.py`` is caught. Each run goes through
``run_suites`` (pytest in-process with the plugin; report.json gives the verdicts) against its own
reference server, with only the suite module that carries the check; the Hypothesis seed is fixed
(``TZSB_HYPOTHESIS_SEED``) so the runs are reproducible.

Which tests catch each defect switch, and the runs that prove it, are the kill matrix's
(``conformance/selfcheck/kill_matrix.py``, run by ``tests/test_kill_matrix.py``); the notes below on what these suites do
not catch explain its rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.openapi import ROLES
from conformance.harness.runner import run_suites
from conformance.selfcheck.target_file import FEATURES, write_target
from conformance.suites.support.workflow import off_main_line
from tests.refserver import running

SUITES = ["test_workflow", "test_workflow_refusals", "test_dossier"]
SEED = "20241122"


@pytest.fixture(autouse=True)
def _seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZSB_HYPOTHESIS_SEED", SEED)


def _run(
    tmp_path: Path, suites: list[str], defects: tuple[str, ...] = (), features: tuple[str, ...] = FEATURES
) -> dict[str, Any]:
    with running(tmp_path, "all", seed=1, defects=defects, access_log=False) as srv:
        toml = write_target(tmp_path / "t.toml", {r: srv.url(r) for r in ROLES}, "licensing", features=features)
        code = run_suites(
            target=str(toml),
            role="licensing",
            profile="quick",
            client_id=None,
            features=[],
            out=tmp_path / "out",
            answers=None,
            lang="zh",
            suites=suites,
            extra=["-p", "no:randomly"],
        )
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    report["exit"] = code
    return report


def _tested(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in report["clauses"] if c["tests"]}


def test_every_marked_clause_conforms_on_the_clean_server(tmp_path: Path) -> None:
    report = _run(tmp_path, SUITES)
    verdicts = _tested(report)
    not_ok = {cid: v for cid, v in verdicts.items() if v != "符合"}
    failing = [t for t in report["tests"] if t["outcome"] not in ("passed",)]
    assert not not_ok, (not_ok, failing)
    # the suites cover what the brief asks for
    expected = {
        "DB42.5.1",
        "DB42.5.2",
        "DB42.6.1",
        "DB42.6.2",
        "DB42.8.1",
        "DB42.8.2",
        "DB42.7.2.3.a.1",
        "DB42.7.2.3.a1.1",
        "DB42.7.2.3.a1.2",
        "DB42.7.2.3.a2.1",
        "DB42.7.4.2.a.1",
        "DB42.7.4.2.b.1",
        "DB42.7.4.5.b2.1",
        "DB42.7.4.5.b2.2",
        "DB42.7.1.4.1",
        "DB42.7.2.5.g.1",
        "DB42.9.1.1",
        "DB42.9.2.1",
        "DB42.9.2.2",
        "DB42.9.2.8",
        "DB42.9.2.11",
        "DB42.9.3.1.1",
        "DB42.9.3.2.1",
        "DB42.9.3.3.1",
        "DB42.9.3.3.3",
        "DB42.7.5.5.b.1",
        "DB42.7.5.5.b.2",
        "DB42.7.5.5.b.3",
        "DB42.7.5.5.b.4",
        "DB42.7.5.5.c.2",
    }
    assert expected <= set(verdicts), sorted(expected - set(verdicts))
    assert {f"DB42.5.T1-{g:02d}.1" for g in range(1, 11)} <= set(verdicts)
    assert {f"DB42.A.{n}.1" for n in range(1, 7)} <= set(verdicts)
    assert {f"DB42.9.1.T2-{n}.1" for n in range(1, 10)} <= set(verdicts)
    assert all(t["outcome"] == "passed" for t in report["tests"]), failing
    # every outcome that ends a case or takes it off the main line is walked, whatever the Hypothesis walks did
    walked = {
        t["nodeid"].rpartition("[")[2].rstrip("]")
        for t in report["tests"]
        if "test_nothing_steps_past_a_refusal_or_a_return" in t["nodeid"]
    }
    assert walked == {f"{step}-{outcome}" for step, outcome in off_main_line()}, walked
    assert {"accept-not-accepted", "accept-correction", "decide-refused", "pre-archive-returned"} <= walked, walked


def test_without_the_driver_workflow_clauses_are_untested_and_dossiers_are_still_checked(tmp_path: Path) -> None:
    """The driver is a means of testing, not an option of the standard: without it the workflow clauses are 未测
    with what would make them testable, never 不适用."""
    report = _run(tmp_path, SUITES, features=tuple(f for f in FEATURES if f != "workflow-driver"))
    verdicts = _tested(report)
    by_id = {c["id"]: c for c in report["clauses"]}
    for cid in ("DB42.6.1", "DB42.6.2", "DB42.8.2", "DB42.7.4.5.b2.2", "DB42.9.2.11", "DB42.7.5.5.b.4"):
        assert verdicts[cid] == "未测", (cid, verdicts[cid])
        assert "workflow-driver" in (by_id[cid]["reason"] or "") and "attended" in by_id[cid]["reason"], by_id[cid][
            "reason"
        ]
    options = {c["id"] for c in report["clauses"] if c["verdict"] == "不适用"}
    for cid in options:  # 不适用 only for clauses of an undeclared option (or of the driver itself)
        c = by_id[cid]
        assert (
            c["verification"] == "not-testable"
            or cid.startswith("PROFILE.WORKFLOW.")
            or all(
                "不适用" in (t.get("reason") or "") or "无可检验项" in (t.get("reason") or "")
                for t in report["tests"]
                if cid in t["clauses"]
            )
        ), (cid, c["reason"])
    # items need only the push; existing dossiers (the server's seed data) are found through the query interface
    for cid in (
        "DB42.5.1",
        "DB42.5.2",
        "DB42.9.2.2",
        "DB42.9.2.8",
        "DB42.9.1.1",
        "DB42.9.3.1.1",
        "DB42.9.3.3.3",
        "DB42.7.5.5.c.2",
    ):
        assert verdicts[cid] == "符合", (cid, verdicts[cid])
    assert not [t for t in report["tests"] if t["outcome"] in ("failed", "error")]
