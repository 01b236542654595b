"""The 测评报告 as a PDF: a print page made from a finished run folder, printed by headless Chromium on A4.

What it holds (docs/certification-report.md): a cover with the target, role, profile, harness and contract digests,
dates, the signer's fingerprint and the three verdicts with the reason for each; the clause table (every column on the
page: fixed widths, long words broken); the test items by clause with their outcome and, for a failure, its message;
the attestation checklist; the load results; an appendix with the digest of every file of the run and of every
contract file.

Chromium embeds the fonts it draws with; the Chinese text needs a CJK font on the machine (Debian ``fonts-noto-cjk``),
and printing refuses to start without one rather than print boxes. The PDF joins the folder's manifest, which is
signed again (:mod:`conformance.report.signing`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from conformance.clock import CHINA
from conformance.contract.clauses import LEVEL_ZH
from conformance.crypto import sm3_hex
from conformance.report.html import LABELS, automated_shall, verdict_reasons
from conformance.report.items import OUTCOME_VERDICT, item_groups, item_views
from conformance.report.verdicts import OVERALL_EN, VERDICT_EN

PDF_FILE = "report.pdf"
#: Where Chromium is looked for (``TZSB_CHROMIUM`` first).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Bound on one print (a large report takes seconds; a hung browser must not hold the run).
PRINT_TIMEOUT_S = 300

PRINT_LABELS = {
    "zh": {
        "title": "特种设备安全监管信息共享接口 一致性测评报告",
        "urls": "被测地址",
        "printed": "报告生成时间",
        "fingerprint": "公钥指纹",
        "verdicts": "测评结论",
        "contractFiles": "个契约文件",
        "page": "第",
        "testCount": "个测试项",
        "exchanges": "次交互",
        "testItems": "测试项（按条款）",
        "appendix": "附录 证据摘要",
        "appendixNote": "运行目录中每个文件的大小、SHA-256 与 SM3（打印本报告前的 manifest.json）；manifest.json 由上列公钥以 SM2 签名，"
        "可用 tzsb-conform verify 核验。",
        "file": "文件",
        "bytes": "字节",
        "verdictTerms": "结论用语按 GB/T 34990：符合、部分符合、不符合、不适用；“未测”为本工具未能取得证据的条款（不计为符合），"
        "“错误”为测试工具或网络出错（不计为符合），“按绑定”为按厂商绑定判定的规范条款。",
        "size": "接口功能规模（GB/T 18491.1）",
        "sizeNote": "由契约静态计数（tzsb-conform size，docs/functional-size.md），是接口集的度量而非合格判定：",
        "processes": "个功能处理",
        "interfaceCol": "接口",
        "operations": "操作",
        "noInterface": "（未标注接口）",
    },
    "en": {
        "title": "Special-equipment supervision sharing interfaces: conformance test report",
        "urls": "Target URLs",
        "printed": "Report printed",
        "fingerprint": "key fingerprint",
        "verdicts": "Verdicts",
        "contractFiles": "contract files",
        "page": "page",
        "testCount": "test items",
        "exchanges": "exchanges",
        "testItems": "Test items by clause",
        "appendix": "Appendix: evidence digests",
        "appendixNote": "Size, SHA-256 and SM3 of every file of the run folder (manifest.json before this report was printed); "
        "manifest.json is SM2-signed by the key above; check with tzsb-conform verify.",
        "file": "File",
        "bytes": "Bytes",
        "verdictTerms": "Verdicts per GB/T 34990: conforms, partly conforms, does not conform, not applicable; 'untested' means "
        "the harness obtained no evidence (never counted as conforming), 'error' a harness or network error, 'per binding' a "
        "profile clause judged per the vendor binding.",
        "size": "Functional size of the interface set (GB/T 18491.1)",
        "sizeNote": "counted from the contracts (tzsb-conform size, docs/functional-size.md), a measure, not a verdict:",
        "processes": "functional processes",
        "interfaceCol": "Interface",
        "operations": "Operations",
        "noInterface": "(no interface named)",
    },
}


class PdfError(RuntimeError):
    """The PDF cannot be printed here (bilingual: what to install)."""


def find_browser() -> str:
    named = os.environ.get("TZSB_CHROMIUM")
    for candidate in ([named] if named else []) + list(BROWSERS):
        path = shutil.which(candidate) if candidate else None
        if path:
            return path
    raise PdfError(
        "找不到 Chromium，无法打印 PDF：请安装（Debian：apt install chromium）或以 TZSB_CHROMIUM 指明 / "
        "Chromium not found, cannot print the PDF: install it (Debian: apt install chromium) or name it in TZSB_CHROMIUM"
    )


def cjk_font_installed() -> bool:
    """A font covering Simplified Chinese is installed (fontconfig's view, which Chromium uses)."""
    fc = shutil.which("fc-list")
    if fc is None:
        return False
    out = subprocess.run([fc, ":lang=zh-cn", "family"], capture_output=True, text=True, check=False, timeout=60)
    return bool(out.stdout.strip())


def appendix_files(files: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's files for the appendix: each file of the folder itself, and each sub-folder (allure-results,
    load runs: hundreds of small files) as one line: its file count, total size and the SM3 and SHA-256 over its
    files' ``name digest`` lines, sorted (what ``tzsb-conform verify`` checks file by file)."""
    out: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, f in sorted(files.items()):
        if name == PDF_FILE:
            continue
        if "/" in name:
            groups.setdefault(name.split("/", 1)[0], []).append((name, f))
        else:
            out[name] = f
    for folder, members in groups.items():
        lines = "\n".join(f"{n} {f.get('sha256')} {f.get('sm3')}" for n, f in members).encode()
        out[f"{folder}/ ({len(members)})"] = {
            "bytes": sum(int(f.get("bytes") or 0) for _, f in members),
            "sha256": hashlib.sha256(lines).hexdigest(),
            "sm3": sm3_hex(lines),
        }
    return out


def render_print_html(folder: Path, lang: str | None = None) -> str:
    """The print page of the run in ``folder`` (report.json and manifest.json)."""
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    evidence_path = folder / "evidence.json"
    evidence = json.loads(evidence_path.read_text(encoding="utf-8")) if evidence_path.is_file() else []
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {"files": {}}
    lang = "en" if (lang or report.get("lang")) == "en" else "zh"
    labels = {**LABELS[lang], **PRINT_LABELS[lang]}
    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html", "j2"])
    )
    digests = report["run"].get("contractDigests") or {}
    contracts_sm3 = sm3_hex("\n".join(f"{k} {v}" for k, v in sorted(digests.items())).encode())
    shall = automated_shall(report)
    tests = {t["nodeid"]: t for t in report.get("tests") or []}

    def verdict(v: str) -> str:
        return (VERDICT_EN.get(v) or OVERALL_EN.get(v) or v) if lang == "en" else v

    return env.get_template("report-print.html.j2").render(
        report=report,
        lang=lang,
        L=labels,
        V=verdict,
        LV=lambda lv: LEVEL_ZH.get(lv, lv) if lang == "zh" else lv,
        OUT=lambda outcome: OUTCOME_VERDICT.get(outcome, outcome),
        evidence=evidence,
        views=item_views(report, evidence),
        GROUPS=lambda nodeids: item_groups(nodeids, tests),
        tests=tests,
        files=appendix_files(manifest.get("files") or {}),
        contracts_sm3=contracts_sm3,
        verdict_rows=verdict_reasons(report["summary"], lang, shall),
        printed=dt.datetime.now(CHINA).isoformat(timespec="seconds"),
        dq_print=True,
    )


