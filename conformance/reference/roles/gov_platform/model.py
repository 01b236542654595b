"""The government-service platform's own data: its tables, the market-supervision bureaus (one per province and
prefecture, deterministic), the implementations of the item 特种设备使用登记 and which authority covers a division,
and the licence group of a catalogue code. Read by the handlers, the cases, the e-licence library and the
applications alike."""

from __future__ import annotations

import functools
import random
import weakref
from typing import Any

from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.datagen import PROVINCES
from conformance.reference.db import Database

#: SG 6-2021 code and name of the item 特种设备使用登记.
ITEM_CODE = "01100000"


ITEM_NAME = "特种设备使用登记"


#: Province-level divisions outside the market-supervision system of the mainland.
_NO_BUREAU = ("71", "81", "82")


DDL = """
CREATE TABLE IF NOT EXISTS gov_users (
  kind TEXT NOT NULL, user_id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (kind, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gov_sms (
  message_id TEXT PRIMARY KEY, mobile TEXT NOT NULL, case_no TEXT, content TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_cases (
  case_no TEXT PRIMARY KEY, item_code TEXT NOT NULL, applicant_id TEXT NOT NULL, submitted_at TEXT NOT NULL,
  state TEXT NOT NULL, last_step TEXT, decision TEXT, open_procedures TEXT NOT NULL DEFAULT '[]', result TEXT,
  submissions INTEGER NOT NULL DEFAULT 1, source TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_case_reports (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, case_no TEXT NOT NULL, interface TEXT NOT NULL, kind TEXT NOT NULL,
  message_id TEXT NOT NULL, received_at TEXT NOT NULL, state_before TEXT NOT NULL, state_after TEXT NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS gov_case_reports_by_case ON gov_case_reports (case_no, seq);
CREATE TABLE IF NOT EXISTS gov_elicenses (
  elicense_id TEXT PRIMARY KEY, holder_id TEXT NOT NULL, holder_id_type TEXT NOT NULL, item_code TEXT,
  issue_date TEXT NOT NULL, digest TEXT NOT NULL, body BLOB NOT NULL, source TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gov_elicenses_by_holder ON gov_elicenses (holder_id, issue_date);
CREATE TABLE IF NOT EXISTS gov_download_tokens (
  token TEXT PRIMARY KEY, elicense_id TEXT NOT NULL, expires_at REAL NOT NULL);
"""


_ready: weakref.WeakSet[Database] = weakref.WeakSet()


def ensure_tables(db: Database) -> None:
    """Create the gov-platform tables if needed; safe inside an open transaction (statement by statement).

    :func:`.gov_cases.register_case` calls it, so the licensing role may register cases in a
    database whose gov-platform role was never set up.
    """
    if db in _ready:
        return
    for stmt in DDL.split(";"):
        if stmt.strip():
            db.conn.execute(stmt)
    _ready.add(db)


def division_info(code: str) -> dict[str, Any] | None:
    return code_lists.divisions().get(code)


@functools.cache
def authority(code: str) -> dict[str, Any]:
    """The market-supervision bureau of a province- or prefecture-level division (deterministic)."""
    div = division_info(code)
    if div is None or div["level"] not in ("province", "prefecture") or div.get("grouping"):
        raise KeyError(f"no market-supervision bureau for division {code}")
    rng = random.Random(f"tzsb-reference:samr-bureau:{code}")
    uscc = KINDS["uscc"].generate(rng, pair="11", division=code)
    return {"name": f"{div['name']}市场监督管理局", "uscc": uscc, "division": code, "level": div["level"]}


@functools.cache
def implementations() -> tuple[dict[str, Any], ...]:
    out = []
    for code, div in sorted(code_lists.divisions().items()):
        if div["level"] not in ("province", "prefecture") or div.get("grouping") or div.get("doubtful"):
            continue
        if code[:2] in _NO_BUREAU:
            continue
        a = authority(code)
        out.append(
            {
                "implementCode": f"{a['uscc']}{ITEM_CODE}",
                "itemCode": ITEM_CODE,
                "name": ITEM_NAME,
                "deptName": a["name"],
                "deptUscc": a["uscc"],
                "division": code,
                "level": a["level"],
                "handlingItemCount": len(code_lists.licence_items()),
            }
        )
    return tuple(out)


@functools.cache
def _by_division() -> dict[str, dict[str, Any]]:
    return {i["division"]: i for i in implementations()}


def covering(division: str) -> dict[str, Any] | None:
    """The implementation that serves ``division`` (itself, its prefecture, or its province)."""
    found = _by_division()
    if division in found:
        return found[division]
    div = division_info(division)
    if div is None or div.get("grouping"):
        return None
    if div["level"] == "county":
        parent = div.get("parent") or ""
        if parent in found:
            return found[parent]
        return found.get(division[:2] + "0000")
    return None


def authority_for(division: str) -> dict[str, Any]:
    """The registering authority (``{name, uscc, division}``) for equipment used in ``division``."""
    impl = covering(division) or covering(division[:2] + "0000")
    if impl is None:
        raise KeyError(f"no authority covers division {division}")
    return {"name": impl["deptName"], "uscc": impl["deptUscc"], "division": impl["division"]}


def demo_holder_context(holder: dict[str, Any], natural: bool, gen: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Demo data: a seeded holder's division, its registering authority and a piece of equipment in its province."""
    division = holder["idNumber"][:6] if natural else holder["_division"]
    try:
        authority = authority_for(division)
    except KeyError:
        authority = authority_for("420100")
    return division, authority, gen.equipment(division[:2] if division[:2] in PROVINCES else "42")


@functools.cache
def _groups_by_catalogue() -> dict[str, str]:
    out: dict[str, str] = {}
    for g in code_lists.licence_groups().values():
        for cat in g["catalogue"]:
            out.setdefault(cat, g["code"])
    return out


def group_of(catalogue_code: str) -> str:
    table = _groups_by_catalogue()
    return table.get(catalogue_code[:2] + "00") or table.get(catalogue_code[0] + "000") or "03"


def setup_tables(db: Database) -> None:
    """The platform's tables, at the set-up of a server with the gov-platform role."""
    db.ensure(DDL)
    _ready.add(db)
