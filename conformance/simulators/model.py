"""What a simulator holds and answers with: the calls it received (:class:`InboundCall`), the faults it was told to
inject (:class:`Fault`), its state (:class:`SimulatorState`), the reply a behaviour raises (:class:`Reply`, :func:`error`).
Shared by the HTTP server and the role behaviours, which do not import each other's internals."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import KW_ONLY, asdict, dataclass, field
from typing import Any

from conformance.clock import CHINA


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).astimezone(CHINA).isoformat(timespec="milliseconds")


@dataclass(eq=False)
class Reply(Exception):
    """An answer (raised by a behaviour to end processing): status, JSON envelope data or raw bytes."""

    status: int
    data: Any = None
    _: KW_ONLY
    code: str = "OK"
    message: str = "成功"
    message_en: str = ""
    errors: list[dict[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    media_type: str = "application/json"
    envelope: bool = True

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}")
        self.headers = dict(self.headers or {})


def error(
    status: int,
    code: str,
    zh: str,
    en: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    return Reply(status, None, code=code, message=zh, message_en=en, errors=errors, headers=headers)


@dataclass
class InboundCall:
    """One call the system under test made to a simulator, and the answer it got."""

    seq: int
    simulator: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str | None
    json: Any
    received_at: str
    t: float
    operation: str | None = None
    interface: str | None = None
    client_id: str | None = None
    status: int | None = None
    answer: Any = None
    answer_headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    problems: list[str] = field(default_factory=list)
    duplicate: bool = False
    answered_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Fault:
    """The next calls matching ``match`` (keys: operation, interface, caseNo, messageId) get ``actions`` in turn."""

    match: dict[str, str]
    actions: list[str]
    used: int = 0

    def matches(self, call: InboundCall) -> bool:
        body = call.json if isinstance(call.json, dict) else {}
        for key, want in self.match.items():
            if key == "operation" and call.operation != want:
                return False
            if key == "interface" and call.interface != want:
                return False
            if key in ("caseNo", "messageId") and body.get(key) != want and not (key == "caseNo" and want in call.path):
                return False
        return self.used < len(self.actions)


class SimulatorState:
    """Data, records and faults of one simulator (thread-safe: one lock)."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.lock = threading.RLock()
        self.calls: list[InboundCall] = []
        self.faults: list[Fault] = []
        self.tokens: dict[str, str] = {}
        self.receipts: dict[tuple[str, str], tuple[str, int, Any]] = {}
        self.cases: dict[str, dict[str, Any]] = {}
        self.users: dict[tuple[str, str], dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.licences: dict[str, dict[str, Any]] = {}
        self.downloads: dict[str, str] = {}
        self.objections: dict[str, dict[str, Any]] = {}
        self.units: dict[str, dict[str, Any]] = {}
        self.registrations: dict[str, dict[str, Any]] = {}
        #: licensing: the applications pushed (T5-5), by case number, in the order received
        self.applications: dict[str, list[dict[str, Any]]] = {}
        #: case numbers the harness has taken for a test (control API ``claims``): each case serves one test
        self.claims: set[str] = set()
        #: national: the records reported up, by data set and key (None: deleted), and every change in order
        self.shared: dict[str, dict[str, dict[str, Any] | None]] = {}
        self.changes: list[dict[str, Any]] = []

    def next_fault(self, call: InboundCall) -> str | None:
        with self.lock:
            for f in self.faults:
                if f.matches(call):
                    action = f.actions[f.used]
                    f.used += 1
                    return action
        return None
