"""共享平台的开放机制（可选特性 ``open-data``；工业产品质量安全监管数据规范体系 数据开放机制）：定向开放、按目录的完全开放与脱敏、
数据所属主体查阅其数据的访问记录。

GB/T 34990 式测试项：文档字符串为测试目的（中文在前、英文在后），代码为测试步骤，断言为预期结果。

* 定向开放（IPQS.OPEN.SCOPE.1）：以测试凭证登记一项定向开放（``createOpening``：数据集、开放对象、协议编号、用途、
  有效期、汇总维度），开放对象经 ``queryOpeningAggregates`` 只得到汇总计数；持有同一权限范围的非开放对象 403。
  汇总维度取自契约：数据集分页查询的过滤字段中取值为代码者（``opening.dimensions`` 的 ``x-code-defs``、枚举），
  以便用分页查询的 ``total`` 核对计数。数据使用协议本身是管理措施，接口只登记其编号。
* 按目录完全开放（IPQS.OPEN.SEC.1）：接口目录为每个开放接口列出开放字段及其脱敏规则（``openFields``；规则的种类与
  脱敏形式见 identifiers.schema.json ``maskingKind``，地址规则为本项目假定），不低于契约 ``x-open-masking``；
  开放记录只含所列字段，所列字段在原记录（测试凭证按键读取）有可显示的值时都在，脱敏字段均为脱敏形式。
* 访问记录（IPQS.OPEN.SEC.2）：被授权方按授权读取数据所属主体的记录、开放数据客户端下载含该记录的一页之后，
  该主体经 ``queryAccessLog`` 查到这两次访问；另一数据所属主体查不到，代其查询 403。

目标文件须提供的身份：``[clients.research-institute]`` 与 ``[clients.research-other]``（均持有定向开放汇总数据的权限
范围，前者为开放对象、后者不是），``[clients.owner]`` 与 ``[clients.other-owner]``（各代表一个数据所属主体，表中写
``owner_uscc``，持有访问记录查询的权限范围；平台上须有 ``owner`` 所代表主体的单位记录），``[clients.reader]``（被授权方）
与 ``[clients.open-data]``（开放数据客户端）；[credentials] 须能登记定向开放与授权。缺少时相应测试未测。
阈值：``audit_wait_s``（等待访问记录出现的秒数，默认 5），``grant_validity_s``（测试授权的有效期，默认 4 秒；
检验结束前等它到期）。

Directed opening (IPQS.OPEN.SCOPE.1), open records exactly as catalogued and masked (IPQS.OPEN.SEC.1), and the data
owner's read-back of every access to its records (IPQS.OPEN.SEC.2); the operations are the project's profile.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from typing import Any

import pytest

from conformance.check.schema import validator
from conformance.client import TargetClient
from conformance.contract import documents as contracts
from conformance.contract.datasets import DataSet, Filter, data_sets, param_limit
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation, role_operations
from conformance.harness.target import Target
from conformance.report.skips import EMPTY_DATA_SET_PROVIDE, untested, vacuous
from conformance.suites.support.checks import grant_operation, is_masked
from conformance.suites.support.security import (
    call,
    check_error,
    iso,
    issue,
    need_client,
    request_id,
    scopes_of,
    server_offset,
)
from conformance.suites.support.sharing import ROLE, explain, matches, response_validator, snippet
from conformance.suites.support.workflow import data_of

pytestmark = [pytest.mark.role(ROLE), pytest.mark.feature("open-data")]

#: What makes the opening checks testable when the target lacks the project's interfaces.
PROVIDE_OPENING = (
    "提供定向开放接口（schemas/openapi/sharing.yaml createOpening、queryOpeningAggregates），或以数据使用协议样本与"
    "开放对象清单由人工判定 / offer the directed-opening operations of sharing.yaml, or have the agreement and the "
    "addressee list judged by a person"
)
PROVIDE_ACCESS_LOG = (
    "提供数据所属主体的访问记录接口（sharing.yaml queryAccessLog），并在目标文件中给出 [clients.owner] 与 "
    "[clients.other-owner]（owner_uscc）/ offer queryAccessLog and give [clients.owner] and [clients.other-owner] "
    "with their owner_uscc"
)


def _op(operation_id: str) -> Operation:
    op = next((o for o in role_operations(ROLE) if o.operation_id == operation_id), None)
    if op is None:
        vacuous(f"契约中没有操作 {operation_id} / no operation {operation_id} in the contract")
    return op


def _absent(status: int | None) -> bool:
    """The target does not offer the operation at all (no route, no method)."""
    return status in (404, 405, 501)


# ------------------------------------------------------------------------------------------ directed opening


@functools.cache
def _code_defs() -> frozenset[str]:
    dims = contracts.json_schema("sharing")["$defs"]["opening"]["properties"]["dimensions"]
    return frozenset(dims["x-code-defs"])


def _is_code_field(prop: Any) -> bool:
    if not isinstance(prop, dict):
        return False
    ref = prop.get("$ref")
    return "enum" in prop or (isinstance(ref, str) and ref.rpartition("/")[2] in _code_defs())


def _dimensions(ds: DataSet) -> list[Filter]:
    """Filters of the data set's paged query on code fields (at most two, one per field) that a count can be
    checked with: the aggregation dimensions of the test opening."""
    out: dict[str, Filter] = {}
    for f in ds.filters_of(ds.query):
        if f.kind in ("eq", "division", "catalogue") and _is_code_field(ds.properties.get(f.field)):
            out.setdefault(f.field, f)
    return list(out.values())[:2]


def _strings(node: Any) -> set[str]:
    if isinstance(node, str):
        return {node}
    if isinstance(node, dict):
        return set().union(*(_strings(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_strings(v) for v in node)) if node else set()
    return set()


def _total(client: TargetClient, ds: DataSet, params: dict[str, Any]) -> int:
    assert ds.query is not None
    r = call(client, ds.query, params={**params, "page": 1, "size": 1})
    if r.status in (401, 403):
        untested(
            f"测试凭证不能查询数据集 {ds.name}（{r.status}），无法核对汇总数 / the harness may not query {ds.name}"
        )
    data = data_of(r)
    assert r.status == 200 and isinstance(data, dict) and isinstance(data.get("total"), int), (
        f"{ds.query.operation_id} {params}: 返回 {r.status}：{snippet(r, 200)}"
    )
    return int(data["total"])


@pytest.mark.clause("IPQS.OPEN.SCOPE.1")
def test_directed_opening_serves_aggregates_to_its_addressees_only(tzsb_client: Any, tzsb_target: Target) -> None:
    """定向开放只开放汇总数据、只向开放对象开放：以测试凭证登记一项定向开放（开放对象为科研机构客户端，附协议编号、
    用途、有效期与汇总维度）后，开放对象取得的汇总数据符合契约（只有维度取值与计数，没有记录键等记录级内容），
    总数等于该数据集分页查询的 total，分组计数之和等于总数，按维度取值过滤的分页查询 total 等于相应分组计数之和；
    持有同一权限范围的非开放对象 403；未登记的定向开放 404；尚未开始的定向开放 403。

    前置条件：目标提供可选特性 open-data；契约中有 createOpening、queryOpeningAggregates，以及分页查询可按代码字段（枚举或 x-code-defs 所列代码）过滤的数据集（没有时本项未测）；目标文件有 [clients.research-institute]（开放对象）与 [clients.research-other]（非开放对象），两者都持有汇总数据的权限范围；测试凭证能登记定向开放并查询该数据集，该数据集在目标中有记录。缺少任一项或目标不提供登记接口（404/405/501）时本项未测。测试凭证登记为某一行政区划的客户端（目标文件中的 division）时，分页查询只见该区划，汇总计数无从核对：其余各项仍判定，都符合时本项未测。
    测试步骤：
    1. 以测试凭证登记一项定向开放（createOpening：数据集、开放对象为科研机构客户端、协议编号、用途、至多两个代码字段的汇总维度、有效期 1 小时）；
    2. 开放对象查询其汇总数据（queryOpeningAggregates）；
    3. 以测试凭证分页查询该数据集取 total，再按每个维度计数最多的两个取值分别过滤取 total，并读取第 1 页的记录键；
    4. 非开放对象查询同一汇总数据；开放对象查询一个未登记的定向开放；
    5. 以测试凭证登记一项 1 小时后才开始的定向开放，开放对象查询其汇总数据。
    预期结果：步骤 1 返回 200 或 201；步骤 2 返回 200，符合契约的响应结构，每个分组的维度与登记的汇总维度一致，分组计数之和等于总数；步骤 3 各返回 200，汇总总数等于分页查询的 total，按维度取值过滤的 total 等于相应分组计数之和，汇总数据中不含第 1 页的任何记录键；步骤 4 非开放对象返回 403（错误信封、代码 FORBIDDEN、不带 data），未登记的返回 404 错误信封；步骤 5 登记返回 200 或 201，查询返回 403（错误信封、代码 FORBIDDEN）。

    A directed opening serves counts only, to its addressees only: the totals agree with the data set's paged
    query, a non-addressee holding the same scope gets 403, an unknown opening 404, one not yet valid 403.
    """
    create, aggregates = _op("createOpening"), _op("queryOpeningAggregates")
    addressee = need_client(tzsb_target, tzsb_client, "research-institute", "定向开放的开放对象（科研机构）")
    other = need_client(tzsb_target, tzsb_client, "research-other", "持有同一权限范围、不是开放对象的客户端")
    needed = set(scopes_of(aggregates))
    for who, client in (("research-institute", addressee), ("research-other", other)):
        if not needed & issue(client).scopes:
            untested(
                f"客户端 {who} 没有定向开放汇总数据的权限范围（{', '.join(sorted(needed))}），403 说明不了按开放对象拒绝 / "
                f"client {who} lacks the scope"
            )
    harness = tzsb_client()
    ds = next((d for d in data_sets().values() if d.query is not None and _dimensions(d)), None)
    if ds is None:
        vacuous("契约中没有可按代码字段汇总并核对的数据集 / no data set with code filters to aggregate by")
    dims = _dimensions(ds)
    offset = server_offset(harness)
    opening_id = f"tzsbopen-{secrets.token_hex(6)}"
    body = {
        "openingId": opening_id,
        "dataSet": ds.name,
        "addressees": [addressee.client_id],
        "agreementNo": f"TZSB-TEST-{secrets.token_hex(4)}",
        "purpose": "一致性测试：产业研究与质量提升分析（非商业用途）",
        "dimensions": [f.field for f in dims],
        "validTo": iso(time.time() + offset + 3600),
    }
    r = call(harness, create, json=body)
    if _absent(r.status):
        untested(f"目标未提供定向开放登记接口（{create.operation_id} 返回 {r.status}）", provide=PROVIDE_OPENING)
    if r.status in (401, 403):
        untested(f"测试凭证不能登记定向开放（{r.status}） / the harness may not register openings")
    assert r.status in (200, 201), f"{create.operation_id}: 登记定向开放返回 {r.status}：{snippet(r, 300)}"

    path = aggregates.path.replace("{openingId}", opening_id)
    r = call(addressee, aggregates, path=path)
    assert r.status == 200, (
        f"{aggregates.operation_id}（开放对象 {addressee.client_id}）返回 {r.status}：{snippet(r, 300)}"
    )
    problems: list[str] = []
    v = response_validator(aggregates, 200)
    if v is not None and not v.is_valid(r.json()):
        problems.append(f"汇总数据不符合契约（只允许维度取值与计数）：{explain(v, r.json())}")
    data = data_of(r)
    assert isinstance(data, dict), f"{aggregates.operation_id}: 响应没有汇总数据"
    groups = [g for g in data.get("groups") or [] if isinstance(g, dict)]
    total = data.get("total")
    names = {f.field for f in dims}
    odd = [g for g in groups if set((g.get("values") or {}).keys()) != names]
    if odd:
        problems.append(f"{len(odd)} 个分组的维度与登记的汇总维度 {sorted(names)} 不一致，如 {odd[0]}")
    counted = sum(int(g.get("count") or 0) for g in groups)
    if counted != total:
        problems.append(f"分组计数之和 {counted} 不等于总数 {total}")
    query_total = _total(harness, ds, {})
    if not query_total:
        untested(
            f"数据集 {ds.label} 没有数据，汇总数据无从核对 / the data set is empty", provide=EMPTY_DATA_SET_PROVIDE
        )
    # the aggregates cover the whole data set; a harness credential registered for one division sees part of it
    limited = _harness_division(tzsb_target)
    if limited is None and total != query_total:
        problems.append(f"汇总总数 {total} 不等于数据集 {ds.name} 分页查询的 total {query_total}")
    for f in dims if limited is None else ():
        values = sorted(
            {(g.get("values") or {}).get(f.field) for g in groups} - {None},
            key=lambda x: -sum(int(g.get("count") or 0) for g in groups if (g.get("values") or {}).get(f.field) == x),
        )
        for value in values[:2]:
            expected = sum(
                int(g.get("count") or 0) for g in groups if matches(f, value, {f.field: g["values"].get(f.field)})
            )
            got = _total(harness, ds, {f.name: value})
            if got != expected:
                problems.append(
                    f"按 {f.name}={value} 过滤的分页查询 total 为 {got}，汇总数据中相应分组计数之和为 {expected}"
                )
    # nothing record-level: no record key (and no sensitive value) of the data set's first page
    assert ds.query is not None
    first = data_of(call(harness, ds.query, params={"page": 1, "size": param_limit(ds.query, "size") or 100}))
    items = first.get("items") if isinstance(first, dict) else None
    keys = {rec.get(ds.key) for rec in items or [] if isinstance(rec, dict)} - {None}
    leaked = sorted(_strings(data) & {k for k in keys if isinstance(k, str)})
    if leaked:
        problems.append(f"汇总数据含记录键 {leaked[:3]}（共 {len(leaked)} 个）：定向开放泄露了记录级数据")

    r = call(other, aggregates, path=path)
    problems += check_error(
        r,
        403,
        f"{aggregates.operation_id}（非开放对象 {other.client_id}，持有同一权限范围）",
        codes=(ErrorCode.FORBIDDEN,),
    )
    r = call(
        addressee, aggregates, path=aggregates.path.replace("{openingId}", f"tzsbopen-none-{secrets.token_hex(6)}")
    )
    problems += check_error(r, 404, f"{aggregates.operation_id}（未登记的定向开放）")
    later = {
        **body,
        "openingId": f"tzsbopen-{secrets.token_hex(6)}",
        "validFrom": iso(time.time() + offset + 3600),
        "validTo": iso(time.time() + offset + 7200),
    }
    r = call(harness, create, json=later)
    assert r.status in (200, 201), f"{create.operation_id}: 登记尚未开始的定向开放返回 {r.status}：{snippet(r, 300)}"
    r = call(addressee, aggregates, path=aggregates.path.replace("{openingId}", later["openingId"]))
    problems += check_error(r, 403, f"{aggregates.operation_id}（尚未开始的定向开放）", codes=(ErrorCode.FORBIDDEN,))
    assert not problems, "\n".join(problems) + " / the directed opening is not limited to aggregates for its addressees"
    if limited is not None:
        untested(
            f"测试凭证登记为行政区划 {limited} 的客户端，分页查询只见该区划的记录，汇总计数（全数据集）无从核对；"
            "其余各项（只给开放对象、只有汇总、不含记录键）均符合 / the harness credential is registered for division "
            f"{limited}: its queries see part of the data set, so the aggregate counts cannot be checked",
            provide="在目标文件的 [credentials] 使用不限区划的测试客户端 / use a harness client not limited to a division",
        )


def _harness_division(target: Target) -> str | None:
    """The division the harness credential is registered for (its own ``division``, or that of the client table of
    the same client id), None when it is not limited to one."""
    creds = target.credentials
    if creds is None:
        return None
    same = [c for c in target.clients.values() if c.client_id == creds.client_id]
    return creds.division or next((c.division for c in same if c.division), None)


# ------------------------------------------------------------------------------------------ open fields as catalogued


@functools.cache
def _masking() -> dict[str, dict[str, str]]:
    """Masking kind → {masked, applies}: the identifiers $defs of its masked form and of the values it applies to."""
    kinds = contracts.json_schema("identifiers")["$defs"]["maskingKind"]["x-masking"]
    return {k: {role: "identifiers" + ref for role, ref in v.items()} for k, v in kinds.items()}


def _open_ops() -> list[Operation]:
    ops = [
        op
        for op in role_operations(ROLE)
        if op.method == "get" and op.data_set and "{" not in op.path and any(s.endswith(":open") for s in scopes_of(op))
    ]
    if not ops:
        vacuous("契约中没有开放数据接口 / no open-data operation in the contract")
    return ops


@pytest.mark.clause("IPQS.OPEN.SEC.1")
def test_open_records_carry_the_catalogued_fields_masked(tzsb_client: Any, tzsb_target: Target) -> None:
    """按目录完全开放：接口目录为每个开放接口列出开放字段及每个字段的脱敏规则，规则不低于契约（x-open-masking）；
    开放记录（前两页）只含所列字段；所列字段在原记录（测试凭证按键读取）有可显示的值时都在；脱敏字段——公民身份号码、
    手机号码与地址——均为其脱敏形式（identifiers.schema.json maskingKind）。

    前置条件：目标提供可选特性 open-data；契约中有开放数据接口（权限范围为 …:open、无路径参数的读取操作，没有时本项未测）；目标文件有 [clients.open-data]（开放数据客户端，缺少时本项未测）；测试凭证查询接口目录并按主键读取原记录。开放数据客户端无权调用（403）、开放接口都没有返回记录、或测试凭证按主键读不到任何原记录时本项未测。
    测试步骤：
    1. 以测试凭证查询接口目录（getCatalogue），取每个开放接口的开放字段及其脱敏规则（openFields）；
    2. 开放数据客户端读取每个开放接口的前两页（size 取契约上限，没有时 100；第 1 页不满即止）；
    3. 对第 1 页的前 10 条记录，以测试凭证按主键读取原记录（数据集有按主键获取接口时）。
    预期结果：步骤 1 返回 200，每个开放接口都列出 openFields，所列字段都在数据集的记录模式中，契约 x-open-masking 规定了脱敏规则的字段，目录标明的规则与契约相同；步骤 2 每页返回 200，每条记录只含所列字段，有脱敏规则的字段其值为该规则的脱敏形式；步骤 3 原记录有某一所列字段、且其值是该规则适用的值时，开放记录中也有该字段。

    Every open record carries exactly the catalogued open fields, each masked field in its masked form (addresses
    included), every described field present where the record has a value the rule can show.
    """
    ops = _open_ops()
    opener = need_client(tzsb_target, tzsb_client, "open-data", "开放数据客户端，持有开放数据接口的权限范围")
    harness = tzsb_client()
    r = call(harness, _op("getCatalogue"))
    assert r.status == 200, f"getCatalogue: 返回 {r.status}"
    listed = {e.get("operationId"): e for e in data_of(r) or [] if isinstance(e, dict)}
    masking = _masking()
    problems: list[str] = []
    seen = checked = 0
    for op in ops:
        ds = data_sets()[str(op.data_set)]
        entry = listed.get(op.operation_id) or {}
        described = {
            f["field"]: f.get("masking") for f in entry.get("openFields") or [] if isinstance(f, dict) and "field" in f
        }
        if not described:
            problems.append(f"{op.operation_id}: 接口目录未列出其开放字段及脱敏规则（openFields） / no openFields")
            continue
        unknown = sorted(set(described) - set(ds.properties))
        if unknown:
            problems.append(
                f"{op.operation_id}: 接口目录列出的开放字段 {unknown[:5]} 不在数据集 {ds.name} 的记录模式中"
            )
        for fname, kind in (op.raw.get("x-open-masking") or {}).items():
            if fname in described and described[fname] != kind:
                problems.append(
                    f"{op.operation_id}: 接口目录为字段 {fname} 标明的脱敏规则为 {described[fname]}，契约规定为 {kind}"
                )
        for page in (1, 2):
            r = call(opener, op, params={"page": page, "size": param_limit(op, "size") or 100})
            if r.status == 403:
                untested(f"开放数据客户端无权调用 {op.operation_id}（403） / the open-data client may not call it")
            assert r.status == 200, f"{op.operation_id} 第 {page} 页: 返回 {r.status}：{snippet(r, 200)}"
            items = [rec for rec in (data_of(r) or {}).get("items") or [] if isinstance(rec, dict)]
            seen += len(items)
            for rec in items:
                key = rec.get(ds.key)
                extra = sorted(set(rec) - set(described))
                if extra:
                    problems.append(f"{op.operation_id} 记录 {key}: 含目录未列为开放的字段 {extra[:5]}")
                for fname, kind in described.items():
                    if kind in masking and fname in rec and not validator(masking[kind]["masked"]).is_valid(rec[fname]):
                        problems.append(
                            f"{op.operation_id} 记录 {key}: 字段 {fname} 的值 {str(rec[fname])[:40]!r} 不是 {kind} 的脱敏形式"
                        )
            if page == 1:
                checked += _compare_with_records(harness, op, ds, items[:10], described, problems)
            if len(items) < (param_limit(op, "size") or 100):
                break
    if not seen:
        untested("开放数据接口没有返回记录，无法检验开放字段 / no open records to inspect")
    assert not problems, "\n".join(dict.fromkeys(problems[:30])) + " / open records do not match the catalogue"
    if not checked:
        untested("测试凭证不能按键读取开放记录的原记录，无法核对所列字段是否都在 / no original record to compare with")


def _compare_with_records(
    harness: TargetClient,
    op: Operation,
    ds: DataSet,
    items: list[dict[str, Any]],
    described: dict[str, Any],
    problems: list[str],
) -> int:
    """Every described field is in the open record where the original record (read by key with the harness
    credentials) has a value the field's rule can show; returns how many records were compared."""
    get = ds.get
    if get is None:
        return 0
    masking = _masking()
    compared = 0
    for rec in items:
        key = rec.get(ds.key)
        if not isinstance(key, str):
            continue
        r = call(harness, get, path=ds.record_path(key))
        if r.status != 200 or not isinstance(data_of(r), dict):
            continue
        original = data_of(r)
        compared += 1
        for fname, kind in described.items():
            if fname not in original or fname in rec:
                continue
            shown = kind not in masking or validator(masking[kind]["applies"]).is_valid(original[fname])
            if shown:
                problems.append(
                    f"{op.operation_id} 记录 {key}: 原记录有字段 {fname}，开放记录中没有（目录列其为开放字段）"
                )
    return compared


