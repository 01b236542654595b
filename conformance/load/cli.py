"""``tzsb-conform load``: performance conformance with Locust — a verdict per performance clause, with
evidence, for a target and a role.

    tzsb-conform load --target target.toml --role sharing --profile smoke
    tzsb-conform load --target target.toml --role sharing --profile certification --workers 4 --run-dir reports/<run-id>

``register(subparsers, lang)`` adds the subcommand to the main parser; ``run(args, lang)`` runs it
(exit 0: no performance clause fails and at least one operation group was measured — the verdict line says
whether the run is 通过; 1: a clause is 不符合 / 部分符合, or no group could be measured at all (an empty
target: every clause 未测, the run 不通过); 2: usage or harness error, or the run could not reach a judgement).
Paths may be relative to any working directory: they are made absolute before Locust sees them. ``python -m conformance.load`` runs it on its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.clock import CHINA
from conformance.i18n import t

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

MESSAGES: dict[str, tuple[str, str]] = {
    "cmd": (
        "性能测试：以 Locust 对被测系统施加负载，按性能条款给出结论与证据",
        "performance test: load the target with Locust, a verdict per performance clause with evidence",
    ),
    "role": ("被测角色（默认取目标文件的 role）", "role under test (default: the target file's role)"),
    "profile": (
        "性能档案：名称（{names}）或 TOML 文件路径；默认取目标文件 [load] profile，否则 smoke",
        "performance profile: a name ({names}) or a TOML file; default: the target file's [load] profile, else smoke",
    ),
    "client_id": (
        "客户端标识（密钥取自环境变量 TZSB_CLIENT_SECRET）；默认按目标文件 [load] client",
        "client id (secret from TZSB_CLIENT_SECRET)",
    ),
    "users": ("并发用户数（改写档案）", "concurrent users (overrides the profile)"),
    "spawn_rate": ("每秒启动的用户数（改写档案）", "users started per second (overrides the profile)"),
    "duration": ("统计窗口长度，秒（改写档案）", "measured window in seconds (overrides the profile)"),
    "warmup": ("预热时间，秒，不计入统计（改写档案）", "warm-up in seconds, not measured (overrides the profile)"),
    "workers": (
        "本机工作进程数：>0 时以一个主控加 N 个工作进程运行（Locust 主从模式）",
        "local worker processes: one master and N workers",
    ),
    "expect_workers": (
        "另需等待的远程工作进程数（其它机器上的 locust --worker）",
        "remote workers to wait for (locust --worker on other machines)",
    ),
    "master_bind": (
        "主控监听地址（远程工作进程连接用；默认 127.0.0.1）",
        "address the master binds for workers (default 127.0.0.1)",
    ),
    "master_port": ("主控端口（默认任选空闲端口；远程工作进程须知道）", "master port (default: a free one)"),
    "writes": (
        "写操作：none（只读）、reversible（共享平台推送后删除，默认）、all（含不可撤销的推送与上报）",
        "writes: none, reversible (sharing pushes, deleted again; default), all (also irreversible pushes)",
    ),
    "run_dir": (
        "并入该目录中同一被测系统的认证报告（report.json 与 report.html）",
        "join the certification report in this run directory",
    ),
    "out": ("证据目录（默认 reports/load-<运行编号>；给出 --run-dir 时为其中的 load/<角色>）", "evidence folder"),
    "err.role": ("须用 --role 指明角色（目标文件也未给出）", "give --role (the target file names none)"),
    "err.target": ("目标文件有误：{why}", "target file: {why}"),
    "err.credentials": (
        "目标文件没有可用的凭证（[credentials] 或 [load] client）",
        "no credentials in the target file",
    ),
    "err.preflight": ("预检失败：{why}", "preflight failed: {why}"),
    "err.binding": (
        "绑定不可用，未施加任何负载 / the binding cannot be used, no load was sent: {why}",
        "the binding cannot be used, no load was sent / 绑定不可用，未施加任何负载: {why}",
    ),
    "err.mtls": (
        "负载进程尚不能出示绑定要求的客户端证书（auth.mtls）/ the load processes cannot present the binding's client "
        "certificate (auth.mtls) yet",
        "the load processes cannot present the binding's client certificate (auth.mtls) yet / 负载进程尚不能出示绑定"
        "要求的客户端证书（auth.mtls）",
    ),
    "binding": (
        "经绑定：{name}（{file}，SHA-256 {sha}）",
        "through the binding: {name} ({file}, SHA-256 {sha})",
    ),
    "binding.cost": (
        "经绑定翻译 {n} 个请求，平均每个请求（连同其应答）{us} 微秒：工具自身的开销，不计入响应时间",
        "{n} requests translated through the binding, {us} µs per request with its answer on average: the "
        "harness's own cost, not part of the latencies",
    ),
    "err.merge": ("无法并入认证报告：{why}", "cannot join the certification report: {why}"),
    "start": (
        "性能测试：{name}（{role}）· 档案 {profile} · {users} 个用户 · 预热 {warmup:g} 秒 + 统计 {duration:g} 秒{dist}",
        "load test: {name} ({role}) · profile {profile} · {users} users · warm-up {warmup:g} s + window {duration:g} s{dist}",
    ),
    "dist": (" · 主控 + {n} 个工作进程", " · master + {n} workers"),
    "preflight": ("预检：令牌{token}，数据发现 {secs:.1f} 秒", "preflight: token {token}, discovery {secs:.1f} s"),
    "progress": (
        "[{t:5.1f}/{total:.0f} 秒] {phase} · {users} 用户 · {rps:.0f} 次/秒 · 错误 {err:.2%} · p95≈{p95} ms · 生成器 CPU {cpu:.0f}%",
        "[{t:5.1f}/{total:.0f} s] {phase} · {users} users · {rps:.0f} req/s · errors {err:.2%} · p95≈{p95} ms · generator CPU {cpu:.0f}%",
    ),
    "phase.warmup": ("预热", "warm-up"),
    "phase.measure": ("统计", "measuring"),
    "phase.stop": ("停止", "stopping"),
    "verdict": ("{id} {title}：{verdict}{warn}", "{id} {title}: {verdict}{warn}"),
    "saturated": ("警告：负载生成器饱和 —— {why}", "warning: the load generator was saturated — {why}"),
    "unmeasured": ("未测 {group}：{why}", "not tested {group}: {why}"),
    "summary": (
        "性能测试结论：{verdict}（通过须每个性能条款均为符合）",
        "performance verdict: {verdict} (a pass needs every performance clause to conform)",
    ),
    "nothing": (
        "没有一个操作组能够测量：性能条款均为未测，故不通过（退出码 1）；补足所缺数据后重新运行",
        "no operation group could be measured: every performance clause is untested, so the run fails (exit 1); "
        "provide the missing data and run again",
    ),
    "done": ("证据：{path}", "evidence: {path}"),
    "merged": ("已并入认证报告：{path}", "joined the certification report: {path}"),
}


def tr(key: str, lang: str, **kw: Any) -> str:
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**kw) if kw else text


def register(subparsers: Any, lang: str) -> argparse.ArgumentParser:
    from conformance.load.profiles import profile_names

    p = subparsers.add_parser("load", help=tr("cmd", lang), description=tr("cmd", lang))
    p.add_argument("--target", required=True, help=t("opt.target", lang))
    p.add_argument("--role", help=tr("role", lang))
    p.add_argument("--profile", default=None, help=tr("profile", lang, names=", ".join(profile_names())))
    p.add_argument("--client-id", default=None, help=tr("client_id", lang))
    p.add_argument("--users", type=int, default=None, help=tr("users", lang))
    p.add_argument("--spawn-rate", type=float, default=None, help=tr("spawn_rate", lang))
    p.add_argument("--duration", type=float, default=None, help=tr("duration", lang))
    p.add_argument("--warmup", type=float, default=None, help=tr("warmup", lang))
    p.add_argument("--workers", type=int, default=0, help=tr("workers", lang))
    p.add_argument("--expect-workers", type=int, default=0, help=tr("expect_workers", lang))
    p.add_argument("--master-bind", default="127.0.0.1", help=tr("master_bind", lang))
    p.add_argument("--master-port", type=int, default=None, help=tr("master_port", lang))
    p.add_argument("--writes", choices=["none", "reversible", "all"], default=None, help=tr("writes", lang))
    p.add_argument("--feature", action="append", default=[], help=t("opt.feature", lang))
    p.add_argument("--run-dir", type=Path, default=None, help=tr("run_dir", lang))
    p.add_argument("--out", type=Path, default=None, help=tr("out", lang))
    return p


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).astimezone(CHINA).isoformat(timespec="seconds")


def run(args: argparse.Namespace, lang: str) -> int:
    from conformance import __version__
    from conformance.binding.model import BindingError
    from conformance.client import Evidence, TargetClient
    from conformance.harness.target import load_target
    from conformance.load import analysis, discovery, engine, output
    from conformance.load.guard import HostGuard
    from conformance.load.profiles import LOADTESTS_DIR, ProfileError, load_profile
    from conformance.load.settings import SettingsError, load_client, read_settings

    started = dt.datetime.now().timestamp()
    try:
        target = load_target(
            args.target,
            role=args.role,
            client_id=args.client_id,
            client_secret=os.environ.get("TZSB_CLIENT_SECRET"),
            features=args.feature,
            lang=lang,
        )
        binding = _binding(target)
    except BindingError as exc:  # before the preflight: nothing is sent to a target the binding cannot speak to
        print(tr("err.binding", lang, why=exc), file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError, KeyError) as exc:
        print(tr("err.target", lang, why=exc), file=sys.stderr)
        return EXIT_USAGE
    role = args.role or target.role
    if not role:
        print(tr("err.role", lang), file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = read_settings(target)
        overrides = {
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
        }
        profile = load_profile(
            args.profile or settings.profile or "smoke",
            overrides=overrides,
            thresholds=settings.thresholds,
            declared=settings.concurrency,
        )
        base_url = target.url(role)
        guard = HostGuard([*target.urls.values(), *settings.hosts])
    except (ProfileError, SettingsError, KeyError, ValueError) as exc:
        print(tr("err.target", lang, why=exc), file=sys.stderr)
        return EXIT_USAGE
    if args.client_id:
        client_name, creds = None, target.credentials
    else:
        client_name, creds = load_client(target, settings, role)
    if creds is None:
        print(tr("err.credentials", lang), file=sys.stderr)
        return EXIT_USAGE
    if args.run_dir and not (args.run_dir / "report.json").is_file():
        print(tr("err.merge", lang, why=f"{args.run_dir / 'report.json'} 不存在 / not found"), file=sys.stderr)
        return EXIT_USAGE
    writes = args.writes or settings.writes
    run_id = dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    # absolute from here on: the Locust processes run in the evidence folder, not in this working directory
    out = (
        args.out or ((args.run_dir / "load" / role) if args.run_dir else Path("reports") / f"load-{run_id}")
    ).resolve()
    out.mkdir(parents=True, exist_ok=True)
    dist = tr("dist", lang, n=args.workers + args.expect_workers) if args.workers or args.expect_workers else ""
    print(
        tr(
            "start",
            lang,
            name=target.name,
            role=role,
            profile=profile.name,
            users=profile.users,
            warmup=profile.warmup_s,
            duration=profile.duration_s,
            dist=dist,
        ),
        flush=True,
    )

    if binding is not None:
        print(
            tr(
                "binding",
                lang,
                name=binding["nameEn" if lang == "en" else "name"],
                file=binding["file"],
                sha=binding["sha256"],
            ),
            flush=True,
        )

    # ------------------------------------------------------------------ preflight (with evidence)
    evidence = Evidence()
    evidence.current_test = f"load::{role}::preflight"
    timeout = (min(3.05, profile.request_timeout_s), profile.request_timeout_s)

    def signing(url: str, credentials: Any) -> TargetClient:
        return discovery.SigningClient(
            url,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            evidence=evidence,
            timeout=timeout,
            sign_method=settings.sign,
        )

    client = signing(base_url, creds)
    extra = {}
    if role == "inspection" and "sharing" in target.urls and target.credentials is not None:
        extra["sharing"] = signing(target.url("sharing"), target.credentials)
    pf = discovery.preflight(client, role, samples=settings.samples, extra_clients=extra, thresholds=target.thresholds)
    print(tr("preflight", lang, token="✓" if pf.ok else "✗", secs=pf.seconds), flush=True)

    config = {
        "runId": run_id,
        "role": role,
        "baseUrl": base_url,
        "allowedOrigins": guard.texts(),
        "clientId": creds.client_id,
        "sign": settings.sign,
        "requestTimeoutS": profile.request_timeout_s,
        "warmupS": profile.warmup_s,
        "durationS": profile.duration_s,
        "stopTimeoutS": engine.stop_timeout(profile.request_timeout_s),
        "users": profile.users,
        "spawnRate": profile.spawn_rate,
        "thinkTimeS": profile.think_time_s,
        "mix": profile.mix.get(role, {}),
        "writes": writes,
        "options": profile.options.get(role, {}),
        "scopes": pf.scopes,
        "opScopes": discovery.op_scopes(role),
        "features": sorted(target.features),
        "pools": pf.pools,
        "progressS": 2.0,
    }
    if binding is not None:
        config["binding"] = {"file": binding["file"], "sha256": binding["sha256"], "urls": _bound_urls(target)}
    result = None
    if pf.ok:

        def show(p: dict[str, Any]) -> None:
            if p.get("event") == "progress":
                print(
                    tr(
                        "progress",
                        lang,
                        t=p["elapsed"],
                        total=p["total"],
                        phase=tr(f"phase.{p['phase']}", lang),
                        users=p["users"],
                        rps=p["rps"],
                        err=p["errors"],
                        p95=p["p95"] if p["p95"] is not None else "—",
                        cpu=p["cpu"],
                    ),
                    flush=True,
                )

        locustfile = LOADTESTS_DIR / f"locustfile_{role.replace('-', '_')}.py"
        result = engine.run(
            locustfile=locustfile,
            config=config,
            out=out,
            secret=creds.client_secret,
            workers=args.workers,
            expect_remote=args.expect_workers,
            master_bind=args.master_bind,
            master_port=args.master_port,
            on_progress=show,
        )
        aborted = result.aborted
    else:
        (out / "config.json").write_text(
            __import__("json").dumps(config, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        aborted = tr("err.preflight", lang, why="；".join(pf.problems))
    raw = result.raw if result else None

    # ------------------------------------------------------------------ judgement
    gen = (
        analysis.generator(raw, profile, base_url)
        if raw
        else {"procs": [], "saturated": False, "reasons": [], "warnings": [], "targetLocal": False}
    )
    at_start = (raw or {}).get("usersAtStart") or {}
    at_end = (raw or {}).get("usersAtEnd") or {}
    measured = min(sum(at_start.values()), sum(at_end.values())) if raw else 0
    checks = analysis.judge(
        role, profile, raw, gen, aborted=aborted if not raw else None, users_measured=measured, missing=pf.missing
    )
    clauses = analysis.clause_results(role, checks, profile.duration_s, target.features)
    summary = analysis.summary(role, profile, clauses, checks)
    groups = {}
    specs, measured_groups = profile.groups_of(role), (raw or {}).get("groups") or {}
    for name in [*specs, *(n for n in measured_groups if n not in specs)]:
        m = analysis.group_metrics(measured_groups.get(name, {}), profile.duration_s)
        m.pop("hist", None)
        head: dict[str, Any] = {"title": name, "titleEn": name, "kind": "other", "thresholds": {}}
        if spec := specs.get(name):
            head = {"title": spec.title, "titleEn": spec.title_en, "kind": spec.kind, "thresholds": spec.thresholds}
        groups[name] = {**head, **m}
    notes = list(pf.notes) + list((raw or {}).get("notes") or [])
    refused = (raw or {}).get("refused") or 0
    if refused:
        notes.append(
            f"主机列表守卫拒绝了 {refused} 个请求（被测系统返回的地址不在主机列表中；若合法，请在目标文件 [load] hosts 中列出）/ "
            f"the host guard refused {refused} requests"
        )
    untranslatable = sum(int(g.get("untranslatable") or 0) for g in groups.values())
    if untranslatable:
        notes.append(
            f"绑定无法表达 {untranslatable} 个请求，未发送（工具的不足，不计为被测系统的错误；见错误样例）/ the binding "
            f"could not express {untranslatable} requests: not sent, not counted as errors of the target"
        )
    if binding is not None:
        binding["translation"] = _translation_cost((raw or {}).get("translation"))
    window = (raw or {}).get("window") or [0, 0]
    doc = {
        "schema": "tzsb-load/1",
        "lang": lang,
        "run": {
            "runId": run_id,
            "harnessVersion": __version__,
            "locustVersion": (raw or {}).get("locust"),
            "started": _iso(started),
            "ended": _iso(dt.datetime.now().timestamp()),
            "role": role,
            "baseUrl": base_url,
            "target": {
                "name": target.name,
                "role": target.role,
                "urls": target.urls,
                "features": sorted(target.features),
                "source": target.source,
                "binding": binding,
            },
            "client": client_name or creds.client_id,
            "writes": writes,
            "hosts": guard.texts(),
            "profile": profile.as_dict(),
            "overrides": {k: v for k, v in overrides.items() if v is not None},
            "users": {
                "target": profile.users,
                "atStart": at_start,
                "atEnd": at_end,
                "measured": measured,
                "declared": profile.declared_concurrency,
            },
            "workers": {
                "local": args.workers,
                "remote": args.expect_workers,
                "connected": (raw or {}).get("workers", 0),
            },
            "window": {
                "start": _iso(window[0]) if window[0] else None,
                "end": _iso(window[1]) if window[1] else None,
                "seconds": profile.duration_s,
                "warmupS": profile.warmup_s,
            },
            "seconds": round(result.seconds, 1) if result else 0.0,
            "aborted": aborted,
            "returncodes": result.returncodes if result else {},
        },
        "summary": summary,
        "clauses": clauses,
        "checks": checks,
        "groups": groups,
        "generator": gen,
        "preflight": {"ok": pf.ok, "seconds": round(pf.seconds, 2), "scopes": pf.scopes, "problems": pf.problems},
        "notes": notes,
        "errors": (raw or {}).get("errors") or [],
        "leftovers": (raw or {}).get("leftovers") or [],
    }
    exchanges = [x.as_dict() for x in evidence.exchanges]
    output.write_all(out, doc, raw, exchanges, lang)

    for c in clauses:
        print(
            tr(
                "verdict",
                lang,
                id=c["id"],
                title=c["titleEn"] if lang == "en" and c["titleEn"] else c["title"],
                verdict=c["verdictEn"] if lang == "en" else c["verdict"],
                warn=" ⚠" if c["warning"] else "",
            )
        )
    for name, why in summary["unmeasuredGroups"].items():
        print(tr("unmeasured", lang, group=name, why=why))
    if binding is not None:
        name = binding["nameEn" if lang == "en" else "name"]
        print(tr("binding", lang, name=name, file=binding["file"], sha=binding["sha256"]))
        if binding["translation"]["requests"]:
            cost = binding["translation"]
            print(tr("binding.cost", lang, n=cost["requests"], us=cost["meanUs"]))
    print(tr("summary", lang, verdict=summary["verdictEn"] if lang == "en" else summary["verdict"]))
    if summary["nothingMeasured"]:
        print(tr("nothing", lang))
    for why in gen["reasons"]:
        print(tr("saturated", lang, why=why))
    print(tr("done", lang, path=out / "load.html"))
    if args.run_dir:
        from conformance.report.writer import merge_performance

        try:
            merge_performance(args.run_dir, doc, out, exchanges, lang=lang)
        except (OSError, ValueError, KeyError) as exc:
            print(tr("err.merge", lang, why=exc), file=sys.stderr)
            return EXIT_USAGE
        print(tr("merged", lang, path=args.run_dir / "report.html"))
    verdicts = {c["verdict"] for c in clauses}
    if aborted and not raw:
        return EXIT_USAGE
    if verdicts & {"不符合", "部分符合"}:
        return EXIT_FAIL
    if "错误" in verdicts:
        return EXIT_USAGE
    # one verdict everywhere: exit 0 only when the verdict printed is 通过 (an untested clause — data missing, a
    # concurrency below the declared one — is 不通过: a finding, not an error)
    return EXIT_OK if summary["verdict"] == "通过" else EXIT_FAIL


def _binding(target: Any) -> dict[str, Any] | None:
    """What the report says of the target's binding (``conformance.binding.deviations.summary``, as report.json of
    the suites); :class:`BindingError` when the load cannot go through it. ``load_target`` has already read and
    checked it (``bind_target``), so the preflight's requests cross it too."""
    if target.binding is None:
        return None
    from conformance.binding.deviations import summary
    from conformance.binding.model import BindingError, load

    bound = load(target.binding)
    if bound.client_cert is not None:
        raise BindingError(MESSAGES["err.mtls"][0])
    return summary(bound)


