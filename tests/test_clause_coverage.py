"""The suites' clause marks against the catalogue, checked without a target (the idea of Inferno's check_coverage).

The suites are collected for every role as ``tzsb-conform clauses --coverage`` collects them (nothing is sent:
collection reads the contracts only), and the ids the collected tests carry in ``@pytest.mark.clause`` are compared
with the requirement catalogue (``schemas/clauses/*.yaml``):

* every id a test carries is a catalogue clause;
* every automated shall-clause is decided by at least one check (a suite test, or a load profile's
  ``[clauses.<role>]``), unless :data:`KNOWN_GAPS` names it with the reason;
* every id a test carries can be found with grep: a string literal in ``conformance/suites`` (a mark or a table),
  a value in an OpenAPI contract (``x-clause`` of a data set), or — for the contract suite only — a clause the
  catalogue binds through ``interfaces`` to an operation's ``x-interface``;
* no code builds a clause id by string formatting (f-string, ``%``, ``str.format``, ``+``);
* the literal tables of the suites stand for the rows, posts and elements they name.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.contract.clauses import catalogue_files, load_catalogue
from conformance.contract.openapi import ROLES, role_operations

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "conformance" / "suites"
#: The code the formatting scan reads: the harness package and the locustfiles.
CODE = (ROOT / "conformance", ROOT / "loadtests")
OPENAPI = ROOT / "schemas" / "openapi"

#: Automated shall-clauses no check decides yet, each with the reason (it is 未测 in every report until one does).
KNOWN_GAPS: dict[str, str] = {}


# ------------------------------------------------------------------------------------------------ collection
@dataclass
class _Role:
    """The collected tests of one role: canonical id → the clause ids of its marks; collection errors."""

    role: str
    exit_code: int = -1
    marks: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    bare: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext[-1500:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from conformance.harness.plugin import canonical_id

        for item in items:
            marks = list(item.iter_markers("clause"))
            self.marks[canonical_id(item)] = tuple(c for m in marks for c in m.args)
            if any(not m.args for m in marks):
                self.bare.append(canonical_id(item))


@functools.cache
def collected() -> dict[str, _Role]:
    """The suites collected once per role, with the options of ``clauses --coverage`` (an unreachable target)."""
    out = {}
    for role in ROLES:
        plugin = _Role(role)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            plugin.exit_code = int(
                pytest.main(
                    [
                        "--pyargs",
                        "conformance.suites",
                        "--collect-only",
                        "-q",
                        "-p",
                        "no:cacheprovider",
                        "-p",
                        "no:randomly",
                        "--tzsb-no-preflight",
                        f"--tzsb-target=http://127.0.0.1:9/{role}",
                        f"--tzsb-role={role}",
                    ],
                    plugins=[plugin],
                )
            )
        out[role] = plugin
    return out


def clause_tests() -> dict[Any, set[str]]:
    """Clause id (as a mark carries it) → ``role::test id`` of every collected test carrying it."""
    out: dict[Any, set[str]] = defaultdict(set)
    for role, c in collected().items():
        for test, ids in c.marks.items():
            for cid in ids:
                out[cid].add(f"{role}::{test}")
    return out


@functools.cache
def catalogue() -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in load_catalogue()}


def _listing(found: dict[Any, set[str]], limit: int = 3) -> str:
    return "\n".join(f"  {cid!r}: {', '.join(sorted(tests)[:limit])}" for cid, tests in sorted(found.items(), key=str))


def test_the_suites_collect_for_every_role() -> None:
    for role, c in collected().items():
        assert not c.errors, f"{role}: collection errors:\n" + "\n".join(c.errors)
        assert c.exit_code == 0 and c.marks, f"{role}: collect-only exit code {c.exit_code}, {len(c.marks)} tests"


# ------------------------------------------------------------------------------------------------ (a) known ids
def test_every_clause_mark_names_a_catalogue_clause() -> None:
    marks = clause_tests()
    unknown = {cid: tests for cid, tests in marks.items() if not isinstance(cid, str) or cid not in catalogue()}
    assert not unknown, "clause marks naming no clause of schemas/clauses/*.yaml:\n" + _listing(unknown)
    bare = sorted(f"{role}::{t}" for role, c in collected().items() for t in c.bare)
    assert not bare, "clause marks without an id (the verdict counts for no clause):\n" + "\n".join(bare[:20])


# ------------------------------------------------------------------------------------------------ (b) coverage
def deciding_checks() -> dict[Any, set[str]]:
    """Clause id → the suite tests and load checks that decide it (what ``clauses --coverage`` counts)."""
    from conformance.selfcheck.coverage import load_checks

    out = clause_tests()
    for cid, checks in load_checks().items():
        out[cid] |= checks
    return out


def test_every_automated_shall_clause_has_a_deciding_check() -> None:
    checks = deciding_checks()
    wanted = [c for c in catalogue().values() if c["level"] == "shall" and c["verification"] == "automated"]
    missing = [c for c in wanted if not checks.get(c["id"]) and c["id"] not in KNOWN_GAPS]
    assert not missing, (
        f"{len(missing)} automated shall-clauses without a test (add the test and its mark; or, when no interface "
        "check can decide it, correct the catalogue's verification with its reason; or name it in KNOWN_GAPS):\n"
        + "\n".join(f"  {c['id']} {c['clause']} {c['title']}" for c in missing)
    )
    stale = {
        cid: reason
        for cid, reason in KNOWN_GAPS.items()
        if cid not in catalogue()
        or checks.get(cid)
        or (catalogue()[cid]["level"], catalogue()[cid]["verification"]) != ("shall", "automated")
    }
    assert not stale, f"KNOWN_GAPS names clauses that are no gap (decided, or not automated shall-clauses): {stale}"


def test_every_role_an_automated_clause_binds_has_a_check_that_decides_it() -> None:
    """An interface row binds both sides (schemas/clauses/README.md ``roles``): a run of every role the catalogue
    lists must collect a check carrying the clause, or the role's certification could never decide it (T5-5 binds
    the platform that pushes as well as the licensing system that receives)."""
    from conformance.selfcheck.coverage import load_checks

    load = load_checks()
    undecided = sorted(
        f"{c['id']} ({role})"
        for c in catalogue().values()
        if c["verification"] == "automated"
        for role in c["roles"]
        if not any(c["id"] in ids for ids in collected()[role].marks.values())
        and not any(check.startswith(f"load::{role}::") for check in load.get(c["id"], ()))
    )
    assert not undecided, "automated clauses no check decides in a run of a role they bind:\n  " + "\n  ".join(
        undecided
    )


def test_t5_5_binds_the_platform_and_a_platform_run_decides_it() -> None:
    """Table 5 row 5 (申请信息推送): the platform sends it, the licensing system receives it; both are bound and a
    gov-platform run collects the check of the platform's pushes."""
    assert set(catalogue()["DB42.10.2.T5-5.1"]["roles"]) >= {"licensing", "gov-platform"}
    platform = [t for t, ids in collected()["gov-platform"].marks.items() if "DB42.10.2.T5-5.1" in ids]
    assert any("test_gov_platform_" in t for t in platform), platform


