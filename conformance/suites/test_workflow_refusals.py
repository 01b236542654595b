"""The refused and returned paths of the licensing workflow, walked deterministically (DB42/T 2279-2024 §6, §7.2.2,
§7.4.2, §7.5.4; workflow.json).

The Hypothesis walks of ``test_workflow.py`` reach a 不予受理 or a 不予许可 only by chance, and then try one illegal step
there. Here every outcome that ends a case or takes it off the main line (:func:`off_main_line`: 不予受理, 补齐补正,
不予许可, 预归档退回, 归档 — read from workflow.json) is walked in every profile: a case is pushed (T5-5), driven to
the step that gives the outcome (:func:`path_to`), given the outcome, and then every step/outcome of workflow.json
that is not pending in the state it leads to is tried by each post allowed to give it (the right post too: it may
not step past a refusal either), as is a new T5-5 push unless 申请 is pending. Each must be refused with 409
``STATE_CONFLICT`` in the error envelope the contract declares for it, and leave the case as it was. Where the case
goes on (补齐补正: the re-submission; 不予许可 and 预归档退回: 办结), the pending step is then performed and must be
allowed.

Needs the workflow driver (``workflow-driver.yaml``; without it 不适用) and one client per post. When the case cannot
be driven to the outcome, the test is 未测: the step that failed is judged by the tests of ``test_workflow.py``.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from conformance.datagen.licensing import authority_of, items, new_applicant
from conformance.report.skips import untested
from conformance.suites.support.workflow import (
    DRIVER,
    OPERATORS,
    OUT_OF_ORDER,
    OUTCOME_CLAUSES,
    RESUBMIT,
    STATE_CONFLICT,
    Case,
    Desk,
    Findings,
    Problems,
    Violation,
    Walker,
    allowed_roles,
    brief,
    data_of,
    off_main_line,
    optional_feature,
    outcomes,
    path_to,
    pending,
    refusal_problem,
    refused_in,
    run_seed,
    steps,
    submitted,
    terminal,
    walk_outcomes,
)

pytestmark = [pytest.mark.role("licensing")]

#: What a refused request must leave as it was: the case's state as the driver shows it, and its record.
KEPT = ("state", "currentStep", "ended", "suspended")


def _clauses(step: str, outcome: str) -> tuple[str, ...]:
    """The order of steps, where the outcome leads, and the re-submission when it sends the case back to 申请."""
    back_to_apply = outcomes()[(step, outcome)]["next"] == submitted()["step"]
    return (*OUT_OF_ORDER, *OUTCOME_CLAUSES.get((step, outcome), ()), *(RESUBMIT if back_to_apply else ()))


def _param(step: str, outcome: str) -> Any:
    marks = [pytest.mark.clause(*_clauses(step, outcome))]
    feature = optional_feature(step, outcome)
    if feature:
        marks.append(pytest.mark.feature(feature))
    return pytest.param((step, outcome), marks=marks, id=f"{step}-{outcome}")


@pytest.fixture(scope="module")
def seed() -> int:
    """The items and applicants (never the paths) come from this seed; ``TZSB_HYPOTHESIS_SEED`` replays it."""
    return run_seed()


@pytest.fixture(scope="module")
def desk(tzsb_client: Any) -> Desk:
    return Desk(tzsb_client).all_officers()


def _view(desk: Desk, case: Case) -> tuple[Any, ...] | str:
    """What a refusal must not change (the kept fields and the number of record entries), or why it cannot be read."""
    r = desk.state(case.case_no)
    data = data_of(r)
    if r.status != 200 or not isinstance(data, dict):
        return f"办件 {case.case_no} 状态查询失败：{brief(r)}"
    return (*(data.get(k) for k in KEPT), len(data.get("history") or []))


def _refused(
    desk: Desk, case: Case, before: tuple[Any, ...], what: str, resp: Any, operation_id: str, problems: Problems
) -> bool:
    """Record why ``resp`` is not the contract's refusal or changed the case; True when the case moved (stop there)."""
    why = refusal_problem(resp, operation_id, 409, STATE_CONFLICT)
    if why is not None:
        problems.add(f"{what}：{why}")
    after = _view(desk, case)
    if after != before:
        problems.add(
            f"{what}后办件应不变（{dict(zip((*KEPT, '记录条数'), before, strict=True))}），"
            f"实为 {after if isinstance(after, str) else dict(zip((*KEPT, '记录条数'), after, strict=True))}"
        )
        return True
    return resp.ok


