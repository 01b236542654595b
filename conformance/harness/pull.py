"""Pull the shared data sets of a sharing target through its change feed, as the input of the data audit
(``tzsb-conform audit --target``; docs/data-audit.md, "Pulling from a sharing target").

For each data set of ``x-data-sets`` the feed is read from its start (``GET {path}/changes`` without a cursor, at the
contract's largest ``limit``: :mod:`conformance.harness.changes`) until it says ``hasMore: false``. The changes are
applied in ``seq`` order to a staging table on disk (UPLOAD / UPDATE: the record at the change's key replaced;
DELETE: the key removed), and only a feed read to its end becomes ``<folder>/<data set>.jsonl``: the latest version
of every key, the record as the feed gave it, in the order of its last change. ``pull.json``
(``audit-report.schema.json#/$defs/pull``) says per data set what happened.

Never silently partial: a data set whose feed was not read to its end is not written, so its audit checks are 未测,
with the reason this module gives: ``refused`` (401 or 403 on its first page, or no token for the credential),
``failed`` (no usable first answer: unreachable, a timeout, an error status, an answer that is not a page of the
feed), ``incomplete`` (stopped after some pages: one of those, a bound reached, a feed that does not advance,
Ctrl-C). Bounded: per data set at most :attr:`Limits.seconds` (checked before every request; one request is bounded
by the client's own timeouts) and :attr:`Limits.pages`; a page is tried :attr:`Limits.attempts` times on no answer,
a 5xx or a 429 (a plausible ``Retry-After`` obeyed within the time left). Every request goes through the project's
bounded client; only the last few exchanges are kept in memory.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from conformance.audit.inputs import InputProblem, discover
from conformance.check.plausibility import retry_after
from conformance.check.schema import validator
from conformance.client import Evidence, Exchange, TargetClient
from conformance.contract.datasets import DataSet, data_sets, max_limit
from conformance.harness import changes
from conformance.harness.target import Target

ROLE = "sharing"
#: What a pull says of each data set (``audit-report.schema.json#/$defs/pull``).
COMPLETE, REFUSED, FAILED, INCOMPLETE = "complete", "refused", "failed", "incomplete"
#: The file of a pull's account, beside the data sets it wrote.
PULL_FILE = "pull.json"
PULL_SCHEMA = "audit-report#/$defs/pull"
#: Exchanges kept in memory (the latest; a pull of millions of records makes thousands of requests).
KEEP_EXCHANGES = 16


@dataclass(frozen=True)
class Limits:
    seconds: float = 1800.0  # per data set
    pages: int = 100_000  # per data set
    attempts: int = 3  # tries of one page on no answer, 5xx, 429


@dataclass
class DataSetPull:
    """What the pull of one data set came to."""

    name: str
    status: str = FAILED
    records: int = 0  # written (complete), or held when the pull stopped (not written)
    changes: int = 0
    deletions: int = 0
    pages: int = 0
    cursor: str | None = None  # the last nextCursor the feed gave
    seconds: float = 0.0
    http_status: int | None = None  # of the answer that stopped the pull
    reason: str | None = None  # Chinese / English, when not complete
    file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "records": self.records,
            "changes": self.changes,
            "deletions": self.deletions,
            "pages": self.pages,
            "cursor": self.cursor,
            "seconds": round(self.seconds, 3),
            "httpStatus": self.http_status,
            "reason": self.reason,
            "file": self.file,
        }


@dataclass
class Pull:
    """The account of a pull (``pull.json``)."""

    target: str
    name: str
    url: str
    client: str | None
    folder: Path
    limits: Limits
    started_at: str = ""
    finished_at: str = ""
    interrupted: bool = False
    data_sets: list[DataSetPull] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every data set the credential may read was read to the end of its feed (a 403 is a data set it may not
        read; an interrupted pull is not complete)."""
        return not self.interrupted and all(d.status in (COMPLETE, REFUSED) for d in self.data_sets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "name": self.name,
            "url": self.url,
            "client": self.client,
            "folder": str(self.folder),
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "complete": self.complete,
            "interrupted": self.interrupted,
            "limits": {"seconds": self.limits.seconds, "pages": self.limits.pages, "attempts": self.limits.attempts},
            "dataSets": [d.as_dict() for d in self.data_sets],
        }


