"""Retransmission by the licensing system (draft sharing standard › 数据重传响应机制, SHARE.SEC.RETRY.*):
the simulated government-service platform fails the first tries of the system's report-backs and the
harness checks what the system does.

* 受理信息（T5-7）: the platform answers ``503`` with ``Retry-After``, then ``503`` twice without it, then
  lets the call time out (holds it past the caller's timeout), then accepts. The system must retransmit
  the *same* message (same message id, same content) after each failure (RETRY.1), wait at least the
  Retry-After it was given and otherwise back off with growing gaps, never at a fixed short interval
  (RETRY.3), and stop once it has a receipt.
* 审查环节（T5-8）: the platform processes the first try but its answer is lost (held, then dropped).
  The retransmission must be the same message; the platform recognises it and answers with the
  original receipt (200, ``duplicate: true``), which the system must take as delivered — no further
  tries (RETRY.2, and RETRY.1 "收到成功回执后不再重传").

The case is pushed and driven like the scenario of ``test_client_side`` (workflow driver or attended
mode). Waits are bounded by ``[simulators] retry_window_s``; a ``timeout`` fault holds a call for
``hold_s`` seconds, which must exceed the system's own read timeout.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from typing import Any

import pytest

from conformance.client import Evidence
from conformance.harness.target import Target
from conformance.simulators import Call, Simulators
from conformance.suites.support.client_side import (
    Console,
    Ledger,
    Party,
    digest,
    introduce,
    new_party,
    session,
)
from conformance.suites.support.workflow import brief, licensing_operation, outcomes

pytestmark = [pytest.mark.role("licensing")]

SAME = ("SHARE.SEC.RETRY.1",)
BACKOFF = ("SHARE.SEC.RETRY.3",)
DUPLICATE = ("SHARE.SEC.RETRY.2",)
#: The Retry-After (seconds) the platform gives with its first 503.
RETRY_AFTER = 2
#: Tolerance for clocks and scheduling when comparing gaps (seconds).
SLACK = 0.15


class RetryRun:
    def __init__(self, target: Target, sims: Simulators, driver: Any, harness: Any, console: Console) -> None:
        self.target, self.sims, self.driver, self.harness, self.console = target, sims, driver, harness, console
        self.settings = target.simulators
        self.ledger = Ledger()
        self.party: Party = new_party(target, random.Random(secrets.randbits(64)), legal=True, with_report=False)
        self.acceptance: list[Call] = []
        self.step: list[Call] = []

    def attempts(self, key: str) -> list[Call]:
        return sorted(
            (
                c
                for c in self.sims["gov-platform"].calls()
                if c.key == key
                and c.case_no is not None
                and (c.case_no == self.party.case_no or self.party.case_no in c.path)
            ),
            key=lambda c: c.t,
        )

    def wait_delivered(self, key: str, since: float) -> list[Call]:
        """Attempts of ``key`` until one is answered 2xx and a quiet period has passed, bounded by the retry window."""
        deadline = time.monotonic() + self.settings.retry_window_s
        note = time.monotonic()
        while time.monotonic() < deadline:
            tries = [c for c in self.attempts(key) if c.t >= since - 0.5]
            done = [c for c in tries if c.ok]
            if done:
                gaps = [b.t - a.t for a, b in itertools.pairwise(tries)]
                quiet = min(self.settings.retry_window_s, max(2.0, 1.5 * max(gaps, default=0.0)))
                time.sleep(max(0.0, min(quiet - (time.time() - done[0].t), deadline - time.monotonic())))
                return [c for c in self.attempts(key) if c.t >= since - 0.5]
            if time.monotonic() - note > 5:
                note = time.monotonic()
                self.console.say(
                    f"  … 等待 {key} 重传（已收到 {len(tries)} 次）/ waiting for {key} retries ({len(tries)} so far)"
                )
            time.sleep(0.1)
        return [c for c in self.attempts(key) if c.t >= since - 0.5]

    def run(self) -> None:
        gov, party = self.sims["gov-platform"], self.party
        introduce(self.sims, party)
        gov.fault({"caseNo": party.case_no, "interface": "T5-7"}, [f"503:{RETRY_AFTER}", "503", "503", "timeout"])
        gov.fault({"caseNo": party.case_no, "interface": "T5-8"}, ["lost"])
        r = self.harness.post(licensing_operation("pushApplication").path, party.application)
        if r.status != 201:
            self.ledger.notes.append(f"申请推送（T5-5）未被接收：{brief(r)}")
            return
        for step, outcome, key in (("accept", "accepted", "T5-7"), ("review", "passed", "T5-8")):
            opinion = f"{outcomes()[(step, outcome)]['name']}：重传测试 {secrets.token_hex(2)}。"
            res = self.driver.step(party.case_no, step, outcome, opinion)
            if not res.done:
                self.ledger.notes.append(f"流程驱动执行“{step}/{outcome}”失败：{res.message}")
                return
            self.console.say(f"已办理“{step}”，等待 {key} 的重传 / {step} done, watching the retries of {key}")
            tries = self.wait_delivered(key, res.started)
            if key == "T5-7":
                self.acceptance = tries
            else:
                self.step = tries

    # ------------------------------------------------------------------ judging
    def analyse(self) -> None:
        self.judge_acceptance()
        self.judge_lost_answer()

    def same_message(self, tries: list[Call], what: str) -> None:
        L = self.ledger
        ids = [c.message_id for c in tries]
        L.check(
            SAME,
            len(set(ids)) == 1 and ids[0] is not None,
            f"{what}的重传使用了不同的消息标识：{ids}（应始终为原消息标识）",
            tries,
        )
        contents = {digest(c.json) for c in tries}
        L.check(SAME, len(contents) == 1, f"{what}的重传内容与原报文不同（{len(contents)} 种内容）", tries)

    def judge_acceptance(self) -> None:
        L, tries = self.ledger, self.acceptance
        if not tries:
            L.notes.append("没有收到受理信息（T5-7）")
            return
        faults = [c.fault for c in tries]
        if len(tries) == 1:
            L.check(
                SAME,
                False,
                f"受理信息（T5-7）首次上报得到 {tries[0].status or tries[0].fault} 后，{self.settings.retry_window_s:.0f} 秒内"
                "没有重传 / no retransmission after a 503",
                tries,
            )
            return
        self.same_message(tries, "受理信息（T5-7）")
        ok_at = next((i for i, c in enumerate(tries) if c.ok), None)
        if ok_at is None:
            L.check(
                SAME,
                False,
                f"受理信息（T5-7）{len(tries)} 次尝试都没有成功（模拟故障 {faults}）；"
                f"重传窗口 {self.settings.retry_window_s:.0f} 秒内未再重传",
                tries,
            )
        else:
            L.check(
                SAME,
                ok_at == len(tries) - 1,
                f"受理信息（T5-7）得到成功回执后仍重传了 {len(tries) - 1 - ok_at} 次",
                tries,
            )
            timeout_at = next((i for i, f in enumerate(faults) if f == "timeout"), None)
            if timeout_at is not None:
                L.check(SAME, ok_at > timeout_at, "受理信息（T5-7）超时后没有重传", tries)
        gaps = [b.t - a.t for a, b in itertools.pairwise(tries)]
        first = tries[0]
        if first.fault == f"503:{RETRY_AFTER}":
            L.check(
                BACKOFF,
                gaps[0] >= RETRY_AFTER - SLACK,
                f"收到 503 与 Retry-After: {RETRY_AFTER} 后 {gaps[0]:.2f} 秒就重传，未遵守 Retry-After",
                tries[:2],
            )
        plain = [
            gaps[i] for i in range(1, len(gaps)) if tries[i].fault == "503"
        ]  # gaps after a 503 without Retry-After
        if len(plain) >= 2:
            L.check(
                BACKOFF,
                plain[-1] >= plain[0] * 1.2 and plain[0] >= 0.05,
                f"没有 Retry-After 的 503 之后重传间隔为 {[round(g, 2) for g in plain]} 秒：应指数退避（间隔递增），"
                "不得以固定短间隔连续重试",
                tries,
            )

    def judge_lost_answer(self) -> None:
        L, tries = self.ledger, self.step
        if not tries:
            L.notes.append("没有收到审查环节上报（T5-8）")
            return
        if len(tries) == 1:
            L.check(
                SAME,
                False,
                f"审查环节上报（T5-8）的应答丢失（超时）后，{self.settings.retry_window_s:.0f} 秒内没有重传",
                tries,
            )
            return
        self.same_message(tries, "审查环节上报（T5-8）")
        second = tries[1]
        if second.message_id == tries[0].message_id:
            L.check(
                DUPLICATE,
                second.status == 200 and second.duplicate,
                f"模拟平台应以原回执答复重传（200，duplicate 为 true），实为 {second.status}",
                tries,
            )
            L.check(
                DUPLICATE + SAME,
                len(tries) == 2,
                f"得到重复消息的原回执（duplicate 为 true）后仍重传了 {len(tries) - 2} 次：重复回执应视为送达",
                tries,
            )


@pytest.fixture(scope="module")
def retry_run(request: pytest.FixtureRequest, tzsb_target: Target, tzsb_client: Any) -> RetryRun:
    console, driver, sims = session(request, tzsb_target, tzsb_client)
    run = RetryRun(tzsb_target, sims, driver, tzsb_client(), console)
    try:
        run.run()
    finally:
        sims["gov-platform"].clear_faults()
    run.analyse()
    return run


@pytest.mark.clause("SHARE.SEC.RETRY.1")
def test_retransmission_uses_the_same_message(
    request: pytest.FixtureRequest, retry_run: RetryRun, tzsb_evidence: Evidence
) -> None:
    """重传：上报在 503、超时或应答丢失后重传，重传使用原消息标识与原内容，得到成功回执后不再重传。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），
    两者皆无时未测；被测系统的政务服务平台地址配置为 [simulators] 的模拟器，超时故障的保持时间 hold_s 大于被测系统的
    读超时；本工具新生成法人申请人、统一身份用户与带设备代码的申请（事项 01100000-03-01）。申请推送未被接收、
    办理失败或在 [simulators] retry_window_s 内没有收到相应上报时，本项未测。
    测试步骤：
    1. 在模拟政务服务平台登记该用户与办件，并为该办件设置故障：受理信息（T5-7）依次答复 503（Retry-After: 2）、
       503、503、超时，审查环节上报（T5-8）首次处理但应答丢失；
    2. 推送申请（pushApplication，T5-5）；
    3. 经流程驱动（performStep）或由操作员办理“受理/予以受理”，在 retry_window_s 内记录被测系统对 T5-7 的
       各次上报，直至得到成功答复后再静候一段时间；
    4. 办理“审查/审查通过”，同样记录 T5-8 的各次上报。
    预期结果：T5-7 与 T5-8 各有不止一次上报；同一接口的各次上报消息标识相同且不为空、报文内容相同；T5-7 最终
    得到成功回执，成功的是最后一次上报，且在超时那次之后；T5-8 的重传得到重复回执后不再上报（共两次）。

    Retries after 503, a timeout or a lost answer carry the original message id and content, and stop after a receipt.
    """
    retry_run.ledger.judge(request, tzsb_evidence, "SHARE.SEC.RETRY.1")


@pytest.mark.clause("SHARE.SEC.RETRY.3")
def test_retransmission_backs_off(request: pytest.FixtureRequest, retry_run: RetryRun, tzsb_evidence: Evidence) -> None:
    """退避：遵守 503 的 Retry-After；没有 Retry-After 时重传间隔递增（指数退避），不以固定短间隔连续重试。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），
    两者皆无时未测；被测系统的政务服务平台地址配置为 [simulators] 的模拟器，超时故障的保持时间 hold_s 大于被测系统的
    读超时；本工具新生成法人申请人、统一身份用户与带设备代码的申请（事项 01100000-03-01）。申请推送未被接收、
    办理失败或在 [simulators] retry_window_s 内没有收到相应上报时，本项未测。
    测试步骤：
    1. 在模拟政务服务平台登记该用户与办件，并为该办件设置故障：受理信息（T5-7）依次答复 503（Retry-After: 2）、
       503、503、超时，审查环节上报（T5-8）首次处理但应答丢失；
    2. 推送申请（pushApplication，T5-5）；
    3. 经流程驱动（performStep）或由操作员办理“受理/予以受理”，在 retry_window_s 内记录被测系统对 T5-7 的
       各次上报，直至得到成功答复后再静候一段时间；
    4. 办理“审查/审查通过”，同样记录 T5-8 的各次上报。
    预期结果：T5-7 首次上报得到带 Retry-After: 2 的 503 后，下一次上报至少相隔 1.85 秒（2 秒减 0.15 秒容差）；
    不带 Retry-After 的 503 之后有两个以上重传间隔时，首个间隔不小于 0.05 秒，最后一个间隔不小于首个的 1.2 倍。

    Retry-After is honoured; without it the gaps between retries grow.
    """
    retry_run.ledger.judge(request, tzsb_evidence, "SHARE.SEC.RETRY.3")


@pytest.mark.clause("SHARE.SEC.RETRY.2")
def test_duplicate_receipt_ends_the_retries(
    request: pytest.FixtureRequest, retry_run: RetryRun, tzsb_evidence: Evidence
) -> None:
    """重复识别：应答丢失后的重传被平台识别为重复并得到原回执，被测系统据此视为送达，不再重传。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），
    两者皆无时未测；被测系统的政务服务平台地址配置为 [simulators] 的模拟器，超时故障的保持时间 hold_s 大于被测系统的
    读超时；本工具新生成法人申请人、统一身份用户与带设备代码的申请（事项 01100000-03-01）。申请推送未被接收、
    办理失败或在 [simulators] retry_window_s 内没有收到相应上报时，本项未测。
    测试步骤：
    1. 在模拟政务服务平台登记该用户与办件，并为该办件设置故障：受理信息（T5-7）依次答复 503（Retry-After: 2）、
       503、503、超时，审查环节上报（T5-8）首次处理但应答丢失；
    2. 推送申请（pushApplication，T5-5）；
    3. 经流程驱动（performStep）或由操作员办理“受理/予以受理”，在 retry_window_s 内记录被测系统对 T5-7 的
       各次上报，直至得到成功答复后再静候一段时间；
    4. 办理“审查/审查通过”，同样记录 T5-8 的各次上报。
    预期结果：T5-8 的第二次上报与首次消息标识相同时，模拟平台以 200、duplicate 为 true 的原回执答复，被测系统
    此后不再上报（T5-8 共两次）。

    A retransmission after a lost answer gets the original receipt, which ends the retries.
    """
    retry_run.ledger.judge(request, tzsb_evidence, "SHARE.SEC.RETRY.2")
