"""Push (UPLOAD / UPDATE / DELETE per record, idempotent by message id), subscriptions and the
delivery of change notifications to the subscribers' callback URLs.

Push: a message that breaks the contract — including any record that breaks its record schema —
is answered 400 by the pipeline before anything is applied (as the contract says); within a
valid message each record is checked against the business rules and rejected on its own in the
receipt (key ≠ record key, UPDATE or DELETE of a record that does not exist, ``updatedAt``
older than the stored record's: an out-of-order or replayed update never overwrites newer data,
SHARE.IF.FUNC.10). UPLOAD of a key that already exists is applied as an update (and logged as
UPDATE in the change feed: the feed says what happened to the platform's copy).

Notifications: a background loop turns new changes of each active subscription's data set
(filtered by its ``operations`` and ``division``) into notifications of up to 100 changes,
stored with their message id before the first attempt, and POSTs them to the callback URL in
order per subscription; a non-2xx answer, a timeout or a refused connection is retried with
the **same message id and body** (SHARE.SEC.RETRY.1), exponential back-off with jitter — the n-th
retry after ``BASE_DELAY · 2^(n-1)`` seconds (at most ``MAX_DELAY``) times a random factor in
[0.8, 1.2] — and never before a ``Retry-After`` (seconds or HTTP date) of a 429 / 503 / any answer
(SHARE.SEC.RETRY.3), at most ``MAX_ATTEMPTS`` times; then the notification is marked failed (kept
for manual resending) and the next one is sent. A 2xx ends it: nothing is sent again. The loop
sleeps until the next notification is due (at most ``IDLE``), so the waits are kept to within a
few milliseconds. Records in notifications are masked per the subscriber's grants and limited to
the subscriber's divisions (SHARE.SEC.ACCESS.2). A server serving a binding (``serve --binding``) sends each
notification in the binding's dialect (``conformance/binding/callbacks.py``); what is stored and retried is the
canonical one.

Feed defect: ``changes-seq-reused`` (only each record's latest change kept, numbers reused;
``sharing_data.compact_changes``). Sender defects (``defects/declared.py``): ``subscription-retry-new-message-id``
(each retry under a new message id), ``subscription-resend-after-receipt`` (one more send after the first 2xx),
``subscription-ignores-retry-after``, ``subscription-retry-fixed-interval`` (every 0.2 s, no back-off,
no Retry-After).
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from conformance.binding.callbacks import Callbacks
from conformance.binding.dialect import Message
from conformance.contract.datasets import notification
from conformance.contract.openapi import Operation
from conformance.reference import outbound
from conformance.reference.context import CALLBACKS_KEY, Ctx, Handler, Reply, now_iso, operation
from conformance.reference.db import loads
from conformance.reference.defects import D
from conformance.reference.errors import bad_request, conflict, forbidden, not_found
from conformance.reference.roles.messages import once
from conformance.reference.roles.sharing import access, feed, upstream
from conformance.reference.roles.sharing import data as sd
from conformance.reference.server_state import RoleServer

log = logging.getLogger("tzsb.reference.sharing")

MAX_ATTEMPTS = 8
BASE_DELAY = 0.5
MAX_DELAY = 60.0
TIMEOUT = (3.05, 10)  # the contract: the subscriber answers within 10 s
BATCH = 100
IDLE = 0.2
FIXED_INTERVAL = 0.2  # the defect subscription-retry-fixed-interval

DDL = """
CREATE TABLE IF NOT EXISTS sharing_subscriptions (
  id TEXT PRIMARY KEY, client_id TEXT NOT NULL, data_set TEXT NOT NULL, callback_url TEXT NOT NULL,
  operations TEXT, division TEXT, created_at TEXT NOT NULL, status TEXT NOT NULL, after_seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sharing_subscriptions_by_client ON sharing_subscriptions (client_id, data_set, callback_url);
CREATE TABLE IF NOT EXISTS sharing_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT, subscription_id TEXT NOT NULL, message_id TEXT NOT NULL, body BLOB NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
  last_status INTEGER, last_error TEXT);
