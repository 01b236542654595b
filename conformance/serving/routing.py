"""Routes from the contract: every operation of a role at its path, literal paths before templated ones (as
OpenAPI says: ``/api/v1/equipment/changes`` wins over ``/api/v1/equipment/{equipmentCode}``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

from conformance.contract.openapi import Operation


class Router:
    """The operations of one role by path and method."""

    def __init__(self, ops: Iterable[Operation]) -> None:
        by_path: dict[str, dict[str, Operation]] = {}
        for op in ops:
            by_path.setdefault(op.path, {})[op.method.upper()] = op
        self.fixed = {path: methods for path, methods in by_path.items() if "{" not in path}
        self.templated = [
            (re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"), methods)
            for path, methods in sorted(by_path.items())
            if "{" in path
        ]

    def match(self, path: str, *, unquote_params: bool = False) -> tuple[dict[str, Operation], dict[str, str]] | None:
        """``(method → operation, path parameters)`` of the path, or None when no operation lives there.
        ``unquote_params``: the path is as sent (percent-encoded), each parameter is decoded after matching."""
        methods = self.fixed.get(path)
        if methods is not None:
            return methods, {}
        for pattern, candidate in self.templated:
            m = pattern.match(path)
            if m:
                params = m.groupdict()
                return candidate, {k: unquote(v) for k, v in params.items()} if unquote_params else params
        return None
