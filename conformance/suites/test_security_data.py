"""安全套件（四）：敏感数据、审计与调用方层级。

* 脱敏（共享平台）：开放接口（可选特性 ``open-data``）与未获授权的普通读取中，公民身份号码与手机号码为
  脱敏形式（身份号码保留前 6 位与后 4 位，手机号码隐去中间 4 位；字段由记录 JSON Schema 的 ``x-sensitive``
  标记给出）；数据所属主体授权之后被授权方看到原文，授权到期后恢复脱敏（工业产品质量安全监管数据规范体系
  “授权查询共享”）。数据所属主体取记录中的统一社会信用代码字段（``uscc`` 或 ``…Uscc``）——契约未指明
  哪个字段是数据所属主体，按此推定。
* 审计（有审计查询接口 ``queryAudit`` 的角色）：对共享数据（已归档卷宗）的访问与被拒绝的访问都有审计记录，
  记录按 ``seq`` 连续，``prevHash`` 等于前一条的 ``hash``，第一条的 ``prevHash`` 为 64 个 0（sharing.yaml
  queryAudit 的约定）；经接口修改、删除审计记录被拒绝（403/405）。契约未规定 ``hash`` 的计算方法，故只检验
  链接关系，不重算摘要。
* 缩略图（政务服务平台，可选特性 ``thumbnail``）：表5 序号16 只向省厅单位提供，市级调用方 403。

目标文件须提供的身份：``[clients.reader]``（只读客户端：若干数据集的读权限，未获任何数据所属主体授权）、
``[clients.open-data]``（开放数据客户端）、``[clients.auditor]``（审计员，持有 audit:read）、
``[clients.city-caller]``（地市级调用方，持有缩略图接口的权限范围）与 ``[clients.province-caller]``（省级调用方，
对照）；[credentials] 须持有授权登记（sharing:grant）的权限范围。缺少时相应测试未测。

阈值（``[thresholds]``，可省略）：``grant_validity_s``（测试授权的有效期，默认 4 秒），``audit_wait_s``
（等待审计记录出现的秒数，默认 5），``audit_max_pages``（链校验最多读取的页数，默认 20）。
"""

from __future__ import annotations

import functools
import itertools
import time
from typing import Any

import pytest

from conformance.check.schema import validator
from conformance.client import TargetClient, TargetResponse
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation
from conformance.harness.target import Target
from conformance.report.skips import vacuous
from conformance.suites.support.checks import (
    by_key_read,
    data_set_reads,
    grant_operation,
    is_masked,
    owners,
    read_record,
    register_grants,
)
from conformance.suites.support.security import (
    MASKED_CITIZEN_ID,
    call,
    check_error,
    concrete,
    foreign_scope,
    iso,
    issue,
    need_client,
    param_maximum,
    request_id,
    role_scopes,
    scan,
    scopes_of,
    secured,
    sensitive_fields,
    server_offset,
)
from conformance.suites.support.workflow import data_of

GENESIS = "0" * 64


def _records(r: TargetResponse) -> list[Any]:
    """The records of a page (``items``) or of a change feed (``items[].record``)."""
    data = data_of(r)
    items = data.get("items") if isinstance(data, dict) else data if isinstance(data, list) else None
    out: list[Any] = []
    for item in items or ():
        if isinstance(item, dict) and "record" in item and "seq" in item:
            if isinstance(item["record"], dict):
                out.append(item["record"])
        else:
            out.append(item)
    return out


def _page_params(op: Operation, page: int = 1) -> dict[str, Any]:
    names = {p.name for p in op.params}
    params: dict[str, Any] = {}
    if "page" in names:
        params["page"] = page
    if "size" in names:
        params["size"] = param_maximum(op, "size", 100)
    if "limit" in names:
        params["limit"] = param_maximum(op, "limit", 100)
    return params


# ------------------------------------------------------------------------------------------ masking


