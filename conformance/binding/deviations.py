"""Where a binding departs from the project's interface profile, and which profile clauses each departure touches.
A profile clause a binding overrides is judged through the binding: 按绑定 with the departure, never 符合
(``conformance.report.verdicts``); the clauses of the standards themselves are judged on substance as before."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from conformance.binding.dialect import MEMBERS
from conformance.binding.model import Binding


@dataclass(frozen=True)
class Deviation:
    clauses: tuple[str, ...]
    zh: str
    en: str


def _renamed(binding: Binding, schema: str) -> bool:
    return bool(binding.maps.names.get(schema))


def _params_renamed(binding: Binding, names: tuple[str, ...]) -> bool:
    params = ((binding.documents.get("common") or {}).get("components") or {}).get("parameters") or {}
    return any(p.get("x-tzsb-canonical") in names for p in params.values() if isinstance(p, dict))


def deviations(binding: Binding) -> list[Deviation]:
    env = binding.envelope
    out: list[Deviation] = []
    moved = {m: env.pointer(m) for m in MEMBERS if env.pointer(m) != "/" + m}
    if moved or env.success != "OK" or any(k != v for k, v in env.codes.items()):
        where = "，".join(f"{m}→{p}" for m, p in moved.items()) or "成员位置不变"
        out.append(
            Deviation(
                ("PROFILE.ENVELOPE.1",),
                f"信封按绑定：{where}；成功代码 {env.success}；错误代码按对照表",
                f"envelope per binding: {moved or 'members in place'}; success code {env.success}; error codes mapped",
            )
        )
    if env.always_200:
        out.append(
            Deviation(
                (
                    "PROFILE.STATUS.1",
                    "PROFILE.STATUS.2",
                    "PROFILE.STATUS.3",
                    "PROFILE.STATUS.4",
                    "PROFILE.STATUS.5",
                    "PROFILE.STATUS.6",
                ),
                "HTTP 状态码一律 200，结果只以信封代码表示（状态码由代码按契约推出后判定）",
                "every answer is HTTP 200 and the envelope code alone tells the outcome (statuses inferred from codes)",
            )
        )
    if "errors" in moved:
        out.append(
            Deviation(
                ("PROFILE.ERROR.1",),
                f"字段错误列表位于 {moved['errors']}，字段路径按绑定的字段名",
                f"field errors at {moved['errors']}, paths in the binding's field names",
            )
        )
    if binding.maps.formats:
        forms = "，".join(f"{k}: {v}" for k, v in binding.maps.formats.items())
        out.append(
            Deviation(
                ("PROFILE.DATE.1",),
                f"日期与时间按绑定格式（{forms}，无时区的值按 UTC{binding.maps.offset_hours:+d}）",
                f"dates in the binding's forms ({forms}; values without an offset are UTC{binding.maps.offset_hours:+d})",
            )
        )
    if _renamed(binding, "sharing#/$defs/page") or _params_renamed(binding, ("page", "size")):
        out.append(Deviation(("PROFILE.PAGE.1",), "分页参数与分页结果字段按绑定命名", "paging names per binding"))
    if _renamed(binding, "sharing#/$defs/changes") or _params_renamed(binding, ("cursor", "limit", "updatedSince")):
        out.append(Deviation(("PROFILE.SYNC.1",), "增量同步参数与结果字段按绑定命名", "sync names per binding"))
    if binding.token or binding.bearer_header:
        out.append(
            Deviation(
                ("PROFILE.TOKEN.1",),
                "令牌请求与应答按绑定的写法"
                + (f"，访问令牌放在 {binding.bearer_header} 头" if binding.bearer_header else ""),
                "token request and answer per binding"
                + (f"; the access token travels in {binding.bearer_header}" if binding.bearer_header else ""),
            )
        )
    if binding.api_key_header:
        out.append(
            Deviation(
                ("PROFILE.TOKEN.1", "PROFILE.TOKEN.2"),
                f"以静态密钥认证：每个请求在 {binding.api_key_header} 头携带调用方的密钥，无令牌交换与令牌过期（"
                "依赖令牌交换的标准条款为未测）",
                f"a static key per caller in {binding.api_key_header} on every request: no token exchange and no "
                "token expiry (clauses of the standards that need the token exchange are untested)",
            )
        )
    if binding.signature:
        sig = binding.signature
        out.append(
            Deviation(
                ("PROFILE.SIGN.1",),
                f"请求签名按绑定：头 {', '.join(sig.headers.values())}，时间戳 {sig.timestamp}，待签名串 {' + '.join(sig.parts)}",
                f"request signature per binding: headers {', '.join(sig.headers.values())}, timestamp {sig.timestamp}, "
                f"string {' + '.join(sig.parts)}",
            )
        )
    return out


def summary(binding: Binding) -> dict[str, Any]:
    """What a report says of the binding a run went through (``binding`` of report.json)."""
    return {
        "name": binding.name,
        "nameEn": binding.name_en,
        "file": str(binding.path),
        "sha256": hashlib.sha256(binding.path.read_bytes()).hexdigest(),
        "deviations": [{"clauses": list(d.clauses), "zh": d.zh, "en": d.en} for d in deviations(binding)],
    }
