"""The self-contained HTML report (no network: inline CSS and JS), Chinese by default."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from conformance.contract.clauses import LEVEL_ZH
from conformance.report.items import OUTCOME_VERDICT, item_views
from conformance.report.verdicts import FAIL, MISSING_TEXT, OVERALL_EN, VERDICT_EN

LABELS = {
    "zh": {
        "title": "特种设备安全监管信息共享接口一致性测试报告",
        "role": "角色",
        "profile": "深度",
        "summary": "结论",
        "interface": "接口测试结论",
        "attestation": "证明材料",
        "certification": "认证结论",
        "failing": "不符合的“应”条款",
        "untested": "尚未测试的“应”条款",
        "warnings": "警告（“宜/可”条款未符合）",
        "clauses": "逐条结论",
        "allVerdicts": "全部结论",
        "allLevels": "全部级别",
        "search": "搜索条款、标题、测试……",
        "id": "条款编号",
        "source": "出处",
        "level": "级别",
        "requirement": "要求",
        "verdict": "结论",
        "evidence": "证据",
        "binding": "厂商接口方言绑定",
        "bindingNote": "本次运行经绑定翻译收发；下列规范（profile）条款按绑定判定，标准条款按实质判定。",
        "wire": "线上原文（厂商方言）",
        "failures": "失败与错误",
        "none": "无",
        "checklist": "证明材料清单",
        "run": "运行信息",
        "harness": "测试工具",
        "target": "被测系统",
        "features": "声明的可选特性",
        "time": "起止时间",
        "seeds": "随机种子",
        "contracts": "契约文件",
        "files": "个文件（摘要见 manifest.json）",
        "signer": "证据签名（SM2/SM3）",
        "signerNote": "manifest.json 由此公钥签名（manifest.sig）；用 tzsb-conform verify 核验，指纹应与签发者公布的一致",
        "performance": "性能测试",
        "perfRole": "角色",
        "perfProfile": "性能档案",
        "perfUsers": "并发用户（声明）",
        "perfWindow": "统计窗口",
        "perfGroup": "操作组",
        "perfRequests": "调用",
        "perfErrors": "错误率",
        "perfRps": "成功 次/秒",
        "perfPage": "完整的性能证据",
        "perfSaturated": "负载生成器饱和",
        "perfClauses": "条款结论",
        "inbound": "被测系统调用模拟器",
        "answered": "模拟器应答",
        "attestedBy": "证明人",
        "attestedEvidence": "证明材料",
        "harnessError": "测试工具错误（无法判定被测系统）",
        "scopeInterface": "认证范围：仅接口（证明材料项列出但不在本次认证范围内）",
        "preflight": "预检",
        "pfItem": "检查项",
        "pfStatus": "状态",
        "pfSeen": "所见情况",
        "pfProvide": "如何补足",
        "pfFatal": "致命",
        "itemsCol": "测试项",
        "itemsNote": "每个条款下列出判定它的测试项；不符合与错误的测试项已展开，先列断言与失败的交互",
        "purpose": "测试目的",
        "preconditions": "前置条件",
        "steps": "测试步骤",
        "expected": "预期结果",
        "actual": "实际结果",
        "assertion": "断言（测试停在此处）",
        "failingExchange": "失败的交互",
        "lastExchange": "断言前的最后一次交互",
        "exchangesOf": "本项的交互",
        "moreExchanges": "另有 {n} 次交互见 evidence.json（按 test 字段查找）",
        "traceback": "完整回溯",
        "reasonWhy": "原因",
        "goTo": "查看测试项",
        "whyPass": "全部适用的自动检验“应”条款符合（{n} 条）",
        "whyAttested": "全部证明材料项已答复且满足（{n} 项）",
        "whyNoAttestation": "本次运行没有适用的证明材料项",
        "whyScope": "本次认证范围仅为接口",
        "dqTitle": "数据质量（GB/T 36344 数据质量评价指标）",
        "dqNote": "数据集质量测试取回的记录经数据质量审计（与 tzsb-conform audit 同一检查目录、同一指标定义）计算的各项指标；"
        "标有条款编号的检查判定该条款（完整性、有效性、编码规则、唯一性、单位名称一致性），其余检查只报告数值与判定，"
        "不判定条款。指标只针对取回的样本；引用在取回的记录中找不到不能说明不存在"
        "（被引记录可能未取回，或不在调用方权限范围内），该类检查在此为未测，由按主键抽样获取被引记录的测试项判定。",
        "dqAsOf": "评价基准日",
        "dqEngine": "审计引擎",
        "dqThreads": "线程",
        "dqSample": "样本（取回/总数）",
        "dqPartial": "部分取回",
        "dqCap": "每个数据集至多取回 {n} 条记录（测试档位）",
        "dqFigures": "数值项",
        "dqChecks": "项检查",
        "dqCheck": "检查编号",
        "dqDefinition": "定义",
        "dqDenominator": "分母",
        "dqFailing": "不合格",
        "dqRate": "不合格率（数值）",
        "dqThreshold": "阈值",
        "dqSamples": "样例（键）",
        "dqFigure": "数值项",
        "dqDays": "天",
        "dqAssumption": "阈值为本项目的假设（GB/T 36344 未规定比率；依据见 schemas/quality/data-quality.yaml）",
    },
    "en": {
        "title": "Conformance report: special-equipment supervision sharing interfaces",
        "role": "role",
        "profile": "profile",
        "summary": "Summary",
        "interface": "Interface tests",
        "attestation": "Attestation",
        "certification": "Certification",
        "failing": "Shall-clauses not conforming",
        "untested": "Shall-clauses not tested yet",
        "warnings": "Warnings (should/may clauses)",
        "clauses": "Clauses",
        "allVerdicts": "all verdicts",
        "allLevels": "all levels",
        "search": "search clauses, titles, tests…",
        "id": "Clause",
        "source": "Source",
        "level": "Level",
        "requirement": "Requirement",
        "verdict": "Verdict",
        "evidence": "Evidence",
        "binding": "Vendor dialect binding",
        "bindingNote": "This run went through the binding; the profile clauses below are judged per binding, the standards' clauses on substance.",
        "wire": "On the wire (vendor dialect)",
        "failures": "Failures and errors",
        "none": "none",
        "checklist": "Attestation checklist",
        "run": "Run",
        "harness": "Harness",
        "target": "Target",
        "features": "Declared features",
        "time": "Start — end",
        "seeds": "Seeds",
        "contracts": "Contracts",
        "files": "files (digests in manifest.json)",
        "signer": "Evidence signature (SM2/SM3)",
        "signerNote": "manifest.json is signed by this public key (manifest.sig); check with tzsb-conform verify, the fingerprint must be the one the signer published",
        "performance": "Performance",
        "perfRole": "Role",
        "perfProfile": "Profile",
        "perfUsers": "Users (declared)",
        "perfWindow": "Window",
        "perfGroup": "Group",
        "perfRequests": "Requests",
        "perfErrors": "Error rate",
        "perfRps": "OK/s",
        "perfPage": "full performance evidence",
        "perfSaturated": "load generator saturated",
        "perfClauses": "Clause verdicts",
        "inbound": "target → simulator",
        "answered": "simulator answered",
        "attestedBy": "attested by",
        "attestedEvidence": "evidence",
        "harnessError": "Harness error (the target could not be judged)",
        "scopeInterface": "Certification scope: interface only (attestation items listed, outside this scope)",
        "preflight": "Preflight",
        "pfItem": "Item",
        "pfStatus": "Status",
        "pfSeen": "Seen",
        "pfProvide": "How to provide",
        "pfFatal": "fatal",
        "itemsCol": "Test items",
        "itemsNote": "each clause lists the test items that decide it; failed and errored items are open, their assertion and failing exchange first",
        "purpose": "Purpose",
        "preconditions": "Preconditions",
        "steps": "Steps",
        "expected": "Expected result",
        "actual": "Actual result",
        "assertion": "Assertion (where the test stopped)",
        "failingExchange": "Failing exchange",
        "lastExchange": "Last exchange before the assertion",
        "exchangesOf": "Exchanges of this item",
        "moreExchanges": "{n} more exchanges in evidence.json (look up by its test field)",
        "traceback": "Full traceback",
        "reasonWhy": "why",
        "goTo": "go to the test item",
        "whyPass": "every applicable automated shall-clause conforms ({n})",
        "whyAttested": "every attestation item answered and met ({n})",
        "whyNoAttestation": "no attestation item applies to this run",
        "whyScope": "certification scope: interface only",
        "dqTitle": "Data quality (GB/T 36344 indicators)",
        "dqNote": "The indicators of the records the data-set suite pulled, computed by the data audit (the checks and "
        "definitions of tzsb-conform audit); a check marked with clause ids decides them (completeness, validity, "
        "coding rules, uniqueness, unit-name consistency), the others report their figures and verdict only. They are figures of the pulled sample; a reference the pulled records do "
        "not resolve proves nothing (not pulled, or outside the caller's scope): such a check is untested here and the "
        "test that reads the referred records by key decides it.",
        "dqAsOf": "As-of date",
        "dqEngine": "Audit engine",
        "dqThreads": "threads",
        "dqSample": "Sample (pulled/total)",
        "dqPartial": "partly pulled",
        "dqCap": "at most {n} records pulled per data set (the profile)",
        "dqFigures": "figures",
        "dqChecks": "checks",
        "dqCheck": "Check",
        "dqDefinition": "Definition",
        "dqDenominator": "Denominator",
        "dqFailing": "Failing",
        "dqRate": "Failing rate (figure)",
        "dqThreshold": "Threshold",
        "dqSamples": "samples (keys)",
        "dqFigure": "figure",
        "dqDays": "days",
        "dqAssumption": "the threshold is a project assumption (GB/T 36344 gives no rate; reasons in schemas/quality/data-quality.yaml)",
    },
}


#: Characters of a request or response body shown in the page (evidence.json keeps up to 16 KiB of each).
PAGE_BODY = 3000


def automated_shall(report: dict[str, Any]) -> int:
    """The applicable automated shall-clauses of a report (what an interface pass rests on)."""
    return sum(
        1
        for c in report["clauses"]
        if c["level"] == "shall" and c["verification"] == "automated" and c["verdict"] != "不适用"
    )


def verdict_reasons(summary: dict[str, Any], lang: str, shall: int) -> list[tuple[str, str, str]]:
    """The three verdicts (interface, attestation, certification), each with the reason it is what it is: what a
    pass rests on, or which clauses stand in its way."""
    labels = LABELS["en" if lang == "en" else "zh"]
    en = lang == "en"
    missing = {m["what"]: m["clauses"] for m in summary.get("missingForPass") or []}

    def listed(*whats: str) -> str:
        parts = []
        for what in whats:
            if what in missing:
                ids = missing[what]
                text = MISSING_TEXT[what][1 if en else 0]
                parts.append(f"{text}{' ' if en else '：'}{', '.join(ids[:12])}{' …' if len(ids) > 12 else ''}")
        return "; ".join(parts) if en else "；".join(parts)

    interface = (
        listed("no-shall-clause", "non-conforming", "error", "untested")
        if summary["interface"] == FAIL
        else labels["whyPass"].format(n=shall)
    )
    items = summary.get("attestationItems", 0)
    if items == 0:
        attestation = labels["whyNoAttestation"]
    elif summary["attestation"] == FAIL:
        attestation = listed("attestation-pending", "attestation-failing") or (
            f"{len(summary.get('attestationPending') or [])} pending"
            if en
            else f"{len(summary.get('attestationPending') or [])} 项待答复"
        )
    else:
        attestation = labels["whyAttested"].format(n=items)
    if summary.get("scope") == "interface":
        certification = labels["whyScope"] + ("; " if en else "；") + interface
    else:
        certification = listed(*missing) if summary["certification"] == FAIL else labels["whyPass"].format(n=shall)
    return [
        ("interface", labels["interface"], interface),
        ("attestation", labels["attestation"], attestation),
        ("certification", labels["certification"], certification),
    ]


def render_html(
    report: dict[str, Any], evidence: list[dict[str, Any]], lang: str = "zh", base: Path | None = None
) -> str:
    """The report page; ``base`` (the report's folder) lets the charts of joined load runs be inlined."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html", "j2"])
    )
    lang = "en" if lang == "en" else "zh"
    charts = []
    for p in report.get("performance") or []:
        chart = (base / p["chart"]) if base is not None and p.get("chart") else None
        charts.append(chart.read_text(encoding="utf-8") if chart is not None and chart.is_file() else "")

    def verdict(v: str) -> str:
        return (VERDICT_EN.get(v) or OVERALL_EN.get(v) or v) if lang == "en" else v

    return env.get_template("report.html.j2").render(
        report=report,
        evidence=evidence,
        lang=lang,
        L=LABELS[lang],
        V=verdict,
        LV=lambda lv: LEVEL_ZH.get(lv, lv) if lang == "zh" else lv,
        OUT=lambda outcome: OUTCOME_VERDICT.get(outcome, OUTCOME_VERDICT["missing"]),
        charts=charts,
        tests={t["nodeid"]: t for t in report.get("tests") or []},
        views=item_views(report, evidence),
        verdict_rows=verdict_reasons(report["summary"], lang, automated_shall(report)),
        BODY=PAGE_BODY,
        home={n: c["id"] for c in reversed(report["clauses"]) for n in c.get("tests") or []},
        anchor=lambda clause, nodeid: "i-" + hashlib.sha1(f"{clause} {nodeid}".encode()).hexdigest()[:12],
    )


