"""省级共享平台与国家平台的两级交换：下级数据来源推送入省，省级平台自动上报国家平台，国家平台下发的数据省级平台应用且不回传。

GB/T 34990 式测试项：文档字符串为测试目的（中文在前、英文在后），代码为测试步骤，断言为预期结果。
本工具扮演省级平台之下的数据来源（``[clients.city-supervision]`` 地方监察机构、``[clients.inspection-institution]``
检验检测机构、``[clients.enterprise]`` 企业，各带登记的 ``division``）与其上的国家平台（模拟器 ``national``，
被测平台的上级平台地址须指向它；国家平台在被测平台的客户端为 ``[clients.national-platform]``）。目标须在
``[features]`` 声明 ``upstream-exchange``；未声明或模拟国家平台不可达时，INFO2007.2.5.3 未测（说明原因），
不判不适用。时限 ``[thresholds] upstream_wait_s``（默认 ``[simulators] wait_s``，60 秒为本项目的假定，标准未给数值）。

The two-tier exchange of a provincial sharing platform (docs/two-tier.md): the harness plays the lower-level data
sources pushing into the province and the national platform above it. One scenario per session
(``support/tiers.py``); each test judges one aspect of it: completeness and timeliness, order per record, no
acknowledged report sent again, the province's own division only, the national push-down applied and never echoed,
the change feed giving the nation the same records, and the providing subject of what is reported up.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import Evidence
from conformance.harness.target import Target
from conformance.report.skips import vacuous
from conformance.suites.support import tiers
from conformance.suites.support.sharing import ROLE

pytestmark = pytest.mark.role(ROLE)


@pytest.fixture
def ex(request: pytest.FixtureRequest, tzsb_target: Target, tzsb_evidence: Evidence, tzsb_client: Any) -> Any:
    return tiers.exchange(request, tzsb_target, tzsb_evidence, tzsb_client)


def _fail(problems: list[str], zh: str, en: str) -> None:
    assert not problems, f"{zh} / {en}：\n" + "\n".join(problems[:30])


@pytest.mark.clause("INFO2007.2.5.3")
def test_every_record_of_the_province_reaches_the_nation_in_time(ex: Any) -> None:
    """省级平台把下级数据来源推送的本辖区每条记录在时限内自动上报国家平台，国家平台最终持有每条记录的最后状态（含删除）。

    前置条件：目标在 [features] 声明 upstream-exchange，被测平台的上级平台地址指向模拟国家平台（[simulators.ports] 或 [simulators.urls] national）；目标文件有 [clients.national-platform] 与至少一个下级数据来源客户端（[clients.city-supervision]、[clients.inspection-institution]、[clients.enterprise]，带登记的 division）；被测省份取 [thresholds] upstream_division，没有时取各数据来源登记区划共同所属的省。缺少上述任一项、模拟国家平台不可用、推送未被省级平台逐条接收或无法生成目标中不存在的新主键时本项未测。时限为 [thresholds] upstream_wait_s（默认 [simulators] wait_s）。
    测试步骤：
    1. 各数据来源以其客户端向单位数据集推送（push）本省三条新单位记录 A、B、E，再更新 A（更晚的 updatedAt）、删除 B；检验检测机构另推送一条外省单位记录；
    2. 以国家平台客户端下发（push）一条本省单位记录 D 并更新之，以测试凭证经省级平台接口回读 D（至多等待时限）；
    3. 等待模拟国家平台收到本省每条记录的最后版本（至多时限），再静候 [simulators] wait_s（不超过时限）；场景结束删除本工具推送的记录；
    4. 取模拟国家平台已回执的上报中每条记录最后确认的版本（版本以 updatedAt 时刻或 DELETE 区分）。
    预期结果：数据来源推送的每条本省记录都在时限内上报国家平台，最后确认的版本为最后推送的版本（A 为更新后的版本，B 为删除）。

    Every record of the province's division that a lower-level source pushed reaches the national platform within
    the bound, the nation ending with each record's last state (a deletion included).
    """
    ex.attach()
    last = ex.last_received()
    problems = []
    for key, want in ex.expected().items():
        got = last.get(key)
        if got is None:
            problems.append(
                f"记录 {key}（来源 {want.client}）在 {ex.bound_s:g} 秒内未上报国家平台 / never reported up within the bound"
            )
        elif got != want.version:
            problems.append(
                f"记录 {key}：国家平台最后收到的版本为 {got}，应为最后推送的 {want.version} / the nation's last version "
                "is not the record's last state"
            )
    _fail(problems, "上报不完整或超时", "reports incomplete or late")


@pytest.mark.clause("INFO2007.2.5.3")
def test_each_record_reaches_the_nation_in_the_order_it_changed(ex: Any) -> None:
    """同一记录的新增、更新、删除按其在省级平台发生的顺序到达国家平台（逐条记录的顺序）。

    前置条件：目标在 [features] 声明 upstream-exchange，被测平台的上级平台地址指向模拟国家平台（[simulators.ports] 或 [simulators.urls] national）；目标文件有 [clients.national-platform] 与至少一个下级数据来源客户端（[clients.city-supervision]、[clients.inspection-institution]、[clients.enterprise]，带登记的 division）；被测省份取 [thresholds] upstream_division，没有时取各数据来源登记区划共同所属的省。缺少上述任一项、模拟国家平台不可用、推送未被省级平台逐条接收或无法生成目标中不存在的新主键时本项未测。时限为 [thresholds] upstream_wait_s（默认 [simulators] wait_s）。模拟国家平台未收到本场景的任何记录时本项未测。
    测试步骤：
    1. 各数据来源以其客户端向单位数据集推送（push）本省三条新单位记录 A、B、E，再更新 A（更晚的 updatedAt）、删除 B；检验检测机构另推送一条外省单位记录；
    2. 以国家平台客户端下发（push）一条本省单位记录 D 并更新之，以测试凭证经省级平台接口回读 D（至多等待时限）；
    3. 等待模拟国家平台收到本省每条记录的最后版本（至多时限），再静候 [simulators] wait_s（不超过时限）；场景结束删除本工具推送的记录；
    4. 按记录比较模拟国家平台已回执的上报中各版本的到达顺序与数据来源的推送顺序。
    预期结果：到达国家平台的每个版本都是数据来源推送过的版本，同一记录各版本的到达顺序与推送顺序一致。

    A record's upload, update and deletion reach the nation in the order they happened at the province.
    """
    ex.attach()
    order: dict[str, list[str]] = {}
    for p in ex.pushed:
        if p.in_division:
            order.setdefault(p.key, []).append(p.version)
    problems = []
    seen: dict[str, list[str]] = {}
    for r in ex.acknowledged():
        if r.key in order:
            seen.setdefault(r.key, []).append(r.version)
    for key, got in seen.items():
        index = [order[key].index(v) if v in order[key] else -1 for v in got]
        if any(i < 0 for i in index):
            problems.append(f"记录 {key}：收到未曾推送的版本 {got} / a version nobody pushed")
        elif index != sorted(index):
            problems.append(f"记录 {key}：到达顺序 {got}，推送顺序 {order[key]} / out of order")
    if not seen:
        vacuous("国家平台未收到本场景的任何记录，顺序无从判断 / nothing received, no order to judge")
    _fail(problems, "上报顺序与变更顺序不一致", "reports out of order")


@pytest.mark.clause("INFO2007.2.5.3")
def test_no_acknowledged_report_is_sent_again(ex: Any) -> None:
    """国家平台已回执的上报消息不再重发，已确认的记录版本不以新消息重复上报；同一消息标识从不对应两种内容。

    前置条件：目标在 [features] 声明 upstream-exchange，被测平台的上级平台地址指向模拟国家平台（[simulators.ports] 或 [simulators.urls] national）；目标文件有 [clients.national-platform] 与至少一个下级数据来源客户端（[clients.city-supervision]、[clients.inspection-institution]、[clients.enterprise]，带登记的 division）；被测省份取 [thresholds] upstream_division，没有时取各数据来源登记区划共同所属的省。缺少上述任一项、模拟国家平台不可用、推送未被省级平台逐条接收或无法生成目标中不存在的新主键时本项未测。时限为 [thresholds] upstream_wait_s（默认 [simulators] wait_s）。模拟国家平台未回执任何上报时本项未测。
    测试步骤：
    1. 各数据来源以其客户端向单位数据集推送（push）本省三条新单位记录 A、B、E，再更新 A（更晚的 updatedAt）、删除 B；检验检测机构另推送一条外省单位记录；
    2. 以国家平台客户端下发（push）一条本省单位记录 D 并更新之，以测试凭证经省级平台接口回读 D（至多等待时限）；
    3. 等待模拟国家平台收到本省每条记录的最后版本（至多时限），再静候 [simulators] wait_s（不超过时限）；场景结束删除本工具推送的记录；
    4. 按消息标识核对模拟国家平台收到的每次推送调用，按记录版本核对已回执的上报。
    预期结果：同一消息标识的各次发送内容相同；得到成功回执的消息不再发送；本场景记录的同一版本只在一个消息中得到确认。

    A report the nation acknowledged is never sent again, an acknowledged record version is not reported again under
    a new message id, and one message id never names two contents.
    """
    ex.attach()
    problems = []
    acked: dict[str, int] = {}
    contents: dict[str, Any] = {}
    versions: dict[tuple[str, str], str] = {}
    keys = ex.tier_keys()
    for c in ex.calls:
        if c.operation is None or not c.operation.startswith("push"):
            continue
        mid = c.message_id
        if mid is None:
            continue
        content = c.json if c.json is not None else c.body
        if mid in contents and contents[mid] != content:
            problems.append(f"消息 {mid} 以不同内容再次发送（#{c.seq}）/ one message id, two contents")
        contents.setdefault(mid, content)
        if mid in acked:
            problems.append(f"消息 {mid} 已于 #{acked[mid]} 得到回执，#{c.seq} 又发送 / re-sent after its receipt")
        elif c.ok:
            acked[mid] = c.seq
    for r in ex.acknowledged():
        if r.key not in keys:
            continue
        first = versions.setdefault((r.key, r.version), r.message_id or "")
        if first != (r.message_id or ""):
            problems.append(
                f"记录 {r.key} 的版本 {r.version} 已在消息 {first} 中得到确认，又以消息 {r.message_id} 上报 / "
                "an acknowledged version reported again"
            )
    if not acked:
        vacuous("国家平台未回执任何上报，无重发可判 / no report acknowledged")
    _fail(problems, "已确认的上报被重发", "acknowledged reports re-sent")


@pytest.mark.clause("INFO2007.2.5.3")
def test_only_the_province_own_records_are_reported(ex: Any) -> None:
    """省级平台只上报本级行政区划（含下级区划）的记录：数据来源推送的外省记录不上报。

    前置条件：目标在 [features] 声明 upstream-exchange，被测平台的上级平台地址指向模拟国家平台（[simulators.ports] 或 [simulators.urls] national）；目标文件有 [clients.national-platform] 与至少一个下级数据来源客户端（[clients.city-supervision]、[clients.inspection-institution]、[clients.enterprise]，带登记的 division）；被测省份取 [thresholds] upstream_division，没有时取各数据来源登记区划共同所属的省。缺少上述任一项、模拟国家平台不可用、推送未被省级平台逐条接收或无法生成目标中不存在的新主键时本项未测。时限为 [thresholds] upstream_wait_s（默认 [simulators] wait_s）。本场景没有外省记录（目标文件未提供 [clients.inspection-institution]）时本项未测。
    测试步骤：
    1. 各数据来源以其客户端向单位数据集推送（push）本省三条新单位记录 A、B、E，再更新 A（更晚的 updatedAt）、删除 B；检验检测机构另推送一条外省单位记录；
    2. 以国家平台客户端下发（push）一条本省单位记录 D 并更新之，以测试凭证经省级平台接口回读 D（至多等待时限）；
    3. 等待模拟国家平台收到本省每条记录的最后版本（至多时限），再静候 [simulators] wait_s（不超过时限）；场景结束删除本工具推送的记录；
    4. 核对模拟国家平台收到的每条上报记录的主键与行政区划。
    预期结果：检验检测机构推送的外省记录未被上报；被上报的记录带 division 时都以本省两位代码开头。

    The province reports only records of its own division: another province's record a source pushed is not
    reported up.
    """
    ex.attach()
    outside = {p.key for p in ex.pushed if not p.in_division}
    if not outside:
        vacuous("本场景无外省记录（未提供检验检测机构客户端）/ no out-of-province record in the scenario")
    problems = []
    for r in ex.received():
        division = (r.record or {}).get("division")
        if r.key in outside:
            problems.append(f"外省记录 {r.key} 被上报（#{r.call.seq}）/ another province's record reported up")
        elif isinstance(division, str) and not division.startswith(ex.province):
            problems.append(
                f"记录 {r.key} 的行政区划 {division} 不在本省（{ex.province}）内，被上报 / outside the province"
            )
    _fail(problems, "上报了本辖区以外的记录", "records outside the province reported up")


@pytest.mark.clause("INFO2007.2.5.3")
def test_the_national_push_down_is_applied_and_not_echoed(ex: Any) -> None:
    """国家平台下发（推送）的记录省级平台予以应用（经其接口可读到最后版本），且不作为本省数据回传国家平台。

    前置条件：目标在 [features] 声明 upstream-exchange，被测平台的上级平台地址指向模拟国家平台（[simulators.ports] 或 [simulators.urls] national）；目标文件有 [clients.national-platform] 与至少一个下级数据来源客户端（[clients.city-supervision]、[clients.inspection-institution]、[clients.enterprise]，带登记的 division）；被测省份取 [thresholds] upstream_division，没有时取各数据来源登记区划共同所属的省。缺少上述任一项、模拟国家平台不可用、推送未被省级平台逐条接收或无法生成目标中不存在的新主键时本项未测。时限为 [thresholds] upstream_wait_s（默认 [simulators] wait_s）。
    测试步骤：
    1. 各数据来源以其客户端向单位数据集推送（push）本省三条新单位记录 A、B、E，再更新 A（更晚的 updatedAt）、删除 B；检验检测机构另推送一条外省单位记录；
    2. 以国家平台客户端下发（push）一条本省单位记录 D 并更新之，以测试凭证经省级平台接口回读 D（至多等待时限）；
    3. 等待模拟国家平台收到本省每条记录的最后版本（至多时限），再静候 [simulators] wait_s（不超过时限）；场景结束删除本工具推送的记录；
    4. 核对步骤 2 回读到的 D，以及模拟国家平台收到的上报中是否有 D。
    预期结果：步骤 2 在时限内经省级平台接口读到 D，其版本为国家平台最后下发的（更新后的）版本；D 从未被上报回国家平台。

    What the national platform pushes down is applied by the province (its last version readable through the
    province's API) and is not reported back up as the province's own.
    """
    down_keys = {p.key for p in ex.down}
    ex.attach(down_keys)
    problems = []
    last: dict[str, Any] = {}
    for p in ex.down:
        last[p.key] = p
    for key, p in last.items():
        found = ex.down_read.get(key)
        if not isinstance(found, dict):
            problems.append(
                f"国家平台下发的记录 {key} 在 {ex.bound_s:g} 秒内经省级平台接口读不到 / not readable at the province"
            )
        elif tiers.version("UPDATE", found) != p.version:
            problems.append(
                f"国家平台下发的记录 {key}：省级平台持有版本 {tiers.version('UPDATE', found)}，应为 {p.version} / "
                "the province holds another version"
            )
    for r in ex.received():
        if r.key in down_keys:
            problems.append(f"国家平台下发的记录 {r.key} 被回传国家平台（#{r.call.seq}）/ echoed back up")
    _fail(problems, "国家平台下发的数据未被应用或被回传", "push-down not applied or echoed")


@pytest.mark.clause("INFO2007.2.5.3")
def test_the_change_feed_gives_the_nation_the_same_records(ex: Any) -> None:
    """国家平台以其客户端拉取省级平台的增量同步，得到与上报相同的记录及其最后状态（拉取与推送两种方式一致）。

    前置条件：目标在 [features] 声明 upstream-exchange，被测平台的上级平台地址指向模拟国家平台（[simulators.ports] 或 [simulators.urls] national）；目标文件有 [clients.national-platform] 与至少一个下级数据来源客户端（[clients.city-supervision]、[clients.inspection-institution]、[clients.enterprise]，带登记的 division）；被测省份取 [thresholds] upstream_division，没有时取各数据来源登记区划共同所属的省。缺少上述任一项、模拟国家平台不可用、推送未被省级平台逐条接收或无法生成目标中不存在的新主键时本项未测。时限为 [thresholds] upstream_wait_s（默认 [simulators] wait_s）。
    测试步骤：
    1. 场景开始前，以国家平台客户端取得单位数据集增量同步的末尾游标；
    2. 各数据来源以其客户端向单位数据集推送（push）本省三条新单位记录 A、B、E，再更新 A（更晚的 updatedAt）、删除 B；检验检测机构另推送一条外省单位记录；国家平台客户端下发一条本省单位记录 D 并更新之；
    3. 等待模拟国家平台收到本省每条记录的最后版本（至多时限），再静候 [simulators] wait_s（不超过时限）；
    4. 以国家平台客户端从该游标起读取单位数据集的增量同步直至 hasMore 为 false，取每条记录最后一条变更的版本；场景结束删除本工具推送的记录。
    预期结果：国家平台客户端能取得起点游标并在页数上限内读完增量同步；数据来源推送的每条本省记录都在增量同步中，最后一条变更的版本为最后推送的版本。

    Pulling the province's change feed as the national platform gives the same records, in their last state, as
    the reports up.
    """
    if ex.feed is None:
        raise AssertionError(f"国家平台客户端无法读取省级平台的增量同步：{ex.feed_problem} / the feed cannot be read")
    last: dict[str, str] = {}
    for change in ex.feed:
        if isinstance(change, dict) and isinstance(change.get("key"), str):
            last[change["key"]] = tiers.version(str(change.get("operation")), change.get("record"))
    problems = []
    for key, want in ex.expected().items():
        if key not in last:
            problems.append(f"记录 {key} 不在增量同步中 / missing from the feed")
        elif last[key] != want.version:
            problems.append(f"记录 {key}：增量同步的最后版本 {last[key]}，应为 {want.version} / not its last state")
    _fail(problems, "增量同步与上报的记录不一致", "the feed does not give the same records")


@pytest.mark.clause("SHARE.MECH.SUBJECT.1")
def test_records_reported_up_name_their_providing_subject(
    request: pytest.FixtureRequest, tzsb_target: Target, tzsb_evidence: Evidence, tzsb_client: Any
) -> None:
    """上报国家平台的每条记录标明数据提供主体（统一社会信用代码、行政区划、来源系统），且为推送该记录的数据来源（其登记的行政区划），而非省级平台自己。

    前置条件：目标在 [features] 声明 upstream-exchange，被测平台的上级平台地址指向模拟国家平台（[simulators.ports] 或 [simulators.urls] national）；目标文件有 [clients.national-platform] 与至少一个下级数据来源客户端（[clients.city-supervision]、[clients.inspection-institution]、[clients.enterprise]，带登记的 division）；被测省份取 [thresholds] upstream_division，没有时取各数据来源登记区划共同所属的省。缺少上述任一项、模拟国家平台不可用、推送未被省级平台逐条接收或无法生成目标中不存在的新主键时本项未测。时限为 [thresholds] upstream_wait_s（默认 [simulators] wait_s）。两级交换无法进行或模拟国家平台未收到数据来源推送的本省记录时本项未测（本条款另由 test_sharing_access 判定）。
    测试步骤：
    1. 各数据来源以其客户端向单位数据集推送（push）本省三条新单位记录 A、B、E，再更新 A（更晚的 updatedAt）、删除 B；检验检测机构另推送一条外省单位记录；
    2. 以国家平台客户端下发（push）一条本省单位记录 D 并更新之，以测试凭证经省级平台接口回读 D（至多等待时限）；
    3. 等待模拟国家平台收到本省每条记录的最后版本（至多时限），再静候 [simulators] wait_s（不超过时限）；场景结束删除本工具推送的记录；
    4. 核对模拟国家平台收到的、由数据来源推送的本省记录的 provider。
    预期结果：每条这样的记录带 provider，符合 dataProvider 结构；数据来源登记了 division 时，provider.division 为该数据来源登记的区划。

    Every record reported up names its providing subject, and that is the source that pushed it (its registered
    division), not the province in its place. Without a two-tier exchange this check does not decide (the clause is
    decided by the records the platform serves, test_sharing_access).
    """
    try:
        ex = tiers.exchange(request, tzsb_target, tzsb_evidence, tzsb_client)
    except pytest.skip.Exception as exc:
        vacuous(f"无省级上报可检验（{exc.msg}）/ no report up to judge")
    ex.attach()
    sources = {p.key: p for p in ex.pushed if p.in_division and p.record is not None}
    problems = []
    judged = 0
    for r in ex.received():
        pushed = sources.get(r.key)
        if pushed is None or r.record is None:
            continue
        judged += 1
        why = tiers.provider_problem(r.record)
        if why is not None:
            problems.append(f"记录 {r.key}：{why}")
            continue
        division = r.record["provider"]["division"]
        if pushed.source_division and division != pushed.source_division:
            problems.append(
                f"记录 {r.key}（来源 {pushed.client}，登记区划 {pushed.source_division}）上报时的提供主体区划为 {division}："
                "提供主体应为数据来源 / the providing subject is not the source that pushed it"
            )
    if not judged:
        vacuous("国家平台未收到数据来源的记录 / no source record reported up")
    _fail(problems, "上报记录未标明其数据来源", "records reported up do not name their source")
