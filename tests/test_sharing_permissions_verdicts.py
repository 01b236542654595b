"""Honest verdicts of the permission and suspension checks (``conformance/suites/test_sharing_permissions.py``,
docs/opening-mechanism.md): a platform that does not offer the interfaces, and a target file without the clients the
checks need, leave IPQS.SHARE.PERM.2 and IPQS.OPEN.SEC.3 **未测** with the reason — never 符合, never 不适用 (the
clauses are shall-clauses of the standard; what is missing is a means of testing)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conformance.contract.openapi import ROLES
from tests.miniature import NOWHERE, Proxy, run_quick, target_file
from tests.refserver import running

#: Only stops a hang; the runs take seconds.
HANG_S = 600.0
CLAUSES = ("IPQS.SHARE.PERM.2", "IPQS.OPEN.SEC.3")
#: The paths of the interfaces the platform "does not offer" (the proxy sends them where the upstream has nothing).
ABSENT = re.compile(r"/api/v1/(permission-changes|suspensions)(/|$)")


def _report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _clauses(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["clauses"]}


def _run(tmp_path: Path, target: Path) -> dict[str, dict[str, Any]]:
    out = tmp_path / "out"
    code = run_quick(HANG_S, target, out, role="sharing", suites=["test_sharing_permissions"])
    assert code == 1  # never 通过: the clauses are untested
    return _clauses(_report(out))


def test_a_platform_without_the_interfaces_leaves_the_clauses_untested(tmp_path: Path) -> None:
    def route(method: str, path: str) -> str:
        m = ABSENT.search(path)
        return path[: m.start()] + NOWHERE + path[m.start() :] if m else path

    with running(tmp_path, "all", seed=1, access_log=False) as srv, Proxy(srv.base, route=route) as proxy:
        target = target_file(tmp_path / "t.toml", {r: f"{proxy.url}/{r}" for r in ROLES}, "sharing")
        clauses = _run(tmp_path, target)
    for cid in CLAUSES:
        assert clauses[cid]["verdict"] == "未测", clauses[cid]
        assert "目标未提供" in (clauses[cid]["reason"] or ""), clauses[cid]["reason"]


def test_a_target_file_without_the_clients_leaves_the_clauses_untested(tmp_path: Path) -> None:
    with running(tmp_path, "all", seed=1, access_log=False) as srv:
        target = target_file(tmp_path / "t.toml", {r: srv.url(r) for r in ROLES}, "sharing")
        text = target.read_text(encoding="utf-8")
        target.write_text(re.sub(r"\[clients\.permission-[^\]]+\][^\[]*", "", text), encoding="utf-8")
        clauses = _run(tmp_path, target)
    for cid in CLAUSES:
        assert clauses[cid]["verdict"] == "未测", clauses[cid]
        assert "permission-" in (clauses[cid]["reason"] or ""), clauses[cid]["reason"]
