"""The reference server's embedded SQLite store: WAL, durable commits (synchronous=FULL).

One write connection, used from the event loop's thread: every write is serialised, so a
transaction that allocates a dossier code or records a push id can never race another.

Durability and readers: a reader is served only committed, durable state. A commit here is
durable when it returns (WAL, ``synchronous=FULL``), but a group commit (:meth:`Database.grouped`)
keeps writes of acknowledged-later pushes uncommitted on the write connection for a moment. So
:meth:`Database.one` and :meth:`Database.all` outside a write block (``with db.write()``, or the
work of a group) never read through an open transaction: while the write connection holds one,
they go through a second, read-only connection, which sees only what is committed; otherwise
through the write connection itself (its view is then exactly the committed state, and its page
cache is warm). Inside a write block they read the write's own view (a handler that writes reads
its own writes). The one read outside a write that must see the open group is the message-id
look-up of idempotent pushes (:meth:`Database.message`): a repeat of a message still in the group
is recognised and answered only once the group is durable. Hence a change number (``changes.seq``)
a reader has seen is durable: after a ``kill -9`` it is never given to another change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

_CORE = """
CREATE TABLE IF NOT EXISTS records (
  data_set TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL, updated_at TEXT NOT NULL,
  seq INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (data_set, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, data_set TEXT NOT NULL, key TEXT NOT NULL, operation TEXT NOT NULL,
  changed_at TEXT NOT NULL, body BLOB);
CREATE INDEX IF NOT EXISTS changes_by_set ON changes (data_set, seq);
CREATE TABLE IF NOT EXISTS messages (
  scope TEXT NOT NULL, message_id TEXT NOT NULL, digest TEXT NOT NULL, status INTEGER NOT NULL, response BLOB NOT NULL,
  PRIMARY KEY (scope, message_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY, time TEXT NOT NULL, client_id TEXT NOT NULL, role TEXT, action TEXT NOT NULL,
  resource TEXT NOT NULL, outcome TEXT NOT NULL, request_id TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


#: Settings of both connections: wait for a lock, and a server-sized page cache and memory-mapped reads (a read by
#: key should not cost a system call).
_SHARED = "PRAGMA busy_timeout=5000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"


def camel(column: str) -> str:
    """A column's (or a setting's) name as the contract spells a field: ``message_id`` → ``messageId``."""
    head, *rest = column.split("_")
    return head + "".join(word.title() for word in rest)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(blob: bytes | str) -> Any:
    return orjson.loads(blob)


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;" + _SHARED)
        self.conn.executescript(_CORE)
        self._depth = 0
        self._group: list[Any] | None = None
        #: committed state only, for reads outside writes while the write connection has a transaction open
        #: (an in-memory database has no second connection, and nothing of it is durable anyway)
        self.reader: sqlite3.Connection | None = None if str(path) == ":memory:" else self._open_reader()

    def _open_reader(self) -> sqlite3.Connection:
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.executescript("PRAGMA query_only=ON;" + _SHARED)
        return conn

    def _view(self) -> sqlite3.Connection:
        """The connection a read goes through: the write's own view inside a write block, else committed state."""
        if self._depth or self.reader is None or not self.conn.in_transaction:
            return self.conn
        return self.reader  # a group commit is open: its writes are not durable yet

    def ensure(self, ddl: str) -> None:
        """Create a role's own tables (idempotent DDL)."""
        self.conn.executescript(ddl)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A durable write transaction: committed (synced to disk) when the block ends.

        Nested calls join the outer block. If a group commit is open (see :meth:`grouped`), the
        block joins it under a savepoint and then commits the whole group at once.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        if self._group is not None:
            with self._savepoint():
                yield self.conn
            self.commit_group()
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ group commit
    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self.conn.execute("SAVEPOINT w")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK TO w")
            self.conn.execute("RELEASE w")
            raise
        self._depth = 0
        self.conn.execute("RELEASE w")

    @contextmanager
    def grouped(self) -> Iterator[sqlite3.Connection]:
        """Writes that will be made durable together with those of other requests (group commit).

        The block's writes go into the open group transaction under a savepoint (an error rolls back
        this block only). The caller must then ``await durable()`` before acknowledging: the group is
        committed — one disk sync for every request that joined it — once the requests already
        waiting in the event loop have had their turn.
        """
        if self._depth:
            with self.write() as c:
                yield c
            return
        if self._group is None:
            import asyncio

            self.conn.execute("BEGIN IMMEDIATE")
            self._group = []
            asyncio.get_running_loop().call_soon(self.commit_group)
        with self._savepoint():
            yield self.conn

    async def durable(self) -> None:
        """Wait until the writes made so far are committed."""
        if self._group is None:
            return
        import asyncio

        waiter = asyncio.get_running_loop().create_future()
        self._group.append(waiter)
        await waiter

    def commit_group(self) -> None:
        if self._group is None:
            return
        waiters, self._group = self._group, None
        try:
            self.conn.execute("COMMIT")
        except BaseException as exc:
            self.conn.execute("ROLLBACK") if self.conn.in_transaction else None
            for w in waiters:
                if not w.done():
                    w.set_exception(exc)
            raise
        for w in waiters:
            if not w.done():
                w.set_result(None)

    def one(self, sql: str, *args: Any) -> Any:
        """The first row of a query: committed state outside a write block, the write's own view inside one."""
        return self._view().execute(sql, args).fetchone()

    def all(self, sql: str, *args: Any) -> list[Any]:
        """Every row of a query (or of a statement with ``RETURNING``, inside a write block); see :meth:`one`."""
        return self._view().execute(sql, args).fetchall()

    def records(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """The rows of a query as dicts, each value under its column's name in camelCase (:func:`camel`)."""
        cursor = self._view().execute(sql, args)
        keys = [camel(column[0]) for column in cursor.description]
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def meta(self, name: str, default: str | None = None) -> str | None:
        row = self.one("SELECT value FROM meta WHERE name = ?", name)
        return row[0] if row else default

    def set_meta(self, name: str, value: str) -> None:
        with self.write() as c:
            c.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    # ------------------------------------------------------------------ generic records (data sets)
    def get_record(self, data_set: str, key: str) -> Any | None:
        row = self.one("SELECT body FROM records WHERE data_set = ? AND key = ? AND deleted = 0", data_set, key)
        return loads(row[0]) if row else None

    def put_record(self, data_set: str, key: str, body: Any, at: str, operation: str | None = None) -> str:
        """Insert or update a record and log the change; returns UPLOAD or UPDATE (or the given one)."""
        with self.write() as c:
            exists = c.execute("SELECT deleted FROM records WHERE data_set = ? AND key = ?", (data_set, key)).fetchone()
            op = operation or ("UPDATE" if exists and not exists[0] else "UPLOAD")
            blob = dumps(body)
            cur = c.execute(
                "INSERT INTO changes (data_set, key, operation, changed_at, body) VALUES (?, ?, ?, ?, ?)",
                (data_set, key, op, at, blob),
            )
            c.execute(
                "INSERT INTO records (data_set, key, body, updated_at, seq, deleted) VALUES (?, ?, ?, ?, ?, 0) "
                "ON CONFLICT(data_set, key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, "
                "seq = excluded.seq, deleted = 0",
                (data_set, key, blob, at, cur.lastrowid),
            )
            return op

    def delete_record(self, data_set: str, key: str, at: str) -> bool:
        with self.write() as c:
            row = c.execute("SELECT deleted FROM records WHERE data_set = ? AND key = ?", (data_set, key)).fetchone()
            if not row or row[0]:
                return False
            cur = c.execute(
                "INSERT INTO changes (data_set, key, operation, changed_at, body) VALUES (?, ?, 'DELETE', ?, NULL)",
                (data_set, key, at),
            )
            c.execute(
                "UPDATE records SET deleted = 1, updated_at = ?, seq = ? WHERE data_set = ? AND key = ?",
                (at, cur.lastrowid, data_set, key),
            )
            return True

    # ------------------------------------------------------------------ idempotent messages
    def message(self, scope: str, message_id: str) -> tuple[str, int, Any] | None:
        """The stored receipt of a message id, including one still in the open group commit (the caller then
        awaits :meth:`durable` before answering): a repeat is never processed a second time."""
        row = self.conn.execute(
            "SELECT digest, status, response FROM messages WHERE scope = ? AND message_id = ?", (scope, message_id)
        ).fetchone()
        return (row[0], row[1], loads(row[2])) if row else None

    def remember_message(self, scope: str, message_id: str, digest: str, status: int, response: Any) -> None:
        with self.write() as c:
            c.execute(
                "INSERT INTO messages (scope, message_id, digest, status, response) VALUES (?, ?, ?, ?, ?)",
                (scope, message_id, digest, status, dumps(response)),
            )

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        self.conn.close()
