"""Validate many records in a stream (bulk dumps): the same verdict as
``SchemaValidator.is_valid`` record by record, at a lower cost per record.

Each record is parsed and checked for structure as it arrives (jsonschema-rs) and then
dropped, which keeps memory hot; only the values at the identifier-format sites are kept.
Every batch, those values are checked once per *distinct new value*, vectorised where the
kind allows it (:mod:`conformance.codes.vectorized`), and remembered for the next batches.
"""

from __future__ import annotations

from typing import Any

import orjson

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
        kinds: dict[str, list[int]] = {}
        for i, (_, kind) in enumerate(flat):
            kinds.setdefault(kind, []).append(i)
        self._by_kind = [(kind, cached_check(kind, strict), idx) for kind, idx in kinds.items()]
        self._none = (None,) * len(self._keys)
        self._structure = self.single.structure_valid
        self._ok: list[bool] = []
        self._rows: list[tuple[Any, ...]] = []

    def add(self, instance: Any) -> None:
        if self._per_record:
            self._ok.append(self.single.is_valid(instance))
            return
        if self._structure(instance):
            self._ok.append(True)
            self._rows.append(tuple(map(instance.get, self._keys)))  # structure valid: an object
        else:
            self._ok.append(False)
            self._rows.append(self._none)

    def add_lines(self, lines: list[bytes]) -> list[bool]:
        """Parse and add JSON Lines; returns, per line, whether it parsed (unparsed lines are not added)."""
        loads, error = orjson.loads, orjson.JSONDecodeError
        parsed: list[bool] = []
        if self._per_record:
            for raw in lines:
                try:
                    instance = loads(raw)
                except error:
                    parsed.append(False)
                    continue
                parsed.append(True)
                self.add(instance)
            return parsed
        structure, keys, none = self._structure, self._keys, self._none
        ok_append, row_append, parsed_append = self._ok.append, self._rows.append, parsed.append
        for raw in lines:
            try:
                instance = loads(raw)
            except error:
                parsed_append(False)
                continue
            parsed_append(True)
            if structure(instance):
                ok_append(True)
                row_append(tuple(map(instance.get, keys)))
            else:
                ok_append(False)
                row_append(none)
        return parsed

    def finish(self) -> list[bool]:
        """Verdicts of the records added since the last ``finish``."""
        ok, rows = self._ok, self._rows
        self._ok, self._rows = [], []
        if self._per_record or not rows:
            return ok
        columns = list(zip(*rows, strict=True))
        for kind, known, idx in self._by_kind:
            # one check for every column of a kind (a unit's USCC stands in several fields of one record)
            bad = known.check_many(columns[idx[0]] if len(idx) == 1 else [v for i in idx for v in columns[i]], kind)
            if bad:
                for i in idx:
                    ok = [good and v not in bad for good, v in zip(ok, columns[i], strict=True)]
        return ok

    def valid_mask(self, records: list[Any]) -> list[bool]:
        for r in records:
            self.add(r)
        return self.finish()
