"""Outgoing calls of the licensing role, enqueued in the outbox inside the step's transaction.

* Report-backs to the government-service platform (表5 序号6–10): the interface comes from the
  outcome's ``reportBack`` in workflow.json (T5-6 补齐补正, T5-7 受理 / 不予受理, T5-8 each
  step after acceptance, the 决定 step's with its decision document (§7.4.2 c), T5-9 特别程序 start and
  end, T5-10 办件结果 at 办结); the path is the one
  gov-platform.yaml gives the operation carrying that ``x-interface``; the body follows
  case-status.schema.json and always names the case number and item code of the case.
* At 发证 (§7.4.4, §7.4.5 c): the e-licence is aggregated into the provincial library (T5-11,
  licence-certificate.schema.json), the using unit and the registration are reported to the
  supervision system (T7-1, T7-2) and the applicant gets an SMS (sendSms, §7.4.5 c 4).

T5-10 is sent once, at the first 办结: the exchange with the platform ends there (§7.5.2 c); an
办结 repeated after a 预归档退回 is internal and reports nothing again.

Look-ups (``outbox.lookup``, answers kept in the ``lookups`` table):

* on receipt of a new application (T5-5): the applicant's identity from unified identity
  authentication by ``applicant.userId`` (T5-3 natural person / T5-4 legal person, §7.1.5 a), and the
  item library of the authority's division (T5-1 implementation list, T5-2 handling items, §4.7 b,
  §7.1.5 b) unless synchronised within ``TZSB_ITEM_SYNC_TTL`` seconds (default 3600);
* the inspection report the application names (T6-1, 表6 序号1) is looked up on receipt too, by
  ``inspection_data.look_up`` (§7.1.5 f, §7.2.2 a "获取检验检测系统…数据信息").

Client-side defect switches (``reference/defects/declared.py``): ``no-report-back`` (the T5-8 of 审查 is never sent),
``report-back-wrong-order`` (the T5-7 of 受理 is held back and sent after the T5-10 result),
``wrong-case-number`` (T5-6…T5-10 name the system's internal number instead of the platform's),
``decision-without-document`` (the T5-8 of 决定 without its decision document), ``no-t7-2-on-change`` (only first
registrations are reported to supervision: no T7-2 for a change, cancellation or scrapping item);
``refusal-leaks-licence`` lives in ``workflow.perform_step``.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from typing import Any
from urllib.parse import quote

from conformance.codes import lists as code_lists
from conformance.contract.openapi import role_operations
from conformance.datagen.licensing import licence_detail
from conformance.reference import outbox
from conformance.reference.context import now_iso
from conformance.reference.defects import D
from conformance.reference.roles.licensing import store
from conformance.reference.roles.licensing.dossier import bare_notice
from conformance.reference.roles.licensing.procedure import outcomes, special, steps
from conformance.reference.server_state import RoleServer, setting

Item = dict[str, Any]
GOV = "gov-platform"
SUPERVISION = "supervision"


@functools.cache
def registered_status() -> str:
    """The registration status a first registration leaves (licence-items.json, operation of a new-registration
    item): any other is a change, a cancellation, a suspension or a scrapping."""
    return str(code_lists.licence_operations()["01"]["registrationStatus"])


def operation_of(case: store.Case) -> Item:
    """The Table 1 operation (OO) of the case's item as licence-items.json gives it: the registration, equipment and
    licence status a licence for it leaves behind and whether the original registration number stays (profile
    PROFILE.DB42.10.4.T7-2). An item tolerated outside Table 1 (a defect) counts as a first registration."""
    ops = code_lists.licence_operations()
    return ops.get(case.item_code.split("-")[-1]) or ops["01"]


@functools.cache
def path_of(role: str, key: str) -> str:
    """The path of the ``role`` operation whose ``x-interface`` or operation id is ``key``."""
    for op in role_operations(role):
        if op.interface == key or op.operation_id == key:
            return op.path
    raise KeyError(f"{role} has no operation for {key}")


#: The report-backs that name the case by its platform case number (表5 序号6–10: "根据办件编号").
CASE_REPORTS = ("T5-6", "T5-7", "T5-8", "T5-9", "T5-10")


def internal_number(case_no: str) -> str:
    """``wrong-case-number``: the number the vendor's system gives the case internally."""
    return "LIC" + hashlib.sha256(case_no.encode()).hexdigest()[:12].upper()


