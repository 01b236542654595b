"""安全套件（三）：恶意与畸形输入（各角色）。

SQL 注入字符串（路径参数、查询参数、请求体字段），深层嵌套的 JSON、非法 UTF-8、孤立代理项、NUL、超大数值、
类型错误的字段：目标须以 4xx 错误信封拒绝，绝不 5xx，错误信息不泄露堆栈、SQL 或内部地址
（PROFILE.STATUS.6），请求体校验失败为 400 并列出字段路径（PROFILE.ERROR.1）；每个测试之后目标仍健康。
令牌端点（无需登录）对非 ASCII 密钥、非 ASCII 签名头、过深的 JSON 以 4xx 拒绝，不签发令牌；伪造的 Host
（及 X-Forwarded-Host / Forwarded）不得出现在应答的 Location 或任何绝对地址中；格式不符契约的签名请求头
（X-Timestamp、X-Nonce、X-Signature、X-Signature-Method，不论调用方是否签名）以 4xx 拒绝。

只用测试凭证（[credentials]，持有被测角色全部权限范围），不需要其他身份。
"""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

import orjson
import pytest

from conformance.check.schema import validator, validator_at
from conformance.client import TargetClient, TargetResponse
from conformance.client.http import request_once
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation, _deref
from conformance.contract.registry import registry
from conformance.harness.target import Target, threshold_samples
from conformance.report.skips import untested, vacuous
from conformance.suites.support.checks import valid_fixtures
from conformance.suites.support.security import (
    SQL_INJECTION,
    call,
    check_error,
    concrete,
    healthy,
    leaks,
    param_type,
    probe_op,
    secured,
)

#: The time-based probes (they ask the database to wait 5 s) and how much later than the other probes of the same
#: operation their answer may come before it hints at time-based injection. Relative, so that a slow or loaded target
#: is not taken for an injectable one.
TIME_BASED = tuple(p for p in SQL_INJECTION if "SLEEP(" in p.upper())
DELAY_MS = 4000.0


def _refused(r: TargetResponse, what: str, *, allowed: tuple[int, ...] | None = None) -> list[str]:
    """A client error in the error envelope, quickly, without leaking internals."""
    problems: list[str] = []
    if r.status is None:
        return [f"{what}: 无响应（{r.error}）/ no response"]
    if r.status >= 500:
        problems.append(f"{what}: 返回 {r.status}，恶意或畸形输入不得导致服务端错误 / server error on bad input")
    elif allowed is not None and r.status not in allowed:
        problems.append(f"{what}: 返回 {r.status}，应为 {'/'.join(map(str, allowed))}")
    elif r.status < 400 or r.status in (401, 403):
        problems.append(f"{what}: 返回 {r.status}，应为 4xx 的校验错误 / expected a client error")
    body = r.json()
    if r.status >= 400 and (not isinstance(body, dict) or not validator("error").is_valid(body)):
        problems.append(f"{what}: {r.status} 的响应体不是错误信封（含中文说明）/ not the error envelope")
    leak = leaks(r)
    if leak:
        problems.append(f"{what}: 响应泄露内部信息“{leak[:80]}” / response leaks internals")
    return problems


