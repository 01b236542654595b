"""Labelled JSON fixtures (``fixtures/json/<schema>/labels.yaml``) against the JSON Schemas.

Every fixture is validated with ``conformance.check.schema.validator(ref, strict=True)``: valid
ones must pass both engines (jsonschema-rs ``is_valid`` and the explaining ``errors()``);
invalid ones must fail and report the labelled error (JSON Pointer + keyword) and nothing at any
other path, so that each invalid fixture breaks exactly one rule.

Label extras: ``strict_only: true`` marks an invalid fixture that lenient mode (``strict=False``)
accepts with a warning; every other invalid fixture must be rejected in both modes.
``engine_issue`` / ``schema_issue`` record a known weakness of the validation engine or of a
schema (the fixture is right, the verdict or the explanation is not): the test xfails until the
weakness is fixed, then fails so that the label gets cleaned up.

The remaining tests keep the set complete: a folder per schema file, one valid and three invalid
fixtures per schema reference and per ``$defs`` entry, every file labelled, every label pointing
to a file. See fixtures/json/README.md.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.check.schema import validator
from conformance.contract import documents as contracts

FIXTURES: Path = contracts.FIXTURES / "json"
IDENTIFIERS = "identifiers"
LABEL_KEYS = {"file", "schema", "valid", "description", "rule", "expect", "strict_only", "engine_issue", "schema_issue"}
#: Keys of a schema document that do not constrain its root: a file made only of these is a
#: container of ``$defs`` and gets fixtures per def, not for the file itself.
NON_CONSTRAINING = {"$schema", "$id", "$comment", "title", "description", "x-source", "$defs"}
#: ``$defs`` entries that need no fixtures of their own (tiny helpers); none at present.
HELPER_DEFS: set[str] = set()
MIN_VALID, MIN_INVALID = 1, 3


def _load_labels() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for labels in sorted(FIXTURES.glob("*/labels.yaml")):
        for entry in yaml.safe_load(labels.read_text(encoding="utf-8")) or []:
            out.append((labels.parent.name, entry))
    return out


ENTRIES = _load_labels()
FOLDERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) if FIXTURES.is_dir() else []


def _entry_id(item: tuple[str, dict[str, Any]]) -> str:
    folder, entry = item
    return f"{folder}/{entry.get('file')}"


def _schema_refs() -> set[str]:
    """Every schema reference that must have fixtures: constraining roots and every ``$defs`` entry."""
    refs: set[str] = set()
    for name in contracts.json_schema_names():
        doc = contracts.json_schema(name)
        if set(doc) - NON_CONSTRAINING:
            refs.add(name)
        for d in doc.get("$defs", {}):
            if d not in HELPER_DEFS:
                refs.add(f"{name}#/$defs/{d}")
    return refs


def _resolves(ref: str) -> bool:
    name, _, fragment = ref.partition("#")
    if name not in contracts.json_schema_names():
        return False
    if not fragment:
        return True
    prefix = "/$defs/"
    return fragment.startswith(prefix) and fragment[len(prefix) :] in contracts.json_schema(name).get("$defs", {})


# ----------------------------------------------------------------------------- each fixture


@pytest.mark.parametrize("item", ENTRIES, ids=[_entry_id(e) for e in ENTRIES])
def test_fixture(item: tuple[str, dict[str, Any]]) -> None:
    folder, entry = item
    assert set(entry) <= LABEL_KEYS, f"unknown label keys {set(entry) - LABEL_KEYS}"
    ref = entry["schema"]
    assert ref.partition("#")[0] == folder, f"label in folder {folder!r} names schema {ref!r}"
    assert _resolves(ref), f"schema reference {ref!r} does not resolve"
    path = FIXTURES / folder / entry["file"]
    assert path.is_file(), f"{path} missing"
    instance = json.loads(path.read_text(encoding="utf-8"))
    v = validator(ref, strict=True)
    if entry["valid"] is True:
        assert entry.get("description"), "a valid fixture needs a description"
        errors = v.errors(instance)
        assert v.is_valid(instance), f"fast engine rejects a valid fixture; explained: {errors}"
        assert errors == [], f"valid fixture reported errors: {errors}"
        return
    assert entry["valid"] is False
    assert entry.get("rule"), "an invalid fixture names the rule it breaks"
    expect = entry["expect"]
    want = (expect["path"], expect["keyword"])
    rejected = not v.is_valid(instance)
    errors = v.errors(instance)
    got = [(e.path, e.keyword) for e in errors]
    stray = [e for e in errors if e.path != expect["path"]]
    issue = entry.get("engine_issue") or entry.get("schema_issue")
    if issue:
        # A known weakness of an engine or a schema: the fixture is right, the verdict or the
        # explanation is not. Strict: once it is handled, the label must lose its *_issue.
        assert not (rejected and want in got and not stray), "now handled correctly: drop the *_issue label"
        pytest.xfail(f"{issue}; fast engine rejects: {rejected}; explained: {got}")
    assert rejected, f"invalid fixture passes the fast engine (rule: {entry['rule']})"
    assert want in got, f"expected {want}, engine reported {got}"
    assert not stray, f"fixture breaks more than the labelled rule: {stray}"


@pytest.mark.parametrize("item", ENTRIES, ids=[_entry_id(e) for e in ENTRIES])
def test_fixture_lenient(item: tuple[str, dict[str, Any]]) -> None:
    """Lenient mode accepts every valid fixture and exactly the invalid ones labelled ``strict_only``."""
    folder, entry = item
    if entry.get("engine_issue") or entry.get("schema_issue"):
        pytest.skip("known issue: see test_fixture")
    instance = json.loads((FIXTURES / folder / entry["file"]).read_text(encoding="utf-8"))
    lenient = validator(entry["schema"], strict=False).is_valid(instance)
    if entry["valid"] is True:
        assert lenient, "valid fixture rejected in lenient mode"
    elif entry.get("strict_only"):
        assert lenient, "labelled strict_only, but lenient mode rejects it too"
    else:
        assert not lenient, f"lenient mode accepts it (rule: {entry['rule']}); label strict_only if intended"


# ----------------------------------------------------------------------------- completeness


def test_every_schema_file_has_a_folder() -> None:
    missing = set(contracts.json_schema_names()) - set(FOLDERS)
    assert not missing, f"schema files without fixtures/json/<name>/: {sorted(missing)}"
    unknown = set(FOLDERS) - set(contracts.json_schema_names())
    assert not unknown, f"fixture folders without a schema file: {sorted(unknown)}"


def test_every_schema_reference_has_fixtures() -> None:
    labelled = {entry["schema"] for _, entry in ENTRIES}
    missing = _schema_refs() - labelled
    assert not missing, f"schema references without fixtures: {sorted(missing)}"


def test_enough_valid_and_invalid_per_reference() -> None:
    valid: Counter[str] = Counter()
    invalid: Counter[str] = Counter()
    for _, entry in ENTRIES:
        if entry.get("engine_issue") or entry.get("schema_issue"):
            continue  # xfailing fixtures do not count towards the minimum
        (valid if entry.get("valid") is True else invalid)[entry["schema"]] += 1
    short = {
        ref: (valid[ref], invalid[ref])
        for ref in set(valid) | set(invalid)
        if valid[ref] < MIN_VALID or invalid[ref] < MIN_INVALID
    }
    assert not short, f"(valid, invalid) below ({MIN_VALID}, {MIN_INVALID}): {short}"


@pytest.mark.parametrize("folder", FOLDERS)
def test_folder_files_and_labels_match(folder: str) -> None:
    d = FIXTURES / folder
    assert (d / "labels.yaml").is_file(), f"{folder}/labels.yaml missing"
    labelled = [entry["file"] for f, entry in ENTRIES if f == folder]
    dupes = sorted(n for n, c in Counter(labelled).items() if c > 1)
    assert not dupes, f"labelled twice: {dupes}"
    files = {p.name for p in d.iterdir() if p.name != "labels.yaml"}
    unlabelled = files - set(labelled)
    assert not unlabelled, f"files without a label: {sorted(unlabelled)}"
    dangling = set(labelled) - files
    assert not dangling, f"labels without a file: {sorted(dangling)}"
    assert all(n.endswith(".json") for n in files), (
        f"non-JSON files: {sorted(n for n in files if not n.endswith('.json'))}"
    )


def test_identifier_fixtures_are_single_values() -> None:
    """``fixtures/json/identifiers`` holds one JSON value per file, each labelled with a def."""
    for folder, entry in ENTRIES:
        if folder == IDENTIFIERS:
            assert "#/$defs/" in entry["schema"], f"{entry['file']}: identifier fixtures name a def"