def _send(server: RoleServer, target: str, key: str, body: Item, case_no: str) -> int:
    if key in CASE_REPORTS and D.WRONG_CASE_NUMBER in server.defects:
        body = {**body, "caseNo": internal_number(case_no)}
        path = path_of(target, key).replace("{caseNo}", quote(body["caseNo"], safe=""))
    else:
        path = path_of(target, key).replace("{caseNo}", quote(case_no, safe=""))
    return outbox.enqueue(server, target, path, body, message_id=body.get("messageId"), topic=case_no)


def _hold(server: RoleServer, row: int) -> None:
    """``report-back-wrong-order``: the acceptance is queued but held (not sent) until the result."""
    with server.db.write() as c:
        c.execute("UPDATE outbox SET status = 'held' WHERE id = ?", (row,))


def _release_held(server: RoleServer, case_no: str) -> None:
    """Send the held calls of a case after everything queued so far (new rows: the outbox keeps id order)."""
    with server.db.write() as c:
        rows = c.execute(
            "SELECT id, target, method, path, body, message_id FROM outbox WHERE topic = ? AND status = 'held' "
            "ORDER BY id",
            (case_no,),
        ).fetchall()
        for row in rows:
            c.execute("DELETE FROM outbox WHERE id = ?", (row[0],))
            c.execute(
                "INSERT INTO outbox (sender, target, method, path, body, message_id, topic, created_at, next_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (server.role, row[1], row[2], row[3], row[4], row[5], case_no, time.time(), time.time()),
            )


def message_id() -> str:
    return f"lic-{uuid.uuid4().hex}"


def _base(case: store.Case, operator: Item, opinion: str) -> Item:
    return {
        "messageId": message_id(),
        "caseNo": case.case_no,
        "itemCode": case.item_code,
        "reportedAt": now_iso(),
        "operator": operator,
        "opinion": opinion,
    }


def correction_items(opinion: str) -> list[Item]:
    """一次性补正: one item per line of the opinion (``材料：原因``), at least one."""
    items = []
    for line in opinion.splitlines():
        line = line.strip(" 　-·•")
        if not line:
            continue
        for sep in ("：", ":"):
            if sep in line:
                material, reason = line.split(sep, 1)
                if material.strip() and reason.strip():
                    items.append({"material": material.strip()[:100], "reason": reason.strip()[:500]})
                    break
        else:
            items.append({"material": "申请材料", "reason": line[:500]})
    return items[:100] or [{"material": "申请材料", "reason": opinion[:500]}]


def report_back(
    server: RoleServer,
    case: store.Case,
    step: str,
    outcome: Item,
    operator: Item,
    opinion: str,
    at: str,
    started: str | None,
    notice: Item | None,
    *,
    first_conclusion: bool = True,
) -> None:
    """The report-back of a step outcome (workflow.json ``reportBack``), queued with the step."""
    interface = outcome.get("reportBack")
    if not interface:
        return
    body = _base(case, operator, opinion)
    if interface == "T5-6":
        body.update({"items": correction_items(opinion), "notice": notice})
    elif interface == "T5-7":
        body.update({"result": outcome["name"], "acceptedAt": at, "notice": notice})
    elif interface == "T5-8":
        body.update({"step": step, "stepName": steps()[step]["name"], "outcome": outcome["name"][:20]})
        if started:
            body["startedAt"] = started
        body["finishedAt"] = at
        if step == "decide" and D.DECISION_WITHOUT_DOCUMENT not in server.defects:  # §7.4.2 c) 推送决定文书
            body["decisionDocument"] = notice or bare_notice(case, outcome, opinion, at)
    elif interface == "T5-10":
        if not first_conclusion or not case.result:
            return  # reported once, at the first 办结 (after a 预归档退回 the exchange has already ended)
        decision = store.notice(server.db, case.result_notice) if case.result_notice else None
        body.update({"result": case.result, "decidedAt": case.decided_at or at})
        if decision is None:
            kind = "granted" if case.result == "准予许可" else "refused"
            decision = bare_notice(case, outcomes()[("decide", kind)], opinion, at)
        body["notice"] = decision
        if case.registration_no:
            body["registrationNo"] = case.registration_no
        if case.elicense_id:
            body["elicenseId"] = case.elicense_id
    else:  # T5-9 goes through special_procedure()
        return
    if body.get("notice") is None:
        body.pop("notice", None)
    defects = server.defects
    if interface == "T5-8" and step == "review" and D.NO_REPORT_BACK in defects:
        return  # the defect: the review step is never reported
    row = _send(server, GOV, interface, body, case.case_no)
    if D.REPORT_BACK_WRONG_ORDER in defects:
        if interface == "T5-7":
            _hold(server, row)
        elif interface == "T5-10":
            _release_held(server, case.case_no)


