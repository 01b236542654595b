"""The security suite (``conformance/suites/test_security_*.py``) against the reference server:

* on the clean server every clause the suite marks is 符合 (sharing, supervision, gov-platform,
  licensing; with a short token lifetime for the expired-token test), and every test that applies
  to the role runs;
* each security defect of ``conformance/reference/defects/declared.py`` makes at least one of its declared
  clauses 不符合 (only the tests that concern it are selected, to keep the file fast).

Which tests catch each defect switch, and the runs that prove it, are the kill matrix's
(``conformance/selfcheck/kill_matrix.py``, run by ``tests/test_kill_matrix.py``); the notes below on what these suites do
not catch explain its rows.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from conformance.contract.openapi import ROLES
from conformance.harness.runner import run_suites
from conformance.selfcheck.target_file import write_target
from tests.refserver import running

SUITES = [
    "test_security_auth",
    "test_security_volume",
    "test_security_input",
    "test_security_data",
    "test_security_scope",
]


def _run(srv: Any, tmp: Path, role: str, name: str, select: str | None = None) -> dict[str, Any]:
    toml = write_target(tmp / f"{name}.toml", {r: srv.url(r) for r in ROLES}, role)
    extra = ["-p", "no:randomly"] + (["-k", select] if select else [])
    run_suites(
        target=str(toml),
        role=role,
        profile="quick",
        client_id=None,
        features=[],
        out=tmp / name,
        answers=None,
        lang="zh",
        suites=SUITES,
        extra=extra,
    )
    return json.loads((tmp / name / "report.json").read_text(encoding="utf-8"))


def _marked() -> dict[str, set[str]]:
    """Test name → the clauses it is marked with, over the suite's modules."""
    out: dict[str, set[str]] = {}
    for module in SUITES:
        mod = importlib.import_module(f"conformance.suites.{module}")
        for name, fn in vars(mod).items():
            if name.startswith("test_") and callable(fn):
                out[name] = {c for m in getattr(fn, "pytestmark", []) if m.name == "clause" for c in m.args}
    return out


def _name(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1]


def _ran(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {_name(t["nodeid"]): t for t in report["tests"] if t["outcome"] in ("passed", "failed", "error")}


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in report["clauses"]}


#: Tests that must run (not be skipped) on the clean reference server, by role.
MUST_RUN = {
    "sharing": {
        "test_malformed_authorization_headers_are_refused_with_401",
        "test_401_and_403_are_distinguished",
        "test_tokens_without_the_scope_are_refused_with_403_sharing",
        "test_correctly_signed_requests_are_accepted",
        "test_wrong_signatures_are_refused_with_401",
        "test_a_stale_or_future_timestamp_is_refused_with_401",
        "test_a_replayed_nonce_is_refused_with_401",
        "test_rate_limit_answers_429_with_retry_after_then_recovers_sharing",
        "test_daily_quota_answers_429_quota_exceeded",
        "test_sql_injection_in_path_parameters_is_refused",
        "test_sql_injection_in_query_parameters_is_harmless",
        "test_sql_injection_in_body_fields_is_refused",
        "test_malformed_bodies_are_refused_with_400",
        "test_open_data_is_masked",
        "test_sensitive_fields_are_masked_without_a_grant",
        "test_a_grant_shows_sensitive_fields_until_it_expires",
        "test_shared_data_access_is_audited",
        "test_audit_log_is_a_read_only_hash_chain",
        "test_a_token_opens_only_the_operations_of_its_scope_sharing",
        "test_a_grant_opens_only_its_owner_data_set_fields_and_grantee",
        "test_the_token_endpoint_refuses_hostile_input_without_5xx",
        "test_a_forged_host_header_never_reaches_a_url_in_the_answer",
        "test_malformed_signature_headers_are_refused",
    },
    "supervision": {
        "test_malformed_authorization_headers_are_refused_with_401",
        "test_401_and_403_are_distinguished",
        "test_tokens_without_the_scope_are_refused_with_403",
        "test_a_replayed_nonce_is_refused_with_401",
        "test_sql_injection_in_path_parameters_is_refused",
        "test_malformed_bodies_are_refused_with_400",
        "test_a_token_opens_only_the_operations_of_its_scope",
        "test_the_token_endpoint_refuses_hostile_input_without_5xx",
        "test_a_forged_host_header_never_reaches_a_url_in_the_answer",
        "test_malformed_signature_headers_are_refused",
    },
    "gov-platform": {
        "test_tokens_without_the_scope_are_refused_with_403",
        "test_thumbnails_are_refused_to_a_city_level_caller",
        "test_sql_injection_in_query_parameters_is_harmless",
        "test_malformed_bodies_are_refused_with_400",
        "test_the_token_endpoint_refuses_hostile_input_without_5xx",
        "test_a_forged_host_header_never_reaches_a_url_in_the_answer",
        "test_malformed_signature_headers_are_refused",
    },
    "licensing": {
        "test_tokens_without_the_scope_are_refused_with_403",
        "test_sql_injection_in_body_fields_is_refused",
        "test_a_token_opens_only_the_operations_of_its_scope",
        "test_the_token_endpoint_refuses_hostile_input_without_5xx",
        "test_a_forged_host_header_never_reaches_a_url_in_the_answer",
        "test_malformed_signature_headers_are_refused",
    },
}


