"""统一受理 receivers of the gov-platform (DB42/T 2279-2024 表5 序号6–10): the licensing system
reports each case event back to the platform by case number.

Which cases the platform knows
------------------------------
1. demo cases written by the seeder (``--seed``), some in every state below;
2. cases registered with :func:`register_case` — the licensing role calls it when it accepts
   an application push (T5-5) and both roles share one database (``--role all``)::

       from conformance.reference.roles.gov_platform.cases import register_case
       register_case(db, case_no, item_code, applicant_id, submitted_at)

   A new case starts in ``submitted``. Calling it again for a case in ``awaiting-correction``
   records the re-submission after 补齐补正 (the contract's "same case number, new messageId"
   push) and puts the case back in ``submitted``; in any other state it changes nothing. It is
   safe inside the caller's transaction and creates the tables if the gov-platform role was
   never set up in that database.

A report for an unknown case number is 404. The body's ``caseNo`` must equal the path's, and
its ``itemCode`` the case's item, else 400 (``errors[].path`` ``/caseNo`` or ``/itemCode``).

State order (409 ``STATE_CONFLICT``)
------------------------------------
The platform follows the case with the states of ``schemas/codelists/workflow.json``
(``caseStates``) that it can see, driven by the reports:

==========================  ==========================================================
report                      allowed when … → new state
==========================  ==========================================================
T5-6 补齐补正 (supplement)   ``submitted`` or ``awaiting-correction`` → ``awaiting-correction``
T5-7 受理 (acceptance)       ``submitted`` or ``awaiting-correction`` → ``accepted``
                            (正式受理) or ``not-accepted`` (不予受理, terminal: the case ends)
T5-8 环节 (step)             ``accepted`` and the step is the pending one (or the one last
                            reported, a repeat) → ``accepted``
T5-9 特别程序                ``accepted``/``suspended`` while 审查 or 决定 is pending;
                            ``start`` of a kind not yet open → ``suspended``; ``end`` of an
                            open kind → ``accepted`` once none is open
T5-10 结果 (result)          ``accepted`` (no special procedure open) and 办结 is pending →
                            ``concluded`` (terminal: the exchange ends, §7.5.2 c)
==========================  ==========================================================

* Steps reported through T5-8 are those whose outcomes have ``reportBack: T5-8`` in
  workflow.json — 审查 ``review``, 决定 ``decide``, 制证 ``certify``, 发证 ``issue`` — in that
  order, none skipped. 申请/受理 travel by T5-5/T5-6/T5-7, 办结 by T5-10; 预归档/归档 are
  internal (the exchange with the platform ends at 办结): reporting them via T5-8 is 409.
* The pending step after 决定 depends on its outcome text: containing 准予许可 → 制证; 不予许可
  → 办结 (T5-10); otherwise either.
* T5-10 准予许可 needs 发证 reported (the certificate exists); 不予许可 needs 决定 reported last
  with an outcome that is not 准予许可. A result contradicting the 决定 outcome is 409.
* Special procedures may run during 审查 or 决定 only (``specialProcedure.allowedIn``);
  no step and no result while one is open.
* Acceptance twice, a supplement after acceptance, a step or a result before acceptance,
  and anything after 不予受理 or after the result are therefore 409.
* Acceptance from ``awaiting-correction`` is allowed: the re-submission happens on the
  platform, and the licensing system may re-push without the platform's knowledge when the
  roles run in separate processes.

With the defect ``report-back-any-order`` none of these order rules is applied (404 and 400
still are); the state is updated as well as it can be.

Every report taken is appended to the case's history: :func:`case_reports` (``seq``,
``interface``, ``kind``, ``messageId``, ``receivedAt``, ``stateBefore``, ``stateAfter``,
``body``). :func:`case_state` gives the current state; :func:`cases` lists case numbers.
Repeats of a ``messageId`` are answered from the first receipt (``roles/messages.py``) and
are not added to the history.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import orjson

from conformance.clock import CHINA
from conformance.contract.errors import ErrorCode
from conformance.reference.context import Ctx, Reply, now_iso, operation
from conformance.reference.db import Database, camel, dumps, loads
from conformance.reference.defects import D
from conformance.reference.errors import ApiError, bad_request, conflict, not_found
from conformance.reference.roles.gov_platform.model import demo_holder_context, ensure_tables, group_of
from conformance.reference.roles.licensing.procedure import special, states, steps, workflow
from conformance.reference.roles.messages import once
from conformance.reference.server_state import RoleServer

GRANTED, REFUSED = "准予许可", "不予许可"
TERMINAL = ("not-accepted", "concluded")
_COLS = (
    "case_no",
    "item_code",
    "applicant_id",
    "submitted_at",
    "state",
    "last_step",
    "decision",
    "open_procedures",
    "result",
    "submissions",
    "source",
    "updated_at",
)


@functools.cache
def reported_steps() -> tuple[str, ...]:
    """Steps whose outcomes are reported through T5-8, in workflow order (review, decide, certify, issue)."""
    wf = workflow()
    with_t58 = {o["step"] for o in wf["outcomes"] if o.get("reportBack") == "T5-8"}
    return tuple(s["code"] for s in sorted(wf["steps"], key=lambda s: s["order"]) if s["code"] in with_t58)


@functools.cache
def _step_names() -> dict[str, str]:
    return {code: s["name"] for code, s in steps().items()}


@functools.cache
def _state_names() -> dict[str, str]:
    names = {code: s["name"] for code, s in states().items()}
    names["concluded"] = "已办结（结果已上报）"
    return names


def _state_zh(state: str) -> str:
    return f"{_state_names().get(state, state)}（{state}）"


def _decision(outcome: str) -> str | None:
    if REFUSED in outcome:
        return REFUSED
    if GRANTED in outcome:
        return GRANTED
    return None


def _notices() -> dict[str, str]:
    """Decision (准予许可 / 不予许可) → its decision document's type (workflow.json, the outcomes of 决定)."""
    return {o["name"]: o["notice"] for o in workflow()["outcomes"] if o["step"] == "decide" and o.get("notice")}


