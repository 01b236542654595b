"""All JSON Schemas of ``schemas/json`` as one reference registry (nothing fetched remotely)."""

from __future__ import annotations

import functools
from typing import Any

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import contracts


@functools.cache
def documents() -> dict[str, dict[str, Any]]:
    """``{$id: schema}`` for every schema file."""
    return {contracts.json_schema_id(n): contracts.json_schema(n) for n in contracts.json_schema_names()}


def _no_remote(uri: str) -> Resource:
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)


@functools.cache
def registry() -> Registry:
    """A ``referencing`` registry for the ``jsonschema`` engine."""
    resources = [(uri, DRAFT202012.create_resource(doc)) for uri, doc in documents().items()]
    return Registry(retrieve=_no_remote).with_resources(resources)  # type: ignore[call-arg]


def schema_uri(ref: str) -> str:
    """Absolute URI for ``name`` or ``name#/$defs/x`` (e.g. ``gov-platform#/$defs/receipt``)."""
    name, _, fragment = ref.partition("#")
    name = name.removesuffix(".schema.json")
    if name not in contracts.json_schema_names():
        raise KeyError(name)
    uri = contracts.json_schema_id(name)
    return f"{uri}#{fragment}" if fragment else uri
