"""Pieces shared by the sharing, security, contract, inspection and supervision suites; this module holds no tests.

* a scripted subscriber: the harness receives the target's notifications and answers each by a script
  (recorded as inbound evidence when the block ends);
* the owner's grants of the security suites (who owns a record, what is masked, registering a grant);
* the contract's valid fixtures;
* the refusals of bad message ids and near-miss identifiers in the reports of T6-2, T7-1 and T7-2.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from conformance.binding.callbacks import Callbacks
from conformance.check.formats import format_sites
from conformance.client import Evidence, TargetClient
from conformance.client.evidence import inbound_wire
from conformance.contract import documents as contracts
from conformance.contract.datasets import notification
from conformance.contract.documents import fixture_labels
from conformance.contract.openapi import Operation
from conformance.harness.target import Target
from conformance.suites.support.callbacks import callback_dialect, callback_server, canonical_call
from conformance.suites.support.reporting import (
    body_validator,
    message_id,
    names_field,
    near_misses,
    operation,
    path_of,
    permitted,
    refused,
    with_value,
)
from conformance.suites.support.security import (
    MASKED_CITIZEN_ID,
    MASKED_MOBILE,
    call,
    iso,
    scopes_of,
    secured,
    server_offset,
)
from conformance.suites.support.workflow import data_of

# ---------------------------------------------------------------------------- a scripted subscriber

#: An answer of the subscriber: an HTTP status with headers, or None to drop the connection without answering.
Answer = tuple[int, dict[str, str]] | None
RECEIPT: Answer = (204, {})


@dataclass
class Delivery:
    at: float  # time.monotonic() on arrival
    headers: dict[str, str]  # read canonically (through the target's binding, if any)
    raw: bytes  # the body read canonically
    body: Any  # ``raw`` as JSON, None when it is not JSON
    answer: Answer
    #: through a binding: the headers and body as they crossed the wire, in the target's dialect
    wire_headers: dict[str, str] | None = None
    wire_body: bytes | None = None

    @property
    def message_id(self) -> Any:
        return self.body.get("messageId") if isinstance(self.body, dict) else None

    @property
    def header_id(self) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == "x-message-id"), None)


class Subscriber(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], script: list[Answer], dialect: Callbacks | None = None) -> None:
        super().__init__(address, _Hook)
        self.script = script
        #: the target's dialect of the notifications (its binding), None for the canonical contracts
        self.dialect = dialect
        self.received: list[Delivery] = []
        self.lock = threading.Lock()
        self.url = ""

    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self.received)


class _Hook(http.server.BaseHTTPRequestHandler):
    server: Subscriber

    def do_POST(self) -> None:
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        wire = self.rfile.read(min(length, 8 << 20))
        sub = self.server
        wire_headers = dict(self.headers.items())
        headers, raw = canonical_call(sub.dialect, notification().operation_id, self.path, wire_headers, wire)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        crossed = (wire_headers, wire) if sub.dialect is not None else (None, None)
        with sub.lock:
            n = len(sub.received)
            answer = sub.script[n] if n < len(sub.script) else RECEIPT
            sub.received.append(Delivery(arrived, headers, raw, body, answer, *crossed))
        if answer is None:  # a connection failure: closed without a response
            self.close_connection = True
            return
        status, headers = answer
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def subscriber(
    target: Target, evidence: Evidence, script: list[Answer], path: str, purpose_zh: str, simulator: str
) -> Iterator[Subscriber]:
    """A callback receiver answering the deliveries by ``script``, then with a receipt, at an address the target can
    reach (else the item is 未测); its deliveries, read canonically through the target's binding if it has one,
    become evidence (the target's calls to the harness, with the wire form beside) at the end."""
    dialect = callback_dialect(target, "sharing")
    secret = (dialect.binding.bearer_header or "",) if dialect is not None else ()
    with callback_server(
        target, lambda address: Subscriber(address, list(script), dialect), path, purpose_zh
    ) as server:
        try:
            yield server
        finally:
            for d in server.deliveries():  # the target's calls to the harness (a drop is ours, on purpose)
                status = d.answer[0] if d.answer else None
                evidence.add_inbound(
                    simulator=simulator,
                    method="POST",
                    url=server.url,
                    headers=d.headers,
                    body=d.raw,
                    status=status,
                    error=None if d.answer else "本工具（订阅方）未应答即断开连接 / dropped by the harness",
                    received_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    wire=(
                        inbound_wire("POST", server.url, d.wire_headers, d.wire_body, status, secret_headers=secret)
                        if d.wire_headers is not None
                        else None
                    ),
                )


# ---------------------------------------------------------------------------- subscriptions


def subscription_path(operation_id: str, sid: str) -> str:
    return operation("sharing", operation_id).path.replace("{subscriptionId}", sid)


# ---------------------------------------------------------------------------- owners' grants


def owners(record: dict[str, Any]) -> frozenset[str]:
    """The record's owners: its credit-code fields (``uscc`` or ``…Uscc``; the contract does not say which)."""
    return frozenset(v for k, v in record.items() if (k == "uscc" or k.endswith("Uscc")) and isinstance(v, str))


def is_masked(value: Any) -> bool:
    return isinstance(value, str) and bool(MASKED_MOBILE.match(value) or MASKED_CITIZEN_ID.match(value))


def data_set_reads(
    ops: list[Operation], scopes: frozenset[str] | None = None, *, feeds: bool = True
) -> list[Operation]:
    """Paged queries (and, with ``feeds``, change feeds) of data sets, not the open endpoints, that ``scopes`` may call
    (None: whatever the scopes)."""
    return [
        op
        for op in secured(ops)
        if op.method == "get"
        and op.data_set
        and "{" not in op.path
        and (feeds or not op.path.endswith("/changes"))
        and (scopes is None or set(scopes_of(op)) & scopes)
        and not any(s.endswith(":open") for s in scopes_of(op))
    ]


def grant_operation(role_ops: list[Operation]) -> Operation | None:
    return next(
        (op for op in secured(role_ops) if op.method == "post" and any(s.endswith(":grant") for s in scopes_of(op))),
        None,
    )


def by_key_read(role_ops: list[Operation], query: Operation) -> Operation | None:
    """The read by key of the data set of the paged ``query``."""
    return next(
        (
            op
            for op in secured(role_ops)
            if op.method == "get"
            and op.data_set == query.data_set
            and op.path.startswith(query.path + "/{")
            and op.path.count("{") == 1
        ),
        None,
    )


def read_record(client: TargetClient, op: Operation, path: str) -> dict[str, Any]:
    """The record ``op`` reads at ``path`` (200 with a record, else the check fails)."""
    r = call(client, op, path=path)
    assert r.status == 200, f"{op.operation_id} {path}: 返回 {r.status}"
    data = data_of(r)
    assert isinstance(data, dict), f"{op.operation_id} {path}: 响应没有记录"
    return data


def register_grants(
    harness: TargetClient,
    grant_op: Operation,
    grantee: TargetClient,
    data_set: str | None,
    fields: list[str],
    purpose: str,
    validity: float,
    record: dict[str, Any],
) -> Callable[[], None]:
    """Each owner of ``record`` grants ``grantee`` the ``fields`` of ``data_set`` for ``validity`` seconds (server
    clock, whole seconds: validTo has no fraction); returns the wait until the grants have expired."""
    offset = server_offset(harness)
    valid_to = float(math.ceil(time.time() + offset + validity))
    for owner in sorted(owners(record)):
        body = {
            "grantId": f"tzsbsec-{secrets.token_hex(8)}",
            "ownerUscc": owner,
            "granteeClientId": grantee.client_id,
            "dataSet": data_set,
            "fields": fields,
            "purpose": purpose,
            "validTo": iso(valid_to),
        }
        r = call(harness, grant_op, json=body)
        assert r.status in (200, 201), f"{grant_op.operation_id}: 登记授权（所属主体 {owner}）返回 {r.status}"
    return lambda: time.sleep(max(0.0, valid_to - (time.time() + offset)) + 1.0)


# ---------------------------------------------------------------------------- the contract's examples


@functools.cache
def valid_fixtures() -> tuple[Any, ...]:
    """Every fixture of ``fixtures/json`` labelled valid (the contract's own examples)."""
    return tuple(
        orjson.loads((contracts.FIXTURES / "json" / folder / label["file"]).read_bytes())
        for folder, label in fixture_labels("json")
        if label["valid"]
    )


# ---------------------------------------------------------------------------- refused reports (T6-2, T7-1, T7-2)


def bad_message_ids_are_refused(
    client: TargetClient, role: str, operation_id: str, body: dict[str, Any], what: str
) -> None:
    """Without ``messageId``, and with each id the contract's pattern refuses: 400 naming /messageId."""
    v = body_validator(role, operation_id)
    cases = [("缺少消息标识", {k: x for k, x in body.items() if k != "messageId"})]
    cases += [
        (f"消息标识“{bad}”", {**body, "messageId": bad})
        for bad in ("x1", "消息标识-00000001", "a" * 65)
        if not v.is_valid({**body, "messageId": bad})
    ]
    for label, bad_body in cases:
        r = client.post(path_of(role, operation_id), bad_body)
        permitted(r, what)
        names_field(refused(r, role, operation_id, 400, f"{what}（{label}）"), "/messageId", f"{what}（{label}）")


def near_miss_codes_are_refused(
    client: TargetClient, role: str, operation_id: str, body: dict[str, Any], what: str, count: int, lacking: str
) -> None:
    """Each coded field (a ``tzsb-*`` format of the request schema) set to ``count`` near misses in turn: 400 naming
    the field. ``lacking``: the failure when the contract's body has no coded field."""
    sites = format_sites(body_validator(role, operation_id).uri)
    assert sites, lacking
    for path, kind in sites:
        pointer = "/" + "/".join(path)
        for value, mutation in near_misses(kind, count):
            bad = with_value({**body, "messageId": message_id()}, path, value)
            case = f"{what}（{pointer}=“{value}”，{mutation}）"
            r = client.post(path_of(role, operation_id), bad)
            permitted(r, what)
            names_field(refused(r, role, operation_id, 400, case), pointer, case)
