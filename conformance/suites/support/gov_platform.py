"""Shared helpers of the government-service-platform suites (``test_gov_platform_*``); this module holds
no tests (it carries the suites' file prefix only so that it sits with them).

Everything about the interfaces is read from the contracts: operations, paths, request and response
schemas from ``schemas/openapi/gov-platform.yaml`` (by their ``x-interface`` T5-1 … T5-16 or operation
id), report bodies from ``case-status.schema.json``, the steps, outcomes, notices and posts of the
report-backs from ``schemas/codelists/workflow.json``, the items from ``licence-items.json``. Nothing
here imports the reference server; the suites run against any implementation of the role.

Who calls: every interface of Table 5 that the platform offers is called by the licensing system, so
the suites use the licensing system's client at the platform (``[clients.licensing-system]`` of the
target file: scopes ``gov:report``, ``gov:elicense:*``, ``gov:sms``, ``gov:items:read``,
``gov:users:read``); thumbnails (T5-16) use ``[clients.province-caller]`` and ``[clients.city-caller]``.
A client missing from the target file makes its tests 未测 (skipped, never passed).

Where the cases come from: the platform offers no interface that creates a case (办件) — its cases
arise in its own unified acceptance system (an applicant files online, or a service window files an offline
application) and reach the licensing system by T5-5, which the *platform* calls. So the harness **plays the
licensing system** (:class:`Intake`): its licensing simulator (``conformance/simulators``, role ``licensing``)
receives the platform's pushes, checks each against the T5-5 contract and keeps it as evidence; each test
takes (claims) one pushed case it has not used and reports on it to the platform. The platform must be
configured to push to that simulator: a fixed port (``[simulators.ports] licensing``) or a simulator already
running (``[simulators.urls] licensing``). Applications reach the platform as the contract cannot say:

* unattended, the platform pushes on its own (a test environment with a stream of applications; the
  reference platform's acceptance desk, ``reference/roles/gov_applications.py``): the harness waits up to
  ``[simulators] wait_s`` for a new push;
* attended (``[simulators] attended = true``): the harness tells an operator to file an application on the
  platform (on the terminal and as a JSON line in ``instructions_file``) and waits ``attended_timeout_s``;
* when no push arrives the tests are 未测 with what to provide (after the first fruitless wait the others do
  not wait again).

A deployment whose platform learns the cases of a licensing system the target file names (``[urls] licensing``
without a licensing simulator, e.g. the reference server with every role) may instead have the harness push a
fresh application to that licensing system as the platform's own client (``[clients.gov-platform]``, scope
``licensing:push``); the platform's own pushes are then not observed (their check is 未测). When the
platform does not know such a case within ``[thresholds] gov_case_visible_s`` seconds (default 5; it answers
404), the test is 未测 with the reason.

Target-file values read here (``[thresholds]``): ``gov_natural_user_id`` / ``gov_legal_user_id`` (a
unified-identity user the platform knows, for T5-3 / T5-4; a string or a list), ``gov_case_visible_s``,
``gov_implementation_pages`` (pages of the implementation list searched for the item, default 20),
``clock_skew_seconds`` (default 60).
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import functools
import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest

from conformance.check.media import problems_of
from conformance.check.schema import validator, validator_at
from conformance.client import TargetClient, TargetResponse
from conformance.clock import now_iso
from conformance.codes import KINDS, check
from conformance.codes import lists as code_lists
from conformance.contract.datasets import param_limit
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation, role_operations
from conformance.datagen import DataGen
from conformance.datagen import licensing as licensing_records
from conformance.datagen.licensing import application, new_applicant, new_case_no, varieties
from conformance.datagen.licensing import groups as groups
from conformance.datagen.licensing import items as table_1
from conformance.harness.target import COUNTERPARTS, Target
from conformance.report.skips import untested
from conformance.simulators import Call, Simulators, for_settings
from conformance.suites.support.client_side import Console, attach, request_problems
from conformance.suites.support.sharing import expect_status, explain, response_validator
from conformance.suites.support.workflow import (
    OPERATORS,
    allowed_roles,
    error_paths,
    licensing_operation,
    notice_of,
    outcomes,
    steps,
    workflow,
)

ROLE = "gov-platform"
LICENSING = "licensing"
#: The licensing system's client at the platform: the caller of every Table 5 interface the platform offers.
CALLER = "licensing-system"
#: The platform's own client at the licensing system (T5-5 pushes): makes a test case known to both.
PUSHER = "gov-platform"
PROVINCE_CALLER = "province-caller"
CITY_CALLER = "city-caller"
#: The error codes of a message id reused for other content.
DUPLICATE_CODES = (ErrorCode.DUPLICATE, ErrorCode.CONFLICT)
THUMBNAIL = "thumbnail"
Item = dict[str, Any]


# ---------------------------------------------------------------------------------- the contract
@functools.cache
def operations() -> dict[str, Operation]:
    """The platform's operations by ``x-interface`` (T5-1 …) and by operation id."""
    out: dict[str, Operation] = {}
    for o in role_operations(ROLE):
        out[o.operation_id] = o
        if o.interface:
            out[o.interface] = o
    return out


