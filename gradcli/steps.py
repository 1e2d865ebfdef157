"""Step-by-step derivative explanations for `gradcli derive`.

The explanation walks *our* expression graph (not SymPy's tree) and names
every rule from the op table (`Op.rule`, `Op.identity`), so it reads like a
textbook: sum, product, quotient, power, chain with u-substitution, ...

Shape of the tree (plain data, `dataclasses.asdict` gives JSON):
- every dependent node gives one `Step`; subexpressions that do not depend on
  the variable are "constant" steps (derivative 0);
- a function or power applied to anything but the variable itself is a
  "chain" step: `substeps[0]` is the outer step, differentiated with respect
  to the substitution name (`var` = "u"), and `substeps[1]` is the inner
  step (d inner / d x).  `(x**2+1)**3` is therefore a "chain" step whose
  outer step is "power".
Each step's result is built by applying its rule (v*du + u*dv, ...) and then
checked against `sympy.diff`; a mismatch raises `StepCheckError` (a bug).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence

from gradcli.graph import CONST, VAR, Graph
from gradcli.ops import OPS
from gradcli.parse import parse
from gradcli.symbolic import (NAMESPACE, SymbolicTimeout, number, symbol, time_limit,
                              to_latex, to_sympy, to_text)

#: More nodes depending on the variable than this: no explanation (too long to read).
MAX_DEPENDENT_NODES = 200
#: Steps in the expanded tree (shared subexpressions count each time they are used).
MAX_STEPS = 1_000
#: Steps are checked against sympy.diff of their whole expression up to this size.
FULL_CHECK_SIZE = 40

CHAIN_IDENTITY = "dy/dx = dy/du * du/dx"
CONST_MULTIPLE_IDENTITY = "d(c*u) = c*du"
EXPONENTIAL_IDENTITY = "d(a**u) = a**u*log(a)*du"
GENERAL_POWER_IDENTITY = "d(u**v) = u**v*(log(u)*dv + v*du/u)"

_NAMED_CONSTANTS = {"pi": sp.pi, "e": sp.E}


class StepCheckError(AssertionError):
    """A step's result disagrees with sympy.diff: a bug in this module."""


@dataclass
class Step:
    rule: str  # "chain", "constant", "variable", "skipped" or an Op.rule
    var: str  # differentiated with respect to this (a substitution name for outer steps)
    expr: str  # the expression differentiated, in the expression language
    result: str  # its derivative
    identity: str | None = None  # the textbook identity applied
    substeps: list[Step] = field(default_factory=list)
    inner_name: str | None = None  # chain only: the substitution name, e.g. "u"
    inner: str | None = None  # chain only: u = inner
    outer: str | None = None  # chain only: the expression in terms of u
    d_outer: str | None = None  # chain only: dy/du, in terms of u
    d_inner: str | None = None  # chain only: du/dx
    note: str | None = None  # why a step was skipped, or why something is constant


# ------------------------------------------------------------ public API ---
def explain(graph: Graph, root: int, var_name: str, time_budget: float = 2.0) -> Step:
    """The explanation of d(root)/d(var_name); a "skipped" step when too large or slow."""
    try:
        with time_limit(time_budget):
            return _Builder(graph, root, var_name).build()
    except StepCheckError:
        raise
    except SymbolicTimeout:
        return _skipped(var_name, f"explanation skipped: SymPy needed more than "
                                  f"{time_budget:g}s")
    except RecursionError:
        return _skipped(var_name, "explanation skipped: the expression is nested too deeply")
    except Exception as exc:  # e.g. `x @ y` on scalars: no steps, the answer still prints
        return _skipped(var_name, "explanation skipped: SymPy could not build the steps "
                                  f"({type(exc).__name__})")


def substitution_view(step: Step) -> list[str] | None:
    """The u-substitution lines of the outermost chain, or None if the root is no chain."""
    if step.rule != "chain":
        return None
    y = _fresh_letter(("y", "f", "F"), step.expr, step.var)
    u, x = step.inner_name, step.var
    product = f"{_factor(step.d_outer)} * {_factor(step.d_inner)}"
    return [f"{u} = {step.inner}", f"d{u}/d{x} = {step.d_inner}",
            f"d{y}/d{u} = {step.d_outer}", f"d{y}/d{x} = {product} = {step.result}"]


