"""安全监管信息共享平台 (sharing): every operation of ``schemas/openapi/sharing.yaml``.

The six data sets (``x-data-sets``: equipment, units, personnel, accidents, inspection reports,
use registrations) each get five operations built by one factory from the contract — by-key
read, paged query, change feed, push, subscription — plus the open (desensitised) queries,
subscription management, the interface catalogue, owners' grants and the audit query.
Modules: ``sharing_data`` (data sets, index, cursors, masking, grants), ``sharing_push``
(push, subscriptions, notification delivery), ``sharing_admin`` (catalogue, grants, audit),
``sharing_seed`` (demo data).

Paging and synchronisation semantics
------------------------------------
* **Paged query** (``page``/``size``, defaults and limits as the contract declares them): the
  records matching the filters, ordered by key, ``total`` = exact count of the same filtered
  set; count and page are read at one instant (no write can interleave: reads and writes run on
  the event loop's thread), from committed state only (``db.py``), so every page is a consistent slice. Past the last page: empty
  ``items``. While the data set is unchanged, walking pages 1..⌈total/size⌉ yields every
  record exactly once (SHARE.IF.FUNC.2 "数据不变时"). Page/size paging cannot be exact while
  records are inserted or deleted between page requests: a new key sorting before the
  reader's position shifts later records by one (one record seen twice), a deleted one shifts
  them back (one record missed). Chosen deliberately over snapshot tokens, which the
  contract's ``page`` object has no field for. **The change feed is the strictly consistent
  mechanism**: a full load is "read the changes from no cursor until ``hasMore`` is false",
  then continue from ``nextCursor``.
* **Change feed**: the ``changes`` log (``seq`` strictly increasing, one per UPLOAD / UPDATE /
  DELETE, written in the same transaction as the record). A cursor encodes the data set, the
  last ``seq`` delivered and a digest of that change, with an HMAC (server secret kept in ``meta``): opaque, deterministic
  (same position, same cursor, so "no new changes" returns the cursor unchanged), tamper-evident.
  Reading from a cursor returns the changes with ``seq`` greater than it, so re-reading gives the
  same changes and pushes between pages are neither lost nor repeated (a change is visible
  only once committed — durable — and commits are serialised, so a number once served is never
  reused, also after ``kill -9``). A malformed, forged, other-data-set or beyond-the-log cursor, or
  one whose change is no longer in the log as issued, is a 400 with a Chinese reason and the advice
  to reload from scratch.

Division scope (SHARE.SEC.ACCESS.2)
-----------------------------------
A caller registered for a division (``dataDivision`` in clients.json, e.g. a prefecture's bureau)
gets only the records of that division and its subordinate divisions: paged queries (``total``
counts only those), the change feed (the changes of those records; the cursor stays at the last
change returned, so changes elsewhere never move it) and subscription notifications; a by-key read
of a record outside is a 404 exactly like an absent key (its existence is not revealed). How a
record's division is found: ``sharing_data``. The open endpoints are not scoped (open data).
Defect ``no-division-scoping`` turns the scope off.

Open data (IPQS.OPEN.FORM.1, IPQS.OPEN.SEC.2)
--------------------------------------------
JSON (UTF-8) pages whose fields are all described by the record schema the catalogue names (title,
type, code lists); every download is in the audit log (caller, time, operation, path and query,
request id). Defects: ``open-data-undescribed-fields`` adds internal fields the description does not
have, ``open-data-not-audited`` leaves the downloads out of the audit log.
The open records are the catalogued open view (``sharing_opening``: each field of ``x-open-masking`` in its
masked form, addresses included); directed openings and the owners' access log are there too
(docs/opening-data.md).

Sensitive fields (SHARE.SEC.ACCESS.4, IPQS.SHARE.MODE.2, IPQS.OPEN.SEC.1)
-------------------------------------------------------------------------
The record fields whose schema carries ``x-sensitive`` ``citizen-id`` or ``phone`` (found by
walking the record schemas: personnel ``personId`` and ``phone``, unit ``contactPhone``,
equipment ``emergencyPhone``; the contract names 公民身份号码 and 手机号码 as the sensitive
kinds, so ``x-sensitive: name`` is not masked). Only mobile numbers are personal: a landline or
service number (``12315``) in a phone field is shown as is. By-key reads, queries, the change
feed and subscription notifications mask them (ID: first 6 + ``********`` + last 4; mobile:
first 3 + ``****`` + last 4) unless the caller holds an unexpired grant from the record's owner
(``personnel.employerUscc``, ``units.uscc``, ``equipment.useUnitUscc``) for that data set and
field. The open endpoints always mask, grants or not, and leave out phone values that cannot
be shown as a masked mobile (the open schemas admit masked mobiles only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from conformance.contract.openapi import Operation
from conformance.reference.context import FACTORIES, SEEDERS, SETUPS, Ctx, Handler, Reply
from conformance.reference.db import loads
from conformance.reference.defects import D
from conformance.reference.errors import not_found
from conformance.reference.roles.sharing import access, feed, opening, permissions, upstream
from conformance.reference.roles.sharing import admin as sharing_admin  # noqa: F401  (registers catalogue, grants, audit)
from conformance.reference.roles.sharing import data as sd
from conformance.reference.roles.sharing import push as sharing_push
from conformance.reference.roles.sharing import seed as sharing_seed
from conformance.reference.server_state import RoleServer
from conformance.serving.envelope import page

OPEN_PREFIX = "/api/v1/open/"


def state(ctx: Ctx) -> access.SharingState:
    return ctx.server.extras["sharing"]


def masker(ctx: Ctx, ds: sd.DataSet) -> access.Masker:
    return access.Masker(
        state(ctx).grants,
        ds,
        ctx.client.id if ctx.client else None,
        disabled=ctx.defect(D.SENSITIVE_WITHOUT_GRANT),
        any_owner=ctx.defect(D.GRANT_IGNORES_OWNER),
    )


def scope(ctx: Ctx) -> str | None:
    """The caller's division prefix (None: every division)."""
    if ctx.defect(D.NO_DIVISION_SCOPING) or ctx.client is None:
        return None
    division = access.data_division(ctx.client.id)
    return sd.division_prefix(division) if division else None


