"""The GB/T 36344 indicators of the sharing role's data-set suite, judged by the data audit (:mod:`conformance.audit`).

What the suite pulled from the target (per data set, up to the profile's cap) is written as ``<data-set>.jsonl`` to a
temporary folder and audited once per run on an embedded DuckDB engine (a small memory limit, one thread), with the
run's date in Beijing time as the as-of date. The indicator tests then assert on the audit's check results — one
definition of each indicator for ``tzsb-conform audit`` and for the suite — and the audit's figures become the
``dataQuality`` section of the certification report (``report.json``, ``report.html``, the PDF).

An audit over a capped sample says so: the section lists, per data set, the records pulled and the total the target
reported. A reference that the pulled records do not resolve proves nothing by its absence (the referred data set may
have been pulled only in part, and the caller sees only its own scope): such a check is 未测 here with that reason,
and the suite's reference test decides the clause by reading the referred records by key (403 not counted).
"""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from conformance.audit.engine import DuckDBEngine
from conformance.audit.run import MET, NOT_MET, UNTESTED, Options, audit, overall, summary
from conformance.clock import now
from conformance.contract.datasets import data_sets
from conformance.report.skips import untested, vacuous

#: The engine's bounds: the suite's sample is small, and the harness shares its machine with the target's tests.
MEMORY_LIMIT = "512MB"
THREADS = 1
#: Failing records listed per check (keys), in the section and in a failing test's message.
SAMPLES = 5
#: The members of a check result the report's section keeps (the breakdowns stay with ``tzsb-conform audit``).
KEPT = ("id", "dimension", "dataSet", "field", "rule", "definition", "kind", "denominator", "failing", "rate", "value")


def run_audit(pulled: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The audit report (``tzsb-audit/1``) of the pulled records: data sets without records are left out of the
    input (their checks are 未测)."""
    with tempfile.TemporaryDirectory(prefix="tzsb-suite-audit-") as tmp:
        folder = Path(tmp)
        for name, records in pulled.items():
            if records:
                with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as f:
                    for record in records:
                        f.write(json.dumps(record, ensure_ascii=False) + "\n")
        engine = DuckDBEngine(memory_limit=MEMORY_LIMIT, threads=THREADS)
        try:
            report = audit(engine, folder, Options(as_of=now().date(), samples=SAMPLES))
        finally:
            engine.close()
    if not report["complete"]:  # interrupted (Ctrl-C): the run stops, nothing is judged on half an audit
        raise KeyboardInterrupt
    return report


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{100.0 * rate:.2f}%"


def _reference_note(check: dict[str, Any], pulled: dict[str, tuple[int, int]]) -> str:
    referred = next((t for f, (t, _) in data_sets()[check["dataSet"]].references.items() if f == check["field"]), "")
    got, total = pulled.get(referred, (0, 0))
    part = (
        f"被引数据集 {referred} 只取回了 {got}/{total} 条记录，且"
        if got < total
        else f"被引数据集 {referred} 取回了全部 {got} 条记录，但"
    )
    return (
        f"{check['failing']} 条记录的引用在取回的记录中找不到：{part}调用方只看得到其权限范围内的记录，找不到不等于不存在；"
        "本项由按主键抽样获取被引记录的测试项判定（403 不计） / "
        f"{check['failing']} references do not resolve among the pulled records ({got} of {total} records of "
        f"{referred} pulled; the caller sees its own scope only): absence proves nothing here; the reference test "
        "decides by reading the referred records by key (403 not counted)"
    )


def section(
    report: dict[str, Any],
    pulled: dict[str, tuple[int, int]],
    cap: int,
    clauses_of: Callable[[dict[str, Any]], list[str]],
) -> dict[str, Any]:
    """The report's ``dataQuality`` section: the sample audited and every check's figures, verdict and the clauses
    its verdict decides (``pulled``: data set → (records pulled, total the target reported); ``clauses_of``: the
    clauses the suite judges a check under, none for a figure reported only)."""
    checks = []
    for c in report["checks"]:
        entry = {k: c[k] for k in KEPT}
        entry["threshold"] = {"maxRate": c["threshold"]["maxRate"], "assumption": c["threshold"]["assumption"]}
        entry["verdict"], entry["untested"] = c["verdict"], c.get("untested")
        entry["samples"] = [s.get("key") for s in c["samples"]]
        if c.get("unit"):
            entry["unit"] = c["unit"]
        if c["rule"] == "reference" and c["failing"]:
            entry["verdict"], entry["untested"] = UNTESTED, _reference_note(c, pulled)
        entry["clauses"] = clauses_of(entry)
        checks.append(entry)
    sets = data_sets()
    return {
        "schema": report["schema"],
        "asOf": report["asOf"],
        "engine": {k: report["engine"][k] for k in ("name", "version", "memoryLimit", "threads")},
        "complete": report["complete"],
        "cap": cap,
        "dataSets": [
            {
                "name": name,
                "title": sets[name].title,
                "pulled": got,
                "total": total,
                "complete": got >= total,
            }
            for name, (got, total) in pulled.items()
        ],
        "summary": summary(checks),
        "verdict": overall(checks),
        "checks": checks,
    }


def of(dq: dict[str, Any], data_set: str, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The section's checks of ``data_set`` that ``keep`` selects."""
    return [c for c in dq["checks"] if c["dataSet"] == data_set and keep(c)]


def _line(c: dict[str, Any]) -> str:
    limit = c["threshold"]["maxRate"]
    samples = "、".join(str(s) for s in c["samples"]) or "—"
    return (
        f"{c['id']}（{c['definition']['zh']}）：分母 {c['denominator']}，不合格 {c['failing']}，"
        f"不合格率 {_pct(c['rate'])}，阈值 {_pct(limit)}；样例（键）：{samples}"
    )


def assert_met(checks: Iterable[dict[str, Any]], what_zh: str, what_en: str, label: str) -> list[dict[str, Any]]:
    """Assert that no rate check of ``checks`` is 不符合 (failing: its figures and samples); a check 符合 with failing
    records below its threshold is a warning with its figures. Returns the rate checks."""
    rated = [c for c in checks if c["kind"] == "rate"]
    failing = [c for c in rated if c["verdict"] == NOT_MET]
    assert not failing, (
        f"{label} {what_zh}：{len(failing)} 项审计检查不符合："
        + "；".join(_line(c) for c in failing)
        + f" / {what_en}: "
        f"{len(failing)} audit checks miss their threshold: "
        + "; ".join(f"{c['id']} {c['failing']}/{c['denominator']} > {_pct(c['threshold']['maxRate'])}" for c in failing)
    )
    below = [c for c in rated if c["verdict"] == MET and c["failing"]]
    if below:
        warnings.warn(
            f"{label} {what_zh}：{len(below)} 项检查有不合格记录但未超过阈值：" + "；".join(_line(c) for c in below),
            stacklevel=3,
        )
    return rated


def judge(checks: Iterable[dict[str, Any]], what_zh: str, what_en: str, label: str) -> None:
    """Judge by the audit's verdicts of ``checks`` (rate checks; figures are only reported): :func:`assert_met`;
    none decided (all 未测) is 未测 with their reasons; none at all is vacuous."""
    rated = assert_met(checks, what_zh, what_en, label)
    if not rated:
        vacuous(f"{label}：审计目录中没有该项的检查 / no audit check of this kind for the data set")
    if not any(c["verdict"] == MET for c in rated):
        reasons = "；".join(sorted({str(c["untested"]) for c in rated}))[:600]
        untested(f"{label} {what_zh}：审计检查都无法计算（{reasons}） / no audit check could be computed")
