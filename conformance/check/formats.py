"""Named JSON Schema formats backed by the identifier library.

Every ``tzsb-*`` format in ``schemas/json`` maps to one identifier kind of
:mod:`conformance.codes`, so the same schema is equally strict in the suites, the
reference server and ``tzsb-conform validate``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from jsonschema import FormatChecker

from conformance.codes import KINDS
from conformance.contract.inline import SCHEMA_KEYWORDS, SCHEMA_MAP_KEYWORDS


@functools.cache
def format_kinds() -> dict[str, str]:
    """``{"tzsb-uscc": "uscc", ...}``."""
    return {kind.format_name: name for name, kind in KINDS.items()}


def _checker_for(kind: str, strict: bool) -> Callable[[object], bool]:
    code_kind = KINDS[kind]

    def is_ok(value: object) -> bool:
        # Formats only constrain strings (JSON Schema semantics); type errors are reported by "type".
        return not isinstance(value, str) or code_kind.is_ok(value, strict)

    return is_ok


@functools.cache
def format_functions(strict: bool = True) -> dict[str, Callable[[object], bool]]:
    """Callables for the project's named formats (for jsonschema-rs ``formats=``)."""
    return {fmt: _checker_for(kind, strict) for fmt, kind in format_kinds().items()}


@functools.cache
def format_checker(strict: bool = True) -> FormatChecker:
    """A jsonschema FormatChecker with the standard formats plus the project's ones."""
    checker = FormatChecker()
    for fmt, func in format_functions(strict).items():
        checker.checks(fmt)(func)
    return checker


#: Keywords whose subschemas apply depending on the instance: every keyword with subschemas but the properties and
#: the definitions.
_COMBINATORS = (SCHEMA_KEYWORDS | SCHEMA_MAP_KEYWORDS) - {"properties", "$defs", "definitions"}


#: Most distinct values a format check remembers per kind (then it starts afresh: memory stays flat).
CACHE_LIMIT = 1 << 15


@functools.cache
def exact_check(kind: str, strict: bool = True) -> Callable[[object], bool]:
    """The exact yes/no of one identifier kind: the fast path first, the full validator when unsure."""
    code_kind = KINDS[kind]
    fast = code_kind.fast
    slow = code_kind.validator
    if fast is None:
        return lambda value: slow(value, strict).ok  # type: ignore[arg-type]
    return lambda value: fast(value) or slow(value, strict).ok  # type: ignore[arg-type]


def _strings(values: set[object] | list[object]) -> list[str]:
    """The strings among ``values`` (values at a format site: strings, and None where absent)."""
    strs = list(filter(is_not_none, values))
    return strs if set(map(type, strs)) <= {str} else [v for v in strs if v.__class__ is str]  # type: ignore[misc]


#: ``is_not_none(x)``: ``x is not None``, as a C callable for ``map`` and ``filter``.
is_not_none = functools.partial(operator.is_not, None)