def _check_decision_document(body: dict[str, Any], decision: str | None) -> None:
    """§7.4.2 c): the decision step's document (the schema requires it) is of this case and of this decision."""
    document = body["decisionDocument"]
    if document["caseNo"] != body["caseNo"]:
        raise bad_request(
            f"决定文书的办件编号 {document['caseNo']} 不是本办件 {body['caseNo']}",
            "the decision document belongs to another case",
            [{"path": "/decisionDocument/caseNo", "message": "决定文书不属于本办件", "messageEn": "another case's"}],
        )
    want = _notices().get(decision or "")
    if want is not None and document["type"] != want:
        raise bad_request(
            f"决定为“{decision}”，决定文书却是“{document['type']}”",
            f"the decision is {decision} but the document is a {document['type']}",
            [
                {
                    "path": "/decisionDocument/type",
                    "message": f"应为{want}",
                    "messageEn": "the document does not match the decision",
                }
            ],
        )


def pending(case: dict[str, Any]) -> tuple[str, ...]:
    """The step(s) the platform expects next for an accepted case."""
    if case["state"] not in ("accepted", "suspended"):
        return ()
    last, order = case["last_step"], reported_steps()
    if last is None:
        return (order[0],)
    if last == "decide":
        return {GRANTED: ("certify",), REFUSED: ("conclude",)}.get(case["decision"] or "", ("certify", "conclude"))
    if last == order[-1]:
        return ("conclude",)
    return (order[order.index(last) + 1],)


# ------------------------------------------------------------------------------ storage
def _row(db: Database, case_no: str) -> dict[str, Any] | None:
    row = db.one(f"SELECT {', '.join(_COLS)} FROM gov_cases WHERE case_no = ?", case_no)
    if row is None:
        return None
    case = dict(zip(_COLS, row, strict=True))
    case["open_procedures"] = orjson.loads(case["open_procedures"])
    return case


