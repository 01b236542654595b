"""The performance machinery without load (fast): profiles and their consistency with the catalogue's
performance clauses, the target file's ``[load]``, the host guard, histograms, the judgement rules
(samples, concurrency, saturation, aborted runs), the chart and page, and joining a load run to a
certification report. The Locust runs themselves are in ``tests/test_load_run.py``."""

from __future__ import annotations

import ast
import json
import math
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.clauses import load_catalogue
from conformance.contract.openapi import ROLES
from conformance.harness.target import TargetFileError, load_target
from conformance.load import analysis, histogram
from conformance.load.chart import render_svg
from conformance.load.guard import HostGuard, HostNotAllowed
from conformance.load.output import render_page
from conformance.load.profiles import (
    LOADTESTS_DIR,
    PROFILES_DIR,
    ProfileError,
    format_threshold,
    load_profile,
    profile_names,
)
from conformance.load.settings import SettingsError, read_settings

CATALOGUE = {c["id"]: c for c in load_catalogue()}
KIND_WORDS = {"get": "按标识获取", "list": "列表与检索", "push": "推送与上报", "file": "文件下载"}


# ------------------------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("name", profile_names())
def test_every_shipped_profile_loads(name: str) -> None:
    p = load_profile(name)
    assert p.users >= 1 and p.duration_s > 0 and p.warmup_s >= p.users / p.spawn_rate
    assert set(p.clauses) == set(ROLES), f"{name}: every role maps its checks to clauses"


def test_smoke_is_at_most_fifteen_seconds() -> None:
    p = load_profile("smoke")
    assert p.warmup_s + p.duration_s <= 15


def test_certification_runs_at_the_declared_concurrency() -> None:
    p = load_profile("certification")
    assert p.users == p.declared_concurrency == 50
    assert load_profile("certification", declared=80).users == 80


def test_declared_concurrency_is_the_clause_text_default() -> None:
    p = load_profile("defaults")
    assert f"默认{p.declared_concurrency}个并发调用方" in CATALOGUE["SHARE.IF.PERF.1"]["text"]
    assert f"默认{p.declared_concurrency}个并发调用方" in CATALOGUE["PROFILE.PERF.1"]["text"]


def test_default_thresholds_read_as_the_clause_texts_say() -> None:
    """Every default threshold appears, as written, in the text of the clause its check supports; for
    the DB42 roles next to the words of its kind (按标识获取 500 ms …)."""
    p = load_profile("defaults")
    assert p.groups, "no groups"
    for name, g in p.groups.items():
        for metric, value in g.thresholds.items():
            clause = p.clause_for(g.role, metric)
            assert clause in CATALOGUE, f"{name} {metric}: clause {clause} not in the catalogue"
            c = CATALOGUE[clause]
            assert c["concern"] == "performance" and g.role in c["roles"], (
                f"{clause} is not a performance clause of {g.role}"
            )
            shown = format_threshold(metric, value)
            text = c["text"].replace("100条/消息", "")
            assert shown in text, f"{name} {metric} = {shown} does not appear in {clause}: {c['text']}"
            if clause.startswith("PROFILE.") and metric in ("p95_ms", "min_rps"):
                words = KIND_WORDS[g.kind]
                assert re.search(re.escape(words) + r"[^；。]*?" + re.escape(shown), c["text"]), (
                    f"{name}: {shown} is not the {words} number of {clause}"
                )


def test_sharing_defaults_are_the_share_clause_numbers() -> None:
    g = load_profile("defaults").groups
    assert g["sharing.get"].thresholds["p95_ms"] == 500
    assert g["sharing.query"].thresholds["p95_ms"] == g["sharing.changes"].thresholds["p95_ms"] == 2000
    assert g["sharing.push"].thresholds["p95_ms"] == 3000
    assert g["sharing.changes"].thresholds["min_records_per_caller_s"] == 1000
    assert g["sharing.push"].thresholds["min_records_per_caller_s"] == 500
    assert all(x.thresholds["max_error_rate"] == 0.001 for x in g.values())


