"""共享平台（sharing）的负载：按主键获取、分页条件查询、增量同步与数据推送。
Load for the sharing platform: get by key, paged queries, incremental sync and pushes.

Run it with ``tzsb-conform load --role sharing`` (which writes the configuration and judges the
results); a remote worker of a distributed run is plain Locust::

    TZSB_LOAD_SECRET=... locust -f loadtests/locustfile_sharing.py --worker --master-host <master>

Three kinds of caller (the profile's ``[mix.sharing]`` says how many of each):

* :class:`SharingReader` — a system that looks records up (``[options.sharing]`` of the profile:
  ``data_sets`` narrows the data sets, ``query_share`` is the share of paged queries, 0.25): by key (keys from the first pages the
  target returned, and keys of the target file's ``[load.samples]`` that the target answered during
  preflight — never a guessed key: its 404 would say nothing about the target) and paged queries of
  100 records (the profile's page size within the contract's maximum) over the data sets that hold
  records, sometimes filtered by a division or catalogue code taken from the target's own records.
  Data sets without keys (or records) are left out; when none has any, the group is not loaded and
  its checks are 未测 with the preflight's reason (an empty platform is neither a fast nor a failing one);
* :class:`SharingSyncer` — a subordinate platform keeping its copy in step: reads the change feed of
  one data set whose feed has entries from the start page after page (limit 100 within the contract's
  maximum), following ``nextCursor``, and starts over at the end; records per second per caller is
  SHARE.IF.PERF.2;
* :class:`SharingPusher` — a lower level pushing records (GB/T 38656-2020 UPLOAD / DELETE, 100
  records per message, SHARE.IF.PERF.1): fresh records built by the identifier library (with the
  records they refer to pushed first), then deleted again, so the target's data is left as it was
  (``writes = "reversible"``); whatever is still there when the run stops is deleted in ``on_stop``
  and anything left over is listed in the report.

Data sets, keys, paths and limits come from the contract (``x-data-sets`` of ``sharing.yaml``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import quote

from locust import task

from conformance.clock import CHINA
from conformance.datagen.sharing import Builder
from conformance.load.discovery import SHARING_CHANGES as GROUP_CHANGES
from conformance.load.discovery import SHARING_GET as GROUP_GET
from conformance.load.discovery import SHARING_PUSH as GROUP_PUSH
from conformance.load.discovery import SHARING_QUERY as GROUP_QUERY
from conformance.load.runtime import TzsbUser, register_leftovers


def _sets(cfg: Any) -> dict[str, dict[str, Any]]:
    return cfg.pools.get("dataSets", {})


#: what a data set must hold (per the preflight) before an operation of this kind is loaded on it
_HOLDS = {
    "get": lambda d: bool(d["keys"]),
    "query": lambda d: bool(d.get("queryable")),
    "changes": lambda d: bool(d.get("syncable")),
    "push": lambda d: True,
}


def _granted(cfg: Any, kind: str) -> list[str]:
    """Data sets whose operation of this kind the client may call (``[options.sharing] data_sets`` narrows them)
    and that hold what the operation needs (keys, records, change-feed entries)."""
    only = cfg.options.get("data_sets")
    return [
        n
        for n, d in _sets(cfg).items()
        if kind in d["ops"] and cfg.granted(d["ops"][kind]) and (not only or n in only) and _HOLDS[kind](d)
    ]


class SharingReader(TzsbUser):
    """By-key gets and paged queries over every data set the contract declares."""

    @classmethod
    def enabled(cls, cfg: Any) -> bool:
        return bool(_granted(cfg, "get") or _granted(cfg, "query")) and super().enabled(cfg)

    def on_start(self) -> None:
        self.gets = _granted(self.cfg, "get")
        self.queries = _granted(self.cfg, "query")
        # share of paged queries among the reader's calls ([options.sharing] query_share, default 0.25)
        share = float(self.cfg.options.get("query_share", 0.25))
        self.query_share = 1.0 if not self.gets else 0.0 if not self.queries else share

    @task
    def read(self) -> None:
        if self.rng.random() < self.query_share:
            self.paged_query()
        else:
            self.get_by_key()

    def get_by_key(self) -> None:
        name = self.rng.choice(self.gets)
        d = _sets(self.cfg)[name]
        key = str(
            self.rng.choice(d["keys"])
        )  # a key the target itself showed (or answered): a 404 is the target's error
        self.api.call(
            GROUP_GET,
            d["ops"]["get"],
            "GET",
            f"{d['path']}/{quote(key, safe='')}",
            parse=False,
            validate=d["schemas"].get("get"),
        )

    def paged_query(self) -> None:
        name = self.rng.choice(self.queries)
        d = _sets(self.cfg)[name]
        pages = max(1, min(20, -(-d["total"] // d["size"]))) if d["total"] else 1
        params: dict[str, Any] = {"page": self.rng.randint(1, pages), "size": d["size"]}
        if d["filters"] and self.rng.random() < 0.3:
            fname = self.rng.choice(sorted(d["filters"]))
            params = {fname: self.rng.choice(d["filters"][fname]), "page": 1, "size": d["size"]}
        self.api.call(
            GROUP_QUERY,
            d["ops"]["query"],
            "GET",
            d["path"],
            params=params,
            parse=False,
            validate=d["schemas"].get("query"),
        )


class SharingSyncer(TzsbUser):
    """Reads one data set's change feed from the start, page by page, and over again."""

    @classmethod
    def enabled(cls, cfg: Any) -> bool:
        return bool(_granted(cfg, "changes")) and super().enabled(cfg)

    def on_start(self) -> None:
        sets = _granted(self.cfg, "changes")
        self.name = sets[self.rng.randrange(len(sets))]
        self.cursor: str | None = None

    @task
    def read_changes(self) -> None:
        d = _sets(self.cfg)[self.name]
        params: dict[str, Any] = {"limit": d["limit"]}
        if self.cursor:
            params["cursor"] = self.cursor
        reply = self.api.call(
            GROUP_CHANGES,
            d["ops"]["changes"],
            "GET",
            f"{d['path']}/changes",
            params=params,
            records=lambda data: (
                len(data["items"]) if isinstance(data, dict) and isinstance(data.get("items"), list) else 0
            ),
            validate=d["schemas"].get("changes"),
        )
        data = reply.data if reply.ok else None
        if isinstance(data, dict) and data.get("hasMore") and isinstance(data.get("nextCursor"), str):
            self.cursor = data["nextCursor"]
        else:
            self.cursor = None  # at the end (or an error): start over


