"""Reference server, licensing role: T5-5 application push, the workflow driver (DB42/T 2279-2024
§6–§8, workflow.json), notices and the report-backs to the government-service platform.

The counterparts (gov-platform, supervision) are a loopback stub that records every POST and
answers a 201 receipt; each recorded body is validated against the counterpart's contract.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.check.media import ofd_problems as is_ofd
from conformance.check.schema import validator_at
from conformance.codes import KINDS, check
from conformance.codes import lists as code_lists
from conformance.contract.openapi import role_operations
from conformance.datagen import DataGen
from conformance.datagen.licensing import GRANTED
from conformance.reference import outbox
from tests.refserver import Api, running

ROLE_CLIENT = {
    "formal-review": "officer-formal-review",
    "accept": "officer-accept",
    "review": "officer-review",
    "decide": "officer-decide",
    "certify": "officer-certify",
    "archive": "officer-archive",
}
STEP_ROLE = {
    "accept": "accept",
    "review": "review",
    "decide": "decide",
    "certify": "certify",
    "issue": "certify",
    "conclude": "decide",
    "pre-archive": "archive",
    "archive": "archive",
}
AUTHORITY = {
    "name": "武汉市市场监督管理局",
    "uscc": KINDS["uscc"].generate(random.Random("test-authority"), pair="11", division="420100"),
    "division": "420100",
}


# ---------------------------------------------------------------------------------- counterpart stub
class Stub:
    """Loopback stand-in for gov-platform (/gov) and supervision (/sup): records POSTs, answers 201."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/oauth/token"):
                    self._answer(200, {"access_token": "stub-token", "token_type": "Bearer", "expires_in": 3600})
                    return
                body = json.loads(raw or b"null")
                prefix, _, rest = self.path.lstrip("/").partition("/")
                with stub.lock:
                    stub.calls.append((prefix, "/" + rest, body))
                mid = body.get("messageId", "stub-message") if isinstance(body, dict) else "stub-message"
                self._answer(
                    201,
                    {
                        "code": "OK",
                        "message": "成功",
                        "requestId": "stub-request-id",
                        "data": {"messageId": mid, "receivedAt": "2025-01-01T00:00:00+08:00", "duplicate": False},
                    },
                )

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def counterparts(self) -> dict[str, str]:
        return {"gov-platform": f"{self.base}/gov", "supervision": f"{self.base}/sup"}

    def all(self) -> list[tuple[str, str, Any]]:
        with self.lock:
            return list(self.calls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.close()


def interface_of(prefix: str, path: str) -> tuple[str, Any]:
    """The counterpart operation a stub call went to: (x-interface or operationId, operation)."""
    role = {"gov": "gov-platform", "sup": "supervision"}[prefix]
    for op in role_operations(role):
        if op.method == "post" and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", op.path), path):
            return op.interface or op.operation_id, op
    raise AssertionError(f"no {role} operation for {path}")


def assert_bodies_valid(calls: list[tuple[str, str, Any]]) -> None:
    for prefix, path, body in calls:
        _, op = interface_of(prefix, path)
        v = validator_at(op.body_uri)
        assert v.is_valid(body), (path, [e.as_dict() for e in v.errors(body)])


def drain(srv: Any, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Wait until the licensing outbox has no pending call; return its entries. ``timeout`` only stops a hang."""
    server = next(s for s in srv.servers if s.role == "licensing")
    deadline = time.monotonic() + timeout
    while True:
        entries = outbox.calls(server)
        if all(e["status"] != "pending" for e in entries):
            return entries
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox not drained: {entries}")
        time.sleep(0.03)


# ---------------------------------------------------------------------------------- contract checks
def response_validator(operation_id: str, status: int) -> Any:
    op = next(o for o in role_operations("licensing") if o.operation_id == operation_id)
    return validator_at(op.responses[str(status)]["application/json"])


def ok(resp: Any, operation_id: str, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text[:2000]
    v = response_validator(operation_id, status)
    body = resp.json()
    assert v.is_valid(body), [e.as_dict() for e in v.errors(body)]
    return body.get("data", body)


# ---------------------------------------------------------------------------------- data
def application(
    case_no: str,
    *,
    seed: int = 1,
    item: str = "01100000-03-01",
    catalogue: str = "3110",
    mid: str | None = None,
    unit: dict[str, Any] | None = None,
    **equipment: Any,
) -> dict[str, Any]:
    gen = DataGen(seed)
    unit = unit or gen.unit("use", "42")
    eq = {
        "catalogueCode": catalogue,
        "equipmentName": code_lists.catalogue()[catalogue]["name"],
        "division": "420102",
        "address": "湖北省武汉市江岸区解放大道100号",
        "manufactureDate": "2023-05-01",
        "model": "TKJ-1000",
        "factoryNo": "2023000123",
        **equipment,
    }
    return {
        "messageId": mid or f"msg-{case_no}-1",
        "caseNo": case_no,
        "itemCode": item,
        "channel": "online",
        "applicant": {
            "type": "legal-person",
            "name": unit["name"],
            "idType": "001",
            "idNumber": unit["uscc"],
            "contactPerson": unit["contactPerson"],
            "contactPhone": "13912345678",
            "address": unit["address"],
        },
        "authority": AUTHORITY,
        "equipment": eq,
        "materials": [
            {"name": "产品合格证", "fileName": "合格证.pdf", "format": "PDF", "sha256": "a" * 64, "size": 1000}
        ],
        "submittedAt": "2025-03-01T09:00:00+08:00",
    }


class Officers:
    """One authenticated client per Annex A role (clients.json)."""

    def __init__(self, base: str) -> None:
        self.apis = {role: Api(base, client) for role, client in ROLE_CLIENT.items()}
        self.harness = Api(base)

    def step(self, case_no: str, step: str, outcome: str, role: str | None = None, opinion: str = "同意。") -> Any:
        api = self.apis[role or STEP_ROLE[step]]
        return api.post(
            f"/driver/v1/cases/{case_no}/steps",
            {"step": step, "outcome": outcome, "opinion": opinion, "operatorName": "张三"},
        )

    def do(self, case_no: str, step: str, outcome: str, role: str | None = None, opinion: str = "同意。") -> Any:
        return ok(self.step(case_no, step, outcome, role, opinion), "performStep")

    def special(self, case_no: str, action: str, role: str = "review", **kw: Any) -> Any:
        return self.apis[role].post(
            f"/driver/v1/cases/{case_no}/special-procedures",
            {"procedure": "现场核查", "action": action, "opinion": "需现场核查", "operatorName": "李四", **kw},
        )


def push(api: Api, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/applications", body)


# ---------------------------------------------------------------------------------- T5-5
def test_every_item_of_table_1_is_accepted_and_misfits_are_refused(tmp_path: Path) -> None:
    specific = code_lists.catalogue_specific()
    with running(tmp_path, "licensing") as srv:
        api = Api(srv.url(), "gov-platform")
        for n, (code, item) in enumerate(sorted(code_lists.licence_items().items())):
            group = code_lists.licence_groups()[item["group"]]
            catalogue = next(
                c for top in group["catalogue"] for c in code_lists.catalogue_descendants(top) if c in specific
            )
            receipt = ok(
                push(api, application(f"CASE-ITEM-{n:04d}", item=code, catalogue=catalogue)), "pushApplication", 201
            )
            assert receipt["caseNo"] == f"CASE-ITEM-{n:04d}" and receipt["duplicate"] is False
        state = ok(Api(srv.url()).get("/driver/v1/cases/CASE-ITEM-0000"), "getCaseState")
        assert state["state"] == "submitted" and state["currentStep"] == "accept"

        r = push(api, application("CASE-PIPE-MOVE", item="01100000-07-04", catalogue="8100"))
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/itemCode"
        assert "压力管道" in r.json()["message"] and "迁出" in r.json()["message"]
        r = push(api, application("CASE-UNKNOWN", item="01100000-11-01"))
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/itemCode"
        r = push(api, application("CASE-MISFIT", item="01100000-03-01", catalogue="2110"))
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/equipment/catalogueCode"
        r = push(api, application("CASE-CYLINDER", item="01100000-02-01", catalogue="2310"))  # 气瓶 is not 压力容器
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/equipment/catalogueCode"
        for case in ("CASE-PIPE-MOVE", "CASE-UNKNOWN", "CASE-MISFIT"):
            assert Api(srv.url()).get(f"/driver/v1/cases/{case}").status_code == 404


def test_push_is_idempotent_and_conflicts_on_a_known_case(tmp_path: Path) -> None:
    with running(tmp_path, "licensing") as srv:
        api = Api(srv.url(), "gov-platform")
        body = application("CASE-IDEM-01")
        first = ok(push(api, body), "pushApplication", 201)
        again = ok(push(api, body), "pushApplication", 200)
        assert again["duplicate"] is True and again["receivedAt"] == first["receivedAt"]
        r = push(api, {**body, "submittedAt": "2025-03-02T09:00:00+08:00"})
        assert r.status_code == 409 and r.json()["code"] == "DUPLICATE"
        r = push(api, {**body, "messageId": "msg-CASE-IDEM-01-2"})  # not awaiting correction
        assert r.status_code == 409 and r.json()["code"] == "STATE_CONFLICT"
        assert Api(srv.url(), "reader").post("/api/v1/applications", body).status_code == 403
        history = ok(Api(srv.url()).get("/driver/v1/cases/CASE-IDEM-01/history"), "getCaseHistory")
        assert [(h["step"], h["outcome"]) for h in history] == [("apply", "submitted")]


# ---------------------------------------------------------------------------------- the granted walk
def _wrong_roles(step: str, outcome: str) -> list[str]:
    from conformance.reference.roles.licensing.workflow import allowed_roles, outcomes

    allowed = allowed_roles(step, outcomes()[(step, outcome)])
    return [r for r in ROLE_CLIENT if r not in allowed]


def test_granted_case_walks_nine_steps_with_roles_order_notices_and_reports(tmp_path: Path, stub: Stub) -> None:
    case = "CASE-GRANT-01"
    with running(tmp_path, "licensing", counterparts=stub.counterparts()) as srv:
        gov = Api(srv.url(), "gov-platform")
        officers = Officers(srv.url())
        ok(push(gov, application(case)), "pushApplication", 201)
        drain(srv)
        assert stub.all() == []  # nothing is reported for the application itself
        expected: list[str] = []
        reports = {
            ("accept", "accepted"): ["T5-7"],
            ("review", "passed"): ["T5-8"],
            ("decide", "granted"): ["T5-8"],
            ("certify", "certified"): ["T5-8"],
            ("issue", "issued"): ["T5-8", "T5-11", "T7-1", "T7-2", "sendSms"],
            ("conclude", "concluded"): ["T5-10"],
        }
        for i, (step, outcome) in enumerate(GRANTED):
            before = ok(officers.harness.get(f"/driver/v1/cases/{case}"), "getCaseState")
            # a later step than the pending one: 409, nothing changes
            for later, later_outcome in GRANTED[i + 1 : i + 3]:
                r = officers.step(case, later, later_outcome)
                assert r.status_code == 409 and r.json()["code"] == "STATE_CONFLICT", (later, r.text)
            # the pending step by every wrong role: 403
            for role in _wrong_roles(step, outcome):
                r = officers.step(case, step, outcome, role)
                assert r.status_code == 403, (step, role, r.text)
            assert (
                officers.harness.post(
                    f"/driver/v1/cases/{case}/steps",
                    {"step": step, "outcome": outcome, "opinion": "x", "operatorName": "王五"},
                ).status_code
                == 403
            )  # no workflow role
            assert ok(officers.harness.get(f"/driver/v1/cases/{case}"), "getCaseState") == before
            drain(srv)
            assert [interface_of(p, path)[0] for p, path, _ in stub.all()] == expected  # none before its step
            state = officers.do(case, step, outcome)
            expected += reports.get((step, outcome), [])
            assert state["history"][-1]["step"] == step and state["history"][-1]["outcome"] == outcome
            assert state["history"][-1]["operator"] == {
                "name": "张三",
                "role": STEP_ROLE[step],
                "userId": ROLE_CLIENT[STEP_ROLE[step]],
            }
        drain(srv)
        calls = stub.all()
        assert [interface_of(p, path)[0] for p, path, _ in calls] == expected
        assert_bodies_valid(calls)
        for _, _, body in calls:
            if "caseNo" in body:
                assert body["caseNo"] == case and (body.get("itemCode") in (None, "01100000-03-01"))
        state = ok(officers.harness.get(f"/driver/v1/cases/{case}"), "getCaseState")
        assert state["state"] == "archived" and state["ended"] is True and state["caseNo"] == case
        assert check("equipment-code", state["equipmentCode"]).ok and state["equipmentCode"].startswith("3110")
        reg = state["registrationNo"]
        assert (
            check("registration-no", reg).ok
            and reg.startswith("梯11鄂A")
            and reg.endswith(f"({time.localtime().tm_year % 100:02d})")
        )
        assert check("elicense-id", state["elicenseId"]).ok
        assert check("dossier-code", state["dossierCode"]).ok
        steps = [h["step"] for h in ok(officers.harness.get(f"/driver/v1/cases/{case}/history"), "getCaseHistory")]
        assert steps == ["apply", *[s for s, _ in GRANTED]]
        notices = ok(officers.harness.get(f"/driver/v1/cases/{case}/notices"), "getCaseNotices")
        assert [n["type"] for n in notices] == ["受理通知书", "准予许可决定书", "使用登记证"]
        for n in notices:
            assert n["caseNo"] == case and n["format"] == "OFD" and n["url"].startswith(srv.url())
            body = officers.harness.get(n["url"][len(srv.url()) :]).content
            assert is_ofd(body) == [] and hashlib.sha256(body).hexdigest() == n["sha256"]
        by_iface = {interface_of(p, path)[0]: body for p, path, body in calls}
        assert by_iface["T5-7"]["result"] == "正式受理" and by_iface["T5-7"]["notice"]["type"] == "受理通知书"
        assert by_iface["T5-10"]["result"] == "准予许可" and by_iface["T5-10"]["registrationNo"] == reg
        assert by_iface["T5-11"]["licenceNo"] == reg and by_iface["T5-11"]["elicenseId"] == state["elicenseId"]
        assert by_iface["T7-2"]["registration"]["registrationNo"] == reg
        assert by_iface["sendSms"]["mobile"] == "13912345678" and case in by_iface["sendSms"]["content"]
        assert [b["step"] for i, b in ((interface_of(p, path)[0], b) for p, path, b in calls) if i == "T5-8"] == [
            "review",
            "decide",
            "certify",
            "issue",
        ]
        # the case has ended: every step and a new push are refused
        assert officers.step(case, "archive", "archived").status_code == 409
        r = push(gov, application(case, mid="msg-after-end"))
        assert r.status_code == 409


def test_correction_resubmission_then_refusal(tmp_path: Path, stub: Stub) -> None:
    case = "CASE-CORR-01"
    with running(tmp_path, "licensing", counterparts=stub.counterparts()) as srv:
        gov = Api(srv.url(), "gov-platform")
        officers = Officers(srv.url())
        body = application(case, seed=7)
        ok(push(gov, body), "pushApplication", 201)
        assert officers.step(case, "accept", "accepted", "formal-review").status_code == 403  # A.1 may not accept
        state = officers.do(
            case, "accept", "correction", "formal-review", opinion="产品合格证：复印件不清晰\n监督检验报告：缺少签章页"
        )
        assert state["state"] == "awaiting-correction" and state["currentStep"] == "apply"
        assert officers.step(case, "apply", "submitted", "formal-review").status_code == 409  # re-submission is T5-5
        assert officers.step(case, "accept", "accepted").status_code == 409
        receipt = ok(
            push(gov, {**body, "messageId": f"msg-{case}-2", "submittedAt": "2025-03-05T09:00:00+08:00"}),
            "pushApplication",
            201,
        )
        assert receipt["caseNo"] == case
        r = push(gov, {**body, "messageId": f"msg-{case}-3", "itemCode": "01100000-03-13"})
        assert r.status_code == 409
        state = ok(officers.harness.get(f"/driver/v1/cases/{case}"), "getCaseState")
        assert state["state"] == "submitted" and state["caseNo"] == case
        for step, outcome in [("accept", "accepted"), ("review", "failed"), ("decide", "refused")]:
            officers.do(case, step, outcome)
        assert officers.step(case, "certify", "certified").status_code == 409  # 不予许可 skips 制证
        state = officers.do(case, "conclude", "concluded")
        assert state["state"] == "concluded" and "registrationNo" not in state and "elicenseId" not in state
        drain(srv)
        calls = stub.all()
        assert [interface_of(p, path)[0] for p, path, _ in calls] == ["T5-6", "T5-7", "T5-8", "T5-8", "T5-10"]
        assert_bodies_valid(calls)
        supplement = calls[0][2]
        assert [i["material"] for i in supplement["items"]] == ["产品合格证", "监督检验报告"]
        assert supplement["notice"]["type"] == "一次性补正告知书"
        assert calls[-1][2]["result"] == "不予许可" and calls[-1][2]["notice"]["type"] == "不予许可决定书"
        notices = ok(officers.harness.get(f"/driver/v1/cases/{case}/notices"), "getCaseNotices")
        assert [n["type"] for n in notices] == ["一次性补正告知书", "受理通知书", "不予许可决定书"]
        history = [(h["step"], h["outcome"]) for h in state["history"]]
        assert history[:3] == [("apply", "submitted"), ("accept", "correction"), ("apply", "submitted")]


def test_not_accepted_ends_the_case(tmp_path: Path, stub: Stub) -> None:
    case = "CASE-NOTACC-1"
    with running(tmp_path, "licensing", counterparts=stub.counterparts()) as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), application(case)), "pushApplication", 201)
        state = officers.do(case, "accept", "not-accepted", opinion="不属于本机关管辖。")
        assert state["state"] == "not-accepted" and state["ended"] is True and state["currentStep"] == "accept"
        for step, outcome in GRANTED:
            assert officers.step(case, step, outcome).status_code == 409
        assert officers.special(case, "start").status_code == 409
        assert (
            ok(officers.harness.get(f"/driver/v1/cases/{case}/notices"), "getCaseNotices")[0]["type"]
            == "不予受理通知书"
        )
        assert officers.harness.get(f"/driver/v1/cases/{case}/dossier").status_code == 404
        drain(srv)
        calls = stub.all()
        assert [interface_of(p, path)[0] for p, path, _ in calls] == ["T5-7"]
        assert calls[0][2]["result"] == "不予受理" and calls[0][2]["notice"]["type"] == "不予受理通知书"
        assert_bodies_valid(calls)


def test_special_procedure_suspends_and_resumes_at_the_same_step(tmp_path: Path, stub: Stub) -> None:
    case = "CASE-SPECIAL-1"
    with running(tmp_path, "licensing", counterparts=stub.counterparts()) as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), application(case)), "pushApplication", 201)
        assert officers.special(case, "start").status_code == 409  # not allowed before acceptance
        officers.do(case, "accept", "accepted")
        assert officers.special(case, "start", role="decide").status_code == 403
        assert officers.special(case, "end").status_code == 409
        state = ok(officers.special(case, "start", days=5), "performSpecialProcedure")
        assert state["suspended"] is True and state["state"] == "suspended" and state["currentStep"] == "review"
        assert officers.special(case, "start").status_code == 409
        assert officers.step(case, "review", "passed").status_code == 409
        state = ok(officers.special(case, "end"), "performSpecialProcedure")
        assert state["suspended"] is False and state["state"] == "accepted" and state["currentStep"] == "review"
        officers.do(case, "review", "passed")
        state = officers.do(case, "decide", "suspend")  # the workflow.json outcome starts one too
        assert state["suspended"] is True and state["currentStep"] == "decide"
        state = ok(officers.special(case, "end", role="decide"), "performSpecialProcedure")
        assert state["state"] == "reviewed"
        drain(srv)
        calls = stub.all()
        assert [interface_of(p, path)[0] for p, path, _ in calls] == ["T5-7", "T5-9", "T5-9", "T5-8", "T5-9", "T5-9"]
        assert [c[2]["action"] for c in calls if "action" in c[2]] == ["start", "end", "start", "end"]
        assert calls[2][2]["startedAt"] == calls[1][2]["startedAt"] and "endedAt" in calls[2][2]
        assert_bodies_valid(calls)


def test_pre_archive_return_keeps_the_number_and_reports_once(tmp_path: Path, stub: Stub) -> None:
    case = "CASE-RETURN-1"
    with running(tmp_path, "licensing", counterparts=stub.counterparts()) as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), application(case)), "pushApplication", 201)
        for step, outcome in GRANTED[:6]:
            officers.do(case, step, outcome)
        first = ok(officers.harness.get(f"/driver/v1/cases/{case}/dossier"), "getCaseDossier")
        assert first["status"] == "拟成卷"
        state = officers.do(case, "pre-archive", "returned", opinion="缺少签字页。")
        assert state["state"] == "to-be-filed" and state["currentStep"] == "conclude"
        assert officers.step(case, "archive", "archived").status_code == 409
        returned = ok(officers.harness.get(f"/driver/v1/cases/{case}/dossier"), "getCaseDossier")
        assert returned["status"] == "拟成卷" and returned["dossierCode"] == first["dossierCode"]
        officers.do(case, "conclude", "concluded")
        officers.do(case, "pre-archive", "passed")
        assert ok(officers.harness.get(f"/driver/v1/cases/{case}/dossier"), "getCaseDossier")["status"] == "已成卷"
        state = officers.do(case, "archive", "archived")
        final = ok(officers.harness.get(f"/driver/v1/cases/{case}/dossier"), "getCaseDossier")
        assert final["status"] == "已归档" and final["dossierCode"] == first["dossierCode"] == state["dossierCode"]
        assert final["dossierCode"].endswith("0001")
        assert [f["title"] for f in final["files"]].count("办理意见流转单") == 2
        drain(srv)
        assert [interface_of(p, path)[0] for p, path, _ in stub.all()].count("T5-10") == 1


def test_unknown_case_and_bad_outcome(tmp_path: Path) -> None:
    with running(tmp_path, "licensing") as srv:
        officers = Officers(srv.url())
        health = requests.get(f"{srv.url()}/health", timeout=30)
        assert ok(health, "getHealth")["role"] == "licensing"
        token = requests.post(
            f"{srv.url()}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "officer-accept",
                "client_secret": "officer-accept-secret",
            },
            timeout=30,
        )
        assert token.status_code == 200 and response_validator("issueToken", 200).is_valid(token.json())
        assert officers.step("NO-SUCH-CASE", "accept", "accepted").status_code == 404
        assert officers.harness.get("/driver/v1/cases/NO-SUCH-CASE").status_code == 404
        ok(push(Api(srv.url(), "gov-platform"), application("CASE-BAD-OUT")), "pushApplication", 201)
        r = officers.step("CASE-BAD-OUT", "accept", "granted")
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/outcome"
        r = officers.step("CASE-BAD-OUT", "nonsense", "accepted", "accept")
        assert r.status_code == 400


# ---------------------------------------------------------------------------------- paths of the exchange
def _walk(officers: Officers, case: str, steps: Any) -> Any:
    state = None
    for step, outcome in steps:
        state = officers.do(case, step, outcome)
    return state


def _sent(stub: Stub) -> list[tuple[str, Any]]:
    return [(interface_of(p, path)[0], body) for p, path, body in stub.all()]


@pytest.mark.parametrize("item", ["01100000-03-08", "01100000-03-10", "01100000-03-02", "01100000-03-12"])
def test_a_change_reports_the_status_its_operation_leaves(tmp_path: Path, stub: Stub, item: str) -> None:
    """更名 / 停用 / 原单位注销 / 报废: T7-2 and the e-licence carry the status of licence-items.json, the number is kept."""
    case = f"CASE-CHG-{item[-2:]}"
    op = code_lists.licence_operations()[item[-2:]]
    original = KINDS["registration-no"].generate(random.Random(item), catalogue="3110", province="42", year=2021)
    with running(tmp_path, "licensing", counterparts=stub.counterparts()) as srv:
        officers = Officers(srv.url())
        ok(
            push(Api(srv.url(), "gov-platform"), application(case, item=item, registrationNo=original)),
            "pushApplication",
            201,
        )
        state = _walk(officers, case, GRANTED[:5])
        assert state["registrationNo"] == original
        drain(srv)
        sent = _sent(stub)
        assert_bodies_valid(stub.all())
    regs = [b for k, b in sent if k == "T7-2"]
    assert len(regs) == 1
    assert regs[0]["registration"]["status"] == op["registrationStatus"]
    assert regs[0]["equipment"]["status"] == op["equipmentStatus"]
    assert regs[0]["registration"]["registrationNo"] == original
    assert [b["status"] for k, b in sent if k == "T5-11"] == [op["licenceStatus"]]


def test_defect_no_t7_2_on_change_reports_only_first_registrations(tmp_path: Path, stub: Stub) -> None:
    with running(tmp_path, "licensing", counterparts=stub.counterparts(), defects=("no-t7-2-on-change",)) as srv:
        officers = Officers(srv.url())
        gov = Api(srv.url(), "gov-platform")
        ok(push(gov, application("CASE-NEW-1", seed=2)), "pushApplication", 201)
        ok(push(gov, application("CASE-SCRAP-1", seed=3, item="01100000-03-12")), "pushApplication", 201)
        for case in ("CASE-NEW-1", "CASE-SCRAP-1"):
            _walk(officers, case, GRANTED[:5])
        drain(srv)
    regs = [b["registration"]["caseNo"] for k, b in _sent(stub) if k == "T7-2"]
    assert regs == ["CASE-NEW-1"]
    assert {b["caseNo"] for k, b in _sent(stub) if k == "T5-11"} == {"CASE-NEW-1", "CASE-SCRAP-1"}


def test_defect_refusal_leaks_licence_sends_licence_data_for_a_refused_case(tmp_path: Path, stub: Stub) -> None:
    refused = [("accept", "accepted"), ("review", "failed"), ("decide", "refused"), ("conclude", "concluded")]
    sent: dict[tuple[str, ...], list[str]] = {}
    for defects in ((), ("refusal-leaks-licence",)):
        case, before = f"CASE-REF-{len(defects)}", len(stub.all())
        (tmp_path / case).mkdir()
        with running(tmp_path / case, "licensing", counterparts=stub.counterparts(), defects=defects) as srv:
            officers = Officers(srv.url())
            ok(push(Api(srv.url(), "gov-platform"), application(case, seed=4)), "pushApplication", 201)
            _walk(officers, case, refused)
            drain(srv)
        sent[defects] = [k for k, _ in _sent(stub)[before:]]
    assert sent[()] == ["T5-7", "T5-8", "T5-8", "T5-10"]
    leaked = sent[("refusal-leaks-licence",)]
    assert leaked[:4] == sent[()] and sorted(leaked[4:]) == ["T5-11", "T7-1", "T7-2", "sendSms"]


def test_the_inspection_report_prefills_the_application_and_objections_are_fed_back(tmp_path: Path) -> None:
    """T6-1 on receipt; 制证 takes the report's equipment code for an application without one; an examiner's objection
    reaches the inspection system (T6-2) with the recorded and the declared values; refusals of raiseObjection."""
    from conformance.selfcheck.stack import licensing_stack
    from conformance.suites.support.client_side import (
        contract_problems,
        introduce,
        new_party,
        with_declared_equipment_code,
        without_equipment_code,
    )

    rng = random.Random(15)
    with licensing_stack(tmp_path / "lic.sqlite3", seed=None) as (sims, srv):
        officers, gov = Officers(srv.url()), Api(srv.url(), "gov-platform")
        filled = without_equipment_code(new_party(None, rng, legal=True, item="01100000-03-01"))  # type: ignore[arg-type]
        objected = with_declared_equipment_code(new_party(None, rng, legal=True), rng)  # type: ignore[arg-type]
        bare = new_party(None, rng, legal=True, with_report=False)  # type: ignore[arg-type]
        for party in (filled, objected, bare):
            introduce(sims, party)
            ok(push(gov, party.application), "pushApplication", 201)
        state = _walk(officers, filled.case_no, GRANTED[:5])
        assert state["equipmentCode"] == filled.report["equipmentCode"]  # type: ignore[index]

        path = f"/driver/v1/cases/{objected.case_no}/objections"
        items = [{"field": "/equipmentCode", "reason": "申报的设备代码与检验报告不一致"}]
        assert officers.apis["decide"].post(path, {"items": items, "operatorName": "王五"}).status_code == 403
        r = officers.apis["accept"].post(
            path, {"items": [{"field": "/inspectionDate", "reason": "x"}], "operatorName": "王五"}
        )
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/items/0/field"
        bare_path = f"/driver/v1/cases/{bare.case_no}/objections"
        assert officers.apis["accept"].post(bare_path, {"items": items, "operatorName": "王五"}).status_code == 409
        state = ok(officers.apis["accept"].post(path, {"items": items, "operatorName": "王五"}), "raiseObjection")
        assert state["state"] == "submitted"
        officers.do(objected.case_no, "accept", "not-accepted")
        assert officers.apis["accept"].post(path, {"items": items, "operatorName": "王五"}).status_code == 409
        drain(srv)
        calls = sims.calls()
    lookups = [c for c in calls if c.key == "T6-1"]
    assert {filled.report["reportNo"], objected.report["reportNo"]} <= {c.path.rsplit("/", 1)[-1] for c in lookups}  # type: ignore[index]
    regs = [c for c in calls if c.key == "T7-2" and c.case_no == filled.case_no]
    assert [c.json["equipment"]["equipmentCode"] for c in regs] == [filled.report["equipmentCode"]]  # type: ignore[index]
    objections = [c for c in calls if c.key == "T6-2"]
    assert len(objections) == 1 and not contract_problems(objections[0]) and objections[0].status == 201
    body = objections[0].json
    assert body["caseNo"] == objected.case_no and body["raisedBy"] == "examiner" and body["raiserName"] == "王五"
    assert body["items"] == [
        {
            "field": "/equipmentCode",
            "recorded": objected.report["equipmentCode"],  # type: ignore[index]
            "declared": objected.application["equipment"]["equipmentCode"],
            "reason": "申报的设备代码与检验报告不一致",
        }
    ]
