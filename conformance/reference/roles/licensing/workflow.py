"""The licensing workflow (DB42/T 2279-2024 §6–§7, 附录A), driven by ``schemas/codelists/workflow.json``.

Nothing about the procedure is declared here: the steps, their roles, the outcomes of each step,
the roles an outcome narrows to, the state each outcome leads to (and so the step pending next),
the notice each outcome produces, the report-back to the government-service platform it
triggers and the special procedure (where it may start, what it reports) are all read from the
code list. What this module adds is the *effect* of a step: the documents it files, the codes
it generates (制证), the exchanges it starts (发证), the dossier it opens (办结 → 预归档).

A step is one write transaction: the history entry, the documents and notices, the generated
codes, the dossier number and every outgoing call (enqueued in the outbox) commit together, so
nothing is reported for a step that did not happen and nothing that happened goes unreported.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

from conformance.codes import KINDS, check
from conformance.codes import lists as code_lists
from conformance.contract.errors import ErrorCode
from conformance.reference.context import now_iso
from conformance.reference.defects import D
from conformance.reference.errors import ApiError, bad_request, conflict, forbidden, not_found
from conformance.reference.roles.licensing import dossier, inspection_data, reports, store
from conformance.reference.roles.licensing.procedure import (
    _rng,
    allowed_roles,
    equipment_code_for,
    initial_state,
    outcomes,
    outcomes_of,
    pending,
    role_names,
    special,
    states,
    steps,
    variety_of,
)
from conformance.reference.server_state import RoleServer
from conformance.serving.params import entry

Item = dict[str, Any]


# ---------------------------------------------------------------------------------- the code list


@functools.cache
def _submitted_outcome() -> Item:
    """The outcome of the 申请 step (申报提交): a T5-5 push, first or after 补齐补正."""
    return outcomes_of("apply")[0]


# ---------------------------------------------------------------------------------- actors
@dataclass(frozen=True)
class Actor:
    """Who performs a step: the operator's name, the client's workflow role (附录A) and its id."""

    name: str
    role: str | None
    user_id: str | None = None

    def operator(self, fallback_role: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "role": self.role or fallback_role}
        if self.user_id:
            out["userId"] = self.user_id
        return out


# ---------------------------------------------------------------------------------- T5-5 申请
ITEM_PATH = "/itemCode"
CATALOGUE_PATH = "/equipment/catalogueCode"
PIPING_MOVE_OUT = "01100000-07-04"


def _is_gap(code: str) -> bool:
    """A code of a known group and a known operation that Table 1 does not have (压力管道 迁出 …)."""
    parts = code.split("-")
    return (
        len(parts) == 3
        and parts[1] in code_lists.licence_groups()
        and parts[2] in code_lists.licence_operations()
        and code not in code_lists.licence_items()
    )


def check_item(body: Item, defects: frozenset[str]) -> None:
    """400 unless ``itemCode`` is one of the 114 items of Table 1 and fits the equipment's catalogue code."""
    code = body["itemCode"]
    verdict = check("item-code", code)
    if not verdict.ok:
        tolerated = (D.ACCEPT_PIPING_MOVE_OUT in defects and code == PIPING_MOVE_OUT) or (
            D.ACCEPT_UNKNOWN_ITEM in defects and not _is_gap(code)
        )
        if not tolerated:
            raise bad_request(
                f"办理项编码 {code} 不在表1许可事项清单中：{verdict.reason('zh')}",
                f"handling item {code} is not in Table 1: {verdict.reason('en')}",
                [entry(ITEM_PATH, verdict.message("zh"), verdict.message("en"), "tzsb-item-code")],
                code=ErrorCode.VALIDATION_FAILED,
            )
    group = code_lists.licence_groups().get(code.split("-")[1])
    if group is None:
        return  # tolerated unknown item (defect): nothing to compare the equipment with
    catalogue = body["equipment"]["catalogueCode"]
    covered = {c for top in group["catalogue"] for c in code_lists.catalogue_descendants(top)}
    if catalogue not in covered:
        name = code_lists.catalogue().get(catalogue, {}).get("name", "")
        raise bad_request(
            f"设备品种 {catalogue}（{name}）不属于办理项 {code} 的设备组“{group['name']}”（目录代码 {'、'.join(group['catalogue'])}）",
            f"equipment catalogue code {catalogue} does not belong to group {group['code']} of item {code} "
            f"(catalogue {', '.join(group['catalogue'])})",
            [
                entry(
                    CATALOGUE_PATH,
                    f"设备品种 {catalogue} 与办理项 {code}（{group['name']}）不符",
                    f"catalogue code {catalogue} does not fit item {code}",
                    "item-catalogue",
                )
            ],
            code=ErrorCode.VALIDATION_FAILED,
        )