def _bound_urls(target: Any) -> dict[str, str]:
    """The role URLs the target speaks its binding at (the harness's own simulators answer canonically), as
    ``conformance.harness.target.bind_target`` binds them."""
    own = {u.rstrip("/") for u in target.simulators.urls.values()}
    return {role: url for role, url in target.urls.items() if url.rstrip("/") not in own}


def _translation_cost(raw: dict[str, Any] | None) -> dict[str, Any]:
    """The Locust processes' translation through the binding: requests, seconds, microseconds per request."""
    n = int((raw or {}).get("requests") or 0)
    seconds = float((raw or {}).get("seconds") or 0.0)
    return {"requests": n, "seconds": round(seconds, 3), "meanUs": round(seconds / n * 1e6, 1) if n else None}


def main(argv: Sequence[str] | None = None) -> int:
    from conformance.i18n import lang_from

    args_list = list(sys.argv[1:] if argv is None else argv)
    lang = lang_from(args_list)
    rest = [a for a in args_list if not a.startswith("--lang=")]
    while "--lang" in rest:  # --lang is an option of the main command, not of `load`
        i = rest.index("--lang")
        del rest[i : i + 2]
    if rest[:1] == ["load"]:
        rest = rest[1:]
    parser = argparse.ArgumentParser(prog="tzsb-conform")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub, lang)
    args = parser.parse_args(["load", *rest])
    try:
        return run(args, lang)
    except KeyboardInterrupt:
        return EXIT_USAGE
