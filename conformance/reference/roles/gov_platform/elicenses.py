"""省电子证照库 of the gov-platform: DB42/T 2279-2024 表5 序号11–16.

* **T5-11 汇聚** ``POST /api/v1/elicenses`` — the licensing system submits the structured
  certificate (``licence-certificate.schema.json``). Beyond the schema (which already checks
  the identifier's MOD 37,36 character and the holder code against its type) the library
  refuses with 400: a ``version`` that differs from the version part of ``elicenseId``
  (``/version``), an ``issuerCode`` that is not the issuer part of ``elicenseId`` (GB/T 36904:
  the issuer code is the issuer's USCC; ``/issuerCode``), ``surface.registrationNo`` ≠
  ``licenceNo`` (``/surface/registrationNo``), a surface equipment code that no entry of the 明细信息 has
  (``/details``) and ``validTo`` before ``validFrom`` (``/validTo``). Idempotent by ``elicenseId`` (its version is part of it): first 201 with
  ``Location`` → T5-13; the same content again 200 with the stored certificate; different
  content 409 ``DUPLICATE``.
* **T5-12 检索** by ``holderId`` (and ``holderIdType``, ``itemCode``): summaries, newest
  first. Without ``holderIdType`` the type follows the form of ``holderId`` (a valid USCC →
  001, a valid citizen ID → 111); a code that is neither (or not of the given type) is 400.
* **T5-13 信息** the stored certificate; unknown → 404.
* **T5-14 下载地址** an absolute URL to T5-15 with a random token, valid until ``expiresAt``
  (``DOWNLOAD_TTL`` = 600 s; a server may set ``extras["gov.download_ttl"]``) and reusable
  until then (a retried download must not fail), plus the file's ``sha256``.
* **T5-15 文件** the certificate as an OFD (``reference/files.py``, the same bytes every time);
  a token that is unknown, expired or issued for another certificate is 403.
* **T5-16 缩略图** one PNG per page (base64), for province-level callers only
  (``client.level == "province"``), else 403 — unless the defect ``thumbnail-to-city``.

Seeded: the certificates of the granted demo cases plus older registrations of demo users.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import random
import secrets
import time
from typing import Any

from conformance.clock import CHINA
from conformance.codes import KINDS, check
from conformance.codes import lists as code_lists
from conformance.codes import uscc as uscc_kind
from conformance.contract.errors import ErrorCode
from conformance.datagen.licensing import licence_detail
from conformance.reference import files
from conformance.reference.context import Ctx, Reply, now_iso, operation
from conformance.reference.db import Database, dumps, loads
from conformance.reference.defects import D
from conformance.reference.errors import conflict, field_error, forbidden, not_found
from conformance.reference.roles.gov_platform.model import demo_holder_context, group_of
from conformance.reference.server_state import RoleServer
from conformance.serving import idempotency

LICENCE_NAME = "特种设备使用登记证"
DOWNLOAD_TTL = 600.0


@functools.cache
def type_code() -> str:
    """证照类型代码 of 特种设备使用登记证 in the demo data (a generated central-body USCC + 001)."""
    definer = uscc_kind.generate(random.Random("tzsb-reference:elicense-type"), pair="11", division="100000")
    return definer + "001"


def _id_parts(elicense_id: str) -> list[str]:
    return elicense_id.split(".")[5:]  # type code, issuer, number, version, check


# ------------------------------------------------------------------------------ certificates
def make_certificate(
    rng: random.Random,
    *,
    holder: dict[str, Any],
    natural: bool,
    division: str,
    equipment: dict[str, Any],
    authority: dict[str, Any],
    issue_date: dt.date,
    case_no: str | None = None,
    item_code: str | None = None,
    status: str = "valid",
) -> dict[str, Any]:
    """A valid certificate (licence-certificate.schema.json) for ``equipment`` held by ``holder``."""
    variety = equipment["catalogueCode"]
    cat = code_lists.catalogue()
    kind = cat.get(variety[0] + "000", {}).get("name", "特种设备")
    reg_no = KINDS["registration-no"].generate(
        rng, catalogue=variety, province=authority["division"][:2], year=issue_date.year
    )
    number = f"{issue_date.year}{rng.randrange(10**8):08d}"
    elicense_id = KINDS["elicense-id"].generate(
        rng, type_code=type_code(), issuer=authority["uscc"], number=number, version=1
    )
    holder_name = holder["name"]
    cert: dict[str, Any] = {
        "elicenseId": elicense_id,
        "licenceName": LICENCE_NAME,
        "licenceNo": reg_no,
        "holderName": holder_name,
        "holderIdType": "111" if natural else "001",
        "holderId": holder["idNumber"] if natural else holder["uscc"],
        "issuerName": authority["name"],
        "issuerCode": authority["uscc"],
        "issuerDivision": authority["division"],
        "issueDate": issue_date.isoformat(),
        "validFrom": issue_date.isoformat(),
        "status": status,
        "surface": {
            "equipmentCategory": kind,
            "equipmentVariety": cat.get(variety, {}).get("name", kind),
            "equipmentCode": equipment["equipmentCode"],
            "useUnitName": holder_name,
            "useAddress": holder.get("_address") or equipment["address"],
            "internalNo": equipment["internalNo"],
            "registrationNo": reg_no,
        },
        "details": [licence_detail(equipment)],
        "version": "001",
    }
    if case_no:
        cert["caseNo"] = case_no
    if item_code:
        cert["itemCode"] = item_code
    return cert


def store_elicense(db: Database, cert: dict[str, Any], source: str, at: str | None = None) -> None:
    """Insert a certificate (inside the caller's transaction, if any)."""
    db.conn.execute(
        "INSERT OR IGNORE INTO gov_elicenses (elicense_id, holder_id, holder_id_type, item_code, issue_date, "
        "digest, body, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            cert["elicenseId"],
            cert["holderId"],
            cert["holderIdType"],
            cert.get("itemCode"),
            cert["issueDate"],
            idempotency.fingerprint(cert),
            dumps(cert),
            source,
            at or now_iso(),
        ),
    )


