"""Every row of the op table, checked three ways at seeded random points.

For each op: the forward against its SymPy counterpart evaluated
numerically; the VJP against SymPy's derivative (of sum(g*out) for tensor
ops); the VJP against central differences.  A new row in OPS without a
domain here fails `test_every_op_has_a_test_domain`.
"""
from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import sympy as sp

from gradcli import numeric
from gradcli.ops import CONSTANTS, FUNCTIONS, OPS, function_names
from gradcli.engine import unbroadcast
from gradcli.symbolic import NAMESPACE

POINTS = 5  # random points per scalar op

# Per elementwise op: a sampler per argument (rng -> float) inside the op's domain.
def _uniform(lo, hi):
    return lambda rng: float(rng.uniform(lo, hi))


def _away_from_zero(lo, hi):
    """|a| in [lo, hi] with a random sign: keeps kinks (at 0) out of the FD step."""
    return lambda rng: float(rng.choice([-1.0, 1.0]) * rng.uniform(lo, hi))


ANY = _uniform(-2.0, 2.0)
POSITIVE = _uniform(0.2, 3.0)
SCALAR_DOMAINS = {
    "add": (ANY, ANY),
    "sub": (ANY, ANY),
    "mul": (ANY, ANY),
    "div": (ANY, _away_from_zero(0.5, 3.0)),
    "neg": (ANY,),
    "pow": (_uniform(0.3, 2.5), _uniform(-2.5, 2.5)),
    "exp": (_uniform(-3.0, 3.0),),
    "log": (POSITIVE,),
    "sqrt": (POSITIVE,),
    "sin": (_uniform(-4.0, 4.0),),
    "cos": (_uniform(-4.0, 4.0),),
    "tan": (_uniform(-1.2, 1.2),),
    "tanh": (_uniform(-3.0, 3.0),),
    "sigmoid": (_uniform(-6.0, 6.0),),
    "relu": (_away_from_zero(0.1, 3.0),),
    "softplus": (_uniform(-6.0, 6.0),),
    "abs": (_away_from_zero(0.1, 3.0),),
    "heaviside": (_away_from_zero(0.1, 3.0),),
    "sign": (_away_from_zero(0.1, 3.0),),
}

# Per tensor op: argument shapes to try (each case is checked in full).
TENSOR_CASES = {
    "matmul": [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)),
               ((2, 2, 3), (3, 2))],
    "sum": [((2, 3),), ((4,),)],
    "mean": [((2, 3),), ((4,),)],
    "transpose": [((2, 3),), ((2, 3, 4),), ((3,),)],
    "softmax": [((2, 3),), ((4,),)],
    "log_softmax": [((2, 3),), ((4,),)],
}


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def _sym_value(expr, subs) -> float:
    value = complex(sp.N(sp.sympify(expr).xreplace(subs), 30))
    assert value.imag == 0
    return value.real


def _close(a, b, rtol=1e-10, atol=1e-12):
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                       rtol=rtol, atol=atol)


def test_every_op_has_a_test_domain():
    elementwise = {name for name, op in OPS.items() if op.elementwise}
    tensor = {name for name, op in OPS.items() if not op.elementwise}
    assert elementwise == set(SCALAR_DOMAINS)
    assert tensor == set(TENSOR_CASES)
    for name, domains in SCALAR_DOMAINS.items():
        assert len(domains) == OPS[name].arity
    for name, cases in TENSOR_CASES.items():
        assert all(len(shapes) == OPS[name].arity for shapes in cases)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_row(name):
    op = OPS[name]
    assert len(op.vjp) == op.arity
    if op.elementwise:
        _check_scalar(name, op)
        _check_elementwise_arrays(name, op)
    else:
        for shapes in TENSOR_CASES[name]:
            _check_tensor(name, op, shapes)


# ------------------------------------------------------------- scalar ops ---
def _check_scalar(name, op):
    rng = _rng(name)
    syms = [sp.Symbol(f"a{k}", real=True) for k in range(op.arity)]
    expr = op.sympy(NAMESPACE, *syms)
    derivs = [sp.diff(expr, s) for s in syms]
    for _ in range(POINTS):
        args = [sample(rng) for sample in SCALAR_DOMAINS[name]]
        subs = {s: sp.Float(repr(a), 30) for s, a in zip(syms, args)}
        out = op.forward(*args)
        assert isinstance(out, float), (name, out)
        # 1. forward vs SymPy
        assert math.isclose(out, _sym_value(expr, subs), rel_tol=1e-12, abs_tol=1e-14), \
            (name, args)
        for k in range(op.arity):
            exact = _sym_value(derivs[k], subs)
            # 2. VJP (g = 1, and a random g: linear in g) vs SymPy's derivative
            got = op.vjp[k](1.0, out, *args)
            assert math.isclose(got, exact, rel_tol=1e-10, abs_tol=1e-12), (name, k, args)
            g = float(rng.uniform(-2, 2))
            assert math.isclose(op.vjp[k](g, out, *args), g * exact,
                                rel_tol=1e-10, abs_tol=1e-12), (name, k, args, g)

            # 3. VJP vs central differences
            def f(t, k=k):
                moved = list(args)
                moved[k] = t
                return op.forward(*moved)

            fd = numeric.central_difference(f, args[k]).value
            assert math.isclose(got, fd, rel_tol=1e-6, abs_tol=1e-8), (name, k, args, fd)


