"""政务服务平台 (gov-platform, incl. the provincial e-licence library): DB42/T 2279-2024 §10.2 表5.

This module holds the item-management and identity interfaces, the SMS gateway, the tables,
the demo data and the shared directory of licensing authorities. The receivers of the
licensing system's report-backs (T5-6 … T5-10) live in :mod:`.gov_cases`, the e-licence
library (T5-11 … T5-16) in :mod:`.gov_elicenses`.

Item management (derived from the code lists, nothing stored):

* **T5-1 实施清单** — the item 特种设备使用登记 (SG 6-2021 code ``01100000``) is implemented by
  the market-supervision bureau of every province-level division (except 71/81/82) and of
  every prefecture-level division of ``divisions.json`` (the four 省直辖县级行政区划 grouping
  codes are not authorities and are left out): 364 implementations. Department names are
  ``<区划名>市场监督管理局``; their USCCs are generated (valid, pair ``11`` 机关, the division
  of the bureau, deterministic per division: ``authority(code)``). ``implementCode`` is the
  bureau's USCC followed by the item code. Filters: ``deptUscc`` (exact) and ``division``:
  a province code gives the province's bureau and its prefectures', a prefecture code its
  own, a county code the bureau that covers it (its prefecture's, or the province's for
  counties of the municipalities and of the grouping codes). Ordered by division code.
* **T5-2 业务办理项** — the 114 handling items of ``licence-items.json`` (表1) for the
  implementation that covers ``division`` (same rule as above), optionally narrowed to one
  equipment group; ``division`` of each item is the implementing bureau's. A division
  without an implementation (71/81/82, grouping codes) has none: ``[]``.

Identity (T5-3 / T5-4): seeded users, ``np-000001`` … (natural persons, valid citizen IDs)
and ``lp-000001`` … (legal persons from DataGen units, valid USCCs); unknown ids are 404.
``user_ids(db, kind)`` lists them (for tests and the client-side suite).

SMS gateway (§7.4.5 c) 4)): each message is recorded once per ``messageId`` (``sms_messages``).

Applications (T5-5, the platform's push to the licensing system): :mod:`.gov_applications` — when the role
runs on its own with a licensing counterpart (``--counterpart licensing=URL``), its acceptance desk pushes
applications of simulated applicants, each a new case the licensing system can then report on.
"""

from __future__ import annotations

from typing import Any

from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.reference.context import SEEDERS, SETUPS, Ctx, Reply, now_iso, operation
from conformance.reference.db import Database, dumps, loads
from conformance.reference.errors import not_found
from conformance.reference.roles.gov_platform import applications as gov_applications
from conformance.reference.roles.gov_platform import cases as gov_cases
from conformance.reference.roles.gov_platform import elicenses as gov_elicenses
from conformance.reference.roles.gov_platform import model
from conformance.reference.roles.gov_platform.model import covering, division_info, implementations
from conformance.reference.roles.messages import once
from conformance.reference.server_state import RoleServer
from conformance.serving.envelope import page


def setup(server: RoleServer) -> None:
    model.setup_tables(server.db)
    gov_applications.setup(server)  # on its own with a licensing counterpart: push applications (T5-5)


SETUPS["gov-platform"] = setup


# ------------------------------------------------------------------------------ authorities


@operation("queryImplementations")
async def query_implementations(ctx: Ctx) -> Reply:
    q = ctx.query
    rows = list(implementations())
    if "deptUscc" in q:
        rows = [r for r in rows if r["deptUscc"] == q["deptUscc"]]
    if "division" in q:
        d = q["division"]
        div = division_info(d)
        if d.endswith("0000"):
            rows = [r for r in rows if r["division"][:2] == d[:2]]
        elif div is not None and div["level"] == "prefecture":
            rows = [r for r in rows if r["division"] == d]
        else:
            cover = covering(d)
            rows = [r for r in rows if cover is not None and r["division"] == cover["division"]]
    return Reply(page(rows, int(q.get("page", 1)), int(q.get("size", 50))))


@operation("queryHandlingItems")
async def query_handling_items(ctx: Ctx) -> Reply:
    impl = covering(ctx.query["division"])
    if impl is None:
        return Reply([])
    group = ctx.query.get("group")
    out = [
        {
            "code": it["code"],
            "name": it["name"],
            "implementCode": impl["implementCode"],
            "division": impl["division"],
            "group": it["group"],
            "operation": it["operation"],
        }
        for it in code_lists.licence_items().values()
        if group is None or it["group"] == group
    ]
    return Reply(out)


