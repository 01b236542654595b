"""Field names, code values, date and number forms of one vendor's dialect, applied to an instance by walking it
with its canonical schema (:mod:`conformance.binding.shapes`). One walk serves both directions, so a mapping
read one way is the same mapping read back (``binding check`` proves it on every fixture).

A value the walk cannot read in the declared form (a date that is no date, a code the value map lacks) crosses
unchanged: an invalid value stays invalid, so the contract still judges it on the other side."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urldefrag, urljoin

from conformance.binding import shapes
from conformance.binding.shapes import Shape, Where, shape
from conformance.contract.registry import registry

_CANONICAL = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "date-time": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})"),
}

Scopes = tuple[tuple[str, str], ...]  # (named schema, canonical path inside it)


def _join(path: str, prop: str) -> str:
    return f"{path}/{prop}" if path else prop


@dataclass(frozen=True)
class FieldMaps:
    """``names``: schema → {canonical path: vendor name}; ``values``: schema → {canonical path: {canonical value:
    vendor value}}; ``formats``: JSON Schema format (``date-time``, ``date``) → ``strftime`` pattern of the vendor;
    ``numbers_as_strings``: the vendor writes numbers as strings; ``offset_hours``: the zone of the vendor's
    date-times when its pattern has no offset."""

    names: dict[str, dict[str, str | None]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    numbers_as_strings: bool = False
    offset_hours: int = 8

    # ------------------------------------------------------------------ lookups
    def vendor_name(self, prop: str, scopes: Scopes) -> str | None:
        """The vendor's name of a property (None: the dialect has no such field)."""
        for schema, path in scopes:
            table = self.names.get(schema, {})
            key = _join(path, prop)
            if key in table:
                return table[key]
        return prop

    def value_map(self, prop: str, scopes: Scopes) -> dict[str, Any] | None:
        for schema, path in scopes:
            mapped = self.values.get(schema, {}).get(_join(path, prop))
            if mapped:
                return mapped
        return None

    def canonical_names(self, sh: Shape, scopes: Scopes) -> dict[str, str]:
        """``{vendor name: canonical name}`` of an object's renamed properties."""
        out: dict[str, str] = {}
        for p in sh.props:
            name = self.vendor_name(p, scopes)
            if name is not None and name != p:
                out[name] = p
        return out

    # ------------------------------------------------------------------ walks
    def translate(
        self,
        value: Any,
        uri: Where | str | None,
        *,
        forward: bool,
        scopes: Scopes = (),
        special: dict[str, Where] | None = None,
    ) -> Any:
        """``value`` (canonical when ``forward``, else the vendor's) in the other form, directed by the canonical
        schema at ``uri`` (None: outside the contract, unchanged). ``special``: named schema → what the contract
        says of it in one context (a data set's ``change`` whose ``record`` is that data set's record), merged in
        wherever the walk meets the named schema."""
        if uri is None:
            return value
        uri = _specialised(uri, special)
        sh = shape(uri)
        if isinstance(value, dict):
            own: Scopes = tuple((n, "") for n in sh.names) + scopes
            back = {} if forward else self.canonical_names(sh, own)
            out: dict[str, Any] = {}
            for key, item in value.items():
                prop = key if forward else back.get(key, key)
                sub = sh.props.get(prop) or sh.extra
                inner = tuple((n, _join(p, prop)) for n, p in own) if prop in sh.props else ()
                if isinstance(item, list) and sub is not None:
                    items = shape(_specialised(sub, special)).items
                    item = [
                        self._scalar(
                            self.translate(x, items, forward=forward, scopes=inner, special=special),
                            items,
                            prop,
                            own,
                            forward,
                        )
                        for x in item
                    ]
                else:
                    item = self._scalar(
                        self.translate(item, sub, forward=forward, scopes=inner, special=special),
                        sub,
                        prop,
                        own,
                        forward,
                    )
                name = self.vendor_name(prop, own) if forward else prop
                if name is not None:  # a field the dialect lacks does not cross
                    out[name] = item
            return out
        if isinstance(value, list):
            return [self.translate(x, sh.items, forward=forward, scopes=scopes, special=special) for x in value]
        return value

    def _scalar(self, value: Any, uri: Where | str | None, prop: str | None, scopes: Scopes, forward: bool) -> Any:
        if isinstance(value, (dict, list)) or uri is None:
            return value
        if prop is not None:
            mapped = self.value_map(prop, scopes)
            if mapped is not None:
                value = _map_value(value, mapped, forward)
        sh = shape(uri)
        pattern = self.formats.get(sh.format or "")
        if pattern and isinstance(value, str):
            return self._date(value, sh.format or "", pattern, forward)
        if self.numbers_as_strings and sh.types & {"integer", "number"} and "string" not in sh.types:
            return _number(value, forward)
        return value

    def _date(self, value: str, fmt: str, pattern: str, forward: bool) -> str:
        zone = timezone(timedelta(hours=self.offset_hours))
        try:
            if forward:
                # only a value in the canonical form crosses converted; any other stays as it is, so that what
                # is invalid on one side is invalid on the other (no offset, fractions, the basic format …)
                if not _CANONICAL[fmt].fullmatch(value):
                    return value
                moment = datetime.fromisoformat(value)
                if fmt == "date-time":
                    moment = moment.astimezone(zone)
                return moment.strftime(pattern)
            moment = datetime.strptime(value, pattern)
        except ValueError:
            return value
        if fmt == "date":
            return moment.date().isoformat()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.isoformat(timespec="seconds")

    def parameter(self, value: str, uri: Where | str | None, *, forward: bool) -> str:
        """A query or header parameter's value in the other form: the value map of the schema property it is
        declared by (``equipment.schema.json#/properties/status``) and its date form."""
        if uri is None:
            return value
        resolved = registry().resolver().lookup(uri)
        node = resolved.contents
        target = urljoin(uri, node["$ref"]) if isinstance(node, dict) and isinstance(node.get("$ref"), str) else uri
        base, fragment = urldefrag(target)
        parts = fragment.strip("/").split("/")
        name = shapes.name_of(base)
        if name and len(parts) >= 2 and parts[0] == "properties" and all(p == "properties" for p in parts[0::2]):
            path = "/".join(parts[1::2])
            mapped = self.values.get(name, {}).get(path)
            if mapped is not None:
                value = _map_value(value, mapped, forward)
        fmt = shape(uri).format
        pattern = self.formats.get(fmt or "")
        return self._date(value, fmt or "", pattern, forward) if pattern else value

    def pointer(self, pointer: str, uri: Where | str | None, *, forward: bool) -> str:
        """A JSON Pointer into an instance of ``uri`` (an error's field path) in the other form."""
        if not pointer.startswith("/") or uri is None:
            return pointer
        out: list[str] = []
        scopes: Scopes = ()
        for raw in pointer[1:].split("/"):
            token = raw.replace("~1", "/").replace("~0", "~")
            sh = shape(uri) if uri else Shape()
            if sh.items and token.isdigit():
                out.append(token)
                uri = sh.items
                continue
            own: Scopes = tuple((n, "") for n in sh.names) + scopes
            prop = token if forward else self.canonical_names(sh, own).get(token, token)
            out.append((self.vendor_name(prop, own) or prop) if forward else prop)
            scopes = tuple((n, _join(p, prop)) for n, p in own) if prop in sh.props else ()
            uri = sh.props.get(prop) or sh.extra
        return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in out)


def _specialised(uri: Where | str, special: dict[str, Where] | None) -> Where | str:
    """``uri`` with what ``special`` says of the named schemas it stands for merged in."""
    if not special:
        return uri
    extra = [u for n in shape(uri).names if n in special for u in special[n]]
    if not extra:
        return uri
    return tuple(dict.fromkeys([*((uri,) if isinstance(uri, str) else uri), *extra]))


def _map_value(value: Any, mapped: dict[str, Any], forward: bool) -> Any:
    if forward:
        return mapped.get(value, value) if isinstance(value, (str, int, bool)) else value
    for canonical, vendor in mapped.items():
        if vendor == value and type(vendor) is type(value):
            return canonical
    return value


def _number(value: Any, forward: bool) -> Any:
    if forward:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value
