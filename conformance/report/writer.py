"""Write a finished run: ``report.json`` (versioned schema ``tzsb-report/1``), ``report.html``
(self-contained, Chinese by default), ``evidence.json`` and ``manifest.json`` (SHA-256, and
SM3, of every file, with harness version, contract digests, target, role, profile, seeds).

A performance run joins the report afterwards (:func:`merge_performance`); its fields are
additive to ``tzsb-report/1`` (``performance``, load checks in ``tests``, ``performance`` on the
clauses it judged), so readers of the schema keep working.

The format is published as ``schemas/json/report.schema.json``; every report is validated against it
before it is written. A report that does not conform is a harness bug: it is written all the same (the
run's findings are not lost), with ``summary.harnessError`` saying what is wrong and the verdicts
不通过, and the run ends as a harness error (exit 2) — never silently (docs/target-file.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from conformance import __version__
from conformance.client.evidence import redact_value
from conformance.clock import CHINA
from conformance.contract import documents as contracts
from conformance.contract.clauses import load_catalogue
from conformance.crypto import sm3_hex
from conformance.report.output import write_json, write_text
from conformance.report.signing import UNLISTED, sign_manifest, user_signer
from conformance.report.verdicts import clause_entry, clause_verdicts, overall

#: The published schema of report.json (``schemas/json/report.schema.json``) and the format it fixes.
REPORT_SCHEMA_NAME = "report"
REPORT_SCHEMA: str = contracts.json_schema(REPORT_SCHEMA_NAME)["properties"]["schema"]["const"]
#: How many schema problems the harness error quotes (all of them are in the exception).
_QUOTED = 5


class ReportSchemaError(ValueError):
    """A report that does not conform to ``report.schema.json`` (a harness bug); it has been written all the same."""

    def __init__(self, problems: list[Any]) -> None:
        self.problems = problems
        super().__init__(schema_failure(problems))


def report_problems(report: dict[str, Any]) -> list[Any]:
    """The ways ``report`` does not conform to ``report.schema.json`` (``FieldError``s; none when it does)."""
    from conformance.check.schema import FieldError, validator

    v = validator(REPORT_SCHEMA_NAME)
    if v.is_valid(report):
        return []
    return v.errors(report) or [FieldError("", "schema", "不符合模式", "does not conform")]


def schema_failure(problems: list[Any]) -> str:
    """The harness error of a report that does not conform, “中文 / English”."""
    zh = "；".join(f"{e.path or '/'} {e.message_zh}" for e in problems[:_QUOTED])
    en = "; ".join(f"{e.path or '/'} {e.message_en}" for e in problems[:_QUOTED])
    more_zh = f"（另有 {len(problems) - _QUOTED} 处）" if len(problems) > _QUOTED else ""
    more_en = f" (+{len(problems) - _QUOTED} more)" if len(problems) > _QUOTED else ""
    return (
        f"报告不符合 schemas/json/report.schema.json（测试工具缺陷，报告仍已写出）：{zh}{more_zh} / "
        f"the report does not conform to schemas/json/report.schema.json (a harness bug; it is written "
        f"nonetheless): {en}{more_en}"
    )


def _with_harness_error(summary: dict[str, Any], error: str) -> dict[str, Any]:
    """A run's summary with a harness error: the verdicts 不通过, an earlier harness error kept."""
    earlier = summary.get("harnessError")
    failed = {"interface": "不通过", "certification": "不通过"}
    return {**summary, **failed, "harnessError": f"{earlier}；{error}" if earlier else error}


def _mark_failed(report: dict[str, Any], problems: list[Any]) -> str:
    """Record a non-conforming report in its own summary (the verdicts become 不通过) and return the error."""
    error = schema_failure(problems)
    report["summary"] = _with_harness_error(report["summary"] if isinstance(report.get("summary"), dict) else {}, error)
    return error


def contract_digests() -> dict[str, str]:
    """SHA-256 of every contract file (the exact contracts a run used)."""
    out = {}
    for path in sorted(contracts.SCHEMAS.rglob("*")):
        if path.is_file() and path.suffix in {".json", ".yaml", ".xsd"}:
            out[str(path.relative_to(contracts.SCHEMAS))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).astimezone(CHINA).isoformat(timespec="seconds")


