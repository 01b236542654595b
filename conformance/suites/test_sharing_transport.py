"""共享平台传输安全与共享方式：HTTPS（TLS 1.2 及以上、有效且与主机名匹配的证书、不接受旧版本协议与不安全的密码套件）、
凭证不经明文通道与 URL 传递、以接口方式共享（UTF-8 JSON 报文，接口目录中的接口均在 OpenAPI 中描述）。

GB/T 34990 式测试项：文档字符串为测试目的（中文在前、英文在后），代码为测试步骤，断言为预期结果。
TLS 的检验直接用 Python ``ssl`` 模块握手：以目标文件 ``[tls] ca_file``（私有 CA 的证书包；未给出时用系统信任库）
校验证书链与主机名；旧版本协议（TLS 1.0、1.1）与不安全的密码套件由本机 OpenSSL 单独发起，本机 OpenSSL
根本发不出时该项未测（说明原因），不判为符合。本套件向 URL 查询参数放入的令牌只记入证据的脱敏形式。

Transport security and the way of sharing (SHARE.SEC.SECMGMT.3, SHARE.SEC.AUTH.3, SHARE.MECH.METHOD.1):
TLS handshakes with Python's ``ssl`` (CA bundle from the target file's ``[tls] ca_file``), legacy
protocol versions and insecure cipher suites offered alone (未测 where the local OpenSSL cannot even
offer them), the plain-HTTP variant of the base URL, tokens in the URL query, and the catalogue's
operations against the OpenAPI description with UTF-8 JSON bodies.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import warnings
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import pytest
import requests

from conformance.check.schema import validator, validator_at
from conformance.client import Evidence, Exchange, TargetClient, TargetResponse
from conformance.client.evidence import mask_text
from conformance.client.http import request_once
from conformance.contract.datasets import data_sets
from conformance.contract.openapi import Operation, role_operations
from conformance.harness.target import Target
from conformance.suites.support.reporting import operation
from conformance.suites.support.sharing import ROLE, expect, explain, snippet

pytestmark = pytest.mark.role(ROLE)

TIMEOUT = 10.0
#: Cipher-suite name fragments of well-known insecure suites (RFC 7465 RC4, Sweet32 3DES, DES, NULL, anonymous, EXPORT, MD5).
INSECURE = ("NULL", "RC4", "DES-CBC3", "3DES", "DES-CBC-", "EXP", "MD5", "ADH", "AECDH", "anon")
#: What the local OpenSSL is asked to offer alone for the insecure-suite check (TLS 1.2 and below).
INSECURE_OFFER = "NULL:aNULL:eNULL:EXPORT:RC4:DES:3DES:MD5:@SECLEVEL=0"
#: ssl reasons raised by the local library before anything is sent (it cannot offer what was asked).
_LOCAL_REASONS = (
    "NO_PROTOCOLS_AVAILABLE",
    "NO_CIPHERS_AVAILABLE",
    "NO_CIPHER_MATCH",
    "NO_SUITABLE_SIGNATURE_ALGORITHM",
)


@pytest.fixture
def client(tzsb_client: Any) -> TargetClient:
    return tzsb_client()


def _https(target: Target) -> tuple[str, int, str]:
    """(host, port, SNI name) of an HTTPS base URL; skips the TLS items for an http URL (judged by the https test)."""
    parts = urlsplit(target.url())
    if parts.scheme != "https":
        pytest.skip(
            f"未测：基础地址 {target.url()} 不是 https，TLS 握手无从检验（由“经 HTTPS 提供”一项判为不符合） / "
            "the base URL is not https"
        )
    host = parts.hostname or ""
    return host, parts.port or 443, host


def _verifying_context(target: Target) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=target.ca_file) if target.ca_file else ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _handshake(host: str, port: int, ctx: ssl.SSLContext, server_name: str | None) -> tuple[str | None, Any, Any]:
    """(protocol version, cipher, peer certificate) of one TLS handshake; raises on failure."""
    with (
        socket.create_connection((host, port), timeout=TIMEOUT) as raw,
        ctx.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        return tls.version(), tls.cipher(), tls.getpeercert()


def _legacy_context(version: ssl.TLSVersion | None, ciphers: str) -> ssl.SSLContext:
    """A client context that offers only ``version`` (None: up to TLS 1.2) and ``ciphers``, without verification
    (only the server's choice of protocol and suite is under test). Skips when the local library cannot."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.set_ciphers(ciphers)
        with warnings.catch_warnings():
            # TLS 1.0 / 1.1 constants are deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            if version is not None:
                ctx.minimum_version = version
                ctx.maximum_version = version
            else:
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    except (ssl.SSLError, ValueError) as exc:
        pytest.skip(
            f"未测：本机 OpenSSL（{ssl.OPENSSL_VERSION}）无法发起该握手：{exc} / the local OpenSSL cannot offer it"
        )
    return ctx


def _refused(host: str, port: int, ctx: ssl.SSLContext, server_name: str, what: str) -> str | None:
    """None when the server refuses the handshake; the negotiated (version, cipher) text when it accepts.
    Skips when the local library itself could not send the offer."""
    try:
        version, cipher, _ = _handshake(host, port, ctx, server_name)
    except ssl.SSLError as exc:
        if getattr(exc, "reason", None) in _LOCAL_REASONS:
            pytest.skip(
                f"未测：本机 OpenSSL（{ssl.OPENSSL_VERSION}）发不出{what}（{exc.reason}） / "
                f"the local OpenSSL cannot offer {what}"
            )
        return None
    except OSError:
        return None  # connection reset or closed during the handshake: refused
    return f"{version} {cipher[0] if cipher else ''}"


# ---------------------------------------------------------------------------- TLS


@pytest.mark.clause("SHARE.SEC.SECMGMT.3", "SHARE.MECH.METHOD.1")
def test_the_interface_is_served_over_https(tzsb_target: Target) -> None:
    """共享接口的基础地址为 https（接口只经 TLS 提供）。

    前置条件：目标文件给出共享接口的基础地址。
    测试步骤：
    1. 读取目标文件中的基础地址；
    2. 检查其协议。
    预期结果：基础地址的协议为 https。

    The sharing interface's base URL is https.
    """
    url = tzsb_target.url()
    assert urlsplit(url).scheme == "https", (
        f"共享接口的基础地址 {url} 不是 https：接口经明文 HTTP 提供 / "
        f"the base URL {url} is not https: the interface is served in clear text"
    )


@pytest.mark.clause("SHARE.SEC.SECMGMT.3")
def test_tls_1_2_or_later_with_a_certificate_valid_for_the_host(tzsb_target: Target, tzsb_evidence: Evidence) -> None:
    """以 TLS 1.2 及以上握手成功：证书链经信任的 CA 校验通过、在有效期内、与主机名（或 IP）匹配，协商的密码套件不属于已知不安全的套件。

    前置条件：基础地址不是 https 时本项未测（由“经 HTTPS 提供”一项判定）；信任的 CA 取目标文件 [tls] ca_file，未给出时用系统信任库。
    测试步骤：
    1. 以 Python ssl 向基础地址的主机与端口发起最低版本为 TLS 1.2、校验证书链与主机名的握手（SNI 为主机名）；
    2. 记录协商的协议版本、密码套件与证书有效期。
    预期结果：握手成功，证书校验通过；协商的版本为 TLS 1.2 或 TLS 1.3；密码套件名称不含已知不安全套件的标记（NULL、RC4、3DES、DES、EXPORT、MD5、匿名）；证书的 notAfter 晚于当前时间。

    A TLS ≥ 1.2 handshake succeeds with a certificate that chains to a trusted CA, is in date and matches the host.
    """
    host, port, name = _https(tzsb_target)
    trust = tzsb_target.ca_file or "系统信任库 / system trust store"
    try:
        version, cipher, cert = _handshake(host, port, _verifying_context(tzsb_target), name)
    except ssl.SSLCertVerificationError as exc:
        raise AssertionError(
            f"证书校验失败（{exc.verify_message}，信任：{trust}）：证书无效、不由信任的 CA 签发、已过期或与主机名 {name} 不符 / "
            f"certificate verification failed: {exc.verify_message}"
        ) from exc
    except (ssl.SSLError, OSError) as exc:
        raise AssertionError(
            f"以 TLS 1.2 及以上与 {host}:{port} 握手失败：{exc} / the TLS ≥ 1.2 handshake failed"
        ) from exc
    assert version in ("TLSv1.2", "TLSv1.3"), f"协商的协议版本为 {version} / negotiated {version}"
    suite = cipher[0] if cipher else ""
    assert not any(bad in suite for bad in INSECURE), f"协商的密码套件 {suite} 不安全 / insecure suite negotiated"
    not_after = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), dt.UTC)
    tzsb_evidence.add(
        Exchange(
            "TLS",
            f"https://{host}:{port}",
            {},
            None,
            status=None,
            response_body=f"{version} {suite}; 证书有效期至 {not_after.isoformat()}；信任 {trust}",
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            probe=True,  # a TLS handshake, not an HTTP exchange: no status, and not a silence
        )
    )
    assert not_after > dt.datetime.now(dt.UTC), f"证书已于 {not_after} 过期 / the certificate expired"


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"], ids=["TLS1.0", "TLS1.1"])
@pytest.mark.clause("SHARE.SEC.SECMGMT.3")
def test_legacy_tls_versions_are_refused(version: str, tzsb_target: Target) -> None:
    """只提供 TLS 1.0 或 TLS 1.1 的握手被拒绝（本机 OpenSSL 发不出这两个版本时未测）。

    前置条件：基础地址不是 https 时本项未测（由“经 HTTPS 提供”一项判定）；本机 OpenSSL 无法发起只含该版本的握手时本项未测。
    测试步骤：
    1. 以只允许 TLS 1.0（或 TLS 1.1，逐个参数化）、密码套件 DEFAULT:@SECLEVEL=0、不校验证书的客户端上下文向基础地址的主机与端口握手。
    预期结果：握手失败（TLS 错误或连接在握手中被关闭），服务器不接受该版本。

    A handshake offering only TLS 1.0 or 1.1 is refused (未测 where the local OpenSSL cannot offer them).
    """
    host, port, name = _https(tzsb_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tls_version = getattr(ssl.TLSVersion, version)
    accepted = _refused(host, port, _legacy_context(tls_version, "DEFAULT:@SECLEVEL=0"), name, version)
    assert accepted is None, (
        f"服务器接受了只提供 {version} 的握手（协商结果 {accepted}）：应只在 TLS 1.2 及以上提供服务 / "
        f"the server accepted a {version} handshake ({accepted})"
    )


@pytest.mark.clause("SHARE.SEC.SECMGMT.3")
def test_insecure_cipher_suites_are_refused(tzsb_target: Target) -> None:
    """只提供已知不安全的密码套件（NULL、匿名、EXPORT、RC4、DES、3DES、MD5）的 TLS 1.2 握手被拒绝。

    前置条件：基础地址不是 https 时本项未测（由“经 HTTPS 提供”一项判定）；本机 OpenSSL 没有可发出的不安全套件或无法发起该握手时本项未测。
    测试步骤：
    1. 建立最高 TLS 1.2、只含不安全密码套件（NULL:aNULL:eNULL:EXPORT:RC4:DES:3DES:MD5:@SECLEVEL=0）、不校验证书的客户端上下文；
    2. 以之向基础地址的主机与端口握手。
    预期结果：步骤 2 握手失败（TLS 错误或连接在握手中被关闭），服务器不接受任何不安全套件。

    A TLS 1.2 handshake offering only known-insecure cipher suites is refused.
    """
    host, port, name = _https(tzsb_target)
    ctx = _legacy_context(None, INSECURE_OFFER)
    offered = [c["name"] for c in ctx.get_ciphers() if c.get("protocol") != "TLSv1.3"]
    if not offered:
        pytest.skip(
            f"未测：本机 OpenSSL（{ssl.OPENSSL_VERSION}）没有可发出的不安全套件 / no insecure suite can be offered here"
        )
    accepted = _refused(host, port, ctx, name, "不安全的密码套件")
    assert accepted is None, (
        f"服务器接受了不安全的密码套件（协商结果 {accepted}；本机提供 {', '.join(offered[:6])}） / "
        f"the server accepted an insecure cipher suite ({accepted})"
    )


# ---------------------------------------------------------------------------- credentials


def _raw(
    evidence: Evidence,
    method: str,
    url: str,
    headers: dict[str, str],
    verify: str | bool,
    data: Any = None,
    *,
    probe: bool = False,
) -> TargetResponse:
    """One request outside the harness client, sent exactly as given (no redirects followed, no retries, no token
    added, ``verify`` as given), read like every response of the harness (size cap, deadline:
    :func:`conformance.client.http.request_once`) and recorded with the URL's and the headers' credentials masked.
    A request that fails has ``status`` None and an ``error``."""
    session = requests.Session()
    session.trust_env = False
    try:
        r, exchange = request_once(
            session,
            method,
            url,
            headers=headers,
            data=data,
            timeout=(3.05, TIMEOUT),
            verify=verify,
            mask_url=True,
            probe=probe,
        )
    finally:
        session.close()
    evidence.add(exchange)
    return r


def _probe_op() -> Operation:
    """A secured, parameter-free read of the contract (the first data set's paged query)."""
    first = next(iter(data_sets().values()))
    assert first.query is not None
    return first.query


def _data(r: TargetResponse) -> Any:
    """The ``data`` of a JSON answer; a body cut at the size cap or the deadline may hold data: counted as some."""
    if r.truncated:
        return f"（应答被截断，无从确认不含数据：{r.error}） / (the answer was cut: {r.error})"
    body = r.json()
    return body.get("data") if isinstance(body, dict) else None


def _text(r: TargetResponse, limit: int = 200) -> str:
    return r.content[:limit].decode("utf-8", errors="replace")


@pytest.mark.clause("SHARE.SEC.AUTH.3", "SHARE.SEC.SECMGMT.3")
def test_plain_http_does_not_serve_the_api_with_credentials(
    client: TargetClient, tzsb_target: Target, tzsb_evidence: Evidence
) -> None:
    """对基础地址的明文 HTTP 形式（同一主机与端口，或 https 默认端口对应的 80 端口）携带有效令牌发出请求：
    连接被拒绝、被重定向到 https，或以错误应答，都不返回数据。

    前置条件：目标文件有 [credentials]（测试凭证，用以取得有效令牌）。
    测试步骤：
    1. 以测试凭证取得令牌；
    2. 基础地址为 http 时，带令牌向其请求第一个数据集的分页查询接口；
    3. 基础地址为 https 时，将其改为 http（同一主机与端口），带令牌（Authorization: Bearer）发出同一请求，不跟随重定向、不重试。
    预期结果：基础地址为 http 即不符合；步骤 3 连接被拒绝（没有应答），或返回 301/302/303/307/308 且 Location 为 https 地址、应答不带 data，或返回 4xx/5xx 且应答不带 data。

    The plain-HTTP variant of the base URL, with a valid token, is refused or redirected and returns no data.
    """
    base = tzsb_target.url()
    parts = urlsplit(base)
    token = client.token()
    path = _probe_op().path
    if parts.scheme != "https":
        r = _raw(tzsb_evidence, "GET", base + path, {"Authorization": f"Bearer {token}"}, True)
        raise AssertionError(
            f"接口经明文 HTTP 提供（{base}），令牌经明文传输并被处理（HTTP {r.status or r.error}） / "
            "the interface is served over plain HTTP and processes the token"
        )
    plain = urlunsplit(("http", parts.netloc, parts.path, "", "")) + path
    r = _raw(tzsb_evidence, "GET", plain, {"Authorization": f"Bearer {token}"}, False, probe=True)
    if r.status is None and not r.content:
        return  # refused at the connection (no answer at all): nothing was processed
    if r.status in (301, 302, 303, 307, 308):
        location = r.header("Location") or ""
        assert location.startswith("https://"), (
            f"明文请求被重定向到 {location!r}，不是 https 地址 / the plain request is redirected elsewhere than https"
        )
        assert not _data(r), f"重定向应答带有数据：{_text(r)} / the redirect carries data"
        return
    assert r.status is not None and r.status >= 400, (
        f"明文 HTTP 请求（{mask_text(plain)}）携带令牌得到 HTTP {r.status}（{r.error or ''}）：接口经明文通道处理了凭证 / "
        f"the plain-HTTP request with a token was served ({r.status})"
    )
    assert not _data(r), f"明文 HTTP 的错误应答带有数据：{_text(r)} / the plain-HTTP answer carries data"


@pytest.mark.clause("SHARE.SEC.AUTH.3")
def test_a_token_in_the_url_query_is_refused(
    client: TargetClient, tzsb_target: Target, tzsb_evidence: Evidence
) -> None:
    """令牌出现在 URL 查询参数（access_token）中的请求被拒绝（4xx、不返回数据）：只在查询参数中带令牌时如此，
    请求头同时带有效令牌时也如此。

    前置条件：目标文件有 [credentials]（测试凭证，用以取得有效令牌）；证书以 [tls] ca_file 校验（未给出时用系统信任库）。
    测试步骤：
    1. 以测试凭证取得令牌；
    2. 请求第一个数据集的分页查询接口，令牌只放在 URL 查询参数 access_token 中；
    3. 同一请求，查询参数 access_token 之外请求头也带有效令牌（Authorization: Bearer）。
    预期结果：步骤 2、3 都得到应答，状态码不低于 400，应答不带 data。

    A request with the token in the URL query (access_token) is refused, also when a valid header comes with it.
    """
    base = tzsb_target.url()
    token = client.token()
    url = base + _probe_op().path
    verify: str | bool = tzsb_target.ca_file or True
    problems: list[str] = []
    for label, headers in (("仅查询参数", {}), ("查询参数与请求头", {"Authorization": f"Bearer {token}"})):
        r = _raw(tzsb_evidence, "GET", f"{url}?access_token={token}", headers, verify)
        assert r.status is not None, f"请求未得到应答：{r.error} / the request got no answer"
        if r.status < 400 or _data(r):
            problems.append(f"{label}：HTTP {r.status}，{'返回了数据' if _data(r) else '未拒绝'}")
    assert not problems, (
        "URL 查询参数中的令牌未被拒绝：" + "；".join(problems) + " / a token in the URL query was not refused"
    )


@pytest.mark.clause("SHARE.SEC.AUTH.3")
def test_client_credentials_in_the_url_query_get_no_token(
    client: TargetClient, tzsb_target: Target, tzsb_evidence: Evidence
) -> None:
    """客户端凭证（client_id、client_secret）放在令牌接口 URL 查询参数中时不签发令牌。

    前置条件：目标文件有 [credentials]（测试凭证的 client_id，缺少时本项未测）；契约中有令牌接口 issueToken（没有时本项未测）。
    测试步骤：
    1. 向令牌接口（issueToken）发出 POST，grant_type=client_credentials、client_id、client_secret 都放在 URL 查询参数中，请求体为空（Content-Type 为 application/x-www-form-urlencoded）。
    预期结果：得到应答，状态码不低于 400，应答中没有 access_token。

    Client credentials in the token endpoint's URL query get no token.
    """
    if not client.client_id:
        pytest.skip("未测：目标文件未给出测试凭证 / no harness credentials")
    token_op = next((op for op in role_operations(ROLE) if op.operation_id == "issueToken"), None)
    if token_op is None:
        pytest.skip("未测：契约中没有令牌接口 / no token operation")
    query = f"grant_type=client_credentials&client_id={client.client_id}&client_secret={client.client_secret or ''}"
    r = _raw(
        tzsb_evidence,
        "POST",
        f"{tzsb_target.url()}{token_op.path}?{query}",
        {"Content-Type": "application/x-www-form-urlencoded"},
        tzsb_target.ca_file or True,
    )
    assert r.status is not None, f"请求未得到应答：{r.error} / the request got no answer"
    body = r.json()
    issued = isinstance(body, dict) and bool(body.get("access_token"))
    assert r.status >= 400 and not issued, (
        f"凭证放在 URL 查询参数中仍签发了令牌（HTTP {r.status}） / a token was issued for credentials in the URL query"
    )


# ---------------------------------------------------------------------------- interfaces, UTF-8 JSON


def _json_reads(catalogue: list[dict[str, Any]]) -> list[Operation]:
    """Operations of the contract listed in the catalogue that are GETs without path or required parameters."""
    listed = {(e.get("method"), e.get("path")) for e in catalogue}
    return [
        op
        for op in role_operations(ROLE)
        if op.method == "get"
        and (op.method.upper(), op.path) in listed
        and "{" not in op.path
        and not any(p.required for p in op.params)
    ]


@pytest.mark.clause("SHARE.MECH.METHOD.1")
def test_the_catalogued_interfaces_are_described_and_answer_utf8_json(
    client: TargetClient, tzsb_target: Target
) -> None:
    """共享以接口方式进行：基础地址为 https；接口目录列出的每个接口都在 OpenAPI 描述（本工具所持契约）中，方法与路径一致；
    目录中可直接调用的读取接口以通用 HTTP 客户端调用返回 UTF-8 编码的 JSON，报文符合 OpenAPI 描述的响应结构。

    前置条件：目标文件有 [credentials]（测试凭证）；测试凭证无权调用（403）的读取接口不计入。
    测试步骤：
    1. 检查基础地址的协议；
    2. 以测试凭证查询接口目录（getCatalogue）；
    3. 将目录中每个接口的 operationId、方法与路径与 OpenAPI 描述比对；
    4. 调用目录中列出的、无路径参数与必填参数的每个读取接口（size 或 limit 为 1）。
    预期结果：步骤 1 为 https；步骤 2 返回 200，每个目录项符合 catalogueEntry 结构；步骤 3 每个接口都在 OpenAPI 描述中，方法与路径一致；步骤 4 至少调用了一个接口，每个都得到完整应答，Content-Type 为 application/json（带 charset 时为 UTF-8），报文为 UTF-8 编码的 JSON，状态码在 OpenAPI 描述的响应中且报文符合其结构。

    Sharing goes through interfaces: https; every catalogued interface is in the OpenAPI description; the
    catalogue's reads answer UTF-8 JSON that validates against the described responses.
    """
    url = tzsb_target.url()
    assert urlsplit(url).scheme == "https", f"共享接口的基础地址 {url} 不是 https / the base URL is not https"
    catalogue = expect(client.get(operation(ROLE, "getCatalogue").path), 200, "查询接口目录 / catalogue")
    v = validator("sharing#/$defs/catalogueEntry")
    assert isinstance(catalogue, list) and all(v.is_valid(e) for e in catalogue), (
        "接口目录结构不符 / the catalogue does not validate"
    )
    described = {(op.operation_id, op.method.upper(), op.path) for op in role_operations(ROLE)}
    undescribed = [
        f"{e['operationId']} {e['method']} {e['path']}"
        for e in catalogue
        if (e["operationId"], e["method"], e["path"]) not in described
    ]
    assert not undescribed, (
        f"接口目录中有 {len(undescribed)} 个接口未在 OpenAPI 描述中（或方法、路径不一致）：{undescribed[:5]} / "
        "catalogued interfaces missing from the OpenAPI description"
    )
    problems: list[str] = []
    called = 0
    for op in _json_reads(catalogue):
        params = {p.name: 1 for p in op.params if p.name in ("size", "limit")}
        r = client.get(op.path, params=params)
        if r.status == 403:
            continue  # the harness may lack this scope: not a statement about the interface
        called += 1
        if r.status is None or r.truncated:
            problems.append(f"{op.operation_id}: 未得到完整应答（{r.error}） / no complete answer")
            continue
        ctype = (r.header("content-type") or "").lower()
        charset = next(
            (p.split("=", 1)[1].strip() for p in ctype.split(";")[1:] if p.strip().startswith("charset=")), None
        )
        if not ctype.startswith("application/json"):
            problems.append(f"{op.operation_id}: Content-Type 为 {ctype or '（无）'}，不是 application/json")
        elif charset not in (None, "utf-8", "utf8"):
            problems.append(f"{op.operation_id}: 字符集为 {charset}，不是 UTF-8")
        try:
            text = r.content.decode("utf-8")
            body = orjson.loads(text)
        except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
            problems.append(f"{op.operation_id}: 报文不是 UTF-8 编码的 JSON（{exc}）：{snippet(r, 120)}")
            continue
        schema = op.responses.get(str(r.status), {}).get("application/json")
        if schema is None:
            problems.append(f"{op.operation_id}: HTTP {r.status} 不在 OpenAPI 描述的响应中")
            continue
        sv = validator_at(schema)
        if not sv.is_valid(body):
            problems.append(f"{op.operation_id}: 报文不符合 OpenAPI 描述的 HTTP {r.status} 响应：{explain(sv, body)}")
    assert called, "接口目录中没有测试凭证可调用的读取接口 / no catalogued read the harness may call"
    assert not problems, "\n".join(problems) + " / catalogued interfaces do not answer UTF-8 JSON as described"
