"""Shared machinery of the licensing workflow and dossier suites (no tests of its own).

Everything about the procedure is read from the contracts: the steps, outcomes, states, the
roles allowed for each outcome and the notice each outcome produces from
``schemas/codelists/workflow.json``; the posts from ``roles.json``; the items from
``licence-items.json``; the notice types from ``notice.schema.json``. What this module adds is
the *tracing*: which clause each observation supports.

* :class:`Findings` — the outcome of every check made while walking cases, by clause. A *hard*
  check (the step did not happen, or a refused request changed the case) raises
  :class:`Violation` and ends the walk, because the case no longer is where the harness thinks
  it is; a *soft* check (a notice, a history entry, a generated code) is recorded and the walk
  goes on, so one defect does not hide the clauses behind it.
* :class:`Desk` — the harness client (pushes, reads) and one client per Annex A post: the target
  file names them ``[clients.officer-<post>]`` (``officer-accept``, ``officer-review`` …).
* :class:`Walker` — pushes applications (T5-5) and performs steps through the optional workflow
  driver (``workflow-driver.yaml``), checking after each step what the contracts require.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import secrets
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.check.schema import validator
from conformance.client import TargetClient
from conformance.codes import check
from conformance.codes import lists as code_lists
from conformance.contract import documents as contracts
from conformance.contract.clauses import load_catalogue
from conformance.contract.errors import ErrorCode
from conformance.datagen.licensing import application, groups, items, new_case_no, resubmission
from conformance.suites.support.sharing import operation, response_validator

Item = dict[str, Any]

DRIVER = "workflow-driver"
PRE_ARCHIVE_RETURN = "pre-archive-return"


# ---------------------------------------------------------------------------------- the contracts
@functools.cache
def workflow() -> Item:
    return contracts.codelist("workflow")


@functools.cache
def step_codes() -> tuple[str, ...]:
    return tuple(s["code"] for s in sorted(workflow()["steps"], key=lambda s: s["order"]))


@functools.cache
def steps() -> dict[str, Item]:
    return {s["code"]: s for s in workflow()["steps"]}


@functools.cache
def outcomes() -> dict[tuple[str, str], Item]:
    return {(o["step"], o["code"]): o for o in workflow()["outcomes"]}


@functools.cache
def states() -> dict[str, Item]:
    return {s["code"]: s for s in workflow()["caseStates"]}


def pending(state: str) -> str | None:
    return states()[state]["pending"]


def terminal(state: str) -> bool:
    return bool(states()[state].get("terminal"))


def allowed_roles(step: str, outcome: str) -> tuple[str, ...]:
    """The posts that may give ``outcome`` in ``step``: the outcome's own list narrows the step's."""
    o = outcomes()[(step, outcome)]
    return tuple(o.get("roles") or steps()[step]["roles"])


@functools.cache
def role_codes() -> tuple[str, ...]:
    return tuple(r["code"] for r in contracts.codelist("roles")["items"])


def submitted() -> Item:
    """The outcome of the 申请 step: a T5-5 push (first, or the re-submission after 补齐补正)."""
    return next(o for o in workflow()["outcomes"] if o["step"] == "apply")


def walk_outcomes(step: str, *, with_return: bool) -> list[str]:
    """The outcomes the walks choose from in ``step`` (the 特别程序 is a procedure of its own, not walked here)."""
    out = [o["code"] for o in workflow()["outcomes"] if o["step"] == step and o["code"] != "suspend"]
    if not with_return:
        out = [c for c in out if (step, c) != ("pre-archive", "returned")]
    return out


@functools.cache
def off_main_line() -> tuple[tuple[str, str], ...]:
    """The outcomes that end a case or take it off the §6 main line, as ``(step, outcome)`` in workflow.json order.

    Read from workflow.json: an outcome with no next step (不予受理, 归档), one whose next step comes earlier
    (补齐补正 back to 申请, 预归档退回 back to 办结) or skips the steps that follow it (不予许可 straight to 办结).
    The 特别程序 (back to the same step) is a procedure of its own and not one of these.
    """
    order = {code: s["order"] for code, s in steps().items()}
    return tuple(
        (o["step"], o["code"])
        for o in workflow()["outcomes"]
        if o["next"] != o["step"] and (o["next"] is None or order[o["next"]] != order[o["step"]] + 1)
    )


@functools.cache
def path_to(step: str) -> tuple[tuple[str, str], ...]:
    """The shortest run of ``(step, outcome)`` (first found in workflow.json order) that takes a newly submitted case
    to a state where ``step`` is pending; 申请 (a T5-5 push), the 特别程序 and the outcomes of optional features are
    left out."""
    start = submitted()["state"]
    queue: deque[tuple[str, tuple[tuple[str, str], ...]]] = deque([(start, ())])
    seen = {start}
    while queue:
        state, path = queue.popleft()
        if pending(state) == step:
            return path
        for o in workflow()["outcomes"]:
            key = (o["step"], o["code"])
            if (
                o["step"] != pending(state)
                or o["step"] == submitted()["step"]
                or o["next"] == o["step"]
                or optional_feature(*key)
                or o["state"] in seen
            ):
                continue
            seen.add(o["state"])
            queue.append((o["state"], (*path, key)))
    raise LookupError(f"workflow.json: no state has step {step} pending")


def refused_in(state: str) -> list[tuple[str, str, str]]:
    """Every ``(step, outcome, post)`` of workflow.json that must be refused in ``state``: each step/outcome whose step
    is not pending, by each post allowed to give it (so the right post too). 申请 is left out: it is a T5-5 push."""
    due = pending(state)
    return [
        (o["step"], o["code"], post)
        for o in workflow()["outcomes"]
        if o["step"] != due and o["step"] != submitted()["step"]
        for post in allowed_roles(o["step"], o["code"])
    ]


def run_seed() -> int:
    """The seed of a run, printed: ``TZSB_HYPOTHESIS_SEED`` when set (to replay one), else a fresh one."""
    given = os.environ.get("TZSB_HYPOTHESIS_SEED", "").strip()
    value = int(given) if given.isdigit() else secrets.randbits(32)
    print(f"tzsb seed: {value}")
    return value


@functools.cache
def notice_types() -> frozenset[str]:
    return frozenset(contracts.json_schema("notice")["properties"]["type"]["enum"])


def notice_of(step: str, outcome: str) -> str | None:
    """The notice (notice.schema.json type) ``outcome`` must produce, when workflow.json names one of those types."""
    name = outcomes()[(step, outcome)].get("notice")
    return name if name in notice_types() else None


@functools.cache
def _catalogue() -> dict[str, Item]:
    return {c["id"]: c for c in load_catalogue()}


def optional_feature(step: str, outcome: str) -> str | None:
    """The optional feature (target-features.json) an outcome belongs to: the ``feature`` of its clause in the
    clause catalogue (预归档退回: ``pre-archive-return``), else None."""
    for cid in OUTCOME_CLAUSES.get((step, outcome), ()):
        feature = _catalogue()[cid].get("feature")
        if feature:
            return str(feature)
    return None


#: The Annex A clause of each post (roles.json ``clause``: 附录A A.1 … A.6).
ROLE_CLAUSES = {
    "formal-review": "DB42.A.1.1",  # 附录A A.1 形式审查
    "accept": "DB42.A.2.1",  # 附录A A.2 受理
    "review": "DB42.A.3.1",  # 附录A A.3 审查
    "decide": "DB42.A.4.1",  # 附录A A.4 决定
    "certify": "DB42.A.5.1",  # 附录A A.5 制证发证
    "archive": "DB42.A.6.1",  # 附录A A.6 归档
}


def role_clause(role: str) -> str:
    """The Annex A clause of a post (roles.json code); LookupError for a post ROLE_CLAUSES does not list."""
    if role not in ROLE_CLAUSES:
        raise LookupError(f"ROLE_CLAUSES lists no clause for the post {role!r} of roles.json")
    return ROLE_CLAUSES[role]


@functools.cache
def operations() -> dict[str, Item]:
    return code_lists.licence_operations()


# ---------------------------------------------------------------------------------- which clause each check supports
#: Transition of a step with an outcome: the step happened and the case is where workflow.json says.
STEP_CLAUSES = ("DB42.6.1",)
OUTCOME_CLAUSES: dict[tuple[str, str], tuple[str, ...]] = {
    ("accept", "accepted"): ("DB42.7.2.2.a.1",),
    ("accept", "correction"): ("DB42.7.2.2.a1.1",),
    ("accept", "not-accepted"): ("DB42.7.2.2.a2.1",),
    ("review", "passed"): ("DB42.7.3.2.a.1",),
    ("review", "failed"): ("DB42.7.3.2.a.1",),
    ("decide", "granted"): ("DB42.7.4.2.a.1",),
    ("decide", "refused"): ("DB42.7.4.2.b.1",),
    ("pre-archive", "passed"): ("DB42.7.5.4.1",),
    ("pre-archive", "returned"): ("DB42.7.5.4.2",),
}
#: The notice an outcome generates (notice.schema.json type → clause).
NOTICE_CLAUSES = {
    "受理通知书": ("DB42.7.2.3.a.1",),
    "一次性补正告知书": ("DB42.7.2.3.a1.1",),
    "不予受理通知书": ("DB42.7.2.3.a2.1",),
    "准予许可决定书": ("DB42.7.4.2.a.1",),
    "不予许可决定书": ("DB42.7.4.2.b.1",),
}
RESUBMIT = ("DB42.7.2.3.a1.2",)
WRONG_ROLE = ("DB42.8.2", "DB42.4.7.e.3")
OUT_OF_ORDER = ("DB42.6.2", "PROFILE.STATUS.3")
CASE_NO = ("DB42.7.1.4.1",)
HISTORY = ("DB42.7.2.5.g.1",)
EQUIPMENT_CODE = ("DB42.7.4.5.b2.1",)
REGISTRATION_NO = ("DB42.7.4.5.b2.2",)
NINE_STEPS = ("DB42.6.1", "DB42.4.7.a.1")
ROLES_WORK = ("DB42.8.1",)


# ---------------------------------------------------------------------------------- findings
class Violation(AssertionError):
    """A check failed; ``clauses`` are the clauses it supports."""

    def __init__(self, clauses: tuple[str, ...], message: str) -> None:
        super().__init__(f"[{', '.join(clauses)}] {message}")
        self.clauses = clauses
        self.detail = message


@dataclass(repr=False)
class Findings:
    """Every check made during the walks, by clause: how many passed, which failed and why."""

    passed: Counter[str] = field(default_factory=Counter)
    failed: dict[str, list[str]] = field(default_factory=dict)
    soft_failures: int = 0
    seed: int | None = None
    reproduction: dict[str, str] = field(default_factory=dict)
    aborted: list[str] = field(default_factory=list)
    last_soft: tuple[tuple[str, ...], str] | None = None
    #: the exchanges (conformance.client.evidence.Exchange) behind the failures, by clause
    exchanges: dict[str, list[Any]] = field(default_factory=dict)
    #: where the last exchange comes from (set by the walker): the response a check looks at
    last_exchange: Callable[[], Any] | None = None

    def __repr__(self) -> str:
        return f"Findings({sum(self.passed.values())} checks passed; failing: {sorted(c for c, m in self.failed.items() if m)})"

    def expect(self, clauses: str | Iterable[str], ok: bool, message: str, *, hard: bool = False) -> bool:
        cs = (clauses,) if isinstance(clauses, str) else tuple(clauses)
        if ok:
            self.passed.update(cs)
            return True
        exchange = self.last_exchange() if self.last_exchange is not None else None
        for c in cs:
            seen = self.failed.setdefault(c, [])
            if message not in seen and len(seen) < 20:
                seen.append(message)
            kept = self.exchanges.setdefault(c, [])
            if exchange is not None and exchange not in kept and len(kept) < 10:
                kept.append(exchange)
        if hard:
            raise Violation(cs, message)
        self.soft_failures += 1
        self.last_soft = (cs, message)
        return False

    def record(self, exc: Violation, note: str = "") -> None:
        """A violation that ended a walk (its message is already in ``failed``; keep how to reproduce it)."""
        for c in exc.clauses:
            self.failed.setdefault(c, [])
            if exc.detail not in self.failed[c]:
                self.failed[c].append(exc.detail)
            if note and c not in self.reproduction:
                self.reproduction[c] = note

    def judge(self, request: pytest.FixtureRequest, *clauses: str) -> None:
        """The verdict of the calling test: fail with the recorded problems, skip (未测) when nothing was checked."""
        problems = [f"{c}: {m}" for c in clauses for m in self.failed.get(c, [])]
        if problems:
            exchanges = [x for c in clauses for x in self.exchanges.get(c, [])]
            for x in exchanges:  # the evidence of this verdict: linked from this test in the report
                x.test = request.node.nodeid
            notes = [f"重现（curl）：{exchanges[0].curl()}"] if exchanges else []
            notes += [f"{c} 重现：\n{self.reproduction[c]}" for c in clauses if c in self.reproduction]
            if self.seed is not None:
                request.node._hypothesis_internal_use_seed = self.seed  # recorded by the plugin with the outcome
                notes.append(f"Hypothesis seed: {self.seed}（复现：TZSB_HYPOTHESIS_SEED={self.seed}）")
            raise AssertionError("\n".join(problems[:30] + notes))
        if not any(self.passed[c] for c in clauses):
            why = "；".join(self.aborted[:3])
            pytest.skip(f"未测：走查中没有出现可检验 {', '.join(clauses)} 的情形" + (f"（{why}）" if why else ""))


# ---------------------------------------------------------------------------------- responses
def data_of(resp: Any) -> Any:
    body = resp.json()
    return body.get("data") if isinstance(body, dict) else None


def error_paths(body: Any) -> list[str]:
    """The ``path`` of each field error of an error body."""
    errors = body.get("errors") if isinstance(body, dict) else None
    return [str(e.get("path")) for e in errors or [] if isinstance(e, dict)]


def brief(resp: Any) -> str:
    """Status and the start of the body, for a failure message."""
    text = resp.content[:300].decode("utf-8", "replace") if resp.content else (resp.error or "")
    return f"HTTP {resp.status} {text}"


#: The error code of a request the case's state does not allow (workflow-driver.yaml, licensing.yaml pushApplication,
#: PROFILE.STATUS.3: 409 STATE_CONFLICT, told apart from DUPLICATE / CONFLICT).
STATE_CONFLICT = ErrorCode.STATE_CONFLICT


#: An operation of the licensing role (licensing.yaml and the workflow driver) by its id.
licensing_operation = functools.partial(operation, "licensing")


def refusal_problem(resp: Any, operation_id: str, status: int, code: str) -> str | None:
    """Why ``resp`` is not the contract's refusal (``status``, the error envelope the operation declares for it, the
    error ``code``), or None when it is."""
    if resp.status != status:
        return f"应 HTTP {status}（{code}），实为 {brief(resp)}"
    body = resp.json()
    v = response_validator(licensing_operation(operation_id), status) or validator("error")
    if body is None or not v.is_valid(body):
        errors = [e.message_zh for e in v.errors(body)][:3] if body is not None else ["不是 JSON"]
        return f"HTTP {status} 的响应不符合契约（{operation_id} 的 {status} 响应，错误信封）：{errors}；{brief(resp)}"
    if body.get("code") != code:
        return f"错误代码为 {body.get('code')!r}，应为 {code}（{brief(resp)}）"
    return None


class Problems:
    """Problems of one test; the first one keeps the exchange it was seen in, for a one-line reproduction."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.items: list[str] = []
        self.first: Any = None

    def add(self, message: str) -> None:
        if self.first is None:
            exchanges = self.desk.harness.evidence.exchanges
            self.first = exchanges[-1] if exchanges else None
        self.items.append(message)

    def verdict(self) -> None:
        curl = f"\n重现（curl）：{self.first.curl()}" if self.first is not None else ""
        assert not self.items, "\n".join(self.items) + curl