def op(key: str) -> Operation:
    try:
        return operations()[key]
    except KeyError:
        raise LookupError(f"gov-platform.yaml has no operation {key}") from None


def path_of(key: str, **values: str) -> str:
    path = op(key).path
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    if "{" in path:
        raise ValueError(f"{key}: unfilled path parameter in {path}")
    return path


@functools.cache
def item_code() -> str:
    """SG 6-2021 code of the item 特种设备使用登记: the common prefix of the handling-item codes of Table 1."""
    prefixes = {code.split("-")[0] for code in code_lists.licence_items()}
    if len(prefixes) != 1:
        raise LookupError(f"licence-items.json: expected one item prefix, found {sorted(prefixes)}")
    return prefixes.pop()


# ---------------------------------------------------------------------------------- responses
def snippet(r: TargetResponse, limit: int = 300) -> str:
    if r.error and not r.content:
        return r.error
    text = r.content[:limit].decode("utf-8", errors="replace")
    return text + ("…" if len(r.content) > limit else "")


def expect(r: TargetResponse, key: str, status: int, what: str) -> Any:
    """Assert the status and the response schema the contract gives ``key`` for it; return ``data``."""
    o = op(key)
    expect_status(r, status, what, shown=snippet(r))
    body = r.json()
    v = response_validator(o, status)
    if v is not None:
        assert body is not None and v.is_valid(body), (
            f"{what}：响应不符合契约中 {o.operation_id} 的 {status} 响应结构："
            f"{explain(v, body)} / {what}: the response does not validate"
        )
    assert isinstance(body, dict) and "data" in body, (
        f"{what}：响应不是带 data 的 JSON 信封：{snippet(r)} / not an envelope"
    )
    return body["data"]


def expect_error(
    r: TargetResponse, key: str, statuses: int | tuple[int, ...], what: str, codes: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Assert an error status, the error envelope the contract gives it (Chinese message) and, if given, its code."""
    expect_status(r, statuses, what, shown=snippet(r))
    body = r.json()
    v = response_validator(op(key), r.status) or validator("error")
    assert body is not None and v.is_valid(body), (
        f"{what}：错误响应不符合错误信封：{explain(v, body)} / "
        f"{what}: the error response is not the contract's error envelope"
    )
    if codes:
        assert body["code"] in codes, (
            f"{what}：错误代码为 {body['code']}，应为 {' 或 '.join(codes)} / "
            f"{what}: error code {body['code']}, expected {'/'.join(codes)}"
        )
    return body


def names_field(body: Any, name: str) -> bool:
    """Whether the 400's field errors point at ``name`` (``/name``, ``/query/name`` …)."""
    return any(p.rstrip("/").split("/")[-1] == name for p in error_paths(body))


def page_size() -> int:
    """The largest page of the implementation list (T5-1 ``size``)."""
    return param_limit(op("T5-1"), "size") or 50


def user_ids(target: Target, key: str) -> list[str]:
    value = target.thresholds.get(key)
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value]) if str(v)]


