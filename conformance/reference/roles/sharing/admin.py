"""Interface catalogue, owners' grants for sensitive fields, and the audit query of the sharing platform."""

from __future__ import annotations

import datetime as dt
import functools
import time
from typing import Any

from conformance.clock import CHINA
from conformance.contract import documents as contracts
from conformance.contract.openapi import role_operations
from conformance.reference.context import Ctx, Reply, now_iso, operation
from conformance.reference.db import dumps
from conformance.reference.defects import D
from conformance.reference.errors import bad_request, forbidden
from conformance.reference.roles.sharing import data as sd
from conformance.reference.roles.sharing import opening, registered

# ---------------------------------------------------------------------------- catalogue

#: Paths of the open (desensitised) operations, whose entries list their open fields (``openFields``).
OPEN_PREFIX = "/api/v1/open/"


def _scope_text(scope: str | list[str] | None) -> str:
    """One scope string: a list that differs in one segment is written with ``*`` there
    (``sharing:*:subscribe`` = the subscribe scope of the subscription's data set)."""
    if scope is None:
        return "none"
    if isinstance(scope, str):
        return scope
    parts = [s.split(":") for s in scope]
    if len({len(p) for p in parts}) == 1:
        differing = [i for i in range(len(parts[0])) if len({p[i] for p in parts}) > 1]
        if len(differing) == 1:
            merged = list(parts[0])
            merged[differing[0]] = "*"
            return ":".join(merged)
    text = " ".join(scope)
    return text if len(text) <= 100 else scope[0]


def _clause_text(clause: tuple[str, ...]) -> str | None:
    if not clause:
        return None
    text = "; ".join(clause)
    return text if len(text) <= 100 else clause[0][:100]


@functools.cache
def catalogue() -> tuple[dict[str, Any], ...]:
    """The catalogue entries, generated from the operations of the sharing contract."""
    version = str(contracts.openapi(sd.ROLE)["info"]["version"])
    entries = []
    for op in role_operations(sd.ROLE):
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "name": (op.summary or op.operation_id)[:100],
            "method": op.method.upper(),
            "path": op.path,
        }
        if op.data_set:
            entry["dataSet"] = op.data_set
        entry["scope"] = _scope_text(op.scope if op.secured else None)
        clause = _clause_text(op.clause)
        if clause:
            entry["clause"] = clause
        entry["version"] = version
        if op.data_set and op.path.startswith(OPEN_PREFIX):
            entry["openFields"] = opening.open_fields(op, sd.data_sets()[op.data_set])
        entries.append(entry)
    return tuple(entries)


@operation("getCatalogue")
async def get_catalogue(ctx: Ctx) -> Reply:
    return Reply(list(catalogue()))


# ---------------------------------------------------------------------------- grants


@operation("createGrant")
async def create_grant(ctx: Ctx) -> Reply:
    """Register an owner's grant (IPQS 授权查询共享). A client registered for a unit (``ownerUscc``
    in clients.json) grants for that unit only; a platform client without one records grants
    the owners gave it (the supervision department registering a written authorisation)."""
    body = ctx.body
    owner = ctx.client.owner_uscc if ctx.client else None
    if owner is not None and owner != body["ownerUscc"] and not ctx.defect(D.GRANT_BY_ANYONE):
        raise forbidden("调用方不代表 ownerUscc 所指的数据所属主体，不能授权", "caller does not act for ownerUscc")
    fingerprint = registered.digest(body, ignore=("createdAt",))
    again = registered.replayed(ctx, "sharing_grants", "grant_id", body["grantId"], fingerprint, ("授权", "grant"))
    if again is not None:
        return again
    ds = sd.data_sets()[body["dataSet"]]
    unknown = [
        {"path": f"/fields/{i}", "message": f"数据集 {ds.name}（{ds.title}）没有字段“{f}”", "rule": "field"}
        for i, f in enumerate(body["fields"])
        if f not in ds.properties
    ]
    if unknown:
        raise bad_request(
            f"授权字段不属于数据集 {ds.name}："
            + "、".join(body["fields"][int(e["path"].rsplit("/", 1)[1])] for e in unknown),
            "unknown fields",
            unknown,
        )
    valid_to = sd.instant(body["validTo"])
    if valid_to <= time.time():
        raise bad_request(
            "授权截止时间 validTo 早于当前时间",
            "validTo is in the past",
            [{"path": "/validTo", "message": "授权截止时间早于当前时间", "rule": "future"}],
        )
    grant = {**body, "createdAt": now_iso()}
    with ctx.db.write() as c:
        c.execute(
            "INSERT INTO sharing_grants (grant_id, digest, body, grantee, data_set, owner, valid_to) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (body["grantId"], fingerprint, dumps(grant), body["granteeClientId"], ds.name, body["ownerUscc"], valid_to),
        )
    ctx.server.extras["sharing"].grants.add(grant, valid_to)
    return Reply(grant, status=201)


# ---------------------------------------------------------------------------- audit


def _china_seconds(value: str) -> str:
    """A date-time as the audit log writes it (+08:00, whole seconds), for comparison as text."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(CHINA).replace(microsecond=0).isoformat()


@operation("queryAudit")
async def query_audit(ctx: Ctx) -> Reply:
    page = int(sd.param_value(ctx.op, ctx.query, "page"))
    size = int(sd.param_value(ctx.op, ctx.query, "size"))
    start, end = ctx.query.get("from"), ctx.query.get("to")
    if start and end and sd.instant(end) < sd.instant(start):
        raise bad_request(
            "查询条件 to 早于 from",
            "to is before from",
            [{"path": "/query/to", "message": "to 不得早于 from", "rule": "range"}],
        )
    total, items = ctx.server.audit.query(
        start=_china_seconds(start) if start else None,
        end=_china_seconds(end) if end else None,
        action=ctx.query.get("action"),
        offset=(page - 1) * size,
        limit=size,
    )
    return Reply({"page": page, "size": size, "total": total, "items": items})
