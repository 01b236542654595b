"""政务服务平台（gov-platform，含电子证照库）的负载：事项清单、统一身份与电子证照链路。
Load for the government-service platform: item lists, unified identity and the e-licence chain.

The caller is the licensing system (the target file's ``[clients.licensing-system]``, unless
``[load] client`` names another): every Table 5 interface of the platform is called by it.

* :class:`ItemsReader` — T5-1 implementation list (pages, or filtered by a division the target listed)
  and T5-2 handling items of a division taken from the target's implementation list;
* :class:`ElicenseChain` — the e-licence chain of DB42/T 2279-2024 Table 5: with ``writes = "all"``
  it first aggregates certificates of its own (T5-11: issued by the implementing bureau the target
  listed, to fresh holders with identifiers from the identifier library; they stay in the library),
  then, again and again, searches by holder (T5-12), gets a certificate from the search (T5-13), its
  download address (T5-14), the file at that address (T5-15; the host guard refuses an address outside
  the host list) and, when the target declares ``thumbnail`` and the client has the scope, the
  thumbnails (T5-16). Without writes it uses the holders of ``[load.samples] holderId``;
* :class:`IdentityReader` — T5-3 / T5-4 for the user ids the target file declares
  (``[thresholds] gov_natural_user_id`` / ``gov_legal_user_id``); the interfaces have no search, so
  there is nothing to take from the target's answers.

Run with ``tzsb-conform load --role gov-platform``.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote

from locust import task

from conformance.codes import KINDS
from conformance.contract.openapi import role_operations
from conformance.datagen import DataGen
from conformance.datagen.licensing import certificate
from conformance.load.runtime import TzsbUser, note


def _op(interface: str) -> Any:
    return next(o for o in role_operations("gov-platform") if o.interface == interface)


def _schema(interface: str, status: str = "200") -> str | None:
    return _op(interface).responses.get(status, {}).get("application/json")


def _path(interface: str, **values: str) -> str:
    path = _op(interface).path
    for k, v in values.items():
        path = path.replace("{" + k + "}", quote(v, safe=""))
    return path


class ItemsReader(TzsbUser):
    """T5-1 pages and T5-2 items of a listed division."""

    operations = ("queryImplementations", "queryHandlingItems")

    def on_start(self) -> None:
        pools = self.cfg.pools
        self.total = int(pools.get("implementations") or 0)
        self.size = int(pools.get("size") or 20)
        self.divisions: list[str] = pools.get("divisions") or []

    @task(1)
    def implementations(self) -> None:
        params: dict[str, Any] = {"page": self.rng.randint(1, max(1, -(-self.total // self.size))), "size": self.size}
        if self.divisions and self.rng.random() < 0.3:
            params = {"division": self.rng.choice(self.divisions), "page": 1, "size": self.size}
        self.api.call(
            "T5-1", "queryImplementations", "GET", _path("T5-1"), params=params, parse=False, validate=_schema("T5-1")
        )

    @task(2)
    def handling_items(self) -> None:
        if not self.divisions:
            self.implementations()
            return
        self.api.call(
            "T5-2",
            "queryHandlingItems",
            "GET",
            _path("T5-2"),
            params={"division": self.rng.choice(self.divisions)},
            parse=False,
            validate=_schema("T5-2"),
        )


#: 证照类型代码 of the load test's certificates (a central body's USCC + a sequence, GB/T 36904 form).
TYPE_CODE = KINDS["uscc"].generate(random.Random("tzsb-load:licence-type"), pair="11", division="100000") + "001"


def _certificate(authority: dict[str, Any], holder: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A fresh certificate (licence-certificate.schema.json) issued by the bureau to the holder."""
    return certificate(authority, holder, rng, type_code=TYPE_CODE)