def _classes(role: str) -> set[str]:
    tree = ast.parse((LOADTESTS_DIR / f"locustfile_{role.replace('-', '_')}.py").read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.ClassDef)}


@pytest.mark.parametrize("role", ROLES)
def test_every_mixed_user_class_exists_in_the_role_locustfile(role: str) -> None:
    mix = load_profile("defaults").mix[role]
    assert mix and set(mix) <= _classes(role), f"{role}: {set(mix) - _classes(role)} not in the locustfile"


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_supervisor_profile_extends_and_overrides(tmp_path: Path) -> None:
    spec = _write(
        tmp_path,
        "mine",
        'extends = "certification"\n[run]\nduration_s = 1800\n'
        '[groups."sharing.get"]\np95_ms = 300\np99_ms = 800\nmax_error_rate = false\n',
    )
    p = load_profile(spec)
    assert p.duration_s == 1800 and p.warmup_s == 60
    assert p.groups["sharing.get"].thresholds == {"p95_ms": 300, "p99_ms": 800}
    assert str(PROFILES_DIR / "certification.toml") in p.sources and p.sources[-1] == spec


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('extends = "smoke"\n[run]\nduraton_s = 5\n', "unknown"),
        ('extends = "smoke"\n[groups."sharing.get"]\np95 = 5\n', "unknown"),
        ('extends = "smoke"\n[groups."sharing.gett"]\np95_ms = 5\n', "role"),
        ('extends = "smoke"\n[run]\nwarmup_s = 0.1\n', "预热"),
        ('extends = "smoke"\n[groups."sharing.get"]\nmax_error_rate = 2\n', "范围"),
        ('extends = "nope"\n', "找不到"),
        ('titel = "x"\n', "未知"),
    ],
)
def test_a_malformed_profile_is_refused(tmp_path: Path, text: str, why: str) -> None:
    with pytest.raises(ProfileError, match=why):
        load_profile(_write(tmp_path, "bad", text))


def test_circular_extends_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a", 'extends = "b"\n')
    _write(tmp_path, "b", 'extends = "a"\n')
    with pytest.raises(ProfileError, match="循环"):
        load_profile(str(tmp_path / "a.toml"))


def test_command_line_overrides_and_target_thresholds(tmp_path: Path) -> None:
    p = load_profile(
        "smoke",
        overrides={"users": 3, "duration_s": 4, "warmup_s": None},
        thresholds={"sharing.get": {"p95_ms": 123}},
        declared=3,
    )
    assert (p.users, p.duration_s, p.warmup_s, p.declared_concurrency) == (3, 4, 3, 3)
    assert p.groups["sharing.get"].thresholds["p95_ms"] == 123


# ------------------------------------------------------------------------------------------- [load]


def test_load_section_of_the_target_file(tmp_path: Path) -> None:
    t = tmp_path / "t.toml"
    t.write_text(
        'role = "inspection"\n[urls]\ninspection = "http://127.0.0.1:9"\n[credentials]\nclient_id = "a"\nclient_secret = "b"\n'
        '[clients.loadtest]\nclient_id = "lt"\nclient_secret = "s"\n[thresholds]\nreport_numbers = "R1, R2"\n'
        '[load]\nclient = "loadtest"\nconcurrency = 20\nwrites = "none"\nhosts = ["https://files.example.gov.cn"]\n'
        '[load.thresholds."T6-1"]\np95_ms = 200\n[load.samples]\nholderId = ["91420100MA4K2ABC1X"]\n',
        encoding="utf-8",
    )
    s = read_settings(load_target(str(t)))
    assert (s.client, s.concurrency, s.writes, s.hosts) == ("loadtest", 20, "none", ["https://files.example.gov.cn"])
    assert s.thresholds == {"T6-1": {"p95_ms": 200}}
    assert s.samples == {"reportNo": ["R1", "R2"], "holderId": ["91420100MA4K2ABC1X"]}


