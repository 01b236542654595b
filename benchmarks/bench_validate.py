"""Benchmark: ``tzsb-conform validate`` throughput on a JSON Lines dump of equipment records.

Records a figure (benchmarks/results/validate.json); asserts nothing. Usage:

    python benchmarks/bench_validate.py [--records 100000] [--invalid-rate 0.01]

Measures, on one core (one process):
  * the valid-or-not pass (orjson + jsonschema-rs with the project's named formats),
  * the whole ``validate`` command path (every line's verdict written, failures explained),
  * the explaining engine (jsonschema, every violation explained) on the first failing records,
  * peak memory of the command on the dump and on a dump three times as long (flat = streamed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"


def make_dump(path: Path, count: int, invalid_rate: float, seed: int = 7) -> None:
    from conformance.datagen import DataGen

    if path.exists() and path.stat().st_size > 0:
        return
    gen = DataGen(seed)
    rng = gen.rng
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for i, rec in enumerate(gen.equipment_stream(count)):
            if rng.random() < invalid_rate:
                # realistic defects: a wrong USCC check character, a missing field, a date without offset
                k = i % 3
                if k == 0:
                    u = rec["useUnitUscc"]
                    rec["useUnitUscc"] = u[:17] + ("0" if u[17] != "0" else "1")
                elif k == 1:
                    del rec["equipmentCode"]
                else:
                    rec["updatedAt"] = rec["updatedAt"][:19]
            fh.write(orjson.dumps(rec) + b"\n")


def fast_pass(path: Path) -> tuple[int, int, float]:
    """The valid-or-not pass: parse, structure per record, identifiers per distinct value, in 4 MiB batches."""
    from conformance.check.bulk import BulkValidator

    bulk = BulkValidator("equipment")
    n = ok = 0
    start = time.perf_counter()
    with path.open("rb") as fh:
        while lines := fh.readlines(1 << 22):
            n += len(lines)
            bulk.add_lines(lines)
            ok += sum(bulk.finish())
    return n, ok, time.perf_counter() - start


def parse_only(path: Path) -> float:
    """Calibration: records/s of reading and parsing alone (this VM's speed drifts between runs)."""
    n = 0
    start = time.perf_counter()
    with path.open("rb") as fh:
        for raw in fh:
            orjson.loads(raw)
            n += 1
    return n / (time.perf_counter() - start)


def command_path(path: Path) -> tuple[int, int, float]:
    from conformance.check.files import JsonlSummary, iter_jsonl

    summary = JsonlSummary()
    for _ in iter_jsonl(path, "equipment", summary):
        pass
    return summary.total, summary.ok, summary.seconds


def explaining_engine(path: Path, sample: int = 300) -> float:
    """Failing records explained per second (``SchemaValidator.errors``: every violation, in
    Chinese and English), over the first failing records of the dump."""
    from conformance.check.schema import validator

    v = validator("equipment")
    failing = []
    with path.open("rb") as fh:
        for raw in fh:
            rec = orjson.loads(raw)
            if not v.is_valid(rec):
                failing.append(rec)
                if len(failing) >= sample:
                    break
    v.errors(failing[0])
    start = time.perf_counter()
    for r in failing:
        v.errors(r)
    return len(failing) / (time.perf_counter() - start)


def peak_rss_mib(path: Path) -> float:
    code = (
        "import resource, sys; from conformance.cli import main; "
        "sys.stdout = open('/dev/null', 'w'); main(['validate', sys.argv[1], '--schema', 'equipment']); "
        "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False)
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--invalid-rate", type=float, default=0.01)
    ap.add_argument("--repeat", type=int, default=9, help="runs of the valid-or-not pass (median reported)")
    args = ap.parse_args()
    os.sched_setaffinity(
        0, {max(os.sched_getaffinity(0))}
    )  # one core, as the requirement says (the last: core 0 takes the interrupts)
    dump = DATA / f"equipment-{args.records}.jsonl"
    big = DATA / f"equipment-{args.records * 3}.jsonl"
    t0 = time.perf_counter()
    make_dump(dump, args.records, args.invalid_rate)
    make_dump(big, args.records * 3, args.invalid_rate, seed=8)
    gen_s = time.perf_counter() - t0
    fast_pass(dump)  # warm caches (schemas compiled, code lists loaded)
    runs, calib = [], []
    for _ in range(args.repeat):
        calib.append(parse_only(dump))
        runs.append(fast_pass(dump))
    n, ok, _ = runs[0]
    rates = sorted(r[0] / r[2] for r in runs)
    secs = n / rates[len(rates) // 2]  # the median run
    cn, _, csecs = command_path(dump)
    slow = explaining_engine(dump)
    rss_small, rss_big = peak_rss_mib(dump), peak_rss_mib(big)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cores_used": 1,
        "records": n,
        "bytes": dump.stat().st_size,
        "fields_per_record": len(orjson.loads(dump.open("rb").readline())),
        "valid": ok,
        "invalid": n - ok,
        "fast_pass_records_per_s": round(n / secs),
        "fast_pass_best_records_per_s": round(rates[-1]),
        "fast_pass_runs_records_per_s": [round(r) for r in rates],
        "parse_only_records_per_s": round(sorted(calib)[len(calib) // 2]),
        "command_path_records_per_s": round(cn / csecs),
        "explained_failing_records_per_s": round(slow),
        "peak_rss_mib": {f"{n} records": round(rss_small, 1), f"{n * 3} records": round(rss_big, 1)},
        "dump_generation_s": round(gen_s, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validate.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(
        f"national data set (21.29 M records) at the command-path rate: {21_290_000 / result['command_path_records_per_s'] / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
