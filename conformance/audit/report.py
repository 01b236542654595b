"""Write an audit's report: ``audit.json`` (validated against schemas/json/audit-report.schema.json before it is
written) and ``audit.html`` (jinja2, inline CSS and SVG, no network; Chinese by default, English with ``--lang en``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from conformance.audit.catalogue import DIMENSION_TITLES

TEMPLATES = Path(__file__).parent / "templates"
SCHEMA = "audit-report"

#: words of the page, (Chinese, English)
LABELS: dict[str, tuple[str, str]] = {
    "title": ("共享数据质量评价报告", "Shared data quality audit"),
    "input": ("输入", "input"),
    "as_of": ("评价基准日", "as-of date"),
    "engine": ("引擎", "engine"),
    "verdict": ("结论", "verdict"),
    "incomplete": (
        "评价被中断：以下只含已完成的检查。",
        "The audit was interrupted: only the checks finished are shown.",
    ),
    "stopped": (
        "评价引擎无法继续（{error}：{message}），以下只含已完成的检查。可加大 --memory-limit，或用 --temp-directory "
        "指向空间更大的磁盘。",
        "The audit engine could not go on ({error}: {message}): only the checks finished are shown. Raise "
        "--memory-limit, or point --temp-directory at a disk with more room.",
    ),
    "data_sets": ("数据集", "data sets"),
    "records": ("记录数", "records"),
    "format": ("格式", "format"),
    "absent": ("输入中没有", "not in the input"),
    "not_read": (
        "输入中有以下文件未被读取（文件名不是任何数据集，或格式不是 JSON Lines、CSV、Parquet）：",
        "These files of the input were not read (no data set has their name, or they are not JSON Lines, CSV or "
        "Parquet):",
    ),
    "not_read_name": ("不是任何数据集的名称", "no data set has this name"),
    "not_read_format": ("格式不被读取", "a format not read"),
    "unreadable": (
        "无法读取（{error}：{message}），其检查为未测",
        "could not be read ({error}: {message}): its checks not tested",
    ),
    "indicators": ("各项指标", "indicators"),
    "check": ("检查", "check"),
    "definition": ("定义", "definition"),
    "denominator": ("分母", "denominator"),
    "failing": ("不合格", "failing"),
    "rate": ("不合格率", "failing rate"),
    "value": ("数值", "value"),
    "threshold": ("阈值", "threshold"),
    "assumption": ("假设", "assumption"),
    "samples": ("样例（行号：键）", "samples (row: key)"),
    "by_province": ("按省份", "by province"),
    "chart": (
        "不合格率大于零的检查：不合格率与阈值（红线）",
        "checks with failing records: failing rate and threshold (red tick)",
    ),
    "no_failing": ("本维度没有不合格记录。", "No failing record in this dimension."),
    "province_chart": (
        "各省份记录中不合格率超过阈值的检查数（省份取记录行政区划代码前 2 位）",
        "per province, the checks whose failing rate on that province's records exceeds the threshold "
        "(province: first 2 digits of the record's division code)",
    ),
    "figure": ("数值", "figure"),
    "summary": ("汇总", "summary"),
    "seconds": ("用时（秒）", "time (s)"),
    "pulled": ("从共享平台经增量同步拉取", "pulled from the sharing platform through its change feed"),
    "pull_client": ("凭证", "as"),
    "pull_partial": (
        "拉取不完整：未能完整拉取的数据集不在输入中，其检查为未测（原因见下表）；已拉取的部分不参与评价。",
        "The pull is incomplete: the data sets not pulled in full are not in the input, their checks are not tested "
        "(reasons below); nothing of a partial pull is audited.",
    ),
    "pull_status": ("拉取结果", "pull"),
    "pull_changes": ("变更数", "changes"),
    "pull_pages": ("页数", "pages"),
    "pull_reason": ("原因", "reason"),
    "pull_complete": ("完整", "complete"),
    "pull_refused": ("被拒绝", "refused"),
    "pull_failed": ("失败", "failed"),
    "pull_incomplete": ("中途停止（不完整）", "stopped early (incomplete)"),
    "trend": ("与上次相比", "Compared with the previous run"),
    "trend_col": ("与上次相比", "vs previous"),
    "trend_of": ("上次报告", "previous report"),
    "trend_rule": (
        "退步：两次都测出结果，且由符合变为不符合，或不合格率上升超过两比例差的 {z} 个标准误；记录数骤降：减少超过 {drop} 且至少 {lost} 条，"
        "或全部消失（data-quality.yaml 的 trend，本项目假设）。以下各表互不重叠。",
        "Regression: measured both times, and 符合 became 不符合 or the failing rate rose by more than {z} standard errors of "
        "the difference of two proportions; a sharp drop: more than {drop} and at least {lost} records lost, or all of "
        "them (trend of data-quality.yaml, project assumptions). The lists below do not overlap.",
    ),
    "trend_incomplete": (
        "上次的评价被中断，只含部分检查：其余检查在此视为新增。",
        "The previous audit was interrupted and holds only some checks: the others count as new here.",
    ),
    "regressions": ("退步", "regressions"),
    "new_failures": ("新增不符合（上次未测或没有此项）", "new failures (not tested or absent last time)"),
    "fixed": ("已修复（不符合 → 符合）", "fixed (不符合 → 符合)"),
    "newly_untested": ("新变为未测", "newly not tested"),
    "none": ("无", "none"),
    "before": ("上次", "before"),
    "now": ("本次", "now"),
    "change": ("变化", "change"),
    "reasons": ("原因", "why"),
    "reason_verdict": ("结论变为不符合", "verdict now 不符合"),
    "reason_rate": ("不合格率显著上升", "rate rose beyond the rule"),
    "reason_threshold": ("两次阈值不同", "thresholds differ"),
    "worse_provinces": (
        "各省份的变化（上升最多在前；加粗：超过规则）",
        "per province (largest rise first; bold: beyond the rule)",
    ),
    "delivery": ("数据集与省份的交付", "delivery of data sets and provinces"),
    "ds_missing": ("停止交付（上次有，本次没有）", "stopped delivering (there before, not tonight)"),
    "ds_dropped": ("记录数骤降", "records dropped sharply"),
    "ds_new": ("新交付", "new"),
    "ds_steady": ("正常", "steady"),
    "ds_absent": ("两次都没有", "in neither"),
    "pv_stopped": ("该省记录全部消失", "the province's records vanished"),
    "pv_dropped": ("该省记录骤降", "the province's records dropped sharply"),
    "catalogue_new": ("本次新增的检查", "checks new tonight"),
    "catalogue_dropped": ("上次有、本次没有的检查", "checks of the previous report not run tonight"),
    "st_regressed": ("退步", "regressed"),
    "st_new-failure": ("新增不符合", "new failure"),
    "st_fixed": ("已修复", "fixed"),
    "st_newly-untested": ("新变为未测", "newly untested"),
    "st_tested-again": ("重新测出", "tested again"),
    "st_steady": ("", ""),
    "st_new": ("新检查", "new check"),
    "st_figure": ("", ""),
}


def _labels(lang: str) -> dict[str, str]:
    return {k: (en if lang == "en" else zh) for k, (zh, en) in LABELS.items()}


@functools.cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]))


def problems(report: dict[str, Any]) -> list[str]:
    """Where a report breaks its published schema."""
    from conformance.check.schema import validator

    v = validator(SCHEMA)
    return [] if v.is_valid(report) else [f"{e.path}: {e.message('en')}" for e in v.errors(report)]


def html(report: dict[str, Any], lang: str) -> str:
    dims = {d: (en if lang == "en" else zh) for d, (zh, en) in DIMENSION_TITLES.items()}
    by_dim: dict[str, list[dict[str, Any]]] = {d: [] for d in DIMENSION_TITLES}
    for c in report["checks"]:
        by_dim[c["dimension"]].append(c)
    return (
        _env()
        .get_template("audit.html.j2")
        .render(
            doc=report,
            lang=lang,
            L=_labels(lang),
            dims=dims,
            by_dim=by_dim,
            by_id={c["id"]: c for c in report["checks"]},
            provinces=provinces_missing(report),
            max_rate=lambda c: c["threshold"]["maxRate"],
            fixed=lambda limit: lambda _item: limit,
            no_limit=lambda _item: None,
            plain=lambda v: str(int(v)),
            points=_points,
        )
    )


def _points(delta: float | None) -> str:
    """A change of a rate in percentage points, signed (— when unknown)."""
    return "—" if delta is None else f"{delta * 100:+.2f} pp"


def provinces_missing(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per province: how many checks miss their threshold on that province's records (most first)."""
    counts: dict[str, dict[str, Any]] = {}
    for c in report["checks"]:
        limit = c["threshold"]["maxRate"]
        if c["kind"] != "rate" or limit is None:
            continue
        for p in c["byProvince"]:
            if not p["code"]:
                continue
            slot = counts.setdefault(p["code"], {"label": f"{p['code']} {p['name']}", "count": 0})
            if p["rate"] is not None and p["rate"] > limit:
                slot["count"] += 1
    return sorted(counts.values(), key=lambda s: (-s["count"], s["label"]))


def write(report: dict[str, Any], out: Path, lang: str) -> tuple[Path, Path]:
    """Write audit.json and audit.html into ``out``; a report that breaks its schema is a ValueError."""
    found = problems(report)
    if found:
        raise ValueError("audit report breaks audit-report.schema.json: " + "; ".join(found[:5]))
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "audit.json", out / "audit.html"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    html_path.write_text(html(report, lang), encoding="utf-8")
    return json_path, html_path
