"""The two functions the audit's SQL calls that SQL cannot say, as vectorised (Arrow) functions an engine registers.

``tzsb_identifier_ok(kind, value)``: whether an identifier is valid, exactly as ``tzsb-conform validate`` judges it
("held" mode). The NumPy fast paths of :mod:`conformance.codes.vectorized` answer a whole batch (True = certainly
valid); only the values they leave open go to the per-value validator of :mod:`conformance.codes`.

``tzsb_record_problems(data_set, record, columnar)``: NULL for a record valid against its JSON Schema, else the
top-level fields that break their own schema (structure: type, enum, pattern, length, range, date formats, and the
project's identifier and code formats, as ``validate`` judges them; :func:`identifier_ok` reports the identifiers'
check characters again, under accuracy). The record verdict is
:class:`conformance.check.bulk.BulkValidator`'s, the engine of ``validate`` for dumps (the same verdict as
``SchemaValidator.is_valid``). ``columnar``: the record comes from a Parquet or CSV row, where a null is an absent
field (nulls are dropped before judging).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from conformance.check.schema import validator
from conformance.codes import KINDS
from conformance.codes.vectorized import VALID_MANY
from conformance.contract.datasets import data_sets

#: validate's default rule ("held": every form really issued; ``--strict`` asks "issued")
STRICT = False


#: verdicts of the values the fast path left open, per kind, across batches (a column of division codes repeats a
#: few thousand values in every batch); emptied when it reaches the limit, so memory stays flat
_KNOWN: dict[str, dict[str, bool]] = {}
KNOWN_LIMIT = 1 << 16


def identifier_ok_many(kind: str, values: list[str]) -> np.ndarray:
    """Per value (none None): valid identifier of ``kind``. The NumPy fast path answers the batch; the values it
    leaves open go to the per-value validator, once per distinct value."""
    many = VALID_MANY.get(kind)
    sure = many(values) if many is not None and values else np.zeros(len(values), dtype=bool)
    out = np.array(sure, dtype=bool, copy=True)
    exact = KINDS[kind].is_ok
    seen = _KNOWN.setdefault(kind, {})
    if len(seen) > KNOWN_LIMIT:
        seen.clear()
    for i in np.flatnonzero(~out).tolist():
        value = values[i]
        if value not in seen:
            seen[value] = exact(value, STRICT)
        out[i] = seen[value]
    return out


def _one_chunk(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """DuckDB may hand a UDF a chunked array."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def identifier_ok(kinds: pa.Array, values: pa.Array) -> pa.Array:
    """Arrow UDF body of ``tzsb_identifier_ok`` (``kinds``: one kind repeated, a constant in the SQL); NULL for
    NULL. Each distinct value is judged once (a column of division codes holds a few thousand)."""
    n = len(values)
    if not n:
        return pa.array([], type=pa.bool_())
    values, kinds = _one_chunk(values), _one_chunk(kinds)
    present = values.is_valid().to_numpy(zero_copy_only=False) & kinds.is_valid().to_numpy(zero_copy_only=False)
    out = np.zeros(n, dtype=bool)
    kind_list = pc.unique(kinds.filter(pa.array(present))).to_pylist() if present.any() else []
    for kind in kind_list:
        where = present & pc.equal(kinds, kind).fill_null(False).to_numpy(zero_copy_only=False)
        encoded = values.filter(pa.array(where)).dictionary_encode()
        distinct = identifier_ok_many(kind, encoded.dictionary.to_pylist())
        out[where] = distinct[encoded.indices.to_numpy(zero_copy_only=False)]
    return pa.array(out, mask=~present)


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def record_problems_many(data_set: str, records: list[str | None], columnar: bool) -> list[list[str] | None]:
    """Per record text: None when valid, else the fields breaking their own schema (maybe none)."""
    from conformance.check.bulk import BulkValidator

    bulk = BulkValidator(data_sets()[data_set].schema, strict=STRICT)
    parsed: list[Any] = []
    for text in records:
        if text is None or not text.strip():
            parsed.append(_NOT_JSON)
            continue
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed.append(_NOT_JSON)
            continue
        if columnar:
            value = _strip_nulls(value)
        parsed.append(value)
        bulk.add(value)
    verdicts = iter(bulk.finish())
    fields = validator(data_sets()[data_set].schema, strict=STRICT)
    out: list[list[str] | None] = []
    for value in parsed:
        if value is _NOT_JSON:
            out.append([])
        elif next(verdicts):
            out.append(None)
        elif isinstance(value, dict):
            out.append(sorted(fields.failing_fields(value)))
        else:
            out.append([])
    return out


_NOT_JSON = object()


def record_problems(data_set: pa.Array, records: pa.Array, columnar: pa.Array) -> pa.Array:
    """Arrow UDF body of ``tzsb_record_problems`` (data set and ``columnar`` are constants in the SQL)."""
    texts = records.to_pylist()
    if not texts:
        return pa.array([], type=pa.list_(pa.string()))
    name = data_set[0].as_py()
    flag = bool(columnar[0].as_py())
    return pa.array(record_problems_many(name, texts, flag), type=pa.list_(pa.string()))
