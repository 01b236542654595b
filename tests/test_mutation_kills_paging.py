"""Kills the surviving mutants of the paging and division scope of the shared data sets (docs/mutation.md;
conformance/reference/roles/sharing/data.py: ``query_page``, ``scope_condition``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conformance.reference.roles.sharing.data import scope_condition
from tests.refserver import Api, running
from tests.test_reference_sharing import _all_keys, _fill


def test_the_boundary_defect_drops_the_last_record_of_every_full_page_but_the_final_one(tmp_path: Path) -> None:
    """缺陷 paging-drops-boundary 的行为恰如其描述：每个满页（最后一页除外）丢掉该页最后一条记录，total 不变。
    25 条记录、每页 5 条：第 1–4 页各丢 1 条，第 5 页（最后一页，满页）完整，共取回 21 条。
    The defect paging-drops-boundary does exactly what it says: every full page but the final one loses its last
    record, total unchanged. 25 records, 5 a page: pages 1–4 lose one each, page 5 (the final one, full) is whole.

    Kills ``query_page__mutmut_46`` (``len(rows) != size``), ``_47`` (``offset - size < total``), ``_48``
    (``<=``: the final full page loses one too), ``_50`` (``rows[:+1]``) and ``_51`` (``rows[:-2]``)."""
    with running(tmp_path / "clean", "sharing") as clean:
        api = Api(clean.url())
        equipment, _, _ = _fill(api)
        every, total = _all_keys(api, "queryEquipment", "/api/v1/equipment", {}, size=5)
    assert total == len(every) == len(equipment) == 25, "无缺陷时应取回全部 25 条 / clean server: all 25 records"
    with running(tmp_path / "broken", "sharing", defects=("paging-drops-boundary",)) as broken:
        api = Api(broken.url())
        _fill(api)
        kept, total = _all_keys(api, "queryEquipment", "/api/v1/equipment", {}, size=5)
    assert total == 25, f"total 不应受影响 / total is unaffected: {total}"
    lost = [every[i] for i in (4, 9, 14, 19)]
    assert kept == [k for k in every if k not in lost], (
        f"应恰好丢失第 1–4 页的最后一条 / exactly the last record of pages 1–4 lost: kept {len(kept)} of 25"
    )


def test_no_scope_condition_keeps_every_row() -> None:
    """调用方不受行政区划限制（prefix 为 None）时，条件对每一行都成立；省级前缀按前两位、区县代码按全码匹配。
    A caller with no division scope (prefix None) gets a condition true for every row; a province prefix matches
    by its two digits, a county code exactly.

    Kills ``scope_condition__mutmut_2`` (``"XX1XX"``: not a condition SQLite can evaluate)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE sharing_scope (data_set TEXT, key TEXT, division TEXT)")
    db.executemany("INSERT INTO sharing_scope VALUES ('units', ?, ?)", [("a", "420102"), ("b", "110101"), ("c", None)])

    def keys(prefix: str | None) -> list[str]:
        cond, args = scope_condition("s", prefix)
        return [r[0] for r in db.execute(f"SELECT key FROM sharing_scope s WHERE {cond} ORDER BY key", args)]

    assert keys(None) == ["a", "b", "c"], "无范围限制应返回全部 / no scope: every row"
    assert keys("42") == ["a"], "省级前缀 / a province prefix"
    assert keys("420102") == ["a"], "区县代码 / a county code"
