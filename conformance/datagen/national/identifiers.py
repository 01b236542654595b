"""Identifiers for many rows at once, built as byte matrices and handed to Arrow without a Python loop.

The rules and tables are the identifier library's (``conformance.codes``): the GB 32100 alphabet and weights and the
GB 11714 weights of :mod:`conformance.codes.uscc` / :mod:`conformance.codes.org_code`, the layout of the TSG 08-2017
equipment code and use-registration number. Every fixed-width identifier is an (n, width) ``uint8`` matrix of its
UTF-8 bytes; :func:`strings` turns the matrix into an Arrow string array by sharing its buffer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from conformance.codes import org_code, uscc

_U8 = np.uint8
_USCC_ALPHABET = np.frombuffer(uscc.ALPHABET.encode(), dtype=_U8)
_USCC_VALUE = np.full(256, 0, dtype=np.float64)  # float: the weighted sums are BLAS products, exact below 2**53
_USCC_VALUE[_USCC_ALPHABET] = np.arange(len(uscc.ALPHABET))
_ORG_VALUE = np.full(256, 0, dtype=np.float64)
_ORG_VALUE[np.frombuffer(org_code.BODY_ALPHABET.encode(), dtype=_U8)] = np.arange(len(org_code.BODY_ALPHABET))
_ORG_CHECK = np.frombuffer("".join(org_code.CHECK_OF[r] for r in range(11)).encode(), dtype=_U8)
_DIGITS = np.frombuffer(b"0123456789", dtype=_U8)
#: organisation-code body letters usable in a USCC (GB 11714 body alphabet ∩ GB 32100 alphabet)
_BODY_LETTERS = np.frombuffer("".join(c for c in uscc.ALPHABET if c.isalpha()).encode(), dtype=_U8)


def strings(matrix: np.ndarray) -> pa.StringArray:
    """An (n, width) matrix of UTF-8 bytes as n Arrow strings (no copy beyond making it contiguous)."""
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(matrix, dtype=_U8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as an (n, width) matrix of ASCII digits, zero-padded."""
    v = np.asarray(values, dtype=np.int64)
    out = np.empty((len(v), width), dtype=_U8)
    for col in range(width - 1, -1, -1):
        v, r = np.divmod(v, 10)
        out[:, col] = r
    return out + 48


