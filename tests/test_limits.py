"""``conformance.check.limits``: the JSON depth limit comes from the contracts, the checks are exact and the
schema bounds sound (a number only where no valid instance is deeper)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from conformance.check import limits
from conformance.check.limits import (
    CONTRACT_DEPTH,
    MAX_JSON_DEPTH,
    JSONLimitError,
    check_json,
    contract_depth,
    json_depth,
    loads_bounded,
    schema_depth_bound,
    value_depth,
)
from conformance.check.schema import validator
from conformance.contract import documents as contracts
from conformance.contract.registry import schema_uri

FIXTURES = contracts.FIXTURES / "json"


def _nested(depth: int, inner: bytes = b"1") -> bytes:
    """``depth`` levels, alternating arrays and objects."""
    opening = b"".join(b'{"a":' if i % 2 else b"[" for i in range(depth))
    closing = b"".join(b"}" if i % 2 else b"]" for i in reversed(range(depth)))
    return opening + inner + closing


def test_contract_depth_is_derived_from_the_contracts() -> None:
    """The constant is what the contracts declare today; the limit leaves a margin above it."""
    assert contract_depth() == CONTRACT_DEPTH
    assert MAX_JSON_DEPTH == CONTRACT_DEPTH + limits.JSON_DEPTH_MARGIN
    assert MAX_JSON_DEPTH >= 2 * CONTRACT_DEPTH + 8
    assert MAX_JSON_DEPTH < 100  # the engines and Python's recursion stay far away


@pytest.mark.parametrize("depth", [0, 1, 2, 7, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])
def test_at_the_limit_is_accepted(depth: int) -> None:
    raw = _nested(depth)
    assert json_depth(raw) == depth == value_depth(orjson.loads(raw))
    assert loads_bounded(raw) == orjson.loads(raw)
    assert loads_bounded(raw.decode()) == orjson.loads(raw)
    assert value_depth(orjson.loads(raw), MAX_JSON_DEPTH) <= MAX_JSON_DEPTH


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 1024, 5000])
def test_deeper_is_refused_with_a_clear_error(depth: int) -> None:
    raw = _nested(depth)
    with pytest.raises(JSONLimitError) as info:
        loads_bounded(raw)
    assert info.value.kind == "depth"
    zh, _, en = str(info.value).partition(" / ")
    assert f"{MAX_JSON_DEPTH} 层" in zh and f"{MAX_JSON_DEPTH} levels" in en
    if depth <= 1024:  # orjson's own ceiling
        assert value_depth(orjson.loads(raw), MAX_JSON_DEPTH) == MAX_JSON_DEPTH + 1


def test_depth_is_carried_across_blocks_and_stops_early() -> None:
    assert json_depth(b"[]" * 70_000 + b"[[[[]]]]") == 4
    assert json_depth(b"[" * 70_000 + b"]" * 70_000) == 70_000
    assert MAX_JSON_DEPTH < json_depth(b"[" * 200_000, stop=MAX_JSON_DEPTH) < 200_000


def test_brackets_in_strings_do_not_count() -> None:
    text = "[" * 500 + '\\"{' * 100 + "中"
    raw = json.dumps({"a": text, "b": ["]" * 300]}, ensure_ascii=False).encode()
    assert json_depth(raw) == 2
    assert loads_bounded(raw)["a"] == text


def test_size_limit_and_smaller_limits_per_call() -> None:
    with pytest.raises(JSONLimitError) as info:
        loads_bounded(b"[" + b"0," * 600 + b"0]", max_bytes=1000)
    assert info.value.kind == "size" and "1000" in str(info.value)
    with pytest.raises(JSONLimitError):
        loads_bounded(_nested(4), max_depth=3)
    assert loads_bounded(_nested(3), max_depth=3) is not None
    check_json(b"[" + b"[]," * 300_000 + b"[]]")  # many brackets, shallow: measured, accepted


def test_not_json_is_orjsons_error() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        loads_bounded(b"{broken")


def _fixtures() -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for labels in sorted(FIXTURES.glob("*/labels.yaml")):
        for entry in contracts.load_data(labels):
            out.append((entry["schema"], labels.parent / entry["file"]))
    return out


def test_every_fixture_is_within_the_limit() -> None:
    deepest = max(value_depth(json.loads(path.read_text(encoding="utf-8"))) for _, path in _fixtures())
    assert 0 < deepest <= CONTRACT_DEPTH < MAX_JSON_DEPTH


def test_schema_bounds_hold_for_every_valid_fixture() -> None:
    """Where a schema's bound is a number, no valid fixture is deeper (the bound is what lets the bulk
    pass skip the depth check)."""
    bounded = 0
    for ref, path in _fixtures():
        instance = json.loads(path.read_text(encoding="utf-8"))
        bound = schema_depth_bound(schema_uri(ref))
        if bound is not None and validator(ref).is_valid(instance):
            bounded += 1
            assert value_depth(instance) <= bound <= CONTRACT_DEPTH, (ref, path.name)
    assert bounded > 50


def test_open_and_closed_schemas() -> None:
    assert schema_depth_bound(schema_uri("equipment")) == 2
    assert schema_depth_bound(schema_uri("sharing#/$defs/change")) is None  # "record": any object
    assert schema_depth_bound(schema_uri("envelope")) is None  # "data": anything


def test_a_deep_value_is_never_valid_even_where_the_schema_leaves_it_open() -> None:
    gen_change = {
        "seq": 1,
        "operation": "UPLOAD",
        "key": "k1",
        "changedAt": "2024-05-01T08:00:00+08:00",
        "record": {"a": 1},
    }
    v = validator("sharing#/$defs/change")
    assert v.is_valid(gen_change)
    deep = {**gen_change, "record": {"a": orjson.loads(_nested(MAX_JSON_DEPTH))}}
    assert not v.is_valid(deep)
    assert [(e.path, e.keyword) for e in v.errors(deep)] == [("", "maxDepth")]
    shallow = {**gen_change, "record": {"a": orjson.loads(_nested(MAX_JSON_DEPTH - 2))}}
    assert v.is_valid(shallow)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000])
def test_explaining_a_deep_record_does_not_recurse(depth: int) -> None:
    """The explaining engines recursed 1,000 levels deep (RecursionError, ValueError from jsonschema-rs)."""
    v = validator("equipment")
    for instance in (orjson.loads(_nested(depth)), {"remark": orjson.loads(_nested(depth))}):
        assert not v.is_valid(instance)
        errors = v.errors(instance)
        assert [(e.path, e.keyword) for e in errors] == [("", "maxDepth")]
        assert "嵌套" in errors[0].message("zh") and "nested" in errors[0].message("en")
