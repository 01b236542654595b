"""安全套件（三）：恶意与畸形输入（各角色）。

SQL 注入字符串（路径参数、查询参数、请求体字段），深层嵌套的 JSON、非法 UTF-8、孤立代理项、NUL、超大数值、
类型错误的字段：目标须以 4xx 错误信封拒绝，绝不 5xx，错误信息不泄露堆栈、SQL 或内部地址
（PROFILE.STATUS.6），请求体校验失败为 400 并列出字段路径（PROFILE.ERROR.1）；每个测试之后目标仍健康。

只用测试凭证（[credentials]，持有被测角色全部权限范围），不需要其他身份。
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import TargetClient, TargetResponse
from conformance.openapi_index import Operation
from conformance.schema_registry import registry
from conformance.skips import vacuous
from conformance.suites.test_security_support import (
    SQL_INJECTION,
    call,
    concrete,
    healthy,
    leaks,
    param_type,
    secured,
)
from conformance.validation import validator

#: A response slower than this to an injection probe hints at time-based injection (the probes ask for 5 s).
TIME_LIMIT_MS = 4500.0


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
    if r.elapsed_ms > TIME_LIMIT_MS:
        problems.append(f"{what}: 耗时 {r.elapsed_ms:.0f} ms（基于时间的注入？）/ suspiciously slow")
    return problems


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
    不 5xx，不泄露内部信息，不因注入而变慢；之后目标仍健康。"""
    client = tzsb_client()
    ops = [op for op in secured(role_ops) if "{" in op.path]
    if not ops:
        vacuous("该角色的契约中没有带路径参数的操作 / no path parameters in the contract")
    problems: list[str] = []
    for op in ops:
        names = [p.name for p in op.params if p.location == "path"]
        for probe in SQL_INJECTION:
            r = call(client, op, path=concrete(op, dict.fromkeys(names, probe)))
            problems += _refused(r, f"{op.method.upper()} {op.operation_id} 路径参数 {probe!r}", allowed=(400, 404))
    problems += _still_healthy(client, role_ops)
    assert not problems, "\n".join(problems)


@pytest.mark.clause("PROFILE.STATUS.6")
def test_sql_injection_in_query_parameters_is_harmless(role_ops: list[Operation], tzsb_client) -> None:
    """查询参数（过滤条件、分页、游标）为 SQL 注入字符串：400 错误信封，或 200 但不返回任何记录
    （注入不得扩大查询结果）；不 5xx，不泄露内部信息；之后目标仍健康。"""
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
    """请求体各字段均为 SQL 注入字符串：4xx 错误信封（不被受理），不 5xx，不泄露内部信息；之后目标仍健康。"""
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


MALFORMED: tuple[tuple[str, bytes], ...] = (
    ("深层嵌套数组（5000 层）", b"[" * 5000 + b"]" * 5000),
    ("深层嵌套对象（2000 层）", b'{"a":' * 2000 + b"1" + b"}" * 2000),
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
    JSON Pointer 字段路径；绝不 5xx；之后目标仍健康。"""
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
