"""Performance profiles (TOML): how much load, for how long, and the thresholds per operation group.

A profile is ``loadtests/profiles/<name>.toml`` or any TOML file; ``extends = "<name or path>"``
builds on another one (tables merge key by key). ``defaults.toml`` holds the project's assumed
numbers, consistent with the catalogue clauses SHARE.IF.PERF.1–3 and PROFILE.PERF.1–3; a
supervisor writes their own file (``extends = "certification"``) or sets ``[load.thresholds]``
in the target file. Unknown keys are errors: a misspelt threshold must never be ignored silently.

Layout::

    extends = "defaults"
    title = "..."
    [run]       users, spawn_rate, warmup_s, duration_s, think_time_s, request_timeout_s
    [declared]  concurrency          # the concurrency the clauses speak of (default 50)
    [judgement] min_samples_p50 / _p95 / _p99, generator_cpu_pct, loop_lag_ms
    [clauses.<role>]   latency / throughput / errors = clause id
    [mix.<role>]       <user class> = weight
    [options.<role>]   what the role's locustfile reads (e.g. sharing: data_sets, query_share)
    [groups."<name>"]  role, kind, title, title_en, p50_ms, p95_ms, p99_ms, max_error_rate, min_rps,
                       min_records_per_caller_s  (false = not judged)

``users = 0`` means “the declared concurrency”.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.contract.openapi import ROLES

_PKG = Path(__file__).resolve().parent.parent


def _root(name: str) -> Path:
    """``loadtests/<name>``: the bundled copy first (installed wheel), then the checkout."""
    bundled = _PKG / "_loadtests" / name
    return bundled if bundled.exists() else _PKG.parent / "loadtests" / name


PROFILES_DIR = _root("profiles")
LOADTESTS_DIR = _root("")

KINDS = ("get", "list", "sync", "push", "file", "token")
METRICS = ("p50_ms", "p95_ms", "p99_ms", "max_error_rate", "min_rps", "min_records_per_caller_s")
CHECK_CLAUSE = {
    "p50_ms": "latency",
    "p95_ms": "latency",
    "p99_ms": "latency",
    "max_error_rate": "errors",
    "min_rps": "throughput",
    "min_records_per_caller_s": "throughput",
    "retry_after": "errors",
}

_RUN_KEYS = {
    "users": int,
    "spawn_rate": (int, float),
    "warmup_s": (int, float),
    "duration_s": (int, float),
    "think_time_s": (int, float),
    "request_timeout_s": (int, float),
}
_JUDGE_KEYS = {
    "min_samples_p50": int,
    "min_samples_p95": int,
    "min_samples_p99": int,
    "generator_cpu_pct": (int, float),
    "loop_lag_ms": (int, float),
}
_GROUP_KEYS = {"role", "kind", "title", "title_en", *METRICS}
_TOP_KEYS = {
    "extends",
    "title",
    "title_en",
    "description",
    "run",
    "declared",
    "judgement",
    "clauses",
    "mix",
    "groups",
    "options",
}


class ProfileError(ValueError):
    """A profile that cannot be used (missing, malformed, unknown keys, impossible values)."""


@dataclass(frozen=True)
class GroupSpec:
    name: str
    role: str
    kind: str
    title: str
    title_en: str
    thresholds: dict[str, float] = field(default_factory=dict)  # metric → value (only the judged ones)


@dataclass(frozen=True)
class Judgement:
    min_samples_p50: int = 10
    min_samples_p95: int = 20
    min_samples_p99: int = 100
    generator_cpu_pct: float = 90.0
    loop_lag_ms: float = 100.0

    def min_samples(self, metric: str) -> int:
        return int(getattr(self, f"min_samples_{metric.removesuffix('_ms')}", 1))


@dataclass
class Profile:
    name: str
    title: str
    sources: list[str]
    users: int
    spawn_rate: float
    warmup_s: float
    duration_s: float
    think_time_s: float
    request_timeout_s: float
    declared_concurrency: int
    judgement: Judgement
    clauses: dict[str, dict[str, str]]
    mix: dict[str, dict[str, float]]
    groups: dict[str, GroupSpec]
    raw: dict[str, Any] = field(repr=False)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    digest: str = ""

    def groups_of(self, role: str) -> dict[str, GroupSpec]:
        return {n: g for n, g in self.groups.items() if g.role == role}

    def clause_for(self, role: str, metric: str) -> str | None:
        return self.clauses.get(role, {}).get(CHECK_CLAUSE[metric])

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "sources": self.sources,
            "digest": self.digest,
            "users": self.users,
            "spawnRate": self.spawn_rate,
            "warmupS": self.warmup_s,
            "durationS": self.duration_s,
            "thinkTimeS": self.think_time_s,
            "requestTimeoutS": self.request_timeout_s,
            "declaredConcurrency": self.declared_concurrency,
        }


# ------------------------------------------------------------------------------------ loading


def resolve(spec: str, *, relative_to: Path | None = None) -> Path:
    """A profile name (``smoke``) or a path to a TOML file."""
    p = Path(spec)
    candidates = []
    if p.suffix == ".toml" or "/" in spec or "\\" in spec:
        candidates += [p] + ([relative_to / p] if relative_to and not p.is_absolute() else [])
    else:
        candidates += ([relative_to / f"{spec}.toml"] if relative_to else []) + [PROFILES_DIR / f"{spec}.toml"]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    known = ", ".join(sorted(x.stem for x in PROFILES_DIR.glob("*.toml")))
    raise ProfileError(f"找不到性能档案“{spec}”（已有：{known}）/ no performance profile {spec!r} (known: {known})")


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _read_chain(path: Path, seen: list[Path]) -> tuple[dict[str, Any], list[Path]]:
    if path in seen:
        raise ProfileError(f"性能档案循环继承：{' → '.join(map(str, [*seen, path]))} / circular extends")
    if len(seen) > 8:
        raise ProfileError("性能档案继承层次过深 / extends chain too deep")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path}：无法读取性能档案：{exc} / cannot read the profile") from exc
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ProfileError(f"{path}：未知的键 {sorted(unknown)} / unknown keys")
    parent = data.pop("extends", None)
    chain = [*seen, path]
    if parent is None:
        return data, chain
    base, chain = _read_chain(resolve(str(parent), relative_to=path.parent), chain)
    return deep_merge(base, data), chain


def _number(where: str, value: Any, kinds: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ProfileError(f"{where} 应为数值，实为 {value!r} / {where} must be a number")
    return value


def load_profile(
    spec: str,
    *,
    overrides: dict[str, Any] | None = None,
    thresholds: dict[str, dict[str, Any]] | None = None,
    declared: int | None = None,
) -> Profile:
    """Read a profile (with its ``extends`` chain), then apply the target file's ``[load.thresholds]``
    (``thresholds``), its declared concurrency and the command line's run overrides."""
    path = resolve(spec)
    data, chain = _read_chain(path, [])
    if thresholds:
        data = deep_merge(data, {"groups": thresholds})
    if declared is not None:
        data = deep_merge(data, {"declared": {"concurrency": declared}})
    if overrides:
        data = deep_merge(data, {"run": {k: v for k, v in overrides.items() if v is not None}})
    prof = _build(path.stem, data, [str(p) for p in reversed(chain)])
    prof.digest = hashlib.sha256(repr(sorted(_flatten(data))).encode()).hexdigest()[:16]
    return prof


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out += _flatten(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", repr(v)))
    return out


def _build(name: str, data: dict[str, Any], sources: list[str]) -> Profile:
    run = dict(data.get("run") or {})
    bad = set(run) - set(_RUN_KEYS)
    if bad:
        raise ProfileError(f"[run] 未知的键 {sorted(bad)} / unknown keys in [run]")
    for k, kinds in _RUN_KEYS.items():
        if k not in run:
            raise ProfileError(f"[run] 缺少 {k} / [run] lacks {k}")
        _number(f"[run] {k}", run[k], kinds)
    declared = dict(data.get("declared") or {})
    if set(declared) - {"concurrency"}:
        raise ProfileError(f"[declared] 未知的键 {sorted(set(declared) - {'concurrency'})}")
    concurrency = int(_number("[declared] concurrency", declared.get("concurrency", 50), int))
    judge_raw = dict(data.get("judgement") or {})
    if set(judge_raw) - set(_JUDGE_KEYS):
        raise ProfileError(f"[judgement] 未知的键 {sorted(set(judge_raw) - set(_JUDGE_KEYS))}")
    for k, v in judge_raw.items():
        _number(f"[judgement] {k}", v, _JUDGE_KEYS[k])
    judgement = Judgement(**judge_raw)
    users = int(run["users"]) or concurrency
    if (
        users < 1
        or run["spawn_rate"] <= 0
        or run["duration_s"] <= 0
        or run["warmup_s"] < 0
        or run["think_time_s"] < 0
        or run["request_timeout_s"] <= 0
    ):
        raise ProfileError("[run] 的数值须为正（warmup_s、think_time_s 可为 0）/ [run] values must be positive")
    ramp = users / float(run["spawn_rate"])
    if run["warmup_s"] + 1e-9 < ramp:
        raise ProfileError(
            f"预热时间 {run['warmup_s']} 秒短于加压时间 {ramp:.1f} 秒（{users} 个用户 ÷ 每秒 {run['spawn_rate']} 个）："
            f"统计窗口会包含加压阶段 / warm-up shorter than the ramp-up ({ramp:.1f} s)"
        )
    clauses: dict[str, dict[str, str]] = {}
    for role, table in (data.get("clauses") or {}).items():
        if role not in ROLES or not isinstance(table, dict) or set(table) - {"latency", "throughput", "errors"}:
            raise ProfileError(
                f"[clauses.{role}] 不正确（键为 latency、throughput、errors）/ malformed [clauses.{role}]"
            )
        clauses[role] = {k: str(v) for k, v in table.items()}
    mix: dict[str, dict[str, float]] = {}
    for role, table in (data.get("mix") or {}).items():
        if role not in ROLES or not isinstance(table, dict):
            raise ProfileError(f"[mix.{role}] 不正确 / malformed [mix.{role}]")
        mix[role] = {str(k): float(_number(f"[mix.{role}] {k}", v, (int, float))) for k, v in table.items()}
        if any(v < 0 for v in mix[role].values()):
            raise ProfileError(f"[mix.{role}] 权重不能为负 / negative weight")
    options: dict[str, dict[str, Any]] = {}
    for role, table in (data.get("options") or {}).items():
        if role not in ROLES or not isinstance(table, dict):
            raise ProfileError(f"[options.{role}] 不正确 / malformed [options.{role}]")
        options[role] = dict(table)
    groups: dict[str, GroupSpec] = {}
    for gname, g in (data.get("groups") or {}).items():
        if not isinstance(g, dict):
            raise ProfileError(f'[groups."{gname}"] 应为表 / must be a table')
        unknown = set(g) - _GROUP_KEYS
        if unknown:
            raise ProfileError(f'[groups."{gname}"] 未知的键 {sorted(unknown)} / unknown keys')
        if g.get("role") not in ROLES or g.get("kind") not in KINDS:
            raise ProfileError(
                f'[groups."{gname}"] 须有 role（{", ".join(ROLES)}）与 kind（{", ".join(KINDS)}）'
                f" / needs role and kind (a threshold for a group no profile defines?)"
            )
        values: dict[str, float] = {}
        for m in METRICS:
            if m not in g or g[m] is False:
                continue
            v = float(_number(f'[groups."{gname}"] {m}', g[m], (int, float)))
            if v < 0 or (m == "max_error_rate" and v > 1):
                raise ProfileError(f'[groups."{gname}"] {m} = {v} 超出范围 / out of range')
            values[m] = v
        groups[gname] = GroupSpec(
            gname, g["role"], g["kind"], str(g.get("title", gname)), str(g.get("title_en", gname)), values
        )
    return Profile(
        name=name,
        title=str(data.get("title", name)),
        sources=sources,
        users=users,
        spawn_rate=float(run["spawn_rate"]),
        warmup_s=float(run["warmup_s"]),
        duration_s=float(run["duration_s"]),
        think_time_s=float(run["think_time_s"]),
        request_timeout_s=float(run["request_timeout_s"]),
        declared_concurrency=concurrency,
        judgement=judgement,
        clauses=clauses,
        mix=mix,
        groups=groups,
        raw=data,
        options=options,
    )


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml") if p.stem != "defaults")


def format_threshold(metric: str, value: float) -> str:
    """A threshold as the clause texts write it (``500 ms``, ``2 s``, ``0.1%``, ``1000 条/秒``)."""
    if metric.endswith("_ms"):
        return f"{value / 1000:g} s" if value >= 1000 and value % 1000 == 0 else f"{value:g} ms"
    if metric == "max_error_rate":
        return f"{value * 100:g}%"
    if metric == "min_records_per_caller_s":
        return f"{value:g} 条/秒"
    return f"{value:g} 次/秒"
