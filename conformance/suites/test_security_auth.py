"""安全套件（一）：身份认证与权限控制（各角色）。

DB42/T 2279-2024 §4.7 e)“严格的身份认证和权限控制”，征求意见稿“信息共享接口安全·访问控制、身份认证”，
本项目接口规范的 401 / 403、令牌与可选的请求签名（schemas/openapi/common.yaml）。

每个测试：目的（文档字符串），步骤（请求），预期结果（断言）。

目标文件须提供的身份（[credentials] 与 [clients.<名称>]）：

* ``[credentials]``：测试凭证，持有被测角色全部操作的权限范围；用 OAuth ``scope`` 参数由它申请
  “缺少某一权限范围”的令牌（RFC 6749 §3.3，令牌响应的 ``scope`` 字段说明实际授予的范围）。
* ``[clients.reader]``（可选）：只读客户端；目标忽略 ``scope`` 参数时，以它的令牌检验越权调用（403）。
* ``[clients.signer]``：须签名请求的客户端（可选特性 ``request-signature``）；签名密钥为其 client_secret。
* ``[clients.short-lived]``（可选）：令牌有效期短的客户端，用于过期令牌检验；未提供时用 [credentials]。

缺少所需身份时相应测试跳过并说明原因（→ 未测，不会算作通过）。

过期令牌：测试读取新令牌的 ``expires_in`` 并等待其到期。等待上限：目标文件 ``[thresholds]
token_expiry_wait_s``，未声明时 quick 档 10 秒、standard 档 300 秒、certification 档 7300 秒；有效期
超过上限时本项未测（目标可为测试凭证签发短有效期令牌，或以 certification 档运行）。
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
import requests

from conformance.check import plausibility
from conformance.client import TargetClient, TargetResponse
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation
from conformance.crypto import canonical_string, sign
from conformance.harness import profiles
from conformance.harness.target import Target
from conformance.report.skips import vacuous
from conformance.suites.support.security import (
    AUTH_CODES,
    basic_credentials,
    call,
    check_error,
    concrete,
    foreign_scope,
    iso,
    issue,
    need_client,
    probe_op,
    role_scopes,
    scopes_of,
    secured,
    server_offset,
)

SIGNATURE_WINDOW = 300


def _refused_401(r: TargetResponse, what: str, code: str = ErrorCode.SIGNATURE_INVALID) -> list[str]:
    return check_error(r, 401, what, codes=(code,), challenge=True)


# ------------------------------------------------------------------------------------------ authentication


@pytest.mark.clause("SHARE.SEC.AUTH.1", "DB42.4.7.e.2", "PROFILE.STATUS.2")
def test_malformed_authorization_headers_are_refused_with_401(role_ops: list[Operation], tzsb_client) -> None:
    """格式错误的 Authorization 头（缺令牌值、错误的认证方案、截断或附加字符的令牌、令牌放在 URL 查询参数中）
    一律 401，带 WWW-Authenticate 质询与错误信封，不返回业务数据。

    前置条件：目标文件有 [credentials]；被测角色有受保护操作（优先无路径参数的 GET，没有时本项未测）。
    测试步骤：
    1. 以测试凭证取得有效令牌，选出受保护操作；
    2. 依次以九种格式错误的认证调用该操作：只有方案名 Bearer、Bearer 后只有空白、只有令牌、Token 方案、以 Basic
    方案直接送客户端凭证、截断的令牌、附加字符的令牌、两个令牌以逗号相连、令牌放在查询参数 access_token 中。
    预期结果：每次都返回 401 错误信封，错误代码为 UNAUTHORIZED、TOKEN_EXPIRED、SIGNATURE_INVALID 或
    REPLAYED_NONCE 之一，带 WWW-Authenticate: Bearer 质询，不带业务数据。
    """
    client = tzsb_client()
    op = probe_op(role_ops)
    token = issue(client).token
    variants: list[tuple[str, dict[str, str], dict[str, Any] | None]] = [
        ("只有方案名 Bearer", {"Authorization": "Bearer"}, None),
        ("Bearer 后只有空白", {"Authorization": "Bearer    "}, None),
        ("缺少认证方案（只有令牌）", {"Authorization": token}, None),
        ("错误的认证方案 Token", {"Authorization": f"Token {token}"}, None),
        ("以 Basic 方案直接送客户端凭证", {"Authorization": basic_credentials(client)}, None),
        ("令牌被截断", {"Authorization": f"Bearer {token[:-4]}"}, None),
        ("令牌后附加字符", {"Authorization": f"Bearer {token}x"}, None),
        ("两个令牌以逗号相连", {"Authorization": f"Bearer {token}, Bearer {token}"}, None),
        ("令牌在 URL 查询参数 access_token 中", {}, {"access_token": token}),
    ]
    problems: list[str] = []
    for label, headers, params in variants:
        r = call(client, op, headers=headers, auth=False, params=params)
        problems += check_error(r, 401, f"{op.operation_id}（{label}）", codes=AUTH_CODES, challenge=True)
    assert not problems, "\n".join(problems)


@pytest.mark.clause("PROFILE.TOKEN.2", "SHARE.SEC.AUTH.1", "DB42.4.7.e.2")
def test_an_expired_token_is_refused_with_401(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """令牌在 expires_in 到期后被拒绝：401，错误代码 TOKEN_EXPIRED，带 WWW-Authenticate；到期前同一请求被受理。

    前置条件：目标文件有 [clients.short-lived]（短有效期令牌的客户端），没有时用 [credentials]；以静态密钥认证的绑定
    本项不提供（未测）；令牌有效期超过等待上限（[thresholds] token_expiry_wait_s，未声明时 quick 档 10 秒、standard
    档 300 秒、certification 档 7300 秒）时本项未测；该客户端可调用受保护操作（没有时本项未测）。
    测试步骤：
    1. 以客户端凭证请求令牌接口（issueToken），读取 expires_in；
    2. 以新令牌调用一个受保护操作（优先无路径参数的 GET）；
    3. 等待到令牌签发后 expires_in + 1.5 秒；
    4. 以同一令牌再次调用该操作。
    预期结果：步骤 1 的 expires_in 为契约范围内的整数秒；步骤 2 不返回 401 或 403；步骤 4 返回 401 错误信封，错误代码
    TOKEN_EXPIRED，带 WWW-Authenticate: Bearer 质询，不带业务数据。
    """
    name = "short-lived" if tzsb_target.client("short-lived") else None
    client = tzsb_client(None, name)
    grant = issue(client, exchange=True)  # its lifetime is the token answer's
    assert grant.response is not None
    implausible = plausibility.token_lifetime(grant.response.json().get("expires_in"), "令牌应答 / token response")
    assert not implausible, "令牌的有效期不合理，无法按其检验到期 / the token's lifetime is implausible: " + "；".join(
        implausible
    )
    budget = float(
        tzsb_target.thresholds.get("token_expiry_wait_s", profiles.depth(tzsb_target.profile).token_expiry_wait_s)
    )
    if grant.expires_in > budget:
        pytest.skip(
            f"未测：令牌有效期 {grant.expires_in} 秒，超过本次等待上限 {budget:g} 秒。目标可为测试凭证签发短有效期"
            "令牌（[clients.short-lived]），或在 [thresholds] 中声明 token_expiry_wait_s，或以 certification 档运行 / "
            f"not tested: token lifetime {grant.expires_in} s exceeds the wait budget {budget:g} s"
        )
    issued = time.monotonic()
    op = probe_op(role_ops, grant.scopes)
    before = call(client, op, token=grant.token)
    assert before.status not in (401, 403), (
        f"{op.operation_id}: 新签发的令牌被拒绝（{before.status}）/ fresh token refused"
    )
    time.sleep(max(0.0, grant.expires_in + 1.5 - (time.monotonic() - issued)))
    after = call(client, op, token=grant.token)
    problems = _refused_401(
        after, f"{op.operation_id}（令牌已过期 {grant.expires_in} 秒有效期）", ErrorCode.TOKEN_EXPIRED
    )
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------ authorisation


@pytest.mark.clause("PROFILE.STATUS.2")
def test_401_and_403_are_distinguished(role_ops: list[Operation], tzsb_client) -> None:
    """未认证为 401（带 WWW-Authenticate），已认证但缺少权限范围为 403（FORBIDDEN），有权限时受理；
    401 与 403 均不返回业务数据。

    前置条件：目标文件有 [credentials]，在被测角色持有至少两个权限范围（否则本项未测）；令牌接口按 scope 参数收窄
    令牌（目标忽略 scope 参数时本项未测）。
    测试步骤：
    1. 以测试凭证取得持有全部权限范围的令牌，选出一个受保护操作（优先 GET）及一个不打开它的权限范围；
    2. 以 scope 参数申请只含该权限范围的令牌；
    3. 不带令牌调用该操作；
    4. 以步骤 2 的令牌调用该操作；
    5. 以步骤 1 的令牌调用该操作。
    预期结果：步骤 3 返回 401 错误信封，错误代码为认证类代码之一，带 WWW-Authenticate: Bearer 质询，不带业务数据；
    步骤 4 返回 403 错误信封，错误代码 FORBIDDEN，不带业务数据；步骤 5 不返回 401 或 403。
    """
    client = tzsb_client()
    full = issue(client)
    available = set(full.scopes) & role_scopes(role_ops)
    op = next((o for o in secured(role_ops) if o.method == "get" and foreign_scope(o, available)), None) or next(
        (o for o in secured(role_ops) if foreign_scope(o, available)), None
    )
    if op is None:
        pytest.skip("未测：测试凭证在该角色只有一个权限范围，无法构造缺少权限范围的令牌 / cannot narrow a token")
    other = foreign_scope(op, available)
    narrowed = issue(client, scope=other)
    if set(scopes_of(op)) & narrowed.scopes:
        pytest.skip(
            f"未测：目标忽略 scope 参数（申请 {other}，授予 {' '.join(sorted(narrowed.scopes))}）/ scope parameter ignored"
        )
    problems = check_error(
        call(client, op, auth=False), 401, f"{op.operation_id}（无令牌）", codes=AUTH_CODES, challenge=True
    )
    problems += check_error(
        call(client, op, token=narrowed.token),
        403,
        f"{op.operation_id}（令牌只有 {other}）",
        codes=(ErrorCode.FORBIDDEN,),
    )
    ok = call(client, op, token=full.token)
    if ok.status in (401, 403):
        problems.append(
            f"{op.operation_id}: 持有所需权限范围的令牌被拒绝（{ok.status}）/ a sufficient token was refused"
        )
    assert not problems, "\n".join(problems)


def _refused_without_scope(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """Every secured operation, called with a token that lacks its scope (a read-only token for writes,
    another data set's scope for reads, a data scope for the audit query ...): a token of the test
    credential narrowed with ``scope``; where the target ignores ``scope``, the read-only client's token."""
    client = tzsb_client()
    reader = tzsb_client(None, "reader") if tzsb_target.client("reader") is not None else None
    available = set(issue(client).scopes) & role_scopes(role_ops)
    fallback = issue(reader) if reader is not None else None
    tokens: dict[str, Any] = {}
    problems: list[str] = []
    tried = 0
    for op in secured(role_ops):
        needed = set(scopes_of(op))
        other = foreign_scope(op, available)
        token, label = None, ""
        if other is not None:
            if other not in tokens:
                tokens[other] = issue(client, scope=other)
            if not needed & tokens[other].scopes:
                token, label = tokens[other].token, f"令牌只有 {other}"
        if token is None and fallback is not None and not needed & fallback.scopes:
            token, label = fallback.token, f"只读客户端 {reader.client_id if reader else ''} 的令牌"
        if token is None:
            continue
        tried += 1
        r = call(client, op, token=token)
        problems += check_error(
            r, 403, f"{op.method.upper()} {op.path} {op.operation_id}（{label}）", codes=(ErrorCode.FORBIDDEN,)
        )
    if not tried:
        pytest.skip(
            "未测：无法取得缺少权限范围的令牌（测试凭证权限范围不足或目标忽略 scope 参数，且目标文件未提供"
            "只读客户端 [clients.reader]）/ no token lacking a scope"
        )
    assert not problems, f"{len(problems)} 个操作未以 403 拒绝越权调用：\n" + "\n".join(problems)


@pytest.mark.role("sharing")
@pytest.mark.clause("SHARE.SEC.ACCESS.1", "SHARE.SEC.ACCESS.3", "IPQS.SHARE.PERM.1", "PROFILE.STATUS.2")
def test_tokens_without_the_scope_are_refused_with_403_sharing(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """共享平台每个受保护操作（各数据集的查询、获取、增量、推送、订阅，订阅管理、目录、授权、审计、开放数据），
    以不含其权限范围的令牌调用（推送与订阅用同一数据集的只读令牌，读取用其他数据集的令牌，审计用数据令牌）：
    一律 403 错误信封，不返回数据。

    前置条件：目标文件有 [credentials]（持有被测角色的权限范围，令牌接口按 scope 参数收窄令牌）；目标忽略 scope 参数
    时用 [clients.reader]（只读客户端）的令牌。两者都取不到缺少权限范围的令牌时本项未测。
    测试步骤：
    1. 以测试凭证取得令牌，得出其持有且为被测角色操作所用的权限范围；有只读客户端时也为它取得令牌；
    2. 对每个受保护操作，选一个不打开它的权限范围（写操作取同一数据集的读权限，读操作取其他数据集的读权限），
    以 scope 参数申请只含该权限范围的令牌；申请所得仍打开该操作时改用只读客户端的令牌（它也打开时跳过该操作）；
    3. 以该令牌调用该操作（路径参数以占位值填充，有请求体的以 {} 为请求体）。
    预期结果：步骤 3 的每次调用都返回 403 错误信封，错误代码 FORBIDDEN，不带业务数据。
    """
    _refused_without_scope(role_ops, tzsb_client, tzsb_target)


@pytest.mark.role("licensing", "gov-platform", "inspection", "supervision")
@pytest.mark.clause("DB42.4.7.e.3", "PROFILE.STATUS.2")
def test_tokens_without_the_scope_are_refused_with_403(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """每个受保护操作以不含其权限范围的令牌调用（写操作用只读令牌，其他接口用别的接口的令牌）：一律 403，
    不返回数据也不执行。

    前置条件：目标文件有 [credentials]（持有被测角色的权限范围，令牌接口按 scope 参数收窄令牌）；目标忽略 scope 参数
    时用 [clients.reader]（只读客户端）的令牌。两者都取不到缺少权限范围的令牌时本项未测。
    测试步骤：
    1. 以测试凭证取得令牌，得出其持有且为被测角色操作所用的权限范围；有只读客户端时也为它取得令牌；
    2. 对每个受保护操作，选一个不打开它的权限范围（写操作取同一数据集的读权限，读操作取其他数据集的读权限），
    以 scope 参数申请只含该权限范围的令牌；申请所得仍打开该操作时改用只读客户端的令牌（它也打开时跳过该操作）；
    3. 以该令牌调用该操作（路径参数以占位值填充，有请求体的以 {} 为请求体）。
    预期结果：步骤 3 的每次调用都返回 403 错误信封，错误代码 FORBIDDEN，不带业务数据。
    """
    _refused_without_scope(role_ops, tzsb_client, tzsb_target)


# ------------------------------------------------------------------------------------------ request signature


class _Signer:
    """Signs requests per common.yaml (可选的请求签名): X-Timestamp, X-Nonce, X-Signature-Method, X-Signature."""

    def __init__(self, client: TargetClient) -> None:
        self.client = client
        self.key = (client.client_secret or "").encode()
        self.offset = server_offset(client)

    def now(self, shift: float = 0.0) -> str:
        return iso(time.time() + self.offset + shift)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: bytes = b"",
        sig_method: str = "HMAC-SM3",
        timestamp: str | None = None,
        nonce: str | None = None,
        key: bytes | None = None,
        send_body: bytes | None = None,
        send_suffix: str = "",
        headers: dict[str, str] | None = None,
        omit: tuple[str, ...] = (),
    ) -> tuple[TargetResponse, str]:
        prepared = requests.Request(method, self.client.base_url + path, params=params).prepare()
        url, path_query = prepared.url or "", prepared.path_url
        ts = timestamp or self.now()
        nonce = nonce or secrets.token_hex(16)
        signature = sign(
            sig_method,
            key if key is not None else self.key,
            canonical_string(method, path_query, ts, nonce, body, sig_method),
        )
        hdrs = {
            "Authorization": f"Bearer {self.client.token()}",
            "X-Timestamp": ts,
            "X-Nonce": nonce,
            "X-Signature-Method": sig_method,
            "X-Signature": signature,
            **(headers or {}),
        }
        for name in omit:
            hdrs.pop(name, None)
        payload = body if send_body is None else send_body
        if payload:
            hdrs["Content-Type"] = "application/json"
        if send_suffix:
            url += ("&" if "?" in url else "?") + send_suffix
        return self.client.request(method, url, raw_body=payload or None, headers=hdrs), nonce


def _signer(tzsb_target: Target, tzsb_client) -> _Signer:
    return _Signer(need_client(tzsb_target, tzsb_client, "signer", "须签名请求的客户端，可选特性 request-signature"))


def _signed_probe(role_ops: list[Operation], signer: _Signer) -> tuple[Operation, str]:
    op = probe_op(role_ops, issue(signer.client).scopes)
    if op.method != "get":
        vacuous("该角色的契约中没有供签名检验的读操作 / no read operation to sign")
    return op, concrete(op)


def _accepted(r: TargetResponse, what: str) -> list[str]:
    if r.status is None or r.status in (401, 403) or r.status >= 500:
        body = r.json()
        code = body.get("code") if isinstance(body, dict) else None
        return [f"{what}: 正确签名的请求未被受理（{r.status} {code or ''}）/ a correctly signed request was refused"]
    return []


@pytest.mark.feature("request-signature")
@pytest.mark.clause("PROFILE.SIGN.1", "PROFILE.SIGN.2")
def test_correctly_signed_requests_are_accepted(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """按 common.yaml 的待签名串计算的 HMAC-SM3 与 HMAC-SHA256 签名均被受理（带查询串的请求亦然）；
    缺少签名头的请求被拒绝（401 SIGNATURE_INVALID）。

    前置条件：目标声明可选特性 request-signature；目标文件有 [clients.signer]（须签名请求的客户端，签名密钥为其
    client_secret，缺少时本项未测）；该客户端可调用被测角色的受保护读操作（没有读操作时本项未测）；服务器时间取自健康状态接口。
    测试步骤：
    1. 以签名客户端取得令牌，选出受保护读操作；
    2. 以 HMAC-SM3 与 HMAC-SHA256 分别签名（X-Timestamp、X-Nonce、X-Signature-Method、X-Signature）调用该操作；
    该操作有 page 参数时，再各以带查询串（page=1&size=1）的签名请求调用；
    3. 以同一客户端的令牌不签名调用该操作。
    预期结果：步骤 2 的请求均被受理（不返回 401、403 或 5xx）；步骤 3 返回 401 错误信封，错误代码 SIGNATURE_INVALID，
    带 WWW-Authenticate: Bearer 质询，不带业务数据。
    """
    signer = _signer(tzsb_target, tzsb_client)
    op, path = _signed_probe(role_ops, signer)
    params = {"page": "1", "size": "1"} if any(p.name == "page" for p in op.params) else None
    problems: list[str] = []
    for method in ("HMAC-SM3", "HMAC-SHA256"):
        r, _ = signer.send("GET", path, sig_method=method)
        problems += _accepted(r, f"{op.operation_id}（{method}）")
        if params:
            r, _ = signer.send("GET", path, params=params, sig_method=method)
            problems += _accepted(r, f"{op.operation_id}（{method}，带查询串）")
    unsigned = signer.client.request("GET", path)
    problems += _refused_401(unsigned, f"{op.operation_id}（须签名的客户端未签名）")
    assert not problems, "\n".join(problems)


@pytest.mark.feature("request-signature")
@pytest.mark.clause("PROFILE.SIGN.2")
def test_wrong_signatures_are_refused_with_401(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """签名错误（错误密钥、缺少签名头、不支持的算法、签名后改动查询串或请求体）：401，错误代码 SIGNATURE_INVALID。

    前置条件：目标声明可选特性 request-signature；目标文件有 [clients.signer]（须签名请求的客户端，签名密钥为其
    client_secret，缺少时本项未测）；该客户端可调用被测角色的受保护读操作（没有读操作时本项未测）。
    测试步骤：
    1. 以签名客户端取得令牌，选出受保护读操作；
    2. 依次发送八种有误的签名请求：以错误密钥签名（HMAC-SM3、HMAC-SHA256）、缺少 X-Signature、缺少 X-Nonce、缺少
    X-Timestamp、签名算法 HMAC-MD5、签名后查询串被改动、X-Timestamp 不带时区；
    3. 被测角色有带请求体的 POST 操作时，对一个请求体签名而发送另一个请求体。
    预期结果：步骤 2、3 的每次请求都返回 401 错误信封，错误代码 SIGNATURE_INVALID，带 WWW-Authenticate: Bearer 质询，
    不带业务数据。
    """
    signer = _signer(tzsb_target, tzsb_client)
    op, path = _signed_probe(role_ops, signer)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("错误的签名密钥", {"key": b"not-the-signing-key"}),
        ("HMAC-SHA256 以错误密钥签名", {"key": b"not-the-signing-key", "sig_method": "HMAC-SHA256"}),
        ("缺少 X-Signature", {"omit": ("X-Signature",)}),
        ("缺少 X-Nonce", {"omit": ("X-Nonce",)}),
        ("缺少 X-Timestamp", {"omit": ("X-Timestamp",)}),
        ("不支持的签名算法 HMAC-MD5", {"headers": {"X-Signature-Method": "HMAC-MD5"}}),
        ("签名后查询串被改动", {"send_suffix": "tzsb=1"}),
        ("X-Timestamp 不带时区", {"timestamp": signer.now()[:19]}),
    ]
    problems: list[str] = []
    for label, kw in cases:
        r, _ = signer.send("GET", path, **kw)
        problems += _refused_401(r, f"{op.operation_id}（{label}）")
    post = next((o for o in secured(role_ops) if o.method == "post" and o.body_uri), None)
    if post is not None:
        r, _ = signer.send("POST", concrete(post), body=b'{"tzsb": 1}', send_body=b'{"tzsb": 2}')
        problems += _refused_401(r, f"{post.operation_id}（签名后请求体被改动）")
    assert not problems, "\n".join(problems)


@pytest.mark.feature("request-signature")
@pytest.mark.clause("PROFILE.SIGN.2")
def test_a_stale_or_future_timestamp_is_refused_with_401(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """X-Timestamp 与服务器时间相差超过 300 秒（早 600 秒、晚 600 秒）的签名请求：401（SIGNATURE_INVALID），
    即使签名本身正确；服务器时间取自健康检查接口。

    前置条件：目标声明可选特性 request-signature；目标文件有 [clients.signer]（须签名请求的客户端，签名密钥为其
    client_secret，缺少时本项未测）；该客户端可调用被测角色的受保护读操作（没有读操作时本项未测）。
    测试步骤：
    1. 从健康状态接口读取服务器时间，以签名客户端选出受保护读操作；
    2. 以当前服务器时间的时间戳签名调用该操作（对照）；
    3. 以早于、晚于服务器时间 600 秒的时间戳分别正确签名调用该操作。
    预期结果：步骤 2 被受理（不返回 401、403 或 5xx）；步骤 3 的两次请求都返回 401 错误信封，错误代码
    SIGNATURE_INVALID，带 WWW-Authenticate: Bearer 质询，不带业务数据。
    """
    signer = _signer(tzsb_target, tzsb_client)
    op, path = _signed_probe(role_ops, signer)
    problems: list[str] = []
    fresh, _ = signer.send("GET", path)
    problems += _accepted(fresh, f"{op.operation_id}（当前时间戳，对照）")
    for label, shift in (
        ("早于服务器时间 600 秒", -2 * SIGNATURE_WINDOW),
        ("晚于服务器时间 600 秒", 2 * SIGNATURE_WINDOW),
    ):
        r, _ = signer.send("GET", path, timestamp=signer.now(shift))
        problems += _refused_401(r, f"{op.operation_id}（X-Timestamp {label}）")
    assert not problems, "\n".join(problems)


@pytest.mark.feature("request-signature")
@pytest.mark.clause("PROFILE.SIGN.2")
def test_a_replayed_nonce_is_refused_with_401(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """同一 X-Nonce 在时间窗口内第二次使用（新的时间戳、正确的签名）：401，错误代码 REPLAYED_NONCE；
    原样重放整个请求亦然。

    前置条件：目标声明可选特性 request-signature；目标文件有 [clients.signer]（须签名请求的客户端，签名密钥为其
    client_secret，缺少时本项未测）；该客户端可调用被测角色的受保护读操作（没有读操作时本项未测）。
    测试步骤：
    1. 以签名客户端选出受保护读操作，以新随机数签名调用该操作；
    2. 以同一随机数、新的时间戳、HMAC-SHA256 正确签名再次调用；
    3. 原样重放步骤 2 的请求。
    预期结果：步骤 1 被受理（不返回 401、403 或 5xx）；步骤 2、3 都返回 401 错误信封，错误代码 REPLAYED_NONCE，
    带 WWW-Authenticate: Bearer 质询，不带业务数据。
    """
    signer = _signer(tzsb_target, tzsb_client)
    op, path = _signed_probe(role_ops, signer)
    first, nonce = signer.send("GET", path)
    problems = _accepted(first, f"{op.operation_id}（首次使用随机数）")
    ts = signer.now()
    again, _ = signer.send("GET", path, nonce=nonce, timestamp=ts, sig_method="HMAC-SHA256")
    problems += _refused_401(again, f"{op.operation_id}（随机数重复使用）", ErrorCode.REPLAYED_NONCE)
    replay, _ = signer.send("GET", path, nonce=nonce, timestamp=ts, sig_method="HMAC-SHA256")
    problems += _refused_401(replay, f"{op.operation_id}（整个请求原样重放）", ErrorCode.REPLAYED_NONCE)
    assert not problems, "\n".join(problems)
