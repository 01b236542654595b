"""``validate dump.jsonl --jobs N``: the file cut at line starts, one process per part, the same
verdicts in the same order as one process."""

from __future__ import annotations

import json
import random
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.check.files import jsonl_parts
from conformance.cli import main
from conformance.datagen import DataGen


def _check_parts(path: Path, parts: int, block: int) -> None:
    data = path.read_bytes()
    got = jsonl_parts(path, parts, block=block)
    assert 1 <= len(got) <= parts
    assert got[0][0] == 0 and got[-1][1] == len(data)
    for (start, end, first_line), nxt in zip(got, [*got[1:], None], strict=True):
        assert start < end or len(data) == 0
        assert start == 0 or data[start - 1 : start] == b"\n"  # every part starts a line
        assert first_line == data.count(b"\n", 0, start) + 1
        if nxt is not None:
            assert nxt[0] == end


@settings(max_examples=80, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"x")), max_size=40),
    trailing=st.booleans(),
    parts=st.integers(1, 6),
    block=st.sampled_from([1, 3, 7, 64, 1 << 20]),
)
def test_parts_cover_the_file_at_line_starts(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], trailing: bool, parts: int, block: int
) -> None:
    path = tmp_path_factory.mktemp("parts") / "d.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if trailing and lines else b""))
    _check_parts(path, parts, block)


def _dump(path: Path, count: int) -> None:
    gen, rng = DataGen(11), random.Random(11)
    rows = []
    for i in range(count):
        rec = gen.equipment()
        roll = rng.random()
        if roll < 0.05:
            rec["useUnitUscc"] = rec["useUnitUscc"][:17] + ("0" if rec["useUnitUscc"][17] != "0" else "1")
        elif roll < 0.08:
            del rec["status"]
        row = orjson.dumps(rec)
        if roll > 0.98:
            row = b"{not json"
        elif 0.96 < roll <= 0.98:
            row = b""
        rows.append(row)
        if i == 0:
            rows[0] = b"\xef\xbb\xbf" + rows[0]  # a byte-order mark stays the first line's business
    path.write_bytes(b"\n".join(rows) + b"\n")


@pytest.mark.parametrize("output", ["text", "jsonl"])
def test_jobs_give_the_same_verdicts_in_the_same_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str
) -> None:
    dump = tmp_path / "dump.jsonl"
    _dump(dump, 1500)
    args = ["validate", str(dump), "--schema", "equipment", "--output", output]
    rc1 = main(args)
    one = capsys.readouterr().out.splitlines()
    rc3 = main([*args, "--jobs", "3"])
    three = capsys.readouterr().out.splitlines()
    assert rc1 == rc3 == 1
    assert len(jsonl_parts(dump, 3)) == 3
    assert one[:-1] == three[:-1]  # every line's verdict, in order
    assert len(one) == 1501
    if output == "jsonl":
        s1, s3 = json.loads(one[-1])["summary"], json.loads(three[-1])["summary"]
        assert {k: v for k, v in s1.items() if k != "seconds"} == {k: v for k, v in s3.items() if k != "seconds"}
        assert s1["invalid"] > 50
    else:
        assert one[-1].split("（")[0] == three[-1].split("（")[0]


def test_negative_jobs_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "dump.jsonl"
    _dump(dump, 3)
    assert main(["validate", str(dump), "--schema", "equipment", "--jobs", "-1"]) == 2
    assert "--jobs" in capsys.readouterr().err
