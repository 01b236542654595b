"""``tzsb-conform validate``: codes, JSON, JSON Lines and XML files; bad input never a traceback;
exit codes 0 valid / 1 invalid / 2 usage; Chinese by default, English with --lang en."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.check.limits import MAX_JSON_DEPTH
from conformance.cli import main
from conformance.codes import KINDS
from conformance.contract import documents as contracts
from conformance.datagen import DataGen


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_code_kind_valid_and_invalid(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    value = KINDS[kind].generate(random.Random(4))
    rc, out, _ = run(capsys, "validate", "--code", kind, value)
    assert rc == 0 and "有效" in out
    rc, out, _ = run(capsys, "validate", "--code", kind, value + "Ｘ")
    assert rc == 1 and "无效" in out


def test_uscc_explains_the_failing_part_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    good = KINDS["uscc"].generate(random.Random(9))
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    rc, out, _ = run(capsys, "validate", "--code", "uscc", bad)
    assert rc == 1 and "校验" in out and "18" in out
    rc, out, _ = run(capsys, "--lang", "en", "validate", "--code", "uscc", bad)
    assert rc == 1 and "check" in out.lower() and "无效" not in out


def test_pressure_piping_move_out_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "validate", "--code", "item-code", "01100000-07-04")
    assert rc == 1 and "压力管道" in out and "迁出" in out


def test_dossier_code_reports_the_34_vs_42_defect(capsys: pytest.CaptureFixture[str]) -> None:
    code = KINDS["dossier-code"].generate(random.Random(2))
    rc, out, _ = run(capsys, "validate", "--code", "dossier-code", code)
    assert rc == 0 and "34" in out and "42" in out
    rc, out, _ = run(capsys, "validate", "--code", "dossier-code", code[:2] + code[10:])
    assert rc == 1 and "34" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "validate", "--code", "no-such-kind", "x")[0] == 2
    assert run(capsys, "validate", str(tmp_path / "missing.json"), "--schema", "equipment")[0] == 2
    f = tmp_path / "a.json"
    f.write_text("{}", encoding="utf-8")
    assert run(capsys, "validate", str(f), "--schema", "no-such-schema")[0] == 2
    assert run(capsys, "validate", str(f))[0] == 2
    assert run(capsys, "validate")[0] == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--no-such-option"])
    assert exc.value.code == 2


def _fixture(folder: str, valid: bool) -> Path:
    for label in contracts.load_data(contracts.FIXTURES / "json" / folder / "labels.yaml"):
        if label["valid"] == valid and "#" not in label["schema"]:
            return contracts.FIXTURES / "json" / folder / label["file"]
    raise LookupError(folder)


def test_json_file_valid_and_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "validate", str(_fixture("equipment", True)), "--schema", "equipment")
    assert rc == 0 and "符合" in out
    rc, out, _ = run(capsys, "validate", str(_fixture("equipment", False)), "--schema", "equipment")
    assert rc == 1 and "不符合" in out and "/" in out


@pytest.mark.parametrize(
    ("content", "expect_zh", "expect_en"),
    [
        (b"", "文件为空", "file is empty"),
        (b"   \n", "文件为空", "file is empty"),
        (b"{not json", "不是合法的 JSON", "not valid JSON"),
        ('{"a": "中文"}'.encode("gbk"), "UTF-8", "UTF-8"),
        (b"\xff\xfe{\x00}\x00", "UTF-8", "UTF-8"),
        (b"[1, 2, 3]", "类型错误", "is not of type"),
    ],
)
def test_bad_input_gets_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expect_zh: str, expect_en: str
) -> None:
    f = tmp_path / "bad.json"
    f.write_bytes(content)
    rc, out, err = run(capsys, "validate", str(f), "--schema", "equipment")
    assert rc == 1 and expect_zh in out and "Traceback" not in out + err
    rc, out, err = run(capsys, "--lang", "en", "validate", str(f), "--schema", "equipment")
    assert rc == 1 and expect_en in out


def test_huge_json_file_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import conformance.check.files as fc

    monkeypatch.setattr(fc.check_json_file, "__kwdefaults__", {"lang": "zh", "strict": True, "max_bytes": 1000})
    f = tmp_path / "big.json"
    f.write_bytes(b"[" + b"0," * 2000 + b"0]")
    rc, out, _ = run(capsys, "validate", str(f), "--schema", "equipment")
    assert rc == 1 and "文件过大" in out and "JSON Lines" in out


def test_jsonl_one_verdict_per_line_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen = DataGen(21)
    recs = [gen.equipment() for _ in range(6)]
    recs[2]["useUnitUscc"] = recs[2]["useUnitUscc"][:17] + ("0" if recs[2]["useUnitUscc"][17] != "0" else "1")
    del recs[4]["equipmentCode"]
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in recs]
    lines.insert(3, b"{broken")
    lines.insert(5, '{"x": "中"}'.encode("gbk"))
    f = tmp_path / "dump.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    rc, out, _ = run(capsys, "validate", str(f), "--schema", "equipment")
    verdicts = [line for line in out.splitlines() if line.startswith("第 ")]
    assert rc == 1 and len(verdicts) == 8
    assert "第 3 行：无效" in out and "/useUnitUscc" in out
    assert "第 4 行：无效：不是合法的 JSON" in out
    assert "第 6 行：无效：不是 UTF-8" in out
    assert "第 7 行：无效" in out and "equipmentCode" in out
    assert "共 8 行：有效 4，无效 4" in out
    rc, out, _ = run(
        capsys, "--lang", "en", "validate", str(f), "--schema", "equipment", "--failures-only", "--output", "jsonl"
    )
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["line"] for r in rows[:-1]] == [3, 4, 6, 7]
    assert rows[-1]["summary"] == {"total": 8, "valid": 4, "invalid": 4, "seconds": rows[-1]["summary"]["seconds"]}


def test_all_valid_jsonl_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen = DataGen(22)
    f = tmp_path / "ok.jsonl"
    f.write_text("".join(json.dumps(gen.unit(), ensure_ascii=False) + "\n" for _ in range(20)), encoding="utf-8")
    rc, out, _ = run(capsys, "validate", str(f), "--schema", "unit", "--failures-only")
    assert rc == 0 and "共 20 行：有效 20，无效 0" in out


def test_xml_valid_invalid_and_hostile(capsys: pytest.CaptureFixture[str]) -> None:
    folder = contracts.FIXTURES / "xml" / "dossier-metadata"
    labels = contracts.load_data(folder / "labels.yaml")
    valid = next(lab for lab in labels if lab["valid"])
    hostile = next(lab for lab in labels if lab.get("layer") == "parser")
    rc, out, _ = run(capsys, "validate", str(folder / valid["file"]), "--schema", "dossier-metadata")
    assert rc == 0
    rc, out, _ = run(capsys, "validate", str(folder / hostile["file"]), "--schema", "dossier-metadata")
    assert rc == 1 and ("DTD" in out or "实体" in out or "拒绝" in out), out


def test_console_script_runs_in_a_subprocess() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "validate", "--code", "division", "420102"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "有效" in proc.stdout


def test_selfcheck_contracts_only_passes(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "selfcheck", "--contracts-only")
    assert rc == 0 and "自检结果：通过" in out


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deeply_nested_records_are_invalid_lines_and_the_dump_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record nested 1,000 levels deep crashed the explanation (RecursionError) and stopped the dump:
    now it is one invalid line with the reason, in a closed schema and where the schema leaves a value open;
    deeper than orjson parses (1,024) it is an unparsed line."""
    gen = DataGen(23)
    recs = [json.dumps(gen.equipment(), ensure_ascii=False) for _ in range(4)]
    deep_field = json.dumps({**json.loads(recs[0]), "remark": "X"}, ensure_ascii=False).replace('"X"', _deep(1000))
    lines = [recs[0], deep_field, _deep(1000), recs[1], '{"a":' * 1000 + "1" + "}" * 1000, _deep(1100), recs[2]]
    f = tmp_path / "deep.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc, out, err = run(capsys, "validate", str(f), "--schema", "equipment")
    assert rc == 1 and "Traceback" not in out + err
    for n in (2, 3, 5):
        assert f"第 {n} 行：无效：/：JSON 嵌套超过 {MAX_JSON_DEPTH} 层" in out, out
    assert "第 6 行：无效" in out and "第 7 行：有效" in out
    assert "共 7 行：有效 3，无效 4" in out
    rc, out, _ = run(
        capsys, "--lang", "en", "validate", str(f), "--schema", "equipment", "--failures-only", "--output", "jsonl"
    )
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["line"] for r in rows[:-1]] == [2, 3, 5, 6]
    assert rows[0]["errors"] == [
        {
            "path": "",
            "rule": "maxDepth",
            "message": f"JSON nested deeper than {MAX_JSON_DEPTH} levels (the contracts: 7)",
        }
    ]
    assert rows[-1]["summary"]["invalid"] == 4


