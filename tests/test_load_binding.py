"""``tzsb-conform load`` through a binding (docs/bindings.md "Load through a binding"): the reference server speaks
the gateway example's dialect; a short load with the target's binding sends every request in the dialect and reads
every answer back canonically (no request fails, the operations recorded are the contract's), while the same load
with the binding taken out of its configuration fails (so the first cannot pass without the translation); a binding
the load cannot use stops the run with exit 2 before anything is sent. A few seconds of load each, on loopback."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.binding.model import BindingError, load
from conformance.contract.openapi import role_operations
from conformance.load import analysis, engine
from conformance.load.cli import main
from conformance.load.dialects import Translation, file_sha256
from conformance.load.profiles import LOADTESTS_DIR
from conformance.selfcheck.target_file import write_target
from tests.binding_variants import variant, without_catalogue
from tests.refserver import running

ROOT = Path(__file__).resolve().parents[1]
GATEWAY = ROOT / "bindings" / "gateway" / "binding.yaml"
SHORT = ["--profile", "smoke", "--users", "4", "--spawn-rate", "4", "--warmup", "1", "--duration", "3"]
SHARING_GROUPS = ("sharing.get", "sharing.query", "sharing.changes", "sharing.push")


@pytest.fixture(scope="module")
def bound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The reference server's sharing role, demo data, speaking the gateway binding's dialect."""
    with running(tmp_path_factory.mktemp("bound"), "sharing", seed=1, access_log=False, binding=GATEWAY) as srv:
        yield srv


def _target(path: Path, url: str, binding: Path | None) -> Path:
    target = write_target(path, {"sharing": url}, "sharing", binding=binding)
    target.write_text(
        target.read_text(encoding="utf-8") + '\n[load]\nconcurrency = 4\nwrites = "reversible"\n', encoding="utf-8"
    )
    return target


def _doc(out: Path) -> dict[str, Any]:
    return json.loads((out / "load.json").read_text(encoding="utf-8"))


def _raw(out: Path) -> dict[str, Any]:
    return json.loads((out / "raw.json").read_text(encoding="utf-8"))


def _sent(raw: dict[str, Any]) -> int:
    """Every request the recorder saw: warm-up, window and stop phases."""
    window = sum(
        o["ok"] + o["throttled"] + sum(o["errors"].values()) for g in raw["groups"].values() for o in g.values()
    )
    return window + sum(sum(c) for phase in ("warm", "after") for c in raw[phase].values())


