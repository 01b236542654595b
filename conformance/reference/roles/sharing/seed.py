"""Demo data of the sharing platform (``--seed N``): a consistent picture over several provinces.

~3000 equipment, the units behind them (use, manufacture, inspection units and the registering
authorities), ~600 personnel, one inspection report per equipment (the equipment's
``lastReportNo`` points to it), ~60 accidents and one use registration per registered
equipment. Every reference resolves in its data set (SHARE.MECH.CONTENT.8) and every record is
valid against its schema (tests/test_reference_sharing.py checks). Written in one transaction
through ``put_record`` so the change feed starts with them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.datagen import DataGen
from conformance.reference.context import now_iso
from conformance.reference.roles.sharing import data as sd
from conformance.reference.roles.sharing import opening
from conformance.reference.server_state import RoleServer

EQUIPMENT = 3000
PERSONNEL = 600
ACCIDENTS = 60
_REGISTRATION_STATUS = {"in-use": "registered", "suspended": "suspended", "scrapped": "scrapped"}


def _authority(gen: DataGen, division: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The market-regulation bureau that registers equipment of a county (its prefecture's)."""
    parent = code_lists.divisions().get(division, {}).get("parent") or division[:2] + "0000"
    if parent not in cache:
        cache[parent] = {
            "name": f"{gen.division_name(parent)}市场监督管理局",
            "uscc": KINDS["uscc"].generate(gen.rng, division=parent, pair="11"),
            "division": parent,
        }
    return cache[parent]


def demo_records(gen: DataGen) -> dict[str, list[dict[str, Any]]]:
    """The demo records by data set (deterministic for a seed; keys unique)."""
    equipment: dict[str, dict[str, Any]] = {}
    for rec in gen.equipment_stream(EQUIPMENT):
        equipment.setdefault(rec["equipmentCode"], rec)
    reports: dict[str, dict[str, Any]] = {}
    for rec in equipment.values():
        report = gen.inspection_report(rec)
        while report["reportNo"] in reports:
            report = gen.inspection_report(rec)
        reports[report["reportNo"]] = report
        rec["lastReportNo"] = report["reportNo"]
    personnel: dict[str, dict[str, Any]] = {}
    for _ in range(PERSONNEL):
        rec = gen.personnel()
        personnel.setdefault(rec["certificateNo"], rec)
    pool = list(equipment.values())
    accidents: dict[str, dict[str, Any]] = {}
    while len(accidents) < ACCIDENTS:
        rec = gen.accident(gen.rng.choice(pool))
        accidents.setdefault(rec["accidentId"], rec)
    authorities: dict[str, dict[str, Any]] = {}
    registrations: dict[str, dict[str, Any]] = {}
    for rec in pool:
        if not rec.get("registrationNo") or rec["registrationNo"] in registrations:
            continue
        reg = gen.use_registration(rec, _authority(gen, rec["division"], authorities))
        reg["status"] = _REGISTRATION_STATUS.get(rec["status"], "registered")
        registrations[reg["registrationNo"]] = reg
    in_use = Counter(e["useUnitUscc"] for e in pool if e["status"] == "in-use")
    units: dict[str, dict[str, Any]] = {}
    for unit in gen._units:
        if unit["unitType"] == "use":
            unit["equipmentCount"] = in_use.get(unit["uscc"], 0)
        units.setdefault(unit["uscc"], unit)
    for unit in opening.owner_units():  # the units the owner clients act for (clients.json ownerUscc)
        units.setdefault(unit["uscc"], unit)
    stamp = gen.when(30).isoformat(timespec="seconds")
    for auth in authorities.values():
        units.setdefault(
            auth["uscc"],
            {
                "uscc": auth["uscc"],
                "name": auth["name"],
                "unitType": "supervision",
                "division": auth["division"],
                "address": gen.address(auth["division"]),
                "contactPhone": "12315",
                "status": "active",
                "updatedAt": stamp,
            },
        )
    return {
        "units": list(units.values()),
        "equipment": pool,
        "personnel": list(personnel.values()),
        "inspection-reports": list(reports.values()),
        "accidents": list(accidents.values()),
        "use-registrations": list(registrations.values()),
    }


#: The source system of each data set's demo records (SHARE.MECH.SUBJECT.1: 来源系统).
SOURCE_SYSTEM = {
    "equipment": "特种设备使用登记系统",
    "units": "特种设备使用登记系统",
    "use-registrations": "特种设备使用登记系统",
    "personnel": "特种设备作业人员管理系统",
    "accidents": "特种设备事故管理系统",
    "inspection-reports": "检验检测信息系统",
}


def seed(server: RoleServer, gen: DataGen) -> None:
    records = demo_records(gen)
    sets = sd.data_sets()
    at = now_iso()
    authorities: dict[str, dict[str, Any]] = {}
    bureaus = DataGen(20241122)  # its own generator: the providers do not shift the other roles' demo data
    with server.db.write():
        for name, recs in records.items():
            ds = sets[name]
            for rec in recs:
                division = str(rec.get("division") or "420000")
                bureau = _authority(bureaus, division if len(division) == 6 else "420000", authorities)
                rec["provider"] = {
                    "uscc": bureau["uscc"],
                    "name": bureau["name"],
                    "division": bureau["division"],
                    "system": SOURCE_SYSTEM[name],
                }
                sd.store(server.db, ds, rec[ds.key], rec, at)