# ---------------------------------------------------------------------------------- the platform
class Platform:
    """The platform as the licensing system sees it: its client and the implementation of the item it offers."""

    def __init__(self, tzsb_client: Any, target: Target) -> None:
        self.target = target
        self.make = tzsb_client
        self.client: TargetClient = tzsb_client(None, CALLER)
        self._impl: Item | None = None

    def read(self, key: str, what: str, params: dict[str, Any] | None = None, **path: str) -> Any:
        """GET ``key`` (``path`` fills its path parameters): 200 and the contract's response; the ``data``."""
        return expect(self.client.get(path_of(key, **path), params=params), key, 200, what)

    def refused(
        self,
        key: str,
        statuses: int | tuple[int, ...],
        what: str,
        codes: tuple[str, ...] | None = None,
        params: dict[str, Any] | None = None,
        **path: str,
    ) -> Item:
        """GET ``key`` (``path`` fills its path parameters): an error of ``statuses`` (and ``codes``); the body."""
        return expect_error(self.client.get(path_of(key, **path), params=params), key, statuses, what, codes)

    def implementations(self, params: dict[str, Any], what: str) -> Item:
        return self.read("T5-1", what, params)

    def implementation(self) -> Item:
        """The first implementation of 特种设备使用登记 (SG 6-2021 code) in the target's implementation list (T5-1)."""
        if self._impl is not None:
            return self._impl
        size = page_size()
        pages = int(self.target.thresholds.get("gov_implementation_pages", 20))
        for page in range(1, pages + 1):
            data = self.implementations({"page": page, "size": size}, f"实施清单查询（T5-1）第 {page} 页")
            found = next((i for i in data["items"] if i.get("itemCode") == item_code() and i.get("deptUscc")), None)
            if found is not None:
                self._impl = found
                return found
            if page * size >= data["total"]:
                break
        raise AssertionError(
            f"实施清单（T5-1，前 {pages} 页）中没有事项“特种设备使用登记”（{item_code()}）的实施项 / "
            f"the implementation list offers no implementation of item {item_code()}"
        )

    def need(self) -> Item:
        """The implementation, for tests of other interfaces: when T5-1 cannot give it they are 未测, not failed."""
        try:
            return self.implementation()
        except AssertionError as exc:
            pytest.skip(
                f"未测：无法从实施清单（T5-1）取得实施部门与区划（{str(exc).splitlines()[0][:200]}） / "
                "no implementation from T5-1"
            )

    def authority(self) -> Item:
        impl = self.need()
        return {"name": impl["deptName"], "uscc": impl["deptUscc"], "division": impl["division"]}


# ---------------------------------------------------------------------------------- cases and reports
@dataclass
class Case:
    case_no: str
    item: str
    authority: Item
    known: bool = False

    def __repr__(self) -> str:
        return f"Case({self.case_no}, {self.item})"


def plays_licensing(target: Target) -> bool:
    """Does the harness play the licensing system (receive the platform's pushes)? Yes when the target file sets up
    a licensing simulator, or names no licensing system at all."""
    sims = target.simulators
    return LICENSING in sims.urls or LICENSING in sims.ports or LICENSING not in target.urls


_INTAKES: dict[int, Intake] = {}
_INTAKE_LOCK = threading.Lock()


