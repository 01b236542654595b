"""Shared machinery of the client-side suites (no tests of its own): the system under test is the
*caller*; the harness plays its counterparts (``conformance/simulators``) and judges what they receive.

* :func:`simulators` — the session's simulators: started here on the target file's ``[simulators]``
  host and ports, or reached where ``[simulators.urls]`` says they already run.
* :class:`Ledger` — every check made on the recorded calls, by clause, with the calls that support
  it; each test then judges its clauses (fails with every problem, 未测 when nothing was checked) and
  the supporting calls become its evidence (inbound exchanges in the certification report).
* Case drivers: :class:`AutoDriver` performs steps through the optional workflow driver
  (``workflow-driver.yaml``); :class:`AttendedDriver` tells an operator what to do in the system's own
  screens (bilingual, on the terminal and as JSON lines in ``instructions_file``) and the harness waits,
  bounded, for the call the step must cause.
* Contract checks of a call: the request body against the operation's schema (``validator_at(op.body_uri)``),
  path and query parameters against theirs, a bearer token on secured operations.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance.check.schema import validator, validator_at
from conformance.client import Evidence
from conformance.clock import CHINA
from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.contract import documents as contracts
from conformance.contract.openapi import Operation, role_operations
from conformance.datagen.licensing import application, authority_of, new_applicant, new_case_no, varieties
from conformance.datagen.licensing import resubmission as resubmitted
from conformance.harness.target import SimulatorSettings, Target
from conformance.simulators import Call, Simulators, for_settings
from conformance.suites.support.workflow import DRIVER, OPERATORS, Desk, allowed_roles, brief, data_of, outcomes, steps

Item = dict[str, Any]

SMS_FEATURE = "sms-gateway"


# ---------------------------------------------------------------------------------- contracts
@functools.cache
def counterpart_ops() -> dict[tuple[str, str], Operation]:
    """(role, interface or operation id) → operation, for the three simulated roles."""
    out: dict[tuple[str, str], Operation] = {}
    for role in ("gov-platform", "inspection", "supervision"):
        for op in role_operations(role):
            out[(role, op.operation_id)] = op
            if op.interface:
                out[(role, op.interface)] = op
    return out


def op_of(call: Call) -> Operation | None:
    return counterpart_ops().get((call.simulator, call.operation or ""))


#: The catalogue clause of each DB42 table row (Table 5: §10.2, Table 6: §10.3, Table 7: §10.4).
INTERFACE_CLAUSES = {
    "T5-1": "DB42.10.2.T5-1.1",
    "T5-2": "DB42.10.2.T5-2.1",
    "T5-3": "DB42.10.2.T5-3.1",
    "T5-4": "DB42.10.2.T5-4.1",
    "T5-5": "DB42.10.2.T5-5.1",
    "T5-6": "DB42.10.2.T5-6.1",
    "T5-7": "DB42.10.2.T5-7.1",
    "T5-8": "DB42.10.2.T5-8.1",
    "T5-9": "DB42.10.2.T5-9.1",
    "T5-10": "DB42.10.2.T5-10.1",
    "T5-11": "DB42.10.2.T5-11.1",
    "T5-12": "DB42.10.2.T5-12.1",
    "T5-13": "DB42.10.2.T5-13.1",
    "T5-14": "DB42.10.2.T5-14.1",
    "T5-15": "DB42.10.2.T5-15.1",
    "T5-16": "DB42.10.2.T5-16.1",
    "T6-1": "DB42.10.3.T6-1.1",
    "T6-2": "DB42.10.3.T6-2.1",
    "T7-1": "DB42.10.4.T7-1.1",
    "T7-2": "DB42.10.4.T7-2.1",
}


def interface_clause(interface: str) -> str:
    """The catalogue clause of a DB42 table row (T5-7 → DB42.10.2.T5-7.1); LookupError for anything else."""
    if interface not in INTERFACE_CLAUSES:
        raise LookupError(f"no clause for interface {interface}")
    return INTERFACE_CLAUSES[interface]


@functools.cache
def report_back_of(step: str, outcome: str) -> str | None:
    """The Table 5 report-back an outcome triggers (workflow.json ``reportBack``)."""
    return outcomes()[(step, outcome)].get("reportBack")


@functools.cache
def special_report() -> str:
    return str(contracts.codelist("workflow")["specialProcedure"]["reportBack"])


@functools.cache
def special_kinds() -> tuple[str, ...]:
    return tuple(k["name"] for k in contracts.codelist("workflow")["specialProcedure"]["kinds"])


@functools.cache
def special_steps() -> tuple[str, ...]:
    return tuple(contracts.codelist("workflow")["specialProcedure"]["allowedIn"])


@functools.cache
def inspection_data() -> Item:
    """workflow.json ``inspectionData``: the report fields an application takes (pre-fill) or is compared with."""
    return dict(contracts.codelist("workflow")["inspectionData"])


def objection() -> Item:
    return dict(inspection_data()["objection"])


@functools.cache
def issue_effects() -> tuple[str, ...]:
    """The interfaces 发证 starts (workflow.json: the outcome's effects name T5-11, T7-1, T7-2)."""
    found = []
    for o in contracts.codelist("workflow")["outcomes"]:
        for effect in o.get("effects", []):
            for iface in ("T5-11", "T7-1", "T7-2"):
                if iface in effect and iface not in found:
                    found.append(iface)
    return tuple(found)


@functools.cache
def issue_step() -> str:
    """The step whose outcome starts the external exchange (§7.4.4 a): the one whose effects name T5-11."""
    for o in contracts.codelist("workflow")["outcomes"]:
        if any("T5-11" in e for e in o.get("effects", [])):
            return str(o["step"])
    raise LookupError("workflow.json names no step that starts T5-11")


def request_problems(op: Operation, call: Call) -> list[str]:
    """What the call breaks in ``op``'s request: a bearer token on a secured operation; the media type and the body
    schema when it takes a body."""
    problems = []
    if op.secured and not call.client_id:
        problems.append("未携带有效的 Bearer 令牌 / no bearer token")
    if op.body_uri is not None:
        ctype = next((v for k, v in call.headers.items() if k.lower() == "content-type"), "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            problems.append(f"Content-Type 为 {ctype!r}，应为 application/json")
        v = validator_at(op.body_uri)
        if not v.is_valid(call.json):
            problems += [f"{e.path or '/'}：{e.message_zh}" for e in v.errors(call.json)[:5]]
    return problems


def contract_problems(call: Call) -> list[str]:
    """What the call breaks in its contract: body schema, parameters, bearer token, media type."""
    op = op_of(call)
    if op is None:
        return [f"{call.method} {call.path} 不是 {call.simulator} 契约中的接口 / not an operation of the contract"]
    problems = request_problems(op, call)
    for p in op.params:
        if p.location == "query" and p.name in call.query:
            value: Any = call.query[p.name]
            v = validator_at(p.schema_uri)
            if not v.is_valid(value) and not (value.isdigit() and v.is_valid(int(value))):
                problems.append(f"查询参数 {p.name}={value!r} 不符合契约")
        elif p.location == "query" and p.required:
            problems.append(f"缺少必填查询参数 {p.name}")
    return problems


def digest(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def is_chinese(text: Any) -> bool:
    return isinstance(text, str) and any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ---------------------------------------------------------------------------------- ledger
@dataclass(repr=False)
class Ledger:
    """Every check on the recorded calls, by clause (see the module doc)."""

    passed: Counter[str] = field(default_factory=Counter)
    failed: dict[str, list[str]] = field(default_factory=dict)
    calls: dict[str, dict[tuple[str, int], Call]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Ledger({sum(self.passed.values())} passed; failing: {sorted(c for c, m in self.failed.items() if m)})"

    def support(self, clauses: str | Iterable[str], calls: Iterable[Call]) -> None:
        for c in (clauses,) if isinstance(clauses, str) else clauses:
            kept = self.calls.setdefault(c, {})
            for call in calls:
                if len(kept) < 40:
                    kept[(call.simulator, call.seq)] = call

    def check(self, clauses: str | Iterable[str], ok: bool, message: str, calls: Iterable[Call] = ()) -> bool:
        cs = (clauses,) if isinstance(clauses, str) else tuple(clauses)
        self.support(cs, calls)
        if ok:
            self.passed.update(cs)
            return True
        for c in cs:
            seen = self.failed.setdefault(c, [])
            if message not in seen and len(seen) < 30:
                seen.append(message)
        return False

    def judge(self, request: pytest.FixtureRequest, evidence: Evidence, *clauses: str) -> None:
        """Attach the supporting inbound calls to the calling test, then fail with the problems or skip (未测)."""
        attached: set[tuple[str, int]] = set()
        for c in clauses:
            for key, call in self.calls.get(c, {}).items():
                if key not in attached:
                    attached.add(key)
                    attach(evidence, call, request.node.nodeid)
        problems = [f"{c}: {m}" for c in clauses for m in self.failed.get(c, [])]
        if problems:
            raise AssertionError("\n".join(problems[:40]))
        if not any(self.passed[c] for c in clauses):
            why = "；".join(self.notes[:3])
            pytest.skip(f"未测：没有可检验 {', '.join(clauses)} 的调用 / untested" + (f"（{why}）" if why else ""))


def attach(evidence: Evidence, call: Call, test: str) -> None:
    query = "&".join(f"{k}={v}" for k, v in call.query.items())
    answer = json.dumps(call.answer, ensure_ascii=False) if call.answer is not None else None
    evidence.add_inbound(
        simulator=call.simulator,
        method=call.method,
        url=f"{call.base_url}{call.path}" + (f"?{query}" if query else ""),
        headers=call.headers,
        body=call.body,
        status=call.status,
        response_headers=call.answer_headers,
        response_body=answer,
        received_at=call.received_at,
        elapsed_ms=round(((call.answered_at or call.t) - call.t) * 1000, 1),
        error=f"模拟故障 / simulated fault: {call.fault}" if call.fault else None,
        test=test,
    )


# ---------------------------------------------------------------------------------- output
class Console:
    """Progress and operator instructions: on the terminal even under pytest's capture (bilingual), and
    appended as JSON lines to ``instructions_file`` when the target file names one."""

    def __init__(self, config: pytest.Config | None, settings: SimulatorSettings) -> None:
        self.config = config
        self.file = Path(settings.instructions_file) if settings.instructions_file else None
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        from rich.console import Console as Rich

        capman = self.config.pluginmanager.getplugin("capturemanager") if self.config is not None else None
        with capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext():
            Rich(stderr=True, highlight=False).print(text, markup=False)

    def instruct(self, instruction: Item) -> None:
        """An operator instruction: shown, and appended to the instructions file (one JSON object a line)."""
        self.say(f"【请操作 / please act】{instruction['zh']}\n    {instruction['en']}")
        if self.file is not None:
            with self.lock:
                self.file.parent.mkdir(parents=True, exist_ok=True)
                with self.file.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(instruction, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------- simulators of the session
_SIMULATORS = pytest.StashKey[Simulators]()
_SHARED_LOCK = threading.Lock()


def simulators(request: pytest.FixtureRequest, target: Target) -> Simulators:
    """One set of simulators per pytest session, shared by the client-side modules, stopped at the end."""
    with _SHARED_LOCK:
        sims = request.config.stash.get(_SIMULATORS, None)
        if sims is None:
            try:
                sims = for_settings(target.simulators)
            except (OSError, ValueError, RuntimeError) as exc:
                raise RuntimeError(f"模拟器无法启动或连接 / simulators unavailable: {exc}") from exc
            request.config.stash[_SIMULATORS] = sims
            request.session.config.add_cleanup(sims.stop)
    return sims


#: Operations of the simulators the harness itself calls (the preflight's health probe): no sign of the target.
HARNESS_PROBES = frozenset({"getHealth"})
#: The simulators (by ``id``) a wait ended at without any call of the system under test on record (:func:`unwired`).
_UNWIRED: dict[int, Simulators] = {}
UNWIRED_NOTE = (
    "被测系统从未调用任何模拟对端：请把它的政务服务平台、检验检测与安全监察系统地址配置为目标文件 [simulators] 所给的"
    "模拟器 / the system under test never called a simulator: configure its counterparts as [simulators] says"
)


def unwired(sims: Simulators, *, waited: bool = False) -> bool:
    """Whether the system under test is not wired to the simulators: once a wait (``waited``) has ended with no call
    of it on record at any simulator, every later wait of the session is not made — the checks that needed the call
    are 未测 (no counterpart, docs/verdicts.md), never 不符合, and the session does not wait them out one by one."""
    if id(sims) in _UNWIRED:
        return True
    if waited and not [c for c in sims.calls() if c.operation not in HARNESS_PROBES]:
        _UNWIRED[id(sims)] = sims
        return True
    return False


# ---------------------------------------------------------------------------------- drivers
@dataclass
class StepResult:
    done: bool
    message: str = ""
    started: float = 0.0


class AutoDriver:
    """Steps through the workflow driver (``workflow-driver.yaml``), as the post each outcome requires."""

    attended = False

    def __init__(self, tzsb_client: Any) -> None:
        self.desk = Desk(tzsb_client)

    def step(self, case_no: str, step: str, outcome: str, opinion: str) -> StepResult:
        started = time.time()
        return _done(self.desk.step(allowed_roles(step, outcome)[0], case_no, step, outcome, opinion), started)

    def special(self, case_no: str, step: str, action: str, procedure: str, opinion: str) -> StepResult:
        started = time.time()
        return _done(self.desk.special(allowed_roles(step, "suspend")[0], case_no, procedure, action, opinion), started)

    def objection(self, case_no: str, items: list[Item]) -> StepResult:
        started = time.time()
        return _done(self.desk.objection(objection()["roles"][0], case_no, items), started)

    def state(self, case_no: str) -> Item | None:
        r = self.desk.state(case_no)
        data = data_of(r)
        return data if r.status == 200 and isinstance(data, dict) else None


def _done(r: Any, started: float) -> StepResult:
    return StepResult(r.status == 200, "" if r.status == 200 else brief(r), started)


class AttendedDriver:
    """No driver: an operator performs each step in the system's own screens when told; the harness then
    waits (``attended_timeout_s``) for the call the step must cause."""

    attended = True

    def __init__(self, console: Console) -> None:
        self.console = console
        self.count = 0

    def _instruct(self, fields: Item, zh: str, en: str) -> StepResult:
        """Instruction ``n`` (``第n步：`` / ``step n:`` before the texts); the step counts as started now."""
        self.count += 1
        n = self.count
        self.console.instruct({"n": n, **fields, "zh": f"第{n}步：{zh}", "en": f"step {n}: {en}"})
        return StepResult(True, "", time.time())

    def _post_name(self, role: str) -> str:
        items = {r["code"]: r for r in contracts.codelist("roles")["items"]}
        return str(items.get(role, {}).get("name", role))

    def step(self, case_no: str, step: str, outcome: str, opinion: str) -> StepResult:
        role = allowed_roles(step, outcome)[0]
        name, result = steps()[step]["name"], outcomes()[(step, outcome)]["name"]
        return self._instruct(
            {"action": "step", "caseNo": case_no, "step": step, "outcome": outcome, "post": role, "opinion": opinion},
            f"以“{self._post_name(role)}”岗位登录被测系统，对办件 {case_no} 办理“{name}”，结论“{result}”，办理意见填写：{opinion}",
            f"as post {role}, perform {step} on case {case_no} with outcome {outcome}; opinion: {opinion}",
        )

    def special(self, case_no: str, step: str, action: str, procedure: str, opinion: str) -> StepResult:
        role = allowed_roles(step, "suspend")[0]
        verb_zh, verb_en = ("开始", "start") if action == "start" else ("结束", "end")
        fields = {"action": "special", "caseNo": case_no, "step": step, "specialAction": action, "procedure": procedure}
        return self._instruct(
            {**fields, "post": role, "opinion": opinion},
            f"以“{self._post_name(role)}”岗位对办件 {case_no} 在“{steps()[step]['name']}”环节{verb_zh}特别程序"
            f"“{procedure}”，意见：{opinion}",
            f"as post {role}, {verb_en} the special procedure {procedure} of case {case_no} in step {step}; opinion: {opinion}",
        )

    def objection(self, case_no: str, items: list[Item]) -> StepResult:
        role = objection()["roles"][0]
        fields = {f["report"]: f["name"] for f in inspection_data()["fields"]}
        listed_zh = "；".join(f"“{fields.get(i['field'], i['field'])}”（{i['reason']}）" for i in items)
        listed_en = "; ".join(f"{i['field']} ({i['reason']})" for i in items)
        return self._instruct(
            {"action": "objection", "caseNo": case_no, "post": role, "items": items},
            f"以“{self._post_name(role)}”岗位对办件 {case_no} 所引检验报告提出异议（检验数据与申报材料不符）：{listed_zh}",
            f"as post {role}, raise an objection to the inspection report of case {case_no}: {listed_en}",
        )

    def state(self, case_no: str) -> Item | None:
        return None


# ---------------------------------------------------------------------------------- the parties and their data
@dataclass
class Party:
    """The applicant of a scenario case, as the simulated identity system knows it, and its application."""

    case_no: str
    application: Item
    user_kind: str  # natural | legal
    user: Item
    report: Item | None = None
    messages: list[Item] = field(default_factory=list)

    @property
    def item(self) -> str:
        return str(self.application["itemCode"])


def _equipment_code(rng: random.Random, catalogue: str) -> str:
    return str(KINDS["equipment-code"].generate(rng, catalogue=catalogue, region="42", year=dt.date.today().year - 1))


def _inspection_report(rng: random.Random, app: Item, report_no: str) -> Item:
    eq, applicant = app["equipment"], app["applicant"]
    org = new_applicant(rng)
    now = dt.datetime.now(dt.UTC).astimezone(CHINA).replace(microsecond=0)
    report = {
        "reportNo": report_no,
        "equipmentCode": eq["equipmentCode"],
        "catalogueCode": eq["catalogueCode"],
        "useUnitName": applicant["name"],
        "inspectionType": "监督检验",
        "inspectionOrgUscc": org["idNumber"],
        "inspectionOrgName": f"{org['name'][:20]}检验检测中心",
        "inspectionDate": (now.date() - dt.timedelta(days=10)).isoformat(),
        "conclusion": "合格",
        "inspectors": ["赵检", "钱验"],
        "version": 1,
        "issuedAt": (now - dt.timedelta(days=9)).isoformat(),
        "updatedAt": (now - dt.timedelta(days=9)).isoformat(),
        "items": [{"name": "安全保护装置", "result": "符合"}],
    }
    if applicant["idType"] == "001":
        report["useUnitUscc"] = applicant["idNumber"]
    if not validator("inspection-report").is_valid(report):  # the harness's own data
        raise RuntimeError(
            f"generated inspection report invalid: {[e.message_zh for e in validator('inspection-report').errors(report)]}"
        )
    return report


def new_party(
    target: Target, rng: random.Random, *, legal: bool = True, item: str | None = None, with_report: bool = True
) -> Party:
    """A fresh applicant (legal person with a USCC, or a natural person with a citizen ID), its unified-identity
    user, an application for ``item`` with a TSG 08 equipment code and, optionally, an inspection report."""
    authority = authority_of(target)
    item = item or "01100000-03-01"
    case_no = new_case_no()
    user_id = f"uid-{secrets.token_hex(6)}"
    if legal:
        applicant = new_applicant(rng)
        applicant["userId"] = user_id
        user = {
            "userId": user_id,
            "name": applicant["name"],
            "idType": "001",
            "uscc": applicant["idNumber"],
            "agentName": applicant["contactPerson"],
            "agentMobile": applicant["contactPhone"],
        }
    else:
        base = new_applicant(rng)
        citizen = KINDS["citizen-id"].generate(rng)
        name = OPERATORS["accept"][:1] + "小" + random.Random(citizen).choice("明红华强")
        applicant = {
            "type": "natural-person",
            "name": name,
            "idType": "111",
            "idNumber": citizen,
            "userId": user_id,
            "contactPerson": name,
            "contactPhone": base["contactPhone"],
            "address": base["address"],
        }
        user = {"userId": user_id, "name": name, "idType": "111", "idNumber": citizen, "mobile": base["contactPhone"]}
    group = code_lists.licence_items()[item]["group"]
    body = application(case_no, item, applicant, authority, rng=rng, catalogue=rng.choice(varieties(group)))
    body["equipment"]["equipmentCode"] = _equipment_code(rng, body["equipment"]["catalogueCode"])
    report = None
    if with_report:
        report_no = f"JY{body['equipment']['catalogueCode']}-{dt.date.today().year}-{rng.randrange(10**6):06d}"
        body["equipment"]["reportNo"] = report_no
        report = _inspection_report(rng, body, report_no)
    if not validator("application").is_valid(body):
        raise RuntimeError(
            f"generated application invalid: {[e.message_zh for e in validator('application').errors(body)]}"
        )
    return Party(case_no, body, "legal" if legal else "natural", user, report, [body])


def _revalidated(party: Party) -> Party:
    if not validator("application").is_valid(party.application):  # the harness's own data
        raise RuntimeError(
            f"changed application invalid: {[e.message_zh for e in validator('application').errors(party.application)]}"
        )
    return party


def with_original_registration(party: Party, rng: random.Random) -> Party:
    """An application about registered equipment (a change, cancellation or scrapping): its original 使用登记证编号,
    of the equipment's variety, issued in the authority's province some years ago."""
    eq = party.application["equipment"]
    eq["registrationNo"] = KINDS["registration-no"].generate(
        rng,
        catalogue=eq["catalogueCode"],
        province=party.application["authority"]["division"][:2],
        year=dt.date.today().year - 3,
    )
    return _revalidated(party)


def without_equipment_code(party: Party) -> Party:
    """An application that leaves the equipment code to the inspection report it names (pre-fill, §7.1.5 f)."""
    party.application["equipment"].pop("equipmentCode", None)
    return _revalidated(party)


def with_declared_equipment_code(party: Party, rng: random.Random) -> Party:
    """An application whose equipment code differs from the one its inspection report records (an objection's
    matter, §7.2.5 f): another valid code of the same variety."""
    eq = party.application["equipment"]
    recorded = (party.report or {}).get("equipmentCode")
    while eq.get("equipmentCode") in (None, recorded):
        eq["equipmentCode"] = _equipment_code(rng, eq["catalogueCode"])
    return _revalidated(party)


def resubmission(party: Party) -> Item:
    """补齐补正: the same case number, a new message id, the completed materials."""
    app = resubmitted(party.application, len(party.messages) + 1)
    party.messages.append(app)
    party.application = app
    return app


#: Every case number the harness registered with the platform in this process: a report naming none of them names a
#: case under a number the platform never gave (see ``CaseWalk.mine``).
_PUSHED: set[str] = set()


def pushed(case_no: str) -> bool:
    return case_no in _PUSHED


def introduce(sims: Simulators, party: Party) -> None:
    """Tell the simulators what the platform, the identity system and the inspection system know of the case."""
    _PUSHED.add(party.case_no)
    sims["gov-platform"].register_user(party.user_kind, party.user)
    sims["gov-platform"].register_case(party.case_no, party.item)
    if party.report is not None:
        sims["inspection"].register_report(party.report)


def case_calls(calls: list[Call], party: Party) -> list[Call]:
    """Calls about the party's case: by case number, the applicant's code, the report or the user id."""
    out = []
    app = party.application
    for c in calls:
        body = c.json if isinstance(c.json, dict) else {}
        if (
            c.case_no == party.case_no
            or party.case_no in c.path
            or (c.key == "T7-1" and (body.get("unit") or {}).get("uscc") == app["applicant"]["idNumber"])
            or (c.key == "T6-1" and party.report is not None and party.report["reportNo"] in c.path)
            or (c.key in ("T5-3", "T5-4") and party.user["userId"] in c.path)
        ):
            out.append(c)
    return out


def first_attempts(calls: Iterable[Call]) -> list[Call]:
    """One call per message (the first attempt), in the order received."""
    seen: set[str] = set()
    out = []
    for c in sorted(calls, key=lambda c: (c.t, c.seq)):
        body = c.json if isinstance(c.json, dict) else {}
        ident = c.message_id or (f"{body.get('elicenseId')}|{body.get('version')}" if c.key == "T5-11" else None)
        key = f"{c.simulator}|{c.key}|{ident}" if ident else f"{c.simulator}|{c.seq}"
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


NO_DRIVER = (
    "未测：目标未声明流程驱动接口（workflow-driver），目标文件也未启用有人值守模式（[simulators] attended = true）"
    " / untested: no workflow driver and no attended mode"
)


def session(
    request: pytest.FixtureRequest, target: Target, tzsb_client: Any
) -> tuple[Console, AutoDriver | AttendedDriver, Simulators]:
    """A module's console, its case driver — the workflow driver when the target declares it, else attended mode when
    the target file asks for it, else the module is 未测 — and the session's simulators."""
    console = Console(request.config, target.simulators)
    if DRIVER in target.features:
        driver: AutoDriver | AttendedDriver = AutoDriver(tzsb_client)
    elif target.simulators.attended:
        driver = AttendedDriver(console)
    else:
        pytest.skip(NO_DRIVER)
    return console, driver, simulators(request, target)


def pick_item(rng: random.Random) -> str:
    """A new-registration item (Table 1 operation 01) of a random group: the case ends with a licence."""
    return rng.choice(sorted(c for c in code_lists.licence_items() if c.endswith("-01")))
