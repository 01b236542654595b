"""检验检测（inspection）与安全监察（supervision）两个角色套件的共用部分；本模块不含测试（文件名带套件前缀只为与套件放在一起，
pytest 从中收集不到测试）。

Shared helpers of the inspection (DB42/T 2279-2024 表6) and supervision (表7) suites. Everything
about the interfaces is read from the contracts: operations, paths and response schemas from
``schemas/openapi/inspection.yaml`` / ``supervision.yaml`` (through ``conformance.contract.openapi``),
identifier fields from the request schemas' ``tzsb-*`` formats, error shapes from
``error.schema.json``. Nothing here imports the reference server.

The caller of T6 and T7 is the licensing system: the suites call as the target file's
``[clients.licensing-system]`` when it declares one, else with the harness credentials
(``[credentials]``); read-backs use the harness credentials.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from conformance.binding.callbacks import Callbacks
from conformance.binding.dialect import Message
from conformance.check.schema import validator, validator_at
from conformance.client import Evidence, Exchange, TargetClient, TargetResponse
from conformance.client.evidence import body_text, inbound_wire, mask_headers
from conformance.client.token import token_path
from conformance.clock import now_iso as now_iso
from conformance.codes import check
from conformance.codes.strategies import near_miss
from conformance.harness import profiles
from conformance.harness.target import Target
from conformance.suites.support.callbacks import callback_dialect, callback_server, canonical_call
from conformance.suites.support.sharing import expect_status, explain, instant, operation, response_validator, snippet
from conformance.suites.support.sharing import later as later

#: The client that plays the licensing system, the caller of T6-1, T6-2, T7-1 and T7-2 (DB42/T 2279-2024 §10.3, §10.4).
CALLER_CLIENT = "licensing-system"
_CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------------------- profile depth


def depth(target: Target) -> profiles.Reporting:
    return profiles.depth(target.profile).reporting


def threshold(target: Target, name: str, default: float) -> float:
    """A time limit of the target file's ``[thresholds]`` (seconds), else ``default``."""
    return float(target.thresholds.get(name, default))


# ---------------------------------------------------------------------------- the contract


def path_of(role: str, operation_id: str, **values: str) -> str:
    """The operation's path with its path parameters filled in (percent-encoded)."""
    path = operation(role, operation_id).path
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def param_uri(role: str, operation_id: str, name: str) -> str:
    return next(p.schema_uri for p in operation(role, operation_id).params if p.name == name)


def body_validator(role: str, operation_id: str) -> Any:
    uri = operation(role, operation_id).body_uri
    assert uri is not None, f"契约中 {operation_id} 没有 JSON 请求体 / {operation_id} has no JSON body in the contract"
    return validator_at(uri)


# ---------------------------------------------------------------------------- clients


def caller(tzsb_client: Any, target: Target) -> TargetClient:
    """The licensing system's client when the target file declares it, else the harness credentials."""
    return tzsb_client(client=CALLER_CLIENT) if target.client(CALLER_CLIENT) else tzsb_client()


def permitted(r: TargetResponse, what: str) -> None:
    """A 403 means the credentials of the target file lack the scope: the item cannot be run (未测), never a pass."""
    if r.status == 403:
        pytest.skip(
            f"{what}：测试凭证无此接口的权限（403），请在目标文件中提供具备该权限的客户端 / "
            f"{what}: the credentials in the target file lack the scope (403)"
        )


# ---------------------------------------------------------------------------- responses


def conforms(r: TargetResponse, role: str, operation_id: str, status: int | tuple[int, ...], what: str) -> Any:
    """Assert the status and that the whole response body validates against the contract's schema of that
    operation and status; return ``data``."""
    expect_status(r, status, what)
    v = response_validator(operation(role, operation_id), r.status)
    assert v is not None, f"契约未给出 {operation_id} 的 {r.status} 响应结构 / no schema for {r.status}"
    body = r.json()
    assert body is not None and v.is_valid(body), (
        f"{what}：响应不符合契约（{operation_id} HTTP {r.status}）：{explain(v, body)} / "
        f"{what}: the response does not validate against the contract"
    )
    return body["data"]


