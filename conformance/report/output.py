"""Every file a run writes goes through here: masked and written whole.

* :func:`write_text` / :func:`write_json`: every string masked by the evidence rules
  (:func:`conformance.client.evidence.redact`: credentials by field and header, citizen ids and mobiles, and every
  credential the run was given or issued, wherever it appears — a URL, a header the target echoed, an assertion
  message), then written to a temporary file and renamed over the target (a reader, or an interrupted run, never
  sees half a report);
* :func:`scrub_tree`: the same literal masking over files other plugins wrote into a run's folder (JUnit XML,
  allure-results), before the manifest hashes them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from conformance.client.evidence import known_secrets, redact, redact_value

#: Files larger than this are not rewritten by :func:`scrub_tree` (raw load data; nothing there is a credential).
SCRUB_MAX_BYTES = 64 * 1024 * 1024


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` masked, atomically."""
    return _atomic(path, redact(text).encode("utf-8"))


def write_json(path: Path, value: Any) -> Path:
    """Write ``value`` as JSON with every string masked, atomically."""
    return _atomic(path, json.dumps(redact_value(value), ensure_ascii=False, indent=1).encode("utf-8"))


def _atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def scrub_tree(root: Path) -> list[Path]:
    """Mask every remembered credential in the files under ``root``; returns the files changed."""
    secrets = sorted({s.encode("utf-8") for s in known_secrets()}, key=len, reverse=True)
    changed: list[Path] = []
    if not secrets or not root.is_dir():
        return changed
    for path in root.rglob("*"):
        if not path.is_file() or path.stat().st_size > SCRUB_MAX_BYTES:
            continue
        data = path.read_bytes()
        new = data
        for secret in secrets:
            if secret in new:
                new = new.replace(secret, b"***")
        if new != data:
            _atomic(path, new)
            changed.append(path)
    return changed
