"""The token endpoint's answers (RFC 6749 §4.4 client credentials, §5.1 and §5.2), the same for the reference server
(which checks the secret) and the simulators (which issue a token to any client, recording who called)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Token answers are never cached (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store"}


def refusal(form: Mapping[str, Any], *, secret_required: bool = True) -> dict[str, str] | None:
    """The §5.2 error body of a token request that names no grant, no client (or no secret) or another grant than
    client credentials; None when the request may go on."""
    needed = ("grant_type", "client_id", "client_secret") if secret_required else ("grant_type",)
    if not all(form.get(k) for k in needed):
        return {"error": "invalid_request", "error_description": f"缺少 {'、'.join(needed)}"}
    if form.get("grant_type") != "client_credentials":
        return {"error": "unsupported_grant_type", "error_description": "仅支持 client_credentials"}
    return None


def invalid_client(zh: str) -> dict[str, str]:
    return {"error": "invalid_client", "error_description": zh}


def issued(token: str, lifetime: int, scopes: Iterable[str] | str) -> dict[str, Any]:
    """The §5.1 answer."""
    scope = scopes if isinstance(scopes, str) else " ".join(sorted(scopes))
    return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}
