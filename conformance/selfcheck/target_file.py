"""A target TOML describing a running reference server (for the self-check and the project's tests):
base URLs per role, the harness credentials, every client of clients.json (workflow posts, the
rate-limited client, the auditor, the signer, ...) and the optional features it implements."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.contract.openapi import ROLES
from conformance.reference.security import CLIENTS_FILE

#: Optional features the reference server implements (names from schemas/clauses README).
FEATURES = (
    "workflow-driver",
    "request-signature",
    "sms-gateway",
    "thumbnail",
    "open-data",
    "daily-quota",
    "objection-feedback",
    "pre-archive-return",
    "step-records",
    "inspection-prefill",
)


def write_target(
    path: Path,
    urls: dict[str, str],
    role: str,
    *,
    features: tuple[str, ...] = FEATURES,
    max_body: int = 1024 * 1024,
    simulators: dict[str, object] | None = None,
    ca_file: Path | str | None = None,
    binding: Path | str | None = None,
) -> Path:
    """Write the target file; ``simulators`` becomes its ``[simulators]`` section (see conformance/harness/target.py):
    scalar keys (``wait_s``, ``hold_s``, ``retry_window_s``, ``attended``, ``instructions_file`` …) and the
    tables ``ports`` / ``urls`` (role → port / base URL of simulators already running). ``ca_file``: the CA of a
    TLS server (``RunningServer.ca_file``), written as ``[tls] ca_file``. A client with a ``dataDivision`` gets it as
    ``division`` (the division its access to shared records is registered for), one with an ``ownerUscc`` gets it
    as ``owner_uscc`` (the unit it acts for)."""
    clients = json.loads(CLIENTS_FILE.read_text(encoding="utf-8"))["clients"]
    lines = [f'name = "tzsb-conformance 参考服务器 ({role})"', f'role = "{role}"', 'profile = "quick"', "", "[urls]"]
    lines += [f'{r} = "{u}"' for r, u in urls.items() if r in ROLES]
    lines += ["", "[credentials]", 'client_id = "harness"', 'client_secret = "harness-secret"', ""]
    for c in clients:
        lines += [f"[clients.{c['id']}]", f'client_id = "{c["id"]}"', f'client_secret = "{c["id"]}-secret"']
        lines += [f'division = "{c["dataDivision"]}"'] if c.get("dataDivision") else []
        lines += [f'owner_uscc = "{c["ownerUscc"]}"'] if c.get("ownerUscc") else []
        lines += [""]
    lines += ["[features]"] + [f"{f} = true" for f in features]
    lines += ["", "[thresholds]", f"max_body_bytes = {max_body}", ""]
    if ca_file is not None:
        lines += ["[tls]", f"ca_file = {_toml(Path(ca_file).resolve())}", ""]
    if binding is not None:
        lines += ["[binding]", f"file = {_toml(Path(binding).resolve())}", ""]
    if simulators:
        lines += ["[simulators]"]
        lines += [f"{k} = {_toml(v)}" for k, v in simulators.items() if not isinstance(v, dict)]
        for table, values in simulators.items():
            if isinstance(values, dict):
                lines += ["", f"[simulators.{table}]"] + [f'"{k}" = {_toml(v)}' for k, v in values.items()]
        lines += [""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string is a JSON string