@pytest.mark.parametrize("extra", ['writes = "some"', 'client = "ghost"', "concurrency = 0", 'colour = "red"'])
def test_a_malformed_load_section_is_refused(tmp_path: Path, extra: str) -> None:
    t = tmp_path / "t.toml"
    t.write_text(f'role = "sharing"\n[urls]\nsharing = "http://127.0.0.1:9"\n[load]\n{extra}\n', encoding="utf-8")
    with pytest.raises((SettingsError, TargetFileError)):  # the schema refuses on reading, read_settings the rest
        read_settings(load_target(str(t)))


# ------------------------------------------------------------------------------------------- host guard


def test_the_host_guard_allows_only_the_target_origins() -> None:
    g = HostGuard(["http://127.0.0.1:8700/sharing", "https://share.example.gov.cn/tzsb"])
    assert g.allows("http://127.0.0.1:8700/sharing/api/v1/equipment/x")
    assert g.allows("http://127.0.0.1:8700/other-role")  # same origin
    assert g.allows("https://SHARE.example.gov.cn:443/files/1")  # default port, case
    for url in (
        "http://127.0.0.1:8701/sharing",
        "https://127.0.0.1:8700/",
        "http://localhost:8700/",
        "http://127.0.0.1:8700@evil.example/",
        "https://share.example.gov.cn.evil.example/",
        "ftp://127.0.0.1:8700/",
        "/relative",
        "http://[::1]:8700/",
    ):
        assert not g.allows(url), url
    with pytest.raises(HostNotAllowed):
        g.check("http://169.254.169.254/latest/meta-data")
    with pytest.raises(ValueError):
        HostGuard(["not a url"])


# ------------------------------------------------------------------------------------------- histograms


def test_percentiles_are_exact_upper_bounds() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(3, 1) for _ in range(5000)] + [rng.uniform(1000, 20000) for _ in range(100)]
    h = histogram.from_values(values)
    ordered = sorted(values)
    for q in (50, 90, 95, 99, 99.9):
        exact = ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]
        got = histogram.percentile(h, q)
        assert got is not None and exact < got <= exact * 1.01 + 1, (q, exact, got)
    a, b = histogram.from_values(values[:2000]), histogram.from_values(values[2000:])
    assert histogram.merge(dict(a), b) == h
    assert histogram.percentile({}, 95) is None


def test_a_threshold_is_never_passed_by_rounding() -> None:
    assert histogram.percentile(histogram.from_values([500.2] * 10), 95) == 501
    assert histogram.percentile(histogram.from_values([499.9] * 10), 95) == 500


# ------------------------------------------------------------------------------------------- judgement


def _ops(
    ok: int,
    *,
    ms: float = 20.0,
    errors: dict[str, int] | None = None,
    records: int = 0,
    users: int = 2,
    throttled: int = 0,
) -> dict[str, Any]:
    return {
        "op": {
            "ok": ok,
            "timeouts": (errors or {}).get("timeout", 0),
            "throttled": throttled,
            "records": records,
            "bytes": 0,
            "errors": errors or {},
            "hist": {histogram.fine_key(ms): ok} if ok else {},
            "users": [f"u{i}" for i in range(users)],
        }
    }


def _raw(groups: dict[str, Any], seconds: float = 10.0) -> dict[str, Any]:
    return {"durationS": seconds, "window": [100.0, 100.0 + seconds], "groups": groups}


def _by(checks: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["group"], c["metric"]): c for c in checks}


def _judge(
    raw: dict[str, Any], *, users: int = 50, saturated: bool = False, aborted: str | None = None, profile: Any = None
) -> dict[tuple[str, str], dict[str, Any]]:
    gen = {"saturated": saturated, "reasons": ["x"] if saturated else [], "warnings": [], "procs": []}
    return _by(
        analysis.judge("sharing", profile or load_profile("defaults"), raw, gen, aborted=aborted, users_measured=users)
    )


