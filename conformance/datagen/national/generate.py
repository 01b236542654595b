"""One generation: units, then equipment with its use registrations and inspection reports, chunk by chunk, each
chunk seeded with defects and written as a Parquet part; then, if asked, JSON Lines from the Parquet; then the
answer key. Memory is bounded by the chunk size (never a whole data set)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from conformance.datagen.national import defects, frames, jsonl, tables
from conformance.datagen.national.truth import Truth

#: zstd: about a third smaller than snappy on these columns (long repeated Chinese names and addresses) at a write
#: cost that stays below the cost of building the records; every reader the audit uses (DuckDB, pyarrow, Spark) reads it.
COMPRESSION = "zstd"
PART = "part-{:05d}.parquet"
FORMATS = ("parquet", "jsonl", "both")
JSONL_THREADS = 2

Report = Callable[[str, int], None]

#: rows per Parquet row group: DuckDB's own size, so that a reader scans one file on all its cores (a reader
#: parallelises by row group; pyarrow's default of about a million rows made each part one task)
ROW_GROUP = 122_880


class _Writer:
    """Parquet parts written on one background thread (Arrow's writer releases the GIL), so that writing a chunk
    overlaps generating the next; at most one chunk waits, which keeps memory to about two chunks."""

    def __init__(self, out: Path, truth: Truth, say: Report) -> None:
        self.out, self.truth, self.say = out, truth, say
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: Future[None] | None = None

    def _write(self, chunks: list[defects.Chunk], part: int) -> None:
        for ch in chunks:
            table = ch.table()
            path = self.out / ch.data_set / PART.format(part)
            pq.write_table(table, path, compression=COMPRESSION, row_group_size=ROW_GROUP)
            self.truth.count(ch.data_set, table.num_rows)
            self.say(ch.data_set, self.truth.records[ch.data_set])

    def submit(self, chunks: list[defects.Chunk], part: int) -> None:
        self.wait()
        self.pending = self.pool.submit(self._write, chunks, part)

    def wait(self) -> None:
        if self.pending is not None:
            self.pending.result()
            self.pending = None

    def close(self) -> None:
        self.wait()
        self.pool.shutdown()


def _prepare(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for ds in tables.DATA_SETS:
        shutil.rmtree(out / ds, ignore_errors=True)
        (out / ds).mkdir()
        (out / f"{ds}.jsonl").unlink(missing_ok=True)
    (out / "truth-keys.parquet").unlink(missing_ok=True)


def _to_jsonl(out: Path, drop_parquet: bool, say: Report) -> None:
    """JSON Lines of every data set, two data sets at a time (Arrow's kernels release the GIL: 2 cores)."""

    def one(ds: str) -> None:
        parts = sorted((out / ds).glob("part-*.parquet"))
        jsonl.convert(parts, out / f"{ds}.jsonl", lambda n: say(f"{ds}.jsonl", n))
        if drop_parquet:
            shutil.rmtree(out / ds)

    with ThreadPoolExecutor(max_workers=JSONL_THREADS) as pool:
        list(pool.map(one, tables.DATA_SETS))


def generate(plan: frames.Plan, out: Path, fmt: str = "parquet", report: Report | None = None) -> dict[str, Any]:
    """Generate into ``out``; returns the answer key (also written as ``out/truth.json``)."""
    problems = defects.check_rates(plan.rates)
    if problems:
        raise ValueError("; ".join(problems))
    _prepare(out)
    truth = Truth()
    state = defects.State()
    rates = plan.rates
    say = report or (lambda ds, n: None)
    layout = plan.units
    use_units = layout.blocks["use"][1]
    writer = _Writer(out, truth, say)
    for part, start in enumerate(range(0, layout.total, plan.chunk_rows)):
        j = np.arange(start, min(layout.total, start + plan.chunk_rows), dtype=np.int64)
        ch = defects.Chunk(plan, "units", frames.units(plan, j), j, flags={"non_use": j >= use_units})
        truth.add(defects.seed(ch, rates, state))
        writer.submit([ch], part)
    serials = frames.RegistrationSerials()
    statuses = np.array(tables.enum("equipment", "status"))
    for part, start in enumerate(range(0, plan.equipment, plan.chunk_rows)):
        i = np.arange(start, min(plan.equipment, start + plan.chunk_rows), dtype=np.int64)
        eq = frames.equipment(plan, i, serials)
        reg_columns, reg_ids = frames.use_registrations(plan, eq)
        rep_columns, rep_ids, last_no = frames.inspection_reports(plan, eq)
        eq.columns["lastReportNo"] = last_no
        chunks = (
            defects.Chunk(
                plan,
                "equipment",
                frames.order(eq.columns, "equipment"),
                i,
                flags={"registered": eq.registered, "in_use": statuses[eq.status] == "in-use"},
                extra={"last": eq.last, "registration": eq.registration},
            ),
            defects.Chunk(
                plan,
                "use-registrations",
                reg_columns,
                reg_ids,
                extra={"equipment_index": reg_ids, "variety": eq.variety[eq.registered]},
            ),
            defects.Chunk(
                plan,
                "inspection-reports",
                rep_columns,
                rep_ids,
                extra={"equipment_index": rep_ids // frames.REPORT_SLOTS},
            ),
        )
        for ch in chunks:
            truth.add(defects.seed(ch, rates, state))
        writer.submit(list(chunks), part)
    writer.close()
    if fmt in ("jsonl", "both"):
        _to_jsonl(out, fmt == "jsonl", say)
    parameters = {
        "equipment": plan.equipment,
        "units": layout.total,
        "unitsPerEquipment": plan.units_per_equipment,
        "seed": plan.seed,
        "asOf": plan.as_of.isoformat(),
        "chunkRows": plan.chunk_rows,
        "format": fmt,
        "compression": COMPRESSION,
        "unitBlocks": {k: {"first": a, "count": b} for k, (a, b) in layout.blocks.items()},
        "dataSets": {
            ds: {"key": spec.key, "schema": spec.schema, "references": spec.references}
            for ds, spec in tables.data_set_specs().items()
        },
    }
    return truth.write(out, parameters, {k: r for k, r in rates.items() if r > 0})
