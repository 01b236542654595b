"""Shared helpers of the sharing-platform suites (``test_sharing_*``); this module holds no tests
(it carries the suites' file prefix only so that it sits with them; pytest collects nothing from it).

Everything about the interface is read from the contract: the data sets (title, key, record
schema, path) from ``x-data-sets`` of ``schemas/openapi/sharing.yaml``, the five operations of
each data set by their shape (``{path}``, ``{path}/{key}``, ``{path}/changes``, ``{path}/push``,
``{path}/subscriptions``), parameter limits and defaults from the parameter schemas, the filters
of each paged query from its declared query parameters. The suites therefore run against any
implementation of the ``sharing`` role; nothing here imports the reference server.

Records the push tests create come from :class:`conformance.datagen.DataGen` (valid identifiers
from the identifier library), with fresh keys checked to be absent at the target before anything
is pushed, and are deleted again (DELETE pushes) when the test ends: the target's own data is
never overwritten or removed.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.check.schema import SchemaValidator, validator, validator_at
from conformance.client import TargetClient, TargetResponse
from conformance.clock import now_iso
from conformance.codes import lists as code_lists
from conformance.contract.datasets import (
    RESERVED,
    DataSet,
    Filter,
    content_clause,
    data_sets,
    max_limit,
    max_size,
    param_schema,
)
from conformance.contract.openapi import Operation, Param, role_operations
from conformance.datagen import sharing as records
from conformance.harness import changes, profiles
from conformance.harness.target import Target

ROLE = "sharing"

# ---------------------------------------------------------------------------- profile scale


def scale(target: Target) -> profiles.Sharing:
    return profiles.depth(target.profile).sharing


def run_cache(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A dict that lives as long as one pytest run (shared by the sharing suite modules)."""
    return request.config.stash.setdefault(_CACHE, {})


_CACHE = pytest.StashKey[dict[str, Any]]()

# ---------------------------------------------------------------------------- the contract


DATA_SETS = list(data_sets())


@functools.cache
def operation(role: str, operation_id: str) -> Operation:
    return next(op for op in role_operations(role) if op.operation_id == operation_id)


def content_marks(name: str) -> list[pytest.MarkDecorator]:
    clause = content_clause(data_sets()[name].schema)
    return [pytest.mark.clause(clause)] if clause else []


# ---------------------------------------------------------------------------- responses


def snippet(r: TargetResponse, limit: int = 300) -> str:
    if r.error:
        return r.error
    text = r.content[:limit].decode("utf-8", errors="replace")
    return text + ("…" if len(r.content) > limit else "")


def expect_status(
    r: TargetResponse, statuses: int | tuple[int, ...], what: str, *, url: bool = False, shown: str | None = None
) -> None:
    """Assert the status is one of ``statuses``; the message shows ``shown`` (else the :func:`snippet`) of the body
    and, with ``url``, the request's URL."""
    want = (statuses,) if isinstance(statuses, int) else statuses
    codes = "/".join(map(str, want))
    assert r.status in want, (
        f"{what}：期望 HTTP {codes}，实际 {r.status}；响应：{snippet(r) if shown is None else shown} / "
        f"{what}: expected HTTP {codes}, got {r.status}" + (f" ({r.url})" if url else "")
    )


def response_validator(o: Operation, status: int | None) -> SchemaValidator | None:
    """The validator of ``o``'s JSON response for ``status``, when the contract declares one."""
    uri = (o.responses.get(str(status)) or {}).get("application/json")
    return validator_at(uri) if uri else None


def expect(r: TargetResponse, status: int, what: str) -> Any:
    """Assert the status; return the JSON body's ``data`` (the envelope's payload)."""
    expect_status(r, status, what, url=True)
    body = r.json()
    assert isinstance(body, dict) and "data" in body, (
        f"{what}：响应不是带 data 的 JSON 信封：{snippet(r)} / {what}: response is not a JSON envelope with data"
    )
    return body["data"]


def expect_error(r: TargetResponse, statuses: int | tuple[int, ...], what: str) -> dict[str, Any]:
    """Assert an error status and the error envelope (Chinese message); return the body."""
    expect_status(r, statuses, what, url=True)
    body = r.json()
    v = validator("error")
    assert body is not None and v.is_valid(body), (
        f"{what}：错误响应不符合错误信封：{explain(v, body)} / {what}: the error response is not the error envelope"
    )
    return body


