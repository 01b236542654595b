"""政务服务平台功能测试（三）：省电子证照库与短信网关 —— DB42/T 2279-2024 §10.2 表5 序号11–16、§7.4.4 b)、
§7.4.5 c) 4)。

GB/T 34990 式测试项：文档字符串给出测试目的（中文，其后英文），代码即测试步骤，断言给出预期结果。
本模块以许可系统的身份（``[clients.licensing-system]``）向电子证照库汇聚两份新证照（T5-11，按
``licence-certificate.schema.json`` 构造：新的持证单位统一社会信用代码、电子证照标识（校验字符按 ISO/IEC 7064）、
使用登记证编号与设备代码均由标识库生成；颁证单位取自平台实施清单中的实施部门），随后沿“检索（T5-12）→ 信息获取（T5-13）
→ 下载地址（T5-14）→ 文件下载（T5-15）→ 缩略图（T5-16）”的链条逐一检验：每一步所用的标识、地址取自上一步的返回。
版式文件按结构检验（OFD：ZIP 包、OFD.xml 根元素、DocBody/DocRoot；PDF：文件头、startxref、交叉引用、%%EOF），
摘要与下载地址声明的 sha256 比对；缩略图按 PNG/JPEG 结构检验。缩略图接口为可选特性 ``thumbnail``（仅向省级单位提供），
以 ``[clients.province-caller]`` 与 ``[clients.city-caller]`` 调用。

Functional tests of the platform's e-licence library (T5-11 aggregation → T5-12 search → T5-13 info →
T5-14 download address → T5-15 file → T5-16 thumbnails) and its SMS gateway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conformance.client import TargetClient, TargetResponse
from conformance.contract import documents as contracts
from conformance.contract.errors import ErrorCode
from conformance.datagen import DataGen
from conformance.harness.target import Target
from conformance.suites.support.gov_platform import (
    CITY_CALLER,
    DUPLICATE_CODES,
    MEDIA,
    PROVINCE_CALLER,
    ROLE,
    THUMBNAIL,
    Desk,
    Platform,
    certificate,
    check_receipt,
    decode_base64,
    download_path_ok,
    expect,
    expect_error,
    file_problems,
    image_problems,
    names_field,
    new_holder,
    now_iso,
    path_of,
    resolve,
    snippet,
    table_1,
    with_bad_check,
)

pytestmark = pytest.mark.role(ROLE)


@dataclass
class Library:
    """Two certificates aggregated for one fresh holder (different items), with the first answers."""

    platform: Platform
    holder: dict[str, Any]
    certs: list[dict[str, Any]]
    responses: list[TargetResponse]

    @property
    def client(self) -> TargetClient:
        return self.platform.client

    def need(self) -> list[dict[str, Any]]:
        """The certificates, when both were aggregated (201 or an idempotent 200); else 未测 for the chain."""
        if any(r.status not in (200, 201) for r in self.responses):
            codes = [r.status for r in self.responses]
            pytest.skip(
                f"未测：测试证照未能汇聚到电子证照库（T5-11 返回 {codes}），无法沿检索链检验 / the certificates were not aggregated"
            )
        return self.certs

    def unknown_id(self) -> str:
        """A well-formed e-licence identifier the library does not hold."""
        return certificate(self.platform.authority(), self.holder, random.Random(secrets.randbits(64)))["elicenseId"]


@pytest.fixture(scope="module")
def platform(tzsb_client: Any, tzsb_target: Target) -> Platform:
    return Platform(tzsb_client, tzsb_target)


@pytest.fixture(scope="module")
def library(platform: Platform) -> Library:
    rng = random.Random(secrets.randbits(64))
    authority = platform.authority()
    holder = new_holder(rng, authority["division"][:2])
    items = sorted(table_1())
    first = rng.choice(items)
    second = rng.choice([i for i in items if table_1()[i]["group"] != table_1()[first]["group"]])
    certs = [certificate(authority, holder, rng, item=first), certificate(authority, holder, rng, item=second)]
    responses = [platform.client.post(path_of("T5-11"), c) for c in certs]
    return Library(platform, holder, certs, responses)


def _info(lib: Library, elicense_id: str) -> dict[str, Any]:
    return lib.platform.read("T5-13", f"获取电子证照 {elicense_id} 的信息（T5-13）", elicenseId=elicense_id)


def _address(lib: Library, elicense_id: str) -> dict[str, Any]:
    return lib.platform.read("T5-14", f"获取电子证照 {elicense_id} 的文件下载地址（T5-14）", elicenseId=elicense_id)


def _parts_lacking(info: Any) -> list[str]:
    """The parts of T5-13's 证照详细信息 (基本信息, 照面信息, 明细信息: licence-certificate.schema.json's required
    top-level fields, ``surface`` and ``details``) that ``info`` lacks, by their titles; a 明细信息 without the
    surface's equipment counts as lacking."""
    schema = contracts.json_schema("licence-certificate")
    if not isinstance(info, dict):
        return [str(schema["title"])]
    parts = ("surface", "details")
    out = [f"基本信息 {k}" for k in schema["required"] if k not in parts and info.get(k) in (None, "")]
    for part in parts:
        if not info.get(part):
            out.append(f"{schema['properties'][part]['title']}（{part}）")
    surface, details = info.get("surface"), info.get("details")
    if isinstance(surface, dict) and isinstance(details, list) and details:
        codes = {d.get("equipmentCode") for d in details if isinstance(d, dict)}
        if surface.get("equipmentCode") not in codes:
            out.append(f"照面设备 {surface.get('equipmentCode')} 的明细")
    return out


