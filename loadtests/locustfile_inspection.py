"""检验检测信息系统（inspection）的负载：T6-1 检验检测信息查询。
Load for the inspection system: the T6-1 report query.

The contract lists no interface that enumerates reports, so the report numbers come from the target
file (``[thresholds] report_numbers`` as the inspection suite reads them, or ``[load.samples]
reportNo``) or, when the target file also names a sharing platform, from its inspection-report data
set (those T6-1 finds). Without any, the class is left out and T6-1 is 未测 with the reason.

T6-2 (objections) is not loaded: an objection makes the inspection body check and correct the report
(a new version, re-pushed to the licensing system) — a rare, consequential event, not a load.

Run with ``tzsb-conform load --role inspection``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from locust import task

from conformance.contract.openapi import role_operations
from conformance.load.runtime import TzsbUser


def _op() -> Any:
    return next(o for o in role_operations("inspection") if o.interface == "T6-1")


class InspectionReader(TzsbUser):
    """The licensing system looking up inspection reports by number."""

    operations = ("getInspectionReport",)

    @classmethod
    def enabled(cls, cfg: Any) -> bool:
        return bool(cfg.pools.get("reportNumbers")) and super().enabled(cfg)

    def on_start(self) -> None:
        op = _op()
        self.path = op.path
        self.schema = op.responses.get("200", {}).get("application/json")
        self.numbers: list[str] = self.cfg.pools["reportNumbers"]

    @task
    def report(self) -> None:
        number = self.rng.choice(self.numbers)
        self.api.call(
            "T6-1",
            "getInspectionReport",
            "GET",
            self.path.replace("{reportNo}", quote(number, safe="")),
            parse=False,
            validate=self.schema,
        )
