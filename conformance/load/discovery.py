"""Preflight of a load run (in the harness's own process, with evidence): the token and the scopes the
target grants the load client, and the data the users will draw from, taken from what the target
returns (first pages of its lists) and from the target file's samples — never from the reference
server's internals.

Everything about the interfaces is read from the contracts: data sets, keys, paths and parameter
limits of ``sharing.yaml`` (through the sharing suites' contract reader), operation paths and scopes
of every role from :mod:`conformance.openapi_index`. A first page that cannot be read is not fatal:
its pool stays empty and the user classes that need it are left out (the report says so) — a
target that does not answer during preflight is measured as it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from conformance.client import TargetClient, TargetResponse
from conformance.openapi_index import Operation, role_operations

POOL_KEYS = 200  # keys kept per data set (a few KB each in the configuration)
FILTER_VALUES = 20


@dataclass
class Preflight:
    ok: bool
    scopes: list[str] | None
    pools: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


class SigningClient(TargetClient):
    """The harness client that also signs its requests (``[load] sign``: optional feature
    request-signature), so that the preflight sees what the load will see."""

    def __init__(self, *args: Any, sign_method: str | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.sign_method = sign_method

    def request(self, method: str, path: str, *, json: Any = None, data: Any = None, params: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, auth: bool = True, raw_body: bytes | None = None) -> TargetResponse:
        if not self.sign_method or not auth or not self.client_id:
            return super().request(method, path, json=json, data=data, params=params, headers=headers, auth=auth,
                                   raw_body=raw_body)
        import datetime as dt
        import secrets
        from urllib.parse import urlencode, urlsplit

        import orjson

        from conformance.crypto import canonical_string, sign

        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        body = orjson.dumps(json) if json is not None else (raw_body or b"")
        parts = urlsplit(url)
        ts = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds")
        nonce = secrets.token_hex(12)
        message = canonical_string(method, parts.path + (f"?{parts.query}" if parts.query else ""), ts, nonce, body, self.sign_method)
        signed = {**(headers or {}), "X-Timestamp": ts, "X-Nonce": nonce, "X-Signature-Method": self.sign_method,
                  "X-Signature": sign(self.sign_method, (self.client_secret or "").encode(), message)}
        return super().request(method, url, json=json, data=data, headers=signed, auth=auth, raw_body=raw_body)


def op_scopes(role: str) -> dict[str, Any]:
    """operationId → ``x-scope`` of every operation of the role (from the contract)."""
    return {o.operation_id: o.scope for o in role_operations(role) if o.scope}


def op_by_id(role: str, operation_id: str) -> Operation | None:
    return next((o for o in role_operations(role) if o.operation_id == operation_id), None)


def op_by_interface(role: str, interface: str) -> Operation | None:
    return next((o for o in role_operations(role) if o.interface == interface), None)


def _data(r: TargetResponse) -> Any:
    body = r.json()
    return body.get("data") if r.status == 200 and isinstance(body, dict) else None


class _Budget:
    """Discovery stops at the first request that failed at the network level (an unresponsive
    target is not asked again and again) or when its time is up."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.dead = False

    def get(self, client: TargetClient, path: str, params: dict[str, Any] | None = None) -> TargetResponse | None:
        if self.dead or time.monotonic() > self.deadline:
            return None
        r = client.get(path, params=params or {})
        if r.status is None:
            self.dead = True
        return r