def refused(
    r: TargetResponse, role: str, operation_id: str, status: int | tuple[int, ...], what: str
) -> dict[str, Any]:
    """Assert an error status and the contract's error envelope for it (code, Chinese message); return the body."""
    expect_status(r, status, what)
    body = r.json()
    assert isinstance(body, dict), (
        f"{what}：错误响应不是 JSON 对象：{snippet(r)} / the error response is not a JSON object"
    )
    assert isinstance(body.get("message"), str) and _CJK.search(body["message"]), (
        f"{what}：错误说明 message 不是中文：{body.get('message')!r} / the error message is not in Chinese"
    )
    v = response_validator(operation(role, operation_id), r.status) or validator("error")
    assert v.is_valid(body), (
        f"{what}：错误响应不符合契约的错误信封：{explain(v, body)} / "
        f"{what}: the error response does not validate against the contract's error envelope"
    )
    return body


def names_field(body: dict[str, Any], pointer: str, what: str) -> None:
    """The 400's ``errors`` name the field (a JSON Pointer into the body, or ending with it) with a Chinese reason."""
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    paths = [str(e.get("path", "")) for e in errors]
    hits = [e for e in errors if str(e.get("path", "")) == pointer or str(e.get("path", "")).endswith(pointer)]
    assert hits, (
        f"{what}：400 的错误项未指出字段 {pointer}（errors 路径：{paths or '无'}） / "
        f"{what}: the errors do not name the field {pointer}"
    )
    assert all(_CJK.search(str(e.get("message", ""))) for e in hits), (
        f"{what}：字段 {pointer} 的错误说明不是中文：{[e.get('message') for e in hits]} / the field's reason is not in Chinese"
    )


# ---------------------------------------------------------------------------- values


