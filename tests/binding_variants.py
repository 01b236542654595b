"""Variants of the shipped example bindings for the project's tests: a copy in a temporary folder with some keys
changed, or with an overlay that removes an operation (a dialect a binding cannot express)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

BINDINGS = Path(__file__).resolve().parents[1] / "bindings"
GATEWAY = BINDINGS / "gateway" / "binding.yaml"
PATHS_ENVELOPE = BINDINGS / "paths-envelope" / "binding.yaml"


def variant(folder: Path, change: dict[str, Any], base: Path = GATEWAY, *, replace: bool = False) -> Path:
    """``base`` copied into ``folder`` with its overlays, each key of ``change`` merged into the binding's (or, with
    ``replace``, put in its place)."""
    raw = yaml.safe_load(base.read_text(encoding="utf-8"))
    for key, value in change.items():
        raw[key] = value if replace or not isinstance(value, dict) else {**raw.get(key, {}), **value}
    for file in raw["overlays"].values():
        (folder / file).write_bytes((base.parent / file).read_bytes())
    path = folder / "binding.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def without_catalogue(folder: Path) -> Path:
    """The gateway binding whose sharing overlay removes the catalogue operation (getCatalogue)."""
    path = variant(folder, {})
    (folder / "drop.overlay.yaml").write_text(
        "overlay: 1.1.0\ninfo: {title: drop, version: '1'}\nactions:\n"
        "  - target: \"$.paths['/api/v1/catalogue']\"\n    remove: true\n",
        encoding="utf-8",
    )
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["overlays"]["sharing"] = "drop.overlay.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path
