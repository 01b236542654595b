"""Every path of the licensing exchange on the client side (DB42/T 2279-2024 §7.1.5 f), §7.2.2–§7.2.5, §7.4.2, §7.4.4,
§7.5.2, §7.5.4, 表5–表7): beside the granted case of ``test_client_side``, the harness pushes one case per path and
judges the calls each path must cause and those it must not.

* **补齐补正, then 不予受理** — T5-6 with the one-time notice, then nothing (no acceptance, no licence data) until the
  re-submission; after it the refusal to accept is reported (T5-7, 不予受理, with a reachable 不予受理通知书) and then
  nothing more: no step, no special procedure, and never any licence data (T5-11, T7-1, T7-2) for the case.
* **不予许可, with a special procedure in 决定** — 正式受理, 审查不通过, a special procedure of another kind started and
  ended in 决定 (T5-9 twice), 不予许可 (T5-8 with the decision), 办结 (T5-10: 不予许可, the 不予许可决定书, no
  registration number or e-licence id); 制证 and 发证 are never reported and no licence data ever leaves.
* **退回** (feature ``pre-archive-return``) — the refused case is pre-archived, returned to 办结 and concluded again:
  the exchange with the platform ended at the first 办结, so nothing is reported again (no second result, no licence
  data).
* **Changes, cancellations, scrapping** — for one item (deeper profiles: more) of every registration status a
  Table 1 operation other than a first registration leaves (licence-items.json: changed, suspended, cancelled,
  scrapped), an application about registered equipment (its code and original 使用登记证编号) is granted and
  issued: exactly one T7-2, consistent with the application, with the status the operation leaves and the original
  number where the operation keeps it; the e-licence's status likewise (PROFILE.DB42.10.4.T7-2).
* **T6-1 pre-fill** (feature ``inspection-prefill``) — the application names an inspection report but leaves the
  equipment code to it: the system queries T6-1 before the decision and everything it later reports (T7-2, T5-11,
  the case state) carries the report's code, unchanged.
* **T6-2 objection** (feature ``objection-feedback``) — the application's equipment code differs from the report's;
  an examiner objects (workflow driver ``raiseObjection``, or the operator): the inspection system receives T6-2
  after the T6-1, with the report and case numbers and, for the field, the recorded and the declared value.

Every walk is judged by the one judging code of the client side (``support/client_walk.py``: contract, consistency,
order, messages); the waits are bounded by ``wait_s`` (attended: ``attended_timeout_s``). The walks run one after the
other and are judged at the end, so a late leak of licence data of an early walk is seen too. Each path has its own
ledger; each test judges its clauses from its path's.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest

from conformance.client import Evidence
from conformance.codes import lists as code_lists
from conformance.contract.openapi import pointer_get
from conformance.datagen.licensing import GRANTED, REFUSED
from conformance.harness import profiles
from conformance.harness.target import Target
from conformance.simulators import Call
from conformance.suites.support.client_side import (
    UNWIRED_NOTE,
    AttendedDriver,
    AutoDriver,
    Console,
    Ledger,
    Party,
    first_attempts,
    inspection_data,
    introduce,
    issue_effects,
    new_party,
    objection,
    pick_item,
    session,
    special_kinds,
    unwired,
    with_declared_equipment_code,
    with_original_registration,
    without_equipment_code,
)
from conformance.suites.support.client_walk import CASE_REPORTS, END, CaseWalk, T
from conformance.suites.support.workflow import PRE_ARCHIVE_RETURN

pytestmark = [pytest.mark.role("licensing")]

Item = dict[str, Any]

# ---------------------------------------------------------------------------------- clauses of each path
CORRECTION = ("DB42.7.2.2.a1.1", "DB42.7.2.3.a1.1")
RESUBMIT = ("DB42.7.2.3.a1.2",)
NOT_ACCEPTED = ("DB42.7.2.2.a2.1", "DB42.7.2.3.a2.1")
REFUSED_LICENCE = ("DB42.7.4.2.b.1",)
RETURNED = ("DB42.7.5.4.2",)
PREFILL = ("DB42.7.1.5.f.1",)
OBJECTION = ("DB42.7.2.5.f.1",)
PREFILL_FEATURE = "inspection-prefill"
OBJECTION_FEATURE = "objection-feedback"

#: Table 1 operation 新登记 (the granted walk of ``test_client_side`` takes its items, ``pick_item``).
NEW_REGISTRATION = "01"
#: The paths (one ledger each).
REFUSAL_TO_ACCEPT, REFUSAL, CHANGES, PREFILLED, OBJECTED = "not-accepted", "refused", "changes", "prefill", "objection"


# ---------------------------------------------------------------------------------- the items of the change walks
def change_items(rng: random.Random, per_status: int | None) -> list[str]:
    """Items of the operations that change a registration (licence-items.json: every operation whose
    ``registrationStatus`` is not a first registration's), ``per_status`` per status left (None: one of every
    operation), each of a random group that has the operation."""
    ops = code_lists.licence_operations()
    first = ops[NEW_REGISTRATION]["registrationStatus"]
    by_op: dict[str, list[str]] = {}
    for code, item in sorted(code_lists.licence_items().items()):
        if ops[item["operation"]]["registrationStatus"] != first:
            by_op.setdefault(item["operation"], []).append(code)
    if per_status is None:
        return [rng.choice(codes) for _, codes in sorted(by_op.items())]
    by_status: dict[str, list[str]] = {}
    for op in sorted(by_op):
        by_status.setdefault(ops[op]["registrationStatus"], []).append(op)
    out = []
    for _status, status_ops in sorted(by_status.items()):
        for op in rng.sample(status_ops, min(per_status, len(status_ops))):
            out.append(rng.choice(by_op[op]))
    return out


def _message(call: Call) -> tuple[str, str, Any]:
    """What tells one message from another: a retry of a message is the same."""
    return (call.simulator, call.key, call.message_id or call.seq)


# ---------------------------------------------------------------------------------- the walks
class Paths:
    """The walks of the module (see the module doc), each path with its own ledger."""

    def __init__(
        self, target: Target, sims: Any, driver: AutoDriver | AttendedDriver, harness: Any, console: Console
    ) -> None:
        self.target, self.sims, self.driver, self.harness, self.console = target, sims, driver, harness, console
        self.rng = random.Random(secrets.randbits(64))
        self.ledgers: dict[str, Ledger] = {}
        self.walks: dict[str, list[CaseWalk]] = {}
        #: the messages of a case received before its 预归档退回, by case number
        self.before_return: dict[str, set[tuple[str, str, Any]]] = {}
        #: the objection items raised, by case number
        self.objected: dict[str, list[Item]] = {}
        s = target.simulators
        self.budget = s.attended_timeout_s if driver.attended else s.wait_s

    def grant(self, w: CaseWalk, steps: Any) -> None:
        """Walk ``w`` through the granted ``steps`` (stopping at one not performed), read its state back, finish."""
        for step, outcome in steps:
            if w.perform(step, outcome) is None:
                break
        if isinstance(self.driver, AutoDriver):
            w.state = self.driver.state(w.party.case_no)
        w.finish()

    def new(self, path: str, party: Party) -> CaseWalk:
        w = CaseWalk(
            self.target,
            self.sims,
            self.driver,
            self.harness,
            self.console,
            self.ledgers.setdefault(path, Ledger()),
            party,
        )
        self.walks.setdefault(path, []).append(w)
        introduce(self.sims, party)
        return w

    def party(self, item: str | None = None, *, report: bool = True) -> Party:
        return new_party(self.target, self.rng, legal=True, item=item or pick_item(self.rng), with_report=report)

    def run(self) -> None:
        features = self.target.features
        steps = (
            self.refusal_to_accept,
            self.refusal,
            self.changes,
            *((self.prefill,) if PREFILL_FEATURE in features else ()),
            *((self.objection,) if OBJECTION_FEATURE in features else ()),
        )
        for walk in steps:
            walk()
        time.sleep(min(1.5, self.budget))  # a late call of the last walk is seen too

    def analyse(self) -> None:
        if unwired(self.sims):
            for ledger in self.ledgers.values():
                ledger.notes.append(UNWIRED_NOTE)
            return
        for walks in self.walks.values():
            for w in walks:
                if w.t0 or w.found:
                    w.analyse()
        self.check_correction()
        self.check_return()
        self.check_prefill()
        self.check_objection()

    # ------------------------------------------------------------------ 补齐补正, then 不予受理
    def refusal_to_accept(self) -> None:
        w = self.new(REFUSAL_TO_ACCEPT, self.party())
        w.also = {
            "accept/correction": CORRECTION,
            "accept/not-accepted": NOT_ACCEPTED,
            "no-licence": NOT_ACCEPTED,
        }
        if not w.submit():
            return
        w.perform("accept", "correction")
        if w.aborted:
            return
        w.settle()  # nothing but the correction may come before the re-submission
        if not w.resubmit():
            return
        w.perform("accept", "not-accepted")
        w.finish()

    def check_correction(self) -> None:
        """Until the re-submission only the correction is reported; after it the case goes on under the same number."""
        for w in self.walks.get(REFUSAL_TO_ACCEPT, []):
            resubmitted = w.started.get("resubmit")
            if resubmitted is None:
                continue
            mine = first_attempts(w.mine(self.sims.calls(), loose=True))
            early = [
                c for c in mine if c.t < resubmitted and c.key in (*CASE_REPORTS, *issue_effects()) and c.key != "T5-6"
            ]
            w.ledger.check(
                (T("T5-6"), *CORRECTION),
                not early,
                f"补齐补正之后、再次提交之前不应有其他上报或许可信息：{[c.describe() for c in early]}",
                early,
            )
            after = w.found.get("accept/not-accepted")
            if after is not None:
                w.ledger.check(
                    RESUBMIT,
                    after.t >= resubmitted - 0.5 and after.case_no == w.party.case_no,
                    f"再次提交后办件应以同一办件编号 {w.party.case_no} 继续受理：{after.describe()}",
                    [after],
                )

    # ------------------------------------------------------------------ 不予许可 (a special procedure in 决定), 退回
    def refusal(self) -> None:
        w = self.new(REFUSAL, self.party())
        refused = {
            label: REFUSED_LICENCE for label in ("step-decide", "conclude/concluded", "no-licence", "step-unperformed")
        }
        w.also = refused
        if not w.submit():
            return
        kinds = special_kinds()
        for step, outcome in REFUSED[:4]:  # to 办结
            if step == "decide":
                w.special(step, self.rng.choice(kinds[1:] or kinds))
                if w.aborted:
                    return
            if w.perform(step, outcome) is None:
                return
        if PRE_ARCHIVE_RETURN in self.target.features:
            w.started["returned"] = time.time()
            self.before_return[w.party.case_no] = {_message(c) for c in w.mine(self.sims.calls())}
            for step, outcome in (("pre-archive", "returned"), ("conclude", "concluded"), *REFUSED[4:]):
                w.step(step, outcome)
                if w.aborted:
                    return
            w.settle()
        w.finish()

    def check_return(self) -> None:
        """After 预归档退回 and the second 办结: no new report, no licence data (the exchange ended at the first 办结)."""
        for w in self.walks.get(REFUSAL, []):
            before = self.before_return.get(w.party.case_no)
            if before is None or w.aborted:
                continue
            mine = first_attempts(w.mine(self.sims.calls(), loose=True))
            again = [c for c in mine if _message(c) not in before and c.key in (*CASE_REPORTS, *issue_effects())]
            w.ledger.check(
                (*RETURNED, *END),
                not again,
                "预归档退回并再次办结后，政务服务平台、电子证照库或安全监察系统又收到了该办件的上报（与平台的交互已在首次"
                f"办结时结束）：{[c.describe() for c in again]}",
                again or [c for c in mine if c.key == "T5-10"][:1],
            )

    # ------------------------------------------------------------------ changes, cancellations, scrapping
    def changes(self) -> None:
        per_status = profiles.depth(self.target.profile).workflow.change_items
        for item in change_items(self.rng, per_status):
            party = with_original_registration(self.party(item, report=False), self.rng)
            w = self.new(CHANGES, party)
            if not w.submit():
                continue
            self.grant(w, GRANTED[:6])  # to 办结

    # ------------------------------------------------------------------ T6-1 pre-fill
    def prefill(self) -> None:
        party = without_equipment_code(self.party())
        w = self.new(PREFILLED, party)
        if not w.submit():
            return
        report = party.report or {}
        if not _inspection_lookup(w, report, "申请预填") and not unwired(self.sims):
            w.ledger.check(
                PREFILL, False, f"申请引用了检验报告 {report.get('reportNo')}，{w.budget:.0f} 秒内没有 T6-1 查询"
            )
        self.grant(w, GRANTED[:5])  # to 发证

    def check_prefill(self) -> None:
        """The report's data, unchanged, in everything the system reports; T6-1 after the push, before the decision."""
        for w in self.walks.get(PREFILLED, []):
            report, insp = w.party.report or {}, w.found.get("inspection")
            if insp is None:
                continue
            decided = w.started.get("decide/granted")
            timely = insp.status == 200 and insp.t >= w.t0 - 0.5 and (decided is None or insp.t <= decided + 0.5)
            code = report.get("equipmentCode")
            seen: list[tuple[str, Any, Call | None]] = []
            registration, licence = w.found.get("issue-T7-2"), w.found.get("issue-T5-11")
            if registration is not None:
                seen += [
                    (f"T7-2 {p}", pointer_get(registration.json, p), registration)
                    for p in ("/registration/equipmentCode", "/equipment/equipmentCode")
                ]
            if licence is not None:
                seen.append(
                    ("T5-11 /surface/equipmentCode", pointer_get(licence.json, "/surface/equipmentCode"), licence)
                )
            if w.state is not None and w.state.get("equipmentCode") is not None:
                seen.append(("办件状态 equipmentCode", w.state.get("equipmentCode"), None))
            if not seen and w.aborted:
                continue  # the walk did not reach 发证: nothing to compare (未测, with the walk's notes)
            wrong = [f"{where} 为 {value!r}" for where, value, _ in seen if value != code]
            if not timely:
                wrong.append(f"检验报告查询（T6-1）应在申请之后、决定之前按申请中的报告编号进行：{insp.describe()}")
            if not seen:
                wrong.append("发证后没有任何上报（T7-2、T5-11）或办件状态带有设备代码，无从核对")
            w.ledger.check(
                (T("T6-1"), *PREFILL),
                not wrong,
                f"申请未填设备代码，应取检验报告 {report.get('reportNo')} 的 {code}（不得改动）：{'；'.join(wrong)}",
                [c for _, _, c in seen if c is not None] + [insp],
            )

    # ------------------------------------------------------------------ T6-2 objection
    def objection(self) -> None:
        party = with_declared_equipment_code(self.party(), self.rng)
        w = self.new(OBJECTED, party)
        w.also = {"T6-2": OBJECTION, "objection": OBJECTION}
        if not w.submit():
            return
        report = party.report or {}
        _inspection_lookup(w, report, "异议之前")  # the system needs the recorded values before an examiner can compare
        field = next(f for f in inspection_data()["fields"] if f["application"] == "/equipment/equipmentCode")
        items = [{"field": field["report"], "reason": f"申报材料中的{field['name']}与检验报告不一致，请核校。"}]
        self.objected[party.case_no] = items
        res = self.driver.objection(party.case_no, items)
        if not res.done:
            w.ledger.notes.append(f"流程驱动提出异议失败：{res.message}")
            w.aborted = True
        else:
            w.expect(
                "objection", objection()["reportBack"], res.started, clauses=OBJECTION, what="异议数据反馈（T6-2）"
            )
        w.finish()

    def check_objection(self) -> None:
        """T6-2: the report and case, the examiner, per field the value the report records and the one the application
        declares, the reason given; after the T6-1 look-up."""
        for w in self.walks.get(OBJECTED, []):
            call, insp = w.found.get("objection"), w.found.get("inspection")
            if call is None:
                continue
            body = call.json if isinstance(call.json, dict) else {}
            report, app = w.party.report or {}, w.party.application
            problems = [
                f"{k} 为 {body.get(k)!r}，应为 {v!r}"
                for k, v in (
                    ("reportNo", report.get("reportNo")),
                    ("caseNo", w.party.case_no),
                    ("raisedBy", objection()["raisedBy"]),
                )
                if body.get(k) != v
            ]
            if body.get("equipmentCode") not in (None, report.get("equipmentCode")):
                problems.append(
                    f"equipmentCode 为 {body.get('equipmentCode')!r}，应为检验报告的 {report.get('equipmentCode')}"
                )
            fields = {f["report"]: f for f in inspection_data()["fields"]}
            items = {i.get("field"): i for i in body.get("items") or [] if isinstance(i, dict)}
            for asked in self.objected.get(w.party.case_no, []):
                got, f = items.get(asked["field"]), fields[asked["field"]]
                want = {
                    "recorded": str(pointer_get(report, f["report"])),
                    "declared": str(pointer_get(app, f["application"])),
                    "reason": asked["reason"],
                }
                if got is None:
                    problems.append(f"没有对 {asked['field']} 的异议项")
                    continue
                problems += [
                    f"{asked['field']} 的 {k} 为 {got.get(k)!r}，应为 {v!r}" for k, v in want.items() if got.get(k) != v
                ]
            if insp is not None and call.t < insp.t:
                problems.append(f"异议（{call.describe()}）早于检验报告查询（{insp.describe()}）")
            w.ledger.check(OBJECTION, not problems, f"{call.describe()}：" + "；".join(problems), [call])


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def paths(request: pytest.FixtureRequest, tzsb_target: Target, tzsb_client: Any) -> Paths:
    console, driver, sims = session(request, tzsb_target, tzsb_client)
    p = Paths(tzsb_target, sims, driver, tzsb_client(), console)
    p.run()
    p.analyse()
    return p


