"""China Standard Time (UTC+8): the offset every timestamp of the standards and of this harness carries."""

from __future__ import annotations

import datetime as dt

#: UTC+8, written ``+08:00`` in every ISO 8601 timestamp the contracts carry.
CHINA = dt.timezone(dt.timedelta(hours=8))


def now() -> dt.datetime:
    """The current time in UTC+8."""
    return dt.datetime.now(CHINA)


def now_iso(timespec: str = "seconds") -> str:
    """The current time in UTC+8 as ISO 8601 (``2025-06-30T09:00:00+08:00``)."""
    return now().isoformat(timespec=timespec)