def when(value: Any) -> dt.datetime | None:
    """A GB/T 7408 date-time with an offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


# ---------------------------------------------------------------------------------- the desk
OPERATORS = {
    "formal-review": "林静",
    "accept": "周敏",
    "review": "吴刚",
    "decide": "郑华",
    "certify": "孙丽",
    "archive": "何平",
}


class Desk:
    """The harness client (T5-5 pushes, reads) and one client per Annex A post (``[clients.officer-<post>]``), at the
    paths of the licensing role's operations (licensing.yaml, workflow-driver.yaml)."""

    def __init__(self, tzsb_client: Any) -> None:
        self.harness: TargetClient = tzsb_client()
        self._make = tzsb_client
        self.officers: dict[str, TargetClient] = {}

    def officer(self, role: str) -> TargetClient:
        if role not in self.officers:
            self.officers[role] = self._make(client=f"officer-{role}")
        return self.officers[role]

    def all_officers(self) -> Desk:
        """Every post's client (skips the test when the target file lacks one)."""
        for role in role_codes():
            self.officer(role)
        return self

    def push(self, body: Item) -> Any:
        return self.harness.post(licensing_operation("pushApplication").path, body)

    def state(self, case_no: str) -> Any:
        return self.harness.get(_case_path("getCaseState", case_no))

    def notices(self, case_no: str) -> Any:
        return self.harness.get(_case_path("getCaseNotices", case_no))

    def history(self, case_no: str) -> Any:
        return self.harness.get(_case_path("getCaseHistory", case_no))

    def dossier(self, case_no: str) -> Any:
        return self.harness.get(_case_path("getCaseDossier", case_no))

    def step(self, role: str, case_no: str, step: str, outcome: str, opinion: str, operator: str | None = None) -> Any:
        return self.officer(role).post(
            _case_path("performStep", case_no),
            {
                "step": step,
                "outcome": outcome,
                "opinion": opinion,
                "operatorName": operator or OPERATORS.get(role, "张三"),
            },
        )

    def special(self, role: str, case_no: str, procedure: str, action: str, opinion: str) -> Any:
        return self.officer(role).post(
            _case_path("performSpecialProcedure", case_no),
            {"procedure": procedure, "action": action, "opinion": opinion, "operatorName": OPERATORS.get(role, "张三")},
        )

    def objection(self, role: str, case_no: str, items: list[Item], operator: str | None = None) -> Any:
        """An examiner's objection to the inspection data of the case (raiseObjection: T6-2 follows)."""
        return self.officer(role).post(
            _case_path("raiseObjection", case_no),
            {"items": items, "operatorName": operator or OPERATORS.get(role, "张三")},
        )


