"""Many identifiers at once: NumPy versions of the kinds' fast paths.

``MANY[kind](values)`` answers, for each value (a NumPy bool array), exactly what ``KINDS[kind].fast(value)``
answers (True = valid with no problem at all; False = "ask the full validator"), at a fraction
of the cost per value. Used to validate bulk dumps (21 million records nationally); the
property tests hold it equal to the per-value fast path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from conformance.codes import equipment_code, lists, org_code, uscc

_U8 = np.uint8


def _lut(alphabet: str, outside: int = 255, dtype: type = _U8) -> np.ndarray:
    """Byte → position in ``alphabet``; ``outside`` for a byte outside it (float32 tables: for row sums by BLAS)."""
    table = np.full(256, outside, dtype=dtype)
    for i, ch in enumerate(alphabet):
        table[ord(ch)] = i
    return table


def _fixed(values: Sequence[str], width: int, wide: bool = False) -> np.ndarray | None:
    """``values`` as an (n, width) matrix of bytes (or of code points, ``wide``), if every value is
    ``width`` characters long (and ASCII unless ``wide``); else None. Without a loop in Python:
    the values are joined with NUL after each, which must then stand exactly in column ``width``."""
    n = len(values)
    if not n:
        return np.zeros((0, width), dtype="<u4" if wide else _U8)
    joined = "\0".join(values) + "\0"
    if len(joined) != n * (width + 1) or joined.count("\0") != n or not (wide or joined.isascii()):
        return None
    data = joined.encode("utf-32-le", "surrogatepass") if wide else joined.encode("ascii")
    matrix = np.frombuffer(data, dtype="<u4" if wide else _U8).reshape(n, width + 1)
    return matrix[:, :width] if not matrix[:, width].any() else None


def _arrow_matrix(values: Any, width: int, wide: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_as_matrix` of an Arrow string array without nulls, straight from its buffers (no Python string per
    value): the rows of ``width`` characters, as bytes (ASCII only) or as code points decoded from UTF-8 in NumPy."""
    import pyarrow as pa

    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())  # a string view or a dictionary: to the plain layout
    n = len(values)
    _validity, offsets_buffer, data_buffer = values.buffers()
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[values.offset : values.offset + n + 1].astype(np.int64)
    data = np.frombuffer(data_buffer, dtype=_U8) if data_buffer is not None else np.zeros(0, dtype=_U8)
    starts, sizes = offsets[:-1], np.diff(offsets)
    if not wide:  # ASCII: one byte per character
        fits = sizes == width
        raw = data[starts[fits][:, None] + np.arange(width)] if fits.any() else np.zeros((0, width), dtype=_U8)
        ascii_ = (raw < 128).all(axis=1)
        if not ascii_.all():
            fits[np.flatnonzero(fits)[~ascii_]] = False
            raw = raw[ascii_]
        return raw, fits
    # UTF-8 (valid in an Arrow string): a character starts at every byte that is not a continuation byte
    span = data[offsets[0] : offsets[-1]]
    lead = (span & 0xC0) != 0x80
    before = np.zeros(len(span) + 1, dtype=np.int64)
    np.cumsum(lead, out=before[1:])
    fits = before[offsets[1:] - offsets[0]] - before[starts - offsets[0]] == width  # characters per row
    if not fits.any():
        return np.zeros((0, width), dtype="<u4"), fits
    mine = np.repeat(fits, sizes)  # the bytes of the rows that fit
    at = np.flatnonzero(lead & mine)
    b0 = span[at].astype(np.uint32)
    nxt = [span[np.minimum(at + k, len(span) - 1)].astype(np.uint32) & 0x3F for k in (1, 2, 3)]
    cp = np.where(
        b0 < 0x80,
        b0,
        np.where(
            b0 < 0xE0,
            ((b0 & 0x1F) << 6) | nxt[0],
            np.where(
                b0 < 0xF0,
                ((b0 & 0x0F) << 12) | (nxt[0] << 6) | nxt[1],
                ((b0 & 0x07) << 18) | (nxt[0] << 12) | (nxt[1] << 6) | nxt[2],
            ),
        ),
    )
    return cp.reshape(-1, width), fits