class KnownGood:
    """Values already found valid for one kind: repeated codes cost one set lookup.

    With a ``pattern`` (the schema's own, taken off the bulk structure check at a format site, see
    :func:`conformance.check.bulk.structure_validator`), a value is good only if it also matches the
    pattern, as jsonschema-rs matches it. Bounded: past :data:`CACHE_LIMIT` values it starts afresh,
    so memory stays flat.
    """

    __slots__ = ("_pattern", "check", "hits", "kind", "pattern", "seen", "unique", "values")

    def __init__(self, kind: str, strict: bool = True, pattern: str | None = None) -> None:
        self.kind = kind
        self.pattern = pattern
        self.check = exact_check(kind, strict)
        self._pattern = _pattern_validator(pattern) if pattern is not None else None
        self.values: set[str] = set()
        self.hits = self.seen = 0
        self.unique = KINDS[kind].unique_values  # else found out after some batches

    def _mismatches(self, values: list[str]) -> set[str]:
        """The values that do not match the pattern (one call into the engine for all of them)."""
        if self._pattern is None or self._pattern.is_valid(values):
            return set()
        return {values[int(err.instance_path[0])] for err in self._pattern.iter_errors(values)}

    def check_many(self, *columns: Sequence[object], strings: bool = False) -> set[str]:
        """Check the values of some columns (``None`` and non-strings skipped); remember the good ones; return the bad.

        ``strings``: the caller vouches that the values are strings or None (the schema says
        ``"type": "string"`` where they come from and the structure check passed).
        """
        import numpy as np  # imported on first use: bulk validation only

        from conformance.codes.vectorized import VALID_MANY

        many = VALID_MANY.get(self.kind)
        if not columns:
            return set()
        if self.unique and many is not None:
            # values of this kind hardly ever repeat (e.g. equipment codes): no set, no memory, all vectorised
            values = columns[0] if len(columns) == 1 else list(chain.from_iterable(columns))
            strs = list(filter(is_not_none, values)) if strings else _strings(values)
            bad = {v for v in map(strs.__getitem__, np.flatnonzero(~many(strs)).tolist()) if not self.check(v)}
            return bad | self._mismatches(strs)
        try:
            distinct: set[object] = set().union(*columns)
        except TypeError:  # an unhashable value (an object or array where the schema allows one): not a string
            distinct = {v for column in columns for v in column if v.__class__ is str}
        unknown = distinct - self.values
        unknown.discard(None)
        if not strings:
            unknown = set(_strings(unknown))
        self.seen += len(distinct) - (None in distinct)
        self.hits += len(distinct) - (None in distinct) - len(unknown)
        if not unknown:
            return set()
        batch = list(unknown)
        unsure = np.flatnonzero(~many(batch)).tolist() if many is not None else range(len(batch))
        bad = {v for v in map(batch.__getitem__, unsure) if not self.check(v)} | self._mismatches(batch)
        if self.seen > 20_000 and self.hits * 20 < self.seen:
            self.unique = True
            self.values.clear()
            return bad
        if len(self.values) + len(batch) >= CACHE_LIMIT:
            self.values.clear()
        self.values.update(unknown - bad)
        return bad

    def __call__(self, value: str) -> bool:
        if value in self.values:
            return True
        if not self.check(value) or (self._pattern is not None and not self._pattern.is_valid([value])):
            return False
        if len(self.values) >= CACHE_LIMIT:
            self.values.clear()
        self.values.add(value)
        return True


@functools.cache
def cached_check(kind: str, strict: bool = True, pattern: str | None = None) -> KnownGood:
    """A shared memoised yes/no check for one identifier kind (and a schema pattern, if given)."""
    return KnownGood(kind, strict, pattern)


@functools.cache
def _pattern_validator(pattern: str) -> Any:
    """jsonschema-rs for "every item matches ``pattern``": the engine's own regular-expression semantics."""
    import jsonschema_rs

    from conformance.contract.registry import DRAFT_2020_12

    return jsonschema_rs.validator_for({"$schema": DRAFT_2020_12, "items": {"pattern": pattern}})


def _mentions_project_format(node: object, resolver: Any, seen: set[str]) -> bool:
    if isinstance(node, list):
        return any(_mentions_project_format(n, resolver, seen) for n in node)
    if not isinstance(node, dict):
        return False
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt in format_kinds():
        return True
    ref = node.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        seen.add(ref)
        res = resolver.lookup(ref)
        if _mentions_project_format(res.contents, res.resolver, seen):
            return True
    return any(_mentions_project_format(v, resolver, seen) for v in node.values() if isinstance(v, dict | list))


@functools.cache
def format_sites(uri: str) -> tuple[tuple[tuple[str, ...], str], ...] | None:
    """Where the project's formats apply in a schema, as ``((property path), kind)`` pairs.

    Derived from the schema itself. Returns None when a project format sits under a
    combinator, an array or a map (its application then depends on the instance), in
    which case the engine must call the format functions itself.
    """
    found = format_site_nodes(uri)
    return None if found is None else tuple((path, kind) for path, kind, _ in found)


@functools.cache
def format_site_nodes(uri: str) -> tuple[tuple[tuple[str, ...], str, dict[str, Any]], ...] | None:
    """:func:`format_sites` with the schema object that carries each format (as stored in the registry)."""
    from conformance.contract.registry import registry

    sites: list[tuple[tuple[str, ...], str, dict[str, Any]]] = []

    def walk(schema: object, resolver: Any, path: tuple[str, ...], depth: int) -> bool:
        if not isinstance(schema, dict) or depth > 50:
            return depth <= 50
        ok = True
        ref = schema.get("$ref")
        if isinstance(ref, str):
            res = resolver.lookup(ref)
            ok = walk(res.contents, res.resolver, path, depth + 1)
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in format_kinds():
            sites.append((path, format_kinds()[fmt], schema))
        for name, sub in (schema.get("properties") or {}).items():
            ok = walk(sub, resolver, (*path, name), depth + 1) and ok
        return ok and not any(
            kw in schema and _mentions_project_format(schema[kw], resolver, set()) for kw in _COMBINATORS
        )

    res = registry().resolver().lookup(uri)
    return tuple(sites) if walk(res.contents, res.resolver, (), 0) else None