def special_procedure(
    server: RoleServer, case: store.Case, request: Item, procedure: Item, operator: Item, at: str
) -> None:
    """T5-9, for the start and for the end of a special procedure."""

    body = _base(case, operator, request["opinion"])
    body.update(
        {
            "procedure": procedure.get("procedure") or request["procedure"],
            "action": request["action"],
            "startedAt": procedure.get("startedAt") or at,
        }
    )
    if request["action"] == "end":
        body["endedAt"] = at
    days = request.get("days", procedure.get("days"))
    if days is not None:
        body["days"] = days
    _send(server, GOV, special()["reportBack"], body, case.case_no)


# ---------------------------------------------------------------------------------- 发证 (§7.4.4, §7.4.5 c)
def _group(case: store.Case) -> Item | None:
    return code_lists.licence_groups().get(case.item_code.split("-")[1])


def elicense(case: store.Case, at: str) -> Item:
    """T5-11: the structured licence (licence-certificate.schema.json)."""
    eq, a, auth = case.equipment, case.applicant, case.authority
    group = _group(case)
    variety = code_lists.catalogue().get(eq["catalogueCode"], {}).get("name") or eq["equipmentName"]
    surface = {
        "equipmentCategory": (group or {}).get("equipment", eq["equipmentName"])[:50],
        "equipmentVariety": variety[:50],
        "equipmentCode": case.equipment_code,
        "useUnitName": a["name"],
        "useAddress": eq["address"],
        "registrationNo": case.registration_no,
    }
    return {
        "elicenseId": case.elicense_id,
        "licenceName": "特种设备使用登记证",
        "licenceNo": case.registration_no,
        "holderName": a["name"],
        "holderIdType": a["idType"],
        "holderId": a["idNumber"],
        "issuerName": auth["name"],
        "issuerCode": auth["uscc"],
        "issuerDivision": auth["division"],
        "issueDate": at[:10],
        "validFrom": at[:10],
        "status": operation_of(case)["licenceStatus"],
        "caseNo": case.case_no,
        "itemCode": case.item_code,
        "surface": surface,
        "details": [licence_detail(eq, equipmentCode=case.equipment_code)],
        "version": "001",
    }


def unit_report(case: store.Case, at: str) -> Item:
    """T7-1: the using unit (unit.schema.json)."""
    a, eq = case.applicant, case.equipment
    unit = {
        "uscc": a["idNumber"],
        "name": a["name"],
        "unitType": "use",
        "division": eq["division"],
        "address": a.get("address") or eq["address"],
        "contactPerson": a["contactPerson"],
        "contactPhone": a["contactPhone"],
        "status": "active",
        "updatedAt": at,
    }
    return {"messageId": message_id(), "reportedAt": now_iso(), "unit": unit}