def get_elicense(db: Database, elicense_id: str) -> dict[str, Any] | None:
    row = db.one("SELECT body FROM gov_elicenses WHERE elicense_id = ?", elicense_id)
    return loads(row[0]) if row else None


def elicense_ids(db: Database, holder_id: str | None = None) -> list[str]:
    """Stored e-licence identifiers (for tests and the client-side suite)."""
    return [
        r[0]
        for r in db.all(
            "SELECT elicense_id FROM gov_elicenses WHERE (? IS NULL OR holder_id = ?) ORDER BY issue_date, elicense_id",
            holder_id,
            holder_id,
        )
    ]


def _lines(cert: dict[str, Any]) -> list[str]:
    s = cert["surface"]
    lines = [
        f"使用登记证编号：{cert['licenceNo']}",
        f"使用单位：{s['useUnitName']}",
        f"设备类别：{s['equipmentCategory']}",
        f"设备品种：{s['equipmentVariety']}",
        f"设备代码：{s['equipmentCode']}",
        f"设备使用地点：{s['useAddress']}",
    ]
    if s.get("internalNo"):
        lines.append(f"单位内编号：{s['internalNo']}")
    lines += [
        f"登记机关：{cert['issuerName']}",
        f"发证日期：{cert['issueDate']}",
        f"电子证照标识：{cert['elicenseId']}",
    ]
    return lines


def certificate_file(cert: dict[str, Any]) -> bytes:
    """The layout file (OFD) of a certificate: the same bytes for the same certificate."""
    return files.ofd(cert["licenceName"], _lines(cert), created=cert["issueDate"], author=cert["issuerName"])


def certificate_thumbnails(cert: dict[str, Any]) -> list[bytes]:
    """Preview images, one per page of the layout file (one page); no seal."""
    return [files.png_thumbnail(cert["licenceName"], _lines(cert))]