def receive_application(
    server: RoleServer, body: Item, *, at: str | None = None, gov_register: Any = None
) -> tuple[int, Item]:
    """T5-5: a new case in state 已申报 (submitted), or the re-submission of a case awaiting correction.

    Runs inside the caller's write transaction (``messages.once``). Returns status and receipt.
    """
    db = server.db
    at = at or now_iso()
    case_no = body["caseNo"]
    applicant = body["applicant"]
    outcome = _submitted_outcome()
    with db.write():
        case = store.load_case(db, case_no)
        if case is None:
            case = store.Case(
                case_no=case_no,
                item_code=body["itemCode"],
                applicant_id=applicant["idNumber"],
                applicant_type=applicant["type"],
                state=outcome["state"],
                application=body,
                message_id=body["messageId"],
                created_at=at,
                updated_at=at,
            )
            store.insert_case(db, case)
            opinion = "通过政务服务平台在线申报" if body["channel"] == "online" else "政务服务大厅窗口收件并录入"
        else:
            if pending(case.state) != "apply" or case.state == initial_state():
                raise conflict(
                    f"办件 {case_no} 当前状态为“{states()[case.state]['name']}”，不接受再次推送（仅“待补齐补正”的办件可按同一办件编号再次提交）",
                    f"case {case_no} is in state {case.state}; only a case awaiting correction accepts a re-submission",
                    ErrorCode.STATE_CONFLICT,
                )
            if body["itemCode"] != case.item_code or applicant["idNumber"] != case.applicant_id:
                raise conflict(
                    f"再次提交的办理项或行政相对人与办件 {case_no} 不一致",
                    f"the re-submission changes the item or the applicant of case {case_no}",
                    ErrorCode.CONFLICT,
                )
            case.application = body
            case.message_id = body["messageId"]
            case.state = outcome["state"]
            case.updated_at = at
            store.save_case(db, case)
            opinion = "补齐补正后再次提交申请材料"
        if gov_register is not None:  # --role all: the platform learns the case (or its re-submission) at once
            gov_register(db, case_no, body["itemCode"], applicant["idNumber"], body["submittedAt"])
        actor = Actor(applicant["contactPerson"], None, applicant.get("userId"))
        store.add_history(
            db, case_no, "apply", outcome["code"], actor.operator(steps()["apply"]["roles"][0]), opinion, at
        )
        dossier.file_application(server, case, at)
    return 201, {"messageId": body["messageId"], "caseNo": case_no, "receivedAt": at, "duplicate": False}


# ---------------------------------------------------------------------------------- steps
def _state_conflict(case: store.Case, step: str) -> ApiError:
    st = states()[case.state]
    due = pending(case.state)
    if st.get("terminal"):
        why_zh, why_en = f"办件已结束（{st['name']}）", f"the case has ended ({case.state})"
    elif case.state == "suspended":
        due = (case.procedure or {}).get("step")
        why_zh, why_en = f"办件处于特别程序中（{steps()[due]['name'] if due else ''}环节挂起）", "the case is suspended"
    else:
        why_zh = f"办件当前状态为“{st['name']}”，待办步骤为“{steps()[due]['name']}”"
        why_en = f"the case is in state {case.state}; the pending step is {due}"
    return conflict(
        f"不能执行“{steps()[step]['name']}”步骤：{why_zh}",
        f"step {step} not allowed: {why_en}",
        ErrorCode.STATE_CONFLICT,
    )