def test_deep_value_where_the_schema_leaves_it_open_is_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sharing#/$defs/change`` allows any object as ``record``: a record nested past the limit there was
    valid (and one a little deeper crashed the explanation); now it is invalid, in a dump and alone."""
    change = {"seq": 1, "operation": "UPLOAD", "key": "k", "changedAt": "2024-05-01T08:00:00+08:00", "record": {}}
    ok = json.dumps({**change, "record": {"a": json.loads(_deep(MAX_JSON_DEPTH - 2))}})
    deep = json.dumps({**change, "record": {"a": json.loads(_deep(MAX_JSON_DEPTH + 5))}})
    deeper = json.dumps({**change, "record": {"a": json.loads(_deep(900))}})
    f = tmp_path / "changes.jsonl"
    f.write_text("\n".join([ok, deep, ok, deeper]) + "\n", encoding="utf-8")
    rc, out, _ = run(capsys, "validate", str(f), "--schema", "sharing#/$defs/change")
    assert rc == 1 and "第 1 行：有效" in out and "第 3 行：有效" in out
    assert "第 2 行：无效：/：JSON 嵌套超过" in out and "第 4 行：无效：/：JSON 嵌套超过" in out
    assert "共 4 行：有效 2，无效 2" in out
    one = tmp_path / "change.json"
    one.write_text(deep, encoding="utf-8")
    rc, out, _ = run(capsys, "validate", str(one), "--schema", "sharing#/$defs/change")
    assert rc == 1 and "JSON 嵌套超过" in out


@pytest.mark.parametrize(
    ("kind", "value", "form"),
    [
        ("registration-no", "梯11闽E3622(16)", "4位流水号"),  # issued before TSG 08-2017
        ("registration-no", "梯11宁A00123（19）", "全角"),  # full-width brackets, as printed on certificates
        ("equipment-code", "31104403002009001047", "顺序号6"),  # legacy 20-character code, 6-digit serial
    ],
)
def test_validate_accepts_what_authorities_really_issued_by_default_and_strict_says_today(
    kind: str, value: str, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default rule is "held" (every form really issued, each named): these real numbers exited 1 before."""
    rc, out, _ = run(capsys, "validate", "--code", kind, value)
    assert rc == 0, out
    assert "规则：数据中真实存在的形式" in out and form in out
    rc, out, _ = run(capsys, "validate", "--code", kind, value, "--strict")
    assert rc == 1 and "规则：今天发证的形式（--strict）" in out, out
    rc, out, _ = run(capsys, "validate", "--code", kind, value, "--lenient")
    assert rc == 0, out
    with pytest.raises(SystemExit):
        main(["validate", "--code", kind, value, "--strict", "--lenient"])
