"""Where the reference server may send its own calls (subscription notifications, callbacks, report-backs),
and how it reads the ``Retry-After`` of their answers.

A model implementation run by tests and self-checks must never reach beyond this machine, even when a
client (or the fuzzer) registers a callback such as ``https://0.com``: by default only loopback hosts
(127.0.0.0/8, ::1, ``localhost``) are called; a call elsewhere fails at once, without a DNS lookup, and
is retried and given up like any failed delivery. ``TZSB_REFERENCE_OUTBOUND`` widens it: ``any``, or a
comma-separated list of host names.
"""

from __future__ import annotations

import email.utils
import ipaddress
import os
import time
from urllib.parse import urlsplit

ENV = "TZSB_REFERENCE_OUTBOUND"


def allowed(url: str) -> bool:
    """May the reference server call ``url``?"""
    host = (urlsplit(url).hostname or "").lower()
    setting = os.environ.get(ENV, "").strip()
    if setting == "any":
        return True
    if host in {h.strip().lower() for h in setting.split(",") if h.strip()}:
        return True
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal(url: str) -> str:
    return f"outbound call to {urlsplit(url).hostname!r} not allowed (loopback only; set {ENV} to widen)"


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
