"""The reference server: an ASGI app built from ``schemas/openapi``.

Every operation of a role's documents becomes a route; the pipeline around each handler applies
the contract (parameters and bodies validated against the schemas as written), security
(token, scope, optional signature, rate limit, quota), size limits, the response envelope,
error envelopes (never a bare 500) and the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import sys
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from conformance.check.limits import JSONLimitError, loads_bounded
from conformance.check.schema import validator_at
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation, role_operations
from conformance.reference import audit, roles
from conformance.reference.context import Ctx, Reply, handler_for
from conformance.reference.defects import Mutations, seams
from conformance.reference.errors import ApiError, bad_request, validation_failed
from conformance.reference.server_state import RoleServer
from conformance.serving.envelope import success_body
from conformance.serving.errors import method_not_allowed, no_such_path, too_large, unsupported_media_type
from conformance.serving.params import body_problems, read_params
from conformance.serving.routing import Router

log = logging.getLogger("tzsb.reference")


def _target(scope: dict[str, Any]) -> str:
    """Path and query as sent (what a signature covers and the audit records)."""
    path = scope.get("raw_path") or scope["path"].encode()
    qs = scope.get("query_string", b"")
    return (path + (b"?" + qs if qs else b"")).decode("latin-1")


_STAMP: list[Any] = [0, ""]


def _stamp() -> str:
    now = int(time.time())
    if _STAMP[0] != now:
        _STAMP[0], _STAMP[1] = now, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    return str(_STAMP[1])


#: One line per request, written to stderr in batches (a write per request would cost more than the request).
ACCESS_LOG: list[str] = []


def flush_access_log() -> None:
    if ACCESS_LOG:
        lines, ACCESS_LOG[:] = "\n".join(ACCESS_LOG) + "\n", []
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(lines)
            sys.stderr.flush()


class RequestTooLarge(Exception):
    pass


def _invalid_token_request(zh: str, en: str) -> Reply:
    """The RFC 6749 §5.2 ``invalid_request`` of the token endpoint (the contract's TokenBadRequest), with the reason."""
    return Reply(
        {"error": "invalid_request", "error_description": f"{zh} / {en}"[:500]},
        status=400,
        envelope=False,
        headers={"Cache-Control": "no-store"},
    )


def _token_body_refusal(op: Operation, body: Any) -> Reply | None:
    """A token request body with fields of another JSON type than the contract's (a list or an object for the
    secret, a number for the scope): ``invalid_request``. Missing fields and the grant type are the handler's."""
    if op.body_uri is None or body is None:
        return None
    v = validator_at(op.body_uri)
    if v.is_valid(body):
        return None
    wrong = [e.path or "/" for e in v.errors(body) if e.keyword == "type"]
    if not wrong:
        return None
    where = "、".join(wrong[:5])
    return _invalid_token_request(f"请求体字段类型不符合契约：{where}", f"request fields of the wrong type: {where}")


class RoleApp:
    """The routes of one role."""

    def __init__(self, server: RoleServer) -> None:
        self.server = server
        #: the mutators of the server's defects at the seams of this pipeline (``defects/seams.py``)
        self.mutate = Mutations(server.defects)
        self.ops = role_operations(server.role)
        missing = [op.operation_id for op in self.ops if handler_for(op) is None]
        if missing:
            raise RuntimeError(f"role {server.role}: no handler for {', '.join(missing)}")
        self.router = Router(self.ops)

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Every method reaches ``dispatch`` (an unknown one gets the 405 envelope with this path's Allow)."""
        request = Request(scope, receive)
        response = await self.endpoint(request)
        await response(scope, receive, send)

    async def endpoint(self, request: Request) -> Response:
        root = request.scope.get("root_path", "")
        path = request.scope["path"]
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        found = self.router.match(path)
        if found is None:
            return await _not_found(request, LookupError(path))
        return await self.dispatch(found[0], request, found[1])

    # ------------------------------------------------------------------ rendering
    def error(self, exc: ApiError, request_id: str) -> Response:
        answer = self.mutate(seams.ERROR, seams.ErrorAnswer(exc.status, exc.body(request_id), dict(exc.headers)))
        return _json(answer.body, answer.status, answer.headers)

    def render(self, reply: Reply, request_id: str) -> Response:
        if reply.raw is not None:
            return Response(reply.raw, status_code=reply.status, headers=reply.headers, media_type=reply.media_type)
        data = self.mutate(seams.RESPONSE_DATA, reply.data)
        if not reply.envelope:
            return _json(data, reply.status, reply.headers)
        body = success_body(data, request_id, reply.message)
        return _json(self.mutate(seams.ENVELOPE, body), reply.status, reply.headers)

    # ------------------------------------------------------------------ pipeline
    async def _read_body(self, request: Request) -> bytes:
        limit = self.mutate(seams.BODY_LIMIT, self.server.max_body)
        declared = request.headers.get("content-length")
        if limit is not None and declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if limit is not None and size > limit:
                raise RequestTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _parse_body(self, op: Operation, request: Request, raw: bytes) -> Any:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if op.operation_id == "issueToken" and ctype == "application/x-www-form-urlencoded":
            try:
                return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise bad_request("请求体不是 UTF-8 编码", "request body is not UTF-8") from None
        if ctype != "application/json" and not (ctype == "" and not raw):
            raise unsupported_media_type(ctype)
        try:
            return self.mutate(seams.PARSE_JSON, loads_bounded)(raw)
        except JSONLimitError as exc:
            zh, _, en = str(exc).partition(" / ")
            if exc.kind == "size":
                raise ApiError(
                    413, f"请求体过大：{zh}", f"request body too large: {en or zh}", ErrorCode.PAYLOAD_TOO_LARGE
                ) from None
            raise bad_request(f"请求体嵌套过深：{zh}", f"request body nested too deeply: {en or zh}") from None
        except orjson.JSONDecodeError as exc:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                raise bad_request("请求体不是合法的 UTF-8 编码", "request body is not valid UTF-8") from None
            raise bad_request(f"请求体不是合法的 JSON：{exc}", f"request body is not valid JSON: {exc}") from None

    def _validate_body(self, op: Operation, body: Any) -> None:
        if op.operation_id == "issueToken":  # RFC 6749 errors, answered by the handler
            return
        problems = body_problems(op, body)
        if problems and self.mutate.at(seams.BODY_ERRORS):
            problems = self.mutate(seams.BODY_ERRORS, problems)
            if not problems:
                return  # every error was one the defective vendor does not check
        if problems:
            raise validation_failed(problems)

    async def dispatch(self, methods: dict[str, Operation], request: Request, path_params: dict[str, str]) -> Response:
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or secrets.token_hex(12)
        if not re.fullmatch(r"[0-9A-Za-z_.:-]{8,64}", request_id):
            request_id = secrets.token_hex(12)
        op = methods.get(request.method)
        ctx: Ctx | None = None
        try:
            if op is None:
                raise method_not_allowed(request.method, methods)
            ctx = Ctx(op=op, server=self.server, request_id=request_id, headers=request.headers, scope=request.scope)
            security = self.server.security
            if op.secured:
                token = security.authenticate(request.headers.get("authorization"))
                ctx.client, ctx.token = token.client, token
                security.authorize(token, op.scope)
                security.admit(token.client)
            raw = await self._read_body(request)
            ctx.body_bytes = raw
            if ctx.client is not None:
                target = _target(request.scope)
                security.verify_signature(ctx.client, request.method, target, request.headers, raw)
            qs = request.scope.get("query_string", b"")
            raw_query = dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
            ctx.path, ctx.query, problems = read_params(op, path_params, raw_query, request.headers)
            problems = self.mutate(seams.PARAM_ERRORS, problems)
            if problems:
                raise validation_failed(problems)
            refused: Reply | None = None
            if op.operation_id == "issueToken":
                try:
                    ctx.body = self._parse_body(op, request, raw) if raw else None
                except ApiError as exc:
                    if exc.status == 413:
                        raise
                    # not JSON, nested too deeply, not UTF-8, another media type: RFC 6749 §5.2, saying so
                    refused = _invalid_token_request(exc.message_zh, exc.message_en)
                else:
                    refused = _token_body_refusal(op, ctx.body)
            elif op.body_types or raw:
                if raw or op.body_uri:
                    ctx.body = self._parse_body(op, request, raw)
                self._validate_body(op, ctx.body)
            handler = handler_for(op)
            assert handler is not None
            reply = refused or await handler(ctx)
            response = self.render(reply, request_id)
            outcome = "success"
        except RequestTooLarge:
            response = self.error(too_large(self.server.max_body), request_id)
            outcome = "denied"
        except ApiError as exc:
            response = self.error(exc, request_id)
            outcome = "denied" if exc.status in (401, 403, 429) else "error"
        except Exception:
            log.exception("internal error in %s", op.operation_id if op else request.url.path)
            response = self.error(
                ApiError(500, "服务器内部错误", "internal server error", ErrorCode.INTERNAL_ERROR), request_id
            )
            outcome = "error"
        if op is not None and ctx is not None and audit.is_audited(op) and ctx.client is not None and not ctx.audited:
            resource = _target(request.scope)
            ctx.audit(op.operation_id, resource[:300], outcome, durable=op.method != "get")
        response.headers["X-Request-Id"] = request_id
        if self.server.access_log:
            ACCESS_LOG.append(
                f"{_stamp()} {self.server.role} {request.method} {request.scope['path']} "
                f"{response.status_code} {(time.perf_counter() - started) * 1000:.1f}ms "
                f"client={ctx.client.id if ctx and ctx.client else '-'} rid={request_id}"
            )
        return response


async def _not_found(request: Request, exc: Exception) -> Response:
    rid = secrets.token_hex(12)
    return _json(no_such_path(request.url.path).body(rid), 404, {"X-Request-Id": rid})


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type="application/json; charset=utf-8"
    )


def build_app(servers: list[RoleServer], *, mount: bool) -> Starlette:
    """One role at the root, or every role mounted at ``/<role>`` (``--role all``)."""
    roles.register_all()

    role_apps = [RoleApp(s) for s in servers]
    routes: list[Any] = (
        [Mount(f"/{ra.server.role}", app=ra.asgi) for ra in role_apps] if mount else [Mount("", app=role_apps[0].asgi)]
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_flush_audit(servers, stop))]
        for s in servers:
            for start in s.extras.get("background", []):
                tasks.append(asyncio.create_task(start(s, stop)))
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            for s in servers:
                s.audit.flush()
            flush_access_log()

    return Starlette(routes=routes, exception_handlers={404: _not_found}, lifespan=lifespan)


async def _flush_audit(servers: list[RoleServer], stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.2)
        flush_access_log()
        for s in servers:
            try:
                s.audit.flush()
            except Exception:  # pragma: no cover - logged, retried on the next tick
                log.exception("audit flush failed")
