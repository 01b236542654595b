"""Records a caller registers under an id of its own choosing (grants, openings, permission changes, suspensions):
the same id with the same content is answered with the stored record (200), with other content 409 — the
``x-idempotent-by`` rule of their operations in ``sharing.yaml``."""

from __future__ import annotations

from typing import Any

from conformance.contract.errors import ErrorCode
from conformance.reference.context import Ctx, Reply
from conformance.reference.db import loads
from conformance.reference.errors import conflict
from conformance.serving import idempotency


def digest(body: dict[str, Any], *, ignore: tuple[str, ...] = ()) -> str:
    """The fingerprint two registrations are compared by (fields the server fills in left out)."""
    return idempotency.fingerprint({k: v for k, v in body.items() if k not in ignore})


def stored(ctx: Ctx, table: str, key_column: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """``(digest, record)`` registered under ``key`` in ``table``, or None."""
    row = ctx.db.one(f"SELECT digest, body FROM {table} WHERE {key_column} = ?", key)
    return (row[0], loads(row[1])) if row is not None else None


def replayed(
    ctx: Ctx,
    table: str,
    key_column: str,
    key: str,
    fingerprint: str,
    what: tuple[str, str],
    code: str = ErrorCode.CONFLICT,
) -> Reply | None:
    """The stored record again (200) when ``key`` was registered with the same content; 409 ``DUPLICATE`` when with
    other content; None when ``key`` is new. ``what``: the record's name (Chinese, English) for the message."""
    found = stored(ctx, table, key_column, key)
    if found is None:
        return None
    if found[0] != fingerprint:
        zh, en = what
        raise conflict(f"{zh}标识 {key} 已用于内容不同的{zh}", f"{en} id {key} used for another {en}", code)
    return Reply(found[1], status=200)
