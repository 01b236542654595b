"""Client-side conformance of the licensing system (DB42/T 2279-2024 §4.3, §4.7 b, §7.1.5, §7.2.4,
§7.2.5, §7.3.2, §7.4.2, §7.4.4, §7.4.5 c 4, §7.5.2, §10.2–§10.4): the calls the system under test must
*make*, received by the harness's simulators of its counterparts and judged against the contracts.

The harness plays the government-service platform: it pushes an application (T5-5) for a fresh
legal-person applicant whose unified-identity user, inspection report and case it has registered with
the simulators, then walks the case through the nine steps — 补齐补正 and re-submission, 正式受理, a
special procedure (start and end) in 审查, 审查通过, 准予许可, 制证, 发证, 办结, 预归档, 归档 — by the
workflow driver (feature ``workflow-driver``) or, without it, by telling an operator what to do
(``[simulators] attended = true``). After each step it waits (bounded: ``wait_s``, in attended mode
``attended_timeout_s``) for the call the step must cause (workflow.json ``reportBack``; at 发证 the
licence to the e-licence library, T7-1 / T7-2 and the SMS), and a second, natural-person application
is pushed for the T5-3 identity look-up. Every received call is then checked for its contract (request
schema, parameters, bearer token), its consistency with the application (case number, item code,
applicant and equipment codes, numbers across T5-10 / T5-11 / T7-2), its order (nothing before
acceptance, nothing after the result, licence data only after 发证) and its timeliness.

One scenario feeds a ledger of checks by clause; each test below judges its clauses from it, fails
with every problem found, is 未测 when the scenario could not check it, and carries the recorded
inbound calls as its evidence. Retransmission is in ``test_client_side_retry``.
"""

from __future__ import annotations

import functools
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest

from conformance.client import Evidence
from conformance.datagen.licensing import GRANTED
from conformance.harness.target import Target
from conformance.simulators import Simulators
from conformance.suites.support.client_side import (
    SMS_FEATURE,
    AttendedDriver,
    AutoDriver,
    Console,
    Ledger,
    introduce,
    is_chinese,
    issue_step,
    new_party,
    pick_item,
    session,
    special_kinds,
    special_steps,
    unwired,
)
from conformance.suites.support.client_walk import (
    IDEMPOTENT,
    IDENTITY,
    ITEM_SYNC,
    PLATFORM,
    SMS,
    SMS_FORMAT,
    CaseWalk,
    T,
)
from conformance.suites.support.workflow import brief, data_of, outcomes

pytestmark = [pytest.mark.role("licensing")]

Item = dict[str, Any]


