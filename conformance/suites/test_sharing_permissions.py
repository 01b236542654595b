"""共享平台套件：权限变更审批、发现滥用时暂停权限、授权只能由数据所属主体登记。

* 权限变更审批（工业产品质量安全监管数据规范体系：建立权限变更审批机制，IPQS.SHARE.PERM.2）：被变更客户端先证明
  缺少契约中某一数据集读取的权限范围（403）；申请方申请增加该范围后，被变更客户端新申请的令牌仍被拒绝（未经审批不生效）；
  申请方审批自己的申请为 403；另一审批方批准后新令牌可以调用；驳回的申请（取消该范围）不产生效果；最后以一项获批的
  取消申请恢复原状，重复运行从同一状态开始。同一变更标识内容相同 200、内容不同 409。
* 暂停（若发现数据滥用，立即暂停开放权限并追究责任，IPQS.OPEN.SEC.3）：监管方（测试凭证）暂停被变更客户端后，该客户端对
  共享数据的调用为 403、错误代码 SUSPENDED，暂停前签发的令牌与新令牌都如此；其他客户端（测试凭证）不受影响；暂停与解除
  都出现在审计查询中（按请求标识）；解除后访问恢复。
* 授权只能由数据所属主体登记（IPQS.SHARE.MODE.2）：代表某一单位的客户端为另一主体的记录登记授权为 403，且被授权方读到的
  仍是脱敏形式。

目标文件须提供的身份（docs/preflight.md）：``[clients.permission-requester]``（持有 sharing:permission:request，并持有
sharing:permission:approve 以检验不得审批自己的申请）、``[clients.permission-approver]``（持有 sharing:permission:approve）、
``[clients.permission-subject]``（被变更、被暂停的客户端：持有至少一个数据集的读取范围，且缺少另一个）、
``[clients.unit-grantor]``（代表一个单位的客户端，持有 sharing:grant，须给出 ``owner_uscc``）、``[clients.reader]``、审计员
``[clients.auditor]``；测试凭证须持有 sharing:suspend。缺少时相应测试未测；目标不提供这些接口（404/405/501）时也未测。

阈值（``[thresholds]``，可省略）：``audit_wait_s``（等待审计记录出现的秒数，默认 5），``grant_validity_s``（测试授权的有效期，
默认 4 秒）。

Permission changes take effect only once another client approves them (for tokens issued afterwards); a rejected change
never; a suspension refuses the client's calls to shared data at once, old tokens included, until it is lifted; a grant
is registered only by a client acting for the owner.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.client import TargetClient, TargetResponse
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
)
from conformance.suites.support.security import (
    call,
    check_error,
    concrete,
    iso,
    issue,
    need_client,
    param_maximum,
    request_id,
    scopes_of,
    secured,
    sensitive_fields,
    server_offset,
)
from conformance.suites.support.workflow import brief, data_of

#: Statuses with which a target says it has no such interface at all (the operation is not offered).
NOT_OFFERED = (404, 405, 501)


def _op(role_ops: list[Operation], operation_id: str) -> Operation:
    op = next((o for o in role_ops if o.operation_id == operation_id), None)
    if op is None:
        untested(f"契约中没有操作 {operation_id} / the contract has no {operation_id}")
    return op


def _holds(client: TargetClient, op: Operation) -> bool:
    return bool(set(scopes_of(op)) & issue(client).scopes)


def _offered(r: TargetResponse, op: Operation) -> None:
    """A 404 / 405 / 501 at an operation without path parameters: the target does not offer it (→ 未测)."""
    if r.status in NOT_OFFERED:
        untested(
            f"目标未提供 {op.operation_id}（{op.method.upper()} {op.path} 返回 {r.status}）/ the target does not offer "
            f"{op.operation_id}",
            provide=f"提供 sharing.yaml 的 {op.operation_id} 接口 / offer {op.operation_id} of sharing.yaml",
        )


def _page(op: Operation) -> dict[str, Any]:
    names = {p.name for p in op.params}
    return {k: v for k, v in (("page", 1), ("size", min(10, param_maximum(op, "size", 10)))) if k in names}


def _new_id(tag: str) -> str:
    return f"tzsb{tag}-{secrets.token_hex(8)}"


def _status_of(r: TargetResponse) -> Any:
    data = data_of(r)
    return data.get("status") if isinstance(data, dict) else None


# ------------------------------------------------------------------------------------------ permission changes


class Changes:
    """The permission-change operations with the requester and the approver."""

    def __init__(self, role_ops: list[Operation], requester: TargetClient, approver: TargetClient) -> None:
        self.create = _op(role_ops, "createPermissionChange")
        self.decide = _op(role_ops, "decidePermissionChange")
        self.get = _op(role_ops, "getPermissionChange")
        self.requester, self.approver = requester, approver

    def request(self, subject: str, *, add: list[str] = [], remove: list[str] = []) -> tuple[str, dict[str, Any]]:  # noqa: B006
        body = {
            "changeId": _new_id("perm"),
            "clientId": subject,
            "addScopes": list(add),
            "removeScopes": list(remove),
            "reason": "一致性测试：权限变更审批（IPQS.SHARE.PERM.2）",
            "requester": "一致性测试申请人",
        }
        r = call(self.requester, self.create, json=body)
        _offered(r, self.create)
        assert r.status == 201, f"{self.create.operation_id}: 登记申请返回 {r.status}，应为 201 / {brief(r)}"
        assert _status_of(r) == "pending", f"{self.create.operation_id}: 新申请的状态为 {_status_of(r)!r}，应为 pending"
        return body["changeId"], body

    def decision(self, client: TargetClient, change_id: str, decision: str) -> TargetResponse:
        body = {"decision": decision, "approver": "一致性测试审批人", "comment": f"一致性测试：{decision}"}
        return call(client, self.decide, path=concrete(self.decide, {"changeId": change_id}), json=body)

    def decided(self, change_id: str, decision: str) -> None:
        r = self.decision(self.approver, change_id, decision)
        want = {"approve": "approved", "reject": "rejected"}[decision]
        assert r.status == 200, f"{self.decide.operation_id}: 审批方 {decision} 返回 {r.status} / {brief(r)}"
        assert _status_of(r) == want, f"{self.decide.operation_id}: 审批后状态为 {_status_of(r)!r}，应为 {want}"

    def state(self, change_id: str) -> Any:
        r = call(self.approver, self.get, path=concrete(self.get, {"changeId": change_id}))
        assert r.status == 200, f"{self.get.operation_id}: 返回 {r.status} / {brief(r)}"
        return _status_of(r)


def _subject_probe(role_ops: list[Operation], subject: TargetClient) -> tuple[Operation, str]:
    """A data-set read of the contract whose scope the subject lacks (its first scope)."""
    held = issue(subject).scopes
    lacking = [op for op in data_set_reads(role_ops, feeds=False) if not set(scopes_of(op)) & held]
    if not lacking:
        untested(
            "被变更客户端持有契约中全部数据集读取范围，无可增加的权限 / the subject holds every read scope",
            provide="[clients.permission-subject] 缺少至少一个数据集的读取范围 / let the subject lack one read scope",
        )
    op = lacking[0]
    return op, scopes_of(op)[0]


def _fresh_status(subject: TargetClient, op: Operation) -> TargetResponse:
    """The subject's call of ``op`` with a token issued now."""
    return call(subject, op, token=issue(subject).token, params=_page(op))


