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


def _exact(kind: str, values: list[str]) -> np.ndarray:
    """The per-value validator's verdicts, each distinct value judged once and remembered across batches."""
    exact = KINDS[kind].is_ok
    seen = _KNOWN.setdefault(kind, {})
    if len(seen) > KNOWN_LIMIT:
        seen.clear()
    out = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if value not in seen:
            seen[value] = exact(value, STRICT)
        out[i] = seen[value]
    return out


def identifier_ok_many(kind: str, values: list[str] | pa.Array) -> np.ndarray:
    """Per value (none None): valid identifier of ``kind``. The NumPy fast path answers the batch (an Arrow array
    is read from its buffers); the values it leaves open go to the per-value validator, once per distinct value."""
    many = VALID_MANY.get(kind)
    sure = many(values) if many is not None and len(values) else np.zeros(len(values), dtype=bool)
    out = np.array(sure, dtype=bool, copy=True)
    open_ = np.flatnonzero(~out)
    if len(open_):
        rest = values.take(pa.array(open_)).to_pylist() if isinstance(values, pa.Array) else [values[i] for i in open_]
        out[open_] = _exact(kind, rest)
    return out


def _one_chunk(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """DuckDB may hand a UDF a chunked array."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _judge(kind: str, values: pa.Array) -> np.ndarray:
    """Verdicts of non-null ``values`` of one kind: a kind with a fast path answers from the array itself, the others
    once per distinct value (a column of division codes holds a few thousand)."""
    if kind in VALID_MANY:
        return identifier_ok_many(kind, values)
    encoded = values.dictionary_encode()
    return identifier_ok_many(kind, encoded.dictionary.to_pylist())[encoded.indices.to_numpy(zero_copy_only=False)]


def identifier_ok(kinds: pa.Array, values: pa.Array) -> pa.Array:
    """Arrow UDF body of ``tzsb_identifier_ok`` (``kinds``: one kind repeated, a constant in the SQL); NULL for
    NULL."""
    n = len(values)
    if not n:
        return pa.array([], type=pa.bool_())
    values, kinds = _one_chunk(values), _one_chunk(kinds)
    present = values.is_valid().to_numpy(zero_copy_only=False) & kinds.is_valid().to_numpy(zero_copy_only=False)
    out = np.zeros(n, dtype=bool)
    if not present.any():
        return pa.array(out, mask=~present)
    first = kinds.filter(pa.array(present))[0].as_py()
    if pc.all(pc.equal(kinds, first)).as_py() is not False:  # the usual case: one kind
        every = present.all()
        out[present] = _judge(first, values if every else values.filter(pa.array(present)))
        return pa.array(out, mask=None if every else ~present)
    for kind in pc.unique(kinds.filter(pa.array(present))).to_pylist():
        where = present & pc.equal(kinds, kind).fill_null(False).to_numpy(zero_copy_only=False)
        out[where] = _judge(kind, values.filter(pa.array(where)))
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
