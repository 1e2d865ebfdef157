"""The text chart of loss curves: scale choice, width, markers, legend."""
from __future__ import annotations

from gradcli.train.plot import MARKERS, display_width, loss_plot, use_log


def chart(series, width=80, height=16):
    return loss_plot(series, "loss", "loss (log scale)", width=width, height=height)


def plot_area(lines):
    """The grid rows (between the title and the x axis), without the y labels."""
    rows = lines[1:lines.index(next(l for l in lines if "+---" in l))]
    return [row.split("|", 1)[1] for row in rows]


def test_log_scale_only_beyond_three_decades():
    assert use_log([25.0, 0.02]) is True  # 3.1 decades
    assert use_log([25.0, 0.03]) is False  # 2.9 decades
    assert use_log([25.0, 0.0, 1e-9]) is True  # zeros are drawn at the bottom
    assert use_log([25.0, -1.0, 1e-9]) is False  # negative losses: linear
    assert chart([("a", [25.0, 1e-9])])[0] == "loss (log scale)"
    assert chart([("a", [25.0, 20.0])])[0] == "loss"


def test_fits_80_columns_and_marks_each_run():
    x2 = [("lr 0.001", [25 * 0.998 ** (2 * k) for k in range(51)]),
          ("lr 0.1", [25 * 0.64 ** k for k in range(51)]),
          ("lr 10", [25 * 361 ** k for k in range(6)])]
    lines = chart(x2)
    assert all(display_width(line) <= 80 for line in lines)
    area = plot_area(lines)
    assert len(area) == 16
    joined = "".join(area)
    for mark in MARKERS[:3]:
        assert mark in joined
    # lr 10 stops at step 5 of 50: its marker stays in the first tenth of the chart
    plus_cols = [row.index("+") for row in area if "+" in row]
    cols = lines[-3].count("-")
    assert max(plus_cols) <= 0.1 * cols + 1 and min(plus_cols) == 0
    # the diverging run is at the top at its end, the converging one at the bottom
    assert "+" in area[0] and area[-1].rstrip().endswith("o")
    assert lines[-1] == "  * lr 0.001   o lr 0.1   + lr 10"
    assert lines[-2].split() == ["0", "25", "50"]


def test_linear_curve_is_monotone_on_the_grid():
    lines = chart([("a", [10.0 - k for k in range(11)])], width=50, height=11)
    area = plot_area(lines)
    rows_by_col = {}
    for r, row in enumerate(area):
        for c, ch in enumerate(row):
            if ch == "*":
                rows_by_col.setdefault(c, []).append(r)
    cols = sorted(rows_by_col)
    assert cols == list(range(lines[-3].count("-")))  # every column drawn
    tops = [min(rows_by_col[c]) for c in cols]
    assert tops == sorted(tops) and tops[0] == 0 and max(rows_by_col[cols[-1]]) == 10


def test_many_steps_are_drawn_per_column():
    values = [1.0 / (1 + k) for k in range(200_001)]
    lines = chart([("long", values)], width=60)
    assert all(len(line) <= 60 for line in lines)
    assert lines[-2].split() == ["0", "100000", "200000"]


def test_wide_labels_wrap_by_display_width():
    series = [(f"학습률 lr {lr}", [1.0, 0.5]) for lr in ("0.001", "0.01", "0.1", "1", "10")]
    lines = chart(series, width=40)
    legend = lines[lines.index(next(l for l in lines if "+---" in l)) + 2:]
    assert len(legend) > 1 and all(display_width(line) <= 40 for line in legend)
    assert display_width("학습률") == 6


def test_constant_and_single_point_series():
    assert chart([("a", [3.0])])[0] == "loss"
    lines = chart([("a", [3.0, 3.0, 3.0])])
    assert any("*" in row for row in plot_area(lines))
    assert chart([]) == []