# ------------------------------------------------------------------------------------------ the owner's access log


def _owner_client(tzsb_target: Target, tzsb_client: Any, name: str, purpose: str) -> tuple[TargetClient, str]:
    client = need_client(tzsb_target, tzsb_client, name, purpose)
    creds = tzsb_target.client(name)
    owner = creds.owner_uscc if creds else None
    if not owner:
        untested(f"目标文件的 [clients.{name}] 没有 owner_uscc（所代表的数据所属主体）", provide=PROVIDE_ACCESS_LOG)
    return client, owner


def _entries(client: TargetClient, op: Operation, params: dict[str, Any]) -> list[dict[str, Any]]:
    size = param_limit(op, "size") or 100
    out: list[dict[str, Any]] = []
    for page in range(1, 21):
        r = call(client, op, params={**params, "page": page, "size": size})
        if _absent(r.status):
            untested(f"目标未提供访问记录接口（{op.operation_id} 返回 {r.status}）", provide=PROVIDE_ACCESS_LOG)
        assert r.status == 200, f"{op.operation_id}（{client.client_id}）返回 {r.status}：{snippet(r, 200)}"
        data = data_of(r)
        items = data.get("items") if isinstance(data, dict) else None
        assert isinstance(items, list), f"{op.operation_id}: 响应不是分页结果"
        out += [e for e in items if isinstance(e, dict)]
        if len(items) < size:
            break
    return out


