"""Reference server, gov-platform role (DB42/T 2279-2024 §10.2 表5)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import itertools
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.check import media
from conformance.codes import KINDS
from conformance.contract.openapi import role_operations
from conformance.reference.db import Database
from conformance.reference.roles.gov_platform import cases as gov_cases
from conformance.reference.roles.gov_platform import elicenses as gov_elicenses
from conformance.reference.roles.gov_platform import handlers as gov_platform
from conformance.reference.roles.gov_platform import model as gov_model
from conformance.reference.server import RunningServer
from tests.refserver import Api, running
from tests.refserver import conforms as _conforms

OPS = {op.operation_id: op for op in role_operations("gov-platform")}
ITEM = "01100000-03-01"


def conforms(op_id: str, resp: requests.Response) -> dict[str, Any]:
    return _conforms("gov-platform", op_id, resp)


def other_db(srv: RunningServer) -> Database:
    """A second connection to the server's database (never share the server's own across threads)."""
    return Database(srv.cfg.db)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running(tmp_path_factory.mktemp("gov"), "gov-platform", seed=1) as server:
        yield server


@pytest.fixture(scope="module")
def api(srv: RunningServer) -> Api:
    return Api(srv.url())


# ------------------------------------------------------------------ T5-1, T5-2
def test_implementations_paging_and_filters(api: Api) -> None:
    everything = conforms("queryImplementations", api.get("/api/v1/implementations", params={"size": 500}))
    assert everything["total"] == len(gov_model.implementations()) > 360
    assert everything["page"] == 1 and everything["size"] == 500 and len(everything["items"]) == everything["total"]
    wuhan = next(i for i in everything["items"] if i["division"] == "420100")
    assert (
        wuhan["deptName"] == "武汉市市场监督管理局"
        and wuhan["level"] == "prefecture"
        and wuhan["itemCode"] == "01100000"
    )
    assert not any(
        i["division"].startswith(("71", "81", "82")) or i["division"] in ("429000", "419000")
        for i in everything["items"]
    )
    # pages cover the list exactly once
    seen = []
    for page in (1, 2, 3, 4):
        data = conforms("queryImplementations", api.get("/api/v1/implementations", params={"page": page, "size": 100}))
        seen += [i["implementCode"] for i in data["items"]]
    assert seen == [i["implementCode"] for i in everything["items"]]
    assert api.get("/api/v1/implementations", params={"page": 99}).json()["data"]["items"] == []
    # filters
    hubei = conforms("queryImplementations", api.get("/api/v1/implementations", params={"division": "420000"}))
    assert hubei["total"] == 14 and {i["level"] for i in hubei["items"]} == {"province", "prefecture"}
    assert [
        i["division"] for i in api.get("/api/v1/implementations", params={"division": "420102"}).json()["data"]["items"]
    ] == ["420100"]
    assert [
        i["division"] for i in api.get("/api/v1/implementations", params={"division": "110101"}).json()["data"]["items"]
    ] == ["110000"]
    by_dept = api.get("/api/v1/implementations", params={"deptUscc": wuhan["deptUscc"]}).json()["data"]
    assert by_dept["total"] == 1 and by_dept["items"][0] == wuhan
    both = api.get("/api/v1/implementations", params={"deptUscc": wuhan["deptUscc"], "division": "370000"}).json()[
        "data"
    ]
    assert both["total"] == 0
    assert gov_model.authority("420100")["uscc"] == wuhan["deptUscc"]  # deterministic
    for bad in ({"size": 501}, {"page": 0}, {"division": "42010"}, {"deptUscc": "91420100MA4K2ABC1X"}):
        r = api.get("/api/v1/implementations", params=bad)
        assert r.status_code == 400, bad


def test_handling_items(api: Api) -> None:
    items = conforms("queryHandlingItems", api.get("/api/v1/handling-items", params={"division": "420100"}))
    assert len(items) == 114 and len({i["code"] for i in items}) == 114
    assert {i["division"] for i in items} == {"420100"}
    assert any(i["name"] == "电梯使用登记新登记（新设备首次启用）" and i["code"] == ITEM for i in items)
    piping = conforms(
        "queryHandlingItems", api.get("/api/v1/handling-items", params={"division": "420100", "group": "07"})
    )
    assert len(piping) == 9 and not any(i["operation"] == "04" for i in piping)
    county = api.get("/api/v1/handling-items", params={"division": "420102"}).json()["data"]
    assert len(county) == 114 and county[0]["division"] == "420100"
    xiantao = api.get("/api/v1/handling-items", params={"division": "429004"}).json()["data"]
    assert len(xiantao) == 114 and xiantao[0]["division"] == "420000"
    assert conforms("queryHandlingItems", api.get("/api/v1/handling-items", params={"division": "710000"})) == []
    assert api.get("/api/v1/handling-items").status_code == 400
    assert api.get("/api/v1/handling-items", params={"division": "999999"}).status_code == 400
    assert api.get("/api/v1/handling-items", params={"division": "420100", "group": "1"}).status_code == 400


# ------------------------------------------------------------------ T5-3, T5-4
def test_users(srv: RunningServer, api: Api) -> None:
    db = other_db(srv)
    naturals, legals = gov_platform.user_ids(db, "natural"), gov_platform.user_ids(db, "legal")
    assert len(naturals) >= 100 and len(legals) >= 100
    person = conforms("getNaturalPerson", api.get(f"/api/v1/users/natural/{naturals[0]}"))
    assert person["userId"] == naturals[0] and person["idType"] == "111" and len(person["idNumber"]) == 18
    legal = conforms("getLegalPerson", api.get(f"/api/v1/users/legal/{legals[0]}"))
    assert legal["idType"] == "001" and len(legal["uscc"]) == 18
    for path in (
        "/api/v1/users/natural/np-999999",
        "/api/v1/users/legal/lp-999999",
        f"/api/v1/users/legal/{naturals[0]}",
    ):
        r = api.get(path)
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    r = Api(srv.url(), client="city-caller").get(f"/api/v1/users/natural/{naturals[0]}")
    assert r.status_code == 403


# ------------------------------------------------------------------ T5-6 … T5-10
class Reporter:
    """Builds valid report bodies for one case and posts them."""

    def __init__(self, api: Api, case_no: str, item: str = ITEM) -> None:
        self.api, self.case_no, self.item, self.n = api, case_no, item, 0

    def body(self, kind: str, **extra: Any) -> dict[str, Any]:
        self.n += 1
        at = f"2025-03-01T{8 + self.n // 60:02d}:{self.n % 60:02d}:00+08:00"
        base = {
            "messageId": f"t-{self.case_no}-{self.n:03d}",
            "caseNo": self.case_no,
            "itemCode": self.item,
            "reportedAt": at,
            "operator": {"name": "张伟", "role": "accept"},
            "opinion": "同意。",
        }
        notice = {
            "noticeId": f"N-{self.n}",
            "caseNo": self.case_no,
            "type": "受理通知书",
            "title": "受理通知书",
            "issuedAt": at,
            "authority": {
                "name": "武汉市市场监督管理局",
                "uscc": gov_model.authority("420100")["uscc"],
                "division": "420100",
            },
            "content": "已受理。",
        }
        if kind == "supplement":
            base.update(
                items=[{"material": "产品合格证", "reason": "缺失"}], notice={**notice, "type": "一次性补正告知书"}
            )
        elif kind == "acceptance":
            base.update(result="正式受理", acceptedAt=at, notice=notice)
        elif kind == "steps":
            base.update(step="review", stepName="审查", outcome="审查通过", finishedAt=at)
        elif kind == "special-procedures":
            base.update(procedure="现场核查", action="start", startedAt=at)
        elif kind == "result":
            base.update(result="准予许可", decidedAt=at, notice={**notice, "type": "准予许可决定书"})
        base.update(extra)
        if kind == "steps" and base["step"] == "decide" and "decisionDocument" not in base:  # §7.4.2 c)
            base["decisionDocument"] = {**notice, "type": f"{base['outcome']}决定书", "title": "决定书"}
        return base

    def post(self, kind: str, **extra: Any) -> requests.Response:
        body = self.body(kind, **extra)
        return self.api.post(f"/api/v1/cases/{body['caseNo']}/{kind}", body)


OP_OF = {
    "supplement": "reportSupplement",
    "acceptance": "reportAcceptance",
    "steps": "reportStep",
    "special-procedures": "reportSpecialProcedure",
    "result": "reportResult",
}


def ok(rep: Reporter, kind: str, **extra: Any) -> dict[str, Any]:
    r = rep.post(kind, **extra)
    assert r.status_code == 201, r.text
    data = conforms(OP_OF[kind], r)
    assert data["caseNo"] == rep.case_no and data["duplicate"] is False
    return data


def refused(rep: Reporter, kind: str, **extra: Any) -> str:
    r = rep.post(kind, **extra)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "STATE_CONFLICT"
    return r.json()["message"]


def test_case_state_order_full_flow(srv: RunningServer, api: Api) -> None:
    db = other_db(srv)
    state = gov_cases.register_case(db, "420100202503010001", ITEM, "91420100MA4K2ABC1E", "2025-03-01T08:00:00+08:00")
    assert state["state"] == "submitted"
    rep = Reporter(api, "420100202503010001")
    refused(rep, "result")  # result before acceptance
    refused(rep, "steps")  # step before acceptance
    refused(rep, "special-procedures")  # special procedure before acceptance
    ok(rep, "supplement")
    assert gov_cases.case_state(db, rep.case_no)["state"] == "awaiting-correction"
    assert gov_cases.register_case(db, rep.case_no, ITEM, "x", "2025-03-02T08:00:00+08:00")["state"] == "submitted"
    ok(rep, "acceptance")
    refused(rep, "acceptance")  # accepted twice
    refused(rep, "supplement")  # supplement after acceptance
    refused(rep, "steps", step="decide", stepName="决定", outcome="准予许可")  # review skipped
    refused(rep, "steps", step="accept", stepName="受理", outcome="受理")  # not a T5-8 step
    refused(rep, "special-procedures", action="end")  # ended without a start
    ok(rep, "special-procedures")  # start 现场核查 during review
    refused(rep, "special-procedures")  # started twice
    refused(rep, "steps")  # no step while suspended
    assert gov_cases.case_state(db, rep.case_no)["state"] == "suspended"
    ok(rep, "special-procedures", action="end", endedAt="2025-03-05T10:00:00+08:00")
    ok(rep, "steps")  # review
    ok(rep, "steps", step="decide", stepName="决定", outcome="准予许可", operator={"name": "李强", "role": "decide"})
    refused(rep, "special-procedures")  # only during review or decide
    refused(rep, "result", result="不予许可")  # contradicts the decision (and too early)
    refused(rep, "result")  # granted needs certify and issue first
    ok(rep, "steps", step="certify", stepName="制证", outcome="制证完成")
    ok(rep, "steps", step="issue", stepName="发证", outcome="发证")
    refused(rep, "steps", step="pre-archive", stepName="预归档", outcome="通过")
    ok(rep, "result")
    for kind in ("supplement", "acceptance", "steps", "special-procedures", "result"):
        assert "已结束" in refused(rep, kind)  # anything after the result
    history = gov_cases.case_reports(db, rep.case_no)
    assert [h["interface"] for h in history] == [
        "T5-6",
        "T5-7",
        "T5-9",
        "T5-9",
        "T5-8",
        "T5-8",
        "T5-8",
        "T5-8",
        "T5-10",
    ]
    assert history[0]["stateBefore"] == "submitted" and history[-1]["stateAfter"] == "concluded"
    assert history[1]["body"]["result"] == "正式受理"
    final = gov_cases.case_state(db, rep.case_no)
    assert final["state"] == "concluded" and final["result"] == "准予许可" and final["submissions"] == 2


def test_not_accepted_ends_the_case_and_refused_path(srv: RunningServer, api: Api) -> None:
    db = other_db(srv)
    gov_cases.register_case(db, "420100202503010002", ITEM, "91420100MA4K2ABC1E", "2025-03-01T08:00:00+08:00")
    rep = Reporter(api, "420100202503010002")
    ok(rep, "acceptance", result="不予受理")
    assert gov_cases.case_state(db, rep.case_no)["state"] == "not-accepted"
    for kind in ("acceptance", "steps", "result", "supplement"):
        refused(rep, kind)
    gov_cases.register_case(db, "420100202503010003", ITEM, "91420100MA4K2ABC1E", "2025-03-01T08:00:00+08:00")
    rep = Reporter(api, "420100202503010003")
    ok(rep, "acceptance")
    ok(rep, "steps")
    ok(rep, "steps", step="decide", stepName="决定", outcome="不予许可")
    refused(rep, "steps", step="certify", stepName="制证", outcome="制证完成")  # refused: no certificate
    refused(rep, "result")  # 准予许可 contradicts
    ok(rep, "result", result="不予许可")


def test_the_decision_step_needs_its_decision_document(srv: RunningServer, api: Api) -> None:
    """§7.4.2 c): the decision step's report carries the decision document of this case and of this decision."""
    db = other_db(srv)
    gov_cases.register_case(db, "420100202503010004", ITEM, "91420100MA4K2ABC1E", "2025-03-01T08:00:00+08:00")
    rep = Reporter(api, "420100202503010004")
    ok(rep, "acceptance")
    ok(rep, "steps")
    decide = {"step": "decide", "stepName": "决定", "outcome": "准予许可"}
    good = rep.body("steps", **decide)["decisionDocument"]
    for document, path in (
        (None, "/decisionDocument"),
        ({**good, "type": "不予许可决定书"}, "/decisionDocument/type"),
        ({**good, "caseNo": "420100202503010001"}, "/decisionDocument/caseNo"),
    ):
        body = rep.body("steps", **decide)
        if document is None:
            del body["decisionDocument"]
        else:
            body["decisionDocument"] = document
        r = api.post(f"/api/v1/cases/{rep.case_no}/steps", body)
        assert r.status_code == 400 and path in [e["path"] for e in r.json()["errors"]], (path, r.text)
    r = api.post(f"/api/v1/cases/{rep.case_no}/steps", {**rep.body("steps"), "decisionDocument": good})
    assert r.status_code == 400 and "/decisionDocument" in [e["path"] for e in r.json()["errors"]], r.text
    ok(rep, "steps", **decide)
    stored = gov_cases.case_reports(db, rep.case_no)[-1]["body"]
    assert stored["decisionDocument"]["type"] == "准予许可决定书"