def _delayed(op: Operation, elapsed: dict[str, float]) -> list[str]:
    """A time-based probe answered ``DELAY_MS`` later than the median of the operation's other probes."""
    others = sorted(ms for probe, ms in elapsed.items() if probe not in TIME_BASED)
    if not others:
        return []
    median = others[len(others) // 2]
    return [
        f"{op.operation_id} 路径参数 {probe!r}: 耗时 {elapsed[probe]:.0f} ms，比同一操作其他探测的中位数 {median:.0f} ms "
        f"慢 {elapsed[probe] - median:.0f} ms（基于时间的注入？）/ the time-based probe answered "
        f"{elapsed[probe] - median:.0f} ms later than the others: time-based injection?"
        for probe in TIME_BASED
        if probe in elapsed and elapsed[probe] - median >= DELAY_MS
    ]


def _still_healthy(client: TargetClient, ops: list[Operation]) -> list[str]:
    problems = healthy(client)
    probe = next((op for op in secured(ops) if op.method == "get"), None)
    if probe is not None:
        r = call(client, probe)
        if r.status is None or r.status >= 500:
            problems.append(f"之后 {probe.operation_id} 返回 {r.status} / target unhealthy afterwards")
    return problems


def _body_schema(op: Operation) -> dict[str, Any]:
    """The request body schema's top-level object (through refs and allOf)."""
    if op.body_uri is None:
        return {}
    resolved = registry().resolver().lookup(op.body_uri)
    node: Any = resolved.contents
    props: dict[str, Any] = {}
    stack = [(node, resolved.resolver)]
    while stack:
        cur, resolver = stack.pop()
        if not isinstance(cur, dict):
            continue
        if "$ref" in cur:
            sub = resolver.lookup(cur["$ref"])
            stack.append((sub.contents, sub.resolver))
        for part in cur.get("allOf") or ():
            stack.append((part, resolver))
        for name, sub in (cur.get("properties") or {}).items():
            if isinstance(sub, dict) and "$ref" in sub and "type" not in sub:
                target = resolver.lookup(sub["$ref"]).contents
                props.setdefault(name, target if isinstance(target, dict) else {})
            else:
                props.setdefault(name, sub if isinstance(sub, dict) else {})
    return props


def _wrong(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "string" or "pattern" in schema or "format" in schema or "enum" in schema or "const" in schema:
        return 12345
    if kind in ("integer", "number", "boolean"):
        return "不是数字"
    if kind == "array":
        return {"not": "an array"}
    return ["不是对象"]


@pytest.mark.clause("PROFILE.STATUS.6")
def test_sql_injection_in_path_parameters_is_refused(role_ops: list[Operation], tzsb_client) -> None:
    """路径参数为 SQL 注入字符串（' OR '1'='1、堆叠查询、UNION、注释、SLEEP）：400 或 404 错误信封，不返回数据，
    不 5xx，不泄露内部信息，不因注入而变慢；之后目标仍健康。

    前置条件：目标文件有 [credentials]（持有被测角色的权限范围）；被测角色的契约有带路径参数的受保护操作（没有时本项
    未测）。
    测试步骤：
    1. 选出被测角色全部带路径参数的受保护操作；
    2. 对每个操作，以六个 SQL 注入字符串（重言式、堆叠查询、UNION、注释、SLEEP 等）依次填充其全部路径参数并调用
    （有请求体的以 {} 为请求体）；
    3. 请求健康状态接口，并调用第一个受保护读操作。
    预期结果：步骤 2 每次返回 400 或 404 错误信封，不泄露堆栈、SQL 或内部地址；SLEEP 探测的应答不比同一操作其他探测耗时的中位数晚 4 秒以上（基于时间的注入；相对比较，慢的目标不被误判）；步骤 3 之后健康状态接口返回 200 且状态不是 down，第一个受保护读操作不返回 5xx。
    """
    client = tzsb_client()
    ops = [op for op in secured(role_ops) if "{" in op.path]
    if not ops:
        vacuous("该角色的契约中没有带路径参数的操作 / no path parameters in the contract")
    problems: list[str] = []
    for op in ops:
        names = [p.name for p in op.params if p.location == "path"]
        elapsed: dict[str, float] = {}
        for probe in SQL_INJECTION:
            r = call(client, op, path=concrete(op, dict.fromkeys(names, probe)))
            problems += _refused(r, f"{op.method.upper()} {op.operation_id} 路径参数 {probe!r}", allowed=(400, 404))
            if r.status is not None:
                elapsed[probe] = r.elapsed_ms
        problems += _delayed(op, elapsed)
    problems += _still_healthy(client, role_ops)
    assert not problems, "\n".join(problems)


@pytest.mark.clause("PROFILE.STATUS.6")
def test_sql_injection_in_query_parameters_is_harmless(role_ops: list[Operation], tzsb_client) -> None:
    """查询参数（过滤条件、分页、游标）为 SQL 注入字符串：400 错误信封，或 200 但不返回任何记录
    （注入不得扩大查询结果）；不 5xx，不泄露内部信息；之后目标仍健康。

    前置条件：目标文件有 [credentials]；被测角色的契约有带查询参数的受保护读操作（没有时本项未测）。
    测试步骤：
    1. 对每个受保护 GET 操作的每个查询参数，分别以两个 SQL 注入字符串（' OR '1'='1 与 UNION SELECT；整数参数用
    1 OR 1=1）作为该参数的值调用；
    2. 请求健康状态接口，并调用第一个受保护读操作。
    预期结果：步骤 1 每次或为 2xx 且不返回任何记录、不泄露内部信息，或为 4xx（非 401、403）错误信封，不泄露堆栈、SQL 或内部地址，
    不得 5xx；步骤 2 之后健康状态接口返回 200 且状态不是 down，第一个受保护读操作不返回 5xx。
    """
    client = tzsb_client()
    problems: list[str] = []
    tried = 0
    for op in secured(role_ops):
        if op.method != "get":
            continue
        for p in op.params:
            if p.location != "query":
                continue
            for probe in (SQL_INJECTION[0], SQL_INJECTION[4]):
                value = probe if param_type(op, p.name) != "integer" else "1 OR 1=1"
                r = call(client, op, params={p.name: value})
                tried += 1
                what = f"{op.operation_id} 查询参数 {p.name}={value!r}"
                if r.ok:
                    data = (r.json() or {}).get("data") if isinstance(r.json(), dict) else None
                    items = data.get("items") if isinstance(data, dict) else data
                    if items:
                        problems.append(f"{what}: 注入条件返回了 {len(items)} 条记录 / injection widened the result")
                    if leaks(r):
                        problems.append(f"{what}: 响应泄露内部信息 / leaks internals")
                else:
                    problems += _refused(r, what)
    if not tried:
        vacuous("该角色的契约中没有带查询参数的读操作 / no query parameters in the contract")
    problems += _still_healthy(client, role_ops)
    assert not problems, "\n".join(problems)


@pytest.mark.clause("PROFILE.STATUS.6")
def test_sql_injection_in_body_fields_is_refused(role_ops: list[Operation], tzsb_client) -> None:
    """请求体各字段均为 SQL 注入字符串：4xx 错误信封（不被受理），不 5xx，不泄露内部信息；之后目标仍健康。

    前置条件：目标文件有 [credentials]；被测角色的契约有带请求体的受保护操作（没有时本项未测）。
    测试步骤：
    1. 对每个带请求体的受保护操作，以契约请求体的全部顶层字段（没有时为字段 tzsb）都取同一 SQL 注入字符串构造请求体，
    分别以 ' OR '1'='1 与堆叠查询（DROP TABLE）调用；
    2. 请求健康状态接口，并调用第一个受保护读操作。
    预期结果：步骤 1 每次返回 4xx（非 401、403）错误信封，不泄露堆栈、SQL 或内部地址，不得 5xx；步骤 2 之后健康状态接口返回 200 且状态不是 down，第一个受保护读操作不返回 5xx。
    """
    client = tzsb_client()
    ops = [op for op in secured(role_ops) if op.body_uri is not None]
    if not ops:
        vacuous("该角色的契约中没有带请求体的操作 / no request bodies in the contract")
    problems: list[str] = []
    for op in ops:
        fields = list(_body_schema(op)) or ["tzsb"]
        for probe in (SQL_INJECTION[0], SQL_INJECTION[2]):
            r = call(client, op, json=dict.fromkeys(fields, probe))
            problems += _refused(r, f"{op.operation_id} 请求体字段 {probe!r}")
    problems += _still_healthy(client, role_ops)
    assert not problems, "\n".join(problems)


#: 1,000 levels of arrays and objects, alternating (the shape of one hostile record).
DEEP_1000 = b'[{"a":' * 500 + b"1" + b"}]" * 500

MALFORMED: tuple[tuple[str, bytes], ...] = (
    ("深层嵌套数组（5000 层）", b"[" * 5000 + b"]" * 5000),
    ("深层嵌套对象（2000 层）", b'{"a":' * 2000 + b"1" + b"}" * 2000),
    # within the 1,024 levels common parsers stop at: the parse succeeds, and what walks the value next (a validator,
    # a repr in an error message) recurses 1,000 levels deep. The contracts nest at most a few levels.
    ("字段中深层嵌套（1000 层，常见解析器上限之内）", b'{"messageId": "tzsb-deep", "tzsb": ' + DEEP_1000 + b"}"),
    ("非法 UTF-8 字节", b'{"messageId": "\xff\xfe\xfd", "name": "\xc3\x28"}'),
    ("孤立的代理项 \\ud800", b'{"messageId": "\\ud800\\udfff\\ud800", "name": "\\udc00"}'),
    ("字符串中的 NUL", b'{"messageId": "abc\\u0000def", "name": "\\u0000"}'),
    ("超大数值", b'{"messageId": 1e999999, "page": 123456789012345678901234567890123456789012345678901234567890}'),
    ("顶层为数组", b'[{"messageId": "x"}]'),
    ("顶层为字符串", b'"tzsb"'),
    ("空请求体", b""),
)


@pytest.mark.clause("PROFILE.STATUS.6", "PROFILE.ERROR.1")
def test_malformed_bodies_are_refused_with_400(role_ops: list[Operation], tzsb_client) -> None:
    """畸形请求体（深层嵌套、非法 UTF-8、孤立代理项、NUL、超大数值、顶层类型错误、空体；请求体解析为各操作共用，
    故在两个操作上检验）与字段类型错误（每个带请求体的操作）：400 错误信封（中文说明），类型错误时 errors 逐项给出
    JSON Pointer 字段路径；绝不 5xx；之后目标仍健康。

    前置条件：目标文件有 [credentials]；被测角色的契约有带请求体的受保护操作（没有时本项未测）。
    测试步骤：
    1. 在第一个带请求体的操作及另一个带路径参数的此类操作（如有）上，依次发送十种畸形请求体：5000 层嵌套数组、2000 层
    嵌套对象、字段中 1000 层嵌套、非法 UTF-8、孤立代理项、NUL、超大数值、顶层为数组、顶层为字符串、空请求体；
    2. 对每个带请求体的操作，把契约请求体的每个顶层字段换成类型错误的值后调用；
    3. 请求健康状态接口，并调用第一个受保护读操作。
    预期结果：步骤 1、2 每次返回 400 错误信封，不泄露堆栈、SQL 或内部地址；步骤 2 的 errors 各项的 path 为 JSON Pointer（空串或以 / 开头），
    至少一项指向所发送的字段；步骤 3 之后健康状态接口返回 200 且状态不是 down，第一个受保护读操作不返回 5xx。
    """
    client = tzsb_client()
    ops = [op for op in secured(role_ops) if op.body_uri is not None]
    if not ops:
        vacuous("该角色的契约中没有带请求体的操作 / no request bodies in the contract")
    problems: list[str] = []
    # the body parser is shared by the operations: every malformation on two of them (one with path
    # parameters when there is one), type errors (the per-operation validation) on all
    parsers = ops[:1] + [op for op in ops[1:] if "{" in op.path][:1]
    for op in parsers:
        for label, raw in MALFORMED:
            r = call(client, op, raw_body=raw, headers={"Content-Type": "application/json; charset=utf-8"})
            problems += _refused(r, f"{op.operation_id}（{label}）", allowed=(400,))
    for op in ops:
        schema = _body_schema(op)
        if schema:
            wrong = {name: _wrong(sub) for name, sub in schema.items()}
            r = call(client, op, json=wrong)
            what = f"{op.operation_id}（字段类型错误）"
            found = _refused(r, what, allowed=(400,))
            body = r.json() if r.status == 400 else None
            errors = body.get("errors") if isinstance(body, dict) else None
            paths = [e.get("path") for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
            if not found and not (
                paths
                and all(isinstance(p, str) and (p == "" or p.startswith("/")) for p in paths)
                and any(p.lstrip("/").split("/")[0] in wrong for p in paths)
            ):
                found.append(f"{what}: 400 未在 errors 中给出出错字段的 JSON Pointer 路径 / no field paths")
            problems += found
    problems += _still_healthy(client, role_ops)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------ the token endpoint

#: Non-ASCII text as it goes on the wire in a header: its UTF-8 bytes (HTTP carries octets; a str header value is
#: sent as Latin-1, so the UTF-8 bytes are written as the Latin-1 characters of the same octets).
NON_ASCII = "签名密钥é"
NON_ASCII_WIRE = NON_ASCII.encode("utf-8").decode("latin-1")
#: The optional signature headers of common.yaml, each with a non-ASCII value.
NON_ASCII_SIGNATURE = dict.fromkeys(("X-Timestamp", "X-Nonce", "X-Signature-Method", "X-Signature"), NON_ASCII_WIRE)


def _token_op(ops: list[Operation]) -> Operation:
    op = next((o for o in ops if o.operation_id == "issueToken"), None)
    if op is None:
        vacuous("该角色的契约中没有令牌端点 / no token endpoint in the contract")
    return op


def _token_answer(op: Operation, r: TargetResponse, what: str, *, may_issue: bool = False) -> list[str]:
    """A refusal of the token endpoint: 4xx in the body the contract gives that status (RFC 6749 error or the error
    envelope), never 5xx, never a token (unless ``may_issue``: the credentials were right), no internals leaked."""
    if r.status is None:
        return [f"{what}: 无响应（{r.error}）/ no response"]
    body = r.json()
    problems: list[str] = []
    if r.status >= 500:
        problems.append(f"{what}: 返回 {r.status}，畸形输入不得导致服务端错误 / server error on bad input")
    elif r.status < 400 and not may_issue:
        problems.append(f"{what}: 返回 {r.status}，应以 4xx 拒绝 / expected a client error")
    if isinstance(body, dict) and body.get("access_token") and not may_issue:
        problems.append(f"{what}: 签发了访问令牌 / a token was issued")
    if r.status >= 400:
        uri = (op.responses.get(str(r.status)) or {}).get("application/json")
        fits = (
            validator_at(uri).is_valid(body)
            if uri
            else any(validator(name).is_valid(body) for name in ("error", "security#/$defs/tokenError"))
        )
        if not fits:
            problems.append(
                f"{what}: {r.status} 的响应体不符合契约（RFC 6749 错误或错误信封）/ the {r.status} body is not the "
                "contract's error body"
            )
    leak = leaks(r)
    if leak:
        problems.append(f"{what}: 响应泄露内部信息“{leak[:80]}” / response leaks internals")
    return problems


@pytest.mark.clause("PROFILE.STATUS.6", "PROFILE.TOKEN.1")
def test_the_token_endpoint_refuses_hostile_input_without_5xx(role_ops: list[Operation], tzsb_client) -> None:
    """令牌端点（无需登录）：有效的客户端标识配非 ASCII 密钥（表单与 JSON）、非 ASCII 的签名请求头、嵌套 1000 层的
    JSON（在 client_secret 或 scope 中）：4xx，响应体为契约给该状态的错误体（RFC 6749 错误或错误信封），不签发令牌，
    绝不 5xx，不泄露内部信息；凭证正确而带非 ASCII 签名头的请求也不得 5xx（令牌端点未声明这些头，可签发令牌）；
    之后目标仍健康。

    前置条件：目标文件有 [credentials]（客户端标识与密钥）；被测角色的契约有令牌端点 issueToken（没有时本项未测）。
    测试步骤：
    1. 不带令牌向令牌端点发送六个请求：非 ASCII 密钥（表单、JSON）、非 ASCII 密钥加非 ASCII 签名请求头、凭证正确加
    非 ASCII 签名请求头、client_secret 为 1000 层嵌套 JSON、凭证正确而 scope 为 1000 层嵌套 JSON；
    2. 请求健康状态接口。
    预期结果：步骤 1 每次不返回 5xx、不泄露内部信息；除“凭证正确、非 ASCII 签名头”外均返回 4xx 且不签发令牌；4xx 的
    响应体符合契约为该状态给出的错误体（RFC 6749 错误或错误信封）；步骤 2 返回 200 且状态不是 down。
    """
    client = tzsb_client()
    op = _token_op(role_ops)
    client_id, secret = client.client_id or "tzsb", client.client_secret or ""
    grant = {"grant_type": "client_credentials", "client_id": client_id}
    deep = DEEP_1000.decode()
    probes: list[tuple[str, dict[str, Any], bool]] = [
        ("非 ASCII 密钥（表单）", {"data": {**grant, "client_secret": NON_ASCII}}, False),
        ("非 ASCII 密钥（JSON）", {"json": {**grant, "client_secret": NON_ASCII}}, False),
        (
            "非 ASCII 密钥与非 ASCII 签名头",
            {"data": {**grant, "client_secret": NON_ASCII}, "headers": NON_ASCII_SIGNATURE},
            False,
        ),
        (
            "凭证正确、非 ASCII 签名头",
            {"data": {**grant, "client_secret": secret}, "headers": NON_ASCII_SIGNATURE},
            True,
        ),
        (
            "client_secret 嵌套 1000 层",
            {
                "raw": f'{{"grant_type": "client_credentials", "client_id": {orjson.dumps(client_id).decode()}, '
                f'"client_secret": {deep}}}'
            },
            False,
        ),
        (
            "凭证正确、scope 嵌套 1000 层",
            {"raw": orjson.dumps({**grant, "client_secret": secret}).decode()[:-1] + f', "scope": {deep}}}'},
            False,
        ),
    ]
    problems: list[str] = []
    for label, spec, may_issue in probes:
        headers = dict(spec.get("headers") or {})
        if "raw" in spec:
            headers["Content-Type"] = "application/json"
            r = client.request("POST", op.path, raw_body=spec["raw"].encode(), headers=headers, auth=False)
        else:
            r = client.request(
                "POST", op.path, json=spec.get("json"), data=spec.get("data"), headers=headers, auth=False
            )
        problems += _token_answer(op, r, f"{op.operation_id}（{label}）", may_issue=may_issue)
    problems += healthy(client)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------ forged Host

#: A host no resolver knows (RFC 6761 ``.invalid``): the forged ``Host`` and ``X-Forwarded-Host`` of the probes.
FORGED_HOST = "tzsb-forged-host.invalid"
#: A URL (absolute, or scheme-relative ``//host``) whose authority is the forged host.
FORGED_URL = re.compile(r"//(?:[^/?#@\s\"'<>]*@)?" + re.escape(FORGED_HOST) + r"(?![\w.-])", re.IGNORECASE)
#: The forgeries: the Host header itself, and the headers a proxy in front of the target would set.
FORGERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("伪造的 Host", {"Host": FORGED_HOST}),
    (
        "伪造的 X-Forwarded-Host / Forwarded",
        {"X-Forwarded-Host": FORGED_HOST, "X-Forwarded-Proto": "https", "Forwarded": f"host={FORGED_HOST};proto=https"},
    ),
)


def _declares_location(op: Operation) -> bool:
    """The contract gives a 2xx answer of ``op`` a ``Location`` header (the operation creates a resource)."""
    for status, resp in (op.raw.get("responses") or {}).items():
        resolved, _ = _deref(resp, op.doc)
        if str(status).startswith("2") and "Location" in (resolved.get("headers") or {}):
            return True
    return False


def _creation_body(op: Operation) -> Any:
    """A valid request body for ``op`` made from the contract's valid fixtures: one cut to the body's properties,
    its constants set, with a new message id and a callback address no resolver knows (each call a new resource).
    None when no fixture makes one."""
    props = _body_schema(op)
    names, consts = set(props), {k: sub["const"] for k, sub in props.items() if "const" in sub}
    v = validator_at(op.body_uri or "")
    tag = secrets.token_hex(6)
    for fixture in valid_fixtures():
        if not isinstance(fixture, dict) or not names & set(fixture):
            continue
        body = {k: copy.deepcopy(val) for k, val in fixture.items() if k in names} | consts
        if "messageId" in body:
            body["messageId"] = f"tzsb-host-{tag}"
        if "callbackUrl" in body:
            body["callbackUrl"] = f"https://tzsb-callback.invalid/host-probe/{tag}"
        if v.is_valid(body):
            return body
    return None


def _declared_samples(op: Operation, target: Target) -> dict[str, str] | None:
    """Values for every path parameter of ``op`` from the samples the target file declares (``[thresholds]``
    ``report_numbers`` …); None when one is missing."""
    samples = threshold_samples(target)
    names = [p.name for p in op.params if p.location == "path"]
    if not all(samples.get(name) for name in names):
        return None
    return {name: samples[name][0] for name in names}


def _exact(
    client: TargetClient, op: Operation, headers: dict[str, str], body: Any = None, values: dict[str, str] | None = None
) -> TargetResponse:
    """One request of ``op`` exactly as given (no redirect followed: a redirect to the forged host is the finding),
    recorded as evidence."""
    hdrs = {**headers, "Authorization": f"Bearer {client.token()}"}
    raw = orjson.dumps(body) if body is not None else None
    if raw is not None:
        hdrs["Content-Type"] = "application/json"
    r, exchange = request_once(
        client.session,
        op.method.upper(),
        client.base_url + concrete(op, values),
        headers=hdrs,
        body=raw,
        timeout=client.timeout,
        verify=client.ca_file or True,
        max_bytes=client.max_bytes,
    )
    client.evidence.add(exchange)
    return r


def _forged_urls(r: TargetResponse) -> list[str]:
    """Where the answer points at the forged host: headers (Location …) and the body."""
    found = [f"{k}: {v[:200]}" for k, v in r.headers.items() if FORGED_URL.search(v)]
    text = r.content[:1_000_000].decode("utf-8", errors="replace")
    m = FORGED_URL.search(text)
    if m:
        found.append(f"响应体 / body: …{text[max(0, m.start() - 80) : m.end() + 80]}…")
    return found


@pytest.mark.clause("PROFILE.STATUS.6")
def test_a_forged_host_header_never_reaches_a_url_in_the_answer(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """请求头 Host 被伪造（或带伪造的 X-Forwarded-Host / Forwarded）时，应答的 Location（及任何响应头）与响应体中的
    绝对地址不得指向伪造的主机：目标以配置的对外地址（或相对地址）构造地址，不取自请求。在契约声明带 Location 的
    新建操作（没有时为应答 201 的操作；以契约的有效样例为请求体；quick 档只试第一个）与无路径参数的读操作上检验；
    不跟随重定向（重定向到伪造主机同样不合格）。

    前置条件：目标文件有 [credentials]；被测角色的契约有可用契约有效样例构造请求体的新建操作、无路径参数的读操作，或
    目标文件 [thresholds] 声明了样例值的带路径参数读操作（都没有时本项未测）；所有探测都得不到 2xx 应答时本项未测。
    测试步骤：
    1. 选出新建操作（每次以契约有效样例新构造请求体，有消息标识与回调地址时换新）与读操作；
    2. 以伪造的 Host（tzsb-forged-host.invalid）逐一调用，不跟随重定向；
    3. 以伪造的 X-Forwarded-Host、X-Forwarded-Proto 与 Forwarded 再逐一调用；
    4. 请求健康状态接口，并调用第一个受保护读操作。
    预期结果：步骤 2、3 的任何响应头（含 Location）与响应体中都没有指向伪造主机的地址；步骤 4 之后健康状态接口返回 200 且状态不是 down，第一个受保护读操作不返回 5xx。
    """
    client = tzsb_client()
    ops = secured(role_ops)
    # the operations the contract says answer with a Location; without any, those that answer 201 (a creation)
    located = [op for op in ops if _declares_location(op)] or [op for op in ops if "201" in op.responses]
    creations = [(op, body) for op in located for body in [_creation_body(op)] if body is not None]
    if tzsb_target.profile == "quick":
        creations = creations[:1]
    reads: list[tuple[Operation, dict[str, str] | None]] = [
        (op, None) for op in ops if op.method == "get" and "{" not in op.path
    ]
    # reads of one object, by the sample values the target file declares (a report number …)
    reads += [
        (op, v)
        for op in ops
        if op.method == "get" and "{" in op.path
        for v in [_declared_samples(op, tzsb_target)]
        if v
    ]
    if not creations and not reads:
        vacuous("该角色的契约中没有可伪造 Host 检验的新建或读操作 / nothing to probe with a forged Host")
    problems: list[str] = []
    answered = False  # a 2xx answer was seen: something that could carry the forged host was observed
    for label, forged in FORGERIES:
        for op, body in creations:
            fresh = _creation_body(op)  # a new resource for each forgery (an existing one may be answered 200)
            r = _exact(client, op, forged, fresh if fresh is not None else body)
            answered = answered or r.ok
            problems += [f"{op.operation_id}（{label}，{r.status}）: {where}" for where in _forged_urls(r)]
        for op, values in reads:
            r = _exact(client, op, forged, values=values)
            answered = answered or r.ok
            problems += [f"{op.operation_id}（{label}，{r.status}）: {where}" for where in _forged_urls(r)]
    problems += _still_healthy(client, role_ops)
    if not problems and not answered:
        untested(
            "伪造 Host 的请求没有一个得到 2xx 应答，无从观察应答中的地址 / no probe with a forged Host was answered 2xx: "
            "nothing that could carry the host was observed",
            provide="在目标中准备可新建的数据（契约样例所引用的对象）/ seed the objects the contract's examples refer to",
        )
    assert not problems, "应答中的地址指向伪造的主机 / the answer points at the forged host:\n" + "\n".join(problems)


# ------------------------------------------------------------------------------------------ signature headers


def _violations(uri: str) -> list[tuple[str, str]]:
    """``(label, value)`` pairs the contract's schema of a header refuses (decided by the contract, as the server
    receives the value: its octets as Latin-1 characters)."""
    v = validator_at(uri)
    candidates = [("非 ASCII", NON_ASCII_WIRE), ("含空格与标点", "tzsb not valid!"), ("过短", "x")]
    return [(label, value) for label, value in candidates if not v.is_valid(value)]


@pytest.mark.clause("PROFILE.ERROR.1", "PROFILE.STATUS.6")
def test_malformed_signature_headers_are_refused(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """契约给受保护操作声明的可选签名请求头（X-Timestamp、X-Nonce、X-Signature、X-Signature-Method）只要出现，
    就须符合契约的格式，不论调用方是否签名：格式不符（非 ASCII、含空格、过短）的每个头各发一次，400 错误信封
    （BAD_REQUEST / VALIDATION_FAILED；目标声明了请求签名时也可为 401 SIGNATURE_INVALID），绝不受理、绝不 5xx；
    之后目标仍健康。

    前置条件：目标文件有 [credentials]；被测角色有受保护操作（优先无路径参数的 GET），且契约给它声明了请求头参数
    （没有时本项未测）。
    测试步骤：
    1. 选出上述受保护操作及其在契约中声明的签名请求头；
    2. 对每个请求头，以契约格式不允许的值（非 ASCII、含空格与标点、过短中不合格者）各带令牌调用一次该操作；
    3. 请求健康状态接口，并调用第一个受保护读操作。
    预期结果：步骤 2 每次不返回 5xx，返回 400 错误信封（错误代码 BAD_REQUEST 或 VALIDATION_FAILED），目标声明了
    request-signature 特性时也可为 401 错误信封（SIGNATURE_INVALID），均不带业务数据、不泄露内部信息；步骤 3 之后健康状态接口返回 200 且状态不是 down，第一个受保护读操作不返回 5xx。
    """
    client = tzsb_client()
    op = probe_op(role_ops)
    headers = [p for p in op.params if p.location == "header"]
    if not headers:
        vacuous(f"契约未给 {op.operation_id} 声明签名请求头 / the contract declares no signature headers here")
    signing = "request-signature" in tzsb_target.features
    problems: list[str] = []
    for p in headers:
        for label, value in _violations(p.schema_uri):
            r = client.request(op.method.upper(), concrete(op), headers={p.name: value})
            what = f"{op.operation_id} {p.name}（{label}）"
            if r.status is not None and r.status >= 500:
                problems.append(f"{what}: 返回 {r.status}，格式错误的请求头不得导致服务端错误 / server error")
            elif signing and r.status == 401:
                problems += check_error(r, 401, what, codes=(ErrorCode.SIGNATURE_INVALID,))
            else:
                problems += check_error(r, 400, what, codes=(ErrorCode.BAD_REQUEST, ErrorCode.VALIDATION_FAILED))
            leak = leaks(r)
            if leak:
                problems.append(f"{what}: 响应泄露内部信息“{leak[:80]}” / response leaks internals")
    problems += _still_healthy(client, role_ops)
    assert not problems, "\n".join(problems)
