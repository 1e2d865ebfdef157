"""gradcli.memo: SymPy results shared by files with the same network, in one run.

A grader checks one exercise for many students; the files differ in their
answers, not in the network.  The second file must not run SymPy again, must
get the same numbers, and a file whose network or point differs must not get
the first file's results."""
from __future__ import annotations

from pathlib import Path

import pytest

from gradcli import check, memo, spec

NET = """\
inputs:
  x: 2
  y: 1
params:
  w: {w}
  b: 0.1
nodes:
  z: w*x + b
  a: sigmoid(z)
loss: 0.5*(a - y)**2
expect:
  grad.w: {answer}
"""


@pytest.fixture
def counted(monkeypatch):
    """Count the SymPy gradient computations and the edge texts actually printed."""
    from gradcli import symbolic

    memo.clear()
    calls = {"gradients": 0, "edges": 0}
    gradients, to_text = check._symbolic_gradients, symbolic.to_text

    def counting_gradients(*args, **kwargs):
        calls["gradients"] += 1
        return gradients(*args, **kwargs)

    def counting_text(*args, **kwargs):
        calls["edges"] += 1
        return to_text(*args, **kwargs)

    monkeypatch.setattr(check, "_symbolic_gradients", counting_gradients)
    monkeypatch.setattr(symbolic, "to_text", counting_text)
    with memo.session():
        yield calls


def run(tmp_path: Path, name: str, w: float = 0.5, answer: float = -0.09):
    path = tmp_path / name
    path.write_text(NET.format(w=w, answer=answer))
    return check.run(spec.load(str(path)))


def test_same_network_other_answers_reuses_sympy(tmp_path, counted):
    first = run(tmp_path, "a.yaml", answer=-0.09)
    after_first = dict(counted)
    second = run(tmp_path, "b.yaml", answer=0.5)
    assert after_first["gradients"] == 1 and after_first["edges"] > 0
    assert counted == after_first  # no SymPy work for the second file
    for p, q in zip(first.params, second.params):
        assert p.symbolic == q.symbolic and p.symbolic is not None
        assert [f.expr for c in p.chain for f in c.factors] == \
            [f.expr for c in q.chain for f in c.factors]
    assert first.expect[0].ok is False and second.expect[0].ok is False


def test_another_point_is_computed_again(tmp_path, counted):
    first = run(tmp_path, "a.yaml", w=0.5)
    second = run(tmp_path, "b.yaml", w=0.7)
    assert counted["gradients"] == 2
    sym = {p.name: p.symbolic for p in second.params}
    rev = {p.name: p.reverse for p in second.params}
    assert sym["w"] == pytest.approx(rev["w"], rel=1e-12)
    assert first.params[0].symbolic != second.params[0].symbolic


def test_outside_a_session_nothing_is_shared(tmp_path, monkeypatch):
    calls = []
    gradients = check._symbolic_gradients
    monkeypatch.setattr(check, "_symbolic_gradients",
                        lambda *a, **k: calls.append(1) or gradients(*a, **k))
    run(tmp_path, "a.yaml")
    run(tmp_path, "b.yaml")
    assert len(calls) == 2  # library calls (check.run, the pytest plugin) never share
    memo.put("k", {"v": 1.0})
    assert memo.get("k") is None


def test_a_session_forgets_when_it_ends():
    with memo.session():
        memo.put("k", {"v": 1.0})
        assert memo.get("k") == {"v": 1.0}
    with memo.session():
        assert memo.get("k") is None


def test_the_store_is_bounded():
    with memo.session():
        for i in range(memo.MAX_ENTRIES + 10):
            memo.put(("k", i), {"v": float(i)})
        assert memo.get(("k", 0)) is None
        assert memo.get(("k", memo.MAX_ENTRIES + 9)) == {"v": float(memo.MAX_ENTRIES + 9)}


def test_copies_are_returned():
    import numpy as np

    with memo.session():
        memo.put("a", {"W": np.zeros(3)})
        got = memo.get("a")
        got["W"][0] = 5.0
        assert memo.get("a")["W"][0] == 0.0


def test_the_check_command_shares_between_its_files(tmp_path, monkeypatch):
    from checkcli import cli

    calls = []
    gradients = check._symbolic_gradients
    monkeypatch.setattr(check, "_symbolic_gradients",
                        lambda *a, **k: calls.append(1) or gradients(*a, **k))
    paths = []
    for i, answer in enumerate((-0.09, -0.0936, 0.5)):
        path = tmp_path / f"s{i}.yaml"
        path.write_text(NET.format(w=0.5, answer=answer))
        paths.append(path)
    result = cli(*paths, "--json")
    assert result.exit_code == 1  # one answer of the three is wrong
    assert len(calls) == 1