# ------------------------------------------------------------------------------------------------ ids one can grep
def _strings(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {s for v in node.values() for s in _strings(v)}
    if isinstance(node, list):
        return {s for v in node for s in _strings(v)}
    return {node} if isinstance(node, str) else set()


def literal_ids() -> set[str]:
    """Every whole string literal of conformance/suites and every string value of the OpenAPI contracts."""
    out: set[str] = set()
    for path in SUITES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
    for path in OPENAPI.glob("*.yaml"):
        out |= _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def contract_interface_ids() -> set[str]:
    """The clauses the contract suite takes from the catalogue: those whose ``interfaces`` name an operation's
    ``x-interface`` (the join of ``conformance/suites/test_contract.py``, read after the suites were collected)."""
    from conformance.suites.test_contract import interface_clauses

    return {cid for role in ROLES for op in role_operations(role) for cid in interface_clauses(role, op.interface)}


def test_every_clause_id_of_a_test_is_written_out() -> None:
    marks = clause_tests()  # first: the suites are imported by their collection
    written = literal_ids() | contract_interface_ids()
    hidden = {cid: tests for cid, tests in marks.items() if cid not in written}
    assert not hidden, (
        "clause ids carried by tests but written nowhere (built or searched for at run time); write them in a "
        "mark, in a table of the suite module, or as x-clause in the contract:\n" + _listing(hidden)
    )


# ------------------------------------------------------------------------------------------------ (c) no formatting
def _keys() -> tuple[str, ...]:
    return tuple(sorted(data["document"]["key"] for data in catalogue_files().values()))


def formatted_ids(source: str) -> list[tuple[int, str]]:
    """Places in ``source`` where a clause id is built by string formatting: an f-string, ``%`` or ``str.format``
    whose placeholder continues a begun id (``f"DB42.5.T1-{g}.1"``), or ``+`` appending to one (``"SHARE." + x``)."""
    keys = "|".join(map(re.escape, _keys()))
    begun = re.compile(rf"(?<![\w.])(?:{keys})\.[\w.\-]*$")
    percent = re.compile(rf"(?<![\w.])(?:{keys})\.[\w.\-]*%")
    brace = re.compile(rf"(?<![\w.])(?:{keys})\.[\w.\-]*\{{")

    def text(node: ast.AST) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    found = []
    for node in ast.walk(ast.parse(source)):
        how = None
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            if any(
                (t := text(a)) is not None and begun.search(t) and isinstance(b, ast.FormattedValue)
                for a, b in itertools.pairwise(parts)
            ):
                how = "f-string"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            if (t := text(node.left)) is not None and percent.search(t):
                how = "%-format"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            if (t := text(node.func.value)) is not None and brace.search(t):
                how = "str.format"
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add)
            and (t := text(node.left)) is not None
            and begun.search(t)
            and text(node.right) is None
        ):
            how = "concatenation"
        if how:
            found.append((node.lineno, f"{how}: {ast.unparse(node)}"))
    return found


