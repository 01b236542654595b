"""The load chart as plain SVG (no plotting library, opens offline): p95 per operation group over time
with its threshold dashed in the same colour (upper panel, logarithmic), successful requests and
errors per second (lower panel); the warm-up and the stop phase are shaded, the measured window is
white. Per-second percentiles come from the coarse histograms (about ±9 %); the verdicts use the
exact ones of the window.
"""

from __future__ import annotations

import math
from typing import Any
from xml.sax.saxutils import escape

from conformance.load import histogram as H

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
W, LEFT, RIGHT = 980, 70, 190
TOP_H, BOT_H, GAP, TOP = 260, 170, 50, 40


def series_rows(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Per second and group: requests, ok, errors, throttled, records and coarse percentiles."""
    t0 = raw.get("t0") or 0
    rows = []
    for sec, groups in sorted(raw.get("series", {}).items(), key=lambda kv: int(kv[0])):
        for g, (ok, err, thr, records, hist) in sorted(groups.items()):
            h = {int(k): n for k, n in hist.items()}
            rows.append(
                {
                    "t": round(int(sec) - t0, 1),
                    "second": int(sec),
                    "group": g,
                    "requests": ok + err + thr,
                    "ok": ok,
                    "errors": err,
                    "throttled": thr,
                    "records": records,
                    "p50": H.percentile(h, 50, coarse=True),
                    "p95": H.percentile(h, 95, coarse=True),
                    "p99": H.percentile(h, 99, coarse=True),
                }
            )
    return rows


def render_svg(raw: dict[str, Any], thresholds: dict[str, float], *, title: str, lang: str = "zh") -> str:
    rows = series_rows(raw)
    t0 = raw.get("t0") or 0
    ws, we = (raw["window"][0] - t0, raw["window"][1] - t0) if raw.get("window") else (0, 0)
    end = max([r["t"] + 1 for r in rows] + [we + 1, 1])
    groups = sorted({r["group"] for r in rows if r["group"] != "auth.token"})
    colour = {g: COLOURS[i % len(COLOURS)] for i, g in enumerate(groups)}
    plot_w = W - LEFT - RIGHT
    height = TOP + TOP_H + GAP + BOT_H + 60
    zh = lang != "en"

    def x(t: float) -> float:
        return LEFT + plot_w * max(0.0, min(t, end)) / end

    lat = [r["p95"] for r in rows if r["p95"] and r["group"] in colour] + [
        v for g, v in thresholds.items() if g in colour
    ]
    lo = max(1.0, min(lat) / 1.5) if lat else 1.0
    hi = max(lat) * 1.5 if lat else 1000.0
    if hi <= lo * 2:
        hi = lo * 10

    def y_lat(v: float) -> float:
        f = (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return TOP + TOP_H * (1 - max(0.0, min(1.0, f)))

    per_sec: dict[float, list[float]] = {}
    for r in rows:
        if r["group"] == "auth.token":
            continue
        acc = per_sec.setdefault(r["t"], [0.0, 0.0])
        acc[0] += r["ok"]
        acc[1] += r["errors"]
    top_rate = max([v[0] + v[1] for v in per_sec.values()] + [1.0]) * 1.1
    base = TOP + TOP_H + GAP

    def y_rate(v: float) -> float:
        return base + BOT_H * (1 - v / top_rate)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" '
        'font-family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif" font-size="12">',
        f'<rect width="{W}" height="{height}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for y0, h in ((TOP, TOP_H), (base, BOT_H)):
        out.append(f'<rect x="{x(0):.1f}" y="{y0}" width="{x(ws) - x(0):.1f}" height="{h}" fill="#eceff3"/>')
        out.append(
            f'<rect x="{x(we):.1f}" y="{y0}" width="{max(0.0, x(end) - x(we)):.1f}" height="{h}" fill="#eceff3"/>'
        )
        out.append(f'<rect x="{LEFT}" y="{y0}" width="{plot_w}" height="{h}" fill="none" stroke="#98a2b3"/>')
    out.append(
        f'<text x="{x(ws / 2):.1f}" y="{TOP + 14}" text-anchor="middle" fill="#667085">{"预热" if zh else "warm-up"}</text>'
    )
    out.append(
        f'<text x="{(x(ws) + x(we)) / 2:.1f}" y="{TOP + 14}" text-anchor="middle" fill="#667085">'
        f"{'统计窗口' if zh else 'measured window'}</text>"
    )
    # axes
    decade = 10 ** math.floor(math.log10(lo))
    while decade <= hi:
        for m in (1, 2, 5):
            v = decade * m
            if lo <= v <= hi:
                yy = y_lat(v)
                out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e4e7ec"/>')
                out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:g}</text>')
        decade *= 10
    out.append(
        f'<text x="14" y="{TOP + TOP_H / 2}" transform="rotate(-90 14 {TOP + TOP_H / 2})" text-anchor="middle">'
        f"{'p95 响应时间（ms，对数）' if zh else 'p95 latency (ms, log)'}</text>"
    )
    for i in range(5):
        v = top_rate * i / 4
        yy = y_rate(v)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e4e7ec"/>')
        out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    out.append(
        f'<text x="14" y="{base + BOT_H / 2}" transform="rotate(-90 14 {base + BOT_H / 2})" text-anchor="middle">'
        f"{'次/秒' if zh else 'requests/s'}</text>"
    )
    step = max(1, math.ceil(end / 12))
    for t in range(0, int(end) + 1, step):
        out.append(f'<text x="{x(t):.1f}" y="{base + BOT_H + 16}" text-anchor="middle">{t}</text>')
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{base + BOT_H + 34}" text-anchor="middle">{"秒（自开始）" if zh else "seconds since start"}</text>'
    )
    # latency lines and thresholds
    for g in groups:
        pts = [(r["t"] + 0.5, r["p95"]) for r in rows if r["group"] == g and r["p95"]]
        if pts:
            path = " ".join(f"{x(t):.1f},{y_lat(v):.1f}" for t, v in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour[g]}" stroke-width="1.6"/>')
        if g in thresholds:
            yy = y_lat(thresholds[g])
            out.append(
                f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{colour[g]}" stroke-dasharray="6 4"/>'
            )
    # throughput and errors
    ts = sorted(per_sec)
    if ts:
        ok_path = " ".join(f"{x(t + 0.5):.1f},{y_rate(per_sec[t][0]):.1f}" for t in ts)
        err_path = " ".join(f"{x(t + 0.5):.1f},{y_rate(per_sec[t][1]):.1f}" for t in ts)
        out.append(f'<polyline points="{ok_path}" fill="none" stroke="#175cd3" stroke-width="1.6"/>')
        out.append(f'<polyline points="{err_path}" fill="none" stroke="#d92d20" stroke-width="1.6"/>')
    # legend
    lx, ly = LEFT + plot_w + 14, TOP + 6
    for i, g in enumerate(groups):
        yy = ly + i * 18
        out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{yy}" y2="{yy}" stroke="{colour[g]}" stroke-width="2"/>')
        suffix = f" ≤{thresholds[g]:g}" if g in thresholds else ""
        out.append(f'<text x="{lx + 24}" y="{yy + 4}">{escape(g + suffix)}</text>')
    out.append(
        f'<text x="{lx}" y="{ly + len(groups) * 18 + 10}" fill="#667085">{"虚线：p95 阈值" if zh else "dashed: p95 threshold"}</text>'
    )
    out.append(
        f'<line x1="{lx}" x2="{lx + 18}" y1="{base + 6}" y2="{base + 6}" stroke="#175cd3" stroke-width="2"/>'
        f'<text x="{lx + 24}" y="{base + 10}">{"成功" if zh else "successful"}</text>'
    )
    out.append(
        f'<line x1="{lx}" x2="{lx + 18}" y1="{base + 24}" y2="{base + 24}" stroke="#d92d20" stroke-width="2"/>'
        f'<text x="{lx + 24}" y="{base + 28}">{"错误" if zh else "errors"}</text>'
    )
    out.append("</svg>")
    return "\n".join(out)
