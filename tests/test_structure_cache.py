"""Symbolic work once per structure (structure_cache): same-shaped files share one
SymPy gradient, one compiled evaluator, one parse of their expressions and one
set of ledger texts, and every result equals the one computed from scratch."""
from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import sympy as sp

from gradcli import check, structure_cache
from gradcli import spec as specs
from gradcli.errors import GradcliError
from gradcli.i18n import M

ROOT = Path(__file__).resolve().parent.parent


def net_121(values: dict[str, float]) -> str:
    """The 1-2-1 sigmoid network of the worked example, with other numbers."""
    v = {"x": 2, "y": 1, "w1": 0.5, "w2": 0.6, "w3": 0.8, "w4": 0.9, "b1": 0.1, "b2": 0.2,
         "b3": 0.3, **values}
    return (f"inputs:\n  x: {v['x']}\n  y: {v['y']}\n"
            "params:\n" + "".join(f"  {k}: {v[k]}\n" for k in
                                  ("w1", "w2", "w3", "w4", "b1", "b2", "b3")) +
            "nodes:\n  z_h1: w1*x + b1\n  a_h1: sigmoid(z_h1)\n  z_h2: w2*x + b2\n"
            "  a_h2: sigmoid(z_h2)\n  z_out: w3*a_h1 + w4*a_h2 + b3\n  yhat: sigmoid(z_out)\n"
            "loss: 0.5*(y - yhat)**2\nexpect:\n  yhat: 0.8\n  grad:\n    w3: -0.017\n")


def tanh_net(w: float, b: float, x: float) -> str:
    return (f"inputs:\n  x: {x}\n  y: 0.5\nparams:\n  w: {w}\n  b: {b}\n  v: 1.5\n"
            "nodes:\n  h: tanh(w*x + b)\n  yhat: v*h\nloss: (yhat - y)**2\n")


def softmax_net(rng: random.Random) -> str:
    def row(n):
        return "[" + ", ".join(f"{rng.uniform(-1, 1):.3f}" for _ in range(n)) + "]"
    return (f"inputs:\n  x: [{row(2)}, {row(2)}, {row(2)}]\n  y: [[1, 0], [0, 1], [1, 0]]\n"
            f"params:\n  W: [{row(2)}, {row(2)}]\n  b: {row(2)}\n"
            "nodes:\n  z: x @ transpose(W) + b\nloss: -sum(y*log_softmax(z))/3\n")


def layer_net(seed: int) -> str:
    return (f"inputs:\n  x: [[1.0, 2.0], [0.5, -1.0]]\n  y: [[0.8], [0.1]]\nseed: {seed}\n"
            "layers:\n  - dense: {units: 3, activation: tanh}\n"
            "  - dense: {units: 1, activation: sigmoid}\nloss: half_squared_error\n")


def write_all(tmp_path: Path, texts: list[str]) -> list[str]:
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"s{i:02d}.yaml"
        path.write_text(text)
        paths.append(str(path))
    return paths


def run_all(paths: list[str], cached: bool):
    if not cached:
        return [check.run(specs.load(p)) for p in paths], None
    with structure_cache.scope() as cache:
        return [check.run(specs.load(p)) for p in paths], cache


def assert_same(fresh, shared) -> None:
    """Equal reports; symbolic values to 1e-11 (the evaluator's promise)."""
    a, b = fresh.to_json(), shared.to_json()
    for pa, pb in zip(a["params"], b["params"]):
        sa, sb = pa.pop("symbolic"), pb.pop("symbolic")
        ra, rb = pa.pop("rel_error"), pb.pop("rel_error")
        flat_a = [sa] if not isinstance(sa, list) else list(_flatten(sa))
        flat_b = [sb] if not isinstance(sb, list) else list(_flatten(sb))
        assert len(flat_a) == len(flat_b)
        for u, v in zip(flat_a, flat_b):
            assert (u is None) == (v is None)
            if u is not None:
                assert abs(u - v) <= 1e-11 * abs(u) + 1e-300, (pa["name"], u, v)
        assert ra == pytest.approx(rb, rel=1e-6, abs=1e-14)
    assert a == b


def _flatten(nested):
    stack = [nested]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            yield item


