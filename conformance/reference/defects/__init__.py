"""Defect switches of the reference server (``--defect NAME``): realistic vendor mistakes.

Each defect is declared once, in ``declared.py`` (imported here as ``D``): its id constant (``D.NO_BODY_LIMIT``,
whose value is the name users type), the role whose server carries it, the clauses of ``schemas/clauses`` it breaks,
what it does (中文 / English) and the run of the kill matrix that must catch it (:class:`Run`). A generic defect —
one that changes a step of the pipeline around every handler (a response, an error, the parsing of a request, the
security layer) — is a mutator registered at a seam next to its declaration (``seams.py``); a defect that lives in
one handler is a ``ctx.defect(D.X)`` there. ``conformance.selfcheck.kill_matrix`` derives every kill row from the
declarations: the run named, the tests that decide the declared clauses.
"""

from __future__ import annotations

from conformance.reference.defects import declared as D
from conformance.reference.defects import seams
from conformance.reference.defects.registry import ANY, DECLARED, Defect, Run
from conformance.reference.defects.seams import Mutations

#: Every defect, in the order of their declarations.
DEFECTS: tuple[Defect, ...] = tuple(DECLARED.values())
BY_NAME: dict[str, Defect] = dict(DECLARED)


def unknown(names: list[str] | tuple[str, ...]) -> list[str]:
    """The names that are no defect's."""
    return [n for n in names if n not in BY_NAME]


__all__ = ["ANY", "BY_NAME", "DEFECTS", "D", "Defect", "Mutations", "Run", "seams", "unknown"]
