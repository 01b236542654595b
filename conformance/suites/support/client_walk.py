"""One case walked on the client side, and the judging of what the system under test sent for it (no tests of its
own): the machinery every client-side scenario shares — the granted case of ``test_client_side`` and the refused,
returned and changed ones of ``test_client_side_paths``.

A :class:`CaseWalk` pushes its party's application (T5-5), performs steps (workflow driver or attended operator),
and after each waits, bounded by ``wait_s`` (attended: ``attended_timeout_s``), for the report-back the outcome
must cause (workflow.json ``reportBack``, or a ``reportBackAlt``) and, at 发证, for the licence data it starts
(T5-11, T7-1, T7-2). :meth:`CaseWalk.analyse` then judges every recorded call of the case:

* **contract** — each call against its operation (body schema, parameters, bearer token);
* **consistency** — the case number and item code of every report; the result, opinion and notice of the
  acceptance; step names, outcomes and opinions; the special procedures; the result and its decision document;
  the licence, the using unit and the registration against the application and against each other; the status a
  change, cancellation or scrapping leaves (licence-items.json operations, PROFILE.DB42.10.4.T7-2);
* **order** — the acceptance first, a correction before it, nothing after the result, the steps as performed,
  special procedures as start–end pairs; licence data only after 发证, and *never* for a case that was not issued
  (a refusal); exactly one registration report (T7-2) per issued case, the using unit (T7-1) before it;
* **messages** — a valid message id and, in the end, a receipt for every report; one message id, one content.

Each check goes to the walk's :class:`~conformance.suites.support.client_side.Ledger` under its clauses; a walk adds
clauses of its own path to the checks of one call or interface through :attr:`CaseWalk.also` (e.g. the 不予受理
clauses to everything judged on that acceptance report), so one judging code serves every path.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from conformance.codes import lists as code_lists
from conformance.harness.target import Target
from conformance.simulators import Call, Simulators
from conformance.suites.support.client_side import (
    UNWIRED_NOTE,
    AttendedDriver,
    AutoDriver,
    Console,
    Ledger,
    Party,
    StepResult,
    case_calls,
    contract_problems,
    digest,
    first_attempts,
    interface_clause,
    issue_effects,
    issue_step,
    pushed,
    report_back_of,
    resubmission,
    special_report,
    unwired,
)
from conformance.suites.support.workflow import brief, data_of, licensing_operation, outcomes, steps

Item = dict[str, Any]
T = interface_clause

# ---------------------------------------------------------------------------------- clauses
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
#: The status a change, cancellation or scrapping leaves, and the registration number it keeps (project profile).
CHANGE_STATUS = ("PROFILE.DB42.10.4.T7-2",)
PUSH_ID = ("PROFILE.PUSH.1",)
IDEMPOTENT = ("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2")
CASE_REPORTS = ("T5-6", "T5-7", "T5-8", "T5-9", "T5-10")
MESSAGES = ("T5-6", "T5-7", "T5-8", "T5-9", "T5-10", "T7-1", "T7-2")


def clauses_of(key: str) -> tuple[str, ...]:
    """The clause the call ``key`` (an interface, or ``sendSms``) is judged under."""
    if key == "sendSms":
        return SMS + SMS_FORMAT
    try:
        return (T(key),)
    except LookupError:
        return ()


def differing(got: Item, want: Item, prefix: str = "") -> list[str]:
    return [f"{prefix}{k} 为 {got.get(k)!r}，应为 {v!r}" for k, v in want.items() if got.get(k) != v]


def operation_of(item: str) -> Item:
    """The Table 1 operation of an item code (licence-items.json ``operations``)."""
    return code_lists.licence_operations()[code_lists.licence_items()[item]["operation"]]


class CaseWalk:
    """One case pushed and walked (see the module doc); every observation goes to ``ledger``."""

    def __init__(
        self,
        target: Target,
        sims: Simulators,
        driver: AutoDriver | AttendedDriver,
        harness: Any,
        console: Console,
        ledger: Ledger,
        party: Party,
        *,
        known: Iterable[str] = (),
    ) -> None:
        self.target, self.sims, self.driver, self.harness = target, sims, driver, harness
        self.console, self.ledger, self.party = console, ledger, party
        settings = target.simulators
        self.budget = settings.attended_timeout_s if driver.attended else settings.wait_s
        self.rng = random.Random(secrets.randbits(64))
        #: case numbers the harness pushed: a report naming another one is the walk's, under a wrong number
        self.known: set[str] = {party.case_no, *known}
        #: extra clauses of a path, by call label (``accept/not-accepted``) or interface (``T6-2``): every check on
        #: that call or interface decides them too
        self.also: dict[str, tuple[str, ...]] = {}
        self.opinions: dict[str, str] = {}
        self.performed: list[str] = []  # steps reported by T5-8, in the order performed
        self.done: list[tuple[str, str]] = []  # every step and outcome performed, in order
        self.specials: list[tuple[str, str]] = []  # (step, kind) of each special procedure run
        self.started: dict[str, float] = {}
        self.found: dict[str, Call] = {}
        self.before_issue: list[Call] = []
        self.aborted = False
        self.state: Item | None = None
        self.t0 = 0.0
        #: when the walk's last step was done (its calls are told from the next walk's by time); None: still walking
        self.t_end: float | None = None
        self.first_receipt: Any = None

    # ------------------------------------------------------------------ helpers
    def extra(self, *names: str) -> tuple[str, ...]:
        return tuple(c for n in names for c in self.also.get(n, ()))

    def progress(self, what: str) -> Any:
        def note(left: float) -> None:
            self.console.say(f"  … 等待{what}（剩余 {left:.0f} 秒）/ waiting for {what} ({left:.0f} s left)")

        return note

    def mine(self, calls: list[Call], *, loose: bool = False) -> list[Call]:
        """Calls of the walk's case; ``loose`` also takes report-backs received while the walk ran that name a case the
        harness never pushed (the case under a number the platform did not give)."""
        out = case_calls(calls, self.party)
        if loose:
            seen = {(c.simulator, c.seq) for c in out}
            lo, hi = self.t0 - 0.5, self.t_end if self.t_end is not None else float("inf")
            out += [
                c
                for c in calls
                if c.key in CASE_REPORTS
                and (c.simulator, c.seq) not in seen
                and c.case_no is not None
                and c.case_no not in self.known
                and not pushed(c.case_no)
                and lo <= c.t <= hi
            ]
        return sorted(out, key=lambda c: (c.t, c.seq))

    def expect(
        self,
        label: str,
        key: str,
        since: float,
        match: Callable[[Call], bool] | None = None,
        *,
        clauses: tuple[str, ...] = (),
        what: str = "",
        anywhere: bool = False,
        alternatives: tuple[str, ...] = (),
        after_step: bool = False,
    ) -> Call | None:
        """Wait for the first call ``key`` (or one of ``alternatives``; and ``match``) received after ``since`` — of
        the case, or ``anywhere`` among the calls of the session; a miss fails ``clauses``. A miss of a call a step
        must cause (``after_step``) with no call of the system on record at all means it is not wired to the
        simulators (:func:`~conformance.suites.support.client_side.unwired`): noted, not failed."""
        keys = (key, *alternatives)

        def found(calls: list[Call]) -> Call | None:
            for c in calls if anywhere else self.mine(calls, loose=True):
                if c.key in keys and c.t >= since - 0.5 and (match is None or match(c)):
                    return c
            return None

        if unwired(self.sims):
            return self.unwired()
        call = self.sims.wait_for(found, timeout=self.budget, progress=self.progress(f"{what or key}"))
        cs = (*(clauses or clauses_of(key)), *self.extra(label))
        if call is None and unwired(self.sims, waited=after_step):
            return self.unwired()
        if call is None:
            self.ledger.check(
                cs,
                False,
                f"{what or label}：{self.budget:.0f} 秒内模拟器未收到 {'/'.join(keys)} 调用"
                f" / no {'/'.join(keys)} call within {self.budget:.0f} s",
            )
        else:
            call = self.answered(call)
            self.found[label] = call
            self.ledger.check(cs, True, "", [call])
        return call

    def answered(self, call: Call) -> Call:
        """``call`` as the simulator finished it: a call is recorded when it arrives, so the first sight of it can
        precede its answer; judged on that sight, an answer still being written read as "no answer" (status None).
        Waits (bounded by the walk's budget) for the same call's record with its answer; a faulted call is as it is."""
        if call.answered_at is not None or call.fault is not None:
            return call

        def done(calls: list[Call]) -> Call | None:
            return next(
                (c for c in calls if c.simulator == call.simulator and c.seq == call.seq and c.answered_at is not None),
                None,
            )

        return self.sims.wait_for(done, timeout=self.budget) or call

    def unwired(self) -> None:
        if UNWIRED_NOTE not in self.ledger.notes:
            self.ledger.notes.append(UNWIRED_NOTE)

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

    def submit(self) -> bool:
        """Push the party's application (T5-5); False (and the walk aborted) when it is not taken."""
        self.t0 = time.time()
        r = self.push(self.party.application)
        self.first_receipt = data_of(r)
        if r.status != 201:
            self.ledger.notes.append(f"申请推送（T5-5）未被接收：{brief(r)}")
            self.aborted = True
            return False
        self.console.say(f"已推送办件 {self.party.case_no}（{self.party.item}）/ case pushed")
        return True

    def resubmit(self) -> bool:
        """补齐补正: the completed application under the same case number, a new message id (T5-5)."""
        time.sleep(0.2)
        r = self.push(resubmission(self.party))
        if r.status not in (200, 201):
            self.ledger.notes.append(f"补正后再次推送未被接收：{brief(r)}")
            self.aborted = True
            return False
        self.started["resubmit"] = time.time()
        return True

    def perform(self, step: str, outcome: str, *, what: str = "") -> StepResult | None:
        """Perform a step and wait for the report-back its outcome must cause (and, at 发证, the licence data)."""
        if step == issue_step():
            self.before_issue = [c for c in self.mine(self.sims.calls()) if c.key in issue_effects()]
        res = self.step(step, outcome)
        if self.aborted:
            return None
        self.done.append((step, outcome))
        iface = report_back_of(step, outcome)
        name = steps()[step]["name"]
        if iface == "T5-8":
            self.performed.append(step)
            extra = REVIEW if step == "review" else DECISION if step == "decide" else ()
            self.expect(
                f"step-{step}",
                "T5-8",
                res.started,
                lambda c, s=step: (c.json or {}).get("step") == s,
                clauses=(T("T5-8"), *STATUS, *extra),
                what=what or f"“{name}”环节上报（T5-8）",
                after_step=True,
            )
        elif iface:
            extra = (
                ACCEPTANCE if (step, outcome) == ("accept", "accepted") else (*STATUS, *END) if iface == "T5-10" else ()
            )
            self.expect(
                f"{step}/{outcome}",
                iface,
                res.started,
                clauses=(T(iface), *extra),
                what=what or f"“{name}”上报（{iface}）",
                alternatives=tuple(outcomes()[(step, outcome)].get("reportBackAlt") or ()),
                after_step=True,
            )
        if step == issue_step():
            for key in issue_effects():
                self.expect(f"issue-{key}", key, res.started, what=f"发证后的 {key}", after_step=True)
        return res

    def special(self, step: str, kind: str) -> None:
        """A special procedure in ``step`` (start, then end), each reported by T5-9."""
        n = len(self.specials)
        self.specials.append((step, kind))
        for action in ("start", "end"):
            opinion = f"特别程序{'开始' if action == 'start' else '结束'}：{kind}。"
            res = self.driver.special(self.party.case_no, step, action, kind, opinion)
            self.opinions[f"special-{n}/{action}"] = opinion
            if not res.done:
                self.ledger.notes.append(f"流程驱动{action}特别程序失败：{res.message}")
                self.aborted = True
                return
            self.expect(
                f"special-{n}-{action}",
                special_report(),
                res.started,
                lambda c, a=action: (c.json or {}).get("action") == a,
                what=f"特别程序{action}上报（T5-9）",
                after_step=True,
            )

    def settle(self) -> None:
        """A moment for anything the system still sends after the last step (caught by the order checks)."""
        time.sleep(min(1.5, self.budget))

    def finish(self) -> None:
        """The walk is over: a late report under a number the platform never gave is no longer taken as this case's."""
        self.t_end = time.time()

    # ------------------------------------------------------------------ judging what was received
    def analyse(self) -> None:
        if unwired(self.sims):  # nothing the system sent can be judged, not even that it sent nothing
            self.unwired()
            return
        calls = self.sims.calls()
        mine = self.mine(calls, loose=True)
        self.check_contracts(mine)
        self.check_consistency(mine)
        self.check_order(mine)
        self.check_messages(calls, mine)

    def check_contracts(self, mine: list[Call]) -> None:
        for c in mine:
            cs = clauses_of(c.key)
            if not cs:
                continue
            problems = contract_problems(c)
            cs += ITEM_SYNC if c.key in ("T5-1", "T5-2") else ()
            cs += self.extra(c.key, *(label for label, f in self.found.items() if f is c))
            self.ledger.check(cs, not problems, f"{c.describe()} 不符合契约：{'；'.join(problems[:4])}", [c])

    def check_consistency(self, mine: list[Call]) -> None:
        L, party = self.ledger, self.party
        for c in first_attempts(mine):
            body = c.json if isinstance(c.json, dict) else {}
            if c.key in CASE_REPORTS:
                labels = [label for label, f in self.found.items() if f is c]
                cs = (T(c.key), *CASE_NO, *self.extra(*labels))
                L.check(
                    cs,
                    body.get("caseNo") == party.case_no and party.case_no in c.path,
                    f"{c.describe()}：办件编号 {body.get('caseNo')!r}（路径 {c.path}）不是政务服务平台推送的 {party.case_no}",
                    [c],
                )
                L.check(
                    (T(c.key), *self.extra(*labels)),
                    body.get("itemCode") == party.item,
                    f"{c.describe()}：办理项编码 {body.get('itemCode')!r} 不是申请的 {party.item}",
                    [c],
                )
        self.check_acceptance()
        self.check_steps()
        self.check_specials()
        self.check_result()
        self.check_licence_data()

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

    def check_acceptance(self) -> None:
        """The correction (T5-6) and the acceptance or refusal to accept (T5-7), each with its notice."""
        L = self.ledger
        for (step, outcome), label in ((o, f"{o[0]}/{o[1]}") for o in self.done if o[0] == "accept"):
            call = self.found.get(label)
            if call is None:
                continue
            body, also = call.json or {}, self.extra(label)
            kind = outcomes()[(step, outcome)].get("notice")
            if report_back_of(step, outcome) == "T5-6":
                if kind:
                    self.check_notice(call, kind, (T("T5-6"), *NOTICE_PREVIEW, *also))
                materials = [i.get("material") for i in body.get("items") or [] if isinstance(i, dict)]
                L.check((T("T5-6"), *also), bool(materials), f"{call.describe()}：补齐补正上报没有需补正材料", [call])
                continue
            name = outcomes()[(step, outcome)]["name"]
            formal = ACCEPTANCE if outcome == "accepted" else ()
            L.check(
                (T(call.key), *formal, *also),
                body.get("result") == name,
                f"{call.describe()}：受理结论 {body.get('result')!r}，应为 {name}",
                [call],
            )
            L.check(
                (*(formal or (T(call.key),)), *also),
                body.get("opinion") == self.opinions.get(label),
                f"{call.describe()}：受理意见 {body.get('opinion')!r} 不是受理人员填写的意见",
                [call],
            )
            if kind:
                self.check_notice(call, kind, (T(call.key), *formal, *NOTICE_PREVIEW, *also))

    def check_steps(self) -> None:
        """Each T5-8: the step's name, outcome and opinion as performed."""
        for step in self.performed:
            call = self.found.get(f"step-{step}")
            if call is None:
                continue
            body = call.json or {}
            outcome = next(o for s, o in reversed(self.done) if s == step)
            cs = (T("T5-8"), *STATUS) + (REVIEW if step == "review" else ()) + (DECISION if step == "decide" else ())
            cs += self.extra(f"step-{step}")
            problems = []
            if body.get("stepName") != steps()[step]["name"]:
                problems.append(f"环节名称 {body.get('stepName')!r}，应为 {steps()[step]['name']}")
            name = outcomes()[(step, outcome)]["name"]
            if body.get("outcome") not in (name, name[:20]):
                problems.append(f"环节结论 {body.get('outcome')!r}，应为 {name}")
            expected_opinion = self.opinions.get(f"{step}/{outcome}")
            if expected_opinion is not None and body.get("opinion") != expected_opinion:
                problems.append(f"办理意见 {body.get('opinion')!r} 不是该环节填写的意见")
            self.ledger.check(cs, not problems, f"{call.describe()}：" + "；".join(problems), [call])
            kind = outcomes()[(step, outcome)].get("notice") if step == "decide" else None
            if kind:  # §7.4.2 c): the decision step pushes the decision document
                self.check_notice(call, kind, (T("T5-8"), *DECISION), "decisionDocument", "决定文书")

    def check_specials(self) -> None:
        """Each special procedure: start and end reported with the same kind (the one run) and start time, an end time."""
        for n, (_step, kind) in enumerate(self.specials):
            starts, ends = self.found.get(f"special-{n}-start"), self.found.get(f"special-{n}-end")
            if starts is None or ends is None:
                continue
            a, b = starts.json or {}, ends.json or {}
            self.ledger.check(
                (T("T5-9"), *self.extra(f"special-{n}-start", f"special-{n}-end")),
                a.get("procedure") == b.get("procedure") == kind
                and a.get("startedAt") == b.get("startedAt")
                and bool(b.get("endedAt")),
                f"特别程序开始/结束上报不一致：种类 {a.get('procedure')!r}/{b.get('procedure')!r}（应为 {kind}），开始时间 "
                f"{a.get('startedAt')!r}/{b.get('startedAt')!r}，结束时间 {b.get('endedAt')!r}",
                [starts, ends],
            )

    def decided(self) -> tuple[str, str] | None:
        return next(((s, o) for s, o in self.done if s == "decide"), None)

    def issued(self) -> bool:
        return any(s == issue_step() for s, _ in self.done)

    def check_result(self) -> None:
        """T5-10: the decision and its document; the certificate's numbers only when one was issued."""
        result, decision = self.found.get("conclude/concluded"), self.decided()
        if result is None or decision is None:
            return
        L, body, also = self.ledger, result.json or {}, self.extra("conclude/concluded")
        name = outcomes()[decision]["name"]
        L.check(
            (T("T5-10"), *DECISION, *also),
            body.get("result") == name,
            f"{result.describe()}：办理结果 {body.get('result')!r}，应为 {name}",
            [result],
        )
        kind = outcomes()[decision].get("notice")
        if kind:
            self.check_notice(result, kind, (T("T5-10"), *DECISION, *also))
        decided = self.found.get("step-decide")
        pushed = ((decided.json or {}).get("decisionDocument") or {}) if decided is not None else {}
        notice = body.get("notice") if isinstance(body.get("notice"), dict) else {}
        if decided is not None and pushed.get("noticeId") and notice.get("noticeId"):
            L.check(
                DECISION,
                pushed["noticeId"] == notice["noticeId"],
                f"{result.describe()}：办件结果的决定书 {notice['noticeId']} 不是决定环节推送的决定文书 "
                f"{pushed['noticeId']}",
                [decided, result],
            )
        if not self.issued():
            leaked = [k for k in ("registrationNo", "elicenseId") if body.get(k)]
            L.check(
                (T("T5-10"), *MARKER, *also),
                not leaked,
                f"{result.describe()}：办件没有发证，结果上报却带有 {leaked}（{[body.get(k) for k in leaked]}）",
                [result],
            )
        elif self.state is not None:
            for key in ("registrationNo", "elicenseId"):
                if self.state.get(key):
                    L.check(
                        (T("T5-10"), *also),
                        body.get(key) == self.state[key],
                        f"{result.describe()}：{key} {body.get(key)!r} 与办件记录的 {self.state[key]} 不一致",
                        [result],
                    )

    def check_licence_data(self) -> None:
        """The licence (T5-11), the using unit (T7-1) and the registration (T7-2) against the application, the result and
        each other; the status the item's operation leaves (licence-items.json, PROFILE.DB42.10.4.T7-2)."""
        L, party = self.ledger, self.party
        app = party.application
        op = operation_of(party.item)
        result = self.found.get("conclude/concluded")
        licence, unit, registration = (self.found.get(f"issue-{k}") for k in ("T5-11", "T7-1", "T7-2"))
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
            problems = differing(body, expect)
            surface = body.get("surface") if isinstance(body.get("surface"), dict) else {}
            code = app["equipment"].get("equipmentCode")
            if code and surface.get("equipmentCode") != code:
                problems.append(f"照面设备代码 {surface.get('equipmentCode')!r} 不是申请设备的 {code}")
            cs = (T("T5-11"), *STRUCTURED, *self.extra("issue-T5-11"))
            L.check(cs, not problems, f"{licence.describe()}：" + "；".join(problems), [licence])
            L.check(
                CHANGE_STATUS,
                body.get("status") == op["licenceStatus"],
                f"{licence.describe()}：{op['name']}的证照状态为 {body.get('status')!r}，应为 {op['licenceStatus']}",
                [licence],
            )
        if unit is not None:
            u = (unit.json or {}).get("unit") or {}
            L.check(
                (T("T7-1"), *SUPERVISION_EXCHANGE, *self.extra("issue-T7-1")),
                u.get("uscc") == app["applicant"]["idNumber"] and u.get("name") == app["applicant"]["name"],
                f"{unit.describe()}：使用单位 {u.get('uscc')!r} {u.get('name')!r} 不是申请人 {app['applicant']['idNumber']} "
                f"{app['applicant']['name']}",
                [unit],
            )
        if registration is not None:
            self.check_registration(registration, licence, op)

    def check_registration(self, registration: Call, licence: Call | None, op: Item) -> None:
        app = self.party.application
        body = registration.json or {}
        reg, eq = body.get("registration") or {}, body.get("equipment") or {}
        want = {
            "caseNo": self.party.case_no,
            "itemCode": self.party.item,
            "useUnitUscc": app["applicant"]["idNumber"],
            "catalogueCode": app["equipment"]["catalogueCode"],
        }
        problems = differing(reg, want, "registration.")
        code = app["equipment"].get("equipmentCode")
        if code and (reg.get("equipmentCode") != code or eq.get("equipmentCode") != code):
            problems.append(f"设备代码 {reg.get('equipmentCode')!r}/{eq.get('equipmentCode')!r} 不是申请设备的 {code}")
        if licence is not None and reg.get("registrationNo") != (licence.json or {}).get("licenceNo"):
            problems.append(
                f"使用登记证编号 {reg.get('registrationNo')!r} 与汇聚的电子证照 {(licence.json or {}).get('licenceNo')!r} 不一致"
            )
        if reg.get("registrationNo") != eq.get("registrationNo"):
            problems.append("registration 与 equipment 的使用登记证编号不一致")
        self.ledger.check(
            (T("T7-2"), *SUPERVISION_EXCHANGE, *ALL_REGISTERED, *self.extra("issue-T7-2")),
            not problems,
            f"{registration.describe()}：" + "；".join(problems),
            [registration],
        )
        status = []
        if reg.get("status") != op["registrationStatus"]:
            status.append(f"登记状态 {reg.get('status')!r}，应为 {op['registrationStatus']}")
        if eq.get("status") != op["equipmentStatus"]:
            status.append(f"设备状态 {eq.get('status')!r}，应为 {op['equipmentStatus']}")
        original = app["equipment"].get("registrationNo")
        if op["keepsRegistrationNo"] and original and reg.get("registrationNo") != original:
            status.append(f"使用登记证编号 {reg.get('registrationNo')!r} 应沿用申请中的原编号 {original}")
        self.ledger.check(
            CHANGE_STATUS,
            not status,
            f"{registration.describe()}：{op['name']}：" + "；".join(status),
            [registration],
        )

    def check_order(self, mine: list[Call]) -> None:
        L = self.ledger
        firsts = [c for c in first_attempts(mine) if c.simulator == "gov-platform" and c.key in CASE_REPORTS]
        keys = [c.key for c in firsts]
        accepts = [i for i, c in enumerate(firsts) if c.key == "T5-7"]
        if accepts:
            first_acc = accepts[0]
            acc_also = self.extra(*(label for label, f in self.found.items() if f is firsts[first_acc]))
            for c in firsts[:first_acc]:
                if c.key in ("T5-8", "T5-9", "T5-10"):
                    L.check(
                        (T(c.key), *STATUS),
                        False,
                        f"{c.describe()} 先于受理信息（T5-7）上报：{c.key} 应在正式受理之后 / before acceptance",
                        [c],
                    )
            L.check(
                (T("T5-7"), *acc_also),
                all(k not in keys[:first_acc] for k in ("T5-8", "T5-9", "T5-10")),
                f"受理信息（T5-7）晚于 {[k for k in keys[:first_acc] if k != 'T5-6']} 才上报 / acceptance reported late",
                firsts[: first_acc + 1],
            )
            sups = [i for i, k in enumerate(keys) if k == "T5-6"]
            L.check(
                (T("T5-6"), *self.extra("accept/correction")),
                all(i < first_acc for i in sups),
                "补齐补正（T5-6）晚于受理信息上报",
                firsts,
            )
            if (firsts[first_acc].json or {}).get("result") != outcomes()[("accept", "accepted")]["name"]:
                after = [c for c in firsts[first_acc + 1 :] if c.key in ("T5-6", "T5-7", "T5-8", "T5-9")]
                L.check(
                    (T("T5-7"), *acc_also),
                    not after,
                    f"不予受理（T5-7）之后仍有上报：{[c.describe() for c in after]} / reports after a refusal to accept",
                    firsts,
                )
        if "T5-10" in keys:
            last = keys.index("T5-10")
            after = [c for c in firsts[last + 1 :] if c.key in ("T5-6", "T5-7", "T5-8", "T5-9", "T5-10")]
            L.check(
                (T("T5-10"), *END, *self.extra("conclude/concluded")),
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
            unperformed = [s for s in reported if s not in self.performed]
            if unperformed:
                L.check(
                    (T("T5-8"), *self.extra("step-unperformed")),
                    False,
                    f"办件没有办理的环节被上报（T5-8）：{unperformed}",
                    [c for c in firsts if c.key == "T5-8" and (c.json or {}).get("step") in unperformed],
                )
        actions = [(c.json or {}).get("action") for c in firsts if c.key == "T5-9"]
        if actions:
            L.check(
                (T("T5-9"),),
                actions == ["start", "end"] * len(self.specials),
                f"特别程序上报（T5-9）的动作顺序为 {actions}，应为每次特别程序 start、end",
                [c for c in firsts if c.key == "T5-9"],
            )
        issued = self.started.get(f"{issue_step()}/issued")
        licence_data = [c for c in first_attempts(mine) if c.key in issue_effects()]
        if issued is not None:
            early = list(self.before_issue)
            late = [c for c in licence_data if c.t >= issued - 0.5]
            L.check(
                MARKER,
                not early and bool(late),
                f"发证之前已收到 {[c.describe() for c in early]}，或发证之后没有收到 {issue_effects()} 中的调用"
                if early or not late
                else "",
                early + late,
            )
            units = [c for c in licence_data if c.key == "T7-1"]
            regs = [c for c in licence_data if c.key == "T7-2"]
            L.check(
                (*ALL_REGISTERED, T("T7-2"), *self.extra("issue-T7-2")),
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
        elif self.done and not self.aborted:
            # a case that was never issued (a refusal): no licence data may leave the system, ever
            L.check(
                (*MARKER, *self.extra("no-licence")),
                not licence_data,
                f"办件没有发证（{[outcomes()[o]['name'] for o in self.done]}），电子证照库或安全监察系统却收到了"
                f"它的许可信息：{[c.describe() for c in licence_data]}",
                licence_data or firsts[-1:],
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
            if c.key not in MESSAGES and c.key != "T6-2":
                continue
            also = self.extra(c.key) if c.key == "T6-2" else ()
            mid = (c.json or {}).get("messageId") if isinstance(c.json, dict) else None
            ok = isinstance(mid, str) and 8 <= len(mid) <= 64
            L.check((*PUSH_ID, *also), ok, f"{c.describe()}：没有合法的消息标识 messageId（{mid!r}）", [c])
            attempts = by_id.get(mid or "", [c])
            L.check(
                (*PUSH_ID, *also),
                any(a.ok for a in attempts),
                f"{c.describe()}：该消息（{mid}）没有一次得到成功回执（模拟器应答 {[a.status for a in attempts]}）",
                attempts,
            )
        mids = {c.message_id for c in mine}
        for mid, group in by_id.items():
            if mid not in mids:
                continue
            bodies = {digest(c.json) for c in group}
            L.check(
                ("PROFILE.PUSH.2",),
                len(bodies) == 1,
                f"消息标识 {mid} 被用于 {len(bodies)} 个内容不同的报文 / one message id, different contents",
                group,
            )
