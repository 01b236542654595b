"""A check never passes on no answer: ``test_schema_violating_requests_are_refused`` (the contract suite's refusal of
schemathesis' negative cases) against a target that accepts each connection and closes it without answering, or
never answers, is not passed for any operation: no answer is not a refusal (it passed before, since no negative case
was *accepted*).

No duration is judged: the run goes in a thread that the test waits for with a generous bound (:data:`HANG_S`),
which only stops a hang; the fuzzing deadline and the 1 s request timeout keep the run short."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import miniature
from tests.hostile import HostileServer, target_file

#: Only stops a hang (the ``hang`` run takes about 20 s on a quiet machine: 1 s per request, a 15 s fuzzing deadline).
HANG_S = 600.0


def _target(tmp_path: Path, url: str) -> Path:
    return target_file(
        tmp_path / "silent.toml",
        url,
        "request_timeout_s = 1.0\nfuzz_deadline_s = 15\nfuzz_max_examples = 1\nfuzz_max_coverage = 2\n",
    )


@pytest.mark.parametrize("mode", ["close", "hang"])
def test_the_refusal_check_does_not_pass_without_an_answer(tmp_path: Path, mode: str) -> None:
    with HostileServer(mode=mode) as srv:
        code = miniature.run_quick(
            HANG_S,
            _target(tmp_path, srv.url),
            tmp_path / "r",
            role="supervision",
            suites=["test_contract"],
            extra=["--tzsb-no-preflight", "-k", "test_schema_violating_requests_are_refused"],
        )
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    tests = report["tests"]
    assert tests and all("test_schema_violating_requests_are_refused" in t["nodeid"] for t in tests)
    passed = [t["nodeid"] for t in tests if t["outcome"] == "passed"]
    assert not passed, f"{mode}: passed without any answer: {passed}"
    assert code == 1
    failed = [t for t in tests if t["outcome"] in ("failed", "error")]
    assert failed, f"{mode}: {[t['outcome'] for t in tests]}"
    assert any("无应答不是拒绝" in (t["message"] or "") or "stopped answering" in (t["message"] or "") for t in failed)
    assert "符合" not in [c["verdict"] for c in report["clauses"] if c["tests"]]
