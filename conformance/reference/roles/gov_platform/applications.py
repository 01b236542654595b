"""统一受理 on the platform's side: applications pushed to the licensing system (DB42/T 2279-2024 表5 序号5).

An applicant files an application on the government-service platform (online, or at a service window
offline: §7.1.2, §7.1.3); the platform's unified acceptance system pushes it to the licensing system
(T5-5, ``licensing.yaml`` ``pushApplication``, body ``application.schema.json``). The reference platform has
no applicants, so when it runs **on its own** with a licensing counterpart
(``tzsb-conform serve --role gov-platform --counterpart licensing=URL``, ``ServerConfig.counterparts``) its
acceptance desk takes applications from simulated applicants and pushes them:

* each application is a new case (``register_case``, ``source = 'feed'``, state ``submitted``): a fresh
  applicant (a legal person with a valid USCC, registered as a unified-identity user, so T5-4 finds it), an item
  of Table 1, equipment of a variety of the item's group in a county of Hubei, the registering authority that
  covers that county (an implementing department of T5-1), channel online or offline;
* the push goes through the durable outbox (``reference/outbox.py``): enqueued in the transaction that creates
  the case, retried with the same message id (X-Message-Id) until a 2xx;
* the desk keeps :func:`stock` applications *fresh*: pushed (or waiting to be delivered) within the last
  :func:`fresh_seconds`, their case still ``submitted`` and not reported on. When the licensing system
  reports on a case (T5-6 … T5-10), it is no longer fresh and the desk takes a new application, so a
  licensing system (or the harness playing one) always finds a few new cases it may handle; at most
  :func:`ceiling` open feed cases are kept (no harness: no endless growth).

Settings (environment, read at each use): ``TZSB_GOV_FEED_STOCK`` (default 6; 0 switches the desk off),
``TZSB_GOV_FEED_FRESH_S`` (default 30), ``TZSB_GOV_FEED_MAX`` (default 500).

Not on a server that also serves the licensing role (``--role all``): there the licensing role is the
platform's counterpart on the same server and learns its cases from the pushes it receives
(``gov_cases.register_case``), and the desk stays off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import random
import secrets
import time
from typing import Any

from conformance.clock import CHINA
from conformance.codes import lists as code_lists
from conformance.contract.openapi import role_operations
from conformance.datagen import DataGen
from conformance.datagen.licensing import legal_person
from conformance.reference import outbox
from conformance.reference.db import dumps
from conformance.reference.roles.licensing.seed import new_equipment, new_materials, varieties
from conformance.reference.server_state import RoleServer, setting

log = logging.getLogger("tzsb.reference.gov-platform")

LICENSING = "licensing"
#: Province of the simulated applicants' equipment (the standard is Hubei's).
PROVINCE = "42"
TICK_S = 0.2


def stock() -> int:
    return int(setting("TZSB_GOV_FEED_STOCK", 6))


def fresh_seconds() -> float:
    return setting("TZSB_GOV_FEED_FRESH_S", 30.0)


def ceiling() -> int:
    return int(setting("TZSB_GOV_FEED_MAX", 500))


@functools.cache
def push_path() -> str:
    """The path of T5-5 at the licensing system (``licensing.yaml``)."""
    found = next((o for o in role_operations(LICENSING) if o.interface == "T5-5"), None)
    if found is None or "{" in found.path:
        raise LookupError("licensing.yaml: no T5-5 operation with a plain path")
    return found.path


def active(server: RoleServer) -> bool:
    """The desk runs when the licensing counterpart is configured and is not this server's own licensing role."""
    target = server.counterparts.get(LICENSING)
    if not target or stock() <= 0:
        return False
    own = server.counterparts.get(server.role, "")
    sibling = own[: -len(server.role)] + LICENSING if own.endswith("/" + server.role) else None
    return target.rstrip("/") != sibling


def setup(server: RoleServer) -> None:
    if not active(server):
        return
    outbox.setup(server)
    server.add_background(run)
    log.info("gov-platform: applications are pushed (T5-5) to %s", server.counterparts[LICENSING])


# ------------------------------------------------------------------------------ applications
@functools.cache
def _varieties(group: str) -> tuple[str, ...]:
    return tuple(varieties(code_lists.licence_groups()[group]))


