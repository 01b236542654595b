"""行政许可应用系统（licensing）的负载：电子卷宗调用接口与 T5-5 申请信息推送。
Load for the licensing system: the electronic-dossier interface and the T5-5 application push.

* :class:`DossierReader` — a system that consults dossiers (DB42/T 2279-2024 §7.5.6 c) 2)): a page of
  the dossier list (sometimes filtered by a unit's USCC from the target's own dossiers), then one
  dossier by its code (codes from the pages the target returned, or of ``[load.samples] dossierCode``
  that the target answered during preflight; with none, the class is left out), its metadata XML and one of its
  files — the file and XML addresses are the ones the target put in the dossier (the host guard
  refuses any that leave the target's host list);
* :class:`ApplicationPusher` — the government-service platform pushing applications (T5-5): fresh
  case numbers and message ids, applications built from the contracts (Table 1 items, identifiers
  from the identifier library). A pushed application opens a case at the target and cannot be taken
  back, so this class runs only with ``writes = "all"``.

Run with ``tzsb-conform load --role licensing``.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote

from locust import task

from conformance.contract.openapi import role_operations
from conformance.datagen.licensing import application, items, new_applicant, new_case_no
from conformance.load.discovery import DOSSIER_FILE as GROUP_FILE
from conformance.load.discovery import DOSSIER_GET as GROUP_GET
from conformance.load.discovery import DOSSIER_LIST as GROUP_LIST
from conformance.load.runtime import TzsbUser, note

GROUP_PUSH = "T5-5"


def _op(operation_id: str) -> Any:
    return next(o for o in role_operations("licensing") if o.operation_id == operation_id)


def _schema(operation_id: str) -> str | None:
    return _op(operation_id).responses.get("200", {}).get("application/json")


class DossierReader(TzsbUser):
    """List → dossier → metadata XML → one file."""

    operations = ("queryDossiers", "getDossier", "getDossierMetadataXml", "getDossierFile")

    @classmethod
    def enabled(cls, cfg: Any) -> bool:
        # the target showed no dossier (and the target file names none it knows): nothing to consult, the
        # dossier groups are 未测 with the preflight's reason
        return GROUP_GET not in (cfg.pools.get("missing") or ()) and super().enabled(cfg)

    def on_start(self) -> None:
        pools = self.cfg.pools
        self.codes: list[str] = list(pools.get("dossiers") or [])
        self.total = int(pools.get("total") or 0)
        self.size = int(pools.get("size") or 20)
        self.filters: dict[str, list[str]] = pools.get("filters") or {}
        self.list_path, self.get_path = _op("queryDossiers").path, _op("getDossier").path
        self.schemas = {k: _schema(k) for k in ("queryDossiers", "getDossier")}

    @task
    def consult(self) -> None:
        params: dict[str, Any] = {
            "page": self.rng.randint(1, max(1, min(20, -(-self.total // self.size)))),
            "size": self.size,
        }
        if self.filters.get("uscc") and self.rng.random() < 0.3:
            params = {"uscc": self.rng.choice(self.filters["uscc"]), "page": 1, "size": self.size}
        reply = self.api.call(
            GROUP_LIST, "queryDossiers", "GET", self.list_path, params=params, validate=self.schemas["queryDossiers"]
        )
        items = reply.data.get("items") if reply.ok and isinstance(reply.data, dict) else None
        codes = [x["dossierCode"] for x in items or [] if isinstance(x, dict) and isinstance(x.get("dossierCode"), str)]
        code = self.rng.choice(codes) if codes else (self.rng.choice(self.codes) if self.codes else None)
        if code is None:
            note(
                "被测系统没有可调用的卷宗（卷宗分页查询为空，目标文件也未给出 [load.samples] dossierCode）/ no dossiers to consult"
            )
            return
        reply = self.api.call(
            GROUP_GET,
            "getDossier",
            "GET",
            self.get_path.replace("{dossierCode}", quote(code, safe="")),
            validate=self.schemas["getDossier"],
        )
        dossier = reply.data if reply.ok and isinstance(reply.data, dict) else {}
        xml = dossier.get("metadataXmlUrl") or (
            self.get_path.replace("{dossierCode}", quote(code, safe="")) + "/metadata.xml"
        )
        self.api.call(GROUP_GET, "getDossierMetadataXml", "GET", xml, parse=False)
        files = [f for f in dossier.get("files") or [] if isinstance(f, dict) and isinstance(f.get("fileName"), str)]
        if files:
            f = self.rng.choice(files)
            url = f.get("url") or _op("getDossierFile").path.replace("{dossierCode}", quote(code, safe="")).replace(
                "{fileName}", quote(f["fileName"], safe="")
            )
            self.api.call(GROUP_FILE, "getDossierFile", "GET", url, parse=False)


class ApplicationPusher(TzsbUser):
    """T5-5: fresh applications, as the government-service platform pushes them."""

    operations = ("pushApplication",)
    writes = True
    reversible = False

    def on_start(self) -> None:
        self.items = sorted(items())
        self.authority = self.cfg.pools.get("authority")
        self.path = _op("pushApplication").path
        responses = _op("pushApplication").responses
        self.schema = {int(k): v.get("application/json") for k, v in responses.items() if k in ("200", "201")}

    @task
    def push(self) -> None:
        rng = random.Random(self.rng.randrange(2**62))
        body = application(new_case_no(), rng.choice(self.items), new_applicant(rng), self.authority, rng=rng)
        self.api.call(
            GROUP_PUSH,
            "pushApplication",
            "POST",
            self.path,
            body=body,
            expect=(201, 200),
            parse=False,
            validate=self.schema,
        )
