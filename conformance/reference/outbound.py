"""Where the reference server may send its own calls (subscription notifications, callbacks, report-backs).

A model implementation run by tests and self-checks must never reach beyond this machine, even when a
client (or the fuzzer) registers a callback such as ``https://0.com``: by default only loopback hosts
(127.0.0.0/8, ::1, ``localhost``) are called; a call elsewhere fails at once, without a DNS lookup, and
is retried and given up like any failed delivery. ``TZSB_REFERENCE_OUTBOUND`` widens it: ``any``, or a
comma-separated list of host names.
"""

from __future__ import annotations

import ipaddress
import os
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
