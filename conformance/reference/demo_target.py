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
from pathlib import Path
from typing import Any

from conformance.openapi_index import ROLES
from conformance.reference.target_file import write_target

#: How many inspection report numbers the target file offers the suites.
SAMPLE_REPORTS = 30
OBJECTION_WAIT_S = 3


def demo_thresholds(server: Any) -> dict[str, Any]:
    """Sample identifiers from the running server's database (``RunningServer``), per the roles it serves."""
    from conformance.reference.db import Database
    from conformance.reference.roles import gov_platform, inspection

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


def demo_target(path: Path, server: Any, role: str, **kw: Any) -> Path:
    """``write_target`` for every role ``server`` serves, plus :func:`demo_thresholds` appended to ``[thresholds]``."""
    urls = {r: server.url(r) for r in ROLES} if server.cfg.role == "all" else {server.cfg.role: server.url()}
    target = write_target(path, urls, role, **kw)
    extra = demo_thresholds(server)
    if extra:
        with target.open("a", encoding="utf-8") as f:  # [thresholds] is the file's last table
            f.write("".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in extra.items()))
    return target