def explain(v: SchemaValidator, instance: Any, n: int = 3) -> str:
    errs = v.errors(instance)
    return "；".join(f"{e.path or '/'} {e.message_zh}" for e in errs[:n]) + (
        f"（另有 {len(errs) - n} 项）" if len(errs) > n else ""
    )


def check_record(ds: DataSet, record: Any, where: str) -> None:
    v = validator(ds.schema, False)  # a record the target holds: every real form of its codes ("held")
    assert v.is_valid(record), (
        f"{where}：{ds.label}记录不符合 {ds.schema} 数据模式：{explain(v, record)} / "
        f"{where}: the {ds.name} record does not validate against {ds.schema}"
    )


def _shaped(schema: str, data: Any, where: str, zh: str, en: str) -> None:
    v = validator(schema)
    assert v.is_valid(data), f"{where}：{zh}结构不符：{explain(v, data)} / {where}: the {en} does not validate"


def check_page(ds: DataSet, data: Any, where: str) -> None:
    _shaped("sharing#/$defs/page", data, where, "分页结果", "page object")
    for i, item in enumerate(data["items"]):
        check_record(ds, item, f"{where} items[{i}]")


def check_changes(ds: DataSet, data: Any, where: str) -> None:
    _shaped(changes.CHANGES_SCHEMA, data, where, "增量结果", "changes object")
    for i, change in enumerate(data["items"]):
        if change["record"] is not None:
            check_record(ds, change["record"], f"{where} items[{i}].record")
            assert change["record"].get(ds.key) == change["key"], (
                f"{where} items[{i}]：变更的 key“{change['key']}”与记录的 {ds.key}“{change['record'].get(ds.key)}”不一致 / "
                f"change key differs from the record's {ds.key}"
            )


def check_receipt(data: Any, where: str) -> dict[str, Any]:
    _shaped("sharing#/$defs/pushReceipt", data, where, "推送回执", "push receipt")
    return data


# ---------------------------------------------------------------------------- reading


def query(
    client: TargetClient, ds: DataSet, params: dict[str, Any] | None = None, what: str | None = None
) -> dict[str, Any]:
    r = client.get(ds.path, params=params or {})
    data = expect(r, 200, what or f"{ds.label} 分页查询 {params or {}}")
    v = validator("sharing#/$defs/page")
    assert v.is_valid(data), (
        f"{ds.label} 分页查询：分页结果结构不符：{explain(v, data)} / the page object does not validate"
    )
    return data


