"""Verdict rules (docs/design.md principle 3): skips never pass, failures win, optional features
not declared are 不适用, attestation is judged from answers, overall only over shall-clauses."""

from __future__ import annotations

from conformance.report.verdicts import (
    CONFORMS,
    ERROR,
    FAIL,
    FAILS,
    NOT_APPLICABLE,
    PARTLY,
    PASS,
    UNTESTED,
    Outcome,
    clause_verdicts,
    overall,
)

CAT = [
    {"id": "A.1", "level": "shall", "verification": "automated"},
    {"id": "A.2", "level": "shall", "verification": "automated"},
    {"id": "A.3", "level": "should", "verification": "automated"},
    {"id": "A.4", "level": "shall", "verification": "automated", "optional": True, "feature": "request-signature"},
    {"id": "A.5", "level": "shall", "verification": "attestation", "reason": "backup"},
    {"id": "A.6", "level": "shall", "verification": "not-testable", "reason": "organisational"},
]


def _v(outcomes: list[Outcome], **kw: object) -> dict[str, str]:
    return {v.id: v.verdict for v in clause_verdicts(CAT, outcomes, **kw)}  # type: ignore[arg-type]


def test_pass_fail_skip_error() -> None:
    got = _v(
        [
            Outcome("t1", "passed", ("A.1",)),
            Outcome("t2", "skipped", ("A.2",)),
            Outcome("t3", "passed", ("A.3",)),
            Outcome("t4", "failed", ("A.3",)),
        ]
    )
    assert got["A.1"] == CONFORMS and got["A.2"] == UNTESTED and got["A.3"] == PARTLY
    assert got["A.4"] == NOT_APPLICABLE and got["A.5"] == UNTESTED and got["A.6"] == NOT_APPLICABLE
    assert _v([Outcome("t", "passed", ("A.1",)), Outcome("u", "failed", ("A.1",))])["A.1"] == FAILS
    assert _v([Outcome("t", "passed", ("A.1",)), Outcome("u", "error", ("A.1",))])["A.1"] == ERROR


def test_declared_feature_makes_the_clause_applicable() -> None:
    assert _v([], features=["request-signature"])["A.4"] == UNTESTED
    assert _v([Outcome("s", "passed", ("A.4",))], features=["request-signature"])["A.4"] == CONFORMS


def test_attestation_answers() -> None:
    assert _v([], answers={"A.5": {"answer": "yes", "by": "张工", "evidence": "备份策略 v3"}})["A.5"] == CONFORMS
    assert _v([], answers={"A.5": {"answer": "no"}})["A.5"] == FAILS


def test_overall_only_passes_when_every_applicable_shall_clause_conforms() -> None:
    ok = [Outcome("a", "passed", ("A.1",)), Outcome("b", "passed", ("A.2",)), Outcome("c", "failed", ("A.3",))]
    o = overall(clause_verdicts(CAT, ok))
    assert o["interface"] == PASS and o["warnings"] == ["A.3"] and o["certification"] == FAIL
    assert o["attestationPending"] == ["A.5"]
    o = overall(clause_verdicts(CAT, ok, answers={"A.5": {"answer": "yes"}}))
    assert o["certification"] == PASS
    skipped = [Outcome("a", "passed", ("A.1",)), Outcome("b", "skipped", ("A.2",))]
    assert overall(clause_verdicts(CAT, skipped))["interface"] == FAIL
