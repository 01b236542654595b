"""The evidence of a load run, in its own folder: ``load.json`` (``tzsb-load/1``: verdicts per clause,
checks, metrics per group, the generator's own load, notes), ``load.html`` (offline: inline CSS and
the SVG chart), ``latency.svg``, ``stats_window.csv`` (per group and operation, measured window only),
``series.csv`` (per second and group: requests, errors, coarse p50 / p95 / p99), Locust's own CSV
files and HTML report (whole run, warm-up included), ``config.json`` (no secret), ``raw.json`` (what
the recorder kept), ``preflight-evidence.json`` (the preflight's HTTP exchanges, masked) and
``manifest.json`` (SHA-256 and SM3 of every file).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from conformance.contract.clauses import LEVEL_ZH
from conformance.load.analysis import error_kind_text, metric_text
from conformance.load.chart import render_svg, series_rows
from conformance.load.profiles import format_threshold
from conformance.report.verdicts import VERDICT_EN

#: the words of the page: key → (中文, English)
LABELS = {
    "summary": ("性能测试结论", "Performance verdict"),
    "unmeasured": ("未测：所缺与补足方法", "Not tested: what is missing and how to provide it"),
    "title": ("特种设备信息共享接口性能测试", "Performance test: special-equipment information-sharing interfaces"),
    "role": ("角色", "role"),
    "profile": ("性能档案", "profile"),
    "users": ("个并发用户", "concurrent users"),
    "seconds": ("秒", "s"),
    "saturated": (
        "负载生成器饱和：未达阈值的项不作判定（错误）。请用 --workers 增加工作进程或多台机器分担负载。",
        "The load generator was saturated: checks that missed their threshold are not judged (error). Add workers (--workers) or machines.",
    ),
    "short": (
        "统计窗口内的并发用户数 %s 低于声明的并发量 %s：响应时间与错误率的“通过”不能说明声明负载下的情形（未测），其“不通过”成立。",
        "Concurrent users in the window (%s) are below the declared concurrency (%s): passes of latency and error-rate checks say nothing about the declared load (not tested); their failures stand.",
    ),
    "clauses": ("性能条款结论", "Performance clauses"),
    "id": ("条款", "Clause"),
    "level": ("级别", "Level"),
    "requirement": ("要求", "Requirement"),
    "verdict": ("结论", "Verdict"),
    "assumption": (
        "标准未给出性能数值：阈值是本项目的假定（见 loadtests/profiles/defaults.toml），监管方可在自己的性能档案或目标文件 [load.thresholds] 中改写。",
        "The standards give no performance numbers: the thresholds are the project's assumptions (loadtests/profiles/defaults.toml); a supervisor may set their own in a profile or in the target file's [load.thresholds].",
    ),
    "chart": ("响应时间与吞吐随时间变化", "Latency and throughput over time"),
    "groups": ("操作组统计（统计窗口，预热除外）", "Operation groups (measured window, warm-up excluded)"),
    "group": ("操作组", "Group"),
    "requests": ("调用", "Requests"),
    "errors": ("错误", "Errors"),
    "errorRate": ("错误率", "Error rate"),
    "rps": ("成功 次/秒", "OK/s"),
    "recordsPerCaller": ("条/秒/调用方", "records/s/caller"),
    "thresholds": ("阈值", "Thresholds"),
    "method": (
        "响应时间统计成功应答与超时（超时按实际耗时计）；429 带 Retry-After 为限流，不计错误；百分位为毫秒桶上界（1 秒内精确到 1 ms）。",
        "Latency over successful answers and timeouts (at their time); a 429 with Retry-After is throttling, not an error; percentiles are upper bounds of millisecond buckets.",
    ),
    "checks": ("逐项判定", "Checks"),
    "metric": ("指标", "Metric"),
    "outcome": ("判定", "Outcome"),
    "detail": ("说明", "Detail"),
    "generator": ("负载生成器自身", "The load generator itself"),
    "process": ("进程", "Process"),
    "cpu": ("CPU %（窗口平均，单核）", "CPU % (window mean, one core)"),
    "cpuPeak": ("CPU % 峰值", "CPU % peak"),
    "machine": ("整机 CPU %", "Machine CPU %"),
    "lag": ("事件循环延迟 p95 ms", "Event-loop lag p95 ms"),
    "skew": ("时钟差 s", "Clock skew s"),
    "cpuNote": (
        "负载进程基于 gevent，单进程最多用满一个 CPU 核；平均超过档案上限（默认 90%）或事件循环延迟过大即视为生成器饱和。",
        "Load processes use gevent: one process uses at most one core; a mean above the profile's limit (90 %) or a large event-loop lag means the generator was saturated.",
    ),
    "notes": ("说明", "Notes"),
    "leftovers": (
        "有 %s 条本工具推送的记录未能删除（清理未完成）：",
        "%s records pushed by the harness could not be deleted (cleanup unfinished):",
    ),
    "errorSamples": ("错误样例", "Error samples"),
    "run": ("运行信息", "Run"),
    "harness": ("测试工具", "Harness"),
    "target": ("被测系统", "Target"),
    "hosts": ("允许的主机", "Allowed hosts"),
    "binding": ("经绑定（厂商方言）", "Through a binding (vendor dialect)"),
    "translation": (
        "翻译 %s 个请求，平均每个（连同应答）%s 微秒：工具自身的开销，不计入响应时间",
        "%s requests translated, %s µs each with its answer on average: the harness's own cost, not in the latencies",
    ),
    "client": ("客户端", "Client"),
    "writes": ("写操作", "writes"),
    "overrides": ("命令行改写", "command-line overrides"),
    "load": ("负载", "Load"),
    "declared": ("声明并发", "declared"),
    "workers": ("工作进程", "workers"),
    "time": ("起止时间", "Start — end"),
    "window": ("统计窗口", "window"),
    "warmup": ("预热", "warm-up"),
    "files": ("证据文件", "Evidence files"),
}
OUTCOMES = {
    "zh": {"passed": "通过", "failed": "不通过", "skipped": "未测", "error": "错误"},
    "en": {"passed": "pass", "failed": "fail", "skipped": "not tested", "error": "error"},
}


STATS_HEADER = [
    "group",
    "operation",
    "requests",
    "ok",
    "errors",
    "error_rate",
    "throttled",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "ok_per_s",
    "records",
    "records_per_caller_s",
]
SERIES_HEADER = [
    "t_s",
    "epoch_s",
    "group",
    "requests",
    "ok",
    "errors",
    "throttled",
    "records",
    "p50_ms~",
    "p95_ms~",
    "p99_ms~",
]
#: the columns of stats_window.csv after group and operation (an operation has no error rate, throttling or callers)
STATS_FIELDS = ("requests", "ok", "errors", "errorRate", "throttled", "p50", "p95", "p99", "rps", "records")
SERIES_FIELDS = ("t", "second", "group", "requests", "ok", "errors", "throttled", "records", "p50", "p95", "p99")


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def write_csvs(out: Path, doc: dict[str, Any], raw: dict[str, Any] | None) -> dict[str, str]:
    rows = []
    for name, g in doc["groups"].items():
        totals = {**g, "errors": g["errorCount"]}
        rows.append([name, "*", *(totals[k] for k in STATS_FIELDS), g["recordsPerCallerS"]])
        rows += [[name, op, *(o.get(k, "") for k in STATS_FIELDS), ""] for op, o in g["ops"].items()]
    _write_csv(out / "stats_window.csv", STATS_HEADER, rows)
    files = {"statsCsv": "stats_window.csv"}
    if raw:
        series = [[r[k] for k in SERIES_FIELDS] for r in series_rows(raw)]
        _write_csv(out / "series.csv", SERIES_HEADER, series)
        files["seriesCsv"] = "series.csv"
    return files


def render_page(doc: dict[str, Any], svg: str, lang: str) -> str:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html", "j2"])
    )
    lang = "en" if lang == "en" else "zh"
    return env.get_template("load.html.j2").render(
        doc=doc,
        svg=svg,
        lang=lang,
        L={k: en if lang == "en" else zh for k, (zh, en) in LABELS.items()},
        LV=lambda lv: LEVEL_ZH.get(lv, lv) if lang == "zh" else lv,
        V=lambda v: VERDICT_EN.get(v, v) if lang == "en" else v,
        O=lambda o: OUTCOMES[lang].get(o, o),
        M=lambda m: metric_text(m, lang),
        FT=format_threshold,
        EK=lambda k: k if lang == "en" else error_kind_text(k),
    )


def write_all(
    out: Path, doc: dict[str, Any], raw: dict[str, Any] | None, evidence: list[dict[str, Any]], lang: str
) -> None:
    from conformance.report.writer import write_manifest

    files = dict(doc.get("files") or {})
    files.update(write_csvs(out, doc, raw))
    thresholds = {g: v["thresholds"]["p95_ms"] for g, v in doc["groups"].items() if "p95_ms" in v.get("thresholds", {})}
    title = f"{doc['run']['target']['name']} · {doc['run']['role']} · {doc['run']['profile']['name']}"
    svg = render_svg(raw, thresholds, title=title, lang=lang) if raw else "<svg xmlns='http://www.w3.org/2000/svg'/>"
    (out / "latency.svg").write_text(svg, encoding="utf-8")
    files["chart"] = "latency.svg"
    (out / "preflight-evidence.json").write_text(json.dumps(evidence, ensure_ascii=False, indent=1), encoding="utf-8")
    files["evidence"] = "preflight-evidence.json"
    files["page"] = "load.html"
    files["locust"] = sorted(p.name for p in out.glob("locust*"))
    doc["files"] = files
    (out / "load.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "load.html").write_text(render_page(doc, svg, lang), encoding="utf-8")
    write_manifest(out, {"run": doc["run"]})
