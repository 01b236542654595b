"""检验检测信息系统功能测试（DB42/T 2279-2024 §10.3 表6）：T6-1 检验检测信息查询服务接口、T6-2 异议数据反馈服务接口。

GB/T 34990 式测试项：每个测试的文档字符串给出测试目的，代码即测试步骤，断言给出预期结果（中文在前、英文在后）。
接口路径、请求与响应结构均取自契约 ``schemas/openapi/inspection.yaml``；本工具以行政许可系统的身份调用（目标文件有
``[clients.licensing-system]`` 时用该客户端，否则用 ``[credentials]``）。

样本报告编号从何而来（契约没有列出报告的接口）：

1. 目标文件 ``[thresholds] report_numbers``（字符串数组，或以逗号、空白分隔的字符串）：被测检验检测信息系统声明的、
   应可查到的报告编号（DB42.10.3.1 的抽查样本，全部应可查到）；
2. 未声明时，若目标文件给出共享平台（``[urls] sharing``）：读取共享平台检验报告数据集（契约 ``x-data-sets`` 中数据模式为
   inspection-report 的数据集）第一页，取其中在 T6-1 能查到的报告（至多试查本档位 ``probes`` 个编号）；
3. 都没有时，依赖样本报告的测试项未测。

异议测试会使所选报告产生更正版本（这是被测接口的本意）：每个异议测试各用一份不同的样本报告（从样本末尾取起），
消息标识每次新生成，可对同一目标反复运行。核校时限：``[thresholds] objection_wait_s``（默认 5 秒），异议须在此时间内
由“已接收/核校中”进入“已更正”或“维持原数据”，更正报告须在此时间内回推到 ``callbackUrl``。回推由本工具在本机启动的
接收端接收（扮演行政许可系统）；目标不在本机时须在 ``[thresholds] callback_host`` 给出目标可访问的本机地址，否则该项未测。

Functional tests of the inspection system (T6-1 report query, T6-2 objection feedback with the
checking, the corrected version and its re-push), against any implementation of the contract.
"""

from __future__ import annotations

import functools
import itertools
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.check.formats import format_sites
from conformance.check.schema import dig, validator, validator_at
from conformance.client import Evidence, TargetClient
from conformance.codes import check
from conformance.contract import documents as contracts
from conformance.contract.datasets import data_sets, max_size
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import declared_callback
from conformance.datagen import DataGen
from conformance.harness.target import Target, threshold_samples
from conformance.report.skips import vacuous
from conformance.suites.support.checks import bad_message_ids_are_refused, near_miss_codes_are_refused
from conformance.suites.support.reporting import (
    body_validator,
    caller,
    conforms,
    depth,
    differences,
    instant,
    message_id,
    names_field,
    now_iso,
    operation,
    param_uri,
    path_of,
    permitted,
    receiver,
    refused,
    threshold,
)
from conformance.suites.support.sharing import invalid_param_value, run_cache

ROLE = "inspection"
pytestmark = pytest.mark.role(ROLE)

#: Objection states in the order they may be passed through (the contract's enum: 已接收, 核校中, 已更正 / 维持原数据).
_RANK = {"received": 0, "checking": 1, "corrected": 2, "rejected": 2}
_FINAL = ("corrected", "rejected")
#: Fields the objection tests object to: the using unit's name, else the inspection body's (always present).
_OBJECTED = ("useUnitName", "inspectionOrgName")


@pytest.fixture
def client(tzsb_client: Any, tzsb_target: Target) -> TargetClient:
    return caller(tzsb_client, tzsb_target)


# ---------------------------------------------------------------------------- sample reports


def _declared(target: Target) -> list[str]:
    """The sample report numbers the target file declares (``[thresholds] report_numbers``)."""
    return threshold_samples(target).get("reportNo", [])


def _report_path(number: str) -> str:
    return path_of(ROLE, "getInspectionReport", reportNo=number)


def _from_sharing(client: TargetClient, tzsb_client: Any, target: Target) -> list[str]:
    """Report numbers of the sharing platform's inspection-report data set that T6-1 finds."""
    if "sharing" not in target.urls:
        return []
    ds = next((d for d in data_sets().values() if d.schema == "inspection-report"), None)
    if ds is None or ds.query is None:
        return []
    try:
        r = tzsb_client(role="sharing").get(ds.path, params={"page": 1, "size": max_size(ds)})
    except PermissionError:  # the harness credentials get no token at the sharing platform
        return []
    body = r.json()
    if r.status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return []
    keys = [x.get(ds.key) for x in body["data"].get("items") or [] if isinstance(x, dict)]
    tried = [k for k in keys if isinstance(k, str)][: depth(target).probes]
    return [key for key in tried if client.get(_report_path(key)).status == 200]


