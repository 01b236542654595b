"""共享平台功能测试（读取）：接口目录、健康状态、按主键获取、分页条件查询、过滤条件与分页完整性。

GB/T 34990 式测试项：每个测试的文档字符串给出测试目的，代码即测试步骤，断言给出预期结果（中文在前、英文在后）。
数据集、主键、路径、参数及其上下限均取自契约 ``schemas/openapi/sharing.yaml``（``x-data-sets``），
所用记录取自被测平台自己返回的数据（各数据集第一页），不假定演示数据。

Functional tests of the sharing platform (reads): catalogue, health, get by key, paged queries,
filters and paging completeness, for every data set the contract declares.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.check.schema import validator
from conformance.client import TargetClient
from conformance.contract.datasets import DataSet, Filter, data_sets, max_size, param_default, param_limit
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import role_operations
from conformance.report.skips import EMPTY_DATA_SET_PROVIDE, untested, vacuous
from conformance.suites.support.reporting import operation
from conformance.suites.support.sharing import (
    DATA_SETS,
    ROLE,
    catalogue_classes,
    check_page,
    check_record,
    content_marks,
    division_classes,
    expect,
    expect_error,
    invalid_param_value,
    key_candidates,
    matches,
    pages_for,
    pull,
    query,
    run_cache,
    sample,
    scale,
    snippet,
)

pytestmark = pytest.mark.role(ROLE)

WITH_CONTENT = [pytest.param(n, id=n, marks=content_marks(n)) for n in DATA_SETS]


@pytest.fixture
def client(tzsb_client: Any) -> TargetClient:
    return tzsb_client()


def _items(request: pytest.FixtureRequest, client: TargetClient, name: str) -> list[dict[str, Any]]:
    items = sample(request, client, name)
    if not items:
        untested(
            f"{data_sets()[name].label}没有数据，无法执行本项 / the data set is empty at the target",
            provide=EMPTY_DATA_SET_PROVIDE,
        )
    return items


# ---------------------------------------------------------------------------- catalogue, health


def _catalogue(client: TargetClient) -> list[dict[str, Any]]:
    data = expect(client.get(operation(ROLE, "getCatalogue").path), 200, "查询接口目录 / catalogue")
    assert isinstance(data, list) and data, "接口目录为空 / the catalogue is empty"
    v = validator("sharing#/$defs/catalogueEntry")
    bad = [e for e in data if not v.is_valid(e)]
    assert not bad, f"接口目录项不符合 catalogueEntry 结构，例：{bad[0]} / catalogue entries do not validate"
    return data


@pytest.mark.clause("SHARE.IF.FUNC.8")
def test_catalogue_lists_every_operation_of_the_contract(client: TargetClient) -> None:
    """接口目录列出契约的全部业务接口（需授权的接口），方法、路径、数据集与契约一致。

    前置条件：目标文件有 [credentials]（测试凭证）。
    测试步骤：
    1. 以测试凭证查询接口目录（getCatalogue）；
    2. 将目录项与契约中的接口逐一比对（operationId、方法、路径、数据集）。
    预期结果：步骤 1 返回 200，目录不为空，每个目录项符合 catalogueEntry 结构；步骤 2 契约中每个需授权的接口都在目录中，目录中契约接口的方法与路径与契约一致，标明的数据集与契约所指的相同。
    """
    entries = _catalogue(client)
    by_id = {e["operationId"]: e for e in entries}
    # every secured operation must be listed (token and health, which need no scope, may be)
    missing = [op.operation_id for op in role_operations(ROLE) if op.secured and op.operation_id not in by_id]
    ops = [op for op in role_operations(ROLE) if op.operation_id in by_id]
    assert not missing, f"接口目录缺少 {len(missing)} 个接口：{', '.join(missing)} / the catalogue lacks {missing}"
    wrong = [
        f"{op.operation_id}: 目录为 {by_id[op.operation_id]['method']} {by_id[op.operation_id]['path']}，"
        f"契约为 {op.method.upper()} {op.path}"
        for op in ops
        if (by_id[op.operation_id]["method"], by_id[op.operation_id]["path"]) != (op.method.upper(), op.path)
    ]
    assert not wrong, "接口目录与契约不一致：" + "；".join(wrong[:5]) + " / catalogue entries differ from the contract"
    sets = [
        f"{op.operation_id}: 目录数据集 {by_id[op.operation_id].get('dataSet')}，契约 {op.data_set}"
        for op in ops
        if op.data_set and by_id[op.operation_id].get("dataSet") != op.data_set
    ]
    assert not sets, "接口目录的数据集与契约不一致：" + "；".join(sets[:5]) + " / catalogue data sets differ"


@pytest.mark.clause("SHARE.IF.TECH.3")
def test_interfaces_carry_a_version(client: TargetClient) -> None:
    """接口目录为每个接口标明版本，业务接口路径带版本段（如 /api/v1/）。

    前置条件：目标文件有 [credentials]（测试凭证）。
    测试步骤：
    1. 以测试凭证查询接口目录（getCatalogue）；
    2. 检查每个以 /api/ 开头的接口路径。
    预期结果：步骤 1 返回 200，目录不为空，每个目录项符合 catalogueEntry 结构（含必填的版本 version）；步骤 2 每个这样的路径都带版本段 /v<数字>。
    """
    entries = _catalogue(client)
    unversioned = [
        e["operationId"] for e in entries if e["path"].startswith("/api/") and not re.search(r"/v\d+(/|$)", e["path"])
    ]
    assert not unversioned, f"以下接口路径未标明版本：{unversioned[:5]} / these paths carry no version"


@pytest.mark.clause("INFO2007.2.5.1", "INFO2007.1.1")
def test_the_four_theme_databases_are_offered(client: TargetClient) -> None:
    """设备、单位（机构）、人员、事故四个主题数据集在接口目录中列出，且均可分页查询。

    前置条件：目标文件有 [credentials]（测试凭证）。
    测试步骤：
    1. 以测试凭证查询接口目录（getCatalogue）；
    2. 对设备、单位（机构）、人员、事故四个主题，取契约中该记录模式的数据集；
    3. 以 page=1、size=1 分页查询每个主题数据集。
    预期结果：步骤 1 返回 200，目录项符合 catalogueEntry 结构；步骤 2 契约声明了四个主题数据集，接口目录中都有标明该数据集的接口；步骤 3 每次返回 200，分页结果符合契约。
    """
    themes = {"equipment": "设备", "unit": "单位（机构）", "personnel": "人员", "accident": "事故"}
    offered = {e.get("dataSet") for e in _catalogue(client)}
    for schema, title in themes.items():
        ds = next((d for d in data_sets().values() if d.schema == schema), None)
        assert ds is not None, f"契约未声明{title}数据集 / the contract declares no {schema} data set"
        assert ds.name in offered, (
            f"接口目录没有{title}数据集（{ds.name}）的接口 / no {ds.name} interfaces in the catalogue"
        )
        query(client, ds, {"page": 1, "size": 1}, f"{title}数据集分页查询")


@pytest.mark.clause("SHARE.IF.FUNC.9")
def test_health_reports_status_without_leaking_internals(client: TargetClient) -> None:
    """健康状态接口无需令牌，报告整体与各组件状态（正常、降级、不可用），不泄露内部地址、堆栈或凭证。

    前置条件：目标文件给出基础地址（本项不带令牌）。
    测试步骤：
    1. 不带令牌调用健康状态接口（getHealth）；
    2. 在应答正文中查找内部信息的痕迹。
    预期结果：步骤 1 返回 200，data 符合 health 结构；步骤 2 正文中没有私网地址（10.x、192.168.x、172.16–31.x）、Traceback、password、secret、jdbc:、exception 字样。
    """
    r = client.get(operation(ROLE, "getHealth").path, auth=False)
    data = expect(r, 200, "健康状态 / health")
    v = validator("sharing#/$defs/health")
    assert v.is_valid(data), f"健康状态结构不符：{v.errors(data)[:3]} / the health object does not validate"
    text = r.content.decode("utf-8", errors="replace")
    leaks = [
        pattern
        for pattern in (
            r"\b10\.\d+\.\d+\.\d+\b",
            r"\b192\.168\.\d+\.\d+\b",
            r"\b172\.(1[6-9]|2\d|3[01])\.\d+\.\d+\b",
            r"Traceback",
            r"(?i)password",
            r"(?i)secret",
            r"jdbc:",
            r"(?i)exception",
        )
        if re.search(pattern, text)
    ]
    assert not leaks, f"健康状态泄露内部信息（匹配 {leaks}）：{snippet(r)} / the health response leaks internals"


# ---------------------------------------------------------------------------- get by key


@pytest.mark.parametrize("name", WITH_CONTENT)
@pytest.mark.clause("SHARE.IF.FUNC.1")
def test_get_by_key_returns_the_record(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Any
) -> None:
    """按主键获取：以分页查询返回的记录主键逐条获取，返回 200，记录符合数据集的数据模式，主键一致。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；被测数据集的第 1 页（每页最大条数）有记录，没有时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集第 1 页（每页最大条数）；
    2. 从中均匀抽取档位规定条数的记录；
    3. 以每条记录的主键按主键获取。
    预期结果：步骤 1 返回 200；抽取的每条记录都有主键；步骤 3 每次返回 200，记录符合数据集的数据模式，主键与所给的相同。
    """
    ds = data_sets()[name]
    items = _items(request, client, name)
    n = scale(tzsb_target).samples
    picks = [items[round(i * (len(items) - 1) / max(1, n - 1))] for i in range(min(n, len(items)))]
    for rec in picks:
        key = rec.get(ds.key)
        assert isinstance(key, str), f"分页查询返回的记录没有主键 {ds.key} / a record without its key {ds.key}"
        data = expect(client.get(ds.record_path(key)), 200, f"按主键获取{ds.label}“{key}”")
        check_record(ds, data, f"按主键获取“{key}”")
        assert data.get(ds.key) == key, f"按主键“{key}”获取到的记录主键为“{data.get(ds.key)}” / got another record"


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.1", "PROFILE.STATUS.1")
def test_an_unknown_key_is_404(name: str, client: TargetClient, request: pytest.FixtureRequest) -> None:
    """按主键获取：格式正确但不存在的主键返回 404 错误信封（NOT_FOUND，中文说明）。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；能构造格式正确、不在第 1 页中的主键（至多 40 次，构造不出时本项未测）。
    测试步骤：
    1. 以测试凭证分页查询该数据集第 1 页，取已有主键；
    2. 按主键的编码规则生成（或改写已有主键的数字得到）格式正确的新主键；
    3. 按该主键获取；返回 200（碰巧存在）时换一个再试。
    预期结果：步骤 1 返回 200；步骤 3 返回 404，错误信封符合契约（含中文说明），错误代码为 NOT_FOUND。
    """
    ds = data_sets()[name]
    known = [r[ds.key] for r in sample(request, client, name) if isinstance(r.get(ds.key), str)]
    rng = random.Random(f"unknown-key:{name}")
    for candidate in key_candidates(ds, known, rng):
        r = client.get(ds.record_path(candidate))
        if r.status == 200:
            continue  # exists after all: try another
        body = expect_error(r, 404, f"获取不存在的{ds.label}“{candidate}”")
        assert body["code"] == ErrorCode.NOT_FOUND, (
            f"404 的错误代码为 {body['code']}，应为 NOT_FOUND / error code should be NOT_FOUND"
        )
        return
    pytest.skip("未能构造格式正确且不存在的主键 / could not build an absent key")


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.1", "PROFILE.ERROR.1")
def test_a_malformed_key_is_400_naming_the_field(name: str, client: TargetClient) -> None:
    """按主键获取：格式错误的主键返回 400，错误项指出该字段。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；契约对主键参数有格式约束（没有时本项未测）。
    测试步骤：
    1. 取一个不符合契约主键参数模式的值（如“!!无效值!!”）；
    2. 以之按主键获取。
    预期结果：步骤 2 返回 400，错误信封符合契约，errors 中有一项的 path 指出主键参数名。
    """
    ds = data_sets()[name]
    param = ds.key_param
    assert param is not None
    bad = invalid_param_value(param)
    if bad is None:
        vacuous(f"契约对主键 {param.name} 没有格式约束 / the key has no format constraint")
    body = expect_error(client.get(ds.record_path(bad)), 400, f"以格式错误的主键“{bad[:20]}”获取{ds.label}")
    paths = [str(e.get("path", "")) for e in body.get("errors") or []]
    assert any(param.name in p for p in paths), (
        f"400 的错误项未指出字段 {param.name}：{paths} / the errors do not name {param.name}"
    )


# ---------------------------------------------------------------------------- paged query


@pytest.mark.parametrize("name", WITH_CONTENT)
@pytest.mark.clause("SHARE.IF.FUNC.2", "PROFILE.PAGE.1")
def test_a_query_page_is_consistent(name: str, client: TargetClient) -> None:
    """分页查询（不带参数）：返回第 1 页、契约默认的每页条数与总条数，条数一致，每条记录符合数据模式。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者。
    测试步骤：
    1. 以测试凭证不带参数分页查询该数据集。
    预期结果：返回 200，分页结果符合契约，每条记录符合数据集的数据模式；page 为 1；契约给出 size 默认值时 size 等于该值；记录条数不超过 size，且等于 size 与 total 中的较小者。
    """
    ds = data_sets()[name]
    data = query(client, ds, {}, f"{ds.label} 分页查询（默认参数）")
    check_page(ds, data, f"{ds.label} 分页查询")
    default = param_default(ds.query, "size")
    assert data["page"] == 1, f"不带 page 时应返回第 1 页，实为 {data['page']} / default page should be 1"
    if isinstance(default, int):
        assert data["size"] == default, (
            f"不带 size 时每页条数应为契约默认值 {default}，实为 {data['size']} / default size"
        )
    n, size, total = len(data["items"]), data["size"], data["total"]
    assert n <= size, f"返回 {n} 条，超过每页条数 {size} / more items than size"
    assert n == min(size, total), (
        f"总条数 {total}、每页 {size} 时第 1 页应有 {min(size, total)} 条，实为 {n} / "
        f"page 1 should hold min(size, total) items"
    )


def _boundary_cases() -> list[Any]:
    cases = [(p, c) for p in ("size", "page") for c in ("1", "max", "max+1", "0", "abc")] + [("page", "last+1")]
    out = []
    for name in DATA_SETS:
        for param, case in cases:
            other = "SHARE.SEC.VOLUME.2" if (param, case) == ("size", "max+1") else "SHARE.IF.FUNC.2"
            marks = pytest.mark.clause("PROFILE.PAGE.1", other)
            out.append(pytest.param(name, param, case, id=f"{name}-{param}={case}", marks=marks))
    return out


@pytest.mark.parametrize(("name", "param", "case"), _boundary_cases())
def test_page_and_size_boundaries(name: str, param: str, case: str, client: TargetClient) -> None:
    """分页参数边界值：page、size 取 1 与上限时正常返回，取 0、上限+1 与非数字时返回 400，超出末页返回空 items。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；边界取值（逐个参数化）为 size、page 取 1、上限、上限+1、0、abc，及 page 取末页+1；取上限或上限+1 而契约未声明该参数上限时本项未测。
    测试步骤：
    1. 以 page=1、size=1 分页查询，取 total；
    2. 以该边界值查询（测 page 时 size 取契约的最大值；末页按 total 与最大每页条数计算）。
    预期结果：步骤 1 返回 200；取上限+1、0、abc 时步骤 2 返回 400，错误信封符合契约，错误代码为 BAD_REQUEST 或 VALIDATION_FAILED；其余取值返回 200，分页结果与记录符合契约，total 与步骤 1 相同，测 size 时响应 size 等于所给值、条数为 size 与 total 中的较小者，测 page 时响应 page 等于所给值、条数为该页应有的条数（超出末页为 0）。
    """
    ds = data_sets()[name]
    upper = param_limit(ds.query, param)
    lower = param_limit(ds.query, param, "minimum") or 1
    if case in ("max", "max+1") and upper is None:
        vacuous(f"契约未声明 {param} 的上限 / no declared maximum for {param}")
    total = query(client, ds, {"page": 1, "size": 1}, f"{ds.label} 分页查询")["total"]
    size = max_size(ds)
    value: Any = {
        "1": lower,
        "max": upper,
        "max+1": (upper or 0) + 1,
        "0": lower - 1,
        "abc": "abc",
        "last+1": pages_for(total, size) + 1,
    }[case]
    params = {param: value} if param == "size" else {"page": value, "size": size}
    label = f"{ds.label} 分页查询 {params}"
    if case in ("max+1", "0", "abc"):
        body = expect_error(client.get(ds.path, params=params), 400, label)
        assert body["code"] in (ErrorCode.BAD_REQUEST, ErrorCode.VALIDATION_FAILED), (
            f"错误代码 {body['code']} / error code"
        )
        return
    data = expect(client.get(ds.path, params=params), 200, label)
    check_page(ds, data, label)
    assert data["total"] == total, f"{label}：总条数 {data['total']} 与第 1 页的 {total} 不一致 / total changed"
    if param == "size":
        assert data["size"] == value, f"{label}：响应的 size 为 {data['size']}，请求为 {value} / size not echoed"
        assert len(data["items"]) == min(value, total), (
            f"{label}：应返回 {min(value, total)} 条，实为 {len(data['items'])} / expected min(size, total) items"
        )
    else:
        assert data["page"] == value, f"{label}：响应的 page 为 {data['page']} / page not echoed"
        expected = max(0, min(size, total - (value - 1) * size))
        assert len(data["items"]) == expected, (
            f"{label}：第 {value} 页应有 {expected} 条（超出末页为空），实为 "
            f"{len(data['items'])} / page {value} should hold {expected} items"
        )


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("PROFILE.ERROR.1")
def test_query_errors_name_every_bad_parameter(name: str, client: TargetClient) -> None:
    """查询参数校验：page、size 与各过滤条件同时取错误值时返回 400，错误项逐一指出每个参数（一次列出全部错误）。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者。
    测试步骤：
    1. 以 page=0、size=上限+1（契约未给上限时 1001），以及每个有格式约束的过滤条件取不符合其模式的值，一次分页查询该数据集。
    预期结果：返回 400，错误信封符合契约；errors 的 path 中逐一出现每个所给的参数名。
    """
    ds = data_sets()[name]
    params: dict[str, Any] = {"page": 0, "size": (param_limit(ds.query, "size") or 1000) + 1}
    for f in ds.filters:
        bad = invalid_param_value(f.param)
        if bad is not None:
            params[f.name] = bad
    body = expect_error(client.get(ds.path, params=params), 400, f"{ds.label} 以错误参数查询 {list(params)}")
    paths = " ".join(str(e.get("path", "")) for e in body.get("errors") or [])
    unnamed = [p for p in params if p not in paths]
    assert not unnamed, (
        f"400 的错误项未指出参数 {unnamed}（errors 路径：{paths or '无'}） / "
        f"the errors do not name the parameters {unnamed}"
    )


# ---------------------------------------------------------------------------- filters


def _filter_cases() -> list[Any]:
    return [pytest.param(name, f.name, id=f"{name}-{f.name}") for name in DATA_SETS for f in data_sets()[name].filters]


def _classes(f: Filter, value: Any) -> list[tuple[str, str]]:
    if f.kind == "division":
        return division_classes(value)
    if f.kind == "catalogue":
        return catalogue_classes(value)
    if f.kind == "contains":
        return [("含该项", value[0])]
    return [("取样本值", str(value))]


def _find(client: TargetClient, ds: DataSet, params: dict[str, Any], key: str, cap: int) -> bool | None:
    """Whether the record ``key`` is in the filtered result: True / False, or None (not settled within ``cap``)."""
    size = max_size(ds)
    page, seen = 1, 0
    while seen < cap:
        data = query(client, ds, {**params, "page": page, "size": size})
        keys = [r.get(ds.key) for r in data["items"]]
        if key in keys:
            return True
        if not keys or page * size >= data["total"]:
            return False
        if ds.ordered_by_key and all(isinstance(k, str) for k in keys) and keys[-1] > key:
            return False
        seen += len(keys)
        page += 1
    return None


@pytest.mark.parametrize(("name", "param"), _filter_cases())
@pytest.mark.clause("SHARE.IF.FUNC.2")
def test_a_filter_returns_only_and_all_matching_records(
    name: str, param: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Any
) -> None:
    """条件查询：每个声明的过滤条件按等价类取值（区划取县、市、省级；目录取品种、类别、种类），返回的记录全部满足条件，
    且取值所依据的样本记录在结果中。

    前置条件：目标文件有 [credentials]（测试凭证）；过滤条件（逐个参数化）为契约为各数据集声明者；被测数据集的第 1 页（每页最大条数）有记录，没有时本项未测，且其中有记录填写了该条件的字段（没有时本项未测）。
    测试步骤：
    1. 以测试凭证分页查询第 1 页，取填写了该字段的第一条记录为样本；
    2. 按样本的值取等价类（区划：县、地、省级；目录：本级及各上级；数组：含该项；其余：样本值）；
    3. 对每个取值以该条件查询（每页最大条数）；
    4. 逐页查找样本记录是否在该条件的结果中（至多读档位规定的条数；按主键排序时越过即止）。
    预期结果：步骤 1、3 返回 200，分页结果与记录符合契约；步骤 3 返回的每条记录都满足该条件，total 至少为 1；步骤 4 样本记录在结果中（读到上限仍未判定时不计为失败）。
    """
    ds = data_sets()[name]
    f = next(x for x in ds.filters if x.name == param)
    base = next((r for r in _items(request, client, name) if r.get(f.field) not in (None, "", [])), None)
    if base is None:
        pytest.skip(f"第一页记录都没有字段 {f.field}，无法取值 / no sample record has {f.field}")
    cap = scale(tzsb_target).walk
    for label, value in _classes(f, base[f.field]):
        params = {param: value, "size": max_size(ds)}
        data = query(client, ds, params, f"{ds.label} 按 {param}={value}（{label}）查询")
        check_page(ds, data, f"按 {param}={value} 查询")
        wrong = [r.get(ds.key) for r in data["items"] if not matches(f, value, r)]
        assert not wrong, (
            f"按 {param}={value}（{label}）查询返回了不满足条件的记录 {wrong[:5]}（字段 {f.field}） / "
            f"the filter {param}={value} returned non-matching records"
        )
        assert data["total"] >= 1, f"按 {param}={value}（{label}）查询总条数为 0，但样本记录满足条件 / total 0"
        found = _find(client, ds, {param: value}, base[ds.key], cap)
        assert found is not False, (
            f"按 {param}={value}（{label}）查询的结果中没有满足条件的样本记录“{base[ds.key]}” / "
            f"the matching sample record is missing from the filtered result"
        )


def _range_pairs() -> list[Any]:
    out = []
    for name in DATA_SETS:
        fs = data_sets()[name].filters
        for lo in fs:
            hi = next((x for x in fs if x.kind == "to" and x.field == lo.field), None)
            if lo.kind == "from" and hi is not None:
                out.append(pytest.param(name, lo.name, hi.name, id=f"{name}-{lo.name}-{hi.name}"))
    return out


@pytest.mark.parametrize(("name", "low", "high"), _range_pairs())
@pytest.mark.clause("SHARE.IF.FUNC.2")
def test_a_range_with_its_upper_bound_before_the_lower_is_400(
    name: str, low: str, high: str, client: TargetClient, request: pytest.FixtureRequest
) -> None:
    """条件查询：区间上限早于下限返回 400；上下限相同（含端点）时返回满足条件的记录。

    前置条件：目标文件有 [credentials]（测试凭证）；区间（逐个参数化）为契约为同一字段声明的上下限过滤条件；被测数据集的第 1 页（每页最大条数）有记录，没有时本项未测，且其中有记录填写了该字段（没有时本项未测）。
    测试步骤：
    1. 以测试凭证分页查询第 1 页，取填写了该字段的第一条记录的值（日期型取前 10 位）；
    2. 以下限=该值、上限=2000-01-01（或其 00:00:00+08:00 时刻）查询；
    3. 以上下限都等于该值查询（每页最大条数）。
    预期结果：步骤 1 返回 200；步骤 2 返回 400，错误信封符合契约；步骤 3 返回 200，total 至少为 1。
    """
    ds = data_sets()[name]
    f = next(x for x in ds.filters if x.name == low)
    base = next((r for r in _items(request, client, name) if isinstance(r.get(f.field), str)), None)
    if base is None:
        pytest.skip(f"第一页记录都没有字段 {f.field} / no sample record has {f.field}")
    value = base[f.field] if f.value_format == "date-time" else base[f.field][:10]
    earlier = "2000-01-01T00:00:00+08:00" if f.value_format == "date-time" else "2000-01-01"
    expect_error(client.get(ds.path, params={low: value, high: earlier}), 400, f"{ds.label} 以 {high} 早于 {low} 查询")
    data = query(
        client, ds, {low: value, high: value, "size": max_size(ds)}, f"{ds.label} 以 {low}={high}={value} 查询"
    )
    assert data["total"] >= 1, f"{low}={high}={value}（端点包含在内）应至少返回样本记录 / inclusive bounds should match"


# ---------------------------------------------------------------------------- paging completeness


def _walk_params(
    request: pytest.FixtureRequest, client: TargetClient, name: str, cap: int
) -> tuple[dict[str, Any], int]:
    """A filter (from the target's own records) whose result has between 2 and ``cap`` records; cached."""
    cache = run_cache(request).setdefault("walk-params", {})
    if name in cache:
        return cache[name]
    ds = data_sets()[name]
    items = _items(request, client, name)
    candidates: list[dict[str, Any]] = [{}]
    for rec in items[:5]:
        singles: list[dict[str, Any]] = []
        for f in ds.filters:
            value = rec.get(f.field)
            if f.kind == "division" and isinstance(value, str):
                singles += [{f.name: code} for _, code in reversed(division_classes(value))]
            elif f.kind == "eq" and isinstance(value, str) and f.value_format is None:
                singles.append({f.name: value})
        for lo in ds.filters:  # a range on one value (both bounds inclusive): records of that day / instant
            hi = next((x for x in ds.filters if x.kind == "to" and x.field == lo.field), None)
            value = rec.get(lo.field)
            if lo.kind == "from" and hi is not None and isinstance(value, str):
                value = value if lo.value_format == "date-time" else value[:10]
                singles.append({lo.name: value, hi.name: value})
        candidates += singles
        candidates += [{**a, **b} for i, a in enumerate(singles) for b in singles[i + 1 :] if not set(a) & set(b)]
    best: tuple[dict[str, Any], int] | None = None
    probe = min(cap, max_size(ds))  # a page as large as the walk: a total that only counts the page shows up
    unique = list({repr(sorted(c.items())): c for c in candidates}.values())
    for params in unique[:20]:
        total = query(client, ds, {**params, "page": 1, "size": probe}, f"{ds.label} 试查询 {params}")["total"]
        if 2 <= total <= cap:
            best = (params, total)
            break
    if best is None:
        pytest.skip(f"找不到结果在 2 到 {cap} 条之间的过滤条件，无法在本档位逐页遍历 / no filter with 2..{cap} records")
    cache[name] = best
    return best


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.2", "PROFILE.PAGE.1")
def test_walking_all_pages_gives_every_record_once(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Any
) -> None:
    """分页完整性：对一个条件查询逐页读取至末页（数据不变时），每条记录恰好出现一次，条数等于 total，
    每页的 page、size、total 一致，按契约声明的主键升序排列，末页之后为空页。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；被测数据集的第 1 页（每页最大条数）有记录，没有时本项未测；以第 1 页前 5 条记录的取值（区划、相等条件、单日区间及其两两组合）能找到结果在 2 到档位遍历上限之间的过滤条件（找不到时本项未测）。
    测试步骤：
    1. 以测试凭证试查询候选过滤条件（至多 20 个），取第一个 total 在 2 到遍历上限之间的；
    2. 以约为 total/档位页数的每页条数，从第 1 页逐页读取至末页之后一页。
    预期结果：步骤 1 返回 200；步骤 2 每页返回 200，page、size 与所给相同，total 与步骤 1 相同，条数为该页应有的条数（末页之后为 0）；读到的主键不重复，条数等于 total；契约声明按主键排序时主键为升序。
    """
    ds = data_sets()[name]
    sc = scale(tzsb_target)
    params, total = _walk_params(request, client, name, sc.walk)
    size = min(max_size(ds), max(1, math.ceil(total / sc.pages)))
    pages = pages_for(total, size)
    keys: list[str] = []
    for page in range(1, pages + 2):
        data = query(
            client, ds, {**params, "page": page, "size": size}, f"{ds.label} {params} 第 {page} 页（每页 {size}）"
        )
        where = f"{params} 第 {page} 页（每页 {size}）"
        assert (data["page"], data["size"]) == (page, size), (
            f"{where}：响应的 page/size 为 {data['page']}/{data['size']} / echo"
        )
        assert data["total"] == total, (
            f"{where}：total 为 {data['total']}，第 1 次查询为 {total}（数据未变） / total differs between pages"
        )
        expected = max(0, min(size, total - (page - 1) * size))
        assert len(data["items"]) == expected, (
            f"{where}：应有 {expected} 条，实为 {len(data['items'])}（total {total}） / "
            f"page should hold {expected} items"
        )
        keys += [r.get(ds.key) for r in data["items"]]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    assert not dupes, f"逐页读取出现重复记录 {dupes[:5]} / records repeated across pages"
    assert len(keys) == total, f"逐页读取得到 {len(keys)} 条，total 为 {total} / walked {len(keys)} of {total}"
    if ds.ordered_by_key:
        assert keys == sorted(keys), f"记录未按契约声明的 {ds.key} 升序排列 / not in ascending {ds.key} order"


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.2", "PROFILE.PAGE.1")
def test_any_page_is_its_slice_of_the_whole_result(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Any
) -> None:
    """分页一致性（基于性质的测试）：任取 page 与 size，返回的记录恰为完整有序结果中对应的一段，total 不变。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；被测数据集的第 1 页（每页最大条数）有记录，没有时本项未测；能找到结果在 2 到档位遍历上限之间的过滤条件（同分页完整性一项，找不到时本项未测）。
    测试步骤：
    1. 以该过滤条件、每页最大条数读取完整结果；
    2. 以 Hypothesis 生成（固定种子）档位规定个数的 (page, size)：size 在 1 到 min(最大每页条数, total+3) 之间，page 在 1 到末页+1 之间；
    3. 以每组 page、size 查询。
    预期结果：步骤 1 各页返回 200，读到的条数等于 total；步骤 3 每次返回 200，total 不变；契约声明按主键排序时返回的主键恰为完整结果中第 (page−1)·size 起的 size 条，否则条数与之相同且记录都在完整结果中。
    """
    ds = data_sets()[name]
    sc = scale(tzsb_target)
    params, _ = _walk_params(request, client, name, sc.walk)
    whole, total = pull(client, ds, sc.walk, params)
    keys = [r.get(ds.key) for r in whole]
    assert len(keys) == total, f"以最大每页条数读取 {params} 得到 {len(keys)} 条，total 为 {total} / incomplete"
    biggest = max_size(ds)

    @settings(
        max_examples=sc.examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def page_is_a_slice(data: st.DataObject) -> None:
        size = data.draw(st.integers(1, min(biggest, total + 3)), label="size")
        page = data.draw(st.integers(1, pages_for(total, size) + 1), label="page")
        got = query(client, ds, {**params, "page": page, "size": size}, f"{ds.label} {params} page={page} size={size}")
        shown = [r.get(ds.key) for r in got["items"]]
        want = keys[(page - 1) * size : page * size]
        assert got["total"] == total, f"page={page} size={size}：total {got['total']} ≠ {total} / total differs"
        if ds.ordered_by_key:
            assert shown == want, (
                f"page={page} size={size}：返回 {shown[:3]}…（{len(shown)} 条），应为 {want[:3]}…"
                f"（{len(want)} 条） / the page is not its slice of the ordered result"
            )
        else:
            assert len(shown) == len(want) and set(shown) <= set(keys), (
                f"page={page} size={size}：条数或记录不符 / wrong page"
            )

    page_is_a_slice()