#: Clauses the suite marks that the reference server's contracts give no way to test yet.
UNTESTABLE_HERE: set[str] = set()


def test_every_marked_clause_conforms_on_the_clean_server(tmp_path: Path) -> None:
    marked = _marked()
    covered: set[str] = set()
    with running(tmp_path / "srv-clean", "all", seed=1) as srv:
        for role in MUST_RUN:
            report = _run(srv, tmp_path, role, role)
            ran = _ran(report)
            failed = {n: t["message"] for n, t in ran.items() if t["outcome"] != "passed"}
            assert not failed, f"{role}: {failed}"
            assert MUST_RUN[role] <= set(ran), f"{role}: not run: {MUST_RUN[role] - set(ran)}"
            verdicts = _verdicts(report)
            clauses = {c for n in ran for c in marked[n]}
            assert all(verdicts[c] == "符合" for c in clauses), {
                c: verdicts[c] for c in clauses if verdicts[c] != "符合"
            }
            covered |= clauses
    # the expired-token test waits for expiry only when the lifetime is short: a server issuing 2-second tokens
    with running(tmp_path / "srv-ttl", "all", token_ttl=2) as srv:
        report = _run(srv, tmp_path, "supervision", "ttl", "expired")
    assert _ran(report)["test_an_expired_token_is_refused_with_401"]["outcome"] == "passed"
    assert _verdicts(report)["PROFILE.TOKEN.2"] == "符合"
    covered |= marked["test_an_expired_token_is_refused_with_401"]
    assert covered == {c for cs in marked.values() for c in cs} - UNTESTABLE_HERE, (
        {c for cs in marked.values() for c in cs} - UNTESTABLE_HERE - covered
    )


def test_time_based_injection_is_judged_against_the_same_operations_other_probes() -> None:
    """A slow target is not an injectable one: only a SLEEP probe answered 4 s later than the median of the same
    operation's other probes is flagged."""
    from types import SimpleNamespace

    from conformance.suites.support.security import SQL_INJECTION
    from conformance.suites.test_security_input import TIME_BASED, _delayed

    op = SimpleNamespace(operation_id="getUnit")
    others = [p for p in SQL_INJECTION if p not in TIME_BASED]
    assert TIME_BASED and others
    slow_everywhere = {p: 6000.0 for p in SQL_INJECTION}
    assert _delayed(op, slow_everywhere) == []  # loaded, not injectable
    injectable = {**dict.fromkeys(others, 20.0), **dict.fromkeys(TIME_BASED, 5030.0)}
    found = _delayed(op, injectable)
    assert len(found) == len(TIME_BASED) and "getUnit" in found[0]
    assert _delayed(op, {**dict.fromkeys(others, 20.0), **dict.fromkeys(TIME_BASED, 3900.0)}) == []
