"""政务服务平台功能测试（二）：统一受理的办件上报接收 —— DB42/T 2279-2024 §10.2 表5 序号6–10，§7.1.4、§7.2.4、
§7.2.5 b)、§7.3.2 b)、§7.4.2 c)、§7.5.2，及项目规范的回执与幂等（PROFILE.PUSH.*、PROFILE.STATUS.3）。

GB/T 34990 式测试项：文档字符串给出测试目的（中文，其后英文），代码即测试步骤，断言给出预期结果。
报文按 ``case-status.schema.json`` 构造，环节、结论、文书种类与岗位取自 ``schemas/codelists/workflow.json``。
每个测试使用一件新的测试办件：测试工具扮演许可系统（模拟器接收平台的申请推送 T5-5，并按契约检验、留作证据），每个测试
领用一件平台推送来、尚未用过的办件，然后以许可系统的客户端（``[clients.licensing-system]``）向平台上报（详见
``test_gov_platform_support`` 的 ``Intake``）。平台没有创建或查询办件的接口，故得不到测试办件时为“未测”并说明需提供什么。

所检验的状态顺序只取契约（gov-platform.yaml 各接口说明）写明的：补正在办件结束后 409；重复受理 409；受理之前上报环节、
特别程序、结果 409；特别程序未开始即结束 409；结果已上报后再报不同结果 409；办结（结果上报）之后交互结束（§7.5.2）。
错误代码区分 STATE_CONFLICT（状态顺序）与 DUPLICATE/CONFLICT（同一消息标识、内容不同）。

Functional tests of the platform's report-back receivers (T5-6 … T5-10): receipts, idempotency by
message id (the first receipt again for a repeat), state order (409 STATE_CONFLICT, nothing changed),
case-number handling, and the end of the exchange at the result.
"""

from __future__ import annotations

import pytest

from conformance.client import Evidence
from conformance.contract.errors import ErrorCode
from conformance.harness.target import Target
from conformance.report.skips import untested
from conformance.suites.support.client_side import attach
from conformance.suites.support.gov_platform import (
    DUPLICATE_CODES,
    ROLE,
    Case,
    Desk,
    Platform,
    check_receipt,
    expect_error,
    names_field,
    new_case_no,
    path_of,
    push_problems,
)

pytestmark = pytest.mark.role(ROLE)


@pytest.fixture(scope="module")
def desk(tzsb_client: object, tzsb_target: Target, request: pytest.FixtureRequest) -> Desk:
    return Desk(Platform(tzsb_client, tzsb_target), request)


@pytest.fixture
def case(desk: Desk) -> Case:
    return desk.open()