def registration_report(case: store.Case, at: str) -> Item:
    """T7-2: the use registration (use-registration.schema.json) and the equipment (equipment.schema.json)."""
    a, eq, auth = case.applicant, case.equipment, case.authority
    op = operation_of(case)
    registration = {
        "registrationNo": case.registration_no,
        "equipmentCode": case.equipment_code,
        "catalogueCode": eq["catalogueCode"],
        "itemCode": case.item_code,
        "caseNo": case.case_no,
        "useUnitUscc": a["idNumber"],
        "useUnitName": a["name"],
        "useAddress": eq["address"],
        "authority": auth,
        "registeredAt": at,
        "status": op["registrationStatus"],
        "elicenseId": case.elicense_id,
        "updatedAt": at,
    }
    equipment = {
        "equipmentCode": case.equipment_code,
        "catalogueCode": eq["catalogueCode"],
        "equipmentName": eq["equipmentName"],
    }
    for key in ("model", "factoryNo", "manufacturerUscc", "manufacturerName", "manufactureDate"):
        if eq.get(key):
            equipment[key] = eq[key]
    equipment.update(
        {
            "useUnitUscc": a["idNumber"],
            "useUnitName": a["name"],
            "division": eq["division"],
            "address": eq["address"],
            "registrationNo": case.registration_no,
            "registrationAuthority": auth["name"],
            "registrationDate": at[:10],
            "status": op["equipmentStatus"],
            "updatedAt": at,
        }
    )
    if eq.get("reportNo"):
        equipment["lastReportNo"] = eq["reportNo"]
    return {"messageId": message_id(), "reportedAt": now_iso(), "registration": registration, "equipment": equipment}


def sms(case: store.Case, at: str) -> Item | None:
    """§7.4.5 c) 4): the case information to the applicant's mobile (none when only a masked number is known)."""
    phone = case.applicant["contactPhone"]
    if "*" in phone:
        return None
    text = (
        f"【{case.authority['name']}】您申请的{_item_name(case.item_code)}（办件编号{case.case_no}）已办理完成："
        f"准予许可，使用登记证编号{case.registration_no}。"
    )
    return {
        "messageId": message_id(),
        "mobile": phone,
        "caseNo": case.case_no,
        "content": text[:500],
        "sentAt": now_iso(),
    }


def _item_name(code: str) -> str:
    item = code_lists.licence_items().get(code)
    return item["name"] if item else code


def on_issue(server: RoleServer, case: store.Case, at: str) -> None:
    """发证 is the marker step of external exchange (§7.4.4 a): licence, supervision reports, SMS."""
    body = elicense(case, at)
    _send(server, GOV, "T5-11", body, case.case_no)
    if case.legal_person:  # T7-1 / T7-2 identify the using unit by its USCC
        _send(server, SUPERVISION, "T7-1", unit_report(case, at), case.case_no)
        changed = operation_of(case)["registrationStatus"] != registered_status()
        if not (
            changed and D.NO_T7_2_ON_CHANGE in server.defects
        ):  # the defect: a changed registration goes unreported
            _send(server, SUPERVISION, "T7-2", registration_report(case, at), case.case_no)
    message = sms(case, at)
    if message is not None:
        _send(server, GOV, "sendSms", message, case.case_no)


# ---------------------------------------------------------------------------------- look-ups (T5-1…T5-4)


def item_sync_ttl() -> float:
    return setting("TZSB_ITEM_SYNC_TTL", 3600.0)


def on_receipt(server: RoleServer, application: Item) -> None:
    """A new application (T5-5): identity of the applicant (T5-3 / T5-4) and the item library of the
    authority's division (T5-1, T5-2), queued in the push's transaction."""
    case_no = application["caseNo"]
    applicant = application["applicant"]
    user = applicant.get("userId")
    if user:
        key = "T5-4" if applicant["type"] == "legal-person" else "T5-3"
        outbox.lookup(
            server, GOV, path_of(GOV, key).replace("{userId}", quote(str(user), safe="")), None, kind=key, topic=case_no
        )
    division = application["authority"]["division"]
    synced = server.extras.setdefault("item-sync", {})
    if time.time() - synced.get(division, 0.0) >= item_sync_ttl():
        synced[division] = time.time()
        outbox.lookup(
            server,
            GOV,
            path_of(GOV, "T5-1"),
            {"division": division, "deptUscc": application["authority"]["uscc"]},
            kind="T5-1",
            topic=case_no,
        )
        outbox.lookup(server, GOV, path_of(GOV, "T5-2"), {"division": division}, kind="T5-2", topic=case_no)