# ---------------------------------------------------------------------------- reads


def get_handler(op: Operation, ds: sd.DataSet) -> Handler:
    key_param = next(p.name for p in op.params if p.location == "path")

    async def get_record(ctx: Ctx) -> Reply:
        key = ctx.path[key_param]
        show = masker(ctx, ds)
        # Fast path: a caller without grants gets the record as stored, already masked (no parse);
        # defects that rewrite responses need parsed data.
        record = (
            sd.get_stored(ctx.db, ds, key)
            if not show.owners and not ctx.server.defects
            else ctx.db.get_record(ds.name, key)
        )
        if record is not None and not sd.in_scope(ctx.db, ds, key, scope(ctx)):
            record = None  # outside the caller's divisions: answered like an absent key
        if record is None:
            raise not_found(f"{ds.title}记录“{key}”", f"{ds.name} record {key}")
        served = record if isinstance(record, orjson.Fragment) else show(record)
        opening.track(ctx, ds, [served], "read")
        return Reply(served)

    return get_record


def _page(ctx: Ctx, op: Operation, ds: sd.DataSet, show: Callable[[dict[str, Any]], dict[str, Any]] | None) -> Reply:
    """One page; ``show`` None: the records as stored (masked for callers without grants, unparsed)."""
    number, size = int(sd.param_value(op, ctx.query, "page")), int(sd.param_value(op, ctx.query, "size"))
    caller = None if ds_open(op) else scope(ctx)
    if (
        caller is not None
        and ctx.defect(D.DIVISION_FILTER_OVERRIDES_SCOPE)
        and any(
            f.kind == "division" and name in ctx.query
            for name, f in ds.indexed_filters.get(op.operation_id, {}).items()
        )
    ):
        caller = None  # "the caller asked for a division": its own registration no longer consulted
    total, items = sd.query_page(
        ctx.db,
        ds,
        op,
        ctx.query,
        number,
        size,
        drop_boundary=ctx.defect(D.PAGING_DROPS_BOUNDARY),
        stored_mask=show is None,
        scope=caller,
    )
    if ctx.defect(D.PAGING_WRONG_TOTAL):
        total = len(items)  # the classic: the count of this page, not of the query
    served = items if show is None else [show(r) for r in items]
    opening.track(ctx, ds, served, "open" if ds_open(op) else "read")
    return Reply(page(served, number, size, total))