def test_cached_equals_uncached_on_varied_files(tmp_path):
    rng = random.Random(7)
    texts = []
    for k in range(4):
        texts.append(net_121({n: round(rng.uniform(-2, 2), 3) for n in
                              ("x", "w1", "w2", "w3", "w4", "b1", "b2", "b3")}))
        texts.append(tanh_net(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-2, 2)))
        texts.append(softmax_net(rng))
        texts.append(layer_net(k))
    paths = write_all(tmp_path, texts)
    fresh, _ = run_all(paths, cached=False)
    shared, cache = run_all(paths, cached=True)
    for a, b in zip(fresh, shared):
        assert_same(a, b)
    # four structures, each differentiated once; every file evaluated from its program
    assert cache.stats.structures == 4
    assert cache.stats.reused == 16 and cache.stats.alone == 0
    # the graph-form expressions parsed once per structure (layers are built, not parsed)
    assert cache.stats.graphs == 3 and cache.stats.graphs_reused == 9
    # the symbolic column really is the SymPy derivative at each file's own point
    first = shared[0]
    w3 = next(p for p in first.params if p.name == "w3")
    assert w3.symbolic == pytest.approx(w3.reverse, rel=1e-9)
    assert shared[4].params[0].symbolic != shared[0].params[0].symbolic


def test_the_worked_example_keeps_its_numbers(tmp_path):
    [path] = write_all(tmp_path, [(ROOT / "specs" / "sigmoid_121.yaml").read_text()])
    [report], _ = run_all([path], cached=True)
    w3 = next(p for p in report.params if p.name == "w3")
    assert w3.symbolic == pytest.approx(-0.01704, abs=5e-6)
    assert report.ok


def _count_diffs(monkeypatch) -> list[int]:
    """Derivatives gradcli asks SymPy for (SymPy's own inner diff calls not counted)."""
    calls = [0]
    depth = [0]
    original = sp.Expr.diff

    def counted(self, *args, **kwargs):
        calls[0] += depth[0] == 0
        depth[0] += 1
        try:
            return original(self, *args, **kwargs)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(sp.Expr, "diff", counted)
    return calls


def test_sympy_work_does_not_grow_with_the_number_of_files(tmp_path, monkeypatch):
    rng = random.Random(3)
    paths = write_all(tmp_path, [net_121({"x": round(rng.uniform(-2, 2), 2),
                                          "w1": round(rng.uniform(-2, 2), 2)})
                                 for _ in range(12)])
    calls = _count_diffs(monkeypatch)
    run_all(paths[:1], cached=True)
    one = calls[0]
    calls[0] = 0
    run_all(paths, cached=True)
    assert calls[0] == one > 0
    # without the cache every file is differentiated again
    calls[0] = 0
    run_all(paths[:1], cached=False)
    alone = calls[0]
    calls[0] = 0
    run_all(paths, cached=False)
    assert calls[0] == 12 * alone


@pytest.mark.parametrize("text, why", [
    # w*x - 0.1 at w = 1, x = 0.1: the relu kink sits within float rounding
    ("inputs:\n  x: 0.1\nparams:\n  w: 1\nnodes:\n  a: relu(w*x - 0.1)\n"
     "loss: (a + w)**2\n", "kink"),
    # a saturated sigmoid: its slope s*(1 - s) cancels in floats
    ("inputs:\n  x: 40\nparams:\n  w: 1\nnodes:\n  a: sigmoid(w*x)\nloss: a\n", "saturated"),
])
def test_where_floats_cannot_promise_sympy_decides(tmp_path, text, why):
    paths = write_all(tmp_path, [text])
    [fresh], _ = run_all(paths, cached=False)
    [shared], cache = run_all(paths, cached=True)
    assert cache.stats.alone == 1 and cache.stats.reused == 0
    # computed exactly as without the cache
    assert [p.symbolic for p in shared.params] == [p.symbolic for p in fresh.params]
    assert fresh.to_json() == shared.to_json()


