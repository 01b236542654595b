"""Bounds on the JSON the project parses from outside (request bodies on the reference server, responses,
records in dumps given to ``validate``): nesting depth and size, so one hostile value gives one clear error
instead of a crash (a validator recursing 1,000 levels deep) or a run that stops.

One place, used by the reference server and by ``validate``::

    from conformance.check.limits import JSONLimitError, loads_bounded

    try:
        body = loads_bounded(raw)  # bytes or str
    except JSONLimitError as exc:  # exc.kind: "depth" or "size"; str(exc): Chinese / English
        ...
    except orjson.JSONDecodeError:  # not JSON at all
        ...

``check_json(raw)`` checks without parsing; ``value_depth(obj)`` measures a value already parsed.
Both limits can be lowered per call (``max_depth=``, ``max_bytes=``).

The depth limit comes from the contracts: :data:`CONTRACT_DEPTH` is the deepest nesting any schema of
``schemas/json`` or any request or response body of ``schemas/openapi`` declares (:func:`contract_depth`
computes it; ``tests/test_limits.py`` holds the constant equal to it), and :data:`MAX_JSON_DEPTH` adds a
margin for extensions in the places a contract leaves open. Depth counts arrays and objects: ``1`` is 0 deep,
``[1]`` and ``{"a": 1}`` are 1 deep, ``{"a": [1]}`` is 2 deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

import orjson

#: Deepest nesting of arrays and objects any contract declares (schemas/json and the OpenAPI bodies that
#: wrap them in envelopes and pages); :func:`contract_depth` computes it from ``schemas/``.
CONTRACT_DEPTH = 7
#: Levels allowed beyond the contracts (vendor extensions in the places a contract leaves open).
JSON_DEPTH_MARGIN = 25
#: Deepest nesting of arrays and objects accepted.
MAX_JSON_DEPTH = CONTRACT_DEPTH + JSON_DEPTH_MARGIN
#: Largest JSON document accepted, in bytes.
MAX_JSON_BYTES = 16 * 1024 * 1024

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
_BLOCK = 1 << 16


class JSONLimitError(ValueError):
    """The document is larger or nested deeper than the limits (``kind``: "depth" or "size"); its text is
    Chinese / English."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def depth_error(max_depth: int = MAX_JSON_DEPTH) -> JSONLimitError:
    """The error of a value nested deeper than ``max_depth``."""
    return JSONLimitError(
        "depth",
        f"JSON 嵌套超过 {max_depth} 层（契约最深 {CONTRACT_DEPTH} 层）"
        f" / JSON nested deeper than {max_depth} levels (the contracts: {CONTRACT_DEPTH})",
    )


def size_error(size: int, max_bytes: int = MAX_JSON_BYTES) -> JSONLimitError:
    """The error of a document of ``size`` bytes, over ``max_bytes``."""
    return JSONLimitError(
        "size", f"JSON 共 {size} 字节，超过上限 {max_bytes} 字节 / JSON of {size} bytes, over the limit of {max_bytes}"
    )


def json_depth(data: bytes, stop: int | None = None) -> int:
    """Nesting depth of a JSON text (brackets inside strings skipped), in C loops over blocks of brackets; once
    past ``stop`` the rest is not measured (the result is then more than ``stop``, not necessarily the depth)."""
    brackets = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for start in range(0, len(brackets), _BLOCK):
        levels = list(accumulate(map(_STEP.__getitem__, brackets[start : start + _BLOCK]), initial=depth))
        deepest, depth = max(deepest, max(levels)), levels[-1]
        if stop is not None and deepest > stop:
            break
    return deepest


def check_json(data: bytes, *, max_depth: int = MAX_JSON_DEPTH, max_bytes: int = MAX_JSON_BYTES) -> None:
    """Raise :class:`JSONLimitError` if ``data`` is too large or too deeply nested (nothing is parsed).

    Cheap on ordinary documents: a text is at most as deep as it has opening brackets, so only one with
    more than ``max_depth`` of them is measured."""
    if len(data) > max_bytes:
        raise size_error(len(data), max_bytes)
    if data.count(b"{") + data.count(b"[") > max_depth and json_depth(data, max_depth) > max_depth:
        raise depth_error(max_depth)