@pytest.mark.role("sharing")
@pytest.mark.feature("open-data")
@pytest.mark.clause("IPQS.OPEN.SEC.1", "SHARE.SEC.ACCESS.4")
def test_open_data_is_masked(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """开放数据接口（前两页）中不出现完整的公民身份号码与手机号码：敏感字段为脱敏形式或不提供。

    前置条件：目标声明可选特性 open-data；目标文件有 [clients.open-data]（缺少时本项未测）；契约中有该客户端可调用
    的开放数据读取接口（权限范围 …:open），开放数据接口返回记录（否则本项未测）；敏感字段取契约中标记 x-sensitive
    （公民身份号码、电话）的字段。
    测试步骤：
    1. 以开放数据客户端取得令牌，选出其可调用的开放数据读取接口；
    2. 分别读取每个接口的第 1、2 页（每页取契约允许的最大条数）；
    3. 逐条检查返回记录中的字符串值。
    预期结果：每次读取返回 200；记录中没有完整的手机号码，敏感字段中没有有效的完整公民身份号码（均为脱敏形式或不提供）。
    """
    client = need_client(tzsb_target, tzsb_client, "open-data", "开放数据客户端，持有开放数据接口的权限范围")
    scopes = issue(client).scopes
    ops = [
        op
        for op in secured(role_ops)
        if op.method == "get" and any(s.endswith(":open") for s in scopes_of(op)) and set(scopes_of(op)) & scopes
    ]
    if not ops:
        pytest.skip("未测：契约中没有该客户端可调用的开放数据接口 / no open-data operation for this client")
    fields = sensitive_fields(tzsb_target.role)
    problems: list[str] = []
    seen = 0
    for op in ops:
        for page in (1, 2):
            r = call(client, op, params=_page_params(op, page))
            assert r.status == 200, f"{op.operation_id}: 开放数据查询返回 {r.status}"
            result = scan(_records(r), fields)
            seen += result.records
            if result.unmasked:
                problems.append(
                    f"{op.operation_id} 第 {page} 页：未脱敏 {', '.join(result.unmasked[:5])}"
                    f"{' …' if len(result.unmasked) > 5 else ''}（共 {len(result.unmasked)} 处）"
                )
    if not seen:
        pytest.skip("未测：开放数据接口没有返回记录，无法检验脱敏 / no open records to inspect")
    assert not problems, "开放数据含未脱敏的个人敏感信息：\n" + "\n".join(problems)


@pytest.mark.role("sharing")
@pytest.mark.clause("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4")
def test_sensitive_fields_are_masked_without_a_grant(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """未获数据所属主体授权的调用方（只读客户端）经分页查询与增量同步读到的公民身份号码、手机号码均为脱敏形式。

    前置条件：目标文件有 [clients.reader]（未获任何授权的只读客户端，缺少时本项未测）；该客户端可调用数据集的分页查询
    或增量同步接口（没有时本项未测）；读到的数据中有脱敏形式的敏感值（没有时本项未测）。
    测试步骤：
    1. 以只读客户端取得令牌，选出其可调用的数据集分页查询与增量同步接口；
    2. 分别读取每个接口的第一页（每页取契约允许的最大条数）；
    3. 逐条检查返回记录（增量同步取各条的 record）中的字符串值。
    预期结果：每次读取返回 200；记录中没有完整的手机号码，敏感字段中没有有效的完整公民身份号码。
    """
    reader = need_client(tzsb_target, tzsb_client, "reader", "只读客户端，未获数据所属主体授权")
    ops = data_set_reads(role_ops, issue(reader).scopes)
    if not ops:
        pytest.skip("未测：只读客户端没有可调用的数据集读取接口 / the reader may read no data set")
    fields = sensitive_fields(tzsb_target.role)
    problems: list[str] = []
    masked = 0
    for op in ops:
        r = call(reader, op, params=_page_params(op))
        if r.status != 200:
            problems.append(f"{op.operation_id}: 只读客户端读取返回 {r.status}（其令牌含所需权限范围）")
            continue
        result = scan(_records(r), fields)
        masked += result.masked
        if result.unmasked:
            problems.append(
                f"{op.operation_id}: 未经授权返回原文 {', '.join(result.unmasked[:5])}（共 {len(result.unmasked)} 处）"
            )
    assert not problems, "\n".join(problems)
    if not masked:
        pytest.skip("未测：读到的数据中没有敏感字段值，无法检验脱敏 / no sensitive values in the data read")


def _masked_record(
    reader: TargetClient, role_ops: list[Operation], fields: dict[str, str]
) -> tuple[Operation, dict[str, Any], list[str]] | None:
    """A record the reader sees with masked top-level sensitive fields, with its data set's paged query
    (fails at once when the reader, who holds no grant, sees a sensitive value in clear)."""
    for op in data_set_reads(role_ops, issue(reader).scopes, feeds=False):
        for page in range(1, 6):
            r = call(reader, op, params=_page_params(op, page))
            records = _records(r) if r.status == 200 else []
            clear = scan(records, fields).unmasked
            assert not clear, f"{op.operation_id}: 授权之前即返回原文 {', '.join(clear[:5])}"
            for rec in records:
                if not isinstance(rec, dict):
                    continue
                hidden = [k for k, v in rec.items() if k in fields and is_masked(v)]
                if hidden and owners(rec):
                    return op, rec, hidden
            if len(records) < int(_page_params(op).get("size", 1)):
                break
    return None


def _consistent(masked: str, full: Any) -> bool:
    if not isinstance(full, str) or "*" in full or len(full) != len(masked):
        return False
    head = 6 if MASKED_CITIZEN_ID.match(masked) else 3
    return full[:head] == masked[:head] and full[-4:] == masked[-4:]


@pytest.mark.role("sharing")
@pytest.mark.clause("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4")
def test_a_grant_shows_sensitive_fields_until_it_expires(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """授权查询共享：只读客户端读某条记录时敏感字段为脱敏形式；以测试凭证登记数据所属主体对其的授权（有效期数秒）
    后，同一读取得到原文（与脱敏形式首尾一致）；授权到期后恢复脱敏。

    前置条件：目标文件有 [clients.reader]（被授权方，缺少时本项未测）与持有授权登记权限范围的 [credentials]（否则
    本项未测）；契约有授权登记接口与该数据集的按键获取接口（否则本项未测）；只读客户端读到的前 5 页中有带脱敏敏感
    字段、有所属主体（uscc 或 …Uscc 字段）和键字段的记录（否则本项未测）；授权有效期取阈值 grant_validity_s（默认 4 秒）。
    测试步骤：
    1. 只读客户端分页读取其可调用的数据集（每个数据集至多 5 页），选出一条带脱敏敏感字段的记录 X；
    2. 只读客户端按键读 X；
    3. 以测试凭证为 X 的每个所属主体登记授权：把这些字段授权给只读客户端，数秒后到期；
    4. 只读客户端再按键读 X；
    5. 等待授权到期后，只读客户端第三次按键读 X。
    预期结果：步骤 1 读到的记录中没有原文的敏感值；步骤 2 返回 200，这些字段为脱敏形式；步骤 3 授权登记返回 200 或 201；
    步骤 4 返回 200，这些字段为原文（不含 *，长度与脱敏形式相同，首 6 位（身份号码）或首 3 位（手机号码）与末 4 位一致）；
    步骤 5 返回 200，这些字段重为含 * 的脱敏形式。
    """
    reader = need_client(tzsb_target, tzsb_client, "reader", "只读客户端，被授权方")
    harness = tzsb_client()
    grant_op = grant_operation(role_ops)
    if grant_op is None:
        vacuous("契约中没有授权登记接口 / no grant operation")
    if not set(scopes_of(grant_op)) & issue(harness).scopes:
        pytest.skip("未测：测试凭证没有授权登记的权限范围 / the test credential may not register grants")
    fields = sensitive_fields(tzsb_target.role)
    found = _masked_record(reader, role_ops, fields)
    if found is None:
        pytest.skip("未测：只读客户端读到的数据中没有带脱敏字段的记录 / no record with masked fields")
    query, record, hidden = found
    by_key = by_key_read(role_ops, query)
    if by_key is None:
        vacuous("该数据集在契约中没有按键获取接口 / no by-key read")
    key_name = next(p.name for p in by_key.params if p.location == "path")
    if not isinstance(record.get(key_name), str):
        pytest.skip(f"未测：记录中没有键字段 {key_name}")
    path = concrete(by_key, {key_name: record[key_name]})

    read = functools.partial(read_record, reader, by_key, path)
    before = read()
    unmasked = [f for f in hidden if not is_masked(before.get(f))]
    assert not unmasked, f"{by_key.operation_id}: 未经授权返回原文字段 {unmasked}"
    validity = float(tzsb_target.thresholds.get("grant_validity_s", 4))
    purpose = "一致性测试：授权查询共享（数秒后到期）"
    expired = register_grants(harness, grant_op, reader, query.data_set, hidden, purpose, validity, record)
    during = read()
    still = [f for f in hidden if not _consistent(str(before[f]), during.get(f))]
    assert not still, f"{by_key.operation_id}: 获授权后字段 {still} 仍未返回原文（或与脱敏形式不一致）"
    expired()
    after = read()
    shown = [f for f in hidden if not isinstance(after.get(f), str) or "*" not in after[f]]
    assert not shown, f"{by_key.operation_id}: 授权到期后字段 {shown} 仍返回原文"


# ------------------------------------------------------------------------------------------ audit


def _audit_op(ops: list[Operation], role: str) -> Operation:
    op = next((o for o in secured(ops) if o.method == "get" and "audit:read" in scopes_of(o)), None)
    if op is None:
        vacuous(f"{role} 角色的契约中没有审计查询接口（queryAudit） / no audit query")
    return op


def _auditor(tzsb_target: Target, tzsb_client, audit: Operation) -> TargetClient:
    client = tzsb_client(None, "auditor") if tzsb_target.client("auditor") is not None else tzsb_client()
    if not set(scopes_of(audit)) & issue(client).scopes:
        pytest.skip("未测：目标文件未提供审计员客户端 [clients.auditor]（audit:read）/ no auditor client")
    return client


def _audit_entries(
    auditor: TargetClient, audit: Operation, params: dict[str, Any], max_pages: int
) -> tuple[int, list[dict]]:
    size = param_maximum(audit, "size", 100)
    out: list[dict] = []
    total = 0
    for page in range(1, max_pages + 1):
        r = call(auditor, audit, params={**params, "page": page, "size": size})
        assert r.status == 200, f"{audit.operation_id}: 审计查询返回 {r.status}"
        data = data_of(r)
        assert isinstance(data, dict) and isinstance(data.get("items"), list), f"{audit.operation_id}: 响应不是分页结果"
        total = int(data.get("total") or 0)
        out += [e for e in data["items"] if isinstance(e, dict)]
        if len(data["items"]) < size or len(out) >= total:
            break
    return total, out


def _audited_calls(role_ops: list[Operation], tzsb_client, tzsb_target: Target, wanted: list[Operation]) -> None:
    """Audited operations as the harness (success) and with a token lacking the scope (denied); the audit
    query finds an entry for each, naming caller, operation, object, result and request id."""
    audit = _audit_op(role_ops, tzsb_target.role)
    auditor = _auditor(tzsb_target, tzsb_client, audit)
    if not wanted:
        vacuous("契约中没有需审计的读取操作 / no audited read operation")
    harness = tzsb_client()
    offset = server_offset(harness)
    start = iso(time.time() + offset - 2)
    calls: list[tuple[str, Operation, str, str]] = []  # request id, op, client id, expected outcome
    op = wanted[0]
    rid = request_id("ok")
    r = call(harness, op, params=_page_params(op), headers={"X-Request-Id": rid})
    assert r.status == 200, f"{op.operation_id}: 返回 {r.status}"
    calls.append((rid, op, harness.client_id or "", "success"))
    available = set(issue(harness).scopes) & role_scopes(role_ops)
    other = foreign_scope(op, available)
    if other is not None:
        narrowed = issue(harness, scope=other)
        if not set(scopes_of(op)) & narrowed.scopes:
            rid = request_id("denied")
            r = call(harness, op, token=narrowed.token, params=_page_params(op), headers={"X-Request-Id": rid})
            assert r.status == 403, f"{op.operation_id}: 缺少权限范围的令牌得到 {r.status}"
            calls.append((rid, op, harness.client_id or "", "denied"))
    deadline = time.monotonic() + float(tzsb_target.thresholds.get("audit_wait_s", 5))
    entries: dict[str, dict] = {}
    while True:
        _, found = _audit_entries(
            auditor, audit, {"from": start}, int(tzsb_target.thresholds.get("audit_max_pages", 20))
        )
        entries = {str(e.get("requestId")): e for e in found if e.get("requestId")}
        if all(rid in entries for rid, *_ in calls) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    problems: list[str] = []
    entry_schema = validator("sharing#/$defs/auditEntry")
    for rid, op, client_id, outcome in calls:
        e = entries.get(rid)
        what = f"{op.operation_id}（请求标识 {rid}，预期结果 {outcome}）"
        if e is None:
            problems.append(f"{what}: 没有对应的审计记录 / no audit entry")
            continue
        if not entry_schema.is_valid(e):
            problems.append(f"{what}: 审计记录不符合 auditEntry 结构 / entry does not match auditEntry")
        if e.get("clientId") != client_id:
            problems.append(f"{what}: 审计记录的调用方为 {e.get('clientId')}，应为 {client_id}")
        if e.get("outcome") != outcome:
            problems.append(f"{what}: 审计记录的结果为 {e.get('outcome')}，应为 {outcome}")
        if op.path.split("{")[0].rstrip("/") not in str(e.get("resource", "")):
            problems.append(f"{what}: 审计记录的对象 {e.get('resource')!r} 未指明所访问的资源")
    narrowed_audit = foreign_scope(audit, available)
    if narrowed_audit is not None:
        token = issue(harness, scope=narrowed_audit)
        if not set(scopes_of(audit)) & token.scopes:
            problems += check_error(
                call(harness, audit, token=token.token),
                403,
                f"{audit.operation_id}（令牌只有 {narrowed_audit}，无 audit:read）",
                codes=(ErrorCode.FORBIDDEN,),
            )
    assert not problems, "\n".join(problems)


@pytest.mark.role("sharing")
@pytest.mark.clause("SHARE.SEC.SECMGMT.5", "PROFILE.AUDIT.1")
def test_shared_data_access_is_audited(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """对共享数据的访问（成功的查询与缺少权限范围被拒绝的查询）各有审计记录：调用方、时间、操作、对象、结果与
    请求标识，经审计查询接口按时间检索得到；没有 audit:read 的令牌查询审计记录为 403。

    前置条件：被测角色的契约有审计查询接口（queryAudit）与数据集分页查询接口（否则本项未测）；[clients.auditor]（持有 audit:read；没有时用 [credentials]，两者都不持有 audit:read 时本项未测）；
    [credentials]；阈值 audit_wait_s（默认 5 秒）、audit_max_pages（默认 20）。
    测试步骤：
    1. 从健康状态接口读取服务器时间，作为检索起点（提前 2 秒）；
    2. 以测试凭证带新的请求标识（X-Request-Id）调用第一个需审计的读取操作（成功的访问）；能以 scope 参数取得不打开该
    操作的令牌时，再以它带另一请求标识调用（被拒绝的访问）；
    3. 审计员按起点时间分页查询审计记录（queryAudit），直到各请求标识都出现或等满 audit_wait_s；
    4. 能取得不含 audit:read 的收窄令牌时，以它查询审计记录。
    预期结果：步骤 2 成功的访问返回 200，被拒绝的访问返回 403；步骤 3 审计查询返回 200 与分页结果，每个请求标识都有
    一条符合 auditEntry 结构的审计记录，其 clientId 为测试凭证，outcome 分别为 success 与 denied（被拒绝的访问如有），resource 含所访问
    接口的路径；步骤 4 返回 403 错误信封，错误代码 FORBIDDEN，不带业务数据。
    """
    _audited_calls(role_ops, tzsb_client, tzsb_target, data_set_reads(role_ops, feeds=False))


@pytest.mark.role("licensing")
@pytest.mark.clause("DB42.4.7.e.4", "PROFILE.AUDIT.1")
def test_archived_dossier_access_is_audited(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """对已归档卷宗的查阅（卷宗调用接口）与被拒绝的查阅各有审计记录，经审计查询接口检索得到。

    前置条件：被测角色的契约有审计查询接口（queryAudit）与无路径参数的卷宗查阅接口（否则本项未测）；[clients.auditor]（持有 audit:read；没有时用 [credentials]，两者都不持有 audit:read 时本项未测）；
    [credentials]；阈值 audit_wait_s（默认 5 秒）、audit_max_pages（默认 20）。
    测试步骤：
    1. 从健康状态接口读取服务器时间，作为检索起点（提前 2 秒）；
    2. 以测试凭证带新的请求标识（X-Request-Id）调用第一个需审计的读取操作（成功的访问）；能以 scope 参数取得不打开该
    操作的令牌时，再以它带另一请求标识调用（被拒绝的访问）；
    3. 审计员按起点时间分页查询审计记录（queryAudit），直到各请求标识都出现或等满 audit_wait_s；
    4. 能取得不含 audit:read 的收窄令牌时，以它查询审计记录。
    预期结果：步骤 2 成功的访问返回 200，被拒绝的访问返回 403；步骤 3 审计查询返回 200 与分页结果，每个请求标识都有
    一条符合 auditEntry 结构的审计记录，其 clientId 为测试凭证，outcome 分别为 success 与 denied（被拒绝的访问如有），resource 含所访问
    接口的路径；步骤 4 返回 403 错误信封，错误代码 FORBIDDEN，不带业务数据。
    """
    wanted = [
        op
        for op in secured(role_ops)
        if op.method == "get" and "dossier" in op.operation_id.lower() and "{" not in op.path
    ]
    _audited_calls(role_ops, tzsb_client, tzsb_target, wanted)


@pytest.mark.role("sharing", "licensing")
@pytest.mark.clause("PROFILE.AUDIT.2")
def test_audit_log_is_a_read_only_hash_chain(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """审计记录按 seq 连续，每条的 prevHash 等于前一条的 hash（第一条为 64 个 0），摘要互不相同；
    经接口删除、修改、新增审计记录（DELETE / PUT / PATCH / POST）被拒绝（403 或 405），记录不变。

    前置条件：被测角色的契约有审计查询接口（queryAudit，否则本项未测）；[clients.auditor]（持有 audit:read；没有时用 [credentials]，两者都不持有 audit:read 时本项未测）；
    [credentials]；阈值 audit_max_pages（默认 20）。
    契约未规定 hash 的计算方法，只检验链接关系，不重算摘要。
    测试步骤：
    1. 以测试凭证调用第一个数据集（或卷宗）读取操作 8 次，产生需审计的记录；
    2. 审计员查询审计记录得到总数，读取最后至多 audit_max_pages 页；
    3. 审计员对审计查询路径依次发送 DELETE、PUT、PATCH、POST（修改请求）；
    4. 审计员重读步骤 2 的第一页。
    预期结果：步骤 2 各页返回 200，共至少 2 条记录，均符合 auditEntry 结构；seq 逐条加 1，每条的 prevHash 等于前一条的
    hash，seq 为 1 的第一条的 prevHash 为 64 个 0，hash 互不相同；步骤 3 每个请求返回 403 或 405 错误信封，不带业务
    数据；步骤 4 中各条的 hash 与步骤 2 相同。
    """
    audit = _audit_op(role_ops, tzsb_target.role)
    auditor = _auditor(tzsb_target, tzsb_client, audit)
    harness = tzsb_client()
    reads = [
        op
        for op in secured(role_ops)
        if op.method == "get" and (op.data_set or "dossier" in op.operation_id.lower()) and "{" not in op.path
    ]
    for op in reads[:1] * 8:  # enough audited operations for a chain of several links
        call(harness, op, params=_page_params(op))
    max_pages = int(tzsb_target.thresholds.get("audit_max_pages", 20))
    total, _ = _audit_entries(auditor, audit, {}, 1)
    size = param_maximum(audit, "size", 100)
    last_page = max(1, -(-total // size))
    first_page = max(1, last_page - max_pages + 1)
    entries: list[dict] = []
    for page in range(first_page, last_page + 1):
        r = call(auditor, audit, params={"page": page, "size": size})
        assert r.status == 200, f"{audit.operation_id}: 第 {page} 页返回 {r.status}"
        entries += [e for e in (data_of(r) or {}).get("items", []) if isinstance(e, dict)]
    assert len(entries) >= 2, f"审计记录只有 {len(entries)} 条，无法检验摘要链（刚执行了 8 次需审计的操作）"
    problems: list[str] = []
    entry_schema = validator("sharing#/$defs/auditEntry")
    bad = [e.get("seq") for e in entries if not entry_schema.is_valid(e)]
    if bad:
        problems.append(f"{len(bad)} 条审计记录不符合 auditEntry 结构（seq {bad[:5]}）")
    if entries[0].get("seq") == 1 and entries[0].get("prevHash") != GENESIS:
        problems.append("第一条审计记录的 prevHash 不是 64 个 0 / first prevHash is not the genesis value")
    breaks = []
    for prev, cur in itertools.pairwise(entries):
        if cur.get("seq") != (prev.get("seq") or 0) + 1:
            breaks.append(f"seq {prev.get('seq')} 之后是 {cur.get('seq')}（不连续）")
        elif cur.get("prevHash") != prev.get("hash"):
            breaks.append(f"seq {cur.get('seq')} 的 prevHash 不等于 seq {prev.get('seq')} 的 hash")
    if breaks:
        problems.append(f"摘要链断开 {len(breaks)} 处：" + "；".join(breaks[:5]))
    hashes = [e.get("hash") for e in entries]
    if len(set(hashes)) != len(hashes):
        problems.append("审计记录的 hash 有重复 / duplicate hashes")
    path = concrete(audit)
    for method in ("DELETE", "PUT", "PATCH", "POST"):
        r = auditor.request(
            method, path, json={"seq": entries[0].get("seq"), "outcome": "success"} if method != "DELETE" else None
        )
        problems += check_error(r, (403, 405), f"{method} {path}（修改审计记录）")
    r = call(auditor, audit, params={"page": first_page, "size": size})
    again = {e.get("seq"): e.get("hash") for e in (data_of(r) or {}).get("items", []) if isinstance(e, dict)}
    changed = [e.get("seq") for e in entries if e.get("seq") in again and again[e.get("seq")] != e.get("hash")]
    if changed:
        problems.append(f"审计记录在修改请求后发生变化（seq {changed[:5]}）")
    checked = f"（检验了 seq {entries[0].get('seq')}–{entries[-1].get('seq')}，共 {len(entries)} 条）"
    assert not problems, "\n".join(problems) + checked


# ------------------------------------------------------------------------------------------ caller level


@pytest.mark.role("gov-platform")
@pytest.mark.feature("thumbnail")
@pytest.mark.clause("DB42.10.2.T5-16.2")
def test_thumbnails_are_refused_to_a_city_level_caller(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """电子证照缩略图下载接口（表5 序号16）仅向省厅单位提供：持有该接口权限范围的地市级调用方得到 403，
    省级调用方（对照）不被拒绝。

    前置条件：目标声明可选特性 thumbnail；契约有缩略图下载接口（T5-16，否则本项未测）；目标文件有
    [clients.city-caller]（地市级调用方，持有该接口的权限范围，否则本项未测）；[clients.province-caller]（省级调用方）
    可选，有时作对照。
    测试步骤：
    1. 以地市级调用方调用缩略图下载接口（路径参数以合法格式的生成值填充）；
    2. 有省级调用方时，以它调用同一路径。
    预期结果：步骤 1 返回 403 错误信封，错误代码 FORBIDDEN，不带业务数据；步骤 2 不返回 401、403 或 5xx。
    """
    op = next((o for o in secured(role_ops) if o.interface == "T5-16"), None)
    if op is None:
        vacuous("契约中没有缩略图下载接口（T5-16） / no thumbnail operation")
    city = need_client(tzsb_target, tzsb_client, "city-caller", "地市级调用方，持有缩略图接口的权限范围")
    if not set(scopes_of(op)) & issue(city).scopes:
        pytest.skip(
            "未测：地市级调用方没有缩略图接口的权限范围，403 不能说明按调用方层级拒绝 / city caller lacks the scope"
        )
    path = concrete(op)
    problems = check_error(
        call(city, op, path=path), 403, f"{op.operation_id}（地市级调用方）", codes=(ErrorCode.FORBIDDEN,)
    )
    if tzsb_target.client("province-caller") is not None:
        province = tzsb_client(None, "province-caller")
        r = call(province, op, path=path)
        if r.status is None or r.status in (401, 403) or r.status >= 500:
            problems.append(f"{op.operation_id}（省级调用方，对照）: 返回 {r.status}，省级调用方不应被拒绝")
    assert not problems, "\n".join(problems)
