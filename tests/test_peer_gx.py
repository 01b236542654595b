"""The check → Great Expectations mapping of benchmarks/peer_gx.py, without GX: every catalogue check is mapped or
given a reason, the mapped expectations read the check's own field, the rewritten patterns accept what the project's
validator accepts, and the blank-text regex is DuckDB's ``trim``."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path

import duckdb
import jsonschema_rs
import pytest

from conformance.audit.catalogue import checks, prop
from conformance.contract.datasets import data_sets

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("peer_gx", ROOT / "benchmarks" / "peer_gx.py")
assert _spec and _spec.loader
peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peer)

ARROW = {"string": "string", "integer": "int64", "number": "double", "boolean": "bool"}
AS_OF = dt.date(2025, 12, 31)


def columns() -> dict[str, dict[str, str]]:
    """Every property of every data set as a Parquet column of its JSON type (objects and arrays as structs)."""
    out = {}
    for name, ds in data_sets().items():
        out[name] = {f: ARROW.get(str(prop(ds, f).get("type")), "struct<>") for f in ds.properties}
    return out


@pytest.fixture(scope="module")
def blank() -> str:
    return peer.blank_regex(peer.blank_characters())


def test_every_check_mapped_or_explained(blank: str) -> None:
    cols = columns()
    mapped = 0
    for check in checks():
        got = peer.map_check(check, cols, AS_OF, blank)
        if isinstance(got, str):
            assert got.strip()
            continue
        mapped += 1
        assert got["id"] == check.id and got["expectations"]
        for spec in got["expectations"]:
            assert spec["kwargs"]["column"].split("@")[0] == check.field
            assert spec["type"].startswith("ExpectColumn")
    assert mapped


def test_enum_and_uniqueness_come_from_the_contracts(blank: str) -> None:
    cols = columns()
    for check in checks():
        got = peer.map_check(check, cols, AS_OF, blank)
        if isinstance(got, str):
            continue
        if check.rule == "schema":
            enum = prop(data_sets()[check.data_set], check.field).get("enum")
            sets = [s["kwargs"]["value_set"] for s in got["expectations"] if s["type"] == "ExpectColumnValuesToBeInSet"]
            assert sets == ([enum] if enum else [])
        if check.rule == "key":
            assert check.field == data_sets()[check.data_set].key
            assert [s["type"] for s in got["expectations"]] == ["ExpectColumnValuesToBeUnique"]


def test_identifier_formats_are_not_claimed(blank: str) -> None:
    cols = columns()
    for check in checks():
        if check.rule != "schema":
            continue
        fmt = str(prop(data_sets()[check.data_set], check.field).get("format", ""))
        if fmt.startswith("tzsb-"):
            assert isinstance(peer.map_check(check, cols, AS_OF, blank), str)


def _probes(engine: dict) -> list[str]:
    odd = ["\n", "\r", "\t", "\x0b", "\x1c", "\x85", "\u00a0", "\u2028", "\u3000", "\ufeff", "\u200b", "٣", "é"]
    words = ["a", "公司", "A1", "2025-01-31", "91420100MA4KX0000X", "01100000-01-02", "1.2.156.3005.2.x"]
    out = []
    for w in words:
        out.append(w)
        for c in odd:
            out += [c + w, w + c, w + c + w, w + "\n"]
    return out + odd + [c * 2 for c in engine["s"]]


def test_rewritten_patterns_accept_what_the_validator_accepts() -> None:
    engine = peer.validator_regex()
    patterns = set()
    for ds in data_sets().values():
        for name in ds.properties:
            p = prop(ds, name).get("pattern")
            if isinstance(p, str):
                patterns.add(p)
    assert patterns
    probes = _probes(engine)
    for p in sorted(patterns):
        try:
            ours = re.compile(peer.python_regex(p, engine))
        except ValueError:
            continue
        theirs = jsonschema_rs.validator_for({"type": "string", "pattern": p})
        for text in probes:
            assert (ours.search(text) is not None) == theirs.is_valid(text), (p, text)


def test_blank_regex_is_duckdb_trim(blank: str) -> None:
    probes = ["", " ", "  ", "\t", "\n", "\u3000", "\u00a0 ", "\u200b", "\ufeff", "a", " a ", "\u2028"]
    con = duckdb.connect()
    for text in probes:
        empty = con.execute("SELECT trim(?) = ''", [text]).fetchone()[0]
        assert (re.search(blank, text) is not None) == empty, repr(text)
