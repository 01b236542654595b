"""Preflight of a load run (in the harness's own process, with evidence): the token and the scopes the
target grants the load client, and the data the users will draw from, taken from what the target
returns (first pages of its lists) and from the target file's samples — never from the reference
server's internals.

Everything about the interfaces is read from the contracts: data sets, keys, paths and parameter
limits of ``sharing.yaml`` (through the sharing suites' contract reader), operation paths and scopes
of every role from :mod:`conformance.contract.openapi`. A first page that cannot be read is not fatal:
its pool stays empty and the user classes that need it are left out (the report says so) — a
target that does not answer during preflight is measured as it is.

Only data the target itself shows is loaded: keys from its own pages, and values the target file gives
(``[load.samples]`` and the suites' ``[thresholds]`` keys) only after the target answered them (one
probe each, up to :data:`PROBES` per list). A key the target does not know is never requested, so a
404 under load is an error of the target, never of the harness's guess. An operation group with no
such data is **not loaded**: :attr:`Preflight.missing` holds, per group, why (what is missing and
how to provide it), and the analysis makes its checks 未测 with that reason — an empty platform is
not measured as a fast (or failing) one.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

from conformance.client import TargetClient, TargetResponse
from conformance.clock import CHINA
from conformance.contract.openapi import Operation, role_operations

POOL_KEYS = 200  # keys kept per data set (a few KB each in the configuration)
FILTER_VALUES = 20
PROBES = 40  # values of the target file probed per list (each one GET during preflight)

#: Operation groups the preflight may leave unloaded for lack of data (the locustfiles import them:
#: one spelling; the profiles' [groups."…"] use the same names).
SHARING_GET, SHARING_QUERY, SHARING_CHANGES, SHARING_PUSH = (
    "sharing.get",
    "sharing.query",
    "sharing.changes",
    "sharing.push",
)
DOSSIER_LIST, DOSSIER_GET, DOSSIER_FILE = "dossier.list", "dossier.get", "dossier.file"
UNTESTED_PREFIX = "未测："  # the prefix of conformance.report.skips.untested (not imported: that module imports pytest)


def untested_reason(reason: str, provide: str) -> str:
    """A check that could not run for lack of data, worded as ``conformance.report.skips.untested`` words it:
    the reason, then what would make it testable."""
    return f"{UNTESTED_PREFIX}{reason}【如何补足 / to make it testable：{provide}】"


@dataclass
class Preflight:
    ok: bool
    scopes: list[str] | None
    pools: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: operation group → why it is not loaded (no data at the target to load it with; see untested_reason)
    missing: dict[str, str] = field(default_factory=dict)


def sign_headers(sig_method: str, secret: str, method: str, url: str, body: bytes) -> dict[str, str]:
    """The headers of a signed request (optional feature request-signature: ``common.yaml``'s string to sign)."""
    from conformance.crypto import canonical_string, sign

    parts = urlsplit(url)
    path_query = parts.path + (f"?{parts.query}" if parts.query else "")
    ts = dt.datetime.now(CHINA).isoformat(timespec="seconds")
    nonce = secrets.token_hex(12)
    signature = sign(sig_method, secret.encode(), canonical_string(method, path_query, ts, nonce, body, sig_method))
    return {"X-Timestamp": ts, "X-Nonce": nonce, "X-Signature-Method": sig_method, "X-Signature": signature}


class SigningClient(TargetClient):
    """The harness client that also signs its requests (``[load] sign``: optional feature
    request-signature), so that the preflight sees what the load will see."""

    def __init__(self, *args: Any, sign_method: str | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.sign_method = sign_method

    def request(self, method: str, path: str, **kw: Any) -> TargetResponse:
        if not self.sign_method or not kw.get("auth", True) or not self.client_id:
            return super().request(method, path, **kw)
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if params := kw.pop("params", None):
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        body = orjson.dumps(kw["json"]) if kw.get("json") is not None else (kw.get("raw_body") or b"")
        signed = sign_headers(self.sign_method, self.client_secret or "", method, url, body)
        kw["headers"] = {**(kw.get("headers") or {}), **signed}
        return super().request(method, url, **kw)


def op_scopes(role: str) -> dict[str, Any]:
    """operationId → ``x-scope`` of every operation of the role (from the contract)."""
    return {o.operation_id: o.scope for o in role_operations(role) if o.scope}


def op_by_id(role: str, operation_id: str) -> Operation | None:
    return next((o for o in role_operations(role) if o.operation_id == operation_id), None)


def op_by_interface(role: str, interface: str) -> Operation | None:
    return next((o for o in role_operations(role) if o.interface == interface), None)


class _Discovery:
    """What every finder works with: the load client, the target file's samples and thresholds, the clients of
    other roles, the preflight being filled in, and a budget. Discovery stops at the first request that failed at
    the network level (an unresponsive target is not asked again and again) or when its time is up."""

    def __init__(
        self,
        client: TargetClient,
        samples: dict[str, list[str]],
        extra: dict[str, TargetClient],
        thresholds: dict[str, Any],
        pf: Preflight,
        seconds: float,
    ) -> None:
        self.client, self.samples, self.extra, self.thresholds, self.pf = client, samples, extra, thresholds, pf
        self.notes = pf.notes
        self.deadline = time.monotonic() + seconds
        self.dead = False

    def get(
        self, path: str, params: dict[str, Any] | None = None, client: TargetClient | None = None
    ) -> TargetResponse | None:
        if self.dead or time.monotonic() > self.deadline:
            return None
        r = (client or self.client).get(path, params=params or {})
        if r.status is None:
            self.dead = True
        return r

    def page(
        self, path: str, params: dict[str, Any], client: TargetClient | None = None
    ) -> tuple[TargetResponse | None, Any]:
        """The answer and its envelope's ``data`` (None unless a 200 with a JSON object)."""
        r = self.get(path, params, client)
        body = r.json() if r is not None else None
        return r, body.get("data") if r is not None and r.status == 200 and isinstance(body, dict) else None

    def confirmed(self, path: str, param: str, values: list[str], *, label: str | None) -> list[str]:
        """The ``values`` that the target answers (200) at ``path`` (``{param}`` filled in); the others are left out,
        with a note naming them when they come from the target file (``label``) — the load never requests what the
        target does not know."""
        kept, dropped = [], []
        for value in list(dict.fromkeys(values))[:PROBES]:
            r = self.get(path.replace("{" + param + "}", quote(value, safe="")))
            if r is None:
                break
            if r.status == 200:
                kept.append(value)
            else:
                dropped.append(f"{value}（HTTP {r.status}）")
        if dropped and label:
            self.notes.append(
                f"目标文件给出的 {len(dropped)} 个{label}在被测系统上查不到，未用于负载：{'、'.join(dropped[:5])} / "
                f"{len(dropped)} {param} value(s) of the target file unknown to the target, not loaded"
            )
        return kept


def preflight(
    client: TargetClient,
    role: str,
    *,
    samples: dict[str, list[str]],
    extra_clients: dict[str, TargetClient],
    budget_s: float = 30.0,
    thresholds: dict[str, Any] | None = None,
) -> Preflight:
    started = time.monotonic()
    pf = Preflight(ok=True, scopes=None)
    if client.client_id:
        try:
            client.token(refresh=True)
        except PermissionError as exc:
            pf.ok = False
            pf.problems.append(f"令牌请求失败：{exc} / the token request failed".strip())
            pf.seconds = time.monotonic() - started
            return pf
        granted = client.granted
        pf.scopes = list(granted.scopes) if granted and granted.scopes is not None else None
    d = _Discovery(client, samples, extra_clients, thresholds or {}, pf, budget_s)
    finder = {
        "sharing": _sharing,
        "licensing": _licensing,
        "gov-platform": _gov_platform,
        "inspection": _inspection,
        "supervision": _supervision,
    }[role]
    try:
        pf.pools = finder(d)
    except Exception as exc:  # discovery is best effort: the load is measured with what was found
        pf.notes.append(f"数据发现中断：{type(exc).__name__}: {exc} / discovery stopped")
    if d.dead:
        pf.notes.append(
            "预检时被测系统无应答（网络错误或超时），数据发现已停止 / the target did not answer during preflight"
        )
        # an unresponsive target is measured as it is (its timeouts are errors), not excused for lack of data
        pf.missing = {}
        for entry in (pf.pools.get("dataSets") or {}).values():
            entry["queryable"] = entry["syncable"] = True
    pf.pools["missing"] = sorted(pf.missing)
    pf.seconds = time.monotonic() - started
    return pf


# ------------------------------------------------------------------------------------------- sharing


def _sharing(d: _Discovery) -> dict[str, Any]:
    """Per data set: keys (its first page, and the target file's ``[load.samples] <key name>`` the target
    answers), whether it holds records to query (``queryable``) and whether its change feed has entries
    (``syncable``)."""
    from conformance.contract.datasets import data_sets, max_limit, max_size

    out: dict[str, Any] = {"dataSets": {}, "province": "42"}
    province = None
    kinds = ("get", "query", "changes", "push")
    for name, ds in data_sets().items():
        ops = {k: getattr(ds, k) for k in kinds if getattr(ds, k) is not None}
        entry: dict[str, Any] = {
            "path": ds.path,
            "key": ds.key,
            "keys": [],
            "total": 0,
            "size": min(100, max_size(ds)),
            "limit": min(100, max_limit(ds)),
            "filters": {},
            "queryable": False,
            "syncable": False,
            "ops": {k: op.operation_id for k, op in ops.items()},
            "schemas": {k: op.responses.get("200", {}).get("application/json") for k, op in ops.items()},
        }
        out["dataSets"][name] = entry
        if ds.query is not None:
            r, data = d.page(ds.path, {"page": 1, "size": max_size(ds)})
            if isinstance(data, dict) and isinstance(data.get("items"), list):
                items = [x for x in data["items"] if isinstance(x, dict)]
                entry["total"] = int(data.get("total") or len(items))
                entry["queryable"] = bool(items)
                entry["keys"] = [x[ds.key] for x in items if isinstance(x.get(ds.key), str)][:POOL_KEYS]
                for f in ds.filters:
                    if f.kind not in ("division", "catalogue", "eq") or f.value_format is not None:
                        continue
                    values = sorted({x[f.field] for x in items if isinstance(x.get(f.field), str)})
                    if f.kind == "division":  # a prefecture matches more records than a county
                        values = sorted({v[:4] + "00" for v in values})
                    if values:
                        entry["filters"][f.name] = values[:FILTER_VALUES]
                if province is None:
                    province = next((x["division"][:2] for x in items if isinstance(x.get("division"), str)), None)
            elif r is not None:
                d.notes.append(f"{ds.label}第一页不可读（HTTP {r.status}）/ first page of {name} unreadable")
        if ds.get is not None and d.samples.get(ds.key):
            extra_keys = [k for k in d.samples[ds.key] if k not in entry["keys"]]
            entry["keys"] += d.confirmed(ds.get.path, ds.key, extra_keys, label=f"{ds.label}主键")
        if ds.changes is not None:
            _, data = d.page(f"{ds.path}/changes", {"limit": 1})
            entry["syncable"] = isinstance(data, dict) and bool(data.get("items"))
    out["province"] = province or "42"
    out["push"] = next(
        (n for n, s in data_sets().items() if s.schema == "equipment" and s.push is not None),
        next((n for n, s in data_sets().items() if s.push is not None), None),
    )
    sets = out["dataSets"].values()
    example = next(iter(data_sets().values())).key
    seed = "在被测平台上预置数据（各数据集至少有可查到的记录）/ seed the platform with records"
    if not any(s["keys"] for s in sets if "get" in s["ops"]):
        d.pf.missing[SHARING_GET] = untested_reason(
            "各数据集第一页均无记录，目标文件也未给出平台上查得到的主键：按主键获取无从测量（不以猜测的主键请求，其 404 不说明性能）/ "
            "no data set showed a record and the target file gives no key the platform knows: get by key cannot be measured",
            f'{seed}；或在目标文件 [load.samples] 中按主键名给出平台上确有的主键（如 {example} = ["…"]）/ '
            f'or list existing keys in the target file\'s [load.samples] by key name (e.g. {example} = ["…"])',
        )
    if not any(s["queryable"] for s in sets if "query" in s["ops"]):
        d.pf.missing[SHARING_QUERY] = untested_reason(
            "各数据集均无记录：分页查询只会得到空页，不说明“每页100条”的查询性能 / every data set is empty: paged queries "
            "would only return empty pages",
            seed,
        )
    if not any(s["syncable"] for s in sets if "changes" in s["ops"]):
        d.pf.missing[SHARING_CHANGES] = untested_reason(
            "各数据集的变更流均为空：增量同步没有记录可传，无从测量同步速率 / every change feed is empty: there is nothing "
            "to synchronise",
            f"{seed}（变更流中须有记录 / with entries in the change feeds）",
        )
    return out


# ------------------------------------------------------------------------------------------- licensing


def _licensing(d: _Discovery) -> dict[str, Any]:
    from conformance.contract.datasets import param_limit
    from conformance.datagen.licensing import authority_of

    query = op_by_id("licensing", "queryDossiers")
    out: dict[str, Any] = {"dossiers": [], "total": 0, "size": 20, "filters": {}}
    readable = query is None
    if query is not None:
        size = min(50, param_limit(query, "size") or 20)
        out["size"] = size
        r, data = d.page(query.path, {"page": 1, "size": size})
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            readable = True
            out["total"] = int(data.get("total") or 0)
            items = [x for x in data["items"] if isinstance(x, dict) and isinstance(x.get("dossierCode"), str)]
            out["dossiers"] = [x["dossierCode"] for x in items][:POOL_KEYS]
            usccs = sorted(
                {x.get("metadata", {}).get("uscc") for x in items if isinstance(x.get("metadata"), dict)} - {None}
            )
            if usccs:
                out["filters"]["uscc"] = usccs[:FILTER_VALUES]
        elif r is not None:
            d.notes.append(f"卷宗分页查询第一页不可读（HTTP {r.status}）/ first page of dossiers unreadable")
    get = op_by_id("licensing", "getDossier")
    given = [c for c in d.samples.get("dossierCode", []) if c not in out["dossiers"]]
    if get is not None and given:
        out["dossiers"] += d.confirmed(get.path, "dossierCode", given, label="卷宗编号")
    if not out["dossiers"] and readable:
        why = untested_reason(
            "被测系统的卷宗分页查询为空，目标文件也未给出查得到的卷宗编号：卷宗查询、获取与文件下载无从测量 / the dossier list is "
            "empty and the target file gives no dossier code the target knows: dossiers cannot be consulted",
            '在被测系统上预置卷宗，或在目标文件 [load.samples] 中给出确有的卷宗编号（dossierCode = ["…"]）/ seed the '
            "target with dossiers, or list existing dossier codes in the target file's [load.samples] dossierCode",
        )
        d.pf.missing.update(dict.fromkeys((DOSSIER_LIST, DOSSIER_GET, DOSSIER_FILE), why))
    out["authority"] = authority_of(type("T", (), {"thresholds": d.thresholds})())
    return out


# ------------------------------------------------------------------------------------------- gov-platform


def _gov_platform(d: _Discovery) -> dict[str, Any]:
    from conformance.codes import lists as code_lists
    from conformance.contract.datasets import param_limit

    out: dict[str, Any] = {
        "implementations": 0,
        "size": 20,
        "divisions": [],
        "authority": None,
        "holders": list(d.samples.get("holderId", [])),
        "naturalUserIds": [],
        "legalUserIds": [],
    }
    # T5-3 / T5-4 have no search: the user ids come from the target file only, and are loaded when the target knows them
    for interface, kind in (("T5-3", "natural"), ("T5-4", "legal")):
        op = op_by_interface("gov-platform", interface)
        given = d.samples.get(f"{kind}UserId", [])
        if op is not None and given:
            out[f"{kind}UserIds"] = d.confirmed(op.path, "userId", given, label=f"{interface} 用户标识")
        if op is not None and not out[f"{kind}UserIds"]:
            d.pf.missing[interface] = untested_reason(
                f"{interface} 没有检索接口，目标文件未给出被测平台上查得到的用户标识：{interface} 无从测量 / {interface} has no search "
                "and the target file gives no user id the platform knows",
                f"在目标文件 [thresholds] gov_{kind}_user_id 或 [load.samples] {kind}UserId 中给出被测平台上确有的用户标识 / "
                f"give user ids that exist at the platform in the target file ([thresholds] gov_{kind}_user_id or "
                f"[load.samples] {kind}UserId)",
            )
    t51 = op_by_interface("gov-platform", "T5-1")
    prefixes = {code.split("-")[0] for code in code_lists.licence_items()}
    item = prefixes.pop() if len(prefixes) == 1 else None
    if t51 is not None:
        size = param_limit(t51, "size") or 20
        out["size"] = size
        for page in (1, 2, 3):
            r, data = d.page(t51.path, {"page": page, "size": size})
            if not isinstance(data, dict) or not isinstance(data.get("items"), list):
                if r is not None:
                    d.notes.append(
                        f"实施清单（T5-1）第 {page} 页不可读（HTTP {r.status}）/ T5-1 page {page} unreadable"
                    )
                break
            out["implementations"] = int(data.get("total") or 0)
            items = [x for x in data["items"] if isinstance(x, dict)]
            out["divisions"] += [x["division"] for x in items if isinstance(x.get("division"), str)]
            if out["authority"] is None:
                impl = next((x for x in items if x.get("itemCode") == item and x.get("deptUscc")), None)
                if impl is not None:
                    out["authority"] = {
                        "name": impl.get("deptName"),
                        "uscc": impl["deptUscc"],
                        "division": impl.get("division"),
                    }
            if out["authority"] is not None or page * size >= out["implementations"]:
                break
    out["divisions"] = sorted(set(out["divisions"]))[:POOL_KEYS]
    if out["authority"] is None:
        d.notes.append(
            "实施清单中没有“特种设备使用登记”的实施项：电子证照链路不汇聚新证照 / no implementation of the item found"
        )
    return out


# ------------------------------------------------------------------------------------------- inspection


def _inspection(d: _Discovery) -> dict[str, Any]:
    sharing = d.extra.get("sharing")
    t61 = op_by_interface("inspection", "T6-1")
    given = d.samples.get("reportNo", [])
    numbers = d.confirmed(t61.path, "reportNo", given, label="检验报告编号") if t61 and given else []
    if not numbers and sharing is not None and t61 is not None:
        from conformance.contract.datasets import data_sets, max_size

        ds = next((s for s in data_sets().values() if s.schema == "inspection-report" and s.query is not None), None)
        if ds is not None:
            _, data = d.page(ds.path, {"page": 1, "size": max_size(ds)}, sharing)
            items = data.get("items", []) if isinstance(data, dict) else []
            keys = [x.get(ds.key) for x in items if isinstance(x, dict)]
            numbers += d.confirmed(t61.path, "reportNo", [k for k in keys if isinstance(k, str)], label=None)
            if numbers:
                d.notes.append(
                    f"检验报告编号取自共享平台的检验报告数据集（{len(numbers)} 个在 T6-1 可查到）/ report numbers from the sharing platform"
                )
    if not numbers and t61 is not None:
        d.pf.missing["T6-1"] = untested_reason(
            "没有被测系统查得到的检验报告编号（接口没有列出报告的查询；目标文件未给出，或给出的查不到；共享平台也未提供）："
            "T6-1 未加载 / no report number the target knows (none in the target file, none from a sharing platform): T6-1 not loaded",
            "在目标文件 [thresholds] report_numbers 或 [load.samples] reportNo 中给出被测系统上确有的报告编号，或在 [urls] 中给出"
            "共享平台（其检验报告数据集须有记录）/ give existing report numbers in the target file ([thresholds] report_numbers or "
            "[load.samples] reportNo), or a sharing platform in [urls] whose inspection-report data set has records",
        )
    return {"reportNumbers": numbers[:POOL_KEYS]}


# ------------------------------------------------------------------------------------------- supervision


def _supervision(d: _Discovery) -> dict[str, Any]:
    out: dict[str, Any] = {"usccs": [], "registrationNos": []}
    for key, operation_id, param, label in (
        ("usccs", "getReportedUnit", "uscc", "使用单位统一社会信用代码"),
        ("registrationNos", "getReportedRegistration", "registrationNo", "使用登记证编号"),
    ):
        op = op_by_id("supervision", operation_id)
        if op is not None and d.samples.get(param):
            out[key] = d.confirmed(op.path, param, d.samples[param], label=label)[:POOL_KEYS]
    return out