def _case_path(operation_id: str, case_no: str) -> str:
    return licensing_operation(operation_id).path.replace("{caseNo}", case_no)


# ---------------------------------------------------------------------------------- cases and the walker
@dataclass(repr=False)
class Case:
    case_no: str
    item: str
    application: Item
    state: str = ""
    entries: int = 0
    last_at: dt.datetime | None = None
    notices: dict[str, Item] = field(default_factory=dict)
    performed: list[tuple[str, str, str]] = field(default_factory=list)  # (step, outcome, role)
    messages: int = 1
    view: Item = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Case({self.case_no} {self.item} {self.state})"

    @property
    def ended(self) -> bool:
        return bool(self.state) and terminal(self.state)


_STATE_IDS = ("registrationNo", "equipmentCode", "dossierCode", "elicenseId")


class Walker:
    """Pushes applications and performs steps, checking each against the contracts (see :class:`Findings`)."""

    def __init__(self, desk: Desk, findings: Findings, authority: Item) -> None:
        self.desk = desk
        self.findings = findings
        self.authority = authority
        self.opinions = 0
        findings.last_exchange = self.last_exchange

    def last_exchange(self) -> Any:
        exchanges = self.desk.harness.evidence.exchanges
        return exchanges[-1] if exchanges else None

    # ------------------------------------------------------------------ reads
    def read(self, case: Case, clauses: tuple[str, ...]) -> Item:
        r = self.desk.state(case.case_no)
        data = data_of(r)
        self.findings.expect(
            clauses,
            r.status == 200 and isinstance(data, dict),
            f"办件 {case.case_no} 状态查询失败：{brief(r)}",
            hard=True,
        )
        # identifiers, the record and the notices are judged by their own clauses
        shape = {**{k: v for k, v in data.items() if k not in _STATE_IDS}, "history": [], "notices": []}
        v = validator("workflow#/$defs/caseState")
        self.findings.expect(
            clauses,
            v.structure_valid(shape),
            f"办件 {case.case_no} 的状态不符合 workflow.schema.json caseState："
            f"{[e.message_zh for e in v.errors(shape)][:3]}",
            hard=True,
        )
        self.findings.expect(
            CASE_NO,
            data.get("caseNo") == case.case_no,
            f"状态中的办件编号 {data.get('caseNo')!r} 不是推送时的 {case.case_no}",
        )
        case.view = data
        return data

    def expect_state(self, case: Case, data: Item, state: str, clauses: tuple[str, ...], what: str) -> None:
        due = pending(state)
        ok = (
            data.get("state") == state and bool(data.get("ended")) == terminal(state) and data.get("suspended") is False
        )
        if due is not None:
            ok = ok and data.get("currentStep") == due
        self.findings.expect(
            clauses,
            ok,
            f"{what}后办件 {case.case_no} 应为状态 {state}（待办步骤 {due}，workflow.json），"
            f"实为 state={data.get('state')!r} currentStep={data.get('currentStep')!r} ended={data.get('ended')!r}",
            hard=True,
        )
        case.state = state

    def check_history(
        self,
        case: Case,
        data: Item,
        step: str,
        outcome: str,
        role: str | None,
        opinion: str | None,
        operator: str | None,
    ) -> None:
        entries = data.get("history") or []
        new = entries[case.entries :]
        case.entries = len(entries)
        mine = [e for e in new if isinstance(e, dict) and e.get("step") == step and e.get("outcome") == outcome]
        if not self.findings.expect(
            HISTORY, bool(mine), f"办件 {case.case_no} 的办理记录没有“{step}/{outcome}”这一条（新增 {len(new)} 条）"
        ):
            return
        e = mine[-1]
        op = e.get("operator") or {}
        at = when(e.get("at"))
        problems = []
        if operator is not None and op.get("name") != operator:
            problems.append(f"经办人 {op.get('name')!r}，应为 {operator!r}")
        if role is not None and op.get("role") != role:
            problems.append(f"岗位 {op.get('role')!r}，应为 {role!r}")
        if opinion is not None and e.get("opinion") != opinion:
            problems.append(f"办理意见 {e.get('opinion')!r}，应为 {opinion!r}")
        if not e.get("opinion"):
            problems.append("没有办理意见")
        if at is None:
            problems.append(f"办理时间 {e.get('at')!r} 不是带时区的 GB/T 7408 日期时间")
        elif case.last_at is not None and at < case.last_at:
            problems.append(f"办理时间 {e.get('at')} 早于前一条记录")
        self.findings.expect(
            HISTORY, not problems, f"办件 {case.case_no} 的“{step}/{outcome}”记录：" + "；".join(problems)
        )
        case.last_at = at or case.last_at

    def check_notices(self, case: Case, step: str, outcome: str) -> None:
        expected = notice_of(step, outcome)
        if expected is None:
            return
        clauses = NOTICE_CLAUSES[expected]
        r = self.desk.notices(case.case_no)
        data = data_of(r)
        if not isinstance(data, list):
            self.findings.expect(clauses, False, f"办件 {case.case_no} 的文书查询失败：{brief(r)}")
            return
        new = [n for n in data if isinstance(n, dict) and n.get("noticeId") not in case.notices]
        for n in new:
            case.notices[str(n.get("noticeId"))] = n
            self.findings.expect(
                CASE_NO,
                n.get("caseNo") == case.case_no,
                f"文书 {n.get('noticeId')} 的办件编号 {n.get('caseNo')!r} 不是 {case.case_no}",
            )
        found = [n for n in new if n.get("type") == expected]
        if not self.findings.expect(
            clauses,
            bool(found),
            f"“{step}/{outcome}”之后办件 {case.case_no} 没有新的{expected}（新文书：{[n.get('type') for n in new]}）",
        ):
            return
        v = validator("notice")
        for n in found:
            self.findings.expect(
                clauses,
                v.is_valid(n),
                f"{expected} 不符合 notice.schema.json：{[e.message_zh for e in v.errors(n)][:3]}",
            )
            self.findings.expect(
                clauses,
                n.get("authority") == case.application["authority"],
                f"{expected} 的出具机关 {n.get('authority')} 不是受理机关 {case.application['authority']}",
            )

    def check_codes(self, case: Case, data: Item) -> None:
        eq = case.application["equipment"]
        catalogue = eq["catalogueCode"]
        code = data.get("equipmentCode")
        if self.findings.expect(EQUIPMENT_CODE, isinstance(code, str), f"制证后办件 {case.case_no} 没有设备代码"):
            res = check("equipment-code", code, mode="held" if code == eq.get("equipmentCode") else "issued")
            self.findings.expect(EQUIPMENT_CODE, res.ok, f"设备代码 {code} 不符合 TSG 08-2017：{res.reason('zh')}")
            if res.ok and not eq.get("equipmentCode"):
                self.findings.expect(
                    EQUIPMENT_CODE,
                    code[:4] == catalogue,
                    f"设备代码 {code} 的品种代码 {code[:4]} 不是申请设备的品种 {catalogue}",
                )
        number = data.get("registrationNo")
        if self.findings.expect(
            REGISTRATION_NO, isinstance(number, str), f"制证后办件 {case.case_no} 没有使用登记证编号"
        ):
            res = check("registration-no", number, mode="held" if number == eq.get("registrationNo") else "issued")
            self.findings.expect(
                REGISTRATION_NO, res.ok, f"使用登记证编号 {number} 不符合 TSG 08-2017：{res.reason('zh')}"
            )
            if res.ok:
                group = groups()[items()[case.item]["group"]]
                provinces = {
                    code_lists.provinces().get(d[:2], {}).get("abbr")
                    for d in (case.application["authority"]["division"], eq["division"])
                }
                problems = []
                if number[0] != group["certChar"]:
                    problems.append(f"设备代号 {number[0]} 应为 {group['certChar']}（{group['equipment']}）")
                if number[1:3] != catalogue[1:3]:
                    problems.append(f"品种代号 {number[1:3]} 应为设备品种 {catalogue} 的第2、3位 {catalogue[1:3]}")
                if number[3] not in provinces:
                    problems.append(
                        f"省份简称 {number[3]} 不是登记机关或设备所在地的简称 {sorted(p for p in provinces if p)}"
                    )
                self.findings.expect(
                    REGISTRATION_NO, not problems, f"使用登记证编号 {number} 与申请不符：" + "；".join(problems)
                )

    # ------------------------------------------------------------------ T5-5
    def push(self, case: Case, *, resubmission: bool = False) -> None:
        clauses = RESUBMIT if resubmission else STEP_CLAUSES
        r = self.desk.push(case.application)
        body = data_of(r)
        expected = (200, 201) if resubmission else (201,)
        self.findings.expect(
            clauses,
            r.status in expected and isinstance(body, dict),
            f"{'补正后再次' if resubmission else ''}推送办件 {case.case_no}（{case.item}）：{brief(r)}",
            hard=True,
        )
        self.findings.expect(
            CASE_NO,
            body.get("caseNo") in (None, case.case_no),
            f"回执中的办件编号 {body.get('caseNo')!r} 不是 {case.case_no}",
        )
        data = self.read(case, clauses)
        self.expect_state(
            case, data, submitted()["state"], clauses, "申请推送" if not resubmission else "补正后再次推送"
        )
        self.check_history(case, data, "apply", submitted()["code"], None, None, None)
        case.performed.append(("apply", submitted()["code"], ""))

    def open(self, item: str, applicant: Item, *, rng: random.Random, channel: str = "online") -> Case:
        case_no = new_case_no()
        case = Case(case_no, item, application(case_no, item, applicant, self.authority, rng=rng, channel=channel))
        self.push(case)
        return case

    def resubmission(self, case: Case) -> Item:
        """The next T5-5 push of ``case`` (not sent here)."""
        case.messages += 1
        return resubmission(case.application, case.messages)

    def resubmit(self, case: Case) -> None:
        """补齐补正: the applicant completes the materials and the platform pushes again (same case number, new message)."""
        case.application = self.resubmission(case)
        self.push(case, resubmission=True)

    # ------------------------------------------------------------------ steps
    def perform(self, case: Case, step: str, outcome: str, role: str) -> Item:
        """The right post performs the step; the case is then where workflow.json says, with its record and notice."""
        self.opinions += 1
        opinion = f"{outcomes()[(step, outcome)]['name']}：经核，意见编号 {self.opinions}。"
        r = self.desk.step(role, case.case_no, step, outcome, opinion)
        clauses = STEP_CLAUSES + OUTCOME_CLAUSES.get((step, outcome), ()) + ROLES_WORK + (role_clause(role),)
        self.findings.expect(
            clauses,
            r.status == 200,
            f"岗位 {role} 对办件 {case.case_no} 执行“{step}/{outcome}”（待办步骤 {pending(case.state)}）：{brief(r)}",
            hard=True,
        )
        data = self.read(case, STEP_CLAUSES)
        self.expect_state(
            case,
            data,
            outcomes()[(step, outcome)]["state"],
            STEP_CLAUSES + OUTCOME_CLAUSES.get((step, outcome), ()),
            f"“{step}/{outcome}”",
        )
        self.check_history(case, data, step, outcome, role, opinion, OPERATORS.get(role))  # right after the read: the
        if step == "certify":  # failures are linked to the state response they looked at
            self.check_codes(case, data)
        self.check_notices(case, step, outcome)
        case.performed.append((step, outcome, role))
        return data

    def refused(self, case: Case, r: Any, clauses: tuple[str, ...], status: int, what: str) -> None:
        """``r`` must be refused with ``status``, and the case must stay as it was."""
        hard = r.status is not None and 200 <= r.status < 300
        self.findings.expect(clauses, r.status == status, f"{what}：应 {status}，实为 {brief(r)}", hard=hard)
        before_state, before_entries = case.state, case.entries
        data = self.read(case, clauses)
        entries = len(data.get("history") or [])
        self.findings.expect(
            clauses,
            data.get("state") == before_state and entries == before_entries,
            f"{what}被拒绝后办件 {case.case_no} 仍应为 {before_state}（{before_entries} 条记录），"
            f"实为 {data.get('state')!r}（{entries} 条）",
            hard=True,
        )

    def probe_wrong_role(self, case: Case, step: str, outcome: str, wrong: str) -> None:
        """A post that may not give ``outcome`` in ``step`` (roles.json, workflow.json) is refused with 403, nothing changes."""
        r = self.desk.step(wrong, case.case_no, step, outcome, "越权尝试", "越权者")
        what = f"岗位 {wrong} 执行“{step}/{outcome}”（应为 {'、'.join(allowed_roles(step, outcome))}）"
        self.refused(case, r, WRONG_ROLE, 403, what)

    def probe_out_of_order(self, case: Case, step: str) -> None:
        """A step that is not pending (§6 order) is refused with 409 even by its own post, nothing changes."""
        outcome = walk_outcomes(step, with_return=False)[0]
        role = allowed_roles(step, outcome)[0]
        r = self.desk.step(role, case.case_no, step, outcome, "越序尝试", OPERATORS.get(role))
        what = f"对状态 {case.state}（待办 {pending(case.state)}）的办件执行“{step}/{outcome}”"
        self.refused(case, r, OUT_OF_ORDER, 409, what)

    def wrong_roles(self, step: str, outcome: str) -> list[str]:
        return [r for r in role_codes() if r not in allowed_roles(step, outcome)]

    def illegal_steps(self, case: Case) -> list[str]:
        """Steps other than the pending one (申请 is not a driver step: it is a T5-5 push)."""
        due = pending(case.state)
        return [s for s in step_codes() if s != due and s != "apply"]


