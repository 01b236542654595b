"""State shared by the handlers of one role (or of every role in ``--role all``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from conformance.reference.audit import AuditLog
from conformance.reference.db import Database
from conformance.reference.security import Security

DEFAULT_MAX_BODY = 1024 * 1024


def setting(name: str, default: float) -> float:
    """A number from the environment, read at each use (``default`` when unset or not a number)."""
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class RoleServer:
    role: str
    db: Database
    security: Security
    audit: AuditLog
    defects: frozenset[str] = frozenset()
    max_body: int = DEFAULT_MAX_BODY
    #: base URLs of the counterparts this role calls (gov-platform, inspection, supervision, ...)
    counterparts: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    #: one line per request on stderr (off when the server runs inside another tool, e.g. the self-check)
    access_log: bool = True
    #: role modules keep their own state here (e.g. the licensing outbox worker)
    extras: dict[str, Any] = field(default_factory=dict)

    def add_background(self, *workers: Any) -> None:
        """Run each of ``workers`` (``async worker(server, stop)``) once beside the app (``app.build_app``)."""
        running = self.extras.setdefault("background", [])
        for worker in workers:
            if worker not in running:
                running.append(worker)
