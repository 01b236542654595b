"""The kill matrix in CI (issue: the suite tests itself): every defect switch of the reference server is caught by the
tests that decide the clauses it declares, against the server its declaration names
(``conformance.selfcheck.kill_matrix``): the run ends 不通过 and one of the defect's declared clauses is 不符合. A
defect whose clauses select no test fails the build with its name; the README's table is the one rendered from the
declarations; ``--tzsb-clause`` selects exactly the tests that decide the given clauses."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from conformance.harness.plugin import canonical_id
from conformance.reference.defects import DEFECTS
from conformance.selfcheck import kill_matrix
from conformance.selfcheck.kill_matrix import decided_by, missing, readme_section, readme_table, run_one


def test_every_defect_selects_tests() -> None:
    assert not missing(), f"声明的条款没有任何测试判定的缺陷 / defects whose clauses no test decides: {missing()}"


@pytest.mark.parametrize("defect", [d.name for d in DEFECTS])
def test_the_defect_is_caught(defect: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    row = run_one(defect, workdir=tmp_path)
    request.node.user_properties += [("tests", row.tests), ("seconds", row.seconds)]  # in the JUnit XML
    assert row.error is None, row.error
    assert row.caught, (
        f"{defect} 未被检出 / not caught: run {row.verdict}, declared clauses {row.clauses} ({row.tests} tests)"
    )


GATEWAY = Path(__file__).resolve().parents[1] / "bindings" / "gateway" / "binding.yaml"


@pytest.mark.parametrize("defect", [d.name for d in DEFECTS])
def test_the_defect_is_caught_through_the_gateway_binding(defect: str, tmp_path: Path) -> None:
    """The same row with the reference, its simulators and the harness speaking the gateway example's dialect
    (docs/bindings.md): what the suites catch canonically they catch through a binding."""
    row = run_one(defect, workdir=tmp_path, binding=GATEWAY)
    assert row.error is None, row.error
    assert row.caught, f"{defect} 经绑定未被检出 / not caught through the binding: {row.verdict}, {row.clauses}"


def test_the_readme_table_is_rendered_from_the_declarations() -> None:
    section = readme_section(kill_matrix.README.read_text(encoding="utf-8"))
    assert section == readme_table(), (
        "README.md 的缺陷检出矩阵表与声明不一致，请运行 / README's kill-matrix table is stale, run: "
        "python -m conformance.selfcheck.kill_matrix --write-readme"
    )


def test_write_readme_replaces_only_the_section(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{kill_matrix.START}\nold table\n{kill_matrix.END}\nafter\n", encoding="utf-8")
    assert kill_matrix.write_readme(readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "old table" not in text
    assert readme_section(text) == readme_table()
    assert not kill_matrix.write_readme(readme)
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError):
        kill_matrix.write_readme(readme)


class _Kept:
    def __init__(self) -> None:
        self.kept: list[tuple[str, set[str]]] = []
        self.deselected: list[str] = []

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        self.kept = [(canonical_id(i), {c for m in i.iter_markers("clause") for c in m.args}) for i in items]

    def pytest_deselected(self, items: list[Any]) -> None:
        self.deselected += [canonical_id(i) for i in items]


def _collect(*options: str) -> tuple[int, _Kept]:
    kept = _Kept()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = pytest.main(
            [
                "--pyargs",
                "conformance.suites",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                "--tzsb-no-preflight",
                "--tzsb-target=http://127.0.0.1:9/sharing",
                "--tzsb-role=sharing",
                *options,
            ],
            plugins=[kept],
        )
    return int(code), kept


def test_the_clause_option_keeps_exactly_the_tests_deciding_the_clauses() -> None:
    clauses = {"PROFILE.PAGE.1", "SHARE.SEC.RETRY.3"}
    code, kept = _collect(*(f"--tzsb-clause={c}" for c in sorted(clauses)))
    assert code == 0
    assert kept.kept and all(marked & clauses for _, marked in kept.kept)
    by_clause = decided_by("sharing")
    assert {t for t, _ in kept.kept} == set(by_clause["PROFILE.PAGE.1"] | by_clause["SHARE.SEC.RETRY.3"])
    # the others were deselected, and reported as such (pytest_deselected), never silently dropped
    assert kept.deselected and not {t for t, _ in kept.kept} & set(kept.deselected)


def test_an_unknown_clause_is_a_usage_error() -> None:
    code, kept = _collect("--tzsb-clause=PROFILE.NO.SUCH.CLAUSE")
    assert code == pytest.ExitCode.USAGE_ERROR and not kept.kept
