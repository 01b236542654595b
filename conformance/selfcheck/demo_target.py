"""The target file of a running reference server *with its demo data*: what a vendor writes by hand
for their own system (``write_target``: URLs, clients, features) plus the sample identifiers the
suites cannot discover over the interfaces and must be told (``[thresholds]``):

* ``gov_natural_user_id`` / ``gov_legal_user_id``: two users of the unified identity system (T5-3/T5-4
  look users up by id; the interfaces offer no listing);
* ``report_numbers``: inspection report numbers T6-1 can be queried with (it offers no listing either);
* ``objection_wait_s``: how long the inspection system may take to decide an objection (the reference
  decides after 0.5 s).

Used by ``tzsb-conform selfcheck``, the kill matrix and the project's tests, so that all of them run the
suites against the same, complete description of the reference server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conformance.contract.openapi import ROLES
from conformance.selfcheck.target_file import FEATURES, write_target

#: The simulated national platform (``[simulators.urls] national``) and the feature of the platform that reports up
#: to it (docs/two-tier.md).
UPSTREAM, UPSTREAM_FEATURE = "national", "upstream-exchange"
#: How many inspection report numbers the target file offers the suites.
SAMPLE_REPORTS = 30
OBJECTION_WAIT_S = 3


def demo_thresholds(server: Any) -> dict[str, Any]:
    """Sample identifiers from the running server's database (``RunningServer``), per the roles it serves."""
    from conformance.reference.db import Database
    from conformance.reference.roles import inspection
    from conformance.reference.roles.gov_platform import handlers as gov_platform

    out: dict[str, Any] = {}
    roles = {s.role for s in server.servers}
    db = Database(server.cfg.db)  # a connection of this thread: never share the server's own across threads
    try:
        if "gov-platform" in roles:
            natural, legal = gov_platform.user_ids(db, "natural"), gov_platform.user_ids(db, "legal")
            if natural and legal:
                out["gov_natural_user_id"], out["gov_legal_user_id"] = natural[0], legal[0]
        if "inspection" in roles:
            numbers = inspection.report_numbers(db, SAMPLE_REPORTS)
            if numbers:
                out["report_numbers"] = numbers
            out["objection_wait_s"] = OBJECTION_WAIT_S
    finally:
        db.close()
    return out


def upstream_thresholds() -> dict[str, Any]:
    """A provincial sharing platform's own division (its registration at the national platform, docs/two-tier.md)."""
    from conformance.reference.roles.sharing import upstream

    return {"upstream_division": upstream.registration()["division"]}


def demo_target(path: Path, server: Any, role: str, *, simulators: Any = None, **kw: Any) -> Path:
    """``write_target`` for every role ``server`` serves, plus :func:`demo_thresholds` in ``[thresholds]``;
    ``simulators`` (a running :class:`conformance.simulators.Simulators`): its URLs and the short waits of
    :data:`SIMULATOR_WAITS` as the ``[simulators]`` section."""
    urls = {r: server.url(r) for r in ROLES} if server.cfg.role == "all" else {server.cfg.role: server.url()}
    if simulators is not None:
        kw["simulators"] = {**SIMULATOR_WAITS, "urls": simulators.urls()}
        if UPSTREAM in simulators.urls():  # a provincial sharing platform reporting up to the national simulator
            kw.setdefault("features", (*FEATURES, UPSTREAM_FEATURE))
        # the counterparts the licensing system talks to are the simulators (e.g. the platform's handling items)
        urls = {**{r: u for r, u in simulators.urls().items() if r not in urls}, **urls}
    if getattr(server, "ca_file", None) is not None:
        kw.setdefault("ca_file", server.ca_file)
    target = write_target(path, urls, role, **kw)
    extra = demo_thresholds(server)
    if simulators is not None and UPSTREAM in simulators.urls():
        extra.update(upstream_thresholds())
    if extra:
        lines = "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in extra.items())
        text = target.read_text(encoding="utf-8")
        target.write_text(text.replace("[thresholds]\n", "[thresholds]\n" + lines, 1), encoding="utf-8")
    return target


#: Waits of the client-side suites against the reference licensing server (its outbox runs with
#: :data:`FAST_OUTBOX`): seconds for each expected call, how long a simulator holds a "timed-out"
#: call, and the window for retransmissions.
SIMULATOR_WAITS = {"wait_s": 4, "hold_s": 2.0, "retry_window_s": 12}
#: The reference outbox's timing for self-tests (``TZSB_OUTBOX_*``, see conformance/reference/outbox.py).
FAST_OUTBOX = {"TZSB_OUTBOX_BASE_DELAY": "0.3", "TZSB_OUTBOX_MAX_DELAY": "5", "TZSB_OUTBOX_TIMEOUT": "1"}


@contextmanager
def fast_outbox() -> Iterator[None]:
    """The reference outbox's timing of self-tests (:data:`FAST_OUTBOX`) for the duration, then the old values."""
    saved = {k: os.environ.get(k) for k in FAST_OUTBOX}
    os.environ.update(FAST_OUTBOX)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