def register_case(
    db: Database, case_no: str, item_code: str, applicant_id: str, submitted_at: str, *, source: str = "licensing"
) -> dict[str, Any]:
    """Make the platform know a case (see the module docstring); returns :func:`case_state`."""
    ensure_tables(db)
    with db.write() as c:
        case = _row(db, case_no)
        if case is None:
            c.execute(
                "INSERT INTO gov_cases (case_no, item_code, applicant_id, submitted_at, state, source, updated_at) "
                "VALUES (?, ?, ?, ?, 'submitted', ?, ?)",
                (case_no, item_code, applicant_id, submitted_at, source, now_iso()),
            )
        elif case["state"] == "awaiting-correction":
            c.execute(
                "UPDATE gov_cases SET state = 'submitted', submissions = submissions + 1, updated_at = ? "
                "WHERE case_no = ?",
                (now_iso(), case_no),
            )
    state = case_state(db, case_no)
    assert state is not None
    return state


def case_state(db: Database, case_no: str) -> dict[str, Any] | None:
    """``{caseNo, itemCode, applicantId, submittedAt, state, lastStep, decision, openProcedures, result,
    pending, submissions, source}`` or None for an unknown case."""
    ensure_tables(db)
    case = _row(db, case_no)
    if case is None:
        return None
    shown = {camel(column): case[column] for column in _COLS[: _COLS.index("result") + 1]}
    return {**shown, "pending": list(pending(case)), "submissions": case["submissions"], "source": case["source"]}


def case_reports(db: Database, case_no: str) -> list[dict[str, Any]]:
    """The reports (T5-6 … T5-10) the platform took for ``case_no``, oldest first."""
    ensure_tables(db)
    reports = db.records(
        "SELECT seq, interface, kind, message_id, received_at, state_before, state_after, body "
        "FROM gov_case_reports WHERE case_no = ? ORDER BY seq",
        case_no,
    )
    return [{**r, "body": loads(r["body"])} for r in reports]


def cases(db: Database, state: str | None = None) -> list[str]:
    """Case numbers the platform knows (in one state, if given)."""
    ensure_tables(db)
    return [
        r[0]
        for r in db.all("SELECT case_no FROM gov_cases WHERE (? IS NULL OR state = ?) ORDER BY case_no", state, state)
    ]


# ------------------------------------------------------------------------------ the rules
def _refuse(zh: str, en: str) -> ApiError:
    return conflict(zh, en, ErrorCode.STATE_CONFLICT)