class ElicenseChain(TzsbUser):
    """(T5-11) → T5-12 → T5-13 → T5-14 → T5-15 (→ T5-16)."""

    operations = ("searchElicenses", "getElicense", "getElicenseDownloadAddress", "downloadElicenseFile")

    @classmethod
    def enabled(cls, cfg: Any) -> bool:
        own = cfg.may_write(False) and cfg.pools.get("authority") and cfg.granted("aggregateElicense")
        return bool(own or cfg.pools.get("holders")) and super().enabled(cfg)

    def on_start(self) -> None:
        self.holders: list[str] = list(self.cfg.pools.get("holders") or [])
        self.authority = self.cfg.pools.get("authority")
        self.own = bool(self.cfg.may_write(False) and self.authority and self.cfg.granted("aggregateElicense"))
        self.thumbs = "thumbnail" in self.cfg.features and self.cfg.granted("getElicenseThumbnails")
        self.gen = DataGen(self.rng.randrange(2**62))
        self.mine: list[dict[str, Any]] = []
        self.issued = 0

    def _aggregate(self) -> None:
        if not self.mine or self.rng.random() < 0.3:
            unit = self.gen.unit("use", (self.authority or {}).get("division", "42")[:2])
            self.mine.append({"name": unit["name"], "uscc": unit["uscc"], "address": unit["address"]})
        holder = self.rng.choice(self.mine)
        cert = _certificate(self.authority, holder, random.Random(self.rng.randrange(2**62)))
        reply = self.api.call(
            "T5-11",
            "aggregateElicense",
            "POST",
            _path("T5-11"),
            body=cert,
            expect=(201, 200),
            parse=False,
            validate={201: _schema("T5-11", "201"), 200: _schema("T5-11", "200")},
        )
        if reply.ok and holder["uscc"] not in self.holders:
            self.holders.append(holder["uscc"])

    @task
    def chain(self) -> None:
        if self.own and (self.issued < 3 or self.rng.random() < 0.2):
            self.issued += 1
            self._aggregate()
        if not self.holders:
            return
        holder = self.rng.choice(self.holders)
        reply = self.api.call(
            "T5-12", "searchElicenses", "GET", _path("T5-12"), params={"holderId": holder}, validate=_schema("T5-12")
        )
        found = (
            [x["elicenseId"] for x in reply.data or [] if isinstance(x, dict) and isinstance(x.get("elicenseId"), str)]
            if reply.ok and isinstance(reply.data, list)
            else []
        )
        if not found:
            if reply.ok:
                note(f"持证主体 {holder[:6]}… 检索不到电子证照：链路在 T5-12 止步 / no certificate found for a holder")
            return
        eid = self.rng.choice(found)
        self.api.call(
            "T5-13", "getElicense", "GET", _path("T5-13", elicenseId=eid), parse=False, validate=_schema("T5-13")
        )
        reply = self.api.call(
            "T5-14", "getElicenseDownloadAddress", "GET", _path("T5-14", elicenseId=eid), validate=_schema("T5-14")
        )
        url = reply.data.get("url") if reply.ok and isinstance(reply.data, dict) else None
        if isinstance(url, str):
            self.api.call("T5-15", "downloadElicenseFile", "GET", url, parse=False)
        if self.thumbs:
            self.api.call(
                "T5-16",
                "getElicenseThumbnails",
                "GET",
                _path("T5-16", elicenseId=eid),
                parse=False,
                validate=_schema("T5-16"),
            )


class IdentityReader(TzsbUser):
    """T5-3 / T5-4 for the declared users."""

    operations = ("getNaturalPerson", "getLegalPerson")

    @classmethod
    def enabled(cls, cfg: Any) -> bool:
        return bool(cfg.pools.get("naturalUserIds") or cfg.pools.get("legalUserIds")) and super().enabled(cfg)

    @task
    def lookup(self) -> None:
        natural, legal = self.cfg.pools.get("naturalUserIds") or [], self.cfg.pools.get("legalUserIds") or []
        if natural and (not legal or self.rng.random() < 0.5):
            self.api.call(
                "T5-3",
                "getNaturalPerson",
                "GET",
                _path("T5-3", userId=self.rng.choice(natural)),
                parse=False,
                validate=_schema("T5-3"),
            )
        else:
            self.api.call(
                "T5-4",
                "getLegalPerson",
                "GET",
                _path("T5-4", userId=self.rng.choice(legal)),
                parse=False,
                validate=_schema("T5-4"),
            )