@functools.cache
def _items() -> tuple[str, ...]:
    return tuple(sorted(code for code, it in code_lists.licence_items().items() if _varieties(it["group"])))


def new_application(rng: random.Random, now: dt.datetime | None = None) -> dict[str, Any]:
    """A fresh application (application.schema.json) from a new legal-person applicant."""
    from conformance.reference.roles.gov_platform.model import authority_for

    now = (now or dt.datetime.now(CHINA)).replace(microsecond=0)
    gen = DataGen(rng.randrange(2**62))
    unit = gen.unit("use", PROVINCE)
    county = rng.choice(code_lists.division_pool("county", PROVINCE))
    authority = authority_for(county)
    code = rng.choice(_items())
    item = code_lists.licence_items()[code]
    variety = rng.choice(_varieties(item["group"]))
    made = now.date() - dt.timedelta(days=rng.randint(60, 3000))
    maker = gen.unit("manufacture")
    equipment = new_equipment(gen, rng, item, variety, county, made, maker, PROVINCE)
    case_no = f"GP{authority['division']}{now:%Y%m%d}{secrets.token_hex(5).upper()}"
    return {
        "messageId": f"gp-{case_no}-1",
        "caseNo": case_no,
        "itemCode": code,
        "itemName": item["name"],
        "channel": rng.choice(("online", "online", "offline")),
        "applicant": {**legal_person(unit), "userId": f"lp-{unit['uscc']}"},
        "authority": authority,
        "equipment": equipment,
        "materials": new_materials(rng, lambda _: secrets.token_hex(32)),
        "submittedAt": now.isoformat(),
    }


def take(server: RoleServer, app: dict[str, Any]) -> None:
    """The platform takes ``app``: the case, the applicant as a unified-identity user and the push, in one transaction."""
    from conformance.reference.roles.gov_platform.cases import register_case

    applicant = app["applicant"]
    user = {
        "userId": applicant["userId"],
        "name": applicant["name"],
        "idType": "001",
        "uscc": applicant["idNumber"],
        "agentName": applicant["contactPerson"],
        "agentMobile": applicant["contactPhone"],
    }
    with server.db.write() as c:
        register_case(
            server.db, app["caseNo"], app["itemCode"], applicant["idNumber"], app["submittedAt"], source="feed"
        )
        c.execute(
            "INSERT OR REPLACE INTO gov_users (kind, user_id, body) VALUES ('legal', ?, ?)",
            (user["userId"], dumps(user)),
        )
        outbox.enqueue(server, LICENSING, push_path(), app, message_id=app["messageId"], topic=f"T5-5:{app['caseNo']}")


def fresh(server: RoleServer) -> list[str]:
    """Feed cases still waiting for the licensing system: pushed lately (or being delivered), untouched."""
    since = time.time() - fresh_seconds()
    rows = server.db.all(
        "SELECT c.case_no FROM gov_cases c JOIN outbox o ON o.topic = 'T5-5:' || c.case_no AND o.sender = ? "
        "WHERE c.source = 'feed' AND c.state = 'submitted' AND o.status != 'failed' AND o.created_at >= ? "
        "AND NOT EXISTS (SELECT 1 FROM gov_case_reports r WHERE r.case_no = c.case_no) ORDER BY c.case_no",
        server.role,
        since,
    )
    return [r[0] for r in rows]


def open_cases(server: RoleServer) -> int:
    return int(server.db.one("SELECT count(*) FROM gov_cases WHERE source = 'feed' AND state = 'submitted'")[0])


def top_up(server: RoleServer, rng: random.Random) -> int:
    """Take new applications until :func:`stock` are fresh (bounded by :func:`ceiling`); returns how many."""
    want = stock() - len(fresh(server))
    room = ceiling() - open_cases(server)
    n = max(0, min(want, room))
    for _ in range(n):
        take(server, new_application(rng))
    return n


async def run(server: RoleServer, stop: asyncio.Event) -> None:
    """The acceptance desk: keep applications flowing to the licensing system until ``stop`` is set."""
    rng = random.Random(secrets.randbits(64))
    while not stop.is_set():
        try:
            top_up(server, rng)
        except Exception:  # the desk must not die with one bad application; the log says why
            log.exception("gov-platform: taking an application failed")
        await asyncio.sleep(TICK_S)
