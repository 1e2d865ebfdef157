"""Loss curves as an SVG line chart (inline in the HTML report of `train`).

One polyline per run against the step number, on a log scale when the
losses span more than 3 decades (as the terminal plot), axes with ticks, a
legend, and a marker where a run diverged.  A run of millions of steps is
drawn from at most `POINTS` points (the minimum and maximum of each
interval, so no spike is lost).
"""
from __future__ import annotations

import math
from typing import Sequence

from gradcli.render.markup import escape

WIDTH, HEIGHT = 760.0, 340.0
LEFT, RIGHT, TOP, BOTTOM = 70.0, 20.0, 16.0, 44.0
POINTS = 1200
COLORS = ("#1d4ed8", "#dc2626", "#15803d", "#a16207", "#7c3aed", "#0e7490", "#be185d",
          "#4d7c0f", "#c2410c", "#334155")


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _thin(values: Sequence[float]) -> list[tuple[int, float]]:
    """(step, value) pairs, at most about POINTS of them: min and max per interval."""
    finite = [(k, v) for k, v in enumerate(values) if math.isfinite(v)]
    if len(finite) <= POINTS:
        return finite
    size = math.ceil(len(finite) / (POINTS // 2))
    out = []
    for start in range(0, len(finite), size):
        chunk = finite[start:start + size]
        low, high = min(chunk, key=lambda p: p[1]), max(chunk, key=lambda p: p[1])
        out += sorted({low, high})
    return out


def _ticks(low: float, high: float, log: bool) -> list[float]:
    if log:
        return [10.0 ** e for e in range(math.floor(low), math.ceil(high) + 1)]
    if high == low:
        return [low]
    step = 10 ** math.floor(math.log10((high - low) / 4))
    for mult in (1, 2, 5, 10):
        if (high - low) / (step * mult) <= 6:
            step *= mult
            break
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step) + 1)]


def _label(v: float) -> str:
    return "0" if v == 0 else f"{v:.3g}"


def loss_chart(series: Sequence[tuple[str, Sequence[float], int | None]], log: bool,
               x_label: str, y_label: str, title: str) -> str:
    """An SVG of each (label, losses, diverged_at) series; `log`: a log scale."""
    drawn = [(label, _thin(values), at) for label, values, at in series]
    points = [p for _, pts, _ in drawn for p in pts]
    if not points:
        return ""
    steps = max(p[0] for p in points) or 1
    ys = [p[1] for p in points]
    if log:
        floor = min(v for v in ys if v > 0)
        ys = [math.log10(max(v, floor)) for v in ys]
    low, high = min(ys), max(ys)
    if high == low:
        low, high = low - 1, high + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(step: float) -> float:
        return LEFT + plot_w * step / steps

    def y(value: float) -> float:
        v = math.log10(max(value, floor)) if log else value
        return TOP + plot_h * (1 - (v - low) / (high - low))

    legend_h = 18.0 * len(drawn)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(WIDTH)}" '
           f'height="{_f(HEIGHT + legend_h)}" viewBox="0 0 {_f(WIDTH)} {_f(HEIGHT + legend_h)}" '
           'font-family="DejaVu Sans, NanumGothic, sans-serif" font-size="11" role="img">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{_f(WIDTH)}" height="{_f(HEIGHT + legend_h)}" '
           'fill="#ffffff"/>']
    for tick in _ticks(low, high, log):
        position = math.log10(tick) if log else tick  # unclamped: off-chart ticks skipped
        ty = TOP + plot_h * (1 - (position - low) / (high - low))
        if ty < TOP - 0.5 or ty > TOP + plot_h + 0.5:
            continue
        out.append(f'<line x1="{_f(LEFT)}" y1="{_f(ty)}" x2="{_f(LEFT + plot_w)}" '
                   f'y2="{_f(ty)}" stroke="#e2e8f0"/>')
        out.append(f'<text x="{_f(LEFT - 6)}" y="{_f(ty + 4)}" text-anchor="end">'
                   f"{escape(_label(tick))}</text>")
    for tick in _ticks(0, steps, False):
        tx = x(tick)
        out.append(f'<line x1="{_f(tx)}" y1="{_f(TOP + plot_h)}" x2="{_f(tx)}" '
                   f'y2="{_f(TOP + plot_h + 4)}" stroke="#475569"/>')
        out.append(f'<text x="{_f(tx)}" y="{_f(TOP + plot_h + 16)}" text-anchor="middle">'
                   f"{int(tick):,}</text>")
    out.append(f'<path d="M{_f(LEFT)},{_f(TOP)} V{_f(TOP + plot_h)} H{_f(LEFT + plot_w)}" '
               'fill="none" stroke="#475569"/>')
    out.append(f'<text x="{_f(LEFT + plot_w / 2)}" y="{_f(TOP + plot_h + 34)}" '
               f'text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text transform="translate(14,{_f(TOP + plot_h / 2)}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text>')
    for k, (label, pts, diverged) in enumerate(drawn):
        color = COLORS[k % len(COLORS)]
        shown = " ".join(f"{_f(x(s))},{_f(y(v))}" for s, v in pts)
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.8" '
                   f'points="{shown}"><title>{escape(label)}</title></polyline>')
        if diverged is not None and pts:
            s, v = pts[-1]
            out.append(f'<circle cx="{_f(x(s))}" cy="{_f(y(v))}" r="4" fill="none" '
                       f'stroke="{color}" stroke-width="2"/>')
        ly = HEIGHT + 18.0 * k + 4
        out.append(f'<line x1="{_f(LEFT)}" y1="{_f(ly)}" x2="{_f(LEFT + 24)}" y2="{_f(ly)}" '
                   f'stroke="{color}" stroke-width="2.5"/>')
        out.append(f'<text x="{_f(LEFT + 30)}" y="{_f(ly + 4)}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)