Judge = Callable[[str, str], None]


@pytest.fixture
def judge(request: pytest.FixtureRequest, paths: Paths, tzsb_evidence: Evidence) -> Judge:
    """The calling test's verdict on a clause, from the ledger of a path."""

    def verdict(path: str, clause: str) -> None:
        ledger = paths.ledgers.get(path) or Ledger(notes=["该路径没有走查 / the path was not walked"])
        ledger.judge(request, tzsb_evidence, clause)

    return verdict


def per_clause(*clauses: str) -> pytest.MarkDecorator:
    """One test item per clause (``test_x[DB42.…]``), so that each clause gets its own verdict."""
    return pytest.mark.parametrize("clause", [pytest.param(c, marks=pytest.mark.clause(c), id=c) for c in clauses])


# ---------------------------------------------------------------------------------- tests
@per_clause("DB42.10.2.T5-6.1", "DB42.7.2.2.a1.1", "DB42.7.2.3.a1.1", "DB42.7.2.3.a1.2")
def test_a_correction_holds_the_case_until_the_resubmission(clause: str, judge: Judge) -> None:
    """补齐补正：上报 T5-6（需补正材料、可访问的一次性补正告知书），其后在再次提交之前不上报受理、环节、结果，也没有许可信息；
    再次提交后办件以同一办件编号继续受理。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的对端（政务服务平台、检验检测、电子证照库、安全监察系统）地址配置为 [simulators] 的模拟器（被测
    系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、带设备代码的申请）并登记到模拟器；每次等待以
    [simulators] wait_s（有人值守时 attended_timeout_s）为界；推送或办理失败、该路径没有可检验本条款的调用时，本项未
    测。
    测试步骤：
    1. 在模拟器登记申请人、办件与检验报告，推送申请（pushApplication，T5-5）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6，再稍候；
    3. 以同一办件编号、新的 messageId 再次推送申请；
    4. 办理“受理/不予受理”，等待 T5-7（或 T5-10）；
    5. 本模块全部路径走完后稍候，按契约、一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：步骤 2 后收到 T5-6：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；报文与路径中的办件编
    号为推送的编号，办理项编码为申请的；带需补正材料；带一次性补正告知书，文书种类正确、办件编号一致，且预览地址可访问
    （200 且非空）或有版式文件名与摘要；T5-6 先于 T5-7；T5-6 之后、再次推送之前没有本办件的其他上报（T5-7 至 T5-10）或
    许可信息（T5-11、T7-1、T7-2）；不予受理的受理信息不早于再次推送，且以同一办件编号上报。

    A correction is reported; nothing else until the re-submission, then the case goes on.
    """
    judge(REFUSAL_TO_ACCEPT, clause)


