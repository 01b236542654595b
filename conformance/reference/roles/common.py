"""Operations every role document has: the token endpoint and the health endpoint."""

from __future__ import annotations

import time

from conformance import __version__
from conformance.reference.context import Ctx, Reply, now_iso, operation
from conformance.reference.defects import D
from conformance.serving import token

#: Seconds in a day: the token lifetime of the ``token-lives-a-day`` defect.
A_DAY = 86400


@operation("issueToken")
async def issue_token(ctx: Ctx) -> Reply:
    """RFC 6749 §4.4 client credentials; the response is the token itself, not the envelope."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    refused = token.refusal(body)
    if refused is not None:
        return Reply(refused, status=400, envelope=False, headers=token.NO_STORE)
    issued = ctx.server.security.issue(
        str(body.get("client_id", "")), str(body.get("client_secret", "")), body.get("scope")
    )
    if issued is None:
        return Reply(
            token.invalid_client("客户端标识或密钥不正确"),
            status=401,
            envelope=False,
            headers={**token.NO_STORE, "WWW-Authenticate": 'Basic realm="tzsb"'},
        )
    text, held = issued
    lifetime = ctx.server.security.ttl(held.client)
    if ctx.defect(D.TOKEN_LIVES_A_DAY):
        lifetime = A_DAY  # "log in once a day": the vendor's session setting reused for the API
        held.expires = time.time() + A_DAY
    if ctx.defect(D.TOKEN_LIFETIME_IN_MS):
        lifetime *= 1000  # the vendor's framework counts milliseconds; the token still lives ``ttl`` seconds
    return Reply(token.issued(text, lifetime, held.scopes), envelope=False, headers=token.NO_STORE)


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
