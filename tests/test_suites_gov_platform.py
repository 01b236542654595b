"""The government-service-platform suites (``conformance/suites/test_gov_platform_*``) against the reference
server: every clause they mark is 符合 on the clean server and no test fails, errs or is skipped; and
each gov-platform defect of ``conformance/reference/defects/declared.py`` makes one of its declared clauses
不符合 (the kill table of docs/design.md principle 7), running only the tests that carry the check (``-k``).

The platform is certified **on its own** (``conformance/selfcheck/stack.py`` ``platform_stack``): the
harness's licensing simulator first, then a reference server in role ``gov-platform`` only (seed 1, no
licensing role on the same server or database) whose licensing counterpart is that simulator. Its acceptance
desk pushes applications (T5-5) to the simulator; the suites check the pushes and take one pushed case per
test for the report-back receivers (T5-6 … T5-10). The target file is ``demo_target``'s (with the simulator's
URL in ``[simulators.urls]`` and the two unified-identity users the suites look up). Every suite of the role
(contract fuzzing and security included) ends 通过.

One test keeps the other way of getting cases, for a deployment whose platform learns the cases of a
licensing system the target file names (the reference server with every role, ``--role all``): the harness
pushes applications to that licensing role as the platform, the receivers pass, and the check of the
platform's own pushes is 未测 with what to provide.

Defects of reference/defects/declared.py these suites do not catch, and why:

* the generic defects of role ``any`` (envelope, dates, error messages and field paths, unknown fields,
  body limit, auth, scopes, signatures, rate limit and quota, audit): they break PROFILE / SHARE / §4.7
  clauses the gov-platform functional suites do not mark; the security suites and the contract fuzzing
  own them. Several still make these tests fail as a side effect (e.g. ``date-without-offset`` fails
  every receipt's schema check, ``envelope-missing-code`` every response check), which is not asserted.
* defects of the licensing system's own outgoing calls (role ``licensing-client``: report-backs never sent,
  sent in the wrong order or under the wrong case number, retries): the licensing system is the caller
  there; the client-side suites catch them, not the platform's receivers.
* ``push-not-idempotent`` is a defect of the sharing platform's push only (the reference applies it to
  role ``sharing``); the platform's own idempotency (PROFILE.PUSH.2, SHARE.SEC.RETRY.2) has no defect
  switch yet, so it is checked on the clean server only.

The gov-platform defects (``thumbnail-to-city``, ``report-back-any-order``, ``report-back-not-idempotent``) are
caught against the platform alone.

Clauses of the brief the suites do not mark (see the report): DB42.7.1.3.1 (offline applications filed through
the platform's unified acceptance system reach the licensing system by T5-5): the pushes are observed now
(DB42.10.2.T5-5.1), but whether an application was filed at a service window is known only to the platform; the
push's ``channel`` is checked against the schema, not against how the application was filed.

Which tests catch each defect switch, and the runs that prove it, are the kill matrix's
(``conformance/selfcheck/kill_matrix.py``, run by ``tests/test_kill_matrix.py``); the notes below on what these suites do
not catch explain its rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.contract.openapi import ROLES
from conformance.reference.db import Database
from conformance.reference.roles.gov_platform.handlers import user_ids
from conformance.selfcheck.demo_target import demo_target
from conformance.selfcheck.stack import platform_stack
from conformance.selfcheck.target_file import write_target
from tests import miniature
from tests.refserver import running

ROLE = "gov-platform"
SUITES = ["test_gov_platform_items", "test_gov_platform_cases", "test_gov_platform_elicenses"]
PUSHES = "DB42.10.2.T5-5.1"
#: Only stops a hang (a quick run of the gov-platform suites takes about a minute).
HANG_S = 1800.0


def _suites(target: Path, out: Path, suites: list[str] | None, k: str | None) -> dict[str, Any]:
    miniature.run_quick(
        HANG_S, target, out, role=ROLE, suites=suites, extra=["-p", "no:cacheprovider", *(["-k", k] if k else [])]
    )
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _alone(
    tmp_path: Path, *, defects: tuple[str, ...] = (), suites: list[str] | None = SUITES, k: str | None = None
) -> dict[str, Any]:
    """The suites against the reference platform on its own, pushing to the harness's licensing simulator."""
    with platform_stack(tmp_path / "ref.sqlite3", defects=defects) as (sims, srv):
        assert [s.role for s in srv.servers] == [ROLE]
        target = demo_target(tmp_path / "t.toml", srv, ROLE, simulators=sims)
        return _suites(target, tmp_path / "out", suites, k)