def _samples(request: pytest.FixtureRequest, client: TargetClient, tzsb_client: Any, target: Target) -> list[str]:
    cache = run_cache(request)
    if "inspection-samples" not in cache:
        declared = _declared(target)
        cache["inspection-samples"] = declared or _from_sharing(client, tzsb_client, target)
    numbers: list[str] = cache["inspection-samples"]
    if not numbers:
        pytest.skip(
            "目标文件未声明样本报告编号（[thresholds] report_numbers），共享平台的检验报告数据集中也没有本系统可查到的报告，"
            "无法执行本项 / no sample report numbers: declare [thresholds] report_numbers in the target file"
        )
    return numbers


def _for_objection(request: pytest.FixtureRequest, client: TargetClient, tzsb_client: Any, target: Target) -> str:
    """A sample report for one objection test: a different one per test, from the end of the samples."""
    numbers = _samples(request, client, tzsb_client, target)
    cache = run_cache(request)
    n = cache.get("inspection-objected", 0)
    cache["inspection-objected"] = n + 1
    return numbers[-1 - n % len(numbers)]


def _report(client: TargetClient, number: str, what: str) -> dict[str, Any]:
    r = client.get(_report_path(number))
    permitted(r, what)
    data = conforms(r, ROLE, "getInspectionReport", 200, what)
    assert data["reportNo"] == number, f"{what}：返回的报告编号为“{data['reportNo']}” / another report was returned"
    return data


# ---------------------------------------------------------------------------- T6-1


@pytest.mark.clause("DB42.10.3.1")
def test_the_declared_sample_reports_are_all_available(client: TargetClient, tzsb_target: Target) -> None:
    """本地区检验报告经接口接入：目标文件声明的样本报告编号（至多本档位上限）逐一按编号查询，全部返回 200 与该报告。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；目标文件声明样本报告编号（[thresholds] report_numbers），未声明时本项未测。
    测试步骤：
    1. 取声明的样本报告编号（至多本档位 reports 份）；
    2. 逐一按编号查询检验报告（T6-1 getInspectionReport）。
    预期结果：每份都返回 200，响应符合契约（getInspectionReport 的 200 响应结构）；失败时列出查不到的编号与状态码。
    """
    declared = _declared(tzsb_target)
    if not declared:
        pytest.skip(
            "目标文件未声明样本报告编号（[thresholds] report_numbers），无法抽查 / no declared sample report numbers"
        )
    missing = []
    for number in declared[: depth(tzsb_target).reports]:
        r = client.get(_report_path(number))
        permitted(r, "检验检测信息查询")
        if r.status != 200:
            missing.append(f"{number}（HTTP {r.status}）")
            continue
        conforms(r, ROLE, "getInspectionReport", 200, f"查询检验报告“{number}”")
    assert not missing, (
        f"目标声明的样本报告有 {len(missing)} 份查不到：{'；'.join(missing[:5])} / "
        f"{len(missing)} declared sample reports cannot be found"
    )


