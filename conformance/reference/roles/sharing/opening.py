"""The opening mechanism of the sharing platform (工业产品质量安全监管数据规范体系 数据开放机制, IPQS.OPEN.*):

* **Directed opening** (``createOpening``, ``queryOpeningAggregates``; IPQS.OPEN.SCOPE.1): a managing client
  registers an opening of one data set to named addressees (client ids) under a data-use agreement number,
  for a purpose, until ``validTo``, with the aggregation dimensions (fields of the record schema whose values
  are codes: an enum, a division code, a catalogue code — :func:`dimension_fields`). The addressees, and only
  they, get counts of the live records grouped by those fields; nothing record-level.
* **Full opening as catalogued** (IPQS.OPEN.SEC.1): an open operation's ``x-open-masking`` names its masked
  fields and their masking kind (``identifiers.schema.json#/$defs/maskingKind``); every other field of the
  record schema is opened as it is. :func:`open_fields` is the catalogue's ``openFields``, :func:`open_view`
  the record an open operation serves (a value the rule cannot show masked is left out).
* **Access tracking read back by the owner** (``queryAccessLog``; IPQS.OPEN.SEC.2, IPQS.SHARE.MODE.2): every
  read that returns records of a data set with an owner (``x-owner``) is noted per owner — who, when, which
  operation, which records, which sensitive fields were shown in clear and, for those, the owner's grant
  (:func:`track`; one row per request, split per owner when read). Rows are buffered like the audit log's read
  entries and written in batches; an owner's query writes the buffer first (a full scan: owners read rarely). An owner is a client of clients.json with ``ownerUscc`` (the rule of
  ``createGrant``); it reads only its own entries.

Defects: ``directed-opening-serves-anyone``, ``directed-opening-leaks-records``, ``open-address-unmasked``,
``access-log-hides-grant-reads``.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections import Counter
from typing import Any

import orjson

from conformance.codes import lists as code_lists
from conformance.contract import documents as contracts
from conformance.contract.openapi import Operation
from conformance.datagen import DataGen
from conformance.reference.context import Ctx, Reply, now_iso, operation
from conformance.reference.db import Database, dumps, loads
from conformance.reference.defects import D
from conformance.reference.errors import bad_request, forbidden, not_found
from conformance.reference.roles.sharing import access, registered
from conformance.reference.roles.sharing import data as sd

DDL = """
CREATE TABLE IF NOT EXISTS sharing_openings (
  opening_id TEXT PRIMARY KEY, digest TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sharing_access_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, body BLOB NOT NULL, owners TEXT NOT NULL,
  data_set TEXT NOT NULL);
"""

#: ``RoleServer.extras`` key of the access-log buffer.
BUFFER_KEY = "sharing-access-log"
#: Rows kept in memory before they are written.
FLUSH_AT = 500


def setup(db: Database) -> None:
    db.ensure(DDL)


def owner_units() -> list[dict[str, Any]]:
    """A unit record for each client of clients.json that acts for an owner (``ownerUscc``), so that the demo
    data hold records those owners own (their own generator: the other demo records do not shift)."""
    from conformance.reference import security  # the clients' file lives beside it

    clients = json.loads(security.CLIENTS_FILE.read_text(encoding="utf-8"))["clients"]
    gen = DataGen(20261207)
    out = []
    for client in clients:
        if client.get("ownerUscc"):
            unit = gen.unit(province="42")
            unit.update(uscc=client["ownerUscc"], equipmentCount=0)
            out.append(unit)
    return out


# ---------------------------------------------------------------------------- open records as catalogued


@functools.cache
def _masking_kinds() -> tuple[str, ...]:
    return tuple(contracts.json_schema("identifiers")["$defs"]["maskingKind"]["enum"])


def masking_of(op: Operation) -> dict[str, str]:
    """Field → masking kind of an open operation (``x-open-masking``; every other field: none)."""
    declared = op.raw.get("x-open-masking") or {}
    unknown = [k for k in declared.values() if k not in _masking_kinds()]
    if unknown:
        raise RuntimeError(f"{op.operation_id}: x-open-masking names unknown masking kinds {unknown}")
    return dict(declared)


def open_fields(op: Operation, ds: sd.DataSet) -> list[dict[str, Any]]:
    """The catalogue's ``openFields`` of an open operation: every field of the record schema and its rule."""
    masking = masking_of(op)
    out = []
    for fname, prop in ds.properties.items():
        entry: dict[str, Any] = {"field": fname}
        title = prop.get("title") if isinstance(prop, dict) else None
        if isinstance(title, str) and title:
            entry["title"] = title[:100]
        entry["masking"] = masking.get(fname, "none")
        out.append(entry)
    return out


