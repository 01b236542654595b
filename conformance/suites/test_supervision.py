"""安全监察系统功能测试（DB42/T 2279-2024 §10.4 表7）：T7-1 使用单位信息上报服务接口、T7-2 设备使用登记信息上报服务接口，
以契约约定的回读接口（getReportedUnit、getReportedRegistration）核对上报结果。

GB/T 34990 式测试项：每个测试的文档字符串给出测试目的，代码即测试步骤，断言给出预期结果（中文在前、英文在后）。
接口路径、报文与回执结构取自契约 ``schemas/openapi/supervision.yaml``；本工具以行政许可系统的身份上报（目标文件有
``[clients.licensing-system]`` 时用该客户端，否则用 ``[credentials]``），以 ``[credentials]`` 回读。

上报的数据由 :class:`conformance.datagen.DataGen` 以随机种子新生成（编码均取自编码库的生成器，合规），设备品种与办理项取自
代码表（表1 的十个设备类别），主键（统一社会信用代码、使用登记证编号）上报前先回读确认目标中不存在；消息标识每次新生成，
可对同一目标反复运行。契约没有删除接口，测试上报的记录留在被测系统中（均为本工具生成的虚构单位与设备）。

Functional tests of the supervision system: T7-1 and T7-2 receive, store and give back what the
licensing system reports (field by field), idempotency by message id, updates, refusal of invalid
identifiers and inconsistent registrations, against any implementation of the contract.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

import pytest

from conformance.client import TargetClient
from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.contract.errors import ErrorCode
from conformance.datagen import DataGen
from conformance.harness.target import Target
from conformance.suites.support.checks import bad_message_ids_are_refused, near_miss_codes_are_refused
from conformance.suites.support.reporting import (
    body_validator,
    caller,
    conforms,
    depth,
    differences,
    later,
    message_id,
    now_iso,
    path_of,
    permitted,
    refused,
)

ROLE = "supervision"
pytestmark = pytest.mark.role(ROLE)

#: The two reports: (report operation, read-back operation, body member, key field, key path parameter).
REPORTS = {
    "unit": ("reportUnit", "getReportedUnit", "unit", "uscc"),
    "registration": ("reportRegistration", "getReportedRegistration", "registration", "registrationNo"),
}
#: Each report's DB42 table row clause.
ROW = {"unit": "DB42.10.4.T7-1.1", "registration": "DB42.10.4.T7-2.1"}


def _each(*clauses: str) -> list[Any]:
    return [pytest.param(kind, id=kind, marks=pytest.mark.clause(ROW[kind], *clauses)) for kind in REPORTS]


@pytest.fixture
def client(tzsb_client: Any, tzsb_target: Target) -> TargetClient:
    """The reporting side (the licensing system)."""
    return caller(tzsb_client, tzsb_target)


@pytest.fixture
def reader(tzsb_client: Any) -> TargetClient:
    """The read-back side (harness credentials)."""
    return tzsb_client()


# ---------------------------------------------------------------------------- messages


@functools.cache
def _variety(group: str) -> str | None:
    """A specific catalogue variety of a Table 1 equipment group (from the code lists)."""
    cat, specific = code_lists.catalogue(), code_lists.catalogue_specific()
    for code in code_lists.licence_groups()[group]["catalogue"]:
        for v in code_lists.catalogue_descendants(code):
            if v in specific and not cat[v].get("doubtful"):
                return v
    return None


@functools.cache
def _item(group: str, operation_name: str) -> str:
    """The Table 1 handling item of a group for the operation named ``operation_name`` (before any “（…）”)."""
    op = next(code for code, o in code_lists.licence_operations().items() if o["name"].split("（")[0] == operation_name)
    return next(
        code for code, it in code_lists.licence_items().items() if it["group"] == group and it["operation"] == op
    )


class Builder:
    """Fresh, valid T7-1 and T7-2 messages (one random DataGen stream per builder)."""

    def __init__(self, province: str = "42") -> None:
        self.gen = DataGen(secrets.randbits(32))
        self.rng = self.gen.rng
        self.province = province

    def unit(self) -> dict[str, Any]:
        return self.gen.unit("use", self.province)

    def equipment(self, owner: dict[str, Any], group: str | None = None) -> dict[str, Any]:
        eq = self.gen.equipment(self.province)
        eq.pop("parameters", None)  # technical parameters differ by kind; optional
        if group is not None:
            variety = _variety(group)
            if variety is None:
                pytest.skip(f"代码表中找不到表1第 {group} 类设备的具体品种 / no variety for equipment group {group}")
            eq.update(
                catalogueCode=variety,
                equipmentName=code_lists.catalogue()[variety]["name"],
                equipmentCode=KINDS["equipment-code"].generate(
                    self.rng, catalogue=variety, division=eq["division"], year=int(eq["manufactureDate"][:4])
                ),
                registrationNo=KINDS["registration-no"].generate(
                    self.rng, catalogue=variety, province=self.province, year=int(eq["registrationDate"][:4])
                ),
            )
        eq.update(
            useUnitUscc=owner["uscc"],
            useUnitName=owner["name"],
            propertyUnitName=owner["name"],
            division=owner["division"],
            address=owner["address"],
            status="in-use",
        )
        return eq

    def authority(self, division: str) -> dict[str, Any]:
        """The registering authority of a county: its prefecture's market-regulation bureau (USCC of an organ, 11)."""
        parent = code_lists.divisions().get(division, {}).get("parent") or division[:2] + "0000"
        return {
            "name": f"{self.gen.division_name(parent)}市场监督管理局",
            "uscc": KINDS["uscc"].generate(self.rng, division=parent, pair="11"),
            "division": parent,
        }

    def registration(self, eq: dict[str, Any], group: str | None = None) -> dict[str, Any]:
        authority = self.authority(eq["division"])
        eq["registrationAuthority"] = authority["name"]
        reg = self.gen.use_registration(eq, authority)
        if group is not None:
            reg["itemCode"] = _item(group, "新登记")
        return reg

    def message(
        self, kind: str, record: dict[str, Any], equipment: dict[str, Any] | None = None, mid: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"messageId": mid or message_id(), "reportedAt": now_iso(), REPORTS[kind][2]: record}
        if kind == "registration":
            body["equipment"] = equipment
        v = body_validator(ROLE, REPORTS[kind][0])
        if not v.is_valid(body):  # the harness's own mistake: an error, never a verdict on the target
            raise RuntimeError(f"harness built an invalid {kind} report: {v.errors(body)[:3]}")
        return body