def preflight(client: TargetClient, role: str, *, samples: dict[str, list[str]], extra_clients: dict[str, TargetClient],
              budget_s: float = 30.0, thresholds: dict[str, Any] | None = None) -> Preflight:
    started = time.monotonic()
    pf = Preflight(ok=True, scopes=None)
    if client.client_id:
        form = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.client_secret or ""}
        r = client.request("POST", "/oauth/token", data=form, auth=False)
        body = r.json()
        if not r.ok or not isinstance(body, dict) or "access_token" not in body:
            pf.ok = False
            pf.problems.append(f"令牌请求失败：HTTP {r.status} {r.error or ''} / the token request failed".strip())
            pf.seconds = time.monotonic() - started
            return pf
        client._token = (str(body["access_token"]), time.time() + float(body.get("expires_in", 600)))
        scope = body.get("scope")
        pf.scopes = scope.split() if isinstance(scope, str) else None
    budget = _Budget(budget_s)
    finder = {"sharing": _sharing, "licensing": _licensing, "gov-platform": _gov_platform, "inspection": _inspection,
              "supervision": _supervision}[role]
    try:
        pf.pools = finder(client, budget, samples, extra_clients, thresholds or {}, pf.notes)
    except Exception as exc:  # discovery is best effort: the load is measured with what was found
        pf.notes.append(f"数据发现中断：{type(exc).__name__}: {exc} / discovery stopped")
    if budget.dead:
        pf.notes.append("预检时被测系统无应答（网络错误或超时），数据发现已停止 / the target did not answer during preflight")
    pf.seconds = time.monotonic() - started
    return pf


# ------------------------------------------------------------------------------------------- sharing