def pull(
    client: TargetClient, ds: DataSet, cap: int, params: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Records of a (filtered) query, page by page at the maximum size, at most ``cap``; and the total."""
    size = max_size(ds)
    records: list[dict[str, Any]] = []
    page, total = 1, 0
    while len(records) < cap:
        data = query(client, ds, {**(params or {}), "page": page, "size": size})
        total = data["total"]
        records += data["items"]
        if not data["items"] or page * size >= total:
            break
        page += 1
    return records[:cap], total


def sample(request: pytest.FixtureRequest, client: TargetClient, name: str) -> list[dict[str, Any]]:
    """The first page of a data set at the maximum size (cached for the run)."""
    cache = run_cache(request).setdefault("first-page", {})
    if name not in cache:
        ds = data_sets()[name]
        cache[name] = query(client, ds, {"page": 1, "size": max_size(ds)})["items"]
    return cache[name]


def read_changes(client: TargetClient, ds: DataSet, cursor: str | None, limit: int, where: str) -> dict[str, Any]:
    data = expect(changes.request(client, ds, cursor, limit), 200, where)
    check_changes(ds, data, where)
    return data


def tail_cursor(
    client: TargetClient, ds: DataSet, pages: int, request: pytest.FixtureRequest | None = None
) -> str | None:
    """The cursor at the end of the change feed (None when it is further away than ``pages`` pages).

    With ``request``, the end found earlier in the run is the starting point (the feed is read from
    the start once per data set and run); should that cursor have expired (400), from the start again.
    """
    cache = run_cache(request).setdefault("tail", {}) if request is not None else {}
    limit = max_limit(ds)
    for cursor in ([cache[ds.name]] if ds.name in cache else []) + [None]:
        if cursor is not None:
            probe = changes.request(client, ds, cursor, 1)
            if probe.status == 400:
                continue
        for _ in range(pages):
            data = read_changes(client, ds, cursor, limit, f"{ds.label} 增量同步（读至末尾）")
            cursor = data["nextCursor"]
            if not data["hasMore"]:
                cache[ds.name] = cursor
                return cursor
        return None
    return None


# ---------------------------------------------------------------------------- values


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def division_classes(code: str) -> list[tuple[str, str]]:
    """(label, code) of the equivalence classes of a division filter for a record's county: the
    county itself, its prefecture, its province (GB/T 2260)."""
    divisions = code_lists.divisions()
    out = [("县级", code)]
    prefecture = code[:4] + "00"
    if prefecture != code and prefecture in divisions:
        out.append(("地级", prefecture))
    province = code[:2] + "0000"
    if province != code:
        out.append(("省级", province))
    return out


def division_matches(filter_code: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if filter_code.endswith("0000"):
        return value[:2] == filter_code[:2]
    if filter_code.endswith("00"):
        return value[:4] == filter_code[:4]
    return value == filter_code


def catalogue_classes(code: str) -> list[tuple[str, str]]:
    """(label, code) of the catalogue levels above and at a record's variety code (特种设备目录 2014)."""
    cat = code_lists.catalogue()
    out = [("品种" if cat.get(code, {}).get("level") == "variety" else "本级", code)]
    seen = 0
    current = code
    while current in cat and cat[current].get("parent") and seen < 6:
        current = cat[current]["parent"]
        out.append(({"kind": "种类", "class": "类别"}.get(cat.get(current, {}).get("level", ""), "上级"), current))
        seen += 1
    return out


def matches(f: Filter, value_given: str, record: dict[str, Any]) -> bool:
    """Whether a record matches a filter value, as the contract describes the filter."""
    value = record.get(f.field)
    if f.kind == "division":
        return division_matches(value_given, value)
    if f.kind == "catalogue":
        return isinstance(value, str) and value in code_lists.catalogue_descendants(value_given)
    if f.kind == "contains":
        return isinstance(value, list) and value_given in value
    if f.kind in ("from", "to"):
        if not isinstance(value, str):
            return False
        if f.value_format == "date-time" or "T" in value_given:
            a, b = instant(value), instant(value_given)
        else:
            a, b = value[:10], value_given[:10]  # type: ignore[assignment]
        return a >= b if f.kind == "from" else a <= b
    return value == value_given


BAD_CANDIDATES = ("!!无效值!!", "2024-13-45T99:99:99", "zz", "x" * 300)


def invalid_param_value(param: Param) -> str | None:
    v = validator_at(param.schema_uri)
    return next((c for c in BAD_CANDIDATES if not v.is_valid(c)), None)


def key_candidates(ds: DataSet, known: list[str], rng: Any) -> Iterator[str]:
    """Syntactically valid keys that are probably absent: generated from the identifier library
    when the key has a code kind, else existing keys with their digits redrawn."""
    from conformance.codes import FORMATS

    param = ds.key_param
    fmt = param_schema(param).get("format") if param else None
    v = validator_at(param.schema_uri) if param else validator(f"{ds.schema}")
    for _ in range(40):
        if fmt in FORMATS:
            candidate = FORMATS[fmt].generate(rng)
        elif known:
            base = rng.choice(known)
            candidate = "".join(str(rng.randrange(10)) if ch.isdigit() else ch for ch in base)
        else:
            return
        if candidate not in known and candidate not in RESERVED and (param is None or v.is_valid(candidate)):
            yield candidate


# ---------------------------------------------------------------------------- records to push


def later(value: str, seconds: int) -> str:
    return (instant(value) + dt.timedelta(seconds=seconds)).isoformat(timespec="seconds")


class Sandbox:
    """Pushes of the harness's own records; whatever it created is deleted again on exit."""

    def __init__(self, client: TargetClient, province: str) -> None:
        self.client = client
        self.province = province
        self.created: list[tuple[str, str]] = []  # (data set, key) in creation order

    def message_id(self) -> str:
        return f"tzsb-{secrets.token_hex(10)}"

    def body(
        self, items: list[tuple[str, str, dict[str, Any] | None]], message_id: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A push message (GB/T 38656-2020 operations) with a fresh message id unless one is given."""
        return {
            "messageId": message_id or self.message_id(),
            "sentAt": now_iso(),
            "records": [{"operation": op, "key": key, "record": rec} for op, key, rec in items],
            **extra,
        }

    def send(self, name: str, body: dict[str, Any]) -> TargetResponse:
        """POST a push message as it is (a retransmission sends the very same body)."""
        r = self.client.post(f"{data_sets()[name].path}/push", body)
        if r.status == 200 and isinstance(r.json(), dict):
            items = [(x.get("operation"), x.get("key"), x.get("record")) for x in body.get("records", [])]
            self._track(name, items, r.json().get("data") or {})
        return r

    def push(
        self,
        name: str,
        items: list[tuple[str, str, dict[str, Any] | None]],
        message_id: str | None = None,
        **extra: Any,
    ) -> TargetResponse:
        return self.send(name, self.body(items, message_id, **extra))

    def _track(self, name: str, items: list[tuple[str, str, Any]], receipt: dict[str, Any]) -> None:
        results = receipt.get("results") if isinstance(receipt, dict) else None
        if not isinstance(results, list):
            return
        for res in results:
            if not isinstance(res, dict) or res.get("status") != "accepted" or not isinstance(res.get("index"), int):
                continue
            if not 0 <= res["index"] < len(items):
                continue
            op, key, _ = items[res["index"]]
            entry = (name, key)
            if op == "DELETE":
                if entry in self.created:
                    self.created.remove(entry)
            elif entry not in self.created:
                self.created.append(entry)

    def accepted(
        self, name: str, items: list[tuple[str, str, dict[str, Any] | None]], what: str, message_id: str | None = None
    ) -> dict[str, Any]:
        """Push and assert every record was accepted; the receipt."""
        ds = data_sets()[name]
        r = self.push(name, items, message_id)
        if r.status == 403:
            pytest.skip(
                f"测试凭证无权向{ds.label}推送（403），无法检验推送 / the harness credential may not push to {name}"
            )
        receipt = check_receipt(expect(r, 200, what), what)
        bad = [res for res in receipt["results"] if res.get("status") != "accepted"]
        assert receipt["accepted"] == len(items) and not bad, (
            f"{what}：合法的新记录被拒绝：{bad[:3]} / {what}: valid new records were rejected"
        )
        return receipt

    def upload(self, name: str, records: list[dict[str, Any]], what: str) -> dict[str, Any]:
        key = data_sets()[name].key
        return self.accepted(name, [("UPLOAD", r[key], r) for r in records], what)

    def fresh(self, name: str, count: int = 1) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
        """New records (and what they refer to) whose keys the target does not hold yet."""
        for _ in range(5):
            prereq, records = Builder(self.province).make(name, count)
            keys = [(d, r[data_sets()[d].key]) for d, r in prereq] + [(name, r[data_sets()[name].key]) for r in records]
            if all(self._absent(d, k) for d, k in keys):
                return prereq, records
        pytest.skip("无法生成目标中不存在的新主键 / could not generate keys absent at the target")

    def _absent(self, name: str, key: str) -> bool:
        ds = data_sets()[name]
        if ds.get is None:
            return True
        r = self.client.get(ds.record_path(key))
        return r.status == 404

    def setup(self, name: str, count: int = 1) -> list[dict[str, Any]]:
        """Fresh records of ``name`` with their prerequisites pushed (the records themselves are not)."""
        prereq, records = self.fresh(name, count)
        by_set: dict[str, list[dict[str, Any]]] = {}
        for d, rec in prereq:
            by_set.setdefault(d, []).append(rec)
        for d, recs in by_set.items():
            self.upload(d, recs, f"推送前置记录（{data_sets()[d].label}）")
        return records

    def cleanup(self) -> None:
        """DELETE what was created, newest first, one message per run of records of one data set."""
        for name, run in itertools.groupby(reversed(list(self.created)), key=lambda entry: entry[0]):
            self.push(name, [("DELETE", key, None) for _, key in run])


@contextmanager
def sandbox(client: TargetClient, province: str) -> Iterator[Sandbox]:
    box = Sandbox(client, province)
    try:
        yield box
    finally:
        box.cleanup()


def province_of(request: pytest.FixtureRequest, client: TargetClient) -> str:
    """A province the target holds data of (records pushed there are in the harness's scope)."""
    cache = run_cache(request)
    if "province" not in cache:
        province = "42"
        for name, ds in data_sets().items():
            if "division" in ds.properties and ds.query is not None:
                items = sample(request, client, name)
                found = next((r["division"][:2] for r in items if isinstance(r.get("division"), str)), None)
                if found:
                    province = found
                    break
        cache["province"] = province
    return str(cache["province"])


def pages_for(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


class Builder(records.Builder):
    """The record builder of the suites: a data set it cannot build records for skips the test, saying so."""

    def make(self, name: str, n: int = 1) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
        try:
            return super().make(name, n)
        except records.NoBuilder:
            pytest.skip(f"本套件不会构造 {name} 数据集的记录 / no record builder for data set {name}")