CREATE INDEX IF NOT EXISTS sharing_notifications_pending ON sharing_notifications (status, subscription_id, id);
"""


def setup(server: RoleServer) -> None:
    server.db.ensure(DDL)
    server.add_background(deliver)


def _state(server: RoleServer) -> access.SharingState:
    return server.extras["sharing"]


# ---------------------------------------------------------------------------- push


def _apply(ctx: Ctx, ds: sd.DataSet, body: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    at = now_iso()
    results: list[dict[str, Any]] = []
    accepted = 0
    for i, item in enumerate(body["records"]):
        op, key, record = item["operation"], item["key"], item.get("record")
        problem: tuple[str, str] | None = None  # (where under /records/i, what)
        exists, updated = sd.live_updated(db, ds, key)
        if op == "DELETE":
            if not exists:
                problem = "key", f"{ds.title}记录“{key}”不存在或已删除，不能删除"
        elif not isinstance(record, dict):
            problem = "record", f"{op} 须附带记录"
        elif record.get(ds.key) != key:
            problem = "key", f"主键“{key}”与记录的 {ds.key}“{record.get(ds.key)}”不一致"[:300]
        elif op == "UPDATE" and not exists:
            problem = "key", f"{ds.title}记录“{key}”不存在，不能更新（新记录用 UPLOAD）"
        elif (
            exists
            and updated is not None
            and isinstance(record.get("updatedAt"), str)
            and sd.instant(record["updatedAt"]) < updated
        ):
            problem = "record/updatedAt", "更新时间早于平台已存记录的更新时间：较旧的数据不覆盖较新的数据"
        if problem is not None:
            errors = [{"path": f"/records/{i}/{problem[0]}", "message": problem[1]}]
            results.append({"index": i, "key": key, "status": "rejected", "errors": errors})
            continue
        compact = ctx.defect(D.CHANGES_SEQ_REUSED)
        if op == "DELETE":
            sd.remove(db, ds, key, at, compact=compact)
        else:
            sd.store(db, ds, key, _with_provider(ctx, body, record), at, compact=compact)  # type: ignore[arg-type]
        accepted += 1
        results.append({"index": i, "key": key, "status": "accepted"})
    return {
        "messageId": body["messageId"],
        "receivedAt": at,
        "duplicate": False,
        "accepted": accepted,
        "rejected": len(results) - accepted,
        "results": results,
    }


def _with_provider(ctx: Ctx, body: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """A pushed record names its providing subject (SHARE.MECH.SUBJECT.1): its own ``provider`` if the pusher gave
    one, else the sender's registered organisation (clients.json ``org``) with the push's ``source`` system."""
    org = ctx.client.org if ctx.client is not None else None
    if record.get("provider") or not org:
        return record
    return {
        **record,
        "provider": {
            "uscc": org["uscc"],
            "name": org["name"],
            "division": body.get("sourceDivision") or org["division"],
            "system": body.get("source") or org["system"],
        },
    }


def _received(ctx: Ctx, ds: sd.DataSet, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a push and, on a provincial platform, queue the report of its records up (``upstream.py``)."""
    receipt = upstream.unapplied(ctx, body) or _apply(ctx, ds, body)
    upstream.forward(ctx, ds, body, receipt)
    return receipt


def push_handler(op: Operation, ds: sd.DataSet) -> Handler:
    async def push(ctx: Ctx) -> Reply:
        body = ctx.body
        sender = ctx.client.id if ctx.client else "anonymous"
        reply = await once(ctx, f"sharing.push.{ds.name}.{sender}", body, lambda: (200, _received(ctx, ds, body)))
        _state(ctx.server).wake()
        return reply

    return push


# ---------------------------------------------------------------------------- subscriptions

_SUB_COLUMNS = "id, client_id, data_set, callback_url, operations, division, created_at, status"