# ------------------------------------------------------------------------------ users
def user_ids(db: Database, kind: str = "natural") -> list[str]:
    return [r[0] for r in db.all("SELECT user_id FROM gov_users WHERE kind = ? ORDER BY user_id", kind)]


def get_user(db: Database, kind: str, user_id: str) -> dict[str, Any] | None:
    row = db.one("SELECT body FROM gov_users WHERE kind = ? AND user_id = ?", kind, user_id)
    return loads(row[0]) if row else None


_USER_KINDS = {
    "getNaturalPerson": ("natural", "自然人用户", "natural-person user"),
    "getLegalPerson": ("legal", "法人用户", "legal-person user"),
}


@operation(*_USER_KINDS)
async def get_person(ctx: Ctx) -> Reply:
    """T5-3 / T5-4: a unified-identity user by id."""
    kind, zh, en = _USER_KINDS[ctx.op.operation_id]
    user = get_user(ctx.db, kind, ctx.path["userId"])
    if user is None:
        raise not_found(f"{zh} {ctx.path['userId']} ", f"{en} {ctx.path['userId']}")
    return Reply(user)


# ------------------------------------------------------------------------------ SMS gateway
@operation("sendSms")
async def send_sms(ctx: Ctx) -> Reply:
    body = ctx.body

    def process() -> tuple[int, dict[str, Any]]:
        at = now_iso()
        ctx.db.conn.execute(
            "INSERT INTO gov_sms (message_id, mobile, case_no, content, received_at) VALUES (?, ?, ?, ?, ?)",
            (body["messageId"], body["mobile"], body.get("caseNo"), body["content"], at),
        )
        receipt: dict[str, Any] = {"messageId": body["messageId"], "receivedAt": at, "duplicate": False}
        if body.get("caseNo"):
            receipt["caseNo"] = body["caseNo"]
        return 201, receipt

    return await once(ctx, "gov-platform.sms", body, process)


def sms_messages(db: Database, case_no: str | None = None) -> list[dict[str, Any]]:
    """Messages the gateway accepted (one per messageId), oldest first."""
    return db.records(
        "SELECT message_id, mobile, case_no, content, received_at FROM gov_sms "
        "WHERE (? IS NULL OR case_no = ?) ORDER BY rowid",
        case_no,
        case_no,
    )


# ------------------------------------------------------------------------------ demo data
def seed(server: RoleServer, gen: Any) -> None:
    """Users, demo cases in every platform state (with their report histories) and e-licences."""
    db = server.db
    rng = gen.rng
    naturals, legals = [], []
    for i in range(1, 121):
        county = gen.county("42" if i % 3 else None)
        born = f"{rng.randint(1960, 2003)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        naturals.append(
            {
                "userId": f"np-{i:06d}",
                "name": gen.person(),
                "idType": "111",
                "idNumber": KINDS["citizen-id"].generate(rng, division=county, birth=born),
                "mobile": gen.mobile(),
                "authLevel": rng.choice(("L2", "L3", "L3", "L4")),
                "_address": gen.address(county),
            }
        )
    for i in range(1, 121):
        unit = gen.unit("use", "42" if i % 3 else None)
        legals.append(
            {
                "userId": f"lp-{i:06d}",
                "name": unit["name"],
                "idType": "001",
                "uscc": unit["uscc"],
                "legalRepresentative": unit["legalRepresentative"],
                "agentName": unit["contactPerson"],
                "agentMobile": unit["contactPhone"],
                "_division": unit["division"],
                "_address": unit["address"],
            }
        )
    with db.write() as c:
        c.executemany(
            "INSERT OR REPLACE INTO gov_users (kind, user_id, body) VALUES (?, ?, ?)",
            [
                (kind, u["userId"], dumps({k: v for k, v in u.items() if not k.startswith("_")}))
                for kind, users in (("natural", naturals), ("legal", legals))
                for u in users
            ],
        )
        granted = gov_cases.seed_cases(server, gen, legals, naturals)
        gov_elicenses.seed_elicenses(server, gen, legals, naturals, granted)


SEEDERS["gov-platform"] = seed
