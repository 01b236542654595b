"""The answer key: what was generated and, per seeded defect kind, exactly which records carry it.

``truth.json`` (schema ``schemas/json/datagen-truth.schema.json``) holds the generation's parameters, the record count
of every data set and, per kind, its data set, field, count and the keys of the affected records, inline up to
:data:`INLINE_KEYS`; the keys of a larger kind are in ``truth-keys.parquet`` (columns kind, data_set, key). For a
``uniqueness`` kind the keys are the repeated key values, one per copy (each such value is held by two records).
``expected`` is the answer key in the audit's terms: per check id, the exact number of failing records the audit must
report (:meth:`conformance.datagen.national.defects.DefectKind.expected`: the kind's own check, and the record and
field schema checks a kind that breaks the contract trips as well); every check not listed must find none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from conformance.datagen.national.defects import BY_ID

INLINE_KEYS = 10_000
KEYS_FILE = "truth-keys.parquet"
TRUTH_FILE = "truth.json"


class Truth:
    def __init__(self) -> None:
        self.keys: dict[str, list[pa.Array]] = {}
        self.records: dict[str, int] = {}

    def add(self, found: dict[str, pa.Array]) -> None:
        for kind, keys in found.items():
            self.keys.setdefault(kind, []).append(keys)

    def count(self, data_set: str, rows: int) -> None:
        self.records[data_set] = self.records.get(data_set, 0) + rows

    def write(self, out: Path, parameters: dict[str, Any], rates: dict[str, float]) -> dict[str, Any]:
        defects: dict[str, Any] = {}
        spill: list[pa.Table] = []
        for kind_id, rate in rates.items():
            kind = BY_ID[kind_id]
            keys = pa.concat_arrays(self.keys.get(kind_id) or [pa.array([], pa.string())])
            entry: dict[str, Any] = {
                "dimension": kind.dimension,
                "dataSet": kind.data_set,
                "field": kind.field,
                "rule": kind.rule,
                "rate": rate,
                "count": len(keys),
                "meaning": {"zh": kind.zh, "en": kind.en},
            }
            if len(keys) <= INLINE_KEYS:
                entry["keys"] = keys.to_pylist()
            else:
                entry["keysFile"] = KEYS_FILE
                n = len(keys)
                spill.append(
                    pa.table({"kind": pa.array([kind_id] * n), "data_set": pa.array([kind.data_set] * n), "key": keys})
                )
            defects[kind_id] = entry
        if spill:
            pq.write_table(pa.concat_tables(spill), out / KEYS_FILE, compression="zstd")
        expected: dict[str, int] = {}
        for kind_id, entry in defects.items():
            for check, n in BY_ID[kind_id].expected(entry["count"]).items():
                expected[check] = expected.get(check, 0) + n
        doc = {"parameters": parameters, "records": self.records, "defects": defects, "expected": expected}
        (out / TRUTH_FILE).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return doc
