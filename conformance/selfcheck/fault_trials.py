"""Kill -9 trials of the reference sharing platform (``scripts/reliability``, ``tests/test_fault_trials.py``).

One trial, on loopback:

1. start the reference platform as a real process (``tzsb-conform serve --role sharing``) on a new database;
2. push a burst of new and updated records to two data sets from several threads while other threads tail the
   change feeds of those data sets (every change a reader is served is remembered with its number);
3. ``kill -9`` the process in the middle of the burst: after a random number of acknowledged pushes or, from
   half that number on, as soon as a reader is served a change whose push is not acknowledged yet — the moment a
   platform that serves what is not durable yet gets caught out. During the burst the platform shares one CPU with
   its clients at a lower priority (a loaded host; ``contend`` of :func:`run_trial`);
4. restart it on the same database, push a second burst (acknowledged), then check:

   * **lost**: every record version whose push was acknowledged is in the feed and readable by key;
   * **vanished or changed**: every change a reader was served before the kill still exists under the same
     number, with the same data set, key, operation, change time and record version;
   * **cursor skips**: every reader resumes with the last cursor it was given and must receive every
     acknowledged record version of its data set it had not yet seen. A cursor the platform refuses (400, with
     the advice to reload) is counted apart: an explicit error is not a silent gap.

The logic lives here once; the test runs a few trials, the script as many as asked (default 20) and writes a JSON
summary. Nothing here asserts a duration: the waits below only stop a hang.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from conformance.client.token import token_form, token_path
from conformance.clock import CHINA

#: The data sets of the trials (``x-data-sets`` of schemas/openapi/sharing.yaml); their paths come from the contract.
DATA_SETS = ("units", "equipment")
#: Only stops a hang (a server that never starts, a burst that never reaches the kill point).
HANG_S = 120.0
#: Each record version gets its own ``updatedAt``: this instant plus a per-trial counter of seconds.
BASE_TIME = dt.datetime(2024, 1, 1, tzinfo=CHINA)

Identity = tuple[str, str, str, str, str | None]  # data set, key, operation, changedAt, record updatedAt


@dataclass
class TrialResult:
    trial: int
    acknowledged: int = 0  # record versions acknowledged (before the kill and after the restart)
    acknowledged_before_kill: int = 0
    served: int = 0  # changes served to the readers before the kill
    lost: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)  # served changes missing or different after the restart
    skipped: list[str] = field(default_factory=list)  # acknowledged versions a resuming reader did not get
    cursors_refused: int = 0  # resumed cursors answered 400 (explicit: reload from scratch)
    #: what set off the kill: "acknowledged" (the random number of messages), "reader" (a reader was served a change
    #: whose push was not acknowledged yet) or "timeout" (only a hang)
    killed_when: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not (self.lost or self.vanished or self.skipped)


@dataclass
class Summary:
    trials: int
    records_acknowledged: int
    records_lost: int
    changes_served: int
    served_changes_vanished_or_changed: int
    cursor_skips_after_restart: int
    cursors_refused_after_restart: int
    failed_trials: int
    trials_with_errors: int
    details: list[dict[str, Any]]

    @classmethod
    def of(cls, results: list[TrialResult]) -> Summary:
        return cls(
            trials=len(results),
            records_acknowledged=sum(r.acknowledged for r in results),
            records_lost=sum(len(r.lost) for r in results),
            changes_served=sum(r.served for r in results),
            served_changes_vanished_or_changed=sum(len(r.vanished) for r in results),
            cursor_skips_after_restart=sum(len(r.skipped) for r in results),
            cursors_refused_after_restart=sum(r.cursors_refused for r in results),
            failed_trials=sum(not r.ok for r in results),
            trials_with_errors=sum(r.error is not None for r in results),
            details=[
                {**asdict(r), "lost": r.lost[:5], "vanished": r.vanished[:5], "skipped": r.skipped[:5]} for r in results
            ],
        )


# ---------------------------------------------------------------------------- the platform as a process


class Platform:
    """``tzsb-conform serve --role sharing`` on a database file; its log goes to ``log``."""

    def __init__(self, db: Path, log: Path, *, cpu: int | None = None) -> None:
        """``cpu``: run the platform on that CPU only, at a lower priority (see :func:`run_trial`, ``contend``)."""
        self.log = log.open("a", encoding="utf-8")

        def contended() -> None:  # in the child, before it runs the server
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
                os.nice(10)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "serve", "--role", "sharing", "--port", "0", "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            preexec_fn=contended if cpu is not None else None,  # no thread of this trial runs yet
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + HANG_S
        self.base = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("ready "):
                self.base = line.split()[1]
                break
            if not line and self.proc.poll() is not None:
                break
        if not self.base:
            self.kill()
            raise RuntimeError(f"参考平台未能启动，见 {log} / the reference platform did not start (see {log})")
        # nothing more is expected on stdout; drain it so the process never blocks on a full pipe
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def kill(self) -> None:
        """``kill -9``: no clean shutdown, no final flush."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=HANG_S)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=HANG_S)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()


