"""Security and error-handling basics every role must meet (GB/T 34990-style items).

Each test: purpose (docstring), steps (the requests), expected result (the assertions).
"""

from __future__ import annotations

import pytest

from conformance.check import plausibility
from conformance.check.schema import validator
from conformance.client.token import token_form, token_path
from conformance.contract.openapi import Operation, first_op
from conformance.suites.support.security import concrete, issue


def _concrete(op: Operation) -> str:
    """A path of the operation with syntactically plausible placeholders (existence is not needed)."""
    return concrete(op, {p.name: "NONEXISTENT-0000" for p in op.params if p.location == "path"})


@pytest.mark.clause("SHARE.SEC.AUTH.1", "DB42.4.7.e.2", "PROFILE.STATUS.2")
def test_requests_without_a_token_are_refused_with_401(role_ops: list[Operation], tzsb_client) -> None:
    """无令牌的请求被拒绝：返回 401 与 WWW-Authenticate，错误信封带中文说明。

    前置条件：目标文件有 [credentials]（只用其基础地址，不取令牌）；被测角色的契约有受保护操作（取第一个无路径参数的
    GET 操作，没有时取第一个 POST 操作）。
    测试步骤：
    1. 从契约中选出上述受保护操作，路径参数以占位值填充；
    2. 不带 Authorization 头请求该操作（POST 时请求体为 {}）。
    预期结果：返回 401，带 WWW-Authenticate 头，响应体是错误信封（error.schema.json）。
    """
    op = first_op(role_ops, method="get", path_params=False) or first_op(role_ops, method="post")
    assert op is not None
    client = tzsb_client()
    r = client.request(op.method.upper(), _concrete(op), auth=False, json={} if op.method == "post" else None)
    assert r.status == 401, f"{op.operation_id} without a token answered {r.status}"
    assert r.header("WWW-Authenticate"), "401 without WWW-Authenticate"
    body = r.json()
    assert body is not None and validator("error").is_valid(body), "401 body is not the error envelope"


@pytest.mark.clause("SHARE.SEC.AUTH.1", "DB42.4.7.e.2", "PROFILE.STATUS.2")
def test_an_invalid_token_is_refused_with_401(role_ops: list[Operation], tzsb_client) -> None:
    """伪造的令牌被拒绝（401）。

    前置条件：目标文件有 [credentials]（只用其基础地址）；被测角色的契约有受保护操作（取第一个无路径参数的 GET 操作，
    没有时取第一个 POST 操作）。
    测试步骤：
    1. 从契约中选出上述受保护操作；
    2. 以伪造的令牌（Authorization 头带一个目标从未签发的令牌）请求该操作（POST 时请求体为 {}）。
    预期结果：返回 401。
    """
    op = first_op(role_ops, method="get", path_params=False) or first_op(role_ops, method="post")
    assert op is not None
    r = tzsb_client().request(
        op.method.upper(),
        _concrete(op),
        auth=False,
        headers={"Authorization": "Bearer forged-token-0000"},
        json={} if op.method == "post" else None,
    )
    assert r.status == 401


@pytest.mark.clause("PROFILE.TOKEN.1", "SHARE.SEC.AUTH.2")
def test_client_credentials_give_a_bearer_token(tzsb_client) -> None:
    """以客户端凭证换取有时效的 Bearer 令牌（RFC 6749 §4.4）。

    前置条件：目标文件有 [credentials]（客户端标识与密钥）。
    测试步骤：
    1. 以客户端凭证请求令牌接口（issueToken，grant_type=client_credentials）；
    2. 以同一客户端标识和错误的密钥再次请求令牌接口。
    预期结果：步骤 1 返回 200，应答符合契约的令牌结构（security.schema.json token），expires_in 为契约范围内的整数秒，
    带 Cache-Control: no-store；步骤 2 返回 400 或 401。
    """
    client = tzsb_client()
    r = client.request(
        "POST",
        token_path(),
        auth=False,
        data=token_form(client.client_id, client.client_secret),
    )
    assert r.status == 200
    body = r.json()
    assert validator("security#/$defs/token").is_valid(body), validator("security#/$defs/token").errors(body)
    implausible = plausibility.token_lifetime(body.get("expires_in"), "令牌应答 / token response")
    assert not implausible, "；".join(implausible)
    assert r.header("Cache-Control") == "no-store"
    bad = client.request(
        "POST",
        token_path(),
        auth=False,
        data=token_form(client.client_id, "wrong"),
    )
    assert bad.status in (400, 401)