def _differences(sent: dict[str, Any], got: Any) -> list[str]:
    if not isinstance(got, dict):
        return [f"返回的不是对象：{str(got)[:80]}"]
    return [f"{k}：汇聚时为 {sent[k]!r}，返回 {got.get(k)!r}" for k in sent if got.get(k) != sent[k]]


# ---------------------------------------------------------------------------------- T5-11 汇聚
@pytest.mark.clause("DB42.10.2.T5-11.1")
def test_a_certificate_is_aggregated_into_the_library(library: Library) -> None:
    """行政许可信息汇聚至省电子证照库（表5 序号11）：符合证照数据模式的新证照
    提交后返回 201，Location 指向该证照的信息获取地址（T5-13），返回的入库证照与提交的内容逐项一致。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚。
    测试步骤：
    1. 生成两份新证照（持证单位、电子证照标识、使用登记证编号与设备代码均新生成）；
    2. 逐份提交汇聚（T5-11）。
    预期结果：每份返回 201 且符合契约的响应结构，返回的入库证照与提交的逐项一致；有 Location 头，指向该证照的信息获取路径（T5-13）。

    A new, valid certificate is aggregated (201, Location → T5-13) and stored as sent.
    """
    for cert, r in zip(library.certs, library.responses, strict=True):
        data = expect(r, "T5-11", 201, f"汇聚电子证照 {cert['elicenseId']}（T5-11）")
        diff = _differences(cert, data)
        assert not diff, "入库证照与提交的不一致：" + "；".join(diff[:5]) + " / the stored certificate differs"
        location = r.header("Location")
        assert location, "201 没有 Location 头 / 201 without Location"
        want = path_of("T5-13", elicenseId=cert["elicenseId"])
        assert resolve(library.client, location).endswith(want), (
            f"Location 为 {location}，应指向信息获取接口 {want} / Location does not point at T5-13"
        )


