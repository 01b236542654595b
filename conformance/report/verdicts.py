"""Clause verdicts from test outcomes (DESIGN.md principle 3, GB/T 34990-style judgements).

* 符合 (conforms): at least one test of the clause ran and every one passed;
* 不符合 (does not conform): a test of the clause failed (for a should-clause: a warning);
* 部分符合 (partly): a should/may-clause with some tests passed and some failed, or an
  attestation answered "partly";
* 未测 (not tested): no test ran (skipped, missing data, attestation not answered) — a skip
  never makes a pass;
* 不适用 (not applicable): the target's declared profile rules the clause out (an optional
  feature it does not claim), or the clause cannot be tested over the interface (with its reason);
* 错误 (error): a test could not reach a judgement (harness or network error) and none failed.

The overall verdict is 通过 only when every applicable automated shall-clause is 符合;
attestation items are judged separately (证明材料), and certification needs both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CONFORMS, FAILS, PARTLY, UNTESTED, NOT_APPLICABLE, ERROR = "符合", "不符合", "部分符合", "未测", "不适用", "错误"
VERDICT_EN = {CONFORMS: "conforms", FAILS: "does not conform", PARTLY: "partly conforms", UNTESTED: "not tested",
              NOT_APPLICABLE: "not applicable", ERROR: "error"}
PASS, FAIL = "通过", "不通过"


@dataclass
class Outcome:
    nodeid: str
    outcome: str  # passed | failed | error | skipped | not-applicable
    clauses: tuple[str, ...]
    duration: float = 0.0
    message: str | None = None
    seed: str | None = None
    title: str | None = None


@dataclass
class ClauseVerdict:
    id: str
    level: str
    verification: str
    verdict: str
    tests: list[str] = field(default_factory=list)
    reason: str | None = None
    warning: bool = False


def _judge_tests(level: str, outcomes: list[Outcome]) -> str:
    ran = [o for o in outcomes if o.outcome in ("passed", "failed", "error")]
    if not ran:
        if outcomes and all(o.outcome == "not-applicable" for o in outcomes):
            return NOT_APPLICABLE
        return UNTESTED
    failed = any(o.outcome == "failed" for o in ran)
    passed = any(o.outcome == "passed" for o in ran)
    if failed:
        return PARTLY if passed and level != "shall" else FAILS
    if any(o.outcome == "error" for o in ran):
        return ERROR
    return CONFORMS


def clause_verdicts(catalogue: Iterable[Mapping[str, Any]], outcomes: Iterable[Outcome], *,
                    features: Iterable[str] = (), answers: Mapping[str, Mapping[str, Any]] | None = None
                    ) -> list[ClauseVerdict]:
    """A verdict for every clause of the catalogue."""
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
            v.verdict = {"yes": CONFORMS, "no": FAILS, "partly": PARTLY, "n/a": NOT_APPLICABLE}.get(
                str(a.get("answer", "")).lower(), UNTESTED) if a else UNTESTED
        else:
            v.verdict = _judge_tests(level, tests)
        v.warning = level != "shall" and v.verdict in (FAILS, PARTLY)
        out.append(v)
    return out


def overall(verdicts: Iterable[ClauseVerdict]) -> dict[str, Any]:
    """通过 / 不通过 over the applicable automated shall-clauses, plus the attestation status."""
    vs = list(verdicts)
    shall = [v for v in vs if v.level == "shall" and v.verification == "automated" and v.verdict != NOT_APPLICABLE]
    attest = [v for v in vs if v.level == "shall" and v.verification == "attestation" and v.verdict != NOT_APPLICABLE]
    counts: dict[str, int] = {}
    for v in vs:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    interface = PASS if shall and all(v.verdict == CONFORMS for v in shall) else FAIL
    attested = PASS if all(v.verdict == CONFORMS for v in attest) else FAIL
    return {
        "interface": interface,
        "attestation": attested,
        "certification": PASS if interface == PASS and attested == PASS else FAIL,
        "counts": counts,
        "shallFailing": [v.id for v in shall if v.verdict != CONFORMS],
        "shallNonConforming": [v.id for v in shall if v.verdict in (FAILS, PARTLY, ERROR)],
        "shallUntested": [v.id for v in shall if v.verdict == UNTESTED],
        "warnings": [v.id for v in vs if v.warning],
        "attestationPending": [v.id for v in attest if v.verdict == UNTESTED],
    }
