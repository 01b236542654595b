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
    # division = "420100"                # the division the client is registered for (sharing: its data scope)

    [features]                           # optional features the target claims (others are 不适用)
    workflow-driver = true
    request-signature = false

    [thresholds]
    max_body_bytes = 1048576

    [run]                                # the run's own limits (docs/reliability.md)
    deadline_s = 3600                    # whole-run deadline (default per profile: quick 1800, standard 7200, …)
    breaker_failures = 5                 # requests in a row without any answer that stop the run

    [tls]                                # HTTPS targets: the CA bundle of a private CA (default: the system's)
    ca_file = "ca.pem"                   # relative to the target file

    [simulators]                         # client-side suites: the counterparts the harness plays
    host = "127.0.0.1"                   # where the harness starts them (loopback by default)
    wait_s = 60                          # bound on waiting for each call the target must make
    hold_s = 35                          # a "timeout" fault holds the request this long (> the target's timeout)
    retry_window_s = 180                 # how long the retransmission tests wait for retries
    control_token_env = "TZSB_SIM_TOKEN" # or control_token = "..." (the simulators' control API)
    attended = false                     # no workflow driver: tell an operator what to do, and wait
    attended_timeout_s = 900             # how long one instruction waits for the target's call
    instructions_file = "instructions.jsonl"   # each instruction also appended here as a JSON line

    [simulators.ports]                   # fixed ports the target is configured with (0 or absent: free port)
    gov-platform = 18701                 # 政务服务平台（含电子证照库、统一身份认证、短信网关）
    inspection = 18702                   # 检验检测信息系统
    supervision = 18703                  # 安全监察系统
    licensing = 18704                    # 行政许可应用系统（认证政务服务平台时：接收平台的申请推送 T5-5）

    [simulators.urls]                    # simulators already running elsewhere: the harness does not start
    gov-platform = "http://127.0.0.1:18701"   # them and reads their records over their control API

