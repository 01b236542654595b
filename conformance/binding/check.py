"""``tzsb-conform binding check FILE``: a binding proven usable before any run. It must apply (schema, overlays,
every canonical operation and callback paired), every mapped field and code must exist in the contract, no two
canonical names may meet in one vendor name, and every fixture of every schema (and of every callback's request, as
the callback carries it) must come back unchanged from a trip to the vendor's form and back (date-times compared as
instants)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from conformance.binding.callbacks import Callbacks
from conformance.binding.model import Binding, BindingError, load
from conformance.binding.shapes import shape
from conformance.contract import documents as contracts
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import ROLES
from conformance.contract.registry import resolve, schema_uri


@dataclass(frozen=True)
class Problem:
    where: str
    zh: str
    en: str


def _field_uri(name: str, path: str) -> str | None:
    """The schema URI of a canonical ``path`` ('a/b') inside the named schema, or None when it does not exist."""
    uri = schema_uri(name)
    for part in path.split("/"):
        sh = shape(uri)
        sub = sh.props.get(part)
        if sub is None and sh.items:
            sub = shape(sh.items).props.get(part)
        if sub is None:
            return None
        uri = sub
    return uri


def _targets(binding: Binding) -> list[Problem]:
    out: list[Problem] = []
    for section, table in (("fields", binding.maps.names), ("values", binding.maps.values)):
        for name, paths in table.items():
            try:
                schema_uri(name)
            except KeyError:
                out.append(Problem(f"{section}/{name}", f"规范中没有模式 {name}", f"no canonical schema {name}"))
                continue
            for path in paths:
                if _field_uri(name, path) is None:
                    out.append(
                        Problem(
                            f"{section}/{name}/{path}",
                            f"模式 {name} 中没有字段 {path}（映射目标不存在）",
                            f"schema {name} has no field {path} (mapping target missing)",
                        )
                    )
    return out


def _unmapped_required(binding: Binding) -> list[Problem]:
    """Fields the dialect lacks (mapped to null) that the contract requires: no exchange can carry them."""
    out: list[Problem] = []
    for name, paths in binding.maps.names.items():
        for path, vendor in paths.items():
            parent, _, prop = path.rpartition("/")
            uri = _field_uri(name, parent) if parent else schema_uri(name)
            if vendor is None and uri is not None and prop in _required(uri):
                out.append(
                    Problem(
                        f"fields/{name}/{path}",
                        f"契约要求的字段 {path} 在厂商方言中没有对应（映射为 null）",
                        f"the contract requires {path}, which the dialect lacks (mapped to null)",
                    )
                )
    return out


def _required(where: Any) -> set[str]:
    found: set[str] = set()
    for uri in (where,) if isinstance(where, str) else where:
        node = resolve(uri)
        found |= set(node.get("required") or [])
        for branch in node.get("allOf") or []:
            found |= set(branch.get("required") or [])
    return found


def _conflicts(binding: Binding) -> list[Problem]:
    out: list[Problem] = []
    for name, paths in binding.maps.names.items():
        by_parent: dict[str, dict[str, str]] = {}
        for path, vendor in paths.items():
            parent, _, prop = path.rpartition("/")
            by_parent.setdefault(parent, {})[prop] = vendor
        for parent, renamed in by_parent.items():
            uri = _field_uri(name, parent) if parent else schema_uri(name)
            kept = set(shape(uri).props) - set(renamed) if uri else set()
            seen: dict[str, str] = {}
            for prop, vendor in renamed.items():
                if vendor is None:
                    continue
                other = seen.get(vendor) or (vendor if vendor in kept else None)
                if other:
                    out.append(
                        Problem(
                            f"fields/{name}/{parent + '/' if parent else ''}{prop}",
                            f"厂商字段名 {vendor} 同时承载 {other} 与 {prop}（映射有损）",
                            f"vendor name {vendor} carries both {other} and {prop} (lossy)",
                        )
                    )
                seen[vendor] = prop
    for name, paths in binding.maps.values.items():
        for path, mapped in paths.items():
            if len(set(map(str, mapped.values()))) != len(mapped):
                out.append(
                    Problem(
                        f"values/{name}/{path}",
                        "代码值对照不是一一对应（映射有损）",
                        "value map is not one-to-one (lossy)",
                    )
                )
    env = binding.envelope
    unknown = sorted(set(env.codes) - {c.value for c in ErrorCode})
    if unknown:
        out.append(
            Problem("envelope/codes", f"规范中没有错误代码 {', '.join(unknown)}", f"no canonical error codes {unknown}")
        )
    if len(set(env.codes.values())) != len(env.codes) or env.success in env.codes.values():
        out.append(
            Problem(
                "envelope/codes",
                "错误代码对照不是一一对应，或与成功代码相同",
                "error codes not one-to-one, or equal to success",
            )
        )
    return out


def _instant(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _diff(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            if key not in a or key not in b:
                return f"{path}/{key}"
            found = _diff(a[key], b[key], f"{path}/{key}")
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return path or "/"
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True)) if (d := _diff(x, y, f"{path}/{i}"))), None)
    return None if _instant(a) == _instant(b) and type(a) is type(b) else (path or "/")


def _round_trips(binding: Binding) -> tuple[int, list[Problem]]:
    out: list[Problem] = []
    count = 0
    maps = binding.maps
    for name in contracts.json_schema_names():
        uri = schema_uri(name)
        folder = contracts.FIXTURES / "json" / name
        for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            instance = contracts.load_data(file)
            label = file.name
            count += 1
            back = maps.translate(maps.translate(instance, uri, forward=True), uri, forward=False)
            where = _diff(instance, back)
            if where is not None:
                out.append(
                    Problem(
                        f"fixtures/json/{name}/{label}",
                        f"往返后不一致（字段 {where}）：映射有损",
                        f"not unchanged after the round trip (field {where}): the mapping is lossy",
                    )
                )
    return count, out


def _callbacks(binding: Binding) -> tuple[int, list[Problem]]:
    """Every callback of every role paired in the vendor's description, and every valid fixture of a callback's
    request schema unchanged after a trip through the callback's translation (a notification's records typed by
    its data set)."""
    out: list[Problem] = []
    count = 0
    for role in ROLES:
        try:
            callbacks = Callbacks(binding, role)
        except BindingError as exc:
            out.append(Problem(f"overlays/{role}", str(exc), str(exc)))
            continue
        for operation_id, cb in callbacks.ops.items():
            names = set(shape(cb.operation.body_uri).names) if cb.operation.body_uri else set()
            for folder, label in contracts.fixture_labels("json"):
                if not label.get("valid") or label["schema"] not in names:
                    continue
                instance = contracts.load_data(contracts.FIXTURES / "json" / folder / label["file"])
                count += 1
                there = callbacks.translate(instance, operation_id, forward=True)
                where = _diff(instance, callbacks.translate(there, operation_id, forward=False))
                if where is not None:
                    out.append(
                        Problem(
                            f"fixtures/json/{folder}/{label['file']}",
                            f"作为回调 {operation_id} 往返后不一致（字段 {where}）：映射有损",
                            f"not unchanged after the round trip as callback {operation_id} (field {where}): lossy",
                        )
                    )
    return count, out


def check(path: str) -> tuple[Binding | None, list[Problem], dict[str, int]]:
    """The binding, the problems found and what was checked (operations paired per role, fixtures round-tripped)."""
    try:
        binding = load(path)
    except BindingError as exc:
        return None, [Problem(path, str(exc), str(exc))], {}
    problems = _targets(binding) + _conflicts(binding) + _unmapped_required(binding)
    counts: dict[str, int] = {}
    for role in ROLES:
        try:
            counts[role] = len(binding.routes(role).vendor_ops)
        except BindingError as exc:
            problems.append(Problem(f"overlays/{role}", str(exc), str(exc)))
    counts["fixtures"], trips = _round_trips(binding)
    callbacks, crossed = _callbacks(binding)
    counts["fixtures"] += callbacks
    problems += trips + crossed
    return binding, problems, counts
