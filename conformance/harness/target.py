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
    # owner_uscc = "91420100…"           # the data owner the client acts for (sharing: grants, its access log)

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
    national = 18705                     # 国家平台（认证省级共享平台时：接收其上报，docs/two-tier.md）

    [simulators.urls]                    # simulators already running elsewhere: the harness does not start
    gov-platform = "http://127.0.0.1:18701"   # them and reads their records over their control API

The target itself must be configured to call the simulators (its counterparts' base URLs) and to
accept the harness's pushes; ``[features] sms-gateway = true`` says its SMS gateway can be pointed
at the simulated gateway. Which simulators a run needs depends on the role certified
(:data:`COUNTERPARTS`): a licensing system calls the platform, inspection and supervision; a
government-service platform pushes its applications (T5-5) to the licensing system, which the harness
then plays (``licensing``); a provincial sharing platform reports up to the national platform (``national``,
docs/two-tier.md).

Every key is declared once, in ``schemas/json/target.schema.json`` (types, allowed values, defaults; unknown
tables and keys are errors). :func:`load_target` validates the parsed file against it before reading anything
and raises :class:`TargetFileError` (a ``ValueError``: ``tzsb-conform run`` exits 2) naming every wrong key
by its TOML path, in Chinese or, on request, English (docs/target-file.md).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from conformance.client.http import TargetClient, bind_edge, trust_ca
from conformance.contract import documents as contracts
from conformance.contract.registry import resolve, schema_uri
from conformance.i18n import lang_from

if TYPE_CHECKING:
    from conformance.check.schema import FieldError

#: The schema every target file is validated against (``schemas/json/<name>.schema.json``).
TARGET_SCHEMA = "target"


@dataclass
class Credentials:
    client_id: str
    client_secret: str
    #: the GB/T 2260 division the client is registered for (``division`` of its table), if the target file says
    division: str | None = None
    #: the scopes its static key carries (``scopes``; read only through a binding with ``auth.api_key``)
    scopes: tuple[str, ...] | None = None
    #: the data owner (unit) the client acts for at the sharing platform (``owner_uscc`` of its table), if given
    owner_uscc: str | None = None


#: The counterpart roles the simulators play (conformance/simulators): the keys of ``[simulators.ports]``.
SIMULATED_ROLES: tuple[str, ...] = tuple(
    contracts.json_schema(TARGET_SCHEMA)["properties"]["simulators"]["properties"]["ports"]["properties"]
)
#: The simulators the harness plays when it certifies a role (the role's counterparts that call it or that it calls).
COUNTERPARTS: dict[str, tuple[str, ...]] = {
    "licensing": ("gov-platform", "inspection", "supervision"),
    "gov-platform": ("licensing",),
    # a provincial sharing platform reports up to the national platform and applies its push-down (docs/two-tier.md)
    "sharing": ("national",),
}
#: The feature a role's target declares when the harness is to play a counterpart of it (a sharing platform plays
#: the national one only for a platform that reports up); other counterparts are always played.
COUNTERPART_FEATURE: dict[str, str] = {"national": "upstream-exchange"}


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
    #: the vendor's dialect the system under test calls the simulators in (the target's ``[binding]``)
    binding: Path | None = None

    @property
    def external(self) -> bool:
        """The simulators run elsewhere (the target file gives their URLs): the harness does not start them."""
        return bool(self.urls)


def _simulators(data: dict[str, Any]) -> SimulatorSettings:
    """``[simulators]`` of a file already validated against the schema (its defaults are the dataclass's)."""
    token = data.get("control_token")
    if token is None and data.get("control_token_env"):
        token = os.environ.get(str(data["control_token_env"]))
    d = SimulatorSettings()
    return replace(
        d,
        # the scalars with a default, as the dataclass types them (a TOML integer for a number of seconds: a float)
        **{k: type(v)(data[k]) for k, v in vars(d).items() if k in data and isinstance(v, str | float | bool)},
        ports={k: int(v) for k, v in data.get("ports", {}).items()},
        urls={k: str(v).rstrip("/") for k, v in data.get("urls", {}).items()},
        control_token=str(token) if token else None,
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
    #: the vendor's dialect the target speaks (``[binding] file``, docs/bindings.md); None: the canonical contracts
    binding: Path | None = None

    def url(self, role: str | None = None) -> str:
        role = role or self.role
        if role not in self.urls:
            raise KeyError(f"the target declares no base URL for role {role}")
        return self.urls[role].rstrip("/")

    def client(self, name: str) -> Credentials | None:
        return self.clients.get(name)

    def http_client(self, role: str | None = None, name: str | None = None, **kw: Any) -> TargetClient:
        """A safe client of ``role``'s base URL as client ``name`` (None: ``[credentials]``), trusting ``[tls]``."""
        creds = self.client(name) if name else self.credentials
        return TargetClient(
            self.url(role),
            client_id=creds.client_id if creds else None,
            client_secret=creds.client_secret if creds else None,
            ca_file=self.ca_file,
            key_scopes=creds.scopes if creds else None,
            **kw,
        )


def _scopes(spec: dict[str, Any], where: str) -> tuple[str, ...] | None:
    """``scopes`` of a client table: each one a scope the contract declares."""
    if "scopes" not in spec:
        return None
    flows = contracts.openapi("common")["components"]["securitySchemes"]["clientCredentials"]["flows"]
    unknown = [s for s in spec["scopes"] if s not in flows["clientCredentials"]["scopes"]]
    if unknown:
        raise ValueError(
            f"[{where}] scopes：契约中没有权限范围 {', '.join(unknown)} / the contract declares no scope {', '.join(unknown)}"
        )
    return tuple(spec["scopes"])


def _secret(spec: dict[str, Any], where: str) -> str:
    if "client_secret" in spec:
        return str(spec["client_secret"])
    env = spec.get("client_secret_env")
    if env:
        if env not in os.environ:
            raise ValueError(
                f"[{where}] 环境变量 {env}（客户端密钥）未设置 / [{where}] environment variable {env} (client secret) is not set"
            )
        return os.environ[env]
    raise ValueError(
        f"[{where}] 须给出 client_secret 或 client_secret_env / [{where}] give client_secret or client_secret_env"
    )


def _binding_file(table: dict[str, Any], path: Path) -> Path | None:
    """``[binding] file``, relative to the target file."""
    if not table.get("file"):
        return None
    file = (path.parent / str(table["file"])).resolve()
    if not file.is_file():
        raise ValueError(f"{path} [binding] file：找不到文件 {file} / [binding] file {file} not found")
    return file


def bind_target(t: Target) -> None:
    """Send the harness's traffic to each of the target's roles through its binding (read and checked here: a
    binding that cannot be used stops the run before any request)."""
    from conformance.binding.callbacks import Callbacks
    from conformance.binding.dialect import Dialect
    from conformance.binding.edge import BindingEdge
    from conformance.binding.model import load

    binding = load(t.binding)  # type: ignore[arg-type]
    for role in t.urls:
        Callbacks(binding, role)  # the callbacks it makes (notifications, corrected reports) paired, or stop here

    def secrets() -> dict[str, str]:
        clients = [t.credentials, *t.clients.values()]
        return {c.client_id: c.client_secret for c in clients if c is not None and c.client_id and c.client_secret}

    own = {u.rstrip("/") for u in t.simulators.urls.values()}  # the harness's own simulators speak to it canonically
    for role, url in t.urls.items():
        if url.rstrip("/") not in own:
            bind_edge(url, BindingEdge(Dialect(binding, role, secrets), url))
    t.simulators.binding = t.binding


def _ca_file(tls: dict[str, Any], path: Path) -> str | None:
    """``[tls] ca_file``, relative to the target file."""
    ca = tls.get("ca_file")
    if not ca:
        return None
    file = (path.parent / str(ca)).resolve()
    if not file.is_file():
        raise ValueError(f"{path} [tls] ca_file：找不到文件 {file} / [tls] ca_file {file} not found")
    return str(file)


class TargetFileError(ValueError):
    """A target file that is not TOML, or does not conform to ``target.schema.json``: every problem with the
    TOML path of its key (``[run] deadline_s``), in Chinese, or in English when ``lang`` is ``en``."""

    def __init__(self, path: str, problems: list[FieldError], *, lang: str = "zh", data: Any = None) -> None:
        self.path = path
        self.problems = problems
        self.lang = lang
        self._data = data
        super().__init__(self.message(lang))

    def message(self, lang: str = "zh") -> str:
        en = lang == "en"
        n = len(self.problems)
        head = (
            f"target file {self.path} does not conform to schemas/json/target.schema.json ({n} problem{'s' * (n != 1)}):"
            if en
            else f"目标文件 {self.path} 不符合 schemas/json/target.schema.json（{n} 处）："
        )
        lines = [head]
        for e in self.problems[:MAX_SHOWN]:
            where = key_path(e.path, self._data) or ("(top level)" if en else "（文件顶层）")
            text = e.message(lang) + _allowed_keys(e, lang)
            lines.append(f"  {where}{': ' if en else '：'}{text}")
        if n > MAX_SHOWN:
            lines.append(f"  … ({n - MAX_SHOWN} more)" if en else f"  …（另有 {n - MAX_SHOWN} 处）")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message(self.lang)


#: Problems of one target file shown in the error (all are kept in ``TargetFileError.problems``).
MAX_SHOWN = 20
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _pointer_parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def key_path(pointer: str, data: Any = None) -> str:
    """A JSON Pointer into a parsed target file as the TOML reader sees it: the table, then the key
    (``/simulators/ports/sharing`` → ``[simulators.ports] sharing``, ``/thresholds/report_numbers/0`` →
    ``[thresholds] report_numbers[0]``, ``/role`` → ``role``, ``/run`` → ``[run]``)."""
    parts = _pointer_parts(pointer)
    table: list[str] = []
    node = data
    while parts and isinstance(node, dict) and isinstance(node.get(parts[0]), dict):
        node = node[parts[0]]
        table.append(parts.pop(0))
    if not parts:  # the table itself
        return "[" + ".".join(map(_toml_key, table)) + "]" if table else ""
    key = _toml_key(parts[0]) + "".join(f"[{p}]" if p.isdigit() else f".{_toml_key(p)}" for p in parts[1:])
    return ("[" + ".".join(map(_toml_key, table)) + "] " if table else "") + key


def _schema_at(parts: list[str]) -> dict[str, Any]:
    """The schema of ``target.schema.json`` that applies at a path of plain objects (a ``$ref`` followed)."""
    node = contracts.json_schema(TARGET_SCHEMA)
    for p in parts:
        props, extra = node.get("properties") or {}, node.get("additionalProperties")
        node = props[p] if p in props else extra if isinstance(extra, dict) else {}
        if isinstance(node.get("$ref"), str):
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**resolve(urljoin(schema_uri(TARGET_SCHEMA), node["$ref"])), **siblings}
    return node


def _allowed_keys(e: FieldError, lang: str) -> str:
    """For an unknown key: the keys its table allows (a misspelt key is found at a glance)."""
    if e.keyword != "additionalProperties":
        return ""
    allowed = list(_schema_at(_pointer_parts(e.path)[:-1]).get("properties") or {})
    if not allowed:
        return ""
    return f" (allowed: {', '.join(allowed)})" if lang == "en" else f"（可用的键：{'、'.join(allowed)}）"


def _toml_values(data: Any, path: tuple[Any, ...] = ()) -> tuple[Any, list[FieldError]]:
    """``data`` with TOML's date and time values, which no key accepts, replaced by their ISO text; and an
    error for each of them (the schema then judges the rest)."""
    from conformance.check.schema import FieldError, pointer

    if isinstance(data, dict):
        pairs = {k: _toml_values(v, (*path, k)) for k, v in data.items()}
        return {k: v for k, (v, _) in pairs.items()}, [p for _, more in pairs.values() for p in more]
    if isinstance(data, list):
        items = [_toml_values(v, (*path, i)) for i, v in enumerate(data)]
        return [v for v, _ in items], [p for _, more in items for p in more]
    if isinstance(data, dt.date | dt.time):
        zh = f"取值类型错误：不接受 TOML 日期时间 {data.isoformat()}（字符串须加引号）"
        en = f"a TOML date/time ({data.isoformat()}) is not accepted here (quote strings)"
        return data.isoformat(), [FieldError(pointer(path), "type", zh, en)]
    return data, []


def validate_target_data(data: dict[str, Any], source: str, *, lang: str | None = None) -> None:
    """Raise :class:`TargetFileError` unless ``data`` (a parsed target file) conforms to ``target.schema.json``.
    Identifier values (divisions, USCCs) are checked leniently: a code outside the shipped tables only warns."""
    from conformance.check.schema import validator

    instance, problems = _toml_values(data)
    v = validator(TARGET_SCHEMA, strict=False)
    if problems or not v.is_valid(instance):
        found = v.errors(instance)
        unknown = {e.path for e in found if e.keyword == "additionalProperties"}
        dated = {p.path for p in problems} - unknown  # an unknown key is reported as such, whatever its value
        problems = [p for p in problems if p.path in dated] + [e for e in found if e.path not in dated]
        problems.sort(key=lambda e: e.path)
        raise TargetFileError(source, problems, lang=lang or lang_from(sys.argv[1:]), data=data)


def read_target_file(path: Path, *, lang: str | None = None) -> dict[str, Any]:
    """A target file parsed and validated (:func:`validate_target_data`); a file that is not TOML is a
    :class:`ValueError` saying so in Chinese or English."""
    lang = lang or lang_from(sys.argv[1:])  # the command line's --lang, else TZSB_LANG, else Chinese
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(
            f"target file {path} is not valid TOML: {exc}"
            if lang == "en"
            else f"目标文件 {path} 不是有效的 TOML：{exc}"
        ) from exc
    validate_target_data(data, str(path), lang=lang)
    return data


def load_target(
    spec: str,
    *,
    role: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    features: list[str] | None = None,
    profile: str | None = None,
    lang: str | None = None,
) -> Target:
    """A target from a URL (with ``role``) or from a TOML file; command-line values override. ``lang``: the
    language of a :class:`TargetFileError` (default: the command line's ``--lang``, else ``TZSB_LANG``, else
    Chinese)."""
    if spec.startswith(("http://", "https://")):
        if not role:
            raise ValueError(
                "以 URL 给出的目标须指明角色（--role）/ a target given as a URL needs a role (--tzsb-role)"
            )
        t = Target(name=spec, role=role, urls={role: spec}, source=spec)
    else:
        path = Path(spec)
        data = read_target_file(path, lang=lang)
        creds = data.get("credentials")
        t = Target(
            name=data.get("name", path.stem),
            role=role or data.get("role", ""),
            urls=dict(data.get("urls", {})),
            credentials=(
                Credentials(creds["client_id"], _secret(creds, "credentials"), scopes=_scopes(creds, "credentials"))
                if creds
                else None
            ),
            clients={
                k: Credentials(
                    v["client_id"],
                    _secret(v, f"clients.{k}"),
                    v.get("division"),
                    _scopes(v, f"clients.{k}"),
                    v.get("owner_uscc"),
                )
                for k, v in data.get("clients", {}).items()
            },
            features={k for k, v in data.get("features", {}).items() if v},
            thresholds=dict(data.get("thresholds", {})),
            profile=data.get("profile", "quick"),
            source=str(path),
            simulators=_simulators(dict(data.get("simulators", {}))),
            ca_file=_ca_file(data.get("tls", {}), path),
            run=dict(data.get("run", {})),
            binding=_binding_file(data.get("binding", {}), path),
        )
        if not t.role:
            raise ValueError(f"{path}：未给出被测角色（role 或 --role）/ no role given (role or --role)")
    if t.ca_file:
        for url in t.urls.values():
            trust_ca(url, t.ca_file)
    if client_id:
        t.credentials = Credentials(client_id, client_secret or "")
    own = {u.rstrip("/") for u in t.simulators.urls.values()}  # the simulators' dialect is their server's to set
    for url in t.urls.values():
        if url.rstrip("/") not in own:
            bind_edge(url, None)  # this target's own dialect only, never one an earlier run of this process left
    if t.binding is not None:
        bind_target(t)
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
