"""The harness's side of the simulators: start them, or reach ones already running, over their
control API (``/_simulator/…``); read the calls they recorded, register data, set faults."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import orjson
import requests

from conformance.binding.dialect import Dialect
from conformance.binding.model import load as load_binding
from conformance.client.http import send_bounded
from conformance.contract.openapi import contract_role
from conformance.harness.target import COUNTERPARTS, SimulatorSettings
from conformance.simulators.server import InboundCall, Simulator

#: The simulators started or connected when no roles are named: the licensing system's counterparts.
DEFAULT_ROLES = COUNTERPARTS["licensing"]
#: Connect and read timeouts of a control call (the whole answer within connect + 2 × read).
CONTROL_TIMEOUT = (10.0, 10.0)
#: Largest control answer read (the calls recorded, each body capped at ``server.BODY_CAP``).
CONTROL_MAX_BYTES = 256 * 1024 * 1024


@dataclass
class Call(InboundCall):
    """A recorded inbound call as the control API gives it (the fields of
    :class:`conformance.simulators.server.InboundCall`), plus the simulator's base URL."""

    base_url: str = ""

    @classmethod
    def of(cls, d: dict[str, Any], base_url: str) -> Call:
        known = {f.name for f in fields(InboundCall)}
        return cls(**{k: v for k, v in d.items() if k in known}, base_url=base_url)

    @property
    def key(self) -> str:
        """What the call is: the interface (T5-7 …) or the operation id (sendSms …)."""
        return self.interface or self.operation or f"{self.method} {self.path}"

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def message_id(self) -> str | None:
        body = self.json if isinstance(self.json, dict) else {}
        return body.get("messageId") or self.headers.get("X-Message-Id") or self.headers.get("x-message-id")

    @property
    def case_no(self) -> str | None:
        body = self.json if isinstance(self.json, dict) else {}
        inner = body.get("registration")
        found = body.get("caseNo") or (inner.get("caseNo") if isinstance(inner, dict) else None)
        return str(found) if found else None

    def describe(self) -> str:
        answer = f"→ {self.status}" if self.status is not None else f"→ （{self.fault or '无应答'}）"
        return f"#{self.seq} {self.simulator} {self.method} {self.path} [{self.key}] {answer} @ {self.received_at}"


