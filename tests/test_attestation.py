"""Attestation answers: the template of every role validates, answers become verdicts and show in the checklist."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance.contract.clauses import answers_template, load_catalogue
from conformance.contract.openapi import ROLES
from conformance.report.verdicts import clause_verdicts
from conformance.report.writer import load_answers


@pytest.mark.parametrize("role", ROLES)
def test_the_template_lists_every_attestation_clause_of_the_role_and_validates(role: str, tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(answers_template(role), encoding="utf-8")
    answers = load_answers(path)
    want = {c["id"] for c in load_catalogue() if c["verification"] == "attestation" and role in c["roles"]}
    assert set(answers) == want
    assert {a["answer"] for a in answers.values()} <= {"pending"}


def test_answers_become_verdicts(tmp_path: Path) -> None:
    catalogue = [c for c in load_catalogue() if c["verification"] == "attestation"][:4]
    ids = [c["id"] for c in catalogue]
    path = tmp_path / "a.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                ids[0]: {"answer": "yes", "by": "王磊（信息中心）", "evidence": "测评报告"},
                ids[1]: {"answer": "no", "by": "王磊", "evidence": "无"},
                ids[2]: {"answer": "pending", "by": "", "evidence": ""},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    verdicts = {v.id: v.verdict for v in clause_verdicts(catalogue, [], answers=load_answers(path))}
    assert [verdicts[i] for i in ids] == ["符合", "不符合", "未测", "未测"]


def test_an_answer_without_evidence_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("INFO2007.2.8.1:\n  answer: yes\n  by: 王磊\n  evidence: ''\n", encoding="utf-8")
    with pytest.raises(ValueError, match="evidence"):
        load_answers(path)
