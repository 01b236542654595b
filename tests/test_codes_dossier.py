"""电子卷宗编码, DB42/T 2279-2024 §9.2: validated by its parts (42), the stated 34 explained."""

from __future__ import annotations

import pytest

from conformance.codes import check
from conformance.codes.strategies import ref_uscc_check
from conformance.contract.documents import codelist

APPLICANT = "91310115591693856A"
VALID = "05" + "01100000" + "420100" + APPLICANT + "2024" + "0001"


def _info(result):  # type: ignore[no-untyped-def]
    return [p for p in result.problems if p.severity == "info"]


def test_valid_code_and_its_parts() -> None:
    assert len(VALID) == 42
    result = check("dossier-code", VALID)
    assert result.ok and not result.warnings
    assert [(p.name_zh, p.value) for p in result.parts] == [
        ("许可类别代码", "05"),
        ("许可事项代码", "01100000"),
        ("行政区划代码", "420100"),
        ("统一社会信用代码", APPLICANT),
        ("创建年份", "2024"),
        ("序列号", "0001"),
    ]


@pytest.mark.parametrize(
    "value",
    [VALID, VALID[:38] + "0000", VALID[:34], "x", " " + VALID, "０" + VALID[1:], VALID + "1"],
)
@pytest.mark.parametrize("strict", [True, False])
def test_every_result_notes_the_34_vs_42_defect(value: str, strict: bool) -> None:
    notes = _info(check("dossier-code", value, strict=strict))
    assert len(notes) == 1
    assert "34位" in notes[0].zh and "42位" in notes[0].zh and "已知缺陷" in notes[0].zh
    assert "34" in notes[0].en and "42" in notes[0].en


def test_34_characters_without_item_code() -> None:
    value = VALID[:2] + VALID[10:]
    assert len(value) == 34
    result = check("dossier-code", value, strict=False)
    assert not result.ok
    error = result.errors[0]
    assert "长度为34位" in error.zh and "缺少8位" in error.zh
    assert "无法定位许可事项代码" in error.zh
    assert "item code (8 characters, 01100000) cannot be located" in error.en


def test_34_characters_without_year_and_sequence() -> None:
    result = check("dossier-code", VALID[:34])
    error = result.errors[0]
    assert "无法定位创建年份（4位）和序列号（4位）" in error.zh
    assert "year (4) and sequence (4) cannot be located" in error.en


def test_34_characters_that_fit_neither_layout_name_both() -> None:
    result = check("dossier-code", "9" * 34)
    error = result.errors[0]
    assert "许可事项代码（8位" in error.zh and "创建年份（4位）与序列号（4位）" in error.zh


def test_other_lengths() -> None:
    result = check("dossier-code", VALID[:41])
    assert result.message() == "电子卷宗编码无效：长度应为42位（按 §9.2 各部分：2+8+6+18+4+4），实为41位"


def test_sequence_0000_is_an_error_in_both_modes() -> None:
    for strict in (True, False):
        result = check("dossier-code", VALID[:38] + "0000", strict=strict)
        assert not result.ok and [p.part for p in result.errors] == ["sequence"]
        assert "0001" in result.message()


def test_category_and_item_strict_error_lenient_warning() -> None:
    ordinary = "01" + VALID[2:]
    assert not check("dossier-code", ordinary).ok
    lenient = check("dossier-code", ordinary, strict=False)
    assert lenient.ok and "应为 05" in lenient.warnings[0].zh
    assert not check("dossier-code", "99" + VALID[2:], strict=False).ok  # not in Table 3 at all
    other_item = VALID[:2] + "01100001" + VALID[10:]
    assert not check("dossier-code", other_item).ok
    assert check("dossier-code", other_item, strict=False).ok


def test_applicant_uscc_is_fully_checked_with_absolute_positions() -> None:
    bad = VALID[:33] + "B" + VALID[34:]
    for strict in (True, False):
        result = check("dossier-code", bad, strict=strict)
        assert not result.ok
        assert result.errors[0].part == "USCC"
        assert result.message().startswith(
            "电子卷宗编码无效：统一社会信用代码（第17–34位）：校验码错误：第34位应为 A，实为 B"
        )
    # inner organisation-code check: strict error, lenient warning (as for a bare USCC)
    body = APPLICANT[:16] + ("0" if APPLICANT[16] != "0" else "1")
    bad_org = VALID[:16] + body + ref_uscc_check(body) + VALID[34:]
    assert not check("dossier-code", bad_org).ok
    assert check("dossier-code", bad_org, strict=False).ok


def test_division_membership() -> None:
    zone_code = codelist("divisions")["functionalZones"][0]["code"]  # e.g. a 开发区: not GB/T 2260
    zone = VALID[:10] + zone_code + VALID[16:]
    assert not check("dossier-code", zone).ok
    lenient = check("dossier-code", zone, strict=False)
    assert lenient.ok and "功能区" in lenient.warnings[0].zh
    malformed = VALID[:10] + "420017" + VALID[16:]
    assert not check("dossier-code", malformed, strict=False).ok


def test_year_range() -> None:
    assert not check("dossier-code", VALID[:34] + "2999" + VALID[38:]).ok
    assert not check("dossier-code", VALID[:34] + "19A4" + VALID[38:], strict=False).ok