@pytest.mark.clause("DB42.10.3.T6-1.1")
def test_a_report_is_returned_by_its_number(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """检验检测信息查询（T6-1）：按报告编号查询返回 200，响应符合契约（信封与 inspection-report 数据模式），报告编号即所查编号；
    版本大于 1 的报告（经异议更正）注明据以更正的异议标识 correctionOf。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测。
    测试步骤：
    1. 取样本报告编号（至多本档位 reports 份）；
    2. 逐一按编号查询检验报告（T6-1 getInspectionReport）。
    预期结果：每次返回 200 且符合契约（getInspectionReport），报告编号即所查编号；版本（version）大于 1 的报告带非空的 correctionOf。
    """
    for number in _samples(request, client, tzsb_client, tzsb_target)[: depth(tzsb_target).reports]:
        report = _report(client, number, f"查询检验报告“{number}”")
        if report["version"] > 1:
            assert report.get("correctionOf"), (
                f"报告“{number}”为第 {report['version']} 版，但未注明 correctionOf / "
                f"a corrected version without correctionOf"
            )


@functools.cache
def _report_sites() -> tuple[tuple[tuple[str, ...], str], ...]:
    sites = format_sites(validator("inspection-report").uri)
    assert sites is not None, "无法从 inspection-report 数据模式确定编码字段 / cannot locate the coded fields"
    return sites


@pytest.mark.clause("INFO2007.2.6.1")
def test_report_identifiers_follow_the_coding_rules(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """信息编码标准化：报告中的特种设备代码、使用登记证编号、设备品种代码、统一社会信用代码等按各自的编码规则（含校验码）
    检验全部有效；特种设备代码中的设备品种与报告的设备品种 catalogueCode 一致。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测。
    测试步骤：
    1. 逐一查询样本报告（T6-1，至多本档位 reports 份）；
    2. 对 inspection-report 数据模式中按编码格式标注的每个字段，按其编码规则（含校验码，容许存量的旧式编码）检验报告中的值；
    3. 从特种设备代码中解出设备品种，与报告的 catalogueCode 比较。
    预期结果：步骤 1 每次返回 200 且符合契约（getInspectionReport），报告编号即所查编号；步骤 2 每个编码字段都有效；步骤 3 两者一致（能解出时）；失败时列出违规的报告、字段与原因。
    """
    problems: list[str] = []
    for number in _samples(request, client, tzsb_client, tzsb_target)[: depth(tzsb_target).reports]:
        report = _report(client, number, f"查询检验报告“{number}”")
        for path, kind in _report_sites():
            value = dig(report, path)
            if isinstance(value, str):
                result = check(kind, value, mode="held")  # the equipment's codes as held, legacy forms too
                if not result.ok:
                    problems.append(f"{number} /{'/'.join(path)}“{value}”：{result.message('zh')}")
        code, variety = report.get("equipmentCode"), report.get("catalogueCode")
        if isinstance(code, str) and isinstance(variety, str):
            part = next(
                (p.value for p in check("equipment-code", code, mode="held").parts if p.name_en == "catalogue variety"),
                None,
            )
            if part is not None and part != variety:
                problems.append(f"{number}：特种设备代码“{code}”的设备品种为 {part}，报告的 catalogueCode 为 {variety}")
    assert not problems, (
        f"检验报告中有 {len(problems)} 处代码不符合编码规则：{'；'.join(problems[:5])} / "
        f"coded fields of the reports break their coding rules"
    )


def _absent_number(client: TargetClient) -> str | None:
    v = validator_at(param_uri(ROLE, "getInspectionReport", "reportNo"))
    for _ in range(10):
        candidate = f"TZSB{secrets.randbelow(10**12):012d}"
        if v.is_valid(candidate) and client.get(_report_path(candidate)).status == 404:
            return candidate
    return None


@pytest.mark.clause("DB42.10.3.T6-1.1")
def test_an_unknown_report_number_is_404(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """检验检测信息查询（T6-1）：样本报告可查到（200）的同时，格式正确但不存在的报告编号返回 404 错误信封（NOT_FOUND，
    中文说明）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测。
    测试步骤：
    1. 查询第一份样本报告（T6-1）；
    2. 生成符合契约报告编号格式的随机编号（TZSB 加 12 位数字），查询至得到 404（至多 10 次）；
    3. 以该编号再次查询。
    预期结果：步骤 1 返回 200 且符合契约（getInspectionReport），报告编号即所查编号；步骤 2 在 10 次内有编号得到 404，否则判不符合；步骤 3 返回 404 与契约的错误信封（中文说明）。
    """
    known = _samples(request, client, tzsb_client, tzsb_target)[0]
    _report(client, known, f"查询检验报告“{known}”")
    number = _absent_number(client)
    if number is None:
        r = client.get(_report_path("TZSB000000000000"))
        permitted(r, "检验检测信息查询")
        pytest.fail(
            f"构造的不存在报告编号均未返回 404（最后一次 HTTP {r.status}） / unknown report numbers are not answered 404"
        )
    refused(client.get(_report_path(number)), ROLE, "getInspectionReport", 404, f"查询不存在的检验报告“{number}”")


@pytest.mark.clause("DB42.10.3.T6-1.1", "PROFILE.ERROR.1")
def test_a_malformed_report_number_is_400_naming_the_field(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """检验检测信息查询（T6-1）：样本报告可查到（200）的同时，不符合报告编号格式的编号返回 400，错误项指出参数 reportNo
    并给出中文原因。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测；契约对报告编号有格式约束，没有时本项未测（无可检验项）。
    测试步骤：
    1. 查询第一份样本报告（T6-1）；
    2. 取契约的报告编号格式所拒绝的第一个候选值，以之查询。
    预期结果：步骤 1 返回 200 且符合契约（getInspectionReport），报告编号即所查编号；步骤 2 返回 400 与契约的错误信封（中文说明），错误项指出 reportNo 并给出中文原因。
    """
    known = _samples(request, client, tzsb_client, tzsb_target)[0]
    _report(client, known, f"查询检验报告“{known}”")
    op = operation(ROLE, "getInspectionReport")
    param = next(p for p in op.params if p.name == "reportNo")
    bad = invalid_param_value(param)
    if bad is None:
        vacuous("契约对报告编号没有格式约束 / the report number has no format constraint")
    r = client.get(_report_path(bad))
    permitted(r, "检验检测信息查询")
    body = refused(r, ROLE, "getInspectionReport", 400, f"以格式错误的编号“{bad[:20]}”查询检验报告")
    names_field(body, "reportNo", f"以格式错误的编号“{bad[:20]}”查询检验报告")


# ---------------------------------------------------------------------------- T6-2


@functools.cache
def _raised_by() -> str:
    """Who raises the objection: the first value the contract allows (行政相对人)."""
    return str(contracts.json_schema("objection")["properties"]["raisedBy"]["enum"][0])


def _objection(report: dict[str, Any], *, callback: str | None = None, mid: str | None = None) -> dict[str, Any]:
    """A valid objection to one field of ``report``: the applicant's materials give another unit name."""
    name = next(f for f in _OBJECTED if isinstance(report.get(f), str))
    gen = DataGen(secrets.randbits(32))
    declared = report[name]
    while declared == report[name]:
        declared = gen.unit("use")["name"]
    body: dict[str, Any] = {
        "messageId": mid or message_id(),
        "reportNo": report["reportNo"],
        "equipmentCode": report["equipmentCode"],
        "raisedBy": _raised_by(),
        "raiserName": gen.person(),
        "raisedAt": now_iso(),
        "items": [
            {
                "field": f"/{name}",
                "recorded": report[name],
                "declared": declared,
                "reason": "申报材料中的名称与检验报告记载不一致（一致性测试工具提出）",
            }
        ],
    }
    if callback:
        body["callbackUrl"] = callback
    v = body_validator(ROLE, "submitObjection")
    if not v.is_valid(body):  # the harness's own mistake: an error, never a verdict on the target
        raise RuntimeError(f"harness built an invalid objection: {v.errors(body)[:3]}")
    return body


def _submit(client: TargetClient, body: dict[str, Any], status: int | tuple[int, ...], what: str) -> tuple[Any, Any]:
    r = client.post(path_of(ROLE, "submitObjection"), body)
    permitted(r, what)
    return conforms(r, ROLE, "submitObjection", status, what), r


def _check_receipt(receipt: dict[str, Any], body: dict[str, Any], what: str) -> None:
    assert receipt["messageId"] == body["messageId"], (
        f"{what}：回执的消息标识为“{receipt['messageId']}”，应为“{body['messageId']}” / "
        f"the receipt carries another message id"
    )
    assert receipt["reportNo"] == body["reportNo"], (
        f"{what}：回执的报告编号与异议不符 / the receipt names another report"
    )


def _state(client: TargetClient, objection_id: str, what: str) -> dict[str, Any]:
    r = client.get(path_of(ROLE, "getObjection", objectionId=objection_id))
    permitted(r, what)
    data = conforms(r, ROLE, "getObjection", 200, what)
    assert data["objectionId"] == objection_id, (
        f"{what}：返回了另一异议“{data['objectionId']}” / another objection was returned"
    )
    assert data["duplicate"] is False, f"{what}：状态查询的 duplicate 应恒为 false / duplicate must be false here"
    return data


def _decision(client: TargetClient, objection_id: str, first: str, wait: float) -> dict[str, Any]:
    """Poll the objection until it is decided (corrected / rejected) or ``wait`` runs out; the states seen
    must only move forward (received → checking → corrected / rejected)."""
    seen = [first]
    deadline = time.monotonic() + wait
    state: dict[str, Any] = {}
    while True:
        state = _state(client, objection_id, f"查询异议“{objection_id}”的处理状态")
        if state["status"] != seen[-1]:
            seen.append(state["status"])
        assert all(_RANK[a] <= _RANK[b] for a, b in itertools.pairwise(seen)) and len(set(seen)) == len(seen), (
            f"异议处理状态倒退或反复：{' → '.join(seen)} / the objection's state went backwards"
        )
        if state["status"] in _FINAL or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    assert state["status"] in _FINAL, (
        f"异议提出后 {wait:g} 秒内未核校完毕（状态 {' → '.join(seen)}），既未更正也未维持原数据；核校较慢的系统请在目标文件 "
        f"[thresholds] objection_wait_s 中声明时限 / the objection was not decided within {wait:g} s"
    )
    return state


@pytest.mark.clause("DB42.10.3.T6-2.1", "PROFILE.PUSH.1")
def test_an_objection_gets_a_receipt_and_its_state_can_be_read(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """异议数据反馈（T6-2）：对一份检验报告提交异议（新消息标识），返回 201 与回执（异议编号、消息标识、报告编号、处理状态、
    接收时间，duplicate 为 false），Location 指向该异议的状态地址；按异议编号可查到该异议；不存在的异议编号返回 404。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测；每个异议测试各用一份不同的样本报告（从样本末尾取起），异议会使该报告产生更正版本。
    测试步骤：
    1. 查询所用的样本报告（T6-1）；
    2. 对报告的一个字段（使用单位名称，没有时为检验机构名称）以新消息标识提交异议（submitObjection，申报值为新生成的单位名称）；
    3. 按回执中的异议编号查询异议（getObjection）；
    4. 以不存在的异议编号查询。
    预期结果：步骤 1 返回 200；步骤 2 返回 201，回执符合契约，消息标识与报告编号为所提交的，duplicate 为 false，Location 指向该异议的状态地址；步骤 3 返回 200 且符合契约，异议编号、消息标识、报告编号为所提交的，duplicate 为 false，接收时间与回执相同；步骤 4 返回 404 与契约的错误信封（中文说明）。
    """
    number = _for_objection(request, client, tzsb_client, tzsb_target)
    body = _objection(_report(client, number, f"查询检验报告“{number}”"))
    receipt, r = _submit(client, body, 201, "提交异议")
    _check_receipt(receipt, body, "提交异议")
    assert receipt["duplicate"] is False, "首次提交的回执 duplicate 应为 false / a first submission is no duplicate"
    location = r.header("Location")
    own = path_of(ROLE, "getObjection", objectionId=receipt["objectionId"])
    assert location and urlsplit(location).path.endswith(own), (
        f"201 的 Location 应指向异议状态地址（…{own}），实为 {location!r} / Location should point at the objection"
    )
    state = _state(client, receipt["objectionId"], "按异议编号查询异议")
    assert (state["messageId"], state["reportNo"]) == (body["messageId"], number), (
        f"查到的异议与所提交的不符：{state} / the objection read back differs"
    )
    assert instant(state["receivedAt"]) == instant(receipt["receivedAt"]), (
        "查到的接收时间与回执不同 / receivedAt differs"
    )
    unknown = f"TZSB-NO-SUCH-{secrets.token_hex(6)}"
    r = client.get(path_of(ROLE, "getObjection", objectionId=unknown))
    refused(r, ROLE, "getObjection", 404, f"查询不存在的异议“{unknown}”")


@pytest.mark.clause("PROFILE.PUSH.2", "DB42.10.3.T6-2.1")
def test_a_repeated_objection_gets_the_first_receipt(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """按消息标识幂等：同一消息标识、同一内容的异议再次提交返回 200 与首次回执（同一异议编号、接收时间，duplicate 为 true），
    不产生新的异议。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测；每个异议测试各用一份不同的样本报告（从样本末尾取起），异议会使该报告产生更正版本。
    测试步骤：
    1. 查询所用的样本报告（T6-1）；
    2. 对报告的一个字段（使用单位名称，没有时为检验机构名称）以新消息标识提交异议（submitObjection，申报值为新生成的单位名称）；
    3. 以同一消息标识、同一内容再次提交。
    预期结果：步骤 2 返回 201 且符合契约；步骤 3 返回 200 且符合契约，duplicate 为 true，异议编号与首次相同，消息标识与报告编号为所提交的，接收时间与首次回执相同。
    """
    number = _for_objection(request, client, tzsb_client, tzsb_target)
    body = _objection(_report(client, number, f"查询检验报告“{number}”"))
    first, _ = _submit(client, body, 201, "提交异议")
    again, _ = _submit(client, body, 200, "以同一消息标识、同一内容再次提交异议")
    assert again["duplicate"] is True, "重复提交的回执 duplicate 应为 true / the repeat must be marked duplicate"
    assert again["objectionId"] == first["objectionId"], (
        f"重复提交产生了新的异议“{again['objectionId']}”（首次为“{first['objectionId']}”） / the repeat created another objection"
    )
    _check_receipt(again, body, "重复提交异议")
    assert instant(again["receivedAt"]) == instant(first["receivedAt"]), (
        "重复提交的回执接收时间与首次不同，不是原回执 / the repeat's receipt is not the first one"
    )


@pytest.mark.clause("PROFILE.STATUS.3", "PROFILE.PUSH.2")
def test_the_same_message_id_with_other_content_is_409(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """同一消息标识携带不同内容的异议返回 409（错误代码 DUPLICATE 或 CONFLICT，而非 STATE_CONFLICT，中文说明），
    原异议不变。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测；每个异议测试各用一份不同的样本报告（从样本末尾取起），异议会使该报告产生更正版本。
    测试步骤：
    1. 查询所用的样本报告（T6-1）；
    2. 对报告的一个字段（使用单位名称，没有时为检验机构名称）以新消息标识提交异议（submitObjection，申报值为新生成的单位名称）；
    3. 以同一消息标识、改过异议原因的内容再次提交；
    4. 查询原异议（getObjection）。
    预期结果：步骤 2 返回 201；步骤 3 返回 409 与契约的错误信封（中文说明），错误代码为 DUPLICATE 或 CONFLICT；步骤 4 返回 200，消息标识与报告编号仍为原异议的。
    """
    number = _for_objection(request, client, tzsb_client, tzsb_target)
    report = _report(client, number, f"查询检验报告“{number}”")
    body = _objection(report)
    first, _ = _submit(client, body, 201, "提交异议")
    other = {**body, "items": [{**body["items"][0], "reason": "内容不同的另一条异议（同一消息标识）"}]}
    r = client.post(path_of(ROLE, "submitObjection"), other)
    err = refused(r, ROLE, "submitObjection", 409, "以同一消息标识提交内容不同的异议")
    assert err["code"] in (ErrorCode.DUPLICATE, ErrorCode.CONFLICT), (
        f"错误代码为 {err['code']}，消息标识重复应为 DUPLICATE / a reused message id is a DUPLICATE, not {err['code']}"
    )
    state = _state(client, first["objectionId"], "查询原异议")
    assert (state["messageId"], state["reportNo"]) == (body["messageId"], number), (
        "原异议被改变 / the first objection changed"
    )


@pytest.mark.clause("PROFILE.PUSH.1", "PROFILE.ERROR.1")
def test_an_objection_without_a_valid_message_id_is_400(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """异议报文须带合规的消息标识：缺少 messageId 或其格式不符（8–64 位字母数字及 _.:-）时返回 400，错误项指出 /messageId。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测。
    测试步骤：
    1. 查询第一份样本报告（T6-1），据以构造一份合规的异议；
    2. 提交不带 messageId 的异议（submitObjection）；
    3. 逐一提交 messageId 为契约格式所拒绝的值（过短、含中文、65 位）的异议。
    预期结果：步骤 1 返回 200；步骤 2、3 每次返回 400 与契约的错误信封（中文说明），错误项指出 /messageId 并给出中文原因。
    """
    number = _samples(request, client, tzsb_client, tzsb_target)[0]
    body = _objection(_report(client, number, f"查询检验报告“{number}”"))
    bad_message_ids_are_refused(client, ROLE, "submitObjection", body, "提交异议")


@pytest.mark.clause("DB42.10.3.T6-2.1", "PROFILE.ERROR.1")
def test_an_objection_to_an_unknown_report_is_400(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """异议所指的检验报告不存在时返回 400，错误项指出 /reportNo（契约约定）。本项只在有样本报告、异议的正常流程可测时执行，
    使 T6-2 的结论不致仅凭拒绝类检查得出。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测（本项只在有样本报告时执行）；能构造格式正确且不存在（T6-1 返回 404）的报告编号，不能时本项未测。
    测试步骤：
    1. 生成符合契约格式的随机报告编号，查询至得到 404（至多 10 次）；
    2. 以该编号与新生成的特种设备代码、使用单位名称构造合规的异议并提交（submitObjection）。
    预期结果：步骤 2 返回 400 与契约的错误信封（中文说明），错误项指出 /reportNo 并给出中文原因。
    """
    _samples(request, client, tzsb_client, tzsb_target)
    number = _absent_number(client)
    if number is None:
        pytest.skip("未能构造格式正确且不存在的报告编号 / could not build an absent report number")
    gen = DataGen(secrets.randbits(32))
    fake = {"reportNo": number, "equipmentCode": gen.equipment()["equipmentCode"], "useUnitName": "甲乙丙丁有限公司"}
    body = _objection(fake)
    r = client.post(path_of(ROLE, "submitObjection"), body)
    permitted(r, "提交异议")
    err = refused(r, ROLE, "submitObjection", 400, f"对不存在的检验报告“{number}”提出异议")
    names_field(err, "/reportNo", f"对不存在的检验报告“{number}”提出异议")


@pytest.mark.clause("INFO2007.2.6.1", "PROFILE.ERROR.1")
def test_an_objection_with_an_invalid_identifier_is_400(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """编码标准化：异议报文中的编码字段（契约以 tzsb-* 格式标注，如特种设备代码）取只错一处的值（校验码、代码表、结构）时
    返回 400，错误项指出该字段。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测；契约的异议报文有编码字段（tzsb-* 格式）。
    测试步骤：
    1. 查询第一份样本报告（T6-1），据以构造一份合规的异议；
    2. 对异议报文的每个编码字段，逐一换成只错一处（校验码、代码表或结构）的值（本档位 near_misses 个），每次以新消息标识提交（submitObjection）。
    预期结果：步骤 1 返回 200；步骤 2 每次返回 400 与契约的错误信封（中文说明），错误项指出该字段并给出中文原因。
    """
    number = _samples(request, client, tzsb_client, tzsb_target)[0]
    body = _objection(_report(client, number, f"查询检验报告“{number}”"))
    lacking = "契约的异议报文没有编码字段 / the contract's objection has no coded field"
    near_miss_codes_are_refused(
        client, ROLE, "submitObjection", body, "提交异议", depth(tzsb_target).near_misses, lacking
    )


def _corrected_as_objected(
    before: dict[str, Any], after: dict[str, Any], body: dict[str, Any], state: dict[str, Any]
) -> None:
    item = body["items"][0]
    name = item["field"].lstrip("/")
    assert isinstance(state.get("correctedVersion"), int) and state["correctedVersion"] > before["version"], (
        f"已更正的异议应给出高于原版本 {before['version']} 的 correctedVersion，实为 {state.get('correctedVersion')} / "
        f"a corrected objection names the new version"
    )
    assert after["version"] == state["correctedVersion"], (
        f"已更正后 T6-1 返回第 {after['version']} 版，异议状态为第 {state['correctedVersion']} 版 / "
        f"T6-1 does not serve the corrected version"
    )
    assert after.get("correctionOf") == body["messageId"], (
        f"更正报告的 correctionOf 为 {after.get('correctionOf')!r}，应为异议的消息标识“{body['messageId']}” / "
        f"correctionOf must be the objection's message id"
    )
    assert after.get(name) == item["declared"], (
        f"更正报告的 {item['field']} 为 {after.get(name)!r}，未采用申报值"
        f"“{item['declared']}” / the corrected report does not carry the declared value"
    )
    same = {
        k: (before.get(k), after.get(k))
        for k in ("reportNo", "equipmentCode", "issuedAt")
        if before.get(k) != after.get(k)
    }
    assert not same, f"更正报告改变了报告的标识字段：{same} / the correction changed the report's identity"
    assert instant(after["updatedAt"]) >= instant(before["updatedAt"]), (
        "更正报告的更新时间早于原报告 / updatedAt went back"
    )


@pytest.mark.clause("DB42.10.3.T6-2.1", "DB42.10.3.T6-2.2", "INFO2007.2.5.4")
def test_an_objection_is_checked_and_the_corrected_report_is_served(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """异议核校与更正（表6 序号2“由检验机构对数据进行核校后重新推送”）：提交异议后，其状态只向前变化，在时限内进入
    “已更正”或“维持原数据”。已更正时 T6-1 返回新版本（version 等于 correctedVersion 且高于原版本，correctionOf 为异议的
    消息标识，异议字段取申报值，报告编号、设备代码、出具时间不变）；维持原数据时报告版本与该字段不变。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测；每个异议测试各用一份不同的样本报告（从样本末尾取起），异议会使该报告产生更正版本；核校时限取 [thresholds] objection_wait_s（默认 5 秒）。
    测试步骤：
    1. 查询所用的样本报告（T6-1），记下原报告；
    2. 对报告的一个字段（使用单位名称，没有时为检验机构名称）以新消息标识提交异议（submitObjection，申报值为新生成的单位名称）；
    3. 按异议编号反复查询异议状态（getObjection），至“已更正”或“维持原数据”或时限到；
    4. 再次查询该报告（T6-1）。
    预期结果：步骤 2 返回 201；步骤 3 每次返回 200 且符合契约（异议编号为所查的，duplicate 为 false），状态只向前变化、不反复，时限内进入 corrected 或 rejected；步骤 4 返回 200。已更正时：correctedVersion 为高于原版本的整数，报告 version 等于它，correctionOf 为异议的消息标识，异议字段为申报值，报告编号、设备代码、出具时间不变，更新时间不早于原报告；维持原数据时：报告版本与异议字段不变。
    """
    number = _for_objection(request, client, tzsb_client, tzsb_target)
    before = _report(client, number, f"查询检验报告“{number}”")
    body = _objection(before)
    receipt, _ = _submit(client, body, 201, "提交异议")
    state = _decision(client, receipt["objectionId"], receipt["status"], threshold(tzsb_target, "objection_wait_s", 5))
    after = _report(client, number, f"核校后查询检验报告“{number}”")
    if state["status"] == "corrected":
        _corrected_as_objected(before, after, body, state)
    else:
        name = body["items"][0]["field"].lstrip("/")
        assert (after["version"], after.get(name)) == (before["version"], before.get(name)), (
            f"异议“维持原数据”，但报告已变为第 {after['version']} 版 / the objection was rejected but the report changed"
        )


def _callback_receipt(body: Any) -> dict[str, Any]:
    mid = body.get("correctionOf") if isinstance(body, dict) else None
    return {"messageId": mid if isinstance(mid, str) else message_id(), "receivedAt": now_iso(), "duplicate": False}


@pytest.mark.clause("DB42.10.3.T6-2.1", "DB42.10.3.T6-2.2", "INFO2007.2.5.4")
def test_the_corrected_report_is_pushed_to_the_callback(
    client: TargetClient, tzsb_client: Any, tzsb_target: Target, tzsb_evidence: Evidence, request: pytest.FixtureRequest
) -> None:
    """更正数据重新推送（表6 序号2）：本工具扮演行政许可系统，在异议中给出回推地址 callbackUrl；异议更正后，检验检测信息系统
    在时限内把更正报告 POST 到该地址，报文符合契约（inspection-report 数据模式，version 为 correctedVersion，correctionOf
    为异议的消息标识），与 T6-1 返回的更正报告一致。

    前置条件：目标文件有 [clients.licensing-system]（缺少时用 [credentials]），调用方对所用接口无权限（403）时本项未测；有样本报告编号：目标文件 [thresholds] report_numbers，未声明时取共享平台（[urls] sharing）检验报告数据集第一页中本系统按 T6-1 可查到的报告（至多本档位 probes 个），都没有时本项未测；每个异议测试各用一份不同的样本报告（从样本末尾取起），异议会使该报告产生更正版本；核校时限取 [thresholds] objection_wait_s（默认 5 秒）；本工具在本机启动的接收端（扮演行政许可系统）须为目标可访问：目标在本机，或目标文件给出 [thresholds] callback_host，否则本项未测；异议经核校“维持原数据”时没有更正报告，本项未测。
    测试步骤：
    1. 查询所用的样本报告（T6-1）；
    2. 启动回推接收端，以带回推地址 callbackUrl 的新异议提交（submitObjection）；
    3. 按异议编号反复查询异议状态（getObjection），至“已更正”或“维持原数据”或时限到；
    4. 自提交起至多等待时限加 1 秒，接收该报告的回推；
    5. 再次查询该报告（T6-1）。
    预期结果：步骤 2 返回 201；步骤 3 状态只向前变化，时限内进入 corrected 或 rejected；步骤 4 收到该报告的回推，推送到异议给出的回推地址，报文符合契约的回推数据模式，version 等于 correctedVersion，correctionOf 为异议的消息标识；步骤 5 返回 200，版本与回推的相同时内容逐项一致。
    """
    number = _for_objection(request, client, tzsb_client, tzsb_target)
    before = _report(client, number, f"查询检验报告“{number}”")
    wait = threshold(tzsb_target, "objection_wait_s", 5)
    licensing_path = operation("licensing", "receiveCorrectedInspectionReport").path
    callback = declared_callback(ROLE, "submitObjection")  # the corrected report POSTed to callbackUrl
    with receiver(
        tzsb_target, tzsb_evidence, licensing_path, _callback_receipt, role=ROLE, callback=callback.operation_id
    ) as rcv:
        body = _objection(before, callback=rcv.url)
        receipt, _ = _submit(client, body, 201, "提交带回推地址的异议")
        start = time.monotonic()
        state = _decision(client, receipt["objectionId"], receipt["status"], wait)
        if state["status"] != "corrected":
            pytest.skip("异议经核校“维持原数据”，没有可回推的更正报告 / the objection was rejected: nothing to re-push")
        ours: list[Any] = []
        while time.monotonic() < start + wait + 1:
            ours = [p for p in rcv.received() if isinstance(p[3], dict) and p[3].get("reportNo") == number]
            if ours:
                break
            time.sleep(0.1)
    assert ours, (
        f"异议已更正，但 {wait:g} 秒内未收到更正报告的回推（回推地址 {rcv.url}） / "
        f"no corrected report was pushed to the callback within {wait:g} s"
    )
    call_path, _, _, pushed = ours[0]
    assert urlsplit(call_path).path == urlsplit(rcv.url).path, (
        f"更正报告推送到了 {call_path}，而非异议给出的回推地址 {urlsplit(rcv.url).path} / pushed to another path"
    )
    assert callback.body_uri is not None
    v = validator_at(callback.body_uri)
    assert v.is_valid(pushed), f"回推的更正报告不符合契约：{v.errors(pushed)[:3]} / the pushed report does not validate"
    assert pushed["version"] == state["correctedVersion"] and pushed.get("correctionOf") == body["messageId"], (
        f"回推报告为第 {pushed['version']} 版、correctionOf {pushed.get('correctionOf')!r}，应为第 {state['correctedVersion']} 版、"
        f"“{body['messageId']}” / the pushed report is not the correction of this objection"
    )
    served = _report(client, number, f"查询更正后的检验报告“{number}”")
    diff = differences(served, pushed) if served["version"] == pushed["version"] else []
    assert not diff, (
        f"回推的更正报告与 T6-1 返回的不一致：{'；'.join(diff[:5])} / the pushed report differs from T6-1's"
    )