#: The suffixes of GB/T 2260 division names, longest first (identifiers.schema.json maskedAddress).
_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "林区",
    "特区",
    "地区",
    "省",
    "市",
    "州",
    "盟",
    "区",
    "县",
    "旗",
)
_DIVISION_PART = re.compile(r"^((?:[^\d*０-９]{1,20}?(?:" + "|".join(_SUFFIXES) + r")){1,3})")
MASKED_DETAIL = "****"


def _division_names(code: Any) -> tuple[str, str] | None:
    """(the names of a division and its superiors as an address writes them — 湖北省武汉市洪山区 —, the same without
    a grouping name that is no division's, such as 省直辖县级行政区划)."""
    if not isinstance(code, str) or len(code) != 6:
        return None
    divisions = code_lists.divisions()
    names: list[str] = []
    for c in (code[:2] + "0000", code[:4] + "00", code):
        name = divisions.get(c, {}).get("name")
        if name and name not in names:
            names.append(name)
    if not names:
        return None
    return "".join(names), "".join(n for n in names if n.endswith(_SUFFIXES))


def mask_address(value: str, division: Any = None) -> str | None:
    """地址：保留行政区划部分，其余替换为 ****（maskedAddress, the project's assumption). The division part is the
    record's own division written out where the address starts with it, else up to three leading name parts
    ending in a division suffix; an address with no such part has no masked form (None)."""
    if _masked_address().match(value):
        return value
    names = _division_names(division)
    out: str | None = None
    if names and names[1] and value.startswith(names[0]) and len(value) > len(names[0]):
        out = names[1] + MASKED_DETAIL
    elif (m := _DIVISION_PART.match(value)) and len(m.group(1)) < len(value):
        out = m.group(1) + MASKED_DETAIL
    return out if out is not None and _masked_address().match(out) else None


@functools.cache
def _masked_address() -> re.Pattern[str]:
    """The contract's masked form of an address (identifiers.schema.json maskedAddress)."""
    return re.compile(contracts.json_schema("identifiers")["$defs"]["maskedAddress"]["pattern"])


def open_view(op: Operation, ds: sd.DataSet, record: dict[str, Any], *, address_clear: bool = False) -> dict[str, Any]:
    """The record an open operation serves: each masked field in its masked form, or left out when the rule
    cannot show it (a landline in a mobile field, an address without a division part)."""
    out = dict(record)
    for fname, kind in masking_of(op).items():
        value = out.get(fname)
        if not isinstance(value, str):
            continue
        new: str | None
        if kind == "citizen-id":
            new = access.mask_citizen_id(value)
        elif kind == "mobile":
            new = access.mask_mobile(value) if access.is_mobile(value) else None
        elif kind == "address":
            new = value if address_clear else mask_address(value, record.get("division"))
        else:
            new = value
        if new is None:
            del out[fname]
        else:
            out[fname] = new
    return out


# ---------------------------------------------------------------------------- directed opening


@functools.cache
def code_defs() -> frozenset[str]:
    """The ``$defs`` of identifiers.schema.json whose values are codes (``opening.dimensions`` ``x-code-defs``)."""
    dims = contracts.json_schema("sharing")["$defs"]["opening"]["properties"]["dimensions"]
    return frozenset(dims["x-code-defs"])


@functools.cache
def dimension_fields(name: str) -> frozenset[str]:
    """Fields of a data set's records that may be aggregation dimensions: values that are codes (an enum, a
    division code, a catalogue code)."""
    ds = sd.data_sets()[name]
    base = contracts.json_schema_id(ds.schema)
    out = set()
    for fname, prop in ds.properties.items():
        if not isinstance(prop, dict):
            continue
        _, defs = sd._schema_marks(prop, base)
        if "enum" in prop or defs & code_defs():
            out.add(fname)
    return frozenset(out)