def _with_licensing(tmp_path: Path, *, k: str | None = None) -> dict[str, Any]:
    """The suites against the reference server with every role: cases through its licensing role (shared database)."""
    with running(tmp_path, "all", seed=1, access_log=False) as srv:
        target = write_target(tmp_path / "t.toml", {r: srv.url(r) for r in ROLES}, ROLE)
        db = Database(srv.cfg.db)  # a second connection: never share the server's own across threads
        try:
            natural, legal = user_ids(db, "natural")[0], user_ids(db, "legal")[0]
        finally:
            db.close()
        text = target.read_text(encoding="utf-8")
        assert "\n[thresholds]\n" in text
        target.write_text(
            text.replace(
                "\n[thresholds]\n",
                f'\n[thresholds]\ngov_natural_user_id = "{natural}"\ngov_legal_user_id = "{legal}"\n',
                1,
            ),
            encoding="utf-8",
        )
        return _suites(target, tmp_path / "out", SUITES, k)


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in report["clauses"]}


#: The clauses of the brief the suites must judge (DB42.7.1.3.1 is left out: see the module docstring).
EXPECTED = {
    "DB42.4.3.2",
    "DB42.5.1",
    *(f"DB42.5.T1-{g:02d}.1" for g in range(1, 11)),
    "DB42.7.1.4.1",
    "DB42.7.2.4.1",
    "DB42.7.2.5.b.2",
    "DB42.7.3.2.b.1",
    "DB42.7.4.2.c.1",
    "DB42.7.4.4.b.1",
    "DB42.7.5.2.3",
    "DB42.9.2.7",
    *(f"DB42.10.2.T5-{n}.1" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)),
    "DB42.10.2.T5-16.2",
    "PROFILE.PUSH.1",
    "PROFILE.PUSH.2",
    "PROFILE.STATUS.3",
    "SHARE.SEC.RETRY.2",
}


def test_the_platform_alone_passes_every_suite_of_its_role(tmp_path: Path) -> None:
    """Every suite of the role against the platform alone: 通过, every applicable automated shall-clause 符合; the
    gov-platform suites' tests all pass (none skipped) and judge every clause of the brief."""
    report = _alone(tmp_path, suites=None)
    summary = report["summary"]
    assert summary["interface"] == "通过", (
        summary["shallFailing"],
        [
            (t["nodeid"], t["outcome"], (t["message"] or "")[-300:])
            for t in report["tests"]
            if t["outcome"] in ("failed", "error")
        ],
    )
    ours = [t for t in report["tests"] if "test_gov_platform_" in t["nodeid"]]
    assert len(ours) >= 40, len(ours)
    not_passed = [(t["nodeid"], t["outcome"], (t["message"] or "")[-400:]) for t in ours if t["outcome"] != "passed"]
    assert not not_passed, not_passed
    marked = {c for t in ours for c in t["clauses"]}
    verdicts = _verdicts(report)
    not_conforming = {c: verdicts[c] for c in marked if verdicts.get(c) != "符合"}
    assert not not_conforming, not_conforming
    assert marked >= EXPECTED, sorted(EXPECTED - marked)


def test_report_back_receiver_defects_are_caught_against_the_platform_alone(tmp_path: Path) -> None:
    """The receiver defects, each on its own platform: the run is 不通过 and a declared clause 不符合 (the kill matrix's
    criterion), running only the tests that carry the check."""
    from conformance.reference.defects import BY_NAME

    for defect, k in (
        ("report-back-not-idempotent", "repeated"),
        ("report-back-any-order", "result_before_acceptance"),
    ):
        report = _alone(tmp_path / defect, defects=(defect,), suites=["test_gov_platform_cases"], k=k)
        verdicts = _verdicts(report)
        declared = {c: verdicts.get(c, "未测") for c in BY_NAME[defect].clauses}
        assert report["summary"]["interface"] == "不通过", (defect, declared)
        assert "不符合" in declared.values(), (defect, declared)


def test_cases_through_a_licensing_role_on_the_same_server_leave_the_pushes_untested(tmp_path: Path) -> None:
    """The reference server with every role: the receivers pass on cases pushed to its licensing role; the platform's
    own pushes are not observed, so their check is 未测 (with what to provide), never 符合."""
    report = _with_licensing(tmp_path, k="pushes or result_before_acceptance or repeated_supplement")
    outcomes = {t["nodeid"].split("::")[-1]: t for t in report["tests"]}
    push = outcomes["test_the_platform_pushes_its_applications_as_the_contract_says"]
    assert push["outcome"] == "skipped" and "未测" in (
        push["message"] or push.get("reason") or json.dumps(push, ensure_ascii=False)
    )
    others = [
        (n, t["outcome"])
        for n, t in outcomes.items()
        if n != push["nodeid"].split("::")[-1] and t["outcome"] != "passed"
    ]
    assert not others, others
    assert len(outcomes) == 3, sorted(outcomes)
    assert _verdicts(report)[PUSHES] == "未测"
