"""共享平台开放数据（可选特性 ``open-data``）：开放数据便于获取与分析并附数据说明；开放数据的使用可追踪。

GB/T 34990 式测试项：文档字符串为测试目的（中文在前、英文在后），代码为测试步骤，断言为预期结果。
开放接口取自契约（权限范围为 ``…:open`` 的读取操作）。“数据说明”：接口目录为每个开放接口标明数据集，数据集的记录
模式（契约 ``x-data-sets`` 所指的 JSON Schema，字段名称、中文含义、类型与代码表）即其说明，开放数据中的每个字段都须
在说明中、取值符合说明。使用追踪经审计查询接口核对：每次下载都有审计记录（获取方、时间、接口与所取数据集、
结果、请求标识）；审计记录结构（auditEntry）没有“条数”一项，条数无法经接口核对。
开放数据客户端取目标文件的 ``[clients.open-data]``（没有时用测试凭证），审计员取 ``[clients.auditor]``；
``[thresholds] audit_wait_s``（默认 5 秒）为等待审计记录出现的上限。

Open data (optional feature ``open-data``): IPQS.OPEN.FORM.1 (machine-readable, retrievable page by
page, every field described by the data description the catalogue points to) and IPQS.OPEN.SEC.2
(every download traced in the audit log: who, when, which operation and data set, outcome, request id).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from conformance.check.schema import validator, validator_at
from conformance.client import TargetClient
from conformance.contract.datasets import data_sets, param_limit
from conformance.contract.openapi import Operation, role_operations
from conformance.harness.target import Target
from conformance.report.skips import vacuous
from conformance.suites.support.reporting import operation
from conformance.suites.support.security import iso, request_id, scopes_of, server_offset
from conformance.suites.support.sharing import ROLE, expect, explain, instant, snippet

pytestmark = [pytest.mark.role(ROLE), pytest.mark.feature("open-data")]


def _ops() -> list[Operation]:
    ops = [
        op
        for op in role_operations(ROLE)
        if op.method == "get" and op.data_set and "{" not in op.path and any(s.endswith(":open") for s in scopes_of(op))
    ]
    if not ops:
        vacuous("契约中没有开放数据接口 / no open-data operation in the contract")
    return ops


@pytest.fixture
def opener(tzsb_client: Any, tzsb_target: Target) -> TargetClient:
    """The open-data client of the target file, else the harness credentials."""
    return tzsb_client(client="open-data") if tzsb_target.client("open-data") else tzsb_client()


def _page(client: TargetClient, op: Operation, page: int, **kw: Any) -> Any:
    size = param_limit(op, "size") or 100
    r = client.get(op.path, params={"page": page, "size": size}, **kw)
    if r.status == 403:
        pytest.skip(f"未测：开放数据客户端无权调用 {op.operation_id}（403） / the open-data client may not call it")
    return r


@pytest.mark.clause("IPQS.OPEN.FORM.1")
def test_open_data_is_machine_readable_and_described(opener: TargetClient, tzsb_client: Any) -> None:
    """开放数据便于获取与分析：接口目录为每个开放接口标明其数据集（即数据说明所在）；开放数据为 UTF-8 编码的 JSON、符合契约的响应结构，可逐页取全（总条数一致、记录不重复）；每条记录的每个字段都在数据说明（数据集的记录模式）中，取值符合说明中的类型与代码表。

    前置条件：目标提供可选特性 open-data；契约中有开放数据接口（权限范围为 …:open、无路径参数的读取操作，没有时本项未测）；目标文件有 [clients.open-data]（开放数据客户端，缺少时用测试凭证），接口目录以测试凭证查询；开放数据客户端无权调用开放接口（403）或全部开放接口都没有返回记录时本项未测。
    测试步骤：
    1. 以测试凭证查询接口目录（getCatalogue）；
    2. 对每个开放接口，以开放数据客户端逐页读取（page 为 1 至 3，size 取契约上限，没有时 100），取全或遇空页即止；
    3. 将读到的每条记录的字段与该接口数据集的记录模式（数据说明）比对，按数据集主键核对记录是否重复。
    预期结果：步骤 1 返回 200，每个开放接口都在目录中、方法与路径一致，标明的数据集为契约所指的数据集；步骤 2 每页返回 200，Content-Type 为 application/json（带 charset 时为 UTF-8），正文为 UTF-8 编码的 JSON、符合契约的响应结构、有记录列表 items，各页总条数 total 一致；步骤 3 每条记录为 JSON 对象，字段都在数据说明中，记录在各页间不重复。

    Open data is UTF-8 JSON, retrievable page by page, and every field is described (name, meaning, type, code list)
    by the data description the catalogue names.
    """
    ops = _ops()
    catalogue = expect(tzsb_client().get(operation(ROLE, "getCatalogue").path), 200, "查询接口目录 / catalogue")
    listed = {e.get("operationId"): e for e in catalogue if isinstance(e, dict)}
    problems: list[str] = []
    empty: list[str] = []
    for op in ops:
        entry = listed.get(op.operation_id)
        if entry is None or (entry.get("method"), entry.get("path")) != (op.method.upper(), op.path):
            problems.append(f"{op.operation_id}: 接口目录未列出该开放接口（或方法、路径不符） / not in the catalogue")
        elif entry.get("dataSet") != op.data_set:
            problems.append(
                f"{op.operation_id}: 接口目录标明的数据集为 {entry.get('dataSet')}，应为 {op.data_set}（数据说明无从查找）"
            )
        ds = data_sets()[str(op.data_set)]
        described = set(ds.properties)
        schema = op.responses.get("200", {}).get("application/json")
        v = validator_at(schema) if schema else None
        seen: set[Any] = set()
        undescribed: set[str] = set()
        total: int | None = None
        for page in (1, 2, 3):
            r = _page(opener, op, page)
            ctype = (r.header("content-type") or "").lower()
            if r.status != 200:
                problems.append(f"{op.operation_id} 第 {page} 页: HTTP {r.status}：{snippet(r, 200)}")
                break
            if not ctype.startswith("application/json") or ("charset=" in ctype and "utf-8" not in ctype):
                problems.append(
                    f"{op.operation_id}: Content-Type 为 {ctype or '（无）'}，不是 UTF-8 的 application/json"
                )
            try:
                body = orjson.loads(r.content.decode("utf-8"))
            except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
                problems.append(f"{op.operation_id} 第 {page} 页: 不是 UTF-8 编码的 JSON（{exc}）")
                break
            if v is not None and not v.is_valid(body):
                problems.append(f"{op.operation_id} 第 {page} 页: 不符合契约的响应结构：{explain(v, body)}")
            data = body.get("data") if isinstance(body, dict) else None
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                problems.append(f"{op.operation_id} 第 {page} 页: 没有记录列表 items")
                break
            if total is not None and data.get("total") != total:
                problems.append(
                    f"{op.operation_id} 第 {page} 页: 总条数 {data.get('total')} 与第 1 页的 {total} 不一致"
                )
            total = data.get("total")
            for rec in items:
                if not isinstance(rec, dict):
                    problems.append(f"{op.operation_id}: 记录不是 JSON 对象 / a record is not an object")
                    continue
                undescribed |= set(rec) - described
                key = rec.get(ds.key)
                if key in seen:
                    problems.append(f"{op.operation_id}: 记录 {key} 在分页中重复出现 / a record repeats across pages")
                seen.add(key)
            if not items or len(seen) >= (total or 0):
                break
        if undescribed:
            problems.append(
                f"{op.operation_id}: 字段 {sorted(undescribed)[:5]} 不在数据说明（{ds.schema} 记录模式）中 / "
                "undescribed fields"
            )
        if not seen:
            empty.append(op.operation_id)
    assert not problems, (
        "\n".join(dict.fromkeys(problems)) + " / open data is not machine-readable with a data description"
    )
    if len(empty) == len(ops):
        pytest.skip(
            f"未测：开放接口 {', '.join(empty)} 没有返回记录，无法检验开放数据的形式 / no open records to inspect"
        )


@pytest.mark.clause("IPQS.OPEN.SEC.2")
def test_open_data_downloads_are_traced(opener: TargetClient, tzsb_client: Any, tzsb_target: Target) -> None:
    """开放数据使用可追踪：开放数据客户端每下载一页（请求带唯一请求标识），审计查询接口都能查到对应记录：获取方为该客户端，时间在下载前后，操作为该开放接口、对象指明所取的数据（接口路径），结果为成功。

    前置条件：目标提供可选特性 open-data；契约中有开放数据接口与审计查询接口（权限范围 audit:read 的读取操作，没有时本项未测）；目标文件有 [clients.open-data]（缺少时用测试凭证）与 [clients.auditor]（缺少时用测试凭证；审计查询返回 403 时本项未测），[thresholds] audit_wait_s（默认 5 秒）为等待审计记录出现的上限；开放数据客户端无权调用开放接口（403）时本项未测。
    测试步骤：
    1. 由健康检查接口（/health）的时间求服务器时钟偏差，以服务器时间前 2 秒为开始时间；
    2. 开放数据客户端对每个开放接口下载第 1 页，每次带新的请求标识（X-Request-Id）；
    3. 审计员以 from=开始时间逐页查询审计记录（最多 20 页），直至查到全部请求标识或超过 audit_wait_s；
    4. 按请求标识核对每次下载的审计记录。
    预期结果：步骤 2 每次返回 200；步骤 3 返回 200；步骤 4 每次下载都有审计记录，符合 auditEntry 结构，clientId 为开放数据客户端，
    time 在开始时间与核对时（服务器时间后 2 秒）之间，action 为该开放接口的 operationId 或 resource 含接口路径，outcome 为 success。

    Every open-data download is in the audit log: the open-data client, the time, the operation and path, success.
    """
    ops = _ops()
    audit = next((op for op in role_operations(ROLE) if op.method == "get" and "audit:read" in scopes_of(op)), None)
    if audit is None:
        pytest.skip("未测：契约中没有审计查询接口 / no audit query")
    auditor = tzsb_client(client="auditor") if tzsb_target.client("auditor") else tzsb_client()
    offset = server_offset(tzsb_client())
    start = iso(time.time() + offset - 2)
    calls: list[tuple[str, Operation]] = []
    for op in ops:
        rid = request_id("open")
        r = _page(opener, op, 1, headers={"X-Request-Id": rid})
        assert r.status == 200, f"{op.operation_id}: 开放数据下载返回 {r.status}：{snippet(r, 200)}"
        calls.append((rid, op))
    deadline = time.monotonic() + float(tzsb_target.thresholds.get("audit_wait_s", 5))
    entries: dict[str, dict[str, Any]] = {}
    size = param_limit(audit, "size") or 100
    while True:
        for page in range(1, 21):
            r = auditor.get(audit.path, params={"from": start, "page": page, "size": size})
            if r.status == 403:
                pytest.skip("未测：目标文件未提供审计员客户端 [clients.auditor]（audit:read） / no auditor client")
            data = expect(r, 200, "审计查询 / audit query")
            for e in data.get("items") or []:
                if isinstance(e, dict) and e.get("requestId"):
                    entries[str(e["requestId"])] = e
            if len(data.get("items") or []) < size:
                break
        if all(rid in entries for rid, _ in calls) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    v = validator("sharing#/$defs/auditEntry")
    problems: list[str] = []
    until = iso(time.time() + offset + 2)
    for rid, op in calls:
        e = entries.get(rid)
        what = f"{op.operation_id}（请求标识 {rid}）"
        if e is None:
            problems.append(f"{what}: 审计记录中没有这次开放数据下载 / no audit entry")
            continue
        if not v.is_valid(e):
            problems.append(f"{what}: 审计记录不符合 auditEntry 结构：{explain(v, e)}")
        if e.get("clientId") != opener.client_id:
            problems.append(f"{what}: 审计记录的获取方为 {e.get('clientId')}，应为 {opener.client_id}")
        if not _within(str(e.get("time", "")), start, until):
            problems.append(f"{what}: 审计记录的时间 {e.get('time')} 不在下载前后（{start} – {until}）")
        if e.get("action") != op.operation_id and op.path not in str(e.get("resource", "")):
            problems.append(
                f"{what}: 审计记录的操作 {e.get('action')!r}、对象 {e.get('resource')!r} 未指明所取的开放数据"
            )
        if e.get("outcome") != "success":
            problems.append(f"{what}: 审计记录的结果为 {e.get('outcome')}，应为 success")
    assert not problems, "\n".join(problems) + " / open-data use is not traced"


def _within(value: str, start: str, until: str) -> bool:
    try:
        return instant(start) <= instant(value) <= instant(until)
    except ValueError:
        return False
