"""Outgoing calls of the reference server (report-backs, e-licence aggregation, supervision
reporting, SMS, corrected-report re-push): a durable outbox with retries.

A call is enqueued in the same transaction as the work that causes it, so it is never lost
and never sent for work that did not happen. A background task delivers pending calls in
order per target; a 5xx answer, a timeout or a refused connection is retried with the
**same message id** and exponential back-off with jitter (honouring ``Retry-After``), up to
``MAX_ATTEMPTS``; a 2xx (including a duplicate receipt) ends it; another 4xx fails it.

Look-ups (GET calls whose answer the licensing role uses: unified identity T5-3 / T5-4, the item
library T5-1 / T5-2, the inspection report T6-1) are not messages: they go through a second,
non-blocking queue (``lookup``), are tried a few times and their answers kept in ``lookups``.

Timing can be shortened for tests (and for a quick demo) through the environment, read at each use:
``TZSB_OUTBOX_BASE_DELAY`` (s, first back-off), ``TZSB_OUTBOX_MAX_DELAY`` (s), ``TZSB_OUTBOX_TIMEOUT``
(s, read timeout of one call), ``TZSB_OUTBOX_MAX_ATTEMPTS``.

Client-side defect switches (``defects/declared.py``): ``no-retry`` gives up after the first failure,
``retry-new-message-id`` sends each retry under a new message id.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from typing import Any

import orjson
import requests

from conformance.binding.callbacks import CallbackEdge
from conformance.check.limits import loads_bounded
from conformance.client.http import Edge, TargetResponse, send_bounded, static_key
from conformance.client.token import read_token, token_form, token_path
from conformance.reference import outbound
from conformance.reference.context import CALLBACK_TARGETS_KEY, CALLBACKS_KEY
from conformance.reference.defects import D
from conformance.reference.server_state import RoleServer, setting

log = logging.getLogger("tzsb.reference.outbox")

MAX_ATTEMPTS = 8
BASE_DELAY = 0.5
MAX_DELAY = 30.0
TIMEOUT = (3.05, 10)
#: The client each sending role uses towards its counterparts (conformance/reference/clients.json).
SENDER_CLIENT = {
    "licensing": "licensing-system",
    "inspection": "inspection-system",
    "gov-platform": "gov-platform",
    "sharing": "provincial-platform",  # a provincial sharing platform reporting up (roles/sharing/upstream.py)
}

DDL = """
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT NULL, target TEXT NOT NULL, method TEXT NOT NULL,
  path TEXT NOT NULL, body BLOB, message_id TEXT, topic TEXT, created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending', last_status INTEGER, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, next_at);
CREATE INDEX IF NOT EXISTS outbox_topic ON outbox (topic);
CREATE TABLE IF NOT EXISTS lookups (
  id INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT NULL, target TEXT NOT NULL, path TEXT NOT NULL, params BLOB,
  kind TEXT NOT NULL, topic TEXT, created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', last_status INTEGER, result BLOB);
CREATE INDEX IF NOT EXISTS lookups_pending ON lookups (status, next_at);
"""
LOOKUP_ATTEMPTS = 3


def base_delay() -> float:
    return setting("TZSB_OUTBOX_BASE_DELAY", BASE_DELAY)


def max_delay() -> float:
    return setting("TZSB_OUTBOX_MAX_DELAY", MAX_DELAY)


def timeout() -> tuple[float, float]:
    read = setting("TZSB_OUTBOX_TIMEOUT", TIMEOUT[1])
    return (min(TIMEOUT[0], read), read)


def max_attempts() -> int:
    return int(setting("TZSB_OUTBOX_MAX_ATTEMPTS", MAX_ATTEMPTS))


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next try after ``attempts`` failed ones: exponential with up to 20 % jitter, at least Retry-After."""
    delay = min(max_delay(), base_delay() * 2 ** (attempts - 1)) * (1 + random.uniform(0.0, 0.2))
    return max(delay, retry_after or 0.0)


def setup(server: RoleServer) -> None:
    server.db.ensure(DDL)
    server.add_background(run, run_lookups)


def enqueue(
    server: RoleServer,
    target: str,
    path: str,
    body: Any,
    *,
    message_id: str | None = None,
    topic: str | None = None,
    method: str = "POST",
    delay: float = 0.0,
) -> int:
    """Queue a call to a counterpart role, or to an absolute base URL (e.g. a callback's origin);
    joins the caller's transaction if there is one. The message id travels as ``X-Message-Id``."""
    with server.db.write() as c:
        cur = c.execute(
            "INSERT INTO outbox (sender, target, method, path, body, message_id, topic, created_at, next_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                server.role,
                target,
                method,
                path,
                orjson.dumps(body),
                message_id,
                topic,
                time.time(),
                time.time() + delay,
            ),
        )
        return int(cur.lastrowid or 0)


