"""The sharing-platform suites (``conformance/suites/test_sharing_*``) against the reference server:
every clause they mark conforms on the clean server, and each sharing defect they are meant to catch
makes at least one of that defect's clauses 不符合 (the kill matrix of docs/design.md principle 7).

Defects of reference/defects/declared.py these suites do not catch, and why:

* ``unmasked-open-data``, ``sensitive-without-grant`` (IPQS.OPEN.SEC.1, SHARE.SEC.ACCESS.4,
  IPQS.SHARE.MODE.2): masking and owners' grants are security items, tested by the security suites;
  the sharing suites only read records as the harness client sees them.
* ``no-body-limit`` (PROFILE.STATUS.4, SHARE.SEC.VOLUME.2): the sharing suites check the page-size cap of
  SHARE.SEC.VOLUME.2, not the request-body cap (the security basics do).
* the other generic defects (envelope, dates, auth, scopes, signatures, rate limits, audit) break clauses
  these suites do not mark; some of them still make sharing tests fail as a side effect.

Each defect run uses its own server and only the suite module (and tests, ``-k``) that carries the
check, so the cases are independent and run in parallel under ``pytest -n``.

Which tests catch each defect switch, and the runs that prove it, are the kill matrix's
(``conformance/selfcheck/kill_matrix.py``, run by ``tests/test_kill_matrix.py``); the notes below on what these suites do
not catch explain its rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.contract.clauses import load_catalogue
from conformance.contract.openapi import ROLES
from conformance.harness.runner import run_suites
from conformance.selfcheck.target_file import write_target
from tests.refserver import Api, running

SUITES = ["test_sharing_functional", "test_sharing_sync", "test_sharing_dataset"]


def _totals(api: Api) -> dict[str, int]:
    from conformance.contract.datasets import data_sets

    return {name: api.get(ds.path, params={"size": 1}).json()["data"]["total"] for name, ds in data_sets().items()}


def _run(
    tmp_path: Path,
    *,
    defects: tuple[str, ...] = (),
    suites: list[str] = SUITES,
    k: str | None = None,
    totals: list[dict[str, int]] | None = None,
) -> dict[str, Any]:
    """Run the suites against a fresh reference server; ``totals`` gets the data sets' sizes before and after."""
    with running(tmp_path, "all", seed=1, defects=defects, access_log=False) as srv:
        target = write_target(tmp_path / "t.toml", {r: srv.url(r) for r in ROLES}, "sharing")
        if totals is not None:
            totals.append(_totals(Api(srv.url("sharing"))))
        run_suites(
            target=str(target),
            role="sharing",
            profile="quick",
            client_id=None,
            features=[],
            out=tmp_path / "out",
            answers=None,
            lang="zh",
            suites=suites,
            extra=["-p", "no:randomly", *(["-k", k] if k else [])],
        )
        if totals is not None:
            totals.append(_totals(Api(srv.url("sharing"))))
    return json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in report["clauses"]}


def test_the_reference_server_conforms_to_every_clause_the_sharing_suites_mark(tmp_path: Path) -> None:
    totals: list[dict[str, int]] = []
    report = _run(tmp_path, totals=totals)
    assert totals[0] == totals[1], f"the suites left records behind or removed some: {totals}"
    tests = report["tests"]
    marked = {c for t in tests for c in t["clauses"]}
    known = {c["id"] for c in load_catalogue()}
    assert marked - known == set(), f"clause ids not in the catalogue: {sorted(marked - known)}"
    bad = [
        (t["nodeid"], t["outcome"], (t["message"] or "")[-400:]) for t in tests if t["outcome"] in ("failed", "error")
    ]
    assert not bad, bad
    verdicts = _verdicts(report)
    not_conforming = {c: verdicts[c] for c in marked if verdicts.get(c) != "符合"}
    assert not not_conforming, not_conforming
    # every data set's content clause and the headline clauses are covered
    for cid in (
        "SHARE.IF.FUNC.1",
        "SHARE.IF.FUNC.2",
        "SHARE.IF.FUNC.3",
        "SHARE.IF.FUNC.4",
        "SHARE.IF.FUNC.5",
        "SHARE.IF.FUNC.6",
        "SHARE.IF.FUNC.7",
        "SHARE.IF.FUNC.8",
        "SHARE.IF.FUNC.10",
        "PROFILE.PAGE.1",
        "PROFILE.SYNC.1",
        "PROFILE.PUSH.2",
        "SHARE.MECH.CONTENT.7",
        "SHARE.MECH.CONTENT.8",
        "IPQS.QUALITY.COMPLETENESS.1",
        "IPQS.QUALITY.VALIDITY.1",
        "IPQS.QUALITY.UNIQUENESS.1",
        "IPQS.QUALITY.CONSISTENCY.1",
        "IPQS.QUALITY.TIMELINESS.1",
        *(f"SHARE.MECH.CONTENT.{i}" for i in range(1, 7)),
    ):
        assert verdicts.get(cid) == "符合", (cid, verdicts.get(cid))
    skipped = [t["nodeid"] for t in tests if t["outcome"] == "skipped"]
    assert len(skipped) <= 3, skipped  # only items without data on the demo server (e.g. no installer USCC)


def test_the_content_clause_of_every_data_set_is_found() -> None:
    from conformance.contract.datasets import content_clause, data_sets

    found = {name: content_clause(ds.schema) for name, ds in data_sets().items()}
    assert all(found.values()) and len(set(found.values())) == len(found), found
