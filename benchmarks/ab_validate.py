"""A/B of the valid-or-not pass: a git revision against the working tree, on one core.

    python benchmarks/ab_validate.py REV [--rounds 4]

This VM's speed drifts by ±10 % within minutes, so two figures taken apart say little: the two
versions run alternately, each in a fresh process (best of 3 passes over the benchmark dump), and the
median of the per-round ratios is printed. REV is checked out into a temporary git worktree.
Records nothing; for deciding whether a change to ``conformance/check/bulk.py`` and friends pays.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DUMP = ROOT / "benchmarks" / "data" / "equipment-100000.jsonl"
PASS = r"""
import os, sys, time
os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
sys.path.insert(0, sys.argv[1])
from conformance.check.bulk import BulkValidator

def one():
    bulk, n, ok = BulkValidator("equipment"), 0, 0
    start = time.perf_counter()
    with open(sys.argv[2], "rb") as fh:
        while lines := fh.readlines(1 << 22):
            n += len(lines)
            bulk.add_lines(lines)
            ok += sum(bulk.finish())
    return n / (time.perf_counter() - start), ok

one()
runs = [one() for _ in range(3)]
print(max(r[0] for r in runs), runs[0][1])
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev")
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    if not DUMP.exists():
        sys.exit(f"{DUMP} missing: run benchmarks/bench_validate.py once")
    with tempfile.TemporaryDirectory(prefix="ab-") as tmp:
        tree = Path(tmp) / "rev"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), args.rev], cwd=ROOT, check=True, capture_output=True
        )
        try:
            rates: dict[str, list[float]] = {"rev": [], "tree": []}
            valid: set[str] = set()
            for _ in range(args.rounds):
                for name, src in (("rev", tree), ("tree", ROOT)):
                    out = subprocess.run(
                        [sys.executable, "-c", PASS, str(src), str(DUMP)],
                        capture_output=True,
                        text=True,
                        check=True,
                        cwd=tmp,
                    ).stdout.split()
                    rates[name].append(float(out[0]))
                    valid.add(out[1])
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    ratio = statistics.median(b / a for a, b in zip(rates["rev"], rates["tree"], strict=True))
    print(f"{args.rev}: {[round(r) for r in rates['rev']]}")
    print(f"working tree: {[round(r) for r in rates['tree']]}")
    print(f"working tree / {args.rev}: {ratio:.3f} (median of {args.rounds} rounds); valid records: {sorted(valid)}")


if __name__ == "__main__":
    main()
