"""The inspection report a case names (``equipment.reportNo``) as the licensing role holds it, and what it does with it
(DB42/T 2279-2024 §7.1.5 f), §7.2.2 a), §7.2.5 f), 表6): everything declared in ``schemas/codelists/workflow.json``
``inspectionData``.

* The report is looked up (T6-1) when the application arrives (:func:`look_up`); the system holds the look-up's
  answer or a corrected report the inspection system re-pushed later (表6 序号2), the newest version winning.
* Pre-fill (§7.1.5 f): each field of ``inspectionData.fields`` the application left empty takes the report's value,
  unchanged; a field the applicant filled in is kept (a difference is the matter of an objection). 制证 reads the
  pre-filled equipment code and original registration number (``workflow._certify``).
* Objection (§7.2.5 f, T6-2): an examiner of 受理 or 审查 names report fields that differ from the application; the
  objection is fed back to the inspection system through the outbox with, per field, the value the report records
  and the value the application declares.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import time
import uuid
from typing import Any
from urllib.parse import quote

import orjson

from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import pointer_get
from conformance.reference import outbox
from conformance.reference.context import now_iso
from conformance.reference.db import loads
from conformance.reference.errors import bad_request, conflict, forbidden
from conformance.reference.roles.licensing import store
from conformance.reference.roles.licensing.procedure import pending, role_names, states, steps, workflow
from conformance.reference.roles.licensing.reports import path_of
from conformance.reference.server_state import RoleServer
from conformance.serving.params import entry

Item = dict[str, Any]
INSPECTION = "inspection"
#: How long an objection waits for the T6-1 answer of a report looked up moments ago (seconds).
REPORT_WAIT_S = 10.0


@functools.cache
def conf() -> Item:
    return workflow()["inspectionData"]


@functools.cache
def fields() -> dict[str, Item]:
    """Report pointer → the field's entry (its application pointer and name)."""
    return {f["report"]: f for f in conf()["fields"]}


def report_no(case: store.Case) -> str | None:
    no = case.equipment.get("reportNo")
    return str(no) if no else None


def look_up(server: RoleServer, application: Item) -> None:
    """On receipt of an application (T5-5, first or re-submitted): the report it names (T6-1), unless this case has
    already looked that report up. Queued in the push's transaction, answered in the look-up queue."""
    no = application["equipment"].get("reportNo")
    if not no:
        return
    key, case_no = conf()["lookup"], application["caseNo"]
    path = path_of(INSPECTION, key).replace("{reportNo}", quote(str(no), safe=""))
    if server.db.one(
        "SELECT 1 FROM lookups WHERE sender = ? AND kind = ? AND topic = ? AND path = ?",
        server.role,
        key,
        case_no,
        path,
    ):
        return
    outbox.lookup(server, INSPECTION, path, None, kind=key, topic=case_no)


def held_report(server: RoleServer, case: store.Case) -> Item | None:
    """The newest version of the case's report the system holds: its T6-1 answer or a corrected re-push."""
    no = report_no(case)
    if no is None:
        return None
    found: list[Item] = []
    row = server.db.one(
        "SELECT result FROM lookups WHERE sender = ? AND kind = ? AND topic = ? AND status = 'done' "
        "AND result IS NOT NULL ORDER BY id DESC LIMIT 1",
        server.role,
        conf()["lookup"],
        case.case_no,
    )
    if row is not None:
        answer = orjson.loads(row[0])
        if isinstance(answer, dict) and answer.get("reportNo") == no:
            found.append(answer)
    row = server.db.one("SELECT body FROM lic_reports WHERE report_no = ? ORDER BY version DESC LIMIT 1", no)
    if row is not None:
        found.append(loads(row[0]))
    return max(found, key=lambda r: int(r.get("version") or 0), default=None)


def _set(doc: Item, pointer: str, value: Any) -> None:
    *parents, last = pointer.strip("/").split("/")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[last] = value


def prefilled(server: RoleServer, case: store.Case) -> Item:
    """The application with each field of ``inspectionData.fields`` it left empty taken from the held report (§7.1.5 f);
    the stored application is not changed."""
    app = copy.deepcopy(case.application)
    report = held_report(server, case)
    if report is None:
        return app
    for f in conf()["fields"]:
        value = pointer_get(report, f["report"])
        if value not in (None, "") and pointer_get(app, f["application"]) in (None, ""):
            _set(app, f["application"], value)
    return app


