"""The provincial platform's exchange with the national platform (INFO2007.2.5.2, INFO2007.2.5.3, SHARE.MECH.MODE.1;
docs/two-tier.md).

Without a national counterpart the sharing role is a top-level (national) platform, as before. Given one
(``ServerConfig.counterparts["national"]``, ``tzsb-conform serve --counterpart national=URL``), it acts as a
**provincial platform**:

* every record a lower-level source (a city supervision body, an inspection institution, an enterprise: any client
  but the upper level's) pushes and the province accepts is reported up through the national platform's push
  operation of the same data set (``POST <data-set path>/push``, the contract's operation), one message per accepted
  source message, queued in the same transaction as the work (``reference/outbox.py``: durable, retried with the same
  message id and back-off, delivered in order, so a record's changes arrive in the order they were made; a 2xx
  receipt — a duplicate one included — ends a message, which is never sent again);
* only records of its own division (its registration at the national level: ``org.division`` of the client it calls
  the national platform as, :data:`SENDER`) are reported; a record whose division cannot be told (no division field,
  no referenced unit known) is not;
* a record is reported as the province holds it, with the providing subject it names (SHARE.MECH.SUBJECT.1: the
  source, never the province in its place);
* records the national platform pushes down (clients of ``level: national`` in clients.json) are applied like any
  push and are **not** sent back up.

Defects (``defects/declared.py``): ``upstream-loses-records``, ``upstream-sends-other-province``,
``national-update-not-applied``, ``upstream-resends-acknowledged``, ``upstream-out-of-order``,
``upstream-replaces-provider``.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from conformance.reference import outbox
from conformance.reference.context import Ctx, now_iso
from conformance.reference.defects import D
from conformance.reference.roles.sharing import data as sd
from conformance.reference.security import load_clients
from conformance.reference.server_state import RoleServer

#: The counterpart key of the national platform (``ServerConfig.counterparts``, ``[simulators.ports] national``).
NATIONAL = "national"
#: The client the province calls the national platform as (clients.json); its ``org`` is the province's registration.
SENDER = outbox.SENDER_CLIENT["sharing"]
#: The ``level`` of the upper level's clients (clients.json): their pushes are applied, never reported back up.
UPPER_LEVEL = "national"
#: ``upstream-out-of-order``: how long reports of new records are held back.
HELD_BACK_S = 1.0
#: ``upstream-resends-acknowledged``: when the copy of an acknowledged report is sent again.
RESEND_AFTER_S = 0.5


def active(server: RoleServer) -> bool:
    """Is this sharing platform a provincial one (a national counterpart configured)?"""
    return NATIONAL in server.counterparts


@functools.cache
def registration() -> dict[str, str]:
    """The province's registration at the national platform: ``org`` of :data:`SENDER` in clients.json."""
    org = load_clients()[SENDER].org
    if not org:
        raise ValueError(f"clients.json: client {SENDER} has no org (the province's registration)")
    return dict(org)


def from_upper_level(ctx: Ctx) -> bool:
    """Does the request come from the national platform (a client of ``level: national``)?"""
    return ctx.client is not None and ctx.client.level == UPPER_LEVEL


def setup(server: RoleServer) -> None:
    if active(server):
        outbox.setup(server)


def unapplied(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any] | None:
    """``national-update-not-applied``: the receipt of a push-down that is acknowledged record by record but applied
    nowhere; None otherwise (the push is applied)."""
    if not (ctx.defect(D.NATIONAL_UPDATE_NOT_APPLIED) and active(ctx.server) and from_upper_level(ctx)):
        return None
    results = [{"index": i, "key": r["key"], "status": "accepted"} for i, r in enumerate(body["records"])]
    return {
        "messageId": body["messageId"],
        "receivedAt": now_iso(),
        "duplicate": False,
        "accepted": len(results),
        "rejected": 0,
        "results": results,
    }


def forward(ctx: Ctx, ds: sd.DataSet, body: dict[str, Any], receipt: dict[str, Any]) -> None:
    """Queue the report of a source's accepted records to the national platform (within the push's transaction)."""
    server = ctx.server
    if not active(server) or from_upper_level(ctx) or receipt.get("duplicate"):
        return
    org = registration()
    prefix = sd.division_prefix(org["division"])
    items: list[dict[str, Any]] = []
    for result in receipt.get("results") or ():
        if result.get("status") != "accepted":
            continue
        item = body["records"][result["index"]]
        key = item["key"]
        if not ctx.defect(D.UPSTREAM_SENDS_OTHER_PROVINCE) and not sd.in_scope(ctx.db, ds, key, prefix):
            continue  # another province's record (or one whose division cannot be told): not ours to report
        if ctx.defect(D.UPSTREAM_LOSES_RECORDS) and items:
            continue
        record = None if item["operation"] == "DELETE" else ctx.db.get_record(ds.name, key)
        if record is not None and ctx.defect(D.UPSTREAM_REPLACES_PROVIDER):
            record = {**record, "provider": {k: org[k] for k in ("uscc", "name", "division", "system")}}
        items.append({"operation": item["operation"], "key": key, "record": record})
    if not items:
        return
    message_id = f"up-{uuid.uuid4().hex}"
    message = {
        "messageId": message_id,
        "source": org["system"],
        "sourceDivision": org["division"],
        "sentAt": now_iso(),
        "records": items,
    }
    path = f"{ds.path}/push"
    held = (
        HELD_BACK_S if ctx.defect(D.UPSTREAM_OUT_OF_ORDER) and any(i["operation"] == "UPLOAD" for i in items) else 0.0
    )
    outbox.enqueue(server, NATIONAL, path, message, message_id=message_id, topic=f"upstream:{ds.name}", delay=held)
    if ctx.defect(D.UPSTREAM_RESENDS_ACKNOWLEDGED):
        outbox.enqueue(
            server, NATIONAL, path, message, message_id=message_id, topic=f"upstream:{ds.name}", delay=RESEND_AFTER_S
        )


def reports(server: RoleServer) -> list[dict[str, Any]]:
    """The reports queued for the national platform (for tests and operators)."""
    return [c for c in outbox.calls(server) if str(c.get("topic") or "").startswith("upstream:")]