def test_thresholds_pass_and_fail() -> None:
    c = _judge(
        _raw(
            {
                "sharing.get": _ops(5000, ms=40),
                "sharing.changes": _ops(500, ms=3000, records=40_000, users=5),
                "sharing.push": _ops(500, ms=100, records=25_000, users=5),
            }
        )
    )
    assert c[("sharing.get", "p95_ms")]["outcome"] == "passed"
    assert c[("sharing.get", "max_error_rate")]["outcome"] == "passed"
    assert c[("sharing.changes", "p95_ms")]["outcome"] == "failed"  # 3 s > 2 s
    assert (
        c[("sharing.changes", "min_records_per_caller_s")]["outcome"] == "failed"
    )  # 40 000 / 10 s / 5 callers = 800 < 1000
    assert c[("sharing.changes", "min_records_per_caller_s")]["value"] == 800.0
    assert c[("sharing.push", "min_records_per_caller_s")]["outcome"] == "passed"  # 25 000 / 10 s / 5 = 500 ≥ 500
    assert c[("sharing.query", "p95_ms")]["outcome"] == "skipped"  # no request of the group


def test_errors_count_against_the_error_rate_and_429_with_retry_after_does_not() -> None:
    c = _judge(_raw({"sharing.get": _ops(5000, errors={"5xx": 10}, throttled=400)}))
    assert c[("sharing.get", "max_error_rate")]["outcome"] == "failed"
    assert c[("sharing.get", "retry_after")]["outcome"] == "passed"
    c = _judge(_raw({"sharing.get": _ops(5000, throttled=10, errors={"throttled-no-retry-after": 3})}))
    assert c[("sharing.get", "retry_after")]["outcome"] == "failed"
    assert c[("sharing.get", "max_error_rate")]["outcome"] == "passed"  # 3 / 5013 < 0.1 %


def test_too_few_samples_is_untested_never_a_pass() -> None:
    c = _judge(_raw({"sharing.get": _ops(12)}))
    assert c[("sharing.get", "p95_ms")]["outcome"] == "skipped"
    assert c[("sharing.get", "max_error_rate")]["outcome"] == "skipped"  # 0 errors in 12 says nothing about 0.1 %
    c = _judge(_raw({"sharing.get": _ops(12, errors={"timeout": 3})}))
    assert c[("sharing.get", "max_error_rate")]["outcome"] == "failed"  # but 3 in 15 is far above


def test_below_the_declared_concurrency_a_pass_is_untested_and_a_failure_stands() -> None:
    p = load_profile("defaults")
    spec = p.groups["dossier.get"]
    assert spec.thresholds["min_rps"] == 5
    raw = _raw({"sharing.get": _ops(5000, ms=40), "sharing.query": _ops(500, ms=5000)})
    c = _judge(raw, users=10)
    assert c[("sharing.get", "p95_ms")]["outcome"] == "skipped"
    assert c[("sharing.query", "p95_ms")]["outcome"] == "failed"
    lic = _by(
        analysis.judge(
            "licensing",
            p,
            _raw({"dossier.get": _ops(30), "dossier.list": _ops(5000)}),
            {"saturated": False},
            aborted=None,
            users_measured=10,
        )
    )
    assert lic[("dossier.get", "min_rps")]["outcome"] == "skipped"  # 3/s below 5/s at 10 users: more users may reach it
    assert lic[("dossier.list", "min_rps")]["outcome"] == "passed"  # 500/s at 10 users: more users will not do less


def test_a_saturated_generator_makes_failures_errors_not_verdicts() -> None:
    c = _judge(_raw({"sharing.get": _ops(5000, ms=40), "sharing.query": _ops(500, ms=5000)}), saturated=True)
    assert c[("sharing.get", "p95_ms")]["outcome"] == "passed"
    assert c[("sharing.query", "p95_ms")]["outcome"] == "error"


def test_an_aborted_run_is_an_error() -> None:
    c = _judge(None, aborted="killed")  # type: ignore[arg-type]
    assert {x["outcome"] for x in c.values()} == {"error"}