# ---------------------------------------------------------------------------------- the platform's pushes (T5-5)
@pytest.mark.clause("DB42.10.2.T5-5.1", "PROFILE.PUSH.1")
def test_the_platform_pushes_its_applications_as_the_contract_says(
    desk: Desk, tzsb_evidence: Evidence, request: pytest.FixtureRequest
) -> None:
    """申请信息推送（表5 序号5）：平台推送至许可系统（测试工具模拟）的每份申请都符合 T5-5 契约——携带 Bearer 令牌、
    application/json，请求体符合 application.schema.json（消息标识、办件编号、办理项、相对人、受理许可机关、设备），办理项为
    表1的办理项且设备品种属于其设备类别，受理许可机关是平台实施清单（T5-1）中的实施部门；本次测试至少收到一份推送。

    前置条件：目标文件有 [clients.licensing-system]；测试工具模拟许可系统（[simulators] 中 licensing 的端口或地址，平台的许可系统地址配置为该模拟器），否则本项未测；本次运行至少收到一份平台的推送（平台自行推送或操作员按提示提交申请），没有时本项未测。
    测试步骤：
    1. 等待并领用一份平台推送的申请（T5-5）；
    2. 逐份检查模拟器收到的推送：令牌、内容类型、请求体结构、办理项与设备类别；
    3. 对推送中的每个受理许可机关，按其统一社会信用代码查询平台实施清单（T5-1）。
    预期结果：每份推送携带 Bearer 令牌、为 application/json，请求体符合 application.schema.json，办理项在表1中，模拟器未指出问题（如设备品种不属办理项的设备类别）；步骤 3 返回 200，受理许可机关是清单中的实施部门。

    Every application the platform pushed to the harness's licensing system follows the T5-5 contract.
    """
    if not desk.intake.plays_licensing:
        untested(
            "目标文件中的许可系统（[urls] licensing）不是测试工具模拟的，平台的申请推送未经测试工具接收 / "
            "the platform's pushes go to a licensing system the harness does not play",
            provide="[simulators] 中 licensing 的端口（ports）或地址（urls），并把平台的许可系统地址配置为该模拟器 / "
            "a licensing simulator the platform pushes to",
        )
    desk.open()  # at least one push, taken as a case like any test's
    departments: dict[str, bool] = {}
    pushes = desk.intake.pushes()
    problems: list[str] = []
    for call in pushes:
        problems += [f"{call.describe()}：{problem}" for problem in push_problems(call, desk.platform, departments)]
        if len(problems) >= 30:
            break
    for call in pushes[:20]:
        attach(tzsb_evidence, call, request.node.nodeid)
    assert not problems, "\n".join(problems[:30]) + " / pushes that break the T5-5 contract"


# ---------------------------------------------------------------------------------- receipts
@pytest.mark.clause("DB42.10.2.T5-6.1", "PROFILE.PUSH.1")
def test_a_supplement_report_is_taken_with_a_receipt(desk: Desk, case: Case) -> None:
    """上报补齐补正信息（表5 序号6）：许可系统按办件编号推送退回补正数据（需补正材料与一次性补正告知书），平台返回 201
    与回执（消息标识、办件编号、带时区的接收时间、duplicate=false）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 领用测试办件；
    2. 按其办件编号上报补齐补正（T5-6，需补正材料与一次性补正告知书）。
    预期结果：步骤 2 返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）。

    A supplement report is taken (201) with a receipt for its message and case.
    """
    desk.ok(case, "T5-6", desk.supplement(case), "补齐补正")


@pytest.mark.clause("DB42.10.2.T5-7.1", "DB42.7.2.4.1", "PROFILE.PUSH.1")
def test_an_acceptance_report_carries_the_acceptance_notice(desk: Desk, case: Case) -> None:
    """上报办件受理信息（表5 序号7，§7.2.4 交互受理状态、意见并推送回执文书）：不带回执文书的受理上报以 400 拒绝、
    错误项指出 /notice；带受理通知书的受理上报返回 201 与回执。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 领用测试办件；
    2. 上报不带回执文书（notice）的受理信息（T5-7）；
    3. 上报带受理通知书的受理信息。
    预期结果：步骤 2 返回 400 与错误信封，错误项指出 notice；步骤 3 返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）。

    An acceptance report without its notice is refused (400, /notice); with the acceptance notice it is taken.
    """
    body = desk.acceptance(case)
    bare = {k: v for k, v in body.items() if k != "notice"}
    err = expect_error(
        desk.post(case, "T5-7", bare, valid=False), "T5-7", 400, f"不带回执文书的受理上报（办件 {case.case_no}）"
    )
    assert names_field(err, "notice"), (
        f"400 的错误项未指出 /notice：{err.get('errors')} / the errors do not name /notice"
    )
    desk.ok(case, "T5-7", body, "正式受理（带受理通知书）")