def format_text(step: Step) -> str:
    """Indented tree, one line per step: `[rule] d/dx expr = result    by identity`."""
    return "\n".join("  " * d + _line(s, "[{}]", "{}") for s, d in _walk(step))


def format_markdown(step: Step) -> str:
    """Nested bullet list, formulas in backticks."""
    return "\n".join("  " * d + _line(s, "- **{}**:", "`{}`") for s, d in _walk(step))


def _line(s: Step, rule: str, code: str) -> str:
    """One step; `rule` and `code` are the formats of the rule name and of formulas."""
    if s.rule == "skipped":
        return f"{rule.format(s.rule)} {s.note}"
    line = f"{rule.format(s.rule)} {code.format(f'd/d{s.var} {s.expr} = {s.result}')}"
    if s.rule == "chain":
        line += f"    with {code.format(f'{s.inner_name} = {s.inner}')}"
    elif s.identity:
        line += f"    by {code.format(s.identity)}"
    if s.note:
        line += f"    ({s.note})"
    return line


def format_latex(step: Step) -> str:
    """`align*` rows (outermost step first, rule names as \\text{} tags), joined by \\\\."""
    rows = []
    for s, _depth in _walk(step):
        if s.rule == "skipped":
            rows.append(f"&\\text{{{_latex_escape(s.note or 'skipped')}}}")
            continue
        d = f"\\frac{{d}}{{d{_latex_of(s.var)}}}"
        tag = f"\\text{{{_latex_escape(s.rule)}}}"
        if s.rule == "chain":
            tag += f",\\ {_latex_of(s.inner_name or '')} = {_latex_of(s.inner or '')}"
        rows.append(f"{d}\\left({_latex_of(s.expr)}\\right) &= {_latex_of(s.result)} && {tag}")
    return " \\\\\n".join(rows)