def _session(base: str) -> requests.Session:
    r = requests.post(
        f"{base}{token_path()}",
        data=token_form("harness", "harness-secret"),
        timeout=30,
    )
    r.raise_for_status()
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return s


def _identity(ds: str, change: dict[str, Any]) -> Identity:
    record = change.get("record")
    version = record.get("updatedAt") if isinstance(record, dict) else None
    return (ds, change["key"], change["operation"], change["changedAt"], version)


def _show(seq: int, ident: Identity | None) -> str:
    return f"#{seq} " + ("（不存在 / absent）" if ident is None else " ".join(str(x) for x in ident))


# ---------------------------------------------------------------------------- one trial


class _Burst:
    """Writers and readers of one trial, sharing what they acknowledged and what they were served."""

    def __init__(self, trial: int, base: str, rng: random.Random) -> None:
        from conformance.contract.datasets import data_sets
        from conformance.datagen import DataGen

        self.trial, self.base, self.rng = trial, base, rng
        self.paths = {ds: data_sets()[ds].path for ds in DATA_SETS}
        self.keys = {ds: data_sets()[ds].key for ds in DATA_SETS}
        self.gen = DataGen(rng.randrange(1 << 30))
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.tick = 0  # seconds after BASE_TIME: every record version gets its own updatedAt
        self.messages = 0
        #: acknowledged record versions: (data set, key, operation, updatedAt)
        self.acked: list[tuple[str, str, str, str]] = []
        self.acked_set: set[tuple[str, str, str]] = set()
        #: set by the trial: the kill -9 (from whichever thread first sees the moment) and from how many messages on
        self.kill: Callable[[str], None] = lambda why: None
        self.armed_at = 1 << 62

    def version(self) -> str:
        with self.lock:
            self.tick += 1
            return (BASE_TIME + dt.timedelta(seconds=self.tick)).isoformat(timespec="seconds")

    def new_record(self, ds: str) -> dict[str, Any]:
        with self.lock:
            rec = self.gen.unit() if ds == "units" else self.gen.equipment()
        return {**rec, "updatedAt": self.version()}

    def push(self, session: requests.Session, ds: str, items: list[tuple[str, dict[str, Any]]], mid: str) -> None:
        """One message; the record versions its receipt accepts are remembered as acknowledged."""
        key = self.keys[ds]
        body = {
            "messageId": mid,
            "sentAt": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "records": [{"operation": op, "key": rec[key], "record": rec} for op, rec in items],
        }
        r = session.post(f"{self.base}{self.paths[ds]}/push", json=body, timeout=30)
        if r.status_code != 200:
            raise RuntimeError(f"推送 {mid} 得到 {r.status_code}：{r.text[:300]} / push answered {r.status_code}")
        results = r.json()["data"]["results"]
        with self.lock:
            for (op, rec), res in zip(items, results, strict=True):
                if res["status"] == "accepted":
                    self.acked.append((ds, rec[key], op, rec["updatedAt"]))
                    self.acked_set.add((ds, rec[key], rec["updatedAt"]))
            self.messages += 1
            armed = self.messages >= self.armed_at
        if armed:
            self.kill("acknowledged")

    def writer(self, n: int, errors: list[str]) -> None:
        try:
            session = _session(self.base)
        except requests.RequestException:
            return  # killed before this writer started
        mine: dict[str, list[dict[str, Any]]] = {ds: [] for ds in DATA_SETS}
        rng = random.Random(self.rng.randrange(1 << 30))
        count = 0
        while not self.stop.is_set():
            ds = rng.choice(DATA_SETS)
            items: list[tuple[str, dict[str, Any]]] = []
            for _ in range(rng.randint(1, 3)):
                if mine[ds] and rng.random() < 0.3:
                    i = rng.randrange(len(mine[ds]))
                    mine[ds][i] = {**mine[ds][i], "updatedAt": self.version()}
                    items.append(("UPDATE", mine[ds][i]))
                else:
                    items.append(("UPLOAD", self.new_record(ds)))
            keys = [rec[self.keys[ds]] for _, rec in items]
            if len(set(keys)) != len(keys):
                continue
            count += 1
            try:
                self.push(session, ds, items, f"ft{self.trial:03d}-w{n}-{count:06d}")
            except requests.RequestException:
                return  # the platform was killed
            except Exception as exc:  # reported with the trial
                errors.append(f"{type(exc).__name__}: {exc}")
                return
            for op, rec in items:
                if op == "UPLOAD":
                    mine[ds].append(rec)