def _check_elementwise_arrays(name, op):
    """The numpy path agrees with the scalar path, element by element."""
    rng = _rng(name + "/array")
    shape = (2, 3)
    arrays = [np.array([sample(rng) for _ in range(6)]).reshape(shape)
              for sample in SCALAR_DOMAINS[name]]
    out = op.forward(*arrays)
    assert isinstance(out, np.ndarray) and out.shape == shape
    g = rng.uniform(-2, 2, size=shape)
    grads = [op.vjp[k](g, out, *arrays) for k in range(op.arity)]
    syms = np.array([sp.Symbol(f"s{i}", real=True) for i in range(6)], dtype=object)
    for idx in np.ndindex(shape):
        scalars = [float(a[idx]) for a in arrays]
        s_out = op.forward(*scalars)
        assert math.isclose(out[idx], s_out, rel_tol=1e-13, abs_tol=1e-15), (name, idx)
        for k in range(op.arity):
            want = op.vjp[k](float(g[idx]), s_out, *scalars)
            assert math.isclose(np.broadcast_to(grads[k], shape)[idx], want,
                                rel_tol=1e-12, abs_tol=1e-14), (name, k, idx)
    # The SymPy form maps over object arrays too.
    sym_args = [syms.reshape(shape)] + [a for a in arrays[1:]]
    sym_out = op.sympy(NAMESPACE, *sym_args)
    assert isinstance(sym_out, np.ndarray) and sym_out.shape == shape
    subs = {s: sp.Float(repr(float(v)), 30) for s, v in zip(syms, arrays[0].flat)}
    values = np.array([_sym_value(e, subs) for e in sym_out.flat]).reshape(shape)
    assert _close(values, out, rtol=1e-12, atol=1e-14), name


# ------------------------------------------------------------- tensor ops ---
def _check_tensor(name, op, shapes):
    rng = _rng(f"{name}{shapes}")
    args = [rng.uniform(-1.5, 1.5, size=s) for s in shapes]
    out = op.forward(*args)
    out_shape = np.shape(out)
    g = float(rng.uniform(-2, 2)) if out_shape == () else rng.uniform(-2, 2, size=out_shape)

    def loss(*xs) -> float:
        return float(np.sum(np.asarray(g) * op.forward(*xs)))

    # Symbolic object arrays of the same shapes.
    sym_args = [np.array([sp.Symbol(f"a{k}_{i}", real=True) for i in range(a.size)],
                         dtype=object).reshape(a.shape) for k, a in enumerate(args)]
    subs = {s: sp.Float(repr(float(v)), 30)
            for a, sa in zip(args, sym_args) for s, v in zip(sa.flat, a.flat)}
    sym_out = op.sympy(NAMESPACE, *sym_args)

    # 1. forward vs SymPy
    if out_shape == ():
        assert isinstance(out, float)
        assert math.isclose(out, _sym_value(sym_out, subs), rel_tol=1e-12, abs_tol=1e-14)
        sym_loss = g * sym_out
    else:
        assert np.shape(sym_out) == out_shape, (name, shapes)
        values = np.array([_sym_value(e, subs) for e in np.ravel(sym_out)]).reshape(out_shape)
        assert _close(values, out, rtol=1e-12, atol=1e-14), (name, shapes)
        sym_loss = sp.Add(*(np.asarray(g, dtype=object) * sym_out).flat)

    for k, a in enumerate(args):
        vjp = unbroadcast(op.vjp[k](g, out, *args), a)
        assert np.shape(vjp) == a.shape, (name, shapes, k)
        # 2. J^T g vs SymPy diff of sum(g*out)
        exact = np.array([_sym_value(sp.diff(sym_loss, s), subs)
                          for s in sym_args[k].flat]).reshape(a.shape)
        assert _close(vjp, exact, rtol=1e-10, atol=1e-12), (name, shapes, k, vjp, exact)
        # 3. J^T g vs central differences, entry by entry
        fd = np.zeros(a.shape)
        for idx in np.ndindex(a.shape):
            def f(t, idx=idx, k=k):
                moved = [x.copy() for x in args]
                moved[k][idx] = t
                return loss(*moved)

            fd[idx] = numeric.central_difference(f, float(a[idx])).value
        assert _close(vjp, fd, rtol=1e-6, atol=1e-8), (name, shapes, k, vjp, fd)