@pytest.mark.clause("DB42.4.3.2", "DB42.7.4.4.b.1", "DB42.10.2.T5-11.1")
def test_a_granted_case_and_its_certificate_reach_the_platform(platform: Platform) -> None:
    """过程信息、审批结果和电子证照经政务服务平台发送（§4.3），许可证书以结构化信息与平台交互（§7.4.4 b)）：一件测试办件
    受理、审查、决定、制证、发证各环节上报返回 201；发证时其电子证照（办件编号、办理项与该办件一致）汇聚返回 201；
    办件结果（准予许可，使用登记证编号与电子证照标识即该证照的）上报返回 201；随后按持证主体与办理项检索得到该证照，
    信息获取接口返回的证照与汇聚的一致。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件时本项未测。
    测试步骤：
    1. 领用测试办件，依次上报正式受理（T5-7）与审查通过、决定准予许可、制证、发证环节（T5-8）；
    2. 为新持证单位生成该办件的证照（办件编号、办理项为该办件的），提交汇聚（T5-11）；
    3. 上报办件结果（T5-10，准予许可，使用登记证编号与电子证照标识即该证照的）；
    4. 按持证主体与办理项检索（T5-12）；
    5. 以该证照标识获取信息（T5-13）。
    预期结果：步骤 1、3 每次返回 201 与回执；步骤 2 返回 201，入库证照与提交的一致；步骤 4 返回 200，结果中有该证照；步骤 5 返回 200，证照信息与汇聚的逐项一致。

    A case's process reports, its result and its e-licence all reach the platform, and the licence is found again.
    """
    desk = Desk(platform)
    case = desk.open()
    holder = new_holder(desk.rng, case.authority["division"][:2])
    cert = {**certificate(case.authority, holder, desk.rng, item=case.item), "caseNo": case.case_no}
    desk.walk(case, desk.granted(case, result=False))
    r = platform.client.post(path_of("T5-11"), cert)
    stored = expect(r, "T5-11", 201, f"发证时汇聚办件 {case.case_no} 的电子证照 {cert['elicenseId']}")
    assert not _differences(cert, stored), "入库证照与提交的不一致 / the stored certificate differs"
    desk.ok(case, "T5-10", desk.result(case, "granted", cert), "办件结果：准予许可（带使用登记证编号与电子证照标识）")
    query = {"holderId": holder["uscc"], "itemCode": case.item}
    found = platform.read("T5-12", f"按持证主体 {holder['uscc']} 与办理项 {case.item} 检索", query)
    assert cert["elicenseId"] in {s["elicenseId"] for s in found}, f"检索不到办件 {case.case_no} 的电子证照 / not found"
    info = platform.read("T5-13", "获取该证照的信息", elicenseId=cert["elicenseId"])
    diff = _differences(cert, info)
    assert not diff, "证照信息与汇聚的不一致：" + "；".join(diff[:5]) + " / the information differs"


@pytest.mark.clause("DB42.10.2.T5-11.1", "PROFILE.STATUS.3")
def test_aggregation_is_idempotent_by_identifier_and_version(library: Library) -> None:
    """汇聚按电子证照标识与版本幂等：同一证照原样再提交返回 200 与已入库的证照；同一标识与版本、内容不同的提交以 409 拒绝
    （DUPLICATE 或 CONFLICT），已入库的证照不变（T5-13 读回仍为原内容）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚；两份证照都已汇聚（201 或 200），否则本项未测。
    测试步骤：
    1. 原样再次提交第一份证照（T5-11）；
    2. 以同一电子证照标识与版本、改过照面内部编号的内容提交；
    3. 以该标识获取证照信息（T5-13）。
    预期结果：步骤 1 返回 200，返回的证照与入库的一致；步骤 2 返回 409 与错误信封，错误代码为 DUPLICATE 或 CONFLICT；步骤 3 返回 200，内容仍与原证照逐项一致。

    Re-submitting the same certificate answers 200; other content under the same id and version is 409, nothing changes.
    """
    cert = library.need()[0]
    again = expect(library.client.post(path_of("T5-11"), cert), "T5-11", 200, f"原样再次汇聚 {cert['elicenseId']}")
    assert not _differences(cert, again), "重复提交返回的证照与入库的不一致 / the repeat returns another certificate"
    changed = {**cert, "surface": {**cert["surface"], "internalNo": cert["surface"]["internalNo"] + "X"}}
    expect_error(
        library.client.post(path_of("T5-11"), changed), "T5-11", 409, "同一标识与版本、内容不同的汇聚", DUPLICATE_CODES
    )
    diff = _differences(cert, _info(library, cert["elicenseId"]))
    assert not diff, (
        "被拒绝的提交改变了入库证照：" + "；".join(diff[:5]) + " / the refused submission changed the certificate"
    )


