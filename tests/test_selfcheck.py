"""The main job end to end: every suite against every role of the reference servers (the self-check's part 2,
``conformance.selfcheck.contract.reference_checks``) ends 通过 for every role: every applicable shall-clause 符合,
no test failed or errored. The per-suite self-tests (``tests/test_suites_*.py``) say which clauses each suite
covers; this one says that together they leave nothing 未测.

Then the same self-check through each shipped binding (docs/bindings.md): servers, simulators and harness speak
the vendor's dialect, and every role's clause verdicts are those of the canonical run, except the profile clauses
the binding departs from, which read 按绑定 instead of 符合. One test, so that the canonical run is made once."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.binding.deviations import deviations
from conformance.binding.model import load
from conformance.contract.openapi import ROLES
from conformance.selfcheck.contract import reference_checks

BINDINGS = sorted((Path(__file__).resolve().parents[1] / "bindings").glob("*/binding.yaml"))


def _verdicts(reports: Path) -> dict[str, dict[str, str]]:
    return {
        role: {
            c["id"]: c["verdict"] for c in json.loads((reports / role / "report.json").read_text("utf-8"))["clauses"]
        }
        for role in ROLES
    }


def test_every_role_passes_every_suite_canonically_and_through_every_binding(tmp_path: Path) -> None:
    checks = reference_checks("en", profile="quick", jobs=1, out=tmp_path / "reports")
    assert len(checks) == len(ROLES)
    failing = {c.name: c.problems[:10] for c in checks if not c.ok}
    assert not failing, failing
    for role in ROLES:
        assert (tmp_path / "reports" / role / "report.html").is_file()
    canonical = _verdicts(tmp_path / "reports")

    assert len(BINDINGS) >= 2
    for binding in BINDINGS:
        out = tmp_path / binding.parent.name
        reference_checks("en", profile="quick", jobs=1, out=out, binding=binding)
        declared = {c for d in deviations(load(binding)) for c in d.clauses}
        for role, verdicts in _verdicts(out).items():
            differ = {
                cid: (canonical[role].get(cid), v)
                for cid, v in verdicts.items()
                if v != canonical[role].get(cid)
                and not (cid in declared and (canonical[role].get(cid), v) == ("符合", "按绑定"))
            }
            assert not differ, (binding.parent.name, role, differ)
            per_binding = {cid for cid, v in verdicts.items() if v == "按绑定"}
            assert per_binding <= declared, (binding.parent.name, role, per_binding - declared)
        report = json.loads((out / "sharing" / "report.json").read_text("utf-8"))
        assert report["run"]["target"]["binding"]["deviations"], binding
        evidence = json.loads((out / "sharing" / "evidence.json").read_text("utf-8"))
        assert any(x["wire"]["url"] != x["url"] for x in evidence if x.get("wire")), binding  # the wire form is kept
