"""Reference server, licensing role: the electronic dossier (DB42/T 2279-2024 §7.5, §9), the dossier
query / reference interface, corrected inspection reports, demo data and ``--role all``."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance.check.media import ofd_problems as is_ofd
from conformance.check.media import pdf_problems as is_pdf
from conformance.check.metadata_text import parse_text, validate_text
from conformance.check.xsd import validate_xml
from conformance.codes import check
from conformance.datagen import DataGen
from conformance.reference import outbox
from tests.refserver import Api, running
from tests.test_reference_licensing import (
    GRANTED,
    Officers,
    Stub,
    application,
    assert_bodies_valid,
    drain,
    interface_of,
    ok,
    push,
)

REFUSED = [
    ("accept", "accepted"),
    ("review", "failed"),
    ("decide", "refused"),
    ("conclude", "concluded"),
    ("pre-archive", "passed"),
    ("archive", "archived"),
]
FILE_NAME = re.compile(
    r"^(?P<code>[0-9]{16}[0-9A-HJ-NPQRTUWXY]{18}[0-9]{8})(?P<stage>申请|受理|审批|决定)_(?P<n>[0-9]{2,4})\.(ofd|pdf)$"
)


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.close()


def walk(officers: Officers, case: str, path: list[tuple[str, str]]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for step, outcome in path:
        state = officers.do(case, step, outcome)
    return state


def report(no: str, version: int, **kw: Any) -> dict[str, Any]:
    return {
        "reportNo": no,
        "equipmentCode": "311042015202300123",
        "inspectionType": "监督检验",
        "inspectionOrgUscc": DataGen(3).uscc("420100"),
        "inspectionOrgName": "湖北省特种设备检验检测研究院",
        "inspectionDate": "2025-02-20",
        "conclusion": "合格",
        "version": version,
        "correctionOf": f"objection-{no}-{version}",
        "issuedAt": "2025-02-25T10:00:00+08:00",
        "updatedAt": "2025-02-25T10:00:00+08:00",
        **kw,
    }


def test_dossier_codes_parts_and_per_applicant_sequence(tmp_path: Path) -> None:
    gen = DataGen(11)
    a, b = gen.unit("use", "42"), gen.unit("use", "42")
    with running(tmp_path, "licensing") as srv:
        gov, officers = Api(srv.url(), "gov-platform"), Officers(srv.url())
        cases = [("CASE-SEQ-A1", a), ("CASE-SEQ-B1", b), ("CASE-SEQ-A2", a), ("CASE-SEQ-A3", a)]
        for case, unit in cases:
            ok(push(gov, application(case, unit=unit)), "pushApplication", 201)
            assert officers.harness.get(f"/driver/v1/cases/{case}/dossier").status_code == 404
        codes = {}
        for case, _ in cases:
            path = REFUSED if case == "CASE-SEQ-A2" else GRANTED
            walk(officers, case, path[: path.index(("conclude", "concluded")) + 1])
            codes[case] = ok(officers.harness.get(f"/driver/v1/cases/{case}/dossier"), "getCaseDossier")["dossierCode"]
        year = dt.date.today().year
        for case, unit in cases:
            code = codes[case]
            assert check("dossier-code", code).ok
            assert (code[:2], code[2:10], code[10:16], code[16:34], code[34:38]) == (
                "05",
                "01100000",
                "420100",
                unit["uscc"],
                str(year),
            )
        assert [codes[c][-4:] for c in ("CASE-SEQ-A1", "CASE-SEQ-A2", "CASE-SEQ-A3")] == ["0001", "0002", "0003"]
        assert codes["CASE-SEQ-B1"][-4:] == "0001"
        page = ok(officers.harness.get(f"/api/v1/dossiers?uscc={a['uscc']}&year={year}&size=2"), "queryDossiers")
        assert page["total"] == 3 and len(page["items"]) == 2
        page2 = ok(
            officers.harness.get(f"/api/v1/dossiers?uscc={a['uscc']}&year={year}&size=2&page=2"), "queryDossiers"
        )
        assert [d["dossierCode"] for d in page["items"] + page2["items"]] == sorted(
            codes[c] for c in codes if "-A" in c
        )
        one = ok(officers.harness.get("/api/v1/dossiers?caseNo=CASE-SEQ-B1"), "queryDossiers")
        assert [d["dossierCode"] for d in one["items"]] == [codes["CASE-SEQ-B1"]]
        assert ok(officers.harness.get(f"/api/v1/dossiers?year={year - 1}"), "queryDossiers")["total"] == 0


def test_dossier_numbers_are_unique_under_concurrent_requests(tmp_path: Path) -> None:
    unit = DataGen(12).unit("use", "42")
    n = 12
    with running(tmp_path, "licensing") as srv:
        gov, officers = Api(srv.url(), "gov-platform"), Officers(srv.url())
        cases = [f"CASE-CONC-{i:03d}" for i in range(n)]
        for case in cases:
            ok(push(gov, application(case, unit=unit)), "pushApplication", 201)
            walk(officers, case, GRANTED[:5])
        with ThreadPoolExecutor(max_workers=n) as pool:
            states = list(pool.map(lambda c: Officers(srv.url()).do(c, "conclude", "concluded"), cases))
        seqs = sorted(int(s["dossierCode"][-4:]) for s in states)
        assert seqs == list(range(1, n + 1))
        with ThreadPoolExecutor(max_workers=n) as pool:
            list(pool.map(lambda c: Officers(srv.url()).do(c, "pre-archive", "passed"), cases))
            archived = list(pool.map(lambda c: Officers(srv.url()).do(c, "archive", "archived"), cases))
        assert sorted(s["dossierCode"] for s in archived) == sorted(s["dossierCode"] for s in states)
        assert len({s["dossierCode"] for s in archived}) == n


def test_dossier_metadata_register_and_files(tmp_path: Path) -> None:
    unit = DataGen(13).unit("use", "42")
    with running(tmp_path, "licensing") as srv:
        gov, officers = Api(srv.url(), "gov-platform"), Officers(srv.url())
        ok(push(gov, application("CASE-DOS-1", unit=unit)), "pushApplication", 201)
        officers.do("CASE-DOS-1", "accept", "correction", "formal-review", opinion="产品合格证：不清晰")
        ok(push(gov, {**application("CASE-DOS-1", unit=unit), "messageId": "msg-CASE-DOS-1-2"}), "pushApplication", 201)
        first = walk(officers, "CASE-DOS-1", GRANTED)
        ok(push(gov, application("CASE-DOS-2", unit=unit)), "pushApplication", 201)
        time.sleep(1.1)  # archive times one second apart
        second = walk(officers, "CASE-DOS-2", REFUSED)
        archive_times = [next(h["at"] for h in s["history"] if h["step"] == "archive") for s in (first, second)]
        for state in (first, second):
            code = state["dossierCode"]
            dossier = ok(officers.harness.get(f"/api/v1/dossiers/{code}"), "getDossier")
            assert dossier == ok(Api(srv.url(), "gov-platform").get(f"/api/v1/dossiers/{code}"), "getDossier")
            assert dossier == ok(officers.harness.get(f"/driver/v1/cases/{state['caseNo']}/dossier"), "getCaseDossier")
            assert dossier["status"] == "已归档" and dossier["referenceUrl"] == f"{srv.url()}/api/v1/dossiers/{code}"
            meta = dossier["metadata"]
            assert (meta["createdAt"], meta["updatedAt"]) == tuple(archive_times)  # Table 2 rows 8–9: unit level
            assert (meta["uscc"], meta["unitName"], meta["dossierCode"]) == (unit["uscc"], unit["name"], code)
            xml = officers.harness.get(f"/api/v1/dossiers/{code}/metadata.xml")
            assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
            assert validate_xml(xml.content, "dossier-metadata") == []
            assert (
                f"<dossierCode>{code}</dossierCode>" in xml.text
                and f"<createdTime>{meta['createdAt']}</createdTime>" in xml.text
            )
            text = officers.harness.get(dossier["metadataTxtUrl"][len(srv.url()) :])  # §9.3.2: the text form beside
            assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
            assert validate_text(text.content) == [] and parse_text(text.content)[0] == meta
            reg = officers.harness.get(f"/api/v1/dossiers/{code}/register.xml")
            assert reg.status_code == 200 and validate_xml(reg.content, "dossier-register") == [], reg.text
            assert "<dossierStatus>已归档</dossierStatus>" in reg.text
            counters: dict[str, int] = {}
            for f in dossier["files"]:
                m = FILE_NAME.match(f["fileName"])
                assert m and m["code"] == code and m["stage"] == f["stage"], f["fileName"]
                counters[f["stage"]] = counters.get(f["stage"], 0) + 1
                assert int(m["n"]) == counters[f["stage"]]  # 01, 02, … per part, no gaps
                assert f["fileName"] in reg.text
                r = officers.harness.get(f["url"][len(srv.url()) :])
                assert (
                    r.status_code == 200
                    and hashlib.sha256(r.content).hexdigest() == f["sha256"] == hashlib.sha256(r.content).hexdigest()
                    and len(r.content) == f["size"]
                )
                assert (is_ofd(r.content) if f["format"] == "OFD" else is_pdf(r.content)) == []
                assert r.headers["content-type"].startswith(
                    {"OFD": "application/ofd", "PDF": "application/pdf"}[f["format"]]
                )
                assert "attachment" in r.headers["content-disposition"]
        granted = ok(officers.harness.get(f"/api/v1/dossiers/{first['dossierCode']}"), "getDossier")
        titles = [(f["stage"], f["title"]) for f in granted["files"]]
        assert titles == [
            ("申请", "申请书"),
            ("申请", "申请材料"),
            ("申请", "申请书"),
            ("申请", "申请材料"),
            ("受理", "受理意见"),
            ("受理", "补正通知单"),
            ("受理", "受理意见"),
            ("受理", "受理通知书"),
            ("审批", "审批意见"),
            ("决定", "决定意见"),
            ("决定", "准予许可决定书"),
            ("决定", "证书版式文件"),
            ("决定", "办理意见流转单"),
        ]
        refused = ok(officers.harness.get(f"/api/v1/dossiers/{second['dossierCode']}"), "getDossier")
        assert ("决定", "不予许可决定书") in [(f["stage"], f["title"]) for f in refused["files"]]
        assert "证书版式文件" not in [f["title"] for f in refused["files"]]
        code = first["dossierCode"]
        assert officers.harness.get(f"/api/v1/dossiers/{code}/files/{code}申请_99.ofd").status_code == 404
        assert officers.harness.get(f"/api/v1/dossiers/{code[:-4]}9999").status_code == 404
        assert officers.harness.get("/api/v1/dossiers/0501").status_code == 400
        assert Api(srv.url(), "reader").get(f"/api/v1/dossiers/{code}").status_code == 403
        assert officers.harness.delete(f"/api/v1/dossiers/{code}").status_code == 405  # read-only (§7.5.6 a 3)


def test_corrected_inspection_report_is_stored_idempotently_and_joins_the_case(tmp_path: Path) -> None:
    with running(tmp_path, "licensing") as srv:
        gov, officers = Api(srv.url(), "gov-platform"), Officers(srv.url())
        insp = Api(srv.url(), "inspection-system")
        ok(push(gov, application("CASE-RPT-1", reportNo="R4201-2025-000777")), "pushApplication", 201)
        r = insp.post(
            "/api/v1/inspection-reports",
            {k: v for k, v in report("R4201-2025-000777", 2).items() if k != "correctionOf"},
        )
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/correctionOf"
        body = report("R4201-2025-000777", 2)
        first = ok(insp.post("/api/v1/inspection-reports", body), "receiveCorrectedInspectionReport", 201)
        assert first["messageId"] == body["correctionOf"] and first["duplicate"] is False
        again = ok(insp.post("/api/v1/inspection-reports", body), "receiveCorrectedInspectionReport", 200)
        assert again["duplicate"] is True and again["receivedAt"] == first["receivedAt"]
        assert insp.post("/api/v1/inspection-reports", {**body, "conclusion": "不合格"}).status_code == 409
        assert insp.post("/api/v1/inspection-reports", report("R4201-2025-000777", 1)).status_code == 409
        ok(
            insp.post("/api/v1/inspection-reports", report("R4201-2025-000888", 3)),
            "receiveCorrectedInspectionReport",
            201,
        )
        assert gov.post("/api/v1/inspection-reports", body).status_code == 403
        walk(officers, "CASE-RPT-1", GRANTED[:6])
        dossier = ok(officers.harness.get("/driver/v1/cases/CASE-RPT-1/dossier"), "getCaseDossier")
        materials = [f for f in dossier["files"] if f["title"] == "申请材料"]
        assert len(materials) == 2  # the pushed material and the corrected report
        reg = officers.harness.get(f"/api/v1/dossiers/{dossier['dossierCode']}/register.xml")
        assert "检验报告 R4201-2025-000777（更正第2版）" in reg.text


def test_natural_person_case_is_archived_without_a_dossier_code(tmp_path: Path, stub: Stub) -> None:
    body = application("CASE-NATURAL-1", item="01100000-09-01", catalogue="2310")
    body["applicant"] = {
        "type": "natural-person",
        "name": "王小明",
        "idType": "111",
        "idNumber": "11010519491231002X",
        "contactPerson": "王小明",
        "contactPhone": "139****5678",
    }
    with running(tmp_path, "licensing", counterparts=stub.counterparts()) as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), body), "pushApplication", 201)
        state = walk(officers, "CASE-NATURAL-1", GRANTED)
        assert state["state"] == "archived" and "dossierCode" not in state and "applicantUscc" not in state
        r = officers.harness.get("/driver/v1/cases/CASE-NATURAL-1/dossier")
        assert r.status_code == 404 and "自然人" in r.json()["message"]
        drain(srv)
        calls = stub.all()
        assert [interface_of(p, path)[0] for p, path, _ in calls] == [
            "T5-7",
            "T5-8",
            "T5-8",
            "T5-8",
            "T5-8",
            "T5-11",
            "T5-10",
        ]
        assert calls[5][2]["holderIdType"] == "111"
        assert_bodies_valid(calls)


def test_seeded_demo_data(tmp_path: Path) -> None:
    # how long seeding takes is recorded by benchmarks/bench_seeding.py, not judged here
    with running(tmp_path, "licensing", seed=3) as srv:
        db = srv.servers[0].db
        states = {r[0]: r[1] for r in db.all("SELECT state, COUNT(*) FROM lic_cases GROUP BY state")}
        assert sum(states.values()) >= 30
        assert {
            "submitted",
            "awaiting-correction",
            "not-accepted",
            "accepted",
            "reviewed",
            "suspended",
            "granted",
            "certified",
            "issued",
            "concluded",
            "to-be-filed",
            "catalogued",
            "archived",
        } <= set(states)
        assert outbox.calls(srv.servers[0]) == []  # demo history is not re-reported
        api = Api(srv.url())
        page = ok(api.get("/api/v1/dossiers?size=500"), "queryDossiers")
        assert page["total"] >= 20 and len({d["dossierCode"] for d in page["items"]}) == page["total"]
        per_unit: dict[tuple[str, str], list[int]] = {}
        for d in page["items"]:
            assert check("dossier-code", d["dossierCode"]).ok
            per_unit.setdefault((d["dossierCode"][16:34], d["dossierCode"][34:38]), []).append(
                int(d["dossierCode"][-4:])
            )
        for seqs in per_unit.values():
            assert sorted(seqs) == list(range(1, len(seqs) + 1))
        archived = [d for d in page["items"] if d["status"] == "已归档"]
        assert len(archived) >= 10
        for d in archived[:4]:
            assert (
                validate_xml(api.get(f"/api/v1/dossiers/{d['dossierCode']}/metadata.xml").content, "dossier-metadata")
                == []
            )
            reg = api.get(f"/api/v1/dossiers/{d['dossierCode']}/register.xml").content
            assert validate_xml(reg, "dossier-register") == [], reg.decode()
        case = db.one("SELECT case_no FROM lic_cases WHERE state = 'archived' AND registration_no IS NOT NULL")[0]
        state = ok(api.get(f"/driver/v1/cases/{case}"), "getCaseState")
        assert (
            check("registration-no", state["registrationNo"]).ok and check("equipment-code", state["equipmentCode"]).ok
        )


def test_role_all_with_the_real_counterparts(tmp_path: Path) -> None:
    with running(tmp_path, "all") as srv:
        base = srv.url("licensing")
        gov, officers = Api(base, "gov-platform"), Officers(base)
        ok(push(gov, application("CASE-ALL-01")), "pushApplication", 201)
        officers.do("CASE-ALL-01", "accept", "correction", "formal-review", opinion="产品合格证：不清晰")
        ok(push(gov, {**application("CASE-ALL-01"), "messageId": "msg-CASE-ALL-01-2"}), "pushApplication", 201)
        officers.do("CASE-ALL-01", "accept", "accepted")
        officers.do("CASE-ALL-01", "review", "passed")
        ok(officers.special("CASE-ALL-01", "start", role="decide"), "performSpecialProcedure")
        ok(officers.special("CASE-ALL-01", "end", role="decide"), "performSpecialProcedure")
        state = walk(officers, "CASE-ALL-01", GRANTED[2:])
        lic = next(s for s in srv.servers if s.role == "licensing")
        deadline = time.monotonic() + 120  # only stops a hang: delivery takes well under a second
        while any(e["status"] == "pending" and e["path"] != "/api/v1/registrations" for e in outbox.calls(lic)):
            assert time.monotonic() < deadline, outbox.calls(lic)
            time.sleep(0.03)
        entries = outbox.calls(lic)
        assert [e["status"] for e in entries] == ["sent"] * len(entries), entries
        elicense = Api(srv.url("gov-platform")).get(f"/api/v1/elicenses/{state['elicenseId']}")
        assert elicense.status_code == 200 and elicense.json()["data"]["licenceNo"] == state["registrationNo"]
        assert next(e for e in entries if e["path"] == "/api/v1/registrations")["lastStatus"] == 201
        drain(srv)
        registration = Api(srv.url("supervision")).get(f"/api/v1/registrations/{state['registrationNo']}")
        assert registration.status_code == 200 and registration.json()["data"]["caseNo"] == "CASE-ALL-01"


def test_pdf_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZSB_DOSSIER_FORMAT", "PDF")
    with running(tmp_path, "licensing") as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), application("CASE-PDF-1")), "pushApplication", 201)
        state = walk(officers, "CASE-PDF-1", GRANTED[:6])
        dossier = ok(officers.harness.get(f"/api/v1/dossiers/{state['dossierCode']}"), "getDossier")
        assert {f["format"] for f in dossier["files"]} == {"PDF"}
        assert all(FILE_NAME.match(f["fileName"]) and f["fileName"].endswith(".pdf") for f in dossier["files"])
        first = officers.harness.get(dossier["files"][0]["url"][len(srv.url()) :])
        assert is_pdf(first.content) == [] and first.headers["content-type"].startswith("application/pdf")
        assert (
            validate_xml(
                officers.harness.get(f"/api/v1/dossiers/{state['dossierCode']}/register.xml").content,
                "dossier-register",
            )
            == []
        )
