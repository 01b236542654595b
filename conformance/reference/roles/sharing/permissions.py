"""Permission changes with approval, and suspensions on misuse, of the sharing platform.

* **Permission changes** (IPQS.SHARE.PERM.2 建立权限变更审批机制; ``createPermissionChange``,
  ``decidePermissionChange``, ``getPermissionChange``): a request to add or remove scopes of one client
  (clients.json) is stored ``pending`` and changes nothing; another client holding the approval scope approves
  or rejects it (the requester deciding its own request: 403). An approval changes the client's registered
  scopes at once, so the tokens issued from then on carry them (a token already issued keeps the scopes it
  was issued with, until it expires); a rejection never changes anything. Approved changes are replayed at
  start, so the registry survives a restart.
* **Suspensions** (IPQS.OPEN.SEC.3 若发现数据滥用，立即暂停开放权限; ``createSuspension``, ``liftSuspension``,
  ``getSuspension``): from the moment a suspension is stored, every call of the suspended client to an
  operation on shared or open data (``x-data-set``) is refused 403 ``SUSPENDED``, whatever its token and
  whenever that token was issued; lifting restores access. Both are audited by the pipeline (action = the
  operation id, with the request id).

Defects: ``permission-change-without-approval`` (the change applied when requested),
``self-approved-permission`` (the requester may approve its own request), ``suspension-spares-old-tokens``
(only tokens issued after the suspension are refused) and ``grant-by-anyone`` (``admin.create_grant`` skips
its owner check).
"""

from __future__ import annotations

import time
from typing import Any

from conformance.contract.errors import ErrorCode
from conformance.reference.context import Ctx, Handler, Reply, now_iso, operation
from conformance.reference.db import dumps, loads
from conformance.reference.defects import D
from conformance.reference.errors import ApiError, bad_request, conflict, forbidden, not_found
from conformance.reference.roles.sharing import registered
from conformance.reference.security import Client, Token, all_scopes
from conformance.reference.server_state import RoleServer

#: The tables of permission changes and suspensions (created in :func:`setup`).
CHANGES, SUSPENSIONS = "sharing_permission_changes", "sharing_suspensions"

DDL = """
CREATE TABLE IF NOT EXISTS sharing_permission_changes (
    change_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    body TEXT NOT NULL,
    decided REAL
);
CREATE TABLE IF NOT EXISTS sharing_suspensions (
    suspension_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    body TEXT NOT NULL,
    client_id TEXT NOT NULL,
    suspended REAL NOT NULL,
    lifted REAL
);
"""

#: where the role server keeps the active suspensions: client id → {suspension id: time suspended}
SUSPENDED = "sharing-suspended"


def setup(server: RoleServer) -> None:
    """Tables; the approved changes replayed on the registry (in the order approved); the active suspensions."""
    server.db.ensure(DDL)
    clients = server.security.clients
    for (body,) in server.db.all(
        "SELECT body FROM sharing_permission_changes WHERE decided IS NOT NULL ORDER BY decided, change_id"
    ):
        change = loads(body)
        if change.get("status") == "approved" and change["clientId"] in clients:
            _apply(clients[change["clientId"]], change)
    active: dict[str, dict[str, float]] = {}
    for sid, client_id, suspended in server.db.all(
        "SELECT suspension_id, client_id, suspended FROM sharing_suspensions WHERE lifted IS NULL"
    ):
        active.setdefault(client_id, {})[sid] = suspended
    server.extras[SUSPENDED] = active


def _apply(client: Client, change: dict[str, Any]) -> None:
    client.scopes = (client.scopes | frozenset(change["addScopes"])) - frozenset(change["removeScopes"])


# ---------------------------------------------------------------------------------------------- permission changes