def test_clause_verdicts_follow_the_project_rules() -> None:
    checks = analysis.judge(
        "sharing",
        load_profile("defaults"),
        _raw({"sharing.get": _ops(5000, ms=40), "sharing.query": _ops(500, ms=5000)}),
        {"saturated": False},
        aborted=None,
        users_measured=50,
    )
    v = {c["id"]: c for c in analysis.clause_results("sharing", checks, 10, set())}
    assert (
        v["SHARE.IF.PERF.1"]["verdict"] == "部分符合" and v["SHARE.IF.PERF.1"]["warning"]
    )  # should-clause: some pass, some fail
    assert v["SHARE.IF.PERF.2"]["verdict"] == "未测"
    assert v["SHARE.IF.PERF.4"]["verdict"] == "未测" and v["SHARE.IF.PERF.4"]["verification"] == "attestation"
    checks = analysis.judge(
        "sharing",
        load_profile("defaults"),
        _raw({"sharing.get": _ops(5000, ms=900)}),
        {"saturated": False},
        aborted=None,
        users_measured=50,
    )
    v = {c["id"]: c for c in analysis.clause_results("sharing", checks, 10, set())}
    assert v["SHARE.IF.PERF.1"]["verdict"] == "不符合"
    # get's error rate passed, but the other groups sent nothing: a skip never makes a pass (verdicts.py)
    assert v["SHARE.IF.PERF.3"]["verdict"] == "未测"


def test_a_group_without_data_is_untested_with_what_is_missing() -> None:
    """A group the preflight found no data for (an empty data set) is 未测 with the reason, whatever its
    requests (an empty page is not evidence); a clause with such a part is never 符合, and the run is 不通过."""
    from conformance.load.discovery import untested_reason

    why = untested_reason("各数据集均无记录 / every data set is empty", "在被测平台上预置数据 / seed the platform")
    profile = load_profile("defaults")
    raw = _raw(
        {
            "sharing.get": _ops(5000, ms=40),
            "sharing.query": _ops(5000, ms=40),
            "sharing.changes": _ops(5000, ms=40, records=500_000, users=5),
            "sharing.push": _ops(5000, ms=40, records=250_000, users=5),
        }
    )
    checks = analysis.judge(
        "sharing", profile, raw, {"saturated": False}, aborted=None, users_measured=50, missing={"sharing.query": why}
    )
    c = _by(checks)
    assert c[("sharing.query", "p95_ms")]["outcome"] == "skipped" and c[("sharing.query", "p95_ms")]["reason"] == why
    assert c[("sharing.get", "p95_ms")]["outcome"] == "passed"
    clauses = analysis.clause_results("sharing", checks, 10, set())
    v = {x["id"]: x for x in clauses}
    assert v["SHARE.IF.PERF.1"]["verdict"] == "未测" and "如何补足" in v["SHARE.IF.PERF.1"]["reason"]
    assert v["SHARE.IF.PERF.2"]["verdict"] == "符合"  # changes and push were measured, query has no throughput check
    s = analysis.summary("sharing", profile, clauses, checks)
    assert s["verdict"] == "不通过" and not s["nothingMeasured"] and s["unmeasuredGroups"] == {"sharing.query": why}
    # every group without data: nothing measured, every clause 未测, the run 不通过
    missing = dict.fromkeys(profile.groups_of("sharing"), why)
    checks = analysis.judge(
        "sharing", profile, _raw({}), {"saturated": False}, aborted=None, users_measured=0, missing=missing
    )
    clauses = analysis.clause_results("sharing", checks, 10, set())
    assert {x["verdict"] for x in clauses} == {"未测"}
    s = analysis.summary("sharing", profile, clauses, checks)
    assert s["verdict"] == "不通过" and s["nothingMeasured"] and "未测" in s["explanation"]


