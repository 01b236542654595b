"""A binding with a static key (``auth.api_key``, docs/bindings.md): the caller's key crosses in the vendor's header
where the contract sends a bearer token, no token is asked for, and a check that needs the token exchange is
not-offered: it leaves a clause of the standards 未测 and does not decide a profile clause the binding departs from
(按绑定). Never a 符合 from a declaration, never a failure of the target from the harness's missing exchange."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance.binding.deviations import deviations
from conformance.binding.dialect import Dialect, Message
from conformance.binding.model import load
from conformance.client.http import NotOffered
from conformance.reference.server import RunningServer, ServerConfig
from conformance.report.verdicts import Outcome, clause_verdicts
from conformance.selfcheck.target_file import write_target
from tests.binding_variants import PATHS_ENVELOPE, variant


def _static_key_binding(folder: Path) -> Path:
    """The paths-and-envelope example with a static key header instead of the token exchange."""
    return variant(folder, {"auth": {"api_key": {"header": "X-Api-Key"}}}, PATHS_ENVELOPE)


def test_the_key_crosses_in_its_header_and_the_token_exchange_is_not_offered(tmp_path: Path) -> None:
    dialect = Dialect(load(_static_key_binding(tmp_path)), "supervision")
    vendor = dialect.vendor_request(Message("GET", "/api/v1/health", (), (("Authorization", "Bearer k-123"),)))
    assert vendor.header("X-Api-Key") == "k-123" and vendor.header("Authorization") is None
    assert dialect.canonical_request(vendor).header("Authorization") == "Bearer k-123"
    token = Message("POST", "/oauth/token", (), (("Content-Type", "application/x-www-form-urlencoded"),), b"a=b")
    with pytest.raises(NotOffered, match="静态密钥"):
        dialect.vendor_request(token)


def test_a_static_key_with_a_token_form_is_refused_by_the_schema(tmp_path: Path) -> None:
    path = _static_key_binding(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["auth"]["bearer"] = {"header": "X-Token"}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=r"binding\.schema\.json"):
        load(path)


def test_a_not_offered_check_does_not_decide_a_departed_profile_clause_and_leaves_others_untested() -> None:
    token = ["auth.token"]
    catalogue = [
        {"id": "PROFILE.TOKEN.1", "level": "shall", "verification": "automated", "interfaces": token},
        {"id": "SHARE.SEC.AUTH.2", "level": "shall", "verification": "automated", "interfaces": token},
        {"id": "PROFILE.TOKEN.2", "level": "shall", "verification": "automated", "interfaces": token},
        {"id": "SHARE.SEC.AUTH.1", "level": "shall", "verification": "automated"},
        {"id": "PROFILE.STATUS.6", "level": "shall", "verification": "automated"},
        {"id": "PROFILE.STATUS.2", "level": "shall", "verification": "automated"},
    ]
    why = "绑定声明厂商系统没有此交换（issueToken，以静态密钥认证）"
    outcomes = [
        Outcome("t::token", "not-offered", ("PROFILE.TOKEN.1", "SHARE.SEC.AUTH.2"), reason=why, absent="auth.token"),
        Outcome("t::expiry", "not-offered", ("PROFILE.TOKEN.2", "SHARE.SEC.AUTH.1"), reason=why, absent="auth.token"),
        Outcome("t::leak", "failed", ("PROFILE.TOKEN.2",)),
        Outcome("t::forged", "passed", ("SHARE.SEC.AUTH.1",)),
        Outcome("t::hostile", "not-offered", ("PROFILE.STATUS.6",), reason=why, absent="auth.token"),
        Outcome("t::unnamed", "not-offered", ("PROFILE.STATUS.2",), reason=why),  # an exchange nobody named
        Outcome("t::status", "passed", ("PROFILE.STATUS.2",)),
    ]
    departs = {"PROFILE.TOKEN.1": "静态密钥", "PROFILE.TOKEN.2": "静态密钥"}
    got = {v.id: v for v in clause_verdicts(catalogue, outcomes, deviations=departs)}
    assert got["PROFILE.TOKEN.1"].verdict == "按绑定"
    assert got["SHARE.SEC.AUTH.2"].verdict == "未测" and why in (got["SHARE.SEC.AUTH.2"].reason or "")
    assert got["PROFILE.TOKEN.2"].verdict == "不符合"  # a failed check still fails, whatever the binding says
    # a clause that does not ask for the token exchange is decided by the checks that could run, and by nothing else
    assert got["SHARE.SEC.AUTH.1"].verdict == "符合"
    assert got["PROFILE.STATUS.6"].verdict == "未测"
    assert got["PROFILE.STATUS.2"].verdict == "未测"  # not-offered without a named exchange never lets a clause pass
    plain = {v.id: v.verdict for v in clause_verdicts(catalogue, outcomes[:1])}
    assert plain["PROFILE.TOKEN.1"] == "未测"  # without the binding's departure a missing exchange decides nothing


def _run(target: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--target", str(target), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=out.parent,
    )


def test_a_role_through_a_static_key_binding_is_judged_without_a_token(tmp_path: Path) -> None:
    binding = _static_key_binding(tmp_path)
    cfg = ServerConfig(role="supervision", db=tmp_path / "ref.db", seed=1, access_log=False, binding=binding)
    with RunningServer(cfg) as server:
        target = write_target(
            tmp_path / "t.toml", {"supervision": server.url("supervision")}, "supervision", binding=binding
        )
        done = _run(target, tmp_path / "out")
        assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
        report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
        preflight = {i["key"]: i for i in report["preflight"]["checks"]}
        assert preflight["token"]["status"] == "ok" and "静态密钥" in json.dumps(preflight["token"], ensure_ascii=False)
        tests = report["tests"]
        assert not [t["nodeid"] for t in tests if t["outcome"] in ("failed", "error")]
        offered = [t for t in tests if t["outcome"] == "not-offered"]
        assert offered and all("静态密钥" in (t["reason"] or "") for t in offered)
        verdicts = {c["id"]: c for c in report["clauses"]}
        declared = {c for d in deviations(load(binding)) for c in d.clauses}
        assert {"PROFILE.TOKEN.1", "PROFILE.TOKEN.2"} <= declared
        assert verdicts["PROFILE.TOKEN.1"]["verdict"] == "按绑定"
        assert verdicts["SHARE.SEC.AUTH.2"]["verdict"] == "未测"  # the standards' token clause is not met by a key
        assert not [c for c, v in verdicts.items() if v["verdict"] == "符合" and c in declared]

        # a key the target refuses stops the run, as a refused token request does: nothing judged on that refusal
        text = target.read_text(encoding="utf-8").replace('client_secret = "harness-secret"', 'client_secret = "nope"')
        assert text != target.read_text(encoding="utf-8")
        wrong = tmp_path / "wrong.toml"
        wrong.write_text(text, encoding="utf-8")
        refused = _run(wrong, tmp_path / "out-wrong")
        assert refused.returncode == 1, refused.stdout[-3000:]
        assert "拒绝客户端 harness 的密钥" in refused.stdout
        stopped = json.loads((tmp_path / "out-wrong" / "report.json").read_text("utf-8"))
        assert not [t for t in stopped["tests"] if t["outcome"] in ("passed", "failed")]
        assert not [c for c in stopped["clauses"] if c["verdict"] in ("符合", "按绑定", "不符合")]


def test_declared_key_scopes_must_be_scopes_of_the_contract(tmp_path: Path) -> None:
    binding = _static_key_binding(tmp_path)
    target = write_target(tmp_path / "t.toml", {"supervision": "http://127.0.0.1:9"}, "supervision", binding=binding)
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("[credentials]\n", '[credentials]\nscopes = ["no:such:scope"]\n'), encoding="utf-8")
    done = _run(target, tmp_path / "out")
    assert done.returncode == 2 and "no:such:scope" in done.stdout + done.stderr
