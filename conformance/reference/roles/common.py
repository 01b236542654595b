"""Operations every role document has: the token endpoint and the health endpoint."""

from __future__ import annotations

from conformance import __version__
from conformance.contract.errors import ErrorCode
from conformance.reference.context import Ctx, Reply, now_iso, operation
from conformance.reference.defects import D
from conformance.reference.errors import ApiError


def _oauth_error(status: int, error: str, zh: str) -> ApiError:
    return ApiError(
        status,
        zh,
        error,
        ErrorCode.BAD_REQUEST if status == 400 else ErrorCode.UNAUTHORIZED,
        headers={"Cache-Control": "no-store"},
    )


@operation("issueToken")
async def issue_token(ctx: Ctx) -> Reply:
    """RFC 6749 §4.4 client credentials; the response is the token itself, not the envelope."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    if not body.get("grant_type") or not body.get("client_id") or not body.get("client_secret"):
        return Reply(
            {"error": "invalid_request", "error_description": "缺少 grant_type、client_id 或 client_secret"},
            status=400,
            envelope=False,
            headers={"Cache-Control": "no-store"},
        )
    if body.get("grant_type") != "client_credentials":
        return Reply(
            {"error": "unsupported_grant_type", "error_description": "仅支持 client_credentials"},
            status=400,
            envelope=False,
            headers={"Cache-Control": "no-store"},
        )
    issued = ctx.server.security.issue(
        str(body.get("client_id", "")), str(body.get("client_secret", "")), body.get("scope")
    )
    if issued is None:
        return Reply(
            {"error": "invalid_client", "error_description": "客户端标识或密钥不正确"},
            status=401,
            envelope=False,
            headers={"Cache-Control": "no-store", "WWW-Authenticate": 'Basic realm="tzsb"'},
        )
    text, token = issued
    lifetime = ctx.server.security.ttl(token.client)
    if ctx.defect(D.TOKEN_LIFETIME_IN_MS):
        lifetime *= 1000  # the vendor's framework counts milliseconds; the token still lives ``ttl`` seconds
    return Reply(
        {"access_token": text, "token_type": "Bearer", "expires_in": lifetime, "scope": " ".join(sorted(token.scopes))},
        envelope=False,
        headers={"Cache-Control": "no-store"},
    )


@operation("getHealth")
async def health(ctx: Ctx) -> Reply:
    ctx.server.db.one("SELECT 1")
    return Reply(
        {
            "status": "up",
            "time": now_iso(),
            "version": __version__,
            "role": ctx.server.role,
            "checks": {"database": "up"},
        }
    )