# ---------------------------------------------------------------------------------- the scenario
class Scenario(CaseWalk):
    """One walk of a granted case (see the module doc); every observation goes to the ledger."""

    def __init__(
        self,
        target: Target,
        sims: Simulators,
        driver: AutoDriver | AttendedDriver,
        harness: Any,
        console: Console,
        ledger: Ledger,
    ) -> None:
        rng = random.Random(secrets.randbits(64))
        party = new_party(target, rng, legal=True, item=pick_item(rng))
        self.natural = new_party(target, rng, legal=False, with_report=False)
        super().__init__(target, sims, driver, harness, console, ledger, party, known=(self.natural.case_no,))
        self.duplicate: Any = None

    # ------------------------------------------------------------------ the walk
    def run(self) -> None:
        sims, party, L = self.sims, self.party, self.ledger
        introduce(sims, party)
        introduce(sims, self.natural)
        if not self.submit():
            return
        self.expect(
            "identity",
            "T5-4",
            self.t0,
            lambda c: party.user["userId"] in c.path,
            clauses=(*IDENTITY, T("T5-4")),
            what="统一身份认证查询（法人，T5-4）",
        )
        t_nat = time.time()
        rn = self.push(self.natural.application)
        if rn.status == 201:
            self.expect(
                "identity-natural",
                "T5-3",
                t_nat,
                lambda c: self.natural.user["userId"] in c.path,
                clauses=(*IDENTITY, T("T5-3")),
                what="统一身份认证查询（自然人，T5-3）",
                anywhere=True,
            )
        else:
            L.notes.append(f"自然人申请推送未被接收：{brief(rn)}")
        for key in ("T5-1", "T5-2"):  # the item library: any time during the session
            self.expect(
                f"items-{key}", key, 0.0, clauses=(*ITEM_SYNC, T(key)), what=f"事项库同步（{key}）", anywhere=True
            )
        if isinstance(self.driver, AttendedDriver):
            self.console.say(
                f"有人值守模式：请按提示在被测系统中办理办件 {party.case_no} / attended mode: follow the instructions"
            )
        # 补齐补正 and the re-submission (T5-6)
        self.perform("accept", "correction", what="补齐补正上报（T5-6）")
        if self.aborted or not self.resubmit():
            return
        for step, outcome in GRANTED[:6]:  # to 办结
            if step == special_steps()[0] and not self.aborted:
                self.special(step, special_kinds()[0])
            res = self.perform(step, outcome)
            if res is None:
                return
            if step == "review" and party.report is not None:
                self.expect(
                    "inspection",
                    "T6-1",
                    self.t0,
                    lambda c: party.report["reportNo"] in c.path,
                    what="检验报告查询（T6-1）",
                )
            if step == issue_step() and SMS_FEATURE in self.target.features:
                self.expect("sms", "sendSms", res.started, clauses=SMS + SMS_FORMAT, what="短信网关调用")
        if isinstance(self.driver, AutoDriver):
            for step, outcome in GRANTED[6:]:
                self.step(step, outcome)
            self.state = self.driver.state(party.case_no)
        self.settle()  # anything the system still sends after the end is caught too
        self.duplicate = self.push(party.messages[0])

    # ------------------------------------------------------------------ judging what was received
    def analyse(self) -> None:
        super().analyse()
        if not unwired(self.sims):
            self.check_counterparts()
            self.check_platform()
        self.check_duplicate_push()

    def check_counterparts(self) -> None:
        """What only the granted walk exercises: the SMS, unified identity, the item library, the inspection report."""
        L, party, got = self.ledger, self.party, self.found
        app = party.application
        sms = got.get("sms")
        if sms is not None:
            body = sms.json or {}
            problems = []
            if body.get("mobile") != app["applicant"]["contactPhone"]:
                problems.append("接收号码不是申请人的联系电话")
            if body.get("caseNo") != party.case_no:
                problems.append(f"办件编号 {body.get('caseNo')!r} 不是 {party.case_no}")
            content = str(body.get("content") or "")
            if not is_chinese(content) or party.case_no not in content:
                problems.append("短信正文应为中文并写明办件编号")
            if not any(
                o["name"] in content for o in outcomes().values() if o["step"] == "decide" and o["code"] != "suspend"
            ):
                problems.append("短信正文没有写明办理结果（准予许可 / 不予许可）")
            L.check(SMS + SMS_FORMAT, not problems, f"{sms.describe()}：" + "；".join(problems), [sms])
        for label, key in (("identity", "T5-4"), ("identity-natural", "T5-3")):
            call = got.get(label)
            if call is not None:
                L.check(
                    (*IDENTITY, T(key)),
                    call.status == 200,
                    f"{call.describe()}：用户标识与申请中的统一身份认证用户不一致（模拟器应答 {call.status}）",
                    [call],
                )
        division = app["authority"]["division"]
        for key in ("T5-1", "T5-2"):
            calls = [c for c in self.sims.calls() if c.key == key]
            if calls:
                ok = any(c.query.get("division") == division for c in calls) or (
                    key == "T5-1" and any(c.query.get("deptUscc") == app["authority"]["uscc"] for c in calls)
                )
                L.check(
                    (*ITEM_SYNC, T(key)),
                    ok,
                    f"{key} 调用中没有按受理机关 {app['authority']['name']} 的区划 {division} 查询的"
                    f"（{[c.query for c in calls][:3]}）",
                    calls[:5],
                )
        insp = got.get("inspection")
        if insp is not None:
            L.check((T("T6-1"),), insp.status == 200, f"{insp.describe()}：检验报告编号与申请不一致", [insp])
            decide = self.started.get("decide/granted")
            if decide is not None:
                L.check(
                    (T("T6-1"),),
                    insp.t <= decide + 0.5 and insp.t >= self.t0 - 0.5,
                    f"检验报告查询（T6-1）应在申请之后、决定之前进行：{insp.describe()}",
                    [insp],
                )
        ident = got.get("identity")
        if ident is not None:
            L.check(IDENTITY, ident.t >= self.t0 - 0.5, "统一身份认证查询早于申请推送", [ident])

    def check_platform(self) -> None:
        labels = ("accept/correction", "accept/accepted", "step-review", "conclude/concluded", "issue-T5-11")
        platform = [self.found.get(k) for k in labels]
        self.ledger.check(
            PLATFORM,
            all(c is not None and c.simulator == "gov-platform" for c in platform),
            "过程信息（T5-6、T5-7、T5-8）、审批结果（T5-10）与电子证照（T5-11）应都经政务服务平台发送，缺："
            f"{[k for k, c in zip(('T5-6', 'T5-7', 'T5-8', 'T5-10', 'T5-11'), platform, strict=True) if c is None]}",
            [c for c in platform if c is not None],
        )

    def check_duplicate_push(self) -> None:
        r = self.duplicate
        if r is None:
            return
        data = data_of(r)
        first = self.first_receipt if isinstance(self.first_receipt, dict) else {}
        ok = (
            r.status == 200
            and isinstance(data, dict)
            and data.get("duplicate") is True
            and data.get("messageId") == self.party.messages[0]["messageId"]
            and (not first.get("receivedAt") or data.get("receivedAt") == first.get("receivedAt"))
        )
        self.ledger.check(
            IDEMPOTENT,
            ok,
            f"重复推送首条申请消息（同一 messageId、同一内容）应得到原回执（200，duplicate 为 true，"
            f"接收时间不变），实为 {brief(r)}",
        )
        if self.state is not None:
            history = [h for h in self.state.get("history") or [] if isinstance(h, dict)]
            applies = [h for h in history if h.get("step") == "apply"]
            self.ledger.check(
                IDEMPOTENT,
                len(applies) == len(self.party.messages),
                f"办理记录中有 {len(applies)} 条申请记录，推送的不同消息只有 {len(self.party.messages)} 条（重复消息被再次处理）",
            )


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def scenario(request: pytest.FixtureRequest, tzsb_target: Target, tzsb_client: Any) -> Scenario:
    console, driver, sims = session(request, tzsb_target, tzsb_client)
    sc = Scenario(tzsb_target, sims, driver, tzsb_client(), console, Ledger())
    sc.run()
    if not sc.aborted or sc.found:
        sc.analyse()
    return sc


