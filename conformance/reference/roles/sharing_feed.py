"""The change feed of the sharing data sets: the ``changes`` log read after a cursor.

A cursor is ``base64url("<data set>:<seq>")`` + ``.`` + a truncated HMAC-SHA256 under a secret kept
in ``meta``: opaque, deterministic (the same position always gives the same cursor) and
tamper-evident; a cursor of another data set, one not issued here, or one beyond the log is
refused with a reason in Chinese (SHARE.IF.FUNC.4).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from conformance.reference.db import Database
from conformance.reference.errors import bad_request

if TYPE_CHECKING:
    from conformance.reference.roles.sharing_data import DataSet


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cursor_secret(db: Database) -> bytes:
    value = db.meta("sharing.cursor-secret")
    if value is None:
        value = secrets.token_hex(16)
        db.set_meta("sharing.cursor-secret", value)
    return value.encode()


def encode_cursor(secret: bytes, ds: str, seq: int) -> str:
    payload = f"{ds}:{seq}".encode()
    mac = hmac.new(secret, payload, hashlib.sha256).hexdigest()[:16]
    return f"{_b64(payload)}.{mac}"


def decode_cursor(secret: bytes, ds: DataSet, cursor: str, max_seq: int) -> int:
    """The change sequence number a cursor stands for; 400 with a clear reason otherwise."""
    hint = "请不带 cursor 从头同步（重新全量装载）"
    try:
        payload_text, mac = cursor.split(".")
        payload = _unb64(payload_text)
        name, _, seq_text = payload.decode().rpartition(":")
        seq = int(seq_text)
    except (ValueError, UnicodeDecodeError):
        raise bad_request(
            f"游标无效：不是本平台签发的增量同步游标，{hint}",
            "invalid cursor",
            [{"path": "/query/cursor", "message": "游标格式无效", "rule": "cursor"}],
        ) from None
    expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()[:16]
    if not hmac.compare_digest(expected, mac):
        raise bad_request(
            f"游标无效：校验不通过（已损坏、被修改或来自其他平台），{hint}",
            "cursor check failed",
            [{"path": "/query/cursor", "message": "游标校验不通过", "rule": "cursor"}],
        )
    if name != ds.name:
        raise bad_request(
            f"游标属于数据集“{name}”，不能用于“{ds.name}”（{ds.title}）的增量同步",
            "cursor of another data set",
            [{"path": "/query/cursor", "message": f"游标属于数据集“{name}”", "rule": "cursor"}],
        )
    if seq < 0 or seq > max_seq:
        raise bad_request(
            f"游标已失效：超出平台当前的变更序号（平台数据可能已重建），{hint}",
            "cursor beyond the change log",
            [{"path": "/query/cursor", "message": "游标已失效", "rule": "cursor"}],
        )
    return seq


def read_changes(
    db: Database, ds: DataSet, after: int, limit: int, scope: str | None = None
) -> list[tuple[int, str, str, str, bytes | None]]:
    """Up to ``limit`` changes of a data set after ``after``: (seq, key, operation, changedAt, body); with ``scope``
    (a division prefix) only the changes of records in that scope (``sharing_scope``, SHARE.SEC.ACCESS.2)."""
    if scope is None:
        return db.all(
            "SELECT seq, key, operation, changed_at, body FROM changes WHERE data_set = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            ds.name,
            after,
            limit,
        )
    column = f"substr(s.division, 1, {len(scope)})" if len(scope) < 6 else "s.division"
    return db.all(
        "SELECT c.seq, c.key, c.operation, c.changed_at, c.body FROM changes c CROSS JOIN sharing_scope s "
        f"ON s.data_set = c.data_set AND s.key = c.key WHERE c.data_set = ? AND c.seq > ? AND {column} = ? "
        "ORDER BY c.seq LIMIT ?",
        ds.name,
        after,
        scope,
        limit,
    )


def max_seq(db: Database) -> int:
    return db.one("SELECT COALESCE(MAX(seq), 0) FROM changes")[0]