@pytest.mark.feature(DRIVER)
@pytest.mark.parametrize("path", [_param(step, outcome) for step, outcome in off_main_line()])
def test_nothing_steps_past_a_refusal_or_a_return(
    path: tuple[str, str], desk: Desk, tzsb_target: Any, seed: int
) -> None:
    """不予受理、补齐补正、不予许可、预归档退回、归档（workflow.json 中结束办件或使其离开主线的结论）之后，
    workflow.json 中不是待办步骤的每个步骤/结论由每个可给出它的岗位（含本岗位）执行，以及新的申请推送（T5-5，
    申请不是待办时），都以 409 STATE_CONFLICT 拒绝，办件状态与记录不变；办件继续的（补正后再次提交、办结），
    待办步骤随后被允许。

    前置条件：目标声明流程驱动特性 workflow-driver（workflow-driver.yaml，未声明时未测；预归档退回另需可选特性
    pre-archive-return，未声明时不适用），目标文件有每个岗位的客户端 [clients.officer-<岗位>]（缺少时未测）；
    事项与申请人由本次运行的随机种子生成；
    办件未能推进到该结论，或其状态无法查询时，本项未测。
    测试步骤：
    1. 以新办件编号推送申请（pushApplication，T5-5），按 workflow.json 的最短路径由各岗位执行步骤
       （performStep），直至给出被测结论；
    2. 查询办件状态（getCaseState），记下状态、待办步骤、是否办结、是否中止与办理记录条数；
    3. 对该状态下不是待办的每个步骤/结论，由每个可给出它的岗位执行 performStep，每次后再查询状态；
    4. 申请不是待办时，以同一办件编号、新的 messageId 再次推送申请（pushApplication），再查询状态；
    5. 办件未办结时执行待办步骤：待办为申请时补正后再次推送，否则由首个允许的岗位给出该步骤的首个结论。
    预期结果：步骤 3、4 每个请求返回 409，响应体符合该操作声明的 409 错误信封且 code 为 STATE_CONFLICT，
    其后办件的状态、待办步骤、办结与中止标志及办理记录条数与步骤 2 相同；步骤 5 的推送返回 200 或 201（执行步骤
    返回 200），其后状态查询返回 200、符合 caseState 结构，办件处于 workflow.json 规定的状态（待办步骤、办结标志）。
    """
    step, outcome = path
    name = outcomes()[path]["name"]
    walker = Walker(desk, Findings(), authority_of(tzsb_target))
    rng = random.Random(f"{seed}:{step}:{outcome}")
    try:
        case = walker.open(rng.choice(sorted(items())), new_applicant(rng), rng=rng)
        for s, o in (*path_to(step), path):
            walker.perform(case, s, o, allowed_roles(s, o)[0])
    except Violation as exc:
        untested(
            f"未能把办件推进到“{steps()[step]['name']}/{name}”（该步骤由 test_workflow 的用例判定）：{exc.detail[:300]} / "
            f"the case could not be driven to {step}/{outcome}"
        )
    state = case.state
    due = pending(state)
    before = _view(desk, case)
    if isinstance(before, str):
        untested(f"{before} / the case state cannot be read")
    problems = Problems(desk)
    moved = False
    for s, o, post in refused_in(state):
        r = desk.step(post, case.case_no, s, o, "越序尝试", OPERATORS.get(post))
        what = f"“{name}”之后（状态 {state}，待办 {due}）岗位 {post} 执行“{s}/{o}”"
        if moved := _refused(desk, case, before, what, r, "performStep", problems):
            break
    if not moved and due != submitted()["step"]:
        r = desk.push(walker.resubmission(case))
        what = f"“{name}”之后（状态 {state}，待办 {due}）以同一办件编号、新的 messageId 再次推送申请（T5-5）"
        moved = _refused(desk, case, before, what, r, "pushApplication", problems)
    if not moved and not terminal(state):
        try:
            if due == submitted()["step"]:
                walker.resubmit(case)
            else:
                allowed = walk_outcomes(due, with_return=False)[0]
                walker.perform(case, due, allowed, allowed_roles(due, allowed)[0])
        except Violation as exc:
            problems.add(f"“{name}”之后待办步骤“{due}”应被允许：{exc.detail}")
    problems.verdict()