@pytest.mark.clause("DB42.10.2.T5-8.1", "DB42.7.2.5.b.2", "DB42.7.3.2.b.1", "PROFILE.PUSH.1", "DB42.7.1.4.1")
def test_step_reports_after_acceptance_are_taken(desk: Desk, case: Case) -> None:
    """上报办理环节信息（表5 序号8）：受理之后依次上报审查（审查意见）、决定、制证、发证环节的办理意见、环节结论与时间，
    每次返回 201 与回执，回执中的办件编号为推送时的办件编号。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 领用测试办件，上报正式受理（T5-7）；
    2. 依次上报审查通过、决定准予许可（带决定文书）、制证、发证环节（T5-8）。
    预期结果：每次上报都返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）。

    After acceptance, the review, decision, certification and issue steps are each taken with a receipt.
    """
    desk.walk(case, desk.granted(case, result=False))


@pytest.mark.clause("DB42.10.2.T5-8.1", "DB42.7.4.2.c.1", "PROFILE.PUSH.1")
def test_the_decision_step_carries_the_decision_document(desk: Desk, case: Case) -> None:
    """决定环节的办理环节上报（表5 序号8，§7.4.2 c)“交互决定环节状态与决定意见，推送决定文书”）：不带决定文书的决定环节上报
    以 400 拒绝、错误项指出 /decisionDocument；带准予许可决定书的决定环节上报返回 201 与回执。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 领用测试办件，上报正式受理（T5-7）与审查通过（T5-8）；
    2. 上报不带决定文书（decisionDocument）的决定环节（T5-8）；
    3. 上报带准予许可决定书的决定环节。
    预期结果：步骤 1 每次返回 201 与回执；步骤 2 返回 400 与错误信封，错误项指出 decisionDocument；步骤 3 返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）。

    The decision step's report without its decision document is refused (400, /decisionDocument); with it, taken.
    """
    plan = desk.granted(case, result=False)
    decide = next(i for i, (_, body, _) in enumerate(plan) if body.get("step") == "decide")
    desk.walk(case, plan[:decide])
    _, body, what = plan[decide]
    bare = {k: v for k, v in body.items() if k != "decisionDocument"}
    err = expect_error(
        desk.post(case, "T5-8", bare, valid=False), "T5-8", 400, f"不带决定文书的决定环节上报（办件 {case.case_no}）"
    )
    assert names_field(err, "decisionDocument"), (
        f"400 的错误项未指出 /decisionDocument：{err.get('errors')} / the errors do not name /decisionDocument"
    )
    desk.ok(case, "T5-8", body, f"{what}（带决定文书）")


@pytest.mark.clause("DB42.10.2.T5-10.1", "DB42.7.4.2.c.1", "DB42.7.2.5.b.2")
def test_a_granted_case_reports_its_result_with_the_decision_notice(desk: Desk, case: Case) -> None:
    """上报办件结果信息（表5 序号10，§7.4.2 c) 交互决定意见并推送决定文书）：准予许可的办件在发证之后上报办件结果
    （准予许可决定书、使用登记证编号、电子证照标识），返回 201 与回执。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 领用测试办件，上报正式受理（T5-7）；
    2. 依次上报审查通过、决定准予许可、制证、发证环节（T5-8）；
    3. 上报办件结果（T5-10）：准予许可决定书、使用登记证编号、电子证照标识。
    预期结果：每次上报都返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）。

    A granted case reports its result with the decision notice, registration number and e-licence id.
    """
    desk.walk(case, desk.granted(case))


@pytest.mark.clause("DB42.10.2.T5-10.1", "DB42.7.4.2.c.1")
def test_a_refused_case_reports_its_result_with_the_refusal_notice(desk: Desk, case: Case) -> None:
    """不予许可的办件（审查不通过、决定不予许可）同样上报办件结果（不予许可决定书），返回 201 与回执（“许可后”准予与
    不予许可均应上报）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 领用测试办件，上报正式受理（T5-7）；
    2. 依次上报审查不通过、决定不予许可环节（T5-8）；
    3. 上报办件结果（T5-10，不予许可决定书）。
    预期结果：每次上报都返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）。

    A refused case reports its result too, with the refusal notice.
    """
    desk.walk(case, desk.refusal(case))


