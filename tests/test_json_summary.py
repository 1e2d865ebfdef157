"""Big tensors in `check --json` are summaries unless --json-full (issue 8)."""
from __future__ import annotations

import numpy as np
import pytest

from checkcli import check_json, write
from gradcli import report as report_module

N = 10_001  # one more than the largest tensor written in full


def _w(n: int) -> list[float]:
    return [round(0.001 * (i % 997) - 0.4, 3) for i in range(n)]


def _spec(tmp_path, n: int):
    return write(tmp_path, "w.yaml", f"params:\n  w: {_w(n)}\nloss: sum(w*w)/2\n")


def test_a_tensor_of_more_than_10000_entries_is_summarised(tmp_path):
    code, report = check_json(_spec(tmp_path, N))
    assert code == 0 and report["ok"]
    [p] = report["params"]
    w = np.array(_w(N))
    for key, tol in (("reverse", 1e-12), ("numeric", 1e-6)):  # d sum(w*w)/2 / dw = w
        summary = p[key]
        assert set(summary) == {"shape", "size", "norm", "min", "max", "worst"}
        assert summary["shape"] == [N] and summary["size"] == N
        assert summary["norm"] == pytest.approx(np.linalg.norm(w), rel=tol)
        assert summary["min"] == pytest.approx(w.min(), rel=tol)
        assert summary["max"] == pytest.approx(w.max(), rel=tol)
    # worst: the entries where reverse and numeric differ most, the same in both
    reverse_worst = [index for index, _ in p["reverse"]["worst"]]
    assert reverse_worst == [index for index, _ in p["numeric"]["worst"]]
    assert len(reverse_worst) == 5 and all(len(index) == 1 for index in reverse_worst)
    for index, value in p["reverse"]["worst"]:
        assert value == pytest.approx(w[index[0]], abs=1e-12)
    assert p["symbolic"] is None  # skipped: too many entries for SymPy
    assert report["nodes"]["w"]["size"] == N  # node values too


def test_json_full_writes_nested_lists(tmp_path):
    code, report = check_json(_spec(tmp_path, N), "--json-full")
    assert code == 0
    [p] = report["params"]
    np.testing.assert_allclose(p["reverse"], _w(N), rtol=1e-12)
    assert len(report["nodes"]["w"]) == N


def test_a_tensor_of_10000_entries_stays_a_list(tmp_path):
    code, report = check_json(_spec(tmp_path, 10_000))
    assert code == 0
    [p] = report["params"]
    assert isinstance(p["reverse"], list) and len(p["reverse"]) == 10_000


def test_a_summary_counts_what_was_not_computed():
    a = np.arange(20_000, dtype=float).reshape(100, 200) - 10_000
    a[0, :50] = np.nan
    summary = report_module.summary(a)
    assert summary["computed"] == 20_000 - 50 and summary["shape"] == [100, 200]
    finite = a[np.isfinite(a)]
    assert summary["min"] == finite.min() and summary["max"] == finite.max()
    # largest magnitude first (-10,000 at [0, 0] is NaN: not computed, not shown)
    assert summary["worst"] == [[[99, 199 - k], 9999.0 - k] for k in range(5)]
    a[0, 0] = -10_000.5
    assert report_module.summary(a)["worst"][0] == [[0, 0], -10_000.5]


def test_layer_nets_summarise_every_big_tensor(tmp_path):
    path = write(tmp_path, "wide.yaml", "inputs:\n  x: {shape: [4, 200]}\n"
                                        "  y: {shape: [4, 60]}\nlayers:\n"
                                        "  - dense: {units: 60, activation: tanh}\n"
                                        "loss: squared_error\n")
    code, report = check_json(path)
    assert code == 0
    w1 = next(p for p in report["params"] if p["name"] == "W1")
    assert w1["reverse"]["shape"] == [60, 200] and w1["reverse"]["size"] == 12_000
    assert isinstance(next(p for p in report["params"] if p["name"] == "b1")["reverse"], list)
    assert report["layers"][0]["dW"]["size"] == 12_000
    assert report["layers"][0]["dW"]["norm"] == pytest.approx(w1["reverse"]["norm"])
