"""The reference server as a process: starts, logs one line per request, stops cleanly on
SIGTERM / SIGINT, and every acknowledged write survives ``kill -9``. How fast it starts is recorded by
benchmarks/bench_startup.py, not judged here; the waits below only stop a hang."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from conformance.datagen import DataGen
from tests.refserver import token


def _start(db: Path, role: str = "supervision", *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "serve", "--role", role, "--port", "0", "--db", str(db), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    base = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ready "):
            base = line.split()[1]
            break
        if not line and proc.poll() is not None:
            raise RuntimeError(proc.stderr.read() if proc.stderr else "server died")
    assert base, "server did not report ready"
    return proc, base


def test_starts_logs_and_stops_on_sigterm_and_sigint(tmp_path: Path) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc, base = _start(tmp_path / f"s{sig}.db")
        try:
            assert requests.get(f"{base}/health", timeout=30).status_code == 200
        finally:
            proc.send_signal(sig)
            assert proc.wait(timeout=60) == 0
        err = proc.stderr.read() if proc.stderr else ""
        assert "supervision GET /health 200" in err


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "durable.db"
    proc, base = _start(db)
    auth = {"Authorization": f"Bearer {token(base)}"}
    gen = DataGen(41)
    units = [gen.unit() for _ in range(400)]
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(offset: int) -> None:
        session = requests.Session()
        for i in range(offset, len(units), 4):
            if stop.is_set():
                return
            body = {"messageId": f"kill-{i:08d}", "reportedAt": "2025-01-01T10:00:00+08:00", "unit": units[i]}
            try:
                r = session.post(f"{base}/api/v1/units", json=body, headers=auth, timeout=30)
            except requests.RequestException:
                return
            if r.status_code == 201:
                with lock:
                    acknowledged.append(units[i]["uscc"])

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 120  # only stops a hang: 60 writes take about a second
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    stop.set()
    for th in threads:
        th.join(timeout=60)
    assert len(acknowledged) >= 60
    proc2, base2 = _start(db)
    try:
        auth2 = {"Authorization": f"Bearer {token(base2)}"}
        session = requests.Session()
        missing = [
            u
            for u in acknowledged
            if session.get(f"{base2}/api/v1/units/{u}", headers=auth2, timeout=30).status_code != 200
        ]
        assert missing == []
    finally:
        proc2.terminate()
        proc2.wait(timeout=60)
