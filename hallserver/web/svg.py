"""Charts as inline SVG, drawn on the server (no chart library to vendor, nothing for the browser to fetch)."""

# ruff: noqa: E501 - HTML and SVG markup reads better on one line than split mid-tag

from __future__ import annotations

from collections.abc import Sequence
from html import escape

W, H = 640, 220
PAD_L, PAD_B, PAD_T, PAD_R = 44, 28, 14, 10


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for p in range(12):
        for step in (1, 2, 5):
            m = step * 10**p
            if m >= v:
                return float(m)
    return v


def bars(title: str, labels: Sequence[str], values: Sequence[float], unit: str = "", css: str = "bar") -> str:
    """A vertical bar chart with value labels; `title` is the accessible name."""
    n = max(1, len(values))
    top = _nice_max(max(values, default=0))
    pw, ph = W - PAD_L - PAD_R, H - PAD_B - PAD_T
    bw = pw / n
    out = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{PAD_L}" y1="{PAD_T + ph}" x2="{W - PAD_R}" y2="{PAD_T + ph}" class="axis"/>',
        f'<text x="{PAD_L - 4}" y="{PAD_T + 4}" class="tick" text-anchor="end">{top:g}</text>',
        f'<text x="{PAD_L - 4}" y="{PAD_T + ph}" class="tick" text-anchor="end">0</text>',
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = ph * (v / top) if top else 0
        x = PAD_L + i * bw + bw * 0.12
        y = PAD_T + ph - h
        out.append(
            f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{bw * 0.76:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {v:g}{escape(unit)}</title></rect>"
        )
        if v:
            out.append(
                f'<text x="{x + bw * 0.38:.1f}" y="{y - 2:.1f}" class="val" text-anchor="middle">{v:g}</text>'
            )
        out.append(
            f'<text x="{x + bw * 0.38:.1f}" y="{H - 10}" class="tick" text-anchor="middle">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def line(title: str, labels: Sequence[str], values: Sequence[float | None], unit: str = "") -> str:
    """A trend line (gaps where a value is missing)."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    top = _nice_max(max((v for _, v in pts), default=0))
    pw, ph = W - PAD_L - PAD_R, H - PAD_B - PAD_T
    n = max(1, len(values) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return PAD_L + pw * i / n, PAD_T + ph - ph * v / top

    out = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{PAD_L}" y1="{PAD_T + ph}" x2="{W - PAD_R}" y2="{PAD_T + ph}" class="axis"/>',
        f'<text x="{PAD_L - 4}" y="{PAD_T + 4}" class="tick" text-anchor="end">{top:g}</text>',
    ]
    if pts:
        path = " ".join(
            f"{'M' if k == 0 else 'L'}{xy(i, v)[0]:.1f},{xy(i, v)[1]:.1f}" for k, (i, v) in enumerate(pts)
        )
        out.append(f'<path d="{path}" class="trend"/>')
        for i, v in pts:
            x, y = xy(i, v)
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="dot"><title>{escape(labels[i])}: {v:.1f}{escape(unit)}</title></circle>'
            )
    step = max(1, len(labels) // 8)
    for i in range(0, len(labels), step):
        x = PAD_L + pw * i / n
        out.append(
            f'<text x="{x:.1f}" y="{H - 10}" class="tick" text-anchor="middle">{escape(labels[i])}</text>'
        )
    out.append("</svg>")
    return "".join(out)
