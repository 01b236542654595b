"""The inspection and supervision suites (``conformance/suites/test_inspection.py``, ``test_supervision.py``)
against the reference server: every clause they mark conforms on the clean server (role "all", seed 1),
and each defect of these roles makes at least one of that defect's clauses 不符合 (the kill matrix of
docs/design.md principle 7).

The reference server's T6-1 reports are not on its sharing platform (the demo data of the two roles are
drawn separately), so the target file of these runs is ``reference/demo_target.py``'s: it declares
sample report numbers (``[thresholds] report_numbers``, read from the reference's own database) and an
``objection_wait_s``, raised here to a generous bound (the reference decides objections after 0.5 s, so it only
stops a hang). One run without declared samples
checks that every inspection item then comes out 未测, none 符合 on refusals alone.

Defects of reference/defects/declared.py these suites do not catch, and why:

* every inspection and supervision defect (``objection-no-correction``, ``supervision-drops-unit``) is caught;
* of the generic ("any") defects, ``no-field-paths`` and ``error-message-english`` are caught through
  PROFILE.ERROR.1 (both roles; one role each here to keep the module fast). The others break clauses these
  functional suites do not mark (envelope, dates, request-body limit, unknown fields, malformed JSON,
  auth, scopes, signatures, rate limits, audit): the security suites and the contract fuzzing own them,
  though several make these suites fail as a side effect (e.g. ``date-without-offset`` fails the response
  schemas).

Which tests catch each defect switch, and the runs that prove it, are the kill matrix's
(``conformance/selfcheck/kill_matrix.py``, run by ``tests/test_kill_matrix.py``); the notes below on what these suites do
not catch explain its rows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conformance.contract.clauses import load_catalogue
from conformance.contract.openapi import ROLES
from conformance.harness.runner import run_suites
from conformance.reference.server import RunningServer
from conformance.selfcheck.demo_target import demo_target
from conformance.selfcheck.target_file import write_target
from tests.refserver import running

SUITES = {"inspection": ["test_inspection"], "supervision": ["test_supervision"]}
#: What the brief asks each suite to cover (all must be 符合 on the clean server).
EXPECTED = {
    "inspection": {
        "DB42.10.3.1",
        "DB42.10.3.T6-1.1",
        "DB42.10.3.T6-2.1",
        "INFO2007.2.5.4",
        "INFO2007.2.6.1",
        "PROFILE.PUSH.1",
        "PROFILE.PUSH.2",
        "PROFILE.STATUS.3",
        "PROFILE.ERROR.1",
    },
    "supervision": {
        "DB42.7.4.4.b.2",
        "DB42.10.4.1",
        "DB42.10.4.T7-1.1",
        "DB42.10.4.T7-2.1",
        "INFO2007.2.6.1",
        "PROFILE.PUSH.1",
        "PROFILE.PUSH.2",
        "PROFILE.STATUS.3",
        "SHARE.SEC.RETRY.2",
        "PROFILE.ERROR.1",
    },
}


#: The bound on waiting for an objection's decision in these runs: the clean reference decides after 0.5 s, so the
#: bound only stops a hang (the demo target's own, shorter limit is for runs where a defect makes it elapse).
OBJECTION_WAIT_S = 60


def _target(tmp_path: Path, srv: RunningServer, role: str, name: str, samples: bool) -> Path:
    """The reference's demo target file (sample report numbers, objection time limit), or without the samples."""
    if samples:
        target = demo_target(tmp_path / f"{name}.toml", srv, role)
        text = target.read_text(encoding="utf-8")
        text, n = re.subn(
            r"^objection_wait_s = .*$", f"objection_wait_s = {OBJECTION_WAIT_S}", text, flags=re.MULTILINE
        )
        assert n <= 1, text
        target.write_text(text, encoding="utf-8")
        return target
    urls = {r: srv.url(r) for r in ROLES} if srv.cfg.role == "all" else {srv.cfg.role: srv.url()}
    return write_target(tmp_path / f"{name}.toml", urls, role)


def _run(
    tmp_path: Path, srv: RunningServer, role: str, k: str | None = None, name: str | None = None, samples: bool = True
) -> dict[str, Any]:
    name = name or role
    target = _target(tmp_path, srv, role, name, samples)
    run_suites(
        target=str(target),
        role=role,
        profile="quick",
        client_id=None,
        features=[],
        out=tmp_path / name,
        answers=None,
        lang="zh",
        suites=SUITES[role],
        extra=["-p", "no:randomly", *(["-k", k] if k else [])],
    )
    return json.loads((tmp_path / name / "report.json").read_text(encoding="utf-8"))


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in report["clauses"] if c["tests"]}


def _problems(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (t["nodeid"], t["outcome"], (t["message"] or "")[-400:]) for t in report["tests"] if t["outcome"] != "passed"
    ]


def test_the_clean_reference_server_conforms_to_every_clause_these_suites_mark(tmp_path: Path) -> None:
    with running(tmp_path, "all", seed=1, access_log=False) as srv:
        reports = {role: _run(tmp_path, srv, role) for role in SUITES}
        # without declared samples: the reference's sharing platform holds none of its T6-1 reports (see above)
        bare = _run(tmp_path, srv, "inspection", name="no-samples", samples=False)
    catalogue = {c["id"]: c for c in load_catalogue()}
    for role, report in reports.items():
        marked = {c for t in report["tests"] for c in t["clauses"]}
        assert marked - set(catalogue) == set(), (role, sorted(marked - set(catalogue)))
        # every clause a suite marks binds that role in the catalogue
        assert not [c for c in marked if role not in catalogue[c]["roles"]], (role, marked)
        assert report["tests"] and not _problems(report), (role, _problems(report))  # no failure, error or skip
        verdicts = _verdicts(report)
        assert {c: v for c, v in verdicts.items() if v != "符合"} == {}, (role, verdicts)
        assert EXPECTED[role] <= set(verdicts), (role, sorted(EXPECTED[role] - set(verdicts)))
    # no sample reports: every inspection item is 未测 (skipped, never passed), none comes out 符合 on refusals alone
    assert bare["tests"] and all(t["outcome"] == "skipped" for t in bare["tests"]), _problems(bare)
    assert set(_verdicts(bare).values()) == {"未测"}, _verdicts(bare)