# --------------------------------------------------------------- building ---
class _Builder:
    """Bottom-up over the graph's topological order (no recursion of our own)."""

    def __init__(self, graph: Graph, root: int, var_name: str):
        self.graph, self.root, self.var = graph, root, var_name
        self.x = symbol(var_name)
        self.var_id = graph.variables.get(var_name)
        self.ids = graph.ancestors(root)
        targets = {self.var_id} if self.var_id is not None else set()
        self.dep = graph.depends_on(targets, root)
        self.exprs: dict[int, Any] = {}
        self.derivs: dict[int, Any] = {}  # node -> d node / dx (SymPy)
        self.steps: dict[int, Step] = {}
        self.names: dict[str, str] = {}  # inner expression text -> substitution name
        self.texts: dict[int, str] = {}  # node -> its expression text
        self.size = self._tree_sizes()

    def build(self) -> Step:
        dependent = [i for i in self.ids if self.dep[i]]
        if len(dependent) > MAX_DEPENDENT_NODES or self.size.get(self.root, 1) > MAX_STEPS:
            return _skipped(self.var, "explanation skipped: the expression is large "
                                      f"({len(dependent)} nodes depend on {self.var})")
        for i in self.ids:
            self.exprs[i] = self._sympy(i)
        self._name_chains()
        for i in dependent:
            self.steps[i] = self._step(i)
        return self.steps[self.root] if self.dep[self.root] else self._constant(self.root)

    def _sympy(self, i: int) -> Any:
        node = self.graph.nodes[i]
        if node.op == CONST:
            if node.name in _NAMED_CONSTANTS:
                return _NAMED_CONSTANTS[node.name]
            if not isinstance(node.value, float):  # a tensor constant
                return to_sympy(self.graph, i)
            return number(node.value)
        if node.op == VAR:
            return symbol(node.name)
        return OPS[node.op].sympy(NAMESPACE, *(self.exprs[a] for a in node.args))

    def _text(self, i: int) -> str:
        if i not in self.texts:  # printing deep expressions dominates: once per node
            self.texts[i] = to_text(self.exprs[i])
        return self.texts[i]

    def _tree_sizes(self) -> dict[int, int]:
        """Steps below each dependent node, a shared node counted at each use."""
        size: dict[int, int] = {}
        for i in self.ids:
            if self.dep[i]:
                size[i] = 2 + sum(size.get(a, 1) for a in self.graph.nodes[i].args)
        return size

    def _chain_inner(self, i: int) -> int | None:
        """The argument substituted by u when node i is f(inner) with a non-trivial inner."""
        node = self.graph.nodes[i]
        if node.op in (CONST, VAR) or not OPS[node.op].elementwise:
            return None
        if node.op == "pow":
            base, ex = node.args
            arg = base if not self.dep[ex] else ex if not self.dep[base] else None
        elif OPS[node.op].arity == 1 and OPS[node.op].symbol is None:
            arg = node.args[0]
        else:
            return None
        return arg if arg is not None and self.dep[arg] and arg != self.var_id else None

    def _name_chains(self) -> None:
        """Substitution names in order of appearance, outermost first (pre-order)."""
        taken = set(self.graph.variables) | {self.var}
        stack, seen = [self.root], set()
        while stack:
            i = stack.pop()
            if i in seen or not self.dep[i]:
                continue
            seen.add(i)
            inner = self._chain_inner(i)
            if inner is not None:
                text = self._text(inner)
                if text not in self.names:
                    self.names[text] = _next_name(taken)
                    taken.add(self.names[text])
            stack.extend(reversed(self.graph.nodes[i].args))

    # -- one step per dependent node ------------------------------------
    def _step(self, i: int) -> Step:
        node = self.graph.nodes[i]
        if node.op == VAR:
            return self._finish(i, sp.S.One, Step("variable", self.var, self.var, "1",
                                                  f"d{self.var}/d{self.var} = 1"))
        op = OPS[node.op]
        if not op.elementwise:  # tensor op on scalars: shown with its identity only
            step = Step(op.rule, self.var, "", "", op.identity,
                        note="tensor operation: shown with its identity only")
            return self._finish(i, sp.diff(self.exprs[i], self.x), step)
        inner = self._chain_inner(i)
        if inner is not None:
            return self._chain(i, inner)
        handler = {"add": self._sum, "sub": self._sum, "mul": self._product,
                   "div": self._quotient, "neg": self._negation, "pow": self._power}
        return handler.get(node.op, self._function)(i)

    def _finish(self, i: int, deriv: Any, step: Step) -> Step:
        """Fill in expr/result, verify against sympy.diff, remember the derivative."""
        _check(self.exprs[i], self.x, deriv, self._expected(i))
        step.expr, step.result = self._text(i), to_text(deriv)
        self.derivs[i] = deriv
        return step

    def _expected(self, i: int) -> Any:
        """sympy.diff of node i.  Small: of the whole expression.  Large: of the node's
        own operation with its arguments as stand-in functions, then the arguments and
        their (already checked) derivatives put back -- the same derivative by
        induction, but linear instead of cubic in the depth of a deep chain."""
        node = self.graph.nodes[i]
        if self.size[i] <= FULL_CHECK_SIZE or node.op == VAR:
            return _zero_deltas(sp.diff(self.exprs[i], self.x))
        stand_ins, back = [], {}
        for k, a in enumerate(node.args):
            if not self.dep[a]:
                stand_ins.append(self.exprs[a])
                continue
            f = sp.Function(f"_arg{k}", real=True)(self.x)
            back[sp.Derivative(f, self.x)] = self.derivs[a]
            back[f] = self.exprs[a]
            stand_ins.append(f)
        local = sp.diff(OPS[node.op].sympy(NAMESPACE, *stand_ins), self.x)
        return _zero_deltas(local).xreplace(back)

    def _child(self, a: int) -> Step:
        return self.steps[a] if self.dep[a] else self._constant(a)

    def _constant(self, a: int) -> Step:
        node = self.graph.nodes[a]
        note = (f"{node.name} does not depend on {self.var}" if node.op == VAR
                else f"no {self.var} in it" if node.op != CONST else None)
        return Step("constant", self.var, self._text(a), "0",
                    f"dc/d{self.var} = 0", note=note)

    def _d(self, a: int) -> Any:
        return self.derivs.get(a, sp.S.Zero) if self.dep[a] else sp.S.Zero

    def _sum(self, i: int) -> Step:
        node = self.graph.nodes[i]
        a, b = node.args
        deriv = self._d(a) + self._d(b) if node.op == "add" else self._d(a) - self._d(b)
        op = OPS[node.op]
        return self._finish(i, deriv, Step(op.rule, self.var, "", "", op.identity,
                                           [self._child(a), self._child(b)]))

    def _product(self, i: int) -> Step:
        a, b = self.graph.nodes[i].args
        if not (self.dep[a] and self.dep[b]):
            c, f = (a, b) if not self.dep[a] else (b, a)
            return self._finish(i, self.exprs[c] * self._d(f), self._multiple(f))
        u, v = self.exprs[a], self.exprs[b]
        deriv = v * self._d(a) + u * self._d(b)
        step = Step(OPS["mul"].rule, self.var, "", "", OPS["mul"].identity,
                    [self.steps[a], self.steps[b]])
        return self._finish(i, deriv, step)

    def _quotient(self, i: int) -> Step:
        a, b = self.graph.nodes[i].args
        if not self.dep[b]:  # f/c = (1/c)*f
            return self._finish(i, self._d(a) / self.exprs[b], self._multiple(a))
        u, v = self.exprs[a], self.exprs[b]
        deriv = (v * self._d(a) - u * self._d(b)) / v**2
        step = Step(OPS["div"].rule, self.var, "", "", OPS["div"].identity,
                    [self._child(a), self._child(b)])
        return self._finish(i, deriv, step)

    def _negation(self, i: int) -> Step:
        (a,) = self.graph.nodes[i].args
        op = OPS["neg"]
        return self._finish(i, -self._d(a), Step(op.rule, self.var, "", "", op.identity,
                                                 [self.steps[a]]))

    def _multiple(self, f: int) -> Step:
        return Step("constant multiple", self.var, "", "", CONST_MULTIPLE_IDENTITY,
                    [self.steps[f]])

    def _power(self, i: int) -> Step:
        base, ex = self.graph.nodes[i].args
        if self.dep[base] and self.dep[ex]:  # u**v: logarithmic differentiation
            u, v = self.exprs[base], self.exprs[ex]
            deriv = u**v * (sp.log(u) * self._d(ex) + v * self._d(base) / u)
            return self._finish(i, deriv, Step("general power", self.var, "", "",
                                               GENERAL_POWER_IDENTITY,
                                               [self.steps[base], self.steps[ex]]))
        return self._function(i)  # x**n or a**x: the outer rule with u = x

    def _function(self, i: int) -> Step:
        """f(x) applied to the variable itself: the outer rule with u = x."""
        rule, identity, _outer, d_outer = self._outer(i, self.x)
        return self._finish(i, d_outer, Step(rule, self.var, "", "", identity))

    def _outer(self, i: int, u: Any) -> tuple[str, str, Any, Any]:
        """(rule, identity, f(u), df/du) for node i with its inner argument replaced by u."""
        node = self.graph.nodes[i]
        op = OPS[node.op]
        if node.op == "pow":
            base, ex = node.args
            if self.dep[base]:  # u**n, n constant
                n = self.exprs[ex]
                return op.rule, op.identity, u**n, n * u**(n - 1)
            a = self.exprs[base]  # a**u, a constant
            return "exponential", EXPONENTIAL_IDENTITY, a**u, a**u * sp.log(a)
        outer = op.sympy(NAMESPACE, u)
        # Step functions: derivative 0 wherever it exists (the op table's convention).
        d_outer = sp.S.Zero if op.rule == "step" else sp.diff(outer, u)
        return op.rule, op.identity, outer, d_outer

    def _chain(self, i: int, inner: int) -> Step:
        name = self.names[self._text(inner)]
        u = symbol(name)
        rule, identity, outer, d_outer = self._outer(i, u)
        _check(outer, u, d_outer)
        outer_step = Step(rule, name, to_text(outer), to_text(d_outer), identity)
        deriv = d_outer.xreplace({u: self.exprs[inner]}) * self.derivs[inner]
        inner_step = self.steps[inner]
        step = Step("chain", self.var, "", "", CHAIN_IDENTITY, [outer_step, inner_step],
                    inner_name=name, inner=inner_step.expr, outer=outer_step.expr,
                    d_outer=outer_step.result, d_inner=inner_step.result)
        return self._finish(i, deriv, step)


