"""The response envelopes of the contract (``envelope.schema.json``, ``error.schema.json``), built the same way by
the reference server and the simulators."""

from __future__ import annotations

from typing import Any

from conformance.contract.errors import STATUS_CODES


def success_body(data: Any, request_id: str, message: str = "成功") -> dict[str, Any]:
    return {"code": "OK", "message": message, "data": data, "requestId": request_id}


def page(items: list[Any], number: int, size: int, total: int | None = None) -> dict[str, Any]:
    """The contract's page object: page ``number`` (from 1) of ``items``, or ``items`` as that page of ``total``."""
    if total is None:
        total, items = len(items), items[(number - 1) * size : number * size]
    return {"page": number, "size": size, "total": total, "items": items}


def error_body(
    status: int,
    code: str | None,
    zh: str,
    en: str,
    request_id: str,
    *,
    errors: list[dict[str, str]] | None = None,
    retry_after: int | None = None,
) -> dict[str, Any]:
    """The error envelope: the code (the status's own when none is named), the Chinese message and its English,
    the field errors (at most 200) and ``retryAfter`` when given."""
    body: dict[str, Any] = {
        "code": code or STATUS_CODES.get(status, STATUS_CODES[400]),
        "message": zh,
        "messageEn": en or zh,
        "data": None,
        "requestId": request_id,
    }
    if errors:
        body["errors"] = errors[:200]
    if retry_after is not None:
        body["retryAfter"] = retry_after
    return body
