"""The seams of the reference server's pipeline where a generic defect changes one step, whatever the handler.

A generic defect is a *mutator* registered at one seam next to its declaration (``declared.py``)::

    @defect(NOT_FOUND_AS_200, seam=ERROR)
    def _(answer: ErrorAnswer) -> ErrorAnswer:
        ...

The code at the seam passes its value through the mutators of the switched-on defects
(:class:`Mutations`, built once per role server) and goes on with what they return. With no defect
switched on a seam passes its value through untouched. The seams and the value each one passes:

========================  ==========================================  ====================================
seam                      value                                        applied by
========================  ==========================================  ====================================
:data:`RESPONSE_DATA`     the data of a JSON reply, before its envelope  ``app.RoleApp.render``
:data:`ENVELOPE`          a success envelope ``{code, message, …}``   ``app.RoleApp.render``
:data:`ERROR`             an error answer (:class:`ErrorAnswer`)      ``app.RoleApp.error``
:data:`BODY_LIMIT`        the request body limit in bytes (or None)   ``app.RoleApp._read_body``
:data:`PARSE_JSON`        the JSON parser of request bodies           ``app.RoleApp._parse_body``
:data:`BODY_ERRORS`       a request body's schema errors              ``app.RoleApp._validate_body``
:data:`PARAM_ERRORS`      the parameters' errors (``/query/page``)    ``app._params``
:data:`AUTH_CHECKS`       the checks the security layer makes         ``security.Security``
:data:`SCOPES_HELD`       what a token holds for an operation         ``security.Security.authorize``
:data:`RETRY_AFTER`       the seconds a rate-limit 429 asks to wait   ``security.Security.admit``
========================  ==========================================  ====================================
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from conformance.reference.defects.registry import DECLARED

RESPONSE_DATA = "response-data"
ENVELOPE = "envelope"
ERROR = "error"
BODY_LIMIT = "body-limit"
PARSE_JSON = "parse-json"
BODY_ERRORS = "body-errors"
PARAM_ERRORS = "param-errors"
AUTH_CHECKS = "auth-checks"
SCOPES_HELD = "scopes-held"
RETRY_AFTER = "retry-after"
SEAMS = (
    RESPONSE_DATA,
    ENVELOPE,
    ERROR,
    BODY_LIMIT,
    PARSE_JSON,
    BODY_ERRORS,
    PARAM_ERRORS,
    AUTH_CHECKS,
    SCOPES_HELD,
    RETRY_AFTER,
)

# The checks of the security layer (the value of AUTH_CHECKS): a mutator drops the one its defect skips.
#: a request without ``Authorization: Bearer`` is refused (skipped: it runs as the harness's own client)
BEARER = "bearer"
#: an expired token is refused
TOKEN_EXPIRY = "token-expiry"
#: a token without the operation's scope is refused
SCOPE = "scope"
#: a signature whose ``X-Timestamp`` is outside the window is refused
SIGNATURE_WINDOW = "signature-window"
#: a signature whose ``X-Nonce`` was used before is refused
NONCE = "nonce"
#: the token bucket and the daily quota of each client
RATE_LIMIT = "rate-limit"
AUTH = frozenset({BEARER, TOKEN_EXPIRY, SCOPE, SIGNATURE_WINDOW, NONCE, RATE_LIMIT})


@dataclass
class ErrorAnswer:
    """An error answer of a role app before it is sent: HTTP status, error envelope, headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scopes:
    """The scopes a token holds and those an operation needs (any one suffices)."""

    held: frozenset[str]
    needed: tuple[str, ...]


Mutator = Callable[[Any], Any]
#: seam → (defect name, mutator), in the order of the declarations
MUTATORS: dict[str, list[tuple[str, Mutator]]] = {seam: [] for seam in SEAMS}


def defect(name: str, *, seam: str) -> Callable[[Mutator], Mutator]:
    """Register the decorated function as the mutator of the declared defect ``name`` at ``seam``."""
    if seam not in MUTATORS:
        raise ValueError(f"unknown seam {seam!r} (one of {', '.join(SEAMS)})")
    if name not in DECLARED:
        raise ValueError(f"mutator of the undeclared defect {name!r}")

    def register(func: Mutator) -> Mutator:
        MUTATORS[seam].append((name, func))
        return func

    return register


def seams_of(name: str) -> tuple[str, ...]:
    """The seams where the defect ``name`` has a mutator (none: it is checked where it lives)."""
    return tuple(seam for seam, found in MUTATORS.items() if any(n == name for n, _ in found))


class Mutations:
    """The mutators of the switched-on defects, by seam: ``mutate(seam, value)`` is the value the pipeline goes on
    with (``value`` itself when no switched-on defect has a mutator there)."""

    def __init__(self, switched_on: Collection[str]) -> None:
        self._at: dict[str, tuple[Mutator, ...]] = {
            seam: tuple(func for name, func in found if name in switched_on) for seam, found in MUTATORS.items()
        }

    def __call__(self, seam: str, value: Any) -> Any:
        for func in self._at[seam]:
            value = func(value)
        return value

    def at(self, seam: str) -> bool:
        """Whether a switched-on defect mutates ``seam`` (to skip work the seam would otherwise need)."""
        return bool(self._at[seam])
