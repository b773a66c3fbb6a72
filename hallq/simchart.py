"""The simulated day's wait-time chart as a self-contained SVG (pure Python, no plotting library).

x: the time a ticket was issued; y: minutes. Grey dots are each called ticket's real wait; the lines are the
real wait's P50 and P90 and the mean point estimate shown at issue, per 15-minute bin, so the estimate can be
judged by eye against what happened.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from xml.sax.saxutils import escape

from hallcore.measures import percentile

WIDTH, HEIGHT = 960, 480
LEFT, RIGHT, TOP, BOTTOM = 60, 170, 40, 50
BIN_MIN = 15


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def wait_chart(result: object) -> str:
    """SVG text for a `SimResult` (typed loosely so this module does not import the simulator)."""
    records = getattr(result, "records", {}).values()
    tz: dt.tzinfo = getattr(result, "tz", dt.UTC)
    title = str(getattr(getattr(getattr(result, "config", None), "hall", None), "name", "hall"))
    points: list[tuple[float, float, float | None]] = []  # (hour of day, wait, point estimate)
    for r in records:
        w = r.wait_min
        if w is None:
            continue
        local = r.issued_at.astimezone(tz)
        hour = local.hour + local.minute / 60 + local.second / 3600
        points.append((hour, w, float(r.est_point) if r.est_point is not None else None))
    return render_svg(points, f"{title}: wait by time of issue")


def render_svg(points: list[tuple[float, float, float | None]], title: str) -> str:
    """The chart for (hour of day, real wait, point estimate or None) triples."""
    x0 = min((p[0] for p in points), default=8.0)
    x1 = max((p[0] for p in points), default=17.0)
    x0, x1 = float(int(x0)), float(int(x1) + 1)
    ymax = max([p[1] for p in points] + [p[2] or 0.0 for p in points] + [10.0])
    step = next(s for s in (5, 10, 15, 30, 60, 120, 240, 480) if ymax / s <= 8)
    ymax = step * (int(ymax / step) + 1)
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(h: float) -> float:
        return LEFT + (h - x0) / (x1 - x0) * pw

    def sy(m: float) -> float:
        return TOP + ph - m / ymax * ph

    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">'
        ),
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="24" font-size="15">{escape(title)}</text>',
    ]
    for i in range(int(ymax / step) + 1):
        y = sy(i * step)
        out.append(f'<line x1="{LEFT}" y1="{_fmt(y)}" x2="{LEFT + pw}" y2="{_fmt(y)}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end">{i * step}</text>')
    hour = int(x0)
    while hour <= x1:
        x = sx(hour)
        out.append(f'<line x1="{_fmt(x)}" y1="{TOP}" x2="{_fmt(x)}" y2="{TOP + ph}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{_fmt(x)}" y="{TOP + ph + 18}" text-anchor="middle">{hour:02d}:00</text>')
        hour += 1
    out.append(
        f'<text x="{LEFT + pw / 2}" y="{HEIGHT - 8}" text-anchor="middle">time of issue</text>'
        f'<text x="16" y="{TOP + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + ph / 2})">wait (min)</text>'
    )
    out.append('<g fill="#9aa4b1" fill-opacity="0.45">')
    out.extend(f'<circle cx="{_fmt(sx(h))}" cy="{_fmt(sy(w))}" r="1.6"/>' for h, w, _e in points)
    out.append("</g>")
    bins: dict[int, list[tuple[float, float | None]]] = defaultdict(list)
    for h, w, e in points:
        bins[int(h * 60 // BIN_MIN)].append((w, e))
    series: dict[str, list[tuple[float, float]]] = {"P50": [], "P90": [], "estimate": []}
    for b in sorted(bins):
        mid = (b * BIN_MIN + BIN_MIN / 2) / 60
        waits = [w for w, _e in bins[b]]
        series["P50"].append((mid, percentile(waits, 0.5) or 0.0))
        series["P90"].append((mid, percentile(waits, 0.9) or 0.0))
        ests = [e for _w, e in bins[b] if e is not None]
        if ests:
            series["estimate"].append((mid, statistics.fmean(ests)))
    styles = {
        "P50": ("#1f77b4", "", "real wait P50"),
        "P90": ("#d62728", "", "real wait P90"),
        "estimate": ("#2ca02c", ' stroke-dasharray="6 4"', "estimate at issue (mean)"),
    }
    for i, (name, pts) in enumerate(series.items()):
        colour, dash, label = styles[name]
        if len(pts) >= 2:
            path = " ".join(f"{_fmt(sx(h))},{_fmt(sy(m))}" for h, m in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        ly = TOP + 10 + i * 20
        lx = LEFT + pw + 14
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{lx + 30}" y="{ly + 4}">{escape(label)}</text>'
        )
    ly = TOP + 10 + len(series) * 20
    lx = LEFT + pw + 14
    out.append(
        f'<circle cx="{lx + 12}" cy="{ly}" r="3" fill="#9aa4b1"/>'
        f'<text x="{lx + 30}" y="{ly + 4}">one ticket</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"
