"""The audit's own contract, ``schemas/quality/data-quality.yaml``: thresholds per indicator, plausible-date bounds,
breakdown expressions, between-field rules and timeliness rules (what the sharing contracts do not say).

Loaded once and validated against ``schemas/quality/data-quality.schema.json``; nothing of it is repeated in code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from conformance.contract.documents import SCHEMAS, load_data

QUALITY_DIR: Path = SCHEMAS / "quality"
RULES_FILE = QUALITY_DIR / "data-quality.yaml"
SCHEMA_FILE = QUALITY_DIR / "data-quality.schema.json"


@dataclass(frozen=True)
class Threshold:
    """The highest failing rate at which an indicator is 符合 (None: a figure, no verdict)."""

    max_rate: float | None
    assumption: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"maxRate": self.max_rate, "assumption": self.assumption, "reason": self.reason}


def problems(doc: Any) -> list[str]:
    """Where ``doc`` breaks the schema of data-quality.yaml (empty when it follows it)."""
    schema = load_data(SCHEMA_FILE)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


@functools.cache
def quality() -> dict[str, Any]:
    """data-quality.yaml, checked against its schema (a broken file is a ValueError)."""
    doc = load_data(RULES_FILE)
    found = problems(doc)
    if found:
        raise ValueError(f"{RULES_FILE}: " + "; ".join(found))
    return dict(doc)


def threshold(dimension: str, rule: str) -> Threshold:
    """The threshold of ``<dimension>/<rule>``; a between-field rule of consistency uses ``consistency/rule``."""
    table = quality()["thresholds"]
    spec = table.get(f"{dimension}/{rule}") or table[f"{dimension}/rule"]
    return Threshold(None if spec.get("figure") else float(spec["max-rate"]), bool(spec["assumption"]), spec["reason"])


@dataclass(frozen=True)
class TrendRule:
    """When the nightly comparison (:mod:`conformance.audit.trend`) reports a change: a failing rate that rose by
    more than ``z`` standard errors of the difference; a data set (or a province's records of it) that lost more than
    ``max_drop`` of its records and at least ``min_lost`` records, or all of them."""

    z: float
    max_drop: float
    min_lost: int

    def as_dict(self) -> dict[str, float]:
        return {"z": self.z, "maxRecordDrop": self.max_drop, "minRecordsLost": self.min_lost}

    def dropped(self, before: int, now: int) -> bool:
        """Whether a count fell sharply from ``before`` to ``now``."""
        lost = before - now
        return before > 0 and (now == 0 or (lost > self.max_drop * before and lost >= self.min_lost))


def trend_rule() -> TrendRule:
    """``trend`` of data-quality.yaml."""
    spec = quality()["trend"]
    drop = spec["record-drop"]
    return TrendRule(float(spec["rate-rise"]["z"]), float(drop["max-drop"]), int(drop["min-lost"]))