def _transition(case: dict[str, Any], kind: str, body: dict[str, Any], check: bool) -> dict[str, Any]:
    """The case after ``body`` (a report of ``kind``); raises 409 when ``check`` and the order is violated."""
    state = case["state"]
    new = dict(case, open_procedures=list(case["open_procedures"]))
    here = _state_zh(state)
    if check and state in TERMINAL:
        raise _refuse(f"办件已结束（{here}），不再接收上报", f"case has ended ({state}); no further reports")
    if kind == "supplement":
        if check and state not in ("submitted", "awaiting-correction"):
            raise _refuse(f"办件已受理（{here}），不能再上报补齐补正", f"supplement not allowed in state {state}")
        new["state"] = "awaiting-correction"
    elif kind == "acceptance":
        if check and state not in ("submitted", "awaiting-correction"):
            raise _refuse(
                f"办件当前为{here}，不能再次上报受理", f"acceptance not allowed in state {state} (accepted twice?)"
            )
        new["state"] = "accepted" if body["result"] == "正式受理" else "not-accepted"
    elif kind == "step":
        step = body["step"]
        name = _step_names().get(step, step)
        if check:
            if step not in reported_steps():
                raise _refuse(
                    f"环节“{name}”不经 T5-8 上报（T5-8 只上报审查、决定、制证、发证；受理经 T5-7，办结经 T5-10，"
                    "预归档和归档不与政务服务平台交互）",
                    f"step {step} is not reported through T5-8",
                )
            if state == "suspended":
                raise _refuse("特别程序尚未结束，不能上报环节办理信息", "a special procedure is open")
            if state != "accepted":
                raise _refuse(
                    f"办件尚未受理（{here}），不能上报环节办理信息", f"step reported before acceptance (state {state})"
                )
            expected = pending(case)
            if step not in expected and step != case["last_step"]:
                want = "、".join(_step_names().get(s, s) for s in expected)
                raise _refuse(
                    f"环节顺序错误：当前待办环节为“{want}”，上报的是“{name}”",
                    f"step out of order: expected {'/'.join(expected)}, got {step}",
                )
        new["last_step"] = step
        if step == "decide":
            new["decision"] = _decision(body["outcome"])
            if check:
                _check_decision_document(body, new["decision"])
        if not check and new["state"] in ("submitted", "awaiting-correction"):
            new["state"] = "accepted"
    elif kind == "special":
        proc, action = body["procedure"], body["action"]
        if check:
            if state not in ("accepted", "suspended"):
                raise _refuse(
                    f"办件尚未受理（{here}），不能上报特别程序", f"special procedure before acceptance (state {state})"
                )
            if not set(pending(case)) & set(special()["allowedIn"]):
                raise _refuse("特别程序只能在审查或决定环节进行", "special procedures only during review or decide")
            if action == "start" and proc in case["open_procedures"]:
                raise _refuse(f"特别程序“{proc}”已开始且尚未结束", f"special procedure {proc} already open")
            if action == "end" and proc not in case["open_procedures"]:
                raise _refuse(f"特别程序“{proc}”未开始即结束", f"special procedure {proc} ended without a start")
        if action == "start" and proc not in new["open_procedures"]:
            new["open_procedures"].append(proc)
        elif action == "end" and proc in new["open_procedures"]:
            new["open_procedures"].remove(proc)
        new["state"] = "suspended" if new["open_procedures"] else ("accepted" if state == "suspended" else state)
    elif kind == "result":
        result = body["result"]
        if check:
            if state in ("submitted", "awaiting-correction"):
                raise _refuse(f"办件尚未受理（{here}），不能上报办件结果", f"result before acceptance (state {state})")
            if state == "suspended":
                raise _refuse("特别程序尚未结束，不能上报办件结果", "a special procedure is open")
            if "conclude" not in pending(case):
                want = "、".join(_step_names().get(s, s) for s in pending(case))
                raise _refuse(f"尚未到办结：待办环节为“{want}”", f"result too early: pending {'/'.join(pending(case))}")
            if case["decision"] and case["decision"] != result:
                raise _refuse(
                    f"办件结果“{result}”与决定环节意见“{case['decision']}”不一致",
                    f"result {result} contradicts the decision {case['decision']}",
                )
            if result == GRANTED and case["last_step"] != "issue":
                raise _refuse("准予许可的办件须先上报发证环节", "a granted case reports the issue step first")
            if result == REFUSED and case["last_step"] != "decide":
                raise _refuse("已制证或发证的办件不能上报不予许可", "a refused case cannot have been certified")
        new["state"], new["result"] = "concluded", result
    return new


_KINDS = {
    "reportSupplement": ("supplement", "T5-6"),
    "reportAcceptance": ("acceptance", "T5-7"),
    "reportStep": ("step", "T5-8"),
    "reportSpecialProcedure": ("special", "T5-9"),
    "reportResult": ("result", "T5-10"),
}


def apply_report(
    db: Database, kind: str, interface: str, body: dict[str, Any], *, check: bool = True, at: str | None = None
) -> dict[str, Any]:
    """Apply one report to its case inside the current transaction; returns the receipt."""
    case_no = body["caseNo"]
    case = _row(db, case_no)
    if case is None:
        raise not_found(f"办件 {case_no} ", f"case {case_no}")
    if body["itemCode"] != case["item_code"]:
        raise bad_request(
            f"办理项编码 {body['itemCode']} 与办件的办理项 {case['item_code']} 不符",
            f"itemCode {body['itemCode']} differs from the case's {case['item_code']}",
            [
                {
                    "path": "/itemCode",
                    "message": "办理项编码与办件不符",
                    "messageEn": "item code differs from the case's",
                }
            ],
        )
    new = _transition(case, kind, body, check)
    at = at or now_iso()
    db.conn.execute(
        "UPDATE gov_cases SET state = ?, last_step = ?, decision = ?, open_procedures = ?, result = ?, "
        "updated_at = ? WHERE case_no = ?",
        (
            new["state"],
            new["last_step"],
            new["decision"],
            orjson.dumps(new["open_procedures"]).decode(),
            new["result"],
            at,
            case_no,
        ),
    )
    db.conn.execute(
        "INSERT INTO gov_case_reports (case_no, interface, kind, message_id, received_at, state_before, "
        "state_after, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (case_no, interface, kind, body["messageId"], at, case["state"], new["state"], dumps(body)),
    )
    return {"messageId": body["messageId"], "caseNo": case_no, "receivedAt": at, "duplicate": False}