def date_matrix(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 as an (n, 10) matrix ``YYYY-MM-DD`` (proleptic Gregorian; H. Hinnant's
    ``civil_from_days`` in integer arithmetic, faster than NumPy's datetime64 unit conversions)."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    eight = digits(year * 10000 + month * 100 + day, 8)
    out = np.empty((len(z), 10), dtype=_U8)
    out[:, :4], out[:, 5:7], out[:, 8:] = eight[:, :4], eight[:, 4:6], eight[:, 6:]
    out[:, 4] = out[:, 7] = ord("-")
    return out


def ascii_column(text: str, n: int) -> np.ndarray:
    """One ASCII text repeated n times as an (n, len) matrix."""
    return np.broadcast_to(np.frombuffer(text.encode(), dtype=_U8), (n, len(text.encode())))


def uscc_check(first17: np.ndarray) -> np.ndarray:
    """GB 32100-2015 check characters (bytes) of an (n, 17) matrix."""
    total = (_USCC_VALUE[first17] @ np.array(uscc.WEIGHTS, dtype=np.float64)).astype(np.int64)
    return _USCC_ALPHABET[(-total) % 31]


def org_check(body: np.ndarray) -> np.ndarray:
    """GB 11714 check characters (bytes) of an (n, 8) body matrix."""
    return _ORG_CHECK[(_ORG_VALUE[body] @ np.array(org_code.WEIGHTS, dtype=np.float64)).astype(np.int64) % 11]


def uscc_matrix(pairs: np.ndarray, divisions: np.ndarray, serial: np.ndarray, letters: np.ndarray) -> np.ndarray:
    """(n, 18) USCCs: registration department + category ``pairs`` ((n, 2) bytes), 6-digit ``divisions``, and an
    organisation code whose body is the 8-digit ``serial`` or, where ``letters``, ``MA`` + 6 characters derived from it
    (distinct serials give distinct bodies either way)."""
    n = len(serial)
    body = digits(serial, 8)
    if letters.any():
        s = np.asarray(serial, dtype=np.int64)[letters]
        tail = np.empty((len(s), 6), dtype=_U8)
        rest = s.copy()
        alphabet = np.frombuffer(uscc.ALPHABET.encode(), dtype=_U8)
        for col in range(5, -1, -1):  # base 31 covers 31**6 > 10**8
            tail[:, col] = alphabet[rest % 31]
            rest //= 31
        body[letters] = np.hstack([ascii_column("MA", len(s)), tail])
    out = np.empty((n, 18), dtype=_U8)
    out[:, :2] = pairs
    out[:, 2:8] = digits(divisions, 6)
    out[:, 8:16] = body
    out[:, 16] = org_check(body)
    out[:, 17] = uscc_check(out[:, :17])
    return out


def wrong_check(matrix: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The USCCs with their check character replaced by another character of the alphabet (``shift`` 1..30)."""
    out = matrix.copy()
    out[:, 17] = _USCC_ALPHABET[(_USCC_VALUE[matrix[:, 17]].astype(np.int64) + shift) % 31]
    return out


def equipment_code_matrix(
    varieties: np.ndarray, regions: np.ndarray, years: np.ndarray, serial: np.ndarray
) -> np.ndarray:
    """(n, 18) TSG 08-2017 equipment codes: variety (n, 4) + region (2 digits) + licence sequence (3) + year (4) +
    serial (5): the last two parts together are the 8 digits of ``serial`` (distinct serials, distinct codes)."""
    n = len(serial)
    out = np.empty((n, 18), dtype=_U8)
    out[:, :4] = varieties
    out[:, 4:6] = digits(regions, 2)
    eight = digits(serial, 8)
    out[:, 6:9] = eight[:, :3]
    out[:, 9:13] = digits(years, 4)
    out[:, 13:18] = eight[:, 3:]
    return out


#: The serial numbers of one registration group: 5 digits, then a letter A-Y and 4 digits; Z is left for defects.
SERIAL_CAPACITY = 100_000 + 25 * 10_000


def registration_serial(numbers: np.ndarray) -> np.ndarray:
    """(n, 5) serials of the n-th registration of a group (see :data:`SERIAL_CAPACITY`)."""
    v = np.asarray(numbers, dtype=np.int64)
    if len(v) and int(v.max()) >= SERIAL_CAPACITY:
        raise OverflowError("a registration group outgrew its serial numbers")
    out = digits(v, 5)
    big = v >= 100_000
    if big.any():
        rest = v[big] - 100_000
        out[big, 0] = ord("A") + rest // 10_000
        out[big, 1:] = digits(rest % 10_000, 4)
    return out


def registration_no_matrix(
    chars: np.ndarray, pairs: np.ndarray, abbr: np.ndarray, letters: np.ndarray, serial: np.ndarray, years: np.ndarray
) -> np.ndarray:
    """(n, 18) bytes of TSG 08-2017 use-registration numbers: character (3 UTF-8 bytes) + kind digits (2) +
    province abbreviation (3 bytes) + prefecture letter + serial (5) + ``(yy)``."""
    n = len(serial)
    out = np.empty((n, 18), dtype=_U8)
    out[:, :3] = chars
    out[:, 3:5] = pairs
    out[:, 5:8] = abbr
    out[:, 8] = letters
    out[:, 9:14] = serial
    out[:, 14] = ord("(")
    out[:, 15:17] = digits(np.asarray(years) % 100, 2)
    out[:, 17] = ord(")")
    return out