def _found(entries: list[dict[str, Any]], client_id: str | None, action: str, key: str) -> dict[str, Any] | None:
    return next(
        (
            e
            for e in entries
            if e.get("clientId") == client_id and e.get("action") == action and key in (e.get("recordKeys") or [])
        ),
        None,
    )


@pytest.mark.clause("IPQS.OPEN.SEC.2")
def test_the_owner_reads_back_every_access_to_its_records(tzsb_client: Any, tzsb_target: Target) -> None:
    """开放数据使用可追踪，数据所属主体可查：数据所属主体授权只读客户端查看其记录的敏感字段后，只读客户端按键读取该
    记录、开放数据客户端下载含该记录的开放数据一页；该主体经访问记录接口查到这两次访问——访问方、时间、接口、记录、
    以原文提供的敏感字段及授权标识（授权读取）、开放数据的依据（下载）；另一数据所属主体查不到这些访问，代其查询 403。

    前置条件：目标提供可选特性 open-data；契约中有 queryAccessLog、授权登记接口与以数据所属主体为键、可按主键获取的数据集（没有时本项未测）；目标文件有 [clients.owner] 与 [clients.other-owner]（各带不同的 owner_uscc，持有访问记录查询的权限范围）、[clients.reader]（被授权方）与 [clients.open-data]；平台上有 owner 所代表主体的记录，且其中有脱敏的敏感字段。缺少任一项、目标不提供访问记录接口（404/405/501）、或授权后被授权方仍读到脱敏形式时本项未测。[thresholds] grant_validity_s（默认 4 秒）为测试授权的有效期，audit_wait_s（默认 5 秒）为等待访问记录的上限。
    测试步骤：
    1. 以测试凭证按主键读取该主体的记录，取其脱敏字段；以服务器时间前 2 秒为开始时间；
    2. 数据所属主体（没有授权登记范围时用测试凭证）登记授权：只读客户端可查看这些字段，有效期 grant_validity_s；
    3. 只读客户端按主键读取该记录（带请求标识），等授权过期；开放数据客户端逐页下载该数据集的开放数据（按记录的区划过滤，至多 10 页），直至出现含该记录的一页；
    4. 数据所属主体自开始时间起逐页查询访问记录（queryAccessLog），至多等待 audit_wait_s；
    5. 另一主体自开始时间起查询访问记录，再以 ownerUscc=该主体代其查询。
    预期结果：步骤 2 返回 200 或 201；步骤 3 读取返回 200；步骤 4 每页返回 200，每条访问记录符合 accessEntry 结构，没有其他主体的记录；其中有只读客户端以按主键获取接口读取该记录的访问，列出以原文提供的字段（clearFields）与该授权标识（grantId）；下载到含该记录的一页时，还有开放数据客户端以该开放接口下载该记录的访问，其 clearFields 为空；步骤 5 另一主体的访问记录中没有该主体记录的访问，代其查询返回 403（错误信封、代码 FORBIDDEN）。

    The owner finds the grantee's read (clear fields, grant id) and the open-data download of its record; another
    owner finds neither and is refused when it asks for the first owner's log.
    """
    log_op, grant_op = _op("queryAccessLog"), grant_operation(role_operations(ROLE))
    if grant_op is None:
        vacuous("契约中没有授权登记接口 / no grant operation")
    owner, owner_uscc = _owner_client(tzsb_target, tzsb_client, "owner", "数据所属主体，查阅其数据的访问记录")
    other, other_uscc = _owner_client(tzsb_target, tzsb_client, "other-owner", "另一数据所属主体")
    if other_uscc == owner_uscc:
        untested("[clients.owner] 与 [clients.other-owner] 代表同一主体 / both clients act for the same owner")
    reader = need_client(tzsb_target, tzsb_client, "reader", "被授权方")
    opener = need_client(tzsb_target, tzsb_client, "open-data", "开放数据客户端")
    harness = tzsb_client()
    ds = next((d for d in data_sets().values() if d.owner and d.owner == d.key and d.get is not None), None)
    if ds is None or ds.get is None:
        vacuous("契约中没有以数据所属主体为键的数据集 / no data set keyed by its owner")
    path = ds.record_path(owner_uscc)
    r = call(harness, ds.get, path=path)
    if r.status != 200 or not isinstance(data_of(r), dict):
        untested(
            f"平台上没有 [clients.owner] 所代表主体 {owner_uscc} 的{ds.title}记录（{r.status}） / no record of the owner",
            provide="在被测平台上预置该主体的记录 / seed the owner's record at the target",
        )
    record = data_of(r)
    hidden = [k for k, v in record.items() if is_masked(v)]
    if not hidden:
        untested(f"主体 {owner_uscc} 的记录没有脱敏的敏感字段，无法检验授权读取的记录 / no masked field to grant")
    offset = server_offset(harness)
    start = iso(time.time() + offset - 2)
    # whole seconds (validTo has no fraction), as short as the grant test's (``grant_validity_s``)
    valid_to = float(math.ceil(time.time() + offset + float(tzsb_target.thresholds.get("grant_validity_s", 4))))
    grant = {
        "grantId": f"tzsbown-{secrets.token_hex(8)}",
        "ownerUscc": owner_uscc,
        "granteeClientId": reader.client_id,
        "dataSet": ds.name,
        "fields": hidden,
        "purpose": "一致性测试：数据所属主体查阅访问记录",
        "validTo": iso(valid_to),
    }
    granter = owner if set(scopes_of(grant_op)) & issue(owner).scopes else harness
    r = call(granter, grant_op, json=grant)
    assert r.status in (200, 201), (
        f"{grant_op.operation_id}（{granter.client_id}）: 登记授权返回 {r.status}：{snippet(r)}"
    )
    try:
        r = call(reader, ds.get, path=path, headers={"X-Request-Id": request_id("own-read")})
    finally:  # the grant outlives this read by seconds only: no later check sees the record in clear
        time.sleep(max(0.0, valid_to - (time.time() + offset)) + 1.0)
    assert r.status == 200, f"{ds.get.operation_id}（被授权方 {reader.client_id}）返回 {r.status}"
    clear = [f for f in hidden if isinstance((data_of(r) or {}).get(f), str) and not is_masked(data_of(r)[f])]
    if not clear:
        untested("授权后被授权方仍读到脱敏形式（另由 IPQS.SHARE.MODE.2 的测试判定），无法检验授权读取的访问记录")
    open_op = next((op for op in _open_ops() if op.data_set == ds.name), None)
    downloaded = False
    if open_op is not None:
        division = next((f.name for f in data_sets()[ds.name].filters_of(open_op) if f.kind == "division"), None)
        params = {division: record["division"]} if division and isinstance(record.get("division"), str) else {}
        size = param_limit(open_op, "size") or 100
        for page in range(1, 11):
            r = call(opener, open_op, params={**params, "page": page, "size": size})
            if r.status != 200:
                break
            items = (data_of(r) or {}).get("items") or []
            if any(isinstance(i, dict) and i.get(ds.key) == owner_uscc for i in items):
                downloaded = True
                break
            if len(items) < size:
                break
    deadline = time.monotonic() + float(tzsb_target.thresholds.get("audit_wait_s", 5))
    while True:
        entries = _entries(owner, log_op, {"from": start})
        read = _found(entries, reader.client_id, ds.get.operation_id, owner_uscc)
        download = (
            _found(entries, opener.client_id, open_op.operation_id, owner_uscc) if downloaded and open_op else None
        )
        if (read and (download or not downloaded)) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    problems: list[str] = []
    v = validator("sharing#/$defs/accessEntry")
    bad = [e for e in entries if not v.is_valid(e)]
    if bad:
        problems.append(f"{len(bad)} 条访问记录不符合 accessEntry 结构：{explain(v, bad[0])}")
    foreign = [e for e in entries if e.get("ownerUscc") not in (None, owner_uscc)]
    if foreign:
        problems.append(f"主体 {owner_uscc} 查到 {len(foreign)} 条其他主体的访问记录")
    if read is None:
        problems.append(
            f"主体 {owner_uscc} 的访问记录中没有被授权方 {reader.client_id} 按授权读取其记录（{ds.get.operation_id}）的访问"
        )
    else:
        missing = sorted(set(clear) - set(read.get("clearFields") or []))
        if missing:
            problems.append(f"被授权方读取的访问记录未列出以原文提供的敏感字段 {missing}")
        if read.get("grantId") != grant["grantId"]:
            problems.append(f"被授权方读取的访问记录的授权标识为 {read.get('grantId')!r}，应为 {grant['grantId']}")
    if downloaded and open_op is not None:
        if download is None:
            problems.append(
                f"主体 {owner_uscc} 的访问记录中没有开放数据客户端 {opener.client_id} 下载其记录（{open_op.operation_id}）的访问"
            )
        elif download.get("clearFields"):
            problems.append(f"开放数据下载的访问记录称以原文提供了 {download.get('clearFields')}（开放数据应脱敏）")
    seen_by_other = [
        e
        for e in _entries(other, log_op, {"from": start})
        if owner_uscc in (e.get("recordKeys") or []) or e.get("ownerUscc") == owner_uscc
    ]
    if seen_by_other:
        problems.append(f"另一主体 {other_uscc} 查到了主体 {owner_uscc} 的 {len(seen_by_other)} 条访问记录")
    r = call(other, log_op, params={"ownerUscc": owner_uscc})
    problems += check_error(
        r, 403, f"{log_op.operation_id}（另一主体 {other_uscc} 代 {owner_uscc} 查询）", codes=(ErrorCode.FORBIDDEN,)
    )
    assert not problems, "\n".join(problems) + " / the owner cannot read back the accesses to its records"
