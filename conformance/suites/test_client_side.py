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
from conformance.simulators import Call, Simulators
from conformance.suites.support.client_side import (
    SMS_FEATURE,
    AttendedDriver,
    AutoDriver,
    Console,
    Ledger,
    StepResult,
    case_calls,
    contract_problems,
    digest,
    first_attempts,
    interface_clause,
    introduce,
    is_chinese,
    issue_effects,
    issue_step,
    new_party,
    pick_item,
    report_back_of,
    resubmission,
    session,
    special_kinds,
    special_report,
    special_steps,
)
from conformance.suites.support.workflow import brief, data_of, licensing_operation, outcomes, steps

pytestmark = [pytest.mark.role("licensing")]

Item = dict[str, Any]

# ---------------------------------------------------------------------------------- clauses
T = interface_clause
ITEM_SYNC = ("DB42.4.7.b.1", "DB42.7.1.5.b.1")
IDENTITY = ("DB42.7.1.5.a.1",)
CASE_NO = ("DB42.7.1.4.1",)
ACCEPTANCE = ("DB42.7.2.4.1",)
NOTICE_PREVIEW = ("DB42.7.2.5.e.1",)
STATUS = ("DB42.7.2.5.b.2",)
REVIEW = ("DB42.7.3.2.b.1",)
DECISION = ("DB42.7.4.2.c.1",)
MARKER = ("DB42.7.4.4.a.1",)
STRUCTURED = ("DB42.7.4.4.b.1",)
SUPERVISION_EXCHANGE = ("DB42.7.4.4.b.2",)
SMS = ("DB42.7.4.5.c4.1",)
SMS_FORMAT = ("PROFILE.DB42.7.4.5.c4",)
END = ("DB42.7.5.2.3",)
PLATFORM = ("DB42.4.3.2",)
ALL_REGISTERED = ("DB42.10.4.1",)
PUSH_ID = ("PROFILE.PUSH.1",)
IDEMPOTENT = ("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2")
CASE_REPORTS = ("T5-6", "T5-7", "T5-8", "T5-9", "T5-10")
MESSAGES = ("T5-6", "T5-7", "T5-8", "T5-9", "T5-10", "T7-1", "T7-2")


def _clauses_of(key: str) -> tuple[str, ...]:
    if key == "sendSms":
        return SMS + SMS_FORMAT
    try:
        return (T(key),)
    except LookupError:
        return ()


def _differing(got: Item, want: Item, prefix: str = "") -> list[str]:
    return [f"{prefix}{k} 为 {got.get(k)!r}，应为 {v!r}" for k, v in want.items() if got.get(k) != v]


