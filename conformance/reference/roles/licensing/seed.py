"""Demo data of the licensing role (``--seed N``): a few dozen cases in every state of workflow.json,
walked through the real workflow (same code as the driver, historical times, no outgoing calls:
the demo cases' exchanges are history), so their documents, notices, codes and dossiers are
what the system itself produces. About 40 cases, several per applicant, a dozen archived.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable, Sequence
from typing import Any

from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.datagen.licensing import GRANTED, REFUSED, legal_person
from conformance.reference.roles.licensing import workflow as flow
from conformance.reference.server_state import RoleServer

Item = dict[str, Any]
AUTHORITIES = ("420100", "420500", "420600")
#: scenario name → (steps, how many cases)
SCENARIOS: dict[str, tuple[Sequence[Any], int]] = {
    "archived": (GRANTED, 12),
    "archived-refused": (REFUSED, 3),
    "archived-after-correction": ([("accept", "correction"), "resubmit", *GRANTED], 2),
    "archived-after-return": ([*GRANTED[:6], ("pre-archive", "returned"), ("conclude", "concluded"), *GRANTED[6:]], 1),
    "special-procedure-done": ([*GRANTED[:1], "suspend", "resume", *GRANTED[1:]], 1),
    "not-accepted": ([("accept", "not-accepted")], 3),
    "awaiting-correction": ([("accept", "correction")], 2),
    "submitted": ([], 3),
    "accepted": (GRANTED[:1], 2),
    "reviewed": (GRANTED[:2], 1),
    "suspended": ([*GRANTED[:1], "suspend"], 1),
    "granted": (GRANTED[:3], 1),
    "certified": (GRANTED[:4], 1),
    "issued": (GRANTED[:5], 1),
    "concluded": (GRANTED[:6], 1),
    "to-be-filed": ([*GRANTED[:6], ("pre-archive", "returned")], 1),
    "catalogued": (GRANTED[:7], 1),
}
OPINIONS = {
    ("accept", "accepted"): "申请材料齐全，符合法定形式，予以受理。",
    ("accept", "correction"): "产品合格证：复印件不清晰，请上传原件扫描件\n安装监督检验报告：缺少签章页",
    ("accept", "not-accepted"): "申请事项不属于本机关管辖范围，不予受理。",
    ("review", "passed"): "经审查，设备检验合格，资料符合使用登记要求。",
    ("review", "failed"): "经审查，设备定期检验结论为不合格，不符合登记条件。",
    ("decide", "granted"): "同意办理使用登记，准予许可。",
    ("decide", "refused"): "设备检验不合格，不予许可。",
    ("certify", "certified"): "已核对证书样式与登记信息，制证完成。",
    ("issue", "issued"): "证书已发放，同步推送电子证照。",
    ("conclude", "concluded"): "办件办结，转入预归档。",
    ("pre-archive", "passed"): "卷宗材料齐全，符合归档要求。",
    ("pre-archive", "returned"): "缺少办理意见流转单签字页，退回补充。",
    ("archive", "archived"): "组装成卷，归档。",
}


def _authority(code: str) -> Item:
    try:
        from conformance.reference.roles.gov_platform.model import authority

        a = authority(code)
        return {"name": a["name"], "uscc": a["uscc"], "division": a["division"]}
    except (ImportError, KeyError):
        name = code_lists.divisions()[code]["name"]
        uscc = KINDS["uscc"].generate(random.Random(f"tzsb-reference:samr-bureau:{code}"), pair="11", division=code)
        return {"name": f"{name}市场监督管理局", "uscc": uscc, "division": code}


def varieties(group: Item) -> list[str]:
    specific, cat = code_lists.catalogue_specific(), code_lists.catalogue()
    return sorted(
        c
        for top in group["catalogue"]
        for c in code_lists.catalogue_descendants(top)
        if c in specific and not cat[c].get("doubtful")
    )


def new_equipment(
    gen: Any, rng: random.Random, item: Item, variety: str, county: str, made: dt.date, maker: Item, province: str
) -> Item:
    """The equipment of an application (application.schema.json): new equipment, or, for a change of an existing
    registration (operation other than 01), equipment with its code and certificate number."""
    equipment: Item = {
        "catalogueCode": variety,
        "equipmentName": code_lists.catalogue()[variety]["name"],
        "model": f"{rng.choice('ABCDHKST')}{rng.choice('KLMPX')}-{rng.randint(100, 9999)}",
        "factoryNo": f"{made.year}{rng.randint(1, 99999):05d}",
        "manufacturerUscc": maker["uscc"],
        "manufacturerName": maker["name"],
        "manufactureDate": made.isoformat(),
        "division": county,
        "address": gen.address(county),
    }
    if item["operation"] != "01":
        equipment["equipmentCode"] = KINDS["equipment-code"].generate(rng, catalogue=variety, year=made.year)
        equipment["registrationNo"] = KINDS["registration-no"].generate(
            rng, catalogue=variety, province=province, year=made.year + 1
        )
    return equipment


def new_materials(rng: random.Random, digest: Callable[[str], str]) -> list[Item]:
    """The materials of an application (one or both of two PDFs), each with the digest ``digest(name)``."""
    names = ("产品合格证", "监督检验报告")[: rng.randint(1, 2)]
    return [
        {"name": n, "fileName": f"{n}.pdf", "format": "PDF", "sha256": digest(n), "size": rng.randint(20_000, 900_000)}
        for n in names
    ]


def _application(gen: Any, rng: random.Random, i: int, unit: Item, authority: Item, at: dt.datetime) -> Item:
    groups = code_lists.licence_groups()
    group = groups[rng.choices(("03", "02", "04", "05", "01", "06", "08", "10"), (50, 20, 12, 8, 4, 2, 3, 1))[0]]
    items = [it for it in code_lists.licence_items().values() if it["group"] == group["code"]]
    item = items[0] if rng.random() < 0.7 else rng.choice(items)
    variety = rng.choice(varieties(group))
    made = at.date() - dt.timedelta(days=rng.randint(60, 3000))
    maker = gen.unit("manufacture")
    county = rng.choice(code_lists.division_pool("county", authority["division"][:4]) or (unit["division"],))
    equipment = new_equipment(gen, rng, item, variety, county, made, maker, "42")
    materials = new_materials(rng, lambda name: hashlib.sha256(f"{i}:{name}".encode()).hexdigest())
    return {
        "messageId": f"seed-app-{i:05d}-1",
        "caseNo": f"{authority['division']}{at:%Y%m%d}{i:06d}",
        "itemCode": item["code"],
        "itemName": item["name"],
        "channel": rng.choice(("online", "online", "offline")),
        "applicant": legal_person(unit),
        "authority": authority,
        "equipment": equipment,
        "materials": materials,
        "submittedAt": at.isoformat(timespec="seconds"),
    }


def seed(server: RoleServer, gen: Any) -> None:
    rng = random.Random(f"licensing-seed:{server.seed}")
    authorities = [_authority(code) for code in AUTHORITIES]
    units = [gen.unit("use", "42") for _ in range(10)]
    officers = {role: flow.Actor(gen.person(), role, f"officer-{role}") for role in flow.role_names()}
    plans = []
    i = 0
    for scenario, (path, count) in SCENARIOS.items():
        for _ in range(count):
            i += 1
            start = gen.when(600).replace(microsecond=0)
            plans.append((start, i, scenario, path))
    plans.sort(key=lambda p: (p[0], p[1]))
    with server.db.write():
        for start, n, _scenario, path in plans:
            unit = units[n % len(units)]
            app = _application(gen, rng, n, unit, authorities[n % len(authorities)], start)
            at = start
            flow.receive_application(server, app, at=at.isoformat())
            version = 1
            for move in path:
                at += dt.timedelta(hours=rng.randint(2, 40))
                when = at.isoformat(timespec="seconds")
                if move == "resubmit":
                    version += 1
                    again = {**app, "messageId": f"seed-app-{n:05d}-{version}", "submittedAt": when}
                    flow.receive_application(server, again, at=when)
                elif move in ("suspend", "resume"):
                    officer = officers["review"]
                    flow.special_procedure(
                        server,
                        app["caseNo"],
                        {
                            "procedure": "现场核查",
                            "opinion": "需现场核查设备安装情况",
                            "action": "start" if move == "suspend" else "end",
                            "days": 5,
                        },
                        officer,
                        at=when,
                        report=False,
                    )
                else:
                    step, outcome = move
                    role = flow.allowed_roles(step, flow.outcomes()[(step, outcome)])[0]
                    flow.perform_step(
                        server,
                        app["caseNo"],
                        step,
                        outcome,
                        officers[role],
                        OPINIONS[(step, outcome)],
                        at=when,
                        report=False,
                    )
