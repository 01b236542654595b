"""Licence handling items (DB42/T 2279-2024 Table 1, coded 01100000-GG-OO)."""

from __future__ import annotations

import pytest

from conformance.codes import check
from conformance.contract.documents import codelist

ITEMS = codelist("licence-items")["items"]
CODES = {it["code"] for it in ITEMS}


def test_the_114_items_are_valid() -> None:
    assert len(ITEMS) == 114 and len(CODES) == 114
    for code in sorted(CODES):
        for strict in (True, False):
            result = check("item-code", code, strict=strict)
            assert result.ok and not result.problems, (code, result.problems)


def test_every_other_group_operation_combination_is_refused() -> None:
    refused = []
    for g in range(1, 11):
        for o in range(1, 14):
            code = f"01100000-{g:02d}-{o:02d}"
            if code in CODES:
                continue
            result = check("item-code", code, strict=False)
            assert not result.ok
            assert result.errors[0].part == "operation"
            assert "办理项" in result.message()
            refused.append(code)
    assert len(refused) == 10 * 13 - 114


def test_pressure_piping_has_no_move_out() -> None:
    result = check("item-code", "01100000-07-04")
    assert not result.ok
    assert '压力管道使用登记无"迁出"办理项' in result.message()
    assert 'use registration has no "迁出" handling item' in result.message("en")


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        ("01100000-07-05", '压力管道使用登记无"跨区域迁入"办理项'),
        ("01100000-07-07", '压力管道使用登记无"改造变更"办理项'),
        ("01100000-08-06", '气瓶使用登记无"同区域内移装"办理项'),
        ("01100000-09-07", '车用气瓶使用登记无"改造变更"办理项'),
        ("01100000-01-09", '锅炉使用登记无"达到设计使用年限继续使用的变更"办理项'),
    ],
)
def test_missing_items_are_named(code: str, phrase: str) -> None:
    assert phrase in check("item-code", code).message()


@pytest.mark.parametrize(
    ("code", "part"),
    [
        ("01100000-11-01", "equipment group"),
        ("01100000-00-01", "equipment group"),
        ("01100000-03-14", "operation"),
        ("01100001-03-01", "item code"),
        ("01100000-3-01", "value"),
        ("0110000003-01", "value"),
        ("01100000_03_01", "value"),
    ],
)
def test_structural_problems(code: str, part: str) -> None:
    result = check("item-code", code, strict=False)
    assert not result.ok
    assert result.errors[0].part == part


def test_parts() -> None:
    parts = check("item-code", "01100000-03-01").parts
    assert [(p.name_en, p.value) for p in parts] == [
        ("item code", "01100000"),
        ("equipment group", "03"),
        ("operation", "01"),
    ]
