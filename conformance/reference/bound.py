"""The reference server speaking a vendor's dialect (``serve --binding FILE``): an ASGI gateway in front of the
canonical app that reads each request in the binding's dialect, hands the canonical request to the reference, and
answers in the dialect. With it the whole suite runs through a binding against a server that speaks it, the
self-test of every binding (docs/bindings.md)."""

from __future__ import annotations

import secrets as random
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from conformance.binding.dialect import Dialect, Message
from conformance.binding.model import Binding
from conformance.client.token import Token, read_token, token_form, token_path
from conformance.reference.security import load_clients


class BindingGateway:
    """ASGI middleware: ``prefixes`` maps a path prefix ("" for a server of one role, ``/sharing`` …) to its role."""

    def __init__(self, app: Any, binding: Binding, prefixes: dict[str, str]) -> None:
        self.app = app
        secrets = {c.id: c.secret for c in load_clients().values()}
        self.secrets = secrets
        #: a static-key dialect (``auth.api_key``): the token each caller's key stands for, by client id
        self.tokens: dict[str, Token] = {}
        self.dialects = {
            prefix: Dialect(binding, role, lambda: secrets, prefix)
            for prefix, role in sorted(prefixes.items(), key=lambda kv: -len(kv[0]))
        }

    def _dialect(self, path: str) -> tuple[str, Dialect] | None:
        return next(((p, d) for p, d in self.dialects.items() if not p or path == p or path.startswith(p + "/")), None)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        found = self._dialect(raw_path)
        if found is None:
            await self.app(scope, receive, send)
            return
        prefix, dialect = found
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        vendor = Message(
            method=scope["method"],
            path=raw_path[len(prefix) :] or "/",
            query=tuple(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)),
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
            body=body,
        )
        holder = None
        if dialect.binding.api_key_header:
            vendor, holder = await self._key_to_token(vendor, dialect.binding.api_key_header, prefix, scope)
        canonical = dialect.canonical_request(vendor)
        inner = dict(scope)
        path = prefix + canonical.path
        inner["raw_path"] = path.encode("latin-1")
        inner["path"] = unquote(path)
        inner["query_string"] = urlencode(canonical.query, quote_via=quote, safe="").encode()
        inner["headers"] = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in canonical.headers
            if k.lower() != "content-length"
        ] + [(b"content-length", str(len(canonical.body)).encode())]
        sent = False

        async def inner_receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": canonical.body, "more_body": False}

        answer = await _answer_of(self.app, inner, inner_receive)
        if holder is not None and answer.status == 401:
            self.tokens.pop(holder, None)  # a token the reference no longer honours: the next call gets a new one
        out = dialect.vendor_answer(answer, canonical)
        await send(
            {
                "type": "http.response.start",
                "status": out.status,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.headers],
            }
        )
        await send({"type": "http.response.body", "body": out.body, "more_body": False})

    async def _key_to_token(
        self, vendor: Message, header: str, prefix: str, scope: dict[str, Any]
    ) -> tuple[Message, str | None]:
        """A static-key dialect: the caller's key stands for a token the reference issues to that client (as a
        vendor's gateway keeps sessions for its key holders). An unknown key crosses as it is, and is refused as
        any invalid credential is. Returns the request and the key holder's client id."""
        key = vendor.header(header)
        client = next((c for c, s in self.secrets.items() if key and random.compare_digest(s, key)), None)
        if client is None:
            return vendor, None
        token = self.tokens.get(client)
        if token is None or not token.fresh():
            token = await self._issue(client, prefix, scope)
            if token is None:
                return vendor, None
            self.tokens[client] = token
        return replace(vendor, headers=(*vendor.without(header), (header, token.value))), client

    async def _issue(self, client: str, prefix: str, scope: dict[str, Any]) -> Token | None:
        """A token from the reference's own token endpoint, asked for inside this process."""
        body = urlencode(token_form(client, self.secrets[client])).encode()
        path = prefix + token_path()
        inner = {
            **scope,
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(body)).encode()),
            ],
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        answer = await _answer_of(self.app, inner, receive)
        return read_token(answer.status, answer.body)


async def _answer_of(app: Any, scope: dict[str, Any], receive: Any) -> Message:
    """The answer of the inner ASGI ``app`` to one request, collected whole."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def send(event: dict[str, Any]) -> None:
        if event["type"] == "http.response.start":
            start.update(event)
        elif event["type"] == "http.response.body":
            chunks.append(event.get("body", b""))

    await app(scope, receive, send)
    return Message(
        status=start.get("status", 500),
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])),
        body=b"".join(chunks),
    )
