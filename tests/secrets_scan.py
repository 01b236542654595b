"""Find credentials in the files a run wrote: the reference clients' secrets (``clients.json``), secrets a test
names, and anything shaped like a live token (a bearer credential, an ``access_token`` value that is not masked)."""

from __future__ import annotations

import json
import re
from pathlib import Path

_TOKEN_SHAPES = re.compile(
    rb"(?:Bearer\s+|access_token[\"']?\s*[:=]\s*[\"']?|refresh_token[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9._~+/=-]{16,})"
)
#: the files of a run folder (report, evidence, page, manifest, JUnit, allure-results, load outputs)
RUN_MARKERS = ("report.json", "load.json", "manifest.json", "junit.xml")


def reference_secrets() -> list[str]:
    path = Path(__file__).resolve().parents[1] / "conformance" / "reference" / "clients.json"
    clients = json.loads(path.read_text(encoding="utf-8"))["clients"]
    return [c.get("secret", f"{c['id']}-secret") for c in clients]


def run_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` that holds a run's output."""
    return sorted({p.parent for name in RUN_MARKERS for p in root.rglob(name)})


def find_secrets(root: Path, extra: tuple[str, ...] = (), *, runs_only: bool = False) -> list[str]:
    """``file: what`` for every credential found in the run folders under ``root`` (or, when there is none and not
    ``runs_only``, in every file under ``root``)."""
    secrets = [s.encode("utf-8") for s in (*reference_secrets(), *extra)]
    found: list[str] = []
    folders = run_folders(root) or ([] if runs_only else [root])
    seen: set[Path] = set()
    for folder in folders:
        for path in folder.rglob("*"):
            if path in seen or not path.is_file() or path.suffix in (".toml", ".sqlite3", ".db", ".wal", ".shm"):
                continue
            seen.add(path)
            data = path.read_bytes()
            found += [f"{path}: secret {s.decode()!r}" for s in secrets if s in data]
            found += [f"{path}: token {m.group(0)[:40]!r}…" for m in _TOKEN_SHAPES.finditer(data)]
    return found
