"""The kill matrix in CI (issue: the suite tests itself): every defect switch of the reference server is
caught by the smallest run of the suites that carries its check (``conformance.selfcheck.kill_matrix.KILLS``): the
run ends 不通过 and one of the defect's declared clauses is 不符合. A defect without a row fails the build
with its name; the README's table lists exactly the rows of the matrix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.reference.defects import BY_NAME
from conformance.selfcheck.kill_matrix import KILLS, missing, run_one

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_defect_has_a_row_in_the_kill_matrix() -> None:
    assert not missing(), f"没有任何测试检出的缺陷 / defects no suite run is set to catch: {missing()}"
    assert set(KILLS) <= set(BY_NAME), sorted(set(KILLS) - set(BY_NAME))


@pytest.mark.parametrize("defect", sorted(KILLS))
def test_the_defect_is_caught(defect: str, tmp_path: Path) -> None:
    row = run_one(defect, KILLS[defect], workdir=tmp_path)
    assert row.error is None, row.error
    assert row.caught, (
        f"{defect} 未被检出 / not caught: run {row.verdict}, declared clauses {row.clauses} ({row.tests} tests)"
    )


def test_the_readme_table_lists_every_row() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- kill-matrix:start -->", 1)[1].split("<!-- kill-matrix:end -->", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([a-z-]+) \|", section, flags=re.MULTILINE))
    assert rows == {name: kill.role for name, kill in KILLS.items()}, set(rows) ^ set(KILLS)
    assert "未检出" not in section and "| NO |" not in section