def build_report(
    state: Any, *, lang: str = "zh", answers: dict[str, Any] | None = None, scope: str = "full"
) -> dict[str, Any]:
    catalogue = load_catalogue()
    binding: dict[str, Any] | None = getattr(state, "binding", None)
    deviations = {cid: f"{d['zh']} / {d['en']}" for d in (binding or {}).get("deviations", []) for cid in d["clauses"]}
    verdicts = clause_verdicts(
        catalogue,
        state.outcomes,
        features=state.target.features,
        answers=answers,
        role=state.target.role,
        deviations=deviations,
    )
    by_id = {c["id"]: c for c in catalogue}
    roles_tested = {state.target.role}
    ids: dict[str, str] = getattr(state, "ids", {}) or {}
    evidence_by_test: dict[str, list[int]] = {}
    for i, x in enumerate(state.evidence.exchanges):
        test = ids.get(x.test or "", x.test or "")
        x.test = test
        evidence_by_test.setdefault(test, []).append(i)
    clauses = []
    for v in verdicts:
        c = by_id[v.id]
        if c.get("roles") and not roles_tested & set(c["roles"]) and not v.tests:
            continue  # a clause of another role: not part of this run
        clauses.append(
            {**clause_entry(c, v), "evidence": sorted({i for t in v.tests for i in evidence_by_test.get(t, [])})}
        )
    shown = {c["id"] for c in clauses}
    summary = overall([v for v in verdicts if v.id in shown], scope=scope)
    harness_error = getattr(state, "harness_error", None)
    if harness_error:
        summary = _with_harness_error(summary, harness_error)
    preflight = getattr(state, "preflight", None)
    guard = getattr(state, "guard", None)
    if guard is not None and guard.stopped():
        summary = {**summary, "stopped": guard.stopped()}
    data_quality = getattr(state, "data_quality", None)
    return {
        "schema": REPORT_SCHEMA,
        "lang": lang,
        "run": {
            "harnessVersion": __version__,
            "python": platform.python_version(),
            "started": _iso(state.started),
            "ended": _iso(dt.datetime.now().timestamp()),
            "target": {
                "name": state.target.name,
                "role": state.target.role,
                "urls": state.target.urls,
                "features": sorted(state.target.features),
                "source": state.target.source,
                "binding": binding,
            },
            "profile": state.target.profile,
            "seeds": sorted({o.seed for o in state.outcomes if o.seed}),
            "contractDigests": contract_digests(),
            "interrupted": bool(getattr(state, "interrupted", False)),
            "stopped": guard.stopped() if guard is not None else None,
            "deadlineS": guard.deadline_s if guard is not None else None,
            "signer": user_signer().info(),
        },
        "preflight": preflight.to_json() if preflight is not None else None,
        "functionalSize": functional_size(state.target.role),
        "summary": summary,
        "clauses": clauses,
        "attestation": [
            {**c, "answer": (answers or {}).get(c["id"])} for c in clauses if c["verification"] == "attestation"
        ],
        "tests": [
            {
                **asdict(o),
                "clauses": list(o.clauses),
                "duration": round(o.duration, 3),
                "item": _with_result(o, len(evidence_by_test.get(o.nodeid, []))),
            }
            for o in state.outcomes
        ],
        **({"dataQuality": data_quality} if data_quality is not None else {}),
    }


def _with_result(o: Any, exchanges: int) -> dict[str, Any] | None:
    """The test item with what this run adds: 实际结果, 判定 and the number of exchanges it made."""
    from conformance.report.items import OUTCOME_VERDICT, actual

    if o.item is None:
        return None
    return {
        **o.item,
        "actual": actual(o.outcome, o.item.get("failure") or o.message, o.reason, exchanges, o.item.get("requests")),
        "verdict": OUTCOME_VERDICT.get(o.outcome, OUTCOME_VERDICT["missing"]),
        "exchanges": exchanges,
    }


def functional_size(role: str) -> dict[str, Any] | None:
    """The COSMIC size of the role's interface set, from the contracts (docs/functional-size.md); None for a role
    without a contract of its own."""
    from conformance.contract.size import role_size

    try:
        size = role_size(role)
    except (KeyError, ValueError):
        return None
    return {
        "method": "COSMIC (ISO/IEC 19761), GB/T 18491.1",
        "cfp": size["cfp"],
        "processes": len(size["operations"]),
        "interfaces": [
            {"interface": i["interface"], "cfp": i["cfp"], "operations": i["operations"]} for i in size["interfaces"]
        ],
    }