def _subscription(row: tuple[Any, ...]) -> dict[str, Any]:
    sid, _client, data_set, url, operations, division, created, status = row[:8]
    out: dict[str, Any] = {"subscriptionId": sid, "dataSet": data_set, "callbackUrl": url}
    if operations:
        out["operations"] = loads(operations)
    if division:
        out["division"] = division
    out.update(createdAt=created, status=status)
    return out


def subscribe_handler(op: Operation, ds: sd.DataSet) -> Handler:
    async def subscribe(ctx: Ctx) -> Reply:
        body = ctx.body
        client = ctx.client.id if ctx.client else "anonymous"
        if body["dataSet"] != ds.name:
            raise bad_request(
                f"dataSet 须为“{ds.name}”",
                f"dataSet must be {ds.name}",
                [{"path": "/dataSet", "message": f"应为“{ds.name}”", "rule": "const"}],
            )
        url = body["callbackUrl"]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request(
                "回调地址须为 http 或 https 绝对地址",
                "callbackUrl must be an absolute http(s) URL",
                [{"path": "/callbackUrl", "message": "回调地址须为 http 或 https 绝对地址", "rule": "scheme"}],
            )
        division = body.get("division")
        if division and "division" not in ds.properties:
            raise bad_request(
                f"{ds.title}记录没有行政区划字段，不能按区划订阅",
                f"{ds.name} records have no division",
                [{"path": "/division", "message": "该数据集不支持按区划订阅", "rule": "division"}],
            )
        operations = body.get("operations")
        row = ctx.db.one(
            f"SELECT {_SUB_COLUMNS} FROM sharing_subscriptions WHERE client_id = ? AND data_set = ? "
            "AND callback_url = ? AND status = 'active'",
            client,
            ds.name,
            url,
        )
        if row is not None:
            existing = _subscription(row)
            if set(existing.get("operations") or ()) == set(operations or ()) and existing.get("division") == division:
                return Reply(existing, status=200)
            raise conflict(
                f"该回调地址已有条件不同的有效订阅（{existing['subscriptionId']}），请先取消",
                "an active subscription with other conditions exists for this callback URL",
            )
        sid = f"sub-{secrets.token_hex(8)}"
        with ctx.db.write() as c:
            c.execute(
                "INSERT INTO sharing_subscriptions (id, client_id, data_set, callback_url, operations, division, "
                "created_at, status, after_seq) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?)",
                (
                    sid,
                    client,
                    ds.name,
                    url,
                    orjson.dumps(operations).decode() if operations else None,
                    division,
                    now_iso(),
                    feed.max_seq(ctx.db),
                ),
            )
        row = ctx.db.one(f"SELECT {_SUB_COLUMNS} FROM sharing_subscriptions WHERE id = ?", sid)
        return Reply(_subscription(row), status=201, headers={"Location": f"{ctx.base_url}/api/v1/subscriptions/{sid}"})

    return subscribe


def _own_subscription(ctx: Ctx) -> tuple[Any, ...]:
    sid = ctx.path["subscriptionId"]
    client = ctx.client.id if ctx.client else "anonymous"
    row = ctx.db.one(f"SELECT {_SUB_COLUMNS} FROM sharing_subscriptions WHERE id = ? AND client_id = ?", sid, client)
    if row is None:  # another client's subscription is not revealed
        raise not_found(f"订阅“{sid}”", f"subscription {sid}")
    needed = f"{sd.ROLE}:{row[2]}:subscribe"
    if ctx.token is not None and needed not in ctx.token.scopes and not ctx.defect(D.IGNORE_SCOPES):
        raise forbidden(f"令牌无权访问此订阅（需要权限范围 {needed}）", f"token lacks scope {needed}")
    return row


@operation("getSubscription")
async def get_subscription(ctx: Ctx) -> Reply:
    return Reply(_subscription(_own_subscription(ctx)))