@pytest.mark.clause("DB42.10.2.T5-11.1")
def test_aggregation_refuses_a_wrong_check_character(library: Library, platform: Platform) -> None:
    """电子证照标识的校验字符（ISO/IEC 7064 MOD 37,36）错误的证照以 400 拒绝，错误项指出 /elicenseId，不入库（T5-13 非 200）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚。
    测试步骤：
    1. 为同一持证单位生成一份新证照，把电子证照标识的校验字符改错后提交汇聚（T5-11）；
    2. 以该标识获取证照信息（T5-13）。
    预期结果：步骤 1 返回 400 与错误信封，错误项指出 elicenseId；步骤 2 返回 400 或 404。

    A certificate whose identifier has a wrong check character is refused with 400 naming /elicenseId.
    """
    rng = random.Random(secrets.randbits(64))
    cert = certificate(platform.authority(), library.holder, rng)
    cert["elicenseId"] = with_bad_check(cert["elicenseId"], "elicense-id")
    err = expect_error(platform.client.post(path_of("T5-11"), cert), "T5-11", 400, "汇聚校验字符错误的电子证照")
    assert names_field(err, "elicenseId"), (
        f"400 的错误项未指出 /elicenseId：{err.get('errors')} / /elicenseId not named"
    )
    r = platform.client.get(path_of("T5-13", elicenseId=cert["elicenseId"]))
    assert r.status in (400, 404), f"被拒绝的证照仍可获取（T5-13 返回 {r.status}） / the refused certificate is stored"


# ---------------------------------------------------------------------------------- T5-12 检索
@pytest.mark.clause("DB42.10.2.T5-12.1")
def test_search_by_holder_finds_the_aggregated_certificates(library: Library) -> None:
    """电子证照依事项检索（表5 序号12）：按持证主体代码（统一社会信用代码）检索得到两份已汇聚的证照，基本信息（标识、证照名称、
    证照编号、持证主体、颁证日期、状态）与汇聚时一致；指明代码类型 001 结果相同；按办理项编码检索只得到该事项的证照；
    从未持证的主体为空数组；校验位错误的持证主体代码返回 400；结果中没有其他持证主体的证照。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚；两份证照都已汇聚（201 或 200），否则本项未测。
    测试步骤：
    1. 按持证主体代码（统一社会信用代码）检索（T5-12）；
    2. 按持证主体代码与代码类型 001 检索；
    3. 按持证主体代码与第一份证照的办理项编码检索；
    4. 按本工具新生成、从未持证的统一社会信用代码检索；
    5. 以改错校验位的持证主体代码检索。
    预期结果：步骤 1–4 返回 200 且符合契约的响应结构：步骤 1 结果中没有其他持证主体的证照，两份证照都在，其基本信息与汇聚的一致；步骤 2 的证照标识集合与步骤 1 相同；步骤 3 有第一份、没有第二份；步骤 4 为空数组；步骤 5 返回 400 与错误信封。

    Search by holder finds both certificates with their basic data and no other holder's; by item only that item's;
    none for a new holder.
    """
    certs = library.need()
    holder = library.holder["uscc"]
    found = library.platform.read("T5-12", f"按持证主体 {holder} 检索", {"holderId": holder})
    by_id = {s["elicenseId"]: s for s in found}
    names = {c["holderName"] for c in certs}  # the summary names its holder (elicenseSummary holderName)
    strangers = sorted(
        {f"{s.get('elicenseId')}（{s.get('holderName')}）" for s in found if s.get("holderName") not in names}
    )
    assert not strangers, (
        f"按持证主体 {holder} 检索得到其他持证主体的证照 {strangers[:5]}（共 {len(strangers)} 份） / "
        "the search by holder returns other holders' certificates"
    )
    for cert in certs:
        summary = by_id.get(cert["elicenseId"])
        assert summary is not None, f"检索结果中没有已汇聚的证照 {cert['elicenseId']}（共 {len(found)} 条） / not found"
        diff = [f"{k}：{summary[k]!r} ≠ {cert[k]!r}" for k in summary if k in cert and summary[k] != cert[k]]
        assert not diff, (
            f"证照 {cert['elicenseId']} 的检索结果与汇聚的不一致：" + "；".join(diff) + " / the summary differs"
        )
    typed = library.platform.read("T5-12", "按持证主体与代码类型 001 检索", {"holderId": holder, "holderIdType": "001"})
    assert {s["elicenseId"] for s in typed} == set(by_id), (
        "指明代码类型 001 的检索结果与不指明时不同 / holderIdType changes the result"
    )
    first, second = certs
    query = {"holderId": holder, "itemCode": first["itemCode"]}
    narrowed = library.platform.read("T5-12", f"按持证主体与办理项 {first['itemCode']} 检索", query)
    ids = {s["elicenseId"] for s in narrowed}
    assert first["elicenseId"] in ids and second["elicenseId"] not in ids, (
        f"按办理项 {first['itemCode']} 检索应只得到该事项的证照 {first['elicenseId']}，实为 {sorted(ids)} / the item filter is wrong"
    )
    fresh = DataGen(secrets.randbits(62)).uscc(library.holder["division"])
    none = library.platform.read("T5-12", f"按从未持证的主体 {fresh} 检索", {"holderId": fresh})
    assert none == [], f"从未持证的主体检索到 {len(none)} 份证照 / a new holder has certificates"
    library.platform.refused(
        "T5-12", 400, "以校验位错误的持证主体代码检索", params={"holderId": with_bad_check(holder, "uscc")}
    )