def _sharing(client: TargetClient, budget: _Budget, samples: dict[str, list[str]], extra: dict[str, TargetClient],
             thresholds: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    from conformance.suites.test_sharing_support import data_sets, max_limit, max_size

    out: dict[str, Any] = {"dataSets": {}, "province": "42"}
    province = None
    for name, ds in data_sets().items():
        entry: dict[str, Any] = {
            "path": ds.path, "key": ds.key, "keys": [], "total": 0, "size": min(100, max_size(ds)), "limit": min(100, max_limit(ds)),
            "filters": {},
            "ops": {k: getattr(ds, k).operation_id for k in ("get", "query", "changes", "push") if getattr(ds, k) is not None},
            "schemas": {k: getattr(ds, k).responses.get("200", {}).get("application/json")
                        for k in ("get", "query", "changes", "push") if getattr(ds, k) is not None},
        }
        out["dataSets"][name] = entry
        if ds.query is None:
            continue
        r = budget.get(client, ds.path, {"page": 1, "size": max_size(ds)})
        data = _data(r) if r is not None else None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            if r is not None:
                notes.append(f"{ds.label}第一页不可读（HTTP {r.status}）：按主键获取只用生成的主键 / first page of {name} unreadable")
            continue
        items = [x for x in data["items"] if isinstance(x, dict)]
        entry["total"] = int(data.get("total") or 0)
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
    out["province"] = province or "42"
    out["push"] = next((n for n, d in data_sets().items() if d.schema == "equipment" and d.push is not None),
                       next((n for n, d in data_sets().items() if d.push is not None), None))
    return out


# ------------------------------------------------------------------------------------------- licensing


def _licensing(client: TargetClient, budget: _Budget, samples: dict[str, list[str]], extra: dict[str, TargetClient],
               thresholds: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    from conformance.suites.test_sharing_support import param_limit
    from conformance.suites.test_workflow_support import authority_of

    query = op_by_id("licensing", "queryDossiers")
    out: dict[str, Any] = {"dossiers": [], "total": 0, "size": 20, "filters": {}}
    if query is not None:
        size = min(50, param_limit(query, "size") or 20)
        out["size"] = size
        r = budget.get(client, query.path, {"page": 1, "size": size})
        data = _data(r) if r is not None else None
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            out["total"] = int(data.get("total") or 0)
            items = [x for x in data["items"] if isinstance(x, dict) and isinstance(x.get("dossierCode"), str)]
            out["dossiers"] = [x["dossierCode"] for x in items][:POOL_KEYS]
            usccs = sorted({x.get("metadata", {}).get("uscc") for x in items if isinstance(x.get("metadata"), dict)} - {None})
            if usccs:
                out["filters"]["uscc"] = usccs[:FILTER_VALUES]
        elif r is not None:
            notes.append(f"卷宗分页查询第一页不可读（HTTP {r.status}）/ first page of dossiers unreadable")
    for code in samples.get("dossierCode", []):
        if code not in out["dossiers"]:
            out["dossiers"].append(code)
    out["authority"] = authority_of(type("T", (), {"thresholds": thresholds})())
    return out


# ------------------------------------------------------------------------------------------- gov-platform


def _gov_platform(client: TargetClient, budget: _Budget, samples: dict[str, list[str]], extra: dict[str, TargetClient],
                  thresholds: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    from conformance.codes import lists as code_lists
    from conformance.suites.test_sharing_support import param_limit

    out: dict[str, Any] = {"implementations": 0, "size": 20, "divisions": [], "authority": None,
                           "holders": list(samples.get("holderId", [])),
                           "naturalUserIds": samples.get("naturalUserId", []), "legalUserIds": samples.get("legalUserId", [])}
    t51 = op_by_interface("gov-platform", "T5-1")
    prefixes = {code.split("-")[0] for code in code_lists.licence_items()}
    item = prefixes.pop() if len(prefixes) == 1 else None
    if t51 is not None:
        size = param_limit(t51, "size") or 20
        out["size"] = size
        for page in (1, 2, 3):
            r = budget.get(client, t51.path, {"page": page, "size": size})
            data = _data(r) if r is not None else None
            if not isinstance(data, dict) or not isinstance(data.get("items"), list):
                if r is not None:
                    notes.append(f"实施清单（T5-1）第 {page} 页不可读（HTTP {r.status}）/ T5-1 page {page} unreadable")
                break
            out["implementations"] = int(data.get("total") or 0)
            items = [x for x in data["items"] if isinstance(x, dict)]
            out["divisions"] += [x["division"] for x in items if isinstance(x.get("division"), str)]
            if out["authority"] is None:
                impl = next((x for x in items if x.get("itemCode") == item and x.get("deptUscc")), None)
                if impl is not None:
                    out["authority"] = {"name": impl.get("deptName"), "uscc": impl["deptUscc"], "division": impl.get("division")}
            if out["authority"] is not None or page * size >= out["implementations"]:
                break
    out["divisions"] = sorted(set(out["divisions"]))[:POOL_KEYS]
    if out["authority"] is None:
        notes.append("实施清单中没有“特种设备使用登记”的实施项：电子证照链路不汇聚新证照 / no implementation of the item found")
    return out


# ------------------------------------------------------------------------------------------- inspection


def _inspection(client: TargetClient, budget: _Budget, samples: dict[str, list[str]], extra: dict[str, TargetClient],
                thresholds: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    numbers = list(samples.get("reportNo", []))
    sharing = extra.get("sharing")
    t61 = op_by_interface("inspection", "T6-1")
    if not numbers and sharing is not None and t61 is not None:
        from conformance.suites.test_sharing_support import data_sets, max_size

        ds = next((d for d in data_sets().values() if d.schema == "inspection-report" and d.query is not None), None)
        if ds is not None:
            r = budget.get(sharing, ds.path, {"page": 1, "size": max_size(ds)})
            data = _data(r) if r is not None else None
            keys = [x.get(ds.key) for x in (data or {}).get("items", []) if isinstance(x, dict)] if isinstance(data, dict) else []
            for key in [k for k in keys if isinstance(k, str)][:40]:
                probe = budget.get(client, t61.path.replace("{reportNo}", quote(key, safe="")))
                if probe is not None and probe.status == 200:
                    numbers.append(key)
            if numbers:
                notes.append(f"检验报告编号取自共享平台的检验报告数据集（{len(numbers)} 个在 T6-1 可查到）/ report numbers from the sharing platform")
    if not numbers:
        notes.append("目标文件未声明样本报告编号（[thresholds] report_numbers 或 [load.samples] reportNo），"
                     "也无法从共享平台取得：T6-1 未加载 / no sample report numbers: T6-1 not loaded")
    return {"reportNumbers": numbers[:POOL_KEYS]}


# ------------------------------------------------------------------------------------------- supervision


def _supervision(client: TargetClient, budget: _Budget, samples: dict[str, list[str]], extra: dict[str, TargetClient],
                 thresholds: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    return {"usccs": samples.get("uscc", [])[:POOL_KEYS], "registrationNos": samples.get("registrationNo", [])[:POOL_KEYS]}