@operation("createOpening")
async def create_opening(ctx: Ctx) -> Reply:
    body = ctx.body
    ds = sd.data_sets()[body["dataSet"]]
    fingerprint = registered.digest(body, ignore=("createdAt", "createdBy"))
    again = registered.replayed(
        ctx, "sharing_openings", "opening_id", body["openingId"], fingerprint, ("定向开放", "opening")
    )
    if again is not None:
        return again
    allowed = dimension_fields(ds.name)
    wrong = [
        {"path": f"/dimensions/{i}", "message": f"数据集 {ds.name} 的字段“{f}”不能作为汇总维度", "rule": "dimension"}
        for i, f in enumerate(body["dimensions"])
        if f not in allowed
    ]
    if wrong:
        raise bad_request(
            f"汇总维度须为数据集 {ds.name}（{ds.title}）中取值为代码的字段：{', '.join(sorted(allowed))}",
            "a dimension must be a code field of the data set",
            wrong,
        )
    if sd.instant(body["validTo"]) <= time.time():
        raise bad_request(
            "开放截止时间 validTo 早于当前时间",
            "validTo is in the past",
            [{"path": "/validTo", "message": "开放截止时间早于当前时间", "rule": "future"}],
        )
    opening = {**body, "createdAt": now_iso()}
    if ctx.client is not None:
        opening["createdBy"] = ctx.client.id
    with ctx.db.write() as c:
        c.execute(
            "INSERT INTO sharing_openings (opening_id, digest, body) VALUES (?, ?, ?)",
            (body["openingId"], fingerprint, dumps(opening)),
        )
    return Reply(opening, status=201)


@operation("queryOpeningAggregates")
async def query_opening_aggregates(ctx: Ctx) -> Reply:
    opening_id = ctx.path["openingId"]
    row = ctx.db.one("SELECT body FROM sharing_openings WHERE opening_id = ?", opening_id)
    if row is None:
        raise not_found(f"定向开放“{opening_id}”", f"opening {opening_id}")
    opening = loads(row[0])
    caller = ctx.client.id if ctx.client else None
    if caller not in opening["addressees"] and not ctx.defect(D.DIRECTED_OPENING_SERVES_ANYONE):
        raise forbidden("调用方不是该定向开放的开放对象", "the caller is not an addressee of this opening")
    now = time.time()
    if sd.instant(opening["validTo"]) <= now or (opening.get("validFrom") and sd.instant(opening["validFrom"]) > now):
        raise forbidden("该定向开放不在有效期内", "the opening is not valid now")
    ds = sd.data_sets()[opening["dataSet"]]
    dims = list(opening["dimensions"])
    counts: Counter[tuple[Any, ...]] = Counter()
    keys: dict[tuple[Any, ...], list[str]] = {}
    for key, body in ctx.db.all(
        "SELECT key, body FROM records WHERE data_set = ? AND deleted = 0 ORDER BY key", ds.name
    ):
        rec = loads(body)
        group = tuple(v if isinstance(v := rec.get(d), str) else None for d in dims)
        counts[group] += 1
        keys.setdefault(group, []).append(str(key))
    groups = []
    for group, n in sorted(counts.items(), key=lambda kv: tuple("" if v is None else v for v in kv[0])):
        item: dict[str, Any] = {"values": dict(zip(dims, group, strict=True)), "count": n}
        if ctx.defect(D.DIRECTED_OPENING_LEAKS_RECORDS):
            item["recordKeys"] = keys[group][:3]  # "for drilling down": the first records of the group
        groups.append(item)
    return Reply(
        {
            "openingId": opening_id,
            "dataSet": ds.name,
            "dimensions": dims,
            "total": sum(counts.values()),
            "groups": groups,
            "generatedAt": now_iso(),
        }
    )


# ---------------------------------------------------------------------------- access tracking


