"""A load run through a binding (docs/bindings.md "Load through a binding"): the Locust processes' side of
:mod:`conformance.binding`, as :mod:`conformance.binding.edge` is the harness client's. The users build canonical
requests; here each one is turned into the vendor's (:meth:`Dialect.vendor_request`) and the vendor's answer is
read back as the canonical one (:meth:`Dialect.canonical_answer`) before the recorder judges it (status, contract,
headers). Nothing of the dialect is decided here: this module only cuts a URL into the message the dialect reads
and puts the dialect's message back on the wire.

One :class:`Dialect` per role URL of the target file (its prefix the base URL's path, as the edge sets it); a URL
under none of them (a file server of ``[load] hosts``) crosses untranslated, as it does for the harness client.
The binding file is read once per process; the configuration carries its SHA-256, and a process that finds another
file at that path refuses to run rather than load the target in a different dialect.

The translation is the harness's work, not the target's: the users time the exchange on the wire only (the request
is translated before its clock starts, the answer after it stops), and :class:`Translation` adds up how many
requests it translated and how long that took, which the report gives per request (``run.target.binding``)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from conformance.binding.dialect import Dialect, Message
from conformance.binding.model import Binding, BindingError, load


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of the binding file (the report's ``binding.sha256``, ``conformance.binding.deviations.summary``)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Headers:
    """An answer's headers as the dialect gave them back, looked up without regard to case."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items = tuple(items)
        self._by_name = {k.lower(): v for k, v in self._items}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._by_name.get(name.lower(), default)

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)


@dataclass(frozen=True)
class Outbound:
    """A request as it goes on the wire, and what its answer is read against."""

    url: str
    headers: dict[str, str]
    body: bytes | None
    canonical: Message  # the canonical request, its path relative to the role's base URL
    dialect: Dialect | None  # None: not under a role URL, crosses untranslated


class Translation:
    """The binding's dialects for the target's role URLs, and what translating cost this process."""

    def __init__(self, binding: Binding, urls: dict[str, str], secrets: Callable[[], Mapping[str, str]]) -> None:
        self.binding = binding
        self.dialects: list[tuple[str, Dialect]] = sorted(
            ((url.rstrip("/"), Dialect(binding, role, secrets, urlsplit(url).path)) for role, url in urls.items()),
            key=lambda bd: -len(bd[0]),
        )
        self.requests = 0
        self.seconds = 0.0

    @classmethod
    def open(
        cls, path: str, sha256: str | None, urls: dict[str, str], secrets: Callable[[], Mapping[str, str]]
    ) -> Translation:
        """The binding file at ``path`` (the one the run was started with: ``sha256``), ready to translate;
        :class:`BindingError` when it cannot be read, is not usable, or is not that file."""
        try:
            found = file_sha256(path)
        except OSError as exc:
            raise BindingError(f"无法读取绑定文件 {path}：{exc} / cannot read binding {path}: {exc}") from exc
        if sha256 and found != sha256:
            raise BindingError(
                f"绑定文件 {path} 与启动运行时的不同（SHA-256 {found[:12]}… ≠ {sha256[:12]}…）/ the binding file "
                f"{path} is not the one the run was started with"
            )
        return cls(load(path), urls, secrets)

    def _dialect(self, url: str) -> Dialect | None:
        """The dialect of the longest role URL ``url`` lies under (as ``conformance.client.http.edge_for``)."""
        return next(
            (d for base, d in self.dialects if url == base or url.startswith(base + "/") or url.startswith(base + "?")),
            None,
        )

    def outbound(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Outbound:
        """The canonical request ``method url`` as the vendor's system expects it. :class:`BindingError` when the
        binding cannot express it (the request is then not sent)."""
        started = time.perf_counter()
        try:
            dialect = self._dialect(url)
            if dialect is None:
                return Outbound(url, headers, body, Message(method=method.upper()), None)
            parts = urlsplit(url)
            prefix = dialect.prefix
            path = parts.path or "/"
            if prefix and path.startswith(prefix + "/"):
                path = path[len(prefix) :]
            canonical = Message(
                method=method.upper(),
                path=path,
                query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
                headers=tuple(headers.items()),
                body=body or b"",
                raw_query=parts.query,
            )
            vendor = dialect.vendor_request(canonical)
            self.requests += 1
            wire_url = urlunsplit(
                (parts.scheme, parts.netloc, prefix + vendor.path, vendor.path_query.partition("?")[2], "")
            )
            return Outbound(wire_url, dict(vendor.headers), vendor.body or None, canonical, dialect)
        finally:
            self.seconds += time.perf_counter() - started

    def inbound(self, sent: Outbound, status: int, headers: Any, body: bytes) -> tuple[int, Any, bytes]:
        """The vendor's answer to ``sent`` read as the canonical answer (status, headers, body)."""
        if sent.dialect is None:
            return status, headers, body
        started = time.perf_counter()
        try:
            answer = sent.dialect.canonical_answer(
                Message(status=status, headers=tuple(headers.items()) if headers is not None else (), body=body),
                sent.canonical,
            )
            return answer.status, Headers(answer.headers), answer.body
        finally:
            self.seconds += time.perf_counter() - started

    def cost(self) -> tuple[int, float]:
        """Requests translated and the seconds spent on them and their answers since the last call (then reset)."""
        out = (self.requests, self.seconds)
        self.requests, self.seconds = 0, 0.0
        return out