def write_pdf(folder: Path, lang: str | None = None) -> Path:
    """Print ``folder/report.pdf`` and sign the folder's manifest again with the PDF in it."""
    from conformance.report.writer import write_manifest

    browser = find_browser()
    if not cjk_font_installed():
        raise PdfError(
            "没有可显示中文的字体，PDF 中的汉字将无法显示：请安装 CJK 字体（Debian：apt install fonts-noto-cjk） / "
            "no font for Chinese is installed, the PDF would show boxes: install a CJK font (Debian: apt install "
            "fonts-noto-cjk)"
        )
    html = render_print_html(folder, lang)
    out = folder / PDF_FILE
    with tempfile.TemporaryDirectory(prefix="tzsb-pdf-") as tmp:
        page = Path(tmp) / "report-print.html"
        page.write_text(html, encoding="utf-8")
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"Chromium 打印超时 / Chromium did not finish printing in {PRINT_TIMEOUT_S} s") from exc
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        raise PdfError(f"Chromium 打印失败 / Chromium failed to print (exit {done.returncode}): {done.stderr[-800:]}")
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    write_manifest(folder, report)
    return out


def run_report(folder: Path, lang: str, *, pdf: bool) -> int:
    """The ``report`` command: ``report.html`` written again from ``report.json`` and ``evidence.json`` (the page of
    this harness version), ``report.pdf`` on request, the manifest signed again; 0 written, 2 not a run folder or the
    PDF cannot be printed here."""
    import sys

    from conformance.report.html import render_html
    from conformance.report.output import write_text
    from conformance.report.writer import write_manifest

    report_file = folder / "report.json"
    if not report_file.is_file():
        print(f"不是运行目录（没有 report.json） / not a run folder (no report.json): {folder}", file=sys.stderr)
        return 2
    report = json.loads(report_file.read_text(encoding="utf-8"))
    evidence_file = folder / "evidence.json"
    evidence = json.loads(evidence_file.read_text(encoding="utf-8")) if evidence_file.is_file() else []
    write_text(folder / "report.html", render_html(report, evidence, lang, base=folder))
    write_manifest(folder, report)
    print(folder / "report.html")
    if pdf:
        try:
            print(write_pdf(folder, lang))
        except PdfError as exc:
            print(exc, file=sys.stderr)
            return 2
    return 0
