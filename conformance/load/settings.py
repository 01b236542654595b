"""The ``[load]`` section of a target file (read here, so :mod:`conformance.harness.target` stays as it is).

Example::

    [load]
    client = "loadtest"              # a [clients.<name>] of the target file (its own rate limit and quota)
    concurrency = 50                 # the declared concurrency the performance clauses speak of
    writes = "reversible"            # none | reversible (sharing pushes, deleted again) | all
    hosts = ["https://files.example.gov.cn"]   # further origins the load may reach (besides [urls])
    sign = "HMAC-SM3"                # sign every request (optional feature request-signature)
    profile = "certification"        # default profile of `tzsb-conform load` for this target

    [load.thresholds."sharing.get"]  # the supervisor's own numbers (override the profile's)
    p95_ms = 300

    [load.samples]                   # values of path parameters the load may use (by parameter name)
    reportNo = ["…"]
    holderId = ["91420100…"]

Sample values also come from the keys the suites already read from ``[thresholds]``
(``report_numbers``, ``gov_natural_user_id``, ``gov_legal_user_id``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.harness.target import Target, string_list, threshold_samples

WRITES = ("none", "reversible", "all")
SIGN_METHODS = ("HMAC-SM3", "HMAC-SHA256")
_KEYS = {"client", "concurrency", "writes", "hosts", "sign", "profile", "thresholds", "samples"}

#: The caller a role's interfaces are naturally used by (the suites' conventions): the target file's
#: ``[clients.<name>]`` of that name is the load client unless ``[load] client`` names another.
NATURAL_CALLER = {
    "gov-platform": "licensing-system",
    "inspection": "licensing-system",
    "supervision": "licensing-system",
    "licensing": "gov-platform",
}


class SettingsError(ValueError):
    pass


@dataclass
class LoadSettings:
    client: str | None = None
    concurrency: int | None = None
    writes: str = "reversible"
    hosts: list[str] = field(default_factory=list)
    sign: str | None = None
    profile: str | None = None
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)


def read_settings(target: Target) -> LoadSettings:
    """``[load]`` of the target file (empty settings for a target given as a URL)."""
    data: dict[str, Any] = {}
    if target.source and not target.source.startswith(("http://", "https://")) and Path(target.source).is_file():
        data = tomllib.loads(Path(target.source).read_text(encoding="utf-8")).get("load") or {}
    if not isinstance(data, dict):
        raise SettingsError("[load] 应为表 / [load] must be a table")
    unknown = set(data) - _KEYS
    if unknown:
        raise SettingsError(f"[load] 未知的键 {sorted(unknown)} / unknown keys in [load]")
    s = LoadSettings()
    if "client" in data:
        s.client = str(data["client"])
        if s.client not in target.clients:
            raise SettingsError(f"[load] client = {s.client!r}，但目标文件没有 [clients.{s.client}] / no such client")
    if "concurrency" in data:
        if not isinstance(data["concurrency"], int) or isinstance(data["concurrency"], bool) or data["concurrency"] < 1:
            raise SettingsError("[load] concurrency 应为正整数 / must be a positive integer")
        s.concurrency = data["concurrency"]
    if "writes" in data:
        if data["writes"] not in WRITES:
            raise SettingsError(f"[load] writes 应为 {' | '.join(WRITES)} / writes must be one of {WRITES}")
        s.writes = data["writes"]
    s.hosts = string_list(data.get("hosts", []))
    if "sign" in data:
        if data["sign"] not in SIGN_METHODS:
            raise SettingsError(f"[load] sign 应为 {' | '.join(SIGN_METHODS)}")
        s.sign = data["sign"]
    if "profile" in data:
        s.profile = str(data["profile"])
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, dict) or not all(isinstance(v, dict) for v in thresholds.values()):
        raise SettingsError('[load.thresholds."<组>"] 应为表 / [load.thresholds."<group>"] must be tables')
    s.thresholds = thresholds
    s.samples.update(threshold_samples(target))
    for name, value in (data.get("samples") or {}).items():
        s.samples[str(name)] = string_list(value)
    return s


def load_client(target: Target, settings: LoadSettings, role: str) -> tuple[str | None, Any]:
    """(name, credentials) of the client the load uses: ``[load] client``, else the role's natural
    caller when the target file has it, else ``[credentials]`` (name None)."""
    if settings.client:
        return settings.client, target.clients[settings.client]
    natural = NATURAL_CALLER.get(role)
    if natural and natural in target.clients:
        return natural, target.clients[natural]
    return None, target.credentials
