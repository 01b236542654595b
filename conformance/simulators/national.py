"""The national platform (全国特种设备安全监管信息平台) the harness plays above a provincial sharing platform
(docs/two-tier.md): every operation of ``sharing.yaml``, answered from what the province reported up.

The 2007 informatisation opinion makes the national database the core and the provincial ones the focus, with automatic
exchange between them (INFO2007.2.5.2, INFO2007.2.5.3); the draft sharing-interface standard has lower-level platforms
push their records (UPLOAD / UPDATE / DELETE, with message ids) to the upper level and get receipts (SHARE.MECH.MODE.1).
A provincial platform reports up through the very push operations it offers its own sources, so the simulator serves
the ``sharing`` contract:

* **push** (every data set): a receipt per message, each record accepted (the simulator judges nothing here: the suite
  judges what was received); the records are kept by data set and key, the last state wins; a DELETE leaves the key
  deleted. Idempotency by message id is the server's (same id and content: the first receipt, ``duplicate: true``;
  other content: 409).
* **reads**: by key (404 when absent or deleted), paged query of the live records (no filters), change feed of every
  change received in order (cursor: ``n<seq>``), so the records reported up can be read back.
* everything else of the contract (subscriptions, catalogue, grants, audit, open data): an empty page or 404 — the
  national platform keeps no such data here.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.contract.datasets import data_sets
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import role_operations
from conformance.serving.envelope import page
from conformance.simulators.model import InboundCall, Reply, SimulatorState, error, now_iso

#: The contract the national platform answers from.
CONTRACT = "sharing"


def _push(name: str) -> Any:
    def push(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: dict[str, Any]) -> Reply:
        at = now_iso()
        held = state.shared.setdefault(name, {})
        results = []
        for i, item in enumerate(body["records"]):
            op, key = item["operation"], item["key"]
            record = item.get("record") if op != "DELETE" else None
            held[key] = record
            state.changes.append(
                {
                    "seq": len(state.changes) + 1,
                    "dataSet": name,
                    "operation": op,
                    "key": key,
                    "changedAt": at,
                    "record": record,
                }
            )
            results.append({"index": i, "key": key, "status": "accepted"})
        receipt = {
            "messageId": body["messageId"],
            "receivedAt": at,
            "duplicate": False,
            "accepted": len(results),
            "rejected": 0,
            "results": results,
        }
        return Reply(200, receipt)

    return push


def _get(name: str, param: str) -> Any:
    def get(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
        record = state.shared.get(name, {}).get(q[param])
        if record is None:
            raise error(
                404, ErrorCode.NOT_FOUND, f"国家平台没有记录“{q[param]}”", f"no record {q[param]} at the national level"
            )
        return Reply(200, record)

    return get


def _query(name: str) -> Any:
    def query(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
        live = [r for _, r in sorted(state.shared.get(name, {}).items()) if r is not None]
        return Reply(200, page(live, int(q.get("page", 1)), int(q.get("size", 20))))

    return query


_CURSOR = re.compile(r"^n(\d{1,12})$")


def _changes(name: str) -> Any:
    def changes(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
        after = 0
        if q.get("cursor"):
            m = _CURSOR.match(str(q["cursor"]))
            if m is None:
                raise error(400, ErrorCode.BAD_REQUEST, "游标无效，请从头同步", "invalid cursor: reload from scratch")
            after = int(m.group(1))
        limit = int(q.get("limit", 100))
        mine = [c for c in state.changes if c["dataSet"] == name and c["seq"] > after]
        items = [{k: v for k, v in c.items() if k != "dataSet"} for c in mine[:limit]]
        last = items[-1]["seq"] if items else after
        return Reply(200, {"items": items, "nextCursor": f"n{last}", "hasMore": len(mine) > limit})

    return changes


def _empty(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    return Reply(200, page([], int(q.get("page", 1)), int(q.get("size", 20))))


def _none(state: SimulatorState, call: InboundCall, q: dict[str, Any], body: Any) -> Reply:
    raise error(
        404, ErrorCode.NOT_FOUND, "模拟的国家平台不保存该数据", "the simulated national platform keeps no such data"
    )


def handlers() -> dict[str, Any]:
    """Every operation of the sharing contract, by operation id (the data-set operations by their shape)."""
    out: dict[str, Any] = {}
    sets = data_sets()
    for op in role_operations(CONTRACT):
        ds = sets.get(op.data_set) if op.data_set else None
        method = op.method.lower()
        if ds is not None and method == "post" and op.path == f"{ds.path}/push":
            out[op.operation_id] = _push(ds.name)
        elif ds is not None and method == "get" and op.path == ds.path:
            out[op.operation_id] = _query(ds.name)
        elif ds is not None and method == "get" and op.path == f"{ds.path}/changes":
            out[op.operation_id] = _changes(ds.name)
        elif ds is not None and method == "get" and op.path.startswith(f"{ds.path}/{{") and ds.key_param is not None:
            out[op.operation_id] = _get(ds.name, ds.key_param.name)
        else:
            out[op.operation_id] = _empty if method == "get" and "{" not in op.path else _none
    return out
