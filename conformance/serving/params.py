"""Parameters and bodies against the schemas the contract names, and the error entries that say what was wrong
(``{"path": "/query/page", "message": …, "messageEn": …, "rule": …}``, error.schema.json ``errors``)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from typing import Any

from conformance.check.schema import validator_at
from conformance.contract.openapi import Operation, Param
from conformance.contract.registry import resolve


def entry(path: str, zh: str, en: str, rule: str) -> dict[str, str]:
    """One entry of an error envelope's ``errors``."""
    return {"path": path, "message": zh, "messageEn": en, "rule": rule}


@functools.cache
def _param_type(uri: str) -> str | None:
    kind = resolve(uri).get("type")
    return kind if isinstance(kind, str) else None


def typed(value: str, uri: str) -> Any:
    """A path or query value as its schema's type (``"2"`` → 2 for an integer; unchanged when it does not convert)."""
    kind = _param_type(uri)
    if kind == "integer":
        with contextlib.suppress(ValueError):
            return int(value)
    elif kind == "number":
        with contextlib.suppress(ValueError):
            return float(value)
    elif kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def param_problems(p: Param, value: Any) -> list[dict[str, str]]:
    v = validator_at(p.schema_uri)
    if v.is_valid(value):
        return []
    where = f"/{p.location}/{p.name}"
    return [entry(where, e.message_zh, e.message_en, e.keyword) for e in v.errors(value)] or [
        entry(where, "参数不合法", "invalid", "schema")
    ]


def read_params(
    op: Operation,
    path_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, str]]]:
    """``(path, query, problems)``: path and query parameters typed and validated; header parameters validated when
    present (``headers=None``: not at all)."""
    problems: list[dict[str, str]] = []
    out: dict[str, dict[str, Any]] = {"path": {}, "query": {}}
    for p in op.params:
        if p.location == "header":
            value = headers.get(p.name) if headers is not None else None
            if value is not None:
                problems.extend(param_problems(p, value))
            continue
        source = path_params if p.location == "path" else query
        if p.name not in source:
            if p.required:
                where = f"/{p.location}/{p.name}"
                problems.append(
                    entry(where, f"缺少必填参数“{p.name}”", f"required parameter '{p.name}' missing", "required")
                )
            continue
        value = typed(str(source[p.name]), p.schema_uri)
        problems.extend(param_problems(p, value))
        out.setdefault(p.location, {})[p.name] = value
    return out["path"], out["query"], problems


def body_problems(op: Operation, body: Any, *, limit: int | None = None) -> list[dict[str, str]]:
    """The request body against the operation's body schema (none: no problems)."""
    if op.body_uri is None:
        return []
    v = validator_at(op.body_uri)
    if v.is_valid(body):
        return []
    errors = v.errors(body)[:limit] if limit else v.errors(body)
    return [entry(e.path, e.message_zh, e.message_en, e.keyword) for e in errors] or [
        entry("", "请求数据不符合契约", "invalid", "schema")
    ]