def test_no_clause_id_is_built_by_string_formatting() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for base in CODE
        for path in sorted(base.rglob("*.py"))
        for line, what in formatted_ids(path.read_text(encoding="utf-8"))
    ]
    assert not found, "clause ids built by string formatting (write them out in a table):\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "built"),
    [
        ('cid = f"DB42.5.T1-{group}.1"', True),
        ('cid = f"DB42.{section}.{row}.1"', True),
        ('cid = "SHARE.MECH.CONTENT.%d" % n', True),
        ('cid = "INFO2007.2.{}.1".format(n)', True),
        ('cid = "PROFILE.DB42." + rest', True),
        ('cid = "DB42.5.T1-01.1"', False),
        ('msg = f"条款 DB42.5.1：{detail}"', False),
        ('msg = f"{cid}：{detail}"', False),
        ('path = f"/api/v1/{name}"', False),
    ],
)
def test_the_formatting_scan_tells_built_ids_from_literals(source: str, built: bool) -> None:
    assert bool(formatted_ids(source)) is built


# ------------------------------------------------------------------------------------------------ the tables
def test_the_clause_tables_agree_with_the_catalogue() -> None:
    """Each literal table names the clause of what it is keyed by: the post's Annex A place (roles.json), the
    DB42 table row, the Table 2 element, the equipment group's rows of Table 1 (in order, as many as it has items)."""
    from conformance.codes import lists as code_lists
    from conformance.contract import documents as contracts
    from conformance.suites import test_dossier
    from conformance.suites.support import client_side, workflow

    collected()  # first: the suites are imported by their collection
    cat = catalogue()
    roles = {r["code"]: r for r in contracts.codelist("roles")["items"]}
    assert set(workflow.ROLE_CLAUSES) == set(roles)
    for code, cid in workflow.ROLE_CLAUSES.items():
        assert cat[cid]["clause"] == roles[code]["clause"], (code, cid)
    for row, cid in client_side.INTERFACE_CLAUSES.items():
        assert row in cat[cid]["interfaces"], (row, cid)
    for n, cid in test_dossier.METADATA_CLAUSES.items():
        assert cat[cid]["clause"] == f"表2 序号{n}", (n, cid)
    groups = code_lists.licence_groups()
    assert list(workflow.GROUP_CLAUSES) == sorted(groups)
    first = 1
    for group, cid in workflow.GROUP_CLAUSES.items():
        m = re.fullmatch(r"表1 序号(\d+)–(\d+)", cat[cid]["clause"])
        assert m, (group, cid, cat[cid]["clause"])
        lo, hi = int(m[1]), int(m[2])
        assert (lo, hi - lo + 1) == (first, groups[group]["count"]), (group, cid, cat[cid]["clause"])
        first = hi + 1