class Intake:
    """The licensing system the harness plays for the platform: its simulator receives the platform's application
    pushes (T5-5); each test takes one pushed case it has not used (claimed at the simulator, so a case serves one
    test even across runs). One per session (by target), shared by the suite modules."""

    def __init__(self, target: Target, evidence: Any) -> None:
        self.target = target
        self.evidence = evidence
        self.plays_licensing = plays_licensing(target)
        self.sims: Simulators | None = None
        self.broken: str | None = None
        self.dry: str | None = None
        self.tried: set[str] = set()
        self.config: pytest.Config | None = None
        self.console = Console(None, target.simulators)
        self.instructed = 0

    @classmethod
    def of(cls, platform: Platform, request: pytest.FixtureRequest | None = None) -> Intake:
        with _INTAKE_LOCK:
            found = _INTAKES.get(id(platform.target))
            if found is None or found.target is not platform.target:
                found = cls(platform.target, platform.client.evidence)
                _INTAKES[id(platform.target)] = found
        if request is not None and found.config is None:
            found.config = request.config
            found.console = Console(request.config, platform.target.simulators)
            request.config.add_cleanup(found.close)
        return found

    def close(self) -> None:
        with _INTAKE_LOCK:
            if _INTAKES.get(id(self.target)) is self:
                _INTAKES.pop(id(self.target))
        if self.sims is not None:
            self.sims.stop()
            self.sims = None

    # -------------------------------------------------------------------- the simulator
    def simulators(self) -> Simulators:
        """The licensing simulator: started here (``[simulators.ports]``) or reached (``[simulators.urls]``)."""
        if self.sims is None:
            if self.broken is None:
                try:
                    self.sims = for_settings(self.target.simulators, roles=COUNTERPARTS[ROLE])
                except (OSError, ValueError, RuntimeError) as exc:
                    self.broken = str(exc)[:300]
                if self.sims is not None and self.config is None and not self.target.simulators.external:
                    atexit.register(self.close)
            if self.sims is None:
                untested(
                    f"测试工具模拟的许可系统无法启动或连接（{self.broken}），无法接收平台的申请推送 / "
                    "the licensing simulator is unavailable",
                    provide="[simulators] 中 licensing 的空闲端口（ports）或正在运行的模拟器地址（urls） / "
                    "a free port or the URL of a running licensing simulator",
                )
        return self.sims

    @property
    def url(self) -> str:
        return self.simulators()[LICENSING].url

    def pushes(self) -> list[Call]:
        """The platform's T5-5 pushes as received (first attempts and retries), in order."""
        return [c for c in self.simulators()[LICENSING].calls() if c.key == "T5-5"]

    # -------------------------------------------------------------------- cases
    def take(self, platform: Platform) -> Case:
        """A pushed case no test has used, waiting (bounded) for the platform's next push; 未测 when none comes."""
        sims = self.simulators()
        settings = self.target.simulators
        if self.dry is not None:
            untested(self.dry, provide=self._provide())
        found = self._claim(sims.calls())
        if found is None:
            budget = settings.attended_timeout_s if settings.attended else settings.wait_s
            if settings.attended:
                self._instruct(platform)
            found = sims.wait_for(self._claim, timeout=budget)
        if found is None:
            self.dry = (
                f"平台在 {budget:g} 秒内没有向测试工具模拟的许可系统（{self.url}）推送新的申请（T5-5），没有可用的测试办件 / "
                f"the platform pushed no new application to the harness's licensing system within {budget:g} s"
            )
            untested(self.dry, provide=self._provide())
        attach(self.evidence, found, self.evidence.current_test or "")
        body = found.json
        return Case(str(body["caseNo"]), str(body["itemCode"]), dict(body["authority"]), known=True)

    def _claim(self, calls: list[Call]) -> Call | None:
        for c in calls:
            body = c.json if isinstance(c.json, dict) else None
            if c.key != "T5-5" or not c.ok or c.duplicate or body is None:
                continue
            case_no = body.get("caseNo")
            if not isinstance(case_no, str) or case_no in self.tried:
                continue
            self.tried.add(case_no)
            if body.get("itemCode") not in table_1() or not isinstance(body.get("authority"), dict):
                continue  # a push the contract refuses is judged by the push test, not used as a test case
            if self.simulators()[LICENSING].claim(case_no):
                return c
        return None

    def _provide(self) -> str:
        return (
            f"将平台的许可系统地址配置为测试工具模拟的许可系统 {self.url}（固定端口：[simulators.ports] licensing），并使平台推送申请："
            "测试环境的申请流，或有人值守模式（[simulators] attended = true）由操作员在平台提交申请 / point the platform's "
            "licensing system at the harness's simulator and let applications flow (a test feed, or attended mode)"
        )

    def _instruct(self, platform: Platform) -> None:
        self.instructed += 1
        item = random.Random(self.instructed).choice(sorted(table_1()))
        name = table_1()[item]["name"]
        try:
            authority = platform.authority()["name"]
        except pytest.skip.Exception:
            authority = "任一实施部门"
        n = self.instructed
        self.console.instruct(
            {
                "n": n,
                "action": "apply",
                "itemCode": item,
                "licensing": self.url,
                "zh": f"第{n}件申请：请在政务服务平台（统一受理系统）以任一申请人提交一件“特种设备使用登记”申请（办理项任选，如 {item} {name}；"
                f"受理许可机关如 {authority}），使平台将其推送至许可系统（测试工具模拟：{self.url}）",
                "en": f"application {n}: file an application for 特种设备使用登记 on the platform (any item, e.g. {item}; any "
                f"applicant) so that the platform pushes it (T5-5) to the licensing system played by the harness at {self.url}",
            }
        )