The target itself must be configured to call the simulators (its counterparts' base URLs) and to
accept the harness's pushes; ``[features] sms-gateway = true`` says its SMS gateway can be pointed
at the simulated gateway. Which simulators a run needs depends on the role certified
(:data:`COUNTERPARTS`): a licensing system calls the platform, inspection and supervision; a
government-service platform pushes its applications (T5-5) to the licensing system, which the harness
then plays (``licensing``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.client.http import trust_ca


@dataclass
class Credentials:
    client_id: str
    client_secret: str
    #: the GB/T 2260 division the client is registered for (``division`` of its table), if the target file says
    division: str | None = None


#: The counterpart roles the simulators play (conformance/simulators).
SIMULATED_ROLES = ("gov-platform", "inspection", "supervision", "licensing")
#: The simulators the harness plays when it certifies a role (the role's counterparts that call it or that it calls).
COUNTERPARTS: dict[str, tuple[str, ...]] = {
    "licensing": ("gov-platform", "inspection", "supervision"),
    "gov-platform": ("licensing",),
}


@dataclass
class SimulatorSettings:
    """``[simulators]`` of the target file (client-side suites); every field has a default."""

    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    control_token: str | None = None
    wait_s: float = 60.0
    hold_s: float = 35.0
    retry_window_s: float = 180.0
    attended: bool = False
    attended_timeout_s: float = 900.0
    instructions_file: str | None = None

    @property
    def external(self) -> bool:
        """The simulators run elsewhere (the target file gives their URLs): the harness does not start them."""
        return bool(self.urls)


def _simulators(data: dict[str, Any], where: str) -> SimulatorSettings:
    unknown = set(data.get("ports", {})) | set(data.get("urls", {}))
    unknown -= set(SIMULATED_ROLES)
    if unknown:
        raise ValueError(
            f"{where}: no simulator for {', '.join(sorted(unknown))} (one of {', '.join(SIMULATED_ROLES)})"
        )
    token = data.get("control_token")
    if token is None and data.get("control_token_env"):
        token = os.environ.get(str(data["control_token_env"]))
    return SimulatorSettings(
        host=str(data.get("host", "127.0.0.1")),
        ports={k: int(v) for k, v in data.get("ports", {}).items()},
        urls={k: str(v).rstrip("/") for k, v in data.get("urls", {}).items()},
        control_token=str(token) if token else None,
        wait_s=float(data.get("wait_s", 60.0)),
        hold_s=float(data.get("hold_s", 35.0)),
        retry_window_s=float(data.get("retry_window_s", 180.0)),
        attended=bool(data.get("attended", False)),
        attended_timeout_s=float(data.get("attended_timeout_s", 900.0)),
        instructions_file=str(data["instructions_file"]) if data.get("instructions_file") else None,
    )


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
    simulators: SimulatorSettings = field(default_factory=SimulatorSettings)
    #: CA bundle that verifies the target's TLS certificates (``[tls] ca_file``); None: the system's trust store
    ca_file: str | None = None
    #: the run's own limits (``[run]``: ``deadline_s``, ``breaker_failures``; conformance.harness.run_guard)
    run: dict[str, Any] = field(default_factory=dict)

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


def _run_limits(run: dict[str, Any], where: str) -> dict[str, Any]:
    """``[run]``: positive numbers only (a zero or negative deadline would stop every run at once)."""
    for key in ("deadline_s", "breaker_failures"):
        if key in run and (not isinstance(run[key], int | float) or isinstance(run[key], bool) or run[key] <= 0):
            raise ValueError(f"{where}: {key} must be a positive number, not {run[key]!r}")
    unknown = set(run) - {"deadline_s", "breaker_failures"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return run


def _ca_file(tls: dict[str, Any], path: Path) -> str | None:
    """``[tls] ca_file``, relative to the target file."""
    ca = tls.get("ca_file")
    if not ca:
        return None
    file = (path.parent / str(ca)).resolve()
    if not file.is_file():
        raise ValueError(f"{path} [tls]: ca_file {file} not found")
    return str(file)


def load_target(
    spec: str,
    *,
    role: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    features: list[str] | None = None,
    profile: str | None = None,
) -> Target:
    """A target from a URL (with ``role``) or from a TOML file; command-line values override."""
    if spec.startswith(("http://", "https://")):
        if not role:
            raise ValueError("a target given as a URL needs a role (--tzsb-role)")
        t = Target(name=spec, role=role, urls={role: spec}, source=spec)
    else:
        path = Path(spec)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        creds = data.get("credentials")
        t = Target(
            name=data.get("name", path.stem),
            role=role or data.get("role", ""),
            urls=dict(data.get("urls", {})),
            credentials=Credentials(creds["client_id"], _secret(creds, "credentials")) if creds else None,
            clients={
                k: Credentials(v["client_id"], _secret(v, f"clients.{k}"), v.get("division"))
                for k, v in data.get("clients", {}).items()
            },
            features={k for k, v in data.get("features", {}).items() if v},
            thresholds=dict(data.get("thresholds", {})),
            profile=data.get("profile", "quick"),
            source=str(path),
            simulators=_simulators(dict(data.get("simulators", {})), f"{path} [simulators]"),
            ca_file=_ca_file(data.get("tls", {}), path),
            run=_run_limits(dict(data.get("run", {})), f"{path} [run]"),
        )
        if not t.role:
            raise ValueError(f"{path}: no role given")
    if t.ca_file:
        for url in t.urls.values():
            trust_ca(url, t.ca_file)
    if client_id:
        t.credentials = Credentials(client_id, client_secret or "")
    if features:
        t.features |= set(features)
    if profile:
        t.profile = profile
    return t


#: ``[thresholds]`` keys of the suites that carry sample values, by the path parameter they fill.
THRESHOLD_SAMPLES = {
    "report_numbers": "reportNo",
    "gov_natural_user_id": "naturalUserId",
    "gov_legal_user_id": "legalUserId",
}


def string_list(value: Any) -> list[str]:
    """A list of strings from a TOML list or one string separated by spaces or commas."""
    if isinstance(value, str):
        value = re.split(r"[\s,，]+", value)
    if not isinstance(value, list):
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def threshold_samples(target: Target) -> dict[str, list[str]]:
    """The sample values the target file's ``[thresholds]`` declare, by the path parameter they fill."""
    out: dict[str, list[str]] = {}
    for key, param in THRESHOLD_SAMPLES.items():
        values = string_list(target.thresholds.get(key))
        if values:
            out[param] = values
    return out