@pytest.fixture(scope="module")
def through(bound: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """One load run of the gateway-speaking server with the target's binding (one Locust process)."""
    tmp = tmp_path_factory.mktemp("through")
    target = _target(tmp / "target.toml", bound.url("sharing"), GATEWAY)
    out = tmp / "out"
    return main(["--target", str(target), *SHORT, "--out", str(out)]), out


def test_the_load_goes_through_the_binding_and_no_request_fails(through: tuple[int, Path]) -> None:
    code, out = through
    doc, raw = _doc(out), _raw(out)
    assert code == (0 if doc["summary"]["verdict"] == "通过" else 1), doc["summary"]
    assert not doc["run"]["aborted"], doc["run"]["aborted"]
    # no request failed, in any phase (the token request in the warm-up included)
    assert raw["errors"] == [], raw["errors"]
    assert all(c[1] == 0 for phase in ("warm", "after") for c in raw[phase].values()), (raw["warm"], raw["after"])
    assert raw["warm"]["auth.token"][0] >= 1, raw["warm"]
    for name in SHARING_GROUPS:
        g = doc["groups"][name]
        assert g["ok"] > 0 and g["errorCount"] == 0 and g["untranslatable"] == 0, (name, g)
    # recorded under the contract's operation ids, never the dialect's paths
    ops = {op for g in raw["groups"].values() for op in g}
    assert ops and ops <= {o.operation_id for o in role_operations("sharing")}, ops
    assert doc["groups"]["sharing.push"]["records"] > 0 and not doc["leftovers"], "pushed records are deleted again"
    # every request sent was translated: the recorder's count and the translation's agree
    binding = doc["run"]["target"]["binding"]
    assert binding["translation"]["requests"] == _sent(raw) > 0, (binding["translation"], _sent(raw))
    assert binding["translation"]["meanUs"] > 0
    # the report names the binding as report.json of the suites does
    assert binding["name"] == load(GATEWAY).name
    assert binding["sha256"] == hashlib.sha256(GATEWAY.read_bytes()).hexdigest()
    assert {c for d in binding["deviations"] for c in d["clauses"]} >= {"PROFILE.ENVELOPE.1", "PROFILE.TOKEN.1"}
    assert binding["sha256"] in (out / "load.html").read_text(encoding="utf-8")
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["binding"]["sha256"] == binding["sha256"] and Path(config["binding"]["file"]) == GATEWAY
    # the preflight crossed the binding too: its evidence keeps the dialect's wire form
    evidence = json.loads((out / "preflight-evidence.json").read_text(encoding="utf-8"))
    assert any((x.get("wire") or {}).get("url", "").split("?")[0].endswith("/gw/auth/token") for x in evidence)


def test_through_the_binding_with_a_master_and_a_worker(bound: Any, tmp_path: Path) -> None:
    """A worker process receives the binding with the master's configuration and translates on its own."""
    target = _target(tmp_path / "target.toml", bound.url("sharing"), GATEWAY)
    out = tmp_path / "dist"
    code = main(["--target", str(target), *SHORT, "--workers", "1", "--out", str(out)])
    doc, raw = _doc(out), _raw(out)
    assert code == (0 if doc["summary"]["verdict"] == "通过" else 1), doc["summary"]
    assert sorted(p["kind"] for p in doc["generator"]["procs"]) == ["master", "worker"]
    assert raw["errors"] == [] and all(doc["groups"][g]["ok"] > 0 for g in SHARING_GROUPS), raw["errors"]
    assert doc["run"]["target"]["binding"]["translation"]["requests"] == _sent(raw) > 0


def test_the_same_load_without_the_binding_fails(through: tuple[int, Path], tmp_path: Path) -> None:
    """The run's own configuration (its preflight's data), the binding taken out: the users speak the canonical
    contract to a server that speaks the dialect, and what they record fails — so the run above passed because of
    the translation."""
    _, out = through
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    for key in ("binding", "results", "secretEnv"):
        config.pop(key)
    result = engine.run(
        locustfile=LOADTESTS_DIR / "locustfile_sharing.py",
        config=config,
        out=tmp_path / "canonical",
        secret="harness-secret",
    )
    assert result.raw is not None, result.aborted
    raw = result.raw
    assert raw["translation"]["requests"] == 0
    loaded = {g: ops for g, ops in raw["groups"].items() if g in SHARING_GROUPS}
    seen = {g: {op: (o["ok"], o["errors"]) for op, o in ops.items()} for g, ops in loaded.items()}
    ok = sum(o["ok"] for ops in loaded.values() for o in ops.values())
    kinds = {k for ops in loaded.values() for o in ops.values() for k, n in o["errors"].items() if n}
    assert ok == 0 and kinds, seen
    # answers of the server that the canonical reading refuses, not a server that was not there
    assert all(k.startswith("status-") or k == "invalid" for k in kinds), seen


def _variant(tmp_path: Path, change: dict[str, Any]) -> Path:
    return variant(tmp_path, change)


def _drop_catalogue(tmp_path: Path) -> str:
    without_catalogue(tmp_path)
    return "getCatalogue"


def _mutual_tls(tmp_path: Path) -> str:
    raw = yaml.safe_load(GATEWAY.read_text(encoding="utf-8"))
    _variant(tmp_path, {"auth": {**raw["auth"], "mtls": {"cert_file": "client.pem", "key_file": "client.key"}}})
    return "auth.mtls"


@pytest.mark.parametrize("breakage", [_drop_catalogue, _mutual_tls], ids=["operation-dropped", "mutual-tls"])
def test_a_binding_the_load_cannot_use_stops_it_with_exit_2(
    breakage: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the preflight: not one connection reaches the target."""
    named = breakage(tmp_path)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        target = _target(
            tmp_path / "t.toml", f"http://127.0.0.1:{listener.getsockname()[1]}", tmp_path / "binding.yaml"
        )
        out = tmp_path / "out"
        code = main(["--target", str(target), *SHORT, "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "绑定不可用" in err and "the binding cannot be used" in err and named in err, err
        assert not out.exists()
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing connected


def test_a_process_refuses_a_binding_file_that_is_not_the_one_the_run_started_with(tmp_path: Path) -> None:
    path = _variant(tmp_path, {})
    started_with = file_sha256(path)
    path.write_text(path.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    with pytest.raises(BindingError, match="not the one the run was started with"):
        Translation.open(str(path), started_with, {"sharing": "http://127.0.0.1:9"}, list)
    assert Translation.open(str(path), file_sha256(path), {"sharing": "http://127.0.0.1:9"}, list).dialects


def test_a_request_the_binding_cannot_express_is_not_an_error_of_the_target() -> None:
    op = {"ok": 10, "throttled": 0, "records": 0, "bytes": 0, "timeouts": 0, "users": ["u"], "hist": {"5": 10}}
    metrics = analysis.group_metrics({"getEquipment": {**op, "errors": {"untranslatable": 3}}}, 1.0)
    assert metrics["errorCount"] == 0 and metrics["untranslatable"] == 3 and metrics["errorRate"] == 0.0