class SharingPusher(TzsbUser):
    """UPLOAD 100 fresh records (their references first), then DELETE them; again and again."""

    writes = True
    reversible = True

    @classmethod
    def enabled(cls, cfg: Any) -> bool:
        name = cfg.pools.get("push")
        d = _sets(cfg).get(name or "", {})
        return bool(name) and "push" in d.get("ops", {}) and cfg.granted(d["ops"]["push"]) and super().enabled(cfg)

    def on_start(self) -> None:
        self.set = self.cfg.pools["push"]
        self.builder = Builder(self.cfg.pools.get("province", "42"), seed=self.rng.randrange(2**62))
        self.created: list[tuple[str, str]] = []  # (data set, key) accepted by the target, not deleted yet
        self.pending: list[tuple[str, list[dict[str, Any]]]] = []
        register_leftovers(lambda: [{"dataSet": d, "key": k} for d, k in self.created])

    def _push(self, name: str, items: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        d = _sets(self.cfg)[name]
        body = {
            "messageId": f"tzsb-load-{secrets.token_hex(10)}",
            "sentAt": dt.datetime.now(CHINA).isoformat(timespec="seconds"),
            "records": [{"operation": op, "key": key, "record": rec} for op, key, rec in items],
        }
        reply = self.api.call(
            GROUP_PUSH,
            d["ops"]["push"],
            "POST",
            f"{d['path']}/push",
            body=body,
            records=lambda data: int(data.get("accepted") or 0) if isinstance(data, dict) else 0,
            validate=d["schemas"].get("push"),
        )
        results = reply.data.get("results") if reply.ok and isinstance(reply.data, dict) else None
        for res in results if isinstance(results, list) else []:
            if not isinstance(res, dict) or res.get("status") != "accepted" or not isinstance(res.get("index"), int):
                continue
            if not 0 <= res["index"] < len(items):
                continue
            op, key, _ = items[res["index"]]
            if op == "DELETE":
                if (name, key) in self.created:
                    self.created.remove((name, key))
            elif (name, key) not in self.created:
                self.created.append((name, key))

    @task
    def push(self) -> None:
        sets = _sets(self.cfg)
        if self.created and not self.pending:
            # delete what this caller created, newest data set first (references last), 100 per message
            name = self.created[-1][0]
            keys = [k for d, k in self.created if d == name][-100:]
            self._push(name, [("DELETE", k, None) for k in keys])
            return
        if not self.pending:
            prereq, records = self.builder.make(self.set, 100)
            by_set: dict[str, list[dict[str, Any]]] = {}
            for d, rec in prereq:
                by_set.setdefault(d, []).append(rec)
            self.pending = [(d, recs) for d, recs in by_set.items()] + [(self.set, records)]
        name, recs = self.pending.pop(0)
        key = sets[name]["key"]
        self._push(name, [("UPLOAD", r[key], r) for r in recs[:100]])
        if len(recs) > 100:
            self.pending.insert(0, (name, recs[100:]))

    def on_stop(self) -> None:
        self.pending = []
        for _ in range(20):
            if not self.created:
                break
            name = self.created[-1][0]
            keys = [k for d, k in self.created if d == name][-100:]
            before = len(self.created)
            self._push(name, [("DELETE", k, None) for k in keys])
            if len(self.created) == before:
                break  # the target refused: leave the rest listed as left over