@operation(*_KINDS)
async def receive_report(ctx: Ctx) -> Reply:
    kind, interface = _KINDS[ctx.op.operation_id]
    body = ctx.body
    if body["caseNo"] != ctx.path["caseNo"]:
        raise bad_request(
            f"请求体的办件编号 {body['caseNo']} 与路径中的 {ctx.path['caseNo']} 不同",
            "caseNo in the body differs from the path",
            [{"path": "/caseNo", "message": "办件编号与路径不一致", "messageEn": "caseNo differs from the path"}],
        )
    check = not ctx.defect(D.REPORT_BACK_ANY_ORDER)

    def process() -> tuple[int, dict[str, Any]]:
        return 201, apply_report(ctx.db, kind, interface, body, check=check)

    return await once(ctx, f"gov-platform.{interface}", body, process)


# ------------------------------------------------------------------------------ demo cases
_PLANS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    # (label, count, reports): s=supplement a=accept n=not-accept r/d/D/c/i=review/decide granted/decide refused/
    # certify/issue, S/E=special start/end, G/R=result granted/refused
    ("submitted", 6, ()),
    ("awaiting-correction", 5, ("s",)),
    ("not-accepted", 4, ("n",)),
    ("not-accepted-after-correction", 2, ("s", "n")),
    ("accepted", 3, ("a",)),
    ("reviewed", 2, ("s", "a", "r")),
    ("granted", 2, ("a", "r", "d")),
    ("certified", 2, ("a", "r", "d", "c")),
    ("issued", 2, ("a", "r", "d", "c", "i")),
    ("suspended-in-review", 3, ("a", "S")),
    ("suspended-in-decision", 2, ("a", "r", "S")),
    ("concluded-granted", 10, ("a", "r", "d", "c", "i", "G")),
    ("concluded-granted-special", 3, ("s", "a", "S", "E", "r", "d", "c", "i", "G")),
    ("concluded-refused", 4, ("a", "r", "D", "R")),
)


class _Demo:
    """Builds valid report bodies for one demo case, with times moving forward."""

    def __init__(self, case_no: str, item_code: str, authority: dict[str, Any], start: dt.datetime, gen: Any) -> None:
        self.case_no, self.item_code, self.authority, self.t, self.gen = case_no, item_code, authority, start, gen
        self.n = 0

    def tick(self) -> str:
        self.t += dt.timedelta(hours=self.gen.rng.randint(2, 60))
        return self.t.isoformat(timespec="seconds")

    def base(self, role: str) -> dict[str, Any]:
        self.n += 1
        at = self.tick()
        return {
            "messageId": f"demo-{self.case_no}-{self.n:02d}",
            "caseNo": self.case_no,
            "itemCode": self.item_code,
            "reportedAt": at,
            "operator": {"name": self.gen.person(), "role": role},
        }

    def notice(self, kind: str, content: str, at: str) -> dict[str, Any]:
        return {
            "noticeId": f"N-{self.case_no}-{self.n:02d}",
            "caseNo": self.case_no,
            "type": kind,
            "title": kind,
            "issuedAt": at,
            "authority": self.authority,
            "content": content,
            "format": "OFD",
        }

    def body(self, code: str, result: dict[str, str] | None = None) -> tuple[str, str, dict[str, Any]]:
        if code == "s":
            b = self.base("accept")
            b.update(
                opinion="申请材料不齐全，请一次性补正。",
                items=[{"material": "产品质量证明文件", "reason": "缺少产品数据表"}],
                notice=self.notice("一次性补正告知书", "请补正：产品质量证明文件（缺少产品数据表）。", b["reportedAt"]),
            )
            return "supplement", "T5-6", b
        if code in ("a", "n"):
            b = self.base("accept")
            ok = code == "a"
            b.update(
                opinion="材料齐全，符合法定形式，予以受理。" if ok else "不属于本机关受理范围，不予受理。",
                result="正式受理" if ok else "不予受理",
                acceptedAt=b["reportedAt"],
                notice=self.notice(
                    "受理通知书" if ok else "不予受理通知书",
                    "你单位的申请" + ("已受理。" if ok else "不予受理。"),
                    b["reportedAt"],
                ),
            )
            return "acceptance", "T5-7", b
        if code in "rdDci":
            step, role, outcome = {
                "r": ("review", "review", "审查通过"),
                "d": ("decide", "decide", GRANTED),
                "D": ("decide", "decide", REFUSED),
                "c": ("certify", "certify", "制证完成"),
                "i": ("issue", "certify", "发证"),
            }[code]
            b = self.base(role)
            b.update(
                opinion=f"{_step_names()[step]}：{outcome}。",
                step=step,
                stepName=_step_names()[step],
                outcome=outcome,
                startedAt=b["reportedAt"],
                finishedAt=b["reportedAt"],
            )
            if step == "decide":  # §7.4.2 c): the decision document comes with the decision step
                b["decisionDocument"] = self.notice(_notices()[outcome], f"{outcome}。", b["reportedAt"])
            return "step", "T5-8", b
        if code in "SE":
            b = self.base("review")
            b.update(
                opinion="需现场核查。" if code == "S" else "现场核查完毕。",
                procedure="现场核查",
                action="start" if code == "S" else "end",
                startedAt=b["reportedAt"],
                days=5,
            )
            if code == "E":
                b["endedAt"] = b["reportedAt"]
            return "special", "T5-9", b
        b = self.base("decide")
        granted = code == "G"
        b.update(
            opinion="准予使用登记。" if granted else "不符合使用登记条件，不予许可。",
            result=GRANTED if granted else REFUSED,
            decidedAt=b["reportedAt"],
            notice=self.notice(
                "准予许可决定书" if granted else "不予许可决定书",
                "准予许可。" if granted else "不予许可。",
                b["reportedAt"],
            ),
        )
        if granted and result:
            b.update(registrationNo=result["registrationNo"], elicenseId=result["elicenseId"])
        return "result", "T5-10", b