@per_clause(
    "DB42.10.2.T5-7.1", "DB42.7.2.2.a2.1", "DB42.7.2.3.a2.1", "DB42.7.2.5.e.1", "DB42.7.4.4.a.1", "PROFILE.PUSH.1"
)
def test_a_refusal_to_accept_is_reported_without_licence_data(clause: str, judge: Judge) -> None:
    """不予受理：及时上报受理信息（T5-7，受理结论为不予受理，带受理人员的意见与可访问的不予受理通知书），其后不再上报环节或
    特别程序，电子证照库与安全监察系统任何时候都收不到该办件的许可信息（T5-11、T7-1、T7-2）。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的对端（政务服务平台、检验检测、电子证照库、安全监察系统）地址配置为 [simulators] 的模拟器（被测
    系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、带设备代码的申请）并登记到模拟器；每次等待以
    [simulators] wait_s（有人值守时 attended_timeout_s）为界；推送或办理失败、该路径没有可检验本条款的调用时，本项未
    测。
    测试步骤：
    1. 在模拟器登记申请人、办件与检验报告，推送申请（pushApplication，T5-5）；
    2. 经流程驱动（performStep）或由操作员办理“受理/补齐补正”，等待 T5-6，再稍候；
    3. 以同一办件编号、新的 messageId 再次推送申请；
    4. 办理“受理/不予受理”，等待 T5-7（或 T5-10）；
    5. 本模块全部路径走完后稍候，按契约、一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：不予受理后在等待时限内收到 T5-7（或 T5-10）：调用符合其契约（请求体结构、参数、Bearer 令牌、
    Content-Type）；办件编号与办理项编码与申请一致；受理结论为“不予受理”，受理意见为办理时填写的意见；带不予受理通知
    书，文书种类正确、办件编号一致，且预览地址可访问（200 且非空）或有版式文件名与摘要（一次性补正告知书同样判定）；首
    个 T5-7 之前没有 T5-8 至 T5-10；其后没有 T5-6 至 T5-9 上报；任何时候都没有本办件的 T5-11、T7-1、T7-2 调用；本办件
    的每条消息带 8 至 64 个字符的 messageId，且至少一次得到 2xx 回执。

    The refusal to accept is reported with its notice; nothing follows, and no licence data ever leaves the system.
    """
    judge(REFUSAL_TO_ACCEPT, clause)


