"""``tzsb_identifier_ok`` (the audit's identifier UDF) gives, value by value, the per-value validator's verdict: one
kind or several in a batch, nulls in either argument, plain or chunked arrays, fast path or not."""

from __future__ import annotations

import pyarrow as pa

from conformance.audit import udfs
from conformance.codes import KINDS
from conformance.datagen import DataGen


def _values() -> list[tuple[str, str]]:
    g = DataGen(3)
    out: list[tuple[str, str]] = []
    for _ in range(40):
        e = g.equipment()
        for kind, field in (
            ("equipment-code", "equipmentCode"),
            ("uscc", "useUnitUscc"),
            ("registration-no", "registrationNo"),
            ("division", "division"),
            ("catalogue-code", "catalogueCode"),
        ):
            value = e[field]
            out += [(kind, value), (kind, value[:-1] + ("0" if value[-1] != "0" else "1")), (kind, value + " ")]
    out += [("uscc", ""), ("division", "梯"), ("registration-no", "梯11鄂A0000１(24)"), ("equipment-code", "é" * 18)]
    return out


def _expected(kinds: list[str | None], values: list[str | None]) -> list[bool | None]:
    return [
        None if k is None or v is None else KINDS[k].is_ok(v, udfs.STRICT) for k, v in zip(kinds, values, strict=True)
    ]


def test_one_kind_per_batch_with_and_without_nulls() -> None:
    pairs = _values()
    for kind in sorted({k for k, _ in pairs}):
        values: list[str | None] = [v for k, v in pairs if k == kind]
        kinds: list[str | None] = [kind] * len(values)
        assert udfs.identifier_ok(pa.array(kinds), pa.array(values)).to_pylist() == _expected(kinds, values)
        holed = [None if i % 4 == 1 else v for i, v in enumerate(values)]
        assert udfs.identifier_ok(pa.array(kinds), pa.array(holed)).to_pylist() == _expected(kinds, holed)


def test_mixed_kinds_null_kinds_and_chunked_arrays() -> None:
    pairs = _values()
    kinds: list[str | None] = [None if i % 7 == 3 else k for i, (k, _) in enumerate(pairs)]
    values: list[str | None] = [None if i % 5 == 2 else v for i, (_, v) in enumerate(pairs)]
    expected = _expected(kinds, values)
    assert any(e is True for e in expected) and any(e is False for e in expected)
    assert udfs.identifier_ok(pa.array(kinds), pa.array(values)).to_pylist() == expected
    half = len(values) // 2
    chunked_values = pa.chunked_array([pa.array(values[:half]), pa.array(values[half:])])
    chunked_kinds = pa.chunked_array([pa.array(kinds[:half]), pa.array(kinds[half:])])
    assert udfs.identifier_ok(chunked_kinds, chunked_values).to_pylist() == expected
    sliced = pa.array(["x", *values], type=pa.large_string()).slice(1)
    assert udfs.identifier_ok(pa.array(kinds), sliced).to_pylist() == expected
