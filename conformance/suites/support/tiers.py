"""The two-tier exchange of a provincial sharing platform (``test_sharing_tiers``, docs/two-tier.md): the harness plays
the lower-level data sources below the province and the national platform above it, and keeps what happened for the
tests to judge.

One scenario per session (:class:`Exchange`, run by the first test that needs it):

1. **Sources push into the province.** Each declared source client (``[clients.city-supervision]``,
   ``[clients.inspection-institution]``, ``[clients.enterprise]``, with their ``division``) pushes fresh unit records
   of the province's division: one message uploading three (A, B, E), one updating A (a later ``updatedAt``), one
   deleting B. The inspection institution also uploads a unit of another province (its records are the other
   province's to report). Every push is acknowledged by the province (receipt, each record accepted) or the
   scenario cannot run (未测).
2. **The nation pushes down.** As ``[clients.national-platform]`` the harness uploads, then updates, a unit of the
   province's division (national data the province must apply and must not report back up).
3. **Waiting.** Until the national simulator holds the last state of every in-division record, or
   ``[thresholds] upstream_wait_s`` (default ``[simulators] wait_s``) has passed since the last push; then one more
   quiet window (``[simulators] wait_s``, at most the bound) for stray re-sends and echoes.
4. **The nation pulls.** As the national client, the province's change feed of the units data set from the end it
   had before the scenario.

Records are compared by what identifies a version: DELETE, or the ``updatedAt`` instant of an uploaded or updated
record (each version the harness pushes has its own). The harness's records are deleted again at the end (DELETE
pushes by the same sources and by the national client).

Nothing here imports the reference server: the province is reached over the contract's operations, the national
platform is the harness's simulator (``conformance/simulators``, role ``national``).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.check.schema import validator
from conformance.client import Evidence, TargetClient
from conformance.clock import now_iso
from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.contract.datasets import DataSet, data_sets, max_limit
from conformance.harness.target import COUNTERPARTS, Target
from conformance.report.skips import untested
from conformance.simulators import Call, Simulators, for_settings
from conformance.suites.support.client_side import attach
from conformance.suites.support.sharing import Builder, read_changes, scale, tail_cursor

#: The simulated role above the province (``[simulators.ports] national``).
SIMULATOR = "national"
#: The feature a provincial platform declares when it reports up (target-features.json, kind ``means``).
FEATURE = "upstream-exchange"
#: The national platform's client at the province (pushes down, pulls the change feed).
NATIONAL_CLIENT = "national-platform"
#: The lower-level data sources the harness plays (INFO2007.2.5.2: 地方监察机构、检验检测机构、企业).
SOURCES = ("city-supervision", "inspection-institution", "enterprise")
#: The source that also pushes a record of another province (an institution inspecting across a border).
CROSS_BORDER_SOURCE = "inspection-institution"
#: What the national platform is named as in the records it pushes down.
NATIONAL_SYSTEM = "全国特种设备安全监管信息平台"
DEFAULT_WAIT_S = 60.0


def unit_set() -> DataSet:
    """The data set of units (its records carry their own division: what is in or out of the province is clear)."""
    return next(ds for ds in data_sets().values() if ds.schema == "unit")


def same_instant(a: Any, b: Any) -> bool:
    try:
        return dt.datetime.fromisoformat(str(a)) == dt.datetime.fromisoformat(str(b))
    except ValueError:
        return a == b


def version(operation: str, record: dict[str, Any] | None) -> str:
    """What identifies one version of a record: DELETE, or its ``updatedAt`` as an instant (UTC)."""
    if operation == "DELETE" or not isinstance(record, dict):
        return "DELETE"
    try:
        return dt.datetime.fromisoformat(str(record.get("updatedAt"))).astimezone(dt.UTC).isoformat()
    except ValueError:
        return f"updatedAt={record.get('updatedAt')}"


def own_province(target: Target) -> str | None:
    """The two-digit province of the platform under test: ``[thresholds] upstream_division``, else the province all
    declared data-source clients are registered in (they feed this province). Never guessed from the data the
    platform holds: a platform may hold records of other provinces (the national push-down, transfers)."""
    wanted = target.thresholds.get("upstream_division")
    if wanted:
        return str(wanted)[:2]
    provinces = {c.division[:2] for s in SOURCES if (c := target.client(s)) is not None and c.division}
    return provinces.pop() if len(provinces) == 1 else None


@dataclass
class Pushed:
    """One version of a record the harness pushed into the province (by a source or by the nation)."""

    key: str
    operation: str
    record: dict[str, Any] | None
    client: str
    source_division: str | None
    acked_at: float
    in_division: bool

    @property
    def version(self) -> str:
        return version(self.operation, self.record)


@dataclass
class Received:
    """One record of a push the national simulator received from the province."""

    call: Call
    message_id: str | None
    key: str
    operation: str
    record: dict[str, Any] | None

    @property
    def version(self) -> str:
        return version(self.operation, self.record)


@dataclass
class Exchange:
    """The scenario of the session and what it recorded (see the module docstring)."""

    target: Target
    evidence: Evidence
    clients: Any  # tzsb_client
    request: pytest.FixtureRequest
    ran: bool = False
    skip: tuple[str, str] | None = None  # (reason, provide): why nothing can be judged
    error: str | None = None  # the scenario failed on the harness's side
    province: str = ""  # two digits
    bound_s: float = DEFAULT_WAIT_S
    pushed: list[Pushed] = field(default_factory=list)
    down: list[Pushed] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    feed: list[dict[str, Any]] | None = None
    feed_problem: str | None = None
    down_read: dict[str, Any] = field(default_factory=dict)  # key → the record read back at the province (or None)
    sims: Simulators | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ preconditions
    def _preconditions(self) -> None:
        t = self.target
        if FEATURE not in t.features:
            self.skip = (
                f"目标未声明 {FEATURE}（省级平台向国家平台自动上报）/ the target does not declare {FEATURE}",
                f"[features] {FEATURE} = true，并把被测平台的上级平台地址配置为模拟国家平台（docs/two-tier.md）/ "
                f"declare {FEATURE} = true and point the platform's upstream at the simulated national platform",
            )
            return
        if t.client(NATIONAL_CLIENT) is None:
            self.skip = (
                f"目标文件未提供国家平台的客户端 [clients.{NATIONAL_CLIENT}] / no [clients.{NATIONAL_CLIENT}]",
                f"在目标文件中加入 [clients.{NATIONAL_CLIENT}]（被测平台为国家平台登记的客户端）/ "
                f"add [clients.{NATIONAL_CLIENT}] (the client the platform registered for the national platform)",
            )
            return
        if not [s for s in SOURCES if t.client(s) is not None]:
            self.skip = (
                f"目标文件未提供任何下级数据来源的客户端（{'、'.join(SOURCES)}）/ no data-source client",
                f"在目标文件中加入 [clients.{SOURCES[0]}] 等数据来源客户端及其 division（docs/preflight.md）/ "
                "add the data-source clients with their division (docs/preflight.md)",
            )
            return
        self.province = own_province(t)
        if self.province is None:
            self.skip = (
                "不知道被测省级平台本级的行政区划：目标文件没有 [thresholds] upstream_division，下级数据来源客户端登记的"
                "区划也不同属一个省 / the province's own division is unknown: no upstream_division and the sources' "
                "divisions are not of one province",
                '[thresholds] upstream_division = "420000"（被测平台本级的行政区划）/ the platform\'s own division',
            )
            return
        try:
            self.sims = for_settings(t.simulators, roles=COUNTERPARTS["sharing"])
        except (OSError, ValueError, RuntimeError) as exc:
            self.skip = (
                f"模拟国家平台无法启动或连接：{exc} / the national simulator is unavailable",
                "[simulators.ports] national（被测平台配置的上级平台端口）或 [simulators.urls] national / "
                "[simulators.ports] national (the port the platform reports up to) or [simulators.urls] national",
            )
            return
        self.request.session.config.add_cleanup(self.sims.stop)

    # ------------------------------------------------------------------ the scenario
    def run(self) -> Exchange:
        with self.lock:
            if not self.ran:
                self.ran = True
                self._preconditions()
                if self.skip is None:
                    try:
                        self._scenario()
                    except Exception as exc:  # the harness's failure, not the target's: every check errs (错误)
                        self.error = f"{type(exc).__name__}: {exc}"[:500]
                        raise
        if self.error is not None:
            raise RuntimeError(f"两级交换场景未能完成 / the two-tier scenario did not complete: {self.error}")
        if self.skip is not None:
            untested(self.skip[0], provide=self.skip[1])
        return self

    def _harness(self) -> TargetClient:
        return self.clients()

    def _scenario(self) -> None:
        t, ds = self.target, unit_set()
        harness = self._harness()
        sim_wait = float(t.simulators.wait_s)
        self.bound_s = float(t.thresholds.get("upstream_wait_s", sim_wait))
        national = self.clients(client=NATIONAL_CLIENT)
        start_cursor, cursor_problem = None, None
        try:
            start_cursor = tail_cursor(national, ds, scale(t).tail_pages)
        except AssertionError as exc:
            cursor_problem = str(exc).splitlines()[0][:300]
        assert self.sims is not None
        national_sim = self.sims[SIMULATOR]
        mark = max((c.seq for c in national_sim.calls()), default=0)
        created: list[tuple[str, str]] = []  # (client, key) to delete at the end
        try:
            for source in SOURCES:
                creds = t.client(source)
                if creds is None:
                    continue
                client = self.clients(client=source)
                a, b, e = self._fresh(harness, self.province, 3)
                self._push(client, source, creds.division, [("UPLOAD", a), ("UPLOAD", b), ("UPLOAD", e)], True)
                created += [(source, a[ds.key]), (source, e[ds.key])]
                a2 = {**a, "name": a["name"][:90] + "（变更）", "updatedAt": _later(a["updatedAt"], 60)}
                self._push(client, source, creds.division, [("UPDATE", a2)], True)
                self._push(client, source, creds.division, [("DELETE", b)], True)
                if source == CROSS_BORDER_SOURCE:
                    (c,) = self._fresh(harness, _other_province(self.province), 1)
                    self._push(client, source, creds.division, [("UPLOAD", c)], False)
                    created.append((source, c[ds.key]))
            (d,) = self._fresh(harness, self.province, 1)
            d = {**d, "provider": _national_provider()}
            self._push(national, NATIONAL_CLIENT, None, [("UPLOAD", d)], True, down=True)
            d2 = {**d, "name": d["name"][:90] + "（国家平台更正）", "updatedAt": _later(d["updatedAt"], 60)}
            self._push(national, NATIONAL_CLIENT, None, [("UPDATE", d2)], True, down=True)
            created.append((NATIONAL_CLIENT, d[ds.key]))
            self._read_down(harness, d2)
            self._wait(national_sim, mark, sim_wait)
            self.calls = [c for c in national_sim.calls(since=mark) if c.operation != "getHealth"]
            self._pull(national, start_cursor, cursor_problem)
        finally:
            self._cleanup(created)

    def _fresh(self, harness: TargetClient, province: str, n: int) -> list[dict[str, Any]]:
        ds = unit_set()
        for _ in range(5):
            _, records = Builder(province).make(ds.name, n)
            if all(harness.get(ds.record_path(r[ds.key])).status == 404 for r in records):
                return records
        self.skip = ("无法生成目标中不存在的新主键 / could not generate keys absent at the target", "")
        untested(self.skip[0])

    def _push(
        self,
        client: TargetClient,
        name: str,
        division: str | None,
        items: list[tuple[str, dict[str, Any]]],
        in_division: bool,
        *,
        down: bool = False,
    ) -> None:
        ds = unit_set()
        body: dict[str, Any] = {
            "messageId": f"tier-{secrets.token_hex(10)}",
            "sentAt": now_iso(),
            "records": [
                {"operation": op, "key": r[ds.key], "record": None if op == "DELETE" else r} for op, r in items
            ],
        }
        if not down:
            body["source"] = name
            if division:
                body["sourceDivision"] = division
        r = client.post(f"{ds.path}/push", body)
        data = _data(r)
        results = data.get("results") if isinstance(data, dict) else None
        ok = isinstance(results, list) and all(isinstance(x, dict) and x.get("status") == "accepted" for x in results)
        if not ok or len(results or []) != len(items):
            who = "国家平台" if down else f"数据来源 {name}"
            self.skip = (
                f"{who}的推送未被省级平台逐条接收（HTTP {r.status}）：{r.content[:200].decode('utf-8', 'replace')} / "
                f"the province did not accept the push of {name}",
                f"为客户端 {name} 开通单位数据集的推送权限（sharing:{ds.name}:write）/ "
                f"let client {name} push to the {ds.name} data set",
            )
            untested(self.skip[0], provide=self.skip[1])
        at = time.time()
        for op, rec in items:
            entry = Pushed(rec[ds.key], op, None if op == "DELETE" else rec, name, division, at, in_division)
            (self.down if down else self.pushed).append(entry)

    def _read_down(self, harness: TargetClient, record: dict[str, Any]) -> None:
        """Read the nation's last version back at the province, waiting up to the bound for it to be applied."""
        ds = unit_set()
        key = record[ds.key]
        deadline = time.monotonic() + self.bound_s
        while True:
            found = _data(harness.get(ds.record_path(key)))
            if isinstance(found, dict) and version("UPDATE", found) == version("UPDATE", record):
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        self.down_read[key] = found

    def _complete(self, calls: list[Call]) -> bool:
        last = self.last_received(calls)
        return all(last.get(k) == v.version for k, v in self.expected().items())

    def _wait(self, sim: Any, mark: int, sim_wait: float) -> None:
        deadline = time.monotonic() + self.bound_s
        while time.monotonic() < deadline:
            if self._complete([c for c in sim.calls(since=mark) if c.operation != "getHealth"]):
                break
            time.sleep(0.2)
        quiet = min(sim_wait, self.bound_s)  # stray re-sends and echoes come within a quiet window more
        time.sleep(quiet)

    def _pull(self, national: TargetClient, cursor: str | None, problem: str | None) -> None:
        if problem is not None or cursor is None:
            self.feed_problem = problem or "增量同步末尾过远，未能取得起点游标 / the feed's end is too far away"
            return
        ds = unit_set()
        out: list[dict[str, Any]] = []
        try:
            for _ in range(max(5, scale(self.target).tail_pages)):
                data = read_changes(national, ds, cursor, max_limit(ds), f"{ds.label} 增量同步（国家平台）")
                out += data["items"]
                cursor = data["nextCursor"]
                if not data["hasMore"]:
                    self.feed = out
                    return
            self.feed_problem = "增量同步未在页数上限内读完 / the feed did not end within the page bound"
        except AssertionError as exc:
            self.feed_problem = str(exc).splitlines()[0][:300]

    def _cleanup(self, created: list[tuple[str, str]]) -> None:
        ds = unit_set()
        for name, key in reversed(created):
            try:
                client = self.clients(client=name)
                body = {
                    "messageId": f"tier-{secrets.token_hex(10)}",
                    "sentAt": now_iso(),
                    "records": [{"operation": "DELETE", "key": key, "record": None}],
                }
                client.post(f"{ds.path}/push", body)
            except Exception:  # tidying up must not hide the verdicts
                pass

    # ------------------------------------------------------------------ what was received, what was expected
    def expected(self) -> dict[str, Pushed]:
        """The last version of every in-division record the sources pushed, by key."""
        out: dict[str, Pushed] = {}
        for p in self.pushed:
            if p.in_division:
                out[p.key] = p
        return out

    def received(self, calls: list[Call] | None = None) -> list[Received]:
        """Every record of every push the national simulator received, in the order received (repeats included)."""
        ds = unit_set()
        out = []
        for c in self.calls if calls is None else calls:
            if ds.push is None or c.operation != ds.push.operation_id:
                continue
            body = c.json if isinstance(c.json, dict) else {}
            for item in body.get("records") or ():
                if isinstance(item, dict) and isinstance(item.get("key"), str):
                    rec = item.get("record") if isinstance(item.get("record"), dict) else None
                    out.append(Received(c, body.get("messageId"), item["key"], str(item.get("operation")), rec))
        return out

    def acknowledged(self, calls: list[Call] | None = None) -> list[Received]:
        """The records of the messages the nation acknowledged, each message once: its first 2xx receipt (a repeat
        answered as a duplicate, a 409 or a failed try add nothing)."""
        seen: set[str] = set()
        out = []
        for r in self.received(calls):
            if not r.call.ok or duplicate_answer(r.call):
                continue
            mid = r.message_id or f"call-{r.call.seq}"
            if mid in seen and not any(x.call.seq == r.call.seq for x in out):
                continue
            seen.add(mid)
            out.append(r)
        return out

    def last_received(self, calls: list[Call] | None = None) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in self.acknowledged(calls):
            out[r.key] = r.version
        return out

    def tier_keys(self) -> set[str]:
        return {p.key for p in self.pushed} | {p.key for p in self.down}

    def attach(self, keys: set[str] | None = None) -> None:
        """The national simulator's calls about ``keys`` (default: the scenario's) as evidence of the current test."""
        keys = self.tier_keys() if keys is None else keys
        test = self.request.node.nodeid
        done: set[int] = set()
        for r in self.received():
            if r.key in keys and r.call.seq not in done:
                done.add(r.call.seq)
                attach(self.evidence, r.call, test)