class _Reader:
    """Tails one data set's change feed; remembers every change it is served and its last cursor."""

    def __init__(self, burst: _Burst, ds: str) -> None:
        self.burst, self.ds = burst, ds
        self.cursor: str | None = None
        self.served: dict[int, Identity] = {}

    def run(self, errors: list[str]) -> None:
        try:
            session = _session(self.burst.base)
        except requests.RequestException:
            return  # killed before this reader started
        url = f"{self.burst.base}{self.burst.paths[self.ds]}/changes"
        while not self.burst.stop.is_set():
            try:
                r = session.get(
                    url, params={"limit": 50, **({"cursor": self.cursor} if self.cursor else {})}, timeout=30
                )
            except requests.RequestException:
                return  # the platform was killed
            if r.status_code != 200:
                errors.append(
                    f"读取 {self.ds} 变更得到 {r.status_code}：{r.text[:200]} / change feed answered {r.status_code}"
                )
                return
            data = r.json()["data"]
            unacknowledged = False
            for c in data["items"]:
                ident = self.served[c["seq"]] = _identity(self.ds, c)
                unacknowledged |= (self.ds, ident[1], ident[4]) not in self.burst.acked_set
            self.cursor = data["nextCursor"]
            if unacknowledged and self.burst.messages >= self.burst.armed_at // 2:
                # the most demanding moment: a reader holds a change whose push is not acknowledged yet
                self.burst.kill("reader")
                return
            if not data["items"]:
                time.sleep(0.001)


def _read_feed(
    session: requests.Session, base: str, path: str, ds: str, cursor: str | None
) -> tuple[int, dict[int, Identity]]:
    """The whole feed after ``cursor``: (status of the first refusal or 200, changes by number)."""
    out: dict[int, Identity] = {}
    for _ in range(100_000):
        r = session.get(
            f"{base}{path}/changes", params={"limit": 100, **({"cursor": cursor} if cursor else {})}, timeout=30
        )
        if r.status_code != 200:
            return r.status_code, out
        data = r.json()["data"]
        for c in data["items"]:
            out[c["seq"]] = _identity(ds, c)
        cursor = data["nextCursor"]
        if not data["hasMore"]:
            break
    return 200, out


