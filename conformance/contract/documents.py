"""Locate and load the contracts in ``schemas/`` (the single source of truth).

Code never re-declares a contract: it asks this module for the file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

_PKG = Path(__file__).resolve().parents[1]  # the package conformance/
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _root(name: str) -> Path:
    """Return the folder ``schemas`` or ``fixtures``: bundled copy first, then the checkout."""
    bundled = _PKG / "_contracts" / name
    if bundled.is_dir():
        return bundled
    return _PKG.parent / name


SCHEMAS = _root("schemas")
FIXTURES = _root("fixtures")
JSON_DIR = SCHEMAS / "json"
OPENAPI_DIR = SCHEMAS / "openapi"
XML_DIR = SCHEMAS / "xml"
CODELISTS_DIR = SCHEMAS / "codelists"
CLAUSES_DIR = SCHEMAS / "clauses"

#: Base of every JSON Schema ``$id``; ``.invalid`` is reserved, so nothing is ever fetched.
SCHEMA_BASE = "https://tzsb-conformance.invalid/schemas/json/"


def load_data(path: Path) -> Any:
    """Load a JSON or YAML data file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in {".yaml", ".yml"}:
        return yaml.load(text, Loader=_YAML_LOADER)
    return json.loads(text)


@functools.cache
def codelist(name: str) -> dict[str, Any]:
    """A code list from ``schemas/codelists/<name>.json`` (with its source and date)."""
    return load_data(CODELISTS_DIR / f"{name}.json")


def json_schema_names() -> list[str]:
    """Names of all JSON Schemas (file stem without ``.schema``)."""
    return sorted(p.name.removesuffix(".schema.json") for p in JSON_DIR.glob("*.schema.json"))


@functools.cache
def json_schema(name: str) -> dict[str, Any]:
    """A JSON Schema document by name (``equipment`` → ``schemas/json/equipment.schema.json``)."""
    return load_data(JSON_DIR / f"{name}.schema.json")


def schema_properties() -> Iterator[tuple[str, dict[str, Any]]]:
    """``(name, schema)`` of every property declared anywhere in the JSON Schemas."""

    def walk(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict):
                    yield name, sub
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for name in json_schema_names():
        yield from walk(json_schema(name))


def json_schema_id(name: str) -> str:
    return SCHEMA_BASE + f"{name}.schema.json"


def openapi_names() -> list[str]:
    return sorted(p.stem for p in OPENAPI_DIR.glob("*.yaml"))


@functools.cache
def openapi(name: str) -> dict[str, Any]:
    """An OpenAPI document as written (external ``$ref`` to ``../json`` unresolved)."""
    return load_data(OPENAPI_DIR / f"{name}.yaml")


def xsd_names() -> list[str]:
    return sorted(p.stem for p in XML_DIR.glob("*.xsd"))


def xsd_path(name: str) -> Path:
    return XML_DIR / f"{name}.xsd"


def fixture_labels(kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(folder, label)`` for every labelled fixture of ``fixtures/<kind>/*/labels.yaml``."""
    for labels in sorted((FIXTURES / kind).glob("*/labels.yaml")):
        for label in load_data(labels) or []:
            yield labels.parent.name, label
