"""Desensitisation of sensitive fields and the owners' grants that lift it (SHARE.SEC.ACCESS.4,
IPQS.SHARE.MODE.2 授权查询共享, IPQS.OPEN.SEC.1 开放前脱敏). Which fields are sensitive is read from
the record schemas (``DataSet.sensitive``); the rules are the masked forms of identifiers.schema.json
(maskedCitizenId, maskedMobile).

Division scope of the callers (SHARE.SEC.ACCESS.2): a client of clients.json with ``dataDivision`` reads
only the records of that division and its subordinate ones (:func:`data_division`); the others are the
national platform's view (every division). The records' divisions are kept by ``sharing_data``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from typing import TYPE_CHECKING, Any

from conformance.reference.db import Database, loads
from conformance.reference.roles.sharing.feed import cursor_secret

if TYPE_CHECKING:
    from conformance.reference.roles.sharing.data import DataSet


def mask_citizen_id(value: str) -> str:
    """公民身份号码：保留前 6 位与后 4 位，其余为 *（identifiers.schema.json maskedCitizenId）."""
    if "*" in value or len(value) < 10:
        return value
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def is_mobile(value: str) -> bool:
    return len(value) == 11 and value.isdigit() and value[0] == "1" and value[1] in "3456789"


def mask_mobile(value: str) -> str:
    """手机号码：保留前 3 位与后 4 位，中间 4 位为 *（maskedMobile）."""
    return value[:3] + "****" + value[7:] if is_mobile(value) else value


def mask(
    ds: DataSet, record: dict[str, Any], allowed: frozenset[str] = frozenset(), *, open_data: bool = False
) -> dict[str, Any]:
    """The record with its sensitive fields masked (except those in ``allowed``).

    Open data (``open_data``) keeps only values that can be shown masked: a phone field holding
    a landline or service number is left out (the open schemas admit masked mobiles only).
    """
    out = None
    for fname, kind in ds.sensitive.items():
        if fname in allowed:
            continue
        value = record.get(fname)
        if not isinstance(value, str):
            continue
        if kind == "citizen-id":
            new: str | None = mask_citizen_id(value)
        elif is_mobile(value):
            new = mask_mobile(value)
        else:
            new = None if open_data and "*" not in value else value
        if new != value:
            if out is None:
                out = dict(record)
            if new is None:
                del out[fname]
            else:
                out[fname] = new
    return record if out is None else out


@functools.cache
def _data_divisions() -> dict[str, str]:
    from conformance.reference import security  # the clients' file lives beside it

    data = json.loads(security.CLIENTS_FILE.read_text(encoding="utf-8"))
    return {c["id"]: str(c["dataDivision"]) for c in data["clients"] if c.get("dataDivision")}


def data_division(client_id: str | None) -> str | None:
    """The division a client may read shared records of (``dataDivision`` in clients.json); None: every division."""
    return _data_divisions().get(client_id) if client_id else None


class Grants:
    """Active grants by (grantee, data set) → owner → [(fields, valid until)], mirrored from ``sharing_grants``."""

    def __init__(self, db: Database) -> None:
        self.by_client: dict[tuple[str, str], dict[str, list[tuple[frozenset[str], float]]]] = {}
        for body, valid_to in db.all("SELECT body, valid_to FROM sharing_grants"):
            self.add(loads(body), valid_to)

    def add(self, grant: dict[str, Any], valid_to: float) -> None:
        owners = self.by_client.setdefault((grant["granteeClientId"], grant["dataSet"]), {})
        owners.setdefault(grant["ownerUscc"], []).append((frozenset(grant["fields"]), valid_to))

    def for_client(self, client_id: str, ds: str) -> dict[str, list[tuple[frozenset[str], float]]] | None:
        return self.by_client.get((client_id, ds))

    @staticmethod
    def allowed(owners: dict[str, list[tuple[frozenset[str], float]]] | None, owner: Any) -> frozenset[str]:
        if not owners or not isinstance(owner, str):
            return frozenset()
        now = time.time()
        out: frozenset[str] = frozenset()
        for fields, until in owners.get(owner, ()):
            if until > now:
                out |= fields
        return out


class Masker:
    """Masks the records one caller reads from one data set (grants looked up once per request)."""

    def __init__(
        self, grants: Grants, ds: DataSet, client_id: str | None, *, disabled: bool = False, any_owner: bool = False
    ) -> None:
        self.ds = ds
        self.active = bool(ds.sensitive) and not disabled
        self.owners = grants.for_client(client_id, ds.name) if self.active and client_id else None
        #: defect ``grant-ignores-owner``: the grantee's grants are looked up by data set only, whoever owns the record
        self.any_owner = any_owner

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        if not self.active:
            return record
        if self.owners and self.any_owner:
            allowed = frozenset().union(*(Grants.allowed(self.owners, owner) for owner in self.owners))
        else:
            allowed = (
                Grants.allowed(self.owners, record.get(self.ds.owner)) if self.owners and self.ds.owner else frozenset()
            )
        return mask(self.ds, record, allowed)


class SharingState:
    """Per-server state of the sharing role (``server.extras["sharing"]``)."""

    def __init__(self, db: Database) -> None:
        self.grants = Grants(db)
        self.secret = cursor_secret(db)
        self.event: asyncio.Event | None = None

    def wake(self) -> None:
        """Tell the notification loop that data changed (called from the event loop)."""
        if self.event is not None:
            self.event.set()

    async def pause(self, seconds: float) -> None:
        if self.event is None:
            self.event = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), seconds)
        self.event.clear()
