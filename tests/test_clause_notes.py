"""The clause catalogue tells the truth about its tests (schemas/clauses/*.yaml ``notes`` and ``reason``).

* Every test a note or a reason names exists in ``conformance/suites``: ``test_module::test_name`` (the module and a
  test function of it), a bare ``test_name`` (a test function of some suite module) or a bare suite module name
  (``test_zz_exchanges``). A made-up name is found (the negative cases below).
* A test named in the note of an automated clause decides that clause: collected with the clause's mark (a module
  named: one of its tests does).
* The note of an automated clause that speaks of its test (``测试``) names it, so the description can be checked
  against the suites; a clause filed as attestation or not testable is decided by no suite test.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from conformance.contract.clauses import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "conformance" / "suites"
#: ``test_module::test_name`` (the module may be written with its folder and ``.py``) or a bare ``test_name``.
NAMED = re.compile(r"(?<![\w.])(?:conformance/suites/)?(test_\w+?)(?:\.py)?::(test_\w+)|(?<![\w./:])(test_\w+)\b(?!::)")


@functools.cache
def suite_tests() -> dict[str, frozenset[str]]:
    """Suite module name → the names of its test functions (``conformance/suites/test_*.py``, read, not imported)."""
    out = {}
    for path in sorted(SUITES.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out[path.stem] = frozenset(
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
        )
    return out


def named_tests(text: str) -> list[tuple[str | None, str]]:
    """The tests a text names, as (module or None, name); a bare module name is (name, "")."""
    out: list[tuple[str | None, str]] = []
    for m in NAMED.finditer(text or ""):
        if m.group(1):
            out.append((m.group(1), m.group(2)))
        elif m.group(3) in suite_tests():
            out.append((m.group(3), ""))
        else:
            out.append((None, m.group(3)))
    return out


def missing(text: str) -> list[str]:
    """The names in ``text`` that are no suite module and no test of one."""
    tests = suite_tests()
    out = []
    for module, name in named_tests(text):
        if module is None:
            if not any(name in names for names in tests.values()):
                out.append(name)
        elif module not in tests or (name and name not in tests[module]):
            out.append(f"{module}::{name}" if name else module)
    return out


def _texts() -> Iterator[tuple[dict, str, str]]:
    for clause in load_catalogue():
        for key in ("notes", "reason"):
            if clause.get(key):
                yield clause, key, clause[key]


def test_the_name_finder_sees_every_form_and_a_made_up_name_is_missing() -> None:
    text = (
        "判定测试：test_dossier::test_metadata_is_stored_as_txt_or_xml；conformance/suites/test_inspection.py::"
        "test_a_report_is_returned_by_its_number；test_the_four_theme_databases_are_offered；见 test_zz_exchanges。"
    )
    assert named_tests(text) == [
        ("test_dossier", "test_metadata_is_stored_as_txt_or_xml"),
        ("test_inspection", "test_a_report_is_returned_by_its_number"),
        (None, "test_the_four_theme_databases_are_offered"),
        ("test_zz_exchanges", ""),
    ]
    assert missing(text) == []
    assert missing("判定测试：test_dossier::test_metadata_is_stored_as_csv") == [
        "test_dossier::test_metadata_is_stored_as_csv"
    ]
    assert missing("测试见 test_no_such_suite::test_metadata_element") == ["test_no_such_suite::test_metadata_element"]
    assert missing("判定测试 test_a_check_nobody_wrote。") == ["test_a_check_nobody_wrote"]
    assert missing("说明文字，不提测试名。") == []


def test_every_test_a_note_or_reason_names_exists() -> None:
    absent = [f"{c['id']} {key}: {name}" for c, key, text in _texts() for name in missing(text)]
    assert not absent, "clause notes naming tests that do not exist in conformance/suites:\n  " + "\n  ".join(absent)


def _deciding() -> dict[str, set[tuple[str, str]]]:
    """Clause id → (module, test name) of every collected suite test carrying its mark, over every role."""
    from conformance.selfcheck.coverage import suite_checks

    out: dict[str, set[tuple[str, str]]] = {}
    for cid, ids in suite_checks().items():
        for test_id in ids:
            m = re.match(r"conformance\.suites\.(\w+)::(\w+)", test_id)
            if m:
                out.setdefault(cid, set()).add((m.group(1), m.group(2)))
    return out


def test_a_test_named_in_an_automated_clauses_note_decides_it() -> None:
    deciding = _deciding()
    wrong = []
    for clause in load_catalogue():
        if clause["verification"] != "automated":
            continue
        mine = deciding.get(clause["id"], set())
        for module, name in named_tests(clause.get("notes") or ""):
            if module is None:
                ok = any(n == name for _, n in mine)
            elif not name:
                ok = any(m == module for m, _ in mine)
            else:
                ok = (module, name) in mine
            if not ok:
                wrong.append(f"{clause['id']}: {module or ''}{'::' if module and name else ''}{name}")
    assert not wrong, "tests a clause's note names that do not carry its mark:\n  " + "\n  ".join(wrong)


def test_an_automated_clause_whose_note_speaks_of_its_test_names_it() -> None:
    unnamed = [
        c["id"]
        for c in load_catalogue()
        if c["verification"] == "automated" and "测试" in (c.get("notes") or "") and not named_tests(c["notes"])
    ]
    assert not unnamed, f"notes describing a test without naming it (write the deciding test's name): {unnamed}"


def test_no_suite_test_decides_a_clause_filed_as_not_automated() -> None:
    deciding = _deciding()
    filed = [
        f"{c['id']} ({c['verification']}): {sorted(deciding[c['id']])[:2]}"
        for c in load_catalogue()
        if c["verification"] != "automated" and deciding.get(c["id"])
    ]
    assert not filed, "clauses a suite test decides but the catalogue does not file as automated:\n  " + "\n  ".join(
        filed
    )
