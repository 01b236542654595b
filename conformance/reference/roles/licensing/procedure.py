"""The licensing procedure as its code list declares it (``schemas/codelists/workflow.json``, ``roles.json``): steps,
case states, outcomes, the roles allowed per step, the special procedure; and the equipment code of a case. Read by
the workflow, the dossier and the report-backs alike."""

from __future__ import annotations

import functools
import random
from typing import Any

from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.contract import documents as contracts
from conformance.reference.roles.licensing import store

Item = dict[str, Any]


@functools.cache
def workflow() -> Item:
    return contracts.codelist("workflow")


@functools.cache
def steps() -> dict[str, Item]:
    return {s["code"]: s for s in workflow()["steps"]}


@functools.cache
def states() -> dict[str, Item]:
    return {s["code"]: s for s in workflow()["caseStates"]}


@functools.cache
def outcomes() -> dict[tuple[str, str], Item]:
    return {(o["step"], o["code"]): o for o in workflow()["outcomes"]}


def outcomes_of(step: str) -> list[Item]:
    return [o for o in workflow()["outcomes"] if o["step"] == step]


def special() -> Item:
    return workflow()["specialProcedure"]


@functools.cache
def initial_state() -> str:
    return next(s["code"] for s in workflow()["caseStates"] if s.get("initial"))


def state_after(step: str, outcome: str) -> str:
    return outcomes()[(step, outcome)]["state"]


def pending(state: str) -> str | None:
    return states()[state]["pending"]


def allowed_roles(step: str, outcome: Item | None) -> list[str]:
    """The roles that may give ``outcome`` in ``step``: the outcome's own list narrows the step's."""
    if outcome is not None and outcome.get("roles"):
        return list(outcome["roles"])
    return list(steps()[step]["roles"])


@functools.cache
def role_names() -> dict[str, str]:
    return {r["code"]: r["name"] for r in contracts.codelist("roles")["items"]}


def _rng(case: store.Case, what: str) -> random.Random:
    return random.Random(f"{case.case_no}:{what}")


def variety_of(catalogue: str) -> str:
    """The catalogue code itself if it names a variety (品种), else its first variety."""
    if catalogue in code_lists.catalogue_specific():
        return catalogue
    for code in code_lists.catalogue_descendants(catalogue):
        if code in code_lists.catalogue_specific() and not code_lists.catalogue()[code].get("doubtful"):
            return code
    return catalogue


def equipment_code_for(case: store.Case, equipment: Item | None = None) -> str:
    """The TSG 08-2017 equipment code of the case's equipment (``equipment``: as pre-filled from its inspection
    report, else as applied for): the given one, or one generated from the equipment's catalogue code, manufacturer
    region and manufacture year (deterministic per case)."""
    eq = equipment or case.equipment
    if eq.get("equipmentCode"):
        return str(eq["equipmentCode"])
    year = (eq.get("manufactureDate") or case.created_at)[:4]
    region = (eq.get("manufacturerUscc") or "")[2:4] or case.authority["division"][:2]
    return KINDS["equipment-code"].generate(
        _rng(case, "equipment-code"), catalogue=variety_of(eq["catalogueCode"]), region=region, year=int(year)
    )