def loads_bounded(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """``orjson.loads`` after :func:`check_json`: raises :class:`JSONLimitError` (too large or too deep)
    or ``orjson.JSONDecodeError`` (not JSON, not UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    check_json(raw, max_depth=max_depth, max_bytes=max_bytes)
    return orjson.loads(raw)


def value_depth(value: Any, stop: int | None = None) -> int:
    """Nesting depth of a parsed value (dicts and lists), without recursion; stops counting once past
    ``stop`` (the result is then ``stop + 1``)."""
    deepest = 0
    level: list[Any] = [value]
    depth = 0
    while level:
        nested = [v for v in level if v.__class__ is dict or v.__class__ is list]
        if not nested:
            break
        depth += 1
        deepest = depth
        if stop is not None and depth > stop:
            return stop + 1
        level = [c for v in nested for c in (v.values() if v.__class__ is dict else v) if c.__class__ in (dict, list)]
    return deepest


# ------------------------------------------------------------------------------ depth the contracts declare


def _types(node: dict[str, Any]) -> set[str] | None:
    kind = node.get("type")
    if isinstance(kind, str):
        return {kind}
    return set(kind) if isinstance(kind, list) else None


def _children(node: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The subschemas of a node's object members and of its array items."""
    members = [*node.get("properties", {}).values(), *node.get("patternProperties", {}).values()]
    members += [node[k] for k in ("additionalProperties", "unevaluatedProperties") if isinstance(node.get(k), dict)]
    items = list(node.get("prefixItems", ()))
    items += [node[k] for k in ("items", "contains", "unevaluatedItems") if isinstance(node.get(k), dict)]
    return members, items


def _declared(node: Any, resolver: Any, seen: tuple[int, ...]) -> int:
    """Deepest nesting a schema node declares (its combinators, references, members and items)."""
    if not isinstance(node, dict):
        return 0
    best = 0
    if isinstance(node.get("$ref"), str):
        found = resolver.lookup(node["$ref"])
        if id(found.contents) not in seen:  # a recursive contract declares no deepest level: count it once
            best = _declared(found.contents, found.resolver, (*seen, id(found.contents)))
    subs = [*node.get("allOf", ()), *node.get("anyOf", ()), *node.get("oneOf", ())]
    subs += [node[k] for k in ("if", "then", "else") if k in node]
    subs += list(node.get("dependentSchemas", {}).values())
    best = max(best, *(_declared(s, resolver, seen) for s in subs)) if subs else best
    types = _types(node) or set()
    members, items = _children(node)
    if "object" in types or members:
        best = max(best, 1 + max((_declared(c, resolver, seen) for c in members), default=0))
    if "array" in types or items:
        best = max(best, 1 + max((_declared(c, resolver, seen) for c in items), default=0))
    return best


def _bound(node: Any, resolver: Any, seen: tuple[int, ...]) -> int | None:
    """Deepest nesting an instance valid against a schema node can have, or None where the schema leaves
    it open (an unconstrained value, an object open to other members, an array of anything).

    Conservative: None whenever unsure; a number only where every valid instance is that shallow."""
    if node is False:
        return 0
    if not isinstance(node, dict):
        return None
    bounds: list[int] = []  # every valid instance meets all of these: the least holds
    if isinstance(node.get("$ref"), str):
        found = resolver.lookup(node["$ref"])
        b = None if id(found.contents) in seen else _bound(found.contents, found.resolver, (*seen, id(found.contents)))
        if b is not None:
            bounds.append(b)
    for sub in node.get("allOf", ()):
        if (b := _bound(sub, resolver, seen)) is not None:
            bounds.append(b)
    for kw in ("anyOf", "oneOf"):
        branches = [_bound(s, resolver, seen) for s in node.get(kw, ())]
        if branches and None not in branches:
            bounds.append(max(b for b in branches if b is not None))
    if "const" in node or "enum" in node:
        values = [node["const"]] if "const" in node else node["enum"]
        bounds.append(max((value_depth(v) for v in values), default=0))
    if (own := _own_bound(node, resolver, seen)) is not None:
        bounds.append(own)
    return min(bounds) if bounds else None


def _own_bound(node: dict[str, Any], resolver: Any, seen: tuple[int, ...]) -> int | None:
    """The bound a node's own ``type``, members and items give."""
    types = _types(node)
    if types is None:
        return None
    best = 0
    if "object" in types:
        closed = node.get("additionalProperties") is False or (
            node.get("unevaluatedProperties") is False
            and not any(k in node for k in ("$ref", "allOf", "anyOf", "oneOf", "if", "dependentSchemas"))
        )
        members, _ = _children(node)
        if not closed and not isinstance(node.get("additionalProperties"), dict):
            return None
        child = [_bound(c, resolver, seen) for c in members]
        if None in child:
            return None
        best = max(best, 1 + max((c for c in child if c is not None), default=0))
    if "array" in types:
        _, items = _children(node)
        if not isinstance(node.get("items"), dict) and node.get("items") is not False:
            return None
        child = [_bound(c, resolver, seen) for c in items]
        if None in child:
            return None
        best = max(best, 1 + max((c for c in child if c is not None), default=0))
    return best


def _schema_nodes() -> Iterable[tuple[str, Any, Any]]:
    """``(uri, schema, resolver)`` of every contract: each schema of ``schemas/json`` and its ``$defs``, and
    every request and response body of ``schemas/openapi``."""
    from conformance.contract import documents as contracts
    from conformance.contract import registry as schema_registry
    from conformance.contract.openapi import operations

    registry = schema_registry.registry()
    uris: list[str] = []
    for name in contracts.json_schema_names():
        uri = contracts.json_schema_id(name)
        uris.append(uri)
        uris += [f"{uri}#/$defs/{d}" for d in contracts.json_schema(name).get("$defs", {})]
    for doc in contracts.openapi_names():
        for op in operations(doc):
            uris += [u for u in (op.body_uri, *(u for m in op.responses.values() for u in m.values())) if u]
    for uri in dict.fromkeys(uris):
        found = registry.resolver().lookup(uri)
        yield uri, found.contents, found.resolver


def schema_depth_bound(uri: str) -> int | None:
    """Deepest nesting an instance valid against the schema at ``uri`` can have; None where the schema
    allows any depth somewhere (then a valid instance may still be too deep for :data:`MAX_JSON_DEPTH`)."""
    from conformance.contract import registry as schema_registry

    found = schema_registry.registry().resolver().lookup(uri)
    return _bound(found.contents, found.resolver, (id(found.contents),))


def contract_depth() -> int:
    """Deepest nesting any contract declares (what :data:`CONTRACT_DEPTH` must equal)."""
    return max(_declared(node, resolver, (id(node),)) for _, node, resolver in _schema_nodes())
