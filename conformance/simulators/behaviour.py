"""What each simulated operation answers, from the contracts and the data the harness registered.

* 政务服务平台 (gov-platform.yaml): T5-1 implementation list and T5-2 handling items from the
  licence-item code list (Table 1) for the asked division; T5-3 / T5-4 the users the harness
  registered (404 otherwise); T5-6…T5-10 receipts for the cases the harness pushed, in the order
  the contract requires (unknown case 404; a step, special procedure or result before acceptance,
  anything after the result, a second acceptance: 409 ``STATE_CONFLICT``); T5-11 stores the licence
  (201 with ``Location``), T5-12…T5-16 serve what was aggregated; the SMS gateway gives receipts.
* 检验检测信息系统 (inspection.yaml): T6-1 the reports the harness registered, T6-2 objection receipts.
* 安全监察系统 (supervision.yaml): T7-1 / T7-2 receipts, the reported records read back.
* 行政许可应用系统 (licensing.yaml, when the harness certifies a government-service platform): T5-5 takes the
  platform's application pushes with a receipt (an item not in Table 1 or equipment of another group: 400 naming
  ``/itemCode`` or ``/equipment/catalogueCode``, as the contract says) and keeps them by case number (a
  re-submission after 补齐补正 is the same case number under a new message id); the corrected-report re-push
  gives a receipt; the dossier interfaces and the optional workflow driver hold no data here (404, an empty list).

Idempotency (same message, same content → the original receipt) is done by the server for every
operation with ``x-idempotent-by``; a handler sees each message once.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import random
import secrets
from collections.abc import Callable
from typing import Any

from conformance.check.schema import validator
from conformance.clock import CHINA
from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.contract.errors import ErrorCode
from conformance.serving.envelope import page
from conformance.serving.params import entry
from conformance.simulators.model import InboundCall, Reply, SimulatorState, error, now_iso

Handler = Callable[[SimulatorState, InboundCall, dict[str, Any], Any], Reply]
#: The item code (SG 6-2021) of 特种设备使用登记: the first part of every Table 1 handling-item code.
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _receipt(call: InboundCall, body: dict[str, Any]) -> Reply:
    data = {"messageId": body["messageId"], "receivedAt": now_iso(), "duplicate": False}
    if body.get("caseNo"):
        data["caseNo"] = body["caseNo"]
    return Reply(201, data)


def _not_found(zh: str, en: str) -> Reply:
    return error(404, ErrorCode.NOT_FOUND, f"{zh}不存在", f"{en} not found")


def _stored(records: dict[Any, Any], key: Any, zh: str, en: str) -> Any:
    """``records[key]``; else 404, naming the record (``zh`` / ``en``) not found."""
    found = records.get(key)
    if found is None:
        raise _not_found(zh, en)
    return found


def _conflict(zh: str, en: str) -> Reply:
    return error(409, ErrorCode.STATE_CONFLICT, zh, en)


# ---------------------------------------------------------------------------------- registration (control API)
def register(state: SimulatorState, what: str, data: dict[str, Any]) -> dict[str, Any]:
    """Data the harness gives a simulator before the target calls: cases it pushed, users, reports."""
    if what == "cases":
        case_no = str(data.get("caseNo") or "")
        if not case_no:
            raise ValueError("caseNo required")
        state.cases.setdefault(
            case_no,
            {"caseNo": case_no, "itemCode": data.get("itemCode"), "accepted": None, "result": None, "events": []},
        )
        return {"cases": len(state.cases)}
    if what == "users":
        kind = data.get("kind")
        user = data.get("user") or {}
        ref = {"natural": "gov-platform#/$defs/naturalPerson", "legal": "gov-platform#/$defs/legalPerson"}.get(
            str(kind)
        )
        if ref is None or not validator(ref).is_valid(user):
            raise ValueError(f"a {kind} user valid against {ref} required")
        state.users[(str(kind), str(user["userId"]))] = dict(user)
        return {"users": len(state.users)}
    if what == "reports":
        report = data.get("report") or {}
        if not validator("inspection-report").is_valid(report):
            raise ValueError("a report valid against inspection-report.schema.json required")
        state.reports[str(report["reportNo"])] = dict(report)
        return {"reports": len(state.reports)}
    raise ValueError(f"nothing to register as {what}")


# ---------------------------------------------------------------------------------- gov-platform
@functools.cache
def _dept(division: str) -> dict[str, str]:
    """The implementing department of a division (deterministic: the simulator's consistent data)."""
    item = code_lists.divisions().get(division, {})
    name = f"{item.get('name', division)}市场监督管理局"
    uscc = KINDS["uscc"].generate(random.Random(f"tzsb-simulator:dept:{division}"), pair="11", division=division)
    level = {"province": "province", "prefecture": "prefecture"}.get(str(item.get("level")), "county")
    return {"name": name[:100], "uscc": uscc, "level": level}


def _implement_code(division: str) -> str:
    return f"11{division}01100000"


def query_implementations(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    division = q.get("division") or "420000"
    dept = _dept(division)
    if q.get("deptUscc") and q["deptUscc"] != dept["uscc"]:
        dept = {**dept, "uscc": q["deptUscc"]}
    items = [
        {
            "implementCode": _implement_code(division),
            "itemCode": "01100000",
            "name": "特种设备使用登记",
            "deptName": dept["name"],
            "deptUscc": dept["uscc"],
            "division": division,
            "level": dept["level"],
            "handlingItemCount": len(code_lists.licence_items()),
        }
    ]
    return Reply(200, page(items, int(q.get("page", 1)), int(q.get("size", 50))))


def query_handling_items(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    division = q["division"]
    out = []
    for code, item in sorted(code_lists.licence_items().items()):
        group, op = code.split("-")[1:]
        if q.get("group") and group != q["group"]:
            continue
        out.append(
            {
                "code": code,
                "name": item["name"][:100],
                "implementCode": _implement_code(division),
                "division": division,
                "group": group,
                "operation": op,
            }
        )
    return Reply(200, out)


def _user(kind: str) -> Handler:
    def get(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
        user_id = q["userId"]
        return Reply(200, _stored(state.users, (kind, user_id), f"统一身份认证用户 {user_id} ", f"user {user_id}"))

    return get


def _case(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    if q.get("caseNo") != body.get("caseNo"):
        raise error(
            400,
            ErrorCode.VALIDATION_FAILED,
            f"路径中的办件编号 {q.get('caseNo')} 与请求体的 {body.get('caseNo')} 不一致",
            "caseNo in the path differs from the body",
            [entry("/caseNo", "须与路径中的办件编号相同", "must equal the path's caseNo", "path-match")],
        )
    return _stored(state.cases, body["caseNo"], f"办件 {body['caseNo']} ", f"case {body['caseNo']}")


def report_supplement(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    case = _case(state, call, q, body)
    if case["result"] is not None or case["accepted"] == "正式受理":
        raise _conflict(
            f"办件 {case['caseNo']} 已{'办结' if case['result'] else '受理'}，不能再上报补齐补正",
            "correction reported after acceptance or result",
        )
    case["events"].append("T5-6")
    return _receipt(call, body)


def report_acceptance(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    case = _case(state, call, q, body)
    if case["accepted"] is not None or case["result"] is not None:
        raise _conflict(
            f"办件 {case['caseNo']} 已上报受理信息（{case['accepted'] or case['result']}），不能重复受理",
            "acceptance already reported",
        )
    case["accepted"] = body["result"]
    case["events"].append("T5-7")
    return _receipt(call, body)


def _after_acceptance(interface: str, what: str, en: str) -> Handler:
    """A report (T5-8, T5-9) taken between the acceptance and the result."""

    def report(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
        case = _case(state, call, q, body)
        if case["accepted"] != "正式受理":
            raise _conflict(
                f"办件 {case['caseNo']} 尚未上报正式受理，不能上报{what}", f"{en} reported before acceptance"
            )
        if case["result"] is not None:
            raise _conflict(
                f"办件 {case['caseNo']} 已上报办件结果，与政务服务平台的交互已结束，不能再上报{what}",
                f"{en} reported after the result",
            )
        case["events"].append(interface)
        return _receipt(call, body)

    return report


def report_result(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    case = _case(state, call, q, body)
    if case["accepted"] is None:
        raise _conflict(
            f"办件 {case['caseNo']} 尚未上报受理信息，不能先上报办件结果", "result reported before acceptance"
        )
    if case["result"] is not None:
        raise _conflict(f"办件 {case['caseNo']} 的办件结果已上报", "result already reported")
    case["result"] = body["result"]
    case["events"].append("T5-10")
    return _receipt(call, body)


def aggregate_elicense(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    state.licences[body["elicenseId"]] = dict(body)
    return Reply(201, body, headers={"Location": f"/api/v1/elicenses/{body['elicenseId']}"})


def search_elicenses(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    out = [
        {
            "elicenseId": lic["elicenseId"],
            "licenceName": lic["licenceName"],
            "licenceNo": lic["licenceNo"],
            "holderName": lic["holderName"],
            "issueDate": lic["issueDate"],
            "status": lic.get("status", "valid"),
        }
        for lic in state.licences.values()
        if lic.get("holderId") == q["holderId"] and (not q.get("itemCode") or lic.get("itemCode") == q["itemCode"])
    ]
    return Reply(200, out)


def _licence(state: SimulatorState, q: dict[str, Any]) -> dict[str, Any]:
    return _stored(state.licences, q["elicenseId"], f"电子证照 {q['elicenseId']} ", f"e-licence {q['elicenseId']}")


def get_elicense(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    return Reply(200, _licence(state, q))


def download_address(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    lic = _licence(state, q)
    token = secrets.token_urlsafe(16)
    state.downloads[token] = lic["elicenseId"]
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).astimezone(CHINA)
    return Reply(
        200,
        {
            "elicenseId": lic["elicenseId"],
            "url": f"/api/v1/elicenses/{lic['elicenseId']}/file?token={token}",
            "format": "PDF",
            "expiresAt": expires.isoformat(timespec="seconds"),
            "sha256": hashlib.sha256(_PDF).hexdigest(),
        },
    )


def download_file(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    lic = _licence(state, q)
    if state.downloads.get(q["token"]) != lic["elicenseId"]:
        raise error(403, ErrorCode.FORBIDDEN, "下载令牌无效或不属于该证照", "download token invalid")
    return Reply(
        200,
        raw=_PDF,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{lic["elicenseId"]}.pdf"'},
    )


def thumbnails(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    _licence(state, q)
    return Reply(200, [{"page": 1, "mediaType": "image/png", "data": base64.b64encode(_PNG).decode()}])


def send_sms(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    return _receipt(call, body)


def health(role: str) -> Handler:
    def get(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
        return Reply(200, {"status": "up", "time": now_iso(), "version": "tzsb-simulator/1", "role": role})

    return get


# ---------------------------------------------------------------------------------- inspection
def get_report(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    no = q["reportNo"]
    return Reply(200, _stored(state.reports, no, f"检验报告 {no} ", f"inspection report {no}"))


def submit_objection(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    if body["reportNo"] not in state.reports:
        raise error(
            400,
            ErrorCode.VALIDATION_FAILED,
            f"检验报告 {body['reportNo']} 不存在",
            "no such report",
            [entry("/reportNo", "检验报告不存在", "no such report", "exists")],
        )
    oid = f"OBJ-{secrets.token_hex(6).upper()}"
    receipt = {
        "objectionId": oid,
        "messageId": body["messageId"],
        "reportNo": body["reportNo"],
        "status": "received",
        "receivedAt": now_iso(),
        "duplicate": False,
    }
    state.objections[oid] = receipt
    return Reply(201, receipt)


def get_objection(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    oid = q["objectionId"]
    return Reply(200, _stored(state.objections, oid, f"异议 {oid} ", f"objection {oid}"))


# ---------------------------------------------------------------------------------- supervision
def report_unit(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    state.units[body["unit"]["uscc"]] = body["unit"]
    return _receipt(call, body)


def report_registration(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    state.registrations[body["registration"]["registrationNo"]] = body["registration"]
    return _receipt(call, body)


def _reported(table: str, key: str, zh: str) -> Handler:
    def get(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
        return Reply(
            200, _stored(getattr(state, table), q[key], f"已上报的{zh} {q[key]} ", f"reported {table} {q[key]}")
        )

    return get


# ---------------------------------------------------------------------------------- licensing (the platform's pushes)
@functools.cache
def _group_varieties(group: str) -> frozenset[str]:
    """Catalogue codes of a Table 1 equipment group: its top codes and everything under them."""
    tops = code_lists.licence_groups()[group]["catalogue"]
    return frozenset(c for top in tops for c in (top, *code_lists.catalogue_descendants(top)))


def push_application(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    item = code_lists.licence_items().get(body["itemCode"])
    if item is None:
        raise error(
            400,
            ErrorCode.VALIDATION_FAILED,
            f"办理项 {body['itemCode']} 不是表1中的办理项",
            "no such handling item (Table 1)",
            [entry("/itemCode", "表1中没有该办理项", "not a Table 1 item", "exists")],
        )
    catalogue = body["equipment"]["catalogueCode"]
    if catalogue not in _group_varieties(item["group"]):
        raise error(
            400,
            ErrorCode.VALIDATION_FAILED,
            f"设备品种 {catalogue} 不属于办理项 {body['itemCode']} 的设备类别",
            "the equipment is not of the item's group",
            [
                entry(
                    "/equipment/catalogueCode",
                    "设备品种与办理项的设备类别不符",
                    "catalogue code outside the item's group",
                    "item-group",
                )
            ],
        )
    state.applications.setdefault(body["caseNo"], []).append(dict(body))
    return _receipt(call, body)


def corrected_report(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
    state.reports[str(body["reportNo"])] = dict(body)
    return Reply(
        201,
        {
            "messageId": body.get("correctionOf") or f"report-{body['reportNo']}",
            "receivedAt": now_iso(),
            "duplicate": False,
        },
    )


def _empty_list(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    return Reply(200, page([], int(q.get("page", 1)), int(q.get("size", 20))))


def _nothing_here(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    raise _not_found("模拟的许可系统不保存该数据：", "the simulated licensing system keeps no such data:")


def handlers(role: str) -> dict[str, Handler]:
    common: dict[str, Handler] = {"getHealth": health(role)}
    if role == "gov-platform":
        return {
            **common,
            "queryImplementations": query_implementations,
            "queryHandlingItems": query_handling_items,
            "getNaturalPerson": _user("natural"),
            "getLegalPerson": _user("legal"),
            "reportSupplement": report_supplement,
            "reportAcceptance": report_acceptance,
            "reportStep": _after_acceptance("T5-8", "办理环节信息", "step"),
            "reportSpecialProcedure": _after_acceptance("T5-9", "特别程序信息", "special procedure"),
            "reportResult": report_result,
            "aggregateElicense": aggregate_elicense,
            "searchElicenses": search_elicenses,
            "getElicense": get_elicense,
            "getElicenseDownloadAddress": download_address,
            "downloadElicenseFile": download_file,
            "getElicenseThumbnails": thumbnails,
            "sendSms": send_sms,
        }
    if role == "inspection":
        return {
            **common,
            "getInspectionReport": get_report,
            "submitObjection": submit_objection,
            "getObjection": get_objection,
        }
    if role == "supervision":
        return {
            **common,
            "reportUnit": report_unit,
            "reportRegistration": report_registration,
            "getReportedUnit": _reported("units", "uscc", "使用单位"),
            "getReportedRegistration": _reported("registrations", "registrationNo", "使用登记"),
        }
    if role == "licensing":
        from conformance.contract.openapi import role_operations

        out: dict[str, Handler] = {
            op.operation_id: _empty_list if op.method.upper() == "GET" and "{" not in op.path else _nothing_here
            for op in role_operations(role)
        }
        return {
            **out,
            **common,
            "pushApplication": push_application,
            "receiveCorrectedInspectionReport": corrected_report,
        }
    if role == "national":
        from conformance.simulators import national

        return {**national.handlers(), **common}
    raise ValueError(f"no simulator for role {role}")
