"""Run Locust headless as separate processes (its gevent monkey-patching never touches the harness):
one local process, or one master and N local workers (Locust's own master / worker mode, the same
mode that spreads workers over several machines), every one in its own process group so the whole
run can be stopped at once.

Every run is bounded in time: Locust's own ``--run-time`` (a fallback; the recorder's timeline quits
the run when the measured window and the stop are over), the users' stop timeout, and a hard limit
here after which every process of the run is killed and the run is reported as aborted.

The configuration written for the locustfiles (``config.json``, also kept as evidence) never holds
the client secret: the Locust processes read it from ``TZSB_LOAD_SECRET`` in their environment.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROGRESS_PREFIX = "TZSB-PROGRESS "  # the same marker as conformance.load.runtime (which imports Locust)
SECRET_ENV = "TZSB_LOAD_SECRET"
WORKER_WAIT_S = 60.0  # how long the master waits for its workers to connect
REPORT_INTERVAL_S = 3.0  # Locust's worker report interval (locust.runners.WORKER_REPORT_INTERVAL)


@dataclass
class EngineResult:
    raw: dict[str, Any] | None
    seconds: float
    aborted: str | None = None
    returncodes: dict[str, int | None] = field(default_factory=dict)
    progress: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def stop_timeout(request_timeout_s: float) -> float:
    """Users get this long to finish their current request and clean up (on_stop) when the window ends."""
    return round(2 * request_timeout_s + 1, 1)


def hard_limit(config: dict[str, Any], workers: int, expect_remote: int) -> float:
    wait = WORKER_WAIT_S if workers or expect_remote else 0.0
    return (
        20.0
        + wait
        + float(config["warmupS"])
        + float(config["durationS"])
        + float(config["stopTimeoutS"])
        + (REPORT_INTERVAL_S + 2 if workers or expect_remote else 0)
        + 15.0
    )


def python_path(current: str | None) -> str:
    """``PYTHONPATH`` for the Locust processes, which run in the evidence folder: every entry made absolute
    (a relative one, or an empty one meaning the working directory, would point into that folder), and the
    checkout that holds this harness first when it is not installed (``python -m conformance.load`` from a
    source tree), so that the locustfiles import the same ``conformance``."""
    entries = [str(Path(e or ".").resolve()) for e in (current or "").split(os.pathsep)] if current else []
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "conformance").is_dir() and str(root) not in entries:
        entries.insert(0, str(root))
    return os.pathsep.join(dict.fromkeys(entries))


def _kill(proc: subprocess.Popen[Any] | None, sig: int = signal.SIGKILL) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def run(
    *,
    locustfile: Path,
    config: dict[str, Any],
    out: Path,
    secret: str | None,
    workers: int = 0,
    expect_remote: int = 0,
    master_bind: str = "127.0.0.1",
    master_port: int | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    limit_s: float | None = None,
) -> EngineResult:
    """Run one load test; the recorder's results are in ``out / "raw.json"``.

    Every path handed to the Locust processes is absolute: they run in ``out`` (their working
    directory), so a path relative to the caller's working directory would point elsewhere."""
    out = Path(out).resolve()
    locustfile = Path(locustfile).resolve()
    out.mkdir(parents=True, exist_ok=True)
    raw_path = out / "raw.json"
    raw_path.unlink(missing_ok=True)
    config = {**config, "results": str(raw_path), "secretEnv": SECRET_ENV}
    cfg_path = out / "config.json"
    cfg_path.write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    if secret is not None:
        env[SECRET_ENV] = secret
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    if path := python_path(os.environ.get("PYTHONPATH")):
        env["PYTHONPATH"] = path
    distributed = workers > 0 or expect_remote > 0
    run_time = math.ceil(
        float(config["warmupS"]) + float(config["durationS"]) + float(config["stopTimeoutS"]) + REPORT_INTERVAL_S + 10
    )
    locust = [sys.executable, "-m", "locust", "-f", str(locustfile), "--loglevel", "WARNING"]
    cmd = [
        *locust,
        "--headless",
        "-u",
        str(config["users"]),
        "-r",
        f"{float(config['spawnRate']):g}",
        "-t",
        f"{run_time}s",
        "--stop-timeout",
        f"{float(config['stopTimeoutS']):g}",
        "--host",
        config["baseUrl"],
        "--csv",
        str(out / "locust"),
        "--csv-full-history",
        "--html",
        str(out / "locust-report.html"),
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--tzsb-config",
        str(cfg_path),
    ]
    port = master_port
    master_host = "127.0.0.1" if master_bind in ("*", "0.0.0.0") else master_bind
    if distributed:
        port = port or free_port(master_host)
        cmd += [
            "--master",
            "--master-bind-host",
            master_bind,
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(workers + expect_remote),
            "--expect-workers-max-wait",
            str(int(WORKER_WAIT_S)),
        ]
    limit = limit_s or hard_limit(config, workers, expect_remote)
    started = time.monotonic()
    result = EngineResult(raw=None, seconds=0.0)
    logs: list[Any] = []
    procs: dict[str, subprocess.Popen[Any]] = {}
    try:
        master_err = open(out / "locust-master.log", "w", encoding="utf-8")  # noqa: SIM115 (closed below)
        logs.append(master_err)
        procs["master" if distributed else "local"] = master = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=master_err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=str(out),
            start_new_session=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        for i in range(workers):
            log = open(out / f"locust-worker-{i + 1}.log", "w", encoding="utf-8")  # noqa: SIM115
            logs.append(log)
            procs[f"worker-{i + 1}"] = subprocess.Popen(
                [*locust, "--worker", "--master-host", master_host, "--master-port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=str(out),
                start_new_session=True,
            )
        summary = open(out / "locust-summary.txt", "w", encoding="utf-8")  # noqa: SIM115
        logs.append(summary)

        def pump() -> None:
            assert master.stdout is not None
            for line in master.stdout:
                if line.startswith(PROGRESS_PREFIX):
                    with contextlib.suppress(json.JSONDecodeError):
                        item = json.loads(line[len(PROGRESS_PREFIX) :])
                        result.progress.append(item)
                        if on_progress is not None:
                            on_progress(item)
                else:
                    summary.write(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            master.wait(timeout=max(1.0, limit - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            result.aborted = (
                f"运行超过时间上限 {limit:.0f} 秒，已终止全部负载进程 / "
                f"the run exceeded its time limit of {limit:.0f} s and was killed"
            )
            for p in procs.values():
                _kill(p, signal.SIGTERM)
            time.sleep(1.0)
        deadline = time.monotonic() + 8  # the master's quit message ends its workers within a few seconds
        for name, p in procs.items():
            if name.startswith("worker"):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
        reader.join(timeout=5)
    finally:
        for p in procs.values():
            _kill(p)
        for p in procs.values():
            with contextlib.suppress(Exception):
                p.wait(timeout=5)
        for f in logs:
            f.close()
    result.returncodes = {n: p.returncode for n, p in procs.items()}
    result.seconds = time.monotonic() - started
    if raw_path.is_file():
        try:
            result.raw = json.loads(raw_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            result.raw = None
    if result.raw is None and result.aborted is None:
        tail = (out / "locust-master.log").read_text(encoding="utf-8", errors="replace")[-1500:]
        result.aborted = f"Locust 未写出结果（退出码 {result.returncodes}）/ Locust wrote no results: {tail}"
    return result