def test_receivers_check_case_and_are_idempotent(srv: RunningServer, api: Api) -> None:
    db = other_db(srv)
    submitted = gov_cases.cases(db, "submitted")
    assert submitted and all(
        gov_cases.cases(db, s) for s in ("awaiting-correction", "accepted", "suspended", "not-accepted", "concluded")
    )
    # unknown case
    r = Reporter(api, "420100209912310001").post("acceptance")
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    case = submitted[0]
    item = gov_cases.case_state(db, case)["itemCode"]
    rep = Reporter(api, case, item)
    # path and body disagree
    body = rep.body("acceptance")
    r = api.post(f"/api/v1/cases/{submitted[1]}/acceptance", body)
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/caseNo"
    # wrong item
    r = Reporter(api, case, "01100000-01-13" if item != "01100000-01-13" else ITEM).post("acceptance")
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/itemCode"
    # schema
    r = api.post(f"/api/v1/cases/{case}/acceptance", {**body, "result": "受理"})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/result"
    # idempotency
    first = api.post(f"/api/v1/cases/{case}/acceptance", body)
    assert first.status_code == 201
    again = api.post(f"/api/v1/cases/{case}/acceptance", body)
    assert again.status_code == 200
    data = conforms("reportAcceptance", again)
    assert data["duplicate"] is True and data["receivedAt"] == first.json()["data"]["receivedAt"]
    changed = api.post(f"/api/v1/cases/{case}/acceptance", {**body, "opinion": "改了"})
    assert changed.status_code == 409 and changed.json()["code"] == "DUPLICATE"
    assert len(gov_cases.case_reports(db, case)) == 1
    # demo cases carry their history
    concluded = gov_cases.cases(db, "concluded")[0]
    assert gov_cases.case_reports(db, concluded)[-1]["interface"] == "T5-10"
    # scope: e-licence readers cannot report
    r = Api(srv.url(), client="city-caller").post(f"/api/v1/cases/{case}/steps", rep.body("steps"))
    assert r.status_code == 403


