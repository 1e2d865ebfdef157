"""What a wrong `derive --answer` most likely got wrong.

Each mistake is a candidate derivative built from the expression's own
graph: the true derivative with one rule applied wrongly at one place.
With the edge contributions of `sampling` (adjoint x local partial x
tangent) each is a line of arithmetic per point:

- sign flipped: -D;
- differentiated with respect to another variable: df/dy;
- the inner derivative left out at a function or power of u (chain rule):
  D - e + e/u', where e is the edge's contribution (e = ... * u');
- power rule with the exponent not lowered (n*u**n): D + e*(u - 1), and the
  same with the inner derivative left out too;
- product rule with a term missing at u*v: D - e(u) or D - e(v);
- quotient rule with the numerator's terms swapped at u/v: D - 2*(e(u) + e(v));
- the original function given: f (after the rules: exp(x²) given for exp(x²)
  is the inner derivative 2x left out, the more useful name);
- off by a constant factor: answer/D the same at every point and a simple
  number (±1, ±2, ±1/2, an integer up to 10 or its inverse).

A candidate is named only when it equals the answer to 1e-8 (relative) at
every sample point; otherwise there is no diagnosis.  Only the winner's
message is built (with SymPy texts of u and u'), so a miss costs no SymPy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from gradcli.answers.sampling import EQUAL_RTOL, Point, Sampler, same
from gradcli.graph import VAR
from gradcli.i18n import M, Msg
from gradcli.ops import OPS

#: At most this many places in the expression are tried (each costs a few
#: multiplications per point).
MAX_SITES = 400
#: SymPy time for the winner's texts (u, u', the exponent).
TEXT_SECONDS = 1.0

#: Unary ops that are functions of an inner expression (the chain rule applies).
_FUNCTIONS = {name for name, op in OPS.items() if op.arity == 1 and op.elementwise
              and name not in ("neg", "pos")}


@dataclass
class Candidate:
    #: value and scale at a point (the scale bounds the rounding of the arithmetic)
    value: Callable[[Point], tuple[float, float]]
    describe: Callable[[], Msg]


def diagnose(sampler: Sampler, points: list[Point], order: dict | None = None) -> Msg | None:
    """The mistake that explains the answer at every point, or None."""
    texts = _Texts(sampler, order)
    for candidate in _candidates(sampler, texts):
        if _explains(candidate, points):
            return candidate.describe()
    return _constant_factor(points)


def _explains(candidate: Candidate, points: list[Point]) -> bool:
    for p in points:
        try:
            value, scale = candidate.value(p)
        except (ArithmeticError, ValueError, TypeError):
            return False
        if not same(p.given, value, scale):
            return False
    return True


def _candidates(s: Sampler, texts: "_Texts"):
    """The candidates, simplest first (a generator: the first that fits wins)."""
    yield Candidate(lambda p: (-p.truth, 0.0), lambda: M("sign flipped"))
    for other, oid in s.ids.items():
        if other != s.var:
            yield Candidate(lambda p, oid=oid: (p.grad(oid), 0.0),
                            lambda other=other: M("differentiated with respect to {other} "
                                                  "instead of {var}", other=other, var=s.var))
    sites = _sites(s)
    for i, k in sites["inner"]:
        yield _missing_inner(s, texts, i, k)
    for i in sites["power"]:
        yield from _power(s, texts, i)
    for i in sites["product"]:
        for k in (0, 1):
            yield _product_term(s, texts, i, k)
    for i in sites["quotient"]:
        yield _quotient(s, texts, i)
    # after the rules: e^(x²) for e^(x²) is the inner derivative 2x left out
    yield Candidate(lambda p: (p.values[s.root], 0.0),
                    lambda: M("the original function, not its derivative"))


def _sites(s: Sampler) -> dict[str, list]:
    """Where each rule is applied in the expression (nodes that depend on var)."""
    g = s.graph
    depends = g.depends_on({s.var_id}, s.root)
    sites: dict[str, list] = {"inner": [], "power": [], "product": [], "quotient": []}
    count = 0
    for i in g.ancestors(s.root):
        node = g.nodes[i]
        if not node.args or not depends[i] or count >= MAX_SITES:
            continue
        count += 1
        uses = [depends[a] for a in node.args]
        inner = [k for k, a in enumerate(node.args) if uses[k] and g.nodes[a].op != VAR]
        if node.op in _FUNCTIONS and inner:
            sites["inner"].append((i, 0))
        elif node.op == "pow":
            if uses[0] and not uses[1]:
                sites["power"].append(i)
                if 0 in inner:
                    sites["inner"].append((i, 0))
            elif uses[1] and not uses[0] and 1 in inner:
                sites["inner"].append((i, 1))
        elif node.op == "mul" and all(uses):
            sites["product"].append(i)
        elif node.op == "div" and uses[1]:
            sites["quotient"].append(i)
    return sites


def _missing_inner(s: Sampler, texts: "_Texts", i: int, k: int) -> Candidate:
    u = s.graph.nodes[i].args[k]

    def value(p: Point) -> tuple[float, float]:
        e = s.edge(p, i, k)
        du = s.tangent(p)[u]
        without = float(p.adjoint[i]) * s.partial(p, i, k)  # the edge with u' taken as 1
        return p.truth - e + without, max(abs(p.truth), abs(e), abs(without), abs(du))

    return Candidate(value, lambda: M("missing the inner derivative {du} of u = {u} (chain "
                                      "rule: dy/dx = dy/du · du/dx)", du=texts.derivative(u),
                                      u=texts.of(u)))


def _power(s: Sampler, texts: "_Texts", i: int):
    base, exponent = s.graph.nodes[i].args

    def not_lowered(p: Point) -> tuple[float, float]:
        e = s.edge(p, i, 0)
        return p.truth + e * (p.values[base] - 1.0), max(abs(p.truth), abs(e * p.values[base]))

    def describe() -> Msg:
        n, lower = texts.of(exponent), texts.minus_one(exponent)
        return M("power rule with the exponent not lowered: the derivative of u**{n} is "
                 "{n}*u**{lower}, not {n}*u**{n} (u = {u})", n=n, lower=lower,
                 u=texts.of(base))

    yield Candidate(not_lowered, describe)
    if s.graph.nodes[base].op == VAR:
        return

    def both(p: Point) -> tuple[float, float]:
        e = s.edge(p, i, 0)
        wrong = float(p.adjoint[i]) * s.partial(p, i, 0) * p.values[base]
        return p.truth - e + wrong, max(abs(p.truth), abs(e), abs(wrong))

    def describe_both() -> Msg:
        n = texts.of(exponent)
        return M("power rule with the exponent not lowered ({n}*u**{n} instead of "
                 "{n}*u**{lower}) and the inner derivative {du} of u = {u} left out", n=n,
                 lower=texts.minus_one(exponent), du=texts.derivative(base),
                 u=texts.of(base))

    yield Candidate(both, describe_both)


def _product_term(s: Sampler, texts: "_Texts", i: int, k: int) -> Candidate:
    left, right = s.graph.nodes[i].args
    missing = (left, right)[k]

    def value(p: Point) -> tuple[float, float]:
        e = s.edge(p, i, k)
        return p.truth - e, max(abs(p.truth), abs(e))

    return Candidate(value, lambda: M(
        "product rule with a term missing: d(u*v) = u'*v + u*v', and the term with the "
        "derivative of {missing} is left out (u = {u}, v = {v})", missing=texts.of(missing),
        u=texts.of(left), v=texts.of(right)))


def _quotient(s: Sampler, texts: "_Texts", i: int) -> Candidate:
    top, bottom = s.graph.nodes[i].args

    def value(p: Point) -> tuple[float, float]:
        e = s.edge(p, i, 0) + s.edge(p, i, 1)
        return p.truth - 2.0 * e, max(abs(p.truth), abs(e))

    return Candidate(value, lambda: M(
        "quotient rule with the numerator's terms swapped: d(u/v) = (u'*v - u*v')/v**2, "
        "not (u*v' - u'*v)/v**2 (u = {u}, v = {v})", u=texts.of(top), v=texts.of(bottom)))


def _constant_factor(points: list[Point]) -> Msg | None:
    """answer = c * derivative at every point, for a simple c (not 1)."""
    ratio = None
    for p in points:
        if p.truth == 0.0:
            if p.given != 0.0:
                return None
            continue
        r = p.given / p.truth
        if ratio is None:
            ratio = r
        elif not same(r, ratio):
            return None
    if ratio is None or abs(ratio - 1.0) <= EQUAL_RTOL:
        return None
    factor = simple_factor(ratio, EQUAL_RTOL)
    if factor is None:
        return None
    if factor == -1:
        return M("sign flipped")
    return M("off by a constant factor of {factor}", factor=str(factor))


def simple_factor(ratio: float, rtol: float):
    """The simple number (a Fraction) within `rtol` of `ratio`, or None: ±2 to ±10,
    their inverses and -1 (`mistakes.simple_factors`)."""
    from gradcli.mistakes import simple_factors

    for factor, _why in simple_factors():
        if abs(ratio - float(factor)) <= rtol * abs(float(factor)):
            return factor
    return None


class _Texts:
    """Sub-expressions of the expression as text (SymPy, bounded in time)."""

    def __init__(self, sampler: Sampler, order: dict | None):
        self.s, self.order = sampler, order

    def _sympy(self, node: int):
        from gradcli import symbolic

        return symbolic.to_sympy(self.s.graph, node)

    def _text(self, build: Callable, fallback: str) -> str:
        from gradcli import symbolic

        try:
            with symbolic.time_limit(TEXT_SECONDS):
                return symbolic.to_text(build(), self.order)
        except Exception:  # noqa: BLE001 - a name is a courtesy: never fail a diagnosis
            return fallback

    def of(self, node: int) -> str:
        return self._text(lambda: self._sympy(node), "u")

    def derivative(self, node: int) -> str:
        from gradcli import symbolic

        return self._text(lambda: symbolic.differentiate(self._sympy(node),
                                                         symbolic.symbol(self.s.var)), "u'")

    def minus_one(self, node: int) -> str:
        return self._text(lambda: self._sympy(node) - 1, "(n - 1)")