def lookup(
    server: RoleServer, target: str, path: str, params: dict[str, Any] | None, *, kind: str, topic: str | None = None
) -> int:
    """Queue a GET look-up at a counterpart (not blocking the messages); its answer lands in ``lookups``."""
    with server.db.write() as c:
        cur = c.execute(
            "INSERT INTO lookups (sender, target, path, params, kind, topic, created_at, next_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (server.role, target, path, orjson.dumps(params or {}), kind, topic, time.time(), time.time()),
        )
        return int(cur.lastrowid or 0)


def calls(server: RoleServer, topic: str | None = None) -> list[dict[str, Any]]:
    """Outbox entries (for tests and the workflow driver's read-back)."""
    return server.db.records(
        "SELECT id, target, method, path, message_id, topic, attempts, status, last_status, last_error "
        "FROM outbox WHERE (? IS NULL OR topic = ?) ORDER BY id",
        topic,
        topic,
    )


class _Tokens:
    def __init__(self) -> None:
        self.cache: dict[str, tuple[str, float]] = {}

    def get(self, base: str, client: str, session: requests.Session, edge: Edge | None = None) -> str:
        hit = self.cache.get(base)
        if hit and hit[1] > time.time() + 30:
            return hit[0]
        if static_key(base) or getattr(edge, "static_key", False):  # the caller's key itself: no token exchange
            return f"{client}-secret"
        r = _bounded(
            session,
            "POST",
            f"{base}{token_path()}",
            edge=edge,
            data=token_form(client, f"{client}-secret"),
        )
        token = read_token(r.status, r.content)
        if token is None:
            raise ValueError(f"no token from {base}: {r.status} {r.error or ''}".strip())
        self.cache[base] = (token.value, token.expires_at)
        return token.value


def _base_url(server: RoleServer, target: str) -> str | None:
    return target if target.startswith(("http://", "https://")) else server.counterparts.get(target)


def _callback_edge(server: RoleServer, target: str, base: str) -> Edge | None:
    """A callback target's dialect when the server serves a binding (the receiver's token request and the callback
    in the vendor's form); None otherwise, or for a counterpart role (its edge is registered for its URL)."""
    callbacks = server.extras.get(CALLBACKS_KEY)
    operation_id = (server.extras.get(CALLBACK_TARGETS_KEY) or {}).get(target)
    return CallbackEdge(callbacks, base, operation_id) if callbacks is not None and operation_id else None