Judge = Callable[[str], None]


@pytest.fixture
def judge(request: pytest.FixtureRequest, scenario: Scenario, tzsb_evidence: Evidence) -> Judge:
    """The calling test's verdict on a clause, from the scenario's ledger."""
    return functools.partial(scenario.ledger.judge, request, tzsb_evidence)


def per_clause(*clauses: str) -> pytest.MarkDecorator:
    """One test item per clause (``test_x[DB42.…]``), so that each clause gets its own verdict."""
    return pytest.mark.parametrize("clause", [pytest.param(c, marks=pytest.mark.clause(c), id=c) for c in clauses])


# ---------------------------------------------------------------------------------- tests
@per_clause("DB42.4.7.b.1", "DB42.7.1.5.b.1", "DB42.10.2.T5-1.1", "DB42.10.2.T5-2.1")
def test_item_library_is_synchronised_with_the_platform(clause: str, judge: Judge) -> None:
    """事项库同步：被测系统调用实施清单查询（T5-1）与业务办理项查询（T5-2），请求符合契约，并按受理机关区划查询。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：会话中模拟政务服务平台在等待时限内收到 T5-1 与 T5-2 调用；各自的调用中至少一次以受理机关的区划
    （division）查询（T5-1 也可以受理机关的统一社会信用代码 deptUscc 查询）。

    Item library: the system queries T5-1 and T5-2 (contract-valid, for the authority's division).
    """
    judge(clause)