# ------------------------------------------------------------------------------ handlers
@operation("aggregateElicense")
async def aggregate_elicense(ctx: Ctx) -> Reply:
    cert = ctx.body
    eid = cert["elicenseId"]
    parts = _id_parts(eid)
    if len(parts) != 5:
        raise field_error("/elicenseId", "电子证照标识结构错误", "malformed e-licence identifier")
    if "version" in cert and cert["version"] != parts[3]:
        raise field_error(
            "/version",
            f"版本号 {cert['version']} 与电子证照标识中的版本号 {parts[3]} 不一致",
            "version differs from the identifier's version part",
        )
    if cert["issuerCode"] != parts[1]:
        raise field_error(
            "/issuerCode",
            f"颁证单位代码 {cert['issuerCode']} 与电子证照标识中的颁发机构代码 {parts[1]} 不一致"
            "（GB/T 36904：颁发机构代码为颁证单位的统一社会信用代码）",
            "issuerCode differs from the identifier's issuer part",
        )
    if cert["surface"]["registrationNo"] != cert["licenceNo"]:
        raise field_error(
            "/surface/registrationNo",
            "照面信息中的使用登记证编号与证照编号不一致",
            "surface registrationNo differs from licenceNo",
        )
    if cert["surface"]["equipmentCode"] not in {d["equipmentCode"] for d in cert["details"]}:
        raise field_error(
            "/details",
            f"照面信息中的设备代码 {cert['surface']['equipmentCode']} 不在明细信息中",
            "the surface's equipment code is not among the details",
        )
    if cert.get("validTo") and cert["validTo"] < cert["validFrom"]:
        raise field_error("/validTo", "有效期截止早于有效期起始", "validTo before validFrom")
    location = f"{ctx.base_url}/api/v1/elicenses/{eid}"
    fingerprint = idempotency.fingerprint(cert)
    with ctx.db.write():
        row = ctx.db.one("SELECT digest, body FROM gov_elicenses WHERE elicense_id = ?", eid)
        if row is not None:
            if row[0] != fingerprint:
                raise conflict(
                    f"电子证照 {eid} 已以不同内容汇聚（同一证照标识与版本的内容不可更改）",
                    f"e-licence {eid} was aggregated with different content",
                    ErrorCode.DUPLICATE,
                )
            return Reply(loads(row[1]), status=200, headers={"Location": location})
        store_elicense(ctx.db, cert, ctx.client.id if ctx.client else "anonymous")
    return Reply(cert, status=201, headers={"Location": location})


#: ``holderIdType`` → the identifier kind of ``holderId`` and its name.
_HOLDER_TYPES = {"001": ("uscc", "统一社会信用代码"), "111": ("citizen-id", "公民身份号码")}


@operation("searchElicenses")
async def search_elicenses(ctx: Ctx) -> Reply:
    holder_id = ctx.query["holderId"]
    wanted = ctx.query.get("holderIdType")
    if wanted is None:
        wanted = next((t for t, (kind, _) in _HOLDER_TYPES.items() if check(kind, holder_id).ok), None)
        if wanted is None:
            raise field_error(
                "/query/holderId",
                "持证主体代码既不是有效的统一社会信用代码，也不是有效的公民身份号码",
                "holderId is neither a valid USCC nor a valid citizen ID",
            )
    else:
        kind, name = _HOLDER_TYPES[wanted]
        if not check(kind, holder_id).ok:
            raise field_error("/query/holderId", f"持证主体代码不是有效的{name}", f"holderId is not a valid {kind}")
    item = ctx.query.get("itemCode")
    rows = ctx.db.all(
        "SELECT body FROM gov_elicenses WHERE holder_id = ? AND holder_id_type = ? "
        "AND (? IS NULL OR item_code = ?) ORDER BY issue_date DESC, elicense_id LIMIT 1000",
        holder_id,
        wanted,
        item,
        item,
    )
    keys = ("elicenseId", "licenceName", "licenceNo", "holderName", "issueDate", "status")
    return Reply([{k: c[k] for k in keys} for c in (loads(r[0]) for r in rows)])


def _cert_or_404(ctx: Ctx) -> dict[str, Any]:
    cert = get_elicense(ctx.db, ctx.path["elicenseId"])
    if cert is None:
        raise not_found(f"电子证照 {ctx.path['elicenseId']} ", f"e-licence {ctx.path['elicenseId']}")
    return cert