@per_clause(
    "DB42.7.4.2.b.1",
    "DB42.7.4.2.c.1",
    "DB42.7.3.2.b.1",
    "DB42.10.2.T5-8.1",
    "DB42.10.2.T5-10.1",
    "DB42.7.5.2.3",
    "DB42.7.4.4.a.1",
    "PROFILE.PUSH.1",
)
def test_a_refused_licence_is_reported_and_nothing_is_issued(clause: str, judge: Judge) -> None:
    """不予许可：审查不通过与不予许可各上报一次（T5-8，结论与意见如办理），办结时上报不予许可结果与不予许可决定书（T5-10，
    不带使用登记证编号与电子证照标识）；制证、发证从不上报，也从不向电子证照库与安全监察系统发送许可信息。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的对端（政务服务平台、检验检测、电子证照库、安全监察系统）地址配置为 [simulators] 的模拟器（被测
    系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、带设备代码的申请）并登记到模拟器；每次等待以
    [simulators] wait_s（有人值守时 attended_timeout_s）为界；推送或办理失败、该路径没有可检验本条款的调用时，本项未
    测。
    测试步骤：
    1. 在模拟器登记申请人、办件与检验报告，推送申请（pushApplication，T5-5）；
    2. 经流程驱动（performStep）或由操作员办理正式受理（等待 T5-7）、审查不通过（等待 T5-8）；
    3. 在决定环节开始并结束一次特别程序（种类随机，不取第一种），各等待一次 T5-9；办理不予许可（等待 T5-8）、办结（等
       待 T5-10）；
    4. 声明 pre-archive-return 时，再办理预归档退回、再次办结、预归档通过、归档；
    5. 本模块全部路径走完后稍候，按契约、一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：审查与决定后各收到该环节的 T5-8：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；办件编号
    与办理项编码与申请一致；环节名称、结论与办理意见与所办理的一致；T5-8 的环节顺序与办理顺序相同，不早于首个 T5-7，且
    没有未办理的环节（制证、发证）被上报；决定环节的 T5-8 带不予许可决定书（文书种类正确、办件编号一致，且预览地址可访
    问（200 且非空）或有版式文件名与摘要）；办结后收到 T5-10：结果为“不予许可”，带同样判定的不予许可决定书，其文书标识
    与决定环节的相同，不带使用登记证编号与电子证照标识；T5-7 在 T5-10 之前，T5-10 之后不再有 T5-6 至 T5-10；任何时候都
    没有本办件的 T5-11、T7-1、T7-2 调用；本办件的每条消息带 8 至 64 个字符的 messageId，且至少一次得到 2xx 回执。

    A refusal is reported step by step and as the result; nothing is certified, issued or sent as licence data.
    """
    judge(REFUSAL, clause)


