"""One role's exchanges translated between the canonical contract and a vendor's dialect, in both directions:
the harness's client turns its canonical requests into the vendor's and reads the vendor's answers back
(:meth:`Dialect.vendor_request`, :meth:`Dialect.canonical_answer`); a server speaking the dialect in front of the
reference does the inverse (:meth:`Dialect.canonical_request`, :meth:`Dialect.vendor_answer`).

What crosses keeps its meaning: an invalid value stays invalid, an expired token stays expired, a signature that
does not verify still does not, a replayed nonce is the same nonce. So the canonical suites judge the vendor's
system as they judge a canonical one (docs/bindings.md "What a binding keeps")."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import orjson

from conformance.binding.model import Binding, BindingError, Routes, VendorOp, fill
from conformance.binding.shapes import shape
from conformance.client.http import NotOffered
from conformance.client.token import token_path
from conformance.contract import documents as contracts
from conformance.contract.errors import STATUS_CODES
from conformance.contract.openapi import ROLES, Operation, role_operations
from conformance.contract.registry import resolve
from conformance.crypto import digest_hex, sign


@dataclass(frozen=True)
class Message:
    """A request or an answer as bytes on the wire: ``status`` 0 for a request."""

    method: str = ""
    path: str = ""  # as sent (percent-encoded), without the query
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    status: int = 0
    #: the query as it crossed the wire, when read off it (a signature covers it as sent: ``+`` or ``%20``)
    raw_query: str | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def without(self, *names: str) -> tuple[tuple[str, str], ...]:
        drop = {n.lower() for n in names}
        return tuple((k, v) for k, v in self.headers if k.lower() not in drop)

    @property
    def path_query(self) -> str:
        if self.raw_query is not None:
            return self.path + (f"?{self.raw_query}" if self.raw_query else "")
        return self.path + (f"?{urlencode(self.query, quote_via=quote, safe='')}" if self.query else "")


def _signature_headers() -> dict[str, str]:
    """The canonical signature headers by role (timestamp, nonce, signature, method), read from common.yaml."""
    params = contracts.openapi("common")["components"]["parameters"]
    return {
        "timestamp": params["XTimestamp"]["name"],
        "nonce": params["XNonce"]["name"],
        "signature": params["XSignature"]["name"],
        "method": params["XSignatureMethod"]["name"],
    }


def _dumps(value: Any, original: bytes) -> bytes:
    """``value`` as JSON; a value the encoder refuses (nested deeper than it goes) crosses as it came."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return original


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