@pytest.mark.clause("DB42.10.2.T5-9.1", "PROFILE.STATUS.3")
def test_a_special_procedure_is_reported_from_start_to_end(desk: Desk, case: Case) -> None:
    """上报特别程序信息（表5 序号9）：受理之前上报特别程序、受理后结束一个未开始的特别程序均以 409 STATE_CONFLICT 拒绝；
    审查环节中特别程序（现场核查）的开始与结束各返回 201 与回执；结束后审查环节照常上报（办件已恢复）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 受理之前上报特别程序开始（T5-9）；
    2. 上报正式受理（T5-7）；
    3. 上报结束未开始的特别程序（听证）；
    4. 上报特别程序（现场核查）开始与结束；
    5. 上报审查环节（T5-8）。
    预期结果：步骤 1、3 返回 409 与错误信封，错误代码为 STATE_CONFLICT；步骤 2、4、5 每次返回 201 与回执。

    Special procedures: refused before acceptance and when ended unstarted; start and end taken; the case resumes.
    """
    desk.refused(case, "T5-9", desk.special(case, "start"), "受理之前上报特别程序")
    desk.ok(case, "T5-7", desk.acceptance(case), "正式受理")
    desk.refused(case, "T5-9", desk.special(case, "end", "hearing"), "结束未开始的特别程序（听证）")
    desk.ok(case, "T5-9", desk.special(case, "start"), "特别程序开始（现场核查）")
    desk.ok(case, "T5-9", desk.special(case, "end"), "特别程序结束（现场核查）")
    desk.ok(case, "T5-8", desk.step(case, "review", "passed"), "特别程序结束后的审查环节")


# ---------------------------------------------------------------------------------- state order
@pytest.mark.clause("DB42.10.2.T5-10.1", "PROFILE.STATUS.3")
def test_a_result_before_acceptance_is_refused(desk: Desk, case: Case) -> None:
    """受理之前上报办件结果以 409 拒绝（错误代码 STATE_CONFLICT，中文说明），办件不变：随后的受理上报仍返回 201。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 受理之前上报办件结果（T5-10，准予许可）；
    2. 上报正式受理（T5-7）。
    预期结果：步骤 1 返回 409 与错误信封，错误代码为 STATE_CONFLICT；步骤 2 返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）。

    A result reported before acceptance is refused with 409 STATE_CONFLICT and changes nothing.
    """
    desk.refused(case, "T5-10", desk.result(case, "granted"), "受理之前上报办件结果")
    desk.ok(case, "T5-7", desk.acceptance(case), "被拒绝的结果之后正式受理")


@pytest.mark.clause("DB42.10.2.T5-8.1", "PROFILE.STATUS.3")
def test_a_step_before_acceptance_is_refused(desk: Desk, case: Case) -> None:
    """受理之前上报办理环节以 409 STATE_CONFLICT 拒绝，办件不变：随后受理与审查环节的上报各返回 201。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 受理之前上报审查环节（T5-8）；
    2. 上报正式受理（T5-7）；
    3. 再次上报审查环节。
    预期结果：步骤 1 返回 409 与错误信封，错误代码为 STATE_CONFLICT；步骤 2、3 各返回 201 与回执。

    A step reported before acceptance is refused with 409 STATE_CONFLICT and changes nothing.
    """
    desk.refused(case, "T5-8", desk.step(case, "review", "passed"), "受理之前上报审查环节")
    desk.ok(case, "T5-7", desk.acceptance(case), "正式受理")
    desk.ok(case, "T5-8", desk.step(case, "review", "passed"), "受理之后的审查环节")


