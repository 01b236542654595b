"""Reference server, licensing role: every licensing defect of ``reference/defects/declared.py`` changes the
behaviour it describes (and the same check passes without it, see the other licensing tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.check.metadata_text import validate_text
from conformance.check.xsd import validate_xml
from conformance.codes import check
from conformance.datagen import DataGen
from conformance.reference.defects import DEFECTS
from tests.refserver import Api, running
from tests.test_reference_licensing import GRANTED, Officers, Stub, application, drain, interface_of, ok, push

LICENSING_DEFECTS = {d.name for d in DEFECTS if d.role == "licensing"}
TESTED = {
    "accept-unknown-item",
    "accept-piping-move-out",
    "step-out-of-order",
    "step-wrong-role",
    "no-notice",
    "dossier-code-17-uscc",
    "dossier-seq-restart",
    "dossier-seq-skip",
    "metadata-missing-element",
    "metadata-txt-gbk",
    "file-naming-wrong",
    "registration-no-malformed",
    "certify-after-refusal",
}


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.close()


def test_every_licensing_defect_is_covered() -> None:
    assert LICENSING_DEFECTS == TESTED


def _server(tmp_path: Path, defect: str, **kw: object):  # type: ignore[no-untyped-def]
    return running(tmp_path, "licensing", defects=(defect,), **kw)


def _concluded(officers: Officers, gov: Api, case: str, **kw: object) -> dict:
    ok(push(gov, application(case, **kw)), "pushApplication", 201)
    for step, outcome in GRANTED[:5]:
        officers.do(case, step, outcome)
    r = officers.step(case, "conclude", "concluded")  # with a broken dossier code the answer breaks the contract
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _pushed(resp: object, what: str) -> None:
    """The defective server accepts the push (201)."""
    assert resp.status_code == 201, f"{what}: {resp.text}"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("defect", "code", "accepted"),
    [
        ("accept-unknown-item", "01100000-11-01", True),
        ("accept-unknown-item", "01100000-03-14", True),
        ("accept-unknown-item", "01100000-07-04", False),
        ("accept-piping-move-out", "01100000-07-04", True),
        ("accept-piping-move-out", "01100000-08-06", False),
        ("accept-piping-move-out", "01100000-11-01", False),
        ("none", "01100000-07-04", False),
        ("none", "01100000-11-01", False),
    ],
)
def test_item_check_of_the_handler(defect: str, code: str, accepted: bool) -> None:
    from conformance.reference.errors import ApiError
    from conformance.reference.roles.licensing.workflow import check_item

    body = application(
        "CASE-UNIT",
        item=code,
        catalogue="8100" if code.split("-")[1] == "07" else "2310" if code.split("-")[1] == "08" else "3110",
    )
    try:
        check_item(body, frozenset({defect}))
    except ApiError as exc:
        assert not accepted and exc.status == 400 and exc.errors[0]["path"] == "/itemCode"
    else:
        assert accepted


def test_accept_unknown_item(tmp_path: Path) -> None:
    with _server(tmp_path, "accept-unknown-item") as srv:
        gov = Api(srv.url(), "gov-platform")
        assert push(gov, application("CASE-D-PIPE", item="01100000-07-04", catalogue="8100")).status_code == 400
        _pushed(push(gov, application("CASE-D-UNKNOWN", item="01100000-11-01")), "accept-unknown-item")
        _pushed(push(gov, application("CASE-D-UNKNOWN2", item="01100000-03-14")), "accept-unknown-item")


def test_accept_piping_move_out(tmp_path: Path) -> None:
    with _server(tmp_path, "accept-piping-move-out") as srv:
        gov = Api(srv.url(), "gov-platform")
        assert push(gov, application("CASE-D-CYL", item="01100000-08-06", catalogue="2310")).status_code == 400
        assert push(gov, application("CASE-D-UNKNOWN", item="01100000-11-01")).status_code == 400
        _pushed(
            push(gov, application("CASE-D-PIPE", item="01100000-07-04", catalogue="8100")), "accept-piping-move-out"
        )


def test_step_out_of_order(tmp_path: Path) -> None:
    with _server(tmp_path, "step-out-of-order") as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), application("CASE-D-ORDER")), "pushApplication", 201)
        state = officers.do("CASE-D-ORDER", "certify", "certified")  # 制证 before 受理
        assert state["state"] == "certified"
        assert officers.step("CASE-D-ORDER", "decide", "granted", "review").status_code == 403  # roles still checked


@pytest.mark.parametrize("defect", ["certify-after-refusal", None])
def test_certify_after_refusal(tmp_path: Path, defect: str | None) -> None:
    """With the switch, a case refused at 决定 (awaiting 办结) can still be certified; without it 409."""
    with running(tmp_path, "licensing", defects=(defect,) if defect else ()) as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), application("CASE-D-REFUSED")), "pushApplication", 201)
        for step, outcome in GRANTED[:2]:
            officers.do("CASE-D-REFUSED", step, outcome)
        officers.do("CASE-D-REFUSED", "decide", "refused")
        r = officers.step("CASE-D-REFUSED", "certify", "certified")
        assert r.status_code == (200 if defect else 409), r.text


def test_step_wrong_role(tmp_path: Path) -> None:
    with _server(tmp_path, "step-wrong-role") as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), application("CASE-D-ROLE")), "pushApplication", 201)
        state = officers.do("CASE-D-ROLE", "accept", "accepted", "archive")
        assert state["state"] == "accepted" and state["history"][-1]["operator"]["role"] == "archive"
        assert officers.step("CASE-D-ROLE", "decide", "granted").status_code == 409  # order still checked


def test_no_notice(tmp_path: Path, stub: Stub) -> None:
    with _server(tmp_path, "no-notice", counterparts=stub.counterparts()) as srv:
        officers, gov = Officers(srv.url()), Api(srv.url(), "gov-platform")
        ok(push(gov, application("CASE-D-NOTICE")), "pushApplication", 201)
        officers.do("CASE-D-NOTICE", "accept", "accepted")
        ok(push(gov, application("CASE-D-NOTICE2")), "pushApplication", 201)
        officers.do("CASE-D-NOTICE2", "accept", "not-accepted")
        for case in ("CASE-D-NOTICE", "CASE-D-NOTICE2"):
            assert ok(officers.harness.get(f"/driver/v1/cases/{case}/notices"), "getCaseNotices") == []
        drain(srv)
        acceptances = [b for p, path, b in stub.all() if interface_of(p, path)[0] == "T5-7"]
        assert len(acceptances) == 2 and all(
            "fileName" not in b["notice"] and "sha256" not in b["notice"] for b in acceptances
        )


def test_dossier_code_17_uscc(tmp_path: Path) -> None:
    with _server(tmp_path, "dossier-code-17-uscc") as srv:
        officers = Officers(srv.url())
        state = _concluded(officers, Api(srv.url(), "gov-platform"), "CASE-D-17")
        assert len(state["dossierCode"]) == 41 and not check("dossier-code", state["dossierCode"]).ok


def _sequences(tmp_path: Path, defect: str) -> list[str]:
    unit = DataGen(21).unit("use", "42")
    with _server(tmp_path, defect) as srv:
        officers, gov = Officers(srv.url()), Api(srv.url(), "gov-platform")
        return [_concluded(officers, gov, f"CASE-D-SEQ-{i}", unit=unit)["dossierCode"][-4:] for i in range(3)]


def test_dossier_seq_restart(tmp_path: Path) -> None:
    assert _sequences(tmp_path, "dossier-seq-restart") == ["0001", "0001", "0001"]


def test_dossier_seq_skip(tmp_path: Path) -> None:
    assert _sequences(tmp_path, "dossier-seq-skip") == ["0001", "0003", "0005"]


def test_metadata_missing_element(tmp_path: Path) -> None:
    with _server(tmp_path, "metadata-missing-element") as srv:
        officers = Officers(srv.url())
        code = _concluded(officers, Api(srv.url(), "gov-platform"), "CASE-D-META")["dossierCode"]
        xml = officers.harness.get(f"/api/v1/dossiers/{code}/metadata.xml")
        assert xml.status_code == 200 and "<dossierCode>" not in xml.text
        assert validate_xml(xml.content, "dossier-metadata") != []
        assert ok(officers.harness.get(f"/api/v1/dossiers/{code}"), "getDossier")["metadata"]["dossierCode"] == code


def test_metadata_txt_gbk(tmp_path: Path) -> None:
    with _server(tmp_path, "metadata-txt-gbk") as srv:
        officers = Officers(srv.url())
        dossier = _concluded(officers, Api(srv.url(), "gov-platform"), "CASE-D-TXT")
        text = officers.harness.get(f"/api/v1/dossiers/{dossier['dossierCode']}/metadata.txt")
        assert text.status_code == 200 and text.content.decode("gbk").startswith("类别：")
        assert [i.layer for i in validate_text(text.content)] == ["parser"]


def test_file_naming_wrong(tmp_path: Path) -> None:
    with _server(tmp_path, "file-naming-wrong") as srv:
        officers = Officers(srv.url())
        code = _concluded(officers, Api(srv.url(), "gov-platform"), "CASE-D-NAMES")["dossierCode"]
        dossier = ok(officers.harness.get(f"/api/v1/dossiers/{code}"), "getDossier")
        pattern = re.compile(re.escape(code) + r"(申请|受理|审批|审查|决定)_[0-9]{2,4}\.(ofd|pdf)")
        assert dossier["files"] and not any(pattern.fullmatch(f["fileName"]) for f in dossier["files"])
        assert officers.harness.get(dossier["files"][0]["url"][len(srv.url()) :]).status_code == 200


def test_registration_no_malformed(tmp_path: Path) -> None:
    with _server(tmp_path, "registration-no-malformed") as srv:
        officers = Officers(srv.url())
        ok(push(Api(srv.url(), "gov-platform"), application("CASE-D-REGNO")), "pushApplication", 201)
        state: dict = {}
        for step, outcome in GRANTED[:4]:
            state = (
                officers.do("CASE-D-REGNO", step, outcome)
                if step != "certify"
                else officers.step("CASE-D-REGNO", step, outcome).json()["data"]
            )
        assert state["registrationNo"] and not check("registration-no", state["registrationNo"]).ok
