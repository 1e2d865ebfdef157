"""Building the rule tree of d(root)/d(var) over gradcli's expression graph.

The walk is over *our* graph (not SymPy's tree), bottom-up in topological
order (no recursion of our own), and names every rule from the op table
(`Op.rule`, `Op.identity`), so it reads like a textbook.  Every dependent
node gives one `Step`; subexpressions without the variable are "constant"
steps; a function or power of anything but the variable itself is a "chain"
step whose substeps are the outer step (with respect to the substitution
name u, v, w, u1, ...) and the inner step.  Each result is built by applying
its rule and then checked against `sympy.diff` (`verify.check`).
"""
from __future__ import annotations

from typing import Any

import sympy as sp

from gradcli.graph import CONST, VAR, Graph
from gradcli.i18n import M, Msg
from gradcli.ops import OPS
from gradcli.steps import letters as L
from gradcli.steps.records import Chain, Step
from gradcli.steps.verify import StepCheckError, check
from gradcli.symbolic import (NAMESPACE, SymbolicTimeout, SymbolicTooDeep, drop_deltas,
                              number, symbol, tidy, time_limit, to_sympy)

#: More nodes depending on the variable than this: no explanation (too long to read).
MAX_DEPENDENT_NODES = 200
#: Steps in the expanded tree (shared subexpressions count each time they are used).
MAX_STEPS = 1_000
#: Steps are checked against sympy.diff of their whole expression up to this size.
FULL_CHECK_SIZE = 40

_NAMED_CONSTANTS = {"pi": sp.pi, "e": sp.E}


def explain(graph: Graph, root: int, var_name: str, time_budget: float = 2.0) -> Step:
    """The explanation of d(root)/d(var_name); a "skipped" step when too large or slow.

    StepCheckError (a rule disagreeing with SymPy: a bug) propagates.
    """
    try:
        with time_limit(time_budget):
            return _Builder(graph, root, var_name).build()
    except StepCheckError:
        raise
    except SymbolicTooDeep:
        return skipped(var_name, M("explanation skipped: the expression is nested too "
                                   "deeply"))
    except SymbolicTimeout:
        return skipped(var_name, M("explanation skipped: SymPy needed more than {seconds} s",
                                   seconds=f"{time_budget:g}"))
    except RecursionError:
        return skipped(var_name, M("explanation skipped: the expression is nested too "
                                   "deeply"))
    except Exception as exc:  # e.g. `x @ y` on scalars: no steps, the answer still prints
        return skipped(var_name, M("explanation skipped: SymPy could not build the steps "
                                   "({error})", error=type(exc).__name__))