# ---------------------------------------------------------------------------------- helpers
_SESSION = pytest.StashKey[Exchange]()
_LOCK = threading.Lock()


def exchange(request: pytest.FixtureRequest, target: Target, evidence: Evidence, clients: Any) -> Exchange:
    """The session's scenario, run once (the first test that asks runs it); 未测 when it cannot run."""
    with _LOCK:
        ex = request.config.stash.get(_SESSION, None)
        if ex is None:
            ex = Exchange(target, evidence, clients, request)
            request.config.stash[_SESSION] = ex
    ex.request = request
    return ex.run()


def _data(r: Any) -> Any:
    """``data`` of a 200 answer's envelope; None for anything else (another status, not JSON, no envelope)."""
    if r.status != 200:
        return None
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("data") if isinstance(body, dict) else None


def duplicate_answer(call: Call) -> bool:
    """Did the national simulator answer the call as a repeat (its first receipt, ``duplicate: true``)?"""
    data = call.answer.get("data") if isinstance(call.answer, dict) else None
    return isinstance(data, dict) and data.get("duplicate") is True


def _later(value: str, seconds: int) -> str:
    return (dt.datetime.fromisoformat(value) + dt.timedelta(seconds=seconds)).isoformat(timespec="seconds")


def _other_province(province: str) -> str:
    """Another province's two digits (the first province-level division of the code list that is not ours)."""
    for code, item in sorted(code_lists.divisions().items()):
        if item.get("level") == "province" and not code.startswith(province) and not item.get("doubtful"):
            return code[:2]
    return "43" if province != "43" else "42"


def _national_provider() -> dict[str, str]:
    """The national platform as the providing subject of what it pushes down (SHARE.MECH.SUBJECT.1)."""
    uscc = KINDS["uscc"].generate(random.Random("tzsb:national-platform"), pair="11", division="110000")
    return {"uscc": uscc, "name": "国家市场监督管理总局", "division": "110000", "system": NATIONAL_SYSTEM}


def provider_problem(record: dict[str, Any] | None) -> str | None:
    """Why a record reported up does not name its providing subject (None: it does)."""
    if not isinstance(record, dict):
        return None
    provider = record.get("provider")
    if not isinstance(provider, dict):
        return "记录未标明数据提供主体（provider）/ no providing subject"
    v = validator("identifiers#/$defs/dataProvider")
    if not v.is_valid(provider):
        return f"数据提供主体不符合契约：{provider} / provider does not validate"
    return None