def run_trial(
    trial: int,
    workdir: Path,
    *,
    seed: int | None = None,
    writers: int = 4,
    readers_per_set: int = 2,
    kill_after: tuple[int, int] = (15, 60),
    after_restart: int = 12,
    contend: bool = True,
) -> TrialResult:
    """One kill -9 trial in ``workdir`` (a new database); see the module docstring.

    ``contend`` (Linux): during the burst the platform shares one CPU with the readers and writers, at a lower
    priority — a loaded host. A reader woken by its answer then runs before the platform's next step, so what it was
    served is checked (and the kill sent) before the platform can make it durable: a platform that serves changes
    before they are durable is caught in most trials instead of in the few where the kill lands by chance."""
    rng = random.Random(seed if seed is not None else time.time_ns())
    result = TrialResult(trial)
    db = workdir / f"trial-{trial:03d}.sqlite3"
    log = workdir / f"trial-{trial:03d}.log"
    pinned = contend and hasattr(os, "sched_setaffinity")
    cpus = os.sched_getaffinity(0) if pinned else set()
    platform = Platform(db, log, cpu=min(cpus) if pinned else None)
    errors: list[str] = []
    burst = _Burst(trial, platform.base, rng)
    readers = [_Reader(burst, ds) for ds in DATA_SETS for _ in range(readers_per_set)]
    threads = [threading.Thread(target=r.run, args=(errors,), daemon=True) for r in readers]
    threads += [threading.Thread(target=burst.writer, args=(n, errors), daemon=True) for n in range(writers)]
    killed = threading.Event()
    once = threading.Lock()

    def kill(why: str) -> None:
        with once:
            if not killed.is_set():
                os.kill(platform.proc.pid, signal.SIGKILL)
                killed.set()
                result.killed_when = why

    # kill -9 in the middle of the burst: after a random number of acknowledged messages, or earlier (from half that
    # number on) as soon as a reader is served a change whose push is not acknowledged yet
    burst.kill, burst.armed_at = kill, rng.randint(*kill_after)
    # the thread that sees the moment must get the interpreter at once, not after the default 5 ms switch interval
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    if pinned:
        os.sched_setaffinity(0, {min(cpus)})  # this thread; the readers and writers started below inherit it
    try:
        for th in threads:
            th.start()
        killed.wait(HANG_S)
    finally:
        kill("timeout")
        sys.setswitchinterval(switch)
        if pinned:
            os.sched_setaffinity(0, cpus)
        burst.stop.set()
        platform.kill()
        for th in threads:
            th.join(timeout=HANG_S)
    if errors or result.killed_when == "timeout":
        result.error = errors[0] if errors else "推送未到达终止点 / the burst never reached the kill point"
        return result
    burst.kill = lambda why: None
    with burst.lock:
        before = list(burst.acked)
    result.acknowledged_before_kill = len(before)
    result.served = sum(len(r.served) for r in readers)

    platform = Platform(db, log)  # restart on the same database
    try:
        burst.base = platform.base
        session = _session(platform.base)
        for ds in DATA_SETS:  # a second burst: new numbers beyond any position served before the kill
            for i in range(after_restart):
                burst.push(session, ds, [("UPLOAD", burst.new_record(ds))], f"ft{trial:03d}-r-{ds}-{i:04d}")
        acked = list(burst.acked)
        result.acknowledged = len(acked)
        feeds: dict[int, Identity] = {}
        for ds in DATA_SETS:
            status, changes = _read_feed(session, platform.base, burst.paths[ds], ds, None)
            if status != 200:
                raise RuntimeError(
                    f"从头读取 {ds} 变更得到 {status} / reading the feed from the start answered {status}"
                )
            feeds.update(changes)
        # lost: each acknowledged version is a change in the feed; each acknowledged key reads back at its latest
        in_feed = {(i[0], i[1], i[4]) for i in feeds.values()}
        latest: dict[tuple[str, str], str] = {}
        for ds, key, op, version in acked:
            if (ds, key, version) not in in_feed:
                result.lost.append(f"{ds} {key} {op} {version}（不在变更中 / not in the feed）")
            latest[(ds, key)] = max(latest.get((ds, key), version), version)
        for (ds, key), version in latest.items():
            r = session.get(f"{platform.base}{burst.paths[ds]}/{key}", timeout=30)
            got = r.json().get("data") if r.status_code == 200 else None
            if not isinstance(got, dict) or _instant(got.get("updatedAt")) < _instant(version):
                result.lost.append(
                    f"{ds} {key} {version}（按主键读取得到 {r.status_code} / read by key: {r.status_code}）"
                )
        # vanished or changed: each change served before the kill, under the same number
        for reader in readers:
            for seq, ident in sorted(reader.served.items()):
                if feeds.get(seq) != ident:
                    result.vanished.append(f"{_show(seq, ident)} → {_show(seq, feeds.get(seq))}")
        # cursor skips: each reader resumes with its last cursor and must get every acknowledged version it missed
        for reader in readers:
            seen = {(i[0], i[1], i[4]) for i in reader.served.values()}
            status, resumed = _read_feed(session, platform.base, burst.paths[reader.ds], reader.ds, reader.cursor)
            if status == 400:
                result.cursors_refused += 1
                continue
            if status != 200:
                raise RuntimeError(f"以原游标续读 {reader.ds} 得到 {status} / resuming answered {status}")
            got = {(i[0], i[1], i[4]) for i in resumed.values()}
            for ds, key, op, version in acked:
                if ds == reader.ds and (ds, key, version) not in seen and (ds, key, version) not in got:
                    result.skipped.append(f"{ds} {key} {op} {version}")
    except Exception as exc:  # a trial that could not be checked is reported, not raised
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        platform.stop()
    result.vanished = sorted(set(result.vanished))
    return result