def run_walk(findings: Findings, name: str, walk: Any) -> Any:
    """Run one scripted walk; a hard violation ends it (recorded) instead of ending the session."""
    try:
        return walk()
    except Violation as exc:
        findings.record(exc, f"走查“{name}”")
        findings.aborted.append(f"走查“{name}”中止：{exc.detail[:200]}")
        return None


#: The Table 1 clause of each equipment group (licence-items.json ``groups``).
GROUP_CLAUSES = {
    "01": "DB42.5.T1-01.1",  # 锅炉
    "02": "DB42.5.T1-02.1",  # 压力容器
    "03": "DB42.5.T1-03.1",  # 电梯
    "04": "DB42.5.T1-04.1",  # 起重机械
    "05": "DB42.5.T1-05.1",  # 场（厂）内机动车
    "06": "DB42.5.T1-06.1",  # 大型游乐设施
    "07": "DB42.5.T1-07.1",  # 压力管道
    "08": "DB42.5.T1-08.1",  # 气瓶
    "09": "DB42.5.T1-09.1",  # 车用气瓶
    "10": "DB42.5.T1-10.1",  # 客运索道
}


def group_clause(group: str) -> str:
    if group not in GROUP_CLAUSES:
        raise LookupError(f"GROUP_CLAUSES lists no clause for the equipment group {group}")
    return GROUP_CLAUSES[group]
