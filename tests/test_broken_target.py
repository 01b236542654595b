"""``tzsb-conform run`` against a deliberately broken loopback target (garbage, slow, huge,
gzip-bombed, wrongly typed and redirecting responses): the run ends in bounded time with
不符合 verdicts and exit code 1, and no credential reaches the redirect destination."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conformance.runner import run_suites
from tests.hostile import HostileServer


def _target(tmp_path: Path, url: str) -> Path:
    toml = tmp_path / "broken.toml"
    toml.write_text(f'name = "broken"\nrole = "supervision"\n[urls]\nsupervision = "{url}"\n'
                    '[credentials]\nclient_id = "harness"\nclient_secret = "harness-secret"\n'
                    '[thresholds]\nrequest_timeout_s = 1.0\n', encoding="utf-8")
    return toml


@pytest.mark.parametrize("mode", ["garbage", "slow", "huge", "bomb", "wrong-type", "redirect-away"])
def test_a_broken_target_fails_in_bounded_time(tmp_path: Path, mode: str) -> None:
    with HostileServer() as landing, HostileServer(mode=mode, redirect_to=f"{landing.url}/landing") as srv:
        started = time.perf_counter()
        code = run_suites(target=str(_target(tmp_path, srv.url)), role="supervision", profile="quick", client_id=None,
                          features=[], out=tmp_path / "r", answers=None, lang="zh",
                          suites=["test_security_basics"], extra=["-p", "no:randomly"])
        elapsed = time.perf_counter() - started
        report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
        verdicts = [c["verdict"] for c in report["clauses"] if c["tests"]]
        assert code == 1, f"{mode}: exit {code}"
        assert "不符合" in verdicts or "错误" in verdicts, f"{mode}: {verdicts}"
        assert "符合" not in verdicts, f"{mode}: a broken target conforms to something: {verdicts}"
        assert elapsed < 120, f"{mode}: {elapsed:.0f} s"
        if mode == "redirect-away":
            assert landing.seen, "the redirect was not followed at all"
        for seen in landing.seen:
            assert "Authorization" not in seen["headers"], "a bearer token reached another origin"
            assert b"harness-secret" not in seen["body"], "the client secret reached another origin"
