"""The system under test: base URLs per role, credentials, declared features, thresholds.

Given as a URL (one role) or a TOML file::

    name = "某省特种设备安全监管信息共享平台"
    role = "sharing"                      # the role to certify
    profile = "standard"

    [urls]                               # base URL per role it offers
    sharing = "https://share.example.gov.cn/tzsb"

    [credentials]                        # client credentials of the harness at the target
    client_id = "harness"
    client_secret_env = "TZSB_CLIENT_SECRET"   # or client_secret = "..." (not recommended)

    [clients.officer-accept]             # more clients the suites need (workflow posts, limited, ...)
    client_id = "officer-accept"
    client_secret_env = "TZSB_ACCEPT_SECRET"

    [features]                           # optional features the target claims (others are 不适用)
    workflow-driver = true
    request-signature = false

    [thresholds]
    max_body_bytes = 1048576
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Credentials:
    client_id: str
    client_secret: str


@dataclass
class Target:
    name: str
    role: str
    urls: dict[str, str]
    credentials: Credentials | None = None
    clients: dict[str, Credentials] = field(default_factory=dict)
    features: set[str] = field(default_factory=set)
    thresholds: dict[str, Any] = field(default_factory=dict)
    profile: str = "quick"
    source: str = ""

    def url(self, role: str | None = None) -> str:
        role = role or self.role
        if role not in self.urls:
            raise KeyError(f"the target declares no base URL for role {role}")
        return self.urls[role].rstrip("/")

    def client(self, name: str) -> Credentials | None:
        return self.clients.get(name)


def _secret(spec: dict[str, Any], where: str) -> str:
    if "client_secret" in spec:
        return str(spec["client_secret"])
    env = spec.get("client_secret_env")
    if env:
        if env not in os.environ:
            raise ValueError(f"{where}: environment variable {env} (client secret) is not set")
        return os.environ[env]
    raise ValueError(f"{where}: give client_secret or client_secret_env")


def load_target(spec: str, *, role: str | None = None, client_id: str | None = None, client_secret: str | None = None,
                features: list[str] | None = None, profile: str | None = None) -> Target:
    """A target from a URL (with ``role``) or from a TOML file; command-line values override."""
    if spec.startswith(("http://", "https://")):
        if not role:
            raise ValueError("a target given as a URL needs a role (--tzsb-role)")
        t = Target(name=spec, role=role, urls={role: spec}, source=spec)
    else:
        path = Path(spec)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        creds = data.get("credentials")
        t = Target(name=data.get("name", path.stem), role=role or data.get("role", ""), urls=dict(data.get("urls", {})),
                   credentials=Credentials(creds["client_id"], _secret(creds, "credentials")) if creds else None,
                   clients={k: Credentials(v["client_id"], _secret(v, f"clients.{k}")) for k, v in data.get("clients", {}).items()},
                   features={k for k, v in data.get("features", {}).items() if v},
                   thresholds=dict(data.get("thresholds", {})), profile=data.get("profile", "quick"), source=str(path))
        if not t.role:
            raise ValueError(f"{path}: no role given")
    if client_id:
        t.credentials = Credentials(client_id, client_secret or "")
    if features:
        t.features |= set(features)
    if profile:
        t.profile = profile
    return t