class Desk:
    """The licensing system's desk: takes test cases (the platform's T5-5 pushes, :class:`Intake`) and reports them
    to the platform."""

    def __init__(self, platform: Platform, request: pytest.FixtureRequest | None = None) -> None:
        self.platform = platform
        self.client = platform.client
        self.rng = random.Random(secrets.randbits(64))
        self.intake = Intake.of(platform, request)

    # -------------------------------------------------------------------- cases
    def open(self) -> Case:
        """A case the platform knows, for one test."""
        if self.intake.plays_licensing:
            return self.intake.take(self.platform)
        return self._push()

    def _push(self) -> Case:
        """A fresh application pushed to the licensing system of the target file as the platform (T5-5)."""
        target = self.platform.target
        pusher: TargetClient = self.platform.make(LICENSING, PUSHER)
        push = licensing_operation("pushApplication")  # T5-5
        if "{" in push.path:
            raise LookupError("licensing.yaml: no T5-5 operation with a plain path")
        item = self.rng.choice(sorted(table_1()))
        authority = self.platform.authority()
        case_no = new_case_no()
        body = application(case_no, item, new_applicant(self.rng), authority, rng=self.rng)
        r = pusher.post(push.path, body)
        if r.status != 201:
            untested(
                f"许可系统（{target.url(LICENSING)}）未接收测试申请（T5-5 返回 {r.status}：{snippet(r, 160)}），平台上没有可用的测试办件"
                " / the licensing system did not take the test application",
                provide="由测试工具模拟许可系统：在 [simulators] 中为 licensing 给出端口并把平台的许可系统地址配置为它 / "
                "let the harness play the licensing system",
            )
        return Case(case_no, item, authority)

    # -------------------------------------------------------------------- bodies (case-status.schema.json)
    def _base(self, case: Case, role: str, opinion: str) -> Item:
        return {
            "messageId": f"tzsb-{uuid.uuid4().hex}",
            "caseNo": case.case_no,
            "itemCode": case.item,
            "reportedAt": now_iso(),
            "operator": {"name": OPERATORS.get(role, "王伟"), "role": role},
            "opinion": opinion,
        }

    def notice(self, case: Case, step: str, outcome: str) -> Item:
        kind = notice_of(step, outcome)
        if kind is None:
            raise LookupError(f"workflow.json: outcome {step}/{outcome} names no notice type of notice.schema.json")
        return {
            "noticeId": f"N-{uuid.uuid4().hex[:16].upper()}",
            "caseNo": case.case_no,
            "type": kind,
            "title": kind,
            "issuedAt": now_iso(),
            "authority": case.authority,
            "content": f"{kind}（办件编号 {case.case_no}）。",
            "format": "OFD",
        }

    def supplement(self, case: Case) -> Item:
        role = allowed_roles("accept", "correction")[0]
        b = self._base(case, role, "申请材料不齐全，请一次性补正。")
        b.update(
            items=[{"material": "产品质量证明文件", "reason": "缺少产品数据表"}],
            notice=self.notice(case, "accept", "correction"),
        )
        return b

    def acceptance(self, case: Case, outcome: str = "accepted") -> Item:
        o = outcomes()[("accept", outcome)]
        b = self._base(case, allowed_roles("accept", outcome)[0], f"{o['name']}。")
        b.update(result=o["name"], acceptedAt=b["reportedAt"], notice=self.notice(case, "accept", outcome))
        return b

    def step(self, case: Case, step: str, outcome: str) -> Item:
        o = outcomes()[(step, outcome)]
        name = steps()[step]["name"]
        b = self._base(case, allowed_roles(step, outcome)[0], f"{name}：{o['name']}。")
        b.update(step=step, stepName=name, outcome=o["name"], startedAt=b["reportedAt"], finishedAt=b["reportedAt"])
        if step == "decide":  # §7.4.2 c): the decision step pushes its decision document
            b["decisionDocument"] = self.notice(case, step, outcome)
        return b

    def special(self, case: Case, action: str, kind: str = "site-check") -> Item:
        name = next(k["name"] for k in workflow()["specialProcedure"]["kinds"] if k["code"] == kind)
        b = self._base(case, "review", f"{name}{'开始' if action == 'start' else '结束'}。")
        b.update(procedure=name, action=action, startedAt=b["reportedAt"], days=5)
        if action == "end":
            b["endedAt"] = b["reportedAt"]
        return b

    def result(self, case: Case, outcome: str = "granted", cert: Item | None = None) -> Item:
        """T5-10; a granted result names the registration number and e-licence (those of ``cert`` when given)."""
        o = outcomes()[("decide", outcome)]
        b = self._base(case, "decide", f"{o['name']}。")
        b.update(result=o["name"], decidedAt=b["reportedAt"], notice=self.notice(case, "decide", outcome))
        if outcome == "granted" and cert is not None:
            b["registrationNo"], b["elicenseId"] = cert["licenceNo"], cert["elicenseId"]
        elif outcome == "granted":
            variety = self.rng.choice(varieties(table_1()[case.item]["group"]))
            b["registrationNo"] = KINDS["registration-no"].generate(
                self.rng, catalogue=variety, province=case.authority["division"][:2], year=dt.date.today().year
            )
            b["elicenseId"] = KINDS["elicense-id"].generate(self.rng, issuer=case.authority["uscc"], version=1)
        return b

    # -------------------------------------------------------------------- sending
    def post(self, case: Case, interface: str, body: Item, *, valid: bool = True) -> TargetResponse:
        """POST a report; the first answer about a case may be 404 while the platform learns it (bounded wait)."""
        if valid:
            v = validator_at(op(interface).body_uri or "")
            if not v.is_valid(body):  # the harness's own data: an error of the harness, not of the target
                raise RuntimeError(
                    f"harness built an invalid {interface} body: {[e.message_zh for e in v.errors(body)][:3]}"
                )
        path = path_of(interface, caseNo=case.case_no)
        r = self.client.post(path, body)
        if not case.known:
            deadline = time.monotonic() + float(self.platform.target.thresholds.get("gov_case_visible_s", 5))
            while r.status == 404 and time.monotonic() < deadline:
                time.sleep(0.2)
                r = self.client.post(path, body)
            if r.status == 404:
                untested(
                    f"平台不认识经许可系统受理的办件 {case.case_no}（{interface} 返回 404），平台与目标文件中的许可系统不是同一部署，"
                    "无法取得测试办件 / the platform does not know the test case",
                    provide="由测试工具模拟许可系统接收平台的申请推送（[simulators] 中 licensing 的端口或地址） / "
                    "let the harness play the licensing system that receives the platform's pushes",
                )
            if r.status in (200, 201, 409):
                case.known = True
        return r

    def ok(self, case: Case, interface: str, body: Item, what: str) -> Item:
        """The report is taken: 201 and a receipt for this message and case."""
        r = self.post(case, interface, body)
        return check_receipt(r, interface, body, 201, f"{what}（{interface}，办件 {case.case_no}）")

    def refused(
        self, case: Case, interface: str, body: Item, what: str, codes: tuple[str, ...] = (ErrorCode.STATE_CONFLICT,)
    ) -> Item:
        """The report is refused with 409 and one of ``codes``."""
        r = self.post(case, interface, body)
        return expect_error(r, interface, 409, f"{what}（{interface}，办件 {case.case_no}）", codes)

    # -------------------------------------------------------------------- walks
    def walk(self, case: Case, plan: list[tuple[str, Item, str]]) -> None:
        for interface, body, what in plan:
            self.ok(case, interface, body, what)

    def granted(self, case: Case, *, result: bool = True) -> list[tuple[str, Item, str]]:
        path = [
            ("review", "passed", "审查通过"),
            ("decide", "granted", "决定：准予许可"),
            ("certify", "certified", "制证"),
        ]
        return self._plan(case, [*path, ("issue", "issued", "发证")], "granted" if result else None)

    def refusal(self, case: Case, *, result: bool = True) -> list[tuple[str, Item, str]]:
        path = [("review", "failed", "审查不通过"), ("decide", "refused", "决定：不予许可")]
        return self._plan(case, path, "refused" if result else None)

    def _plan(self, case: Case, path: list[tuple[str, str, str]], result: str | None) -> list[tuple[str, Item, str]]:
        """正式受理 (T5-7), ``path`` (T5-8, each with its label) and, with a ``result``, the result (T5-10)."""
        plan = [("T5-7", self.acceptance(case), "正式受理")]
        plan += [("T5-8", self.step(case, step, outcome), what) for step, outcome, what in path]
        if result:
            plan.append(("T5-10", self.result(case, result), f"办件结果：{outcomes()[('decide', result)]['name']}"))
        return plan


