"""特种设备安全监察系统 (supervision): receivers of DB42/T 2279-2024 表7 (T7-1 unit information,
T7-2 equipment use-registration information) and their read-back (project profile)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from conformance.reference.context import Ctx, Reply, now_iso, operation
from conformance.reference.defects import D
from conformance.reference.errors import bad_request, not_found
from conformance.reference.roles.messages import once
from conformance.serving.params import entry

UNITS = "supervision.units"
REGISTRATIONS = "supervision.registrations"
EQUIPMENT = "supervision.equipment"


async def _receive(ctx: Ctx, interface: str, records: list[tuple[str, str, Any]], location: str) -> Reply:
    """Store ``records`` (table, key, record) once per message; the receipt names the stored record at ``location``."""
    body = ctx.body

    def process() -> tuple[int, dict[str, object]]:
        at = now_iso()
        for table, key, record in records:
            ctx.db.put_record(table, key, record, at)
        return 201, {"messageId": body["messageId"], "receivedAt": at, "duplicate": False}

    reply = await once(ctx, f"supervision.{interface}", body, process)
    reply.headers["Location"] = f"{ctx.base_url}{location}"
    return reply


@operation("reportUnit")
async def report_unit(ctx: Ctx) -> Reply:
    unit = ctx.body["unit"]
    records = [] if ctx.defect(D.SUPERVISION_DROPS_UNIT) else [(UNITS, unit["uscc"], unit)]
    return await _receive(ctx, "T7-1", records, f"/api/v1/units/{quote(unit['uscc'], safe='')}")


@operation("reportRegistration")
async def report_registration(ctx: Ctx) -> Reply:
    reg, equipment = ctx.body["registration"], ctx.body["equipment"]
    if reg["equipmentCode"] != equipment["equipmentCode"]:  # supervision.yaml: the two must name the same equipment
        raise bad_request(
            "登记信息的设备代码与所附设备信息的设备代码不一致",
            "registration.equipmentCode differs from equipment.equipmentCode",
            [
                entry(
                    "/registration/equipmentCode",
                    "应等于 /equipment/equipmentCode",
                    "must equal /equipment/equipmentCode",
                    "consistency",
                )
            ],
        )
    records = [(REGISTRATIONS, reg["registrationNo"], reg), (EQUIPMENT, equipment["equipmentCode"], equipment)]
    return await _receive(ctx, "T7-2", records, f"/api/v1/registrations/{quote(reg['registrationNo'], safe='')}")


def _read_back(operation_id: str, table: str, param: str, zh: str, en: str) -> None:
    @operation(operation_id)
    async def get(ctx: Ctx) -> Reply:
        record = ctx.db.get_record(table, ctx.path[param])
        if record is None:
            raise not_found(zh, en)
        return Reply(record)


_read_back("getReportedUnit", UNITS, "uscc", "使用单位", "unit")
_read_back("getReportedRegistration", REGISTRATIONS, "registrationNo", "设备使用登记", "registration")