def _set_pointer(doc: dict[str, Any], pointer: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
    for part in parts[:-1]:
        doc = doc.setdefault(part, {})
    doc[parts[-1]] = value


def _pop_pointer(doc: Any, pointer: str) -> tuple[bool, Any]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
    for part in parts[:-1]:
        if not isinstance(doc, dict) or part not in doc:
            return False, None
        doc = doc[part]
    if not isinstance(doc, dict) or parts[-1] not in doc:
        return False, None
    return True, doc.pop(parts[-1])


FORM = "application/x-www-form-urlencoded"
#: where a request the dialect has no operation for is sent on a canonical server: a path no contract has
UNPAIRED = "/.not-in-dialect"
MEMBERS = ("code", "message", "messageEn", "data", "requestId", "errors", "retryAfter")


class Dialect:
    """The translations of one role through one binding. ``secrets`` gives the signing keys a signature may have
    been made with, by client id (the harness's clients on the client side, the registered clients on the server
    side)."""

    def __init__(
        self, binding: Binding, role: str, secrets: Callable[[], Mapping[str, str]] = dict, prefix: str = ""
    ) -> None:
        self.binding, self.role, self.secrets = binding, role, secrets
        #: the base URL's path (a role mounted at ``/sharing``): a signature covers the path as sent, prefix and all
        self.prefix = prefix.rstrip("/")
        self.routes: Routes = binding.routes(role)
        self.maps = binding.maps
        self.sig_names = _signature_headers()
        self.token_op = next((op for op in self.routes.canonical_ops.values() if op.path == token_path()), None)

    # ------------------------------------------------------------------ operations
    def _canonical_op(self, msg: Message) -> tuple[Operation, dict[str, str]] | None:
        found = self.routes.canonical.match(msg.path)
        if not found or msg.method.upper() not in found[0]:
            return None
        return found[0][msg.method.upper()], found[1]

    def _vendor_op(self, msg: Message) -> tuple[VendorOp, dict[str, str]] | None:
        found = self.routes.vendor.match(msg.path)
        if not found or msg.method.upper() not in found[0]:
            return None
        return found[0][msg.method.upper()], found[1]  # type: ignore[return-value]

    def operation_of(self, canonical: Message) -> Operation | None:
        hit = self._canonical_op(canonical)
        return hit[0] if hit else None

    # ------------------------------------------------------------------ requests
    def _path_only(self, msg: Message, *, forward: bool) -> str | None:
        """The other side's path for a request whose path is an operation's but whose method is none of them (the
        method stays wrong, so the other side answers 405 as it would); None when the path is no operation's."""
        found = (self.routes.canonical if forward else self.routes.vendor).match(msg.path)
        if not found:
            return None
        some = next(iter(found[0].values()))
        vop = self.routes.vendor_ops.get(some.operation_id)
        op = self.routes.canonical_ops.get(some.operation_id)
        if vop is None or op is None:
            return None
        pairs = [(vp.canonical, vp.name) for vp in vop.params if vp.location == "path"]
        try:
            if forward:
                return fill(vop.path, {v: found[1][c] for c, v in pairs})
            return fill(op.path, {c: found[1][v] for c, v in pairs})
        except KeyError:
            return None

    def vendor_request(self, msg: Message) -> Message:
        """A canonical request as the vendor's system expects it."""
        hit = self._canonical_op(msg)
        headers = self._auth_forward(msg)
        if hit is None:
            return replace(msg, path=self._path_only(msg, forward=True) or msg.path, headers=headers)
        op, path_params = hit
        vop = self.routes.vendor_ops.get(op.operation_id)
        if vop is None or not self.binding.offers(op):
            raise NotOffered(
                f"绑定声明厂商系统没有此交换（{op.operation_id}：{msg.method} {op.path}"
                + ("，以静态密钥认证，无令牌交换" if self.binding.api_key_header else "")
                + f"），本检验无从进行 / the binding declares no such exchange ({op.operation_id}"
                + ("; a static key, no token exchange" if self.binding.api_key_header else "")
                + "): this check cannot run",
                op.interface,
            )
        by_canonical = {p.canonical: p for p in vop.params}
        schema_of = {p.name: p.schema_uri for p in op.params}
        values = dict(path_params)
        query: list[tuple[str, str]] = []
        extra_headers: list[tuple[str, str]] = []
        for name, value in msg.query:
            vp = by_canonical.get(name) if name in schema_of else None
            value = self.maps.parameter(value, schema_of.get(name), forward=True)
            if vp is None:
                query.append((name, value))
            elif vp.location == "query":
                query.append((vp.name, value))
            elif vp.location == "header":
                extra_headers.append((vp.name, value))
            else:
                values[vp.canonical] = quote(value, safe="")
        vendor_path_values = {}
        for vp in vop.params:
            if vp.canonical in path_params:
                raw = path_params[vp.canonical]
                if vp.location == "path":
                    vendor_path_values[vp.name] = raw
                elif vp.location == "query":
                    query.append((vp.name, raw))
                else:
                    extra_headers.append((vp.name, raw))
        try:
            path = fill(vop.path, vendor_path_values)
        except KeyError as exc:
            raise BindingError(
                f"绑定的操作 {vop.operation_id} 路径参数 {exc} 未对应任何规范参数（x-tzsb-canonical）/ path parameter "
                f"{exc} of {vop.operation_id} carries no canonical parameter"
            ) from None
        headers = tuple(self._rename_headers(headers, op, by_canonical, forward=True)) + tuple(extra_headers)
        body = self._body(msg, op, forward=True)
        headers = self._token_type(headers, op, forward=True)
        vendor = Message(msg.method, path, tuple(query), headers, body)
        return self._sign_as(msg, vendor, forward=True)

    def canonical_request(self, msg: Message) -> Message:
        """A request in the vendor's dialect as the canonical server expects it. A path the dialect does not have
        (a canonical one among them, or an exchange the binding declares absent) reaches no canonical operation:
        the server answers it as any unknown path, as the vendor's own gateway would."""
        hit = self._vendor_op(msg)
        headers = self._auth_back(msg)
        if hit is None or not self.binding.offers(self.routes.canonical_ops[hit[0].operation_id]):
            path = None if hit else self._path_only(msg, forward=False)
            return replace(msg, path=path or UNPAIRED + msg.path, headers=headers)
        vop, vendor_path = hit
        op = self.routes.canonical_ops[vop.operation_id]
        schema_of = {p.name: p.schema_uri for p in op.params}
        path_values = {
            vp.canonical: vendor_path[vp.name] for vp in vop.params if vp.location == "path" and vp.name in vendor_path
        }
        by_vendor = {(p.location, p.name.lower() if p.location == "header" else p.name): p for p in vop.params}
        canonical_in = {p.name: p.location for p in op.params}
        query: list[tuple[str, str]] = []
        for name, value in msg.query:
            vp = by_vendor.get(("query", name))
            canonical = vp.canonical if vp else name
            if canonical_in.get(canonical) == "path":
                path_values[canonical] = quote(value, safe="")
                continue
            query.append((canonical, self.maps.parameter(value, schema_of.get(canonical), forward=False)))
        kept: list[tuple[str, str]] = []
        for name, value in headers:
            vp = by_vendor.get(("header", name.lower()))
            if vp and canonical_in.get(vp.canonical) == "query":
                query.append((vp.canonical, self.maps.parameter(value, schema_of.get(vp.canonical), forward=False)))
            elif vp and canonical_in.get(vp.canonical) == "path":
                path_values[vp.canonical] = quote(value, safe="")
            else:
                kept.append((vp.canonical if vp else name, value))
        path = fill(op.path, path_values)
        body = self._body(msg, op, forward=False)
        canonical = Message(msg.method, path, tuple(query), self._token_type(tuple(kept), op, forward=False), body)
        return self._sign_as(msg, canonical, forward=False)

    def _rename_headers(
        self, headers: Iterable[tuple[str, str]], op: Operation, by_canonical: dict[str, Any], *, forward: bool
    ) -> Iterable[tuple[str, str]]:
        signed = {n.lower() for n in self.sig_names.values()} if self.binding.signature else set()
        header_params = {
            p.name.lower(): p.name for p in op.params if p.location == "header" and p.name.lower() not in signed
        }
        for name, value in headers:
            canonical = header_params.get(name.lower())
            vp = by_canonical.get(canonical) if canonical else None
            yield (vp.name if vp and vp.location == "header" else name), value

    # ------------------------------------------------------------------ bodies
    def _body(self, msg: Message, op: Operation, *, forward: bool) -> bytes:
        if op is self.token_op and self.binding.token:
            return self._token_request(msg, forward=forward)
        if not msg.body or op.body_uri is None:
            return msg.body
        data = _json(msg.body)
        if data is None:
            return msg.body
        out = self.maps.translate(data, op.body_uri, forward=forward)
        return msg.body if out == data else _dumps(out, msg.body)

    def _token_type(
        self, headers: tuple[tuple[str, str], ...], op: Operation, *, forward: bool
    ) -> tuple[tuple[str, str], ...]:
        """A form token request sent to a vendor that takes JSON is sent as JSON (RFC 6749 says a form; the
        contract also accepts JSON, so the other way nothing changes)."""
        form = self.binding.token
        if not forward or op is not self.token_op or form is None or not form.json_body:
            return headers
        if not (Message(headers=headers).header("Content-Type") or "").startswith(FORM):
            return headers  # another media type crosses as it is: the other side refuses it
        return (*Message(headers=headers).without("Content-Type"), ("Content-Type", "application/json"))

    def _token_request(self, msg: Message, *, forward: bool) -> bytes:
        """The token request's fields renamed; a form becomes JSON for a vendor that takes JSON. A body that is
        neither a form nor a JSON object crosses unchanged (the other side refuses it as it would)."""
        form = self.binding.token
        assert form is not None
        is_form = (msg.header("Content-Type") or "").startswith(FORM)
        data: Any = (
            dict(parse_qsl(msg.body.decode("utf-8", "replace"), keep_blank_values=True)) if is_form else _json(msg.body)
        )
        if not isinstance(data, dict):
            return msg.body
        names = form.fields if forward else {v: k for k, v in form.fields.items()}
        out = {names.get(k, k): v for k, v in data.items()}
        if is_form and not (forward and form.json_body):
            return urlencode(out).encode()
        return _dumps(out, msg.body)

    # ------------------------------------------------------------------ answers
    def canonical_answer(self, answer: Message, request: Message, op: Operation | None = None) -> Message:
        """The vendor's answer to a request (the canonical one the harness made) read as the canonical answer;
        ``op``: the operation answered, when it is none of the role's routes (a callback)."""
        op = op or self.operation_of(request)
        data = _json(answer.body)
        if not isinstance(data, dict):
            return answer
        env = self.binding.envelope
        if op is not None and op is self.token_op and self.binding.token:
            return _answer(answer, *self._token_answer_back(data, answer.status))
        out: dict[str, Any] = {}
        for member in MEMBERS:
            found, value = _pop_pointer(data, env.pointer(member))
            if found:
                out[member] = value
        out.update(data)  # what the envelope does not place stays in sight
        code = out.get("code")
        if code == env.success:
            out["code"] = "OK"
        elif isinstance(code, str):
            out["code"] = {v: k for k, v in env.codes.items()}.get(code, code)
        status = answer.status
        if env.always_200 and status == 200 and out.get("code") not in (None, "OK"):
            status = _status_of(op, out["code"])
        if op is not None:
            out = self.maps.translate(out, _response_uri(op, status), forward=False)
            if isinstance(out.get("errors"), list):
                out["errors"] = [self._error_path(e, op, forward=False) for e in out["errors"]]
        return _answer(answer, status, out)

    def vendor_answer(self, answer: Message, request: Message, op: Operation | None = None) -> Message:
        """A canonical answer to a (canonical) request as the vendor's system gives it; ``op`` as for
        :meth:`canonical_answer`."""
        op = op or self.operation_of(request)
        data = _json(answer.body)
        if not isinstance(data, dict):
            return answer
        env = self.binding.envelope
        if op is not None and op is self.token_op and self.binding.token:
            return _answer(answer, *self._token_answer_forward(data, answer.status))
        if op is not None:
            data = self.maps.translate(data, _response_uri(op, answer.status), forward=True)
            if isinstance(data.get("errors"), list):
                data["errors"] = [self._error_path(e, op, forward=True) for e in data["errors"]]
        code = data.get("code")
        if code == "OK":
            data["code"] = env.success
        elif isinstance(code, str):
            data["code"] = env.codes.get(code, code)
        out: dict[str, Any] = {}
        for member in MEMBERS:
            if member in data:
                _set_pointer(out, env.pointer(member), data.pop(member))
        out.update(data)
        return _answer(answer, 200 if env.always_200 else answer.status, out)

    def _error_path(self, error: Any, op: Operation, *, forward: bool) -> Any:
        if isinstance(error, dict) and isinstance(error.get("path"), str):
            return {**error, "path": self.maps.pointer(error["path"], op.body_uri, forward=forward)}
        return error

    def _token_answer_forward(self, data: dict[str, Any], status: int) -> tuple[int, dict[str, Any]]:
        form, env = self.binding.token, self.binding.envelope
        assert form is not None
        if "error" in data:
            vendor: dict[str, Any] = {}
            _set_pointer(vendor, env.pointer("code"), form.errors.get(data["error"], data["error"]))
            _set_pointer(vendor, env.pointer("message"), data.get("error_description") or data["error"])
            _set_pointer(vendor, env.pointer("data"), None)
            return (200 if env.always_200 else status), vendor
        vendor = {}
        _set_pointer(vendor, env.pointer("code"), env.success)
        _set_pointer(vendor, env.pointer("message"), "成功")
        _set_pointer(vendor, env.pointer("data"), {form.answer.get(k, k): v for k, v in data.items()})
        return status, vendor

    def _token_answer_back(self, data: dict[str, Any], status: int) -> tuple[int, dict[str, Any]]:
        form, env = self.binding.token, self.binding.envelope
        assert form is not None
        _, code = _pop_pointer(data, env.pointer("code"))
        _, message = _pop_pointer(data, env.pointer("message"))
        _, payload = _pop_pointer(data, env.pointer("data"))
        if code == env.success and isinstance(payload, dict):
            back = {v: k for k, v in form.answer.items()}
            return status, {back.get(k, k): v for k, v in payload.items()}
        error = {v: k for k, v in form.errors.items()}.get(str(code), str(code))
        if env.always_200 and status == 200:
            status = 401 if error == "invalid_client" else 400
        out = {"error": error}
        if message and message != error:
            out["error_description"] = message
        return status, out

    # ------------------------------------------------------------------ authentication
    def credentials(self, source: Message, target: Message, *, forward: bool) -> Message:
        """``target`` (``source`` in the other dialect, a request outside the role's routes such as a callback)
        carrying ``source``'s credentials re-expressed: the access token in the other side's header, the request
        signature in its headers, timestamp form and string (the vendor's when ``forward``)."""
        headers = self._auth_forward(source) if forward else self._auth_back(source)
        return self._sign_as(source, replace(target, headers=headers), forward=forward)

    def _auth_forward(self, msg: Message) -> tuple[tuple[str, str], ...]:
        header = self.binding.credential_header
        auth = msg.header("Authorization")
        if header and auth and auth.startswith("Bearer ") and len(auth) > 7 and " " not in auth[7:]:
            return (*msg.without("Authorization"), (header, auth[7:]))
        return msg.headers

    def _auth_back(self, msg: Message) -> tuple[tuple[str, str], ...]:
        header = self.binding.credential_header
        token = msg.header(header) if header else None
        if token is not None and token and " " not in token and not msg.header("Authorization"):
            return (*msg.without(header or ""), ("Authorization", f"Bearer {token}"))
        return msg.headers

    def _sign_as(self, source: Message, target: Message, *, forward: bool) -> Message:
        """Re-express ``source``'s request signature on ``target`` (the other side's form of the same request): the
        same nonce, the same moment, the same caller (the vendor's ``app_key`` header), and a signature that
        verifies exactly when the source's did."""
        sig = self.binding.signature
        if sig is None:
            return target
        vendor_names = {r: n for r, n in sig.headers.items() if r != "app_key"}
        app_header = sig.headers.get("app_key")
        src_names = self.sig_names if forward else vendor_names
        dst_names = vendor_names if forward else self.sig_names
        values = {role: source.header(name) for role, name in src_names.items()}
        if values["signature"] is None and values["timestamp"] is None and values["nonce"] is None:
            return target
        drop = [*src_names.values(), *([app_header] if app_header and not forward else [])]
        headers = Message(headers=target.headers).without(*drop)
        method = values["method"] or ""
        stamp = _stamp(values["timestamp"], sig.timestamp, forward=forward) if values["timestamp"] else None
        signer = self._signer(source, values, forward=not forward)
        text = self._string(target, stamp or "", values["nonce"] or "", method, forward=forward)
        signature = None
        if values["signature"] is not None:
            try:
                signature = sign(method, signer[1].encode() if signer else b"\x00unverified", text)
            except ValueError:
                signature = values["signature"]  # an unknown method crosses as it is: the other side refuses it
        extra = [
            (dst_names[r], v)
            for r, v in (
                ("timestamp", stamp),
                ("nonce", values["nonce"]),
                ("method", values["method"]),
                ("signature", signature),
            )
            if v is not None
        ]
        if forward and app_header:  # the caller whose secret signed (a signature that verifies under none: the first)
            app = signer[0] if signer else next(iter(self.secrets()), None)
            extra += [(app_header, app)] if app else []
        return replace(target, headers=headers + tuple(extra))

    def _string(self, msg: Message, stamp: str, nonce: str, method: str, *, forward: bool) -> bytes:
        """The string signed in the dialect of ``msg`` (the vendor's when ``forward``, else the canonical)."""
        try:
            digest = digest_hex(method, msg.body)
        except ValueError:
            digest = ""
        if not forward:
            return "\n".join([msg.method.upper(), self.prefix + msg.path_query, stamp, nonce, digest]).encode()
        part = {
            "method": msg.method.upper(),
            "path": self.prefix + msg.path,
            "query": msg.path_query.partition("?")[2],
            "path_query": self.prefix + msg.path_query,
            "timestamp": stamp,
            "nonce": nonce,
            "body_digest": digest,
        }
        assert self.binding.signature is not None
        return "\n".join(part[p] for p in self.binding.signature.parts).encode()

    def _signer(self, msg: Message, values: dict[str, str | None], *, forward: bool) -> tuple[str, str] | None:
        """The client id and secret under which ``msg``'s signature verifies (in ``msg``'s own dialect: the
        vendor's when ``forward``), or None. A vendor request naming its caller (``app_key``) is verified under
        that caller's secret alone: an unknown or missing caller verifies under none."""
        method, given = values["method"] or "", (values["signature"] or "").lower()
        text = self._string(msg, values["timestamp"] or "", values["nonce"] or "", method, forward=forward)
        candidates = dict(self.secrets())
        app_header = self.binding.signature.headers.get("app_key") if self.binding.signature else None
        if forward and app_header:
            app = msg.header(app_header)
            candidates = {app: candidates[app]} if app in candidates else {}
        for client, secret in candidates.items():
            try:
                if sign(method, secret.encode(), text) == given:
                    return client, secret
            except ValueError:
                return None
        return None


def _stamp(value: str, form: str, *, forward: bool) -> str:
    """A signature timestamp in the other form (ISO 8601 with offset ⇄ epoch); unreadable values cross as they are."""
    if form == "iso":
        return value
    scale = 1000 if form == "epoch-ms" else 1
    try:
        if forward:
            return str(int(dt.datetime.fromisoformat(value).timestamp() * scale))
        moment = dt.datetime.fromtimestamp(int(value) / scale, dt.timezone(dt.timedelta(hours=8)))
        return moment.isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return value


def _answer(answer: Message, status: int, body: Any) -> Message:
    """``answer`` with a new status and JSON body (the original body when the encoder refuses the new one)."""
    raw = _dumps(body, answer.body)
    return replace(answer, status=status, body=raw, headers=_content_length(answer, raw))


def _content_length(answer: Message, body: bytes) -> tuple[tuple[str, str], ...]:
    return (
        *Message(headers=answer.headers).without("Content-Length", "Content-Encoding"),
        ("Content-Length", str(len(body))),
    )


def _response_uri(op: Operation | None, status: int) -> str | None:
    if op is None:
        return None
    media = (
        op.responses.get(str(status)) or op.responses.get(f"{str(status)[0]}XX") or op.responses.get("default") or {}
    )
    return media.get("application/json")


def _narrowest(ops: Iterable[Operation]) -> dict[str, tuple[int, int]]:
    """code → (status, size of the narrowest declared enum admitting it) over the error responses of ``ops``."""
    best: dict[str, tuple[int, int]] = {}
    for op in ops:
        for status, media in op.responses.items():
            uri = media.get("application/json")
            if not uri or not status.isdigit() or int(status) < 400:
                continue
            allowed = enum_values(shape(uri).props.get("code")) or set()
            for code in allowed:
                if code not in best or len(allowed) < best[code][1]:
                    best[code] = (int(status), len(allowed))
    return best


@functools.cache
def _status_table() -> dict[str, int]:
    return {code: status for code, (status, _) in _narrowest(o for r in ROLES for o in role_operations(r)).items()}


def _status_of(op: Operation | None, code: str) -> int:
    """The status the contract answers an error code with: the operation's declared error response whose ``code``
    admits it most narrowly (its schemas apply together, so their enums intersect), else the narrowest response
    of any operation that declares it, else the profile's table."""
    own = _narrowest([op] if op else []).get(code)
    if own is not None:
        return own[0]
    return _status_table().get(code) or next((s for s, c in STATUS_CODES.items() if c == code), 400)


def enum_values(where: tuple[str, ...] | None) -> set[str] | None:
    """The values the schemas at ``where`` together allow (None: no enum among them)."""
    out: set[str] | None = None
    for uri in where or ():
        node = resolve(uri)
        for branch in [node, *(node.get("allOf") or [])]:
            values = branch.get("enum") or ([branch["const"]] if "const" in branch else None)
            if values:
                out = set(values) if out is None else out & set(values)
    return out
