"""Write a finished run: ``report.json`` (versioned schema ``tzsb-report/1``), ``report.html``
(self-contained, Chinese by default), ``evidence.json`` and ``manifest.json`` (SHA-256, and
SM3, of every file, with harness version, contract digests, target, role, profile, seeds)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import yaml

from conformance import __version__, contracts
from conformance.clauses import load_catalogue
from conformance.crypto import sm3_hex
from conformance.report.verdicts import VERDICT_EN, clause_verdicts, overall

REPORT_SCHEMA = "tzsb-report/1"


def contract_digests() -> dict[str, str]:
    """SHA-256 of every contract file (the exact contracts a run used)."""
    out = {}
    for path in sorted(contracts.SCHEMAS.rglob("*")):
        if path.is_file() and path.suffix in {".json", ".yaml", ".xsd"}:
            out[str(path.relative_to(contracts.SCHEMAS))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds")


def build_report(state: Any, *, lang: str = "zh", answers: dict[str, Any] | None = None) -> dict[str, Any]:
    catalogue = load_catalogue()
    verdicts = clause_verdicts(catalogue, state.outcomes, features=state.target.features, answers=answers)
    by_id = {c["id"]: c for c in catalogue}
    roles_tested = {state.target.role}
    evidence_by_test: dict[str, list[int]] = {}
    for i, x in enumerate(state.evidence.exchanges):
        evidence_by_test.setdefault(x.test or "", []).append(i)
    clauses = []
    for v in verdicts:
        c = by_id[v.id]
        if c.get("roles") and not roles_tested & set(c["roles"]) and not v.tests:
            continue  # a clause of another role: not part of this run
        clauses.append({
            "id": v.id, "document": c["document"], "clause": c["clause"], "level": v.level, "verification": v.verification,
            "title": c["title"], "titleEn": c.get("title_en"), "text": c.get("text"), "verdict": v.verdict,
            "verdictEn": VERDICT_EN[v.verdict], "warning": v.warning, "reason": v.reason, "tests": v.tests,
            "evidence": sorted({i for t in v.tests for i in evidence_by_test.get(t, [])}),
        })
    shown = {c["id"] for c in clauses}
    summary = overall([v for v in verdicts if v.id in shown])
    return {
        "schema": REPORT_SCHEMA,
        "lang": lang,
        "run": {
            "harnessVersion": __version__, "python": platform.python_version(),
            "started": _iso(state.started), "ended": _iso(dt.datetime.now().timestamp()),
            "target": {"name": state.target.name, "role": state.target.role, "urls": state.target.urls,
                       "features": sorted(state.target.features), "source": state.target.source},
            "profile": state.target.profile,
            "seeds": sorted({o.seed for o in state.outcomes if o.seed}),
            "contractDigests": contract_digests(),
        },
        "summary": summary,
        "clauses": clauses,
        "attestation": [c for c in clauses if c["verification"] == "attestation"],
        "tests": [{"nodeid": o.nodeid, "outcome": o.outcome, "clauses": list(o.clauses), "duration": round(o.duration, 3),
                   "message": o.message, "seed": o.seed, "title": o.title} for o in state.outcomes],
    }


def write_report(out: Path, state: Any, *, lang: str = "zh", answers_file: str | None = None) -> Path:
    from conformance.report.html import render_html

    out.mkdir(parents=True, exist_ok=True)
    answers = (yaml.safe_load(Path(answers_file).read_text(encoding="utf-8")) or {}) if answers_file else {}
    report = build_report(state, lang=lang, answers=answers)
    evidence = [x.as_dict() for x in state.evidence.exchanges]
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "evidence.json").write_text(json.dumps(evidence, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "report.html").write_text(render_html(report, evidence, lang), encoding="utf-8")
    write_manifest(out, report)
    return out


def write_manifest(out: Path, report: dict[str, Any]) -> None:
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"):
        data = path.read_bytes()
        files[str(path.relative_to(out))] = {"sha256": hashlib.sha256(data).hexdigest(), "sm3": sm3_hex(data),
                                             "bytes": len(data)}
    manifest = {"schema": "tzsb-manifest/1", "harnessVersion": __version__, "run": {k: v for k, v in report["run"].items()},
                "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