# ---------------------------------------------------------------------------------- the scenario
class Scenario:
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
        self.target, self.sims, self.driver, self.harness = target, sims, driver, harness
        self.console, self.ledger = console, ledger
        settings = target.simulators
        self.budget = settings.attended_timeout_s if driver.attended else settings.wait_s
        self.rng = random.Random(secrets.randbits(64))
        self.party = new_party(target, self.rng, legal=True, item=pick_item(self.rng))
        self.natural = new_party(target, self.rng, legal=False, with_report=False)
        self.known: set[str] = {self.party.case_no, self.natural.case_no}
        self.opinions: dict[str, str] = {}
        self.performed: list[str] = []  # steps reported by T5-8, in the order performed
        self.started: dict[str, float] = {}
        self.found: dict[str, Call] = {}
        self.aborted = False
        self.state: Item | None = None
        self.duplicate: Any = None
        self.first_receipt: Any = None

    # ------------------------------------------------------------------ helpers
    def progress(self, what: str) -> Any:
        def note(left: float) -> None:
            self.console.say(f"  … 等待{what}（剩余 {left:.0f} 秒）/ waiting for {what} ({left:.0f} s left)")

        return note

    def mine(self, calls: list[Call], *, loose: bool = False) -> list[Call]:
        """Calls of the scenario's case; ``loose`` also takes report-backs naming a case the harness never pushed."""
        out = case_calls(calls, self.party)
        if loose:
            seen = {(c.simulator, c.seq) for c in out}
            out += [
                c
                for c in calls
                if c.key in CASE_REPORTS
                and (c.simulator, c.seq) not in seen
                and c.case_no is not None
                and c.case_no not in self.known
            ]
        return sorted(out, key=lambda c: (c.t, c.seq))

    def expect(
        self,
        label: str,
        key: str,
        since: float,
        match: Any = None,
        *,
        clauses: tuple[str, ...] = (),
        what: str = "",
        anywhere: bool = False,
    ) -> Call | None:
        """Wait for the first call ``key`` (and ``match``) received after ``since`` — of the case, or ``anywhere``
        among the calls of the session; a miss fails ``clauses``."""

        def found(calls: list[Call]) -> Call | None:
            for c in calls if anywhere else self.mine(calls, loose=True):
                if c.key == key and c.t >= since - 0.5 and (match is None or match(c)):
                    return c
            return None

        call = self.sims.wait_for(found, timeout=self.budget, progress=self.progress(f"{what or key}"))
        cs = clauses or _clauses_of(key)
        if call is None:
            self.ledger.check(
                cs,
                False,
                f"{what or label}：{self.budget:.0f} 秒内模拟器未收到 {key} 调用"
                f" / no {key} call within {self.budget:.0f} s",
            )
        else:
            self.found[label] = call
            self.ledger.check(cs, True, "", [call])
        return call

    def step(self, step: str, outcome: str) -> StepResult:
        opinion = f"{outcomes()[(step, outcome)]['name']}：经核，意见编号 {secrets.token_hex(3)}。"
        if step == "accept" and outcome == "correction":
            opinion = "产品合格证：复印件不清晰\n监督检验报告：缺少签章页"
        self.opinions[f"{step}/{outcome}"] = opinion
        res = self.driver.step(self.party.case_no, step, outcome, opinion)
        self.started[f"{step}/{outcome}"] = res.started
        if not res.done:
            self.ledger.notes.append(f"流程驱动执行“{step}/{outcome}”失败：{res.message}")
            self.aborted = True
        return res

    def push(self, body: Item) -> Any:
        return self.harness.post(licensing_operation("pushApplication").path, body)

    # ------------------------------------------------------------------ the walk
    def run(self) -> None:
        sims, party, L = self.sims, self.party, self.ledger
        introduce(sims, party)
        introduce(sims, self.natural)
        self.t0 = time.time()
        r = self.push(party.application)
        self.first_receipt = data_of(r)
        if r.status != 201:
            L.notes.append(f"申请推送（T5-5）未被接收：{brief(r)}")
            self.aborted = True
            return
        self.console.say(f"已推送办件 {party.case_no}（{party.item}）/ case pushed")
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
        res = self.step("accept", "correction")
        if self.aborted:
            return
        self.expect("correction", "T5-6", res.started, what="补齐补正上报（T5-6）")
        time.sleep(0.2)
        r = self.push(resubmission(party))
        if r.status not in (200, 201):
            L.notes.append(f"补正后再次推送未被接收：{brief(r)}")
            self.aborted = True
            return
        self.t_resubmit = time.time()
        for step, outcome in GRANTED[:6]:  # to 办结
            if step == special_steps()[0] and not self.aborted:
                self.special(step)
            if step == issue_step():
                self.before_issue = [c for c in self.mine(self.sims.calls()) if c.key in issue_effects()]
            res = self.step(step, outcome)
            if self.aborted:
                return
            iface = report_back_of(step, outcome)
            if iface == "T5-8":
                self.performed.append(step)
                extra = REVIEW if step == "review" else DECISION if step == "decide" else ()
                self.expect(
                    f"step-{step}",
                    "T5-8",
                    res.started,
                    lambda c, s=step: (c.json or {}).get("step") == s,
                    clauses=(T("T5-8"), *STATUS, *extra),
                    what=f"“{steps()[step]['name']}”环节上报（T5-8）",
                )
            elif iface:
                extra = ACCEPTANCE if iface == "T5-7" else (*STATUS, *END) if iface == "T5-10" else ()
                self.expect(
                    f"{step}/{outcome}",
                    iface,
                    res.started,
                    clauses=(T(iface), *extra),
                    what=f"“{steps()[step]['name']}”上报（{iface}）",
                )
            if step == "review" and party.report is not None:
                self.expect(
                    "inspection",
                    "T6-1",
                    self.t0,
                    lambda c: party.report["reportNo"] in c.path,
                    what="检验报告查询（T6-1）",
                )
            if step == issue_step():
                for key in issue_effects():
                    self.expect(f"issue-{key}", key, res.started, what=f"发证后的 {key}")
                if SMS_FEATURE in self.target.features:
                    self.expect("sms", "sendSms", res.started, clauses=SMS + SMS_FORMAT, what="短信网关调用")
        if isinstance(self.driver, AutoDriver):
            for step, outcome in GRANTED[6:]:
                self.step(step, outcome)
            self.state = self.driver.state(party.case_no)
        time.sleep(min(1.5, self.budget))  # anything the system still sends after the end is caught too
        self.duplicate = self.push(party.messages[0])

    def special(self, step: str) -> None:
        kind = special_kinds()[0]
        for action in ("start", "end"):
            opinion = f"特别程序{'开始' if action == 'start' else '结束'}：{kind}。"
            res = self.driver.special(self.party.case_no, step, action, kind, opinion)
            self.opinions[f"special/{action}"] = opinion
            if not res.done:
                self.ledger.notes.append(f"流程驱动{action}特别程序失败：{res.message}")
                self.aborted = True
                return
            self.expect(
                f"special-{action}",
                special_report(),
                res.started,
                lambda c, a=action: (c.json or {}).get("action") == a,
                what=f"特别程序{action}上报（T5-9）",
            )

    # ------------------------------------------------------------------ judging what was received
    def analyse(self) -> None:
        calls = self.sims.calls()
        mine = self.mine(calls, loose=True)
        self.check_contracts(mine)
        self.check_consistency(mine)
        self.check_order(mine)
        self.check_messages(calls, mine)
        self.check_duplicate_push()

    def check_contracts(self, mine: list[Call]) -> None:
        for c in mine:
            cs = _clauses_of(c.key)
            if not cs:
                continue
            problems = contract_problems(c)
            cs += ITEM_SYNC if c.key in ("T5-1", "T5-2") else ()
            self.ledger.check(cs, not problems, f"{c.describe()} 不符合契约：{'；'.join(problems[:4])}", [c])

    def check_consistency(self, mine: list[Call]) -> None:
        L, party = self.ledger, self.party
        app = party.application
        for c in first_attempts(mine):
            body = c.json if isinstance(c.json, dict) else {}
            if c.key in CASE_REPORTS:
                cs = (T(c.key), *CASE_NO)
                L.check(
                    cs,
                    body.get("caseNo") == party.case_no and party.case_no in c.path,
                    f"{c.describe()}：办件编号 {body.get('caseNo')!r}（路径 {c.path}）不是政务服务平台推送的 {party.case_no}",
                    [c],
                )
                L.check(
                    (T(c.key),),
                    body.get("itemCode") == party.item,
                    f"{c.describe()}：办理项编码 {body.get('itemCode')!r} 不是申请的 {party.item}",
                    [c],
                )
        got = self.found
        sup = got.get("correction")
        if sup is not None:
            body = sup.json or {}
            self.check_notice(sup, "一次性补正告知书", (T("T5-6"), *NOTICE_PREVIEW))
            materials = [i.get("material") for i in body.get("items") or [] if isinstance(i, dict)]
            L.check((T("T5-6"),), bool(materials), f"{sup.describe()}：补齐补正上报没有需补正材料", [sup])
        acc = got.get("accept/accepted")
        if acc is not None:
            body = acc.json or {}
            name = outcomes()[("accept", "accepted")]["name"]
            L.check(
                (T("T5-7"), *ACCEPTANCE),
                body.get("result") == name,
                f"{acc.describe()}：受理结论 {body.get('result')!r}，应为 {name}",
                [acc],
            )
            L.check(
                ACCEPTANCE,
                body.get("opinion") == self.opinions.get("accept/accepted"),
                f"{acc.describe()}：受理意见 {body.get('opinion')!r} 不是受理人员填写的意见",
                [acc],
            )
            self.check_notice(acc, "受理通知书", (T("T5-7"), *ACCEPTANCE, *NOTICE_PREVIEW))
        for step in self.performed:
            call = got.get(f"step-{step}")
            if call is None:
                continue
            body = call.json or {}
            cs = (T("T5-8"), *STATUS) + (REVIEW if step == "review" else ()) + (DECISION if step == "decide" else ())
            expected_opinion = next((v for k, v in self.opinions.items() if k.startswith(f"{step}/")), None)
            problems = []
            if body.get("stepName") != steps()[step]["name"]:
                problems.append(f"环节名称 {body.get('stepName')!r}，应为 {steps()[step]['name']}")
            if expected_opinion is not None and body.get("opinion") != expected_opinion:
                problems.append(f"办理意见 {body.get('opinion')!r} 不是该环节填写的意见")
            L.check(cs, not problems, f"{call.describe()}：" + "；".join(problems), [call])
            if step == "decide":  # §7.4.2 c): the decision step pushes the decision document
                kind = outcomes()[("decide", "granted")]["notice"]
                self.check_notice(call, kind, (T("T5-8"), *DECISION), "decisionDocument", "决定文书")
        starts, ends = got.get("special-start"), got.get("special-end")
        if starts is not None and ends is not None:
            a, b = starts.json or {}, ends.json or {}
            L.check(
                (T("T5-9"),),
                a.get("procedure") == b.get("procedure") == special_kinds()[0]
                and a.get("startedAt") == b.get("startedAt")
                and bool(b.get("endedAt")),
                f"特别程序开始/结束上报不一致：种类 {a.get('procedure')!r}/{b.get('procedure')!r}，开始时间 "
                f"{a.get('startedAt')!r}/{b.get('startedAt')!r}，结束时间 {b.get('endedAt')!r}",
                [starts, ends],
            )
        result = got.get("conclude/concluded")
        licence = got.get("issue-T5-11")
        registration = got.get("issue-T7-2")
        unit = got.get("issue-T7-1")
        granted = outcomes()[("decide", "granted")]["name"]
        if result is not None:
            body = result.json or {}
            L.check(
                (T("T5-10"), *DECISION),
                body.get("result") == granted,
                f"{result.describe()}：办理结果 {body.get('result')!r}，应为 {granted}",
                [result],
            )
            self.check_notice(result, "准予许可决定书", (T("T5-10"), *DECISION))
            decided = got.get("step-decide")
            pushed = ((decided.json or {}).get("decisionDocument") or {}) if decided is not None else {}
            notice = body.get("notice") if isinstance(body.get("notice"), dict) else {}
            if pushed.get("noticeId") and notice.get("noticeId"):
                L.check(
                    DECISION,
                    pushed["noticeId"] == notice["noticeId"],
                    f"{result.describe()}：办件结果的决定书 {notice['noticeId']} 不是决定环节推送的决定文书 "
                    f"{pushed['noticeId']}",
                    [decided, result],
                )
            if self.state is not None:
                for key in ("registrationNo", "elicenseId"):
                    if self.state.get(key):
                        L.check(
                            (T("T5-10"),),
                            body.get(key) == self.state[key],
                            f"{result.describe()}：{key} {body.get(key)!r} 与办件记录的 {self.state[key]} 不一致",
                            [result],
                        )
        if licence is not None:
            body = licence.json or {}
            expect = {
                "caseNo": party.case_no,
                "itemCode": party.item,
                "holderId": app["applicant"]["idNumber"],
                "holderName": app["applicant"]["name"],
                "issuerCode": app["authority"]["uscc"],
                "issuerDivision": app["authority"]["division"],
            }
            if result is not None:
                expect.update(
                    {
                        k: (result.json or {}).get(v)
                        for k, v in (("licenceNo", "registrationNo"), ("elicenseId", "elicenseId"))
                        if (result.json or {}).get(v)
                    }
                )
            problems = _differing(body, expect)
            surface = body.get("surface") if isinstance(body.get("surface"), dict) else {}
            if (
                app["equipment"].get("equipmentCode")
                and surface.get("equipmentCode") != app["equipment"]["equipmentCode"]
            ):
                problems.append(
                    f"照面设备代码 {surface.get('equipmentCode')!r} 不是申请设备的 {app['equipment']['equipmentCode']}"
                )
            details = [d for d in body.get("details") or [] if isinstance(d, dict)]
            mine = [d for d in details if d.get("equipmentCode") == surface.get("equipmentCode")]
            if not mine:
                problems.append(f"明细信息中没有照面设备 {surface.get('equipmentCode')!r} 的一条")
            elif mine[0].get("catalogueCode") != app["equipment"]["catalogueCode"]:
                problems.append(
                    f"明细信息的设备品种 {mine[0].get('catalogueCode')!r} 不是申请设备的 {app['equipment']['catalogueCode']}"
                )
            L.check((T("T5-11"), *STRUCTURED), not problems, f"{licence.describe()}：" + "；".join(problems), [licence])
        if unit is not None:
            u = (unit.json or {}).get("unit") or {}
            L.check(
                (T("T7-1"), *SUPERVISION_EXCHANGE),
                u.get("uscc") == app["applicant"]["idNumber"] and u.get("name") == app["applicant"]["name"],
                f"{unit.describe()}：使用单位 {u.get('uscc')!r} {u.get('name')!r} 不是申请人 {app['applicant']['idNumber']} "
                f"{app['applicant']['name']}",
                [unit],
            )
        if registration is not None:
            body = registration.json or {}
            reg, eq = body.get("registration") or {}, body.get("equipment") or {}
            want = {
                "caseNo": party.case_no,
                "itemCode": party.item,
                "useUnitUscc": app["applicant"]["idNumber"],
                "catalogueCode": app["equipment"]["catalogueCode"],
            }
            problems = _differing(reg, want, "registration.")
            code = app["equipment"].get("equipmentCode")
            if code and (reg.get("equipmentCode") != code or eq.get("equipmentCode") != code):
                problems.append(
                    f"设备代码 {reg.get('equipmentCode')!r}/{eq.get('equipmentCode')!r} 不是申请设备的 {code}"
                )
            if licence is not None and reg.get("registrationNo") != (licence.json or {}).get("licenceNo"):
                problems.append(
                    f"使用登记证编号 {reg.get('registrationNo')!r} 与汇聚的电子证照 {(licence.json or {}).get('licenceNo')!r} 不一致"
                )
            if reg.get("registrationNo") != eq.get("registrationNo"):
                problems.append("registration 与 equipment 的使用登记证编号不一致")
            L.check(
                (T("T7-2"), *SUPERVISION_EXCHANGE, *ALL_REGISTERED),
                not problems,
                f"{registration.describe()}：" + "；".join(problems),
                [registration],
            )
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

    def check_notice(
        self, call: Call, kind: str, clauses: tuple[str, ...], field: str = "notice", name: str = "回执文书"
    ) -> None:
        notice = (call.json or {}).get(field)
        if not isinstance(notice, dict):
            self.ledger.check(clauses, False, f"{call.describe()}：没有{name}（{field}）", [call])
            return
        problems = []
        if notice.get("type") != kind:
            problems.append(f"文书种类 {notice.get('type')!r}，应为 {kind}")
        if notice.get("caseNo") != self.party.case_no:
            problems.append(f"文书的办件编号 {notice.get('caseNo')!r} 不是 {self.party.case_no}")
        url = notice.get("url")
        if url:
            r = self.harness.get(url if str(url).startswith(("http://", "https://")) else str(url))
            if r.status != 200 or not r.content:
                problems.append(f"文书预览地址 {url} 不可访问：{brief(r)}")
        elif not (notice.get("fileName") and notice.get("sha256")):
            problems.append("文书既没有预览地址，也没有版式文件名与摘要")
        self.ledger.check(clauses, not problems, f"{call.describe()}：" + "；".join(problems), [call])

    def check_order(self, mine: list[Call]) -> None:
        L = self.ledger
        firsts = [c for c in first_attempts(mine) if c.simulator == "gov-platform" and c.key in CASE_REPORTS]
        keys = [c.key for c in firsts]
        if "T5-7" in keys:
            first_acc = keys.index("T5-7")
            for c in firsts[:first_acc]:
                if c.key in ("T5-8", "T5-9", "T5-10"):
                    L.check(
                        (T(c.key), *STATUS),
                        False,
                        f"{c.describe()} 先于受理信息（T5-7）上报：{c.key} 应在正式受理之后 / before acceptance",
                        [c],
                    )
            L.check(
                (T("T5-7"),),
                all(k not in keys[:first_acc] for k in ("T5-8", "T5-9", "T5-10")),
                f"受理信息（T5-7）晚于 {[k for k in keys[:first_acc] if k != 'T5-6']} 才上报 / acceptance reported late",
                firsts[: first_acc + 1],
            )
            sups = [i for i, k in enumerate(keys) if k == "T5-6"]
            L.check((T("T5-6"),), all(i < first_acc for i in sups), "补齐补正（T5-6）晚于受理信息上报", firsts)
        if "T5-10" in keys:
            last = keys.index("T5-10")
            after = [c for c in firsts[last + 1 :] if c.key in ("T5-6", "T5-7", "T5-8", "T5-9")]
            L.check(
                (T("T5-10"), *END),
                not after and "T5-7" in keys[:last],
                "办件结果（T5-10）之后仍有上报，或结果先于受理信息上报："
                f"{[c.describe() for c in after] or '受理信息（T5-7）在结果之后或缺失'}",
                firsts,
            )
        reported = [(c.json or {}).get("step") for c in firsts if c.key == "T5-8"]
        if self.performed and reported:
            L.check(
                (T("T5-8"), *STATUS),
                reported == self.performed,
                f"办理环节上报（T5-8）的环节顺序 {reported} 与办理顺序 {self.performed} 不一致",
                [c for c in firsts if c.key == "T5-8"],
            )
        actions = [(c.json or {}).get("action") for c in firsts if c.key == "T5-9"]
        if actions:
            L.check(
                (T("T5-9"),),
                actions == ["start", "end"],
                f"特别程序上报（T5-9）的动作顺序为 {actions}，应为 start、end",
                [c for c in firsts if c.key == "T5-9"],
            )
        issued = self.started.get(f"{issue_step()}/issued")
        if issued is not None:
            early = [c for c in getattr(self, "before_issue", [])]
            late = [c for c in first_attempts(mine) if c.key in issue_effects() and c.t >= issued - 0.5]
            L.check(
                MARKER,
                not early and bool(late),
                f"发证之前已收到 {[c.describe() for c in early]}，或发证之后没有收到 {issue_effects()} 中的调用"
                if early or not late
                else "",
                early + late,
            )
            units = [c for c in first_attempts(mine) if c.key == "T7-1"]
            regs = [c for c in first_attempts(mine) if c.key == "T7-2"]
            L.check(
                (*ALL_REGISTERED, T("T7-2")),
                len(regs) == 1,
                f"发证的办件应恰有一次设备使用登记信息上报（T7-2），收到 {len(regs)} 次（不同消息）",
                regs,
            )
            if units and regs:
                L.check(
                    (*ALL_REGISTERED, T("T7-1")),
                    units[0].t <= regs[0].t,
                    "新使用单位的使用单位信息（T7-1）应先于设备使用登记信息（T7-2）上报",
                    units[:1] + regs[:1],
                )
        insp = self.found.get("inspection")
        decide = self.started.get("decide/granted")
        if insp is not None and decide is not None:
            L.check(
                (T("T6-1"),),
                insp.t <= decide + 0.5 and insp.t >= self.t0 - 0.5,
                f"检验报告查询（T6-1）应在申请之后、决定之前（审查时）进行：{insp.describe()}",
                [insp],
            )
        ident = self.found.get("identity")
        if ident is not None:
            L.check(IDENTITY, ident.t >= self.t0 - 0.5, "统一身份认证查询早于申请推送", [ident])
        platform = [
            self.found.get(k)
            for k in ("correction", "accept/accepted", "step-review", "conclude/concluded", "issue-T5-11")
        ]
        L.check(
            PLATFORM,
            all(c is not None and c.simulator == "gov-platform" for c in platform),
            "过程信息（T5-6、T5-7、T5-8）、审批结果（T5-10）与电子证照（T5-11）应都经政务服务平台发送，缺："
            f"{[k for k, c in zip(('T5-6', 'T5-7', 'T5-8', 'T5-10', 'T5-11'), platform, strict=True) if c is None]}",
            [c for c in platform if c is not None],
        )

    def check_messages(self, calls: list[Call], mine: list[Call]) -> None:
        """PROFILE.PUSH.1: every report carries a message id and ends with a receipt; PROFILE.PUSH.2 (sender side):
        a message id always names the same content."""
        L = self.ledger
        by_id: dict[str, list[Call]] = {}
        for c in calls:
            if c.key in MESSAGES or c.key in ("sendSms", "T6-2"):
                mid = c.message_id
                if mid:
                    by_id.setdefault(mid, []).append(c)
        for c in first_attempts(mine):
            if c.key not in MESSAGES:
                continue
            mid = (c.json or {}).get("messageId") if isinstance(c.json, dict) else None
            ok = isinstance(mid, str) and 8 <= len(mid) <= 64
            L.check(PUSH_ID, ok, f"{c.describe()}：没有合法的消息标识 messageId（{mid!r}）", [c])
            attempts = by_id.get(mid or "", [c])
            L.check(
                PUSH_ID,
                any(a.ok for a in attempts),
                f"{c.describe()}：该消息（{mid}）没有一次得到成功回执（模拟器应答 {[a.status for a in attempts]}）",
                attempts,
            )
        for mid, group in by_id.items():
            bodies = {digest(c.json) for c in group}
            L.check(
                ("PROFILE.PUSH.2",),
                len(bodies) == 1,
                f"消息标识 {mid} 被用于 {len(bodies)} 个内容不同的报文 / one message id, different contents",
                group,
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
    Item library: the system queries T5-1 and T5-2 (contract-valid, for the authority's division)."""
    judge(clause)


@per_clause("DB42.7.1.5.a.1", "DB42.10.2.T5-3.1", "DB42.10.2.T5-4.1")
def test_applicant_identity_is_fetched_from_unified_authentication(clause: str, judge: Judge) -> None:
    """统一身份认证：收到申请后，被测系统按申请中的统一身份认证用户标识获取法人（T5-4）与自然人（T5-3）信息。
    Identity: after each application the system fetches the applicant from unified identity authentication."""
    judge(clause)


@per_clause("DB42.10.2.T5-6.1", "DB42.7.2.5.e.1")
def test_correction_is_reported_with_its_notice(clause: str, judge: Judge) -> None:
    """补齐补正上报（T5-6）：按办件编号推送，带需补正材料与可访问的一次性补正告知书，先于受理信息。
    T5-6 carries the case number, the materials to complete and a reachable notice."""
    judge(clause)


@per_clause("DB42.10.2.T5-7.1", "DB42.7.2.4.1")
def test_acceptance_is_reported_first_with_the_receipt(clause: str, judge: Judge) -> None:
    """受理信息上报（T5-7）：正式受理后及时推送受理意见与受理通知书，先于其他环节与结果上报。
    T5-7 is sent in time after acceptance, with the opinion and the notice, before any later report."""
    judge(clause)


@per_clause("DB42.10.2.T5-8.1", "DB42.7.2.5.b.2", "DB42.7.3.2.b.1", "DB42.7.4.2.c.1")
def test_each_step_is_reported_in_order(clause: str, judge: Judge) -> None:
    """办理环节上报（T5-8）：审查、决定、制证、发证每一环节一次，顺序与办理一致，环节名称与办理意见与记录相同；
    决定环节的上报携带决定文书（§7.4.2 c)：准予许可决定书，办件编号一致，可查看），办件结果（T5-10）的决定书即该文书。
    Every step after acceptance is reported once, in order, with its opinion; the decision step carries the decision
    document, the one the result carries too."""
    judge(clause)


@per_clause("DB42.10.2.T5-9.1")
def test_special_procedure_is_reported(clause: str, judge: Judge) -> None:
    """特别程序上报（T5-9）：开始与结束各上报一次，种类与开始时间一致，结束带结束时间。
    The start and the end of a special procedure are each reported."""
    judge(clause)


@per_clause("DB42.10.2.T5-10.1", "DB42.7.5.2.3")
def test_result_is_reported_last(clause: str, judge: Judge) -> None:
    """办件结果上报（T5-10）：办结时推送许可结果与决定文书，使用登记证编号与电子证照标识与办件一致；其后不再上报。
    The result comes at conclusion, consistent with the case, and nothing is reported after it."""
    judge(clause)


@per_clause("DB42.10.2.T5-11.1", "DB42.7.4.4.b.1")
def test_licence_is_aggregated_as_structured_data(clause: str, judge: Judge) -> None:
    """电子证照汇聚（T5-11）：发证后以结构化证照数据汇聚至电子证照库，持证主体、证照编号、设备代码与申请和结果一致，
    明细信息中有照面设备的一条且其设备品种为申请设备的品种。
    The licence reaches the e-licence library as structured data consistent with the case, its details included."""
    judge(clause)


@per_clause("DB42.7.4.4.a.1")
def test_issuance_is_the_marker_of_external_exchange(clause: str, judge: Judge) -> None:
    """发证为数据外部交换的标志环节：发证之前电子证照库与安全监察系统未收到该办件的许可信息，发证之后收到。
    Licence data leaves the system at issuance, not before."""
    judge(clause)


@per_clause("DB42.10.4.T7-1.1", "DB42.10.4.T7-2.1", "DB42.10.4.1", "DB42.7.4.4.b.2")
def test_unit_and_registration_are_reported_to_supervision(clause: str, judge: Judge) -> None:
    """安全监察上报（T7-1、T7-2）：新使用单位先上报单位信息，再上报一次设备使用登记信息，编号与申请、电子证照一致。
    The using unit, then exactly one registration report, consistent with the case and the licence."""
    judge(clause)


@per_clause("DB42.10.3.T6-1.1")
def test_inspection_report_is_queried_during_review(clause: str, judge: Judge) -> None:
    """检验检测信息查询（T6-1）：申请之后、决定之前，被测系统按申请中的检验报告编号查询检验报告。
    The inspection report named in the application is queried before the decision."""
    judge(clause)


@per_clause("DB42.7.4.5.c4.1")
def test_sms_gateway_is_called(clause: str, judge: Judge, tzsb_target: Target) -> None:
    """短信网关调用：发证后被测系统调用（模拟）短信网关，向申请人发送含办件编号与办理结果的中文短信。目标不能把短信网关
    指向模拟网关（未声明 sms-gateway）时为未测。The SMS gateway is called after issuance (untested if it cannot be redirected)."""
    if SMS_FEATURE not in tzsb_target.features:
        pytest.skip(
            "未测：目标未声明可把短信网关指向模拟网关（sms-gateway）/ untested: SMS gateway cannot be redirected"
        )
    judge(clause)


@pytest.mark.feature(SMS_FEATURE)
@per_clause("PROFILE.DB42.7.4.5.c4")
def test_sms_call_format(clause: str, judge: Judge) -> None:
    """短信网关报文：带消息标识、接收手机号、办件编号与中文正文（含办理结果），符合 sendSms 契约。
    The SMS request follows the sendSms contract of the profile."""
    judge(clause)


@per_clause("DB42.4.3.2", "DB42.7.1.4.1")
def test_process_results_and_licence_go_through_the_platform(clause: str, judge: Judge) -> None:
    """过程信息、审批结果和电子证照经政务服务平台发送，且都使用平台推送的办件编号。
    Process information, results and the licence are sent through the platform under the platform's case number."""
    judge(clause)


@per_clause("PROFILE.PUSH.1")
def test_reports_carry_message_ids_and_get_receipts(clause: str, judge: Judge) -> None:
    """推送与上报（T5-6…T5-10、T7-1、T7-2）都带合法的消息标识，并最终得到接收方回执。
    Every report carries a valid message id and ends with a receipt."""
    judge(clause)


@per_clause("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2")
def test_duplicates_are_recognised(clause: str, judge: Judge) -> None:
    """重复消息：重复推送同一申请消息得到原回执（200，duplicate 为 true）且不被再次处理；被测系统发出的同一消息标识
    始终对应同一内容。A repeated push gets the original receipt; the system never reuses a message id for other content."""
    judge(clause)