def test_a_structure_the_evaluator_cannot_read_is_computed_file_by_file(tmp_path):
    # d/dw Heaviside(w - 1) is DiracDelta(w - 1): outside the compiled language
    texts = [f"params:\n  w: {w}\nnodes:\n  a: Heaviside(w - 1)*w\nloss: a\n"
             for w in (2.0, 3.0, 0.5)]
    paths = write_all(tmp_path, texts)
    fresh, _ = run_all(paths, cached=False)
    shared, cache = run_all(paths, cached=True)
    assert cache.stats.structures == 1 and cache.stats.alone == 3
    for a, b in zip(fresh, shared):
        assert a.to_json() == b.to_json()
    assert [r.params[0].symbolic for r in shared] == [1.0, 1.0, 0.0]


def test_a_slow_structure_spends_the_budget_at_most_twice(tmp_path, monkeypatch):
    from gradcli import symbolic

    def too_slow(spec):
        raise symbolic.SymbolicTimeout()

    alone = []

    def slow_alone(spec, budget):
        alone.append(spec.file)
        return {}, M("skipped: SymPy took longer than the {budget:g} s budget", budget=budget)

    monkeypatch.setattr(structure_cache, "_compiled", too_slow)
    monkeypatch.setattr(check, "symbolic_now", slow_alone)
    paths = write_all(tmp_path, [net_121({"x": k}) for k in range(5)])
    reports, cache = run_all(paths, cached=True)
    notes = [str(r.symbolic_note) for r in reports]
    assert notes == ["skipped: SymPy took longer than the 10 s budget"] * 5
    assert alone == paths[1:2]  # tried on its own once, then the note is kept
    assert all(p.symbolic is None for r in reports for p in r.params)


def test_errors_are_located_in_each_file(tmp_path):
    good = "inputs:\n  x: 2\nparams:\n  w: 1\nnodes:\n  a: log(w*x)\nloss: a\n"
    # the same structure, two lines lower, with a value whose log is undefined
    bad = "# a comment\n# another\ninputs:\n  x: -2\nparams:\n  w: 1\nnodes:\n" \
          "  a: log(w*x)\nloss: a\n"
    paths = write_all(tmp_path, [good, bad])
    with pytest.raises(GradcliError) as alone:
        check.run(specs.load(paths[1]))
    with structure_cache.scope() as cache:
        check.run(specs.load(paths[0]))
        with pytest.raises(GradcliError) as shared:
            check.run(specs.load(paths[1]))
    assert cache.stats.graphs_reused == 1
    assert shared.value.line() == alone.value.line()
    assert f"{paths[1]}:8:6:" in shared.value.line()


def test_different_expressions_are_different_structures(tmp_path):
    paths = write_all(tmp_path, [
        "params:\n  w: 2\nnodes:\n  a: w*w\nloss: a\n",
        "params:\n  w: 2\nnodes:\n  a: w*w*w\nloss: a\n",
        "params:\n  w: 2\nnodes:\n  a: w * w\nloss: a\n",  # spacing: the same graph
        "params:\n  w: [2, 3]\nnodes:\n  a: sum(w*w)\nloss: a\n",
    ])
    reports, cache = run_all(paths, cached=True)
    assert [r.params[0].symbolic for r in reports[:3]] == [4.0, 12.0, 4.0]
    assert list(reports[3].params[0].symbolic) == [4.0, 6.0]
    assert cache.stats.structures == 3


def test_the_environment_switch_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv(structure_cache.ENV_SWITCH, "0")
    paths = write_all(tmp_path, [net_121({}), net_121({"x": 1})])
    with structure_cache.scope() as cache:
        assert cache is None and structure_cache.active() is None
        reports = [check.run(specs.load(p)) for p in paths]
    fresh, _ = run_all(paths, cached=False)
    assert [r.to_json() for r in reports] == [r.to_json() for r in fresh]


def test_no_cache_outside_a_scope():
    assert structure_cache.active() is None
    with structure_cache.scope() as outer:
        assert structure_cache.active() is outer
        with structure_cache.scope() as inner:
            assert structure_cache.active() is inner
        assert structure_cache.active() is outer
    assert structure_cache.active() is None
    assert math.isfinite(structure_cache.MAX_ENTRIES)


