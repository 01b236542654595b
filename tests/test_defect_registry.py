"""The defect declarations (``conformance/reference/defects/declared.py``) are the one place defects are listed: each
names existing clauses and roles, each has its id constant, no use site types a defect's name, and each does
something — a mutator at a seam, or its constant where it lives. (That each is caught: ``tests/test_kill_matrix.py``.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.contract.clauses import load_catalogue
from conformance.contract.openapi import ROLES
from conformance.reference.defects import ANY, BY_NAME, DEFECTS, D, Mutations, seams, unknown
from conformance.reference.defects.registry import declare

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "conformance"
DECLARATIONS = PACKAGE / "reference" / "defects"


def _constant(name: str) -> str:
    return name.upper().replace("-", "_")


def _sources() -> dict[Path, str]:
    """Every module of the package but the declarations themselves."""
    return {p: p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py")) if DECLARATIONS not in p.parents}


def test_every_defect_names_known_clauses_and_roles() -> None:
    ids = {c["id"] for c in load_catalogue()}
    assert len(DEFECTS) == len(BY_NAME) >= 30
    for d in DEFECTS:
        assert d.clauses and set(d.clauses) <= ids, (d.name, set(d.clauses) - ids)
        assert len(set(d.clauses)) == len(d.clauses), d.name
        assert d.role == ANY or d.role in ROLES or d.role == "licensing-client", (d.name, d.role)
        assert d.run.role in ROLES, (d.name, d.run.role)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in d.zh) and d.en, d.name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", d.name), d.name


def test_every_defect_has_its_constant_and_every_constant_is_a_defect() -> None:
    for d in DEFECTS:
        assert getattr(D, _constant(d.name), None) == d.name, d.name
    constants = {k: v for k, v in vars(D).items() if k.isupper() and isinstance(v, str) and k != "ANY"}
    assert set(constants.values()) == set(BY_NAME)
    assert all(k == _constant(v) for k, v in constants.items()), constants


def test_no_use_site_types_a_defect_name() -> None:
    """Outside the declarations a defect is named by its constant (``D.NO_BODY_LIMIT``), never a string."""
    typed = [
        f"{p.relative_to(ROOT)}: {name}"
        for p, text in _sources().items()
        for name in BY_NAME
        if f'"{name}"' in text or f"'{name}'" in text
    ]
    assert typed == []


def test_every_defect_does_something() -> None:
    """A mutator at a seam, or its constant at the place it lives (a switch nothing reads would do nothing)."""
    text = "\n".join(_sources().values())
    idle = [d.name for d in DEFECTS if not seams.seams_of(d.name) and f"D.{_constant(d.name)}" not in text]
    assert idle == []


def test_names_are_checked_and_declared_once() -> None:
    assert unknown(["no-body-limit", "no-such-defect"]) == ["no-such-defect"]
    with pytest.raises(ValueError):
        declare("no-body-limit", ANY, ("PROFILE.STATUS.4",), "重复", "twice", run=BY_NAME["no-body-limit"].run)
    with pytest.raises(ValueError):
        seams.defect("no-such-defect", seam=seams.ERROR)
    with pytest.raises(ValueError):
        seams.defect(D.NO_BODY_LIMIT, seam="no-such-seam")


def test_a_seam_passes_its_value_through_the_switched_on_mutators_only() -> None:
    clean = Mutations(frozenset())
    assert clean(seams.BODY_LIMIT, 1024) == 1024
    assert clean(seams.AUTH_CHECKS, seams.AUTH) == seams.AUTH
    assert not clean.at(seams.ERROR)
    broken = Mutations(frozenset({D.NO_BODY_LIMIT, D.ACCEPT_EXPIRED_TOKEN, D.NOT_FOUND_AS_200}))
    assert broken(seams.BODY_LIMIT, 1024) is None
    assert broken(seams.AUTH_CHECKS, seams.AUTH) == seams.AUTH - {seams.TOKEN_EXPIRY}
    answer = broken(seams.ERROR, seams.ErrorAnswer(404, {"code": "NOT_FOUND"}))
    assert (answer.status, answer.body) == (200, {"code": "NOT_FOUND"})
    assert broken(seams.ERROR, seams.ErrorAnswer(400, {"code": "BAD_REQUEST"})).status == 400
    assert broken(seams.RESPONSE_DATA, {"at": "2024-01-01T00:00:00+08:00"}) == {"at": "2024-01-01T00:00:00+08:00"}
