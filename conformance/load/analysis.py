"""From what the Locust processes recorded to checks, clause verdicts and the honest-measurement notes.

Measured window: the requests that *started* after the warm-up and before its end (warm-up and the
stop phase are left out). Per operation group:

* latency percentiles over the successful answers and the timeouts (a timeout counts with the time
  it took — a target that stops answering is slow, not excused); other failures are errors, not
  latencies, and 429 answers neither;
* error rate = (5xx, timeouts, connection errors, 429 without ``Retry-After``, answers that break the
  contract, any other unexpected status) ÷ requests; a 429 with ``Retry-After`` is throttling, not an
  error (SHARE.IF.PERF.3); requests the host guard refused never left and are reported apart, as are requests a
  binding could not express (``untranslatable``: the harness's shortfall, never the target's);
* throughput = successful requests per second of the window; records per second per caller = records
  moved ÷ window ÷ distinct callers of the group.

Judging each threshold (one *check*, one outcome for the clause it supports):

* too few samples for the statistic (p95 needs ``min_samples_p95`` answers, an error rate of r needs
  1/r requests before “no errors” means anything) → 未测;
* fewer users than the declared concurrency: a pass of a latency, error-rate or per-caller check says
  nothing about the declared load → 未测, its failure stands (a fortiori); for total throughput the
  other way round;
* the load generator saturated (own CPU or event-loop lag over the profile's limits): a failure may be
  the generator's → 错误 (no judgement), a pass stands;
* the run was aborted → 错误;
* the target holds no data to load the group with (an empty data set: no key to get, no record to
  query, no change to read — :attr:`conformance.load.discovery.Preflight.missing`) → 未测 with what is
  missing and how to provide it; the group was not loaded, and nothing it did measure would count.

The clause verdicts follow the project's rules (:mod:`conformance.report.verdicts`); a clause with a
check that could not run for lack of data is never 符合. The run's verdict (:func:`summary`) is 通过
only when every performance clause the run judges is 符合.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import socket
import statistics
from typing import Any
from urllib.parse import urlsplit

from conformance.contract.clauses import load_catalogue
from conformance.load import histogram as H
from conformance.load.discovery import UNTESTED_PREFIX
from conformance.load.profiles import Profile, format_threshold
from conformance.report.verdicts import (
    CONFORMS,
    ERROR,
    FAILS,
    PARTLY,
    UNTESTED,
    Outcome,
    clause_entry,
    clause_verdicts,
)

ERROR_KINDS_ZH = {
    "5xx": "服务端错误（5xx）",
    "timeout": "超时",
    "connection": "连接失败",
    "throttled-no-retry-after": "429 未带 Retry-After",
    "invalid": "应答不符合契约",
    "too-large": "应答超过大小上限",
    "refused": "主机列表外（未发送）",
    "untranslatable": "绑定无法表达（未发送）",
}
#: outcomes of requests that never reached the target: reported apart, never errors of the target
NOT_SENT = ("refused", "untranslatable")
METRIC_TEXT = {  # metric → (中文, English)
    "p50_ms": ("p50 响应时间", "p50 latency"),
    "p95_ms": ("p95 响应时间", "p95 latency"),
    "p99_ms": ("p99 响应时间", "p99 latency"),
    "max_error_rate": ("错误率", "error rate"),
    "min_rps": ("吞吐量", "throughput"),
    "min_records_per_caller_s": ("每调用方记录速率", "records per second per caller"),
    "retry_after": ("429 带 Retry-After", "429 carries Retry-After"),
}


def metric_text(metric: str, lang: str = "zh") -> str:
    zh, en = METRIC_TEXT.get(metric, (metric, metric))
    return en if lang == "en" else zh


def error_kind_text(kind: str) -> str:
    if kind.startswith("status-"):
        return f"非预期状态 {kind[7:]}"
    return ERROR_KINDS_ZH.get(kind, kind)


# ------------------------------------------------------------------------------------------- groups


def group_metrics(ops: dict[str, dict[str, Any]], seconds: float) -> dict[str, Any]:
    hist: dict[int, int] = {}
    errors: dict[str, int] = {}
    ok = throttled = records = nbytes = timeouts = 0
    users: set[str] = set()
    per_op = {}
    for op, a in sorted(ops.items()):
        H.merge(hist, a["hist"])
        for k, n in a["errors"].items():
            errors[k] = errors.get(k, 0) + n
        ok += a["ok"]
        throttled += a["throttled"]
        records += a["records"]
        nbytes += a["bytes"]
        timeouts += a["timeouts"]
        users.update(a["users"])
        oh = {int(k): n for k, n in a["hist"].items()}
        n_err = sum(a["errors"].values())
        per_op[op] = {
            "requests": a["ok"] + a["throttled"] + n_err,
            "ok": a["ok"],
            "errors": n_err,
            "p50": H.percentile(oh, 50),
            "p95": H.percentile(oh, 95),
            "p99": H.percentile(oh, 99),
            "rps": round(a["ok"] / seconds, 2),
            "records": a["records"],
        }
    refused = errors.get("refused", 0)
    n_err = sum(n for k, n in errors.items() if k not in NOT_SENT)
    requests = ok + throttled + n_err
    callers = len(users)
    return {
        "requests": requests,
        "ok": ok,
        "errors": errors,
        "errorCount": n_err,
        "refused": refused,
        "untranslatable": errors.get("untranslatable", 0),
        "errorRate": round(n_err / requests, 6) if requests else None,
        "throttled": throttled,
        "throttledNoRetryAfter": errors.get("throttled-no-retry-after", 0),
        "timeouts": timeouts,
        "samples": H.count(hist),
        "p50": H.percentile(hist, 50),
        "p95": H.percentile(hist, 95),
        "p99": H.percentile(hist, 99),
        "mean": round(H.mean(hist), 1) if H.mean(hist) is not None else None,
        "max": H.fine_upper(max(hist)) if hist else None,
        "rps": round(ok / seconds, 2),
        "records": records,
        "recordsPerS": round(records / seconds, 1),
        "callers": callers,
        "recordsPerCallerS": round(records / seconds / callers, 1) if callers else None,
        "bytes": nbytes,
        "ops": per_op,
        "hist": {str(k): n for k, n in sorted(hist.items())},
    }


# ------------------------------------------------------------------------------------------- generator


def _window_cpu(samples: list[list[float]], ws: float, we: float) -> tuple[float | None, float | None, float | None]:
    """(mean %, highest per-interval %, machine %) of one process over the window (% of one core)."""
    inside = [s for s in samples if ws <= s[0] <= we + 1.0]  # each sample closes the second before it
    if len(inside) < 2:
        return None, None, None
    first, last = inside[0], inside[-1]
    span = last[0] - first[0]
    mean = (last[1] - first[1]) / span * 100 if span > 0 else None
    peaks = [(b[1] - a[1]) / (b[0] - a[0]) * 100 for a, b in itertools.pairwise(inside) if b[0] > a[0]]
    machine = [s[2] for s in inside[1:] if len(s) > 2]
    return (
        round(mean, 1) if mean is not None else None,
        round(max(peaks), 1) if peaks else None,
        round(statistics.fmean(machine), 1) if machine else None,
    )


def _is_local(host: str) -> bool:
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        if host in ("localhost", socket.gethostname()):
            return True
    try:
        mine = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None)}
        theirs = {a[4][0] for a in socket.getaddrinfo(host, None)}
        return bool(mine & theirs)
    except OSError:
        return False


def generator(raw: dict[str, Any], profile: Profile, target_url: str) -> dict[str, Any]:
    ws, we = raw["window"]
    procs = []
    reasons: list[str] = []
    warnings: list[str] = []
    judge = profile.judgement
    for p in raw.get("procs", []):
        mean, peak, machine = _window_cpu(p.get("cpu", []), ws, we)
        lags = sorted(
            x[1] for x in p.get("lag", []) if ws + 1.0 <= x[0] <= we + 1.0
        )  # a sample covers the second before it
        lag95 = lags[max(0, math.ceil(0.95 * len(lags)) - 1)] if lags else None
        skew = statistics.median(p["skew"]) if p.get("skew") else None
        item = {
            "id": p["id"],
            "kind": p["kind"],
            "host": p["host"],
            "cpus": p.get("cpus"),
            "cpuPct": mean,
            "cpuPeakPct": peak,
            "machineCpuPct": machine,
            "loopLagP95Ms": lag95,
            "loopLagMaxMs": lags[-1] if lags else None,
            "clockSkewS": skew,
        }
        procs.append(item)
        generating = p["kind"] != "master"  # the master of a distributed run sends no requests
        if generating and mean is not None and mean >= judge.generator_cpu_pct:
            reasons.append(
                f"负载进程 {p['id']} 在统计窗口内平均占用 {mean:.0f}% 的一个 CPU 核（上限 {judge.generator_cpu_pct:g}%）/ "
                f"load process {p['id']} used {mean:.0f}% of a core on average"
            )
        if generating and lag95 is not None and lag95 >= judge.loop_lag_ms:
            reasons.append(
                f"负载进程 {p['id']} 的事件循环延迟 p95 为 {lag95:.0f} ms（上限 {judge.loop_lag_ms:g} ms）：测得的响应时间含生成器自身的排队 / "
                f"event-loop lag p95 {lag95:.0f} ms: measured times include the generator's own queueing"
            )
        if skew is not None and abs(skew) > 0.5:
            warnings.append(
                f"工作进程 {p['id']} 的时钟与主控相差约 {skew:+.1f} 秒：统计窗口的边界不精确（请同步时钟，NTP）/ "
                f"worker clock differs by {skew:+.1f} s from the master's"
            )
    host = urlsplit(target_url).hostname or ""
    local = _is_local(host)
    machine_pct = [p["machineCpuPct"] for p in procs if p["machineCpuPct"] is not None and p["kind"] != "worker"]
    if local and machine_pct and max(machine_pct) >= 90:
        warnings.append(
            f"被测系统与负载生成器在同一台机器上，整机 CPU 平均 {max(machine_pct):.0f}%：二者争用 CPU，测得的性能低于被测系统单独运行时 / "
            "the target runs on the generator's machine and both compete for the CPU"
        )
    return {"procs": procs, "saturated": bool(reasons), "reasons": reasons, "warnings": warnings, "targetLocal": local}


# ------------------------------------------------------------------------------------------- checks


def _measure(
    metric: str, threshold: float, shown: str, m: dict[str, Any], profile: Profile, seconds: float
) -> tuple[Any, bool | None, str]:
    """(value, passed, text) of one threshold of a group that ran; ``passed`` None: too little to judge (未测)."""
    if metric.endswith("_ms"):
        q = int(metric[1:3])
        value = m[f"p{q}"]
        need = profile.judgement.min_samples(metric)
        if m["samples"] < need:
            return (
                value,
                None,
                f"样本不足：{m['samples']} 个应答，判定 p{q} 至少需要 {need} 个 / too few samples for p{q}",
            )
        return value, value is not None and value <= threshold, f"p{q} = {value:g} ms，阈值 ≤ {shown}"
    if metric == "max_error_rate":
        value = m["errorRate"]
        passed = value is not None and value <= threshold
        need = math.ceil(1 / threshold) if threshold > 0 else 0
        text = f"错误率 {m['errorCount']}/{m['requests']} = {value * 100:.3f}%，阈值 ≤ {shown}"
        if passed and m["requests"] < need:
            return (
                value,
                None,
                f"{text}；调用次数 {m['requests']} 不足以判定 {shown}（至少 {need} 次）/ too few requests",
            )
        return value, passed, text
    if metric == "min_rps":
        return m["rps"], m["rps"] >= threshold, f"成功调用 {m['rps']:g} 次/秒，阈值 ≥ {shown}"
    if metric == "min_records_per_caller_s":
        value = m["recordsPerCallerS"]
        if not m["callers"] or value is None:
            return None, None, "没有调用方完成记录传输 / no records moved"
        text = f"每调用方 {value:g} 条/秒（{m['records']} 条，{m['callers']} 个调用方，{seconds:g} 秒），阈值 ≥ {shown}"
        return value, value >= threshold, text
    value = m["throttledNoRetryAfter"]  # retry_after
    return value, value == 0, f"{m['throttled'] + value} 个 429 中 {value} 个未带 Retry-After"


def judge(
    role: str,
    profile: Profile,
    raw: dict[str, Any] | None,
    gen: dict[str, Any] | None,
    *,
    aborted: str | None,
    users_measured: int,
    missing: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One check per threshold of every group of the role (and the Retry-After rule). ``missing``: groups
    the preflight left unloaded for lack of data, with the reason (their checks are 未测)."""
    missing = missing or {}
    checks: list[dict[str, Any]] = []
    seconds = float(raw["durationS"]) if raw else profile.duration_s
    groups = raw.get("groups", {}) if raw else {}
    declared = profile.declared_concurrency
    short = users_measured < declared
    saturated = bool(gen and gen["saturated"])
    for gname, spec in profile.groups_of(role).items():
        m = group_metrics(groups.get(gname, {}), seconds) if raw else None
        items = list(spec.thresholds.items())
        if m and m["throttled"] + m["throttledNoRetryAfter"] > 0:
            items.append(("retry_after", 0.0))
        for metric, threshold in items:
            value: Any = None
            if gname in missing:  # before "aborted": no run could have measured it
                outcome, reason = "skipped", missing[gname]
            elif aborted or m is None:
                outcome, reason = "error", f"运行未完成：{aborted} / the run did not finish"
            elif m["requests"] == 0:
                outcome = "skipped"
                reason = "统计窗口内本组没有调用（用户类未启用、权限不足或缺少数据，见说明）/ no request of this group in the window"
            else:
                shown = format_threshold(metric, threshold) if metric != "retry_after" else "0"
                value, passed, text = _measure(metric, threshold, shown, m, profile, seconds)
                outcome = "skipped" if passed is None else "passed" if passed else "failed"
                reason = text
                if short and passed is not None:
                    if metric == "min_rps" and not passed:
                        outcome = "skipped"
                        reason = f"{text}；并发 {users_measured} 低于声明的 {declared}，吞吐不足不能说明声明负载下的情形 / concurrency below the declared"
                    elif metric not in ("min_rps", "retry_after") and passed:
                        outcome = "skipped"
                        reason = f"{text}；并发 {users_measured} 低于声明的 {declared}，通过不能说明声明负载下的情形 / concurrency below the declared"
                if outcome == "failed" and saturated:
                    outcome = "error"
                    reason = f"{text}；负载生成器饱和，未达阈值可能源于生成器而非被测系统，不作判定 / the generator was saturated: no judgement"
            checks.append(
                {
                    "nodeid": f"load::{role}::{gname}::{metric}",
                    "group": gname,
                    "metric": metric,
                    "clause": profile.clause_for(role, metric),
                    "threshold": threshold,
                    "value": value,
                    "outcome": outcome,
                    "reason": reason,
                }
            )
    return checks