def push_problems(call: Call, platform: Platform, departments: dict[str, bool]) -> list[str]:
    """What a T5-5 push the platform made breaks: bearer token, JSON, the body schema, Table 1, the item's equipment
    group (the simulator's 400 names it), an authority that is an implementing department of the platform's own
    list (T5-1, asked once per USCC into ``departments``)."""
    o = licensing_operation("pushApplication")  # T5-5
    problems = request_problems(o, call)
    body = call.json
    if not validator_at(o.body_uri or "").is_valid(body):
        return problems
    if body["itemCode"] not in table_1():
        problems.append(f"办理项 {body['itemCode']} 不是表1中的办理项")
    problems += [p for p in call.problems if p not in problems]
    uscc = body["authority"]["uscc"]
    if uscc not in departments:
        data = platform.implementations({"deptUscc": uscc}, f"按受理许可机关 {uscc} 查询实施清单（T5-1）")
        departments[uscc] = any(i.get("deptUscc") == uscc for i in data["items"])
    if not departments[uscc]:
        problems.append(f"受理许可机关 {body['authority']['name']}（{uscc}）不是平台实施清单（T5-1）中的实施部门")
    return problems


def check_receipt(r: TargetResponse, interface: str, body: Item, status: int, what: str) -> Item:
    """201 (first) or 200 (repeat) with a receipt (gov-platform.schema.json receipt) for this message and case."""
    data = expect(r, interface, status, what)
    v = validator("gov-platform#/$defs/receipt")
    assert v.is_valid(data), f"{what}：回执不符合 receipt 结构：{explain(v, data)} / the receipt does not validate"
    assert data["messageId"] == body["messageId"], (
        f"{what}：回执的消息标识为 {data['messageId']}，应为 {body['messageId']} / the receipt names another message"
    )
    if "caseNo" in data and "caseNo" in body:
        assert data["caseNo"] == body["caseNo"], (
            f"{what}：回执的办件编号为 {data['caseNo']}，应为上报时的 {body['caseNo']} / the receipt names another case"
        )
    assert data["duplicate"] is (status == 200), (
        f"{what}：回执的 duplicate 为 {data['duplicate']}，"
        f"{'重复消息应为 true' if status == 200 else '首次接收应为 false'} / duplicate flag wrong"
    )
    return data