def perform_step(
    server: RoleServer,
    case_no: str,
    step: str,
    outcome_code: str,
    actor: Actor,
    opinion: str,
    *,
    at: str | None = None,
    report: bool = True,
) -> store.Case:
    """Perform ``step`` with ``outcome_code`` as ``actor`` (403 wrong role, 409 not pending, 404 no case)."""
    defects = server.defects
    outcome = outcomes().get((step, outcome_code))
    if outcome is None:
        known = [o["code"] for o in outcomes_of(step)]
        raise bad_request(
            f"步骤“{steps()[step]['name']}”没有结论“{outcome_code}”（可选：{'、'.join(known)}）",
            f"step {step} has no outcome {outcome_code!r} (one of {', '.join(known)})",
            [
                entry(
                    "/outcome",
                    f"结论应为 {'、'.join(known)} 之一",
                    f"outcome must be one of {', '.join(known)}",
                    "enum",
                )
            ],
            code=ErrorCode.VALIDATION_FAILED,
        )
    roles = allowed_roles(step, outcome)
    if actor.role not in roles and D.STEP_WRONG_ROLE not in defects:
        mine = role_names().get(actor.role or "", "无岗位")
        raise forbidden(
            f"岗位“{mine}”不能以“{outcome['name']}”执行“{steps()[step]['name']}”步骤"
            f"（应为：{'、'.join(role_names()[r] for r in roles)}）",
            f"role {actor.role} may not perform {step}/{outcome_code} (allowed: {', '.join(roles)})",
        )
    if outcome_code == "suspend":  # the 特别程序 outcome of 审查 / 决定 (workflow.json): a special procedure starts
        return special_procedure(
            server,
            case_no,
            {"procedure": _default_procedure_kind(), "action": "start", "opinion": opinion},
            actor,
            at=at,
            report=report,
            role_checked=True,
            step=step,
        )
    db = server.db
    at = at or now_iso()
    with db.write():
        case = store.load_case(db, case_no)
        if case is None:
            raise not_found(f"办件 {case_no}", f"case {case_no}")
        st = states()[case.state]
        out_of_order = D.STEP_OUT_OF_ORDER in defects or _certifies_any_decision(case, step, defects)
        if st.get("terminal") or case.state == "suspended" or (pending(case.state) != step and not out_of_order):
            raise _state_conflict(case, step)
        if step == "apply" and not out_of_order:
            raise conflict(
                "补齐补正后的再次提交不经流程驱动接口：由政务服务平台按同一办件编号、新的 messageId 再次推送（表5 序号5）",
                "a re-submission after correction is a new T5-5 push with the same case number",
                ErrorCode.STATE_CONFLICT,
            )
        started = _step_started(db, case_no)
        first_conclusion = step == "conclude" and not case.concluded
        operator = actor.operator(roles[0])
        store.add_history(db, case_no, step, outcome_code, operator, opinion, at)
        notice = _effects(server, case, step, outcome, operator, opinion, at)
        case.state = outcome["state"]
        case.concluded = case.concluded or step == "conclude"
        case.updated_at = at
        store.save_case(db, case)
        if report:
            reports.report_back(
                server, case, step, outcome, operator, opinion, at, started, notice, first_conclusion=first_conclusion
            )
            if step == "issue":
                reports.on_issue(server, case, at)
            elif first_conclusion and D.REFUSAL_LEAKS_LICENCE in defects and _refused(case):
                _leak_licence(server, case, at)
    return case


def _refused(case: store.Case) -> bool:
    return case.result == outcomes()[("decide", "refused")]["name"]


def _leak_licence(server: RoleServer, case: store.Case, at: str) -> None:
    """Defect ``refusal-leaks-licence``: the vendor's 办结 hands every decided case to the exchange of 发证, so a refused
    case gets codes and an e-licence, which go to the e-licence library and the supervision system."""
    _certify(server, case, at)
    _issue(server, case, at)
    store.save_case(server.db, case)
    reports.on_issue(server, case, at)


def _certifies_any_decision(case: store.Case, step: str, defects: frozenset[str]) -> bool:
    """Defect ``certify-after-refusal``: 制证 checks only that 决定 was made and no certificate exists yet, not that the
    licence was granted, so a refused case (不予许可, awaiting 办结) can still be certified."""
    return (
        D.CERTIFY_AFTER_REFUSAL in defects
        and step == "certify"
        and case.decided_at is not None
        and case.equipment_code is None
        and not case.concluded
    )


def _step_started(db: Any, case_no: str) -> str | None:
    """When the step now performed became pending: the time of the entry before it."""
    row = db.one("SELECT at FROM lic_history WHERE case_no = ? ORDER BY seq DESC LIMIT 1", case_no)
    return row[0] if row else None


