"""特种设备检验检测信息系统 (inspection): DB42/T 2279-2024 §10.3 表6.

* **T6-1 检验检测信息查询** ``GET /api/v1/inspection-reports/{reportNo}`` — the latest version
  of a report; unknown report numbers are 404. Seeded: one report per generated equipment
  (2 000 with ``--seed``), issued by the province's 特种设备检验检测研究院 or a prefecture's
  检验检测所 (generated USCCs, pair 12 事业单位). ``report_numbers(db)`` lists them.
* **T6-2 异议数据反馈** ``POST /api/v1/objections`` — idempotent by ``messageId``
  (``roles/messages.py``): first 201 with ``Location`` → ``GET /api/v1/objections/{objectionId}``
  and status ``received``; a repeat 200 ``duplicate: true``; the same id with other content
  409. The report must exist (400, ``/reportNo``) and, when given, ``equipmentCode`` must be
  the report's (400, ``/equipmentCode``); ``callbackUrl`` must be http(s) (400).

Checking and correction (表6 序号2: 由检验机构对数据进行核校后重新推送至行政许可系统)
----------------------------------------------------------------------------------
The check is **not immediate**: it runs in a background task of the role, like the
inspection body's own review. The task picks a new objection up at once (status
``checking``) and decides it ``CORRECTION_DELAY`` (0.5 s; a server may set
``extras["inspection.correction_delay"]``) after receipt; the state is in the database, so
pending checks survive a restart. The decision:

* each item's ``field`` is a JSON Pointer into the report; it is applied — the value set to
  ``declared`` — when it names a string field that exists in the report (or a top-level
  optional property of ``inspection-report.schema.json``), is not one of ``/reportNo``,
  ``/version``, ``/correctionOf``, ``/issuedAt``, ``/updatedAt``, and the report stays valid
  against the schema with the new value (a declared ``conclusion`` outside the enum, an
  invalid USCC … are not applied). ``recorded`` is not compared: the declared value from
  the application materials wins once checked.
* if at least one item applies, a corrected report is issued: ``version`` + 1,
  ``correctionOf`` = the objection's ``messageId``, ``updatedAt`` = now; T6-1 serves it from
  then on, the objection becomes ``corrected`` with ``correctedVersion``, and the report is
  re-pushed through the outbox (``reference/outbox.py``: retried with the same body until
  2xx) — to ``callbackUrl`` when the objection gave one, else to the licensing counterpart's
  ``POST /api/v1/inspection-reports`` (licensing.yaml ``receiveCorrectedInspectionReport``)
  when ``server.counterparts`` has ``licensing``; otherwise it is only served by T6-1.
* if no item applies the objection is ``rejected`` (维持原数据): no new version, no push.

A ``callbackUrl`` is split at ``/api/`` into the base (where ``/oauth/token`` is asked for a
token as the ``inspection-system`` client) and the path; without ``/api/`` the base is the
origin. A server serving a binding asks for the token and pushes the report in the binding's
dialect (the token request at the dialect's token path under that base, the report to the URL
as given).

With the defect ``objection-no-correction`` objections are recorded and go to
``checking``, but no correction is ever made (nor pushed).

The ``pushCorrectedReport`` callback of inspection.yaml is this outgoing push, not a route.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import functools
import logging
import random
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from conformance.check.schema import validator
from conformance.clock import CHINA
from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.contract import documents as contracts
from conformance.contract.openapi import declared_callback
from conformance.reference import outbox
from conformance.reference.context import CALLBACK_TARGETS_KEY, SEEDERS, SETUPS, Ctx, Reply, now_iso, operation
from conformance.reference.db import Database, dumps, loads
from conformance.reference.defects import D
from conformance.reference.errors import field_error, not_found
from conformance.reference.roles.messages import once
from conformance.reference.server_state import RoleServer

log = logging.getLogger("tzsb.reference.inspection")

CORRECTION_DELAY = 0.5
PROTECTED = frozenset({"/reportNo", "/version", "/correctionOf", "/issuedAt", "/updatedAt"})
LICENSING_PATH = "/api/v1/inspection-reports"

DDL = """
CREATE TABLE IF NOT EXISTS insp_reports (
  report_no TEXT PRIMARY KEY, version INTEGER NOT NULL, equipment_code TEXT NOT NULL, body BLOB NOT NULL,
  updated_at TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS insp_reports_by_equipment ON insp_reports (equipment_code);
CREATE TABLE IF NOT EXISTS insp_report_versions (
  report_no TEXT NOT NULL, version INTEGER NOT NULL, body BLOB NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (report_no, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS insp_equipment (equipment_code TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS insp_objections (
  objection_id TEXT PRIMARY KEY, message_id TEXT NOT NULL, report_no TEXT NOT NULL, body BLOB NOT NULL,
  status TEXT NOT NULL, received_at TEXT NOT NULL, due_at REAL NOT NULL, corrected_version INTEGER,
  applied TEXT, push_target TEXT, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS insp_objections_open ON insp_objections (status, due_at);
"""


def setup(server: RoleServer) -> None:
    server.db.ensure(DDL)
    outbox.setup(server)
    server.add_background(run_corrections)
    # callback targets of pushes still pending from an earlier run
    for (target,) in server.db.all(
        "SELECT DISTINCT target FROM outbox WHERE sender = ? AND status = 'pending' AND target LIKE 'callback:%'",
        server.role,
    ):
        _register_callback(server, target, target.removeprefix("callback:"))


SETUPS["inspection"] = setup


# ------------------------------------------------------------------------------ reports
def get_report(db: Database, report_no: str) -> dict[str, Any] | None:
    row = db.one("SELECT body FROM insp_reports WHERE report_no = ?", report_no)
    return loads(row[0]) if row else None


def report_versions(db: Database, report_no: str) -> list[dict[str, Any]]:
    """Every version of a report, oldest first."""
    return [
        loads(r[0])
        for r in db.all("SELECT body FROM insp_report_versions WHERE report_no = ? ORDER BY version", report_no)
    ]


def report_numbers(db: Database, limit: int | None = None) -> list[str]:
    return [
        r[0]
        for r in db.all("SELECT report_no FROM insp_reports ORDER BY report_no LIMIT ?", -1 if limit is None else limit)
    ]


def get_equipment(db: Database, equipment_code: str) -> dict[str, Any] | None:
    row = db.one("SELECT body FROM insp_equipment WHERE equipment_code = ?", equipment_code)
    return loads(row[0]) if row else None


def store_report(db: Database, report: dict[str, Any], at: str | None = None) -> None:
    """Insert or replace the current version of a report and keep the version (caller's transaction)."""
    at = at or now_iso()
    db.conn.execute(
        "INSERT INTO insp_reports (report_no, version, equipment_code, body, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(report_no) DO UPDATE SET version = excluded.version, body = excluded.body, "
        "updated_at = excluded.updated_at",
        (report["reportNo"], report["version"], report["equipmentCode"], dumps(report), at),
    )
    db.conn.execute(
        "INSERT OR REPLACE INTO insp_report_versions (report_no, version, body, created_at) VALUES (?, ?, ?, ?)",
        (report["reportNo"], report["version"], dumps(report), at),
    )


@operation("getInspectionReport")
async def get_inspection_report(ctx: Ctx) -> Reply:
    report = get_report(ctx.db, ctx.path["reportNo"])
    if report is None:
        raise not_found(f"检验报告 {ctx.path['reportNo']} ", f"inspection report {ctx.path['reportNo']}")
    return Reply(report)


# ------------------------------------------------------------------------------ objections
def _objection_view(row: tuple[Any, ...]) -> dict[str, Any]:
    oid, mid, report_no, status, received, corrected = row
    out: dict[str, Any] = {
        "objectionId": oid,
        "messageId": mid,
        "reportNo": report_no,
        "status": status,
        "receivedAt": received,
        "duplicate": False,
    }
    if corrected is not None:
        out["correctedVersion"] = corrected
    return out


def objection_state(db: Database, objection_id: str) -> dict[str, Any] | None:
    row = db.one(
        "SELECT objection_id, message_id, report_no, status, received_at, corrected_version FROM insp_objections "
        "WHERE objection_id = ?",
        objection_id,
    )
    return _objection_view(row) if row else None


def _new_objection_id(db: Database) -> str:
    today = dt.datetime.now(CHINA).strftime("%Y%m%d")
    n = db.one("SELECT COUNT(*) FROM insp_objections WHERE objection_id LIKE ?", f"YY-{today}-%")[0]
    return f"YY-{today}-{n + 1:06d}"


@operation("submitObjection")
async def submit_objection(ctx: Ctx) -> Reply:
    body = ctx.body
    report = get_report(ctx.db, body["reportNo"])
    if report is None:
        raise field_error(
            "/reportNo", f"检验报告 {body['reportNo']} 不存在", f"inspection report {body['reportNo']} not found"
        )
    if body.get("equipmentCode") and body["equipmentCode"] != report["equipmentCode"]:
        raise field_error(
            "/equipmentCode",
            f"设备代码 {body['equipmentCode']} 与检验报告的设备代码 {report['equipmentCode']} 不符",
            "equipmentCode differs from the report's",
        )
    if body.get("callbackUrl") and urlsplit(body["callbackUrl"]).scheme not in ("http", "https"):
        raise field_error("/callbackUrl", "回推地址须为 http 或 https 地址", "callbackUrl must be an http(s) URL")
    delay = float(ctx.server.extras.get("inspection.correction_delay", CORRECTION_DELAY))
    holder: dict[str, str] = {}

    def process() -> tuple[int, dict[str, Any]]:
        at = now_iso()
        oid = _new_objection_id(ctx.db)
        holder["id"] = oid
        ctx.db.conn.execute(
            "INSERT INTO insp_objections (objection_id, message_id, report_no, body, status, received_at, "
            "due_at, updated_at) VALUES (?, ?, ?, ?, 'received', ?, ?, ?)",
            (oid, body["messageId"], body["reportNo"], dumps(body), at, time.time() + delay, at),
        )
        return 201, _objection_view((oid, body["messageId"], body["reportNo"], "received", at, None))

    reply = await once(ctx, "inspection.T6-2", body, process)
    if reply.status == 201:
        reply.headers["Location"] = f"{ctx.base_url}/api/v1/objections/{holder['id']}"
    return reply


@operation("getObjection")
async def get_objection(ctx: Ctx) -> Reply:
    state = objection_state(ctx.db, ctx.path["objectionId"])
    if state is None:
        raise not_found(f"异议 {ctx.path['objectionId']} ", f"objection {ctx.path['objectionId']}")
    return Reply(state)


# ------------------------------------------------------------------------------ correction
def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


@functools.cache
def _top_level_strings() -> frozenset[str]:
    props = contracts.json_schema("inspection-report")["properties"]
    return frozenset(k for k, p in props.items() if p.get("type") in (None, "string") and "items" not in p)


def _set(report: dict[str, Any], pointer: str, value: str) -> bool:
    """Set the string field at ``pointer`` (only existing fields, or a top-level optional string property)."""
    tokens = _tokens(pointer)
    if not tokens or any(t == "" for t in tokens):
        return False
    node: Any = report
    for t in tokens[:-1]:
        if isinstance(node, dict) and t in node:
            node = node[t]
        elif isinstance(node, list) and t.isdigit() and int(t) < len(node):
            node = node[int(t)]
        else:
            return False
    last = tokens[-1]
    if isinstance(node, dict):
        if last in node:
            if not isinstance(node[last], str):
                return False
        elif not (node is report and last in _top_level_strings()):
            return False
        node[last] = value
        return True
    if isinstance(node, list) and last.isdigit() and int(last) < len(node) and isinstance(node[int(last)], str):
        node[int(last)] = value
        return True
    return False


def correct(report: dict[str, Any], objection: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The corrected report (or None) and the fields applied, per the module docstring's rules."""
    v = validator("inspection-report")
    new = copy.deepcopy(report)
    applied: list[str] = []
    for item in objection["items"]:
        pointer = item["field"]
        if pointer in PROTECTED:
            continue
        trial = copy.deepcopy(new)
        if _set(trial, pointer, item["declared"]) and v.is_valid(trial):
            new = trial
            applied.append(pointer)
    if not applied:
        return None, []
    new["version"] = report["version"] + 1
    new["correctionOf"] = objection["messageId"]
    new["updatedAt"] = now_iso()
    if not v.is_valid(new):  # pragma: no cover - version beyond 999
        return None, []
    return new, applied


def _callback_target(server: RoleServer, url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path or "/"
    at = path.find("/api/")
    base, rest = (origin + path[:at], path[at:]) if at >= 0 else (origin, path)
    if parts.query:
        rest += "?" + parts.query
    target = f"callback:{base}"
    _register_callback(server, target, base)
    return target, rest


def _register_callback(server: RoleServer, target: str, base: str) -> None:
    """A callback URL's base as an outbox target, the corrected-report callback it receives (sent in the dialect
    of a binding the server serves, ``reference/outbox.py``)."""
    server.counterparts.setdefault(target, base)
    server.extras.setdefault(CALLBACK_TARGETS_KEY, {})[target] = declared_callback(
        "inspection", "submitObjection"
    ).operation_id


def process_due(server: RoleServer) -> int:
    """Move new objections to ``checking`` and decide those whose time has come; returns how many were decided."""
    db = server.db
    now = time.time()
    if db.one("SELECT 1 FROM insp_objections WHERE status = 'received' LIMIT 1"):
        with db.write() as c:
            c.execute(
                "UPDATE insp_objections SET status = 'checking', updated_at = ? WHERE status = 'received'", (now_iso(),)
            )
    if D.OBJECTION_NO_CORRECTION in server.defects:
        return 0
    due = db.all(
        "SELECT objection_id, body FROM insp_objections WHERE status = 'checking' AND due_at <= ? "
        "ORDER BY due_at LIMIT 50",
        now,
    )
    for oid, blob in due:
        objection = loads(blob)
        with db.write() as c:
            report = get_report(db, objection["reportNo"])
            new, applied = correct(report, objection) if report else (None, [])
            at = now_iso()
            if new is None:
                c.execute(
                    "UPDATE insp_objections SET status = 'rejected', applied = '[]', updated_at = ? WHERE objection_id = ?",
                    (at, oid),
                )
                continue
            store_report(db, new, at)
            target = None
            if objection.get("callbackUrl"):
                target, path = _callback_target(server, objection["callbackUrl"])
            elif "licensing" in server.counterparts:
                target, path = "licensing", LICENSING_PATH
            if target is not None:
                outbox.enqueue(
                    server, target, path, new, message_id=objection["messageId"], topic=f"inspection.correction:{oid}"
                )
            c.execute(
                "UPDATE insp_objections SET status = 'corrected', corrected_version = ?, applied = ?, push_target = ?, "
                "updated_at = ? WHERE objection_id = ?",
                (new["version"], orjson.dumps(applied).decode(), target, at, oid),
            )
    return len(due)


async def run_corrections(server: RoleServer, stop: asyncio.Event) -> None:
    """Background task: the inspection body's check of objections (see the module docstring)."""
    while not stop.is_set():
        try:
            process_due(server)
        except Exception:  # pragma: no cover - logged, retried on the next tick
            log.exception("objection check failed")
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------------------ demo data
@functools.cache
def inspection_body(division: str) -> dict[str, Any]:
    """A (generated) inspection organisation of a province (``xx0000``) or prefecture."""
    div = code_lists.divisions()[division]
    rng = random.Random(f"tzsb-reference:inspection-body:{division}")
    name = f"{div['name']}特种设备检验检测研究院" if div["level"] == "province" else f"{div['name']}特种设备检验检测所"
    return {
        "uscc": KINDS["uscc"].generate(rng, pair="12", division=division),
        "name": name,
        "unitType": "inspection",
        "division": division,
    }


def seed(server: RoleServer, gen: Any, count: int = 2000) -> None:
    db, rng = server.db, gen.rng
    divisions = code_lists.divisions()
    reports, equipment = [], []
    seen: set[str] = set()
    for eq in gen.equipment_stream(count):
        prefecture = eq["division"][:4] + "00"
        local = prefecture in divisions and divisions[prefecture]["level"] == "prefecture" and rng.random() < 0.3
        org = inspection_body(prefecture if local else eq["division"][:2] + "0000")
        report = gen.inspection_report(eq, org)
        report["updatedAt"] = max(report["updatedAt"], report["issuedAt"])  # never updated before its issue
        if report["reportNo"] in seen:
            continue
        seen.add(report["reportNo"])
        reports.append(report)
        equipment.append(eq)
    with db.write() as c:
        c.executemany(
            "INSERT OR IGNORE INTO insp_equipment (equipment_code, body) VALUES (?, ?)",
            [(e["equipmentCode"], dumps(e)) for e in equipment],
        )
        c.executemany(
            "INSERT OR IGNORE INTO insp_reports (report_no, version, equipment_code, body, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(r["reportNo"], 1, r["equipmentCode"], dumps(r), r["updatedAt"]) for r in reports],
        )
        c.executemany(
            "INSERT OR IGNORE INTO insp_report_versions (report_no, version, body, created_at) VALUES (?, 1, ?, ?)",
            [(r["reportNo"], dumps(r), r["issuedAt"]) for r in reports],
        )


SEEDERS["inspection"] = seed