# ---------------------------------------------------------------------------------- T5-13 信息
@pytest.mark.clause("DB42.10.2.T5-13.1")
def test_certificate_information_by_the_identifier_from_the_search(library: Library) -> None:
    """电子证照依事项信息获取（表5 序号13）：以检索接口返回的电子证照标识获取证照详细信息——基本信息、照面信息和明细信息
    （每台登记设备一条，照面的设备代码在其中）——与汇聚的逐项一致；格式正确但不存在的标识返回 404；校验字符错误的标识返回 400 或 404。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚；两份证照都已汇聚（201 或 200），否则本项未测。检索接口（T5-12）返回这两份证照，否则本项未测。
    测试步骤：
    1. 按持证主体检索（T5-12），取得证照标识；
    2. 以每个标识获取证照信息（T5-13）；
    3. 以格式正确、不存在的电子证照标识获取；
    4. 以校验字符错误的标识获取。
    预期结果：步骤 2 每次返回 200 且符合契约的响应结构，有基本信息的各必填项、照面信息与明细信息，照面的设备代码在明细中，与汇聚的逐项一致；步骤 3 返回 404 与错误信封，错误代码为 NOT_FOUND；步骤 4 返回 400 或 404 与错误信封。

    The identifier from the search gives the full certificate as aggregated (basic information, surface and details, the
    surface's equipment among the details); an unknown id is 404, a malformed one 400/404.
    """
    certs = library.need()
    found = library.platform.read("T5-12", "检索", {"holderId": library.holder["uscc"]})
    ids = {s["elicenseId"] for s in found}
    if not all(c["elicenseId"] in ids for c in certs):
        pytest.skip(
            "未测：检索接口（T5-12）没有返回已汇聚的证照，无法以检索得到的标识获取信息（见 T5-12） / not found by the search"
        )
    for cert in certs:
        info = _info(library, cert["elicenseId"])
        lacking = _parts_lacking(info)
        assert not lacking, (
            f"证照 {cert['elicenseId']} 的详细信息缺少{'、'.join(lacking)} / the information lacks {', '.join(lacking)}"
        )
        diff = _differences(cert, info)
        assert not diff, (
            f"证照 {cert['elicenseId']} 的详细信息与汇聚的不一致：" + "；".join(diff[:5]) + " / the information differs"
        )
    absent = library.unknown_id()
    library.platform.refused("T5-13", 404, f"获取不存在的电子证照 {absent}", (ErrorCode.NOT_FOUND,), elicenseId=absent)
    bad = with_bad_check(certs[0]["elicenseId"], "elicense-id")
    library.platform.refused("T5-13", (400, 404), f"获取校验字符错误的电子证照 {bad}", elicenseId=bad)


