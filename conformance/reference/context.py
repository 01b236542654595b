"""What a handler of the reference server sees (``Ctx``) and returns (``Reply``), and the
registry that maps operation ids of ``schemas/openapi`` to handlers."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.clock import CHINA
from conformance.contract.openapi import Operation
from conformance.reference.defects import D

if TYPE_CHECKING:
    from conformance.reference.security import Client, Token
    from conformance.reference.server_state import RoleServer


_NOW: list[Any] = [0, ""]


def now_iso() -> str:
    """Current time, GB/T 7408 extended format with offset (+08:00), to the second."""
    second = int(time.time())
    if _NOW[0] != second:
        _NOW[0], _NOW[1] = second, dt.datetime.fromtimestamp(second, CHINA).isoformat(timespec="seconds")
    return str(_NOW[1])


#: ``RoleServer.extras`` key of the role's public base URL (see :attr:`Ctx.base_url`).
BASE_URL_KEY = "base_url"
#: ``RoleServer.extras`` key of the role's callbacks in the dialect the server serves (a
#: :class:`conformance.binding.callbacks.Callbacks`; absent when it speaks the canonical contracts)
CALLBACKS_KEY = "callbacks"
#: ``RoleServer.extras`` key: outbox target (``callback:<base>``) → the callback operation it receives
CALLBACK_TARGETS_KEY = "callback_targets"


def _from_request(scope: dict[str, Any]) -> str:
    """Scheme, ``Host`` header and mount prefix of a request (the defect ``host-header-trusted`` only)."""
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
    if host is None and scope.get("server"):
        host = f"{scope['server'][0]}:{scope['server'][1]}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")


@dataclass
class Reply:
    data: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (XML, OFD, PDF, images)
    media_type: str | None = None
    envelope: bool = True  # False: data is the whole JSON body (the RFC 6749 token endpoint)
    message: str = "成功"


@dataclass
class Ctx:
    op: Operation
    server: RoleServer
    request_id: str
    headers: Any
    #: the path and query parameters, typed (``serving.params.read_params``)
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    body_bytes: bytes = b""
    client: Client | None = None
    token: Token | None = None
    scope: dict[str, Any] = field(default_factory=dict)
    #: set when the handler wrote its audit entry inside its own transaction (one disk sync per write)
    audited: bool = False

    @property
    def base_url(self) -> str:
        """The public base URL of this role, what every absolute URL the server emits starts with (``Location``,
        download and reference addresses): the configured one (``ServerConfig.public_url``, else the address the
        server listens on; plus ``/<role>`` under ``--role all``), set by ``server.make_servers``. Never taken from
        the request: its ``Host`` (and ``X-Forwarded-*``) are the client's to write, and a URL built from them
        sends the next caller, with its token, wherever the client chose. A role server without one (built by
        hand, or listening on a wildcard address) gets the mount prefix alone: its URLs are relative references.
        Under the defect ``host-header-trusted`` the request's scheme and ``Host`` are used, as before."""
        if D.HOST_HEADER_TRUSTED in self.server.defects:
            return _from_request(self.scope)
        configured = self.server.extras.get(BASE_URL_KEY)
        if isinstance(configured, str):
            return configured
        return str(self.scope.get("root_path", "")).rstrip("/")

    @property
    def db(self) -> Any:
        return self.server.db

    def defect(self, name: str) -> bool:
        return name in self.server.defects

    def audit(self, action: str, resource: str, outcome: str = "success", *, durable: bool = False) -> None:
        self.server.audit.append(
            time=now_iso(),
            client_id=self.client.id if self.client else "anonymous",
            role=self.server.role,
            action=action,
            resource=resource,
            outcome=outcome,
            request_id=self.request_id,
            durable=durable,
        )


Handler = Callable[[Ctx], Awaitable[Reply]]

#: Handlers by operation id, filled by the role modules with :func:`operation`.
HANDLERS: dict[str, Handler] = {}
#: Handler factories for families of operations (e.g. the six sharing data sets).
FACTORIES: list[Callable[[Operation], Handler | None]] = []
#: Demo-data seeders by role: ``seed(server, gen)`` fills a new database (``--seed N``).
SEEDERS: dict[str, Callable[[RoleServer, Any], None]] = {}
#: Table creators by role: ``setup(server)`` runs at every start (idempotent DDL, background tasks).
SETUPS: dict[str, Callable[[RoleServer], None]] = {}


def operation(*operation_ids: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for op_id in operation_ids:
            HANDLERS[op_id] = func
        return func

    return register


def handler_for(op: Operation) -> Handler | None:
    """The handler of an operation: ``role:operationId`` first, then the factories (which decide by
    role and shape), then the plain operation id (ids are unique per document, not across roles)."""
    qualified = HANDLERS.get(f"{op.role}:{op.operation_id}")
    if qualified is not None:
        return qualified
    for factory in FACTORIES:
        found = factory(op)
        if found is not None:
            return found
    return HANDLERS.get(op.operation_id)