def test_defect_report_back_any_order(tmp_path: Path) -> None:
    with running(tmp_path, "gov-platform", seed=1, defects=("report-back-any-order",)) as srv:
        api = Api(srv.url())
        db = other_db(srv)
        case = gov_cases.cases(db, "submitted")[0]
        rep = Reporter(api, case, gov_cases.case_state(db, case)["itemCode"])
        r = rep.post("result")
        assert r.status_code == 201
        assert gov_cases.case_state(db, case)["state"] == "concluded"
        assert rep.post("acceptance").status_code == 201
        assert Reporter(api, "420100209912310001").post("result").status_code == 404


# ------------------------------------------------------------------ e-licence library
def test_elicense_chain(srv: RunningServer, api: Api) -> None:
    db = other_db(srv)
    cert = gov_elicenses.get_elicense(db, gov_elicenses.elicense_ids(db)[0])
    found = conforms("searchElicenses", api.get("/api/v1/elicenses", params={"holderId": cert["holderId"]}))
    assert cert["elicenseId"] in [f["elicenseId"] for f in found]
    assert all(f["issueDate"] >= g["issueDate"] for f, g in itertools.pairwise(found))
    typed = api.get("/api/v1/elicenses", params={"holderId": cert["holderId"], "holderIdType": cert["holderIdType"]})
    assert typed.json()["data"] == found
    by_item = api.get("/api/v1/elicenses", params={"holderId": cert["holderId"], "itemCode": cert["itemCode"]}).json()[
        "data"
    ]
    assert cert["elicenseId"] in [f["elicenseId"] for f in by_item]
    assert (
        api.get("/api/v1/elicenses", params={"holderId": cert["holderId"], "itemCode": "01100000-10-13"}).json()["data"]
        == []
        or cert["itemCode"] == "01100000-10-13"
    )
    eid = cert["elicenseId"]
    info = conforms("getElicense", api.get(f"/api/v1/elicenses/{eid}"))
    assert info == cert
    address = conforms("getElicenseDownloadAddress", api.get(f"/api/v1/elicenses/{eid}/download-address"))
    assert address["format"] == "OFD" and address["url"].startswith(srv.url() + f"/api/v1/elicenses/{eid}/file?token=")
    r = api.session.get(address["url"], timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ofd")
    assert "attachment" in r.headers["content-disposition"]
    assert media.ofd_problems(r.content) == []
    assert hashlib.sha256(r.content).hexdigest() == address["sha256"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        page = z.read("Doc_0/Pages/Page_0/Content.xml").decode()
    assert cert["licenceNo"] in page and cert["holderName"] in page and cert["surface"]["equipmentCode"] in page
    assert api.session.get(address["url"], timeout=30).content == r.content  # reusable until it expires
    # bad tokens
    r = api.get(f"/api/v1/elicenses/{eid}/file", params={"token": "nope"})
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    other = gov_elicenses.elicense_ids(db)[1]
    token = address["url"].rpartition("token=")[2]
    assert api.get(f"/api/v1/elicenses/{other}/file", params={"token": token}).status_code == 403
    assert api.get(f"/api/v1/elicenses/{eid}/file").status_code == 400  # token required
    srv.servers[0].extras["gov.download_ttl"] = -1
    try:
        expired = api.get(f"/api/v1/elicenses/{eid}/download-address").json()["data"]
    finally:
        del srv.servers[0].extras["gov.download_ttl"]
    r = api.session.get(expired["url"], timeout=30)
    assert r.status_code == 403 and "过期" in r.json()["message"]
    # thumbnails: province only
    thumbs = conforms(
        "getElicenseThumbnails", Api(srv.url(), "province-caller").get(f"/api/v1/elicenses/{eid}/thumbnails")
    )
    assert [t["page"] for t in thumbs] == [1]
    assert media.png_problems(base64.b64decode(thumbs[0]["data"])) == []
    r = Api(srv.url(), "city-caller").get(f"/api/v1/elicenses/{eid}/thumbnails")
    assert r.status_code == 403 and "省" in r.json()["message"]
    # unknown / malformed identifiers
    unknown = KINDS["elicense-id"].generate(random.Random(5))
    for path in ("", "/download-address", "/thumbnails"):
        assert api.get(f"/api/v1/elicenses/{unknown}{path}").status_code == 404
    broken = eid[:-1] + ("0" if eid[-1] != "0" else "1")
    assert api.get(f"/api/v1/elicenses/{broken}").status_code == 400


def test_search_validates_holder(api: Api) -> None:
    r = api.get("/api/v1/elicenses", params={"holderId": "91420100MA4K2ABC1X"})
    assert r.status_code == 400
    citizen = KINDS["citizen-id"].generate(random.Random(3), division="420102")
    assert conforms("searchElicenses", api.get("/api/v1/elicenses", params={"holderId": citizen})) == []
    assert (
        api.get(
            "/api/v1/elicenses", params={"holderId": citizen[:-1] + ("0" if citizen[-1] != "0" else "1")}
        ).status_code
        == 400
    )
    assert api.get("/api/v1/elicenses").status_code == 400
    valid_uscc = gov_model.authority("420100")["uscc"]
    r = api.get("/api/v1/elicenses", params={"holderId": valid_uscc, "holderIdType": "111"})
    assert r.status_code == 400
    assert conforms("searchElicenses", api.get("/api/v1/elicenses", params={"holderId": valid_uscc})) == []


def _new_cert(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    holder = {"name": "武汉市长江物业服务有限公司", "uscc": KINDS["uscc"].generate(rng, division="420102", pair="91")}
    equipment = {
        "catalogueCode": "3110",
        "equipmentName": "曳引驱动乘客电梯",
        "equipmentCode": KINDS["equipment-code"].generate(rng, catalogue="3110"),
        "address": "湖北省武汉市江岸区解放大道1号",
        "internalNo": "A-001",
    }
    return gov_elicenses.make_certificate(
        rng,
        holder=holder,
        natural=False,
        division="420102",
        equipment=equipment,
        authority=gov_model.authority_for("420102"),
        issue_date=dt.date(2025, 3, 1),
        case_no="420100202503010009",
        item_code=ITEM,
    )


def test_aggregate_elicense(srv: RunningServer, api: Api) -> None:
    cert = _new_cert(7)
    first = api.post("/api/v1/elicenses", cert)
    assert first.status_code == 201, first.text
    assert conforms("aggregateElicense", first) == cert
    assert first.headers["Location"].endswith(f"/api/v1/elicenses/{cert['elicenseId']}")
    again = api.post("/api/v1/elicenses", cert)
    assert again.status_code == 200 and conforms("aggregateElicense", again) == cert
    r = api.post("/api/v1/elicenses", {**cert, "status": "revoked"})
    assert r.status_code == 409 and r.json()["code"] == "DUPLICATE"
    assert api.get(f"/api/v1/elicenses/{cert['elicenseId']}").json()["data"] == cert
    assert [
        f["elicenseId"] for f in api.get("/api/v1/elicenses", params={"holderId": cert["holderId"]}).json()["data"]
    ] == [cert["elicenseId"]]
    other = _new_cert(8)
    cases = [
        ({**other, "version": "002"}, "/version"),
        ({**other, "issuerCode": gov_model.authority("420000")["uscc"]}, "/issuerCode"),
        ({**other, "surface": {**other["surface"], "registrationNo": cert["licenceNo"]}}, "/surface/registrationNo"),
        ({**other, "validTo": "2020-01-01"}, "/validTo"),
        (
            {**other, "details": [{**other["details"][0], "equipmentCode": cert["surface"]["equipmentCode"]}]},
            "/details",
        ),
        (
            {**other, "elicenseId": other["elicenseId"][:-1] + ("0" if other["elicenseId"][-1] != "0" else "1")},
            "/elicenseId",
        ),
        ({**other, "holderIdType": "111"}, "/holderId"),
    ]
    for body, path in cases:
        r = api.post("/api/v1/elicenses", body)
        assert r.status_code == 400, (path, r.text)
        assert path in [e["path"] for e in r.json()["errors"]], (path, r.json()["errors"])
    assert Api(srv.url(), "city-caller").post("/api/v1/elicenses", other).status_code == 403


def test_defect_thumbnail_to_city(tmp_path: Path) -> None:
    with running(tmp_path, "gov-platform", seed=1, defects=("thumbnail-to-city",)) as srv:
        eid = gov_elicenses.elicense_ids(other_db(srv))[0]
        r = Api(srv.url(), "city-caller").get(f"/api/v1/elicenses/{eid}/thumbnails")
        assert r.status_code == 200 and conforms("getElicenseThumbnails", r)[0]["mediaType"] == "image/png"


# ------------------------------------------------------------------ SMS gateway
def test_sms_gateway(srv: RunningServer, api: Api) -> None:
    msg = {
        "messageId": "sms-00000001",
        "mobile": "13812345678",
        "caseNo": "420100202503010001",
        "content": "您的特种设备使用登记申请已办结，请登录政务服务网查看。",
        "sentAt": "2025-03-10T10:00:00+08:00",
    }
    first = api.post("/api/v1/sms", msg)
    assert first.status_code == 201 and conforms("sendSms", first)["caseNo"] == msg["caseNo"]
    again = api.post("/api/v1/sms", msg)
    assert again.status_code == 200 and conforms("sendSms", again)["duplicate"] is True
    assert api.post("/api/v1/sms", {**msg, "content": "另一条"}).status_code == 409
    assert api.post("/api/v1/sms", {**msg, "messageId": "sms-00000002", "mobile": "12345"}).status_code == 400
    sent = gov_platform.sms_messages(other_db(srv), msg["caseNo"])
    assert [m["messageId"] for m in sent] == ["sms-00000001"]
    assert Api(srv.url(), "city-caller").post("/api/v1/sms", msg).status_code == 403


def test_every_operation_has_a_handler() -> None:
    from conformance.reference.context import handler_for

    assert all(handler_for(op) is not None for op in OPS.values())


# ------------------------------------------------------------------------------ applications pushed (T5-5), alone
def test_on_its_own_the_platform_pushes_applications_that_become_its_cases(tmp_path: Path) -> None:
    """``--role gov-platform --counterpart licensing=URL``: the acceptance desk pushes fresh applications (valid against
    application.schema.json, authority from T5-1, the applicant a T5-4 user) to the licensing counterpart as client
    gov-platform; each is a case the platform knows (acceptance 201); once reported on, a new application follows."""
    from conformance.check.schema import validator
    from conformance.harness.target import COUNTERPARTS, SimulatorSettings
    from conformance.reference.roles.gov_platform import applications as gov_applications
    from conformance.reference.server import ServerConfig
    from conformance.selfcheck.demo_target import FAST_OUTBOX
    from conformance.simulators import start

    stock = gov_applications.stock()
    with pytest.MonkeyPatch.context() as mp:
        for k, v in FAST_OUTBOX.items():
            mp.setenv(k, v)
        with (
            start(SimulatorSettings(hold_s=2.0), roles=COUNTERPARTS["gov-platform"]) as sims,
            RunningServer(
                ServerConfig(
                    role="gov-platform",
                    db=tmp_path / "gp.sqlite3",
                    seed=None,
                    access_log=False,
                    counterparts=sims.urls(),
                )
            ) as server,
        ):
            pushes = sims.wait_for(
                lambda calls: (
                    [c for c in calls if c.key == "T5-5"][:stock]
                    if len([c for c in calls if c.key == "T5-5"]) >= stock
                    else None
                ),
                timeout=60,
            )
            assert pushes, "no applications pushed"
            app = pushes[0].json
            assert all(
                c.status == 201 and c.client_id == "gov-platform" and validator("application").is_valid(c.json)
                for c in pushes
            ), [(c.status, c.problems) for c in pushes]
            assert len({c.json["caseNo"] for c in pushes}) == stock
            api = Api(server.url(), "licensing-system")
            impl = conforms(
                "queryImplementations",
                api.get(OPS["queryImplementations"].path, params={"deptUscc": app["authority"]["uscc"]}),
            )
            assert impl["total"] == 1 and impl["items"][0]["division"] == app["authority"]["division"]
            user = conforms(
                "getLegalPerson", api.get(OPS["getLegalPerson"].path.replace("{userId}", app["applicant"]["userId"]))
            )
            assert user["uscc"] == app["applicant"]["idNumber"]
            body = {
                "messageId": f"acc-{app['caseNo']}",
                "caseNo": app["caseNo"],
                "itemCode": app["itemCode"],
                "reportedAt": "2025-03-01T09:00:00+08:00",
                "operator": {"name": "周敏", "role": "accept"},
                "opinion": "予以受理。",
                "result": "正式受理",
                "acceptedAt": "2025-03-01T09:00:00+08:00",
                "notice": {
                    "noticeId": f"N-{app['caseNo']}",
                    "caseNo": app["caseNo"],
                    "type": "受理通知书",
                    "title": "受理通知书",
                    "issuedAt": "2025-03-01T09:00:00+08:00",
                    "authority": app["authority"],
                    "content": "已受理。",
                    "format": "OFD",
                },
            }
            r = api.post(OPS["reportAcceptance"].path.replace("{caseNo}", app["caseNo"]), body)
            assert conforms("reportAcceptance", r)["caseNo"] == app["caseNo"] and r.status_code == 201
            more = sims.wait_for(lambda calls: len([c for c in calls if c.key == "T5-5"]) > stock, timeout=60)
            assert more, "no new application after a case was taken"


def test_with_every_role_on_one_server_the_desk_stays_off(tmp_path: Path) -> None:
    """``--role all``: the platform's licensing counterpart is its own licensing role; no applications are made up."""
    from conformance.reference.roles.gov_platform import applications as gov_applications

    with running(tmp_path, "all", seed=None, access_log=False) as server:
        gov = next(s for s in server.servers if s.role == "gov-platform")
        assert gov.counterparts["licensing"].endswith("/licensing") and not gov_applications.active(gov)
        db = other_db(server)
        try:
            assert gov_cases.cases(db) == []
        finally:
            db.close()