def _records_of(items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if isinstance(item, orjson.Fragment):
            item = orjson.loads(orjson.dumps(item))  # a stored record served unparsed
        if isinstance(item, dict):
            out.append(item)
    return out


def _clear_fields(ds: sd.DataSet, record: dict[str, Any]) -> list[str]:
    """The sensitive fields a served record shows in clear (masking would change them)."""
    masked = access.mask(ds, record)
    return [f for f in ds.sensitive if f in record and masked.get(f) != record.get(f)]


def _grant_id(db: Database, client: str, ds: sd.DataSet, owner: str) -> str | None:
    row = db.one(
        "SELECT grant_id FROM sharing_grants WHERE grantee = ? AND data_set = ? AND owner = ? AND valid_to > ? "
        "ORDER BY valid_to DESC LIMIT 1",
        client,
        ds.name,
        owner,
        time.time(),
    )
    return str(row[0]) if row else None


def track(ctx: Ctx, ds: sd.DataSet, items: list[Any], basis: str) -> None:
    """Note a read that served ``items`` (records or stored JSON fragments): one row per request, holding per owner
    the keys read, the fields shown in clear and the basis (a page of equipment touches many owners; one row keeps
    the log as small as the audit log)."""
    if ds.owner is None or ctx.client is None or not items:
        return
    by_owner: dict[str, tuple[list[str], set[str]]] = {}
    for rec in _records_of(items):
        owner = rec.get(ds.owner)
        key = rec.get(ds.key)
        if not isinstance(owner, str) or not isinstance(key, str):
            continue
        keys, clear = by_owner.setdefault(owner, ([], set()))
        keys.append(key)
        clear.update(_clear_fields(ds, rec))
    owners: dict[str, dict[str, Any]] = {}
    for owner, (keys, clear) in by_owner.items():
        part: dict[str, Any] = {
            "recordKeys": keys[:1000],
            "clearFields": sorted(clear),
            "basis": "grant" if clear else basis,
        }
        if clear:
            if ctx.defect(D.ACCESS_LOG_HIDES_GRANT_READS):
                continue  # what the owner granted is "its own business": grant reads are not noted
            grant = _grant_id(ctx.db, ctx.client.id, ds, owner)
            if grant:
                part["grantId"] = grant
        owners[owner] = part
    if not owners:
        return
    common: dict[str, Any] = {"time": now_iso(), "clientId": ctx.client.id, "action": ctx.op.operation_id}
    common["dataSet"] = ds.name
    if ctx.request_id:
        common["requestId"] = ctx.request_id
    buffer = ctx.server.extras.setdefault(BUFFER_KEY, [])
    marks = "|" + "|".join(owners) + "|"
    buffer.append((time.time(), dumps({"common": common, "owners": owners}), marks, ds.name))
    if len(buffer) >= FLUSH_AT:
        flush(ctx)


def flush(ctx: Ctx) -> None:
    buffer = ctx.server.extras.get(BUFFER_KEY)
    if not buffer:
        return
    rows, buffer[:] = list(buffer), []
    with ctx.db.write() as c:
        c.executemany("INSERT INTO sharing_access_log (at, body, owners, data_set) VALUES (?, ?, ?, ?)", rows)


@operation("queryAccessLog")
async def query_access_log(ctx: Ctx) -> Reply:
    owner = ctx.client.owner_uscc if ctx.client else None
    if owner is None:
        raise forbidden(
            "调用方不代表任何数据所属主体（平台与审计员请用审计查询）",
            "the caller acts for no data owner (the platform and auditors use the audit query)",
        )
    asked = ctx.query.get("ownerUscc")
    if asked is not None and asked != owner:
        raise forbidden("调用方不代表 ownerUscc 所指的数据所属主体", "caller does not act for ownerUscc")
    start, end = ctx.query.get("from"), ctx.query.get("to")
    if start and end and sd.instant(end) < sd.instant(start):
        raise bad_request(
            "查询条件 to 早于 from",
            "to is before from",
            [{"path": "/query/to", "message": "to 不得早于 from", "rule": "range"}],
        )
    flush(ctx)
    where, args = ["instr(owners, ?) > 0"], [f"|{owner}|"]
    if ctx.query.get("dataSet"):
        where.append("data_set = ?")
        args.append(ctx.query["dataSet"])
    if start:
        where.append("at >= ?")
        args.append(int(sd.instant(start)))
    if end:
        where.append("at < ?")
        args.append(int(sd.instant(end)) + 1)
    cond = " AND ".join(where)
    page = int(sd.param_value(ctx.op, ctx.query, "page"))
    size = int(sd.param_value(ctx.op, ctx.query, "size"))
    total = ctx.db.one(f"SELECT COUNT(*) FROM sharing_access_log WHERE {cond}", *args)[0]
    rows = ctx.db.all(
        f"SELECT body FROM sharing_access_log WHERE {cond} ORDER BY seq LIMIT ? OFFSET ?",
        *args,
        size,
        (page - 1) * size,
    )
    items = []
    for (body,) in rows:
        row = loads(body)
        items.append({**row["common"], "ownerUscc": owner, **row["owners"][owner]})
    return Reply({"page": page, "size": size, "total": total, "items": items})