def _effects(
    server: RoleServer, case: store.Case, step: str, outcome: Item, operator: Item, opinion: str, at: str
) -> Item | None:
    """Documents, notices, codes, exchanges and the dossier of one step; returns the notice it produced."""
    defects = server.defects
    dossier.file_opinion(server, case, step, outcome, operator, opinion, at)
    notice: Item | None = None
    if step == "decide" and outcome["code"] in ("granted", "refused"):
        case.result = outcome["name"]
        case.decided_at = at
    if step == "certify":
        _certify(server, case, at)
    if outcome.get("notice") and not (D.NO_NOTICE in defects and step == "accept" and outcome["code"] != "correction"):
        notice = dossier.issue_notice(server, case, step, outcome, operator, opinion, at)
    elif D.NO_NOTICE in defects and step == "accept" and outcome.get("notice"):
        notice = dossier.bare_notice(case, outcome, opinion, at)  # what the vendor sends: no document, no file
    if notice is not None and step == "decide":
        case.result_notice = notice["noticeId"]
    if step == "issue":
        _issue(server, case, at)
    if step == "conclude":
        dossier.file_routing_sheet(server, case, at)
        dossier.enter_pre_archive(server, case, at)
    if step == "pre-archive":
        dossier.review_pre_archive(server, case, outcome["code"] == "passed", at)
    if step == "archive":
        dossier.archive(server, case, at)
    return notice


# ---------------------------------------------------------------------------------- 制证 / 发证


def prefecture_letter(division: str) -> str:
    """地市代号 of a 使用登记证编号: the prefecture's place among its province's prefectures, A, B, C …
    (profile: TSG 08-2017 leaves the letters to the provinces; a province-level authority uses A)."""
    divisions = code_lists.divisions()
    item = divisions.get(division)
    if item is None or item.get("level") == "province":
        return "A"
    prefecture = division[:4] + "00"
    pool = sorted(
        code
        for code, it in divisions.items()
        if it.get("level") == "prefecture" and code[:2] == division[:2] and not it.get("grouping")
    )
    index = pool.index(prefecture) if prefecture in pool else 0
    return chr(ord("A") + index % 26)


def _certify(server: RoleServer, case: store.Case, at: str) -> None:
    """制证: the equipment code and the 使用登记证编号 (§7.4.5 b 2), from the application pre-filled with the inspection
    report it names (§7.1.5 f); the original number stays when the item's operation keeps it (licence-items.json)."""
    db = server.db
    equipment = inspection_data.prefilled(server, case)["equipment"]
    case.equipment_code = case.equipment_code or equipment_code_for(case, equipment)
    original = equipment.get("registrationNo")
    year = int(at[:4])
    if original and reports.operation_of(case)["keepsRegistrationNo"]:
        number = original
    elif D.REGISTRATION_NO_MALFORMED in server.defects:
        # the vendor's own scheme: catalogue code instead of the 2 variety digits, 4-digit serial, no year
        serial = store.next_counter(db, f"regno:malformed:{year}")
        abbr = code_lists.provinces()[case.authority["division"][:2]]["abbr"]
        number = f"{case.equipment['catalogueCode']}{abbr}{serial:04d}"
    else:
        variety = variety_of(case.equipment["catalogueCode"])
        division = case.authority["division"]
        if code_lists.divisions().get(division, {}).get("level") == "province":
            division = case.equipment["division"]
        letter = prefecture_letter(division)
        probe = KINDS["registration-no"].generate(
            _rng(case, "registration-no"), catalogue=variety, province=division[:2], prefecture=letter, seq=0, year=year
        )
        prefix = probe.split("(")[0][:-5]
        serial = store.next_counter(db, f"regno:{prefix}:{year}")
        number = KINDS["registration-no"].generate(
            _rng(case, "registration-no"),
            catalogue=variety,
            province=division[:2],
            prefecture=letter,
            seq=serial,
            year=year,
        )
        if not check("registration-no", number).ok:  # pragma: no cover - the generator is valid by construction
            raise RuntimeError(f"generated registration number {number} is invalid")
    case.registration_no = number


@functools.cache
def elicense_type_code() -> str:
    """证照类型代码 of 特种设备使用登记证 (profile: a fixed 21-character code, definer = a central body)."""
    definer = KINDS["uscc"].generate(
        random.Random("tzsb:elicense-type:特种设备使用登记证"), pair="11", division="100000"
    )
    return definer + "001"


def _issue(server: RoleServer, case: store.Case, at: str) -> None:
    serial = store.next_counter(server.db, f"elicense:{at[:4]}")
    case.elicense_id = KINDS["elicense-id"].generate(
        _rng(case, "elicense"),
        type_code=elicense_type_code(),
        issuer=case.authority["uscc"],
        number=f"{at[:4]}{serial:08d}",
        version=1,
    )


