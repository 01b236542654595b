"""The change feed of the sharing data sets: the ``changes`` log read after a cursor.

A cursor is ``base64url("<data set>:<seq>:<mark>")`` + ``.`` + a truncated HMAC-SHA256 under a secret
kept in ``meta``: opaque, deterministic (the same position always gives the same cursor) and
tamper-evident; a cursor of another data set, one not issued here, or one beyond the log is
refused with a reason in Chinese (SHARE.IF.FUNC.4).

``<mark>`` is a short digest of the change the position follows (key, operation, time, body; empty at
the start of the feed): a cursor stands for *that* change, not just for a number. The feed is read
from committed, durable state only (``db.py``, "Durability and readers"), so a number a reader was
given is never reused; should the log still have gone back — a database restored from a backup, or
a cursor handed out by a server that served uncommitted changes — a cursor whose number is beyond the
log, or whose change is no longer the one it was issued for, is refused (400, reload from scratch)
instead of being answered 200 from a position that silently skips the changes now numbered below it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from conformance.reference.db import Database
from conformance.reference.errors import ApiError, bad_request

if TYPE_CHECKING:
    from conformance.reference.roles.sharing.data import DataSet


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


def encode_cursor(secret: bytes, ds: str, seq: int, mark: str = "") -> str:
    payload = f"{ds}:{seq}:{mark}".encode()
    mac = hmac.new(secret, payload, hashlib.sha256).hexdigest()[:16]
    return f"{_b64(payload)}.{mac}"


_HINT = "请不带 cursor 从头同步（重新全量装载）"


def _refused(zh: str, en: str, entry: str) -> ApiError:
    """400 for a cursor this platform cannot read from (``entry``: the message under ``/query/cursor``)."""
    return bad_request(zh, en, [{"path": "/query/cursor", "message": entry, "rule": "cursor"}])


def decode_cursor(secret: bytes, ds: DataSet, cursor: str) -> tuple[int, str]:
    """(change number, mark) a cursor stands for; 400 with a clear reason if it was not issued here for ``ds``."""
    try:
        payload_text, mac = cursor.split(".")
        payload = _unb64(payload_text)
        name, seq_text, mark = payload.decode().split(":")
        seq = int(seq_text)
    except (ValueError, UnicodeDecodeError):
        raise _refused(f"游标无效：不是本平台签发的增量同步游标，{_HINT}", "invalid cursor", "游标格式无效") from None
    expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()[:16]
    if not hmac.compare_digest(expected, mac):
        raise _refused(
            f"游标无效：校验不通过（已损坏、被修改或来自其他平台），{_HINT}", "cursor check failed", "游标校验不通过"
        )
    if name != ds.name:
        raise _refused(
            f"游标属于数据集“{name}”，不能用于“{ds.name}”（{ds.title}）的增量同步",
            "cursor of another data set",
            f"游标属于数据集“{name}”",
        )
    return seq, mark


def _mark(key: str, operation: str, changed_at: str, body: bytes | None) -> str:
    digest = hashlib.sha256(f"{key}\0{operation}\0{changed_at}\0".encode())
    digest.update(body or b"")
    return digest.hexdigest()[:12]


def change_mark(db: Database, ds: DataSet, seq: int) -> str | None:
    """The mark of change ``seq`` of ``ds`` in the committed log ("" for the start; None: no such change)."""
    if seq == 0:
        return ""
    row = db.one("SELECT key, operation, changed_at, body FROM changes WHERE seq = ? AND data_set = ?", seq, ds.name)
    return _mark(*row) if row else None


def cursor_at(db: Database, secret: bytes, ds: DataSet, seq: int) -> str:
    """The cursor of the position after change ``seq`` of ``ds`` (0: the start of the feed)."""
    return encode_cursor(secret, ds.name, seq, change_mark(db, ds, seq) or "")


def position(db: Database, secret: bytes, ds: DataSet, cursor: str) -> int:
    """The change number to read after; 400 for a cursor not issued here for ``ds``, and for one whose position is
    not in the committed log as it was issued (beyond its end, or its change gone or different): such a cursor
    would otherwise be answered from a position that silently skips changes."""
    seq, mark = decode_cursor(secret, ds, cursor)
    if seq < 0 or seq > max_seq(db):
        raise _refused(
            f"游标已失效：超出平台当前的变更序号（平台数据可能已重建或回退），{_HINT}",
            "cursor beyond the change log",
            "游标已失效",
        )
    if change_mark(db, ds, seq) != mark:
        raise _refused(
            f"游标已失效：游标所在位置的变更已不存在或已不同（平台数据可能已重建或回退），{_HINT}",
            "the change at the cursor's position is gone or different",
            "游标已失效",
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


def change(seq: int, key: str, operation: str, changed_at: str, record: Any) -> dict[str, Any]:
    """One change as the feed and the subscription notifications give it."""
    return {"seq": seq, "operation": operation, "key": key, "changedAt": changed_at, "record": record}


def max_seq(db: Database) -> int:
    """The highest change number of the committed log (every data set)."""
    return db.one("SELECT COALESCE(MAX(seq), 0) FROM changes")[0]
