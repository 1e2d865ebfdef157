"""Costs that were quadratic are linear (or N log N): the work is counted, not timed.

Each test runs the same job at size n and 2n and compares the lines of
gradcli's code executed (tests/workcount.py): about 2x for linear work, 4x for
quadratic.  bench/bench_scaling.py measures the same jobs in seconds.
"""
from __future__ import annotations

import pytest

from bigspecs import balanced_sum, chain, scalar_sum_chain, scalar_tree
from gradcli import check, engine, ledger, numeric, spec
from gradcli.derive import derive
from workcount import growth, lines_run


def _load(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return spec.load(str(path))


def test_loading_a_chain_of_named_nodes_is_linear(tmp_path):
    # each node's expression was parsed with every name of the file re-normalised
    def job(n):
        path = tmp_path / f"chain{n}.yaml"
        path.write_text(chain(n))
        return lambda: spec.load(str(path))

    assert growth(job, 300) < 2.3


def test_the_ledger_of_a_chain_of_named_nodes_is_linear(tmp_path):
    # edge_values asked each node's local partials with the set of all names as
    # leaves and scanned that whole set every time (16.8 s at 20,000 nodes)
    specs = {n: _load(tmp_path, f"c{n}.yaml", chain(n)) for n in (300, 600)}

    def job(n):
        s = specs[n]
        return lambda: check.run(s, symbolic=False)

    ratio = growth(job, 300)
    assert ratio < 2.3
    report = check.run(specs[300], symbolic=False)
    assert report.ok and len(report.recurrence) == 300
    [w] = report.params
    assert len(w.chain) == 1 and len(w.chain[0].factors) == 300  # the one path, listed


def test_numeric_differences_of_many_scalar_parameters_are_n_log_n(tmp_path):
    # depends_on() walked the whole graph once per parameter: 5,000 parameters hung
    specs = {p: _load(tmp_path, f"t{p}.yaml", scalar_tree(p)) for p in (150, 300)}

    def job(p):
        s = specs[p]
        values = engine.forward(s.graph, s.bindings, s.loss)
        return lambda: numeric.graph_gradients(s.graph, values, s.params, s.loss)

    assert growth(job, 150) < 2.6


@pytest.mark.parametrize("make, p", [(scalar_tree, 64), (scalar_sum_chain, 40), (chain, 50)])
def test_the_work_estimate_is_the_work_done(tmp_path, make, p):
    """budget.numeric_work counts exactly the node evaluations the differences make."""
    from gradcli import budget

    s = _load(tmp_path, "f.yaml", make(p))
    values = engine.forward(s.graph, s.bindings, s.loss)
    found = numeric.graph_gradients(s.graph, values, s.params, s.loss)
    shapes = budget.infer_shapes(s.graph, s.bindings, s.loss)
    work = budget.numeric_work(s.graph, budget.node_costs(s.graph, shapes),
                               {nid: 1 for nid in s.params.values()}, s.loss)
    assert work.evaluations == found.evaluations
    # and it is what the graph says: each parameter's dependents, 4 evaluations each
    users = s.graph.consumers(s.loss)
    deps = sum(len(s.graph.dependents(nid, users)) for nid in s.params.values())
    assert found.evaluations == budget.EVALUATIONS * deps
    assert work.entries == len(s.params)


def test_listing_chain_rule_paths_is_bounded(tmp_path, monkeypatch):
    # a sum chain of p parameters has paths of length ~p each: listing them all
    # was p^2/2 factors (1.7 GB for 2,500 parameters); past the cap they are counted
    monkeypatch.setattr(ledger, "MAX_LISTED_FACTORS", 200)
    specs = {p: _load(tmp_path, f"s{p}.yaml", scalar_sum_chain(p)) for p in (150, 300)}

    reports = {p: check.run(s, symbolic=False) for p, s in specs.items()}

    def job(p):
        s, report = specs[p], reports[p]
        values = engine.forward(s.graph, s.bindings, s.loss)
        back = engine.backward(s.graph, values, s.loss, list(s.params.values()))

        def attach():
            for param in report.params:
                param.chain = []
            ledger.attach(s, values, back, report, symbolic=False)
        return attach

    assert growth(job, 150) < 2.3
    report = reports[150]
    listed = sum(len(path.factors) for p in report.params for path in p.chain)
    assert 0 < listed <= 200
    assert all(p.paths_total == 1 and p.ok for p in report.params)


def test_paths_are_found_from_the_target_in_the_order_of_a_walk_from_the_root():
    uses = {"L": ["a", "b"], "a": ["w", "c"], "b": ["w", "c"], "c": ["w"], "w": []}
    found = ledger.paths("L", "w", uses)
    assert found == [["L", "a", "w"], ["L", "a", "c", "w"], ["L", "b", "w"],
                     ["L", "b", "c", "w"]]
    assert ledger.paths("L", "w", uses, limit=5) is None  # 9 edges in all
    assert ledger.paths("L", "zzz", uses) == []


def test_derive_values_over_many_variables_are_n_log_n():
    # _engine_results ran 4 whole forward passes per variable and _fill_values made a
    # SymPy symbol per variable per variable (800 variables: 40 s)
    def job(v):
        text = balanced_sum([f"sin(v{i})" for i in range(v)])
        at = {f"v{i}": 0.1 + 0.01 * i for i in range(v)}
        return lambda: derive(text, at=at, steps=False, substitution=False, time_budget=0)

    assert growth(job, 40) < 2.6


def test_derive_replays_only_the_dependents_of_each_variable(monkeypatch):
    v = 30
    text = "*".join(f"sin(v{i})" for i in range(v))
    at = {f"v{i}": 0.5 + 0.01 * i for i in range(v)}
    calls = []
    original = engine.Replay.__call__

    def counted(self, changed):
        calls.append(len(self.plan))
        return original(self, changed)

    monkeypatch.setattr(engine.Replay, "__call__", counted)
    report = derive(text, at=at, steps=False, substitution=False, time_budget=0)
    assert report.ok and len(report.gradient) == v
    # v_k feeds sin(v_k) and the products from there on: 2 + (v - 1 - k) nodes, except
    # v_0, which enters the first product with v_1: 1 + (v - 1)
    expected = [v] + [2 + (v - 1 - k) for k in range(1, v)]
    assert sorted(calls) == sorted(n for n in expected for _ in range(4))
    by_name = {row.wrt: row for row in report.gradient}
    import math
    for k in (0, 7, 29):
        product = math.prod(math.sin(at[f"v{i}"]) for i in range(v) if i != k)
        assert by_name[f"v{k}"].reverse == pytest.approx(
            math.cos(at[f"v{k}"]) * product, rel=1e-12)
        assert by_name[f"v{k}"].numeric == pytest.approx(by_name[f"v{k}"].reverse, rel=1e-7)