# ---------------------------------------------------------------------------------- 特别程序
def special_procedure(
    server: RoleServer,
    case_no: str,
    body: Item,
    actor: Actor,
    *,
    at: str | None = None,
    report: bool = True,
    role_checked: bool = False,
    step: str | None = None,
) -> store.Case:
    """Start (suspend at the current step) or end (resume at the same step) a special procedure (T5-9)."""
    db = server.db
    at = at or now_iso()
    conf = special()
    with db.write():
        case = store.load_case(db, case_no)
        if case is None:
            raise not_found(f"办件 {case_no}", f"case {case_no}")
        suspended = case.state == "suspended"
        asked = step
        step = (case.procedure or {}).get("step") if suspended else pending(case.state)
        if asked is not None and (asked != step or suspended) and D.STEP_OUT_OF_ORDER not in server.defects:
            raise _state_conflict(case, asked)  # performStep with the 特别程序 outcome of a step that is not pending
        if states()[case.state].get("terminal") or step is None:
            raise conflict(
                f"办件已结束（{states()[case.state]['name']}），不能{'结束' if body['action'] == 'end' else '开始'}特别程序",
                "the case has ended",
                ErrorCode.STATE_CONFLICT,
            )
        if body["action"] == "start":
            if suspended:
                raise conflict(
                    "办件已处于特别程序中", "a special procedure is already running", ErrorCode.STATE_CONFLICT
                )
            if step not in conf["allowedIn"]:
                names = "、".join(steps()[s]["name"] for s in conf["allowedIn"])
                raise conflict(
                    f"特别程序只能在{names}环节开始，办件待办步骤为“{steps()[step]['name']}”",
                    f"a special procedure may start in {', '.join(conf['allowedIn'])} only, not {step}",
                    ErrorCode.STATE_CONFLICT,
                )
        elif not suspended:
            raise conflict(
                "办件未处于特别程序中，不能结束特别程序", "no special procedure is running", ErrorCode.STATE_CONFLICT
            )
        roles = allowed_roles(step, outcomes().get((step, "suspend")))
        if not role_checked and actor.role not in roles and D.STEP_WRONG_ROLE not in server.defects:
            raise forbidden(
                f"岗位“{role_names().get(actor.role or '', '无岗位')}”不能在“{steps()[step]['name']}”环节办理特别程序",
                f"role {actor.role} may not run a special procedure in step {step}",
            )
        operator = actor.operator(roles[0])
        if body["action"] == "start":
            case.procedure = {
                "step": step,
                "procedure": body["procedure"],
                "startedAt": at,
                "days": body.get("days"),
                "opinion": body["opinion"],
            }
            case.suspended_state = case.state
            case.state = next(e["state"] for e in conf["events"] if e["code"] == "start")
            store.add_history(
                db, case_no, step, "suspend", operator, f"特别程序开始（{body['procedure']}）：{body['opinion']}", at
            )
        else:
            case.state = case.suspended_state or initial_state()
            case.suspended_state = None
            store.add_history(
                db,
                case_no,
                step,
                "resume",
                operator,
                f"特别程序结束（{(case.procedure or {}).get('procedure', body['procedure'])}）：{body['opinion']}",
                at,
            )
        procedure = dict(case.procedure or {})
        if body["action"] == "end":
            case.procedure = None
        case.updated_at = at
        store.save_case(db, case)
        if report:
            reports.special_procedure(server, case, body, procedure, operator, at)
    return case


# ---------------------------------------------------------------------------------- the case as the driver shows it
def current_step(case: store.Case, entries: list[Item]) -> str:
    if case.state == "suspended":
        return str((case.procedure or {}).get("step"))
    due = pending(case.state)
    if due:
        return due
    return entries[-1]["step"] if entries else "apply"


def case_state(server: RoleServer, case: store.Case, base_url: str) -> Item:
    db = server.db
    entries = store.history(db, case.case_no)
    out: Item = {"caseNo": case.case_no, "itemCode": case.item_code}
    if case.legal_person:
        out["applicantUscc"] = case.applicant_id
    out.update(
        {
            "currentStep": current_step(case, entries),
            "state": case.state,
            "ended": bool(states()[case.state].get("terminal")),
            "suspended": case.state == "suspended",
        }
    )
    for key, value in (
        ("registrationNo", case.registration_no),
        ("equipmentCode", case.equipment_code),
        ("dossierCode", dossier.code_of(db, case.case_no)),
        ("elicenseId", case.elicense_id),
    ):
        if value:
            out[key] = value
    out.update(
        {
            "createdAt": case.created_at,
            "updatedAt": case.updated_at,
            "history": entries[-500:],
            "notices": dossier.notice_views(server, case.case_no, base_url)[-100:],
        }
    )
    return out


def _default_procedure_kind() -> str:
    """The kind recorded when 审查/决定 is suspended without naming one: the first kind of workflow.json."""
    return str(special()["kinds"][0]["name"])