@per_clause("DB42.7.1.5.a.1", "DB42.10.2.T5-3.1", "DB42.10.2.T5-4.1")
def test_applicant_identity_is_fetched_from_unified_authentication(clause: str, judge: Judge) -> None:
    """统一身份认证：收到申请后，被测系统按申请中的统一身份认证用户标识获取法人（T5-4）与自然人（T5-3）信息。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：步骤 1 中法人申请推送后收到路径含其统一身份用户标识的 T5-4 调用，且不早于推送；自然人申请推送后收到含其
    用户标识的 T5-3 调用；模拟器对两者应答 200（用户标识与登记的一致）；调用符合其契约（请求体结构、参数、Bearer 令
    牌、Content-Type）。

    Identity: after each application the system fetches the applicant from unified identity authentication.
    """
    judge(clause)


@per_clause("DB42.10.2.T5-6.1", "DB42.7.2.5.e.1")
def test_correction_is_reported_with_its_notice(clause: str, judge: Judge) -> None:
    """补齐补正上报（T5-6）：按办件编号推送，带需补正材料与可访问的一次性补正告知书，先于受理信息。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：步骤 2 后收到本办件的 T5-6：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；报文与路径中
    的办件编号为平台推送的编号，办理项编码为申请的；带需补正材料；带一次性补正告知书，文书种类正确、办件编号一致，且预
    览地址可访问（200 且非空）或有版式文件名与摘要（受理通知书同样判定）；T5-6 先于受理信息（T5-7）上报。

    T5-6 carries the case number, the materials to complete and a reachable notice.
    """
    judge(clause)


@per_clause("DB42.10.2.T5-7.1", "DB42.7.2.4.1")
def test_acceptance_is_reported_first_with_the_receipt(clause: str, judge: Judge) -> None:
    """受理信息上报（T5-7）：正式受理后及时推送受理意见与受理通知书，先于其他环节与结果上报。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：正式受理后在等待时限内收到 T5-7：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；办件编号
    与办理项编码与申请一致；受理结论为“正式受理”，受理意见为办理时填写的意见；带受理通知书，文书种类正确、办件编号一
    致，且预览地址可访问（200 且非空）或有版式文件名与摘要；首个 T5-7 之前没有 T5-8、T5-9、T5-10 上报。

    T5-7 is sent in time after acceptance, with the opinion and the notice, before any later report.
    """
    judge(clause)


@per_clause("DB42.10.2.T5-8.1", "DB42.7.2.5.b.2", "DB42.7.3.2.b.1", "DB42.7.4.2.c.1")
def test_each_step_is_reported_in_order(clause: str, judge: Judge) -> None:
    """办理环节上报（T5-8）：审查、决定、制证、发证每一环节一次，顺序与办理一致，环节名称与办理意见与记录相同；
    决定环节的上报携带决定文书（§7.4.2 c)：准予许可决定书，办件编号一致，可查看），办件结果（T5-10）的决定书即该文书。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：审查、准予许可、制证、发证每步后收到该环节的 T5-8：调用符合其契约（请求体结构、参数、Bearer 令牌、
    Content-Type）；办件编号与办理项编码与申请一致；环节名称、结论与办理意见与所办理的一致；T5-8 上报的环节顺序与办理
    顺序相同，且都不早于首个 T5-7；决定环节的 T5-8 带准予许可决定书（文书种类正确、办件编号一致，且预览地址可访问
    （200 且非空）或有版式文件名与摘要）；办件结果（T5-10）的结果为“准予许可”、带同样判定的决定书，其文书标识与决定环
    节推送的决定文书相同。

    Every step after acceptance is reported once, in order, with its opinion; the decision step carries the decision
    document, the one the result carries too.
    """
    judge(clause)


@per_clause("DB42.10.2.T5-9.1")
def test_special_procedure_is_reported(clause: str, judge: Judge) -> None:
    """特别程序上报（T5-9）：开始与结束各上报一次，种类与开始时间一致，结束带结束时间。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：特别程序开始与结束后各收到一次 T5-9：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；办件
    编号与办理项编码与申请一致；两次上报的特别程序种类均为所办理的、开始时间相同，结束上报带结束时间；T5-9 的动作依次
    为 start、end；T5-9 不早于首个 T5-7。

    The start and the end of a special procedure are each reported.
    """
    judge(clause)