def load_answers(path: str | Path) -> dict[str, Any]:
    """The attestation answers file (YAML or JSON), validated against ``attestation-answers.schema.json``."""
    from conformance.check.schema import validator

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    v = validator("attestation-answers")
    if not v.is_valid(data):
        problems = "; ".join(f"{e.path or '/'} {e.message_zh}" for e in v.errors(data)[:5])
        raise ValueError(
            f"证明材料答复文件 {path} 不符合 attestation-answers.schema.json / invalid answers file: {problems}"
        )
    return data


def write_report(
    out: Path, state: Any, *, lang: str = "zh", answers_file: str | None = None, scope: str = "full"
) -> Path:
    from conformance.report.html import render_page

    out.mkdir(parents=True, exist_ok=True)
    answers = load_answers(answers_file) if answers_file else {}
    report = build_report(state, lang=lang, answers=answers, scope=scope)
    evidence = [x.as_dict() for x in state.evidence.exchanges]
    report, evidence = redact_value(report), redact_value(evidence)
    problems = report_problems(report)
    if problems:  # a harness bug: the report is still written, the run ends as a harness error (exit 2)
        error = _mark_failed(report, problems)
        state.harness_error = getattr(state, "harness_error", None) or error
    state.summary = report["summary"]
    write_json(out / "report.json", report)
    write_json(out / "evidence.json", evidence)
    write_text(out / "report.html", render_page(report, evidence, lang))
    write_manifest(out, report)
    return out


