"""Dumps as other systems write them: a CSV in GB 18030 or UTF-16 (Excel on a Chinese Windows), a file that is not
what its name says (a truncated Parquet file, a CSV in no encoding read). The audit reads what it can, says what it
cannot, and its exit code never claims more than was read; a fault of the tool itself exits 2, never 1."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.audit import encoding
from conformance.audit.engine import DuckDBEngine
from conformance.audit.report import problems
from conformance.audit.run import NOT_MET, UNTESTED, Options, audit
from tests.test_audit import AS_OF, dump, run_audit, write_csv, write_jsonl, write_parquet


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict[str, Any]]]:
    return dump()


def _essence(rep: dict[str, Any]) -> dict[str, Any]:
    return {
        c["id"]: (c["verdict"], c["denominator"], c["failing"], [s["row"] for s in c["samples"]]) for c in rep["checks"]
    }


def _reencode(folder: Path, codec: str, bom: bytes = b"") -> Path:
    for path in folder.glob("*.csv"):
        path.write_bytes(bom + path.read_text(encoding="utf-8").encode(codec))
    return folder


@pytest.mark.parametrize(
    ("codec", "bom", "name"), [("gb18030", b"", "gb18030"), ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16")]
)
def test_csv_in_the_national_encoding_reads_as_utf8(
    data: dict[str, list[dict[str, Any]]], tmp_path: Path, codec: str, bom: bytes, name: str
) -> None:
    only = {"only": lambda c: c.data_set in ("equipment", "units")}
    plain = run_audit(write_csv(tmp_path / "utf8", data), **only)
    engine = DuckDBEngine(memory_limit="512MB", threads=1, temp_directory=tmp_path / "work")
    try:
        other = audit(engine, _reencode(write_csv(tmp_path / codec, data), codec, bom), Options(as_of=AS_OF, **only))
    finally:
        engine.close()
    assert _essence(other) == _essence(plain)
    got = {d["name"]: d.get("encodings") for d in other["dataSets"] if d["present"]}
    assert got["equipment"] == [name] and got["units"] == [name]
    assert {d["name"]: d.get("encodings") for d in plain["dataSets"] if d["present"]}["units"] == ["utf-8"]
    assert problems(other) == []
    assert not list((tmp_path / "work").rglob("*.utf8.csv"))  # the UTF-8 copies are gone once the tables are built


def test_sniff_rule() -> None:
    # Chinese text in GBK is not UTF-8; UTF-8 with a mark is UTF-8; bytes valid in neither are unreadable
    cases = {
        "起重机械,电梯\n".encode("gb18030"): "gb18030",
        codecs.BOM_UTF8 + "起重机械\n".encode(): "utf-8",
        b"ascii,only\n": "utf-8",
        codecs.BOM_UTF16_BE + "电梯\n".encode("utf-16-be"): "utf-16",
    }
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for i, (raw, want) in enumerate(cases.items()):
            path = Path(tmp) / f"{i}.csv"
            path.write_bytes(raw)
            assert encoding.sniff(path) == want
            copy = encoding.as_utf8(path, want, Path(tmp) / "copies")
            assert copy.read_text(encoding="utf-8-sig").rstrip("\n") == raw.decode(
                "gb18030" if want == "gb18030" else "utf-16" if want == "utf-16" else "utf-8-sig"
            ).rstrip("\n")
        bad = Path(tmp) / "bad.csv"
        bad.write_bytes(b"a,b\n\x80\xff\n")
        with pytest.raises(encoding.Unreadable):
            encoding.sniff(bad)


def test_unreadable_data_set_is_untested_and_the_rest_audited(
    data: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    folder = write_parquet(tmp_path / "p", {k: data[k] for k in ("equipment", "units")})
    part = folder / "equipment" / "part-0.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])  # a copy cut short: no footer
    rep = run_audit(folder)
    assert problems(rep) == []
    sets = {d["name"]: d for d in rep["dataSets"]}
    assert sets["equipment"]["present"] and sets["equipment"]["unreadable"]["message"]
    assert "unreadable" not in sets["units"] and sets["units"]["records"] == len(data["units"])
    by_id = {c["id"]: c for c in rep["checks"]}
    for c in rep["checks"]:
        if c["dataSet"] == "equipment" or c["id"] == "consistency/inspection-reports/equipmentCode/reference":
            assert c["verdict"] == UNTESTED or c["verdict"] is None
            assert "equipment" in c["untested"] and ("无法读取" in c["untested"] or "不在输入中" in c["untested"])
    assert "无法读取" in by_id["completeness/equipment/equipmentCode/required"]["untested"]
    assert by_id["completeness/units/uscc/required"]["verdict"] != UNTESTED


def test_cli_exit_code_with_an_unreadable_data_set(
    data: dict[str, list[dict[str, Any]]], tmp_path: Path, capsys: Any
) -> None:
    """Nothing 不符合 among what was read, one data set unreadable: exit 2 (no verdict), never 0."""
    from conformance.cli import main

    folder = write_csv(tmp_path / "in", {"units": data["units"][:5]})
    (folder / "equipment.csv").write_bytes(b"equipmentCode,status\n\x80\xff,in-use\n")
    out = tmp_path / "out"
    assert main(["audit", str(folder), "--out", str(out), "--as-of", "2026-06-30", "--no-progress"]) == 2
    assert "equipment" in capsys.readouterr().err
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert problems(report) == []
    assert report["verdict"] == UNTESTED and report["summary"]["不符合"] == 0 and report["summary"]["符合"] > 0
    assert {d["name"] for d in report["dataSets"] if "unreadable" in d} == {"equipment"}
    assert "GB 18030" in (out / "audit.html").read_text(encoding="utf-8")


def test_not_met_among_what_was_read_still_exits_1(data: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    from conformance.cli import main

    folder = write_csv(tmp_path / "in", data)
    (folder / "accidents.csv").write_bytes(b"accidentId\n\x80\xff\n")
    out = tmp_path / "out"
    assert main(["audit", str(folder), "--out", str(out), "--as-of", "2026-06-30", "--no-progress"]) == 1
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert report["verdict"] == NOT_MET


def test_a_fault_of_the_tool_exits_2_not_1(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import conformance.cli as cli

    def broken(args: list[str], lang: str) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_dispatch", broken)
    assert cli.main(["audit", "x"]) == 2
    err = capsys.readouterr().err
    assert "RuntimeError" in err and "boom" in err and "内部错误" in err and "Traceback" in err
    assert cli.main(["audit", "x", "--lang", "en"]) == 2
    assert "internal error" in capsys.readouterr().err


def test_gzip_compressed_text_reads_as_plain(data: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    only = {"only": lambda c: c.data_set in ("equipment", "units")}
    for write, suffix in ((write_jsonl, ".jsonl"), (write_csv, ".csv")):
        plain = run_audit(write(tmp_path / f"plain{suffix}", data), **only)
        folder = write(tmp_path / f"gz{suffix}", data)
        for path in folder.glob(f"*{suffix}"):
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
            path.unlink()
        packed = run_audit(folder, **only)
        assert _essence(packed) == _essence(plain)
        assert all(f.endswith(f"{suffix}.gz") for d in packed["dataSets"] for f in d["files"])
        assert packed["notRead"] == []


def test_files_not_read_are_said(data: dict[str, list[dict[str, Any]]], tmp_path: Path, capsys: Any) -> None:
    from conformance.cli import main

    folder = write_jsonl(tmp_path / "in", {"units": data["units"][:5]})
    (folder / "equipment.json").write_text("[]", encoding="utf-8")  # the right name, a format not read
    (folder / "devices.jsonl").write_text("{}\n", encoding="utf-8")  # a data file under no data set's name
    (folder / "use-registrations").mkdir()
    (folder / "use-registrations" / "part-0.xlsx").write_bytes(b"PK")
    (folder / "use-registrations" / "_SUCCESS").write_bytes(b"")  # Spark's marker: hidden, not listed
    (folder / "README.txt").write_text("delivered nightly", encoding="utf-8")  # not data: not listed
    out = tmp_path / "out"
    assert main(["audit", str(folder), "--out", str(out), "--as-of", "2026-06-30", "--no-progress"]) == 0
    err = capsys.readouterr().err
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert problems(report) == []
    got = {Path(f["file"]).name: f["why"] for f in report["notRead"]}
    assert got == {"equipment.json": "format", "devices.jsonl": "name", "part-0.xlsx": "format"}
    assert all(name in err for name in got)
    assert "devices.jsonl" in (out / "audit.html").read_text(encoding="utf-8")