def test_tensor_ops_on_scalars_are_consistent():
    """sum/mean/transpose of a scalar are the scalar; softmax is 1, log_softmax 0."""
    assert OPS["sum"].forward(2.5) == 2.5
    assert OPS["mean"].forward(2.5) == 2.5
    assert OPS["transpose"].forward(2.5) == 2.5
    assert OPS["softmax"].forward(2.5) == 1.0
    assert OPS["log_softmax"].forward(2.5) == 0.0
    assert OPS["sum"].vjp[0](3.0, 2.5, 2.5) == 3.0
    assert OPS["mean"].vjp[0](3.0, 2.5, 2.5) == 3.0
    assert OPS["softmax"].vjp[0](3.0, 1.0, 2.5) == 0.0
    assert OPS["log_softmax"].vjp[0](3.0, 0.0, 2.5) == 0.0
    assert OPS["matmul"].forward(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 11.0


# ------------------------------------------------------- metadata, kinks ---
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_rule_and_identity(name):
    op = OPS[name]
    assert op.name == name
    assert op.rule.strip(), name
    assert op.identity.strip(), name
    assert op.identity.lstrip().startswith("d"), op.identity
    assert "=" in op.identity, op.identity


def test_kinks_flagged_at_zero_only():
    kinked = {name for name, op in OPS.items() if op.kink is not None}
    assert kinked == {"relu", "abs", "heaviside", "sign"}
    for name in ("relu", "abs"):
        kink = OPS[name].kink
        assert kink(0.0) is True
        assert kink(-0.0) is True
        assert not kink(1e-12)
        assert not kink(-0.5)
        assert kink(np.array([1.0, 0.0, -2.0]))
        assert not kink(np.array([1.0, 3.0, -2.0]))
    # The subgradient used at the kink is 0.
    assert OPS["relu"].vjp[0](1.0, 0.0, 0.0) == 0.0
    assert OPS["abs"].vjp[0](1.0, 0.0, 0.0) == 0.0


def test_function_names_cover_the_language():
    names = set(function_names())
    for fn in ("exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu",
               "softplus", "abs", "Heaviside", "sign"):
        assert fn in names, fn
    assert FUNCTIONS["ln"] == "log"
    assert FUNCTIONS["Heaviside"] == "heaviside"
    # Infix operators are not callable by name.
    for infix in ("add", "sub", "mul", "div", "neg", "pow", "matmul"):
        assert infix not in FUNCTIONS
    assert CONSTANTS == {"pi": math.pi, "e": math.e}


def test_numerically_stable_forms():
    sig, soft = OPS["sigmoid"].forward, OPS["softplus"].forward
    assert sig(-1000.0) == 0.0 and sig(1000.0) == 1.0
    assert math.isclose(sig(-40.0), math.exp(-40.0), rel_tol=1e-12)
    assert soft(1000.0) == 1000.0
    assert math.isclose(soft(-40.0), math.exp(-40.0), rel_tol=1e-12)
    arr = np.array([-1000.0, 0.0, 1000.0])
    assert np.array_equal(sig(arr), [0.0, 0.5, 1.0])
    assert np.allclose(soft(arr), [0.0, math.log(2.0), 1000.0])
    big = np.array([1000.0, 1001.0, 1002.0])
    sm = OPS["softmax"].forward(big)
    assert np.all(np.isfinite(sm)) and math.isclose(sm.sum(), 1.0)
    assert np.allclose(OPS["log_softmax"].forward(big), np.log(sm))


def test_pow_is_real_or_raises():
    with pytest.raises(ValueError):
        OPS["pow"].forward(-8.0, 1.0 / 3.0)
    with pytest.raises(ValueError):
        OPS["log"].forward(-1.0)
    with pytest.raises(OverflowError):
        OPS["exp"].forward(1000.0)
    assert OPS["pow"].forward(-2.0, 3.0) == -8.0
    assert OPS["pow"].forward(2.0, -2.0) == 0.25


@pytest.mark.parametrize("name", [n for n, op in OPS.items() if op.keeps_finite])
def test_keeps_finite_claim_holds_at_extreme_values(name):
    # The engine skips the NaN/inf scan after these ops, so the claim must hold
    # even for the largest finite inputs.
    import numpy as np

    op = OPS[name]
    extreme = np.array([[-1e308, -700.0, -1.0, 0.0, 1.0, 700.0, 1e308]])
    args = [extreme] * op.arity
    with np.errstate(all="ignore"):  # as in the engine: intermediate overflow is allowed
        out = op.forward(*args)
    assert np.isfinite(np.asarray(out)).all()
