"""A run always ends, and always with its report: against a target that accepts connections and never answers,
one that falls silent in the middle of a run, past the run's deadline, and on SIGINT and SIGTERM. What could not
be tested is 未测 with the reason, the exit status is 1 (不通过), and no credential is in any file the run wrote.

No duration is judged: runs go in a thread (or a process) that the test waits for with a generous bound
(:data:`HANG_S`), which only stops a hang."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.harness.run_guard import KIND_BREAKER, KIND_DEADLINE, KIND_SIGNAL, RunGuard
from conformance.selfcheck.target_file import write_target
from tests import miniature
from tests.faulty_proxy import FaultyProxy
from tests.refserver import running
from tests.secrets_scan import find_secrets

#: Only stops a hang: a stopped run ends in seconds to a minute on a busy machine.
HANG_S = 900.0
#: Only stops a hang of a step inside a test (a subprocess starting, a report appearing).
STEP_S = 300.0


def _run(target: Path, out: Path, *extra: str, role: str = "sharing", suites: list[str] | None = None) -> int:
    return miniature.run_quick(HANG_S, target, out, role=role, suites=suites, extra=extra)


def _report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _fast_timeouts(target: Path) -> Path:
    """The target file with a 1 s read timeout (a silent target costs 1 s per request, not 15)."""
    text = target.read_text(encoding="utf-8").replace("[thresholds]\n", "[thresholds]\nrequest_timeout_s = 1.0\n", 1)
    target.write_text(text, encoding="utf-8")
    return target


def _assert_honest_stop(out: Path, kind: str) -> dict[str, Any]:
    report = _report(out)
    assert report["summary"]["certification"] == "不通过"
    stopped = report["summary"].get("stopped") or {}
    assert stopped.get("kind") == kind, report["summary"]
    assert report["run"]["stopped"] == stopped
    not_run = [t for t in report["tests"] if t["outcome"] == "skipped"]
    assert not_run, "a stopped run lists what it did not test"
    assert all(t["reason"] for t in not_run), "每项未测都有原因 / every untested check has its reason"
    assert find_secrets(out) == [], "a credential in the files the run wrote"
    return report


def test_a_target_that_accepts_and_never_answers_ends_with_a_report_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as listener:  # the kernel completes the handshake; nobody ever reads or answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        target = write_target(
            tmp_path / "t.toml", {"sharing": f"http://127.0.0.1:{listener.getsockname()[1]}"}, "sharing"
        )
        code = _run(target, tmp_path / "r")
    assert code == 1
    report = _assert_honest_stop(tmp_path / "r", KIND_BREAKER)
    assert "没有完整的 HTTP 应答" in report["summary"]["stopped"]["zh"]
    verdicts = {c["verdict"] for c in report["clauses"] if c["verification"] == "automated"}
    assert verdicts <= {"未测", "错误", "不适用"}, verdicts


def test_a_target_that_falls_silent_mid_run_trips_the_circuit_breaker(tmp_path: Path) -> None:
    with running(tmp_path, "sharing", seed=3) as srv:
        base = srv.url("sharing")
        # the preflight opens a few dozen connections; then the suites' first checks get answers, then nothing
        with FaultyProxy(base, answer_first=60) as proxy:
            target = _fast_timeouts(write_target(tmp_path / "t.toml", {"sharing": proxy.url}, "sharing"))
            code = _run(target, tmp_path / "r", "--tzsb-breaker=3")
    assert code == 1
    report = _assert_honest_stop(tmp_path / "r", KIND_BREAKER)
    assert "连续 3 次请求没有任何应答" in report["summary"]["stopped"]["zh"]
    outcomes = {t["outcome"] for t in report["tests"]}
    assert "passed" in outcomes, "checks before the silence were judged"
    stopped = [t for t in report["tests"] if t["outcome"] == "skipped" and "运行提前结束" in (t["reason"] or "")]
    assert stopped, "checks after the silence are 未测 because the run stopped"
    # a check that failed while the target went silent is 错误 (no answer is no proof), never 不符合
    evidence = json.loads((tmp_path / "r" / "evidence.json").read_text(encoding="utf-8"))
    silent_tests = {x["test"] for x in evidence if x["status"] is None and not x.get("probe")}
    failed = [t["nodeid"] for t in report["tests"] if t["outcome"] == "failed" and t["nodeid"] in silent_tests]
    assert not failed, f"judged 不符合 on no answer: {failed}"


def test_the_deadline_stops_the_run_with_a_report(tmp_path: Path) -> None:
    with running(tmp_path, "sharing", seed=3) as srv:
        target = write_target(tmp_path / "t.toml", {"sharing": srv.url("sharing")}, "sharing")
        # a deadline that has passed before the first check (collecting alone takes longer): nothing is judged
        code = _run(target, tmp_path / "r", "--tzsb-deadline=0.001", suites=["test_sharing_open"])
    assert code == 1
    report = _assert_honest_stop(tmp_path / "r", KIND_DEADLINE)
    assert report["run"]["deadlineS"] == 0.001
    assert all(t["outcome"] == "skipped" for t in report["tests"])


def test_a_deadline_from_the_target_file_and_bad_values_refused(tmp_path: Path) -> None:
    from conformance.harness.target import load_target

    target = write_target(tmp_path / "t.toml", {"sharing": "http://127.0.0.1:9"}, "sharing")
    text = target.read_text(encoding="utf-8")
    target.write_text(text + "\n[run]\ndeadline_s = 42\nbreaker_failures = 2\n", encoding="utf-8")
    assert load_target(str(target)).run == {"deadline_s": 42, "breaker_failures": 2}
    target.write_text(text + "\n[run]\ndeadline_s = 0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="deadline_s"):
        load_target(str(target))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_ends_the_run_with_its_report_and_exit_1(tmp_path: Path, sig: signal.Signals) -> None:
    with running(tmp_path, "sharing", seed=3) as srv, FaultyProxy(srv.url("sharing")) as proxy:
        target = write_target(tmp_path / "t.toml", {"sharing": proxy.url}, "sharing")
        out = tmp_path / "r"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "conformance.cli", "run", "--target", str(target), "--role", "sharing"]
        proc = subprocess.Popen(
            [*cmd, "--out", str(out)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            output = _read_until(proc, "[")  # pytest's progress: the suites are running
            proc.send_signal(sig)
            rest, _ = proc.communicate(timeout=STEP_S)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = output + rest.decode("utf-8", "replace")
    assert proc.returncode == 1, text[-3000:]
    assert "运行提前结束" in text
    report = _assert_honest_stop(out, KIND_SIGNAL)
    assert report["run"]["interrupted"] is True


def _read_until(proc: subprocess.Popen[bytes], marker: str) -> str:
    """The process's output up to the first line with ``marker`` (a reader thread: never blocks the test)."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            seen.append(line)
            if marker in line and "%]" in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(STEP_S), "".join(seen)[-3000:]
    return "".join(seen)


def test_the_hard_stop_interrupts_a_check_that_makes_no_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check still running after the deadline and its grace (waiting, not requesting) is interrupted."""
    import conformance.harness.run_guard as rg

    monkeypatch.setattr(rg, "GRACE_S", 0.05)
    box: dict[str, Any] = {}

    def long_check() -> None:
        guard = box["guard"] = RunGuard(0.05)  # the runner: this thread
        try:
            guard.arm()
            for _ in range(6000):  # 10 min of short sleeps: only the guard can end it early
                time.sleep(0.1)
            box["outcome"] = "ran to the end"
        except KeyboardInterrupt:
            box["outcome"] = "interrupted"
        finally:
            guard.disarm()

    worker = threading.Thread(target=long_check, daemon=True)
    worker.start()
    worker.join(STEP_S)
    assert box.get("outcome") == "interrupted"
    assert (box["guard"].stopped() or {}).get("kind") == KIND_DEADLINE
