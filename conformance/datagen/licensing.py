"""Licensing applications (T5-5, ``application.schema.json``) and their parts: items, varieties, applicants, the
licensing authority."""

from __future__ import annotations

import datetime as dt
import functools
import random
import secrets
import uuid
from typing import Any

from conformance.check.schema import validator
from conformance.clock import CHINA, now_iso
from conformance.codes import KINDS
from conformance.codes import lists as code_lists
from conformance.contract import documents as contracts
from conformance.datagen.records import DataGen

Item = dict[str, Any]


@functools.cache
def items() -> dict[str, Item]:
    return code_lists.licence_items()


@functools.cache
def groups() -> dict[str, Item]:
    return code_lists.licence_groups()


@functools.cache
def varieties(group: str) -> tuple[str, ...]:
    """Catalogue codes naming a 品种 (or a class with none) within the group's catalogue kinds."""
    specific = code_lists.catalogue_specific()
    cat = code_lists.catalogue()
    return tuple(
        c
        for top in groups()[group]["catalogue"]
        for c in code_lists.catalogue_descendants(top)
        if c in specific and not cat[c].get("doubtful")
    )


def _authority_uscc() -> str:
    return KINDS["uscc"].generate(random.Random("tzsb-conformance:licensing-authority"), pair="11", division="420100")


#: The licensing authority named in the pushed applications (a Hubei prefecture-level authority).
DEFAULT_AUTHORITY = {"name": "武汉市市场监督管理局", "uscc": _authority_uscc(), "division": "420100"}


def authority_of(target: Any) -> Item:
    """The authority the applications are addressed to: ``[thresholds] licensing_authority_*`` of the target file
    (name, uscc, division) when given, else :data:`DEFAULT_AUTHORITY`."""
    t = getattr(target, "thresholds", {}) or {}
    keys = ("name", "uscc", "division")
    if all(f"licensing_authority_{k}" in t for k in keys):
        return {k: str(t[f"licensing_authority_{k}"]) for k in keys}
    return dict(DEFAULT_AUTHORITY)


def new_applicant(rng: random.Random | None = None) -> Item:
    """A legal person never seen by the target: a fresh, valid USCC (GB 32100) in Hubei."""
    gen = DataGen((rng or random.Random(secrets.randbits(64))).randrange(2**62))
    return legal_person(gen.unit("use", "42"))


def legal_person(unit: Item) -> Item:
    """The applicant (a legal person, T5-5 ``applicant``) of a unit of :meth:`DataGen.unit`."""
    return {
        "type": "legal-person",
        "name": unit["name"],
        "idType": "001",
        "idNumber": unit["uscc"],
        "contactPerson": unit["contactPerson"],
        "contactPhone": unit["contactPhone"],
        "address": unit["address"],
    }


def new_case_no() -> str:
    return f"TZSB-{uuid.uuid4().hex[:20].upper()}"


def application(
    case_no: str,
    item: str,
    applicant: Item,
    authority: Item,
    *,
    rng: random.Random,
    channel: str = "online",
    n: int = 1,
    catalogue: str | None = None,
) -> Item:
    """A T5-5 application (application.schema.json) for ``item``, the equipment a variety of the item's group."""
    group = items()[item]["group"]
    catalogue = catalogue or rng.choice(varieties(group))
    county = rng.choice(
        code_lists.division_pool("county", authority["division"][:4])
        or code_lists.division_pool("county", authority["division"][:2])
    )
    gen = DataGen(rng.randrange(2**62))
    body = {
        "messageId": f"msg-{case_no}-{n}",
        "caseNo": case_no,
        "itemCode": item,
        "itemName": items()[item]["name"],
        "channel": channel,
        "applicant": applicant,
        "authority": authority,
        "equipment": {
            "catalogueCode": catalogue,
            "equipmentName": code_lists.catalogue()[catalogue]["name"],
            "model": f"TZ-{rng.randint(100, 9999)}",
            "factoryNo": f"{rng.randint(10**7, 10**8 - 1)}",
            "manufactureDate": f"{dt.date.today().year - 1}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "division": county,
            "address": gen.address(county),
        },
        "materials": [
            {
                "name": "产品合格证",
                "fileName": "产品合格证.pdf",
                "format": "PDF",
                "sha256": secrets.token_hex(32),
                "size": rng.randint(1000, 90000),
            }
        ],
        "submittedAt": dt.datetime.now(dt.UTC).astimezone(CHINA).isoformat(timespec="seconds"),
    }
    return _checked("application", body)


