"""共享平台作为推送方的重传：订阅通知未获成功回执时以原消息标识、原内容重传，获回执后不再重传；
收到 429 / 503 时遵守 Retry-After，没有 Retry-After 时指数退避，不以固定短间隔连续重试。

GB/T 34990 式测试项：文档字符串为测试目的（中文在前、英文在后），代码为测试步骤，断言为预期结果。
本工具充当订阅方：在本机启动回调接收端，按脚本应答每次投递（断开连接、503、429，带或不带 Retry-After），
记录每次投递的到达时刻、消息标识与内容；以测试凭证订阅一个数据集并推送一条本工具生成的新记录触发通知，
测试结束取消订阅并删除该记录。目标不在本机时，须在目标文件 ``[thresholds] callback_host``（及
``callback_port``）中给出目标可访问的本机地址，否则未测。等待上限：首次通知 ``[thresholds] notification_seconds``
（默认 60 秒），每次重传 ``[simulators] retry_window_s``（默认 180 秒）；Retry-After 取
``[thresholds] retry_after_s``（默认 2 秒）。

The sharing platform as a sender (SHARE.SEC.RETRY.1, SHARE.SEC.RETRY.3): the harness is the
subscriber, answers deliveries by script (dropped connection, 503, 429, with or without
Retry-After) and checks the retransmissions: same message id and content, the waits, the
back-off, and no more sending after a 2xx receipt.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from conformance.check.schema import validator
from conformance.client import Evidence, TargetClient
from conformance.contract.datasets import DataSet, data_sets
from conformance.harness.target import Target
from conformance.report.skips import vacuous
from conformance.suites.support.checks import Answer, Delivery, subscriber, subscription_path
from conformance.suites.support.sharing import ROLE, expect, province_of, sandbox

pytestmark = pytest.mark.role(ROLE)


# ---------------------------------------------------------------------------- the scenario


def _subscribed_set() -> DataSet:
    sets = [ds for ds in data_sets().values() if ds.subscribe is not None and ds.push is not None]
    if not sets:
        vacuous("契约中没有可订阅且可推送的数据集 / no data set with subscription and push")
    return next((ds for ds in sets if ds.schema == "unit"), sets[0])


def _windows(target: Target) -> tuple[float, float]:
    """(seconds to wait for the first notification, seconds to wait for each retransmission)."""
    sims = getattr(target, "simulators", None)
    retry = float(getattr(sims, "retry_window_s", target.thresholds.get("retry_window_s", 180)))
    return float(target.thresholds.get("notification_seconds", 60)), retry


def _run(
    client: TargetClient,
    target: Target,
    evidence: Evidence,
    province: str,
    script: list[Answer],
    quiet: float | None = None,
) -> list[Delivery]:
    """Subscribe, push one new record, answer the deliveries by ``script`` and then with a receipt; return the
    deliveries of the first notification's message once receipted (and, with ``quiet``, after that many seconds
    more — or twice the longest wait between its deliveries, whichever is longer — of watching for more)."""
    ds = _subscribed_set()
    assert ds.subscribe is not None
    first_wait, retry_wait = _windows(target)
    with (
        subscriber(target, evidence, script, "/tzsb-subscriber", "无法接收通知", "subscriber") as sub,
        sandbox(client, province) as box,
    ):
        records = box.setup(ds.name, 1)
        r = client.post(ds.subscribe.path, {"dataSet": ds.name, "callbackUrl": sub.url})
        if r.status == 403:
            pytest.skip(f"未测：测试凭证无权订阅{ds.label}（403） / the harness credential may not subscribe")
        sid = expect(r, 201, f"订阅{ds.label}")["subscriptionId"]
        try:
            box.upload(ds.name, records, f"推送新{ds.label}记录（触发通知）")
            deadline = time.monotonic() + first_wait
            receipted_at: float | None = None
            while time.monotonic() < deadline:
                got = sub.deliveries()
                mine = _of_first(got)
                if receipted_at is None and mine and _receipted(mine[-1]):
                    receipted_at = time.monotonic()
                    if quiet is None:
                        break
                    gaps = [b.at - a.at for a, b in itertools.pairwise(mine)]
                    deadline = receipted_at + max(quiet, 2 * max(gaps, default=0.0))
                elif receipted_at is None and got:
                    deadline = got[-1].at + retry_wait  # waiting for the next retransmission
                time.sleep(0.02)
        finally:
            client.request("DELETE", subscription_path("cancelSubscription", sid))
    deliveries = sub.deliveries()
    assert deliveries, f"{first_wait:.0f} 秒内未收到任何订阅通知 / no notification within {first_wait:.0f} s"
    v = validator("sharing#/$defs/notification")
    first = deliveries[0]
    assert isinstance(first.body, dict) and v.is_valid(first.body), (
        f"订阅通知不符合 notification 结构：{first.raw[:200]!r} / the notification does not validate"
    )
    assert first.body["subscriptionId"] == sid, (
        f"通知的订阅标识为 {first.body['subscriptionId']}，应为 {sid} / wrong subscription"
    )
    return deliveries


def _of_first(deliveries: list[Delivery]) -> list[Delivery]:
    """The deliveries of the first notification: everything up to and including its first receipted delivery.
    (A retransmission is recognised by its position, so that a new message id is visible as such.)"""
    out: list[Delivery] = []
    for d in deliveries:
        out.append(d)
        if _receipted(d):
            break
    return out


def _receipted(d: Delivery) -> bool:
    return d.answer is not None and 200 <= d.answer[0] < 300


def _content(d: Delivery) -> Any:
    """The notification without its send time (which a retransmission may restamp)."""
    return {k: v for k, v in d.body.items() if k != "sentAt"} if isinstance(d.body, dict) else d.raw


def _retransmissions(deliveries: list[Delivery], failures: int, retry_wait: float) -> list[Delivery]:
    mine = _of_first(deliveries)
    assert len(mine) > failures, (
        f"首次通知之后的 {failures} 次投递本工具均未给成功回执，平台只投递了 {len(mine)} 次（每次等待 {retry_wait:.0f} 秒）："
        f"未重传 / the platform did not retransmit after {len(mine)} unreceipted deliveries"
    )
    return mine


# ---------------------------------------------------------------------------- SHARE.SEC.RETRY.1


@pytest.fixture
def client(tzsb_client: Any) -> TargetClient:
    return tzsb_client()


@pytest.fixture
def province(request: pytest.FixtureRequest, client: TargetClient) -> str:
    return province_of(request, client)


@pytest.mark.clause("SHARE.SEC.RETRY.1")
def test_an_unreceipted_notification_is_retransmitted_unchanged_until_receipted(
    client: TargetClient, province: str, tzsb_target: Target, tzsb_evidence: Evidence
) -> None:
    """订阅通知首次投递时本工具不应答即断开连接（连接失败），第二次答以 503：平台每次都重传，重传的消息标识（报文 messageId 及 X-Message-Id 请求头）与内容（发送时间除外）同首次；第三次答以 204 之后不再投递该消息。

    前置条件：契约中有可订阅且可推送的数据集（优先使用单位数据集，没有时本项未测）；测试凭证可订阅、可推送（返回 403 时本项未测）；本工具生成主键在目标中不存在的新记录（无法生成时本项未测）；目标可访问本机回调接收端（目标不在本机且目标文件未给出 [thresholds] callback_host 时本项未测）；等待上限：首次通知 [thresholds] notification_seconds（默认 60 秒），每次重传 [simulators] retry_window_s（默认 180 秒）。
    测试步骤：
    1. 在本机启动回调接收端，推送新记录的前置记录，以测试凭证订阅该数据集（callbackUrl 为接收端地址）；
    2. 推送一条新记录（UPLOAD）触发通知；
    3. 接收端首次投递不应答即断开连接，第二次答以 503，其后答以 204；收到 204 回执后再观察 2 秒（或投递最长间隔的 2 倍，取较长者）；
    4. 取消订阅（cancelSubscription），删除本工具推送的记录。
    预期结果：订阅返回 201，推送返回 200 且记录全部接受；等待上限内收到通知，首次通知符合 notification 结构、subscriptionId 为该订阅；首个消息的投递多于 2 次（断开与 503 之后都有重传）；每次重传的 messageId 同首次，首次带 X-Message-Id 时重传的也相同，内容（sentAt 除外）同首次；答以 204 之后不再有该消息（同 messageId 或同 X-Message-Id）的投递。

    After a dropped connection and a 503 the notification is retransmitted with the same message id and content;
    after a 2xx receipt it is not sent again.
    """
    _, retry_wait = _windows(tzsb_target)
    deliveries = _run(client, tzsb_target, tzsb_evidence, province, [None, (503, {})], quiet=2.0)
    mine = _retransmissions(deliveries, 2, retry_wait)
    first = mine[0]
    problems: list[str] = []
    for i, d in enumerate(mine[1:], start=2):
        if d.message_id != first.message_id:
            problems.append(f"第 {i} 次投递的消息标识为 {d.message_id}，首次为 {first.message_id}")
        if first.header_id is not None and d.header_id != first.header_id:
            problems.append(f"第 {i} 次投递的 X-Message-Id 为 {d.header_id}，首次为 {first.header_id}")
        if _content(d) != _content(first):
            problems.append(f"第 {i} 次投递的内容与首次不同")
    assert not problems, (
        "重传未使用原消息标识与原内容：" + "；".join(problems) + " / the retransmissions differ from the first"
    )
    receipted = mine[-1]
    again = [
        d
        for d in deliveries
        if d.at > receipted.at
        and (d.message_id == first.message_id or (first.header_id and d.header_id == first.header_id))
    ]
    assert not again, (
        f"消息 {first.message_id} 已获成功回执（204），其后又投递了 {len(again)} 次 / "
        "the notification was sent again after its receipt"
    )


# ---------------------------------------------------------------------------- SHARE.SEC.RETRY.3


@pytest.mark.clause("SHARE.SEC.RETRY.3")
def test_retransmissions_wait_for_retry_after(
    client: TargetClient, province: str, tzsb_target: Target, tzsb_evidence: Evidence
) -> None:
    """订阅通知首次投递答以 429、第二次答以 503，均带 Retry-After（秒）：平台的下一次投递都不早于 Retry-After 所示时间。

    前置条件：契约中有可订阅且可推送的数据集（优先使用单位数据集，没有时本项未测）；测试凭证可订阅、可推送（返回 403 时本项未测）；本工具生成主键在目标中不存在的新记录（无法生成时本项未测）；目标可访问本机回调接收端（目标不在本机且目标文件未给出 [thresholds] callback_host 时本项未测）；等待上限：首次通知 [thresholds] notification_seconds（默认 60 秒），每次重传 [simulators] retry_window_s（默认 180 秒）。Retry-After 取 [thresholds] retry_after_s（默认 2 秒）。
    测试步骤：
    1. 在本机启动回调接收端，推送新记录的前置记录，以测试凭证订阅该数据集（callbackUrl 为接收端地址）；
    2. 推送一条新记录（UPLOAD）触发通知；
    3. 接收端首次投递答以 429、第二次答以 503，均带 Retry-After，其后答以 204，收到 204 回执即止；
    4. 取消订阅（cancelSubscription），删除本工具推送的记录。
    预期结果：订阅返回 201，推送返回 200 且记录全部接受；等待上限内收到通知，首次通知符合 notification 结构、subscriptionId 为该订阅；首个消息的投递多于 2 次；每次答以 429 或 503 之后，下一次投递与其间隔不短于 Retry-After 秒（容差 0.05 秒）。

    After a 429 and a 503 with Retry-After, the next delivery never comes before the time it asks for.
    """
    wait = int(tzsb_target.thresholds.get("retry_after_s", 2))
    _, retry_wait = _windows(tzsb_target)
    script: list[Answer] = [(429, {"Retry-After": str(wait)}), (503, {"Retry-After": str(wait)})]
    mine = _retransmissions(_run(client, tzsb_target, tzsb_evidence, province, script), 2, retry_wait)
    early = []
    for i, (a, b) in enumerate(itertools.pairwise(mine), start=1):
        gap = b.at - a.at
        if a.answer is not None and a.answer[0] in (429, 503) and gap < wait - 0.05:
            early.append(f"第 {i} 次投递答以 {a.answer[0]}、Retry-After: {wait} 后 {gap:.2f} 秒即重传")
    assert not early, "；".join(early) + f" / retransmitted before Retry-After ({wait} s)"


@pytest.mark.clause("SHARE.SEC.RETRY.3")
def test_retransmissions_back_off_exponentially(
    client: TargetClient, province: str, tzsb_target: Target, tzsb_evidence: Evidence
) -> None:
    """订阅通知连续三次答以 503（不带 Retry-After）：三次重传的间隔逐次增长（指数退避），第三个间隔不短于第一个的 2 倍，不是固定的短间隔。

    前置条件：契约中有可订阅且可推送的数据集（优先使用单位数据集，没有时本项未测）；测试凭证可订阅、可推送（返回 403 时本项未测）；本工具生成主键在目标中不存在的新记录（无法生成时本项未测）；目标可访问本机回调接收端（目标不在本机且目标文件未给出 [thresholds] callback_host 时本项未测）；等待上限：首次通知 [thresholds] notification_seconds（默认 60 秒），每次重传 [simulators] retry_window_s（默认 180 秒）。
    测试步骤：
    1. 在本机启动回调接收端，推送新记录的前置记录，以测试凭证订阅该数据集（callbackUrl 为接收端地址）；
    2. 推送一条新记录（UPLOAD）触发通知；
    3. 接收端前三次投递都答以 503（不带 Retry-After），其后答以 204，收到 204 回执即止；
    4. 取消订阅（cancelSubscription），删除本工具推送的记录。
    预期结果：订阅返回 201，推送返回 200 且记录全部接受；等待上限内收到通知，首次通知符合 notification 结构、subscriptionId 为该订阅；首个消息的投递多于 3 次；前三个重传间隔 g1、g2、g3 满足 g1 < g2 < g3 且 g3 ≥ 2·g1。

    Three 503s without Retry-After: the waits between the retransmissions grow (exponential back-off), the third at
    least twice the first, never a fixed short interval.
    """
    _, retry_wait = _windows(tzsb_target)
    mine = _retransmissions(_run(client, tzsb_target, tzsb_evidence, province, [(503, {})] * 3), 3, retry_wait)
    gaps = [b.at - a.at for a, b in itertools.pairwise(mine)][:3]
    shown = "、".join(f"{g:.2f}" for g in gaps)
    assert len(gaps) == 3, f"只观察到 {len(gaps)} 个重传间隔（{shown} 秒） / only {len(gaps)} waits observed"
    assert gaps[0] < gaps[1] < gaps[2] and gaps[2] >= 2 * gaps[0], (
        f"重传间隔为 {shown} 秒：没有按指数退避逐次增长（应 g1 < g2 < g3 且 g3 ≥ 2·g1） / "
        f"the waits {shown} s do not back off exponentially"
    )