@per_clause("DB42.10.2.T5-9.1")
def test_a_special_procedure_in_the_decision_is_reported(clause: str, judge: Judge) -> None:
    """决定环节的特别程序（种类随机，不同于 test_client_side 的审查环节那一种）：开始与结束各上报一次（T5-9），种类如办理，
    开始时间一致，结束带结束时间，均在受理之后、结果之前。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的对端（政务服务平台、检验检测、电子证照库、安全监察系统）地址配置为 [simulators] 的模拟器（被测
    系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、带设备代码的申请）并登记到模拟器；每次等待以
    [simulators] wait_s（有人值守时 attended_timeout_s）为界；推送或办理失败、该路径没有可检验本条款的调用时，本项未
    测。
    测试步骤：
    1. 在模拟器登记申请人、办件与检验报告，推送申请（pushApplication，T5-5）；
    2. 经流程驱动（performStep）或由操作员办理正式受理（等待 T5-7）、审查不通过（等待 T5-8）；
    3. 在决定环节开始并结束一次特别程序（种类随机，不取第一种），各等待一次 T5-9；办理不予许可（等待 T5-8）、办结（等
       待 T5-10）；
    4. 声明 pre-archive-return 时，再办理预归档退回、再次办结、预归档通过、归档；
    5. 本模块全部路径走完后稍候，按契约、一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：特别程序开始与结束后各收到一次 T5-9：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；办件
    编号与办理项编码与申请一致；两次上报的特别程序种类均为所办理的、开始时间相同，结束上报带结束时间；T5-9 的动作依次
    为 start、end；T5-9 不早于首个 T5-7。

    A special procedure in 决定 is reported at start and end.
    """
    judge(REFUSAL, clause)


