"""Evidence sufficiency per clause: a skipped deciding check makes the clause 未测 (never 符合) with its
reason kept; vacuous checks do not decide (a clause whose every check is vacuous is 未测, or 不适用 when it does not bind the role); a missing means of testing is 未测 with what to provide,
only an undeclared option of the standard is 不适用; the verdict block names what is missing for 通过;
every automated clause has a deciding check."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.contract import documents as contracts
from conformance.contract.clauses import is_means_of_testing, load_catalogue, provide_text, target_features
from conformance.report.verdicts import (
    CONFORMS,
    FAIL,
    FAILS,
    NOT_APPLICABLE,
    PASS,
    UNTESTED,
    Outcome,
    clause_verdicts,
    overall,
    summary_lines,
)

CAT = [
    {"id": "A.1", "level": "shall", "verification": "automated"},
    {"id": "A.2", "level": "should", "verification": "automated"},
    {"id": "B.1", "level": "shall", "verification": "attestation", "reason": "organisational"},
]


def _one(outcomes: list[Outcome], cid: str = "A.1"):
    return next(v for v in clause_verdicts(CAT, outcomes) if v.id == cid)


def test_a_skip_beside_a_pass_is_untested_with_its_reason() -> None:
    v = _one([Outcome("t1", "passed", ("A.1",)), Outcome("t2", "skipped", ("A.1",), reason="未测：数据集为空")])
    assert v.verdict == UNTESTED
    assert v.untested == ["未测：数据集为空"] and "数据集为空" in (v.reason or "")


def test_a_failure_wins_over_a_skip() -> None:
    assert _one([Outcome("t1", "failed", ("A.1",)), Outcome("t2", "skipped", ("A.1",), reason="x")]).verdict == FAILS


def test_vacuous_checks_do_not_decide() -> None:
    assert (
        _one([Outcome("t1", "passed", ("A.1",)), Outcome("t2", "vacuous", ("A.1",), reason="无可检验项：")]).verdict
        == CONFORMS
    )
    only = _one([Outcome("t2", "vacuous", ("A.1",), reason="无可检验项：没有列表接口")])
    assert only.verdict == UNTESTED and "没有列表接口" in (only.reason or "")
    bound = [{**CAT[0], "roles": ["sharing"]}]
    other_role = clause_verdicts(
        bound, [Outcome("t2", "vacuous", ("A.1",), reason="无可检验项：没有列表接口")], role="inspection"
    )
    assert other_role[0].verdict == NOT_APPLICABLE
    same_role = clause_verdicts(
        bound, [Outcome("t2", "vacuous", ("A.1",), reason="无可检验项：没有列表接口")], role="sharing"
    )
    assert same_role[0].verdict == UNTESTED


def test_no_check_at_all_is_untested_with_a_reason() -> None:
    v = _one([])
    assert v.verdict == UNTESTED and v.reason


def test_not_applicable_only_when_every_check_is() -> None:
    assert _one([Outcome("t", "not-applicable", ("A.1",), reason="不适用")]).verdict == NOT_APPLICABLE
    mixed = _one([Outcome("t", "not-applicable", ("A.1",)), Outcome("u", "skipped", ("A.1",), reason="r")])
    assert mixed.verdict == UNTESTED


def test_missing_for_pass_and_the_scope() -> None:
    verdicts = clause_verdicts(CAT, [Outcome("t", "passed", ("A.1",))])
    full, interface = overall(verdicts), overall(verdicts, scope="interface")
    assert full["interface"] == PASS and full["certification"] == FAIL
    assert [m["what"] for m in full["missingForPass"]] == ["attestation-pending"]
    assert interface["certification"] == PASS and interface["missingForPass"] == []
    zh = "\n".join(summary_lines(full, "zh"))
    assert "认证结论：不通过" in zh and "B.1" in zh
    assert "Certification verdict: fail" in "\n".join(summary_lines(full, "en"))
    skipped = overall(clause_verdicts(CAT, [Outcome("t", "skipped", ("A.1",), reason="r")]))
    assert skipped["interface"] == FAIL and skipped["shallUntested"] == ["A.1"]


def test_every_declared_feature_has_a_kind_and_means_say_what_to_provide() -> None:
    features = target_features()
    assert all(f["kind"] in ("option", "means") for f in features.values())
    for c in load_catalogue():
        if c.get("feature"):
            assert c["feature"] in features, c["id"]
    suites = Path(contracts.SCHEMAS).parent / "conformance" / "suites"
    if suites.is_dir():  # a checkout: every feature a suite marks is registered
        for path in suites.glob("*.py"):
            for name in re.findall(r'mark\.feature\("([a-z-]+)"\)', path.read_text(encoding="utf-8")):
                assert name in features, f"{path.name}: feature {name}"
    assert is_means_of_testing("workflow-driver") and not is_means_of_testing("thumbnail")
    assert "attended" in provide_text("workflow-driver")


def test_every_automated_clause_has_a_deciding_check() -> None:
    from conformance.selfcheck.coverage import coverage

    missing = [r["id"] for r in coverage() if not r["checks"]]
    assert not missing, f"automated clauses no check decides: {missing}"