# ---------------------------------------------------------------------------------- T5-14 / T5-15 文件
@pytest.mark.clause("DB42.10.2.T5-14.1")
def test_the_download_address_points_at_the_layout_file(library: Library, tzsb_target: Target) -> None:
    """电子证照依事项文件下载地址获取（表5 序号14）：返回该证照的下载地址（被测平台之下、文件下载接口 T5-15 的路径、带 token）、
    版式文件格式（OFD/PDF）与尚未到达的失效时间；按该地址可以下载，文件的 SHA-256 等于地址声明的摘要；不存在的证照返回 404。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚；两份证照都已汇聚（201 或 200），否则本项未测。时钟偏差取 [thresholds] clock_skew_seconds（默认 60 秒）。
    测试步骤：
    1. 获取第一份证照的文件下载地址（T5-14）；
    2. 按该地址下载；
    3. 获取不存在的证照的下载地址。
    预期结果：步骤 1 返回 200 且符合契约的响应结构，电子证照标识为所查的，地址在被测平台之下、为该证照的文件下载接口（T5-15）路径并带 token，失效时间未过；步骤 2 返回 200 且内容非空，地址声明 sha256 时文件的 SHA-256 与之相等；步骤 3 返回 404 与错误信封。

    The download address is T5-15's path for this e-licence with a token, a format and a future expiry; it downloads the
    file it declares (SHA-256); unknown ids are 404.
    """
    cert = library.need()[0]
    addr = _address(library, cert["elicenseId"])
    assert addr["elicenseId"] == cert["elicenseId"], (
        f"下载地址属于 {addr['elicenseId']} / the address is for another e-licence"
    )
    problem = download_path_ok(library.client, addr["url"], cert["elicenseId"])
    assert problem is None, problem
    skew = dt.timedelta(seconds=float(tzsb_target.thresholds.get("clock_skew_seconds", 60)))
    expires = dt.datetime.fromisoformat(addr["expiresAt"])
    assert expires > dt.datetime.now(dt.UTC) - skew, (
        f"下载地址的失效时间 {addr['expiresAt']} 已过 / the address has already expired"
    )
    r = library.client.get(resolve(library.client, addr["url"]))
    assert r.status == 200 and r.content, f"按下载地址下载返回 {r.status}：{snippet(r)} / the address does not download"
    if addr.get("sha256"):
        digest = hashlib.sha256(r.content).hexdigest()
        assert digest == addr["sha256"], (
            f"下载的文件 SHA-256 为 {digest}，下载地址声明为 {addr['sha256']} / digest differs"
        )
    absent = library.unknown_id()
    library.platform.refused("T5-14", 404, f"获取不存在的电子证照 {absent} 的下载地址", elicenseId=absent)


@pytest.mark.clause("DB42.10.2.T5-15.1")
def test_the_layout_file_is_a_real_ofd_or_pdf(library: Library) -> None:
    """电子证照依事项文件下载（表5 序号15）：以下载地址获取的版式文件为声明格式的真实文件（OFD 包结构或 PDF 结构完整），
    媒体类型与格式一致，带 Content-Disposition；有效期内再次按同一地址下载得到相同文件（下载可重试）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚；两份证照都已汇聚（201 或 200），否则本项未测。第一份证照的下载地址（T5-14）可用（在平台之下、为 T5-15 路径并带 token），否则本项未测。
    测试步骤：
    1. 获取第一份证照的文件下载地址（T5-14）；
    2. 按该地址下载版式文件（T5-15）；
    3. 按同一地址再次下载。
    预期结果：步骤 1 返回 200；步骤 2 返回 200，媒体类型与声明的格式（OFD/PDF）一致，文件结构为有效的该格式，带 Content-Disposition；步骤 3 返回 200，内容与步骤 2 相同。

    The file is a structurally valid OFD/PDF of the declared media type, with Content-Disposition; a retry gets the same bytes.
    """
    cert = library.need()[0]
    addr = _address(library, cert["elicenseId"])
    problem = download_path_ok(library.client, addr["url"], cert["elicenseId"])
    if problem is not None:
        pytest.skip(f"未测：下载地址不可用（{problem}），见 T5-14 / the address is unusable")
    url = resolve(library.client, addr["url"])
    r = library.client.get(url)
    assert r.status == 200, f"按下载地址下载返回 {r.status}：{snippet(r)} / the download failed"
    fmt = addr["format"]
    ctype = (r.header("Content-Type") or "").split(";")[0].strip().lower()
    assert ctype == MEDIA[fmt], (
        f"媒体类型为 {ctype or '无'}，下载地址声明的格式为 {fmt}（{MEDIA[fmt]}） / media type differs"
    )
    problems = file_problems(r.content, fmt)
    assert not problems, f"版式文件不是有效的 {fmt}：" + "；".join(problems) + " / not a valid layout file"
    assert r.header("Content-Disposition"), "版式文件响应没有 Content-Disposition / no Content-Disposition"
    again = library.client.get(url)
    assert again.status == 200 and again.content == r.content, (
        f"有效期内再次下载返回 {again.status}{'' if again.status != 200 else '，内容不同'} / a retried download fails"
    )