@pytest.mark.feature(PRE_ARCHIVE_RETURN)
@per_clause("DB42.7.5.4.2", "DB42.7.5.2.3")
def test_after_a_return_from_pre_archive_nothing_is_reported_again(clause: str, judge: Judge) -> None:
    """退回：预归档退回、再次办结并归档后，政务服务平台不再收到该办件的任何上报（没有第二个办件结果），也没有许可信息
    （与平台的交互在首次办结时结束）。

    前置条件：目标声明可选特性 pre-archive-return（未声明时不适用）；目标声明流程驱动特性 workflow-driver，或目标文件
    启用有人值守模式（[simulators] attended = true），两者皆无时未测；被测系统的对端（政务服务平台、检验检测、电子证照
    库、安全监察系统）地址配置为 [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统
    一身份用户、带设备代码的申请）并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时 attended_timeout_s）为
    界；推送或办理失败、该路径没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟器登记申请人、办件与检验报告，推送申请（pushApplication，T5-5）；
    2. 经流程驱动（performStep）或由操作员办理正式受理（等待 T5-7）、审查不通过（等待 T5-8）；
    3. 在决定环节开始并结束一次特别程序（种类随机，不取第一种），各等待一次 T5-9；办理不予许可（等待 T5-8）、办结（等
       待 T5-10）；
    4. 声明 pre-archive-return 时，再办理预归档退回、再次办结、预归档通过、归档；
    5. 本模块全部路径走完后稍候，按契约、一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：首次办结后收到 T5-10，T5-7 在其之前、其后没有 T5-6 至 T5-10；预归档退回之后（再次办结、预归档、归档），
    模拟器没有收到本办件的任何新消息（T5-6 至 T5-10、T5-11、T7-1、T7-2）。

    After a return from pre-archiving and a second 办结 nothing is reported again.
    """
    judge(REFUSAL, clause)


