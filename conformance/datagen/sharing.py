"""Fresh, valid records of every shared data set with the records they refer to (units, equipment), in push order."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from conformance.contract.datasets import data_sets
from conformance.datagen.records import DataGen


class NoBuilder(LookupError):
    """No record builder for a data set (its record schema is none of the theme data sets)."""


class Builder:
    """Fresh, valid records of every data set with the records they refer to (units, equipment),
    so that a target checking references accepts them. One DataGen stream per builder."""

    def __init__(self, province: str, seed: int | None = None) -> None:
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.gen = DataGen(self.seed)
        self.province = province

    def _units_of(self, *records: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = {v for r in records for k, v in _flat(r) if k == "uscc" or k.endswith("Uscc")}
        units = {u["uscc"]: u for u in getattr(self.gen, "_units", []) if u["uscc"] in wanted}
        return list(units.values())

    def make(self, name: str, n: int = 1) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
        """(prerequisites as (data set, record) in push order, ``n`` records of data set ``name``)."""
        g, p = self.gen, self.province
        schema = data_sets()[name].schema
        records: list[dict[str, Any]] = []
        equipment: list[dict[str, Any]] = []
        extra_units: list[dict[str, Any]] = []
        if schema == "unit":
            records = [g.unit("use", p) for _ in range(n)]
        elif schema == "equipment":
            records = [g.equipment(p) for _ in range(n)]
        elif schema == "personnel":
            records = [g.personnel(p) for _ in range(n)]
        elif schema in ("accident", "inspection-report"):
            eq = g.equipment(p)
            equipment = [eq]
            make = g.accident if schema == "accident" else g.inspection_report
            seen: set[str] = set()
            key = data_sets()[name].key
            while len(records) < n:
                rec = make(eq)
                if rec[key] not in seen:
                    seen.add(rec[key])
                    records.append(rec)
        elif schema == "use-registration":
            auth = g.unit("supervision", p)
            extra_units = [auth]
            equipment = [g.equipment(p) for _ in range(n)]
            records = [
                g.use_registration(eq, {"name": auth["name"], "uscc": auth["uscc"], "division": auth["division"]})
                for eq in equipment
            ]
        else:
            raise NoBuilder(name)
        units = self._units_of(*records, *equipment)
        units += [u for u in extra_units if u not in units]
        unit_set = next((d for d, i in data_sets().items() if i.schema == "unit"), None)
        eq_set = next((d for d, i in data_sets().items() if i.schema == "equipment"), None)
        prereq: list[tuple[str, dict[str, Any]]] = []
        if schema != "unit" and unit_set:
            prereq += [(unit_set, u) for u in units]
        if schema != "equipment" and eq_set:
            prereq += [(eq_set, e) for e in equipment]
        return prereq, records


def _flat(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _flat(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _flat(v, key)
    else:
        yield key, node