@operation("cancelSubscription")
async def cancel_subscription(ctx: Ctx) -> Reply:
    row = _own_subscription(ctx)
    with ctx.db.write() as c:
        c.execute("UPDATE sharing_subscriptions SET status = 'cancelled' WHERE id = ?", (row[0],))
        c.execute(
            "UPDATE sharing_notifications SET status = 'cancelled' WHERE subscription_id = ? AND status = 'pending'",
            (row[0],),
        )
    return Reply(_subscription((*row[:7], "cancelled")))


# ---------------------------------------------------------------------------- delivery


def materialise(server: RoleServer) -> None:
    """Turn the changes after each active subscription's position into stored notifications."""
    db = server.db
    subs = db.all(
        "SELECT id, client_id, data_set, operations, division, after_seq FROM sharing_subscriptions "
        "WHERE status = 'active'"
    )
    if not subs:
        return
    top = feed.max_seq(db)
    sets = sd.data_sets()
    grants = _state(server).grants
    for sid, client, data_set, operations, division, after in subs:
        if after >= top or data_set not in sets:
            continue
        rows = db.all(
            "SELECT c.seq, c.key, c.operation, c.changed_at, c.body, r.body FROM changes c "
            "LEFT JOIN records r ON r.data_set = c.data_set AND r.key = c.key "
            "WHERE c.data_set = ? AND c.seq > ? ORDER BY c.seq LIMIT ?",
            data_set,
            after,
            BATCH,
        )
        last = rows[-1][0] if len(rows) == BATCH else top
        wanted = set(loads(operations)) if operations else None
        prefix = sd.division_prefix(division) if division else None
        allowed = access.data_division(client) if D.NO_DIVISION_SCOPING not in server.defects else None
        allowed_prefix = sd.division_prefix(allowed) if allowed else None
        show = access.Masker(
            grants,
            sets[data_set],
            client,
            disabled=D.SENSITIVE_WITHOUT_GRANT in server.defects,
            any_owner=D.GRANT_IGNORES_OWNER in server.defects,
        )
        changes = []
        for seq, key, op, at, body, current in rows:
            if wanted is not None and op not in wanted:
                continue
            record = loads(body) if body is not None else None
            if prefix is not None:
                ref = record if record is not None else (loads(current) if current is not None else {})
                if not str(ref.get("division", "")).startswith(prefix):
                    continue
            if allowed_prefix is not None and not sd.in_scope(db, sets[data_set], key, allowed_prefix):
                continue
            changes.append(feed.change(seq, key, op, at, show(record) if record is not None else None))
        with db.write() as c:
            if changes:
                mid = f"ntf-{sid}-{changes[0]['seq']}"
                note = {
                    "subscriptionId": sid,
                    "messageId": mid,
                    "dataSet": data_set,
                    "changes": changes,
                    "sentAt": now_iso(),
                }
                c.execute(
                    "INSERT INTO sharing_notifications (subscription_id, message_id, body, next_at) VALUES (?, ?, ?, ?)",
                    (sid, mid, orjson.dumps(note), time.time()),
                )
            c.execute("UPDATE sharing_subscriptions SET after_seq = ? WHERE id = ?", (last, sid))


def _post(
    url: str, body: bytes, message_id: str, dialect: Callbacks | None = None
) -> tuple[int | None, str | None, float | None]:
    """One delivery; ``dialect``: the binding the server serves, whose form the notification is sent in."""
    if not outbound.allowed(url):
        return None, outbound.refusal(url), None
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Message-Id": message_id}
    if dialect is not None:
        canonical = Message("POST", urlsplit(url).path or "/", (), tuple(headers.items()), body)
        vendor = dialect.vendor_request(canonical, notification().operation_id)
        body, headers = vendor.body, dict(vendor.headers)
    try:
        r = requests.post(url, data=body, timeout=TIMEOUT, allow_redirects=False, headers=headers)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300], None
    return r.status_code, None if r.ok else r.text[:300], outbound.retry_after_seconds(r.headers.get("Retry-After"))


