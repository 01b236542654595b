"""政务服务平台功能测试（一）：事项管理与统一身份认证 —— DB42/T 2279-2024 §5 表1、§10.2 表5 序号1–4。

GB/T 34990 式测试项：每个测试的文档字符串给出测试目的（中文，其后英文），代码即测试步骤，断言给出预期结果。
接口、路径、参数与响应结构取自 ``schemas/openapi/gov-platform.yaml``，114 个办理项的编码、分组与名称取自
``schemas/codelists/licence-items.json``（表1 原文），所查的实施部门与区划取自被测平台自己的实施清单（T5-1），
不假定演示数据。统一身份认证用户（T5-3、T5-4）没有检索接口，由目标文件声明一个平台认识的用户标识
（``[thresholds] gov_natural_user_id`` / ``gov_legal_user_id``）；未声明时该项为“未测”。

Functional tests of the government-service platform, part 1: the implementation list (T5-1), the
handling items of Table 1 by division (T5-2, all 114 with their exact names) and the user lookups
(T5-3, T5-4), called as the licensing system (``[clients.licensing-system]``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conformance.codes import lists as code_lists
from conformance.contract.errors import ErrorCode
from conformance.harness.target import Target
from conformance.suites.support.gov_platform import (
    ROLE,
    Platform,
    groups,
    names_field,
    page_size,
    table_1,
    user_ids,
    with_bad_check,
)
from conformance.suites.support.workflow import group_clause

pytestmark = pytest.mark.role(ROLE)


@pytest.fixture(scope="module")
def platform(tzsb_client: Any, tzsb_target: Target) -> Platform:
    return Platform(tzsb_client, tzsb_target)


# ---------------------------------------------------------------------------------- T5-1 实施清单
@pytest.mark.clause("DB42.10.2.T5-1.1")
def test_the_implementation_list_offers_the_use_registration_item(platform: Platform) -> None:
    """实施清单查询（表5 序号1）：不带条件查询返回第 1 页、每页条数与总条数，条数一致，每项符合实施清单结构；
    清单中有事项“特种设备使用登记”（SG 6-2021 事项代码）的实施项；分页一致（size=1 的第 2 页即 size=2 的第 2 条）。

    前置条件：目标文件有 [clients.licensing-system]（许可系统在平台的客户端，缺少时本项未测）；平台实施清单中有数据。
    测试步骤：
    1. 不带条件查询实施清单（T5-1）；
    2. 以最大每页条数逐页查询（至多 [thresholds] gov_implementation_pages 页，默认 20），找事项代码为“特种设备使用登记”且有实施部门的实施项；
    3. 总条数不少于 2 时，查询 page=1 size=2 与 page=2 size=1。
    预期结果：每次查询返回 200 且符合契约的响应结构；步骤 1 的 page 为 1，条数等于每页条数与总条数中的较小者；步骤 2 找到该事项的实施项；步骤 3 中 size=1 的第 2 页非空，其一条即 size=2 第 1 页的第 2 条。

    The implementation list pages consistently and offers the item 特种设备使用登记.
    """
    data = platform.implementations({}, "实施清单查询（不带条件）")
    assert data["page"] == 1, f"不带 page 时应返回第 1 页，实为 {data['page']} / the default page should be 1"
    n = len(data["items"])
    assert n == min(data["size"], data["total"]), (
        f"总条数 {data['total']}、每页 {data['size']} 时第 1 页应有 "
        f"{min(data['size'], data['total'])} 条，实为 {n} / page 1 holds the wrong count"
    )
    platform.implementation()
    if data["total"] >= 2:
        two = platform.implementations({"page": 1, "size": 2}, "实施清单查询 page=1 size=2")["items"]
        second = platform.implementations({"page": 2, "size": 1}, "实施清单查询 page=2 size=1")["items"]
        assert second and second[0] == two[1], (
            f"size=1 的第 2 页为 {second[:1]}，应为 size=2 第 1 页的第 2 条 {two[1:2]} / paging is inconsistent"
        )


@pytest.mark.clause("DB42.10.2.T5-1.1")
def test_the_implementation_list_filters_by_department_and_division(platform: Platform) -> None:
    """实施清单按部门、区划条件查询：按实施部门统一社会信用代码查询只返回该部门的实施项且包含样本项；按实施区划查询包含样本项，
    不返回其他省份的实施项；两个条件同时给出时为“且”（另一省份的区划与本部门同时给出时，返回的每一项都满足两个条件）。

    前置条件：目标文件有 [clients.licensing-system]（许可系统在平台的客户端，缺少时本项未测）；实施清单中有事项“特种设备使用登记”的实施项（样本项）。
    测试步骤：
    1. 从实施清单（T5-1）取样本实施项；
    2. 按样本项的实施部门统一社会信用代码（deptUscc）查询实施清单；
    3. 按样本项的实施区划（division）查询；
    4. 同时按该部门与代码表中另一省份的省级区划查询。
    预期结果：每次查询返回 200 且符合契约的响应结构；步骤 2 的每一项都属该部门且含样本项；步骤 3 含样本项且没有其他省份的实施项；步骤 4 的每一项都属该部门且在该另一省份，total 等于返回条数。

    Filters by department and division return only and all matching implementations; conditions combine with AND.
    """
    impl = platform.implementation()
    code = impl["implementCode"]
    by_dept = platform.implementations(
        {"deptUscc": impl["deptUscc"], "size": page_size()}, f"按部门 {impl['deptUscc']} 查询实施清单"
    )
    wrong = [i["implementCode"] for i in by_dept["items"] if i.get("deptUscc") != impl["deptUscc"]]
    assert not wrong, f"按部门查询返回了其他部门的实施项 {wrong[:5]} / the department filter returned other departments"
    assert code in {i["implementCode"] for i in by_dept["items"]}, (
        f"按部门查询的结果中没有样本实施项 {code} / sample missing"
    )
    by_div = platform.implementations(
        {"division": impl["division"], "size": page_size()}, f"按区划 {impl['division']} 查询实施清单"
    )
    assert code in {i["implementCode"] for i in by_div["items"]}, (
        f"按区划 {impl['division']} 查询的结果中没有样本实施项 {code} / sample missing"
    )
    far = [i["implementCode"] for i in by_div["items"] if i["division"][:2] != impl["division"][:2]]
    assert not far, (
        f"按区划 {impl['division']} 查询返回了其他省份的实施项 {far[:5]} / the division filter returned other provinces"
    )
    other = next(
        c
        for c, d in sorted(code_lists.divisions().items())
        if d.get("level") == "province" and not d.get("doubtful") and c[:2] != impl["division"][:2]
    )
    both = platform.implementations(
        {"deptUscc": impl["deptUscc"], "division": other, "size": page_size()},
        f"按部门 {impl['deptUscc']} 且区划 {other} 查询实施清单",
    )
    bad = [
        i["implementCode"]
        for i in both["items"]
        if i.get("deptUscc") != impl["deptUscc"] or i["division"][:2] != other[:2]
    ]
    assert not bad, (
        f"部门与区划同时给出时返回了不同时满足两个条件的实施项 {bad[:5]}（条件应为“且”） / conditions are not ANDed"
    )
    assert both["total"] == len(both["items"]), (
        f"total {both['total']} 与返回条数 {len(both['items'])} 不符 / total wrong"
    )


@pytest.mark.clause("DB42.10.2.T5-1.1")
def test_the_implementation_list_refuses_malformed_conditions(platform: Platform) -> None:
    """实施清单查询条件格式错误（5 位区划编码、校验位错误的统一社会信用代码）返回 400，错误项指出该参数，中文说明。

    前置条件：目标文件有 [clients.licensing-system]（许可系统在平台的客户端，缺少时本项未测）；实施清单中有事项“特种设备使用登记”的实施项（样本项）。
    测试步骤：
    1. 从实施清单（T5-1）取样本实施项；
    2. 以样本项区划的前 5 位为 division 查询实施清单；
    3. 以改错校验位的样本部门统一社会信用代码为 deptUscc 查询。
    预期结果：步骤 2、3 都返回 400 与契约的错误信封，错误项（errors）指出该参数（division、deptUscc）。

    Malformed conditions are refused with 400 naming the parameter.
    """
    impl = platform.implementation()
    for name, value in (("division", impl["division"][:5]), ("deptUscc", with_bad_check(impl["deptUscc"], "uscc"))):
        body = platform.refused("T5-1", 400, f"以错误的 {name}={value} 查询实施清单", params={name: value})
        assert names_field(body, name), (
            f"400 的错误项未指出参数 {name}：{body.get('errors')} / the errors do not name {name}"
        )


# ---------------------------------------------------------------------------------- T5-2 业务办理项 / 表1
def _handling_items(platform: Platform, params: dict[str, Any], what: str) -> list[dict[str, Any]]:
    data = platform.read("T5-2", what, params)
    assert isinstance(data, list), f"{what}：data 应为数组 / data should be an array"
    return data


def _table_problems(got: list[dict[str, Any]], want: dict[str, dict[str, Any]], where: str) -> list[str]:
    problems = []
    codes = [i["code"] for i in got]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        problems.append(f"{where}：办理项重复 {dupes[:5]}")
    missing = sorted(set(want) - set(codes))
    if missing:
        problems.append(
            f"{where}：缺少表1的办理项 {len(missing)} 个：" + "；".join(f"{c} {want[c]['name']}" for c in missing[:6])
        )
    extra = sorted(set(codes) - set(want))
    if extra:
        problems.append(f"{where}：返回了表1（该组）以外的办理项 {extra[:6]}")
    for it in got:
        ref = want.get(it["code"])
        if ref is None:
            continue
        if it["name"] != ref["name"]:
            problems.append(f"{it['code']} 的名称为“{it['name']}”，表1为“{ref['name']}”")
        for key in ("group", "operation"):
            if key in it and it[key] != ref[key]:
                problems.append(f"{it['code']} 的 {key} 为 {it[key]}，应为 {ref[key]}（与编码一致）")
    return problems


def _group_param(group: str) -> Any:
    return pytest.param(group, id=group, marks=pytest.mark.clause("DB42.5.1", group_clause(group), "DB42.10.2.T5-2.1"))


@pytest.mark.parametrize("group", [_group_param(g) for g in sorted(groups())])
def test_the_handling_items_of_each_equipment_group_are_those_of_table_1(group: str, platform: Platform) -> None:
    """业务办理项查询（表5 序号2）按区划编码与设备类别组查询：返回的恰为表1该组的办理项（个数、编码、名称与表1原文一致，
    无重复、无表1以外的办理项，如压力管道无“迁出”）。区划取自平台实施清单中的实施项。

    前置条件：目标文件有 [clients.licensing-system]（许可系统在平台的客户端，缺少时本项未测）；实施清单（T5-1）中有事项“特种设备使用登记”的实施项，取不到时本项未测。
    测试步骤：
    1. 从实施清单取样本实施项的区划；
    2. 以该区划与本设备组查询业务办理项（T5-2）。
    预期结果：返回 200 且符合契约的响应结构，data 为数组；办理项无重复，不缺表1该组的任一项，没有该组以外的项；每项名称与表1原文一致，带 group、operation 时与表1一致。

    The handling items of one equipment group are exactly those of Table 1, with their names verbatim.
    """
    impl = platform.need()
    want = {c: it for c, it in table_1().items() if it["group"] == group}
    assert len(want) == groups()[group]["count"], f"licence-items.json: group {group} count mismatch"
    got = _handling_items(
        platform,
        {"division": impl["division"], "group": group},
        f"按区划 {impl['division']}、设备组 {group}（{groups()[group]['equipment']}）查询办理项",
    )
    problems = _table_problems(got, want, f"设备组 {group}（{groups()[group]['equipment']}）")
    assert not problems, "\n".join(problems) + " / the group's items differ from Table 1"


@pytest.mark.clause("DB42.5.1", "DB42.10.2.T5-2.1")
def test_a_division_has_all_114_handling_items(platform: Platform) -> None:
    """按区划编码查询业务办理项（不限设备组）：返回表1的全部 114 个办理项，编码与名称与表1一致，各组条数相符。

    前置条件：目标文件有 [clients.licensing-system]（许可系统在平台的客户端，缺少时本项未测）；实施清单（T5-1）中有事项“特种设备使用登记”的实施项，取不到时本项未测。
    测试步骤：
    1. 从实施清单取样本实施项的区划；
    2. 只以该区划查询业务办理项（T5-2）。
    预期结果：返回 200 且符合契约的响应结构，data 为数组；办理项无重复、不缺表1的任一项、没有表1以外的项，名称与表1原文一致（带 group、operation 时与表1一致）；共 114 项。

    A division served by the platform lists all 114 handling items of Table 1.
    """
    impl = platform.need()
    got = _handling_items(platform, {"division": impl["division"]}, f"按区划 {impl['division']} 查询办理项")
    problems = _table_problems(got, table_1(), "全部办理项")
    assert not problems, "\n".join(problems[:12]) + f"（共 {len(problems)} 处） / the items differ from Table 1"
    assert len(got) == len(table_1()), f"返回 {len(got)} 个办理项，表1为 {len(table_1())} 个 / count differs"


@pytest.mark.clause("DB42.9.2.7", "DB42.10.2.T5-2.1")
def test_handling_items_name_the_platforms_own_implementation_and_division(platform: Platform) -> None:
    """功能区（区划）代码与政务服务平台设置一致：按实施区划及其下一个县级区划查询办理项，每个办理项的区划编码与实施编码
    都是平台实施清单（T5-1，按该区划查询）中同一实施项的区划与实施编码——许可系统卷宗编码所用的区划即取自这里。

    前置条件：目标文件有 [clients.licensing-system]（许可系统在平台的客户端，缺少时本项未测）；实施清单（T5-1）中有事项“特种设备使用登记”的实施项，取不到时本项未测。
    测试步骤：
    1. 从实施清单取样本实施项；
    2. 按样本项的区划、及代码表中其辖区（省级取本省、否则取本市）的第一个县级区划，分别查询业务办理项（T5-2）；
    3. 对返回的办理项中出现的每个区划，按该区划查询实施清单（T5-1）。
    预期结果：每次查询返回 200 且符合契约的响应结构；样本项的区划有办理项，至少有一个办理项可检验；每个办理项的区划在按该区划查询的实施清单中有实施项，带实施编码时（区划、实施编码）是其中一个实施项。

    The division and implementation code of every handling item are those of an implementation in the platform's own list.
    """
    impl = platform.need()
    within = impl["division"][:2] if impl["level"] == "province" else impl["division"][:4]
    counties = code_lists.division_pool("county", within)
    queries = [impl["division"], *(counties[:1])]
    problems, checked = [], 0
    listed: dict[str, set[tuple[str, str]]] = {}
    for division in queries:
        items = _handling_items(platform, {"division": division}, f"按区划 {division} 查询办理项")
        if division == impl["division"] and not items:
            problems.append(f"实施区划 {division} 没有办理项")
        for it in items:
            checked += 1
            d = it["division"]
            if d not in listed:
                data = platform.implementations({"division": d, "size": page_size()}, f"按区划 {d} 查询实施清单")
                listed[d] = {(i["division"], i["implementCode"]) for i in data["items"]}
            if "implementCode" in it and (d, it["implementCode"]) not in listed[d]:
                problems.append(
                    f"按 {division} 查询的办理项 {it['code']}：实施编码 {it['implementCode']}、区划 {d} 不是平台实施清单中的实施项"
                )
            elif not any(div == d for div, _ in listed[d]):
                problems.append(f"按 {division} 查询的办理项 {it['code']} 的区划 {d} 在平台实施清单中没有实施项")
    assert checked, "没有可检验的办理项 / no handling items to check"
    assert not problems, (
        "\n".join(sorted(set(problems))[:10]) + " / handling items do not match the implementation list"
    )


@pytest.mark.clause("DB42.10.2.T5-2.1")
def test_handling_items_need_a_well_formed_division(platform: Platform) -> None:
    """业务办理项查询缺少区划编码、区划编码格式错误（5 位）或设备组格式错误（1 位）时返回 400，错误项指出该参数，中文说明。

    前置条件：目标文件有 [clients.licensing-system]（许可系统在平台的客户端，缺少时本项未测）；实施清单（T5-1）中有事项“特种设备使用登记”的实施项，取不到时本项未测。
    测试步骤：
    1. 从实施清单取样本实施项的区划；
    2. 不带条件查询业务办理项（T5-2）；
    3. 以该区划的前 5 位为 division 查询；
    4. 以该区划与 1 位的设备组 group=3 查询。
    预期结果：步骤 2–4 都返回 400 与契约的错误信封，错误项（errors）指出该参数（步骤 2、3 为 division，步骤 4 为 group）。

    A missing or malformed division (or group) is refused with 400 naming the parameter.
    """
    impl = platform.need()
    cases = [
        ({}, "division"),
        ({"division": impl["division"][:5]}, "division"),
        ({"division": impl["division"], "group": "3"}, "group"),
    ]
    for params, name in cases:
        body = platform.refused("T5-2", 400, f"以 {params} 查询办理项", params=params)
        assert names_field(body, name), (
            f"以 {params} 查询：400 的错误项未指出参数 {name}：{body.get('errors')} / {name} not named"
        )


# ---------------------------------------------------------------------------------- T5-3 / T5-4 统一身份认证
USERS = [
    pytest.param(
        "T5-3", "gov_natural_user_id", "自然人", id="T5-3-natural", marks=pytest.mark.clause("DB42.10.2.T5-3.1")
    ),
    pytest.param("T5-4", "gov_legal_user_id", "法人", id="T5-4-legal", marks=pytest.mark.clause("DB42.10.2.T5-4.1")),
]


@pytest.mark.parametrize(("interface", "key", "label"), USERS)
def test_a_user_is_found_by_unified_identity_id(
    interface: str, key: str, label: str, platform: Platform, tzsb_target: Target
) -> None:
    """根据统一身份认证用户标识获取用户信息（表5 序号3 自然人、序号4 法人）：目标文件声明的用户返回 200，信息符合契约结构
    （证件类型、公民身份号码或统一社会信用代码校验正确，或为规定的脱敏形式），用户标识与所查一致；不存在的用户标识返回 404。

    前置条件：目标文件有 [clients.licensing-system]（许可系统在平台的客户端，缺少时本项未测）；目标文件声明平台认识的用户标识（[thresholds] gov_natural_user_id 或 gov_legal_user_id，一个或一组），未声明时本项未测（接口没有检索功能）。
    测试步骤：
    1. 以每个声明的用户标识获取用户信息（T5-3 自然人 / T5-4 法人）；
    2. 以本工具新生成的、不存在的用户标识获取用户信息。
    预期结果：步骤 1 每次返回 200 且符合契约的响应结构，userId 与所查一致；步骤 2 返回 404 与错误信封，错误代码为 NOT_FOUND。

    A declared user is returned with valid identifiers; an unknown user id is 404.
    """
    ids = user_ids(tzsb_target, key)
    if not ids:
        pytest.skip(
            f"未测：目标文件未声明平台认识的{label}用户（[thresholds] {key}），统一身份认证接口没有检索功能 / "
            f"no known {label} user declared in the target file"
        )
    for uid in ids:
        data = platform.read(interface, f"获取{label}用户 {uid}（{interface}）", userId=uid)
        assert data["userId"] == uid, f"获取用户 {uid} 返回的用户标识为 {data['userId']} / another user returned"
    absent = f"tzsb-absent-{uuid.uuid4().hex[:12]}"
    platform.refused(interface, 404, f"获取不存在的{label}用户 {absent}", (ErrorCode.NOT_FOUND,), userId=absent)
