"""``tzsb-conform run`` end to end on loopback: suites, verdicts, report files, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conformance.harness.runner import run_suites
from tests.refserver import running


def _run(url: str, out: Path, role: str = "supervision") -> int:
    os.environ["TZSB_CLIENT_SECRET"] = "harness-secret"
    return run_suites(
        target=url,
        role=role,
        profile="quick",
        client_id="harness",
        features=[],
        out=out,
        answers=None,
        lang="zh",
        extra=["-p", "no:randomly"],
    )


def test_run_against_the_reference_server_writes_a_passing_report(tmp_path: Path) -> None:
    """A target file with every client the suites ask for: the supervision role passes, exit 0."""
    from conformance.selfcheck.demo_target import demo_target

    with running(tmp_path, "supervision") as srv:
        code = run_suites(
            target=str(demo_target(tmp_path / "t.toml", srv, "supervision")),
            role="supervision",
            profile="quick",
            client_id=None,
            features=[],
            out=tmp_path / "r1",
            answers=None,
            lang="zh",
        )
    report = json.loads((tmp_path / "r1" / "report.json").read_text(encoding="utf-8"))
    assert report["schema"] == "tzsb-report/1"
    tested = {c["id"]: c["verdict"] for c in report["clauses"] if c["tests"]}
    assert tested["SHARE.SEC.AUTH.1"] == "符合" and tested["PROFILE.STATUS.4"] == "符合"
    for name in ("report.html", "junit.xml", "manifest.json", "evidence.json"):
        assert (tmp_path / "r1" / name).is_file(), name
    assert (tmp_path / "r1" / "allure-results").is_dir()
    html = (tmp_path / "r1" / "report.html").read_text(encoding="utf-8")
    assert "逐条结论" in html and "预检" in html
    assert "<link" not in html and 'src="http' not in html and "@import" not in html  # opens with no network
    manifest = json.loads((tmp_path / "r1" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) >= {"report.json", "report.html", "evidence.json"}
    from conformance.report.verify import verify_bundle

    signed = verify_bundle(tmp_path / "r1", report["run"]["signer"]["fingerprint"])  # the fingerprint the report names
    assert signed.ok and signed.listed == len(manifest["files"]), signed.as_dict()
    assert report["preflight"]["fatal"] == []
    assert report["summary"]["certification"] == "通过" and code == 0, report["summary"]


def test_a_url_alone_leaves_what_needs_other_clients_untested(tmp_path: Path) -> None:
    """A bare URL gives the harness one client: checks that need the limited, short-lived … clients cannot run, so
    their clauses are 未测 with the missing client named, never 符合; the run exits 1."""
    with running(tmp_path, "supervision") as srv:
        code = _run(srv.url(), tmp_path / "r1")
    report = json.loads((tmp_path / "r1" / "report.json").read_text(encoding="utf-8"))
    untested = [c for c in report["clauses"] if c["verdict"] == "未测" and c["verification"] == "automated"]
    assert untested and all(c["reason"] for c in untested), untested
    assert any("clients." in (c["reason"] or "") for c in untested), [c["reason"] for c in untested]
    assert report["summary"]["interface"] == "不通过" and code == 1


def test_a_defect_is_reported_as_not_conforming(tmp_path: Path) -> None:
    with running(tmp_path, "supervision", defects=("accept-missing-auth", "no-body-limit")) as srv:
        code = _run(srv.url(), tmp_path / "r2")
    report = json.loads((tmp_path / "r2" / "report.json").read_text(encoding="utf-8"))
    verdicts = {c["id"]: c["verdict"] for c in report["clauses"]}
    assert verdicts["SHARE.SEC.AUTH.1"] == "不符合"
    assert verdicts["PROFILE.STATUS.4"] == "不符合"
    assert code == 1
