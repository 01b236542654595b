"""Clause verdicts from test outcomes (docs/design.md principle 3, GB/T 34990-style judgements).

The tests marked with a clause are its *deciding checks*. Each ends in one of: passed, failed,
error, skipped (a deciding check that could not run here: data, a means of testing or a counterpart
is missing — ``conformance.report.skips.untested``), vacuous (the contract leaves nothing to check at that
place — ``conformance.report.skips.vacuous``; it does not decide), not-applicable (it needs an option of the
standard the target does not claim).

* 符合 (conforms): at least one deciding check passed, and every deciding check that is not vacuous
  or not-applicable ran and passed — a skip never makes a pass;
* 不符合 (does not conform): a deciding check failed (for a should-clause: a warning);
* 部分符合 (partly): a should/may-clause with some checks passed and some failed, or an
  attestation answered "partly";
* 未测 (not tested): a deciding check did not run (its reasons are kept: what is missing and how to
  provide it), no check ran at all, or the attestation is not answered;
* 不适用 (not applicable): the target's declared profile rules the clause out (an option of the
  standard it does not claim), the clause does not bind the role under test and its checks found
  nothing to check there (every one vacuous), or the clause cannot be tested over the interface (with
  its reason); a clause that binds the role and whose every check was vacuous is 未测;
* 错误 (error): a check could not reach a judgement (harness or network error) and none failed;
* 按绑定 (per binding): a clause of the project's interface profile where the target's binding declares the vendor's
  dialect departs from the profile (docs/bindings.md), and whose checks, run through the binding, passed: judged
  in the binding's terms, never 符合; it counts as met for 通过, and the report lists the departure. A check
  that needs an exchange the binding declares absent (not-offered: a static key has no token exchange) does not
  decide such a clause; for every other clause it is untested (a clause of the standards is never met by
  declaring its exchange away).

The overall verdict is 通过 only when every applicable automated shall-clause is 符合;
attestation items are judged separately (证明材料), and certification needs both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

CONFORMS, FAILS, PARTLY, UNTESTED, NOT_APPLICABLE, ERROR = "符合", "不符合", "部分符合", "未测", "不适用", "错误"
BY_BINDING = "按绑定"
VERDICT_EN = {
    BY_BINDING: "per binding",
    CONFORMS: "conforms",
    FAILS: "does not conform",
    PARTLY: "partly conforms",
    UNTESTED: "not tested",
    NOT_APPLICABLE: "not applicable",
    ERROR: "error",
}
PASS, FAIL = "通过", "不通过"
OVERALL_EN = {PASS: "pass", FAIL: "fail"}
#: internal: every deciding check was vacuous (decided in clause_verdicts by whether the clause binds the role)
VACUOUS_ONLY = "vacuous-only"


@dataclass
class Outcome:
    nodeid: str
    outcome: str  # passed | failed | error | skipped | vacuous | not-applicable
    clauses: tuple[str, ...]
    duration: float = 0.0
    message: str | None = None
    seed: str | None = None
    title: str | None = None
    #: why a check did not run (skipped, vacuous, not-applicable): kept for the report
    reason: str | None = None
    #: not-offered: the interface of the exchange the target's binding declares absent
    absent: str | None = None
    #: the GB/T 34990 test item the test states (conformance.report.items): number, purpose, preconditions, steps,
    #: expected result; the report adds the actual result and the verdict
    item: dict[str, Any] | None = None


@dataclass
class ClauseVerdict:
    id: str
    level: str
    verification: str
    verdict: str
    tests: list[str] = field(default_factory=list)
    reason: str | None = None
    warning: bool = False
    #: the reasons its deciding checks did not run (每项未测的原因与补足方法)
    untested: list[str] = field(default_factory=list)


def _judge_tests(level: str, outcomes: list[Outcome]) -> tuple[str, list[str]]:
    """The verdict of a clause from its deciding checks, and the reasons of those that did not run."""
    ran = [o for o in outcomes if o.outcome in ("passed", "failed", "error")]
    not_run = [o for o in outcomes if o.outcome == "skipped"]
    reasons = list(dict.fromkeys(o.reason or o.nodeid for o in not_run))
    failed = any(o.outcome == "failed" for o in ran)
    passed = any(o.outcome == "passed" for o in ran)
    if failed:
        return (PARTLY if passed and level != "shall" else FAILS), reasons
    if any(o.outcome == "error" for o in ran):
        return ERROR, reasons
    if not_run:
        return UNTESTED, reasons
    if passed:
        return CONFORMS, reasons
    if outcomes and all(o.outcome == "not-applicable" for o in outcomes):
        return NOT_APPLICABLE, list(dict.fromkeys(o.reason for o in outcomes if o.reason))
    if outcomes:  # only vacuous (and not-applicable) checks: nothing decided it here
        return VACUOUS_ONLY, list(dict.fromkeys(o.reason for o in outcomes if o.reason))
    return UNTESTED, ["本次运行中没有该条款的判定检验 / no deciding check of this clause ran"]


#: a check needing an exchange the target's binding declares absent (``conformance.client.http.NotOffered``)
NOT_OFFERED = "not-offered"


def _offered(outcomes: list[Outcome], departs: bool, requires: Iterable[str]) -> list[Outcome]:
    """The checks as they decide a clause. One that needs an exchange the binding declares absent is untested for
    a clause that names that exchange's interface (a clause of the standards is not met by declaring what it asks
    for away), unless the binding departs from that clause (a profile clause the vendor's declared convention
    replaces): there, as for a clause that does not ask for the exchange, it has nothing to check and does not
    decide."""
    needed = set(requires)

    def kind(o: Outcome) -> str:
        asked = o.absent is None or o.absent in needed  # an exchange nobody named: taken as asked for
        return "skipped" if asked and not departs else "vacuous"

    return [replace(o, outcome=kind(o)) if o.outcome == NOT_OFFERED else o for o in outcomes]


def clause_verdicts(
    catalogue: Iterable[Mapping[str, Any]],
    outcomes: Iterable[Outcome],
    *,
    features: Iterable[str] = (),
    answers: Mapping[str, Mapping[str, Any]] | None = None,
    role: str | None = None,
    deviations: Mapping[str, str] | None = None,
) -> list[ClauseVerdict]:
    """A verdict for every clause of the catalogue. ``role``: the role under test — a clause whose every check
    was vacuous is 不适用 only when the catalogue says it does not bind that role; otherwise it is 未测 (nothing
    in this run decided it). ``deviations``: profile clause → how the target's binding departs there (a 符合 reads
    按绑定 with it)."""
    by_clause: dict[str, list[Outcome]] = {}
    for o in outcomes:
        for cid in o.clauses:
            by_clause.setdefault(cid, []).append(o)
    declared = set(features)
    answers = answers or {}
    out: list[ClauseVerdict] = []
    for c in catalogue:
        cid, level, how = c["id"], c["level"], c["verification"]
        tests = by_clause.get(cid, [])
        v = ClauseVerdict(cid, level, how, UNTESTED, [t.nodeid for t in tests], c.get("reason"))
        if c.get("optional") and c.get("feature") and c["feature"] not in declared:
            v.verdict = NOT_APPLICABLE
            v.reason = f"目标未声明可选特性 {c['feature']} / the target does not declare feature {c['feature']}"
        elif how == "not-testable":
            v.verdict = NOT_APPLICABLE
        elif how == "attestation":
            a = answers.get(cid)
            v.verdict = (
                {"yes": CONFORMS, "no": FAILS, "partly": PARTLY, "n/a": NOT_APPLICABLE}.get(
                    str(a.get("answer", "")).lower(), UNTESTED
                )
                if a
                else UNTESTED
            )
        else:
            v.verdict, why = _judge_tests(level, _offered(tests, cid in (deviations or {}), c.get("interfaces") or ()))
            if v.verdict == VACUOUS_ONLY and cid in (deviations or {}) and any(t.outcome == NOT_OFFERED for t in tests):
                v.verdict = CONFORMS  # read 按绑定 below: the binding replaces what the profile asks for here
            if v.verdict == VACUOUS_ONLY:
                binds = not role or not c.get("roles") or role in c["roles"]
                v.verdict = UNTESTED if binds else NOT_APPLICABLE
                why = (
                    why
                    if not binds
                    else ["本次运行中没有判定该条款的检验（其检验均无可检验项）/ no check decided it in this run", *why]
                )
            if v.verdict in (UNTESTED, NOT_APPLICABLE) and why:
                v.untested = why
                v.reason = "；".join(why[:5]) + (
                    f"（另有 {len(why) - 5} 项 / {len(why) - 5} more）" if len(why) > 5 else ""
                )
        if v.verdict == CONFORMS and cid in (deviations or {}):
            v.verdict, v.reason = BY_BINDING, (deviations or {})[cid]
        v.warning = level != "shall" and v.verdict in (FAILS, PARTLY)
        out.append(v)
    return out


def clause_entry(clause: Mapping[str, Any], v: ClauseVerdict) -> dict[str, Any]:
    """A clause's entry in a report (``clauses`` of report.json and of a load run's load.json)."""
    return {
        "id": v.id,
        "document": clause["document"],
        "clause": clause["clause"],
        "level": v.level,
        "verification": v.verification,
        "title": clause["title"],
        "titleEn": clause.get("title_en"),
        "text": clause.get("text"),
        "verdict": v.verdict,
        "verdictEn": VERDICT_EN[v.verdict],
        "warning": v.warning,
        "reason": v.reason,
        "untested": v.untested,
        "tests": v.tests,
    }


#: What a certification verdict covers: ``full`` (interface and attestation) or ``interface`` (the
#: automated shall-clauses only; the attestation items are reported but are outside its scope).
SCOPES = ("full", "interface")


def overall(verdicts: Iterable[ClauseVerdict], *, scope: str = "full") -> dict[str, Any]:
    """通过 / 不通过 over the applicable automated shall-clauses, plus the attestation status, and the
    certification verdict of the run's scope with what is missing for 通过."""
    vs = list(verdicts)
    shall = [v for v in vs if v.level == "shall" and v.verification == "automated" and v.verdict != NOT_APPLICABLE]
    attest = [v for v in vs if v.level == "shall" and v.verification == "attestation" and v.verdict != NOT_APPLICABLE]
    counts: dict[str, int] = {}
    for v in vs:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    interface = PASS if shall and all(v.verdict in (CONFORMS, BY_BINDING) for v in shall) else FAIL
    attested = PASS if all(v.verdict == CONFORMS for v in attest) else FAIL
    failing = [v.id for v in shall if v.verdict in (FAILS, PARTLY)]
    errors = [v.id for v in shall if v.verdict == ERROR]
    untested = [v.id for v in shall if v.verdict == UNTESTED]
    pending = [v.id for v in attest if v.verdict == UNTESTED]
    attest_failing = [v.id for v in attest if v.verdict in (FAILS, PARTLY)]
    missing: list[dict[str, Any]] = []
    if not shall:
        missing.append({"what": "no-shall-clause", "clauses": []})
    for what, ids in (("non-conforming", failing), ("error", errors), ("untested", untested)):
        if ids:
            missing.append({"what": what, "clauses": ids})
    if scope == "full":
        for what, ids in (("attestation-pending", pending), ("attestation-failing", attest_failing)):
            if ids:
                missing.append({"what": what, "clauses": ids})
    certification = interface if scope == "interface" else (PASS if interface == PASS and attested == PASS else FAIL)
    return {
        "scope": scope,
        "interface": interface,
        "attestation": attested,
        "certification": certification,
        "counts": counts,
        "shallFailing": [v.id for v in shall if v.verdict not in (CONFORMS, BY_BINDING)],
        "shallNonConforming": failing + errors,
        "shallUntested": untested,
        "warnings": [v.id for v in vs if v.warning],
        "attestationPending": pending,
        "attestationItems": len(attest),
        "missingForPass": missing,
    }