def skipped(var: str, reason: Msg) -> Step:
    return Step("skipped", symbol(var), note=reason)


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
        self.names: dict[Any, sp.Symbol] = {}  # inner expression -> substitution symbol
        self.user_names = {graph.nodes[i].name for i in self.ids if graph.nodes[i].op == VAR}
        self.letters = L.IdentityLetters(self.user_names)
        self.size = self._tree_sizes()

    def build(self) -> Step:
        dependent = [i for i in self.ids if self.dep[i]]
        if len(dependent) > MAX_DEPENDENT_NODES or self.size.get(self.root, 1) > MAX_STEPS:
            return skipped(self.var, M("explanation skipped: the expression is large "
                                       "({count} nodes depend on {var})",
                                       count=len(dependent), var=self.var))
        for i in self.ids:
            self.exprs[i] = self._sympy(i)
        self._name_chains()
        self.letters = L.IdentityLetters(self.user_names
                                         | {s.name for s in self.names.values()})
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
        taken = self.user_names | {self.var} | L.RESERVED
        stack, seen = [self.root], set()
        while stack:
            i = stack.pop()
            if i in seen or not self.dep[i]:
                continue
            seen.add(i)
            inner = self._chain_inner(i)
            if inner is not None and self.exprs[inner] not in self.names:
                name = L.next_substitution_name(taken)
                self.names[self.exprs[inner]] = symbol(name)
                taken.add(name)
            stack.extend(reversed(self.graph.nodes[i].args))

    def _identity(self, identity: str, own: str | None = None) -> str:
        return self.letters.rename(L.split_identity(identity), self.var, own)

    # -- one step per dependent node ------------------------------------
    def _step(self, i: int) -> Step:
        node = self.graph.nodes[i]
        if node.op == VAR:
            return self._finish(i, sp.S.One, Step("variable", self.x,
                                                  identity=self._identity(L.VARIABLE_IDENTITY)))
        op = OPS[node.op]
        if not op.elementwise:  # tensor op on scalars: shown with its identity only
            step = Step(op.rule, self.x, identity=self._identity(op.identity),
                        note=M("tensor operation: shown with its identity only"))
            return self._finish(i, sp.diff(self.exprs[i], self.x), step)
        inner = self._chain_inner(i)
        if inner is not None:
            return self._chain(i, inner)
        handler = {"add": self._sum, "sub": self._sum, "mul": self._product,
                   "div": self._quotient, "neg": self._negation, "pow": self._power}
        return handler.get(node.op, self._function)(i)

    def _finish(self, i: int, deriv: Any, step: Step) -> Step:
        """Fill in expr/result, verify against sympy.diff, remember the derivative."""
        deriv = tidy(deriv)
        check(self.exprs[i], self.x, deriv, self._expected(i))
        step.expr, step.result = self.exprs[i], deriv
        self.derivs[i] = deriv
        return step

    def _expected(self, i: int) -> Any:
        """sympy.diff of node i.  Small: of the whole expression.  Large: of the node's
        own operation with its arguments as stand-in functions, then the arguments and
        their (already checked) derivatives put back -- the same derivative by
        induction, but linear instead of cubic in the depth of a deep chain."""
        node = self.graph.nodes[i]
        if self.size[i] <= FULL_CHECK_SIZE or node.op == VAR:
            return drop_deltas(sp.diff(self.exprs[i], self.x))[0]
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
        return drop_deltas(local)[0].xreplace(back)

    def _child(self, a: int) -> Step:
        return self.steps[a] if self.dep[a] else self._constant(a)

    def _constant(self, a: int) -> Step:
        node = self.graph.nodes[a]
        note = (M("{name} does not depend on {var}", name=node.name, var=self.var)
                if node.op == VAR else M("no {var} in it", var=self.var)
                if node.op != CONST else None)
        return Step("constant", self.x, self.exprs.get(a, sp.S.Zero), sp.S.Zero,
                    self._identity(L.CONSTANT_IDENTITY), note=note)

    def _d(self, a: int) -> Any:
        return self.derivs.get(a, sp.S.Zero) if self.dep[a] else sp.S.Zero

    def _sum(self, i: int) -> Step:
        node = self.graph.nodes[i]
        a, b = node.args
        deriv = self._d(a) + self._d(b) if node.op == "add" else self._d(a) - self._d(b)
        op = OPS[node.op]
        return self._finish(i, deriv, Step(op.rule, self.x, identity=self._identity(op.identity),
                                           substeps=[self._child(a), self._child(b)]))

    def _product(self, i: int) -> Step:
        a, b = self.graph.nodes[i].args
        if not (self.dep[a] and self.dep[b]):
            c, f = (a, b) if not self.dep[a] else (b, a)
            return self._finish(i, self.exprs[c] * self._d(f), self._multiple(f, self.exprs[c]))
        u, v = self.exprs[a], self.exprs[b]
        deriv = v * self._d(a) + u * self._d(b)
        step = Step(OPS["mul"].rule, self.x, identity=self._identity(OPS["mul"].identity),
                    substeps=[self.steps[a], self.steps[b]])
        return self._finish(i, deriv, step)

    def _quotient(self, i: int) -> Step:
        a, b = self.graph.nodes[i].args
        if not self.dep[b]:  # f/c = (1/c)*f
            c = self.exprs[b]
            return self._finish(i, self._d(a) / c, self._multiple(a, 1 / c))
        u, v = self.exprs[a], self.exprs[b]
        deriv = (v * self._d(a) - u * self._d(b)) / v**2
        step = Step(OPS["div"].rule, self.x, identity=self._identity(OPS["div"].identity),
                    substeps=[self._child(a), self._child(b)])
        return self._finish(i, deriv, step)

    def _negation(self, i: int) -> Step:
        (a,) = self.graph.nodes[i].args
        op = OPS["neg"]
        return self._finish(i, -self._d(a), Step(op.rule, self.x,
                                                 identity=self._identity(op.identity),
                                                 substeps=[self.steps[a]], factor=sp.S.NegativeOne))

    def _multiple(self, f: int, factor: Any) -> Step:
        return Step("constant multiple", self.x,
                    identity=self._identity(L.CONST_MULTIPLE_IDENTITY),
                    substeps=[self.steps[f]], factor=factor)

    def _power(self, i: int) -> Step:
        base, ex = self.graph.nodes[i].args
        if self.dep[base] and self.dep[ex]:  # u**v: logarithmic differentiation
            u, v = self.exprs[base], self.exprs[ex]
            deriv = u**v * (sp.log(u) * self._d(ex) + v * self._d(base) / u)
            return self._finish(i, deriv, Step("general power", self.x,
                                               identity=self._identity(L.GENERAL_POWER_IDENTITY),
                                               substeps=[self.steps[base], self.steps[ex]]))
        return self._function(i)  # x**n or a**x: the outer rule with u = x

    def _function(self, i: int) -> Step:
        """f(x) applied to the variable itself: the outer rule with u = x."""
        rule, identity, _outer, d_outer = self._outer(i, self.x)
        return self._finish(i, d_outer, Step(rule, self.x, identity=self._identity(identity),
                                             note=self._exception_note(i, self.var)))

    def _outer(self, i: int, u: Any) -> tuple[str, str, Any, Any]:
        """(rule, identity, f(u), df/du) for node i with its inner argument replaced by u."""
        node = self.graph.nodes[i]
        op = OPS[node.op]
        if node.op == "pow":
            base, ex = node.args
            if self.dep[base]:  # u**n, n constant
                n = self.exprs[ex]
                return op.rule, op.identity, u**n, n * u**(n - 1)
            a = self.exprs[base]
            if a == sp.E:  # e**u is exp(u), whether written e**u, e^u or exp(u)
                return OPS["exp"].rule, OPS["exp"].identity, sp.exp(u), sp.exp(u)
            return "exponential", L.EXPONENTIAL_IDENTITY, a**u, a**u * sp.log(a)
        outer = op.sympy(NAMESPACE, u)
        # Step functions: derivative 0 wherever it exists (the op table's convention).
        d_outer = sp.S.Zero if op.rule == "step" else sp.diff(outer, u)
        return op.rule, op.identity, outer, d_outer

    def _exception_note(self, i: int, letter: str) -> Msg | None:
        """Where the op's rule has an exception: relu/abs at 0, the step functions."""
        op = OPS.get(self.graph.nodes[i].op)
        if op is None or op.kink is None:
            return None
        if op.rule == "step":
            return M("undefined at {u} = 0", u=letter)
        return M("taken as 0 at {u} = 0", u=letter)

    def _chain(self, i: int, inner: int) -> Step:
        u = self.names[self.exprs[inner]]
        rule, identity, outer, d_outer = self._outer(i, u)
        check(outer, u, d_outer)
        outer_step = Step(rule, u, outer, d_outer, self._identity_for(identity, u.name),
                          note=self._exception_note(i, u.name))
        deriv = d_outer.xreplace({u: self.exprs[inner]}) * self.derivs[inner]
        step = Step("chain", self.x, identity=self._identity(L.CHAIN_IDENTITY, own=u.name),
                    substeps=[outer_step, self.steps[inner]],
                    chain=Chain(u, self.exprs[inner], outer, d_outer, self.derivs[inner]))
        return self._finish(i, deriv, step)

    def _identity_for(self, identity: str, own: str) -> str:
        """An outer step's identity, written in the step's own variable (d(u**n) = ...)."""
        return self.letters.rename(L.split_identity(identity), own, own)