# --------------------------------------------------------------- checking ---
def _check(expr: Any, x: sp.Symbol, result: Any, expected: Any = None) -> None:
    """Raise StepCheckError unless `result` equals sympy.diff(expr, x) (or `expected`)."""
    if expected is None:
        expected = _zero_deltas(sp.diff(expr, x))
    if not _same(expected, result):
        raise StepCheckError(f"step check failed: d/d{x} {to_text(expr)} is "
                             f"{to_text(expected)}, the rule gave {to_text(result)}")


def _zero_deltas(e: Any) -> Any:
    """Step functions (Heaviside, sign) have derivative 0 wherever it exists."""
    if not e.has(sp.DiracDelta):
        return e
    return e.replace(lambda t: isinstance(t, sp.DiracDelta), lambda t: sp.S.Zero)


def _same(a: Any, b: Any) -> bool:
    diff = a - b
    if diff == 0:
        return True
    if sp.count_ops(diff) <= 40:  # small: exact algebra is cheap
        try:
            if sp.cancel(sp.expand(diff)) == 0:
                return True
        except (TypeError, ValueError, sp.PolynomialError):
            pass
    return _numerically_same(a, b)


def _numerically_same(a: Any, b: Any) -> bool:
    """Spot checks at fixed pseudo-random points where both sides are real and finite."""
    symbols = sorted((a - b).free_symbols, key=str)
    rng = random.Random(20240601)
    compared = 0
    for _ in range(12):
        point = {s: sp.Float(rng.choice((1, -1)) * rng.uniform(0.3, 1.7), 30) for s in symbols}
        va, vb = _value(a, point), _value(b, point)
        if va is None or vb is None:
            continue
        if abs(va - vb) > 1e-9 * (1 + abs(va) + abs(vb)):
            return False
        compared += 1
        if compared == 4:
            return True
    # Fewer points than hoped, none disagreeing; nowhere comparable (complex
    # everywhere) is inconclusive, not a failure.
    return True


