"""Callbacks through a binding (docs/bindings.md "Callbacks"): the translation of a callback's body both ways, the
binding check of callbacks, and the sharing platform's change notification sent by the reference serving the
gateway binding and read back by the harness's subscriber."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
import yaml

from conformance.binding.callbacks import CallbackEdge, Callbacks
from conformance.binding.check import check
from conformance.binding.dialect import Message
from conformance.binding.model import BindingError, load
from conformance.check.schema import validator, validator_at
from conformance.client import Evidence
from conformance.client.http import send_bounded
from conformance.client.token import read_token, token_form, token_path
from conformance.contract import documents as contracts
from conformance.contract.datasets import data_sets, notification
from conformance.contract.openapi import role_callbacks
from conformance.harness.target import Credentials, Target, bind_target
from conformance.suites.support.checks import Delivery, subscriber
from conformance.suites.support.reporting import receiver
from conformance.suites.support.sharing import Sandbox

ROOT = Path(__file__).resolve().parents[1]
GATEWAY = ROOT / "bindings" / "gateway" / "binding.yaml"
NOTIFICATION = contracts.load_data(contracts.FIXTURES / "json" / "sharing" / "valid-notification.json")


@pytest.fixture(scope="module")
def sharing() -> Callbacks:
    return Callbacks(load(GATEWAY), "sharing")


def _fields(schema: str) -> dict[str, str]:
    return load(GATEWAY).maps.names[schema]  # type: ignore[return-value]


def test_the_notification_is_a_callback_of_every_subscribe_operation() -> None:
    parents = {cb.parent.data_set for cb in role_callbacks("sharing") if cb.operation.operation_id == "notifyChanges"}
    assert parents == {ds.name for ds in data_sets().values() if ds.subscribe is not None}
    assert notification().operation_id == "notifyChanges"


def test_a_notification_crosses_in_the_dialect_and_back_unchanged(sharing: Callbacks) -> None:
    vendor = sharing.translate(NOTIFICATION, "notifyChanges", forward=True)
    names, change = _fields("sharing#/$defs/notification"), _fields("sharing#/$defs/change")
    assert set(vendor) == {names[k] for k in NOTIFICATION}
    assert vendor[names["sentAt"]] == "20241125150005"  # the dialect's compact date in Beijing time
    item = vendor[names["changes"]][0]
    record = item[change["record"]]
    registration = _fields("use-registration")
    # the record is typed by the data set the notification names: its fields and codes are the dialect's
    assert record[registration["registrationNo"]] == NOTIFICATION["changes"][0]["record"]["registrationNo"]
    assert record[registration["status"]] == "01" and "registrationNo" not in record
    assert sharing.translate(vendor, "notifyChanges", forward=False) == NOTIFICATION


def test_a_vendor_named_field_reaches_canonical_and_an_unknown_one_stays_visible(sharing: Callbacks) -> None:
    vendor = sharing.translate(NOTIFICATION, "notifyChanges", forward=True)
    vendor["kzzd"] = "厂商扩展字段"  # a field the binding does not know
    vendor[_fields("sharing#/$defs/notification")["changes"]][0]["bgbz"] = "x"
    back = sharing.translate(vendor, "notifyChanges", forward=False)
    assert back["subscriptionId"] == NOTIFICATION["subscriptionId"]  # dyid → subscriptionId
    assert back["kzzd"] == "厂商扩展字段" and back["changes"][0]["bgbz"] == "x"
    errors = validator("sharing#/$defs/notification").errors(back)
    assert {e.path for e in errors} >= {"/kzzd", "/changes/0/bgbz"}, errors  # so the suite refuses it


def test_an_invalid_value_stays_invalid_across(sharing: Callbacks) -> None:
    bad = copy.deepcopy(NOTIFICATION)
    bad["sentAt"] = "2024-11-25 15:00:05"  # no offset: not the canonical form, crosses as it is
    vendor = sharing.translate(bad, "notifyChanges", forward=True)
    assert vendor[_fields("sharing#/$defs/notification")["sentAt"]] == bad["sentAt"]
    back = sharing.translate(vendor, "notifyChanges", forward=False)
    assert not validator("sharing#/$defs/notification").is_valid(back)


def test_a_request_carries_its_body_and_bearer_token_in_the_dialect() -> None:
    inspection = Callbacks(load(GATEWAY), "inspection")
    report = contracts.load_data(contracts.FIXTURES / "json" / "inspection-report" / "valid-corrected-version-2.json")
    canonical = Message(
        "POST",
        "/tzsb-callback/api/v1/inspection-reports",
        (),
        (("Authorization", "Bearer tok-1"), ("Content-Type", "application/json"), ("Content-Length", "1")),
        orjson.dumps(report),
    )
    vendor = inspection.vendor_request(canonical, "pushCorrectedReport")
    assert vendor.header("X-Access-Token") == "tok-1" and vendor.header("Authorization") is None
    assert vendor.header("Content-Length") == str(len(vendor.body))
    assert vendor.path == canonical.path  # a callback goes to the URL the receiver gave
    back = inspection.canonical_request(vendor, "pushCorrectedReport")
    assert back.header("Authorization") == "Bearer tok-1"
    assert orjson.loads(back.body) == report


def test_an_unknown_callback_is_an_error_naming_it(sharing: Callbacks) -> None:
    with pytest.raises(BindingError, match="pushCorrectedReport"):
        sharing.translate(NOTIFICATION, "pushCorrectedReport", forward=True)


def _variant(tmp_path: Path, actions: list[dict[str, Any]]) -> Path:
    """The gateway binding with one more overlay of the sharing document."""
    for file in GATEWAY.parent.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    overlay = yaml.safe_load((tmp_path / "sharing.overlay.yaml").read_text(encoding="utf-8"))
    overlay["actions"] += actions
    (tmp_path / "sharing.overlay.yaml").write_text(yaml.safe_dump(overlay, allow_unicode=True), encoding="utf-8")
    return tmp_path / "binding.yaml"


def test_an_overlay_that_renames_the_callback_is_named(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        [
            {
                "target": "$.components.callbacks.ChangeNotification['{$request.body#/callbackUrl}'].post",
                "update": {"operationId": "tuiSongBianGeng"},
            }
        ],
    )
    _, problems, _ = check(str(path))
    assert any("notifyChanges" in p.en and p.where == "overlays/sharing" for p in problems), problems
    with pytest.raises(BindingError, match="notifyChanges"):
        Callbacks(load(path), "sharing")
    target = Target(name="t", role="sharing", urls={"sharing": "http://127.0.0.1:9"}, binding=path)
    with pytest.raises(BindingError, match="notifyChanges"):
        bind_target(target)  # the run stops before any request


def test_a_lossy_callback_mapping_is_named(tmp_path: Path) -> None:
    path = _variant(tmp_path, [])
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["fields"]["sharing#/$defs/change"]["changedAt"] = None  # the dialect has no change time
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _, problems, _ = check(str(path))
    assert any(p.where == "fixtures/json/sharing/valid-notification.json" and "/changedAt" in p.en for p in problems)


def test_a_corrected_report_crosses_from_the_sending_edge_to_the_receiver_in_the_dialect() -> None:
    """The sender's edge (the reference's outbox) asks the receiver's token endpoint and pushes the report in the
    dialect; the harness's receiver answers both in it and reads the report back canonically, the wire beside."""
    callbacks = Callbacks(load(GATEWAY), "inspection")
    report = contracts.load_data(contracts.FIXTURES / "json" / "inspection-report" / "valid-corrected-version-2.json")
    target = Target(name="t", role="inspection", urls={"inspection": "http://127.0.0.1:9"}, binding=GATEWAY)
    evidence = Evidence()
    path = "/api/v1/inspection-reports"
    with (
        receiver(
            target, evidence, path, lambda body: {"messageId": "m-1"}, role="inspection", callback="pushCorrectedReport"
        ) as rcv,
        requests.Session() as session,
    ):
        base = rcv.url.removesuffix(path)
        edge = CallbackEdge(callbacks, base, "pushCorrectedReport")
        grant = session.prepare_request(
            requests.Request("POST", base + token_path(), data=token_form("inspection-system", "s"))
        )
        answered = send_bounded(session, grant, edge=edge)
        token = read_token(answered.status, answered.content)
        assert token is not None  # the vendor's token answer read back as RFC 6749's
        assert answered.wire is not None and "/gw/auth/token" in answered.wire["url"]  # asked in the dialect
        push = session.prepare_request(
            requests.Request(
                "POST",
                rcv.url,
                data=orjson.dumps(report),
                headers={"Authorization": f"Bearer {token.value}", "Content-Type": "application/json"},
            )
        )
        r = send_bounded(session, push, edge=edge)
        posts = rcv.with_wire()
    assert r.status == 201 and r.json()["code"] == "OK" and r.json()["data"] == {"messageId": "m-1"}
    assert r.wire is not None and '"retCode":"0000"' in r.wire["response_body"]  # answered in the dialect
    assert r.wire["request_headers"]["X-Access-Token"] == "***" and "Authorization" not in r.wire["request_headers"]
    assert len(posts) == 1  # the token request was answered as one, not recorded as the callback
    (call_path, headers, _, body), wire = posts[0]
    assert call_path == f"/tzsb-callback{path}"  # to the URL the receiver gave, not a vendor path
    assert body == report and headers["Authorization"] == f"Bearer {token.value}"
    assert wire is not None and "X-Access-Token" in wire["request_headers"]
    assert [e.wire for e in evidence.exchanges] == [wire]


