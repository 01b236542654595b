"""The harness's side of a binding: set on a ``requests`` session (``session.edge``), it turns every canonical
request the harness prepares into the vendor's and the vendor's answer back into the canonical reading, inside the
one bounded send path (:func:`conformance.client.http.send_bounded`). Suites, verdicts and evidence stay
canonical; the evidence keeps the exchange as it crossed the wire beside it (``Exchange.wire``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from conformance.binding.dialect import Dialect, Message
from conformance.client.evidence import body_text, mask_headers, mask_text


def prepared_message(prepared: requests.PreparedRequest) -> Message:
    """A prepared request as a :class:`Message` (its path as sent, with any base URL prefix)."""
    parts = urlsplit(prepared.url or "")
    body = prepared.body
    raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else b""
    return Message(
        method=(prepared.method or "GET").upper(),
        path=parts.path or "/",
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        headers=tuple(prepared.headers.items()),
        body=raw,
        raw_query=parts.query,
    )


def carrying(prepared: requests.PreparedRequest, msg: Message, url: str | None = None) -> requests.PreparedRequest:
    """A copy of ``prepared`` with ``msg``'s headers and body (and ``url``): the request as it goes on the wire."""
    out = prepared.copy()
    if url is not None:
        out.url = url
    out.headers = requests.structures.CaseInsensitiveDict(dict(msg.headers))
    out.body = msg.body or None
    if msg.body or "Content-Length" in out.headers:
        out.headers["Content-Length"] = str(len(msg.body))
    return out


class BindingEdge:
    """A :class:`conformance.client.http.Edge` for one role's base URL through a binding."""

    def __init__(self, dialect: Dialect, base_url: str) -> None:
        self.dialect = dialect
        self.prefix = urlsplit(base_url).path.rstrip("/")
        dialect.prefix = self.prefix
        #: mutual TLS: the client certificate and key presented on every connection (``auth.mtls``)
        self.cert = dialect.binding.client_cert
        #: the caller's static key instead of a token (``auth.api_key``)
        self.static_key = dialect.binding.api_key_header is not None

    def _local(self, msg: Message) -> Message:
        """The request with the base URL's path prefix taken off (operations' paths are relative to it)."""
        if self.prefix and msg.path.startswith(self.prefix + "/"):
            return replace(msg, path=msg.path[len(self.prefix) :])
        return msg

    def outbound(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        msg = self._local(prepared_message(prepared))
        vendor = self.dialect.vendor_request(msg)
        parts = urlsplit(prepared.url or "")
        url = urlunsplit(
            (parts.scheme, parts.netloc, self.prefix + vendor.path, vendor.path_query.partition("?")[2], "")
        )
        return carrying(prepared, vendor, url)

    def inbound(
        self, prepared: requests.PreparedRequest, status: int, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        request = self._local(prepared_message(prepared))
        answer = self.dialect.canonical_answer(
            Message(status=status, headers=tuple(headers.items()), body=body), request
        )
        return answer.status, dict(answer.headers), answer.body

    def wire(self, sent: requests.PreparedRequest, status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        token_header = (self.dialect.binding.credential_header or "").lower()
        sent_headers = {k: ("***" if k.lower() == token_header else v) for k, v in sent.headers.items()}
        request_body = sent.body if isinstance(sent.body, bytes) else (sent.body or "").encode() if sent.body else None
        return {
            "method": sent.method,
            "url": mask_text(sent.url or ""),
            "request_headers": mask_headers(sent_headers),
            "request_body": body_text(request_body)[0],
            "status": status,
            "response_headers": mask_headers(headers),
            "response_body": body_text(body)[0],
        }
