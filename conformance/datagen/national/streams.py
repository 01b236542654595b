"""Counter-based random numbers: every value is a pure function of (seed, stream, field, row index).

A record's attributes can then be computed for any row at any time, in any chunk, without holding the data set:
equipment looks up its use unit's name by the unit's index, and the output does not depend on the chunk size.
The mixer is SplitMix64's finaliser (Steele, Lea, Flood 2014), vectorised over NumPy ``uint64`` arrays (the
multiplications wrap modulo 2**64, which is what the mixer wants).
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


@functools.cache
def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Stream:
    """Random values for the rows of one data set; ``field`` names an independent sequence."""

    def __init__(self, seed: int, name: str) -> None:
        self.key = (_name_key(name) ^ (seed * 0x632BE59BD9B4E019)) & 0xFFFFFFFFFFFFFFFF

    def bits(self, idx: np.ndarray, field: str) -> np.ndarray:
        salt = _U64((self.key ^ _name_key(field)) & 0xFFFFFFFFFFFFFFFF)
        with np.errstate(over="ignore"):
            return _mix(np.asarray(idx, dtype=_U64) * _GOLDEN + salt)

    def uniform(self, idx: np.ndarray, field: str) -> np.ndarray:
        """Floats in [0, 1)."""
        return (self.bits(idx, field) >> _U64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def integers(self, idx: np.ndarray, field: str, low: int, high: int) -> np.ndarray:
        """Integers in [low, high) (int64)."""
        span = max(1, high - low)
        return low + (self.bits(idx, field) % _U64(span)).astype(np.int64)

    def choice(self, idx: np.ndarray, field: str, weights: np.ndarray | list[float]) -> np.ndarray:
        """Indices into ``weights`` drawn with those weights (int64)."""
        cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
        cdf /= cdf[-1]
        return np.minimum(np.searchsorted(cdf, self.uniform(idx, field), side="right"), len(cdf) - 1)


def scramble(
    values: np.ndarray, modulus: int = 10**8, multiplier: int = 54435761, offset: int = 12345679
) -> np.ndarray:
    """A bijection of [0, modulus): distinct inputs give distinct outputs (``multiplier`` is coprime with 10**8)."""
    return (np.asarray(values, dtype=np.int64) * multiplier + offset) % modulus