@operation("getElicense")
async def get_elicense_info(ctx: Ctx) -> Reply:
    cert = _cert_or_404(ctx)
    if ctx.defect(D.ELICENSE_INFO_WITHOUT_DETAILS):
        cert.pop("details", None)  # the library's old view: the licence as printed, nothing behind it
    return Reply(cert)


@operation("getElicenseDownloadAddress")
async def download_address(ctx: Ctx) -> Reply:
    cert = _cert_or_404(ctx)
    ttl = float(ctx.server.extras.get("gov.download_ttl", DOWNLOAD_TTL))
    token = secrets.token_urlsafe(24)
    now = time.time()
    with ctx.db.write() as c:
        c.execute("DELETE FROM gov_download_tokens WHERE expires_at < ?", (now - 3600,))
        c.execute(
            "INSERT INTO gov_download_tokens (token, elicense_id, expires_at) VALUES (?, ?, ?)",
            (token, cert["elicenseId"], now + ttl),
        )
    expires = dt.datetime.fromtimestamp(now + ttl, CHINA).isoformat(timespec="seconds")
    return Reply(
        {
            "elicenseId": cert["elicenseId"],
            "url": f"{ctx.base_url}/api/v1/elicenses/{cert['elicenseId']}/file?token={token}",
            "format": "OFD",
            "expiresAt": expires,
            "sha256": files.sha256(certificate_file(cert)),
        }
    )


@operation("downloadElicenseFile")
async def download_file(ctx: Ctx) -> Reply:
    cert = _cert_or_404(ctx)
    row = ctx.db.one("SELECT elicense_id, expires_at FROM gov_download_tokens WHERE token = ?", ctx.query["token"])
    if row is None:
        raise forbidden("下载令牌无效（请先经文件下载地址获取接口 T5-14 获取地址）", "download token unknown")
    if row[0] != cert["elicenseId"]:
        raise forbidden("下载令牌不属于该电子证照", "download token issued for another e-licence")
    if row[1] < time.time():
        raise forbidden("下载令牌已过期，请重新获取下载地址", "download token expired")
    data = certificate_file(cert)
    return Reply(
        raw=data,
        media_type=files.MEDIA_TYPES["OFD"],
        headers={
            "Content-Disposition": files.content_disposition(f"{cert['licenceNo']}.ofd"),
            "Cache-Control": "no-store",
        },
    )


@operation("getElicenseThumbnails")
async def thumbnails(ctx: Ctx) -> Reply:
    client = ctx.client
    if (client is None or client.level != "province") and not ctx.defect(D.THUMBNAIL_TO_CITY):
        raise forbidden(
            "缩略图下载接口仅向省厅单位提供服务（调用方不是省级单位）",
            "thumbnails are served to province-level callers only",
        )
    cert = _cert_or_404(ctx)
    return Reply(
        [
            {"page": n, "mediaType": "image/png", "data": base64.b64encode(png).decode("ascii")}
            for n, png in enumerate(certificate_thumbnails(cert), start=1)
        ]
    )


# ------------------------------------------------------------------------------ demo data
def seed_elicenses(
    server: RoleServer,
    gen: Any,
    legals: list[dict[str, Any]],
    naturals: list[dict[str, Any]],
    granted: list[dict[str, Any]],
) -> None:

    db, rng = server.db, gen.rng
    for cert in granted:
        store_elicense(db, cert, "demo", at=f"{cert['issueDate']}T17:00:00+08:00")
    # older registrations of the demo users (no case on the platform any more)
    for i in range(150):
        natural = i % 10 == 9
        holder = rng.choice(naturals if natural else legals)
        division, authority, equipment = demo_holder_context(holder, natural, gen)
        issued = dt.date(2018, 1, 2) + dt.timedelta(days=rng.randrange(2500))
        status = rng.choices(("valid", "cancelled", "revoked"), (90, 8, 2))[0]
        cert = make_certificate(
            rng,
            holder=holder,
            natural=natural,
            division=division,
            equipment=equipment,
            authority=authority,
            issue_date=issued,
            status=status,
            item_code=f"01100000-{group_of(equipment['catalogueCode'])}-01",
        )
        store_elicense(db, cert, "demo", at=f"{issued.isoformat()}T17:00:00+08:00")