def outcomes(checks: list[dict[str, Any]], seconds: float) -> list[Outcome]:
    out = []
    for c in checks:
        if not c["clause"]:
            continue
        title = f"{c['group']} {metric_text(c['metric'])}"
        message = c["reason"] if c["outcome"] != "passed" else None
        out.append(Outcome(c["nodeid"], c["outcome"], (c["clause"],), seconds, message, None, title))
    return out


def performance_clauses(role: str) -> list[dict[str, Any]]:
    return [c for c in load_catalogue() if c.get("concern") == "performance" and role in (c.get("roles") or [])]


def clause_results(role: str, checks: list[dict[str, Any]], seconds: float, features: set[str]) -> list[dict[str, Any]]:
    """Verdicts of the role's performance clauses (and of any other clause a check was mapped to)."""
    outs = outcomes(checks, seconds)
    wanted = {c["id"] for c in performance_clauses(role)} | {c["clause"] for c in checks if c["clause"]}
    catalogue = [c for c in load_catalogue() if c["id"] in wanted]
    verdicts = clause_verdicts(catalogue, outs, features=features)
    by_id = {c["id"]: c for c in catalogue}
    result = []
    for v in verdicts:
        c = by_id[v.id]
        mine = [x for x in checks if x["clause"] == v.id]
        reason = v.reason
        lacking = [x for x in mine if x["outcome"] == "skipped" and str(x["reason"]).startswith(UNTESTED_PREFIX)]
        if v.verdict == CONFORMS and lacking:  # a part of the clause had no data to measure: no proof of the whole
            v.verdict = UNTESTED
        if not mine and c["verification"] == "automated":
            reason = "本次负载未测量该条款（没有对应阈值的操作组）/ not measured by this load run"
        elif mine and v.verdict == "未测":
            reason = "；".join(dict.fromkeys(x["reason"] for x in mine if x["outcome"] == "skipped"))[:1200] or reason
        result.append({**clause_entry(c, v), "reason": reason, "checks": [x["nodeid"] for x in mine]})
    return result


