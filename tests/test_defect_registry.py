"""The defect table is the one place defects are listed: each names existing clauses, and each
is exercised by a test of the project (a switch nobody tests could silently do nothing)."""

from __future__ import annotations

from pathlib import Path

from conformance.contract.clauses import load_catalogue
from conformance.reference.defects import DEFECTS


def test_every_defect_names_known_clauses() -> None:
    ids = {c["id"] for c in load_catalogue()}
    assert len({d.name for d in DEFECTS}) == len(DEFECTS) >= 30
    for d in DEFECTS:
        assert d.clauses and set(d.clauses) <= ids, d.name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in d.zh) and d.en, d.name


def test_every_defect_is_exercised_by_a_test() -> None:
    here = Path(__file__).parent
    text = "\n".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py") if p.name != Path(__file__).name)
    # the kill matrix's rows are run by tests/test_kill_matrix.py, one test per row
    text += "\n" + (here.parent / "conformance" / "kill_matrix.py").read_text(encoding="utf-8")
    untested = [d.name for d in DEFECTS if d.name not in text]
    assert untested == []