# ---------------------------------------------------------------------------------- objection (T6-2)
def objection_items(case: store.Case, role: str | None, body: Item) -> list[tuple[Item, Any, str]]:
    """The fields objected to, each with the value the application declares and the reason: 403 for a post that is
    not an examiner of 受理 / 审查, 409 when the case is not at one of those steps or names no report, 400 for a field
    that is not an inspection field or that the application does not fill."""
    objection = conf()["objection"]
    if role not in objection["roles"]:
        allowed = "、".join(role_names()[r] for r in objection["roles"])
        raise forbidden(
            f"岗位“{role_names().get(role or '', '无岗位')}”不能提出检验数据异议（应为：{allowed}）",
            f"role {role} may not raise an objection (allowed: {', '.join(objection['roles'])})",
        )
    st = states()[case.state]
    at = (case.procedure or {}).get("step") if case.state == "suspended" else pending(case.state)
    if st.get("terminal") or at not in objection["allowedIn"]:
        names = "、".join(steps()[s]["name"] for s in objection["allowedIn"])
        raise conflict(
            f"办件当前状态为“{st['name']}”：只有处于{names}环节的办件可以提出检验数据异议",
            f"the case is in state {case.state}: an objection is raised at {', '.join(objection['allowedIn'])} only",
            ErrorCode.STATE_CONFLICT,
        )
    if report_no(case) is None:
        raise conflict(
            f"办件 {case.case_no} 的申请没有引用检验报告（equipment.reportNo），无从提出检验数据异议",
            f"the application of case {case.case_no} names no inspection report",
        )
    out: list[tuple[Item, Any, str]] = []
    errors = []
    for i, item in enumerate(body["items"]):
        f = fields().get(item["field"])
        declared = pointer_get(case.application, f["application"]) if f is not None else None
        if f is None:
            known = "、".join(fields())
            errors.append(
                entry(
                    f"/items/{i}/field",
                    f"不是检验数据项（可选：{known}）",
                    f"not an inspection field ({known})",
                    "enum",
                )
            )
        elif declared in (None, ""):
            errors.append(
                entry(
                    f"/items/{i}/field",
                    f"申请中没有“{f['name']}”（{f['application']}），无申报值可比",
                    f"the application has no {f['application']}",
                    "declared",
                )
            )
        else:
            out.append((f, declared, item["reason"]))
    if errors:
        raise bad_request("异议项不能比对 / objection items cannot be compared", "invalid objection items", errors)
    return out


async def settled(server: RoleServer, case_no: str) -> None:
    """Wait (at most :data:`REPORT_WAIT_S`) while the case's report look-up is still under way, so that what uses the
    report (制证's pre-fill) sees its answer; a look-up that failed leaves the application as it is."""
    deadline = time.monotonic() + REPORT_WAIT_S
    while time.monotonic() < deadline:
        row = server.db.one(
            "SELECT 1 FROM lookups WHERE sender = ? AND kind = ? AND topic = ? AND status = 'pending'",
            server.role,
            conf()["lookup"],
            case_no,
        )
        if row is None:
            return
        await asyncio.sleep(0.05)


async def awaited_report(server: RoleServer, case: store.Case) -> Item:
    """The held report, waiting a moment for a look-up still under way; 409 when the system has none."""
    deadline = time.monotonic() + REPORT_WAIT_S
    while True:
        report = held_report(server, case)
        if report is not None:
            return report
        if time.monotonic() >= deadline:
            raise conflict(
                f"尚未取得检验报告 {report_no(case)}（T6-1），无检验数据值可比",
                f"inspection report {report_no(case)} not obtained yet (T6-1)",
                ErrorCode.STATE_CONFLICT,
            )
        await asyncio.sleep(0.1)


def raise_objection(
    server: RoleServer, case: store.Case, report: Item, items: list[tuple[Item, Any, str]], operator_name: str
) -> Item:
    """Queue the objection (T6-2) to the inspection system; returns the message."""
    body: Item = {
        "messageId": f"lic-{uuid.uuid4().hex}",
        "reportNo": report["reportNo"],
        "equipmentCode": report["equipmentCode"],
        "caseNo": case.case_no,
        "raisedBy": conf()["objection"]["raisedBy"],
        "raiserName": operator_name,
        "raisedAt": now_iso(),
        "items": [
            {
                "field": f["report"],
                "recorded": str(pointer_get(report, f["report"]) or "（检验报告无此项）")[:500],
                "declared": str(declared)[:500],
                "reason": reason,
            }
            for f, declared, reason in items
        ],
    }
    key = conf()["objection"]["reportBack"]
    outbox.enqueue(server, INSPECTION, path_of(INSPECTION, key), body, message_id=body["messageId"], topic=case.case_no)
    return body