def merge_performance(
    out: Path, load: dict[str, Any], load_dir: Path, exchanges: list[dict[str, Any]], *, lang: str | None = None
) -> Path:
    """Join a load run (``tzsb-conform load --run-dir``, document ``tzsb-load/1``) to the certification
    report in ``out``, for the same target and role. Additive fields of ``tzsb-report/1``:

    * ``performance`` (top level): one entry per role's load run — profile, users, window, the
      generator's own load (and whether it was saturated), metrics per operation group, the folder
      of its evidence (relative to ``out``);
    * ``tests`` gain the load checks (node ids ``load::<role>::<group>::<metric>``), the catalogue
      clauses they support are judged again by the same rules (an earlier load run of the same role
      is replaced), and such a clause entry gains ``performance`` (the load folder and its checks);
    * ``evidence.json`` gains the load run's preflight exchanges (test ``load::<role>::preflight``).

    Attestation clauses and the clauses of the suites are left as they are; the summary is
    recomputed; ``report.html`` and ``manifest.json`` are written again.
    """
    from conformance.report.html import render_page
    from conformance.report.verdicts import ClauseVerdict, Outcome

    report_path = out / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    if not str(report.get("schema", "")).startswith("tzsb-report/1"):
        raise ValueError(f"{report_path}: not a tzsb-report/1 report")
    role = load["run"]["role"]
    target = report["run"]["target"]
    if target.get("role") != role:
        raise ValueError(f"the report is for role {target.get('role')}, the load run for {role}")
    mine, theirs = (target.get("urls") or {}).get(role), load["run"]["target"]["urls"].get(role)
    if mine and theirs and mine.rstrip("/") != theirs.rstrip("/"):
        raise ValueError(f"the report's target ({mine}) is not the load run's ({theirs})")
    prefix = f"load::{role}::"
    evidence_path = out / "evidence.json"
    evidence = json.loads(evidence_path.read_text(encoding="utf-8")) if evidence_path.is_file() else []
    evidence = [x for x in evidence if not str(x.get("test") or "").startswith(prefix)]
    first = len(evidence)
    evidence += [{**x, "test": f"{prefix}preflight"} for x in exchanges]
    load_evidence = list(range(first, len(evidence)))
    new_tests = [
        {
            "nodeid": c["nodeid"],
            "outcome": c["outcome"],
            "clauses": [c["clause"]],
            "duration": load["run"]["window"]["seconds"],
            "message": c["reason"] if c["outcome"] != "passed" else None,
            "seed": None,
            "title": f"{c['group']} {c['metric']}",
            "reason": c["reason"] if c["outcome"] != "passed" else None,
        }
        for c in load["checks"]
        if c.get("clause")
    ]
    touched = {c["id"] for c in load["clauses"]} | {
        cid for t in report["tests"] if t["nodeid"].startswith(prefix) for cid in t["clauses"]
    }
    report["tests"] = [t for t in report["tests"] if not t["nodeid"].startswith(prefix)] + new_tests
    catalogue = {c["id"]: c for c in load_catalogue()}
    judged = [catalogue[cid] for cid in catalogue if cid in touched and catalogue[cid]["verification"] == "automated"]
    outcomes = [
        Outcome(
            t["nodeid"],
            t["outcome"],
            tuple(t["clauses"]),
            t.get("duration") or 0.0,
            t.get("message"),
            t.get("seed"),
            t.get("title"),
            t.get("reason") or (t.get("message") if t["outcome"] != "passed" else None),
            t.get("absent"),
        )
        for t in report["tests"]
    ]
    verdicts = {v.id: v for v in clause_verdicts(judged, outcomes, features=target.get("features") or [], role=role)}
    rel = (
        str(load_dir.resolve().relative_to(out.resolve()))
        if load_dir.resolve().is_relative_to(out.resolve())
        else str(load_dir)
    )
    by_id = {c["id"]: c for c in report["clauses"]}
    load_clauses = {c["id"]: c for c in load["clauses"]}
    for cid, v in verdicts.items():
        earlier = by_id.get(cid) or {}
        by_id[cid] = {
            **clause_entry(catalogue[cid], v),
            "reason": load_clauses.get(cid, {}).get("reason") or v.reason,
            "evidence": sorted({i for i in earlier.get("evidence") or [] if i < first} | set(load_evidence)),
            "performance": {
                "dir": rel,
                "page": f"{rel}/load.html",
                "checks": [t["nodeid"] for t in new_tests if cid in t["clauses"]],
            },
        }
    order = list(catalogue)
    report["clauses"] = sorted(by_id.values(), key=lambda c: order.index(c["id"]) if c["id"] in order else len(order))
    answered = {a["id"]: a.get("answer") for a in report.get("attestation") or []}
    report["attestation"] = [
        {**c, "answer": answered.get(c["id"])} for c in report["clauses"] if c["verification"] == "attestation"
    ]
    run = load["run"]
    # the members of a performance entry's generator and groups: as report.schema.json declares them
    performance = contracts.json_schema(REPORT_SCHEMA_NAME)["properties"]["performance"]["items"]["properties"]
    group_fields = performance["groups"]["additionalProperties"]["required"]
    entry = {
        "role": role,
        "dir": rel,
        "page": f"{rel}/load.html",
        "chart": f"{rel}/{load['files'].get('chart', 'latency.svg')}",
        "profile": run["profile"],
        "users": run["users"],
        "workers": run["workers"],
        "window": run["window"],
        "started": run["started"],
        "ended": run["ended"],
        "aborted": run.get("aborted"),
        "generator": {k: load["generator"][k] for k in performance["generator"]["required"]},
        "groups": {n: {k: g.get(k) for k in group_fields} for n, g in load["groups"].items()},
        "clauses": {c["id"]: c["verdict"] for c in load["clauses"]},
    }
    report["performance"] = [p for p in report.get("performance") or [] if p.get("role") != role] + [entry]
    shown = [
        ClauseVerdict(
            c["id"],
            c["level"],
            c["verification"],
            c["verdict"],
            list(c.get("tests") or []),
            c.get("reason"),
            bool(c.get("warning")),
        )
        for c in report["clauses"]
    ]
    harness_error, stopped = report["summary"].get("harnessError"), report["summary"].get("stopped")
    report["summary"] = overall(shown, scope=report["summary"].get("scope", "full"))
    if stopped:
        report["summary"]["stopped"] = stopped
    if harness_error:
        report["summary"] = _with_harness_error(report["summary"], harness_error)
    lang = lang or report.get("lang", "zh")
    report, evidence = redact_value(report), redact_value(evidence)
    problems = report_problems(report)
    if problems:
        _mark_failed(report, problems)
    write_json(report_path, report)
    write_json(evidence_path, evidence)
    write_text(out / "report.html", render_page(report, evidence, lang, base=out))
    write_manifest(out, report)
    if problems:  # written all the same; the load command reports it and exits 2
        raise ReportSchemaError(problems)
    return out


def write_manifest(out: Path, report: dict[str, Any]) -> None:
    """``manifest.json`` (SHA-256, SM3 and size of every other file of ``out``), signed by the user's key
    (``manifest.sig``, :mod:`conformance.report.signing`)."""
    files = {}
    listed = (p for p in out.rglob("*") if p.is_file() and str(p.relative_to(out)) not in UNLISTED)
    for path in sorted(listed):
        data = path.read_bytes()
        files[str(path.relative_to(out))] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "sm3": sm3_hex(data),
            "bytes": len(data),
        }
    manifest = {
        "schema": "tzsb-manifest/1",
        "harnessVersion": __version__,
        "run": {k: v for k, v in report["run"].items()},
        "files": files,
    }
    write_json(out / "manifest.json", manifest)
    sign_manifest(out, user_signer())