class PullProblem(ValueError):
    """The pull cannot start as asked (a usage error): no sharing URL, an unknown client, a folder holding dumps."""


#: Told of a data set's pull while it runs (at most every :data:`PROGRESS_S` seconds; ``done`` False) and when it
#: ends (``done`` True).
Progress = Callable[[DataSetPull, bool], None]
PROGRESS_S = 1.0


class _Recent(Evidence):
    """Evidence that keeps only the latest exchanges (a pull's memory does not grow with its pages)."""

    def add(self, exchange: Exchange) -> None:
        super().add(exchange)
        with self._lock:
            if len(self.exchanges) > KEEP_EXCHANGES:
                del self.exchanges[:-KEEP_EXCHANGES]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def prepare(folder: Path) -> None:
    """Make ``folder`` ready for a pull: the files an earlier pull wrote there are removed; a folder holding data set
    files no pull wrote (someone's dumps) is refused, never overwritten."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / PULL_FILE).is_file():
        for name in data_sets():
            (folder / f"{name}.jsonl").unlink(missing_ok=True)
        (folder / PULL_FILE).unlink()
    for stale in folder.glob(".*.pull.sqlite3*"):
        stale.unlink()
    try:
        found = discover(folder)
    except InputProblem as exc:
        raise PullProblem(str(exc)) from None
    if found:
        files = ", ".join(str(p) for s in found.values() for p in s.files)
        raise PullProblem(files)


def pull(
    target: Target,
    folder: Path,
    *,
    client: str | None = None,
    limits: Limits | None = None,
    on_progress: Progress | None = None,
) -> Pull:
    """Pull every shared data set of ``target``'s sharing URL as ``[credentials]`` (or ``[clients.<client>]``) into
    ``folder``; ``pull.json`` is written whatever ends the pull (Ctrl-C is re-raised after it)."""
    limits = limits or Limits()
    if ROLE not in target.urls:
        raise PullProblem(f"[urls] {ROLE}")
    if client is not None and target.client(client) is None:
        raise PullProblem(f"[clients.{client}]")
    prepare(folder)
    creds = target.client(client) if client else target.credentials
    http = target.http_client(ROLE, client, evidence=_Recent())
    account = Pull(
        target.source or target.name,
        target.name,
        target.url(ROLE),
        creds.client_id if creds else None,
        folder,
        limits,
        started_at=_now(),
    )
    try:
        refusal = _token(http)
        for name, ds in data_sets().items():
            one = DataSetPull(name)
            account.data_sets.append(one)
            if refusal is not None:
                one.status, one.http_status, one.reason = refusal
            else:
                _pull_one(http, ds, folder, limits, one, on_progress)
            if on_progress:
                on_progress(one, True)
    except KeyboardInterrupt:
        account.interrupted = True
        raise
    finally:
        account.finished_at = _now()
        write_account(account)
    return account


def write_account(account: Pull) -> Path:
    """``pull.json``, validated against its schema first (a broken account is a harness error, never written)."""
    doc = account.as_dict()
    v = validator(PULL_SCHEMA)
    if not v.is_valid(doc):
        raise ValueError(
            "pull.json breaks its schema: " + "; ".join(f"{e.path}: {e.message('en')}" for e in v.errors(doc))
        )
    path = account.folder / PULL_FILE
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return path


def _token(http: TargetClient) -> tuple[str, int | None, str] | None:
    """Why no request can be made as this credential (status, HTTP status, reason), or None: a token was granted
    (or none is needed)."""
    try:
        http.token()
    except PermissionError:
        last = http.evidence.exchanges[-1] if http.evidence.exchanges else None
        status = last.status if last else None
        if status is None:
            why = (last.error if last else None) or "no answer"
            return FAILED, None, f"令牌端点无应答 / the token endpoint gave no answer: {why[:300]}"
        return REFUSED, status, f"令牌请求被拒绝（HTTP {status}）/ the token request was refused (HTTP {status})"
    return None


def _page(
    http: TargetClient, ds: DataSet, cursor: str | None, limit: int, deadline: float, attempts: int
) -> changes.Page:
    """One page, tried again on no answer, a 5xx or a 429 while attempts and time are left."""
    for attempt in range(1, attempts + 1):
        page = changes.read(http, ds, cursor, limit)
        status = page.response.status
        if page.data is not None or attempt == attempts:
            return page
        if status == 429:
            wait, _problems = retry_after(page.response.header("Retry-After"), page.response.json(), "changes")
            if wait is None:
                return page  # no plausible wait: not obeyed
        elif status is None or status >= 500:
            wait = 2 ** (attempt - 1)
        else:
            return page
        if time.monotonic() + wait >= deadline:
            return page
        time.sleep(wait)
    raise AssertionError("unreachable")


def _stop(one: DataSetPull, status: int | None, reason: str) -> None:
    if one.pages == 0:
        one.status = REFUSED if status in (401, 403) else FAILED
    else:
        one.status = INCOMPLETE
    one.http_status = status
    one.reason = reason


def _pull_one(
    http: TargetClient, ds: DataSet, folder: Path, limits: Limits, one: DataSetPull, on_progress: Progress | None
) -> None:
    """Read ``ds``'s feed to its end into ``folder/<name>.jsonl`` (or say why not, in ``one``)."""
    start = time.monotonic()
    deadline = start + limits.seconds
    limit = max_limit(ds)
    staging = folder / f".{ds.name}.pull.sqlite3"
    db = sqlite3.connect(staging)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE latest (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, record TEXT NOT NULL)")
        cursor: str | None = None
        last_seq = 0
        told = start
        while True:
            if one.pages >= limits.pages or time.monotonic() >= deadline:
                _stop(
                    one,
                    None,
                    f"达到拉取上限（{one.pages} 页，{time.monotonic() - start:.0f} 秒），增量同步仍有更多变更 / "
                    f"pull bound reached ({one.pages} pages, {time.monotonic() - start:.0f} s) while the feed "
                    "still had more",
                )
                break
            try:
                page = _page(http, ds, cursor, limit, deadline, limits.attempts)
            except PermissionError as exc:  # a 401, and the token could not be renewed
                _stop(one, 401, f"令牌无法续期：{exc} / the token could not be renewed: {exc}")
                break
            if page.data is None:
                _stop(one, page.response.status, page.problem or "")
                break
            items = page.data["items"]
            seqs = [item["seq"] for item in items]
            if any(b <= a for a, b in zip([last_seq, *seqs], seqs, strict=False)):
                _stop(
                    one,
                    200,
                    f"变更序号未严格递增（第 {one.pages + 1} 页）/ change numbers not strictly increasing "
                    f"(page {one.pages + 1})",
                )
                break
            for item in items:
                if item["operation"] == "DELETE":
                    db.execute("DELETE FROM latest WHERE key = ?", (item["key"],))
                    one.deletions += 1
                else:
                    record = orjson.dumps(item["record"]).decode()
                    db.execute("INSERT OR REPLACE INTO latest VALUES (?, ?, ?)", (item["key"], item["seq"], record))
            one.pages += 1
            one.changes += len(items)
            last_seq = seqs[-1] if seqs else last_seq
            nxt = page.data["nextCursor"]
            one.cursor = nxt
            if not page.data["hasMore"]:
                one.records = _write(db, folder / f"{ds.name}.jsonl")
                one.status, one.file, one.http_status = COMPLETE, f"{ds.name}.jsonl", 200
                break
            if not items or nxt == cursor:
                _stop(
                    one,
                    200,
                    "增量同步声称还有更多（hasMore）却不前进（没有变更或游标不变）/ the feed says it has more but does "
                    "not advance (no changes, or the same cursor)",
                )
                break
            cursor = nxt
            if on_progress and time.monotonic() - told >= PROGRESS_S:
                told = time.monotonic()
                one.seconds = told - start
                on_progress(one, False)
        if one.status != COMPLETE:
            one.records = db.execute("SELECT count(*) FROM latest").fetchone()[0]
    except KeyboardInterrupt:
        _stop(one, None, "拉取被中断（Ctrl-C）/ the pull was interrupted (Ctrl-C)")
        raise
    finally:
        one.seconds = time.monotonic() - start
        db.close()
        staging.unlink(missing_ok=True)


def _write(db: sqlite3.Connection, path: Path) -> int:
    """The latest version of every key, in the order of its last change; written whole or not at all."""
    part = path.with_name(path.name + ".part")
    n = 0
    with part.open("w", encoding="utf-8") as out:
        for (record,) in db.execute("SELECT record FROM latest ORDER BY seq"):
            out.write(record + "\n")
            n += 1
    os.replace(part, path)
    return n