def message_id() -> str:
    """A fresh message id (the contract's messageId pattern: 8–64 letters, digits and ``_.:-``)."""
    return f"tzsb-{secrets.token_hex(12)}"


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str) and _DATE_TIME.match(a) and _DATE_TIME.match(b):
        return instant(a) == instant(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def differences(sent: Any, got: Any, where: str = "") -> list[str]:
    """Field-by-field differences (JSON Pointers) between what was sent and what came back; date-times
    are compared as instants (another UTC offset for the same instant is the same value)."""
    if isinstance(sent, dict) and isinstance(got, dict):
        out: list[str] = []
        for key in sorted(set(sent) | set(got)):
            here = f"{where}/{key}"
            if key not in got:
                out.append(f"{here}：缺失（上报值 {sent[key]!r}）")
            elif key not in sent:
                out.append(f"{here}：多出 {got[key]!r}（未上报）")
            else:
                out += differences(sent[key], got[key], here)
        return out
    if isinstance(sent, list) and isinstance(got, list):
        if len(sent) != len(got):
            return [f"{where or '/'}：{len(sent)} 项，回读 {len(got)} 项"]
        return [d for i, (a, b) in enumerate(zip(sent, got, strict=True)) for d in differences(a, b, f"{where}/{i}")]
    return [] if _same_value(sent, got) else [f"{where or '/'}：上报 {sent!r}，回读 {got!r}"]


def with_value(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with ``value`` set at ``path`` (intermediate objects created)."""
    out = orjson.loads(orjson.dumps(document))
    node = out
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return out


@functools.cache
def near_misses(kind: str, count: int) -> tuple[tuple[str, str], ...]:
    """``count`` invalid values of an identifier kind, each ``(value, mutation)``, invalid by construction
    (``conformance.codes.strategies.near_miss``) and kept only when the lenient rules refuse them too, so
    that a target is never judged on a point where the identifier rules are uncertain. Deterministic."""
    found: list[tuple[str, str]] = []

    @settings(
        max_examples=max(20, count * 20),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(near_miss(kind))
    def collect(pair: tuple[str, str]) -> None:
        if len(found) < count and pair[0] not in {v for v, _ in found} and not check(kind, pair[0], mode="held").ok:
            found.append(pair)

    collect()
    return tuple(found)


# ---------------------------------------------------------------------------- the harness as the licensing system


class Receiver(http.server.ThreadingHTTPServer):
    """The harness as the receiving licensing system: answers token requests, records every other POST and
    answers it 201 with a receipt (the contract's callback response). Through the target's binding (``dialect``)
    it reads the token request and the callback in the target's dialect and answers in it; ``posts`` hold the
    canonical reading, ``crossed`` the same calls as they crossed the wire."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        receipt: Callable[[Any], dict[str, Any]],
        callback: str,
        dialect: Callbacks | None = None,
        base_path: str = "",
    ) -> None:
        super().__init__(address, _Hook)
        self.receipt = receipt
        self.callback, self.dialect, self.base_path = callback, dialect, base_path
        self.posts: list[tuple[str, dict[str, str], bytes, Any]] = []  # (path, headers, raw body, JSON or None)
        self.crossed: list[dict[str, Any] | None] = []  # beside each post: its wire form (``Exchange.wire``)
        self.lock = threading.Lock()
        self.url = ""

    def received(self) -> list[tuple[str, dict[str, str], bytes, Any]]:
        with self.lock:
            return list(self.posts)

    def with_wire(self) -> list[tuple[tuple[str, dict[str, str], bytes, Any], dict[str, Any] | None]]:
        """Each post beside its wire form (None without a binding)."""
        with self.lock:
            return list(zip(self.posts, self.crossed, strict=True))


def _grant() -> dict[str, Any]:
    return {"access_token": f"tzsb-callback-{secrets.token_hex(8)}", "token_type": "Bearer", "expires_in": 600}


class _Hook(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def _send(self, status: int, raw: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _token(self, raw: bytes) -> bytes | None:
        """The answer to a token request (in the target's dialect through its binding), None for any other call."""
        path = self.path.split("?")[0]
        dialect = self.server.dialect
        if dialect is None:
            return orjson.dumps(_grant()) if path.endswith(token_path()) else None
        local = path.removeprefix(self.server.base_path) or "/"
        request = dialect.token_request(Message("POST", local, (), tuple(self.headers.items()), raw))
        if request is None:
            return None
        answer = Message(status=200, headers=(("Content-Type", "application/json"),), body=orjson.dumps(_grant()))
        return dialect.token_answer(answer, request).body

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        wire = self.rfile.read(min(length, 8 << 20))
        token = self._token(wire)
        if token is not None:
            self._send(200, token)
            return
        srv = self.server
        wire_headers = dict(self.headers.items())
        headers, raw = canonical_call(srv.dialect, srv.callback, self.path, wire_headers, wire)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        receipt = orjson.dumps(
            {"code": "OK", "message": "已接收", "data": srv.receipt(body), "requestId": f"tzsb-{secrets.token_hex(8)}"}
        )
        status, answer, crossed = 201, receipt, None
        if srv.dialect is not None:
            request = Message("POST", self.path, (), tuple(headers.items()), raw)
            canonical = Message(status=201, headers=(("Content-Type", "application/json"),), body=receipt)
            vendor = srv.dialect.vendor_answer(canonical, request, srv.callback)
            status, answer = vendor.status, vendor.body
            secret = (srv.dialect.binding.bearer_header or "",)
            url = f"{srv.url.split('/tzsb-callback')[0]}{self.path}"
            crossed = inbound_wire("POST", url, wire_headers, wire, status, secret_headers=secret, response_body=answer)
        with srv.lock:
            srv.posts.append((self.path, headers, raw, body))
            srv.crossed.append(crossed)
        self._send(status, answer)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def receiver(
    target: Target, evidence: Evidence, path: str, receipt: Callable[[Any], dict[str, Any]], *, role: str, callback: str
) -> Iterator[Receiver]:
    """A receiver in this process at ``<base>/tzsb-callback`` + ``path``, at an address the target can reach: loopback
    when the target is on this machine, else the target file's ``[thresholds] callback_host`` (and
    ``callback_port``); otherwise the item is 未测. ``callback``: the operation of ``role``'s contract it receives,
    read through the target's binding when it has one."""
    dialect = callback_dialect(target, role)
    with callback_server(
        target,
        lambda address: Receiver(address, receipt, callback, dialect, "/tzsb-callback"),
        f"/tzsb-callback{path}",
        "无法接收回推",
    ) as server:
        try:
            yield server
        finally:
            for (call_path, headers, raw, _), wire in server.with_wire():
                text, capped = body_text(raw)
                evidence.add(
                    Exchange(
                        "POST",
                        f"{server.url.split('/tzsb-callback')[0]}{call_path}",
                        mask_headers(headers),
                        text,
                        status=201,
                        response_truncated=capped,
                        started_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                        direction="inbound",  # the target's call to the harness's callback receiver
                        simulator="callback",
                        wire=wire,
                    )
                )
