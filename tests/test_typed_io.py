"""Typed inputs and outputs: the target file against ``schemas/json/target.schema.json`` (validated on read, every
wrong key named by its TOML path in Chinese or English, exit 2), and report.json against
``schemas/json/report.schema.json`` (validated before it is written; a report that does not conform is still
written and ends the run as a harness error). docs/target-file.md.

The schemas are the contracts; these tests keep them and the code in step: every key the code reads is declared,
every enum is the one the code uses, every target file the project writes or documents validates, and a real
report of a quick run against the reference server validates while a corrupted one does not.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.check.schema import validator
from conformance.contract import documents as contracts
from conformance.harness.target import (
    COUNTERPARTS,
    SIMULATED_ROLES,
    THRESHOLD_SAMPLES,
    Target,
    TargetFileError,
    key_path,
    load_target,
)
from conformance.selfcheck.target_file import write_target
from tests import hostile, miniature

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "conformance"
TARGET = contracts.json_schema("target")
REPORT = contracts.json_schema("report")


def _props(*path: str, schema: dict[str, Any] = TARGET) -> dict[str, Any]:
    node = schema
    for p in path:
        node = node["properties"][p]
    return node["properties"]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ the schema and the code agree


def test_the_enums_of_the_target_schema_are_the_codes_the_harness_uses() -> None:
    from conformance.contract.clauses import target_features
    from conformance.contract.openapi import ROLES
    from conformance.harness.profiles import NAMES as PROFILES

    assert tuple(TARGET["properties"]["role"]["enum"]) == ROLES
    assert tuple(_props("urls")) == ROLES
    assert tuple(TARGET["properties"]["profile"]["enum"]) == PROFILES
    assert set(_props("features")) == set(target_features())
    assert tuple(_props("simulators", "ports")) == tuple(_props("simulators", "urls")) == SIMULATED_ROLES
    assert {r for roles in COUNTERPARTS.values() for r in roles} <= set(SIMULATED_ROLES)


def test_the_load_table_of_the_schema_agrees_with_the_load_settings() -> None:
    """``[load]`` is checked on reading by the schema and read by conformance/load/settings.py (which alone checks
    that ``client`` names a ``[clients.<name>]``); its group thresholds merge into the profile's groups."""
    from conformance.load import profiles, settings

    load = TARGET["properties"]["load"]
    assert set(load["properties"]) == settings._KEYS
    assert tuple(load["properties"]["writes"]["enum"]) == settings.WRITES
    assert tuple(load["properties"]["sign"]["enum"]) == settings.SIGN_METHODS
    group = load["properties"]["thresholds"]["additionalProperties"]
    assert set(group["properties"]) == profiles._GROUP_KEYS
    assert tuple(group["properties"]["kind"]["enum"]) == profiles.KINDS
    assert set(group["properties"]) - {"role", "kind", "title", "title_en"} == set(profiles.METRICS)


def test_the_schema_defaults_are_the_code_defaults() -> None:
    from conformance.harness.target import SimulatorSettings

    defaults = SimulatorSettings()
    for key, prop in _props("simulators").items():
        if "default" in prop:
            assert getattr(defaults, key) == prop["default"], key
    assert Target("x", "sharing", {}).profile == TARGET["properties"]["profile"]["default"]


def _threshold_keys_read() -> set[str]:
    """Every ``[thresholds]`` key the package reads: ``thresholds.get("k"…)`` / ``thresholds["k"]``, the suites'
    ``threshold(target, "k", …)``, the fuzzing depth names, the sample keys and the licensing authority."""
    from conformance.harness.preflight import USER_KEYS

    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"thresholds(?:\.get\(|\[)\s*\"([a-z0-9_]+)\"", text))
        found |= set(re.findall(r"\bthreshold\(\s*\w+,\s*\"([a-z0-9_]+)\"", text))
    contract_suite = (PACKAGE / "suites" / "test_contract.py").read_text(encoding="utf-8")
    found |= set(re.findall(r"\"((?:fuzz_|near_miss_)[a-z_]+)\"", contract_suite))
    found |= set(THRESHOLD_SAMPLES) | {key for _, key, _ in USER_KEYS}
    return found


