"""A sharing target's change feed, read without judging it: ``GET {data set}/changes`` (schemas/openapi/sharing.yaml)
with its cursor and limit, and what one answer says (``sharing.schema.json#/$defs/changes``).

The sharing suites (``conformance/suites/support/sharing.py``) send through :func:`request` and assert on the
answer; the audit's pull (:mod:`conformance.harness.pull`) follows the feed to its end through :func:`read`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.check.schema import validator
from conformance.client import TargetClient, TargetResponse
from conformance.contract.datasets import DataSet

#: The shape of one page of the feed (the envelope's ``data``).
CHANGES_SCHEMA = "sharing#/$defs/changes"


def params(cursor: str | None, limit: int) -> dict[str, Any]:
    """The query of one page: ``limit``, and ``cursor`` unless reading from the start of the feed."""
    out: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        out["cursor"] = cursor
    return out


def request(client: TargetClient, ds: DataSet, cursor: str | None, limit: int) -> TargetResponse:
    """One page of ``ds``'s change feed after ``cursor`` (None: from the start)."""
    return client.get(f"{ds.path}/changes", params=params(cursor, limit))


#: What a refusal says of the credential (the profile's status codes, docs/design.md "Responses and errors").
REFUSALS: dict[int, tuple[str, str]] = {
    401: ("认证失败", "authentication failed"),
    403: ("凭证无权读取该数据集", "the credential may not read this data set"),
}


def _message(r: TargetResponse) -> str:
    """The target's own word on an error (the envelope's ``message``), shortened; empty when it gave none."""
    body = r.json()
    said = body.get("message") if isinstance(body, dict) else None
    return f"：{str(said)[:200]}" if isinstance(said, str) and said else ""


@dataclass
class Page:
    """One answer of the feed: its response, and the page (``data`` of the envelope) when it is one."""

    response: TargetResponse
    data: dict[str, Any] | None
    #: why the answer is not a page of the feed (None when it is): no answer, an error status, not the envelope,
    #: a ``data`` that breaks ``$defs/changes`` (Chinese / English)
    problem: str | None


def read(client: TargetClient, ds: DataSet, cursor: str | None, limit: int) -> Page:
    """One page of the feed, its shape checked against the contract (the records inside are not judged here)."""
    r = request(client, ds, cursor, limit)
    if r.status is None:
        return Page(r, None, f"没有应答 / no answer: {(r.error or '')[:300]}")
    if r.status != 200:
        said = _message(r)
        if r.status in REFUSALS:
            zh, en = REFUSALS[r.status]
            return Page(r, None, f"{zh}（HTTP {r.status}）{said} / {en} (HTTP {r.status})")
        return Page(r, None, f"HTTP {r.status}（期望 200）{said} / HTTP {r.status} (expected 200)")
    body = r.json()
    if r.error or not isinstance(body, dict) or "data" not in body:
        why = r.error or "not a JSON envelope with data"
        return Page(r, None, f"应答不是带 data 的 JSON 信封（{why}）/ the answer is not a JSON envelope ({why})")
    v = validator(CHANGES_SCHEMA)
    if not v.is_valid(body["data"]):
        errs = v.errors(body["data"])
        zh = "；".join(f"{e.path or '/'} {e.message('zh')}" for e in errs[:3])
        en = "; ".join(f"{e.path or '/'} {e.message('en')}" for e in errs[:3])
        return Page(r, None, f"增量结果结构不符：{zh} / the changes object does not validate: {en}")
    return Page(r, body["data"], None)