class SimulatorHandle:
    """One simulator, reached over HTTP (started here or elsewhere)."""

    def __init__(self, role: str, url: str, *, token: str | None = None, local: Simulator | None = None) -> None:
        self.role, self.url, self.token, self.local = role, url.rstrip("/"), token, local
        self.session = requests.Session()
        self.session.trust_env = False
        if token:
            self.session.headers["X-Simulator-Token"] = token

    def _control(self, method: str, what: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One call of the control API, read like every response of the harness (size cap, deadline:
        :func:`conformance.client.http.send_bounded`); anything but a complete 200 with JSON raises."""
        prepared = self.session.prepare_request(
            requests.Request(method, f"{self.url}/_simulator/{what}", json=body, params=params)
        )
        r = send_bounded(self.session, prepared, timeout=CONTROL_TIMEOUT, max_bytes=CONTROL_MAX_BYTES)
        where = f"simulator {self.role} control {method} {what}"
        if r.status != 200 or r.truncated:
            text = r.content[:300].decode("utf-8", errors="replace")
            raise RuntimeError(f"{where}: HTTP {r.status} {r.error or ''} {text}".rstrip())
        try:
            return orjson.loads(r.content)
        except orjson.JSONDecodeError as exc:
            raise RuntimeError(f"{where}: not JSON: {exc}") from exc

    def info(self) -> dict[str, Any]:
        return dict(self._control("GET", "info"))

    def calls(self, since: int = 0) -> list[Call]:
        return [Call.of(d, self.url) for d in self._control("GET", "calls", params={"since": since})["calls"]]

    def fault(self, match: dict[str, str], actions: Iterable[str]) -> None:
        self._control("POST", "faults", {"match": match, "actions": list(actions)})

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def claim(self, case_no: str) -> bool:
        """Take a case the target pushed for one test: True the first time, False when it was taken before."""
        return bool(self._control("POST", "claims", {"caseNo": case_no}).get("claimed"))

    def register_case(self, case_no: str, item_code: str) -> None:
        self._control("POST", "cases", {"caseNo": case_no, "itemCode": item_code})

    def register_user(self, kind: str, user: dict[str, Any]) -> None:
        self._control("POST", "users", {"kind": kind, "user": user})

    def register_report(self, report: dict[str, Any]) -> None:
        self._control("POST", "reports", {"report": report})


@dataclass
class Simulators:
    """The counterparts the harness plays: for a licensing system, the government-service platform (with the
    e-licence library, unified identity authentication and SMS gateway), the inspection and the supervision
    system; for a government-service platform, the licensing system (``licensing``) its pushes reach."""

    handles: dict[str, SimulatorHandle]
    started: list[Simulator] = field(default_factory=list)
    hold_s: float = 35.0

    def __getitem__(self, role: str) -> SimulatorHandle:
        return self.handles[role]

    def urls(self) -> dict[str, str]:
        return {r: h.url for r, h in self.handles.items()}

    def calls(self, since: dict[str, int] | None = None) -> list[Call]:
        """Every recorded call of every simulator, in the order received."""
        out = [c for r, h in self.handles.items() for c in h.calls((since or {}).get(r, 0))]
        return sorted(out, key=lambda c: (c.t, c.simulator, c.seq))

    def marks(self) -> dict[str, int]:
        """The last sequence number of each simulator: calls after it are new."""
        return {r: max((c.seq for c in h.calls()), default=0) for r, h in self.handles.items()}

    def wait_for(
        self,
        predicate: Callable[[list[Call]], Any],
        *,
        timeout: float,
        poll: float = 0.1,
        progress: Callable[[float], None] | None = None,
    ) -> Any:
        """Poll the records until ``predicate(calls)`` is truthy (returned) or ``timeout`` seconds pass (None)."""
        deadline = time.monotonic() + timeout
        last_note = time.monotonic()
        while True:
            found = predicate(self.calls())
            if found:
                return found
            now = time.monotonic()
            if now >= deadline:
                return None
            if progress is not None and now - last_note >= 5:
                progress(deadline - now)
                last_note = now
            time.sleep(poll)

    def clear_faults(self) -> None:
        for h in self.handles.values():
            h.clear_faults()

    def stop(self) -> None:
        for s in self.started:
            s.stop()
        self.started.clear()

    def __enter__(self) -> Simulators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(settings: SimulatorSettings | None = None, *, roles: Iterable[str] = DEFAULT_ROLES) -> Simulators:
    """Start the simulators of ``roles`` in this process (background threads) on the settings' host and ports; with
    the settings' binding they read the calls of the system under test in its dialect and answer in it."""
    settings = settings or SimulatorSettings()
    started: list[Simulator] = []
    binding = load_binding(settings.binding) if settings.binding is not None else None
    try:
        for role in roles:
            started.append(
                Simulator(
                    role,
                    host=settings.host,
                    port=settings.ports.get(role, 0),
                    control_token=settings.control_token,
                    hold_s=settings.hold_s,
                    dialect=Dialect(binding, contract_role(role)) if binding is not None else None,
                ).start()
            )
    except OSError:
        for s in started:
            s.stop()
        raise
    handles = {s.role: SimulatorHandle(s.role, s.url, token=settings.control_token, local=s) for s in started}
    return Simulators(handles, started, settings.hold_s)


def connect(settings: SimulatorSettings, *, roles: Iterable[str] = DEFAULT_ROLES) -> Simulators:
    """The simulators of ``roles`` already running where the target file says (``[simulators.urls]``)."""
    roles = tuple(roles)
    missing = [r for r in roles if r not in settings.urls]
    if missing:
        raise ValueError(f"[simulators.urls] gives no URL for {', '.join(missing)}")
    handles = {r: SimulatorHandle(r, settings.urls[r], token=settings.control_token) for r in roles}
    hold = settings.hold_s
    for h in handles.values():
        info = h.info()
        if info.get("role") != h.role:
            raise ValueError(f"{h.url} is the {info.get('role')} simulator, not {h.role}")
        hold = float(info.get("holdS", hold))
    return Simulators(handles, [], hold)


def for_settings(settings: SimulatorSettings, *, roles: Iterable[str] = DEFAULT_ROLES) -> Simulators:
    return connect(settings, roles=roles) if settings.external else start(settings, roles=roles)