def _as_matrix(values: Sequence[str], width: int, wide: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Values of the given width (ASCII unless ``wide``) as an (n, width) matrix, and which inputs fitted. The
    values: a list of text, or an Arrow string array without nulls (read from its buffers)."""
    if not isinstance(values, list | tuple) and hasattr(values, "buffers"):
        return _arrow_matrix(values, width, wide)
    raw = _fixed(values, width, wide)
    if raw is not None:  # the usual case
        return raw, np.ones(len(values), bool)
    flags = [len(v) == width and (wide or v.isascii()) for v in values]
    fits = np.array(flags, dtype=bool)
    chosen = [v for v, f in zip(values, flags, strict=True) if f]
    if not chosen:
        return np.zeros((0, width), dtype="<u4" if wide else _U8), fits
    data = "".join(chosen).encode("utf-32-le", "surrogatepass") if wide else "".join(chosen).encode("ascii")
    return np.frombuffer(data, dtype="<u4" if wide else _U8).reshape(len(chosen), width), fits


def _spread(fits: np.ndarray, ok: np.ndarray) -> np.ndarray:
    if len(ok) == len(fits):
        return ok
    out = np.zeros(len(fits), dtype=bool)
    out[fits] = ok
    return out


def _classes(*spans: tuple[int, str]) -> np.ndarray:
    """Per-position *disallowed* bytes, (width, 256) of 0/1: ``spans`` are (how many positions, alphabet)."""
    rows = []
    for count, alphabet in spans:
        row = np.ones(256, dtype=_U8)
        row[list(alphabet.encode("ascii"))] = 0
        rows += [row] * count
    return np.array(rows)


def _fits(raw: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Rows of ``raw`` (n, width) whose every byte is allowed at its position (see :func:`_classes`)."""
    offsets = np.arange(0, classes.size, 256, dtype=np.uint16)  # row start of each position in the flat table
    misses = np.take(classes.ravel(), raw + offsets).astype(np.float32)
    return misses @ np.ones(classes.shape[0], dtype=np.float32) == 0  # a row sum by BLAS: faster than .any(axis=1)


def _is_in(values: np.ndarray, sorted_table: np.ndarray) -> np.ndarray:
    """Membership in a sorted table (``np.isin`` sorts both sides every call)."""
    where = np.minimum(np.searchsorted(sorted_table, values), len(sorted_table) - 1)
    return sorted_table[where] == values


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"


@functools.cache
def _uscc_tables() -> dict[str, np.ndarray]:
    body = "".join(c for c in org_code.BODY_ALPHABET if c in uscc.ALPHABET)
    pairs = np.zeros(256 * 256, dtype=bool)
    for pair in uscc.PAIRS:
        pairs[ord(pair[0]) * 256 + ord(pair[1])] = True
    divisions = np.zeros(1_000_000, dtype=bool)
    divisions[[int(c) for c in lists.division_codes() if c.isdigit()]] = True
    check_of = np.array([ord(org_code.CHECK_OF[r]) for r in range(11)], dtype=_U8)
    return {
        "classes": _classes((2, uscc.ALPHABET), (6, uscc.DIGITS), (8, body), (2, uscc.ALPHABET)),
        "full": _lut(uscc.ALPHABET, 0, np.float32),
        "body": _lut(org_code.BODY_ALPHABET, 0, np.float32),
        "pairs": pairs,
        "divisions": divisions,
        "check_of": check_of,
        "alphabet": np.frombuffer(uscc.ALPHABET.encode(), dtype=_U8),
        "weights": np.array(uscc.WEIGHTS, dtype=np.float32),
        "org_weights": np.array(org_code.WEIGHTS, dtype=np.float32),
        "division_weights": np.array([100000, 10000, 1000, 100, 10, 1], dtype=np.float32),
    }


def uscc_many(values: Sequence[str]) -> np.ndarray:
    """:func:`conformance.codes.uscc.fast_ok` for many values.

    Weighted sums are float32 matrix products (exact: every sum stays below 2**24); rows that
    fail the alphabet check may compute anything after it, they are already False.
    """
    t = _uscc_tables()
    raw, fits = _as_matrix(values, 18)
    if not len(raw):
        return _spread(fits, np.zeros(0, dtype=bool))
    ok = _fits(raw, t["classes"])  # GB 32100 alphabet, digits at 3-8, GB 11714 body alphabet at 9-16
    total = np.take(t["full"], raw[:, :17]) @ t["weights"]
    ok &= t["alphabet"][(-total.astype(np.int64)) % 31] == raw[:, 17]
    inner = np.take(t["body"], raw[:, 8:16]) @ t["org_weights"]
    ok &= t["check_of"][inner.astype(np.int64) % 11] == raw[:, 16]
    ok &= np.take(t["pairs"], raw[:, 0].astype(np.intp) * 256 + raw[:, 1])
    division = (raw[:, 2:8].astype(np.float32) - 48) @ t["division_weights"]
    ok &= np.take(t["divisions"], np.clip(division, 0, 999_999).astype(np.intp))
    return _spread(fits, ok)


@functools.cache
def _equipment_tables() -> dict[str, np.ndarray]:
    cat = lists.catalogue()
    varieties = np.zeros(36**4, dtype=bool)
    for c in lists.catalogue_specific():
        if len(c) == 4 and all(ch in _ALNUM for ch in c) and not cat[c].get("doubtful"):
            varieties[sum(_ALNUM.index(ch) * 36 ** (3 - i) for i, ch in enumerate(c))] = True
    regions = np.zeros(100, dtype=bool)
    for code in [equipment_code.NATIONAL, *lists.provinces()]:
        if code.isdigit() and len(code) == 2:
            regions[int(code)] = True
    return {
        "classes": _classes((4, _ALNUM), (9, _DIGITS), (5, _ALNUM)),
        "alnum": _lut(_ALNUM),
        "varieties": varieties,
        "regions": regions,
        "variety_weights": np.array([36**3, 36**2, 36, 1], dtype=np.int32),
        "weights": np.array([10, 1, 0, 0, 0, 0, 0, 0, 0], dtype=np.int32),
        "year_weights": np.array([0, 0, 0, 0, 0, 1000, 100, 10, 1], dtype=np.int32),
    }


def equipment_code_many(values: Sequence[str]) -> np.ndarray:
    """:func:`conformance.codes.equipment_code.fast_ok` for many values."""
    t = _equipment_tables()
    raw, fits = _as_matrix(values, 18)
    if not len(raw):
        return _spread(fits, np.zeros(0, dtype=bool))
    ok = _fits(raw, t["classes"])  # variety alphanumeric, 9 digits, serial alphanumeric
    variety = np.where(ok[:, None], t["alnum"][raw[:, :4]], 0).astype(np.int32) @ t["variety_weights"]
    ok &= t["varieties"][variety]
    digits = np.where(ok[:, None], raw[:, 4:13].astype(np.int32) - 48, 0)
    ok &= t["regions"][digits @ t["weights"]]
    year = digits @ t["year_weights"]
    ok &= (year >= equipment_code.EARLIEST_YEAR) & (year <= equipment_code._this_year())
    return _spread(fits, ok)


#: Kinds with a vectorised fast path.
MANY: dict[str, Callable[[Sequence[str]], np.ndarray]] = {"uscc": uscc_many, "equipment-code": equipment_code_many}


@functools.cache
def _registration_tables(doubtful_ok: bool = False) -> dict[str, np.ndarray]:
    """Allowed (equipment character, 2 variety characters) and province abbreviations, as code points."""
    keys = []
    for char, item in lists.equipment_chars().items():
        if (item.get("doubtful") and not doubtful_ok) or len(char) != 1:
            continue
        keys += [
            ord(char) * 65536 + ord(pair[0]) * 256 + ord(pair[1])
            for pair in lists.char_variety_pairs(char)
            if len(pair) == 2 and pair.isascii()
        ]
    provinces = [ord(abbr) for abbr, (_, alt) in lists.province_by_abbr().items() if not alt and len(abbr) == 1]
    return {
        "keys": np.array(sorted(keys), dtype=np.int64),
        "provinces": np.array(sorted(provinces), dtype=np.int64),
        "classes": _classes((1, _ALNUM[10:]), (1, _ALNUM), (4, _DIGITS), (1, "("), (2, _DIGITS), (1, ")")),
    }


def registration_no_many(values: Sequence[str], *, doubtful_ok: bool = False) -> np.ndarray:
    """:func:`conformance.codes.registration_no.fast_ok` for many values.

    Strict form, 14 characters: equipment character + 2 variety characters (allowed for that
    character) + province abbreviation (the main one) + prefecture letter + serial (5 digits, or a
    letter and 4 digits) + ``(yy)``. With ``doubtful_ok``, also the equipment characters whose
    numbering the code list marks doubtful (e.g. 瓶): such a number is valid, with a warning.
    """
    t = _registration_tables(doubtful_ok)
    cp, fits = _as_matrix(values, 14, wide=True)
    if not len(cp):
        return _spread(fits, np.zeros(0, dtype=bool))
    # characters past 255 become 255, which no table allows (the tables hold ASCII only)
    low = np.minimum(cp[:, 1:], 255).astype(_U8)
    ok = _is_in(cp[:, 0].astype(np.int64) * 65536 + low[:, 0].astype(np.int64) * 256 + low[:, 1], t["keys"])
    ok &= _is_in(cp[:, 3].astype(np.int64), t["provinces"])
    ok &= _fits(low[:, 3:], t["classes"])
    return _spread(fits, ok)


MANY["registration-no"] = registration_no_many

#: Kinds with a vectorised "valid" answer: True only for values the full validator finds valid
#: (warnings allowed), False for "ask the full validator". Used for yes/no verdicts on bulk dumps.
VALID_MANY: dict[str, Callable[[Sequence[str]], np.ndarray]] = {
    **MANY,
    "registration-no": functools.partial(registration_no_many, doubtful_ok=True),
}
