"""A corpus of real identifiers (tests/corpus/identifiers.json): every entry gets the verdict recorded for it.

Each entry is a value copied from a public file (its ``source``: a GitHub blob URL at a fixed commit,
``where`` says where in the file) with the project's verdict for both questions (docs/identifiers.md):
``issued`` ("is this a well-formed number as issued today?") and ``held`` ("is this a number that
really exists in the data?"): ``valid``, ``valid-with-note`` (an older form, named in ``forms``),
``valid-with-warning`` or ``invalid``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.codes import KINDS, check

CORPUS = Path(__file__).parent / "corpus" / "identifiers.json"
VERDICTS = ("valid", "valid-with-note", "valid-with-warning", "invalid")
SOURCE = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+/blob/[0-9a-f]{40}/\S+")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _corpus() -> dict[str, Any]:
    return json.loads(CORPUS.read_text(encoding="utf-8"))


ITEMS: list[dict[str, Any]] = _corpus()["items"]


def _verdict(kind: str, value: str, mode: str) -> str:
    result = check(kind, value, mode=mode)  # type: ignore[arg-type]
    if not result.ok:
        return "invalid"
    if result.warnings:
        return "valid-with-warning"
    return "valid-with-note" if result.notes else "valid"


def test_the_corpus_is_sourced_and_holds_no_personal_identifier() -> None:
    assert len(ITEMS) >= 60
    assert len({(it["kind"], it["value"]) for it in ITEMS}) == len(ITEMS), "duplicate entries"
    for it in ITEMS:
        assert it["kind"] in KINDS and it["kind"] != "citizen-id", it
        assert SOURCE.fullmatch(it["source"]), f"source is not a blob URL at a fixed commit: {it}"
        assert it["where"], it
        assert it["issued"] in VERDICTS and it["held"] in VERDICTS, it
        # never a personal identifier: not a citizen id, not a mobile number
        assert not check("citizen-id", it["value"], mode="held").ok, it["value"]
        assert not MOBILE.search(it["value"]), it["value"]
    kinds = {it["kind"] for it in ITEMS}
    assert {"uscc", "org-code", "equipment-code"} <= kinds


@pytest.mark.parametrize("item", ITEMS, ids=[f"{it['kind']}:{it['value']}" for it in ITEMS])
def test_each_real_value_gets_its_recorded_verdict(item: dict[str, Any]) -> None:
    kind, value = item["kind"], item["value"]
    assert _verdict(kind, value, "issued") == item["issued"], check(kind, value, mode="issued").message()
    held = check(kind, value, mode="held")
    assert _verdict(kind, value, "held") == item["held"], held.message()
    if "forms" in item:
        assert list(held.forms) == item["forms"], held.forms


def test_older_forms_are_held_not_issued() -> None:
    """Every real value of an older form is refused by "issued" and accepted by "held", with its form named."""
    older = [it for it in ITEMS if it.get("forms") and "tsg08-2017" not in it["forms"]]
    assert older
    for it in older:
        assert it["issued"] == "invalid" and it["held"] != "invalid", it
        held = check(it["kind"], it["value"], mode="held")
        assert held.notes, (it["value"], held.problems)