@per_clause("DB42.10.2.T5-10.1", "DB42.7.5.2.3")
def test_result_is_reported_last(clause: str, judge: Judge) -> None:
    """办件结果上报（T5-10）：办结时推送许可结果与决定文书，使用登记证编号与电子证照标识与办件一致；其后不再上报。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：办结后在等待时限内收到 T5-10：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；办件编号与
    办理项编码与申请一致；办理结果为“准予许可”，带准予许可决定书（文书种类正确、办件编号一致，且预览地址可访问（200 且
    非空）或有版式文件名与摘要）；有办件状态时，使用登记证编号与电子证照标识与状态中的一致；T5-7 在 T5-10 之前，
    T5-10 之后不再有 T5-6 至 T5-10 上报。

    The result comes at conclusion, consistent with the case, and nothing is reported after it.
    """
    judge(clause)


@per_clause("DB42.10.2.T5-11.1", "DB42.7.4.4.b.1")
def test_licence_is_aggregated_as_structured_data(clause: str, judge: Judge) -> None:
    """电子证照汇聚（T5-11）：发证后以结构化证照数据汇聚至电子证照库，持证主体、证照编号、设备代码与申请和结果一致。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：发证后收到 T5-11：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；办件编号、办理项编码、
    持证主体标识与名称、发证机关代码与区划与申请一致，证照编号与电子证照标识与 T5-10 的使用登记证编号与电子证照标识一
    致，照面设备代码为申请设备的代码。

    The licence reaches the e-licence library as structured data consistent with the case.
    """
    judge(clause)


@per_clause("DB42.7.4.4.a.1")
def test_issuance_is_the_marker_of_external_exchange(clause: str, judge: Judge) -> None:
    """发证为数据外部交换的标志环节：发证之前电子证照库与安全监察系统未收到该办件的许可信息，发证之后收到。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：发证之前模拟器未收到本办件的 T5-11、T7-1、T7-2 调用，发证之后至少收到其中之一。

    Licence data leaves the system at issuance, not before.
    """
    judge(clause)


@per_clause("DB42.10.4.T7-1.1", "DB42.10.4.T7-2.1", "DB42.10.4.1", "DB42.7.4.4.b.2")
def test_unit_and_registration_are_reported_to_supervision(clause: str, judge: Judge) -> None:
    """安全监察上报（T7-1、T7-2）：新使用单位先上报单位信息，再上报一次设备使用登记信息，编号与申请、电子证照一致。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：发证后收到 T7-1 与 T7-2：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；T7-1 的使用单位
    统一社会信用代码与名称为申请人的；T7-2 的办件编号、办理项编码、使用单位代码、设备品种与申请一致，registration 与
    equipment 的设备代码为申请设备的、使用登记证编号彼此一致且与 T5-11 的证照编号一致；T7-2 恰有一条消息，T7-1 先于
    T7-2。

    The using unit, then exactly one registration report, consistent with the case and the licence.
    """
    judge(clause)


@per_clause("DB42.10.3.T6-1.1")
def test_inspection_report_is_queried_during_review(clause: str, judge: Judge) -> None:
    """检验检测信息查询（T6-1）：申请之后、决定之前，被测系统按申请中的检验报告编号查询检验报告。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：收到路径含申请中检验报告编号的 T6-1 调用：调用符合其契约（请求体结构、参数、Bearer 令牌、
    Content-Type）；模拟器应答 200（报告编号与申请一致）；调用在申请推送之后、办理“准予许可”之前。

    The inspection report named in the application is queried before the decision.
    """
    judge(clause)


@per_clause("DB42.7.4.5.c4.1")
def test_sms_gateway_is_called(clause: str, judge: Judge, tzsb_target: Target) -> None:
    """短信网关调用：发证后被测系统调用（模拟）短信网关，向申请人发送含办件编号与办理结果的中文短信。目标不能把短信网关
    指向模拟网关（未声明 sms-gateway）时为未测。

    前置条件：目标声明 sms-gateway（可把短信网关指向模拟网关），未声明时未测；目标声明流程驱动特性 workflow-driver，或
    目标文件启用有人值守模式（[simulators] attended = true），两者皆无时未测；被测系统的政务服务平台、统一身份认证、检
    验检测、电子证照库、安全监察系统与短信网关地址配置为 [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本
    工具新生成法人申请人（统一身份用户、检验报告、带设备代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等
    待以 [simulators] wait_s（有人值守时 attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本
    项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：发证后收到 sendSms 调用：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；接收号码为申请人
    的联系电话，办件编号为本办件的，正文为中文、写明办件编号与办理结果（准予许可或不予许可）。

    The SMS gateway is called after issuance (untested if it cannot be redirected).
    """
    if SMS_FEATURE not in tzsb_target.features:
        pytest.skip(
            "未测：目标未声明可把短信网关指向模拟网关（sms-gateway）/ untested: SMS gateway cannot be redirected"
        )
    judge(clause)


