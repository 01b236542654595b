"""One generation: units, then equipment with its use registrations and inspection reports, chunk by chunk, each
chunk seeded with defects and written as a Parquet part; then, if asked, JSON Lines from the Parquet; then the
answer key. Memory is bounded by the chunk size (never a whole data set)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from conformance.datagen.national import defects, frames, jsonl, tables
from conformance.datagen.national.truth import Truth

#: zstd: about a third smaller than snappy on these columns (long repeated Chinese names and addresses) at a write
#: cost that stays below the cost of building the records; every reader the audit uses (DuckDB, pyarrow, Spark) reads it.
COMPRESSION = "zstd"
PART = "part-{:05d}.parquet"
FORMATS = ("parquet", "jsonl", "both")

Report = Callable[[str, int], None]


def _write(out: Path, data_set: str, part: int, columns: frames.Columns) -> int:
    table = pa.table(columns)
    pq.write_table(table, out / data_set / PART.format(part), compression=COMPRESSION)
    return table.num_rows


def _prepare(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for ds in tables.DATA_SETS:
        shutil.rmtree(out / ds, ignore_errors=True)
        (out / ds).mkdir()
        (out / f"{ds}.jsonl").unlink(missing_ok=True)
    (out / "truth-keys.parquet").unlink(missing_ok=True)


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
    for part, start in enumerate(range(0, layout.total, plan.chunk_rows)):
        j = np.arange(start, min(layout.total, start + plan.chunk_rows), dtype=np.int64)
        ch = defects.Chunk(plan, "units", frames.units(plan, j), j, flags={"non_use": j >= use_units})
        truth.add(defects.seed(ch, rates, state))
        truth.count("units", _write(out, "units", part, ch.columns))
        say("units", truth.records["units"])
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
            truth.count(ch.data_set, _write(out, ch.data_set, part, ch.columns))
            say(ch.data_set, truth.records[ch.data_set])
    if fmt in ("jsonl", "both"):
        for ds in tables.DATA_SETS:
            parts = sorted((out / ds).glob("part-*.parquet"))
            jsonl.convert(parts, out / f"{ds}.jsonl", lambda n, ds=ds: say(f"{ds}.jsonl", n))
            if fmt == "jsonl":
                shutil.rmtree(out / ds)
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
