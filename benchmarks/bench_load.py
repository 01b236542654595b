"""Benchmark: requests per second of ``tzsb-conform load`` (Locust FastHttpUser through the harness's
guarded client, recorder and timeline) against ``wrk`` on the same reference endpoint in the same run.
Records a figure; asserts nothing (this is not a timed test).

    python benchmarks/bench_load.py [--seconds 10] [--connections 32] [--rounds 4] [--wrk-threads 2]

The endpoint: the reference server's sharing role (its own process, demo data of seed 1), by-key read
of equipment records (``GET /api/v1/equipment/{equipmentCode}``, a bearer token), the keys of the first
page rotated by both tools. Same concurrency: wrk's connections = the load's users (closed loop, no
think time). Rounds alternate which tool goes first (this virtual machine's speed drifts, and a server
may run faster once warm); the median ratio is reported. Both tools share the machine's CPUs with the server — as a supervisor's
generator would on a small machine — so the ratio says how much of the server's capacity the
harness can reach compared with a C load generator.

Writes benchmarks/results/load.json. Needs ``wrk`` (Debian: apt-get install wrk); without it the
benchmark is skipped with a message (exit code 0).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

LUA_GET = """
keys = {%(keys)s}
function init(args) i = math.random(#keys) end
request = function()
  i = i + 1
  return wrk.format("GET", "%(prefix)s" .. keys[(i %% #keys) + 1], {%(headers)s})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def run_wrk(url: str, lua: str, seconds: int, connections: int, threads: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", fh.name, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(fh.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": round(rps, 1),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "p99_ms": round(float(p99.group(1)) * scale[p99.group(2)], 2) if p99 else -1.0,
    }


def run_load(target: Path, profile: Path, out: Path, seconds: int) -> dict[str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.load",
            "--lang",
            "en",
            "--target",
            str(target),
            "--profile",
            str(profile),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        timeout=seconds + 180,
    )
    doc = json.loads((out / "load.json").read_text(encoding="utf-8"))
    g = doc["groups"]["sharing.get"]
    procs = doc["generator"]["procs"]
    return {
        "rps": g["rps"],
        "errors": g["errorCount"],
        "p99_ms": g["p99"] or -1.0,
        "exit": proc.returncode,
        "generator_cpu_pct": procs[0]["cpuPct"] if procs else None,
        "machine_cpu_pct": procs[0]["machineCpuPct"] if procs else None,
        "saturated": doc["generator"]["saturated"],
        "wall_s": round(time.monotonic() - started, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--wrk-threads", type=int, default=2)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("跳过：未找到 wrk（Debian：apt-get install wrk）/ skipped: wrk not found (apt-get install wrk)")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="tzsb-bench-load-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "conformance.cli",
                "serve",
                "--role",
                "sharing",
                "--port",
                str(port),
                "--db",
                str(tmp / "ref.db"),
                "--seed",
                "1",
            ],
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/health")
        tok = requests.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "harness", "client_secret": "harness-secret"},
            timeout=10,
        ).json()["access_token"]
        keys = [
            r["equipmentCode"]
            for r in requests.get(
                f"{base}/api/v1/equipment", params={"size": 100}, headers={"Authorization": f"Bearer {tok}"}, timeout=30
            ).json()["data"]["items"]
        ]
        lua = LUA_GET % {
            "keys": ", ".join(f'"{k}"' for k in keys),
            "prefix": "/api/v1/equipment/",
            "headers": f'["Authorization"] = "Bearer {tok}", ["Accept"] = "application/json"',
        }
        target = tmp / "target.toml"
        target.write_text(
            "\n".join(
                [
                    'name = "参考服务器（基准）"',
                    'role = "sharing"',
                    "",
                    "[urls]",
                    f'sharing = "{base}"',
                    "",
                    "[credentials]",
                    'client_id = "harness"',
                    'client_secret = "harness-secret"',
                    "",
                    "[load]",
                    f"concurrency = {args.connections}",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        profile = tmp / "bench.toml"
        profile.write_text(
            "\n".join(
                [
                    'extends = "smoke"',
                    'title = "基准：按主键获取"',
                    "",
                    "[run]",
                    f"users = {args.connections}",
                    f"spawn_rate = {args.connections}",
                    "warmup_s = 3",
                    f"duration_s = {args.seconds}",
                    "think_time_s = 0",
                    "request_timeout_s = 10",
                    "",
                    "[mix.sharing]",
                    "SharingReader = 1",
                    "SharingSyncer = 0",
                    "SharingPusher = 0",
                    "",
                    "[options.sharing]",
                    'data_sets = ["equipment"]',
                    "query_share = 0",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        rounds = []
        for i in range(args.rounds):  # ABBA: the order alternates, so that neither tool always meets a warmer server
            if i % 2 == 0:
                w = run_wrk(base, lua, args.seconds, args.connections, args.wrk_threads)
                load = run_load(target, profile, tmp / f"load-{i}", args.seconds)
            else:
                load = run_load(target, profile, tmp / f"load-{i}", args.seconds)
                w = run_wrk(base, lua, args.seconds, args.connections, args.wrk_threads)
            rounds.append(
                {
                    "first": "wrk" if i % 2 == 0 else "load",
                    "wrk": w,
                    "load": load,
                    "ratio": round(load["rps"] / w["rps"], 3) if w["rps"] else None,
                }
            )
            print(json.dumps(rounds[-1]), flush=True)
        ratios = sorted(r["ratio"] for r in rounds if r["ratio"] is not None)
        summary = {
            "date": time.strftime("%Y-%m-%d"),
            "cpu_count": os.cpu_count(),
            "seconds": args.seconds,
            "connections": args.connections,
            "wrk_threads": args.wrk_threads,
            "endpoint": "GET /api/v1/equipment/{equipmentCode} (reference server, sharing role, seed 1)",
            "rounds": rounds,
            "ratio": round(statistics.median(ratios), 3) if ratios else None,
            "ratios": ratios,
            "note": "load rps = successful requests per second of the measured window (warm-up excluded); wrk rps = its Requests/sec. "
            "The server, wrk and the load generator share this 2-core VM, whose speed drifts by about ±30 % between runs.",
        }
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "load.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(json.dumps({k: summary[k] for k in ("ratio", "ratios")}))
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
