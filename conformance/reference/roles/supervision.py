"""特种设备安全监察系统 (supervision): receivers of DB42/T 2279-2024 表7 (T7-1 unit information,
T7-2 equipment use-registration information) and their read-back (project profile)."""

from __future__ import annotations

from urllib.parse import quote

from conformance.reference.context import Ctx, Reply, now_iso, operation
from conformance.reference.defects import D
from conformance.reference.errors import bad_request, not_found
from conformance.reference.roles.messages import once

UNITS = "supervision.units"
REGISTRATIONS = "supervision.registrations"
EQUIPMENT = "supervision.equipment"


@operation("reportUnit")
async def report_unit(ctx: Ctx) -> Reply:
    body = ctx.body
    unit = body["unit"]

    def process() -> tuple[int, dict[str, object]]:
        at = now_iso()
        if not ctx.defect(D.SUPERVISION_DROPS_UNIT):
            ctx.db.put_record(UNITS, unit["uscc"], unit, at)
        return 201, {"messageId": body["messageId"], "receivedAt": at, "duplicate": False}

    reply = await once(ctx, "supervision.T7-1", body, process)
    reply.headers["Location"] = f"{ctx.base_url}/api/v1/units/{quote(unit['uscc'], safe='')}"
    return reply


@operation("reportRegistration")
async def report_registration(ctx: Ctx) -> Reply:
    body = ctx.body
    reg, equipment = body["registration"], body["equipment"]
    if reg["equipmentCode"] != equipment["equipmentCode"]:  # supervision.yaml: the two must name the same equipment
        raise bad_request(
            "登记信息的设备代码与所附设备信息的设备代码不一致",
            "registration.equipmentCode differs from equipment.equipmentCode",
            [
                {
                    "path": "/registration/equipmentCode",
                    "message": "应等于 /equipment/equipmentCode",
                    "messageEn": "must equal /equipment/equipmentCode",
                    "rule": "consistency",
                }
            ],
        )

    def process() -> tuple[int, dict[str, object]]:
        at = now_iso()
        ctx.db.put_record(REGISTRATIONS, reg["registrationNo"], reg, at)
        ctx.db.put_record(EQUIPMENT, equipment["equipmentCode"], equipment, at)
        return 201, {"messageId": body["messageId"], "receivedAt": at, "duplicate": False}

    reply = await once(ctx, "supervision.T7-2", body, process)
    reply.headers["Location"] = f"{ctx.base_url}/api/v1/registrations/{quote(reg['registrationNo'], safe='')}"
    return reply


@operation("getReportedUnit")
async def get_unit(ctx: Ctx) -> Reply:
    unit = ctx.db.get_record(UNITS, ctx.path["uscc"])
    if unit is None:
        raise not_found("使用单位", "unit")
    return Reply(unit)


@operation("getReportedRegistration")
async def get_registration(ctx: Ctx) -> Reply:
    reg = ctx.db.get_record(REGISTRATIONS, ctx.path["registrationNo"])
    if reg is None:
        raise not_found("设备使用登记", "registration")
    return Reply(reg)