@per_clause(
    "DB42.10.4.T7-2.1",
    "DB42.10.4.1",
    "DB42.7.4.4.b.2",
    "PROFILE.DB42.10.4.T7-2",
    "DB42.10.2.T5-11.1",
    "DB42.7.4.4.a.1",
    "PROFILE.PUSH.1",
)
def test_changes_cancellations_and_scrapping_are_reported_to_supervision(clause: str, judge: Judge) -> None:
    """变更、停用、注销、报废类办理项（每种登记状态至少一项）：发证后恰有一次设备使用登记信息上报（T7-2），办件编号、办理项、
    设备代码与申请一致，登记状态、设备状态与证照状态按该操作（licence-items.json），沿用原使用登记证编号的操作沿用申请中的原编号。

    前置条件：目标声明流程驱动特性 workflow-driver，或目标文件启用有人值守模式（[simulators] attended = true），两者皆
    无时未测；被测系统的对端（政务服务平台、检验检测、电子证照库、安全监察系统）地址配置为 [simulators] 的模拟器（被测
    系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统一身份用户、带设备代码的申请）并登记到模拟器；每次等待以
    [simulators] wait_s（有人值守时 attended_timeout_s）为界；推送或办理失败、该路径没有可检验本条款的调用时，本项未
    测。
    测试步骤：
    1. 从 licence-items.json 取改变登记状态的办理项（非新登记状态的操作：变更、停用、注销、报废等），按档位每种登记状
       态取 quick 1 项、standard 2 项，certification 每种操作各一项；
    2. 对每项生成针对已登记设备的申请（带设备代码与原使用登记证编号，不带检验报告），在模拟器登记后推送
       （pushApplication）；
    3. 经流程驱动或由操作员依次办理正式受理、审查通过、准予许可、制证、发证、办结，每步后等待其上报，发证后等待
       T5-11、T7-1、T7-2；有流程驱动时查询办件状态（getCaseState）；
    4. 本模块全部路径走完后稍候，按契约、一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：每个办件发证后收到 T7-2：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；registration 的
    办件编号、办理项编码、使用单位代码、设备品种与申请一致，registration 与 equipment 的设备代码为申请的、使用登记证编
    号彼此一致且与 T5-11 的证照编号一致；每个办件恰有一条 T7-2 消息，T7-1（有时）先于 T7-2；登记状态、设备状态与证照状
    态为该操作在 licence-items.json 中规定的，沿用原编号的操作使用登记证编号为申请中的原编号；T5-11 的办件编号、办理
    项、持证主体、发证机关与申请一致，证照编号与电子证照标识与 T5-10 的一致；发证前没有 T5-11、T7-1、T7-2，发证后至少
    有其一；每条消息带 8 至 64 个字符的 messageId 并得到 2xx 回执。

    Each change, cancellation or scrapping is reported to supervision once, with the status it leaves.
    """
    judge(CHANGES, clause)


