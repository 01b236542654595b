"""Benchmark: the reference server's by-key read and push against a bare FastAPI + SQLite app
doing the same, in the same run, with wrk on loopback. Records a figure; asserts nothing.

    python benchmarks/bench_reference.py [--seconds 8] [--connections 32]

Writes benchmarks/results/reference.json. Needs ``wrk`` (Debian: apt-get install wrk) and
FastAPI (pip install fastapi) for the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

LUA_GET = """
keys = {%(keys)s}
local counter = 0
function setup(thread) thread:set("id", counter); counter = counter + 1 end
function init(args) i = 0 end
request = function()
  i = i + 1
  return wrk.format("GET", "%(prefix)s" .. keys[(i %% #keys) + 1], {%(headers)s})
end
"""

LUA_POST = """
local counter = 0
function setup(thread) thread:set("id", counter); counter = counter + 1 end
function init(args) i = 0 end
template = [==[%(template)s]==]
request = function()
  i = i + 1
  local body = string.gsub(template, "@ID@", id .. "-" .. i)
  return wrk.format("POST", "%(path)s", {%(headers)s}, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, lua: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", fh.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(fh.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": round(rps),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "p99_ms": round(float(p99.group(1)) * scale[p99.group(2)], 2) if p99 else -1.0,
    }


def lua_headers(headers: dict[str, str]) -> str:
    return ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="tzsb-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        bport, rport = free_port(), free_port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(HERE / "baseline_app.py"),
                    "--port",
                    str(bport),
                    "--db",
                    str(tmp / "baseline.db"),
                    "--rows",
                    "3000",
                ]
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "conformance.cli",
                    "serve",
                    "--role",
                    "sharing",
                    "--port",
                    str(rport),
                    "--db",
                    str(tmp / "ref.db"),
                    "--seed",
                    "1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        base_b, base_r = f"http://127.0.0.1:{bport}", f"http://127.0.0.1:{rport}"
        wait_ready(f"{base_r}/health")
        tok = requests.post(
            f"{base_r}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "harness", "client_secret": "harness-secret"},
            timeout=10,
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {tok}"}
        page = requests.get(f"{base_r}/api/v1/equipment", params={"size": 500}, headers=auth, timeout=30).json()["data"]
        records = page["items"]
        keys = [r["equipmentCode"] for r in records]
        wait_ready(f"{base_b}/items/{keys[0]}")
        key_list = ", ".join(f'"{k}"' for k in keys)
        record = records[0]
        push = {
            "messageId": "bench-@ID@",
            "sentAt": "2025-06-30T09:00:00+08:00",
            "records": [{"operation": "UPDATE", "key": record["equipmentCode"], "record": record}],
        }
        ctype = {"Content-Type": "application/json"}
        runs = {
            "baseline_read": (base_b, LUA_GET % {"keys": key_list, "prefix": "/items/", "headers": ""}),
            "reference_read": (
                base_r,
                LUA_GET % {"keys": key_list, "prefix": "/api/v1/equipment/", "headers": lua_headers(auth)},
            ),
            "baseline_push": (
                base_b,
                LUA_POST
                % {
                    "template": json.dumps({"key": "k@ID@", **record}, ensure_ascii=False),
                    "path": "/items",
                    "headers": lua_headers(ctype),
                },
            ),
            "reference_push": (
                base_r,
                LUA_POST
                % {
                    "template": json.dumps(push, ensure_ascii=False),
                    "path": "/api/v1/equipment/push",
                    "headers": lua_headers({**auth, **ctype}),
                },
            ),
        }
        # Interleaved rounds (baseline, reference, baseline, ...): this VM's speed drifts, so each ratio is
        # taken within a round and the median round is reported.
        rounds: list[dict[str, dict[str, float]]] = []
        for _ in range(args.rounds):
            rounds.append({name: wrk(url, lua, args.seconds, args.connections) for name, (url, lua) in runs.items()})
        read = sorted(r["reference_read"]["rps"] / r["baseline_read"]["rps"] for r in rounds)
        push_ = sorted(r["reference_push"]["rps"] / r["baseline_push"]["rps"] for r in rounds)
        summary = {
            "date": time.strftime("%Y-%m-%d"),
            "cpu_count": os.cpu_count(),
            "seconds": args.seconds,
            "connections": args.connections,
            "rounds": rounds,
            "read_ratio": round(read[len(read) // 2], 2),
            "read_ratios": [round(x, 2) for x in read],
            "push_ratio": round(push_[len(push_) // 2], 2),
            "push_ratios": [round(x, 2) for x in push_],
        }
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "reference.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(summary, indent=2))
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