@pytest.mark.feature(SMS_FEATURE)
@per_clause("PROFILE.DB42.7.4.5.c4")
def test_sms_call_format(clause: str, judge: Judge) -> None:
    """短信网关报文：带消息标识、接收手机号、办件编号与中文正文（含办理结果），符合 sendSms 契约。

    前置条件：目标声明 sms-gateway（未声明时未测）；目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式
    （[simulators] attended = true），两者皆无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全
    监察系统与短信网关地址配置为 [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统
    一身份用户、检验报告、带设备代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以
    [simulators] wait_s（有人值守时 attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未
    测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：发证后收到 sendSms 调用：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；接收号码为申请人
    的联系电话，办件编号为本办件的，正文为中文、写明办件编号与办理结果（准予许可或不予许可）。

    The SMS request follows the sendSms contract of the profile.
    """
    judge(clause)


@per_clause("DB42.4.3.2", "DB42.7.1.4.1")
def test_process_results_and_licence_go_through_the_platform(clause: str, judge: Judge) -> None:
    """过程信息、审批结果和电子证照经政务服务平台发送，且都使用平台推送的办件编号。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：T5-6、T5-7、审查环节的 T5-8、T5-10 与 T5-11 都由模拟政务服务平台收到；每条 T5-6 至 T5-10 上报的报文与路
    径中的办件编号均为平台推送的编号。

    Process information, results and the licence are sent through the platform under the platform's case number.
    """
    judge(clause)


@per_clause("PROFILE.PUSH.1")
def test_reports_carry_message_ids_and_get_receipts(clause: str, judge: Judge) -> None:
    """推送与上报（T5-6…T5-10、T7-1、T7-2）都带合法的消息标识，并最终得到接收方回执。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：本办件的每条 T5-6 至 T5-10、T7-1、T7-2 消息（首次发送）带 8 至 64 个字符的 messageId，且该消息至少一次得
    到 2xx 回执。

    Every report carries a valid message id and ends with a receipt.
    """
    judge(clause)


@per_clause("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2")
def test_duplicates_are_recognised(clause: str, judge: Judge) -> None:
    """重复消息：重复推送同一申请消息得到原回执（200，duplicate 为 true）且不被再次处理；被测系统发出的同一消息标识
    始终对应同一内容。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的政务服务平台、统一身份认证、检验检测、电子证照库、安全监察系统与短信网关地址配置为
    [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、检验报告、带设备
    代码的表1新登记事项申请）与自然人申请人并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时
    attended_timeout_s）为界；推送或办理失败、走查中没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记两个申请人、办件与检验报告，推送法人申请（pushApplication，T5-5），等待统一身份认证查询（T5-4）；推
       送自然人申请，等待 T5-3；在整个会话中等待事项库查询（T5-1、T5-2）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6；以同一办件编号、新的 messageId 再次推送申
       请；
    3. 依次办理正式受理、审查（审查前开始并结束一次特别程序，各等待一次 T5-9）、准予许可、制证、发证、办结，每步后等待
       其上报（T5-7、T5-8、T5-10），审查后等待检验报告查询（T6-1），发证后等待 T5-11、T7-1、T7-2（声明 sms-gateway 时
       还有 sendSms）；
    4. 有流程驱动时再办理预归档、归档并查询办件状态（getCaseState）；稍候后将首条申请消息原样再次推送
       （pushApplication）；
    5. 按契约、与申请的一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：步骤 4 的重复推送返回 200，data.duplicate 为 true、messageId 为首条消息的，接收时间与首次回执的相同（首
    次回执有时）；有办件状态时，办理记录中的申请记录条数等于推送的不同消息数（2）；被测系统发出的同一消息标识始终对应
    同一报文内容。

    A repeated push gets the original receipt; the system never reuses a message id for other content.
    """
    judge(clause)