@pytest.mark.clause("DB42.10.2.T5-7.1", "PROFILE.STATUS.3")
def test_a_case_is_accepted_once(desk: Desk, case: Case) -> None:
    """同一办件重复受理（新的消息标识）以 409 STATE_CONFLICT 拒绝，办件不变：随后审查环节的上报返回 201。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 上报正式受理（T5-7）；
    2. 以新的消息标识再次上报受理；
    3. 上报审查环节（T5-8）。
    预期结果：步骤 1、3 各返回 201 与回执；步骤 2 返回 409 与错误信封，错误代码为 STATE_CONFLICT。

    Accepting a case twice is refused with 409 STATE_CONFLICT; the case goes on.
    """
    desk.ok(case, "T5-7", desk.acceptance(case), "正式受理")
    desk.refused(case, "T5-7", desk.acceptance(case), "再次上报受理")
    desk.ok(case, "T5-8", desk.step(case, "review", "passed"), "审查环节")


@pytest.mark.clause("DB42.10.2.T5-7.1", "DB42.10.2.T5-6.1", "PROFILE.STATUS.3")
def test_a_case_not_accepted_ends(desk: Desk, case: Case) -> None:
    """不予受理（不予受理通知书）经受理上报返回 201，办件随之结束：此后的补齐补正、办理环节与办件结果上报均以 409 拒绝。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 上报不予受理（T5-7，不予受理通知书）；
    2. 上报补齐补正（T5-6）；
    3. 上报审查环节（T5-8）；
    4. 上报办件结果（T5-10，不予许可）。
    预期结果：步骤 1 返回 201 与回执；步骤 2–4 各返回 409 与错误信封，错误代码为 STATE_CONFLICT。

    A case not accepted ends: later supplement, step and result reports are refused with 409.
    """
    desk.ok(case, "T5-7", desk.acceptance(case, "not-accepted"), "不予受理")
    desk.refused(case, "T5-6", desk.supplement(case), "不予受理之后上报补齐补正")
    desk.refused(case, "T5-8", desk.step(case, "review", "passed"), "不予受理之后上报审查环节")
    desk.refused(case, "T5-10", desk.result(case, "refused"), "不予受理之后上报办件结果")


@pytest.mark.clause("DB42.7.5.2.3", "PROFILE.STATUS.3")
def test_the_exchange_with_the_platform_ends_with_the_result(desk: Desk, case: Case) -> None:
    """办结时应用系统与政务服务平台交互结束（§7.5.2）：办件结果（不予许可）上报之后，同一办件的补齐补正、受理、办理环节、
    特别程序上报和不同的办件结果（准予许可）都以 409 STATE_CONFLICT 拒绝。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 依次上报正式受理（T5-7）、审查不通过与决定不予许可（T5-8）、办件结果不予许可（T5-10）；
    2. 上报补齐补正（T5-6）、受理（T5-7）、制证环节（T5-8）、特别程序开始（T5-9）；
    3. 上报不同的办件结果（T5-10，准予许可）。
    预期结果：步骤 1 每次返回 201 与回执；步骤 2、3 的每次上报返回 409 与错误信封，错误代码为 STATE_CONFLICT。

    After the result the exchange ends: every further report on the case is refused with 409.
    """
    desk.walk(case, desk.refusal(case))
    desk.refused(case, "T5-6", desk.supplement(case), "办结之后上报补齐补正")
    desk.refused(case, "T5-7", desk.acceptance(case), "办结之后上报受理")
    desk.refused(case, "T5-8", desk.step(case, "certify", "certified"), "办结之后上报制证环节")
    desk.refused(case, "T5-9", desk.special(case, "start"), "办结之后上报特别程序")
    desk.refused(case, "T5-10", desk.result(case, "granted"), "结果已上报后再报不同的结果")


