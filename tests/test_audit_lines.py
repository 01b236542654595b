"""The audit reads JSON Lines as ``tzsb-conform validate`` reads them: the same lines, the same numbers, the same
verdict per record, whatever the line endings, blank lines, byte-order mark, bytes that are not UTF-8 or where the
reader's blocks happen to cut."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from conformance.audit import lines
from conformance.audit.catalogue import table
from conformance.audit.engine import DuckDBEngine
from conformance.audit.run import load
from conformance.check.files import JsonlSummary, iter_jsonl
from conformance.datagen import DataGen


def _hostile() -> bytes:
    """Valid and broken records with every kind of line the audit must number as validate does."""
    g = DataGen(11)
    good = [orjson.dumps(g.equipment()) for _ in range(4)]
    return (
        b"\xef\xbb\xbf"
        + good[0]
        + b"\r\n"  # a Windows ending
        + b"\n"  # a blank line
        + good[1]
        + b"\n"
        + b'{"equipmentCode": "\xff\xfe"}\n'  # not UTF-8
        + b"   \r\n"  # white space only
        + b"\r"  # a lone carriage return: not a line ending
        + good[2]
        + b"\n{not json\n"
        + good[3]  # the last line, with no newline
    )


def _validate(path: Path) -> list[tuple[int, bool]]:
    return [(n, v.ok) for n, v in iter_jsonl(path, "equipment", JsonlSummary(), strict=False, explain=False)]


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_lines_numbered_as_validate_numbers_them(tmp_path: Path, block: int) -> None:
    path = tmp_path / "equipment.jsonl"
    path.write_bytes(_hostile())
    expected = _validate(path)
    got = [b for b in lines.batches([path], block=block)]
    rows = [r for b in got for r in b.column("_row").to_pylist()]
    texts = [t for b in got for t in b.column("_rec").to_pylist()]
    assert rows == [n for n, _ in expected] == list(range(1, len(expected) + 1))
    assert texts[0].startswith("{") and not texts[0].startswith("\ufeff")
    assert texts[3].startswith(lines.NOT_UTF8)  # a line of bad bytes is kept, and can never read as JSON
    assert texts[-1].endswith("}")  # the last line, unterminated


def test_numbers_run_on_across_files_and_odd_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"{}\n{}")
    (tmp_path / "b.jsonl").write_bytes(b"")  # empty: no line
    (tmp_path / "c.jsonl").write_bytes(b"\xef\xbb\xbf")  # a mark alone: one blank line, as validate reads it
    (tmp_path / "d.jsonl").write_bytes(b"{}\n")
    files = [tmp_path / n for n in ("a.jsonl", "b.jsonl", "c.jsonl", "d.jsonl")]
    got = [(r, t) for b in lines.batches(files, block=2) for r, t in zip(*b.to_pydict().values(), strict=True)]
    assert got == [(1, "{}\n"), (2, "{}"), (3, ""), (4, "{}\n")]
    assert len(_validate(files[2])) == 1


def test_audit_verdicts_equal_validate_on_hostile_lines(tmp_path: Path) -> None:
    """Mixed line endings once stopped the audit (DuckDB's CSV reader); now every line gets validate's verdict."""
    path = tmp_path / "equipment.jsonl"
    path.write_bytes(_hostile())
    expected = _validate(path)
    assert [ok for _, ok in expected].count(True) == 4
    engine = DuckDBEngine(memory_limit="256MB", threads=2)
    try:
        load(engine, tmp_path)
        got = engine.rows(f"SELECT _row, _bad IS NULL FROM {table('equipment')} ORDER BY _row")
    finally:
        engine.close()
    assert got == expected