def _instant(value: Any) -> float:
    if not isinstance(value, str):
        return float("-inf")
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def run_trials(
    n: int,
    workdir: Path | None = None,
    *,
    seed: int | None = None,
    progress: Callable[[TrialResult], None] | None = None,
    **kw: Any,
) -> Summary:
    """``n`` trials, one after the other (each with its own database in ``workdir``, default a temporary one)."""
    rng = random.Random(seed)
    results: list[TrialResult] = []
    with tempfile.TemporaryDirectory(prefix="tzsb-fault-") as tmp:
        where = workdir or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        for i in range(1, n + 1):
            r = run_trial(i, where, seed=rng.randrange(1 << 30) if seed is not None else None, **kw)
            results.append(r)
            if progress is not None:
                progress(r)
    return Summary.of(results)


def describe(r: TrialResult, total: int) -> str:
    """One progress line (Chinese first, English after)."""
    if r.error:
        return f"试验 {r.trial}/{total}：未能完成：{r.error} / trial {r.trial}/{total}: could not run"
    verdict = "通过" if r.ok else "不通过"
    return (
        f"试验 {r.trial}/{total} {verdict}：已确认 {r.acknowledged} 条（终止前 {r.acknowledged_before_kill}），"
        f"读取方获得 {r.served} 条变更；丢失 {len(r.lost)}，已下发变更消失或改变 {len(r.vanished)}，"
        f"续读跳过 {len(r.skipped)}，游标被拒 {r.cursors_refused} / "
        f"trial {r.trial}/{total} {'pass' if r.ok else 'FAIL'}: acknowledged {r.acknowledged}, served {r.served}, "
        f"lost {len(r.lost)}, vanished {len(r.vanished)}, skipped {len(r.skipped)}, refused {r.cursors_refused}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/reliability",
        description="参考共享平台的 kill -9 试验 / kill -9 trials of the reference sharing platform",
    )
    p.add_argument("--trials", type=int, default=20, help="试验次数 / number of trials (default 20)")
    p.add_argument("--out", type=Path, default=Path("reports/reliability.json"), help="JSON 摘要 / JSON summary")
    p.add_argument("--seed", type=int, default=None, help="随机种子 / random seed (default: a new one)")
    p.add_argument(
        "--workdir", type=Path, default=None, help="数据库与日志目录 / databases and logs (default: temporary)"
    )
    args = p.parse_args(argv)
    if args.trials < 1:
        p.error("--trials must be at least 1")
    print(f"参考共享平台 kill -9 试验 {args.trials} 次 / {args.trials} kill -9 trials", flush=True)
    summary = run_trials(
        args.trials, args.workdir, seed=args.seed, progress=lambda r: print(describe(r, args.trials), flush=True)
    )
    data = {"schema": "tzsb-reliability/1", **asdict(summary)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in data.items() if k != "details"}, ensure_ascii=False, indent=1))
    print(f"摘要已写入 {args.out} / summary written to {args.out}", flush=True)
    bad = summary.records_lost + summary.served_changes_vanished_or_changed + summary.cursor_skips_after_restart
    return 1 if bad or summary.trials_with_errors else 0


if __name__ == "__main__":
    sys.exit(main())