def resubmission(app: Item, n: int) -> Item:
    """补齐补正: message ``n`` of the case of ``app`` — the same case number, a new message id, one more material."""
    return {
        **app,
        "messageId": f"msg-{app['caseNo']}-{n}",
        "submittedAt": now_iso(),
        "materials": [
            *app["materials"],
            {
                "name": "补正材料",
                "fileName": f"补正材料{n}.pdf",
                "format": "PDF",
                "sha256": secrets.token_hex(32),
                "size": 2048,
            },
        ],
    }


#: The walks of a granted and of a refused case from 受理 to 归档, as ``(step, outcome)`` of workflow.json.
GRANTED = (
    ("accept", "accepted"),
    ("review", "passed"),
    ("decide", "granted"),
    ("certify", "certified"),
    ("issue", "issued"),
    ("conclude", "concluded"),
    ("pre-archive", "passed"),
    ("archive", "archived"),
)
REFUSED = (
    ("accept", "accepted"),
    ("review", "failed"),
    ("decide", "refused"),
    ("conclude", "concluded"),
    ("pre-archive", "passed"),
    ("archive", "archived"),
)


def licence_detail(equipment: Item, **given: Any) -> Item:
    """One entry of a licence's 明细信息 (``licence-certificate.schema.json`` ``details``) for a piece of equipment:
    the fields of ``equipment`` (an application's equipment or an equipment record) the entry has, then ``given``
    (e.g. the equipment code assigned at certification)."""
    fields = contracts.json_schema("licence-certificate")["properties"]["details"]["items"]["properties"]
    entry = {k: equipment[k] for k in fields if equipment.get(k) not in (None, "")}
    entry.update({k: v for k, v in given.items() if k in fields and v not in (None, "")})
    return entry


def certificate(
    authority: Item,
    holder: Item,
    rng: random.Random,
    *,
    type_code: str,
    item: str | None = None,
    internal_no: bool = False,
) -> Item:
    """A fresh e-licence certificate (licence-certificate.schema.json) of 特种设备使用登记 issued by ``authority`` to
    ``holder`` (name, uscc, address), for ``item`` (else one of Table 1), with the 证照类型代码 ``type_code``."""
    item = item or rng.choice(sorted(items()))
    variety = rng.choice(varieties(items()[item]["group"]))
    cat = code_lists.catalogue()
    kind = code_lists.catalogue_kind_of(variety) or variety
    today = dt.datetime.now(CHINA).date()
    reg_no = KINDS["registration-no"].generate(
        rng, catalogue=variety, province=authority["division"][:2], year=today.year
    )
    elicense_id = KINDS["elicense-id"].generate(  # drawn first, as the rng's order always was
        rng,
        type_code=type_code,
        issuer=authority["uscc"],
        number=f"{today.year}{rng.randrange(10**10):010d}",
        version=1,
    )
    surface: Item = {
        "equipmentCategory": cat[kind]["name"],
        "equipmentVariety": cat[variety]["name"],
        "equipmentCode": KINDS["equipment-code"].generate(rng, catalogue=variety, division=authority["division"]),
        "useUnitName": holder["name"],
        "useAddress": holder["address"],
    }
    if internal_no:
        surface["internalNo"] = f"TZSB-{rng.randrange(1000):03d}"
    surface["registrationNo"] = reg_no
    cert: Item = {
        "elicenseId": elicense_id,
        "licenceName": contracts.json_schema("licence-certificate")["properties"]["licenceName"]["const"],
        "licenceNo": reg_no,
        "holderName": holder["name"],
        "holderIdType": "001",
        "holderId": holder["uscc"],
        "issuerName": authority["name"],
        "issuerCode": authority["uscc"],
        "issuerDivision": authority["division"],
        "issueDate": today.isoformat(),
        "validFrom": today.isoformat(),
        "status": "valid",
        "itemCode": item,
        "surface": surface,
        "details": [
            licence_detail(
                {"division": authority["division"], "address": holder["address"]},
                equipmentCode=surface["equipmentCode"],
                catalogueCode=variety,
                equipmentName=cat[variety]["name"][:100],
            )
        ],
        "version": "001",
    }
    return _checked("licence-certificate", cert)


def _checked(schema: str, record: Item) -> Item:
    """``record`` when it conforms to ``schema``: the harness's own data, so not conforming is an error of the
    harness, never of the target."""
    v = validator(schema)
    if not v.is_valid(record):
        raise RuntimeError(f"harness built an invalid {schema}: {[e.message_zh for e in v.errors(record)][:3]}")
    return record
