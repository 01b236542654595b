"""Evidence: every HTTP exchange recorded, secrets and personal data masked, bodies capped,
grouped by the test that made it, each with a one-line curl reproduction."""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

#: Bytes of a body kept in the evidence.
BODY_CAP = 16 * 1024
_SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "x-signature", "proxy-authorization"}
#: A citizen ID number or a mobile number stands alone: one inside a longer run of letters and digits (a SHA-256
#: digest, a USCC, a token) is part of that value and is left whole.
_CITIZEN_ID = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{5})(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}([0-9X])"
    r"(?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9A-Za-z])")
_SECRET_FIELDS = re.compile(
    r'("?(?:client_secret|access_token|refresh_token|password|secret)"?\s*[:=]\s*"?)([^"&\s,}]+)', re.IGNORECASE
)
#: keys whose values are credentials issued to the harness: remembered, then masked wherever they appear
_ISSUED = ("access_token", "refresh_token")
#: shorter values are never remembered as secrets (``"secret": false`` must not mask every "false")
MIN_SECRET = 8
_MAX_SECRETS = 4096

_known: dict[str, None] = {}
_known_lock = threading.Lock()
_known_re: list[re.Pattern[str] | None] = [None]


def remember_secret(value: str | None) -> None:
    """Remember a credential (a client secret, a token) so that :func:`redact` masks it in every string that leaves
    a run, wherever it appears: a URL, a header the target echoes, an assertion message, a traceback."""
    if not value or len(value) < MIN_SECRET or set(value) == {"*"}:
        return
    forms = {value, quote(value, safe=""), quote_plus(value)}
    with _known_lock:
        for form in forms:
            if form not in _known:
                if len(_known) >= _MAX_SECRETS:  # the oldest first: the live credentials are the latest
                    _known.pop(next(iter(_known)))
                _known[form] = None
                _known_re[0] = None


def known_secrets() -> list[str]:
    with _known_lock:
        return list(_known)


def _secrets_pattern() -> re.Pattern[str] | None:
    with _known_lock:
        if _known_re[0] is None and _known:
            _known_re[0] = re.compile("|".join(re.escape(s) for s in sorted(_known, key=len, reverse=True)))
        return _known_re[0]


def _mask_field(m: re.Match[str]) -> str:
    if any(k in m.group(1).lower() for k in _ISSUED):
        remember_secret(m.group(2))
    return m.group(1) + "***"


def mask_text(text: str) -> str:
    """Mask credentials, citizen ID numbers (first 6 and last 4 kept… as the open-data rule) and mobiles."""
    text = _SECRET_FIELDS.sub(_mask_field, text)
    text = _CITIZEN_ID.sub(lambda m: m.group(1) + "********" + m.group(0)[-4:], text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def redact(text: str) -> str:
    """:func:`mask_text`, then every remembered secret masked wherever it appears (the evidence writer's rule)."""
    text = mask_text(text)
    pattern = _secrets_pattern()
    return pattern.sub("***", text) if pattern is not None else text


def redact_value(value: Any) -> Any:
    """:func:`redact` applied to every string of a JSON-like value (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


def json_facts(content: bytes | None) -> dict[str, Any] | None:
    """:func:`conformance.check.plausibility.facts` of a JSON object body (None when the body is not one)."""
    if not content or content.lstrip()[:1] != b"{":
        return None
    from conformance.check.limits import loads_bounded
    from conformance.check.plausibility import facts

    try:
        return facts(loads_bounded(content, max_bytes=len(content)))
    except ValueError:  # not JSON, or nested beyond the bounds (JSONLimitError)
        return None


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in headers.items():
        if k.lower() in _SECRET_HEADERS:
            scheme = v.split(" ", 1)[0] if " " in v else ""
            if k.lower() in ("authorization", "proxy-authorization", "cookie"):
                remember_secret(v.split(" ", 1)[1].strip() if " " in v else v)
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


def inbound_wire(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int | None,
    *,
    secret_headers: tuple[str, ...] = (),
    response_body: bytes | None = None,
) -> dict[str, Any]:
    """A call the target made to the harness as it crossed the wire in the target's dialect (``Exchange.wire``),
    masked like the rest; ``secret_headers``: the dialect's own credential headers (its access token's)."""
    secret = {h.lower() for h in secret_headers}
    return {
        "method": method,
        "url": mask_text(url),
        "request_headers": mask_headers({k: ("***" if k.lower() in secret else v) for k, v in headers.items()}),
        "request_body": body_text(body)[0],
        "status": status,
        "response_headers": {},
        "response_body": body_text(response_body)[0],
    }


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
    #: whole body before it is capped and masked (:func:`conformance.check.plausibility.facts`); None for other bodies
    facts: dict[str, Any] | None = None
    #: a deliberate probe whose failure to connect is an expected outcome (plain HTTP, a legacy TLS version): the
    #: run's circuit breaker does not count it as the target falling silent
    probe: bool = False
    #: through a binding: the same exchange as it crossed the wire in the target's dialect (method, url, headers,
    #: bodies; masked and capped like the canonical reading beside it)
    wire: dict[str, Any] | None = None

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
    """Thread-safe store of exchanges, grouped by the current test (set by the pytest plugin).

    ``observer`` (set by the plugin during the suites: the run guard) sees every exchange the harness made; it may
    raise to stop the test (the run's deadline has passed, or the target stopped answering)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.current_test: str | None = None
        self.observer: Callable[[Exchange], None] | None = None

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            exchange.test = exchange.test or self.current_test
            self.exchanges.append(exchange)
        if self.observer is not None and exchange.direction == "outbound":
            self.observer(exchange)

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
        wire: dict[str, Any] | None = None,
    ) -> Exchange:
        """Record a call the target made to a simulator (method, URL, headers with credentials masked, body
        capped and masked, when, the answer given), linked to ``test`` (default: the current test). ``wire``: the
        call as it crossed the wire in the target's dialect (:func:`inbound_wire`), when ``body`` is its canonical
        reading."""

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
            wire=wire,
        )
        self.add(exchange)
        return exchange

    def for_test(self, test: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.test == test]
