"""Benchmark: start-up time of the reference server (every role, demo data), first start (creates and
seeds the database) and restart. Records benchmarks/results/startup.json; asserts nothing.

    python benchmarks/bench_startup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def start_once(db: Path, role: str) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "serve",
            "--role",
            role,
            "--port",
            "0",
            "--db",
            str(db),
            "--seed",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ready "):
            break
    elapsed = time.perf_counter() - started
    proc.terminate()
    proc.wait(timeout=10)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    out: dict[str, object] = {"date": time.strftime("%Y-%m-%d")}
    for role in ("all", "licensing", "gov-platform", "inspection", "supervision", "sharing"):
        first, again = [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as d:
                db = Path(d) / "ref.db"
                first.append(start_once(db, role))
                again.append(start_once(db, role))
        out[role] = {
            "first_start_s": round(statistics.median(first), 2),
            "restart_s": round(statistics.median(again), 2),
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
