"""The loss curves of all runs in one plain-text chart (no plotting package).

Why drawn here rather than with plotext or plotille (measured for the
README): plotext 6.1 takes 0.29-0.38 s to import, more than all of gradcli's
start-up; plotille imports in ~20 ms but draws with braille dots only, which
tell curves apart by colour alone (useless with NO_COLOR, in a pipe or a
homework file) and have no ASCII form for a terminal that cannot show them;
neither does the log scale we need.  This chart uses ASCII only, one marker
character per run (`*`, `o`, `+`, ...), a log scale when the losses span more
than 3 decades, and fits the given width (80 columns by default); labels may
hold wide characters (Korean), measured with their display width.

Each column of the chart covers an interval of steps; the curve (linear
between steps, in the plotted scale) is drawn from its lowest to its highest
point inside that interval, so neighbouring columns connect and a run of ten
million steps costs one min/max per column.
"""
from __future__ import annotations

import math
from typing import Sequence

from gradcli.i18n.width import display_width

MARKERS = "*o+x#@%&=~"
LOG_DECADES = 3.0  # log scale when max/min of the positive losses exceeds 10**3


__all__ = ["display_width", "loss_plot", "use_log"]


def use_log(values: list[float]) -> bool:
    """Log scale when the positive values span more than 3 decades (and none is negative)."""
    positive = [v for v in values if v > 0]
    if not positive or any(v < 0 for v in values):
        return False
    return math.log10(max(positive)) - math.log10(min(positive)) > LOG_DECADES


def _tick(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.3g}"


def loss_plot(series: Sequence[tuple[str, Sequence[float]]], title: str, title_log: str,
              width: int = 80, height: int = 16) -> list[str]:
    """Lines of a chart of each (label, losses) series against the step number,
    headed `title`, or `title_log` when the scale is logarithmic."""
    series = [(label, values) for label, values in series if len(values)]
    if not series:
        return []
    extremes = [f(vals) for _, vals in series for f in (min, max)]
    log = use_log(extremes)
    floor = min((v for v in extremes if v > 0), default=1.0)

    def scale(v: float) -> float:
        return math.log10(max(v, floor)) if log else v

    lo, hi = scale(min(extremes)), scale(max(extremes))
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - (0.5 if log else max(1.0, abs(lo) * 0.1)), hi + (0.5 if log else
                                                                       max(1.0, abs(hi) * 0.1))
    ticks = {r: _tick(10 ** (hi - r / (height - 1) * (hi - lo)) if log
                      else hi - r / (height - 1) * (hi - lo))
             for r in (0, (height - 1) // 4, (height - 1) // 2, 3 * (height - 1) // 4,
                       height - 1)}
    label_w = max(len(t) for t in ticks.values())
    cols = max(10, width - label_w - 2)
    last_step = max(len(values) for _, values in series) - 1
    grid = [[" "] * cols for _ in range(height)]
    for n, (_, values) in enumerate(series):
        _draw(grid, values, MARKERS[n % len(MARKERS)], scale, lo, hi, last_step)
    lines = [title_log if log else title]
    for r, row in enumerate(grid):
        lines.append(f"{ticks.get(r, ''):>{label_w}} |{''.join(row).rstrip()}")
    lines.append(" " * label_w + " +" + "-" * cols)
    lines.append(_x_labels(label_w, cols, last_step))
    lines += _legend(series, width)
    return lines


def _draw(grid: list[list[str]], values: Sequence[float], mark: str, scale, lo: float,
          hi: float, last_step: int) -> None:
    height, cols = len(grid), len(grid[0])
    end = len(values) - 1
    per_col = last_step / (cols - 1) if last_step else 0.0

    def at(t: float) -> float:  # the curve at fractional step t, in the plotted scale
        k = min(int(t), end)
        if k >= end:
            return scale(values[end])
        a, b = scale(values[k]), scale(values[k + 1])
        return a + (b - a) * (t - k)

    def row(y: float) -> int:
        return min(height - 1, max(0, round((hi - y) / (hi - lo) * (height - 1))))

    for c in range(cols if last_step else 1):
        t0 = max(0.0, (c - 0.5) * per_col)
        t1 = min(float(end), (c + 0.5) * per_col)
        if t0 > end:
            break
        ys = [at(t0), at(t1)]
        k0, k1 = math.ceil(t0), math.floor(t1)
        if k1 >= k0:  # the steps inside this column: one min and one max
            inside = values[k0:k1 + 1]
            ys += [scale(min(inside)), scale(max(inside))]
        for r in range(row(max(ys)), row(min(ys)) + 1):
            grid[r][c] = mark


def _x_labels(label_w: int, cols: int, last_step: int) -> str:
    line = [" "] * cols
    for frac in (0.0, 0.5, 1.0) if last_step else (0.0,):
        step = round(frac * last_step)
        text = str(step)
        pos = round(step / last_step * (cols - 1)) if last_step else 0
        start = min(max(0, pos - len(text) // 2 if step else pos), cols - len(text))
        line[start:start + len(text)] = text
    return " " * (label_w + 2) + "".join(line).rstrip()


def _legend(series, width: int) -> list[str]:
    items = [f"{MARKERS[n % len(MARKERS)]} {label}" for n, (label, _) in enumerate(series)]
    lines, current, used = [], "  ", 2
    for item in items:
        w = display_width(item)
        if used > 2 and used + 3 + w > width:
            lines.append(current)
            current, used = "  ", 2
        if used > 2:
            current, used = current + "   ", used + 3
        current, used = current + item, used + w
    lines.append(current)
    return lines
