"""共享平台功能测试（同步与推送）：增量同步（游标）、推送回执与逐条拒绝、按消息标识幂等、过时更新、订阅通知。

GB/T 34990 式测试项：文档字符串为测试目的，代码为测试步骤，断言为预期结果（中文在前、英文在后）。
推送测试只推送本工具生成的新记录（主键先确认在目标中不存在，引用的单位、设备一并新建），测试结束时以 DELETE 推送删除，
不改动被测平台原有的数据。订阅测试由本工具在本机启动回调接收端；目标不在本机时，须在目标文件
``[thresholds] callback_host`` 中给出目标可访问的本机地址，否则该项未测。

Sync and push tests of the sharing platform: change feed by cursor, push receipts and per-record
rejection, idempotency by message id, stale updates, subscription notifications with retry.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from contextlib import AbstractContextManager
from typing import Any

import pytest

from conformance.check.schema import validator
from conformance.client import Evidence, TargetClient
from conformance.contract.datasets import DataSet, data_sets, max_limit
from conformance.contract.errors import ErrorCode
from conformance.harness.target import Target
from conformance.suites.support.checks import Delivery, Subscriber, subscriber, subscription_path
from conformance.suites.support.sharing import (
    DATA_SETS,
    ROLE,
    check_receipt,
    check_record,
    content_marks,
    expect,
    expect_error,
    instant,
    later,
    province_of,
    read_changes,
    run_cache,
    sandbox,
    scale,
    tail_cursor,
)

pytestmark = pytest.mark.role(ROLE)

WITH_CONTENT = [pytest.param(n, id=n, marks=content_marks(n)) for n in DATA_SETS]


def _sync_params() -> list[Any]:
    report = [pytest.mark.clause("INFO2007.2.5.4")]
    return [
        pytest.param(n, id=n, marks=report if data_sets()[n].schema == "inspection-report" else []) for n in DATA_SETS
    ]


@pytest.fixture
def client(tzsb_client: Any) -> TargetClient:
    return tzsb_client()


@pytest.fixture
def province(request: pytest.FixtureRequest, client: TargetClient) -> str:
    return province_of(request, client)


def _tail(request: pytest.FixtureRequest, client: TargetClient, ds: DataSet, target: Target) -> str:
    cursor = tail_cursor(client, ds, scale(target).tail_pages, request)
    if cursor is None:
        pytest.skip(
            f"{ds.label}的变更日志超过本档位的读取上限，无法到达末尾 / the change feed is longer than this profile reads"
        )
    return cursor


def _visibility(target: Target) -> float:
    """Seconds a pushed change may take to appear (target file ``[thresholds] visibility_seconds``; default 300,
    IPQS.QUALITY.TIMELINESS.1)."""
    return float(target.thresholds.get("visibility_seconds", 300))


def _holds(client: TargetClient, ds: DataSet, key: str, version: dict[str, Any], message: str) -> None:
    """The record read back by key (200, valid against the data set's schema) has the change time of ``version``."""
    got = expect(client.get(ds.record_path(key)), 200, f"获取{ds.label}“{key}”")
    check_record(ds, got, f"按主键获取“{key}”")
    assert instant(got["updatedAt"]) == instant(version["updatedAt"]), message


def _subscription(r: Any, status: int, what: str) -> dict[str, Any]:
    data = expect(r, status, what)
    v = validator("sharing#/$defs/subscription")
    assert v.is_valid(data), f"{what}：订阅结构不符：{v.errors(data)[:3]} / the subscription does not validate"
    return data


def _read_all(client: TargetClient, ds: DataSet, cursor: str, where: str) -> list[dict[str, Any]]:
    """The changes from ``cursor`` to the end of the feed (at most 1000 pages)."""
    items: list[dict[str, Any]] = []
    for _ in range(1000):
        data = read_changes(client, ds, cursor, max_limit(ds), where)
        items += data["items"]
        cursor = data["nextCursor"]
        if not data["hasMore"]:
            break
    return items


def _served_early(request: pytest.FixtureRequest) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """The first page of each data set's feed read from the start early in the run: (limit, changes)."""
    return run_cache(request).setdefault("feed-served-early", {})


def _identity(change: dict[str, Any]) -> tuple[Any, ...]:
    """What a change is: its number, key, operation and time (the record may be shown otherwise later, e.g. unmasked
    under a grant given meanwhile)."""
    return change["seq"], change["key"], change["operation"], instant(change["changedAt"])


def _show(change: dict[str, Any] | None) -> str:
    if change is None:
        return "（已不存在 / gone）"
    return f"#{change['seq']} {change['operation']} {change['key']} {change['changedAt']}"


def _kept(before: list[dict[str, Any]], after: list[dict[str, Any]], what: str, *, retained_from: int = 0) -> None:
    """``after`` was read from the same starting cursor as ``before``, later: the numbers still strictly increase and
    none repeats; every change of ``before`` is there with the same number, key, operation and time; and a change not
    served before is numbered after every change served before (a consumer that resumed from where ``before`` ended
    would otherwise never receive it). ``retained_from``: changes numbered below it may have left a log that keeps
    only a retention window (a read from the very start)."""
    seqs = [c["seq"] for c in after]
    repeated = sorted(s for s, n in Counter(seqs).items() if n > 1)
    assert not repeated, f"{what}：变更序号重复出现 {repeated[:5]} / {what}: change numbers repeat: {repeated[:5]}"
    backwards = [(a, b) for a, b in itertools.pairwise(seqs) if b <= a]
    assert not backwards, f"{what}：变更序号倒退 {backwards[:3]} / {what}: change numbers go backwards: {backwards[:3]}"
    now = {c["seq"]: c for c in after}
    differ = [
        (c, now.get(c["seq"]))
        for c in before
        if c["seq"] >= retained_from and (c["seq"] not in now or _identity(now[c["seq"]]) != _identity(c))
    ]
    assert not differ, (
        f"{what}：先前已下发的变更现在不存在或已不同（{len(differ)} 条），例如 "
        + "；".join(f"{_show(a)} → {_show(b)}" for a, b in differ[:3])
        + f" / {what}: changes served earlier are now missing or different: "
        + "; ".join(f"#{a['seq']}" for a, _ in differ[:5])
    )
    top = max((c["seq"] for c in before), default=None)
    known = {_identity(c) for c in before}
    behind = [c for c in after if top is not None and _identity(c) not in known and c["seq"] <= top]
    assert not behind, (
        f"{what}：先前读取之后才出现的变更排在已下发的序号 {top} 之前（"
        + "；".join(_show(c) for c in behind[:3])
        + f"），从已读位置续读的消费方将永远收不到 / {what}: changes that appeared after the earlier read are numbered "
        f"at or below {top}, behind a position already served: {[c['seq'] for c in behind[:5]]}"
    )


# ---------------------------------------------------------------------------- change feed


@pytest.mark.parametrize("name", WITH_CONTENT)
@pytest.mark.clause("PROFILE.SYNC.1", "SHARE.IF.FUNC.3")
def test_the_change_feed_from_the_start_is_ordered_and_valid(
    name: str, client: TargetClient, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """增量同步：不带游标从最早的变更读起，每条变更含序号、操作类型、主键、变更时间与记录（删除时为空），
    序号严格递增，记录符合数据模式，hasMore 为真时以 nextCursor 续读。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；该数据集的变更日志为空时本项未测。
    测试步骤：
    1. 以测试凭证不带游标读取增量同步（changes，limit 取契约上限）；
    2. hasMore 为真时以 nextCursor 续读，至多读档位规定的页数。
    预期结果：每页返回 200，增量结果符合 changes 结构，带记录的变更其记录符合数据模式、key 与记录主键一致；每页条数不超过 limit；序号 seq 严格递增；hasMore 为真的页都有变更。
    """
    ds = data_sets()[name]
    limit = max_limit(ds)
    cursor: str | None = None
    last, seen = 0, 0
    for page in range(1, scale(tzsb_target).feed_pages + 1):
        data = read_changes(client, ds, cursor, limit, f"{ds.label} 增量同步第 {page} 页")
        if page == 1:  # read again later in the run (test_a_change_once_served_keeps_its_number_and_identity)
            _served_early(request)[name] = (limit, data["items"])
        assert len(data["items"]) <= limit, f"返回 {len(data['items'])} 条变更，超过 limit {limit} / more than limit"
        for c in data["items"]:
            assert c["seq"] > last, f"变更序号未严格递增：{c['seq']} 在 {last} 之后 / seq not strictly increasing"
            last = c["seq"]
        seen += len(data["items"])
        if not data["hasMore"]:
            break
        assert data["items"], "hasMore 为真却没有返回变更 / hasMore true with no items"
        cursor = data["nextCursor"]
    if seen == 0:
        pytest.skip(f"{ds.label}的变更日志为空 / the change feed is empty")


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.4")
def test_a_cursor_reads_the_same_changes_again(name: str, client: TargetClient) -> None:
    """游标可重读：以同一游标（含不带游标的起点）重复读取，返回相同的变更与相同的下一游标。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；该数据集的变更日志为空时本项未测。
    测试步骤：
    1. 以测试凭证不带游标读取增量同步（limit 5），取 nextCursor；
    2. 不带游标连续读取两次（limit 5）；
    3. 以步骤 1 的 nextCursor 连续读取两次（limit 5）。
    预期结果：每次返回 200，增量结果符合契约；步骤 2、3 中第一次 hasMore 为真时两次结果（变更、nextCursor、hasMore）完全相同，为假时第二次的变更以第一次的变更开头。
    """
    ds = data_sets()[name]
    first = read_changes(client, ds, None, 5, f"{ds.label} 增量同步（起点）")
    if not first["items"]:
        pytest.skip(f"{ds.label}的变更日志为空 / the change feed is empty")
    for cursor in (None, first["nextCursor"]):
        a = read_changes(client, ds, cursor, 5, f"{ds.label} 增量同步（游标 {cursor}）")
        b = read_changes(client, ds, cursor, 5, f"{ds.label} 增量同步（同一游标再读）")
        where = "起点" if cursor is None else f"游标 {cursor}"
        if a["hasMore"]:
            assert b == a, (
                f"以{where}重复读取得到不同的变更（seq {[c['seq'] for c in a['items']]} 对 "
                f"{[c['seq'] for c in b['items']]}） / re-reading a cursor gave other changes"
            )
        else:
            assert b["items"][: len(a["items"])] == a["items"], f"以{where}重复读取得到不同的变更 / re-read differs"


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.4")
def test_an_invalid_cursor_is_400_not_an_empty_result(name: str, client: TargetClient) -> None:
    """失效游标明确报错：格式错误或非本平台签发的游标返回 400 错误信封（中文说明），不得静默返回空结果。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者。
    测试步骤：
    1. 以游标“%%%不是游标%%%”读取增量同步；
    2. 以游标“zz-not-a-cursor-0000”读取增量同步。
    预期结果：步骤 1、2 都返回 400，错误信封符合契约（含中文说明）。
    """
    ds = data_sets()[name]
    for bad in ("%%%不是游标%%%", "zz-not-a-cursor-0000"):
        r = client.get(f"{ds.path}/changes", params={"cursor": bad})
        expect_error(r, 400, f"{ds.label} 以无效游标“{bad}”增量同步")


@pytest.mark.parametrize("name", _sync_params())
@pytest.mark.clause("SHARE.IF.FUNC.3", "SHARE.MECH.MODE.1", "INFO2007.2.5.3")
def test_pushes_between_pages_are_neither_lost_nor_repeated(
    name: str, client: TargetClient, province: str, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """增量同步不丢不重：从末尾游标开始每次读 2 条，读取过程中推送新增、更新、删除；消费到的本工具变更与推送顺序一致、
    恰好各一次，删除以 record 为空的 DELETE 给出；末尾无新变更时 items 为空、nextCursor 不变。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；测试凭证可向该数据集推送（403 时本项未测）；本工具生成主键在目标中不存在的新记录及其引用的单位、设备（无法生成或不会构造该数据集的记录时本项未测），测试结束以 DELETE 推送删除；该数据集的增量同步末尾在档位规定的页数内（否则本项未测）；[thresholds] visibility_seconds（默认 300 秒）为推送的变更出现在增量同步中的时限。
    测试步骤：
    1. 推送前置记录，取增量同步的末尾游标，自该游标读取一页（limit 5）；
    2. 推送 4 条新记录（UPLOAD）；
    3. 自末尾游标每次读 2 条逐页读取：读完第 1 页后在一条消息中推送第 1 条的更新与第 2 条的删除，读完第 2 页后推送第 5 条新记录；读到末尾时自末尾游标一次读完核对，变更未全部出现则稍候续读（至多时限、200 页）；
    4. 按主键获取已删除的第 2 条记录。
    预期结果：步骤 1 没有新变更时 nextCursor 等于该游标、hasMore 为假；每次推送返回 200 且全部接受，每次读取返回 200、增量结果符合契约；时限内自末尾游标读到的本工具变更依次为 4 个 UPLOAD、UPDATE、DELETE、UPLOAD；逐页读到的本工具变更与之相同（不丢、不重、不乱序），序号严格递增且不重复；DELETE 的 record 为 null，UPDATE 的记录 updatedAt 为推送的新版本；步骤 4 返回 404 错误信封。
    """
    ds = data_sets()[name]
    with sandbox(client, province) as box:
        records = box.setup(name, 5)
        keys = [r[ds.key] for r in records]
        start = _tail(request, client, ds, tzsb_target)
        idle = read_changes(client, ds, start, 5, f"{ds.label} 增量同步（末尾）")
        if not idle["items"]:
            assert idle["nextCursor"] == start and not idle["hasMore"], (
                f"没有新变更时 nextCursor 应不变、hasMore 为假，实为 {idle['nextCursor']} / {idle['hasMore']} / "
                f"with no new changes the cursor must stay"
            )
        box.upload(name, records[:4], f"推送 4 条新{ds.label}记录")
        expected = [("UPLOAD", k) for k in keys[:4]]
        updated = {**records[0], "updatedAt": later(records[0]["updatedAt"], 86400)}
        walked: list[dict[str, Any]] = []
        visible: list[tuple[str, str]] = []
        cursor, page = start, 0
        deadline = time.monotonic() + _visibility(tzsb_target)
        while page < 200:
            data = read_changes(client, ds, cursor, 2, f"{ds.label} 增量同步（每页 2 条）第 {page + 1} 页")
            walked += data["items"]
            cursor = data["nextCursor"]
            page += 1
            if page == 1:
                box.accepted(name, [("UPDATE", keys[0], updated), ("DELETE", keys[1], None)], "读取期间推送更新与删除")
                expected += [("UPDATE", keys[0]), ("DELETE", keys[1])]
            elif page == 2:
                box.upload(name, records[4:], "读取期间推送新增")
                expected.append(("UPLOAD", keys[4]))
            elif not data["hasMore"]:
                full = _read_all(client, ds, start, f"{ds.label} 增量同步（自起点一次读完，核对）")
                visible = [(c["operation"], c["key"]) for c in full if c["key"] in keys]
                if visible == expected or time.monotonic() > deadline:
                    break
                time.sleep(0.5)  # the platform has not published every pushed change yet: wait, then read on
        mine = [(c["operation"], c["key"]) for c in walked if c["key"] in keys]
        assert visible == expected, (
            f"推送的变更未完整出现在增量同步中：应为 {expected}，自起点读到 {visible} / "
            f"the pushed changes do not all appear in the change feed"
        )
        lost = [e for e in expected if e not in mine]
        assert not lost, (
            f"逐页读取时丢失了变更 {lost}（每页 2 条，读取期间有推送）；读到的本工具变更：{mine} / "
            f"changes lost between pages"
        )
        assert mine == expected, f"逐页读取的本工具变更重复或乱序：{mine}，应为 {expected} / repeated or out of order"
        seqs = [c["seq"] for c in walked]
        assert seqs == sorted(set(seqs)), f"逐页读取的变更序号重复或未递增：{seqs} / seq repeated or not increasing"
        mine_changes = [c for c in walked if c["key"] in keys]
        deleted = next(c for c in mine_changes if c["operation"] == "DELETE")
        assert deleted["record"] is None, "DELETE 变更的 record 应为 null / a DELETE carries a null record"
        update = next(c for c in mine_changes if c["operation"] == "UPDATE")
        assert instant(update["record"]["updatedAt"]) == instant(updated["updatedAt"]), (
            "UPDATE 变更的记录不是推送的新版本 / the UPDATE change does not carry the pushed version"
        )
        expect_error(client.get(ds.record_path(keys[1])), 404, f"获取已删除的{ds.label}“{keys[1]}”")


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.3", "SHARE.IF.FUNC.4")
def test_a_change_once_served_keeps_its_number_and_identity(
    name: str, client: TargetClient, province: str, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """已下发的变更不变、变更序号不倒退：自同一游标先后读取，先前读到的每条变更仍在，序号、主键、操作类型与变更时间
    均不变；序号严格递增、不重复；其后才发生的变更（本工具推送的更新）序号大于先前已下发的全部序号。
    本次运行早先自起点读到的第一页，此时自起点重读亦然。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；测试凭证可向该数据集推送（403 时本项未测）；本工具生成主键在目标中不存在的新记录及其引用的单位、设备（无法生成或不会构造该数据集的记录时本项未测），测试结束以 DELETE 推送删除；该数据集的增量同步末尾在档位规定的页数内（否则本项未测）；[thresholds] visibility_seconds（默认 300 秒）为推送的变更出现在增量同步中的时限；自起点重读一步只在本次运行早先已自起点读过第 1 页时进行。
    测试步骤：
    1. 推送前置记录，取增量同步的末尾游标；推送 2 条新记录，自末尾游标读完，直至两条 UPLOAD 出现（至多时限）；
    2. 自同一游标立即重读；
    3. 先推送第 2 条、再推送第 1 条的更新，自同一游标反复重读，直至两条 UPDATE 出现（至多时限）；
    4. 自起点重读第 1 页（与早先相同的 limit），与早先读到的第 1 页比较。
    预期结果：推送都返回 200 且全部接受，读取都返回 200；步骤 1 两条 UPLOAD 在时限内出现；步骤 2、3、4 每次重读的序号严格递增、不重复，先前读到的每条变更仍在且序号、主键、操作类型与变更时间不变（步骤 4 中早于当前第一条的可已移出保留窗口），先前未读到的变更序号大于先前读到的最大序号；步骤 3 最终读到的本工具变更依次为两个 UPLOAD、第 2 条的 UPDATE、第 1 条的 UPDATE。

    A change once served keeps its number and identity, and numbers never go backwards: read from the same cursor
    again (at once, and after updates of the records just read), and from the start again (the first page read early
    in the run).
    """
    ds = data_sets()[name]
    with sandbox(client, province) as box:
        records = box.setup(name, 2)
        keys = [r[ds.key] for r in records]
        start = _tail(request, client, ds, tzsb_target)
        box.upload(name, records, f"推送 2 条新{ds.label}记录")
        wanted = [("UPLOAD", k) for k in keys]
        deadline = time.monotonic() + _visibility(tzsb_target)
        while True:
            first = _read_all(client, ds, start, f"{ds.label} 增量同步（自末尾游标）")
            if [(c["operation"], c["key"]) for c in first if c["key"] in keys] == wanted:
                break
            assert time.monotonic() < deadline, (
                f"推送的 2 条新增未在 {_visibility(tzsb_target):.0f} 秒内出现在增量同步中 / "
                f"the pushed uploads did not appear in the change feed"
            )
            time.sleep(0.5)  # the platform has not published them yet
        again = _read_all(client, ds, start, f"{ds.label} 增量同步（同一游标立即重读）")
        _kept(first, again, f"{ds.label}自同一游标立即重读")
        # update the newest record first, then the other: a log that numbers a change "highest remaining + 1", or
        # keeps only each record's latest change, gives a number already served to another change
        for i, key in ((1, keys[1]), (0, keys[0])):
            newer = {**records[i], "updatedAt": later(records[i]["updatedAt"], 86400)}
            box.accepted(name, [("UPDATE", key, newer)], f"推送{ds.label}“{key}”的更新")
        wanted += [("UPDATE", keys[1]), ("UPDATE", keys[0])]
        while True:
            later_read = _read_all(client, ds, start, f"{ds.label} 增量同步（更新后自同一游标重读）")
            # holds at every read, whether the updates are published yet or not
            _kept(first, later_read, f"{ds.label}更新后自同一游标重读")
            mine = [(c["operation"], c["key"]) for c in later_read if c["key"] in keys]
            if mine == wanted or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # the updates are not all published yet
        assert mine == wanted, (
            f"自同一游标重读到的本工具变更为 {mine}，应为 {wanted} / the harness's changes read again are {mine}"
        )
    early = _served_early(request).get(name)
    if early is not None:
        limit, served = early
        now = read_changes(client, ds, None, limit, f"{ds.label} 增量同步（自起点重读第 1 页）")["items"]
        # a log kept for a retention window only may have dropped its oldest changes meanwhile
        _kept(
            [c for c in served if not now or c["seq"] <= now[-1]["seq"]],
            now,
            f"{ds.label}自起点重读（与本次运行早先读到的第 1 页比较）",
            retained_from=now[0]["seq"] if now else 0,
        )


# ---------------------------------------------------------------------------- push


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.5", "PROFILE.PUSH.1", "IPQS.SHARE.MODE.1")
def test_a_push_gets_a_receipt_with_per_record_results(name: str, client: TargetClient, province: str) -> None:
    """推送回执：一条消息中合法记录被接收，主键与记录不符、删除不存在的记录逐条拒绝（字段路径与中文原因），
    不影响同一消息中的其他记录；回执含消息标识、接收时间、成功与失败条数、逐条结果。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；测试凭证可向该数据集推送（403 时本项未测）；本工具生成主键在目标中不存在的新记录及其引用的单位、设备（无法生成或不会构造该数据集的记录时本项未测），测试结束以 DELETE 推送删除。
    测试步骤：
    1. 推送前置记录，取两条新记录 A、B；
    2. 在一条消息中推送：新增 A；以 B 的主键新增 A 的记录（主键与记录不符）；删除 B（不存在）；
    3. 按主键获取 A 与 B。
    预期结果：步骤 2 返回 200，回执符合 pushReceipt 结构，消息标识同推送，duplicate 为 false，接收 1 条、拒绝 2 条，逐条结果覆盖序号 0–2，第 1 条 accepted，第 2、3 条 rejected 且每个错误项带字段路径与中文原因；步骤 3 A 返回 200、记录符合数据模式，B 返回 404 错误信封。
    """
    ds = data_sets()[name]
    with sandbox(client, province) as box:
        good, other = box.setup(name, 2)
        k_good, k_other = good[ds.key], other[ds.key]
        body = box.body([("UPLOAD", k_good, good), ("UPLOAD", k_other, good), ("DELETE", k_other, None)])
        r = box.send(name, body)
        if r.status == 403:
            pytest.skip(f"测试凭证无权向{ds.label}推送（403） / the harness credential may not push")
        receipt = check_receipt(expect(r, 200, f"推送{ds.label}（1 条合法、2 条违反业务规则）"), "推送回执")
        assert receipt["messageId"] == body["messageId"], "回执的消息标识与推送的不一致 / receipt messageId differs"
        assert receipt["duplicate"] is False, "首次推送的回执标为重复 / a first push marked duplicate"
        statuses = {res["index"]: res for res in receipt["results"]}
        assert (receipt["accepted"], receipt["rejected"]) == (1, 2), (
            f"应接收 1 条、拒绝 2 条，回执为接收 {receipt['accepted']}、拒绝 {receipt['rejected']}：{receipt['results']} / "
            f"expected 1 accepted, 2 rejected"
        )
        assert sorted(statuses) == [0, 1, 2] and statuses[0]["status"] == "accepted", (
            f"逐条结果不完整或第 1 条未被接收：{receipt['results']} / per-record results incomplete"
        )
        for i, rule in ((1, "主键与记录不符"), (2, "删除不存在的记录")):
            res = statuses[i]
            assert res["status"] == "rejected", f"第 {i + 1} 条（{rule}）未被拒绝 / record {i} ({rule}) not rejected"
            errs = res.get("errors") or []
            assert errs and all(
                e.get("path") and any("\u4e00" <= ch <= "\u9fff" for ch in e.get("message", "")) for e in errs
            ), (
                f"第 {i + 1} 条（{rule}）的拒绝没有字段路径与中文原因：{errs} / rejection without path and Chinese reason"
            )
        got = expect(client.get(ds.record_path(k_good)), 200, f"获取已接收的{ds.label}“{k_good}”")
        check_record(ds, got, "推送后按主键获取")
        expect_error(client.get(ds.record_path(k_other)), 404, f"获取被拒绝的{ds.label}“{k_other}”")


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.TECH.1")
def test_a_message_with_a_record_breaking_its_schema_is_refused_whole(
    name: str, client: TargetClient, province: str
) -> None:
    """不符合结构的推送整体拒绝：一条记录缺少必填字段时整条消息返回 400，其中合法的记录也不入库。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；测试凭证可向该数据集推送（403 时本项未测）；本工具生成主键在目标中不存在的新记录及其引用的单位、设备（无法生成或不会构造该数据集的记录时本项未测），测试结束以 DELETE 推送删除。
    测试步骤：
    1. 推送前置记录，取两条新记录，删去第二条的一个非主键必填字段；
    2. 在一条消息中推送（UPLOAD）这两条记录；
    3. 按主键获取这两条记录。
    预期结果：步骤 2 返回 400，错误信封符合契约；步骤 3 都返回 404 错误信封。
    """
    ds = data_sets()[name]
    with sandbox(client, province) as box:
        good, broken = box.setup(name, 2)
        missing = next(f for f in ds.required if f != ds.key)
        broken = {k: v for k, v in broken.items() if k != missing}
        r = box.push(name, [("UPLOAD", good[ds.key], good), ("UPLOAD", broken[ds.key], broken)])
        if r.status == 403:
            pytest.skip(f"测试凭证无权向{ds.label}推送（403） / the harness credential may not push")
        expect_error(r, 400, f"推送缺少必填字段 {missing} 的{ds.label}记录")
        for key in (good[ds.key], broken[ds.key]):
            expect_error(client.get(ds.record_path(key)), 404, f"被整体拒绝的消息中的记录“{key}”不应入库")


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.6", "SHARE.SEC.RETRY.2", "PROFILE.PUSH.2")
def test_a_repeated_push_returns_the_first_receipt_and_is_applied_once(
    name: str, client: TargetClient, province: str, tzsb_target: Target, request: pytest.FixtureRequest
) -> None:
    """按消息标识幂等：同一消息（同一标识、同一内容）重复推送，返回与首次相同的回执并标明重复（duplicate 为真），
    不重复入库（增量同步中该记录只有一次变更）。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；测试凭证可向该数据集推送（403 时本项未测）；本工具生成主键在目标中不存在的新记录及其引用的单位、设备（无法生成或不会构造该数据集的记录时本项未测），测试结束以 DELETE 推送删除；该数据集的增量同步末尾在档位规定的页数内（否则本项未测）。
    测试步骤：
    1. 推送前置记录，取增量同步的末尾游标；
    2. 推送一条新记录（UPLOAD）；
    3. 以同一消息（同一标识、同一内容）再次推送；
    4. 自末尾游标读完增量同步。
    预期结果：步骤 2 返回 200，回执符合 pushReceipt 结构，duplicate 为 false、接收 1 条；步骤 3 返回 200，duplicate 为 true，其余字段与首次回执相同；步骤 4 各页返回 200，该记录只有一条变更。
    """
    ds = data_sets()[name]
    with sandbox(client, province) as box:
        (record,) = box.setup(name, 1)
        key = record[ds.key]
        start = _tail(request, client, ds, tzsb_target)
        body = box.body([("UPLOAD", key, record)])
        r1 = box.send(name, body)
        if r1.status == 403:
            pytest.skip(f"测试凭证无权向{ds.label}推送（403） / the harness credential may not push")
        first = check_receipt(expect(r1, 200, "首次推送"), "首次推送的回执")
        assert first["duplicate"] is False and first["accepted"] == 1, f"首次推送的回执不符：{first} / first receipt"
        second = check_receipt(expect(box.send(name, body), 200, "以同一消息标识、同一内容重复推送"), "重复推送的回执")
        assert second["duplicate"] is True, (
            f"重复推送的回执未标明重复（duplicate 为 {second['duplicate']}）/ the repeated push is not marked duplicate"
        )
        differs = [k for k in first if k != "duplicate" and first[k] != second.get(k)]
        assert not differs, (
            f"重复推送的回执与首次不同（字段 {differs}）/ the repeated push did not get the first receipt"
        )
        changes = _read_all(client, ds, start, f"{ds.label} 增量同步（核对只入库一次）")
        ours = [(c["operation"], c["seq"]) for c in changes if c["key"] == key]
        assert len(ours) == 1, (
            f"重复推送被再次处理：增量同步中该记录有 {len(ours)} 次变更 {ours} / applied {len(ours)} times"
        )


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.6", "PROFILE.PUSH.2", "PROFILE.STATUS.3")
def test_the_same_message_id_with_other_content_is_409(name: str, client: TargetClient, province: str) -> None:
    """同一消息标识、不同内容的推送被拒绝：返回 409（错误代码 DUPLICATE），数据不变。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；测试凭证可向该数据集推送（403 时本项未测）；本工具生成主键在目标中不存在的新记录及其引用的单位、设备（无法生成或不会构造该数据集的记录时本项未测），测试结束以 DELETE 推送删除。
    测试步骤：
    1. 推送前置记录，再推送一条新记录（UPLOAD）；
    2. 以同一消息标识推送该记录的更新（UPDATE，updatedAt 晚一天）；
    3. 按主键获取该记录。
    预期结果：步骤 1 返回 200，回执符合 pushReceipt 结构；步骤 2 返回 409 错误信封，错误代码 DUPLICATE；步骤 3 返回 200，记录符合数据模式，updatedAt 仍为首次推送的值。
    """
    ds = data_sets()[name]
    with sandbox(client, province) as box:
        (record,) = box.setup(name, 1)
        key = record[ds.key]
        body = box.body([("UPLOAD", key, record)])
        r = box.send(name, body)
        if r.status == 403:
            pytest.skip(f"测试凭证无权向{ds.label}推送（403） / the harness credential may not push")
        check_receipt(expect(r, 200, "首次推送"), "首次推送的回执")
        changed = {**record, "updatedAt": later(record["updatedAt"], 86400)}
        other = {**body, "records": [{"operation": "UPDATE", "key": key, "record": changed}]}
        err = expect_error(box.send(name, other), 409, "以同一消息标识推送不同内容")
        assert err["code"] == ErrorCode.DUPLICATE, (
            f"错误代码为 {err['code']}，应为 DUPLICATE / error code should be DUPLICATE"
        )
        _holds(client, ds, key, record, "被 409 拒绝的推送仍改动了数据 / the refused push changed the data")


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.IF.FUNC.10")
def test_a_stale_update_does_not_overwrite_newer_data(name: str, client: TargetClient, province: str) -> None:
    """过时更新不覆盖新数据：updatedAt 早于已存记录的更新在回执中逐条拒绝，记录不变；更晚的更新被接收并生效。

    前置条件：目标文件有 [credentials]（测试凭证）；数据集（逐个参数化）为契约 x-data-sets 声明者；测试凭证可向该数据集推送（403 时本项未测）；本工具生成主键在目标中不存在的新记录及其引用的单位、设备（无法生成或不会构造该数据集的记录时本项未测），测试结束以 DELETE 推送删除。
    测试步骤：
    1. 推送前置记录，再推送一条新记录（UPLOAD）；
    2. 推送该记录 updatedAt 早一天的更新（UPDATE），按主键获取；
    3. 推送该记录 updatedAt 晚一天的更新，按主键获取。
    预期结果：步骤 1 返回 200 且全部接受；步骤 2 推送返回 200，回执符合 pushReceipt 结构，该条结果为 rejected，获取返回 200、记录符合数据模式、updatedAt 仍为原值；步骤 3 推送返回 200 且全部接受，获取到的 updatedAt 为新值。
    """
    ds = data_sets()[name]
    with sandbox(client, province) as box:
        (record,) = box.setup(name, 1)
        key = record[ds.key]
        box.upload(name, [record], f"推送新{ds.label}记录")
        older = {**record, "updatedAt": later(record["updatedAt"], -86400)}
        receipt = check_receipt(expect(box.push(name, [("UPDATE", key, older)]), 200, "推送较旧的更新"), "回执")
        assert receipt["results"] and receipt["results"][0]["status"] == "rejected", (
            f"较已存记录更旧的更新未在回执中标明拒绝：{receipt['results']} / the stale update was not rejected"
        )
        _holds(client, ds, key, record, "较旧的更新覆盖了较新的数据 / stale data overwrote newer")
        newer = {**record, "updatedAt": later(record["updatedAt"], 86400)}
        box.accepted(name, [("UPDATE", key, newer)], "推送较新的更新")
        _holds(client, ds, key, newer, "较新的更新未生效 / the newer update did not apply")


# ---------------------------------------------------------------------------- subscriptions


def _receiver(target: Target, evidence: Evidence) -> AbstractContextManager[Subscriber]:
    """The harness as the subscriber: records every notification; answers the first one 503."""
    return subscriber(target, evidence, [(503, {})], "/tzsb-callback", "订阅通知无法接收", "callback")


def _subscription_sets(target: Target) -> list[DataSet]:
    sets = [ds for ds in data_sets().values() if ds.subscribe is not None]
    if target.profile == "quick":
        units = [ds for ds in sets if ds.schema == "unit"]
        return units or sets[:1]
    return sets


@pytest.mark.clause("SHARE.IF.FUNC.7", "SHARE.MECH.MODE.2")
def test_subscriptions_are_created_read_and_cancelled(
    client: TargetClient, tzsb_target: Target, tzsb_evidence: Evidence
) -> None:
    """订阅管理：创建订阅返回 201 与 Location；相同订阅再创建返回 200 与同一订阅；请求体数据集与路径不符返回 400；
    可按标识查询；取消后状态为 cancelled，再次取消同样 200；不存在的订阅 404。

    前置条件：目标文件有 [credentials]（测试凭证）；契约中可订阅的数据集（quick 档位只测单位数据集），测试凭证可订阅（403 时本项未测）；目标可访问本机回调接收端（目标不在本机且目标文件未给出 [thresholds] callback_host 时本项未测）。
    测试步骤：
    1. 在本机启动回调接收端，以测试凭证为每个数据集创建订阅（callbackUrl 为接收端地址）；
    2. 以相同请求再次创建；在该订阅路径上以另一数据集名创建；
    3. 按订阅标识查询（getSubscription）；
    4. 取消订阅（cancelSubscription），再取消一次；
    5. 查询一个不存在的订阅标识。
    预期结果：步骤 1 返回 201 并带 Location，订阅符合 subscription 结构，状态为 active、数据集为该数据集；步骤 2 相同请求返回 200 与同一订阅标识，另一数据集名返回 400 错误信封；步骤 3 返回 200，与创建时相同；步骤 4 两次都返回 200，状态为 cancelled；步骤 5 返回 404 错误信封。
    """
    with _receiver(tzsb_target, tzsb_evidence) as receiver:
        url = receiver.url
        for ds in _subscription_sets(tzsb_target):
            assert ds.subscribe is not None
            request = {"dataSet": ds.name, "callbackUrl": url}
            r = client.post(ds.subscribe.path, request)
            if r.status == 403:
                pytest.skip(f"测试凭证无权订阅{ds.label}（403） / the harness credential may not subscribe")
            sub = _subscription(r, 201, f"订阅{ds.label}")
            sid = sub["subscriptionId"]
            try:
                assert sub["status"] == "active" and sub["dataSet"] == ds.name, (
                    f"新订阅应为有效状态：{sub} / new subscription"
                )
                assert r.header("Location"), "201 未带 Location / 201 without Location"
                again = _subscription(client.post(ds.subscribe.path, request), 200, f"重复订阅{ds.label}")
                assert again["subscriptionId"] == sid, "相同订阅再创建应返回同一订阅 / the same subscription again"
                other = next((d.name for d in data_sets().values() if d.name != ds.name), None)
                if other:
                    expect_error(
                        client.post(ds.subscribe.path, {**request, "dataSet": other}),
                        400,
                        f"在{ds.label}订阅路径上订阅数据集 {other}",
                    )
                got = _subscription(client.get(subscription_path("getSubscription", sid)), 200, f"查询订阅 {sid}")
                assert got == sub, f"按标识查询的订阅与创建时不同：{got} / the subscription read back differs"
            finally:
                cancel = client.request("DELETE", subscription_path("cancelSubscription", sid))
            cancelled = _subscription(cancel, 200, f"取消订阅 {sid}")
            assert cancelled["status"] == "cancelled", f"取消后状态为 {cancelled['status']} / status after cancel"
            again = _subscription(
                client.request("DELETE", subscription_path("cancelSubscription", sid)), 200, f"再次取消订阅 {sid}"
            )
            assert again["status"] == "cancelled", "再次取消应同样返回已取消的订阅 / cancelling twice is idempotent"
        expect_error(
            client.get(subscription_path("getSubscription", "tzsb-no-such-subscription")), 404, "查询不存在的订阅"
        )


@pytest.mark.clause("SHARE.IF.FUNC.7", "SHARE.MECH.MODE.2")
def test_a_change_is_notified_and_a_failed_notification_is_retried(
    client: TargetClient, province: str, tzsb_target: Target, tzsb_evidence: Evidence
) -> None:
    """订阅通知至少送达一次：本工具作为回调接收方，对首次通知返回 503；平台以同一消息标识、同一内容重传，
    通知符合 notification 结构，并包含本工具推送的变更。

    前置条件：目标文件有 [credentials]（测试凭证）；契约中可订阅的数据集（quick 档位只测单位数据集），测试凭证可订阅（403 时本项未测）；目标可访问本机回调接收端（目标不在本机且目标文件未给出 [thresholds] callback_host 时本项未测）；测试凭证可向该数据集推送（403 时本项未测）；本工具生成主键在目标中不存在的新记录及其引用的单位、设备（无法生成或不会构造该数据集的记录时本项未测），测试结束以 DELETE 推送删除；[thresholds] notification_seconds（默认 60 秒）为等待通知的上限。
    测试步骤：
    1. 在本机启动回调接收端（首次投递答以 503，其后答以 204）；推送前置记录，以测试凭证订阅该数据集；
    2. 推送一条新记录（UPLOAD）；
    3. 等待投递，直至收到至少 2 次且已成功应答的通知中有该记录的变更（至多 notification_seconds）；
    4. 取消订阅（cancelSubscription），删除本工具推送的记录。
    预期结果：步骤 1 订阅返回 201，符合 subscription 结构；步骤 2 返回 200 且全部接受；步骤 3 收到通知，首次通知为 JSON、符合 notification 结构，订阅标识与数据集相符；其后有同一消息标识的重传，内容与首次相同；已成功应答的通知中有该记录的变更，第一条为 UPLOAD。
    """
    wait = float(tzsb_target.thresholds.get("notification_seconds", 60))
    v = validator("sharing#/$defs/notification")
    for ds in _subscription_sets(tzsb_target):
        assert ds.subscribe is not None
        with _receiver(tzsb_target, tzsb_evidence) as receiver, sandbox(client, province) as box:
            records = box.setup(ds.name, 1)
            r = client.post(ds.subscribe.path, {"dataSet": ds.name, "callbackUrl": receiver.url})
            if r.status == 403:
                pytest.skip(f"测试凭证无权订阅{ds.label}（403） / the harness credential may not subscribe")
            sid = _subscription(r, 201, f"订阅{ds.label}")["subscriptionId"]
            try:
                key = records[0][ds.key]
                box.upload(ds.name, records, f"推送新{ds.label}记录")
                deadline = time.monotonic() + wait
                got: list[Delivery] = []
                delivered: list[dict[str, Any]] = []
                while time.monotonic() < deadline:
                    got = receiver.deliveries()
                    delivered = [d.body for d in got if d.answer and d.answer[0] < 300 and isinstance(d.body, dict)]
                    if len(got) >= 2 and any(c.get("key") == key for b in delivered for c in b.get("changes", [])):
                        break
                    time.sleep(0.1)
            finally:
                client.request("DELETE", subscription_path("cancelSubscription", sid))
        assert got, f"{wait:.0f} 秒内未收到任何通知 / no notification within {wait:.0f} s"
        first = got[0].body
        assert first is not None, f"通知不是 JSON：{got[0].raw[:200]!r} / the notification is not JSON"
        assert v.is_valid(first), f"通知不符合 notification 结构：{v.errors(first)[:3]} / invalid notification"
        assert first["subscriptionId"] == sid and first["dataSet"] == ds.name, (
            "通知的订阅标识或数据集不符 / wrong subscription"
        )
        retries = [d.body for d in got[1:] if isinstance(d.body, dict) and d.message_id == first["messageId"]]
        assert retries, (
            f"首次通知被答以 503 后，{wait:.0f} 秒内未以同一消息标识重传 / "
            f"the failed notification was not retried with the same message id"
        )
        assert retries[0] == first, "重传的通知内容与首次不同 / the retransmission differs from the first notification"
        ours = [c for b in delivered for c in b.get("changes", []) if c.get("key") == key]
        assert ours and ours[0]["operation"] == "UPLOAD", (
            f"已送达的通知中没有本工具推送的变更（{key}） / the pushed change was not notified"
        )
