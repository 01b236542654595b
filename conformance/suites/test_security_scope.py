"""安全套件（五）：权限的“负空间”——一项权限只打开它所指之处，别处保持关闭。

其他测试检验权限“能用”；本模块检验它“只在该用处能用”，且在设置权限所用的对象之外的对象上检验：

* 权限范围（scope）：测试凭证逐一申请只含一个权限范围的令牌（RFC 6749 §3.3 ``scope`` 参数；契约 common.yaml 的
  权限范围中被测角色的操作所用者），以它调用被测角色每一组不需要该权限范围的受保护操作（每组同一所需权限范围的操作取
  一个代表）：一律 403。写权限不得打开同一数据集的读取与订阅，某一数据集的权限不得打开别的数据集，数据权限不得打开
  审计、授权与目录，等等。
* 授权查询共享（共享平台）：数据所属主体 O 对只读客户端授权某数据集 D 的部分敏感字段后，被授权方只在 O 的 D 记录上、
  只就所授字段看到原文；同一页上其他主体的记录、O 在其他数据集中的记录、未授权的字段仍为脱敏形式；未被授权的客户端
  （测试凭证自身）读同一记录仍为脱敏形式。检验前后各读一次授权记录作为对照（授权在整个检验期间有效），结束后等待授权
  到期，不影响后续测试。数据所属主体取记录中的统一社会信用代码字段（``uscc`` 或 ``…Uscc``，契约未指明，按此推定）。

目标文件须提供：[credentials]（持有被测角色全部权限范围，能按 ``scope`` 参数申请收窄的令牌；授权登记须持有
sharing:grant）与 ``[clients.reader]``（只读客户端，未获任何授权）。阈值（``[thresholds]``，可省略）：
``scope_probe_requests``（权限范围矩阵最多发出的请求数，默认 3000；超出时未测），``grant_scope_validity_s``
（本检验的授权有效期，默认 10 秒）。

Negative space of permissions: a token scope opens only the operations that declare it; an owner's grant opens only
that owner's records of that data set, only the granted fields, only to the grantee.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import TargetClient
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation
from conformance.harness.target import Target
from conformance.report.skips import untested
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
    call,
    check_error,
    concrete,
    issue,
    need_client,
    param_maximum,
    role_scopes,
    scopes_of,
    secured,
    sensitive_fields,
)
from conformance.suites.support.workflow import data_of

# ------------------------------------------------------------------------------------------ token scopes


def _representatives(ops: list[Operation]) -> dict[frozenset[str], Operation]:
    """One secured operation per distinct set of accepted scopes: a GET without path parameters when there is one,
    then a GET, then any."""
    out: dict[frozenset[str], Operation] = {}

    def rank(op: Operation) -> int:
        return 0 if op.method == "get" and "{" not in op.path else 1 if op.method == "get" else 2

    for op in secured(ops):
        key = frozenset(scopes_of(op))
        if key and (key not in out or rank(op) < rank(out[key])):
            out[key] = op
    return out


def _scope_matrix(role_ops: list[Operation], client: TargetClient, target: Target) -> None:
    bound = int(target.thresholds.get("scope_probe_requests", 3000))
    available = sorted(set(issue(client).scopes) & role_scopes(role_ops))
    groups = _representatives(role_ops)
    problems: list[str] = []
    narrowed = 0
    tried = 0
    for scope in available:
        token = issue(client, scope=scope)
        if not token.scopes or not token.scopes <= {scope}:
            continue  # the target did not narrow the token: nothing to conclude with it
        narrowed += 1
        for needed, op in groups.items():
            if scope in needed:
                continue
            tried += 1
            if tried > bound:
                untested(
                    f"权限范围矩阵超过 {bound} 次请求的上限，未检验完 / the scope matrix exceeds {bound} requests",
                    provide="在目标文件 [thresholds] scope_probe_requests 中提高上限",
                )
            r = call(client, op, token=token.token)
            problems += check_error(
                r,
                403,
                f"{op.method.upper()} {op.path} {op.operation_id}（令牌只有 {scope}，"
                f"该操作需要 {' 或 '.join(sorted(needed))}）",
                codes=(ErrorCode.FORBIDDEN,),
            )
    if not narrowed:
        untested(
            "目标未按 scope 参数签发只含一个权限范围的令牌，无法检验一项权限范围之外保持关闭 / the target never "
            "narrowed a token to one scope",
            provide="令牌接口按 RFC 6749 §3.3 支持 scope 参数收窄令牌",
        )
    assert not problems, f"{len(problems)} 处权限范围之外的调用未被拒绝（共试 {tried} 次）：\n" + "\n".join(
        problems[:30]
    )


@pytest.mark.role("sharing")
@pytest.mark.clause("SHARE.SEC.ACCESS.1", "SHARE.SEC.ACCESS.3", "IPQS.SHARE.PERM.1", "PROFILE.STATUS.2")
def test_a_token_opens_only_the_operations_of_its_scope_sharing(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """共享平台：对契约中的每个权限范围，只含该权限范围的令牌调用每一组不需要它的受保护操作（其他数据集的读取、同一数据集的
    推送与订阅、写权限调用读取、目录、授权、审计、开放数据……）：一律 403 错误信封。

    前置条件：目标文件有 [credentials]，持有被测角色的权限范围，令牌接口按 RFC 6749 §3.3 的 scope 参数签发收窄的令牌
    （一个也不收窄时本项未测）；阈值 scope_probe_requests（默认 3000，请求数超出时本项未测）。
    测试步骤：
    1. 取测试凭证持有且为被测角色操作所用的权限范围；把被测角色的受保护操作按所需权限范围分组，每组取一个代表
    （优先无路径参数的 GET）；
    2. 对每个权限范围，以 scope 参数申请只含该权限范围的令牌（未收窄到该权限范围的跳过）；
    3. 以该令牌调用每一组不需要该权限范围的代表操作（路径参数以占位值填充，有请求体的以 {} 为请求体）。
    预期结果：步骤 3 的每次调用都返回 403 错误信封，错误代码 FORBIDDEN，不带业务数据。

    A token holding one scope is refused (403) by every operation that does not accept that scope.
    """
    _scope_matrix(role_ops, tzsb_client(), tzsb_target)


@pytest.mark.role("licensing", "gov-platform", "inspection", "supervision")
@pytest.mark.clause("DB42.4.7.e.3", "PROFILE.STATUS.2")
def test_a_token_opens_only_the_operations_of_its_scope(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """对被测角色契约中的每个权限范围，只含该权限范围的令牌调用每一组不需要它的受保护操作：一律 403 错误信封。

    前置条件：目标文件有 [credentials]，持有被测角色的权限范围，令牌接口按 RFC 6749 §3.3 的 scope 参数签发收窄的令牌
    （一个也不收窄时本项未测）；阈值 scope_probe_requests（默认 3000，请求数超出时本项未测）。
    测试步骤：
    1. 取测试凭证持有且为被测角色操作所用的权限范围；把被测角色的受保护操作按所需权限范围分组，每组取一个代表
    （优先无路径参数的 GET）；
    2. 对每个权限范围，以 scope 参数申请只含该权限范围的令牌（未收窄到该权限范围的跳过）；
    3. 以该令牌调用每一组不需要该权限范围的代表操作（路径参数以占位值填充，有请求体的以 {} 为请求体）。
    预期结果：步骤 3 的每次调用都返回 403 错误信封，错误代码 FORBIDDEN，不带业务数据。

    A token holding one scope is refused (403) by every operation that does not accept that scope.
    """
    _scope_matrix(role_ops, tzsb_client(), tzsb_target)


# ------------------------------------------------------------------------------------------ owners' grants


def _hidden(record: dict[str, Any], fields: dict[str, str]) -> list[str]:
    return [k for k, v in record.items() if k in fields and is_masked(v)]


def _clear(record: Any, names: list[str]) -> list[str]:
    """Of ``names``, the fields of ``record`` that are no longer masked."""
    if not isinstance(record, dict):
        return []
    return [f for f in names if isinstance(record.get(f), str) and not is_masked(record[f])]


def _readable(
    reader: TargetClient, role_ops: list[Operation], fields: dict[str, str]
) -> dict[str, tuple[Operation, Operation, list[dict[str, Any]]]]:
    """Per data set the reader may query (and read by key): the query, the by-key read and the records of its first
    page that show masked sensitive fields and name an owner."""
    scopes = issue(reader).scopes
    out: dict[str, tuple[Operation, Operation, list[dict[str, Any]]]] = {}
    for op in data_set_reads(role_ops, scopes, feeds=False):
        by_key = by_key_read(role_ops, op)
        if by_key is None:
            continue
        params = {"page": 1, "size": param_maximum(op, "size", 100)}
        r = call(reader, op, params=params)
        items = (data_of(r) or {}).get("items") if r.status == 200 else None
        records = [rec for rec in items or () if isinstance(rec, dict) and owners(rec) and _hidden(rec, fields)]
        if records:
            out[op.data_set] = (op, by_key, records)
    return out


@pytest.mark.role("sharing")
@pytest.mark.clause("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4")
def test_a_grant_opens_only_its_owner_data_set_fields_and_grantee(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """数据所属主体 O 授权只读客户端读取数据集 D 的部分敏感字段（数秒后到期）：被授权方读 O 的记录 X 时所授字段为原文（对照）；
    同一页上其他主体的记录、O 在其他数据集中的记录、X 未授权的字段均仍为脱敏形式；测试凭证（非被授权方）读 X 仍为脱敏形式。

    前置条件：目标文件有 [clients.reader]（只读客户端，与测试凭证不是同一客户端，缺少时本项未测）与 [credentials]（持有
    授权登记的权限范围 sharing:grant）；契约有授权登记接口；只读客户端可分页查询并按键读取的数据集中，有两条属于不同
    主体（记录中的 uscc 或 …Uscc 字段）、带脱敏敏感字段的记录；授权有效期取阈值 grant_scope_validity_s（默认 10 秒）。
    以上不满足，或授权登记后被授权方仍看不到所授字段原文、授权在检验完成前到期时，本项未测。
    测试步骤：
    1. 只读客户端分页查询各数据集的第一页，选出数据集 D 中主体 O 的记录 X 与其他主体的记录；
    2. 以测试凭证为 X 的每个所属主体登记授权（所授字段取 X 的第一个脱敏字段，授权给只读客户端，数秒后到期），
    被授权方按键读 X 作为对照；
    3. 被授权方再按键读 X，分页查询 D 的第一页，按键读另一主体的记录，并按键读 O 在另一数据集中的一条记录（如有）；
    4. 测试凭证按键读 X；被授权方再读 X 作为对照；结束后等待授权到期。
    预期结果：步骤 2 授权登记返回 200 或 201；各次按键读取返回 200 与记录；步骤 3 中 X 未授权的字段、D 页上其他主体
    记录的敏感字段、另一主体记录与 O 在另一数据集中记录的敏感字段均为脱敏形式，D 的分页查询返回 200 与 items；步骤 4
    测试凭证读到的 X 的敏感字段为脱敏形式。

    An owner's grant shows the grantee only that owner's records of that data set, only the granted fields: another
    owner's records, the owner's records in another data set, ungranted fields and another client stay masked.
    """
    reader = need_client(tzsb_target, tzsb_client, "reader", "只读客户端，被授权方")
    harness = tzsb_client()
    if reader.client_id == harness.client_id:
        untested(
            "只读客户端与测试凭证是同一客户端，无法检验授权不惠及其他客户端 / the reader is the test credential",
            provide="目标文件 [clients.reader] 使用另一个客户端",
        )
    grant_op = grant_operation(role_ops)
    if grant_op is None:
        untested("契约中没有授权登记接口 / no grant operation")
    if not set(scopes_of(grant_op)) & issue(harness).scopes:
        untested(
            "测试凭证没有授权登记的权限范围 / the test credential may not register grants",
            provide="[credentials] 持有 sharing:grant",
        )
    fields = sensitive_fields(tzsb_target.role)
    readable = _readable(reader, role_ops, fields)
    chosen = None
    for name, (query, by_key, records) in readable.items():
        key = next((p.name for p in by_key.params if p.location == "path"), None)
        first = next((r for r in records if isinstance(r.get(key), str)), None)
        if first is None:
            continue
        others = [r for r in records if not owners(r) & owners(first)]
        if others:
            chosen = (name, query, by_key, key, first, others)
            break
    if chosen is None:
        untested(
            "只读客户端读到的数据中没有两条属于不同主体、带脱敏字段的记录，无法检验授权不惠及其他主体 / no two "
            "records of different owners with masked fields",
            provide="在共享平台中准备至少两个所属主体的含敏感字段记录",
        )
    name, query, by_key, key, record, others = chosen
    hidden = _hidden(record, fields)
    granted, withheld = (hidden[:1], hidden[1:]) if len(hidden) > 1 else (hidden, [])
    theirs = owners(record)
    path = concrete(by_key, {key: record[key]})
    elsewhere = [
        (n, by_key2, k2, r)
        for n, (_q, by_key2, recs) in readable.items()
        if n != name
        for k2 in [next((p.name for p in by_key2.params if p.location == "path"), None)]
        for r in recs
        if owners(r) & theirs and isinstance(r.get(k2), str)
    ][:1]

    validity = float(tzsb_target.thresholds.get("grant_scope_validity_s", 10))
    purpose = "一致性测试：授权范围之外保持脱敏（数秒后到期）"
    expired = register_grants(harness, grant_op, reader, name, granted, purpose, validity, record)
    try:
        if _clear(read_record(reader, by_key, path), granted) != granted:
            untested(
                "授权登记后被授权方仍看不到所授字段的原文，无法检验授权的范围（见 test_a_grant_shows_sensitive_fields） / "
                "the grant shows nothing, so its limits cannot be tested"
            )
        problems: list[str] = []
        shown = _clear(read_record(reader, by_key, path), withheld)
        if shown:
            problems.append(
                f"{by_key.operation_id} {path}: 未授权的字段 {shown} 向被授权方返回原文 / ungranted fields shown"
            )
        r = call(reader, query, params={"page": 1, "size": param_maximum(query, "size", 100)})
        page = (data_of(r) or {}).get("items") if r.status == 200 else []
        if r.status != 200 or not isinstance(page, list):  # no page read: "nothing shown" would rest on no answer
            problems.append(
                f"{query.operation_id}: 被授权方读取一页返回 {r.status}（{r.error or '没有 items'}），无从确认其他主体的记录"
                f"保持脱敏 / the grantee's page read got no page ({r.status})"
            )
        stray = [
            f"{rec.get(key)}: {_clear(rec, list(fields))}"
            for rec in page or ()
            if isinstance(rec, dict) and not owners(rec) & theirs and _clear(rec, list(fields))
        ]
        if stray:
            problems.append(
                f"{query.operation_id}: 其他主体的记录向被授权方返回原文 {stray[:5]}（共 {len(stray)} 条）/ other "
                "owners' records shown in clear"
            )
        other = others[0]
        other_path = concrete(by_key, {key: other[key]}) if isinstance(other.get(key), str) else None
        if other_path:
            shown = _clear(read_record(reader, by_key, other_path), _hidden(other, fields))
            if shown:
                problems.append(
                    f"{by_key.operation_id} {other_path}: 另一主体的记录的 {shown} 返回原文 / another owner's record"
                )
        for other_name, other_op, other_key, rec in elsewhere:
            where = concrete(other_op, {other_key: rec[other_key]})
            shown = _clear(read_record(reader, other_op, where), _hidden(rec, fields))
            if shown:
                problems.append(
                    f"{other_op.operation_id} {where}: 所属主体在数据集 {other_name} 中的记录的 {shown} 返回原文"
                    f"（授权只针对 {name}）/ the owner's record in another data set"
                )
        shown = _clear(read_record(harness, by_key, path), hidden)
        if shown:
            problems.append(
                f"{by_key.operation_id} {path}: 非被授权方（测试凭证）看到 {shown} 的原文 / shown to another client"
            )
        if _clear(read_record(reader, by_key, path), granted) != granted:
            untested(
                "授权在检验完成前已到期，检验结论不成立 / the grant expired before the checks ended",
                provide="在目标文件 [thresholds] grant_scope_validity_s 中加大授权有效期",
            )
        assert not problems, "授权打开了其范围之外的数据 / the grant opens more than it names:\n" + "\n".join(problems)
    finally:
        expired()  # later tests see no grant of ours
