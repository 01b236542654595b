"""Security of the reference server (DB42/T 2279-2024 §4.7 e); the draft sharing standard's
access control, identity authentication and data-exchange volume control):

* tokens by OAuth 2.0 client credentials, with scopes per role and per data set;
* the optional request signature (timestamp window + nonce replay protection, HMAC-SM3 or HMAC-SHA256);
* per-client rate limit (token bucket) and daily quota, answered by 429 with Retry-After.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import json
import math
import secrets
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from conformance.contract import documents as contracts
from conformance.contract.errors import ErrorCode
from conformance.crypto import canonical_string, sign
from conformance.reference.db import camel
from conformance.reference.defects import Mutations, seams
from conformance.reference.errors import ApiError

#: The clients the reference server knows (ids, secrets, scopes, organisations, divisions).
CLIENTS_FILE = Path(__file__).with_name("clients.json")

TOKEN_TTL = 7200
SIGNATURE_WINDOW = 300


@functools.cache
def all_scopes() -> tuple[str, ...]:
    common = contracts.openapi("common")
    return tuple(common["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]["scopes"])


@dataclass
class Client:
    id: str
    secret: str
    scopes: frozenset[str]
    level: str = "province"
    division: str = "420000"
    rate: float = 100000.0
    quota: int = 100_000_000
    workflow_role: str | None = None
    owner_uscc: str | None = None
    sign: bool = False
    #: lifetime of this client's tokens in seconds (None: the server's ``token_ttl``)
    token_ttl: int | None = None
    #: the organisation the client is registered for (uscc, name, division, system): the providing subject
    #: of the records it pushes to the sharing platform
    org: dict[str, str] | None = None
    # mutable counters
    tokens: float = field(default=0.0, repr=False)
    last: float = field(default=0.0, repr=False)
    day: str = field(default="", repr=False)
    used: int = field(default=0, repr=False)


def load_clients(path: Path | None = None) -> dict[str, Client]:
    """The clients of clients.json; what an entry leaves out keeps the :class:`Client` default."""
    data = json.loads((path or CLIENTS_FILE).read_text(encoding="utf-8"))
    settings = [f.name for f in fields(Client) if f.repr and f.name not in ("id", "secret", "scopes")]
    out: dict[str, Client] = {}
    for c in data["clients"]:
        scopes = frozenset(all_scopes() if c["scopes"] == "*" else c["scopes"])
        given = {name: c[key] for name in settings if (key := camel(name)) in c}
        out[c["id"]] = Client(id=c["id"], secret=c.get("secret", f"{c['id']}-secret"), scopes=scopes, **given)
    return out


@dataclass
class Token:
    client: Client
    scopes: frozenset[str]
    expires: float
    #: when it was issued (``time.time()``)
    issued: float = 0.0


def _utf8(text: str) -> bytes:
    """``text`` as bytes for a constant-time comparison (never raises: lone surrogates pass through)."""
    return text.encode("utf-8", "surrogatepass")


def unauthorized(zh: str, en: str, code: str = ErrorCode.UNAUTHORIZED) -> ApiError:
    return ApiError(401, zh, en, code, headers={"WWW-Authenticate": 'Bearer realm="tzsb", error="invalid_token"'})


def _bad_signature(zh: str, en: str) -> ApiError:
    return unauthorized(zh, en, ErrorCode.SIGNATURE_INVALID)


class Security:
    def __init__(
        self, clients: dict[str, Client], *, token_ttl: int = TOKEN_TTL, defects: frozenset[str] = frozenset()
    ) -> None:
        self.clients = clients
        self.token_ttl = token_ttl
        self.tokens: dict[str, Token] = {}
        self.nonces: dict[str, float] = {}
        self.defects = defects
        #: the mutators of the server's defects at the seams of the security layer (``defects/seams.py``)
        self.mutate = Mutations(defects)
        #: the checks this layer makes (``seams.AUTH``, less those a defect skips)
        self.checks: frozenset[str] = self.mutate(seams.AUTH_CHECKS, seams.AUTH)

    # ------------------------------------------------------------------ tokens
    def issue(self, client_id: object, secret: object, scope: object) -> tuple[str, Token] | None:
        """A new bearer token for valid client credentials (scopes: those asked for, within the client's); None
        for anything else, whatever the caller sent (any text, or a value of another JSON type)."""
        if not isinstance(client_id, str) or not isinstance(secret, str) or not isinstance(scope, str | None):
            return None
        client = self.clients.get(client_id)
        # bytes: ``compare_digest`` refuses str with non-ASCII characters (a TypeError, once a 500)
        if client is None or not hmac.compare_digest(_utf8(client.secret), _utf8(secret)):
            return None
        wanted = frozenset(scope.split()) if scope else client.scopes
        now = time.time()
        token = Token(client, wanted & client.scopes, now + self.ttl(client), issued=now)
        text = secrets.token_urlsafe(32)
        self.tokens[text] = token
        return text, token

    def ttl(self, client: Client) -> int:
        """Seconds a token of ``client`` lives."""
        return client.token_ttl if client.token_ttl is not None else self.token_ttl

    def authenticate(self, authorization: str | None) -> Token:
        if not authorization or not authorization.startswith("Bearer "):
            if seams.BEARER not in self.checks:  # a request without a token runs as the harness's client
                return Token(self.clients["harness"], self.clients["harness"].scopes, time.time() + 60)
            raise unauthorized("缺少访问令牌（Authorization: Bearer）", "missing bearer token")
        token = self.tokens.get(authorization[7:].strip())
        if token is None:
            raise unauthorized("访问令牌无效", "invalid access token")
        if token.expires < time.time() and seams.TOKEN_EXPIRY in self.checks:
            raise unauthorized("访问令牌已过期", "access token expired", ErrorCode.TOKEN_EXPIRED)
        return token

    def authorize(self, token: Token, scope: str | list[str] | None) -> None:
        """``x-scope`` is one scope, or a list of which any one suffices."""
        needed = [scope] if isinstance(scope, str) else list(scope or ())
        held = self.mutate(seams.SCOPES_HELD, seams.Scopes(token.scopes, tuple(needed))).held
        if needed and not any(s in held for s in needed) and seams.SCOPE in self.checks:
            wanted = " 或 ".join(needed)
            raise ApiError(
                403,
                f"令牌无权访问此接口（需要权限范围 {wanted}）",
                f"token lacks scope {' or '.join(needed)}",
                ErrorCode.FORBIDDEN,
            )

    # ------------------------------------------------------------------ signature
    def verify_signature(self, client: Client, method: str, path_query: str, headers: Any, body: bytes) -> None:
        if not client.sign:
            return
        ts, nonce = headers.get("x-timestamp"), headers.get("x-nonce")
        sig, sig_method = headers.get("x-signature"), headers.get("x-signature-method")
        if not (ts and nonce and sig and sig_method):
            raise _bad_signature(
                "该客户端须签名请求：缺少 X-Timestamp / X-Nonce / X-Signature / X-Signature-Method",
                "this client must sign: signature headers missing",
            )
        if sig_method not in ("HMAC-SM3", "HMAC-SHA256"):
            raise _bad_signature(f"不支持的签名方法 {sig_method}", f"unsupported signature method {sig_method}")
        try:
            when = dt.datetime.fromisoformat(ts)
            if when.tzinfo is None:
                raise ValueError(ts)
        except ValueError:
            raise _bad_signature(
                "X-Timestamp 不是带时区的 GB/T 7408 日期时间", "X-Timestamp is not a date-time with offset"
            ) from None
        now = time.time()
        if abs(when.timestamp() - now) > SIGNATURE_WINDOW and seams.SIGNATURE_WINDOW in self.checks:
            raise _bad_signature(
                f"X-Timestamp 超出 ±{SIGNATURE_WINDOW} 秒窗口", f"X-Timestamp outside ±{SIGNATURE_WINDOW} s"
            )
        expected = sign(
            sig_method, client.secret.encode(), canonical_string(method, path_query, ts, nonce, body, sig_method)
        )
        # bytes: header values may hold any octet (non-ASCII: a TypeError of compare_digest on str, once a 500)
        if not hmac.compare_digest(_utf8(expected), _utf8(sig.lower())):
            raise _bad_signature("签名不正确", "signature does not match")
        for old in [n for n, t in self.nonces.items() if t < now - 2 * SIGNATURE_WINDOW]:
            del self.nonces[old]
        key = f"{client.id}:{nonce}"
        if key in self.nonces and seams.NONCE in self.checks:
            raise unauthorized("X-Nonce 重复使用（重放）", "X-Nonce replayed", ErrorCode.REPLAYED_NONCE)
        self.nonces[key] = now

    # ------------------------------------------------------------------ volume control
    def admit(self, client: Client) -> None:
        """Token bucket (burst = rate) and daily quota; raise 429 with Retry-After when exceeded."""
        if seams.RATE_LIMIT not in self.checks:
            return
        now = time.monotonic()
        if client.last == 0.0:
            client.tokens, client.last = client.rate, now
        client.tokens = min(client.rate, client.tokens + (now - client.last) * client.rate)
        client.last = now
        today = dt.date.today().isoformat()
        if client.day != today:
            client.day, client.used = today, 0
        if client.used >= client.quota:
            tomorrow = dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time())
            wait = max(1, math.ceil((tomorrow - dt.datetime.now()).total_seconds()))
            quota = f"今日调用配额（{client.quota} 次）已用完", f"daily quota of {client.quota} calls used up"
            raise _too_many(*quota, ErrorCode.QUOTA_EXCEEDED, wait)
        if client.tokens < 1.0:
            wait = self.mutate(seams.RETRY_AFTER, max(1, math.ceil((1.0 - client.tokens) / client.rate)))
            rate = f"调用过于频繁（上限每秒 {client.rate:g} 次）", f"rate limit of {client.rate:g}/s exceeded"
            raise _too_many(*rate, ErrorCode.RATE_LIMITED, wait)
        client.tokens -= 1.0
        client.used += 1


def _too_many(zh: str, en: str, code: str, wait: int) -> ApiError:
    """The 429 of the volume control, asking to retry after ``wait`` seconds (header and body)."""
    return ApiError(429, zh, en, code, headers={"Retry-After": str(wait)}, retry_after=wait)