def _read_path(kind: str, key: str) -> str:
    _, read, _, key_field = REPORTS[kind]
    return path_of(ROLE, read, **{key_field: key})


def _absent(reader: TargetClient, kind: str, key: str) -> bool:
    r = reader.get(_read_path(kind, key))
    permitted(r, "回读已上报数据")
    if r.status == 200:
        return False
    refused(r, ROLE, REPORTS[kind][1], 404, f"回读未上报过的{_label(kind)}“{key}”")
    return True


def _label(kind: str) -> str:
    return {"unit": "使用单位", "registration": "设备使用登记"}[kind]


def _fresh(reader: TargetClient, kind: str) -> tuple[Builder, dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """(builder, record, equipment or None, its unit): new keys the target does not hold yet."""
    for _ in range(5):
        b = Builder()
        unit = b.unit()
        if kind == "unit":
            if _absent(reader, "unit", unit["uscc"]):
                return b, unit, None, unit
            continue
        eq = b.equipment(unit)
        reg = b.registration(eq)
        if _absent(reader, "unit", unit["uscc"]) and _absent(reader, "registration", reg["registrationNo"]):
            return b, reg, eq, unit
    pytest.skip("无法生成目标中不存在的新主键 / could not generate keys absent at the target")


def _report(
    client: TargetClient, kind: str, body: dict[str, Any], status: int | tuple[int, ...], what: str
) -> dict[str, Any]:
    r = client.post(path_of(ROLE, REPORTS[kind][0]), body)
    permitted(r, what)
    receipt = conforms(r, ROLE, REPORTS[kind][0], status, what)
    assert receipt["messageId"] == body["messageId"], (
        f"{what}：回执的消息标识为“{receipt['messageId']}”，应为“{body['messageId']}” / "
        f"the receipt carries another message id"
    )
    return receipt


def _accepted(client: TargetClient, kind: str, body: dict[str, Any], what: str) -> dict[str, Any]:
    receipt = _report(client, kind, body, 201, what)
    assert receipt["duplicate"] is False, (
        f"{what}：首次上报的回执 duplicate 应为 false / a first report is no duplicate"
    )
    return receipt


def _read_back(reader: TargetClient, kind: str, key: str, what: str) -> dict[str, Any]:
    r = reader.get(_read_path(kind, key))
    permitted(r, what)
    return conforms(r, ROLE, REPORTS[kind][1], 200, what)


def _same(reader: TargetClient, kind: str, record: dict[str, Any], what: str) -> None:
    key = record[REPORTS[kind][3]]
    got = _read_back(reader, kind, key, what)
    diff = differences(record, got)
    assert not diff, (
        f"{what}：回读的{_label(kind)}与上报内容不一致（{len(diff)} 处）：{'；'.join(diff[:5])} / "
        f"the record read back differs from the one reported"
    )


def _setup(client: TargetClient, reader: TargetClient, kind: str) -> tuple[Builder, dict[str, Any], dict[str, Any]]:
    """(builder, record, first message) for a report of ``kind``; for a registration its unit is reported first (T7-1)."""
    b, record, eq, unit = _fresh(reader, kind)
    if kind == "registration":
        _accepted(client, "unit", b.message("unit", unit), "上报使用单位信息（T7-1）")
    return b, record, b.message(kind, record, eq)


# ---------------------------------------------------------------------------- T7-1, T7-2: receive and keep


@pytest.mark.clause("DB42.10.4.T7-1.1", "DB42.7.4.4.b.2", "PROFILE.PUSH.1")
def test_a_reported_unit_is_read_back_field_by_field(client: TargetClient, reader: TargetClient) -> None:
    """使用单位信息上报（T7-1）：上报的单位逐字段可回读。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 以新单位的统一社会信用代码回读（getReportedUnit）；
    2. 以新消息标识上报该单位（reportUnit）；
    3. 再次回读。
    预期结果：步骤 1 返回 404；步骤 2 返回 201 与回执（消息标识、接收时间，duplicate 为 false）；步骤 3 返回 200，内容与上报的逐字段一致。
    """
    b, unit, _, _ = _fresh(reader, "unit")
    _accepted(client, "unit", b.message("unit", unit), "上报使用单位信息（T7-1）")
    _same(reader, "unit", unit, f"回读使用单位“{unit['uscc']}”")


@pytest.mark.clause("DB42.10.4.T7-2.1", "DB42.7.4.4.b.2", "PROFILE.PUSH.1")
def test_a_reported_registration_is_read_back_field_by_field(client: TargetClient, reader: TargetClient) -> None:
    """设备使用登记信息上报（T7-2）：上报的登记与设备逐字段可回读。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 上报使用单位（T7-1）；
    2. 上报登记与设备信息（reportRegistration）；
    3. 按使用登记证编号回读（getReportedRegistration）。
    预期结果：步骤 2 返回 201 与回执；步骤 3 返回 200，登记内容与上报的逐字段一致。
    """
    _, reg, message = _setup(client, reader, "registration")
    _accepted(client, "registration", message, "上报设备使用登记信息（T7-2）")
    _same(reader, "registration", reg, f"回读使用登记“{reg['registrationNo']}”")


@pytest.mark.clause("DB42.10.4.1", "DB42.10.4.T7-2.1")
def test_registrations_of_every_equipment_group_are_accepted(client: TargetClient, reader: TargetClient) -> None:
    """本地区全部登记设备上报（§10.4）：表1 的每一类设备都能上报。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 上报一个新使用单位（T7-1）；
    2. 为表1 每一类设备（锅炉、压力容器、电梯、起重机械、场（厂）内机动车、大型游乐设施、压力管道、气瓶、车用气瓶、客运索道）各上报一台新登记设备（T7-2）；
    3. 按使用登记证编号逐一回读。
    预期结果：每次上报返回 201；每台设备都可回读到上报的内容。
    """
    b = Builder()
    unit = b.unit()
    if not _absent(reader, "unit", unit["uscc"]):
        pytest.skip("生成的单位已存在于目标中 / the generated unit exists at the target")
    _accepted(client, "unit", b.message("unit", unit), "上报使用单位信息（T7-1）")
    missing: list[str] = []
    for group, info in code_lists.licence_groups().items():
        eq = b.equipment(unit, group)
        reg = b.registration(eq, group)
        label = f"{info['equipment']}（{reg['registrationNo']}）"
        _accepted(client, "registration", b.message("registration", reg, eq), f"上报{label}的使用登记")
        r = reader.get(_read_path("registration", reg["registrationNo"]))
        if r.status != 200:
            missing.append(f"{label}：HTTP {r.status}")
            continue
        got = conforms(r, ROLE, "getReportedRegistration", 200, f"回读{label}的使用登记")
        diff = differences(reg, got)
        if diff:
            missing.append(f"{label}：{'；'.join(diff[:2])}")
    assert not missing, (
        f"已上报的使用登记有 {len(missing)} 类未保存或内容不符：{'；'.join(missing[:5])} / "
        f"reported registrations of some equipment groups are not kept as reported"
    )


# ---------------------------------------------------------------------------- idempotency and updates


@pytest.mark.parametrize("kind", _each("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2"))
def test_a_repeated_report_gets_the_first_receipt(kind: str, client: TargetClient, reader: TargetClient) -> None:
    """数据重传：同一报文再次上报得到原回执，不重复处理。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 上报一条记录；
    2. 以同一消息标识、同一内容再次上报；
    3. 回读。
    预期结果：步骤 2 返回 200 与原回执（消息标识、接收时间相同，duplicate 为 true），不计为失败；回读内容不变。
    """
    _, record, message = _setup(client, reader, kind)
    first = _accepted(client, kind, message, f"上报{_label(kind)}")
    again = _report(client, kind, message, 200, f"以同一消息标识、同一内容重传{_label(kind)}报文")
    assert again["duplicate"] is True, "重传报文的回执 duplicate 应为 true / a retransmission must be marked duplicate"
    assert differences(first["receivedAt"], again["receivedAt"]) == [], (
        f"重传报文的回执接收时间 {again['receivedAt']} 与首次 {first['receivedAt']} 不同，不是原回执 / not the first receipt"
    )
    _same(reader, kind, record, f"重传后回读{_label(kind)}")


def _newer(
    b: Builder, kind: str, record: dict[str, Any], equipment: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A later version of a record: a unit with a new address and phone; a registration suspended (停用, its own Table 1 item)."""
    if kind == "unit":
        return {
            **record,
            "address": b.gen.address(record["division"]),
            "contactPhone": b.gen.mobile(),
            "updatedAt": later(record["updatedAt"], 86400),
        }, None
    group = code_lists.licence_items()[record["itemCode"]]["group"]
    assert equipment is not None
    reg = {
        **record,
        "status": "suspended",
        "itemCode": _item(group, "停用"),
        "caseNo": record["caseNo"][:-6] + f"{b.rng.randrange(10**6):06d}",
        "updatedAt": later(record["updatedAt"], 86400),
    }
    return reg, {**equipment, "status": "suspended", "updatedAt": later(equipment["updatedAt"], 86400)}


@pytest.mark.parametrize("kind", _each("SHARE.SEC.RETRY.2", "PROFILE.PUSH.2"))
def test_a_late_repeat_does_not_undo_a_newer_report(kind: str, client: TargetClient, reader: TargetClient) -> None:
    """再次上报即更新，迟到的重传不覆盖新内容。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 上报一条记录；
    2. 以新消息标识上报其更新（内容改变、updatedAt 更晚）；
    3. 重传步骤 1 的报文；
    4. 回读。
    预期结果：步骤 2 返回 201，回读为新内容；步骤 3 返回 200 且 duplicate 为 true；步骤 4 仍为新内容（重传未被再次处理）。
    """
    b, record, message = _setup(client, reader, kind)
    _accepted(client, kind, message, f"上报{_label(kind)}")
    newer, equipment = _newer(b, kind, record, message.get("equipment"))
    _accepted(client, kind, b.message(kind, newer, equipment), f"以新消息标识上报更新的{_label(kind)}")
    _same(reader, kind, newer, f"更新后回读{_label(kind)}")
    again = _report(client, kind, message, 200, f"重传首条{_label(kind)}报文")
    assert again["duplicate"] is True, (
        "迟到的重传报文回执 duplicate 应为 true / the late retransmission must be marked duplicate"
    )
    _same(reader, kind, newer, f"迟到的重传之后回读{_label(kind)}")


@pytest.mark.parametrize("kind", _each("PROFILE.STATUS.3", "PROFILE.PUSH.2"))
def test_the_same_message_id_with_other_content_is_409(kind: str, client: TargetClient, reader: TargetClient) -> None:
    """同一消息标识不得对应两种内容。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 上报一条记录；
    2. 以同一消息标识上报内容不同的报文；
    3. 回读。
    预期结果：步骤 2 返回 409（错误代码 DUPLICATE 或 CONFLICT，而非 STATE_CONFLICT，中文说明）；已保存的数据不变。
    """
    b, record, message = _setup(client, reader, kind)
    _accepted(client, kind, message, f"上报{_label(kind)}")
    newer, equipment = _newer(b, kind, record, message.get("equipment"))
    other = b.message(kind, newer, equipment, mid=message["messageId"])
    r = client.post(path_of(ROLE, REPORTS[kind][0]), other)
    err = refused(r, ROLE, REPORTS[kind][0], 409, f"以同一消息标识上报内容不同的{_label(kind)}")
    assert err["code"] in (ErrorCode.DUPLICATE, ErrorCode.CONFLICT), (
        f"错误代码为 {err['code']}，消息标识重复应为 DUPLICATE / a reused message id is a DUPLICATE, not {err['code']}"
    )
    _same(reader, kind, record, f"409 之后回读{_label(kind)}")


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("kind", _each("PROFILE.PUSH.1", "PROFILE.ERROR.1"))
def test_a_report_without_a_valid_message_id_is_400(kind: str, client: TargetClient, reader: TargetClient) -> None:
    """上报报文须带合规的消息标识。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 上报缺少 messageId 的报文；
    2. 上报 messageId 格式不符（不是 8–64 位字母数字及 _.:-）的报文；
    3. 回读。
    预期结果：步骤 1、2 返回 400，错误项指出 /messageId；数据未被保存。
    """
    _, record, message = _setup(client, reader, kind)
    bad_message_ids_are_refused(client, ROLE, REPORTS[kind][0], message, f"上报{_label(kind)}")
    key = record[REPORTS[kind][3]]
    assert _absent(reader, kind, key), f"被拒绝的报文中的{_label(kind)}“{key}”仍被保存 / a refused report was stored"


@pytest.mark.parametrize("kind", _each("INFO2007.2.6.1", "PROFILE.ERROR.1"))
def test_invalid_identifiers_are_refused_naming_the_field(
    kind: str, client: TargetClient, reader: TargetClient, tzsb_target: Target
) -> None:
    """编码标准化：只错一处的编码被拒绝并指出字段。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 对报文中每个编码字段（契约以 tzsb-* 格式标注：统一社会信用代码、行政区划代码、特种设备代码、使用登记证编号、设备品种、办理项、电子证照标识、电子卷宗编码），取只错一处的值（校验码、代码表、结构）上报；
    2. 回读。
    预期结果：每次返回 400，错误项指出该字段；数据未被保存。
    """
    _, record, message = _setup(client, reader, kind)
    lacking = "契约的上报报文没有编码字段 / the contract's report has no coded field"
    near_miss_codes_are_refused(
        client, ROLE, REPORTS[kind][0], message, f"上报{_label(kind)}", depth(tzsb_target).near_misses, lacking
    )
    key = record[REPORTS[kind][3]]
    assert _absent(reader, kind, key), f"被拒绝的报文中的{_label(kind)}“{key}”仍被保存 / a refused report was stored"


@pytest.mark.clause("DB42.10.4.T7-2.1")
def test_a_registration_for_other_equipment_is_refused(client: TargetClient, reader: TargetClient) -> None:
    """设备使用登记信息上报（T7-2）的一致性：登记与所附设备须为同一台设备。

    前置条件：目标文件有 [clients.licensing-system]（上报方，缺少时用测试凭证）与 [credentials]（回读方）；本工具新生成的单位与设备在目标中不存在。
    测试步骤：
    1. 上报使用单位（T7-1）；
    2. 上报登记，其设备代码 registration.equipmentCode 与所附设备信息的设备代码不同；
    3. 按使用登记证编号回读。
    预期结果：步骤 2 返回 400（契约约定），错误项指出设备代码字段；步骤 3 返回 404（登记未被保存）。
    """
    b, reg, eq, unit = _fresh(reader, "registration")
    assert eq is not None
    _accepted(client, "unit", b.message("unit", unit), "上报使用单位信息（T7-1）")
    other = b.equipment(unit)
    assert other["equipmentCode"] != reg["equipmentCode"]
    r = client.post(path_of(ROLE, "reportRegistration"), b.message("registration", reg, other))
    permitted(r, "上报设备使用登记信息")
    err = refused(r, ROLE, "reportRegistration", 400, "上报设备代码与所附设备信息不一致的使用登记")
    paths = [str(e.get("path", "")) for e in err.get("errors") or [] if isinstance(e, dict)]
    assert any(p.endswith("/equipmentCode") for p in paths), (
        f"400 的错误项未指出设备代码字段（errors 路径：{paths or '无'}） / the errors do not name equipmentCode"
    )
    assert _absent(reader, "registration", reg["registrationNo"]), (
        f"不一致的使用登记“{reg['registrationNo']}”仍被保存 / the inconsistent registration was stored"
    )