def _call(
    server: RoleServer,
    target: str,
    method: str,
    path: str,
    session: requests.Session,
    tokens: _Tokens,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> TargetResponse | str:
    """One request to a counterpart under the sending role's token (dropped after a 401), or why none was answered."""
    base = _base_url(server, target)
    if not base:
        return f"no counterpart configured for {target}"
    if not outbound.allowed(base):
        return outbound.refusal(base)
    try:
        edge = _callback_edge(server, target, base)
        token = tokens.get(base, SENDER_CLIENT.get(server.role, "harness"), session, edge)
        auth = {"Authorization": f"Bearer {token}", **(headers or {})}
        r = _bounded(session, method, base + path, edge=edge, headers=auth, **kw)
    except (requests.RequestException, ValueError, KeyError) as exc:  # ValueError: an unusable token answer
        return f"{type(exc).__name__}: {exc}"[:300]
    if r.status is None:
        return (r.error or "no answer")[:300]
    if r.status == 401:
        tokens.cache.pop(base, None)
    return r


def _refused(status: int | None) -> bool:
    """A 4xx that a retry does not change: not 408 or 429, nor 401 (the token was dropped: the next attempt asks for a
    fresh one; a credential the counterpart keeps refusing ends at the attempts' bound)."""
    return status is not None and 400 <= status < 500 and status not in (401, 408, 429)


def _send(
    server: RoleServer, row: tuple[Any, ...], session: requests.Session, tokens: _Tokens
) -> tuple[int | None, str | None, float | None]:
    _id, target, method, path, body, message_id = row[:6]
    headers = {"Content-Type": "application/json", **({"X-Message-Id": message_id} if message_id else {})}
    r = _call(server, target, method, path, session, tokens, headers, data=body)
    if isinstance(r, str):
        return None, r, None
    text = r.content[:300].decode("utf-8", "replace")
    return r.status, None if r.ok else text, outbound.retry_after_seconds(r.header("Retry-After"))


async def _drain(server: RoleServer, stop: asyncio.Event, table: str, columns: str, step: Any) -> None:
    """Until ``stop`` is set: the due pending rows of ``table`` (``columns``), 20 at a time, through ``step``."""
    session = requests.Session()
    tokens = _Tokens()
    while not stop.is_set():
        rows = server.db.all(
            f"SELECT {columns} FROM {table} WHERE sender = ? AND status = 'pending' AND next_at <= ? ORDER BY id LIMIT 20",
            server.role,
            time.time(),
        )
        if rows:
            await step(rows, session, tokens)
        else:
            await asyncio.sleep(0.05)


async def run(server: RoleServer, stop: asyncio.Event) -> None:
    """Deliver pending calls until ``stop`` is set."""

    async def step(rows: list[Any], session: requests.Session, tokens: _Tokens) -> None:
        blocked: set[str] = set()
        for row in rows:
            if row[1] in blocked:  # keep the order per target: a failing call holds back the later ones
                continue
            if row[6] > 0 and D.RETRY_NEW_MESSAGE_ID in server.defects and row[5]:
                row = _renamed(server, row)  # the defect: every retry is sent as a new message
            status, error, wait = await asyncio.to_thread(_send, server, row, session, tokens)
            attempts = row[6] + 1
            if status is not None and 200 <= status < 300:
                state, next_at = "sent", time.time()
            elif _refused(status) or attempts >= max_attempts() or D.NO_RETRY in server.defects:
                state, next_at = "failed", time.time()
            else:
                state, next_at = "pending", time.time() + backoff(attempts, wait)
                blocked.add(row[1])
            with server.db.write() as c:
                c.execute(
                    "UPDATE outbox SET attempts = ?, status = ?, next_at = ?, last_status = ?, last_error = ? WHERE id = ?",
                    (attempts, state, next_at, status, error, row[0]),
                )
            if state == "failed":
                log.warning("outbox call %s to %s %s failed: %s %s", row[0], row[1], row[3], status, error)

    await _drain(server, stop, "outbox", "id, target, method, path, body, message_id, attempts", step)


def _renamed(server: RoleServer, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """``retry-new-message-id``: the retry carries a fresh message id (body and header)."""
    body = orjson.loads(row[4]) if row[4] else None
    new_id = f"lic-{uuid.uuid4().hex}"
    if isinstance(body, dict) and "messageId" in body:
        body["messageId"] = new_id
    data = orjson.dumps(body)
    with server.db.write() as c:
        c.execute("UPDATE outbox SET body = ?, message_id = ? WHERE id = ?", (data, new_id, row[0]))
    return (row[0], row[1], row[2], row[3], data, new_id, row[6])


def _get(
    server: RoleServer, row: tuple[Any, ...], session: requests.Session, tokens: _Tokens
) -> tuple[int | None, Any]:
    _id, target, path, params = row[:4]
    r = _call(server, target, "GET", path, session, tokens, params=orjson.loads(params) if params else None)
    if isinstance(r, str):
        log.info("look-up %s %s failed: %s", target, path, r)
        return None, None
    try:
        body = loads_bounded(r.content)
    except ValueError:  # not JSON, or beyond the bounds (JSONLimitError is a ValueError)
        body = None
    return r.status, body.get("data") if isinstance(body, dict) else None


def _bounded(session: requests.Session, method: str, url: str, edge: Edge | None = None, **kw: Any) -> TargetResponse:
    """One request to a counterpart whose answer is read within the size cap and the deadline (a gzip bomb or a
    trickling body from a counterpart never holds or swells the server); ``edge``: a callback's dialect."""
    prepared = session.prepare_request(requests.Request(method, url, **kw))
    return send_bounded(session, prepared, timeout=timeout(), verify=session.verify, edge=edge)


async def run_lookups(server: RoleServer, stop: asyncio.Event) -> None:
    """Perform pending look-ups until ``stop`` is set (a failing one never holds back the others)."""

    async def step(rows: list[Any], session: requests.Session, tokens: _Tokens) -> None:
        for row in rows:
            status, data = await asyncio.to_thread(_get, server, row, session, tokens)
            attempts = row[4] + 1
            if status is not None and (200 <= status < 300 or status == 404):
                state = "done" if status != 404 else "not-found"
            elif attempts >= LOOKUP_ATTEMPTS or _refused(status):
                state = "failed"
            else:
                state = "pending"
            with server.db.write() as c:
                c.execute(
                    "UPDATE lookups SET attempts = ?, status = ?, next_at = ?, last_status = ?, result = ? WHERE id = ?",
                    (
                        attempts,
                        state,
                        time.time() + backoff(attempts, None),
                        status,
                        orjson.dumps(data) if data is not None else None,
                        row[0],
                    ),
                )

    await _drain(server, stop, "lookups", "id, target, path, params, attempts", step)
