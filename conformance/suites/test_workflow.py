"""Licence items (DB42/T 2279-2024 §5, Table 1) and the licensing workflow (§6–§7, §8, Annex A).

*Items* need only the T5-5 push: every item of Table 1 is accepted (profile quick: a sample per
group; standard: up to three; certification: all 114), every other code is refused with 400
naming ``/itemCode``, and an item whose equipment is not of the item's group is refused.

*Workflow* needs the optional workflow driver (``workflow-driver.yaml``; without it these tests are
未测: the driver is a means of testing, the clauses they decide bind every licensing system). The suite pushes its own applications (fresh applicants, unique case numbers and message
ids) and drives them with the officers' tokens (``[clients.officer-<post>]`` in the target file, one
per post of roles.json). Two kinds of walk feed one record of findings per clause
(:class:`~conformance.suites.support.workflow.Findings`):

* scripted walks that take every outcome once: 补齐补正 twice (by 形式审查 and by 受理) with the
  re-submissions, 正式受理, 审查通过 / 不通过, 准予 / 不予许可, 制证, 发证, 办结, 预归档退回 (when the
  target declares ``pre-archive-return``) and 通过, 归档; and a 不予受理 (offline channel);
* a Hypothesis ``RuleBasedStateMachine`` that opens cases for random items and walks them with
  random outcomes and posts, and before every step tries the step with a post that may not give
  that outcome (403 expected) and a step that is not pending (409 expected), each time checking
  that nothing changed. Bounded by profile (quick: 4 walks). The seed is printed and recorded
  with a failing verdict; ``TZSB_HYPOTHESIS_SEED`` replays it.

Each test below then judges one clause from the findings: it fails with every problem recorded
for its clause, and is 未测 when the walks never reached a situation that checks it. The refused and
returned paths (不予受理, 补齐补正, 不予许可, 预归档退回, 归档), with every step that must then be refused,
are walked deterministically in ``test_workflow_refusals.py``, not left to the random walks.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from conformance.datagen.licensing import (
    GRANTED,
    REFUSED,
    application,
    authority_of,
    groups,
    items,
    new_applicant,
    new_case_no,
    varieties,
)
from conformance.suites.support.workflow import (
    CASE_NO,
    DRIVER,
    EQUIPMENT_CODE,
    HISTORY,
    NINE_STEPS,
    OUT_OF_ORDER,
    PRE_ARCHIVE_RETURN,
    REGISTRATION_NO,
    RESUBMIT,
    WRONG_ROLE,
    Desk,
    Findings,
    Problems,
    Violation,
    Walker,
    allowed_roles,
    brief,
    data_of,
    error_paths,
    group_clause,
    operations,
    pending,
    role_clause,
    role_codes,
    run_seed,
    run_walk,
    step_codes,
    steps,
    walk_outcomes,
)

pytestmark = [pytest.mark.role("licensing")]

ITEM_PATH = "/itemCode"
CATALOGUE_PATH = "/equipment/catalogueCode"
#: Per profile: items pushed per group, Hypothesis walks, steps per walk.
ITEMS_PER_GROUP = {"quick": 1, "standard": 3, "certification": None}
WALKS = {"quick": 4, "standard": 12, "certification": 50}
WALK_STEPS = {"quick": 25, "standard": 40, "certification": 60}


def _profile(target: Any) -> str:
    return target.profile if target.profile in WALKS else "quick"


def _chinese(resp: Any) -> bool:
    body = resp.json()
    message = body.get("message") if isinstance(body, dict) else None
    return isinstance(message, str) and any("\u4e00" <= ch <= "\u9fff" for ch in message)


def _gaps(group: str) -> list[str]:
    """Codes of a known group and a known operation that Table 1 does not list (压力管道 迁出 …)."""
    return [f"01100000-{group}-{op}" for op in operations() if f"01100000-{group}-{op}" not in items()]


# ---------------------------------------------------------------------------------- §5 items
@pytest.fixture(scope="module")
def seed() -> int:
    """One seed per module run (``TZSB_HYPOTHESIS_SEED`` replays it): the items sampled and the walks."""
    return run_seed()


@pytest.fixture(scope="module")
def desk(tzsb_client: Any) -> Desk:
    return Desk(tzsb_client)


@pytest.fixture(scope="module")
def authority(tzsb_target: Any) -> dict[str, Any]:
    return authority_of(tzsb_target)


def _push_item(
    desk: Desk, authority: dict[str, Any], item: str, rng: random.Random, *, catalogue: str | None = None
) -> tuple[str, Any]:
    group = item.split("-")[1]
    if catalogue is None:
        catalogue = rng.choice(varieties(group)) if group in groups() else "3110"
    case_no = new_case_no()
    body = application(
        case_no,
        item if item in items() else "01100000-03-01",
        new_applicant(rng),
        authority,
        rng=rng,
        catalogue=catalogue,
    )
    body["itemCode"] = item
    if item not in items():
        body.pop("itemName", None)
    return case_no, desk.push(body)


def _not_created(desk: Desk, target: Any, case_no: str) -> str | None:
    """When the driver is there: a refused application must not have produced a case."""
    if DRIVER not in target.features:
        return None
    r = desk.state(case_no)
    return None if r.status == 404 else f"被拒绝的申请仍生成了办件 {case_no}：{brief(r)}"


@pytest.mark.parametrize(
    "group", [pytest.param(g, marks=pytest.mark.clause("DB42.5.1", group_clause(g)), id=g) for g in sorted(groups())]
)
def test_items_of_the_group_are_accepted(
    group: str, desk: Desk, authority: dict[str, Any], tzsb_target: Any, seed: int
) -> None:
    """表1 的办理项（按设备组）：申请推送（T5-5）被接收（201），回执带同一办件编号。quick 每组随机抽一项（种子见
    TZSB_HYPOTHESIS_SEED），standard 三项，certification 全部。

    前置条件：受理机关取自目标文件 [thresholds] licensing_authority_name/uscc/division（未给时用默认机关）；以
    [credentials] 推送；申请人、办件编号与设备品种新生成。
    测试步骤：
    1. 从 licence-items.json 取该设备组的全部办理项，按档位抽取（quick 每组 1 项、standard 3 项、certification 全部，
       抽样由运行种子决定）；
    2. 对每一项以新办件编号、新生成的申请人推送申请（pushApplication，T5-5），设备品种取该组的随机品种。
    预期结果：每次推送返回 201，data 为对象，其中的办件编号（有时）与推送的相同。
    """
    codes = sorted(c for c, it in items().items() if it["group"] == group)
    if len(codes) != groups()[group]["count"]:
        raise RuntimeError(
            f"licence-items.json: group {group} lists {len(codes)} items, its count says {groups()[group]['count']}"
        )
    n = ITEMS_PER_GROUP[_profile(tzsb_target)]
    rng = random.Random(f"{seed}:{group}")
    sample = codes if n is None or n >= len(codes) else sorted(rng.sample(codes, n))
    problems = Problems(desk)
    for code in sample:
        case_no, r = _push_item(desk, authority, code, rng)
        data = data_of(r)
        if r.status != 201 or not isinstance(data, dict):
            problems.add(f"{code}（{items()[code]['name']}）：应 201，实为 {brief(r)}")
        elif data.get("caseNo") not in (None, case_no):
            problems.add(f"{code}：回执中的办件编号 {data.get('caseNo')!r} 不是 {case_no}")
    problems.verdict()


@pytest.mark.parametrize(
    "group",
    [
        pytest.param(g, marks=pytest.mark.clause("DB42.5.2", group_clause(g)), id=g)
        for g in sorted(groups())
        if _gaps(g)
    ],
)
def test_operations_the_group_does_not_have_are_refused(
    group: str, desk: Desk, authority: dict[str, Any], tzsb_target: Any
) -> None:
    """设备组没有的办理类型（如压力管道迁出、气瓶移装）不是表1的办理项：400，错误指向 /itemCode，中文说明，不生成办件。

    前置条件：受理机关取自目标文件 [thresholds] licensing_authority_name/uscc/division（未给时用默认机关）；以
    [credentials] 推送；申请人与办件编号新生成；仅对有此类办理类型的设备组测试。
    测试步骤：
    1. 列出该组在 licence-items.json 中没有的办理类型代码 01100000-<组>-<办理类型>；
    2. 对每个代码以新办件编号、新生成的申请人推送申请（pushApplication，T5-5），itemCode 取该代码（去掉 itemName），设
       备品种取该组的品种；
    3. 目标声明 workflow-driver 时，以该办件编号查询状态（getCaseState）。
    预期结果：推送返回 400，errors[].path 含 /itemCode，message 含中文说明；声明 workflow-driver 时状态查询返回
    404（未生成办件）。
    """
    rng = random.Random(secrets.randbits(32))
    problems = Problems(desk)
    for code in _gaps(group):
        case_no, r = _push_item(desk, authority, code, rng)
        op = operations()[code.split("-")[2]]["name"]
        if r.status != 400 or ITEM_PATH not in error_paths(r.json()) or not _chinese(r):
            problems.add(
                f"{code}（{groups()[group]['equipment']} {op}）：应 400 且 errors[].path 含 {ITEM_PATH}、中文说明，实为 {brief(r)}"
            )
        elif (why := _not_created(desk, tzsb_target, case_no)) is not None:
            problems.add(why)
    problems.verdict()


#: Structurally valid codes that name no item of Table 1: an unknown group, an unknown operation, zeros,
#: another item prefix.
ABSENT = ("01100000-11-01", "01100000-01-14", "01100000-00-01", "01100000-03-00", "01100001-03-01")


@pytest.mark.clause("DB42.5.2")
def test_items_not_in_table_1_are_refused(desk: Desk, authority: dict[str, Any], tzsb_target: Any) -> None:
    """表1 以外的事项办理项（压力管道迁出 01100000-07-04 与结构合法但不存在的代码）被拒绝：400，指向 /itemCode，不生成办件。

    前置条件：受理机关取自目标文件 [thresholds] licensing_authority_name/uscc/division（未给时用默认机关）；以
    [credentials] 推送；申请人与办件编号新生成。
    测试步骤：
    1. 以 01100000-07-04 与结构合法但不存在的代码（01100000-11-01、01100000-01-14、01100000-00-01、01100000-03-00、
       01100001-03-01）为 itemCode，各以新办件编号、新生成的申请人推送申请（pushApplication，T5-5）（去掉 itemName）；
    2. 目标声明 workflow-driver 时，以该办件编号查询状态（getCaseState）。
    预期结果：推送返回 400，errors[].path 含 /itemCode，message 含中文说明；声明 workflow-driver 时状态查询返回
    404（未生成办件）。
    """
    rng = random.Random(secrets.randbits(32))
    problems = Problems(desk)
    for code in ("01100000-07-04", *ABSENT):
        case_no, r = _push_item(desk, authority, code, rng)
        if r.status != 400 or ITEM_PATH not in error_paths(r.json()) or not _chinese(r):
            problems.add(f"{code}：应 400 且 errors[].path 含 {ITEM_PATH}、中文说明，实为 {brief(r)}")
        elif (why := _not_created(desk, tzsb_target, case_no)) is not None:
            problems.add(why)
    problems.verdict()


@pytest.mark.clause("DB42.5.2")
def test_an_item_that_does_not_fit_the_equipment_is_refused(
    desk: Desk, authority: dict[str, Any], tzsb_target: Any
) -> None:
    """办理项与设备品种不符（电梯办理项申请压力容器、压力容器办理项申请气瓶）：400，不生成办件。

    前置条件：受理机关取自目标文件 [thresholds] licensing_authority_name/uscc/division（未给时用默认机关）；以
    [credentials] 推送；申请人与办件编号新生成。
    测试步骤：
    1. 以新办件编号、新生成的申请人推送申请（pushApplication，T5-5）：电梯办理项 01100000-03-01 配压力容器（02 组）的
       品种，压力容器办理项 01100000-02-01 配气瓶（08 组）的品种；
    2. 目标声明 workflow-driver 时，以该办件编号查询状态（getCaseState）。
    预期结果：推送返回 400，errors[].path 含 /itemCode 或 /equipment/catalogueCode；声明 workflow-driver 时状态查询返
    回 404（未生成办件）。
    """
    rng = random.Random(secrets.randbits(32))
    problems = Problems(desk)
    for code, catalogue in (("01100000-03-01", varieties("02")[0]), ("01100000-02-01", varieties("08")[0])):
        case_no, r = _push_item(desk, authority, code, rng, catalogue=catalogue)
        paths = error_paths(r.json())
        if r.status != 400 or not ({ITEM_PATH, CATALOGUE_PATH} & set(paths)):
            problems.add(
                f"{code} 配设备品种 {catalogue}：应 400 且指向 {ITEM_PATH} 或 {CATALOGUE_PATH}，实为 {brief(r)}"
            )
        elif (why := _not_created(desk, tzsb_target, case_no)) is not None:
            problems.add(why)
    problems.verdict()


# ---------------------------------------------------------------------------------- §6–§8 walks
def _granted_with_loops(walker: Walker, rng: random.Random, with_return: bool) -> None:
    item = rng.choice(sorted(items()))
    case = walker.open(item, new_applicant(rng), rng=rng)
    walker.perform(case, "accept", "correction", "formal-review")
    walker.resubmit(case)
    walker.perform(case, "accept", "correction", "accept")
    walker.resubmit(case)
    path = list(GRANTED)
    if with_return:  # after 办结
        path[6:6] = [("pre-archive", "returned"), ("conclude", "concluded")]
    for step, outcome in path:
        walker.perform(case, step, outcome, allowed_roles(step, outcome)[0])
    order = list(dict.fromkeys(s for s, _, _ in case.performed))
    walker.findings.expect(
        NINE_STEPS,
        order == list(step_codes()),
        f"准予许可的办件经过的步骤为 {order}，应依次为 {list(step_codes())}（§6）",
    )
    r = walker.desk.history(case.case_no)
    entries = data_of(r)
    recorded = (
        list(dict.fromkeys(e.get("step") for e in entries if isinstance(e, dict)))
        if isinstance(entries, list)
        else None
    )
    walker.findings.expect(
        NINE_STEPS,
        recorded == list(step_codes()),
        f"办理记录查询（{brief(r)[:60]}）中的步骤为 {recorded}，应依次为九个步骤 {list(step_codes())}",
    )
    stages = {steps()[s]["stage"] for s in order}
    walker.findings.expect(
        NINE_STEPS, len(stages) == 5, f"办件经过的环节为 {sorted(stages)}，应为申请、受理、审查、决定、归档五个环节"
    )


def _refused(walker: Walker, rng: random.Random) -> None:
    case = walker.open(rng.choice(sorted(items())), new_applicant(rng), rng=rng)
    for step, outcome in REFUSED:
        walker.perform(case, step, outcome, allowed_roles(step, outcome)[0])


def _not_accepted(walker: Walker, rng: random.Random) -> None:
    case = walker.open(rng.choice(sorted(items())), new_applicant(rng), rng=rng, channel="offline")
    walker.perform(case, "accept", "not-accepted", allowed_roles("accept", "not-accepted")[0])
    walker.probe_out_of_order(case, "review")


def _machine(walker: Walker, findings: Findings, with_return: bool, all_wrong: bool) -> type[RuleBasedStateMachine]:
    item_codes = sorted(items())

    class WorkflowWalk(RuleBasedStateMachine):
        """Random cases walked with random outcomes and posts; every step first tried by a wrong post and out of order."""

        def __init__(self) -> None:
            super().__init__()
            self.cases: list[Any] = []
            self.poked: set[str] = set()
            self.soft = findings.soft_failures

        def live(self) -> list[Any]:
            return [c for c in self.cases if not c.ended]

        def unpoked(self) -> list[Any]:
            return [c for c in self.cases if c.ended and c.case_no not in self.poked]

        @precondition(lambda self: len(self.live()) < 2)
        @rule(
            item=st.sampled_from(item_codes), channel=st.sampled_from(("online", "offline")), seed=st.integers(0, 2**31)
        )
        def open_case(self, item: str, channel: str, seed: int) -> None:
            rng = random.Random(seed)
            self.cases.append(walker.open(item, new_applicant(rng), rng=rng, channel=channel))

        @precondition(lambda self: bool(self.live()))
        @rule(data=st.data())
        def advance(self, data: st.DataObject) -> None:
            live = self.live()
            case = live[data.draw(st.integers(0, len(live) - 1), label="case")]
            due = pending(case.state)
            if due == "apply":
                walker.resubmit(case)
                return
            outcome = data.draw(st.sampled_from(walk_outcomes(due, with_return=with_return)), label="outcome")
            role = data.draw(st.sampled_from(allowed_roles(due, outcome)), label="post")
            wrong = walker.wrong_roles(due, outcome)
            if wrong:
                for w in wrong if all_wrong else [data.draw(st.sampled_from(wrong), label="wrong post")]:
                    walker.probe_wrong_role(case, due, outcome, w)
            walker.probe_out_of_order(
                case, data.draw(st.sampled_from(walker.illegal_steps(case)), label="step out of order")
            )
            walker.perform(case, due, outcome, role)

        @precondition(lambda self: bool(self.unpoked()))
        @rule(data=st.data())
        def poke_ended_case(self, data: st.DataObject) -> None:
            case = self.unpoked()[0]
            self.poked.add(case.case_no)
            walker.probe_out_of_order(case, data.draw(st.sampled_from(walker.illegal_steps(case)), label="step"))

        @invariant()
        def no_recorded_failure(self) -> None:
            if findings.soft_failures > self.soft and findings.last_soft is not None:
                clauses, message = findings.last_soft
                raise Violation(clauses, message)

    return WorkflowWalk


def _violation_in(exc: BaseException) -> Violation | None:
    if isinstance(exc, Violation):
        return exc
    for inner in getattr(exc, "exceptions", ()) or ():
        found = _violation_in(inner)
        if found is not None:
            return found
    cause = exc.__cause__ or exc.__context__
    return _violation_in(cause) if cause is not None and cause is not exc else None


@pytest.fixture(scope="module")
def walks(tzsb_client: Any, tzsb_target: Any, seed: int) -> Findings:
    """Scripted walks, then the Hypothesis state machine; the findings of both, by clause."""
    desk = Desk(tzsb_client).all_officers()
    findings = Findings(seed=seed)
    profile = _profile(tzsb_target)
    with_return = PRE_ARCHIVE_RETURN in tzsb_target.features
    walker = Walker(desk, findings, authority_of(tzsb_target))
    rng = random.Random(seed)
    run_walk(findings, "准予许可（两次补齐补正、预归档退回）", lambda: _granted_with_loops(walker, rng, with_return))
    run_walk(findings, "不予许可", lambda: _refused(walker, rng))
    run_walk(findings, "不予受理（线下）", lambda: _not_accepted(walker, rng))

    machine = hypothesis_seed(seed)(_machine(walker, findings, with_return, profile == "certification"))
    phases = [Phase.explicit, Phase.generate] + ([] if profile == "quick" else [Phase.shrink])
    print(f"Hypothesis seed: {seed}")
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=WALKS[profile],
                stateful_step_count=WALK_STEPS[profile],
                deadline=None,
                database=None,
                phases=phases,
                report_multiple_bugs=False,
                print_blob=False,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except Exception as exc:
        violation = _violation_in(exc)
        if violation is None:
            raise
        notes = "\n".join(getattr(exc, "__notes__", []) or getattr(violation, "__notes__", []) or [])
        findings.record(violation, f"Hypothesis 状态机（seed {seed}）：\n{notes}".strip())
        findings.aborted.append(f"随机走查中止（seed {seed}）：{violation.detail[:200]}")
    return findings


driver = pytest.mark.feature(DRIVER)


@driver
@pytest.mark.clause(*NINE_STEPS, "PROFILE.WORKFLOW.1")
def test_a_case_passes_five_stages_in_nine_steps(walks: Findings, request: pytest.FixtureRequest) -> None:
    """准予许可的办件依次经过九个步骤（申请…归档）、五个环节，每一步由对应岗位执行成功，读回的状态与 workflow.json 一致。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；受理机关取自目标文件
    [thresholds] licensing_authority_*（未给时用默认机关）；事项、申请人与随机走查由本次运行的种子生成
    （TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：每次推送返回 201（补正后再次推送 200 或 201），每次执行返回 200，其后状态查询返回 200、符合
    workflow.schema.json caseState，办件处于 workflow.json 规定的状态（state、currentStep、ended，suspended 为
    false）；准予许可的办件依次经过 workflow.json 的全部九个步骤，办理记录查询中的步骤依次相同，所经步骤属申请、受理、
    审查、决定、归档五个环节。
    """
    walks.judge(request, *NINE_STEPS)


OUTCOME_TESTS = [
    ("DB42.7.2.2.a.1", "正式受理：办件转入审查（已受理待审查）"),
    ("DB42.7.2.2.a1.1", "补齐补正：办件退回申请（待补齐补正）"),
    ("DB42.7.2.2.a2.1", "不予受理：办件结束"),
    ("DB42.7.2.3.a.1", "正式受理生成受理通知书"),
    ("DB42.7.2.3.a1.1", "补齐补正生成一次性补正告知书"),
    ("DB42.7.2.3.a2.1", "不予受理生成不予受理通知书"),
    ("DB42.7.3.2.a.1", "审查通过与不通过都转入决定"),
    ("DB42.7.4.2.a.1", "准予许可：生成准予许可决定书，转入制证"),
    ("DB42.7.4.2.b.1", "不予许可：生成不予许可决定书，转入办结"),
    ("DB42.7.5.4.1", "预归档通过：进入编目（已编目待归档）"),
    ("DB42.7.5.4.2", "预归档退回：回到办结（拟成卷），再次办结后可再预归档"),
]


@driver
@pytest.mark.parametrize(
    "clause",
    [
        pytest.param(
            cid,
            marks=[pytest.mark.clause(cid)]
            + ([pytest.mark.feature(PRE_ARCHIVE_RETURN)] if cid == "DB42.7.5.4.2" else []),
            id=cid,
        )
        for cid, _ in OUTCOME_TESTS
    ],
)
def test_each_outcome_leads_where_workflow_json_says(
    clause: str, walks: Findings, request: pytest.FixtureRequest
) -> None:
    """每个结论之后办件的状态与待办步骤符合 workflow.json，并生成该结论的文书（notice.schema.json 的文书种类）。

    前置条件：预归档退回（DB42.7.5.4.2）另需可选特性 pre-archive-return（未声明时不适用）；目标声明流程驱动特性
    workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端 [clients.officer-<岗位>]（缺少时
    未测），以 [credentials] 推送与查询；受理机关取自目标文件 [thresholds] licensing_authority_*（未给时用默认机关）；
    事项、申请人与随机走查由本次运行的种子生成（TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本
    项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：给出该条款的结论（见各参数：正式受理、补齐补正、不予受理、审查通过/不通过、准予/不予许可、预归档通过/退
    回）时，允许的岗位执行返回 200，其后办件的状态、待办步骤与办结标志符合 workflow.json；产生文书的结论（受理通知书、
    一次性补正告知书、不予受理通知书、准予许可决定书、不予许可决定书）之后，文书查询中有该种类的新文书，符合
    notice.schema.json，出具机关为申请的受理机关。
    """
    walks.judge(request, clause)


@driver
@pytest.mark.clause(*OUT_OF_ORDER)
def test_steps_out_of_order_are_refused(walks: Findings, request: pytest.FixtureRequest) -> None:
    """不是待办的步骤（如未决定即制证、未办结即归档、已结束的办件）以 409 拒绝，办件状态与记录不变。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；受理机关取自目标文件
    [thresholds] licensing_authority_*（未给时用默认机关）；事项、申请人与随机走查由本次运行的种子生成
    （TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：每个非待办步骤（含已结束办件上的步骤）由其允许的岗位执行时返回 409，其后状态查询返回 200，办件状态与办理
    记录条数不变。
    """
    walks.judge(request, *OUT_OF_ORDER)


@driver
@pytest.mark.clause(*WRONG_ROLE)
def test_a_post_that_may_not_give_the_outcome_is_refused(walks: Findings, request: pytest.FixtureRequest) -> None:
    """以不承担该职责的岗位执行步骤（roles.json、workflow.json）以 403 拒绝，办件状态与记录不变。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；受理机关取自目标文件
    [thresholds] licensing_authority_*（未给时用默认机关）；事项、申请人与随机走查由本次运行的种子生成
    （TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：不可给出该结论的岗位执行待办步骤时返回 403，其后状态查询返回 200，办件状态与办理记录条数不变。
    """
    walks.judge(request, *WRONG_ROLE)


@driver
@pytest.mark.parametrize(
    "role", [pytest.param(r, marks=pytest.mark.clause("DB42.8.1", role_clause(r)), id=r) for r in role_codes()]
)
def test_each_post_performs_its_steps(role: str, walks: Findings, request: pytest.FixtureRequest) -> None:
    """附录A的每个岗位都能执行其步骤（形式审查：补齐补正建议；受理：三种受理结论；审查；决定与办结；制证发证；预归档与归档）。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；受理机关取自目标文件
    [thresholds] licensing_authority_*（未给时用默认机关）；事项、申请人与随机走查由本次运行的种子生成
    （TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：该岗位（参数）执行其允许的步骤与结论时均返回 200，其后办件处于 workflow.json 规定的状态。
    """
    walks.judge(request, role_clause(role))


@driver
@pytest.mark.clause(*RESUBMIT)
def test_a_resubmission_after_correction_resumes_the_case(walks: Findings, request: pytest.FixtureRequest) -> None:
    """补齐补正后以同一办件编号、新的 messageId 再次推送（T5-5）被接收，办件回到受理环节（不新建办件）。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；受理机关取自目标文件
    [thresholds] licensing_authority_*（未给时用默认机关）；事项、申请人与随机走查由本次运行的种子生成
    （TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：补齐补正后以同一办件编号、新的 messageId 再次推送返回 200 或 201 且带 data，其后状态查询返回 200、符合
    caseState，办件为“已申报待受理”（待办受理，未办结、未中止）。
    """
    walks.judge(request, *RESUBMIT)


@driver
@pytest.mark.clause(*CASE_NO)
def test_the_case_number_stays_the_same(walks: Findings, request: pytest.FixtureRequest) -> None:
    """推送回执、每次状态读回和每份文书使用推送时的办件编号。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；受理机关取自目标文件
    [thresholds] licensing_authority_*（未给时用默认机关）；事项、申请人与随机走查由本次运行的种子生成
    （TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：推送回执中的办件编号为空或与推送的相同；每次状态查询中的 caseNo 与推送的相同；每份新文书的 caseNo 与推送
    的相同。
    """
    walks.judge(request, *CASE_NO)


@driver
@pytest.mark.feature("step-records")
@pytest.mark.clause(*HISTORY)
def test_every_step_records_operator_time_and_opinion(walks: Findings, request: pytest.FixtureRequest) -> None:
    """每一步在办理记录中留下一条：步骤、结论、经办人与岗位、带时区的办理时间（不倒流）、办理意见。

    前置条件：目标声明可选特性 step-records（未声明时不适用）；目标声明流程驱动特性
    workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端 [clients.officer-<岗位>]（缺少时
    未测），以 [credentials] 推送与查询；受理机关取自目标文件 [thresholds] licensing_authority_*（未给时用默认机关）；
    事项、申请人与随机走查由本次运行的种子生成（TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本
    项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：每次推送或执行之后，办理记录新增该步骤/结论的一条；执行的步骤其经办人姓名、岗位与办理意见与请求中的相
    同；每条都有办理意见，办理时间为带时区的 GB/T 7408 日期时间且不早于前一条。
    """
    walks.judge(request, *HISTORY)


@driver
@pytest.mark.clause(*EQUIPMENT_CODE)
def test_certification_generates_a_valid_equipment_code(walks: Findings, request: pytest.FixtureRequest) -> None:
    """制证生成的设备代码符合 TSG 08-2017（conformance.codes equipment-code），品种与申请设备一致。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；受理机关取自目标文件
    [thresholds] licensing_authority_*（未给时用默认机关）；事项、申请人与随机走查由本次运行的种子生成
    （TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：制证后状态中有设备代码，符合 TSG 08-2017（与申请中的设备代码相同时按已持有代码校验，否则按新赋代码校
    验）；申请未带设备代码时，其前 4 位为申请设备的品种代码。
    """
    walks.judge(request, *EQUIPMENT_CODE)


@driver
@pytest.mark.clause(*REGISTRATION_NO)
def test_certification_generates_a_valid_registration_number(walks: Findings, request: pytest.FixtureRequest) -> None:
    """制证生成的使用登记证编号符合 TSG 08-2017（conformance.codes registration-no），设备代号、品种代号、省份简称与申请一致。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；受理机关取自目标文件
    [thresholds] licensing_authority_*（未给时用默认机关）；事项、申请人与随机走查由本次运行的种子生成
    （TZSB_HYPOTHESIS_SEED 可重放）；走查中没有出现可检验本条款的情形时，本项未测。
    测试步骤：
    1. 准予许可走查：推送申请（pushApplication）开办件，由形式审查、受理岗位各给出一次补齐补正，每次补正后以同一办件编
       号、新的 messageId 再次推送；再由各岗位依次执行正式受理、审查通过、准予许可、制证、发证、办结（声明
       pre-archive-return 时再预归档退回、再次办结）、预归档通过、归档（performStep），之后查询办理记录
       （getCaseHistory）；
    2. 不予许可走查（正式受理、审查不通过、不予许可、办结、预归档、归档）；线下渠道的不予受理走查，之后由审查岗位执行
       审查；
    3. 随机走查（Hypothesis 状态机）：随机事项与渠道开办件，以随机结论与岗位推进；每步之前先由不可给出该结论的岗位尝试
       （certification 档为全部此类岗位，否则随机一个），再尝试一个非待办步骤；已结束的办件再尝试一个非待办步骤；次数
       与步数按档位（quick 4 次×25 步，standard 12×40，certification 50×60）；
    4. 每次推送、执行或尝试之后查询办件状态（getCaseState），产生文书的结论之后查询文书（getCaseNotices），按条款记录
       每项检查。
    预期结果：制证后状态中有使用登记证编号，符合 TSG 08-2017；第 1 位为该设备组的设备代号，第 2、3 位为申请设备品种代
    码的第 2、3 位，第 4 位为受理机关或设备所在地的省份简称。
    """
    walks.judge(request, *REGISTRATION_NO)
