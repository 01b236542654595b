"""Evidence: every HTTP exchange recorded, secrets and personal data masked, bodies capped,
grouped by the test that made it, each with a one-line curl reproduction."""

from __future__ import annotations

import re
import shlex
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

#: Bytes of a body kept in the evidence.
BODY_CAP = 16 * 1024
_SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "x-signature", "proxy-authorization"}
_CITIZEN_ID = re.compile(r"(?<![0-9])([1-9][0-9]{5})(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}([0-9X])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
_SECRET_FIELDS = re.compile(r'("?(?:client_secret|access_token|password|secret)"?\s*[:=]\s*"?)([^"&\s,}]+)', re.IGNORECASE)


def mask_text(text: str) -> str:
    """Mask credentials, citizen ID numbers (first 6 and last 4 kept… as the open-data rule) and mobiles."""
    text = _SECRET_FIELDS.sub(lambda m: m.group(1) + "***", text)
    text = _CITIZEN_ID.sub(lambda m: m.group(1) + "********" + m.group(0)[-4:], text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


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

    def for_test(self, test: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.test == test]
