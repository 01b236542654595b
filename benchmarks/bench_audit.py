"""The national data audit at scale: generate, audit, and hold every check against the answer key.

    python benchmarks/bench_audit.py --equipment 1000000 [--format parquet|jsonl] [--memory-limit 3GB]
                                     [--work /var/tmp/tzsb-bench] [--reuse] [--result result.json]

1. ``tzsb-conform generate --equipment N --format F`` writes the four data sets (units, equipment, use registrations,
   inspection reports) with the default rate of every defect kind and ``truth.json`` (skipped with ``--reuse`` when
   the folder already holds a generation of that size);
2. ``tzsb-conform audit`` runs on them with DuckDB (``--memory-limit``; it spills to disk beyond it);
3. every check of ``audit.json`` is compared with ``truth.json``'s ``expected``: the exact number of failing
   records, the seeded kinds theirs and every other check none.

Each step runs as a child process, timed as a whole: wall time and peak resident memory (``resource.getrusage`` of
the children, the largest single process). The figures, the records per data set and every difference are printed
and written to ``--result`` (JSON). Exit 1 on any difference from the answer key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def _child(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd`` (its progress shown as it goes); its exit code, wall seconds and peak RSS in MiB (the largest
    process of its own tree, measured by a fresh wrapper process)."""
    wrapper = (
        "import resource, subprocess, sys, json, time; s = time.perf_counter(); "
        "rc = subprocess.run(sys.argv[2:]).returncode; w = time.perf_counter() - s; "
        "open(sys.argv[1], 'w').write(json.dumps({'exit': rc, 'wall': w, "
        "'peakMiB': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"
    )
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        subprocess.run([sys.executable, "-c", wrapper, str(figures), *cmd], check=False)
        return json.loads(figures.read_text())


def _tool() -> list[str]:
    return [sys.executable, "-m", "conformance.cli"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--equipment", type=int, default=1_000_000)
    ap.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/var/tmp")) / "tzsb-bench")
    ap.add_argument("--reuse", action="store_true", help="audit an existing generation of this size")
    ap.add_argument("--result", type=Path, default=None)
    args = ap.parse_args()

    data = args.work / f"{args.format}-{args.equipment}"
    out = args.work / f"audit-{args.format}-{args.equipment}"
    result: dict[str, Any] = {"equipment": args.equipment, "format": args.format, "memoryLimit": args.memory_limit}
    truth_file = data / "truth.json"
    if not (args.reuse and truth_file.is_file()):
        cmd = [*_tool(), "generate", "--equipment", str(args.equipment), "--format", args.format, "--out", str(data)]
        result["generate"] = _child(cmd)
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    as_of = truth["parameters"]["asOf"]
    cmd = [*_tool(), "audit", str(data), "--out", str(out), "--as-of", as_of, "--memory-limit", args.memory_limit]
    result["audit"] = _child(cmd)
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    got = {c["id"]: c["failing"] for c in report["checks"] if c["kind"] == "rate"}
    differences = {k: {"expected": v, "audit": got.get(k)} for k, v in truth["expected"].items() if got.get(k) != v}
    result.update(
        {
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "records": {d["name"]: d["records"] for d in report["dataSets"] if d["present"]},
            "checks": len(report["checks"]),
            "seeded": sum(1 for v in truth["expected"].values() if v),
            "differences": differences,
            "verdict": report["verdict"],
        }
    )
    total = sum(result["records"].values())
    print(json.dumps(result, ensure_ascii=False, indent=2))
    a = result["audit"]
    print(
        f"{args.equipment:,} equipment ({total:,} records, {args.format}): audit {a['wall']:.1f} s, "
        f"peak {a['peakMiB']:.0f} MiB, {total / a['wall']:,.0f} records/s; "
        f"{len(differences)} differences from the answer key"
    )
    if args.result:
        args.result.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
