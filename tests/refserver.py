"""Helpers for tests that run the reference server on loopback (free port, stopped after)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from conformance.reference.server import RunningServer, ServerConfig


@contextmanager
def running(
    tmp_path: Path, role: str = "all", *, defects: tuple[str, ...] = (), seed: int | None = None, **kw: Any
) -> Iterator[RunningServer]:
    cfg = ServerConfig(role=role, db=tmp_path / f"{role}.sqlite3", defects=defects, seed=seed, **kw)
    with RunningServer(cfg) as server:
        yield server


def token(base: str, client: str = "harness", scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials", "client_id": client, "client_secret": f"{client}-secret"}
    if scope:
        data["scope"] = scope
    r = requests.post(f"{base}/oauth/token", data=data, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


class Api:
    """A tiny authenticated client for one role's base URL."""

    def __init__(self, base: str, client: str = "harness") -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(base, client)}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=30, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.session.delete(self.base + path, timeout=30, **kw)


def conforms(role: str, op_id: str, resp: requests.Response) -> Any:
    """The response validates against the contract's schema of that operation for its status; returns ``data``."""
    from conformance.check.schema import validator_at
    from conformance.contract.openapi import role_operations

    op = next(o for o in role_operations(role) if o.operation_id == op_id)
    schema = op.responses[str(resp.status_code)]["application/json"]
    assert schema is not None, f"{op_id}: no JSON schema for status {resp.status_code}"
    v = validator_at(schema)
    body = resp.json()
    assert v.is_valid(body), [e.as_dict() for e in v.errors(body)]
    return body["data"]
