"""The main job end to end: every suite against every role of the reference servers (the self-check's part 2,
``conformance.selfcheck.contract.reference_checks``) ends 通过 for every role: every applicable shall-clause 符合,
no test failed or errored. The per-suite self-tests (``tests/test_suites_*.py``) say which clauses each suite
covers; this one says that together they leave nothing 未测."""

from __future__ import annotations

from pathlib import Path

from conformance.contract.openapi import ROLES
from conformance.selfcheck.contract import reference_checks


def test_every_role_of_the_reference_servers_passes_every_suite(tmp_path: Path) -> None:
    checks = reference_checks("en", profile="quick", jobs=1, out=tmp_path / "reports")
    assert len(checks) == len(ROLES)
    failing = {c.name: c.problems[:10] for c in checks if not c.ok}
    assert not failing, failing
    for role in ROLES:
        assert (tmp_path / "reports" / role / "report.html").is_file()