def unmeasured(role: str, profile: Profile, checks: list[dict[str, Any]]) -> dict[str, str]:
    """Groups of the role with no measurement at all (every check 未测 because nothing of the group ran,
    or the preflight found no data for it), with the reason."""
    out: dict[str, str] = {}
    for gname in profile.groups_of(role):
        mine = [c for c in checks if c["group"] == gname]
        if mine and all(c["outcome"] == "skipped" and c["value"] is None for c in mine):
            out[gname] = mine[0]["reason"]
    return out


def summary(role: str, profile: Profile, clauses: list[dict[str, Any]], checks: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's verdict: 通过 only when every automated performance clause it judges is 符合; else 不通过
    with what is missing (clauses not conforming, 未测 with their reasons). ``nothingMeasured``: no operation
    group could be loaded or measured (an empty target) — the run is 不通过, not an error."""
    judged = [c for c in clauses if c["verification"] == "automated"]
    passed = bool(judged) and all(c["verdict"] == CONFORMS for c in judged)
    empty = unmeasured(role, profile, checks)
    groups = list(profile.groups_of(role))
    nothing = bool(groups) and len(empty) == len(groups)
    out: dict[str, Any] = {
        "verdict": "通过" if passed else "不通过",
        "verdictEn": "pass" if passed else "fail",
        "nonConforming": [c["id"] for c in judged if c["verdict"] in (FAILS, PARTLY)],
        "errors": [c["id"] for c in judged if c["verdict"] == ERROR],
        "untested": {c["id"]: c["reason"] for c in judged if c["verdict"] == UNTESTED},
        "unmeasuredGroups": empty,
        "nothingMeasured": nothing,
    }
    if nothing:
        out["explanation"] = (
            "没有一个操作组能够测量（被测系统没有可加载的数据、客户端没有权限或未许可写操作，见各组原因）："
            "性能条款均为未测，本次性能测试不通过 / no operation group could be measured (no data at the target, "
            "no scope or no writes allowed; see each group): every performance clause is untested and the run fails"
        )
    elif not passed:
        out["explanation"] = (
            "通过须每个性能条款均为符合；尚缺："
            + "；".join(
                [f"{i} 不符合" for i in out["nonConforming"]]
                + [f"{i} 错误" for i in out["errors"]]
                + [f"{i} 未测" for i in out["untested"]]
            )
            + " / a pass needs every performance clause to conform"
        )
    else:
        out["explanation"] = "每个性能条款均为符合 / every performance clause conforms"
    return out
