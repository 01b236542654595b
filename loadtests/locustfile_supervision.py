"""安全监察系统（supervision）的负载：T7-1 使用单位信息上报、T7-2 设备使用登记信息上报及其回读。
Load for the supervision system: the T7-1 and T7-2 reports of the licensing system and their read-back.

* :class:`SupervisionReporter` — the licensing system reporting (``writes = "all"``: a report cannot
  be taken back): a unit (T7-1), then a use registration with its equipment (T7-2), records built by
  the identifier library; then reads one of its own reports back when the client has the scope
  (the read-back interface is the project's profile, scope ``supervision:read``);
* :class:`SupervisionReader` — reads back the units and registrations the target file lists
  (``[load.samples] uscc`` / ``registrationNo``).

Run with ``tzsb-conform load --role supervision``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import quote

from locust import task

from conformance.clock import CHINA
from conformance.contract.datasets import data_sets
from conformance.contract.openapi import role_operations
from conformance.datagen.sharing import Builder
from conformance.load.runtime import TzsbUser


def _op(operation_id: str) -> Any:
    return next(o for o in role_operations("supervision") if o.operation_id == operation_id)


def _schemas(operation_id: str) -> dict[int, str | None]:
    return {int(k): v.get("application/json") for k, v in _op(operation_id).responses.items() if k in ("200", "201")}


def _now() -> str:
    return dt.datetime.now(CHINA).isoformat(timespec="seconds")


class SupervisionReporter(TzsbUser):
    """T7-1 and T7-2 reports of fresh records, and read-backs of them."""

    operations = ("reportUnit", "reportRegistration")
    writes = True
    reversible = False

    def on_start(self) -> None:
        self.builder = Builder("42", seed=self.rng.randrange(2**62))
        self.units: list[str] = []
        self.registrations: list[str] = []
        self.read_unit = self.cfg.granted("getReportedUnit")
        self.read_reg = self.cfg.granted("getReportedRegistration")

    @task(2)
    def report_unit(self) -> None:
        unit = self.builder.gen.unit("use", "42")
        body = {"messageId": f"tzsb-load-{secrets.token_hex(10)}", "reportedAt": _now(), "unit": unit}
        reply = self.api.call(
            "T7-1",
            "reportUnit",
            "POST",
            _op("reportUnit").path,
            body=body,
            expect=(201, 200),
            parse=False,
            validate=_schemas("reportUnit"),
        )
        if reply.ok:
            self.units = ([*self.units, unit["uscc"]])[-100:]

    @task(2)
    def report_registration(self) -> None:
        prereq, records = self.builder.make(_registration_set(), 1)
        registration = records[0]
        equipment = next(rec for _d, rec in prereq if rec.get("equipmentCode") == registration["equipmentCode"])
        body = {
            "messageId": f"tzsb-load-{secrets.token_hex(10)}",
            "reportedAt": _now(),
            "registration": registration,
            "equipment": equipment,
        }
        reply = self.api.call(
            "T7-2",
            "reportRegistration",
            "POST",
            _op("reportRegistration").path,
            body=body,
            expect=(201, 200),
            parse=False,
            validate=_schemas("reportRegistration"),
        )
        if reply.ok:
            self.registrations = ([*self.registrations, registration["registrationNo"]])[-100:]

    @task(1)
    def read_back(self) -> None:
        if self.read_unit and self.units and (not self.registrations or self.rng.random() < 0.5):
            _read(self, "getReportedUnit", "uscc", self.rng.choice(self.units))
        elif self.read_reg and self.registrations:
            _read(self, "getReportedRegistration", "registrationNo", self.rng.choice(self.registrations))


def _registration_set() -> str:
    return next(n for n, d in data_sets().items() if d.schema == "use-registration")


def _read(user: TzsbUser, operation_id: str, param: str, value: str) -> None:
    op = _op(operation_id)
    user.api.call(
        "supervision.get",
        operation_id,
        "GET",
        op.path.replace("{" + param + "}", quote(value, safe="")),
        parse=False,
        validate=op.responses.get("200", {}).get("application/json"),
    )


class SupervisionReader(TzsbUser):
    """Read-backs of the units and registrations the target file lists."""

    operations = ()

    @classmethod
    def enabled(cls, cfg: Any) -> bool:
        units = cfg.pools.get("usccs") and cfg.granted("getReportedUnit")
        regs = cfg.pools.get("registrationNos") and cfg.granted("getReportedRegistration")
        return bool(units or regs) and super().enabled(cfg)

    @task
    def read(self) -> None:
        units = self.cfg.pools.get("usccs") if self.cfg.granted("getReportedUnit") else []
        regs = self.cfg.pools.get("registrationNos") if self.cfg.granted("getReportedRegistration") else []
        if units and (not regs or self.rng.random() < 0.5):
            _read(self, "getReportedUnit", "uscc", self.rng.choice(units))
        elif regs:
            _read(self, "getReportedRegistration", "registrationNo", self.rng.choice(regs))