def seed_cases(
    server: RoleServer, gen: Any, legals: list[dict[str, Any]], naturals: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Demo cases in every state, applied through the same rules as live reports.

    Returns the granted cases with the e-licence their result named (the caller stores it).
    """
    from conformance.reference.roles.gov_platform.elicenses import make_certificate

    db, rng = server.db, gen.rng
    granted: list[dict[str, Any]] = []
    serial = 0
    for _label, count, plan in _PLANS:
        for _ in range(count):
            serial += 1
            natural = serial % 7 == 0
            holder = rng.choice(naturals) if natural else rng.choice(legals)
            division, authority, equipment = demo_holder_context(holder, natural, gen)
            group = group_of(equipment["catalogueCode"])
            item_code = f"01100000-{group}-01"
            start = dt.datetime(2025, 1, 6, 9, 0, tzinfo=CHINA) + dt.timedelta(
                days=serial * 3, minutes=rng.randrange(600)
            )
            case_no = f"{authority['division']}{start:%Y%m%d}{serial:06d}"
            db.conn.execute(
                "INSERT OR IGNORE INTO gov_cases (case_no, item_code, applicant_id, submitted_at, state, source, "
                "updated_at) VALUES (?, ?, ?, ?, 'submitted', 'demo', ?)",
                (
                    case_no,
                    item_code,
                    holder["idNumber"] if natural else holder["uscc"],
                    start.isoformat(timespec="seconds"),
                    start.isoformat(timespec="seconds"),
                ),
            )
            demo = _Demo(case_no, item_code, authority, start, gen)
            cert = None
            if "G" in plan:
                issue_day = (start + dt.timedelta(days=10)).date()
                cert = make_certificate(
                    rng,
                    holder=holder,
                    natural=natural,
                    division=division,
                    equipment=equipment,
                    authority=authority,
                    issue_date=issue_day,
                    case_no=case_no,
                    item_code=item_code,
                )
            for code in plan:
                kind, interface, body = demo.body(
                    code, {"registrationNo": cert["licenceNo"], "elicenseId": cert["elicenseId"]} if cert else None
                )
                apply_report(db, kind, interface, body, at=body["reportedAt"])
            if cert is not None:
                granted.append(cert)
    return granted