def _value(e: Any, point: dict) -> float | None:
    try:
        v = complex(e.xreplace(point).evalf(20))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if v != v or abs(v.imag) > 1e-12 * (1 + abs(v.real)) or abs(v.real) == float("inf"):
        return None
    return v.real


# ---------------------------------------------------------------- helpers ---
def _skipped(var: str, reason: str) -> Step:
    return Step("skipped", var, "", "", note=reason)


def _next_name(taken: set[str]) -> str:
    """u, v, w, then u1, u2, ... skipping names already in use."""
    k = 0
    while True:
        for name in (("u", "v", "w") if k == 0 else (f"u{k}",)):
            if name not in taken:
                return name
        k += 1


def _fresh_letter(candidates: tuple[str, ...], text: str, var: str) -> str:
    names = set(re.findall(r"[A-Za-z_]\w*", text)) | {var}
    return next((c for c in candidates if c not in names), candidates[-1])


def _factor(text: str | None) -> str:
    """Parenthesise a sum or a leading minus when it becomes a factor of a product."""
    text = text or ""
    try:
        parsed = parse(text)
        low = precedence(to_sympy(parsed.graph, parsed.root)) < PRECEDENCE["Mul"]
    except Exception:  # not our language (cannot happen for our own output): be safe
        low = True
    return f"({text})" if low or text.startswith("-") else text


def _walk(step: Step) -> list[tuple[Step, int]]:
    """Pre-order (step, depth) pairs, iteratively: deep chains cannot overflow."""
    out, stack = [], [(step, 0)]
    while stack:
        s, depth = stack.pop()
        out.append((s, depth))
        stack.extend((c, depth + 1) for c in reversed(s.substeps))
    return out


def _latex_of(text: str) -> str:
    """Text in the expression language -> LaTeX (via our own parser, never eval)."""
    try:
        parsed = parse(text)
        return to_latex(to_sympy(parsed.graph, parsed.root))
    except Exception:
        return f"\\text{{{_latex_escape(text)}}}"


def _latex_escape(text: str) -> str:
    return re.sub(r"([\\{}_%$#&^~])", r"\\\1", text)