def _check_change(ctx: Ctx, body: dict[str, Any]) -> None:
    errors: list[dict[str, str]] = []
    if body["clientId"] not in ctx.server.security.clients:
        errors.append({"path": "/clientId", "message": "客户端未在平台登记", "rule": "registered-client"})
    known = set(all_scopes())
    for name in ("addScopes", "removeScopes"):
        for i, scope in enumerate(body[name]):
            if scope not in known:
                errors.append({"path": f"/{name}/{i}", "message": f"{scope} 不是契约声明的权限范围", "rule": "scope"})
    if not body["addScopes"] and not body["removeScopes"]:
        errors.append({"path": "/addScopes", "message": "增加与取消的权限范围都为空", "rule": "non-empty-change"})
    both = sorted(set(body["addScopes"]) & set(body["removeScopes"]))
    if both:
        errors.append(
            {
                "path": "/removeScopes",
                "message": f"同时增加与取消 {len(both)} 个权限范围（{both[0]} 等）",
                "rule": "disjoint",
            }
        )
    if errors:
        first = errors[0]
        raise bad_request(
            f"权限变更申请不成立（{len(errors)} 处）：{first['path']} {first['message']}"[:500],
            f"invalid permission change ({len(errors)} problems)",
            errors,
        )


def _stored_change(ctx: Ctx, change_id: str) -> tuple[str, dict[str, Any]] | None:
    return registered.stored(ctx, CHANGES, "change_id", change_id)


@operation("createPermissionChange")
async def create_permission_change(ctx: Ctx) -> Reply:
    body = ctx.body
    digest = registered.digest(body)
    what = ("权限变更", "permission change")
    again = registered.replayed(ctx, CHANGES, "change_id", body["changeId"], digest, what, ErrorCode.DUPLICATE)
    if again is not None:
        return again
    _check_change(ctx, body)
    assert ctx.client is not None
    change = {**body, "status": "pending", "requestedBy": ctx.client.id, "requestedAt": now_iso()}
    if ctx.defect(D.PERMISSION_CHANGE_WITHOUT_APPROVAL):  # "the request is the approval": applied at once
        _apply(ctx.server.security.clients[body["clientId"]], body)
    with ctx.db.write() as c:
        c.execute(
            "INSERT INTO sharing_permission_changes (change_id, digest, body) VALUES (?, ?, ?)",
            (body["changeId"], digest, dumps(change)),
        )
    return Reply(change, status=201)


@operation("getPermissionChange")
async def get_permission_change(ctx: Ctx) -> Reply:
    stored = _stored_change(ctx, ctx.path["changeId"])
    if stored is None:
        raise not_found(f"权限变更申请“{ctx.path['changeId']}”", f"permission change {ctx.path['changeId']}")
    return Reply(stored[1])


#: the decision → the state it leaves the change in
OUTCOME = {"approve": "approved", "reject": "rejected"}


@operation("decidePermissionChange")
async def decide_permission_change(ctx: Ctx) -> Reply:
    change_id = ctx.path["changeId"]
    stored = _stored_change(ctx, change_id)
    if stored is None:
        raise not_found(f"权限变更申请“{change_id}”", f"permission change {change_id}")
    change = stored[1]
    decision = ctx.body["decision"]
    assert ctx.client is not None
    if change["requestedBy"] == ctx.client.id and not ctx.defect(D.SELF_APPROVED_PERMISSION):
        raise forbidden(
            "申请方不得审批本客户端提出的权限变更申请", "the requester may not decide its own permission change"
        )
    if change["status"] != "pending":
        if change["status"] == OUTCOME[decision]:
            return Reply(change)
        raise conflict(
            f"权限变更申请 {change_id} 已审批为 {change['status']}",
            f"permission change {change_id} is already {change['status']}",
            ErrorCode.STATE_CONFLICT,
        )
    change = {
        **change,
        "status": OUTCOME[decision],
        "decidedBy": ctx.client.id,
        "decidedAt": now_iso(),
        "approver": ctx.body["approver"],
        "comment": ctx.body["comment"],
    }
    with ctx.db.write() as c:
        c.execute(
            "UPDATE sharing_permission_changes SET body = ?, decided = ? WHERE change_id = ?",
            (dumps(change), time.time(), change_id),
        )
    subject = ctx.server.security.clients.get(change["clientId"])
    if decision == "approve" and subject is not None and not ctx.defect(D.PERMISSION_CHANGE_WITHOUT_APPROVAL):
        _apply(subject, change)
    return Reply(change)


