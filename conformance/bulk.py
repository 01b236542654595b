"""Validate many records in a stream (bulk dumps): the same verdict as
``SchemaValidator.is_valid`` record by record, at a lower cost per record.

Each record is parsed and checked for structure as it arrives (jsonschema-rs) and then
dropped, which keeps memory hot; only the values at the identifier-format sites are kept.
Every batch, those values are checked once per *distinct new value*, vectorised where the
kind allows it (:mod:`conformance.codes.vectorized`), and remembered for the next batches.
"""

from __future__ import annotations

from typing import Any

from conformance.formats import cached_check, format_sites
from conformance.validation import validator


class BulkValidator:
    """``add`` records one by one, then ``finish`` gives their verdicts in order."""

    def __init__(self, ref: str, *, strict: bool = True) -> None:
        self.single = validator(ref, strict)
        sites = format_sites(self.single.uri)
        self._per_record = sites is None or any(len(path) != 1 for path, _ in sites)
        flat = [] if self._per_record else [(path[0], kind) for path, kind in sites or ()]
        self._keys = tuple(key for key, _ in flat)
        self._checks = [(kind, cached_check(kind, strict)) for _, kind in flat]
        self._none = (None,) * len(self._keys)
        self._structure = self.single.structure_valid
        self._ok: list[bool] = []
        self._rows: list[tuple[Any, ...]] = []

    def add(self, instance: Any) -> None:
        if self._per_record:
            self._ok.append(self.single.is_valid(instance))
            return
        good = self._structure(instance)
        self._ok.append(good)
        self._rows.append(tuple(map(instance.get, self._keys)) if good and type(instance) is dict else self._none)

    def finish(self) -> list[bool]:
        """Verdicts of the records added since the last ``finish``."""
        ok, rows = self._ok, self._rows
        self._ok, self._rows = [], []
        if self._per_record or not rows:
            return ok
        for (kind, known), values in zip(self._checks, zip(*rows, strict=True), strict=True):
            bad = known.check_many({v for v in values if type(v) is str}, kind)
            if bad:
                ok = [good and v not in bad for good, v in zip(ok, values, strict=True)]
        return ok

    def valid_mask(self, records: list[Any]) -> list[bool]:
        for r in records:
            self.add(r)
        return self.finish()
