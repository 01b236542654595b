"""Identifier library: validators and generators for the codes of the sharing interfaces.

``check(kind, value, mode="issued")`` validates one value; ``KINDS`` holds the ten kinds of
docs/CONVENTIONS.md ("Identifier kinds") by CLI name.

Two questions, two answers (docs/identifiers.md): ``mode="issued"`` asks "is this a well-formed
number *as issued today*?" (what a system must produce for a new certificate, dossier or equipment
code: today's form only); ``mode="held"`` asks "is this a number that really exists in the data?"
(what a system must accept in the records it holds: every form authorities really issued, each with
an ``info`` note naming its form or era, ``CodeResult.forms`` / ``CodeResult.note()``).
``strict=True`` / ``strict=False`` remain as aliases of "issued" / "held". ``check`` asks "issued"
when told nothing, so that a caller who does not choose gets today's rule; readers of data (the
``validate`` command, data-set checks) pass ``mode="held"``. Hypothesis strategies live in
:mod:`conformance.codes.strategies` (imported on demand: Hypothesis is a test dependency).

Each kind is one small module naming its source standard: ``uscc`` (GB 32100-2015),
``org_code`` (GB 11714-1997), ``division`` (GB/T 2260), ``equipment_code`` and
``registration_no`` (TSG 08-2017), ``dossier_code`` (DB42/T 2279-2024 §9.2), ``elicense_id``
(GB/T 36904-2018, ISO/IEC 7064 MOD 37,36), ``item_code`` (DB42/T 2279-2024 Table 1),
``citizen_id`` (GB 11643-1999), ``catalogue_code`` (特种设备目录 2014).
"""

from __future__ import annotations

from conformance.codes import (
    catalogue_code,
    citizen_id,
    division,
    dossier_code,
    elicense_id,
    equipment_code,
    item_code,
    org_code,
    registration_no,
    uscc,
)
from conformance.codes.base import HELD, ISSUED, MODES, CodeKind, CodeResult, Mode, Part, Problem
from conformance.codes.citizen_id import citizen_check_char
from conformance.codes.elicense_id import mod37_36_check
from conformance.codes.org_code import org_check_char
from conformance.codes.uscc import uscc_check_char

#: The ten identifier kinds by CLI name, in the order of docs/CONVENTIONS.md.
KINDS: dict[str, CodeKind] = {
    m.KIND.name: m.KIND
    for m in (
        uscc,
        org_code,
        division,
        equipment_code,
        registration_no,
        dossier_code,
        elicense_id,
        item_code,
        citizen_id,
        catalogue_code,
    )
}

#: JSON Schema ``format`` name → kind (``tzsb-uscc`` → the USCC kind).
FORMATS: dict[str, CodeKind] = {k.format_name: k for k in KINDS.values()}


def check(kind: str, value: str, *, mode: Mode | None = None, strict: bool | None = None) -> CodeResult:
    """Validate ``value`` as an identifier of ``kind`` (a CLI name such as ``"uscc"``).

    ``mode``: ``"issued"`` (today's form; the default) or ``"held"`` (every form really issued);
    ``strict=True`` / ``strict=False`` are aliases (a contradiction of the two is a ``ValueError``).
    """
    try:
        code_kind = KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown identifier kind {kind!r}; known: {', '.join(KINDS)}") from None
    return code_kind.validate(value, mode, strict=strict)


__all__ = [
    "FORMATS",
    "HELD",
    "ISSUED",
    "KINDS",
    "MODES",
    "CodeKind",
    "CodeResult",
    "Mode",
    "Part",
    "Problem",
    "check",
    "citizen_check_char",
    "mod37_36_check",
    "org_check_char",
    "uscc_check_char",
]