def render_page(
    report: dict[str, Any], evidence: list[dict[str, Any]], lang: str = "zh", base: Path | None = None
) -> str:
    """:func:`render_html`, or, should the page itself fail (a harness bug), a short page that says so and names
    report.json and evidence.json, which hold the whole result: the run still writes and signs its bundle."""
    import html
    import sys
    import traceback

    try:
        return render_html(report, evidence, lang, base)
    except Exception as exc:  # the verdict is in report.json; a broken view must not lose the bundle
        trace = traceback.format_exc()
        sys.stderr.write(f"tzsb-conformance: report.html 生成失败 / the HTML page failed: {exc!r}\n")
        summary = report.get("summary") or {}
        return (
            '<!DOCTYPE html><html lang="zh-CN"><meta charset="utf-8"><title>report</title><body>'
            "<h1>报告页面生成失败 / the report page could not be rendered</h1>"
            f"<p>接口测试结论 / interface: {html.escape(str(summary.get('interface')))} · "
            f"认证结论 / certification: {html.escape(str(summary.get('certification')))}</p>"
            "<p>完整结果在同一目录的 report.json 与 evidence.json 中（已签名，可用 tzsb-conform verify 核验）；"
            "请把下面的错误报告给 tzsb-conformance 的维护者 / the whole result is in report.json and evidence.json "
            "beside this page; please report the error below.</p>"
            f"<pre>{html.escape(trace)}</pre></body></html>"
        )
