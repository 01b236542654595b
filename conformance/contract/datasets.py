"""The shared data sets as the contract declares them (``x-data-sets`` of the sharing documents): their key, record
schema, path, the five operations of each (found by their shape), the filters of each paged query (paired with a
record field by name), and the limits and defaults of their parameters. One model for the suites, the load
tests and the record builders."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from conformance.contract import documents as contracts
from conformance.contract.openapi import Operation, Param, declared_callback, documents_for_role, role_operations
from conformance.contract.registry import resolve

ROLE = "sharing"


def param_schema(param: Param) -> dict[str, Any]:
    return resolve(param.schema_uri)


@dataclass(frozen=True)
class Filter:
    """One declared query parameter of a paged query and the record field it tests.

    The contract pairs a filter with a record field by name (the field itself; its plural for an
    array field; ``<field>From`` / ``<field>To`` / ``<x>Since`` for ranges on ``<field>`` or
    ``<field>At``) and describes the matching: a division code matches its subordinate divisions,
    a catalogue kind or class code the varieties under it.
    """

    param: Param
    field: str
    kind: str  # eq | division | catalogue | contains | from | to
    value_format: str | None  # date | date-time | None

    @property
    def name(self) -> str:
        return self.param.name


PAGING = frozenset({"page", "size", "cursor", "limit"})


def _filter(param: Param, props: dict[str, Any]) -> Filter | None:
    schema = param_schema(param)
    fmt = schema.get("format")
    code_kind = str(fmt).removeprefix("tzsb-") if str(fmt).startswith("tzsb-") else ""  # tzsb-NAME: docs/conventions
    name = param.name
    if name in props:
        kind = {"division": "division", "catalogue-code": "catalogue"}.get(code_kind, "eq")
        return Filter(param, name, kind, fmt if fmt in ("date", "date-time") else None)
    if name + "s" in props and props[name + "s"].get("type") == "array":
        return Filter(param, name + "s", "contains", None)
    for suffix, kind in (("From", "from"), ("Since", "from"), ("To", "to")):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            for candidate in (stem, stem + "At"):
                if candidate in props:
                    return Filter(param, candidate, kind, fmt if fmt in ("date", "date-time") else None)
    return None


@dataclass(frozen=True)
class DataSet:
    name: str
    title: str
    key: str
    schema: str  # validator name, e.g. "inspection-report"
    path: str
    properties: dict[str, Any] = field(repr=False)
    required: tuple[str, ...]
    query: Operation | None
    get: Operation | None
    changes: Operation | None
    push: Operation | None
    subscribe: Operation | None
    owner: str | None = None  # x-owner: the field naming the unit whose grant unlocks the record's sensitive fields
    #: x-references: field → (the data set it refers to, the clauses that name the reference)
    references: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.title}（{self.name}）"

    def record_path(self, key: str) -> str:
        return f"{self.path}/{quote(key, safe='')}"

    @property
    def key_param(self) -> Param | None:
        return next((p for p in self.get.params if p.location == "path"), None) if self.get else None

    @property
    def filters(self) -> tuple[Filter, ...]:
        """The filters of the data set's paged query."""
        return self.filters_of(self.query)

    def filters_of(self, op: Operation | None) -> tuple[Filter, ...]:
        """The filters of a paged query of this data set: every query parameter but paging, paired with the record
        field it tests (a parameter that pairs with no field is none)."""
        if op is None:
            return ()
        found = (_filter(p, self.properties) for p in op.params if p.location == "query" and p.name not in PAGING)
        return tuple(f for f in found if f is not None)

    @property
    def ordered_by_key(self) -> bool:
        """The paged query declares ascending order by the key (``x-order-by``)."""
        return bool(self.query and self.query.raw.get("x-order-by") == self.key)


@functools.cache
def data_sets() -> dict[str, DataSet]:
    """The shared data sets, in the contract's order."""
    ops = role_operations(ROLE)
    out: dict[str, DataSet] = {}
    for doc in documents_for_role(ROLE):
        for name, spec in (contracts.openapi(doc).get("x-data-sets") or {}).items():
            schema = PurePosixPath(spec["schema"]).name.removesuffix(".schema.json")
            body = contracts.json_schema(schema)
            path = spec["path"]
            mine = [op for op in ops if op.data_set == name]

            def find(method: str, p: str, ops_: list[Operation] = mine) -> Operation | None:
                return next((op for op in ops_ if op.method == method and op.path == p), None)

            get = next(
                (op for op in mine if op.method == "get" and re.fullmatch(re.escape(path) + r"/\{\w+\}", op.path)), None
            )
            out[name] = DataSet(
                name=name,
                title=spec.get("title", name),
                key=spec["key"],
                schema=schema,
                path=path,
                properties=body.get("properties", {}),
                required=tuple(body.get("required", ())),
                query=find("get", path),
                get=get,
                changes=find("get", f"{path}/changes"),
                push=find("post", f"{path}/push"),
                subscribe=find("post", f"{path}/subscriptions"),
                owner=spec.get("x-owner"),
                references={
                    f: (ref["data-set"], tuple(ref.get("x-clause") or ()))
                    for f, ref in (spec.get("x-references") or {}).items()
                },
            )
    return out


@functools.cache
def notification() -> Operation:
    """The callback every subscribe operation declares: the change notification a subscriber receives."""
    declared = [declared_callback(ROLE, ds.subscribe.operation_id) for ds in data_sets().values() if ds.subscribe]
    (only,) = {op.operation_id: op for op in declared}.values()
    return only


def param_limit(op: Operation | None, name: str, bound: str = "maximum") -> int | None:
    p = next((p for p in (op.params if op else ()) if p.name == name), None)
    value = param_schema(p).get(bound) if p else None
    return int(value) if isinstance(value, int) else None


def param_default(op: Operation | None, name: str) -> Any:
    p = next((p for p in (op.params if op else ()) if p.name == name), None)
    return param_schema(p).get("default") if p else None


@functools.cache
def content_clause(schema: str) -> str | None:
    """The catalogue's 共享内容 clause of the data set whose records follow ``schema`` (e.g. ``equipment``): the
    ``x-clause`` of that data set in ``x-data-sets``; None when the contract names none."""
    for doc in documents_for_role(ROLE):
        for spec in (contracts.openapi(doc).get("x-data-sets") or {}).values():
            if PurePosixPath(spec["schema"]).name.removesuffix(".schema.json") == schema:
                clause = spec.get("x-clause")
                return str(clause) if clause else None
    return None


def max_size(ds: DataSet) -> int:
    return param_limit(ds.query, "size") or 100


def max_limit(ds: DataSet) -> int:
    return param_limit(ds.changes, "limit") or 100


#: Literal sub-paths of a data set (the contract: they win over ``/{key}``).
RESERVED = frozenset({"changes", "push", "subscriptions"})
