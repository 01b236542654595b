"""The host list of a load run: load only ever goes where the user pointed it (docs/design.md principle 6).

The allowed origins are the origins (scheme, host, port) of the base URLs the target file declares
(``[urls]``) plus the extra origins of ``[load] hosts`` (for example a separate file-download host).
Every request of the load generator is checked before a connection is opened; redirects are never
followed (a 3xx answer is recorded as it is), so a target cannot send the load elsewhere either.

No Locust import here: the parent process and the project's tests use it directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


class HostNotAllowed(Exception):
    """A request to an origin outside the target's host list: refused, never sent."""

    def __init__(self, url: str) -> None:
        super().__init__(f"拒绝发送：{url} 不在被测系统的主机列表中 / refused: {url} is outside the target's host list")
        self.url = url


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an absolute http(s) URL; None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


def origin_text(o: Origin) -> str:
    scheme, host, port = o
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if DEFAULT_PORTS[scheme] == port else f":{port}")


class HostGuard:
    """Which absolute URLs a load run may request."""

    def __init__(self, urls: Iterable[str]) -> None:
        found = []
        for u in urls:
            o = origin(u)
            if o is None:
                raise ValueError(f"不是 http(s) 绝对地址：{u} / not an absolute http(s) URL: {u}")
            if o not in found:
                found.append(o)
        if not found:
            raise ValueError("主机列表为空 / the host list is empty")
        self.origins: tuple[Origin, ...] = tuple(found)

    def allows(self, url: str) -> bool:
        return origin(url) in self.origins

    def check(self, url: str) -> None:
        if not self.allows(url):
            raise HostNotAllowed(url)

    def texts(self) -> list[str]:
        return [origin_text(o) for o in self.origins]
