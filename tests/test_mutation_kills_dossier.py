"""Kills the surviving mutants of the dossier code allocation, DB42/T 2279-2024 §9.2 (docs/mutation.md;
conformance/reference/roles/licensing/dossier.py: ``allocate_code``).

The code ends with the creation year (the year of the first licensing decision, §9.2) and a 4-digit sequence
per applicant and year: 0001 … 9999, then the applicant's numbers for that year are used up (409). Nine
thousand dossiers are not made one by one: the test sets the applicant's counter (``lic_dossier_seq``, the
reference server's own table) just below the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference.errors import ApiError
from conformance.reference.roles.licensing import dossier
from conformance.reference.roles.licensing import workflow as flow
from tests.test_mutation_kills_workflow import OUTCOME_POST, POST, licensing, walk
from tests.test_reference_licensing import GRANTED

#: Decided at the end of 2025 (the dossier's year), concluded early in 2026.
NEW_YEAR = {
    "decide": "2025-12-31T16:00:00+08:00",
    "certify": "2025-12-31T16:30:00+08:00",
    "issue": "2025-12-31T17:00:00+08:00",
    "conclude": "2026-01-02T09:00:00+08:00",
}
BEFORE_CONCLUDE = GRANTED[:5]  # accept … issue


def test_the_dossier_year_is_the_year_of_the_decision(tmp_path: Path) -> None:
    """决定在 2025 年末、办结在 2026 年初：卷宗编号中的年份为第一次许可决定的年份 2025（§9.2），序列号从 0001 起。
    Decided at the end of 2025, concluded early in 2026: the dossier code carries the decision's year 2025 (§9.2),
    sequence 0001.

    Kills ``allocate_code__mutmut_4`` (``case.decided_at and at``: the year of 办结)."""
    with licensing(tmp_path) as server:
        case = walk(server, "CASE-YEAR-01", GRANTED[:6], NEW_YEAR)
        code = dossier.code_of(server.db, case.case_no)
        assert code is not None, "办结后应有卷宗编号 / a dossier code after 办结"
        assert code[-8:] == "20250001", f"年份应为决定年份 2025 / the decision's year 2025 expected: {code}"


def _conclude(server: object, case_no: str) -> flow.store.Case:
    return flow.perform_step(
        server,
        case_no,
        "conclude",
        "concluded",  # type: ignore[arg-type]
        flow.Actor("张三", OUTCOME_POST.get(("conclude", "concluded"), POST["conclude"])),
        "办结。",
        at=NEW_YEAR["conclude"],
        report=False,
    )


def test_the_sequence_ends_at_9999_and_then_conflicts(tmp_path: Path) -> None:
    """同一行政相对人同一年的第 9999 个卷宗仍可编号（…9999），第 10000 个无号可分：办结被拒（409 CONFLICT，中英文
    信息写明序列号已用尽），办件状态不变。
    The 9999th dossier of an applicant in a year still gets a number (…9999); the 10000th has none: 办结 is refused
    (409 CONFLICT, both messages say the sequence is used up) and the case does not move.

    Kills ``allocate_code__mutmut_38`` (``seq >= 9999``), ``_39`` (``seq > 10000``) and ``_40``–``_43`` (the
    arguments of the conflict)."""
    with licensing(tmp_path) as server:
        first = walk(server, "CASE-SEQ-01", BEFORE_CONCLUDE, NEW_YEAR)
        walk(server, "CASE-SEQ-02", BEFORE_CONCLUDE, NEW_YEAR)
        server.db.conn.execute(
            "INSERT INTO lic_dossier_seq (uscc, year, last) VALUES (?, 2025, 9998)", (first.applicant_id,)
        )
        _conclude(server, "CASE-SEQ-01")
        code = dossier.code_of(server.db, "CASE-SEQ-01")
        assert code is not None and code[-8:] == "20259999", f"第 9999 号应可分配 / number 9999 is given: {code}"
        with pytest.raises(ApiError) as info:
            _conclude(server, "CASE-SEQ-02")
        err = info.value
        assert (err.status, err.code) == (409, "CONFLICT"), f"应为 409 CONFLICT / expected 409: {err}"
        assert "9999" in err.message_zh and "已用尽" in err.message_zh, f"中文信息 / Chinese message: {err.message_zh}"
        assert "exhausted" in err.message_en, f"英文信息 / English message: {err.message_en}"
        assert dossier.code_of(server.db, "CASE-SEQ-02") is None, "不应有卷宗编号 / no dossier code"
        state = flow.store.load_case(server.db, "CASE-SEQ-02")
        assert state is not None and state.state == "issued", f"办件状态不应改变 / the case stays put: {state}"
