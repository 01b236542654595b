"""Kills the surviving mutants of the reference server's tokens and scopes (docs/mutation.md,
conformance/reference/security.py: ``Security.issue``, ``ttl``, ``authenticate``, ``authorize``).

The errors are the API's error envelope (``code``, ``message``, ``messageEn``, ``WWW-Authenticate``): the
suites check status codes and envelope shapes, not the wording, so the wording is pinned here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from conformance.reference import security as security_module
from conformance.reference.errors import ApiError
from conformance.reference.security import Security, Token, load_clients


@pytest.fixture
def security() -> Security:
    return Security(load_clients())


def _refused(call: Callable[..., object], *args: object) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args)
    return info.value


# ---------------------------------------------------------------------------------------------- authenticate
@pytest.mark.parametrize("header", [None, "", "Token abc", "bearer abc"])
def test_a_missing_bearer_token_gets_its_own_401(security: Security, header: str | None) -> None:
    """没有 Bearer 令牌（缺 Authorization 头、空头、其他认证方案、小写 bearer）：401，信封写明缺少令牌，并带质询头。
    No bearer token (no header, empty header, another scheme, lower-case ``bearer``): 401 naming the missing token,
    with the challenge header.

    Kills ``authenticate__mutmut_1``, ``_3``, ``_4``, ``_6``, ``_10``, ``_23``–``_31``: the ``"Bearer "`` prefix
    (``"bearer "``, ``"BEARER "``), the message texts and the ``unauthorized(...)`` arguments."""
    err = _refused(security.authenticate, header)
    assert (err.status, err.code) == (401, "UNAUTHORIZED"), f"应为 401 UNAUTHORIZED / expected 401: {err}"
    assert err.message_zh == "缺少访问令牌（Authorization: Bearer）", (
        f"中文信息不对 / Chinese message: {err.message_zh}"
    )
    assert err.message_en == "missing bearer token", f"英文信息不对 / English message: {err.message_en}"
    assert err.headers.get("WWW-Authenticate", "").startswith("Bearer "), "缺少质询头 / no WWW-Authenticate challenge"


def test_an_unknown_token_is_invalid(security: Security) -> None:
    """未签发过的令牌：401 UNAUTHORIZED，“访问令牌无效”。
    A token never issued: 401 UNAUTHORIZED, "invalid access token".

    Kills ``authenticate__mutmut_36``–``_42`` (that message and its ``unauthorized(...)`` arguments)."""
    err = _refused(security.authenticate, "Bearer not-a-token")
    assert (err.status, err.code) == (401, "UNAUTHORIZED"), f"应为 401 UNAUTHORIZED / expected 401: {err}"
    assert (err.message_zh, err.message_en) == ("访问令牌无效", "invalid access token"), f"信息不对 / messages: {err}"


def test_an_expired_token_is_refused_with_token_expired() -> None:
    """过期令牌：401，代码 TOKEN_EXPIRED，“访问令牌已过期”。
    An expired token: 401 with code TOKEN_EXPIRED, "access token expired".

    Kills ``authenticate__mutmut_47``–``_58`` (the expiry check's defect name, the message, its arguments and the
    code ``"TOKEN_EXPIRED"``)."""
    security = Security(load_clients(), token_ttl=-1)
    issued = security.issue("harness", "harness-secret", None)
    assert issued is not None
    err = _refused(security.authenticate, f"Bearer {issued[0]}")
    assert (err.status, err.code) == (401, "TOKEN_EXPIRED"), f"应为 401 TOKEN_EXPIRED / expected TOKEN_EXPIRED: {err}"
    assert (err.message_zh, err.message_en) == ("访问令牌已过期", "access token expired"), f"信息不对 / messages: {err}"


def test_the_accept_missing_auth_defect_acts_as_the_harness_client() -> None:
    """缺陷 accept-missing-auth：不带令牌的请求被当作 harness 客户端（其全部权限）放行；无缺陷时仍为 401。
    Defect accept-missing-auth: a request without a token passes as the harness client with all its scopes;
    without the defect it is still 401.

    Kills ``authenticate__mutmut_8``–``_12``, ``_14``–``_20`` (the defect's name, ``"harness"`` and the
    ``Token(...)`` arguments in the defect's branch)."""
    clients = load_clients()
    broken = Security(clients, defects=frozenset({"accept-missing-auth"}))
    token = broken.authenticate(None)
    assert token.client is clients["harness"], "缺陷令牌应属 harness / the defect's token is harness's"
    assert token.scopes == clients["harness"].scopes, "缺陷令牌应有 harness 的全部权限 / harness's scopes"
    assert _refused(Security(clients).authenticate, None).status == 401, "无缺陷时应为 401 / clean server: 401"


# ---------------------------------------------------------------------------------------------- authorize
def _token(security: Security, client: str, scope: str | None = None) -> Token:
    issued = security.issue(client, f"{client}-secret", scope)
    assert issued is not None, f"{client} 应能获取令牌 / {client} gets a token"
    return issued[1]


def test_a_missing_scope_is_403_forbidden_naming_the_scopes(security: Security) -> None:
    """令牌缺少所需权限范围：403 FORBIDDEN，中英文信息都列出所需的权限范围（多个时以“或”/“or”连接）。
    A token without the scope: 403 FORBIDDEN, both messages list the scopes needed ("或" / "or" between several).

    Kills ``authorize__mutmut_14``, ``_16``–``_25``, ``_27``–``_30`` (``403``, ``"FORBIDDEN"``, the
    ``ApiError(...)`` arguments and the joiners ``" 或 "`` / ``" or "``)."""
    token = _token(security, "reader")
    err = _refused(security.authorize, token, ["licensing:push", "gov:report"])
    assert (err.status, err.code) == (403, "FORBIDDEN"), f"应为 403 FORBIDDEN / expected 403: {err}"
    assert err.message_zh == "令牌无权访问此接口（需要权限范围 licensing:push 或 gov:report）", (
        f"中文信息 / Chinese: {err.message_zh}"
    )
    assert err.message_en == "token lacks scope licensing:push or gov:report", f"英文信息 / English: {err.message_en}"


def test_any_one_scope_of_a_list_suffices_and_no_scope_needs_none(security: Security) -> None:
    """x-scope 为列表时持有其中任一即可；未声明 x-scope 的操作不检查权限；缺陷 ignore-scopes 不检查。
    With a list of scopes any one suffices; an operation without x-scope checks nothing; the defect ignore-scopes
    checks nothing.

    Kills ``authorize__mutmut_6``, ``_7``, ``_11``, ``_12`` (``scope or ()``, the list branch, the defect's
    name)."""
    token = _token(security, "reader")
    security.authorize(token, ["gov:report", "sharing:units:read"])  # the second one is held
    security.authorize(token, None)
    security.authorize(token, [])
    with pytest.raises(ApiError):
        security.authorize(token, ("gov:report", "licensing:push"))
    Security(load_clients(), defects=frozenset({"ignore-scopes"})).authorize(token, "gov:report")


# ---------------------------------------------------------------------------------------------- issue, ttl
def test_a_token_is_32_random_bytes_and_is_registered(security: Security) -> None:
    """访问令牌为 32 字节随机数的 base64url（43 个字符），签发后即可用于认证。
    An access token is 32 random bytes in base64url (43 characters) and authenticates once issued.

    Kills ``issue__mutmut_26`` (``token_urlsafe(33)``) and ``_27`` (nothing registered)."""
    text, token = security.issue("reader", "reader-secret", None) or ("", None)
    assert len(text) == 43, f"令牌应为 43 个字符（32 字节）/ 43 characters expected, got {len(text)}"
    assert security.authenticate(f"Bearer {text}") is token, "签发的令牌应能认证 / the token authenticates"


def test_a_token_gets_the_scopes_asked_for_within_the_clients(security: Security) -> None:
    """按 scope 参数申请：令牌只含所申请且客户端拥有的权限范围；不申请则为客户端的全部权限范围。
    Asked-for scopes: the token holds those the client has, and only those; none asked: all the client's scopes.

    Kills ``issue__mutmut_11``, ``_13`` (the scope branch) and ``_21`` (``wanted | client.scopes``)."""
    token = _token(security, "reader", "sharing:units:read gov:report")
    assert token.scopes == frozenset({"sharing:units:read"}), f"权限范围不对 / scopes: {sorted(token.scopes)}"
    assert _token(security, "reader").scopes == security.clients["reader"].scopes, "应为全部权限 / all scopes"


def test_wrong_credentials_get_no_token(security: Security) -> None:
    """错误的密钥或未知客户端不签发令牌。 A wrong secret or an unknown client gets no token.

    Kills ``issue__mutmut_3``–``_9`` (the credential check)."""
    assert security.issue("reader", "harness-secret", None) is None, "错误密钥不应签发 / wrong secret: no token"
    assert security.issue("nobody", "nobody-secret", None) is None, "未知客户端不应签发 / unknown client: no token"


def test_a_clients_own_token_lifetime_wins(security: Security) -> None:
    """客户端配置了 tokenTtl 时令牌按它过期，否则按服务器的有效期。
    A client's tokenTtl sets its tokens' lifetime, else the server's does.

    Kills ``ttl__mutmut_1``–``_3``."""
    clients = security.clients
    assert security.ttl(clients["short-lived"]) == clients["short-lived"].token_ttl == 3, "应为 3 秒 / 3 s"
    assert security.ttl(clients["reader"]) == security.token_ttl, "应为服务器默认 / the server's default"
    before = time.time()
    token = _token(security, "short-lived")
    assert before + 3 <= token.expires <= time.time() + 3, "令牌到期时间不对 / expiry of the token"


def test_a_token_is_valid_up_to_its_expiry_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """令牌在到期时刻（签发时刻 + 有效期）仍然有效，此后一刻起为过期（401 TOKEN_EXPIRED）。时钟由测试控制。
    A token is still valid at its expiry instant (issue time + lifetime) and expired from the next moment on
    (401 TOKEN_EXPIRED). The test controls the clock.

    Kills ``authenticate__mutmut_44`` (``token.expires <= time.time()``: expired at the instant itself)."""
    now = [1_750_000_000.0]
    monkeypatch.setattr(security_module.time, "time", lambda: now[0])
    security = Security(load_clients(), token_ttl=60)
    text, token = security.issue("reader", "reader-secret", None) or ("", None)
    assert token is not None and token.expires == now[0] + 60, "有效期应为 60 秒 / a 60 s lifetime"
    now[0] = token.expires
    assert security.authenticate(f"Bearer {text}") is token, "到期时刻仍应有效 / still valid at the expiry instant"
    now[0] = token.expires + 0.001
    assert _refused(security.authenticate, f"Bearer {text}").code == "TOKEN_EXPIRED", "此后应过期 / expired after it"
