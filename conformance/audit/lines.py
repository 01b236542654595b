"""JSON Lines files as a stream of Arrow batches ``(_row, _rec)``: every line numbered as ``tzsb-conform validate``
numbers it, for an engine to scan in parallel.

Why not the engine's own CSV reader with a window for the number: DuckDB's ``row_number() OVER ()`` makes the whole
table build one thread (the 5 M-equipment audit from JSON Lines ran at 100 % of one core), its CSV reader has no
row number of its own, and it stops on a file that mixes ``\\r\\n`` and ``\\n`` endings. Here the lines are cut in
NumPy (one comparison per byte) and handed over without a copy; DuckDB scans the stream on all its threads and keeps
the batches' order.

The lines are those of validate: split at ``\\n`` (a ``\\r`` before it stays, JSON reads it as white space), a
blank line is a record, the last line needs no newline, a UTF-8 byte-order mark opening a file is dropped; a file
named ``….gz`` is read decompressed. A line
that is not UTF-8 is not JSON (validate's verdict): it is handed over as U+FFFD followed by its text with every bad
byte replaced, so that no engine can read it as a record. A line keeps its newline (JSON white space), which spares
a copy of every line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from conformance.audit.inputs import open_bytes

BLOCK = 16 << 20  # bytes read at a time (a batch holds the whole lines among them)
BOM = b"\xef\xbb\xbf"
SCHEMA = pa.schema([("_row", pa.int64()), ("_rec", pa.large_string())])
NOT_UTF8 = "\ufffd"


def _lines(body: bytes) -> pa.Array:
    """The lines of ``body`` (whole lines, the last one with or without its newline) as text, each keeping its
    newline."""
    ends = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 10) + 1
    if not len(ends) or ends[-1] != len(body):
        ends = np.append(ends, len(body))
    offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    offsets[1:] = ends
    lines = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(body))
    try:
        lines.validate(full=True)  # UTF-8
    except pa.ArrowInvalid:
        texts = []
        for i in range(len(ends)):
            raw = body[offsets[i] : offsets[i + 1]]
            try:
                texts.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(NOT_UTF8 + raw.decode("utf-8", errors="replace"))
        lines = pa.array(texts, type=pa.large_string())
    return lines


def batches(files: tuple[Path, ...] | list[Path], block: int = BLOCK) -> Iterator[pa.RecordBatch]:
    """The lines of ``files`` in order, numbered from 1 across them."""
    first = 1
    for path in files:
        with open_bytes(Path(path)) as fh:
            data = fh.read(max(block, len(BOM)))
            opened = bool(data)
            data, rest, before = data.removeprefix(BOM), b"", first
            while True:
                buffer = rest + data if rest else data
                cut = buffer.rfind(b"\n") + 1
                body, rest = buffer[:cut], buffer[cut:]
                if body:
                    batch = _numbered(_lines(body), first)
                    yield batch
                    first += batch.num_rows
                data = fh.read(block)
                if not data:
                    break
            if rest or (opened and first == before):  # the last line, or a file of a mark alone
                yield _numbered(_lines(rest), first)
                first += 1


def _numbered(lines: pa.Array, first: int) -> pa.RecordBatch:
    rows = pa.array(np.arange(first, first + len(lines), dtype=np.int64))
    return pa.record_batch([rows, lines], schema=SCHEMA)


def reader(files: tuple[Path, ...] | list[Path], block: int = BLOCK) -> pa.RecordBatchReader:
    """A one-pass reader of :func:`batches` (an engine scans it once)."""
    return pa.RecordBatchReader.from_batches(SCHEMA, batches(files, block))
