"""Validate many records in a stream (bulk dumps): the same verdict as
``SchemaValidator.is_valid`` record by record, at a lower cost per record.

Each record is parsed and checked for structure as it arrives (jsonschema-rs) and then
dropped, which keeps memory hot; only its values at the identifier-format sites are kept, in
one flat list (for a nested site such as ``provider.uscc``: the ``provider`` object, looked
into at ``finish``). Every batch, those values are checked once per *distinct new value*,
vectorised where the kind allows it (:mod:`conformance.codes.vectorized`), and remembered for
the next batches; the schema's ``pattern`` at such a site is checked there too, once per distinct
value, instead of in every record (:func:`structure_validator`). Only a schema whose identifier
formats sit under combinators or arrays is checked record by record. The per-value work is done by
C loops (``map``, slicing, sets, NumPy); Python code runs per record only to parse, to call the
structure check and to keep the values. How and why: docs/bulk-validation.md.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from itertools import compress
from typing import Any

import jsonschema_rs
import orjson

from conformance.check.formats import cached_check, format_site_nodes, is_not_none
from conformance.check.limits import MAX_JSON_DEPTH, json_depth, value_depth
from conformance.check.schema import dig, validator, validator_at
from conformance.codes import KINDS
from conformance.contract import registry as schema_registry


def _site_pattern(kind: str, node: dict[str, Any]) -> str | None:
    """The pattern next to an identifier format that the bulk pass checks once per distinct value.

    Only for kinds whose values recur (units, places, varieties): a pattern on values that never
    repeat costs less inside the per-record check than in a separate pass.
    """
    pattern = node.get("pattern")
    return pattern if isinstance(pattern, str) and not KINDS[kind].unique_values else None


def _without(node: Any, strip: set[int]) -> Any:
    """A copy of a schema document without the ``pattern`` of the schema objects in ``strip`` (by id)."""
    if isinstance(node, dict):
        return {k: _without(v, strip) for k, v in node.items() if k != "pattern" or id(node) not in strip}
    if isinstance(node, list):
        return [_without(v, strip) for v in node]
    return node


@functools.cache
def structure_validator(uri: str) -> Callable[[Any], bool]:
    """The per-record check of a bulk pass: the schema at ``uri`` less the identifier formats
    (checked per distinct value) and less the ``pattern`` next to those of recurring kinds
    (:func:`_site_pattern`), which :class:`conformance.check.formats.KnownGood` checks with the same
    engine, once per distinct value.

    Exact only together with those checks, and only where every project format sits at a
    property path (:func:`conformance.check.formats.format_site_nodes` is not None): then no schema
    object losing its pattern is used anywhere else in the instance.
    """
    strip = {id(node) for _, kind, node in format_site_nodes(uri) or () if _site_pattern(kind, node) is not None}
    if not strip:
        return validator_at(uri).structure_valid
    docs = [(u, _without(doc, strip)) for u, doc in schema_registry.documents().items()]
    return jsonschema_rs.validator_for(
        schema_registry.reference_to(uri), registry=jsonschema_rs.Registry(docs), validate_formats=True
    ).is_valid


def _all_none(column: list[Any]) -> bool:
    """Whether a column holds nothing (a field no record has); stops at the first value.
    (``list.count(None)`` compares every string with None the slow way.)"""
    return not any(map(is_not_none, column))


def _marks(bad: set[str], column: list[Any]) -> list[bool]:
    """Which values of a column are among the bad ones."""
    try:
        return list(map(bad.__contains__, column))
    except TypeError:  # an unhashable value (an object or array where the schema allows one): never a bad string
        return [v.__class__ is str and v in bad for v in column]


def _meets(bad: set[str], column: list[Any]) -> bool:
    """Whether a column holds any of the bad values."""
    try:
        return not bad.isdisjoint(column)
    except TypeError:  # an unhashable value in the column
        return True


class BulkValidator:
    """``add`` records one by one, then ``finish`` gives their verdicts in order."""

    def __init__(self, ref: str, *, strict: bool = True) -> None:
        self.single = validator(ref, strict)
        sites = format_site_nodes(self.single.uri)
        self._per_record = sites is None
        keys: list[str] = []
        for path, _, _ in sites or ():
            if path[0] not in keys:
                keys.append(path[0])
        self._keys = tuple(keys)
        self._columns = tuple((keys.index(path[0]), path[1:]) for path, _, _ in sites or ())
        checks: dict[tuple[str, str | None], list[int]] = {}
        for i, (_, kind, node) in enumerate(sites or ()):
            checks.setdefault((kind, _site_pattern(kind, node)), []).append(i)
        # one check for every column of a kind and pattern (a unit's USCC stands in several fields of a record);
        # where the schema says "type": "string" at every site of a check, its values are strings or None
        self._by_kind = (
            [
                (cached_check(kind, strict, pattern), idx, all(sites[i][2].get("type") == "string" for i in idx))
                for (kind, pattern), idx in checks.items()
            ]
            if sites
            else []
        )
        self._none = (None,) * len(keys)
        self._structure = self.single.structure_valid if self._per_record else structure_validator(self.single.uri)
        self._ok: list[bool] = []
        self._values: list[Any] = []  # len(keys) values per record added since the last finish

    def add(self, instance: Any) -> None:
        if self._per_record:
            self._ok.append(self.single.is_valid(instance))
            return
        good = self._structure(instance)
        if good and self.single.depth_open and value_depth(instance, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            good = False
        self._ok.append(good)
        self._values.extend(map(instance.get, self._keys) if good and instance.__class__ is dict else self._none)

    def add_lines(self, lines: list[bytes]) -> list[bool]:
        """Parse and add JSON Lines; returns, per line, whether it parsed (unparsed lines are not added).

        Nesting deeper than :data:`conformance.check.limits.MAX_JSON_DEPTH` makes a record invalid
        (``SchemaValidator.errors`` says so, without recursing into it) and costs nothing per record where
        the schema is closed (:func:`conformance.check.limits.schema_depth_bound`): no record that deep passes
        the structure check there (which does not recurse into it). Where the schema is open, a record
        that passes and whose line has more opening brackets than the limit is measured. The size of a
        line is bounded by its reader (``conformance.check.files.MAX_LINE_BYTES``); orjson refuses
        nesting deeper than 1,024 (an unparsed line)."""
        loads, error = orjson.loads, orjson.JSONDecodeError
        parsed: list[bool] = []
        # Parsed records are freed by reference counting as soon as they are checked; the cycle
        # collector would only walk the growing batch of kept values again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            if self._per_record:
                add = self.add  # ``SchemaValidator.is_valid`` bounds the depth
                for raw in lines:
                    try:
                        instance = loads(raw)
                    except error:
                        parsed.append(False)
                        continue
                    parsed.append(True)
                    add(instance)
                return parsed
            structure, keys, none = self._structure, self._keys, self._none
            ok_append, keep, parsed_append = self._ok.append, self._values.extend, parsed.append
            guard, deep = self.single.depth_open, MAX_JSON_DEPTH
            for raw in lines:  # ``add`` inlined
                try:
                    instance = loads(raw)
                except error:
                    parsed_append(False)
                    continue
                parsed_append(True)
                good = structure(instance)
                if guard and good and raw.count(b"{") + raw.count(b"[") > deep and json_depth(raw, deep) > deep:
                    good = False  # nested too deep where the schema leaves a value open
                ok_append(good)
                keep(map(instance.get, keys) if good and instance.__class__ is dict else none)
            return parsed
        finally:
            if collecting:
                gc.enable()

    def finish(self) -> list[bool]:
        """Verdicts of the records added since the last ``finish``."""
        ok, values = self._ok, self._values
        self._ok, self._values = [], []
        if self._per_record or not values:
            return ok
        width = len(self._keys)
        top = [values[i::width] for i in range(width)]
        columns = [
            top[i] if not rest or _all_none(top[i]) else [dig(v, rest) for v in top[i]] for i, rest in self._columns
        ]
        for known, idx, strings in self._by_kind:
            bad = known.check_many(*(columns[i] for i in idx if not _all_none(columns[i])), strings=strings)
            for i in idx if bad else ():
                if _meets(bad, columns[i]):
                    for row in compress(range(len(ok)), _marks(bad, columns[i])):
                        ok[row] = False
        return ok

    def valid_mask(self, records: list[Any]) -> list[bool]:
        for r in records:
            self.add(r)
        return self.finish()
