"""The one token source: OAuth 2.0 client credentials (RFC 6749 §4.4) as the contract declares them.

The token URL is read from the contract (``tokenUrl`` of the client-credentials flow in ``common.yaml``), the
form is built here, and the answer is read here (bounded JSON, ``access_token``, ``expires_in`` obeyed only when
plausible). The harness client, the load tests, contract fuzzing, the reference server's outbox and the project's
trials all ask this module; they differ only in how they send the request.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from conformance.check.limits import JSONLimitError, loads_bounded
from conformance.check.plausibility import token_lifetime
from conformance.contract import documents as contracts

#: Seconds a token is reused when the token response gives no ``expires_in``.
DEFAULT_TOKEN_LIFETIME = 600
#: Seconds a token is reused when its ``expires_in`` is implausible (``conformance.check.plausibility.token_lifetime``).
UNTRUSTED_TOKEN_LIFETIME = 60
#: A token is renewed this many seconds before it expires.
RENEW_BEFORE_S = 30


@functools.cache
def token_path() -> str:
    """The token endpoint's path under a role's base URL: ``tokenUrl`` of the contract's client-credentials flow."""
    schemes = (contracts.openapi("common").get("components") or {}).get("securitySchemes") or {}
    for scheme in schemes.values():
        url = ((scheme.get("flows") or {}).get("clientCredentials") or {}).get("tokenUrl")
        if isinstance(url, str) and url:
            return url
    raise LookupError("common.yaml declares no client-credentials tokenUrl")


def token_form(client_id: str, client_secret: str | None, scope: str | None = None) -> dict[str, str]:
    """The form of a token request (``application/x-www-form-urlencoded``)."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret or ""}
    if scope:
        form["scope"] = scope
    return form


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # time.time() after which the token is renewed
    lifetime: float  # seconds, as obeyed
    scopes: tuple[str, ...] | None  # the granted scopes when the answer names them

    def fresh(self, now: float | None = None) -> bool:
        return self.expires_at > (time.time() if now is None else now) + RENEW_BEFORE_S


def read_token(status: int | None, content: bytes | None) -> Token | None:
    """The token of a token endpoint's answer, or None when it gave none (not 200, no JSON object, no
    ``access_token``). An implausible ``expires_in`` is not obeyed (PROFILE.TOKEN.1 reports it)."""
    if status is None or not 200 <= status < 300 or not content:  # RFC 6749 says 200; any 2xx is read
        return None
    try:
        body = loads_bounded(content)
    except (ValueError, JSONLimitError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        return None
    lifetime = body.get("expires_in", DEFAULT_TOKEN_LIFETIME)
    if token_lifetime(lifetime, "expires_in"):
        lifetime = UNTRUSTED_TOKEN_LIFETIME
    scope = body.get("scope")
    scopes = tuple(scope.split()) if isinstance(scope, str) else None
    return Token(body["access_token"], time.time() + float(lifetime), float(lifetime), scopes)
