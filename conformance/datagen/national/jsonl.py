"""Parquet parts → one JSON Lines file per data set, streamed batch by batch, vectorised in Arrow.

Each column becomes a column of JSON members (``"name":value``; null where the value is null), and a row's members
are joined with the nulls skipped: an absent optional field is absent from the JSON object, as the record schemas
want it (JSON ``null`` is not a string, so DuckDB's ``COPY … (FORMAT JSON)``, which writes nulls, would make clean
records invalid). Strings are escaped for JSON (backslash, quote, control characters); text is written as UTF-8.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BATCH_ROWS = 32_768
#: characters a JSON string cannot hold as they are
_SPECIAL = r'["\\\x00-\x1f]'


def _escape(values: pa.Array) -> pa.Array:
    """Strings escaped for JSON; the common case (nothing to escape) costs one scan."""
    if not pc.any(pc.match_substring_regex(values, _SPECIAL)).as_py():
        return values
    return pa.array([None if v is None else json.dumps(v, ensure_ascii=False)[1:-1] for v in values.to_pylist()])


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _value(values: pa.Array) -> pa.Array:
    """JSON text of each value (null stays null)."""
    t = values.type
    if _is_text(t):
        return pc.binary_join_element_wise('"', _escape(values), '"', "")
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return pc.cast(values, pa.string())
    if pa.types.is_boolean(t):
        return pc.if_else(values, "true", "false")
    if pa.types.is_struct(t):
        names = [t.field(k).name for k in range(t.num_fields)]
        first = pc.coalesce(_member(names[0], pc.struct_field(values, [0]), "{"), pa.scalar("{"))
        members = [first] + [_member(n, pc.struct_field(values, [k])) for k, n in enumerate(names) if k]
        body = _opened(pc.binary_join_element_wise(*members, "}", "", null_handling="skip"), values.field(0))
        return pc.if_else(pc.is_null(values), pa.nulls(len(values), pa.string()), body)
    raise TypeError(f"no JSON form for Arrow type {t}")


def _opened(text: pa.Array, first: pa.Array) -> pa.Array:
    """Objects whose first member was null start ``{,``: drop that comma (anchored: never inside a value)."""
    return pc.replace_substring_regex(text, r"^\{,", "{") if first.null_count else text


def _member(name: str, values: pa.Array, lead: str = ",") -> pa.Array:
    """``<lead>"name":value`` (null where the value is null); a string in one pass."""
    label = lead + json.dumps(name, ensure_ascii=False) + ":"
    if _is_text(values.type):
        return pc.binary_join_element_wise(label + '"', _escape(values), '"', "")
    return pc.binary_join_element_wise(label, _value(values), "")


def lines(batch: pa.RecordBatch) -> bytes:
    """The batch as JSON Lines (UTF-8): one join of the members, each carrying its own comma, nulls skipped; the
    first member opens the object (a bare ``{`` where it is null), a last constant member closes it."""
    names = batch.schema.names
    first = pc.coalesce(_member(names[0], batch.column(0), "{"), pa.scalar("{"))
    members = [first] + [_member(name, batch.column(k)) for k, name in enumerate(names) if k]
    text = _opened(pc.binary_join_element_wise(*members, "}\n", "", null_handling="skip"), batch.column(0))
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)
    start, end = int(offsets[text.offset]), int(offsets[text.offset + len(text)])
    return memoryview(text.buffers()[2])[start:end].tobytes()


def convert(parts: Iterable[Path], out: Path, progress: Callable[[int], None] | None = None) -> int:
    """Write the records of Parquet ``parts`` (in order) to ``out``; the number of records."""
    done = 0
    with out.open("wb") as f:
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches(batch_size=BATCH_ROWS):
                f.write(lines(batch))
                done += batch.num_rows
                if progress:
                    progress(done)
    return done
