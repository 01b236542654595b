"""``tzsb-conform audit --target``: the shared data sets pulled through a sharing target's change feed
(conformance/harness/pull.py), then audited (docs/data-audit.md, "Pulling from a sharing target").

The reference sharing server runs on loopback, seeded over its push interface with records of every data set,
one of them updated and some deleted; what the pull writes and what the audit counts must equal what the server
holds (read back over its paged query), with and without a defect that breaks data quality. A credential that is
refused, a target that is unreachable, and feeds that never end (a hostile loopback server) give 未测 with the
reason, never 符合, and the pull stops.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conformance.audit.run import MET, NOT_MET, UNTESTED
from conformance.cli import main
from conformance.clock import now_iso
from conformance.contract.datasets import data_sets
from conformance.datagen import DataGen
from conformance.datagen.sharing import Builder
from conformance.selfcheck.target_file import write_target
from tests.refserver import Api, running

PER_SET = 3
UNREADABLE = ("personnel", "accidents", "inspection-reports", "use-registrations")  # the "reader" client's


def _accepted(api: Api, name: str, items: list[tuple[str, str, Any]]) -> None:
    body = {
        "messageId": f"pull-{secrets.token_hex(6)}",
        "sentAt": now_iso(),
        "records": [{"operation": op, "key": key, "record": rec} for op, key, rec in items],
    }
    r = api.post(f"{data_sets()[name].path}/push", body)
    assert r.status_code == 200, r.text
    receipt = r.json()["data"]
    assert receipt["accepted"] == len(items), receipt


def seed(base: str) -> dict[str, int]:
    """Records of every data set pushed (with what they refer to), one equipment record updated, one record of each
    of two data sets deleted; the DELETE changes applied per data set."""
    api = Api(base)
    builder = Builder("42", seed=7)
    sent: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in data_sets()}
    for name in data_sets():
        prereq, records = builder.make(name, PER_SET)
        for ds_name, rec in [*prereq, *((name, r) for r in records)]:
            key = rec[data_sets()[ds_name].key]
            if key not in sent[ds_name]:
                _accepted(api, ds_name, [("UPLOAD", key, rec)])
                sent[ds_name][key] = rec
    key, rec = next(iter(sent["equipment"].items()))
    _accepted(api, "equipment", [("UPDATE", key, {**rec, "updatedAt": now_iso()})])
    deleted: dict[str, int] = {}
    for name in ("personnel", "accidents"):
        _accepted(api, name, [("DELETE", next(iter(sent[name])), None)])
        deleted[name] = 1
    return deleted


def held(base: str) -> dict[str, dict[str, dict[str, Any]]]:
    """What the server holds, read over its paged query (not the feed): data set → key → record."""
    api = Api(base)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, ds in data_sets().items():
        records: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            data = api.get(ds.path, params={"page": page, "size": 100}).json()["data"]
            records |= {r[ds.key]: r for r in data["items"]}
            if page * 100 >= data["total"]:
                break
            page += 1
        assert len(records) == data["total"]
        out[name] = records
    return out


def audit(tmp: Path, *args: str) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
    out = tmp / "out"
    code = main(["audit", *args, "--out", str(out), "--no-progress"])
    report = json.loads((out / "audit.json").read_text(encoding="utf-8")) if (out / "audit.json").exists() else {}
    folder = Path(args[args.index("--pull-dir") + 1]) if "--pull-dir" in args else out / "pulled"
    pull_file = folder / "pull.json"
    account = json.loads(pull_file.read_text(encoding="utf-8")) if pull_file.is_file() else None
    return code, report, account


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["checks"]}


def expected_code(report: dict[str, Any]) -> int:
    return 1 if report["verdict"] == NOT_MET else 0


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, int]]]:
    with running(tmp_path_factory.mktemp("clean"), "sharing", access_log=False) as srv:
        yield srv, seed(srv.url())


def test_a_pull_counts_what_the_server_holds(clean: tuple[Any, dict[str, int]], tmp_path: Path) -> None:
    srv, deleted = clean
    target = write_target(tmp_path / "target.toml", {"sharing": srv.url()}, "sharing")
    code, report, account = audit(tmp_path, "--target", str(target))
    assert account is not None and account["complete"] and report["pulled"] == account
    assert code == expected_code(report)
    assert srv.url() in report["input"]
    truth = held(srv.url())
    checks = by_id(report)
    folder = Path(account["folder"])
    for d in account["dataSets"]:
        name, ds = d["name"], data_sets()[d["name"]]
        assert d["status"] == "complete" and d["reason"] is None, d
        lines = (folder / d["file"]).read_text(encoding="utf-8").splitlines()
        pulled = {r[ds.key]: r for r in map(json.loads, lines)}
        assert len(lines) == len(pulled) == d["records"] == len(truth[name]) > 0, name
        assert pulled == truth[name], name  # the latest version of every key, deletions gone, as the server gives it
        assert d["deletions"] == deleted.get(name, 0)
        assert d["changes"] == len(truth[name]) + 2 * d["deletions"] + (name == "equipment")  # upload(+update)(+delete)
        entry = next(x for x in report["dataSets"] if x["name"] == name)
        assert entry["present"] and entry["records"] == len(truth[name])
        assert checks[f"uniqueness/{name}/{ds.key}/key"]["denominator"] == len(truth[name])
        assert checks[f"uniqueness/{name}/{ds.key}/key"]["failing"] == 0
        assert checks[f"normativeness/{name}/-/record"]["failing"] == 0  # the server validated every push
    assert checks["accuracy/units/uscc/identifier"]["failing"] == 0


def test_a_defect_of_the_data_shows_in_the_audit(tmp_path: Path) -> None:
    """wrong-uscc-check: every USCC the server answers with has a wrong check character; the feed carries it."""
    with running(tmp_path / "srv", "sharing", defects=("wrong-uscc-check",), access_log=False) as srv:
        seed(srv.url())
        truth = held(srv.url())
        target = write_target(tmp_path / "target.toml", {"sharing": srv.url()}, "sharing")
        code, report, account = audit(tmp_path, "--target", str(target))
    assert account is not None and account["complete"]
    assert code == 1 and report["verdict"] == NOT_MET
    checks = by_id(report)
    units = checks["accuracy/units/uscc/identifier"]
    assert units["denominator"] == units["failing"] == len(truth["units"]) > 0
    assert units["verdict"] == NOT_MET
    use = checks["accuracy/equipment/useUnitUscc/identifier"]
    assert use["failing"] == sum(1 for r in truth["equipment"].values() if r.get("useUnitUscc")) > 0


def test_a_credential_that_may_read_some_data_sets(clean: tuple[Any, dict[str, int]], tmp_path: Path) -> None:
    """The "reader" client may read equipment and units only: the others are refused (403), their checks 未测
    with the reason; a pull folder reused from an earlier pull keeps nothing of it."""
    srv, _ = clean
    target = write_target(tmp_path / "target.toml", {"sharing": srv.url()}, "sharing")
    pull_dir = tmp_path / "pulled"
    first, _, _ = audit(tmp_path, "--target", str(target), "--pull-dir", str(pull_dir))
    assert first in (0, 1) and (pull_dir / "personnel.jsonl").is_file()
    code, report, account = audit(tmp_path, "--target", str(target), "--pull-dir", str(pull_dir), "--client", "reader")
    assert account is not None and account["client"] == "reader"
    status = {d["name"]: d for d in account["dataSets"]}
    assert {n for n, d in status.items() if d["status"] == "complete"} == {"equipment", "units"}
    for name in UNREADABLE:
        assert status[name]["status"] == "refused" and status[name]["httpStatus"] == 403
        assert not (pull_dir / f"{name}.jsonl").exists()  # not the earlier pull's file either
    assert account["complete"]  # what the credential may not read is not missing from the pull
    assert code == expected_code(report)
    for c in report["checks"]:
        if c["dataSet"] in UNREADABLE:
            assert c["verdict"] in (UNTESTED, None) and "403" in c["untested"] and "拉取被拒绝" in c["untested"], c
    assert by_id(report)["uniqueness/units/uscc/key"]["verdict"] == MET


def test_a_refused_credential_gives_untested_never_met(clean: tuple[Any, dict[str, int]], tmp_path: Path) -> None:
    srv, _ = clean
    target = write_target(tmp_path / "target.toml", {"sharing": srv.url()}, "sharing")
    text = target.read_text(encoding="utf-8").replace('client_secret = "harness-secret"', 'client_secret = "wrong"', 1)
    target.write_text(text, encoding="utf-8")
    code, report, account = audit(tmp_path, "--target", str(target))
    assert code == 2
    assert account is not None and all(d["status"] == "refused" for d in account["dataSets"])
    assert {d["httpStatus"] for d in account["dataSets"]} == {401}
    _all_untested(report, "拉取被拒绝")


def test_an_unreachable_target_gives_untested_never_met(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound, never listening: every connection is refused
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        target = write_target(tmp_path / "target.toml", {"sharing": url}, "sharing")
        code, report, account = audit(tmp_path, "--target", str(target))
    finally:
        sock.close()
    assert code == 2
    assert account is not None and not account["complete"]
    assert all(d["status"] == "failed" and d["httpStatus"] is None for d in account["dataSets"])
    _all_untested(report, "拉取失败")


def _all_untested(report: dict[str, Any], words: str) -> None:
    assert report["verdict"] == UNTESTED and report["summary"][MET] == report["summary"][NOT_MET] == 0
    assert all(not d["present"] for d in report["dataSets"])
    for c in report["checks"]:
        assert c["verdict"] in (UNTESTED, None) and words in c["untested"], c


class EndlessFeed:
    """A hostile sharing target on loopback: tokens for anyone, and an equipment feed that always says it has more:
    ``endless`` new changes and a new cursor every page, ``repeating`` the same page again, ``empty`` no changes and a
    new cursor. Every other path is 404."""

    def __init__(self, mode: str) -> None:
        self.pages = 0
        gen = DataGen(3)
        key = data_sets()["equipment"].key
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, doc: Any) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(200, {"access_token": "t", "token_type": "Bearer", "expires_in": 600})

            def do_GET(self) -> None:
                if not self.path.startswith(data_sets()["equipment"].path + "/changes"):
                    self._send(404, {"code": "NOT_FOUND", "message": "没有", "data": None, "requestId": "r"})
                    return
                owner.pages += 1
                n = 1 if mode == "repeating" else owner.pages
                rec = gen.equipment("42")
                item = {"seq": n, "operation": "UPLOAD", "key": rec[key], "changedAt": now_iso(), "record": rec}
                items = [] if mode == "empty" else [item]
                data = {"items": items, "nextCursor": f"c{n}", "hasMore": True}
                self._send(200, {"code": "OK", "message": "成功", "data": data, "requestId": f"r{n}"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> EndlessFeed:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


#: mode → (pages served, pages applied, records held when stopped, words of the reason)
ENDLESS = {
    "endless": (5, 5, 5, "pull bound reached"),
    "repeating": (2, 1, 1, "not strictly increasing"),
    "empty": (1, 1, 0, "does not advance"),
}


@pytest.mark.parametrize("mode", list(ENDLESS))
def test_a_feed_that_never_ends_is_bounded(mode: str, tmp_path: Path) -> None:
    served, applied, records, words = ENDLESS[mode]
    with EndlessFeed(mode) as feed:
        target = write_target(tmp_path / "target.toml", {"sharing": feed.url}, "sharing")
        code, report, account = audit(tmp_path, "--target", str(target), "--pull-pages", "5")
        asked = feed.pages
    assert code == 2 and account is not None and not account["complete"]
    eq = next(d for d in account["dataSets"] if d["name"] == "equipment")
    assert eq["status"] == "incomplete" and words in eq["reason"]
    assert eq["file"] is None and not (Path(account["folder"]) / "equipment.jsonl").exists()
    assert (asked, eq["pages"], eq["records"]) == (served, applied, records)
    others = [d for d in account["dataSets"] if d["name"] != "equipment"]
    assert all(d["status"] == "failed" and d["httpStatus"] == 404 for d in others)
    assert report["verdict"] == UNTESTED
    assert "拉取不完整" in (tmp_path / "out" / "audit.html").read_text(encoding="utf-8")
    for c in report["checks"]:
        if c["dataSet"] == "equipment":
            assert c["verdict"] in (UNTESTED, None) and "拉取未完成" in c["untested"], c


def test_a_time_bound_stops_an_endless_feed(tmp_path: Path) -> None:
    with EndlessFeed("endless") as feed:
        target = write_target(tmp_path / "target.toml", {"sharing": feed.url}, "sharing")
        code, _, account = audit(tmp_path, "--target", str(target), "--pull-timeout", "0.5")
    assert code == 2 and account is not None
    eq = next(d for d in account["dataSets"] if d["name"] == "equipment")
    assert eq["status"] == "incomplete" and "pull bound reached" in eq["reason"]


def test_a_pull_never_overwrites_dumps_it_did_not_write(tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "units.jsonl").write_text('{"uscc": "x"}\n', encoding="utf-8")
    target = write_target(tmp_path / "target.toml", {"sharing": "http://127.0.0.1:9"}, "sharing")
    code = main(["audit", "--target", str(target), "--pull-dir", str(dumps), "--out", str(tmp_path / "o")])
    assert code == 2 and (dumps / "units.jsonl").read_text(encoding="utf-8") == '{"uscc": "x"}\n'
    assert not (tmp_path / "o" / "audit.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "DIR", "--target", "TARGET"],
        ["audit"],
        ["audit", "DIR", "--client", "reader"],
        ["audit", "DIR", "--pull-dir", "x"],
        ["audit", "--target", "TARGET", "--pull-pages", "0"],
    ],
    ids=["both", "neither", "client-without-target", "pull-dir-without-target", "no-pages"],
)
def test_usage_errors(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "units.jsonl").write_text("{}\n", encoding="utf-8")
    target = write_target(tmp_path / "target.toml", {"sharing": "http://127.0.0.1:9"}, "sharing")
    argv = [str(tmp_path / "d") if a == "DIR" else str(target) if a == "TARGET" else a for a in args]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip()
    assert not (tmp_path / "o").exists()
