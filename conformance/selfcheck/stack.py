"""A reference role on its own wired to the harness's simulators of its counterparts: the government-service
platform to the licensing simulator, the licensing system to its three counterparts, a provincial sharing platform
to the national platform's simulator (:func:`sharing_stack`, docs/two-tier.md).

:func:`platform_stack` is what certifying the gov-platform role needs (the counterpart of
``licensing_stack`` for the licensing role): the licensing simulator first (it receives the
platform's application pushes, T5-5), then a reference server in role ``gov-platform`` only — no licensing
role on the same server or database — whose licensing counterpart is that simulator, with the outbox timing
of self-tests. ``demo_target(path, server, "gov-platform", simulators=sims)`` then writes the target file
(``[simulators.urls] licensing``: the harness connects to the running simulator and reads its records).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conformance.harness.target import COUNTERPARTS, SimulatorSettings

ROLE = "gov-platform"


@contextmanager
def role_stack(
    role: str,
    db: Path,
    *,
    defects: tuple[str, ...] = (),
    seed: int | None = 1,
    hold_s: float = 2.0,
    binding: Path | None = None,
    tls: bool = False,
) -> Iterator[tuple[Any, Any]]:
    """``(simulators, server)``: the simulators of the role's counterparts first, then a reference server in that
    role alone calling them, with the outbox timing of self-tests; ``binding``: both speak its dialect."""
    from conformance.reference.server import RunningServer, ServerConfig
    from conformance.selfcheck.demo_target import fast_outbox
    from conformance.simulators.handle import start

    with (
        fast_outbox(),
        start(SimulatorSettings(hold_s=hold_s, binding=binding), roles=COUNTERPARTS[role]) as sims,
        RunningServer(
            ServerConfig(
                role=role,
                db=db,
                defects=defects,
                seed=seed,
                access_log=False,
                counterparts=sims.urls(),
                binding=binding,
                tls=tls,
            )
        ) as srv,
    ):
        yield sims, srv


def platform_stack(db: Path, **kw: Any) -> Any:
    """The licensing simulator, then the reference platform alone pushing to it."""
    return role_stack(ROLE, db, **kw)


def sharing_stack(db: Path, **kw: Any) -> Any:
    """The national platform's simulator, then a reference sharing platform alone as a provincial platform
    reporting up to it (docs/two-tier.md)."""
    return role_stack("sharing", db, **kw)


def licensing_stack(db: Path, **kw: Any) -> Any:
    """The simulators of the licensing system's counterparts, then a reference licensing server calling them:
    what the client-side suites need."""
    from conformance.selfcheck.demo_target import SIMULATOR_WAITS

    return role_stack("licensing", db, hold_s=float(SIMULATOR_WAITS["hold_s"]), **kw)
