"""Evidence: every HTTP exchange recorded, secrets and personal data masked, bodies capped,
grouped by the test that made it, each with a one-line curl reproduction."""

from __future__ import annotations

import re
import shlex
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

#: Bytes of a body kept in the evidence.
BODY_CAP = 16 * 1024
_SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "x-signature", "proxy-authorization"}
_CITIZEN_ID = re.compile(
    r"(?<![0-9])([1-9][0-9]{5})(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}([0-9X])(?![0-9])"
)
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
_SECRET_FIELDS = re.compile(
    r'("?(?:client_secret|access_token|password|secret)"?\s*[:=]\s*"?)([^"&\s,}]+)', re.IGNORECASE
)


def mask_text(text: str) -> str:
    """Mask credentials, citizen ID numbers (first 6 and last 4 kept… as the open-data rule) and mobiles."""
    text = _SECRET_FIELDS.sub(lambda m: m.group(1) + "***", text)
    text = _CITIZEN_ID.sub(lambda m: m.group(1) + "********" + m.group(0)[-4:], text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def json_facts(content: bytes | None) -> dict[str, Any] | None:
    """:func:`conformance.plausibility.facts` of a JSON object body (None when the body is not one)."""
    if not content or content.lstrip()[:1] != b"{":
        return None
    from conformance.plausibility import facts

    try:
        return facts(orjson.loads(content))
    except (orjson.JSONDecodeError, RecursionError):
        return None


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in headers.items():
        if k.lower() in _SECRET_HEADERS:
            scheme = v.split(" ", 1)[0] if " " in v else ""
            out[k] = f"{scheme} ***".strip()
        else:
            out[k] = v
    return out


def body_text(body: bytes | None, cap: int = BODY_CAP) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    truncated = len(body) > cap
    try:
        text = body[:cap].decode("utf-8", errors="replace")
    except Exception:  # pragma: no cover - decode with replace cannot fail
        text = repr(body[:cap])
    return mask_text(text), truncated


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    response_truncated: bool = False
    response_bytes: int = 0
    elapsed_ms: float = 0.0
    error: str | None = None
    started_at: str = ""
    test: str | None = None
    #: "outbound": the harness called the target; "inbound": the target called a simulator of the harness
    #: (client-side suites); ``simulator`` then names the counterpart role that recorded it.
    direction: str = "outbound"
    simulator: str | None = None
    #: what the plausibility rules need of a JSON response (code, counts, waits, the latest event time), read from the
    #: whole body before it is capped and masked (:func:`conformance.plausibility.facts`); None for other bodies
    facts: dict[str, Any] | None = None

    def curl(self) -> str:
        """A one-line reproduction (credentials shown as placeholders)."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for k, v in self.request_headers.items():
            if k.lower() in ("content-length", "host", "accept-encoding", "connection", "user-agent"):
                continue
            value = "Bearer $TOKEN" if k.lower() == "authorization" else v
            parts += ["-H", shlex.quote(f"{k}: {value}")]
        if self.request_body:
            parts += ["--data-binary", shlex.quote(self.request_body)]
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["curl"] = self.curl()
        return d


class Evidence:
    """Thread-safe store of exchanges, grouped by the current test (set by the pytest plugin)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.current_test: str | None = None

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            exchange.test = exchange.test or self.current_test
            self.exchanges.append(exchange)

    def add_inbound(
        self,
        *,
        simulator: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | str | None,
        status: int | None,
        response_headers: dict[str, str] | None = None,
        response_body: bytes | str | None = None,
        received_at: str = "",
        elapsed_ms: float = 0.0,
        error: str | None = None,
        test: str | None = None,
    ) -> Exchange:
        """Record a call the target made to a simulator (method, URL, headers with credentials masked, body
        capped and masked, when, the answer given), linked to ``test`` (default: the current test)."""

        def as_bytes(value: bytes | str | None) -> bytes | None:
            return value.encode("utf-8") if isinstance(value, str) else value

        req_text, _ = body_text(as_bytes(body))
        resp_bytes = as_bytes(response_body)
        resp_text, capped = body_text(resp_bytes)
        exchange = Exchange(
            method,
            url,
            mask_headers(dict(headers)),
            req_text,
            status=status,
            response_headers=mask_headers(dict(response_headers or {})),
            response_body=resp_text,
            response_truncated=capped,
            response_bytes=len(resp_bytes or b""),
            elapsed_ms=elapsed_ms,
            error=error,
            started_at=received_at,
            test=test,
            direction="inbound",
            simulator=simulator,
        )
        self.add(exchange)
        return exchange

    def for_test(self, test: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.test == test]