def backoff(attempts: int, retry_after: float | None, defects: frozenset[str]) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    if D.SUBSCRIPTION_RETRY_FIXED_INTERVAL in defects:
        return FIXED_INTERVAL
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
    if D.SUBSCRIPTION_IGNORES_RETRY_AFTER in defects:
        return delay
    return max(delay, retry_after or 0.0)


def _renamed(server: RoleServer, nid: int, body: bytes) -> tuple[str, bytes]:
    """``subscription-retry-new-message-id``: the retry is sent as a new message (body and header)."""
    note = loads(body)
    note["messageId"] = f"ntf-{secrets.token_hex(8)}"
    data = orjson.dumps(note)
    with server.db.write() as c:
        c.execute(
            "UPDATE sharing_notifications SET message_id = ?, body = ? WHERE id = ?", (note["messageId"], data, nid)
        )
    return note["messageId"], data


async def send_due(server: RoleServer) -> bool:
    """Send the oldest pending notification of each subscription if it is due; False if none was."""
    db = server.db
    rows = db.all(
        "SELECT n.id, n.message_id, n.body, n.attempts, s.callback_url, n.last_status FROM sharing_notifications n "
        "JOIN sharing_subscriptions s ON s.id = n.subscription_id "
        "WHERE n.id IN (SELECT MIN(id) FROM sharing_notifications WHERE status = 'pending' GROUP BY subscription_id) "
        "AND n.next_at <= ?",
        time.time(),
    )
    if not rows:
        return False
    defects = server.defects
    if D.SUBSCRIPTION_RETRY_NEW_MESSAGE_ID in defects:
        rows = [
            (nid, *_renamed(server, nid, body), attempts, url, last)
            if attempts and (last is None or not 200 <= last < 300)
            else (nid, mid, body, attempts, url, last)
            for nid, mid, body, attempts, url, last in rows
        ]
    dialect = server.extras.get(CALLBACKS_KEY)
    outcomes = await asyncio.gather(
        *(asyncio.to_thread(_post, url, body, mid, dialect) for _, mid, body, _, url, _ in rows)
    )
    with db.write() as c:
        for (nid, mid, _, attempts, url, last), (status, error, wait) in zip(rows, outcomes, strict=True):
            attempts += 1
            next_at = time.time()
            if status is not None and 200 <= status < 300:
                state = "sent"
                if D.SUBSCRIPTION_RESEND_AFTER_RECEIPT in defects and not (last is not None and 200 <= last < 300):
                    state, next_at = "pending", next_at + 0.3  # the defect: sent once more after the receipt
            elif attempts >= MAX_ATTEMPTS:
                state = "failed"
                log.warning("notification %s to %s failed after %d attempts: %s %s", mid, url, attempts, status, error)
            else:
                state = "pending"
                next_at += backoff(attempts, wait, defects)
            c.execute(
                "UPDATE sharing_notifications SET attempts = ?, status = ?, next_at = ?, last_status = ?, last_error = ? "
                "WHERE id = ?",
                (attempts, state, next_at, status, error, nid),
            )
    return True


async def deliver(server: RoleServer, stop: asyncio.Event) -> None:
    """The notification loop (``server.extras["background"]``), until ``stop`` is set."""
    while not stop.is_set():
        busy = False
        try:
            materialise(server)
            busy = await send_due(server)
        except Exception:  # pragma: no cover - logged, retried on the next round
            log.exception("sharing notification delivery failed")
        if not busy:
            due = server.db.one("SELECT MIN(next_at) FROM sharing_notifications WHERE status = 'pending'")[0]
            wait = IDLE if due is None else min(IDLE, max(0.005, due - time.time()))
            await _state(server).pause(wait)


def notifications(server: RoleServer, subscription_id: str | None = None) -> list[dict[str, Any]]:
    """Stored notifications (for tests and operators)."""
    return server.db.records(
        "SELECT id, subscription_id, message_id, attempts, status, last_status, last_error "
        "FROM sharing_notifications WHERE (? IS NULL OR subscription_id = ?) ORDER BY id",
        subscription_id,
        subscription_id,
    )