# ---------------------------------------------------------------------------------- e-licences
@functools.cache
def _type_code() -> str:
    """证照类型代码 used for the suite's certificates: a central body's USCC + a sequence (GB/T 36904 form)."""
    return KINDS["uscc"].generate(random.Random(secrets.randbits(64)), pair="11", division="100000") + "001"


def new_holder(rng: random.Random, province: str) -> Item:
    """A legal person never seen by the target (fresh, valid USCC)."""
    unit = DataGen(rng.randrange(2**62)).unit("use", province)
    return {"name": unit["name"], "uscc": unit["uscc"], "division": unit["division"], "address": unit["address"]}


def certificate(authority: Item, holder: Item, rng: random.Random, *, item: str | None = None) -> Item:
    """A fresh certificate (licence-certificate.schema.json) issued by ``authority`` to ``holder``."""
    return licensing_records.certificate(authority, holder, rng, type_code=_type_code(), item=item, internal_no=True)


def with_bad_check(value: str, kind: str) -> str:
    """``value`` (an identifier of ``kind``) with another check character (its last): invalid by construction,
    confirmed by the library."""
    for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        candidate = value[:-1] + c
        if c != value[-1] and not check(kind, candidate, mode="held").ok:
            return candidate
    raise RuntimeError(f"cannot spoil the check character of {value}")