def test_every_threshold_the_code_reads_is_declared_and_every_declared_one_is_read() -> None:
    from conformance.datagen.licensing import authority_of

    declared = set(_props("thresholds"))
    read = _threshold_keys_read()
    assert read - declared == set(), "[thresholds] keys read by the code but missing from target.schema.json"
    authority = {k for k in declared if k.startswith("licensing_authority_")}
    given = {
        "licensing_authority_name": "武汉市江岸区市场监督管理局",
        "licensing_authority_uscc": "11420102MB1C23651T",
        "licensing_authority_division": "420102",
    }
    assert set(given) == authority
    assert authority_of(Target("x", "licensing", {}, thresholds=given)) == {
        k.removeprefix("licensing_authority_"): v for k, v in given.items()
    }
    assert declared - read - authority == set(), "declared in target.schema.json but read nowhere"


def test_the_harness_own_schemas_change_no_derived_key_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzing checks and the plausibility checks derive key maps from every schema of schemas/json; the
    target file's, the report's and the audit report's schemas must not change what they find for the names of the wire contracts
    (a name only they use, such as ``licensing_authority_uscc``, never occurs on the wire)."""
    from conformance.check import plausibility
    from conformance.fuzz import checks

    cached = (checks.property_kinds, checks.identifier_keys, plausibility.event_time_keys)

    def derived() -> tuple[dict[str, Any], dict[str, str], frozenset[str]]:
        for f in cached:
            f.cache_clear()
        return dict(checks.property_kinds()), dict(checks.identifier_keys()), plausibility.event_time_keys()

    kinds, keys, events = derived()
    everything = contracts.json_schema_names()
    monkeypatch.setattr(
        contracts, "json_schema_names", lambda: [n for n in everything if n not in ("target", "report", "audit-report")]
    )
    try:
        wire_kinds, wire_keys, wire_events = derived()
        wire_suffixed = {n: checks.kind_for_key(n) for n in wire_kinds}
    finally:
        monkeypatch.undo()
        for f in cached:
            f.cache_clear()
    assert {n: k for n, k in kinds.items() if n in wire_kinds} == wire_kinds
    assert {n: k for n, k in keys.items() if n in wire_kinds or n not in kinds} == wire_keys
    assert {n: checks.kind_for_key(n) for n in wire_kinds} == wire_suffixed
    assert events == wire_events


# ------------------------------------------------------------------------------ every target file validates


def _toml_examples(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


def _docstring_example(path: Path) -> str:
    """The indented TOML example after the first ``::`` of a module docstring."""
    doc = path.read_text(encoding="utf-8").split('"""')[1]
    block = doc.split("::\n", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


#: Top-level keys of a performance profile (loadtests/profiles), not of a target file.
_PROFILE_ONLY = {"extends", "declared", "judgement", "clauses", "mix", "groups", "options"}


def _documented_examples() -> list[tuple[str, str]]:
    out = [
        (f"{p.relative_to(ROOT)} docstring", _docstring_example(p))
        for p in (
            PACKAGE / "harness" / "target.py",
            PACKAGE / "load" / "settings.py",
        )
    ]
    for doc in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        for i, block in enumerate(_toml_examples(doc.read_text(encoding="utf-8"))):
            if not set(tomllib.loads(block)) & _PROFILE_ONLY:
                out.append((f"{doc.relative_to(ROOT)} example {i + 1}", block))
    return out


DOCUMENTED = _documented_examples()


@pytest.mark.parametrize("text", [t for _, t in DOCUMENTED], ids=[n for n, _ in DOCUMENTED])
def test_every_documented_target_file_validates(text: str) -> None:
    v = validator("target", strict=False)
    data = tomllib.loads(text)
    assert v.errors(data) == [] and v.is_valid(data)


def test_the_documentation_shows_every_table_of_the_target_file() -> None:
    shown = set().union(*(tomllib.loads(t) for _, t in DOCUMENTED))
    assert set(TARGET["properties"]) <= shown


def test_the_target_file_page_names_every_key_of_every_table() -> None:
    page = (ROOT / "docs" / "target-file.md").read_text(encoding="utf-8")
    keys = {*TARGET["properties"], *_props("thresholds"), *_props("run"), *_props("simulators"), *_props("load")}
    assert {k for k in keys if not re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", page)} == set()


def test_the_target_files_the_project_writes_validate(tmp_path: Path) -> None:
    from conformance.selfcheck.demo_target import SIMULATOR_WAITS

    ca = _write(tmp_path / "ca.pem", "not read here")
    files = [
        write_target(tmp_path / "a.toml", {"sharing": "http://127.0.0.1:9/sharing"}, "sharing"),
        write_target(tmp_path / "b.toml", {"licensing": "http://127.0.0.1:9"}, "licensing", features=(), max_body=10),
        write_target(
            tmp_path / "c.toml",
            {"licensing": "http://127.0.0.1:9", "inspection": "http://127.0.0.1:10"},
            "licensing",
            simulators={
                **SIMULATOR_WAITS,
                "attended": True,
                "attended_timeout_s": 120,
                "instructions_file": str(tmp_path / "i.jsonl"),
                "control_token": "t0ken",
                "ports": {"gov-platform": 0, "supervision": 18703},
                "urls": {"inspection": "http://127.0.0.1:18702"},
            },
            ca_file=ca,
        ),
        hostile.target_file(tmp_path / "h.toml", "http://127.0.0.1:9"),
        hostile.target_file(
            tmp_path / "s.toml",
            "http://127.0.0.1:9",
            "request_timeout_s = 1.0\nfuzz_deadline_s = 15\nfuzz_max_examples = 1\nfuzz_max_coverage = 2\n",
        ),
    ]
    for f in files:
        t = load_target(str(f))
        assert t.role and t.urls, f
    assert load_target(str(files[2])).simulators.control_token == "t0ken"


def test_the_demo_target_files_of_the_reference_server_validate(tmp_path: Path) -> None:
    """``demo_target`` adds the sample identifiers of a seeded reference server (``[thresholds]``)."""
    from conformance.selfcheck.demo_target import demo_target
    from tests.refserver import running

    with running(tmp_path, "all", seed=1, access_log=False) as srv:
        for role in ("inspection", "gov-platform", "sharing"):
            t = load_target(str(demo_target(tmp_path / f"{role}.toml", srv, role)))
            assert t.role == role
    assert load_target(str(tmp_path / "inspection.toml")).thresholds["report_numbers"]
    assert load_target(str(tmp_path / "gov-platform.toml")).thresholds["gov_natural_user_id"]


# ------------------------------------------------------------------------------ an invalid target file


BAD = """role = "licensing"
name = 2024-11-22
[urls]
licensing = "lic.example.gov.cn"
[run]
deadline_s = 0
[simulators.ports]
sharing = 18705
[features]
workflow-drivr = true
[thresholds]
report_numbers = ["R1", 2]
[load.thresholds."sharing.get"]
p95_ms = "fast"
"""
#: (TOML key path, what its error says) of every problem of :data:`BAD` (in the order of their JSON Pointers),
#: Chinese and English.
BAD_ZH = [
    ("[features] workflow-drivr", "不允许的字段“workflow-drivr”（可用的键：workflow-driver、"),
    ('[load.thresholds."sharing.get"] p95_ms', "类型错误"),
    ("name", "不接受 TOML 日期时间"),
    ("[run] deadline_s", "过小"),
    ("[simulators.ports] sharing", "（可用的键：gov-platform、inspection、supervision、licensing、national）"),
    ("[thresholds] report_numbers[1]", "应为字符串，实为整数"),
    ("[urls] licensing", "格式不符"),
]
BAD_EN = [
    ("[features] workflow-drivr", "(allowed: workflow-driver, "),
    ('[load.thresholds."sharing.get"] p95_ms', "is not of type"),
    ("name", "TOML date/time"),
    ("[run] deadline_s", "less than or equal to the minimum of 0"),
    ("[simulators.ports] sharing", "(allowed: gov-platform, inspection, supervision, licensing, national)"),
    ("[thresholds] report_numbers[1]", "is not of type 'string'"),
    ("[urls] licensing", "does not match"),
]


def test_an_invalid_target_file_names_every_wrong_key_by_its_toml_path(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.toml", BAD)
    with pytest.raises(TargetFileError) as caught:
        load_target(str(bad), lang="zh")
    err = caught.value
    assert isinstance(err, ValueError)
    lines = str(err).splitlines()
    assert lines[0] == f"目标文件 {bad} 不符合 schemas/json/target.schema.json（7 处）："
    assert [line.strip().split("：", 1)[0] for line in lines[1:]] == [k for k, _ in BAD_ZH]
    for line, (_, said) in zip(lines[1:], BAD_ZH, strict=True):
        assert said in line, line
    english = err.message("en").splitlines()
    assert english[0].startswith(f"target file {bad} does not conform to schemas/json/target.schema.json (7 problems)")
    for line, (key, said) in zip(english[1:], BAD_EN, strict=True):
        assert line.strip().startswith(f"{key}: ") and said in line, line


def test_the_language_of_a_target_file_error_follows_the_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = _write(tmp_path / "bad.toml", 'role = "sharing"\n[run]\nbreaker_failures = 0\n')
    monkeypatch.delenv("TZSB_LANG", raising=False)
    with pytest.raises(TargetFileError, match=r"目标文件 .* 不符合 .*\n  \[run\] breaker_failures："):
        load_target(str(bad))
    monkeypatch.setenv("TZSB_LANG", "en")
    with pytest.raises(TargetFileError, match=r"does not conform .*\n  \[run\] breaker_failures: "):
        load_target(str(bad))
    with pytest.raises(TargetFileError, match="不符合"):
        load_target(str(bad), lang="zh")
    dated = _write(tmp_path / "dated.toml", 'role = "sharing"\nsince = 2024-11-22\n')
    with pytest.raises(TargetFileError, match="不允许的字段“since”"):  # unknown, whatever its value
        load_target(str(dated), lang="zh")
    not_toml = _write(tmp_path / "broken.toml", 'role = "sharing"\n[urls\n')
    with pytest.raises(ValueError, match="不是有效的 TOML"):
        load_target(str(not_toml), lang="zh")


def test_key_paths_read_as_toml() -> None:
    data = {"run": {"x": 1}, "load": {"thresholds": {"sharing.get": {"p95_ms": 1}}}, "thresholds": {"r": [1, 2]}}
    assert key_path("/role", data) == "role"
    assert key_path("/run/x", data) == "[run] x"
    assert key_path("/load/thresholds/sharing.get/p95_ms", data) == '[load.thresholds."sharing.get"] p95_ms'
    assert key_path("/thresholds/r/1", data) == "[thresholds] r[1]"
    assert key_path("/run", data) == "[run]"
    assert key_path("", data) == ""


def test_the_runtime_checks_the_schema_cannot_make_remain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TZSB_NOT_SET", raising=False)
    env = _write(
        tmp_path / "env.toml", 'role = "sharing"\n[credentials]\nclient_id = "a"\nclient_secret_env = "TZSB_NOT_SET"\n'
    )
    with pytest.raises(ValueError, match="TZSB_NOT_SET"):
        load_target(str(env))
    ca = _write(tmp_path / "ca.toml", 'role = "sharing"\n[tls]\nca_file = "missing.pem"\n')
    with pytest.raises(ValueError, match=r"missing\.pem"):
        load_target(str(ca))
    with pytest.raises(ValueError, match="未给出被测角色"):
        load_target(str(_write(tmp_path / "norole.toml", 'name = "x"\n')))


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tzsb-conform ARGS`` in a process of its own (the console script's function; no TZSB_LANG)."""
    environ = {k: v for k, v in os.environ.items() if k != "TZSB_LANG"}
    environ["PYTHONPATH"] = str(ROOT)
    code = "import sys; from conformance.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=environ, capture_output=True, text=True, check=False
    )


def test_tzsb_conform_run_exits_2_on_an_invalid_target_file(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.toml", BAD)
    done = _cli(["run", "--target", str(bad), "--out", str(tmp_path / "out")], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[run] deadline_s：" in done.stderr and "（7 处）" in done.stderr, done.stderr
    english = _cli(["--lang", "en", "run", "--target", str(bad), "--out", str(tmp_path / "out-en")], tmp_path)
    assert english.returncode == 2
    assert "(7 problems)" in english.stderr and "[run] deadline_s: " in english.stderr, english.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_tzsb_conform_load_exits_2_on_an_invalid_target_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.load.cli import EXIT_USAGE, main

    bad = _write(
        tmp_path / "bad.toml", 'role = "sharing"\n[urls]\nsharing = "http://127.0.0.1:9"\n[load]\nwrites = "some"\n'
    )
    assert main(["--target", str(bad), "--out", str(tmp_path / "out")]) == EXIT_USAGE
    assert "[load] writes：" in capsys.readouterr().err


# ------------------------------------------------------------------------------ report.json


def _answers(path: Path) -> Path:
    from conformance.contract.clauses import load_catalogue

    answers = {
        c["id"]: {
            "answer": "yes",
            "by": "王磊（信息中心主任）",
            "evidence": "《接口技术方案》第 3 节",
            "date": "2024-11-22",
        }
        for c in load_catalogue()
        if c["verification"] == "attestation"
    }
    path.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """report.json of a quick run of the supervision suite against the reference server, with attestation answers."""
    tmp = tmp_path_factory.mktemp("typed-report")
    with miniature.plain(tmp, "supervision", seed=1) as m:
        code = miniature.run_bounded(
            600,
            target=str(m.target),
            role="supervision",
            profile="quick",
            client_id=None,
            features=[],
            out=tmp / "out",
            answers=str(_answers(tmp / "answers.yaml")),
            lang="zh",
            suites=["test_supervision"],
            extra=["-p", "no:randomly"],
        )
    assert code in (0, 1), code  # a verdict, not a harness error (a non-conforming report would be exit 2)
    return json.loads((tmp / "out" / "report.json").read_text(encoding="utf-8"))


def test_a_real_report_of_a_quick_reference_run_validates(quick_report: dict[str, Any]) -> None:
    v = validator("report")
    assert v.errors(quick_report) == [] and v.is_valid(quick_report)
    assert "harnessError" not in quick_report["summary"]
    assert quick_report["preflight"]["checks"] and quick_report["tests"] and quick_report["clauses"]
    assert any(a["answer"] and a["answer"]["answer"] == "yes" for a in quick_report["attestation"])


def _drop(*keys: Any) -> Any:
    def change(r: dict[str, Any]) -> None:
        node = r
        for k in keys[:-1]:
            node = node[k]
        del node[keys[-1]]

    return change


def _set(*keys: Any, value: Any) -> Any:
    def change(r: dict[str, Any]) -> None:
        node = r
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return change


CORRUPTIONS = {
    "no certification verdict": (_drop("summary", "certification"), "/summary/certification", "required"),
    "a verdict that is not one": (_set("clauses", 0, "verdict", value="通过"), "/clauses/0/verdict", "enum"),
    "an unknown outcome": (_set("tests", 0, "outcome", value="xpassed"), "/tests/0/outcome", "enum"),
    "an unknown top-level field": (_set("verdict", value="通过"), "/verdict", "additionalProperties"),
    "a negative evidence index": (_set("clauses", 0, "evidence", value=[-1]), "/clauses/0/evidence/0", "minimum"),
    "another format": (_set("schema", value="tzsb-report/2"), "/schema", "const"),
    "a time without offset": (_set("run", "started", value="2024-11-22T09:30:00"), "/run/started", "pattern"),
    "an attestation item without its answer": (_drop("attestation", 0, "answer"), "/attestation/0/answer", "required"),
    "a preflight status": (
        _set("preflight", "checks", 0, "status", value="fine"),
        "/preflight/checks/0/status",
        "enum",
    ),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_a_corrupted_report_does_not_validate(quick_report: dict[str, Any], name: str) -> None:
    change, path, keyword = CORRUPTIONS[name]
    report = copy.deepcopy(quick_report)
    change(report)
    v = validator("report")
    assert not v.is_valid(report)
    assert (path, keyword) in [(e.path, e.keyword) for e in v.errors(report)]


def _state(outcome: str) -> Any:
    from conformance.client import Evidence
    from conformance.report.verdicts import Outcome

    target = Target(name="平台", role="sharing", urls={"sharing": "http://127.0.0.1:9/sharing"})
    return type(
        "S",
        (),
        {
            "target": target,
            "evidence": Evidence(),
            "started": 0.0,
            "outcomes": [Outcome("t::a", outcome, ("SHARE.IF.FUNC.1",))],
        },
    )()


def test_the_writer_writes_a_conforming_report_without_a_harness_error(tmp_path: Path) -> None:
    from conformance.report.writer import REPORT_SCHEMA, write_report

    state = _state("passed")
    report = json.loads((write_report(tmp_path, state) / "report.json").read_text(encoding="utf-8"))
    assert report["schema"] == REPORT_SCHEMA == REPORT["properties"]["schema"]["const"]
    assert validator("report").is_valid(report) and "harnessError" not in report["summary"]
    assert getattr(state, "harness_error", None) is None


def test_a_non_conforming_report_is_still_written_and_is_a_harness_error(tmp_path: Path) -> None:
    """A harness bug (here: an outcome the format does not know) never goes unnoticed, and never costs the report."""
    from conformance.report.writer import write_report

    state = _state("xpassed")
    out = write_report(tmp_path, state)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    error = report["summary"]["harnessError"]
    assert "report.schema.json" in error and "/tests/0/outcome" in error and " / " in error
    assert report["summary"]["certification"] == report["summary"]["interface"] == "不通过"
    assert state.harness_error == error and state.summary == report["summary"]
    for name in ("evidence.json", "report.html", "manifest.json"):
        assert (out / name).is_file(), name


def test_a_run_whose_report_does_not_conform_exits_2_with_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.report import writer

    real = writer.build_report

    def buggy(*args: Any, **kw: Any) -> dict[str, Any]:
        report = real(*args, **kw)
        report["run"]["harnessVersion"] = 1  # a bug of the harness: a number where the format has a string
        return report

    monkeypatch.setattr(writer, "build_report", buggy)
    with miniature.plain(tmp_path, "supervision", seed=1) as m:
        code = miniature.run_quick(600, m.target, tmp_path / "out", role="supervision", suites=["test_supervision"])
    assert code == 2
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert "/run/harnessVersion" in report["summary"]["harnessError"]
    assert report["tests"], "the findings of the run are kept"


def test_joining_a_load_run_that_breaks_the_format_writes_and_raises(tmp_path: Path) -> None:
    from conformance.report.writer import ReportSchemaError, merge_performance, write_report

    out = write_report(tmp_path / "run", _state("passed"))
    load_dir = out / "load" / "sharing"
    load_dir.mkdir(parents=True)
    doc = {
        "run": {
            "role": "sharing",
            "target": {"urls": {"sharing": "http://127.0.0.1:9/sharing"}},
            "window": {"seconds": 10},
            "profile": {"name": "smoke"},
            "users": {},
            "workers": {},
            "started": "a",
            "ended": "b",
        },
        "checks": [],
        "clauses": [],
        "files": {},
        "generator": {"saturated": "no", "reasons": [], "warnings": []},  # a bug: not a boolean
        "groups": {},
    }
    with pytest.raises(ReportSchemaError, match="/performance/0/generator/saturated"):
        merge_performance(out, doc, load_dir, [])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "/performance/0/generator/saturated" in report["summary"]["harnessError"]
    doc["generator"]["saturated"] = False
    merge_performance(out, doc, load_dir, [])  # a conforming join: valid, the earlier harness error kept
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert validator("report").is_valid(report) and "harnessError" in report["summary"]