# ---------------------------------------------------------------------------------- idempotency
@pytest.mark.clause("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2")
def test_a_repeated_report_gets_its_first_receipt(desk: Desk, case: Case) -> None:
    """同一消息标识、相同内容的重复上报（重传）：受理、各环节、特别程序开始与结束、办件结果逐一重发，每次返回 200 与首次回执
    （消息标识、办件编号、接收时间相同，duplicate=true），不作为新消息处理（重发的受理不被当作重复受理，办件照常推进）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 依次上报正式受理（T5-7）、特别程序开始与结束（T5-9）、审查、决定、制证、发证环节（T5-8）与办件结果（T5-10）；
    2. 每次上报之后立即以同一消息标识、相同内容重发该上报。
    预期结果：每次首次上报返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）；每次重发返回 200 与回执（duplicate 为 true），消息标识、办件编号与接收时间同首次回执。

    Every report sent twice gets 200 and its first receipt (duplicate=true) and is not processed again.
    """
    plan = desk.granted(case, result=False)
    plan[1:1] = [
        ("T5-9", desk.special(case, "start"), "特别程序开始"),
        ("T5-9", desk.special(case, "end"), "特别程序结束"),
    ]
    plan.append(("T5-10", desk.result(case, "granted"), "办件结果"))
    for interface, body, what in plan:
        first = desk.ok(case, interface, body, what)
        again = check_receipt(
            desk.post(case, interface, body), interface, body, 200, f"重发{what}（{interface}，同一消息标识）"
        )
        same = {
            k: (first.get(k), again.get(k))
            for k in ("messageId", "caseNo", "receivedAt")
            if first.get(k) != again.get(k)
        }
        assert not same, (
            f"重发{what}的回执与首次回执不同：{same}（应返回原回执） / the repeat's receipt differs from the first"
        )


@pytest.mark.clause("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2")
def test_a_repeated_supplement_gets_its_first_receipt(desk: Desk, case: Case) -> None:
    """补齐补正上报的重传：同一消息标识、相同内容再次上报返回 200 与首次回执（接收时间相同，duplicate=true）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 上报补齐补正（T5-6）；
    2. 以同一消息标识、相同内容重发。
    预期结果：步骤 1 返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）；步骤 2 返回 200 与回执（消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 true），接收时间同首次回执。

    A repeated supplement report gets 200 and its first receipt.
    """
    body = desk.supplement(case)
    first = desk.ok(case, "T5-6", body, "补齐补正")
    again = check_receipt(desk.post(case, "T5-6", body), "T5-6", body, 200, "重发补齐补正（同一消息标识）")
    assert again["receivedAt"] == first["receivedAt"], (
        f"重发的回执接收时间 {again['receivedAt']} 不是首次的 {first['receivedAt']} / "
        f"the repeat does not get the first receipt"
    )


@pytest.mark.clause("PROFILE.PUSH.2", "PROFILE.STATUS.3")
def test_a_message_id_reused_for_other_content_is_refused(desk: Desk, case: Case) -> None:
    """同一消息标识、不同内容的上报以 409 拒绝，错误代码为 DUPLICATE（或 CONFLICT，不是 STATE_CONFLICT）；原消息不受影响：
    原样重发仍得到首次回执，办件照常推进（审查环节 201）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 上报正式受理（T5-7）；
    2. 以同一消息标识、改过办理意见的内容再次上报受理；
    3. 原样重发步骤 1 的上报；
    4. 上报审查环节（T5-8）。
    预期结果：步骤 1 返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）；步骤 2 返回 409 与错误信封，错误代码为 DUPLICATE 或 CONFLICT；步骤 3 返回 200 与回执（duplicate 为 true），接收时间同首次回执；步骤 4 返回 201 与回执。

    The same message id with other content is 409 DUPLICATE; the first message and the case are unchanged.
    """
    body = desk.acceptance(case)
    first = desk.ok(case, "T5-7", body, "正式受理")
    other = {**body, "opinion": body["opinion"] + "（内容已改）"}
    desk.refused(case, "T5-7", other, "同一消息标识、不同内容的受理上报", DUPLICATE_CODES)
    again = check_receipt(desk.post(case, "T5-7", body), "T5-7", body, 200, "原样重发受理上报")
    assert again["receivedAt"] == first["receivedAt"], "原消息的回执被改变 / the first receipt changed"
    desk.ok(case, "T5-8", desk.step(case, "review", "passed"), "审查环节")