# ---------------------------------------------------------------------------- through the reference


def _wait(receiver: Any, key: str, seconds: float) -> list[Delivery]:
    """The deliveries once one names ``key`` (bounded in time: the loop ends at the deadline whatever came)."""
    deadline = time.monotonic() + seconds
    got: list[Delivery] = []
    while time.monotonic() < deadline:
        got = receiver.deliveries()
        if any(isinstance(d.body, dict) and any(c.get("key") == key for c in d.body.get("changes", [])) for d in got):
            break
        time.sleep(0.05)
    return got


def test_the_reference_serving_the_gateway_notifies_in_the_dialect(tmp_path: Path) -> None:
    """Subscribe through the harness's client with the target's binding, push a record, and receive its
    notification: on the wire in the vendor's names, read back canonical and valid against the callback's schema."""
    from conformance.reference.server import RunningServer, ServerConfig

    cfg = ServerConfig(role="sharing", db=tmp_path / "ref.sqlite3", binding=GATEWAY, access_log=False)
    with RunningServer(cfg) as srv:
        target = Target(
            name="gateway",
            role="sharing",
            urls={"sharing": srv.url()},
            credentials=Credentials("harness", "harness-secret"),
            binding=GATEWAY,
        )
        bind_target(target)
        client = target.http_client()
        evidence = Evidence()
        ds = data_sets()["units"]
        assert ds.subscribe is not None
        box = Sandbox(client, "42")
        with subscriber(target, evidence, [], "/tzsb-callback", "订阅通知无法接收", "callback") as receiver:
            records = box.setup(ds.name, 1)
            r = client.post(ds.subscribe.path, {"dataSet": ds.name, "callbackUrl": receiver.url})
            assert r.status == 201, r.content[:300]
            assert r.wire is not None and "dyid" not in r.json()["data"]  # the answer came back canonical
            key = records[0][ds.key]
            box.upload(ds.name, records, "推送新单位记录")
            got = _wait(receiver, key, 30)
            box.cleanup()
    ours = [d for d in got if isinstance(d.body, dict) and any(c["key"] == key for c in d.body["changes"])]
    assert ours, [d.raw[:200] for d in got]
    note = ours[0]
    body_uri = next(cb.operation.body_uri for cb in role_callbacks("sharing") if cb.parent is ds.subscribe)
    assert body_uri is not None
    assert validator_at(body_uri).errors(note.body) == []
    assert note.body["dataSet"] == ds.name and note.body["subscriptionId"] == r.json()["data"]["subscriptionId"]
    change = next(c for c in note.body["changes"] if c["key"] == key)
    assert change["record"]["uscc"] == records[0]["uscc"] and change["record"]["unitType"] == records[0]["unitType"]
    # the negative: what crossed the wire was the vendor's form, not the canonical one
    assert note.wire_body is not None
    wire = orjson.loads(note.wire_body)
    names, unit = _fields("sharing#/$defs/notification"), _fields("unit")
    assert set(wire) == {names[k] for k in note.body} and not set(wire) & set(note.body)
    crossed = next(c for c in wire[names["changes"]] if c[_fields("sharing#/$defs/change")["key"]] == key)
    record = crossed[_fields("sharing#/$defs/change")["record"]]
    assert record[unit["uscc"]] == records[0]["uscc"] and "uscc" not in record
    assert record[unit["unitType"]] != records[0]["unitType"]  # the dialect's code
    # the evidence keeps the wire form beside the canonical reading
    inbound = [e for e in evidence.exchanges if e.direction == "inbound"]
    assert inbound and all(e.wire is not None for e in inbound)
    assert any(names["changes"] in (e.wire or {}).get("request_body", "") for e in inbound)
    assert all('"changes"' in (e.request_body or "") for e in inbound)
