"""``tzsb-conform clauses --coverage``: which checks decide each automated clause of the catalogue.

A check decides a clause when it carries the clause's marker (``@pytest.mark.clause``) in a suite, or
when a load profile names the clause (``[clauses.<role>]`` of ``loadtests/profiles``). The suites are
collected once per role (nothing is sent: collection reads the contracts only). An automated
clause without any deciding check is a defect of the catalogue or of the suites (it could only ever
be 未测): the command exits 1. A clause no check can decide is ``attestation`` or ``not-testable``
with its reason, never ``automated``.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections import defaultdict
from typing import Any

import pytest

from conformance.contract.clauses import LEVEL_ZH, load_catalogue
from conformance.contract.openapi import ROLES


class _Collector:
    def __init__(self) -> None:
        self.by_clause: dict[str, set[str]] = defaultdict(set)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from conformance.harness.plugin import canonical_id

        for item in items:
            for m in item.iter_markers("clause"):
                for cid in m.args:
                    self.by_clause[cid].add(canonical_id(item))


@functools.cache
def decided_by(role: str) -> dict[str, frozenset[str]]:
    """Clause id → the suite tests that decide it when ``role`` is under test (collected, nothing is sent)."""
    collector = _Collector()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(
            [
                "--pyargs",
                "conformance.suites",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                "--tzsb-no-preflight",
                f"--tzsb-target=http://127.0.0.1:9/{role}",
                f"--tzsb-role={role}",
            ],
            plugins=[collector],
        )
    return {cid: frozenset(ids) for cid, ids in collector.by_clause.items()}


def suite_checks() -> dict[str, set[str]]:
    """Clause id → the ids of the suite tests that decide it, over every role."""
    out: dict[str, set[str]] = defaultdict(set)
    for role in ROLES:
        for cid, ids in decided_by(role).items():
            out[cid] |= ids
    return out


def load_checks() -> dict[str, set[str]]:
    """Clause id → the load checks (``load::<role>::<metric>``) of every load profile that names it."""
    from conformance.load.profiles import load_profile, profile_names

    out: dict[str, set[str]] = defaultdict(set)
    for name in profile_names():
        profile = load_profile(name)
        for role, table in profile.clauses.items():
            for metric, cid in table.items():
                out[cid].add(f"load::{role}::{metric}")
    return out


def coverage() -> list[dict[str, Any]]:
    """Every automated clause with its deciding checks."""
    checks = suite_checks()
    for cid, ids in load_checks().items():
        checks[cid] |= ids
    return [
        {
            "id": c["id"],
            "level": c["level"],
            "optional": bool(c.get("optional")),
            "feature": c.get("feature"),
            "checks": sorted(checks.get(c["id"], ())),
        }
        for c in load_catalogue()
        if c["verification"] == "automated"
    ]


def run_coverage(lang: str = "zh") -> int:
    rows = coverage()
    missing_shall = [r for r in rows if not r["checks"] and r["level"] == "shall"]
    missing_other = [r for r in rows if not r["checks"] and r["level"] != "shall"]
    for r in rows:
        level = r["level"] if lang == "en" else LEVEL_ZH[r["level"]]
        n = len(r["checks"])
        mark = f"{n:>4}" if n else ("none" if lang == "en" else "  无")
        print(f"{r['id']:<28} {level:<7} {mark}  {', '.join(r['checks'][:2])}{' …' if n > 2 else ''}")
    if lang == "en":
        print(
            f"\n{len(rows)} automated clauses; without a deciding check: {len(missing_shall)} shall, {len(missing_other)} should/may "
            f"(those are 未测 in every report)"
        )
    else:
        print(
            f"\n自动条款 {len(rows)} 条；没有判定检验的：应 {len(missing_shall)} 条，宜/可 {len(missing_other)} 条（它们在每份报告中都是未测）"
        )
    for r in missing_shall:
        print(("shall-clause without a deciding check: " if lang == "en" else "应条款没有判定检验：") + r["id"])
    for r in missing_other:
        print(("clause without a deciding check: " if lang == "en" else "条款没有判定检验：") + r["id"])
    return 1 if missing_shall or missing_other else 0