@pytest.mark.role("sharing")
@pytest.mark.clause("IPQS.SHARE.PERM.2")
def test_a_permission_change_takes_effect_only_once_another_client_approves_it(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """被变更客户端缺少某一数据集读取范围（403）；申请增加后新令牌仍 403；申请方自批 403 且无效果；审批方批准后新令牌 200；
    驳回的取消申请无效果（仍 200）；最后获批的取消申请恢复原状（403）。同一变更标识：内容相同 200、不同 409。

    前置条件：目标文件有 [clients.permission-requester]（持有 sharing:permission:request）、[clients.permission-approver]（持有 sharing:permission:approve）、[clients.permission-subject]（缺少至少一个数据集的读取范围）；契约中有 createPermissionChange、decidePermissionChange、getPermissionChange。缺少任一项或目标不提供这些接口（404/405/501）时本项未测；申请方未同时持有 sharing:permission:approve 时自批无法检验，其余照做，本项记为未测。
    测试步骤：
    1. 被变更客户端以新令牌调用其缺少范围的一个数据集分页查询；
    2. 申请方登记增加该范围的申请（createPermissionChange），再以同一变更标识提交相同内容与不同内容；被变更客户端以新令牌再调用，审批方查询申请状态（getPermissionChange）；
    3. 申请方审批自己的申请（decidePermissionChange，approve），被变更客户端以新令牌再调用，审批方查询状态；
    4. 审批方批准该申请，被变更客户端以新令牌调用；
    5. 申请方登记取消该范围的申请，审批方驳回，再由审批方批准该已驳回的申请；其间被变更客户端以新令牌调用；
    6. 申请方登记取消该范围的申请，审批方批准，被变更客户端以新令牌调用（无论前面成败，授予的范围都以获批的取消申请收回）。
    预期结果：步骤 1 返回 403，错误信封、代码 FORBIDDEN、不带 data；步骤 2 登记返回 201、状态 pending，相同内容返回 200，不同内容返回 409，调用仍返回 403，状态仍为 pending；步骤 3 自批返回 403 错误信封，调用仍返回 403，状态仍为 pending；步骤 4 批准返回 200、状态 approved，调用返回 200；步骤 5 登记取消申请后与驳回（200、状态 rejected）后调用仍返回 200，再批准返回 409，其后调用仍返回 200；步骤 6 批准返回 200、状态 approved，调用返回 403（错误信封、代码 FORBIDDEN）。
    """
    requester = need_client(tzsb_target, tzsb_client, "permission-requester", "权限变更申请方")
    approver = need_client(tzsb_target, tzsb_client, "permission-approver", "权限变更审批方")
    subject = need_client(tzsb_target, tzsb_client, "permission-subject", "被变更权限的客户端")
    changes = Changes(role_ops, requester, approver)
    if not _holds(requester, changes.create):
        untested("申请方没有权限变更申请的权限范围 / the requester may not request changes")
    if not _holds(approver, changes.decide):
        untested("审批方没有审批权限变更的权限范围 / the approver may not decide changes")
    subject_id = subject.client_id or ""
    op, scope = _subject_probe(role_ops, subject)
    problems = check_error(
        _fresh_status(subject, op),
        403,
        f"{op.operation_id}（被变更客户端，缺少 {scope}）",
        codes=(ErrorCode.FORBIDDEN,),
    )
    assert not problems, "\n".join(problems)

    granted = False
    try:
        change_id, body = changes.request(subject_id, add=[scope])
        r = call(requester, changes.create, json=body)
        assert r.status == 200, (
            f"{changes.create.operation_id}: 同一变更标识、相同内容的重复申请返回 {r.status}，应为 200"
        )
        r = call(requester, changes.create, json={**body, "reason": body["reason"] + "（改）"})
        assert r.status == 409, f"{changes.create.operation_id}: 同一变更标识、不同内容返回 {r.status}，应为 409"

        r = _fresh_status(subject, op)
        granted = r.status == 200
        assert r.status == 403, (
            f"{op.operation_id}: 申请增加 {scope} 尚未审批，被变更客户端的新令牌已可调用（{r.status}）/ the change took "
            "effect before approval"
        )
        assert changes.state(change_id) == "pending", "未审批的申请状态不是 pending"

        if _holds(requester, changes.decide):
            r = changes.decision(requester, change_id, "approve")
            granted = granted or r.status == 200
            problems = check_error(r, 403, f"{changes.decide.operation_id}（申请方审批自己的申请）")
            assert not problems, (
                "申请方审批了自己的权限变更申请 / the requester approved its own change:\n" + "\n".join(problems)
            )
            r = _fresh_status(subject, op)
            granted = granted or r.status == 200
            assert r.status == 403, f"{op.operation_id}: 被拒绝的自批之后权限已生效（{r.status}）"
            assert changes.state(change_id) == "pending", "被拒绝的自批改变了申请的状态"

        changes.decided(change_id, "approve")
        granted = True
        r = _fresh_status(subject, op)
        assert r.status == 200, f"{op.operation_id}: 批准增加 {scope} 之后新令牌仍不能调用（{r.status}）/ {brief(r)}"

        rejected, _ = changes.request(subject_id, remove=[scope])
        assert _fresh_status(subject, op).status == 200, f"{op.operation_id}: 取消 {scope} 的申请未经审批即生效"
        changes.decided(rejected, "reject")
        r = _fresh_status(subject, op)
        assert r.status == 200, f"{op.operation_id}: 驳回的取消申请生效了（{r.status}）/ a rejected change took effect"
        r = changes.decision(approver, rejected, "approve")
        assert r.status == 409, f"{changes.decide.operation_id}: 已驳回的申请再批准返回 {r.status}，应为 409"
        assert _fresh_status(subject, op).status == 200, f"{op.operation_id}: 已驳回的申请被再次批准后生效"

        restore, _ = changes.request(subject_id, remove=[scope])
        changes.decided(restore, "approve")
        granted = False
        problems = check_error(
            _fresh_status(subject, op), 403, f"{op.operation_id}（批准取消 {scope} 之后）", codes=(ErrorCode.FORBIDDEN,)
        )
        assert not problems, "\n".join(problems)
    finally:
        if granted:  # leave the subject as it was, whatever failed
            cleanup, _ = changes.request(subject_id, remove=[scope])
            changes.decision(approver, cleanup, "approve")
    if not _holds(requester, changes.decide):
        untested(
            "申请方没有审批范围，无法检验其不得审批自己的申请 / the requester holds no approval scope, so self-approval "
            "could not be tried",
            provide="[clients.permission-requester] 同时持有 sharing:permission:approve",
        )


# ------------------------------------------------------------------------------------------ suspension


def _audit_op(role_ops: list[Operation]) -> Operation:
    op = next((o for o in secured(role_ops) if o.method == "get" and "audit:read" in scopes_of(o)), None)
    if op is None:
        untested("契约中没有审计查询接口 / no audit query")
    return op


def _audited(
    auditor: TargetClient, audit: Operation, start: str, wanted: dict[str, str], wait_s: float
) -> dict[str, dict[str, Any]]:
    """The audit entries (from ``start``) of the request ids ``wanted`` (id → operation id), waited for."""
    deadline = time.monotonic() + wait_s
    found: dict[str, dict[str, Any]] = {}
    while True:
        for action in sorted(set(wanted.values())):
            r = call(auditor, audit, params={"from": start, "action": action, "page": 1, "size": 100})
            assert r.status == 200, f"{audit.operation_id}: 审计查询返回 {r.status}"
            items = (data_of(r) or {}).get("items") or []
            found.update(
                {str(e.get("requestId")): e for e in items if isinstance(e, dict) and e.get("requestId") in wanted}
            )
        if set(wanted) <= set(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@contextmanager
def _suspended(
    supervisor: TargetClient, create: Operation, lift: Operation, subject: str, rids: dict[str, str]
) -> Iterator[str]:
    """``subject`` suspended for the block, lifted after it (whatever happened inside)."""
    sid = _new_id("susp")
    body = {
        "suspensionId": sid,
        "clientId": subject,
        "reason": "一致性测试：模拟发现数据滥用（IPQS.OPEN.SEC.3）",
        "evidence": ["一致性测试：无真实滥用，检验暂停机制"],
    }
    rid = request_id("suspend")
    r = call(supervisor, create, json=body, headers={"X-Request-Id": rid})
    _offered(r, create)
    assert r.status == 201, f"{create.operation_id}: 暂停返回 {r.status}，应为 201 / {brief(r)}"
    rids[rid] = create.operation_id
    try:
        r = call(supervisor, create, json=body)
        assert r.status == 200, f"{create.operation_id}: 同一暂停标识、相同内容的重复请求返回 {r.status}，应为 200"
        yield sid
    finally:
        rid = request_id("lift")
        r = call(
            supervisor,
            lift,
            path=concrete(lift, {"suspensionId": sid}),
            json={"reason": "一致性测试结束"},
            headers={"X-Request-Id": rid},
        )
        rids[rid] = lift.operation_id
        assert r.status == 200, f"{lift.operation_id}: 解除暂停返回 {r.status} / {brief(r)}"
        assert _status_of(r) == "lifted", f"{lift.operation_id}: 解除后状态为 {_status_of(r)!r}，应为 lifted"


@pytest.mark.role("sharing")
@pytest.mark.clause("IPQS.OPEN.SEC.3")
def test_a_suspension_refuses_the_client_at_once_until_it_is_lifted(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """暂停被变更客户端后，它以暂停前签发的令牌和新令牌读取共享数据都得到 403 SUSPENDED；测试凭证照常读取；解除后恢复；
    暂停与解除按请求标识出现在审计查询中。

    前置条件：目标文件有 [clients.permission-subject]（持有至少一个测试凭证也可调用的数据集读取范围）；测试凭证持有 sharing:suspend；契约中有 createSuspension、liftSuspension 与审计查询接口（audit:read）；审计员取 [clients.auditor]（缺少时用测试凭证，须持有 audit:read）。缺少任一项或目标不提供暂停接口（404/405/501）时本项未测。[thresholds] audit_wait_s（默认 5 秒）为等待审计记录的上限。
    测试步骤：
    1. 被暂停客户端以当时签发的令牌（旧令牌）调用一个数据集分页查询；以服务器时间前 2 秒为开始时间；
    2. 测试凭证暂停该客户端（createSuspension，带请求标识），再以同一暂停标识提交相同内容；
    3. 暂停期间，被暂停客户端以旧令牌、以新申请的令牌（目标拒绝签发时略过）调用同一接口；测试凭证调用同一接口；
    4. 测试凭证解除暂停（liftSuspension，带请求标识；步骤 3 失败时也解除）；被暂停客户端以旧令牌、以新令牌调用；
    5. 审计员按开始时间与操作查询审计记录（至多等待 audit_wait_s），按请求标识核对暂停与解除。
    预期结果：步骤 1 返回 200；步骤 2 返回 201，重复提交返回 200；步骤 3 被暂停客户端的调用都返回 403，错误信封、代码 SUSPENDED、不带 data，测试凭证返回 200；步骤 4 解除返回 200、状态 lifted，两次调用都返回 200；步骤 5 审计查询返回 200，暂停与解除都有审计记录，outcome 为 success，clientId 为测试凭证。
    """
    subject = need_client(tzsb_target, tzsb_client, "permission-subject", "被暂停的客户端")
    supervisor = tzsb_client()
    create, lift = _op(role_ops, "createSuspension"), _op(role_ops, "liftSuspension")
    if not _holds(supervisor, create):
        untested(
            "测试凭证没有暂停权限的权限范围 / the test credential may not suspend",
            provide="[credentials] 持有 sharing:suspend",
        )
    audit = _audit_op(role_ops)
    auditor = tzsb_client(None, "auditor") if tzsb_target.client("auditor") is not None else supervisor
    if not _holds(auditor, audit):
        untested("目标文件未提供审计员客户端 [clients.auditor]（audit:read）/ no auditor client")
    held = issue(subject).scopes
    reads = [op for op in data_set_reads(role_ops, held, feeds=False) if _holds(supervisor, op)]
    if not reads:
        untested(
            "被暂停的客户端没有可调用的数据集读取接口 / the subject may read no data set",
            provide="[clients.permission-subject] 持有至少一个数据集的读取范围",
        )
    op = reads[0]
    old = issue(subject)
    r = call(subject, op, token=old.token, params=_page(op))
    assert r.status == 200, f"{op.operation_id}: 暂停之前被暂停客户端的读取返回 {r.status} / {brief(r)}"
    start = iso(time.time() + server_offset(supervisor) - 2)
    rids: dict[str, str] = {}
    with _suspended(supervisor, create, lift, subject.client_id or "", rids):
        problems = check_error(
            call(subject, op, token=old.token, params=_page(op)),
            403,
            f"{op.operation_id}（暂停前签发的令牌）",
            codes=(ErrorCode.SUSPENDED,),
        )
        try:
            fresh = issue(subject)
        except AssertionError:
            fresh = None  # the target refuses the suspended client a token: stricter than the contract asks, refused
        if fresh is not None:
            problems += check_error(
                call(subject, op, token=fresh.token, params=_page(op)),
                403,
                f"{op.operation_id}（暂停后签发的令牌）",
                codes=(ErrorCode.SUSPENDED,),
            )
        r = call(supervisor, op, params=_page(op))
        if r.status != 200:
            problems.append(f"{op.operation_id}: 其他客户端（测试凭证）受暂停影响，返回 {r.status}")
        assert not problems, "暂停没有立即拒绝该客户端 / the suspension did not take effect:\n" + "\n".join(problems)
    r = call(subject, op, token=old.token, params=_page(op))
    assert r.status == 200, f"{op.operation_id}: 解除暂停后（暂停前签发的令牌）仍返回 {r.status}"
    r = _fresh_status(subject, op)
    assert r.status == 200, f"{op.operation_id}: 解除暂停后（新令牌）仍返回 {r.status}"
    entries = _audited(auditor, audit, start, rids, float(tzsb_target.thresholds.get("audit_wait_s", 5)))
    missing = [f"{action}（请求标识 {rid}）" for rid, action in rids.items() if rid not in entries]
    assert not missing, "暂停或解除没有审计记录 / no audit entry: " + "、".join(missing)
    wrong = [
        f"{rids[rid]}: 审计记录 {e.get('action')!r} / {e.get('outcome')!r}"
        for rid, e in entries.items()
        if e.get("outcome") != "success" or e.get("clientId") != supervisor.client_id
    ]
    assert not wrong, "暂停、解除的审计记录不对 / wrong audit entries:\n" + "\n".join(wrong)


# ------------------------------------------------------------------------------------------ grants by the owner only


@pytest.mark.role("sharing")
@pytest.mark.clause("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4")
def test_a_grant_by_a_client_not_acting_for_the_owner_is_refused(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """代表单位 U 的客户端为另一主体 O 的记录向只读客户端登记敏感字段授权：403，只读客户端读到的该记录仍为脱敏形式。

    前置条件：目标文件有 [clients.unit-grantor]（持有授权登记范围，给出所代表单位的 owner_uscc）与 [clients.reader]（只读客户端，被授权方）；契约中有授权登记接口；只读客户端读到的数据中有不属于该单位、带脱敏敏感字段的记录。缺少任一项时本项未测。[thresholds] grant_validity_s（默认 4 秒）为测试授权的有效期。
    测试步骤：
    1. 只读客户端分页查询其可读、且有按主键获取接口的数据集，找一条属于另一主体 O（不含单位 U）、敏感字段为脱敏形式的记录；
    2. 代表单位 U 的客户端以主体 O 为所属主体，向只读客户端登记这些字段的授权（有效期 grant_validity_s）；授权若被接受，等待其过期；
    3. 只读客户端按主键获取该记录。
    预期结果：步骤 2 返回 403，错误信封、不带 data；步骤 3 返回 200，这些字段仍为脱敏形式。
    """
    grantor = need_client(tzsb_target, tzsb_client, "unit-grantor", "代表一个单位、持有授权登记范围的客户端")
    declared = tzsb_target.client("unit-grantor")
    unit = declared.owner_uscc if declared is not None else None
    if not unit:
        untested(
            "目标文件未给出 [clients.unit-grantor] 所代表单位的 owner_uscc / the target file does not say which unit the "
            "grantor acts for",
            provide='[clients.unit-grantor] owner_uscc = "…"',
        )
    reader = need_client(tzsb_target, tzsb_client, "reader", "只读客户端，被授权方")
    grant_op = grant_operation(role_ops)
    if grant_op is None:
        untested("契约中没有授权登记接口 / no grant operation")
    if not _holds(grantor, grant_op):
        untested("[clients.unit-grantor] 没有授权登记的权限范围 / the grantor may not register grants")
    fields = sensitive_fields(tzsb_target.role)
    found = None
    for query in data_set_reads(role_ops, issue(reader).scopes, feeds=False):
        by_key = by_key_read(role_ops, query)
        r = call(reader, query, params={**_page(query), "size": param_maximum(query, "size", 100)})
        items = (data_of(r) or {}).get("items") if r.status == 200 and by_key is not None else None
        for rec in items or ():
            if not isinstance(rec, dict) or not (owners(rec) - {unit}) or unit in owners(rec):
                continue
            hidden = [k for k, v in rec.items() if k in fields and is_masked(v)]
            key = next((p.name for p in by_key.params if p.location == "path"), None)  # type: ignore[union-attr]
            if hidden and key and isinstance(rec.get(key), str):
                found = (query, by_key, rec, hidden, concrete(by_key, {key: rec[key]}))  # type: ignore[arg-type]
                break
        if found:
            break
    if found is None:
        untested("只读客户端读到的数据中没有其他主体的、带脱敏字段的记录 / no other owner's record with masked fields")
    query, by_key, record, hidden, path = found
    owner = sorted(owners(record) - {unit})[0]
    validity = float(tzsb_target.thresholds.get("grant_validity_s", 4))
    offset = server_offset(grantor)
    valid_to = float(math.ceil(time.time() + offset + validity))
    body = {
        "grantId": _new_id("grant"),
        "ownerUscc": owner,
        "granteeClientId": reader.client_id,
        "dataSet": query.data_set,
        "fields": hidden,
        "purpose": "一致性测试：非数据所属主体的授权应被拒绝",
        "validTo": iso(valid_to),
    }
    r = call(grantor, grant_op, json=body)
    if 200 <= r.status < 300:  # let the wrongly accepted grant run out before failing: later tests see no grant
        time.sleep(max(0.0, valid_to - (time.time() + offset)) + 1.0)
    problems = check_error(r, 403, f"{grant_op.operation_id}（单位 {unit} 的客户端为主体 {owner} 授权）")
    after = read_record(reader, by_key, path)
    shown = [f for f in hidden if not is_masked(after.get(f))]
    if shown and not problems:
        problems.append(f"{by_key.operation_id} {path}: 被拒绝的授权之后字段 {shown} 返回原文")
    assert not problems, "非数据所属主体登记的授权未被拒绝 / a grant by a non-owner was not refused:\n" + "\n".join(
        problems
    )
