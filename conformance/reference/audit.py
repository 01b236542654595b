"""Append-only, hash-chained audit log (DB42/T 2279-2024 §4.7 e): every operation on archived
dossiers and aggregated (shared) data is traceable.

Each entry's hash covers the previous entry's hash, so changing or removing an entry breaks the
chain from there on (``verify_chain``). Entries of write operations are stored in the same
transaction as the write; entries of reads are buffered and flushed every few hundred
milliseconds, so a read never waits for a disk sync.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from conformance.contract.openapi import Operation
from conformance.reference.db import Database

GENESIS = "0" * 64
#: The fields of an entry its hash covers, in order (``role`` and ``requestId`` may be absent).
HASHED = ("seq", "time", "clientId", "role", "action", "resource", "outcome", "requestId")


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + orjson.dumps([entry.get(k) for k in HASHED])).hexdigest()


class AuditLog:
    def __init__(self, db: Database, *, broken_chain: bool = False, disabled: bool = False) -> None:
        self.db = db
        row = db.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        self.seq, self.last_hash = (row[0], row[1]) if row else (0, GENESIS)
        self.buffer: list[tuple[Any, ...]] = []
        self.broken_chain = broken_chain
        self.disabled = disabled

    def append(
        self,
        *,
        time: str,
        client_id: str,
        role: str | None,
        action: str,
        resource: str,
        outcome: str,
        request_id: str | None,
        durable: bool,
    ) -> None:
        if self.disabled:
            return
        self.seq += 1
        values = (self.seq, time, client_id, role, action, resource, outcome, request_id)
        prev = self.last_hash if not (self.broken_chain and self.seq % 7 == 0) else GENESIS
        digest = entry_hash(prev, dict(zip(HASHED, values, strict=True)))
        self.last_hash = digest
        self.buffer.append((*values, prev, digest))
        if durable:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        rows, self.buffer = self.buffer, []
        with self.db.write() as c:
            c.executemany(
                "INSERT INTO audit (seq, time, client_id, role, action, resource, outcome, request_id, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def query(
        self, *, start: str | None, end: str | None, action: str | None, offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        self.flush()
        where, args = ["1 = 1"], []
        if start:
            where.append("time >= ?")
            args.append(start)
        if end:
            where.append("time <= ?")
            args.append(end)
        if action:
            where.append("action = ?")
            args.append(action)
        cond = " AND ".join(where)
        total = self.db.one(f"SELECT COUNT(*) FROM audit WHERE {cond}", *args)[0]
        rows = self.db.records(
            f"SELECT seq, time, client_id, role, action, resource, outcome, request_id, prev_hash, hash "
            f"FROM audit WHERE {cond} ORDER BY seq LIMIT ? OFFSET ?",
            *args,
            limit,
            offset,
        )
        return total, [{k: v for k, v in r.items() if v is not None} for r in rows]


def verify_chain(entries: list[dict[str, Any]], prev_hash: str | None = None) -> int | None:
    """Index of the first entry whose hash does not follow from its predecessor, or None if intact."""
    for i, e in enumerate(entries):
        expected_prev = prev_hash if prev_hash is not None else e["prevHash"]
        if e["prevHash"] != expected_prev or entry_hash(e["prevHash"], e) != e["hash"]:
            return i
        prev_hash = e["hash"]
    return None


AUDITED_PREFIXES = ("/api/v1/dossiers", "/driver/v1/cases")


def is_audited(op: Operation) -> bool:
    """Operations on aggregated (shared) data and on archived dossiers (DB42/T 2279-2024 §4.7 e)."""
    if op.operation_id in ("issueToken", "getHealth"):
        return False
    return op.role == "sharing" or bool(op.data_set) or op.path.startswith(AUDITED_PREFIXES)
