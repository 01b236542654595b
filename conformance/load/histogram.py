"""Latency histograms that merge exactly across processes and machines.

* :func:`fine_key` — the bucket of a response time for the measured window: whole milliseconds
  below 1 s, 10 ms steps from 1 s to 10 s, 100 ms steps above (the bucket's lower bound; a
  percentile is reported as the upper bound of its bucket, so a threshold is never passed by
  rounding down).
* :func:`coarse_key` — a logarithmic bucket (about ±12 %) for the per-second series of the chart.

Percentiles use the nearest-rank method on the merged counts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

COARSE_STEPS = 8  # buckets per factor of 2 → about 9 % wide


def fine_key(ms: float) -> int:
    if ms < 1000:
        return int(ms) if ms > 0 else 0
    if ms < 10_000:
        return int(ms // 10) * 10
    return int(ms // 100) * 100


def fine_upper(key: int) -> int:
    """The upper bound of a fine bucket (what a percentile reports)."""
    if key < 1000:
        return key + 1
    if key < 10_000:
        return key + 10
    return key + 100


def coarse_key(ms: float) -> int:
    if ms <= 1:
        return 0
    return int(math.log2(ms) * COARSE_STEPS)


def coarse_upper(key: int) -> float:
    return 2 ** ((key + 1) / COARSE_STEPS)


def merge(into: dict[int, int], other: Mapping[int | str, int]) -> dict[int, int]:
    for k, n in other.items():
        key = int(k)
        into[key] = into.get(key, 0) + int(n)
    return into


def count(hist: Mapping[int, int]) -> int:
    return sum(hist.values())


def percentile(hist: Mapping[int, int], q: float, *, coarse: bool = False) -> float | None:
    """Nearest-rank percentile (q in 0..100) of a histogram; None when it is empty."""
    total = count(hist)
    if total == 0:
        return None
    rank = max(1, math.ceil(q / 100 * total))
    seen = 0
    for key in sorted(hist):
        seen += hist[key]
        if seen >= rank:
            return round(coarse_upper(key), 1) if coarse else fine_upper(key)
    return None  # pragma: no cover - rank <= total


def mean(hist: Mapping[int, int]) -> float | None:
    total = count(hist)
    if total == 0:
        return None
    return sum(k * n for k, n in hist.items()) / total


def from_values(values: Iterable[float]) -> dict[int, int]:
    return dict(Counter(map(fine_key, values)))