def test_paths_handed_to_the_locust_processes_are_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Locust processes run in the evidence folder: PYTHONPATH entries relative to the caller's working
    directory (or empty, meaning it) are made absolute, and the checkout comes first when it holds the harness."""
    import os

    from conformance.load.engine import python_path

    monkeypatch.chdir(tmp_path)
    entries = python_path(os.pathsep.join(["lib", "", "/abs/dir"])).split(os.pathsep)
    assert all(Path(e).is_absolute() for e in entries)
    assert str(tmp_path.resolve() / "lib") in entries and str(tmp_path.resolve()) in entries and "/abs/dir" in entries
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file():
        assert entries[0] == str(root)


def test_generator_saturation_from_cpu_and_loop_lag() -> None:
    p = load_profile("defaults")
    busy = {
        "id": "h:1",
        "kind": "local",
        "host": "h",
        "cpu": [[100 + i, 0.95 * i, 50] for i in range(12)],
        "lag": [[100 + i, 5] for i in range(12)],
        "skew": [],
    }
    g = analysis.generator({"window": [101, 110], "procs": [busy]}, p, "http://10.9.9.9:1")
    assert g["saturated"] and "95%" in g["reasons"][0]
    calm = {**busy, "cpu": [[100 + i, 0.3 * i, 50] for i in range(12)]}
    lagging = {**calm, "lag": [[100 + i, 400] for i in range(12)]}
    assert not analysis.generator({"window": [101, 110], "procs": [calm]}, p, "http://10.9.9.9:1")["saturated"]
    assert analysis.generator({"window": [101, 110], "procs": [lagging]}, p, "http://10.9.9.9:1")["saturated"]
    master = {**busy, "kind": "master"}  # the master of a distributed run sends nothing
    assert not analysis.generator({"window": [101, 110], "procs": [master]}, p, "http://10.9.9.9:1")["saturated"]
    skewed = {**calm, "kind": "worker", "skew": [2.0, 2.1]}
    assert (
        "时钟" in analysis.generator({"window": [101, 110], "procs": [skewed]}, p, "http://10.9.9.9:1")["warnings"][0]
    )


# ------------------------------------------------------------------------------------------- chart and page


def _series_raw() -> dict[str, Any]:
    series = {}
    for s in range(1000, 1015):
        series[str(s)] = {
            "sharing.get": [100, s % 3, 0, 0, {histogram.coarse_key(30 + s % 7): 100}],
            "sharing.push": [5, 0, 0, 500, {histogram.coarse_key(80): 5}],
        }
    return {"t0": 1000.0, "window": [1003.0, 1013.0], "durationS": 10, "series": series, "groups": {}}


def test_the_chart_is_well_formed_svg_with_every_group() -> None:
    svg = render_svg(_series_raw(), {"sharing.get": 500}, title="标题 <&>", lang="zh")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "sharing.get ≤500" in text and "sharing.push" in text and "标题 <&>" in text and "统计窗口" in text
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_the_page_renders_offline() -> None:
    doc = json.loads(
        json.dumps(
            {
                "run": {
                    "target": {"name": "x"},
                    "role": "sharing",
                    "profile": {"name": "smoke", "sources": ["a"]},
                    "users": {"measured": 4, "declared": 50, "atStart": {}},
                    "window": {"seconds": 10, "start": "s", "end": "e", "warmupS": 3},
                    "aborted": None,
                    "harnessVersion": "0",
                    "locustVersion": "2",
                    "baseUrl": "http://t",
                    "hosts": ["http://t"],
                    "client": "c",
                    "writes": "none",
                    "overrides": {},
                    "workers": {"connected": 0},
                    "started": "a",
                    "ended": "b",
                },
                "clauses": [
                    {
                        "id": "SHARE.IF.PERF.1",
                        "level": "should",
                        "title": "响应时间",
                        "titleEn": "t",
                        "text": "x",
                        "verdict": "未测",
                        "warning": False,
                        "reason": "r",
                    }
                ],
                "groups": {},
                "checks": [],
                "generator": {"procs": [], "saturated": True, "reasons": ["busy"], "warnings": []},
                "notes": ["n"],
                "leftovers": [{"dataSet": "equipment", "key": "k"}],
                "errors": [],
                "files": {"chart": "latency.svg"},
            }
        )
    )
    html = render_page(doc, "<svg xmlns='http://www.w3.org/2000/svg'></svg>", "zh")
    assert "负载生成器饱和" in html and "低于声明的并发量" in html and "未能删除" in html
    assert not re.search(r'(src|href)="https?://', html), "the page must not load anything from the network"


# ------------------------------------------------------------------------------------------- joining the report


def test_a_load_run_joins_the_certification_report(tmp_path: Path) -> None:
    from conformance.client import Evidence
    from conformance.harness.target import Target
    from conformance.report.verdicts import Outcome
    from conformance.report.writer import merge_performance, write_report

    target = Target(name="平台", role="sharing", urls={"sharing": "http://127.0.0.1:9/sharing"})
    state = type(
        "S",
        (),
        {
            "target": target,
            "evidence": Evidence(),
            "started": 0.0,
            "outcomes": [Outcome("t::a", "passed", ("SHARE.IF.FUNC.1",), 0.1)],
        },
    )()
    out = write_report(tmp_path / "run", state)
    before = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {c["id"]: c["verdict"] for c in before["clauses"]}["SHARE.IF.PERF.1"] == "未测"
    checks = analysis.judge(
        "sharing",
        load_profile("defaults"),
        _raw({"sharing.get": _ops(5000, ms=900)}),
        {"saturated": False},
        aborted=None,
        users_measured=50,
    )
    load_dir = out / "load" / "sharing"
    load_dir.mkdir(parents=True)
    (load_dir / "latency.svg").write_text(render_svg(_series_raw(), {}, title="t"), encoding="utf-8")
    doc = {
        "run": {
            "role": "sharing",
            "target": {"urls": target.urls},
            "window": {"seconds": 10, "start": "s", "end": "e"},
            "profile": {"name": "smoke"},
            "users": {"measured": 50, "declared": 50},
            "workers": {},
            "started": "a",
            "ended": "b",
        },
        "checks": checks,
        "clauses": analysis.clause_results("sharing", checks, 10, set()),
        "files": {"chart": "latency.svg"},
        "generator": {"saturated": False, "reasons": [], "warnings": []},
        "groups": {},
    }
    exchange = {"method": "POST", "url": "http://127.0.0.1:9/sharing/oauth/token", "status": 200, "curl": "curl …"}
    for _ in range(2):  # joining again replaces the earlier load run
        merge_performance(out, doc, load_dir, [exchange], lang="zh")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["schema"] == "tzsb-report/1"
    verdicts = {c["id"]: c for c in report["clauses"]}
    assert (
        verdicts["SHARE.IF.PERF.1"]["verdict"] == "不符合"
        and verdicts["SHARE.IF.PERF.1"]["performance"]["dir"] == "load/sharing"
    )
    assert verdicts["SHARE.IF.FUNC.1"]["verdict"] == "符合"  # the suites' clauses are left as they were
    assert "SHARE.IF.PERF.1" in report["summary"]["warnings"]
    assert len([t for t in report["tests"] if t["nodeid"].startswith("load::sharing::")]) == len(
        [c for c in checks if c["clause"]]
    )
    assert len(report["performance"]) == 1 and report["performance"][0]["page"] == "load/sharing/load.html"
    evidence = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    assert len(evidence) == 1 and verdicts["SHARE.IF.PERF.1"]["evidence"] == [0]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "性能测试 · sharing" in html and "<svg" in html
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "load/sharing/latency.svg" in manifest["files"]
    other = {**doc, "run": {**doc["run"], "role": "licensing"}}
    with pytest.raises(ValueError, match="role"):
        merge_performance(out, other, load_dir, [])
    elsewhere = {**doc, "run": {**doc["run"], "target": {"urls": {"sharing": "http://10.0.0.1/sharing"}}}}
    with pytest.raises(ValueError, match="target"):
        merge_performance(out, elsewhere, load_dir, [])