MISSING_TEXT = {
    "no-shall-clause": ("本次运行没有可判定的应（shall）条款", "no applicable shall-clause was judged in this run"),
    "non-conforming": ("不符合的应条款", "shall-clauses that do not conform"),
    "error": ("检验出错的应条款（测试工具或网络错误）", "shall-clauses whose checks erred (harness or network)"),
    "untested": (
        "未测的应条款（缺数据、测试手段或对端，见各条款的原因）",
        "untested shall-clauses (data, means of testing or counterpart missing; see each clause)",
    ),
    "attestation-pending": ("未答复的证明材料项（--answers）", "attestation items not answered (--answers)"),
    "attestation-failing": ("证明材料不满足的项", "attestation items answered no / partly"),
}


def summary_lines(summary: Mapping[str, Any], lang: str = "zh", *, limit: int = 8) -> list[str]:
    """The verdict block every entry point prints at the end of a run (Chinese, or English)."""
    en = lang == "en"
    scope = summary.get("scope", "full")
    att = summary.get("attestation", FAIL)
    pending = summary.get("attestationPending") or []
    if en:
        att_text = {PASS: "all answered and met"}.get(att, f"{len(pending)} pending" if pending else "not met")
        if summary.get("attestationItems") == 0:
            att_text = "no attestation item applies"
        lines = [
            f"Interface verdict: {OVERALL_EN.get(summary['interface'], summary['interface'])}",
            f"Attestation: {att_text}"
            + (" (outside this run's scope: interface only)" if scope == "interface" else ""),
            f"Certification verdict: {OVERALL_EN.get(summary['certification'], summary['certification'])}"
            + (" (scope: interface)" if scope == "interface" else ""),
        ]
    else:
        att_text = {PASS: "均已答复且满足"}.get(att, f"{len(pending)} 项待答复" if pending else "未满足")
        if summary.get("attestationItems") == 0:
            att_text = "没有适用的证明材料项"
        lines = [
            f"接口结论：{summary['interface']}",
            f"证明材料：{att_text}" + ("（不在本次认证范围：仅接口）" if scope == "interface" else ""),
            f"认证结论：{summary['certification']}" + ("（范围：仅接口）" if scope == "interface" else ""),
        ]
    for item in summary.get("missingForPass") or []:
        zh, en_text = MISSING_TEXT.get(item["what"], (item["what"], item["what"]))
        ids = item.get("clauses") or []
        shown = ", ".join(ids[:limit]) + (
            f" …（共 {len(ids)} 项）"
            if len(ids) > limit and not en
            else f" … ({len(ids)} in all)"
            if len(ids) > limit
            else ""
        )
        lines.append(
            ("  Missing for a pass — " if en else "  通过尚缺——")
            + (en_text if en else zh)
            + (f": {shown}" if ids else "")
        )
    return lines
