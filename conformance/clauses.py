"""The requirement catalogue (``schemas/clauses/*.yaml``): loading and listing."""

from __future__ import annotations

import functools
from typing import Any

from conformance import contracts

LEVEL_ZH = {"shall": "应", "should": "宜", "may": "可"}
VERIFY_ZH = {"automated": "自动测试", "attestation": "证明材料", "not-testable": "接口不可测"}


@functools.cache
def catalogue_files() -> dict[str, dict[str, Any]]:
    return {p.stem: contracts.load_data(p) for p in sorted(contracts.CLAUSES_DIR.glob("*.yaml"))}


def load_catalogue() -> list[dict[str, Any]]:
    """Every clause of every catalogue file, each with its document key."""
    out: list[dict[str, Any]] = []
    for data in catalogue_files().values():
        key = data["document"]["key"]
        out.extend({**c, "document": key} for c in data["clauses"])
    return out


def run_list(lang: str) -> int:
    for c in load_catalogue():
        level = c["level"] if lang == "en" else LEVEL_ZH[c["level"]]
        how = c["verification"] if lang == "en" else VERIFY_ZH[c["verification"]]
        title = c.get("title_en") if lang == "en" and c.get("title_en") else c["title"]
        print(f"{c['id']:<28} {level:<7} {how:<10} {c['clause']:<16} {title}")
    return 0
