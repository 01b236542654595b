"""A target TOML describing a running reference server (for the self-check and the project's tests):
base URLs per role, the harness credentials, every client of clients.json (workflow posts, the
rate-limited client, the auditor, the signer, ...) and the optional features it implements."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.openapi_index import ROLES

#: Optional features the reference server implements (names from schemas/clauses README).
FEATURES = ("workflow-driver", "request-signature", "sms-gateway", "thumbnail", "open-data", "daily-quota",
            "objection-feedback", "pre-archive-return", "step-records", "inspection-prefill")


def write_target(path: Path, urls: dict[str, str], role: str, *, features: tuple[str, ...] = FEATURES,
                 max_body: int = 1024 * 1024) -> Path:
    clients = json.loads((Path(__file__).with_name("clients.json")).read_text(encoding="utf-8"))["clients"]
    lines = [f'name = "tzsb-conformance 参考服务器 ({role})"', f'role = "{role}"', 'profile = "quick"', "", "[urls]"]
    lines += [f'{r} = "{u}"' for r, u in urls.items() if r in ROLES]
    lines += ["", "[credentials]", 'client_id = "harness"', 'client_secret = "harness-secret"', ""]
    for c in clients:
        lines += [f'[clients.{c["id"]}]', f'client_id = "{c["id"]}"', f'client_secret = "{c["id"]}-secret"', ""]
    lines += ["[features]"] + [f"{f} = true" for f in features]
    lines += ["", "[thresholds]", f"max_body_bytes = {max_body}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
