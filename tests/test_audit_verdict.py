"""The record verdict compiled to SQL (conformance/audit/verdict.py) vouches only for records ``validate`` accepts.

Every field of a valid record is replaced, one at a time, by values sitting on the edge of its schema's keywords
(spaces Python counts and RE2 does not, digits of other scripts, one code point too many, impossible dates and
times, numbers written as decimals, nulls, members outside the schema). The audit's verdict per record must be
validate's, from JSON Lines and from Parquet; and the valid records must be vouched for by the SQL alone (none of
them reaches the per-record validator in Python), which is what makes the audit fast.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conformance.audit import udfs
from conformance.audit.catalogue import table
from conformance.audit.engine import DuckDBEngine
from conformance.audit.run import load
from conformance.audit.verdict import pattern_sql, struct_members
from conformance.check.schema import validator
from conformance.datagen.national import defects, frames
from conformance.datagen.national.generate import generate

#: records a load may hand to the Python UDF although the SQL vouched for them: DuckDB calls a function in a CASE
#: branch once on one row of a Parquet scan even when no row takes that branch
SPARE = 1

EDGES: list[Any] = [
    "",
    " ",
    "\u3000",
    "A",
    "ab\n",
    "\u3000有限公司",
    "\ufeff有限公司",
    "有限公司\u180e",
    "有限公司\x85",
    "\x1c有限公司",
    "有\r限公司",
    "有\u2029限公司",
    "有限公司\u00a0",
    "有限公司\u2028",
    "ab\tc",
    "٣٣٣٣٣٣",
    "３３３３３３",
    "420100",
    "9" * 101,
    "😀" * 100,
    "😀" * 101,
    "2026-02-30",
    "2026-02-28",
    "0000-01-01",
    "2026-1-01",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:59:60Z",
    "2026-01-01t00:00:00z",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00.123456789+08:00",
    "2026-01-01 00:00:00Z",
    "在用",
    "在用 ",
    1,
    1.0,
    -1,
    101,
    True,
    None,
]


def _variants(record: dict[str, Any], nested: str | None = None) -> list[dict[str, Any]]:
    out = [copy.deepcopy(record)]
    for name in record:
        for value in EDGES:
            v = copy.deepcopy(record)
            v[name] = value
            out.append(v)
        v = copy.deepcopy(record)
        del v[name]
        out.append(v)
    extra = copy.deepcopy(record)
    extra["notInTheSchema"] = "x"
    out.append(extra)
    if nested:
        for member in record[nested]:
            for value in EDGES:
                v = copy.deepcopy(record)
                v[nested][member] = value
                out.append(v)
        v = copy.deepcopy(record)
        v[nested]["other"] = "x"
        out.append(v)
    return out


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    return value


def _audit_verdicts(folder: Path, data_set: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[bool], int]:
    asked: list[int] = []
    real = udfs.record_problems_many

    def counting(name: str, records: list[str | None], columnar: bool) -> list[list[str] | None]:
        asked.append(len(records))
        return real(name, records, columnar)

    monkeypatch.setattr(udfs, "record_problems_many", counting)
    engine = DuckDBEngine(memory_limit="256MB", threads=1)
    try:
        load(engine, folder)
        rows = engine.rows(f"SELECT _bad IS NULL FROM {table(data_set)} ORDER BY _row")
    finally:
        engine.close()
    return [bool(r[0]) for r in rows], sum(asked)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small national generation without defects (JSON Lines): realistic valid records of every data set."""
    folder = tmp_path_factory.mktemp("clean")
    plan = frames.Plan(
        equipment=200, seed=5, as_of=dt.date(2025, 6, 30), chunk_rows=1000, rates={k.id: 0.0 for k in defects.KINDS}
    )
    generate(plan, folder, "jsonl")
    return folder


@pytest.mark.parametrize(
    "data_set, schema, nested",
    [
        ("equipment", "equipment", None),
        ("units", "unit", None),
        ("use-registrations", "use-registration", "authority"),
        ("inspection-reports", "inspection-report", None),
    ],
)
def test_the_sql_vouches_only_for_records_validate_accepts(
    data_set: str, schema: str, nested: str | None, clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (clean / f"{data_set}.jsonl").open("rb") as lines:
        base = orjson.loads(lines.readline())
    base.pop("parameters", None)  # free-form members (additionalProperties as a schema) are left to Python
    check = validator(schema, strict=False)
    assert check.is_valid(base), "the base record must be valid for the variants to sit on its edges"
    records = _variants(base, nested)

    alone = tmp_path / "a"
    alone.mkdir()
    (alone / f"{data_set}.jsonl").write_bytes(orjson.dumps(base) + b"\n")
    verdicts, asked = _audit_verdicts(alone, data_set, monkeypatch)
    assert verdicts == [True] and asked <= SPARE, "the SQL alone vouches for a valid record"

    jsonl = tmp_path / "j"
    jsonl.mkdir()
    (jsonl / f"{data_set}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    expected = [check.is_valid(r) for r in records]
    got, asked = _audit_verdicts(jsonl, data_set, monkeypatch)
    assert [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b] == []
    assert asked >= expected.count(False)  # every invalid record was judged by Python

    # Parquet: one type per column, so only the variants that keep every value a string (or absent, or null)
    def columnar_ok(r: dict[str, Any]) -> bool:
        return all(
            k in base and (v is None or type(v) is type(base[k]) or (isinstance(v, str) and isinstance(base[k], str)))
            for k, v in r.items()
        ) and (nested is None or all(isinstance(x, str | None) for x in (r.get(nested) or {}).values()))

    typed = [r for r in records if columnar_ok(r) and (nested is None or set(r.get(nested) or {}) <= set(base[nested]))]

    def parquet_of(rows: list[dict[str, Any]]) -> Path:
        folder = tmp_path / f"p{len(rows)}"
        folder.mkdir()
        pq.write_table(pa.Table.from_pylist(rows), folder / f"{data_set}.parquet")
        return folder

    parquet = parquet_of(typed)
    expected = [check.is_valid(_strip_nulls({k: v for k, v in r.items()})) for r in typed]
    got, asked = _audit_verdicts(parquet, data_set, monkeypatch)
    assert [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b] == []
    assert asked >= expected.count(False)
    verdicts, asked = _audit_verdicts(parquet_of([base] * 3000), data_set, monkeypatch)
    assert verdicts == [True] * 3000 and asked <= SPARE


def test_patterns_where_re2_could_be_looser_are_left_to_python() -> None:
    assert pattern_sql(r"^\D+$") is None and pattern_sql(r"^\w+\b") is None and pattern_sql(r"(?=a)") is None
    assert pattern_sql(r"[\S]") is None  # inside a class: not rewritten, left to Python
    rewritten = pattern_sql(r"^\S(.*\S)?$")
    assert rewritten is not None and "\\x{3000}" in rewritten and "\\S" not in rewritten
    assert pattern_sql(r"^[\u4e00-\u9fa5]+$") == r"^[\x{4e00}-\x{9fa5}]+$"
    assert pattern_sql(r"^a.b[.]$") == r"^a[^\x{a}\x{d}\x{2028}\x{2029}]b[.]$"


def test_struct_types_are_read_member_by_member() -> None:
    assert struct_members('STRUCT("name" VARCHAR, uscc VARCHAR, division VARCHAR)') == (
        ("name", "VARCHAR"),
        ("uscc", "VARCHAR"),
        ("division", "VARCHAR"),
    )
    assert struct_members("STRUCT(a STRUCT(b VARCHAR))") is None and struct_members("VARCHAR") is None