@pytest.mark.feature(PREFILL_FEATURE)
@per_clause(*PREFILL)
def test_the_application_is_prefilled_from_the_inspection_report(clause: str, judge: Judge) -> None:
    """申请预填（T6-1）：申请只写检验报告编号、未写设备代码时，被测系统在决定之前按报告编号查询 T6-1，其后上报的设备代码
    （T7-2、T5-11、办件状态）即检验报告的设备代码，未被改动。

    前置条件：目标声明可选特性 inspection-prefill（未声明时不适用）；目标声明流程驱动特性 workflow-driver，或目标文件
    启用有人值守模式（[simulators] attended = true），两者皆无时未测；被测系统的对端（政务服务平台、检验检测、电子证照
    库、安全监察系统）地址配置为 [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统
    一身份用户、带设备代码的申请）并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时 attended_timeout_s）为
    界；推送或办理失败、该路径没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟检验检测系统登记检验报告，生成只写报告编号、不写设备代码的申请，推送（pushApplication）；
    2. 等待路径含该报告编号的检验报告查询（T6-1）；
    3. 经流程驱动或由操作员依次办理正式受理、审查通过、准予许可、制证、发证，每步后等待其上报，发证后等待 T5-11、
       T7-1、T7-2；有流程驱动时查询办件状态（getCaseState）；
    4. 本模块全部路径走完后稍候，按契约、一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：推送后在等待时限内收到 T6-1，模拟器应答 200，且在推送之后、办理准予许可之前；T7-2 的 registration 与
    equipment 的设备代码、T5-11 照面的设备代码与办件状态的设备代码（有时）都等于检验报告的设备代码，且其中至少有一处。

    The application is pre-filled from the inspection report.
    """
    judge(PREFILLED, clause)


@pytest.mark.feature(OBJECTION_FEATURE)
@per_clause(*OBJECTION)
def test_an_objection_is_fed_back_to_the_inspection_system(clause: str, judge: Judge) -> None:
    """异议数据反馈（T6-2）：申报的设备代码与检验报告不一致，受理人员提出异议后，检验检测信息系统收到符合契约的异议：
    报告编号、办件编号、提出方，异议项的检验数据值与申报材料值分别取自检验报告与申请，在 T6-1 之后，带消息标识并得到回执。

    前置条件：目标声明可选特性 objection-feedback（未声明时不适用）；目标声明流程驱动特性 workflow-driver，或目标文件
    启用有人值守模式（[simulators] attended = true），两者皆无时未测；被测系统的对端（政务服务平台、检验检测、电子证照
    库、安全监察系统）地址配置为 [simulators] 的模拟器（被测系统从未调用任何模拟器时未测）；本工具新生成法人申请人（统
    一身份用户、带设备代码的申请）并登记到模拟器；每次等待以 [simulators] wait_s（有人值守时 attended_timeout_s）为
    界；推送或办理失败、该路径没有可检验本条款的调用时，本项未测。
    测试步骤：
    1. 在模拟检验检测系统登记检验报告，生成设备代码与报告不同的申请，推送（pushApplication）；
    2. 等待检验报告查询（T6-1）；
    3. 经流程驱动（raiseObjection，受理岗位）或由操作员对设备代码提出异议（写明理由），等待异议数据反馈（T6-2）；
    4. 本模块全部路径走完后稍候，按契约、一致性、先后顺序与消息标识判定模拟器收到的本办件全部调用。
    预期结果：收到 T6-2：调用符合其契约（请求体结构、参数、Bearer 令牌、Content-Type）；报告编号、办件编号为本办件的，
    提出方为 examiner，设备代码为空或为检验报告的；设备代码异议项的检验数据值取自检验报告、申报材料值取自申请、理由与
    所提的相同；T6-2 不早于 T6-1；带 8 至 64 个字符的 messageId，且至少一次得到 2xx 回执。

    The objection reaches the inspection system with the recorded and the declared values.
    """
    judge(OBJECTED, clause)


def _inspection_lookup(w: CaseWalk, report: dict[str, Any], when: str) -> bool:
    """Wait for the system's T6-1 look-up of the report the application names; whether it came."""
    return bool(
        w.expect(
            "inspection",
            "T6-1",
            w.t0,
            lambda c: report.get("reportNo", "") in c.path,
            clauses=(T("T6-1"),),
            what=f"检验报告查询（T6-1，{when}）",
        )
    )