@pytest.mark.clause("DB42.10.2.T5-15.1")
def test_a_download_token_only_opens_its_own_certificate(library: Library) -> None:
    """文件下载令牌：无效的令牌、以另一证照的下载地址中的令牌下载本证照，均返回 403（FORBIDDEN）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚；两份证照都已汇聚（201 或 200），否则本项未测。
    测试步骤：
    1. 获取第二份证照的文件下载地址（T5-14），取出其中的 token；
    2. 以随机生成的无效令牌下载第一份证照（T5-15）；
    3. 以第二份证照的令牌下载第一份证照。
    预期结果：步骤 1 返回 200，地址带 token；步骤 2、3 各返回 403 与错误信封，错误代码为 FORBIDDEN。

    An unknown token, or the token issued for another e-licence, is refused with 403.
    """
    first, second = library.need()
    other = _address(library, second["elicenseId"])
    token = parse_qs(urlsplit(resolve(library.client, other["url"])).query).get("token", [""])[0]
    assert token, f"另一证照的下载地址没有 token：{other['url']} / the address carries no token"
    for label, value in (("无效的令牌", secrets.token_urlsafe(24)), ("另一证照的令牌", token)):
        what, params = f"以{label}下载 {first['elicenseId']}", {"token": value}
        library.platform.refused("T5-15", 403, what, (ErrorCode.FORBIDDEN,), params, elicenseId=first["elicenseId"])


# ---------------------------------------------------------------------------------- T5-16 缩略图
@pytest.mark.feature(THUMBNAIL)
@pytest.mark.clause("DB42.10.2.T5-16.1")
def test_thumbnails_are_the_pages_of_the_certificate(library: Library, tzsb_client: Any) -> None:
    """电子证照依事项缩略图下载（表5 序号16）：省级调用方以检索得到的标识获取全部预览图片，至少一页，页码自 1 起连续升序，
    每张图片为声明类型（PNG/JPEG）的有效图片（Base64 可解码、文件结构完整）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚；两份证照都已汇聚（201 或 200），否则本项未测；目标文件声明可选特性 thumbnail（未声明时本项不适用），并有 [clients.province-caller]（缺少时本项未测）。
    测试步骤：
    1. 以省级调用方获取第一份证照的缩略图（T5-16）；
    2. 逐页解码并检验图片。
    预期结果：步骤 1 返回 200 且符合契约的响应结构（至少一页）；页码自 1 起连续升序；每页图片为可解码的 Base64，按声明的媒体类型（PNG/JPEG）结构完整。

    A province-level caller gets every page as a valid PNG/JPEG image, pages numbered 1, 2, …
    """
    cert = library.need()[0]
    province: TargetClient = tzsb_client(None, PROVINCE_CALLER)
    pages = expect(
        province.get(path_of("T5-16", elicenseId=cert["elicenseId"])),
        "T5-16",
        200,
        f"省级调用方获取 {cert['elicenseId']} 的缩略图",
    )
    numbers = [p["page"] for p in pages]
    assert numbers == list(range(1, len(pages) + 1)), f"页码为 {numbers}，应自 1 起连续升序 / pages not numbered 1..n"
    for p in pages:
        raw = decode_base64(p["data"])
        assert raw, f"第 {p['page']} 页的图片不是有效的 Base64 / not base64"
        problems = image_problems(raw, p["mediaType"])
        assert not problems, f"第 {p['page']} 页：" + "；".join(problems) + " / not a valid image"