# ---------------------------------------------------------------------------------- case number, message id
@pytest.mark.clause("DB42.7.1.4.1", "DB42.10.2.T5-7.1")
def test_reports_are_matched_by_the_platforms_case_number(desk: Desk, case: Case) -> None:
    """办件编码（办件编号）：平台不认识的办件编号的上报返回 404（NOT_FOUND）；路径与请求体的办件编号不一致返回 400、
    错误项指出 /caseNo；按推送时的办件编号上报返回 201，回执中的办件编号即该编号。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 以本工具新生成的办件编号（平台不认识）上报受理（T5-7）；
    2. 路径为测试办件的编号、请求体（含回执文书）为新生成的编号，上报受理；
    3. 按测试办件的编号上报受理。
    预期结果：步骤 1 返回 404 与错误信封，错误代码为 NOT_FOUND；步骤 2 返回 400 与错误信封，错误项指出 caseNo；步骤 3 返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false），回执的办件编号（有时）即测试办件的编号。

    Reports are matched by case number: unknown 404, path/body mismatch 400 (/caseNo), the right number 201.
    """
    unknown = new_case_no()
    stray = Case(unknown, case.item, case.authority)
    body = desk.acceptance(stray)
    r = desk.client.post(path_of("T5-7", caseNo=unknown), body)
    expect_error(r, "T5-7", 404, f"对不存在的办件 {unknown} 上报受理", (ErrorCode.NOT_FOUND,))
    good = desk.acceptance(case)
    mixed = {**good, "caseNo": unknown, "notice": {**good["notice"], "caseNo": unknown}}
    err = expect_error(
        desk.post(case, "T5-7", mixed), "T5-7", 400, f"路径为 {case.case_no}、请求体为 {unknown} 的受理上报"
    )
    assert names_field(err, "caseNo"), (
        f"400 的错误项未指出 /caseNo：{err.get('errors')} / the errors do not name /caseNo"
    )
    receipt = desk.ok(case, "T5-7", good, "按推送时的办件编号正式受理")
    assert receipt.get("caseNo", case.case_no) == case.case_no


@pytest.mark.clause("PROFILE.PUSH.1")
def test_a_report_without_a_valid_message_id_is_refused(desk: Desk, case: Case) -> None:
    """上报须携带消息标识（8–64 位字母数字及 _.:-）：缺少消息标识或消息标识过短的上报以 400 拒绝、错误项指出 /messageId，
    办件不变（随后的正式上报返回 201）。

    前置条件：目标文件有 [clients.licensing-system]（缺少时本项未测）；一件新的测试办件：平台推送给测试工具所模拟许可系统（[simulators] 中 licensing）的申请（T5-5），或测试工具以 [clients.gov-platform] 推送给目标文件许可系统的新申请；得不到办件或平台在 [thresholds] gov_case_visible_s 内不认识该办件（404）时本项未测。
    测试步骤：
    1. 上报不带消息标识（messageId）的受理信息（T5-7）；
    2. 上报消息标识为“m1”（过短）的受理信息；
    3. 上报带有效消息标识的受理信息。
    预期结果：步骤 1、2 各返回 400 与错误信封，错误项指出 messageId；步骤 3 返回 201 与回执（符合回执结构，消息标识为所上报的，带办件编号时亦为所上报的，duplicate 为 false）。

    A report without a message id, or with a malformed one, is refused with 400 naming /messageId.
    """
    body = desk.acceptance(case)
    for label, bad in (
        ("缺少消息标识", {k: v for k, v in body.items() if k != "messageId"}),
        ("消息标识过短", {**body, "messageId": "m1"}),
    ):
        err = expect_error(desk.post(case, "T5-7", bad, valid=False), "T5-7", 400, f"{label}的受理上报")
        assert names_field(err, "messageId"), (
            f"{label}：400 的错误项未指出 /messageId：{err.get('errors')} / /messageId not named"
        )
    desk.ok(case, "T5-7", body, "带消息标识的受理上报")