# ---------------------------------------------------------------------------------------------- suspensions


def _stored_suspension(ctx: Ctx, suspension_id: str) -> tuple[str, dict[str, Any]] | None:
    return registered.stored(ctx, SUSPENSIONS, "suspension_id", suspension_id)


def _active(server: RoleServer) -> dict[str, dict[str, float]]:
    return server.extras.setdefault(SUSPENDED, {})


@operation("createSuspension")
async def create_suspension(ctx: Ctx) -> Reply:
    body = ctx.body
    digest = registered.digest(body)
    what = ("暂停", "suspension")
    again = registered.replayed(
        ctx, SUSPENSIONS, "suspension_id", body["suspensionId"], digest, what, ErrorCode.DUPLICATE
    )
    if again is not None:
        return again
    if body["clientId"] not in ctx.server.security.clients:
        raise bad_request(
            "clientId 所指的客户端未在平台登记",
            "clientId names no registered client",
            [{"path": "/clientId", "message": "客户端未在平台登记", "rule": "registered-client"}],
        )
    assert ctx.client is not None
    now = time.time()
    record = {**body, "status": "active", "suspendedBy": ctx.client.id, "suspendedAt": now_iso()}
    with ctx.db.write() as c:
        c.execute(
            "INSERT INTO sharing_suspensions (suspension_id, digest, body, client_id, suspended) VALUES (?, ?, ?, ?, ?)",
            (body["suspensionId"], digest, dumps(record), body["clientId"], now),
        )
    _active(ctx.server).setdefault(body["clientId"], {})[body["suspensionId"]] = now
    return Reply(record, status=201)


@operation("getSuspension")
async def get_suspension(ctx: Ctx) -> Reply:
    stored = _stored_suspension(ctx, ctx.path["suspensionId"])
    if stored is None:
        raise not_found(f"暂停记录“{ctx.path['suspensionId']}”", f"suspension {ctx.path['suspensionId']}")
    return Reply(stored[1])


@operation("liftSuspension")
async def lift_suspension(ctx: Ctx) -> Reply:
    sid = ctx.path["suspensionId"]
    stored = _stored_suspension(ctx, sid)
    if stored is None:
        raise not_found(f"暂停记录“{sid}”", f"suspension {sid}")
    record = stored[1]
    if record["status"] == "lifted":
        return Reply(record)
    assert ctx.client is not None
    record = {**record, "status": "lifted", "liftedBy": ctx.client.id, "liftedAt": now_iso()}
    record["liftReason"] = ctx.body["reason"]
    with ctx.db.write() as c:
        c.execute(
            "UPDATE sharing_suspensions SET body = ?, lifted = ? WHERE suspension_id = ?",
            (dumps(record), time.time(), sid),
        )
    held = _active(ctx.server).get(record["clientId"], {})
    held.pop(sid, None)
    if not held:
        _active(ctx.server).pop(record["clientId"], None)
    return Reply(record)


def refusal(ctx: Ctx) -> ApiError | None:
    """The 403 SUSPENDED of a call to shared or open data by a suspended client (None: not suspended)."""
    if ctx.client is None:
        return None
    held = _active(ctx.server).get(ctx.client.id)
    if not held:
        return None
    since = min(held.values())
    token: Token | None = ctx.token
    if ctx.defect(D.SUSPENSION_SPARES_OLD_TOKENS) and token is not None and token.issued < since:
        return None  # the suspension checked where tokens are issued, not where data is served
    return ApiError(
        403,
        "该客户端的共享与开放数据权限已被暂停（发现数据滥用）",
        "this client's access to shared and open data is suspended (misuse)",
        ErrorCode.SUSPENDED,
    )


def guarded(handler: Handler | None) -> Handler | None:
    """``handler`` of an operation on shared or open data, refusing suspended clients first."""
    if handler is None:
        return None
    inner = handler

    async def guard(ctx: Ctx) -> Reply:
        refused = refusal(ctx)
        if refused is not None:
            raise refused
        return await inner(ctx)

    return guard