@pytest.mark.feature(THUMBNAIL)
@pytest.mark.clause("DB42.10.2.T5-16.2")
def test_thumbnails_of_a_real_certificate_are_refused_to_a_city_level_caller(
    library: Library, tzsb_client: Any
) -> None:
    """缩略图接口仅向省厅单位提供服务：持有该接口权限范围的地市级调用方获取一份存在的证照的缩略图返回 403（FORBIDDEN），
    省级调用方（对照）获取同一证照返回 200。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；平台实施清单（T5-1）中有“特种设备使用登记”的实施项（颁证单位取其实施部门，取不到时本项未测）；本模块为一个新的持证单位生成两份不同设备类别办理项的新证照，并以 T5-11 汇聚；两份证照都已汇聚（201 或 200），否则本项未测；目标文件声明可选特性 thumbnail（未声明时本项不适用），并有持有该接口权限范围的 [clients.city-caller] 与 [clients.province-caller]（缺少时本项未测）。
    测试步骤：
    1. 以地市级调用方获取第一份证照的缩略图（T5-16）；
    2. 以省级调用方获取同一证照的缩略图（对照）。
    预期结果：步骤 1 返回 403 与错误信封，错误代码为 FORBIDDEN；步骤 2 返回 200 且符合契约的响应结构。

    A city-level caller holding the scope is refused (403) for an existing e-licence; the province-level caller is not.
    """
    cert = library.need()[0]
    path = path_of("T5-16", elicenseId=cert["elicenseId"])
    city: TargetClient = tzsb_client(None, CITY_CALLER)
    expect_error(
        city.get(path), "T5-16", 403, f"地市级调用方获取 {cert['elicenseId']} 的缩略图", (ErrorCode.FORBIDDEN,)
    )
    province: TargetClient = tzsb_client(None, PROVINCE_CALLER)
    expect(province.get(path), "T5-16", 200, f"省级调用方（对照）获取 {cert['elicenseId']} 的缩略图")


# ---------------------------------------------------------------------------------- SMS gateway
@pytest.mark.clause("PROFILE.PUSH.2")
def test_the_sms_gateway_takes_each_message_once(platform: Platform) -> None:
    """短信网关（§7.4.5 c) 4) 发送许可办件信息）：新消息返回 201 与回执；同一消息标识、相同内容再次提交返回 200 与首次回执
    （duplicate=true，不重发短信）；同一消息标识、不同内容返回 409（DUPLICATE 或 CONFLICT）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；短信内容与手机号由本工具新生成，消息标识每次新生成。
    测试步骤：
    1. 提交一条新短信（sendSms）；
    2. 以同一消息标识、相同内容再次提交；
    3. 以同一消息标识、不同内容提交。
    预期结果：步骤 1 返回 201 与回执（消息标识为所提交的，duplicate 为 false）；步骤 2 返回 200 与回执（duplicate 为 true），接收时间同首次回执；步骤 3 返回 409 与错误信封，错误代码为 DUPLICATE 或 CONFLICT。

    The SMS gateway takes a message once: 201, then 200 with the first receipt, and 409 for other content.
    """
    gen = DataGen(secrets.randbits(62))
    body = {
        "messageId": f"tzsb-sms-{uuid.uuid4().hex}",
        "mobile": gen.mobile(),
        "content": "【特种设备使用登记】您的申请已办结，准予许可，使用登记证已发放。",
        "sentAt": now_iso(),
    }
    first = check_receipt(platform.client.post(path_of("sendSms"), body), "sendSms", body, 201, "发送短信")
    again = check_receipt(platform.client.post(path_of("sendSms"), body), "sendSms", body, 200, "重发同一短信")
    assert again["receivedAt"] == first["receivedAt"], (
        "重发的回执不是首次回执 / the repeat does not get the first receipt"
    )
    other = {**body, "content": body["content"] + "（改）"}
    expect_error(
        platform.client.post(path_of("sendSms"), other), "sendSms", 409, "同一消息标识、不同内容的短信", DUPLICATE_CODES
    )
