"""Outgoing calls of the reference server (report-backs, e-licence aggregation, supervision
reporting, SMS, corrected-report re-push): a durable outbox with retries.

A call is enqueued in the same transaction as the work that causes it, so it is never lost
and never sent for work that did not happen. A background task delivers pending calls in
order per target; a 5xx answer, a timeout or a refused connection is retried with the
**same message id** and exponential back-off (honouring ``Retry-After``), up to
``MAX_ATTEMPTS``; a 2xx (including a duplicate receipt) ends it; another 4xx fails it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson
import requests

from conformance.reference.server_state import RoleServer

log = logging.getLogger("tzsb.reference.outbox")

MAX_ATTEMPTS = 8
BASE_DELAY = 0.5
MAX_DELAY = 30.0
TIMEOUT = (3.05, 10)
#: The client each sending role uses towards its counterparts (conformance/reference/clients.json).
SENDER_CLIENT = {"licensing": "licensing-system", "inspection": "inspection-system", "gov-platform": "gov-platform"}

DDL = """
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT NULL, target TEXT NOT NULL, method TEXT NOT NULL,
  path TEXT NOT NULL, body BLOB, message_id TEXT, topic TEXT, created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending', last_status INTEGER, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, next_at);
CREATE INDEX IF NOT EXISTS outbox_topic ON outbox (topic);
"""


def setup(server: RoleServer) -> None:
    server.db.ensure(DDL)
    workers = server.extras.setdefault("background", [])
    if run not in workers:
        workers.append(run)


def enqueue(server: RoleServer, target: str, path: str, body: Any, *, message_id: str | None = None,
            topic: str | None = None, method: str = "POST", delay: float = 0.0) -> int:
    """Queue a call to a counterpart role, or to an absolute base URL (e.g. a callback's origin);
    joins the caller's transaction if there is one. The message id travels as ``X-Message-Id``."""
    with server.db.write() as c:
        cur = c.execute("INSERT INTO outbox (sender, target, method, path, body, message_id, topic, created_at, next_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (server.role, target, method, path, orjson.dumps(body), message_id, topic, time.time(),
                         time.time() + delay))
        return int(cur.lastrowid or 0)


def calls(server: RoleServer, topic: str | None = None) -> list[dict[str, Any]]:
    """Outbox entries (for tests and the workflow driver's read-back)."""
    rows = server.db.all("SELECT id, target, method, path, message_id, topic, attempts, status, last_status, last_error "
                         "FROM outbox WHERE (? IS NULL OR topic = ?) ORDER BY id", topic, topic)
    keys = ("id", "target", "method", "path", "messageId", "topic", "attempts", "status", "lastStatus", "lastError")
    return [dict(zip(keys, r, strict=True)) for r in rows]


class _Tokens:
    def __init__(self) -> None:
        self.cache: dict[str, tuple[str, float]] = {}

    def get(self, base: str, client: str, session: requests.Session) -> str:
        hit = self.cache.get(base)
        if hit and hit[1] > time.time() + 30:
            return hit[0]
        r = session.post(f"{base}/oauth/token", data={"grant_type": "client_credentials", "client_id": client,
                                                      "client_secret": f"{client}-secret"}, timeout=TIMEOUT)
        r.raise_for_status()
        data = r.json()
        self.cache[base] = (data["access_token"], time.time() + int(data.get("expires_in", 600)))
        return data["access_token"]


def _send(server: RoleServer, row: tuple[Any, ...], session: requests.Session, tokens: _Tokens) -> tuple[int | None, str | None, float | None]:
    _id, target, method, path, body = row[:5]
    base = target if target.startswith(("http://", "https://")) else server.counterparts.get(target)
    if not base:
        return None, f"no counterpart configured for {target}", None
    try:
        token = tokens.get(base, SENDER_CLIENT.get(server.role, "harness"), session)
        r = session.request(method, base + path, data=body, timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                     **({"X-Message-Id": row[5]} if row[5] else {})})
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300], None
    if r.status_code == 401:
        tokens.cache.pop(base, None)
    retry_after = r.headers.get("Retry-After")
    wait = float(retry_after) if retry_after and retry_after.isdigit() else None
    return r.status_code, None if r.ok else r.text[:300], wait


async def run(server: RoleServer, stop: asyncio.Event) -> None:
    """Deliver pending calls until ``stop`` is set."""
    session = requests.Session()
    tokens = _Tokens()
    while not stop.is_set():
        rows = server.db.all("SELECT id, target, method, path, body, message_id, attempts FROM outbox WHERE sender = ? AND status = 'pending' "
                             "AND next_at <= ? ORDER BY id LIMIT 20", server.role, time.time())
        if not rows:
            await asyncio.sleep(0.05)
            continue
        blocked: set[str] = set()
        for row in rows:
            if row[1] in blocked:  # keep the order per target: a failing call holds back the later ones
                continue
            status, error, wait = await asyncio.to_thread(_send, server, row, session, tokens)
            attempts = row[6] + 1
            if status is not None and 200 <= status < 300:
                state, next_at = "sent", time.time()
            elif (status is not None and 400 <= status < 500 and status not in (408, 429)) or attempts >= MAX_ATTEMPTS:
                state, next_at = "failed", time.time()
            else:
                delay = min(MAX_DELAY, BASE_DELAY * 2 ** (attempts - 1))
                state, next_at = "pending", time.time() + max(delay, wait or 0.0)
                blocked.add(row[1])
            with server.db.write() as c:
                c.execute("UPDATE outbox SET attempts = ?, status = ?, next_at = ?, last_status = ?, last_error = ? WHERE id = ?",
                          (attempts, state, next_at, status, error, row[0]))
            if state == "failed":
                log.warning("outbox call %s to %s %s failed: %s %s", row[0], row[1], row[3], status, error)