def test_the_budget_estimate_is_made_once_per_structure_shapes_and_budget(tmp_path,
                                                                          monkeypatch):
    from gradcli.budget import BASE_MEMORY, Budget
    from gradcli.errors import LimitError
    from gradcli.spec import budgets

    estimates = []
    original = budgets._check_graph
    monkeypatch.setattr(budgets, "_check_graph",
                        lambda spec, budget: (estimates.append(spec.file),
                                              original(spec, budget)))

    def tensor_net(n: int, w: float) -> str:
        return (f"inputs:\n  x: [{', '.join(['1.5'] * n)}]\nparams:\n  w: {w}\n"
                "loss: sum(w*x)\n")
    paths = write_all(tmp_path, [tensor_net(3, 0.5), tensor_net(3, 0.7), tensor_net(3, 0.9),
                                 tensor_net(4, 0.5), tensor_net(200_000, 0.5)])
    tiny = Budget(memory=BASE_MEMORY + 2_000_000)  # a few megabytes for the file
    with structure_cache.scope():
        for path in paths[:4]:
            specs.load(path)
        assert estimates == [paths[0], paths[3]]  # a new shape is estimated again
        specs.load(paths[1], tiny)  # ... and so is another budget
        assert estimates[-1] == paths[1]
        with pytest.raises(LimitError):  # the big one is refused, in a scope as outside
            specs.load(paths[4], tiny)
        with pytest.raises(LimitError):  # refusals are never remembered as passed
            specs.load(paths[4], tiny)
    assert len(estimates) == 5


def test_questions_about_a_structure_are_answered_once_and_only_for_its_own_nodes(
        tmp_path, monkeypatch):
    from gradcli.graph import Graph

    asked = []
    original = Graph._depends_on
    monkeypatch.setattr(Graph, "_depends_on", lambda self, targets, last: (
        asked.append((frozenset(targets), last)), original(self, targets, last))[1])
    paths = write_all(tmp_path, [net_121({"x": x}) for x in (0.5, 1.5, 2.5)])
    with structure_cache.scope():
        loaded = [specs.load(p) for p in paths]
        for spec in loaded:
            check.run(spec)
        per_file = len(asked)
        assert per_file and len(set(asked)) == per_file  # no question asked twice
        first = [spec.graph.depends_on({spec.params["w3"]}, spec.loss) for spec in loaded]
        assert len(asked) == per_file  # the files' questions were answered for the first
        assert first[0] == first[2] == Graph._depends_on(loaded[2].graph,
                                                        {loaded[2].params["w3"]},
                                                        loaded[2].loss + 1)
        # a node added after parsing (an answer's formula, say) is this file's own
        g = loaded[1].graph
        extra = g.apply("mul", loaded[1].params["w3"], loaded[1].params["w3"])
        asked.clear()
        flags = g.depends_on({loaded[1].params["w3"]}, extra)
        assert flags[extra] == 1 and len(asked) == 1
        assert len(loaded[0].graph) == extra  # the other files' graphs are untouched


def test_the_structures_remembered_are_bounded_in_graph_nodes(tmp_path, monkeypatch):
    monkeypatch.setattr(structure_cache, "MAX_NODES", 100)

    def chain(k: int, n: int) -> str:  # a structure of about 2n nodes, named apart by k
        nodes = "".join(f"  h{i}: tanh(w*h{i - 1})\n" for i in range(1, n))
        return f"inputs:\n  h0: 0.5\nparams:\n  w{k}: 0.3\n  w: 0.7\nnodes:\n{nodes}" \
               f"loss: h{n - 1}**2 + w{k}**2\n"
    paths = write_all(tmp_path, [chain(k, 20) for k in range(5)] + [chain(0, 20)])
    with structure_cache.scope() as cache:
        for path in paths:
            check.run(specs.load(path))
        for table in (cache._graphs, cache._texts):  # 46 nodes a structure: two fit
            assert len(table) == 2 and table.weight == 92
        # a compiled gradient weighs its program too (185 here): the newest is kept alone
        assert len(cache._entries) == 1 and cache._entries.weight > 100
        # the first structure was forgotten, so its second file was parsed again
        assert cache.stats.graphs == 6 and cache.stats.graphs_reused == 0
    with structure_cache.scope() as cache:  # within the bound, it is remembered
        for path in paths[:1] + paths[-1:]:
            check.run(specs.load(path))
        assert cache.stats.graphs == 1 and cache.stats.graphs_reused == 1