def query_handler(op: Operation, ds: sd.DataSet) -> Handler:
    async def query_records(ctx: Ctx) -> Reply:
        show = masker(ctx, ds)
        return _page(ctx, op, ds, None if not show.owners and not ctx.server.defects else show)

    return query_records


def ds_open(op: Operation) -> bool:
    return op.path.startswith(OPEN_PREFIX)


#: ``open-data-undescribed-fields``: what a vendor's export leaks from its tables.
_INTERNAL_FIELDS = {"_rowId": 1, "srcTable": "t_share_export", "syncFlag": "0"}


def open_handler(op: Operation, ds: sd.DataSet) -> Handler:
    async def query_open(ctx: Ctx) -> Reply:
        if ctx.defect(D.OPEN_DATA_NOT_AUDITED):
            ctx.audited = True  # the pipeline writes no entry for this download
        if ctx.defect(D.UNMASKED_OPEN_DATA):
            return _page(ctx, op, ds, lambda r: r)
        clear = ctx.defect(D.OPEN_ADDRESS_UNMASKED)
        if ctx.defect(D.OPEN_DATA_UNDESCRIBED_FIELDS):
            return _page(
                ctx, op, ds, lambda r: {**opening.open_view(op, ds, r, address_clear=clear), **_INTERNAL_FIELDS}
            )
        return _page(ctx, op, ds, lambda r: opening.open_view(op, ds, r, address_clear=clear))

    return query_open


def changes_handler(op: Operation, ds: sd.DataSet) -> Handler:
    async def changes(ctx: Ctx) -> Reply:
        st = state(ctx)
        cursor = ctx.query.get("cursor")
        after = feed.position(ctx.db, st.secret, ds, cursor) if cursor else 0
        limit = int(sd.param_value(op, ctx.query, "limit"))
        rows = feed.read_changes(ctx.db, ds, after, limit + 1, scope(ctx))
        has_more = len(rows) > limit
        last = rows[limit][0] if has_more and ctx.defect(D.CHANGES_SKIP) else None  # skips the next change
        rows = rows[:limit]
        show = masker(ctx, ds)
        items = [feed.change(*row[:4], show(loads(row[4])) if row[4] is not None else None) for row in rows]
        opening.track(ctx, ds, [i["record"] for i in items if isinstance(i.get("record"), dict)], "sync")
        next_seq = last if last is not None else (rows[-1][0] if rows else after)
        return Reply(
            {"items": items, "nextCursor": feed.cursor_at(ctx.db, st.secret, ds, next_seq), "hasMore": has_more}
        )

    return changes


# ---------------------------------------------------------------------------- registration

_BUILT: dict[str, Handler | None] = {}


def _build(op: Operation) -> Handler | None:
    if op.role != sd.ROLE or not op.data_set or op.data_set not in sd.data_sets():
        return None
    ds = sd.data_sets()[op.data_set]
    if op.path.startswith(OPEN_PREFIX) and op.method == "get":
        return open_handler(op, ds)
    if op.method == "get" and op.path == ds.path:
        return query_handler(op, ds)
    if op.method == "get" and op.path == f"{ds.path}/changes":
        return changes_handler(op, ds)
    if op.method == "get" and op.path.startswith(f"{ds.path}/{{"):
        return get_handler(op, ds)
    if op.method == "post" and op.path == f"{ds.path}/push":
        return sharing_push.push_handler(op, ds)
    if op.method == "post" and op.path == f"{ds.path}/subscriptions":
        return sharing_push.subscribe_handler(op, ds)
    return None


def factory(op: Operation) -> Handler | None:
    """Handlers of the data-set operation families, by the operation's shape in the contract."""
    key = f"{op.doc}:{op.operation_id}"
    if key not in _BUILT:
        _BUILT[key] = permissions.guarded(_build(op))  # suspended clients refused first (IPQS.OPEN.SEC.3)
    return _BUILT[key]


def setup(server: RoleServer) -> None:
    sd.setup_storage(server.db)
    opening.setup(server.db)
    sharing_push.setup(server)
    upstream.setup(server)  # a provincial platform: report up to the national counterpart (docs/two-tier.md)
    server.extras["sharing"] = access.SharingState(server.db)
    permissions.setup(server)


FACTORIES.append(factory)
SETUPS["sharing"] = setup
SEEDERS["sharing"] = sharing_seed.seed
