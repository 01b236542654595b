"""One simulator: an HTTP server on loopback that plays a counterpart role from its OpenAPI document.

* Every operation of the role's contract is routed (``openapi_index.role_operations``); path and
  query parameters and JSON bodies are validated against the schemas the contract names; an
  invalid request gets the contract's 400 with field paths, an unknown path 404, a wrong method 405.
* ``/oauth/token`` issues bearer tokens for any client-credentials pair (the simulators are test
  doubles: they record which client called, they do not guard anything); a secured operation
  without a valid bearer token is 401, as the contract says.
* Pushes are idempotent by the pointers of the operation's ``x-idempotent-by``: a repeat with the
  same content gets the original receipt (200, ``duplicate: true``), with other content 409.
* Every call is recorded (:class:`InboundCall`) with the answer given, *before* it is answered, so a
  call whose answer is lost is recorded too.
* Faults (:class:`Fault`) make the next matching calls fail: ``503`` (``503:2`` with ``Retry-After: 2``),
  ``429:N``, ``timeout`` (hold the request past the caller's timeout, then drop it unprocessed),
  ``lost`` (process it, then hold and drop the answer: the caller's retry must be recognised as a
  duplicate) and ``reset`` (close at once).
* A control API under ``/_simulator/`` (not part of any contract) lets the harness register the data
  the simulator answers with (cases, users, inspection reports), set faults, read the calls and claim a
  pushed case for one test (``claims``: each case number is claimed once, across harness runs); it
  needs ``X-Simulator-Token`` when the simulator was started with a control token.

What each operation answers is in :mod:`conformance.simulators.behaviour`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from conformance.binding.dialect import Dialect, Message
from conformance.client.evidence import mask_headers
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation, contract_role, role_operations
from conformance.serving import idempotency, token
from conformance.serving.envelope import error_body, success_body
from conformance.serving.errors import (
    ApiError,
    method_not_allowed,
    no_such_path,
    too_large,
    unsupported_media_type,
    validation_failed,
)
from conformance.serving.params import body_problems, read_params
from conformance.serving.routing import Router
from conformance.simulators import behaviour
from conformance.simulators.model import Fault, InboundCall, Reply, SimulatorState, error, now_iso

#: Bytes of a request body a simulator keeps.
BODY_CAP = 256 * 1024
#: Largest request body a simulator reads (the rest is refused with 413).
MAX_BODY = 8 * 1024 * 1024
CONTROL = "/_simulator"
#: What the faults ``503`` and ``429`` (``503:N``: with ``Retry-After: N``) answer.
FAULT_ANSWERS = {
    "503": (ErrorCode.UNAVAILABLE, "服务暂不可用（模拟故障），请稍后重试", "service unavailable (simulated)"),
    "429": (ErrorCode.RATE_LIMITED, "请求过于频繁（模拟限流），请稍后重试", "rate limited (simulated)"),
}


class Simulator:
    """A counterpart role on ``host:port`` (0: a free port), started in a background thread."""

    def __init__(
        self,
        role: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_token: str | None = None,
        hold_s: float = 35.0,
        dialect: Dialect | None = None,
    ) -> None:
        self.role = role
        #: the vendor's dialect the system under test calls in (a binding, docs/bindings.md); None: canonical
        self.dialect = dialect
        self.state = SimulatorState(role)
        self.router = Router(role_operations(contract_role(role)))
        self.control_token = control_token
        self.hold_s = hold_s
        self.behaviour = behaviour.handlers(role)
        self.stopping = threading.Event()
        sim = self

        class Handler(_Handler):
            simulator = sim

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        self.httpd = Server((host, port), Handler)
        self.host = host
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name=f"simulator-{role}"
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Simulator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def calls(self, since: int = 0) -> list[InboundCall]:
        with self.state.lock:
            return [c for c in self.state.calls if c.seq > since]


def _json(raw: bytes | None) -> Any:
    """A request body as JSON; None when there is none or it is not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class _Handler(BaseHTTPRequestHandler):
    simulator: Simulator
    #: the request as the canonical contract reads it, when the caller spoke a binding's dialect
    canonical: Message | None = None
    protocol_version = "HTTP/1.1"
    server_version = "tzsb-simulator/1"

    def log_message(self, *args: Any) -> None:  # quiet: every call is recorded instead
        pass

    def _dispatch(self) -> None:
        self._handle(self.command)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    # ------------------------------------------------------------------ plumbing
    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            return b""
        if n > MAX_BODY:
            return None
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str], media_type: str) -> None:
        if self.canonical is not None and self.simulator.dialect is not None:
            answer = Message(status=status, headers=(("Content-Type", media_type), *headers.items()), body=body)
            answer = self.simulator.dialect.vendor_answer(answer, self.canonical)
            status, body = answer.status, answer.body
            headers = {k: v for k, v in answer.headers if k.lower() not in ("content-type", "content-length")}
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reply(self, reply: Reply) -> tuple[int, Any, dict[str, str], bytes, str]:
        if reply.raw is not None:
            return reply.status, None, reply.headers, reply.raw, reply.media_type
        if reply.envelope:
            rid = f"sim-{secrets.token_hex(8)}"
            payload: Any = (
                error_body(reply.status, reply.code, reply.message, reply.message_en, rid, errors=reply.errors)
                if reply.status >= 400
                else success_body(reply.data, rid, reply.message)
            )
        else:
            payload = reply.data
        return (
            reply.status,
            payload,
            reply.headers,
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            "application/json",
        )

    def _hold(self) -> None:
        """Keep the caller waiting past its timeout, then drop the connection without an answer."""
        self.simulator.stopping.wait(self.simulator.hold_s)
        self.close_connection = True

    # ------------------------------------------------------------------ one request
    def _handle(self, method: str) -> None:
        sim = self.simulator
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        raw = self._read_body()
        self.canonical = None
        if path.startswith(CONTROL + "/") or path == CONTROL:
            self._control(method, path, query, raw)
            return
        if sim.dialect is not None and raw is not None:  # the caller speaks a vendor's dialect: read it canonically
            vendor = Message(
                method,
                path,
                tuple(parse_qsl(parts.query, keep_blank_values=True)),
                tuple(self.headers.items()),
                raw,
                raw_query=parts.query,
            )
            self.canonical = sim.dialect.canonical_request(vendor)
            path, raw = self.canonical.path, self.canonical.body
            query = dict(self.canonical.query)
            for name in list(self.headers.keys()):
                del self.headers[name]
            for name, value in self.canonical.headers:
                self.headers[name] = value
        t = time.time()
        text = None if raw is None else raw[:BODY_CAP].decode("utf-8", errors="replace")
        headers = dict(self.headers.items())
        call = InboundCall(0, sim.role, method, path, query, mask_headers(headers), text, _json(raw), now_iso(), t)
        found = self.simulator.router.match(path, unquote_params=True)
        methods, params = found if found else ({}, {})
        op = methods.get(method)
        if op is not None:
            call.operation, call.interface = op.operation_id, op.interface
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            call.client_id = sim.state.tokens.get(auth[7:].strip())
            if call.client_id is None and auth[7:].strip() and sim.dialect and sim.dialect.binding.api_key_header:
                # a static-key dialect: any caller's key is taken, as any credentials pair is (named by its digest)
                call.client_id = "key-" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:12]
        with sim.state.lock:
            call.seq = len(sim.state.calls) + 1
            sim.state.calls.append(call)
        fault = (
            sim.state.next_fault(call)
            if op is not None and op.operation_id not in ("issueToken", "getHealth")
            else None
        )
        call.fault = fault
        if fault in ("timeout", "reset"):
            call.answered_at = time.time()
            if fault == "timeout":
                self._hold()
            self.close_connection = True
            return
        simulated, _, seconds = (fault or "").partition(":")
        if simulated in FAULT_ANSWERS:
            hdrs = {"Retry-After": seconds} if seconds else {}
            reply = error(int(simulated), *FAULT_ANSWERS[simulated], headers=hdrs)
        else:
            try:
                reply = self._process(call, methods, op, params, raw, headers)
            except ApiError as exc:  # the pipeline's refusals, as the reference server words them
                reply = error(exc.status, exc.code or "", exc.message_zh, exc.message_en, exc.errors, exc.headers)
        status, payload, hdrs, body, media = self._reply(reply)
        call.status, call.answer, call.answer_headers = status, payload, hdrs
        call.duplicate = bool(
            isinstance(payload, dict)
            and isinstance(payload.get("data"), dict)
            and payload["data"].get("duplicate") is True
        ) or (status == 200 and op is not None and bool(op.raw.get("x-idempotent-by")) and call.method == "POST")
        call.answered_at = time.time()
        if fault == "lost":  # processed, answer lost: the caller's retry is a duplicate
            self._hold()
            return
        with contextlib.suppress(OSError):
            self._send(status, body, hdrs, media)

    def _process(
        self,
        call: InboundCall,
        methods: dict[str, Operation],
        op: Operation | None,
        params: dict[str, str],
        raw: bytes | None,
        headers: dict[str, str],
    ) -> Reply:
        sim = self.simulator
        if op is None:
            raise method_not_allowed(call.method, methods) if methods else no_such_path(call.path)
        if op.operation_id == "issueToken":
            return self._token(call, raw, headers)
        if op.secured and call.client_id is None:
            call.problems.append("未携带有效的 Bearer 令牌 / no valid bearer token")
            return error(
                401,
                ErrorCode.UNAUTHORIZED,
                "缺少或无效的访问令牌",
                "missing or invalid bearer token",
                headers={"WWW-Authenticate": 'Bearer realm="tzsb-simulator"'},
            )
        if raw is None:
            raise too_large(MAX_BODY)
        path_values, query_values, problems = read_params(op, params, call.query)
        values = {**query_values, **path_values}
        body: Any = None
        if op.body_uri is not None:
            ctype = (headers.get("Content-Type") or headers.get("content-type") or "").split(";")[0].strip().lower()
            if ctype != "application/json":
                call.problems.append(f"Content-Type 为 {ctype or '（无）'}，应为 application/json")
                raise unsupported_media_type(ctype)
            if not isinstance(call.json, dict | list):
                call.problems.append("请求体不是合法 JSON / body is not JSON")
                return error(400, ErrorCode.BAD_REQUEST, "请求体不是合法 JSON", "body is not valid JSON")
            body = call.json
            problems += body_problems(op, body, limit=20)
        if problems:
            call.problems += [f"{p['path']}: {p['message']}" for p in problems]
            raise validation_failed(problems)
        handler = sim.behaviour.get(op.operation_id)
        if handler is None:  # pragma: no cover - every operation of the simulated roles has a behaviour
            return error(500, ErrorCode.INTERNAL_ERROR, "模拟器未实现该操作", f"{op.operation_id} not simulated")
        key = idempotency.idempotency_key(op, body)
        if key is not None:
            fingerprint = idempotency.fingerprint(body)
            with sim.state.lock:
                seen = sim.state.receipts.get((op.operation_id, key))
                if seen is not None:
                    if seen[0] != fingerprint:
                        call.problems.append(
                            f"消息标识 {key} 已用于内容不同的消息 / message id reused with other content"
                        )
                        return error(
                            409,
                            ErrorCode.DUPLICATE,
                            f"消息 {key} 已接收，内容不同",
                            f"message {key} was received with other content",
                        )
                    data = seen[2]
                    if isinstance(data, dict) and "duplicate" in data:
                        data = {**data, "duplicate": True}
                    return Reply(200, data)
                try:
                    reply = handler(sim.state, call, values, body)
                except Reply as r:
                    return r
                if 200 <= reply.status < 300:
                    sim.state.receipts[(op.operation_id, key)] = (fingerprint, reply.status, reply.data)
                return reply
        try:
            with sim.state.lock:
                return handler(sim.state, call, values, body)
        except Reply as r:
            return r

    def _token(self, call: InboundCall, raw: bytes | None, headers: dict[str, str]) -> Reply:
        # a form (RFC 6749) or, as the contract also accepts, a JSON object of the same fields
        form = {k: v[0] for k, v in parse_qs((raw or b"").decode("utf-8", "replace")).items()}
        if isinstance(call.json, dict):
            form = {k: v for k, v in call.json.items() if isinstance(v, str)}
        client = form.get("client_id")
        basic = headers.get("Authorization") or headers.get("authorization") or ""
        if not client and basic.lower().startswith("basic "):
            import base64

            try:
                client = base64.b64decode(basic[6:]).decode().split(":", 1)[0]
            except ValueError:
                client = None
        refused = token.refusal(form, secret_required=False)
        if refused is not None:
            return Reply(400, refused, envelope=False, headers=token.NO_STORE)
        if not client:
            return Reply(
                401,
                token.invalid_client("缺少客户端标识"),
                envelope=False,
                headers={**token.NO_STORE, "WWW-Authenticate": 'Basic realm="tzsb-simulator"'},
            )
        value = secrets.token_urlsafe(24)
        with self.simulator.state.lock:
            self.simulator.state.tokens[value] = client
        call.client_id = client
        return Reply(200, token.issued(value, 3600, form.get("scope", "")), envelope=False, headers=token.NO_STORE)

    # ------------------------------------------------------------------ control API
    def _control(self, method: str, path: str, query: dict[str, str], raw: bytes | None) -> None:
        sim = self.simulator
        token = self.headers.get("X-Simulator-Token")
        if sim.control_token and not (token and secrets.compare_digest(token, sim.control_token)):
            self._send(401, b'{"error":"control token required"}', {}, "application/json")
            return
        what = path[len(CONTROL) :].strip("/")
        data = _json(raw)
        status, out = 200, None
        state = sim.state
        with state.lock:
            if method == "GET" and what == "info":
                out = {"role": sim.role, "url": sim.url, "holdS": sim.hold_s, "calls": len(state.calls)}
            elif method == "GET" and what == "calls":
                since = int(query.get("since", "0") or 0)
                out = {"calls": [c.as_dict() for c in state.calls if c.seq > since]}
            elif method == "POST" and what == "faults" and isinstance(data, dict):
                state.faults.append(Fault(dict(data.get("match") or {}), [str(a) for a in data.get("actions") or []]))
                out = {"faults": len(state.faults)}
            elif method == "DELETE" and what == "faults":
                state.faults.clear()
                out = {"faults": 0}
            elif method == "POST" and what == "claims" and isinstance(data, dict) and data.get("caseNo"):
                case_no = str(data["caseNo"])  # a case the harness takes for one test: each is taken once
                out = {"caseNo": case_no, "claimed": case_no not in state.claims}
                state.claims.add(case_no)
            elif method == "POST" and what in ("cases", "users", "reports") and isinstance(data, dict):
                try:
                    out = behaviour.register(state, what, data)
                except ValueError as exc:
                    status, out = 400, {"error": str(exc)}
            else:
                status, out = 404, {"error": f"no control operation {method} {what}"}
        self._send(status, json.dumps(out, ensure_ascii=False).encode("utf-8"), {}, "application/json")
