"""The index page over the role reports of one self-check (or any folder of run folders): per role the three
verdicts, the counts, and links to each role's page and PDF."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from conformance.report.html import LABELS
from conformance.report.output import write_text
from conformance.report.verdicts import OVERALL_EN, VERDICT_EN

INDEX_LABELS = {
    "zh": {"indexTitle": "自检报告索引", "counts": "各结论条数", "files": "报告"},
    "en": {"indexTitle": "Self-check: report index", "counts": "Verdict counts", "files": "Reports"},
}


def write_index(folder: Path, lang: str = "zh") -> Path | None:
    """``folder/index.html`` over every sub-folder holding a ``report.json``; None when there is none."""
    rows = []
    for report_file in sorted(folder.glob("*/report.json")):
        report = json.loads(report_file.read_text(encoding="utf-8"))
        rows.append(
            {
                "role": report["run"]["target"]["role"],
                "target": report["run"]["target"]["name"],
                "started": report["run"]["started"],
                "summary": report["summary"],
                "dir": report_file.parent.name,
                "pdf": (report_file.parent / "report.pdf").is_file(),
            }
        )
    if not rows:
        return None
    lang = "en" if lang == "en" else "zh"
    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html", "j2"])
    )

    def verdict(v: str) -> str:
        return (VERDICT_EN.get(v) or OVERALL_EN.get(v) or v) if lang == "en" else v

    html = env.get_template("index.html.j2").render(
        rows=rows, lang=lang, L={**LABELS[lang], **INDEX_LABELS[lang]}, V=verdict, folder=str(folder)
    )
    out = folder / "index.html"
    write_text(out, html)
    return out
