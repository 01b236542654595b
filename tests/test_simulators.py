"""The simulators of the counterparts (conformance/simulators): routing and validation from the
contracts, answers that validate against the contracts' response schemas, idempotent receipts, the
order rules of the platform, faults (503 / Retry-After, timeout, lost answer, reset), the control API,
the evidence of inbound calls, the ``[simulators]`` section of the target file and the reference
server's outbox timing."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.check.schema import validator_at
from conformance.client import Evidence
from conformance.codes import KINDS
from conformance.contract.openapi import role_operations
from conformance.harness.target import SimulatorSettings, load_target
from conformance.reference import outbox
from conformance.selfcheck.target_file import write_target
from conformance.simulators import Simulators, start

CASE = "CASE-SIM-000001"
NOW = "2025-03-01T09:00:00+08:00"


#: A "timeout" or "lost" fault holds the call this long: far above the 1 s read timeout the tests use against it (the
#: hold ends at once when the simulators stop).
HOLD_S = 30.0
#: Read timeout against a held call: it only shortens the test.
HELD = (30, 1)


@pytest.fixture
def sims() -> Iterator[Simulators]:
    with start(SimulatorSettings(hold_s=HOLD_S)) as s:
        yield s


def _session(base: str, client: str = "licensing-system") -> requests.Session:
    s = requests.Session()
    r = s.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client, "client_secret": "x"},
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return s


def conforms(role: str, op_id: str, resp: requests.Response) -> Any:
    op = next(o for o in role_operations(role) if o.operation_id == op_id)
    schema = op.responses[str(resp.status_code)]["application/json"]
    assert schema is not None, (op_id, resp.status_code)
    v = validator_at(schema)
    assert v.is_valid(resp.json()), [e.as_dict() for e in v.errors(resp.json())]
    return resp.json()["data"]


def _report(kind: str, **extra: Any) -> dict[str, Any]:
    base = {
        "messageId": f"msg-{kind}-{time.monotonic_ns()}",
        "caseNo": CASE,
        "itemCode": "01100000-03-01",
        "reportedAt": NOW,
        "operator": {"name": "周敏", "role": "accept"},
        "opinion": "同意。",
    }
    notice = {
        "noticeId": "N-1",
        "caseNo": CASE,
        "type": "受理通知书",
        "title": "受理通知书",
        "issuedAt": NOW,
        "authority": {
            "name": "武汉市市场监督管理局",
            "uscc": KINDS["uscc"].generate(random.Random(1), pair="11", division="420100"),
            "division": "420100",
        },
        "content": "予以受理。",
    }
    if kind == "acceptance":
        base.update({"result": "正式受理", "acceptedAt": NOW, "notice": notice})
    elif kind == "steps":
        base.update({"step": "review", "stepName": "审查", "outcome": "审查通过", "finishedAt": NOW})
    elif kind == "result":
        base.update({"result": "准予许可", "decidedAt": NOW, "notice": {**notice, "type": "准予许可决定书"}})
    base.update(extra)
    return base


def test_routes_validation_and_auth_follow_the_contract(sims: Simulators) -> None:
    gov = sims["gov-platform"].url
    assert requests.get(f"{gov}/api/v1/handling-items", params={"division": "420100"}, timeout=30).status_code == 401
    s = _session(gov)
    items = conforms(
        "gov-platform",
        "queryHandlingItems",
        s.get(f"{gov}/api/v1/handling-items", params={"division": "420100"}, timeout=30),
    )
    assert len(items) == 114 and {i["division"] for i in items} == {"420100"}
    r = s.get(f"{gov}/api/v1/handling-items", params={"division": "42010"}, timeout=30)
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/query/division"
    conforms("gov-platform", "queryHandlingItems", r)
    impl = conforms(
        "gov-platform",
        "queryImplementations",
        s.get(f"{gov}/api/v1/implementations", params={"division": "420100"}, timeout=30),
    )
    assert impl["total"] == 1 and impl["items"][0]["itemCode"] == "01100000"
    assert s.get(f"{gov}/api/v1/nowhere", timeout=30).status_code == 404
    assert s.delete(f"{gov}/api/v1/sms", timeout=30).status_code == 405
    sims["gov-platform"].register_case(CASE, "01100000-03-01")
    bad = _report("acceptance")
    del bad["notice"]
    r = s.post(f"{gov}/api/v1/cases/{CASE}/acceptance", json=bad, timeout=30)
    assert r.status_code == 400 and "/notice" in [e["path"] for e in r.json()["errors"]]
    calls = sims["gov-platform"].calls()
    assert calls[-1].problems and calls[-1].client_id == "licensing-system" and calls[-1].key == "T5-7"
    assert calls[-1].headers["Authorization"] == "Bearer ***"


def test_platform_receipts_are_idempotent_and_ordered(sims: Simulators) -> None:
    gov = sims["gov-platform"].url
    s = _session(gov)
    step = _report("steps")
    assert s.post(f"{gov}/api/v1/cases/{CASE}/steps", json=step, timeout=30).status_code == 404  # unknown case
    sims["gov-platform"].register_case(CASE, "01100000-03-01")
    r = s.post(f"{gov}/api/v1/cases/{CASE}/steps", json=step, timeout=30)
    assert r.status_code == 409 and r.json()["code"] == "STATE_CONFLICT"  # before acceptance
    acc = _report("acceptance")
    first = conforms(
        "gov-platform", "reportAcceptance", s.post(f"{gov}/api/v1/cases/{CASE}/acceptance", json=acc, timeout=30)
    )
    again = s.post(f"{gov}/api/v1/cases/{CASE}/acceptance", json=acc, timeout=30)
    assert again.status_code == 200 and conforms("gov-platform", "reportAcceptance", again) == {
        **first,
        "duplicate": True,
    }
    assert s.post(f"{gov}/api/v1/cases/{CASE}/acceptance", json={**acc, "opinion": "改"}, timeout=30).status_code == 409
    assert (
        s.post(f"{gov}/api/v1/cases/{CASE}/acceptance", json=_report("acceptance"), timeout=30).status_code == 409
    )  # twice
    assert s.post(f"{gov}/api/v1/cases/OTHER-CASE-1/steps", json=step, timeout=30).status_code == 400  # path ≠ body
    conforms(
        "gov-platform", "reportStep", s.post(f"{gov}/api/v1/cases/{CASE}/steps", json=_report("steps"), timeout=30)
    )
    conforms(
        "gov-platform", "reportResult", s.post(f"{gov}/api/v1/cases/{CASE}/result", json=_report("result"), timeout=30)
    )
    r = s.post(f"{gov}/api/v1/cases/{CASE}/steps", json=_report("steps"), timeout=30)
    assert r.status_code == 409  # the exchange ended with the result


def test_users_reports_licences_and_supervision_records(sims: Simulators) -> None:
    gov, ins, sup = (sims[r].url for r in ("gov-platform", "inspection", "supervision"))
    s = _session(gov)
    user = {
        "userId": "uid-1",
        "name": "武汉测试机械有限公司",
        "idType": "001",
        "uscc": KINDS["uscc"].generate(random.Random(2), pair="91", division="420100"),
    }
    sims["gov-platform"].register_user("legal", user)
    assert conforms("gov-platform", "getLegalPerson", s.get(f"{gov}/api/v1/users/legal/uid-1", timeout=30)) == user
    assert s.get(f"{gov}/api/v1/users/legal/uid-2", timeout=30).status_code == 404
    assert s.get(f"{gov}/api/v1/users/natural/uid-1", timeout=30).status_code == 404
    with pytest.raises(RuntimeError):
        sims["gov-platform"].register_user("legal", {"userId": "x"})  # not valid against the contract
    si = _session(ins)
    assert si.get(f"{ins}/api/v1/inspection-reports/JY-0001", timeout=30).status_code == 404
    ss = _session(sup)
    assert ss.get(f"{sup}/api/v1/units/{user['uscc']}", timeout=30).status_code == 404
    assert json.loads(requests.get(f"{sup}/health", timeout=30).content)["data"]["role"] == "supervision"


def test_faults_retry_after_timeout_lost_answer_and_reset(sims: Simulators) -> None:
    gov = sims["gov-platform"]
    gov.register_case(CASE, "01100000-03-01")
    s = _session(gov.url)
    acc = _report("acceptance")
    gov.fault({"caseNo": CASE, "interface": "T5-7"}, ["503:3", "timeout", "reset", "lost"])
    r = s.post(f"{gov.url}/api/v1/cases/{CASE}/acceptance", json=acc, timeout=30)
    assert r.status_code == 503 and r.headers["Retry-After"] == "3" and r.json()["code"] == "UNAVAILABLE"
    with pytest.raises(requests.ReadTimeout):  # held for HOLD_S, unprocessed
        s.post(f"{gov.url}/api/v1/cases/{CASE}/acceptance", json=acc, timeout=HELD)
    with pytest.raises(requests.ConnectionError):
        s.post(f"{gov.url}/api/v1/cases/{CASE}/acceptance", json=acc, timeout=30)
    with pytest.raises(requests.ReadTimeout):  # processed, the answer is lost
        s.post(f"{gov.url}/api/v1/cases/{CASE}/acceptance", json=acc, timeout=HELD)
    r = s.post(f"{gov.url}/api/v1/cases/{CASE}/acceptance", json=acc, timeout=30)
    assert r.status_code == 200 and r.json()["data"]["duplicate"] is True
    faults = [(c.fault, c.status, c.duplicate) for c in gov.calls() if c.key == "T5-7"]
    assert faults == [
        ("503:3", 503, False),
        ("timeout", None, False),
        ("reset", None, False),
        ("lost", 201, False),
        (None, 200, True),
    ]


def test_control_api_needs_the_token_when_one_is_set() -> None:
    with start(SimulatorSettings(control_token="s3cret")) as sims:
        url = sims["inspection"].url
        assert requests.get(f"{url}/_simulator/calls", timeout=30).status_code == 401
        assert sims["inspection"].info()["role"] == "inspection"  # the handle sends the token
        assert (
            requests.get(f"{url}/_simulator/calls", headers={"X-Simulator-Token": "s3cret"}, timeout=30).status_code
            == 200
        )


def test_inbound_evidence_is_masked_and_marked() -> None:
    ev = Evidence()
    x = ev.add_inbound(
        simulator="gov-platform",
        method="POST",
        url="http://127.0.0.1:1/api/v1/sms",
        headers={"Authorization": "Bearer abc.def", "Content-Type": "application/json"},
        body=json.dumps({"mobile": "13912345678", "content": "您好"}, ensure_ascii=False),
        status=201,
        response_body=b'{"code":"OK"}',
        received_at=NOW,
        test="t::x",
    )
    d = x.as_dict()
    assert d["direction"] == "inbound" and d["simulator"] == "gov-platform" and d["test"] == "t::x"
    assert d["request_headers"]["Authorization"] == "Bearer ***" and "139****5678" in d["request_body"]
    assert ev.for_test("t::x") == [x]


def test_target_file_simulators_section_round_trips(tmp_path: Path) -> None:
    path = write_target(
        tmp_path / "t.toml",
        {"licensing": "http://127.0.0.1:9"},
        "licensing",
        simulators={
            "wait_s": 5,
            "attended": True,
            "instructions_file": str(tmp_path / "i.jsonl"),
            "ports": {"gov-platform": 18701},
            "urls": {"inspection": "http://127.0.0.1:18702/"},
        },
    )
    t = load_target(str(path))
    sim = t.simulators
    assert (sim.wait_s, sim.attended, sim.ports, sim.urls) == (
        5.0,
        True,
        {"gov-platform": 18701},
        {"inspection": "http://127.0.0.1:18702"},
    )
    assert sim.instructions_file == str(tmp_path / "i.jsonl") and sim.external
    assert (
        load_target(str(write_target(tmp_path / "u.toml", {"licensing": "http://x"}, "licensing"))).simulators.external
        is False
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('role = "licensing"\n[simulators.ports]\nsharing = 1\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[simulators\.ports\] sharing：不允许的字段"):  # target.schema.json
        load_target(str(bad))


def test_outbox_backoff_is_exponential_with_jitter_and_honours_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZSB_OUTBOX_BASE_DELAY", "0.5")
    monkeypatch.setenv("TZSB_OUTBOX_MAX_DELAY", "30")
    for attempts, low in ((1, 0.5), (2, 1.0), (3, 2.0), (9, 30.0)):
        values = [outbox.backoff(attempts, None) for _ in range(50)]
        assert all(low <= v <= low * 1.2 for v in values) and len(set(values)) > 1
    assert outbox.backoff(1, 7.0) == 7.0
    monkeypatch.setenv("TZSB_OUTBOX_TIMEOUT", "1.5")
    assert outbox.timeout() == (1.5, 1.5)


# ---------------------------------------------------------------------------------- the licensing system (gov-platform certified)
def _application(item: str = "01100000-03-01", catalogue: str | None = None) -> dict[str, Any]:
    from conformance.check.schema import validator
    from conformance.reference.roles.gov_platform.applications import new_application

    rng = random.Random(7)
    app = new_application(rng)
    while app["itemCode"] != item:
        app = new_application(rng)
    if catalogue:
        app["equipment"]["catalogueCode"] = catalogue
    assert validator("application").is_valid(app)
    return app


def test_the_licensing_simulator_takes_the_platforms_pushes_and_claims_each_case_once() -> None:
    """Started for a platform (``roles=COUNTERPARTS['gov-platform']``): T5-5 answers the contract's receipt, a repeat its
    first receipt (200, duplicate), an item outside Table 1 or equipment of another group 400 naming the field; each
    push is recorded (interface, client, body) and each case number is claimed once."""
    from conformance.harness.target import COUNTERPARTS

    push = next(o for o in role_operations("licensing") if o.interface == "T5-5")
    with start(SimulatorSettings(hold_s=HOLD_S), roles=COUNTERPARTS["gov-platform"]) as sims:
        assert list(sims.urls()) == ["licensing"]
        lic = sims["licensing"]
        s = _session(lic.url, "gov-platform")
        app = _application()
        first = conforms("licensing", "pushApplication", s.post(lic.url + push.path, json=app, timeout=30))
        assert (
            first["messageId"] == app["messageId"] and first["caseNo"] == app["caseNo"] and first["duplicate"] is False
        )
        r = s.post(lic.url + push.path, json=app, timeout=30)
        assert r.status_code == 200 and conforms("licensing", "pushApplication", r)["receivedAt"] == first["receivedAt"]
        unknown = {**_application(), "itemCode": "01100000-07-04", "messageId": "msg-piping-move-out-1"}
        r = s.post(lic.url + push.path, json=unknown, timeout=30)
        assert r.status_code == 400 and [e["path"] for e in r.json()["errors"]] == ["/itemCode"], r.text
        other_group = _application(catalogue="4000")
        other_group["messageId"] = "msg-other-group-1"
        r = s.post(lic.url + push.path, json=other_group, timeout=30)
        assert r.status_code == 400 and [e["path"] for e in r.json()["errors"]] == ["/equipment/catalogueCode"], r.text
        calls = [c for c in lic.calls() if c.key == "T5-5"]
        assert [c.status for c in calls] == [201, 200, 400, 400]
        assert calls[0].client_id == "gov-platform" and calls[0].case_no == app["caseNo"] and calls[1].duplicate
        assert lic.claim(app["caseNo"]) is True and lic.claim(app["caseNo"]) is False
        assert lic.local is not None and list(lic.local.state.applications) == [app["caseNo"]]
