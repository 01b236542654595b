"""OpenAPI Overlay 1.0 / 1.1 (https://spec.openapis.org/overlay/v1.1.0.html) applied to a canonical document:
each action selects nodes with an RFC 9535 JSONPath (``jsonpath-rfc9535``) and updates them (objects merge
recursively, arrays append, anything else is replaced), removes them, or (1.1) copies one node into them.
Actions apply in order, each to the result of the ones before."""

from __future__ import annotations

import copy
from typing import Any

import jsonpath_rfc9535 as jsonpath


class OverlayError(ValueError):
    """An action that cannot apply (its target or its copy source selects nothing it can act on)."""


def _merge(target: Any, update: Any) -> Any:
    if isinstance(target, dict) and isinstance(update, dict):
        for key, value in update.items():
            target[key] = _merge(target[key], value) if key in target else copy.deepcopy(value)
        return target
    if isinstance(target, list):
        target.extend(copy.deepcopy(update) if isinstance(update, list) else [copy.deepcopy(update)])
        return target
    return copy.deepcopy(update)


def _set(doc: Any, location: tuple[Any, ...], value: Any) -> Any:
    if not location:
        return value
    parent = doc
    for part in location[:-1]:
        parent = parent[part]
    parent[location[-1]] = value
    return doc


def _remove(doc: Any, locations: list[tuple[Any, ...]]) -> None:
    # remove from the end, so that list indices still point at what was selected
    for location in sorted(locations, key=lambda loc: [str(p) if isinstance(p, str) else p for p in loc], reverse=True):
        if not location:
            raise OverlayError("不能删除整个文档 / cannot remove the whole document")
        parent = doc
        for part in location[:-1]:
            parent = parent[part]
        del parent[location[-1]]


def apply(document: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with the overlay's actions applied."""
    doc: Any = copy.deepcopy(document)
    for i, action in enumerate(overlay.get("actions") or []):
        target = action["target"]
        try:
            nodes = jsonpath.find(target, doc)
        except jsonpath.JSONPathError as exc:
            raise OverlayError(
                f"动作 {i} 的 target 不是合法的 JSONPath / action {i}: invalid JSONPath {target!r}: {exc}"
            ) from exc
        if not nodes:
            raise OverlayError(f"动作 {i} 的 target 未选中任何节点 / action {i}: target selects nothing: {target!r}")
        if action.get("remove"):
            _remove(doc, [n.location for n in nodes])
            continue
        if "copy" in action:
            sources = jsonpath.find(action["copy"], doc)
            if len(sources) != 1:
                raise OverlayError(
                    f"动作 {i} 的 copy 应恰好选中一个节点，实际 {len(sources)} 个 / action {i}: copy selects "
                    f"{len(sources)} nodes, not one: {action['copy']!r}"
                )
            update = sources[0].value
        else:
            update = action.get("update")
        for node in nodes:
            doc = _set(doc, node.location, _merge(node.value, update))
    return doc
