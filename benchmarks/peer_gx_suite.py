"""The GX side of benchmarks/peer_gx.py: run a plan of Great Expectations 1.x built-in expectations over Parquet parts.

    /path/to/venv-gx/bin/python benchmarks/peer_gx_suite.py --plan plan.json --out gx.json

Runs in an interpreter with ``great-expectations>=1.24`` and pyarrow (the project's optional extra ``peer``); it
imports nothing of the project. Per data set: the Parquet parts are read with pyarrow (only the columns the plan
needs) into a pandas DataFrame, then one expectation suite per data set is validated on GX's pandas execution
engine, with ``result_format`` COMPLETE (a check of several expectations fails a record when any of them does: the
union of their unexpected row indexes). Two things the plan asks of the data before GX sees it:

* ``<field>@date``: the field's calendar date (the text, or the first 10 characters of a date-time, parsed by pandas
  with ``dateFormat``; no such day → null) — GX expectations compare columns, they do not cast; the audit's
  ``TRY_CAST`` is the same step.
* ``{"keysOf": [data set, key]}`` as a value set: the distinct keys of the referenced data set, read from its parts.

Writes per check the failing count, per expectation GX's ``unexpected_count``, and the time of each phase.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
import warnings
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from great_expectations.data_context.types.base import ProgressBarsConfig


def read(parts: list[str], columns: list[str]) -> pa.Table:
    return pa.concat_tables(pq.read_table(p, columns=columns) for p in parts)


def calendar_date(column: pd.Series, head: bool, fmt: str) -> pd.Series:
    """The date a text states (``head``: its first 10 characters, a date-time), null where it states none."""
    return pd.to_datetime(column.str.slice(0, 10) if head else column, format=fmt, errors="coerce")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--plan", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    plan = json.loads(args.plan.read_text())
    # pandas warns that GX's str.contains patterns have groups (it matches, it does not extract): noise
    warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
    phases: dict[str, float] = {}
    start = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("tzsb")
    phases["context"] = time.perf_counter() - start

    by_set: dict[str, list[dict[str, Any]]] = {}
    for entry in plan["checks"]:
        by_set.setdefault(entry["dataSet"], []).append(entry)

    failing: dict[str, int] = {}
    per: dict[str, list[dict[str, Any]]] = {}
    key_sets: dict[tuple[str, str], list[str]] = {}
    for name, entries in by_set.items():
        t0 = time.perf_counter()
        fields = sorted({e["field"] for e in entries if e["field"] != "-"})
        frame = read(plan["parts"][name], fields).to_pandas()
        for entry in entries:
            for field, head in entry.get("dateColumns", ()):
                frame[f"{field}@date"] = calendar_date(frame[field], head, plan["dateFormat"])
        phases[f"read {name}"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        suite = gx.ExpectationSuite(name=name)
        for entry in entries:
            for spec in entry["expectations"]:
                kwargs = dict(spec["kwargs"])
                ref = kwargs.get("value_set")
                if isinstance(ref, dict):
                    target, key = ref["keysOf"]
                    if (target, key) not in key_sets:
                        keys = read(plan["parts"][target], [key])[key]
                        key_sets[(target, key)] = pc.unique(pc.drop_null(keys)).to_pylist()
                    kwargs["value_set"] = key_sets[(target, key)]
                if kwargs["column"].endswith("@date"):  # bounds of a date column are dates
                    for bound in ("min_value", "max_value"):
                        if kwargs.get(bound) is not None:
                            kwargs[bound] = dt.datetime.fromisoformat(kwargs[bound])
                suite.add_expectation(getattr(gx.expectations, spec["type"])(**kwargs, meta={"check": entry["id"]}))
        asset = source.add_dataframe_asset(name)
        batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
        phases[f"suite {name}"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
        phases[f"validate {name}"] = time.perf_counter() - t0

        rows: dict[str, set[int]] = {}
        for res in result.results:  # not in the suite's order: each result names its check in meta
            owner = res.expectation_config.meta["check"]
            if not res.success and res.exception_info and res.exception_info.get("raised_exception"):
                raise SystemExit(f"{owner}: {res.exception_info['exception_message']}")
            got = res.result
            count = int(got.get("unexpected_count") or 0)
            index = got.get("unexpected_index_list") or []
            if len(index) != count:
                raise SystemExit(f"{owner}: {count} unexpected but {len(index)} row indexes")
            rows.setdefault(owner, set()).update(int(i) for i in index)
            cfg = res.expectation_config
            per.setdefault(owner, []).append({"type": cfg.type, "unexpected": count})
        for owner, hit in rows.items():
            failing[owner] = len(hit)
        del frame

    phases = {k: round(v, 2) for k, v in phases.items()}
    out = {"version": gx.__version__, "engine": "pandas", "failing": failing, "per": per, "phases": phases}
    args.out.write_text(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
