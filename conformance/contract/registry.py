"""All JSON Schemas of ``schemas/json`` as one reference registry (nothing fetched remotely)."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.contract import documents as contracts

#: Base URI of the OpenAPI documents: relative ``../json/x.schema.json`` references in them resolve
#: to the JSON Schemas' own ``$id``s, and ``common.yaml#/...`` to the shared components.
OPENAPI_BASE = contracts.SCHEMA_BASE.removesuffix("json/") + "openapi/"


def openapi_uri(doc: str, pointer: str = "") -> str:
    """URI of a location inside an OpenAPI document, e.g. ``openapi_uri("licensing", "/paths/...")``."""
    # RFC 6901 §6: a JSON Pointer in a URI fragment is percent-encoded ("{uscc}" → "%7Buscc%7D")
    return f"{OPENAPI_BASE}{doc}.yaml" + (f"#{quote(pointer, safe='/~')}" if pointer else "")


@functools.cache
def documents() -> dict[str, dict[str, Any]]:
    """``{uri: document}`` for every JSON Schema file and every OpenAPI document."""
    docs: dict[str, dict[str, Any]] = {
        contracts.json_schema_id(n): contracts.json_schema(n) for n in contracts.json_schema_names()
    }
    docs.update({openapi_uri(n): contracts.openapi(n) for n in contracts.openapi_names()})
    return docs


def _no_remote(uri: str) -> Resource:
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)


@functools.cache
def registry() -> Registry:
    """A ``referencing`` registry for the ``jsonschema`` engine."""
    resources = [(uri, DRAFT202012.create_resource(doc)) for uri, doc in documents().items()]
    return Registry(retrieve=_no_remote).with_resources(resources)  # type: ignore[call-arg]


#: The meta-schema of every contract in ``schemas/json``.
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def reference_to(uri: str) -> dict[str, str]:
    """A 2020-12 schema that is just a reference to ``uri`` (what a validator is built from)."""
    return {"$schema": DRAFT_2020_12, "$ref": uri}


def schema_uri(ref: str) -> str:
    """Absolute URI for ``name`` or ``name#/$defs/x`` (e.g. ``gov-platform#/$defs/receipt``)."""
    name, _, fragment = ref.partition("#")
    name = name.removesuffix(".schema.json")
    if name not in contracts.json_schema_names():
        raise KeyError(name)
    uri = contracts.json_schema_id(name)
    return f"{uri}#{fragment}" if fragment else uri


@functools.cache
def resolve(uri: str) -> dict[str, Any]:
    """A schema by URI with its top-level ``$ref`` chain followed (siblings of ``$ref`` kept)."""
    resolved = registry().resolver().lookup(uri)
    schema = resolved.contents
    merged: dict[str, Any] = {}
    depth = 0
    while isinstance(schema, dict) and depth < 10:
        merged = {**schema, **merged}
        if "$ref" not in schema:
            break
        resolved = resolved.resolver.lookup(schema["$ref"])
        schema = resolved.contents
        depth += 1
    merged.pop("$ref", None)
    return merged