@pytest.mark.clause("SHARE.SEC.AUTH.2")
def test_a_token_lives_at_most_two_hours(tzsb_client) -> None:
    """令牌有效期不超过2小时：以客户端凭证换取的访问令牌，应答中的 expires_in 为整数秒且不超过契约上限
    （security.schema.json 令牌的 expires_in 上限，7200 秒）。

    前置条件：目标文件有 [credentials]；以静态密钥认证的绑定没有令牌应答，本项不提供（未测）。
    测试步骤：
    1. 以客户端凭证请求令牌接口（issueToken）；
    2. 读取令牌应答中的 expires_in。
    预期结果：令牌接口签发令牌；expires_in 为整数秒，且不超过契约上限（7200 秒）。

    A token obtained by client credentials lives at most 2 hours: its expires_in is at most the contract's bound.
    """
    grant = issue(tzsb_client(), exchange=True)
    assert grant.response is not None
    lifetime = grant.response.json().get("expires_in")
    limit = plausibility.token_lifetime_bounds()[1]
    assert isinstance(lifetime, int) and not isinstance(lifetime, bool), (
        f"令牌应答的 expires_in 不是整数秒：{lifetime!r} / expires_in is not integer seconds: {lifetime!r}"
    )
    assert lifetime <= limit, (
        f"令牌有效期 {lifetime} 秒，超过 {limit} 秒（2小时）的上限 / the token lives {lifetime} s, "
        f"beyond the bound of {limit} s (2 hours)"
    )


@pytest.mark.clause("PROFILE.ENVELOPE.1", "SHARE.IF.FUNC.9")
def test_health_answers_in_the_envelope(tzsb_client) -> None:
    """健康状态接口以统一信封应答，日期时间带时区。

    前置条件：目标文件有 [credentials]（只用其基础地址；健康状态接口不需令牌）。
    测试步骤：
    1. 不带令牌请求健康状态接口（GET /health）。
    预期结果：返回 200；响应体符合统一信封（envelope.schema.json），其 data 符合契约的健康状态结构
    （sharing.schema.json health，其中日期时间带时区）。
    """
    r = tzsb_client().get("/health", auth=False)
    assert r.status == 200
    body = r.json()
    assert validator("envelope").is_valid(body), validator("envelope").errors(body)
    assert validator("sharing#/$defs/health").is_valid(body["data"]), validator("sharing#/$defs/health").errors(
        body["data"]
    )


@pytest.mark.clause("PROFILE.STATUS.6", "PROFILE.ERROR.1")
def test_malformed_json_is_a_400_not_a_500(role_ops: list[Operation], tzsb_client) -> None:
    """请求体不是合法 JSON：返回 400 错误信封（中文说明），不得 500。

    前置条件：目标文件有 [credentials]；被测角色的契约有带请求体的受保护 POST 操作（没有时本项未测）。
    测试步骤：
    1. 取得令牌，从契约中选出第一个带请求体的受保护 POST 操作；
    2. 以 Content-Type: application/json 发送一段不完整的 JSON（{"messageId": "x", broken）。
    预期结果：返回 400；响应体是错误信封，其 message 含中文。
    """
    op = first_op(role_ops, method="post", with_body=True)
    if op is None:
        pytest.skip("该角色没有带请求体的受保护操作")
    r = tzsb_client().request(
        "POST", _concrete(op), raw_body=b'{"messageId": "x", broken', headers={"Content-Type": "application/json"}
    )
    assert r.status == 400, f"{op.operation_id}: malformed JSON answered {r.status}"
    body = r.json()
    assert body is not None and validator("error").is_valid(body), "not the error envelope"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), "error message has no Chinese"


@pytest.mark.clause("PROFILE.STATUS.4", "SHARE.SEC.VOLUME.2")
def test_an_oversized_body_is_refused_with_413(role_ops: list[Operation], tzsb_client, tzsb_target) -> None:
    """超过上限的请求体被拒绝（413），不被处理。

    前置条件：目标文件有 [credentials]；被测角色的契约有带请求体的受保护 POST 操作（没有时本项未测）；请求体上限取
    目标文件 [thresholds] max_body_bytes（默认 1 MiB）。
    测试步骤：
    1. 取得令牌，从契约中选出第一个带请求体的受保护 POST 操作；
    2. 发送比上限多 1 KiB 以上的 JSON 请求体。
    预期结果：返回 413。
    """
    op = first_op(role_ops, method="post", with_body=True)
    if op is None:
        pytest.skip("该角色没有带请求体的受保护操作")
    limit = int(tzsb_target.thresholds.get("max_body_bytes", 1024 * 1024))
    payload = b'{"pad": "' + b"x" * (limit + 1024) + b'"}'
    r = tzsb_client().request("POST", _concrete(op), raw_body=payload, headers={"Content-Type": "application/json"})
    assert r.status == 413, f"{op.operation_id}: {len(payload)} bytes answered {r.status}"


@pytest.mark.clause("PROFILE.STATUS.1")
def test_unknown_paths_are_404_envelopes(tzsb_client) -> None:
    """不存在的路径返回 404 错误信封。

    前置条件：目标文件有 [credentials]。
    测试步骤：
    1. 带令牌请求契约中不存在的路径 GET /api/v1/__no_such_path__。
    预期结果：返回 404，响应体是错误信封（error.schema.json）。
    """
    r = tzsb_client().get("/api/v1/__no_such_path__")
    assert r.status == 404
    assert validator("error").is_valid(r.json())
