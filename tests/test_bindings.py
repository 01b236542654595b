"""Bindings (docs/bindings.md): the overlay engine, ``binding check`` on the shipped examples and on broken
bindings, and the translations in both directions keeping what an exchange means (an invalid value stays
invalid, a signature verifies exactly when it did)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml

from conformance.binding import overlay
from conformance.binding.check import check
from conformance.binding.deviations import deviations
from conformance.binding.dialect import Dialect, Message
from conformance.binding.model import BindingError, load
from conformance.cli import main
from conformance.crypto import canonical_string, sign
from tests.binding_variants import variant, without_catalogue

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "bindings").glob("*/binding.yaml"))
GATEWAY = ROOT / "bindings" / "gateway" / "binding.yaml"


# ------------------------------------------------------------------ overlays
def test_overlay_actions_update_remove_and_copy_in_order() -> None:
    doc = {"paths": {"/a": {"get": {"operationId": "a", "tags": ["x"]}}}, "info": {"title": "t"}}
    out = overlay.apply(
        doc,
        {
            "overlay": "1.1.0",
            "info": {"title": "o", "version": "1"},
            "actions": [
                {"target": "$.paths", "update": {"/b": {}}},
                {"target": "$.paths['/b']", "copy": "$.paths['/a']"},
                {"target": "$.paths['/a']", "remove": True},
                {"target": "$.paths['/b'].get.tags", "update": "y"},
                {"target": "$.info", "update": {"title": "new"}},
            ],
        },
    )
    assert out == {"paths": {"/b": {"get": {"operationId": "a", "tags": ["x", "y"]}}}, "info": {"title": "new"}}
    assert doc["paths"].keys() == {"/a"}  # the canonical document is not touched


@pytest.mark.parametrize(
    "action",
    [{"target": "$.paths['/missing']", "update": {"x": 1}}, {"target": "$.paths", "copy": "$.nothing"}],
    ids=["target-selects-nothing", "copy-selects-nothing"],
)
def test_an_overlay_action_that_cannot_apply_is_an_error(action: dict) -> None:
    with pytest.raises(overlay.OverlayError):
        overlay.apply(
            {"paths": {"/a": {}}}, {"overlay": "1.1.0", "info": {"title": "o", "version": "1"}, "actions": [action]}
        )


# ------------------------------------------------------------------ binding check
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_the_shipped_examples_pass_binding_check(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["binding", "check", str(path)]) == 0
    assert "往返不变" in capsys.readouterr().out


def _variant(tmp_path: Path, change: dict) -> Path:
    return variant(tmp_path, change)


def test_a_lossy_mapping_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _variant(tmp_path, {"fields": {"equipment": {"equipmentCode": "sbdm", "model": "sbdm"}}})
    assert main(["binding", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "fields/equipment/model" in out and "sbdm" in out and "有损" in out


def test_a_date_form_that_drops_seconds_is_named_with_the_field(tmp_path: Path) -> None:
    path = _variant(tmp_path, {"formats": {"date-time": "%Y%m%d%H%M"}})
    _, problems, _ = check(str(path))
    assert any(p.where.startswith("fixtures/json/") and "updatedAt" in p.zh for p in problems), problems


def test_a_required_field_the_dialect_lacks_is_named(tmp_path: Path) -> None:
    path = _variant(tmp_path, {"fields": {"equipment": {"equipmentCode": None, "model": None}}})
    _, problems, _ = check(str(path))
    named = {p.where for p in problems}
    assert "fields/equipment/equipmentCode" in named  # required: unmapped
    assert any(p.where.startswith("fixtures/json/equipment/") and "/model" in p.zh for p in problems)  # optional: lossy


def test_a_missing_target_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _variant(
        tmp_path, {"fields": {"equipment": {"noSuchField": "x"}}, "values": {"unitt": {"status": {"a": "1"}}}}
    )
    assert main(["binding", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "fields/equipment/noSuchField" in out and "values/unitt" in out


def test_an_overlay_that_drops_an_operation_is_named(tmp_path: Path) -> None:
    path = _variant(tmp_path, {})
    extra = tmp_path / "drop.overlay.yaml"
    extra.write_text(
        yaml.safe_dump(
            {
                "overlay": "1.1.0",
                "info": {"title": "drop", "version": "1"},
                "actions": [{"target": "$.paths['/api/v1/catalogue']", "remove": True}],
            }
        ),
        encoding="utf-8",
    )
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["overlays"]["sharing"] = extra.name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _, problems, _ = check(str(path))
    assert any("getCatalogue" in p.zh for p in problems), problems


def test_a_binding_with_an_unknown_key_is_refused_by_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("binding: tzsb-binding/1\nname: x\nenvelop: {}\n", encoding="utf-8")
    with pytest.raises(BindingError, match="envelop"):
        load(path)


# ------------------------------------------------------------------ translations
@pytest.fixture(scope="module")
def gateway() -> Dialect:
    return Dialect(load(GATEWAY), "sharing", lambda: {"harness": "harness-secret", "signer": "signer-secret"})


def test_a_query_crosses_in_the_dialect_and_back_unchanged(gateway: Dialect) -> None:
    canonical = Message(
        "GET",
        "/api/v1/equipment",
        (("division", "420100"), ("status", "in-use"), ("page", "2"), ("updatedSince", "2024-11-22T09:30:00+08:00")),
        (("Authorization", "Bearer abc"),),
    )
    vendor = gateway.vendor_request(canonical)
    assert vendor.path == "/gw/tzsb/gx/sb/cx"
    assert dict(vendor.query) == {"xzqhdm": "420100", "zt": "1", "pageNo": "2", "gxsjq": "20241122093000"}
    assert vendor.header("X-Access-Token") == "abc" and vendor.header("Authorization") is None
    assert gateway.canonical_request(vendor) == canonical


def test_an_invalid_value_stays_invalid_across(gateway: Dialect) -> None:
    body = {"messageId": "m1", "records": [], "sentAt": "2024-11-22T09:30:00"}  # no offset: invalid canonically
    canonical = Message(
        "POST", "/api/v1/equipment/push", (), (("Content-Type", "application/json"),), orjson.dumps(body)
    )
    vendor = gateway.vendor_request(canonical)
    assert orjson.loads(vendor.body)["sentAt"] == "2024-11-22T09:30:00"
    assert orjson.loads(gateway.canonical_request(vendor).body) == body


def test_an_answer_crosses_back_into_the_canonical_envelope(gateway: Dialect) -> None:
    request = Message("GET", "/api/v1/equipment/110033156201098040")
    record = {"equipmentCode": "110033156201098040", "status": "in-use", "updatedAt": "2025-06-01T10:52:45+08:00"}
    canonical = Message(
        status=200, body=orjson.dumps({"code": "OK", "message": "成功", "data": record, "requestId": "r1"})
    )
    vendor = gateway.vendor_answer(canonical, request)
    assert orjson.loads(vendor.body) == {
        "retCode": "0000",
        "retInfo": "成功",
        "result": {"sbdm": "110033156201098040", "sbzt": "1", "gxsj": "20250601105245"},
        "reqId": "r1",
    }
    assert orjson.loads(gateway.canonical_answer(vendor, request).body) == orjson.loads(canonical.body)


def test_error_field_paths_are_translated_both_ways(gateway: Dialect) -> None:
    request = Message("POST", "/api/v1/equipment/push")
    error = {
        "code": "VALIDATION_FAILED",
        "message": "字段错误",
        "data": None,
        "requestId": "r",
        "errors": [{"path": "/records/0/record", "message": "错"}],
    }
    vendor = gateway.vendor_answer(Message(status=400, body=orjson.dumps(error)), request)
    assert orjson.loads(vendor.body)["retCode"] == "E0422"
    assert orjson.loads(gateway.canonical_answer(vendor, request).body) == error


def _signed(secret: str, method: str = "HMAC-SM3") -> Message:
    ts, nonce = "2024-11-22T09:30:00+08:00", "n0nce-0123456789abcdef"
    sig = sign(method, secret.encode(), canonical_string("GET", "/api/v1/equipment?page=1", ts, nonce, b"", method))
    headers = (("X-Timestamp", ts), ("X-Nonce", nonce), ("X-Signature-Method", method), ("X-Signature", sig))
    return Message("GET", "/api/v1/equipment", (("page", "1"),), headers)


@pytest.mark.parametrize("secret, valid", [("signer-secret", True), ("wrong-secret", False)])
def test_a_signature_verifies_in_the_dialect_exactly_when_it_did(gateway: Dialect, secret: str, valid: bool) -> None:
    vendor = gateway.vendor_request(_signed(secret))
    assert (
        vendor.header("X-Ca-Timestamp") == "1732239000000" and vendor.header("X-Ca-Nonce") == "n0nce-0123456789abcdef"
    )
    text = "\n".join(["GET", "/gw/tzsb/gx/sb/cx", "pageNo=1", "1732239000000", "n0nce-0123456789abcdef", _sm3(b"")])
    assert (sign("HMAC-SM3", b"signer-secret", text.encode()) == vendor.header("X-Ca-Signature")) is valid
    assert vendor.header("X-Ca-Key") == ("signer" if valid else "harness")  # the caller whose secret signed
    back = gateway.canonical_request(vendor)
    assert (back == _signed("signer-secret")) is valid


@pytest.mark.parametrize("app_key", ["harness", "nobody", None])
def test_a_signature_verifies_only_under_the_caller_its_app_key_names(gateway: Dialect, app_key: str | None) -> None:
    """A signature made with signer's secret, sent under another caller's appKey (or none), does not verify: the
    canonical server sees a signature that fails, as a gateway would refuse it."""
    vendor = gateway.vendor_request(_signed("signer-secret"))
    assert vendor.header("X-Ca-Key") == "signer"
    headers = vendor.without("X-Ca-Key") + ((("X-Ca-Key", app_key),) if app_key else ())
    back = gateway.canonical_request(Message(vendor.method, vendor.path, vendor.query, headers, vendor.body))
    assert back.header("X-Ca-Key") is None and back.header("X-Nonce") == "n0nce-0123456789abcdef"
    assert back != _signed("signer-secret")


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SM3"])
def test_both_signature_methods_cross(gateway: Dialect, method: str) -> None:
    vendor = gateway.vendor_request(_signed("signer-secret", method))
    assert vendor.header("X-Ca-Signature-Method") == method
    assert gateway.canonical_request(vendor) == _signed("signer-secret", method)


def _sm3(data: bytes) -> str:
    from conformance.crypto import sm3_hex

    return sm3_hex(data)


def test_the_deviations_of_the_gateway_name_the_profile_clauses() -> None:
    found = {c for d in deviations(load(GATEWAY)) for c in d.clauses}
    assert {"PROFILE.ENVELOPE.1", "PROFILE.DATE.1", "PROFILE.PAGE.1", "PROFILE.TOKEN.1", "PROFILE.SIGN.1"} <= found
    assert not any(c.startswith("PROFILE.STATUS") for c in found)  # the gateway keeps HTTP statuses


def test_a_target_whose_binding_cannot_pair_an_operation_stops_with_exit_2(tmp_path: Path) -> None:
    """A dialect the binding cannot express is an error naming what is missing, never a verdict."""
    without_catalogue(tmp_path)
    target = tmp_path / "t.toml"
    target.write_text('role = "sharing"\n[urls]\nsharing = "http://127.0.0.1:9"\n[binding]\nfile = "binding.yaml"\n')
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--target", str(target), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "getCatalogue" in done.stdout + done.stderr


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def test_mutual_tls_admits_only_the_caller_with_the_binding_certificate(tmp_path: Path) -> None:
    """``auth.mtls``: the harness presents the binding's client certificate on every connection, and a reference
    server speaking the binding refuses a caller without one issued by the binding's CA."""
    from conformance.binding.edge import BindingEdge
    from conformance.client.http import TargetClient, bind_edge, trust_ca
    from conformance.reference.server import RunningServer, ServerConfig

    certs = tmp_path / "certs"
    certs.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=vendor CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        cwd=certs,
    )
    _openssl("req", "-new", *ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=harness", cwd=certs)
    (certs / "ext").write_text("extendedKeyUsage=clientAuth\n", encoding="utf-8")
    _openssl(
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "client.pem",
        "-days",
        "2",
        "-sha256",
        "-extfile",
        "ext",
        cwd=certs,
    )
    path = tmp_path / "binding.yaml"
    path.write_text(
        "binding: tzsb-binding/1\nname: 双向 TLS\nauth:\n  mtls:\n"
        "    cert_file: certs/client.pem\n    key_file: certs/client.key\n    ca_file: certs/ca.pem\n",
        encoding="utf-8",
    )
    cfg = ServerConfig(role="supervision", db=tmp_path / "ref.sqlite3", tls=True, binding=path, access_log=False)
    with RunningServer(cfg) as srv:
        url = srv.url()
        trust_ca(url, str(srv.ca_file))
        try:
            bind_edge(url, BindingEdge(Dialect(load(path), "supervision"), url))
            assert TargetClient(url).get("/health").status == 200
            bind_edge(url, None)
            refused = TargetClient(url).get("/health")
            assert refused.status is None and refused.error, refused
        finally:
            bind_edge(url, None)


def test_mutual_tls_needs_tls(tmp_path: Path) -> None:
    from conformance.reference.server import RunningServer, ServerConfig

    path = tmp_path / "binding.yaml"
    path.write_text(
        "binding: tzsb-binding/1\nname: x\nauth:\n  mtls: {cert_file: c.pem, key_file: c.key, ca_file: ca.pem}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="--tls"):
        RunningServer(ServerConfig(role="supervision", db=tmp_path / "r.db", binding=path, access_log=False))
