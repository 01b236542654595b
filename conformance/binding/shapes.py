"""What a canonical schema says about an instance's keys, walked once per schema location: the properties of an
object (through ``$ref``, ``allOf``, ``anyOf`` and ``oneOf``), the items of an array, a string's ``format``, and
the named schemas (a file of ``schemas/json`` or one of its ``$defs``) the location stands for. The binding's
field, value and format maps are keyed by those names, so a translation is directed by the contract, never by
guessing at field names."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

from conformance.contract import documents as contracts
from conformance.contract.registry import registry

#: the schema locations (absolute URIs) that together describe one place of an instance
Where = tuple[str, ...]


@dataclass
class Shape:
    """The merged view of one schema location."""

    props: dict[str, Where] = field(default_factory=dict)  # property name → the schemas that declare it
    items: Where | None = None  # the schemas of an array's items
    extra: Where | None = None  # the schemas of ``additionalProperties`` (a map's values)
    format: str | None = None
    types: set[str] = field(default_factory=set)
    names: list[str] = field(
        default_factory=list
    )  # named schemas this location stands for ("equipment", "sharing#/$defs/page")


def child(uri: str, *parts: str) -> str:
    """The URI of a location below ``uri`` (JSON Pointer tokens escaped)."""
    base, fragment = urldefrag(uri)
    tail = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)
    return f"{base}#{fragment}{tail}"


def name_of(uri: str) -> str | None:
    """The binding's name for a location that is a whole schema file or one of its ``$defs``."""
    base, fragment = urldefrag(uri)
    prefix = contracts.SCHEMA_BASE
    if not base.startswith(prefix) or not base.endswith(".schema.json"):
        return None
    stem = base[len(prefix) :].removesuffix(".schema.json")
    if fragment in ("", "/"):
        return stem
    if fragment.startswith("/$defs/") and fragment.count("/") == 2:
        return f"{stem}#{fragment}"
    return None


def _lookup(uri: str) -> Any:
    return registry().resolver().lookup(uri).contents


@functools.cache
def shape(where: Where | str) -> Shape:
    """The merged :class:`Shape` of the schemas at ``where`` (absolute URIs with a JSON Pointer fragment)."""
    out = Shape()
    for uri in (where,) if isinstance(where, str) else where:
        _merge(out, uri, depth=0)
    return out


def _add(current: Where | None, uri: str) -> Where:
    return (*(current or ()), uri) if uri not in (current or ()) else current or ()


def _merge(out: Shape, uri: str, depth: int) -> None:
    if depth > 32:
        return
    node = _lookup(uri)
    if not isinstance(node, dict):
        return
    name = name_of(uri)
    if name and name not in out.names:
        out.names.append(name)
    if isinstance(node.get("$ref"), str):
        _merge(out, urljoin(uri, node["$ref"]), depth + 1)
    for combinator in ("allOf", "anyOf", "oneOf"):
        for i, _branch in enumerate(node.get(combinator) or []):
            _merge(out, child(uri, combinator, str(i)), depth + 1)
    for prop in node.get("properties") or {}:
        out.props[prop] = _add(out.props.get(prop), child(uri, "properties", prop))
    if isinstance(node.get("items"), dict):
        out.items = _add(out.items, child(uri, "items"))
    if isinstance(node.get("additionalProperties"), dict):
        out.extra = _add(out.extra, child(uri, "additionalProperties"))
    if isinstance(node.get("format"), str):
        out.format = out.format or node["format"]
    kind = node.get("type")
    out.types.update(kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else [])
