"""Audit time and peak memory of ``tzsb-conform audit`` on a synthetic equipment data set in Parquet.

    python benchmarks/bench_audit.py --rows 1000000 [--memory-limit 2GB] [--out /tmp/tzsb-audit-bench]

The input is made by DuckDB SQL from a pool of 1,000 valid equipment records (the project's record builder) and
1,000 units: row i takes pool record i mod 1,000 with an equipment code of its own (the pool code's first 13
characters, then i div 1,000 as the 5-character serial: every code unique and valid), and 1 row in 1,000 gets a
broken use-unit USCC check character. The audit then runs in a child process (``/usr/bin/time``-like figures from
``resource.getrusage`` of the children: wall time and peak RSS). Records nothing; the figures go to
docs/data-audit.md by hand.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent


def make_input(folder: Path, rows: int) -> None:
    sys.path.insert(0, str(ROOT))
    from conformance.datagen import DataGen

    g = DataGen(2026)
    pool = [g.equipment() for _ in range(1000)]
    units = {}
    for e in pool:
        u = g.unit()
        u["uscc"], u["name"] = e["useUnitUscc"], e["useUnitName"]
        units.setdefault(u["uscc"], u)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(pool), folder / "pool.parquet")  # strings stay strings
    (folder / "units.jsonl").write_bytes(b"".join(orjson.dumps(u) + b"\n" for u in units.values()))
    (folder / "equipment").mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE pool AS SELECT row_number() OVER () - 1 AS n, * FROM read_parquet('{folder}/pool.parquet')"
    )
    con.execute(
        f"""COPY (
          SELECT p.* EXCLUDE (n) REPLACE (
                   substr(p.equipmentCode, 1, 13) || lpad(CAST(i // 1000 AS VARCHAR), 5, '0') AS equipmentCode,
                   CASE WHEN i % 1000 = 7 THEN substr(p.useUnitUscc, 1, 17) || 'Z' ELSE p.useUnitUscc END AS useUnitUscc)
          FROM range({rows}) AS t(i) JOIN pool AS p ON p.n = i % 1000
        ) TO '{folder}/equipment' (FORMAT parquet, PER_THREAD_OUTPUT true)"""
    )
    (folder / "pool.parquet").unlink()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--out", type=Path, default=Path("/tmp/tzsb-audit-bench"))
    args = ap.parse_args()
    data = args.out / f"in-{args.rows}"
    if not (data / "equipment").is_dir():
        start = time.perf_counter()
        make_input(data, args.rows)
        print(f"input made in {time.perf_counter() - start:.1f} s: {data}")
    cmd = [sys.executable, "-m", "conformance.cli", "audit", str(data), "--out", str(args.out / "report")]
    cmd += ["--as-of", "2025-12-01", "--memory-limit", args.memory_limit, "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"rows {args.rows}: exit {done.returncode}, wall {wall:.1f} s, peak RSS {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