def resolve(client: TargetClient, ref: str) -> str:
    """An address the target returned (absolute or relative to its base URL), made absolute."""
    return urljoin(client.base_url + "/", ref) if not ref.startswith(("http://", "https://")) else ref


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def download_path_ok(client: TargetClient, url: str, elicense_id: str) -> str | None:
    """Problem with a T5-14 address, or None: it must be T5-15's path for this e-licence with a ``token``."""
    absolute = resolve(client, url)
    if not same_origin(absolute, client.base_url):
        return f"下载地址 {url} 不在被测平台（{client.base_url}）之下 / the address leaves the platform"
    want = urlsplit(client.base_url).path.rstrip("/") + path_of("T5-15", elicenseId=elicense_id)
    parts = urlsplit(absolute)
    if parts.path != want:
        return f"下载地址的路径为 {parts.path}，应为文件下载接口（T5-15）的 {want} / the address is not T5-15's path"
    if not parse_qs(parts.query).get("token"):
        return f"下载地址 {url} 没有 token 参数 / the address carries no token"
    return None


MEDIA = {"OFD": "application/ofd", "PDF": "application/pdf"}


def file_problems(body: bytes, fmt: str) -> list[str]:
    """A layout file of the declared format: OFD (GB/T 33190 package) or PDF, checked by its structure."""
    return problems_of(body, MEDIA.get(fmt, fmt))


def decode_base64(text: Any) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        return None


def image_problems(data: bytes, media_type: str) -> list[str]:
    """An image the contract allows (PNG or JPEG), checked by its structure."""
    if media_type not in ("image/png", "image/jpeg"):
        return [f"图片类型 {media_type} 不是契约允许的 image/png 或 image/jpeg"]
    return problems_of(data, media_type)
