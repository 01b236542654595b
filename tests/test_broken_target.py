"""``tzsb-conform run`` against a deliberately broken loopback target (garbage, slow, huge,
gzip-bombed, wrongly typed and redirecting responses, connections closed or never answered): the run
ends within its deadline with 不符合 or 错误 verdicts and exit code 1, a trickling body is cut by the
client's own deadline, no credential reaches the redirect destination, and none is in any file the
run wrote.

No duration is judged: the run goes in a thread that the test waits for with a generous bound
(:data:`HANG_S`, about ten times the slowest mode's usual time), which only stops a hang."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import miniature
from tests.hostile import HostileServer, target_file
from tests.secrets_scan import find_secrets


def _target(tmp_path: Path, url: str) -> Path:
    return target_file(tmp_path / "broken.toml", url)


#: Only stops a hang: the slowest mode (``slow``: each request cut after 3 s) takes about 25 s on a quiet machine.
HANG_S = 600.0
#: The run's deadline: far above the slowest mode's usual time, below the hang guard.
DEADLINE_S = 300


@pytest.mark.parametrize("mode", ["garbage", "slow", "huge", "bomb", "wrong-type", "redirect-away", "close", "hang"])
def test_a_broken_target_fails_in_bounded_time(tmp_path: Path, mode: str) -> None:
    with HostileServer() as landing, HostileServer(mode=mode, redirect_to=f"{landing.url}/landing") as srv:
        # without the preflight: it would stop the run before the suites (exit 2, "unreachable") for the modes whose
        # health check gets no complete answer, and this test is about the suites' client against such answers
        code = miniature.run_quick(
            HANG_S,
            _target(tmp_path, srv.url),
            tmp_path / "r",
            role="supervision",
            suites=["test_security_basics"],
            # a deadline a hang would meet (the run's own limit, not a judgement on speed)
            extra=["--tzsb-no-preflight", f"--tzsb-deadline={DEADLINE_S}"],
        )
        report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
        verdicts = [c["verdict"] for c in report["clauses"] if c["tests"]]
        assert code == 1, f"{mode}: exit {code}"
        assert "不符合" in verdicts or "错误" in verdicts, f"{mode}: {verdicts}"
        assert "符合" not in verdicts, f"{mode}: a broken target conforms to something: {verdicts}"
        if mode == "slow":  # cut by the client's deadline, not waited out (the trickle would last 50 s per request)
            evidence = json.loads((tmp_path / "r" / "evidence.json").read_text(encoding="utf-8"))
            assert any("too slow" in (x.get("error") or "") for x in evidence), [x.get("error") for x in evidence]
        if mode == "redirect-away":
            assert landing.seen, "the redirect was not followed at all"
        assert find_secrets(tmp_path / "r", extra=("harness-secret",)) == [], "a credential in the run's files"
        for seen in landing.seen:
            assert "Authorization" not in seen["headers"], "a bearer token reached another origin"
            assert b"harness-secret" not in seen["body"], "the client secret reached another origin"
