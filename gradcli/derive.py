"""`gradcli derive` as a library call: expression text in, DeriveReport out.

The derivative comes three ways: SymPy (from the op table's SymPy forms),
the reverse-mode engine and central differences, compared pairwise.  One
time budget covers all SymPy work -- conversion, differentiation,
simplification, printing, steps and evaluation, for every variable --
and past it the symbolic parts are skipped with the reason; the numbers
still come.  A derivative that is undefined at the point for one variable
(while the function is defined there) is reported for that variable alone.
"""
from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from gradcli import engine, numeric, verdict
from gradcli.errors import ExpressionError, GradcliError, NonFiniteError
from gradcli.graph import Graph
from gradcli.i18n import M, Msg
from gradcli.parse import caret_detail, parse
from gradcli.report import DerivativeRow, DeriveReport

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9


def natural_key(name: str) -> list:
    """Sort key putting w2 before w10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def parse_bindings(items: list[str], option: str = "--at") -> dict[str, float]:
    """`x=1`, `x=1,y=2` (values may be constant expressions such as pi/4)."""
    bindings: dict[str, float] = {}
    for item in items:
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            name, sep, text = part.partition("=")
            name, text = name.strip(), text.strip()
            if not sep or not name or not text:
                raise GradcliError(M("expected NAME=VALUE, got '{part}'", part=part), option)
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                raise GradcliError(M("'{name}' is not a variable name", name=name), option)
            value = constant_value(text, f"{option} {name}")
            if name in bindings and bindings[name] != value:  # the same value twice is fine
                raise GradcliError(M("'{name}' is given two different values ({first} and "
                                     "{second})", name=name, first=_num(bindings[name]),
                                     second=_num(value)), option)
            bindings[name] = value
    return bindings


def constant_value(text: str, where: str) -> float:
    """The value of a constant expression (a number, pi/4, 2**-3), finite only."""
    lowered = text.strip().lower()
    if lowered in {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"}:
        raise NonFiniteError(M("value must be finite, got '{text}'", text=text), where)

    def no_names(name: str, col: int) -> int:
        raise GradcliError(M("value must be a number, got '{text}'", text=text), where)

    parsed = parse(text, resolve=no_names, where=where)
    try:
        return engine.forward(parsed.graph, {}, parsed.root)[parsed.root]
    except NonFiniteError as exc:
        raise NonFiniteError(exc.what, where) from None


class Budget:
    """The one SymPy time budget of a derive call: a deadline on `clock`."""

    #: With less than this left the budget is spent: SymPy cannot do anything useful in it.
    MIN_WORK = 0.01

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.deadline = clock() + seconds

    def left(self) -> float:
        return self.deadline - self.clock()

    @property
    def spent(self) -> bool:
        return self.left() < self.MIN_WORK

    def limit(self) -> float:
        """Seconds for a `time_limit` block (never 0, which would mean no limit)."""
        return max(self.left(), self.MIN_WORK)

    def share(self, parts: int) -> float:
        """An equal share of what is left for `parts` pieces of work."""
        return max(self.left(), 0.0) / max(parts, 1)

    def reason(self) -> Msg:
        return M("SymPy took longer than the {seconds} s budget (--timeout)",
                 seconds=f"{self.seconds:g}")


@dataclass
class _Symbolic:
    """The expression in SymPy (None: skipped, and why) and how it prints."""

    expr: Any
    shown: str
    order: dict[str, int]
    skipped: Msg | None = None


def derive(text: str, wrt: list[str] | None = None, at: dict[str, float] | None = None,
           steps: bool = True, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
           time_budget: float = 5.0, substitution: bool = True,
           clock: Callable[[], float] = time.monotonic, answers: list[str] | None = None,
           lets: list[str] | None = None, seed: int = 0) -> DeriveReport:
    """Differentiate `text` with respect to `wrt` (default: every variable), with the
    values three ways when `at` binds every variable; `steps` and `substitution`
    add the rule tree and the u-substitution view per variable.  `answers`
    (`[VAR=]ANSWER` texts, names from `lets`) are checked against the derivative
    at random points drawn with `seed` (`gradcli.answers`)."""
    from gradcli import answers as answering

    parsed = parse(text, bound=at or ())  # `--at` names: `NAME(` multiplies
    graph, root = parsed.graph, parsed.root
    variables = sorted(graph.variables, key=natural_key)
    at = dict(at or {})
    targets = _targets(graph, variables, wrt, at)
    _check_tensor_free(graph, root)
    given = answering.read(variables, targets, list(answers or []), list(lets or []))

    budget = Budget(time_budget, clock)
    sym = _expression(graph, root, text, budget)
    report = DeriveReport(sym.shown, variables, at, [], order=sym.order, function=sym.expr)
    if not variables:
        report.notes.append(M("the expression has no variables: there is nothing to "
                              "differentiate"))
    if sym.skipped is not None:
        report.notes.append(M("symbolic work skipped: {reason}", reason=sym.skipped))
    bound = bool(variables) and all(v in at for v in variables)
    if at and not bound:
        missing = [v for v in variables if v not in at]
        report.notes.append(M("values need every variable bound; missing: {names}",
                              names=", ".join(missing)))
    engine_rows = _engine_by_variable(graph, root, targets, at, text) if bound else {}

    late = 0  # variables whose explanation the budget left no time for
    for k, name in enumerate(targets):
        parts = len(targets) - k
        row = _symbolic_row(sym, graph, root, text, name, budget, parts)
        if bound:
            _values(row, engine_rows[name], at, rtol, atol, budget)
        report.gradient.append(row)
        if steps or substitution:
            explanation = _explanation(graph, root, name, sym, budget, parts, steps,
                                       substitution, at if bound else None)
            late += explanation is None
            report.steps.append(explanation or _unexplained(name, sym))
    if late and sym.expr is not None:
        report.notes.append(M("explanations skipped for {count} of {total} variables: "
                              "{reason}", count=late, total=len(targets),
                              reason=budget.reason()))
    report.ok = all(r.ok for r in report.gradient)
    if given is not None:
        answering.attach(report, given, graph, root, at, seed, budget)
    return report


def _targets(graph: Graph, variables: list[str], wrt: list[str] | None,
             at: dict[str, float]) -> list[str]:
    listed = ", ".join(variables) or "none"
    unknown = [n for n in at if n not in graph.variables]
    if unknown:
        raise GradcliError(M("'{name}' is not a variable of the expression (variables: "
                             "{variables})", name=unknown[0], variables=listed), "--at")
    targets = list(dict.fromkeys(wrt)) if wrt else variables
    for name in targets:
        if name not in graph.variables:
            raise GradcliError(M("'{name}' is not a variable of the expression (variables: "
                                 "{variables})", name=name, variables=listed), "--wrt")
    return targets


def _check_tensor_free(graph: Graph, root: int) -> None:
    i = graph.first_tensor_op(root)
    if i is not None:
        raise GradcliError(M("{op} needs tensors: use it in a `gradcli check` file "
                             "(derive works on scalar expressions)", op=graph.nodes[i].op),
                           f"column {graph.nodes[i].col}")


def _num(v: float) -> str:
    return f"{v:.10g}"


# --------------------------------------------------------------- symbolic ---
def _expression(graph: Graph, root: int, text: str, budget: Budget) -> _Symbolic:
    """The SymPy expression and its printed form, or None and why it was skipped.
    An expression that is not a finite real number somewhere (`x + log(0)`) is refused."""
    from gradcli import symbolic

    shown = " ".join(text.split())
    order = symbolic.term_order(graph, root)
    if budget.spent:
        return _Symbolic(None, shown, order, budget.reason())
    try:
        with symbolic.time_limit(budget.limit()):
            expr = symbolic.to_sympy(graph, root)
            if not symbolic.non_real(expr):
                return _Symbolic(expr, symbolic.to_text(expr, order), order)
    except symbolic.SymbolicTooDeep:
        return _Symbolic(None, shown, order, M("the expression is nested too deeply for "
                                               "SymPy"))
    except symbolic.SymbolicTimeout:
        return _Symbolic(None, shown, order, budget.reason())
    raise _not_real(graph, root, text)


def _not_real(graph: Graph, root: int, text: str, wrt: str | None = None) -> GradcliError:
    """The refusal of a non-real expression or derivative, naming the first part that is."""
    from gradcli import symbolic

    found = None
    try:
        with symbolic.time_limit(2.0):  # an error path: a short search, else the whole
            found = symbolic.first_non_real(graph, root, wrt)
    except symbolic.SymbolicTimeout:
        pass
    part, col = found if found else (" ".join(text.split()), None)
    if wrt is None:
        what = M("{part} is not a finite real number: the expression is undefined",
                 part=part)
    else:
        what = M("the derivative of {part} with respect to {var} is not real-valued",
                 part=part, var=wrt)
    if col is None:
        return GradcliError(what, "expression")
    return ExpressionError(what, text, col)


def _symbolic_row(sym: _Symbolic, graph: Graph, root: int, text: str, name: str,
                  budget: Budget, parts: int) -> DerivativeRow:
    """The derivative's symbolic form, or a row marking it skipped (time budget)."""
    import sympy as sp

    from gradcli import symbolic

    if sym.expr is None or budget.spent:
        reason = sym.skipped or budget.reason()
        return DerivativeRow(name, None, False, note=M("symbolic skipped: {reason}",
                                                       reason=reason))
    try:
        with symbolic.time_limit(budget.limit()):
            raw, steps_at = symbolic.drop_deltas(
                symbolic.differentiate(sym.expr, symbolic.symbol(name)))
            # checked before powsimp, which would hide I in (-1)**(x + 1/2)
            complex_valued = symbolic.non_real(raw)
            if not complex_valued:
                if any(p.exp.free_symbols for p in raw.atoms(sp.Pow)):
                    raw = sp.powsimp(raw)  # a**n*n/a -> a**(n - 1)*n: a value at a = 0 too
                raw_text = symbolic.to_text(raw, sym.order)
    except symbolic.SymbolicTimeout as exc:
        reason = M("the expression is nested too deeply for SymPy") \
            if isinstance(exc, symbolic.SymbolicTooDeep) else budget.reason()
        return DerivativeRow(name, None, False, note=M("symbolic skipped: {reason}",
                                                       reason=reason))
    if complex_valued:
        raise _not_real(graph, root, text, name)
    simple, finished = symbolic.simplify_bounded(raw, budget.share(parts) * 0.8)
    try:
        with symbolic.time_limit(budget.limit()):
            row = DerivativeRow(name, symbolic.to_text(simple, sym.order), finished,
                                symbolic.to_latex(simple, sym.order), expr=simple)
            factored = symbolic.factored_form(simple, budget.share(parts) * 0.5)
            if factored is not None:
                row.factored = symbolic.to_text(factored, sym.order)
                row.factored_latex = symbolic.to_latex(factored, sym.order)
                row.factored_expr = factored
    except symbolic.SymbolicTimeout:
        row = DerivativeRow(name, raw_text, False)
    if not finished:
        row.note = M("simplification ran out of time: unsimplified form shown")
    if steps_at:
        row.note = M("derivative of a step function (Heaviside, sign): 0 except at its "
                     "jump, where it does not exist ({where} = 0)",
                     where=", ".join(symbolic.to_text(a, sym.order) for a in steps_at))
    row.raw = raw
    return row


# ----------------------------------------------------------------- values ---
def _engine_by_variable(graph: Graph, root: int, targets: list[str], at: dict[str, float],
                        text: str) -> dict[str, dict | GradcliError]:
    """The engine's results per variable; a variable whose derivative is undefined at
    the point (`a**n` wrt n at a = 0) gets the error instead, the others their values.
    The function itself must be defined there (else exit 2, with a caret)."""
    point = ", ".join(f"{k}={_num(v)}" for k, v in at.items())
    bindings = {graph.variables[n]: float(v) for n, v in at.items()}
    try:
        engine.forward(graph, bindings, root, point)
    except engine.EngineError as exc:  # point at the operation in the expression
        if exc.col and not exc.detail:
            exc.detail = caret_detail(text, exc.col)
        raise
    try:
        return _engine_results(graph, root, targets, at, point)
    except GradcliError:
        pass  # some derivative is undefined here: find out which, variable by variable
    results: dict[str, dict | GradcliError] = {}
    for name in targets:
        try:
            results[name] = _engine_results(graph, root, [name], at, point)[name]
        except GradcliError as exc:
            results[name] = exc
    return results


def _values(row: DerivativeRow, found: dict | GradcliError, at: dict[str, float],
            rtol: float, atol: float, budget: Budget) -> None:
    row.evaluated = True
    if isinstance(found, GradcliError):  # the function is defined here, this derivative not
        row.value = row.reverse = row.numeric = row.rel_error = None
        row.undefined, row.ok = True, True
        row.note = M("the derivative with respect to {var} is undefined at this point: "
                     "{reason}", var=row.wrt, reason=found.what)
        return
    # Past the budget no SymPy evaluation: the symbolic value is skipped, not computed late.
    raw = None if budget.spent else row.raw
    if raw is None and row.raw is not None:
        row.note = M("symbolic value skipped: {reason}", reason=budget.reason())
    _fill_values(row, raw, found, at, rtol, atol, budget.limit)


# ------------------------------------------------------------ explanation ---
def _explanation(graph: Graph, root: int, name: str, sym: _Symbolic, budget: Budget,
                 parts: int, steps: bool, substitution: bool, at: dict[str, float] | None):
    """The rule tree (with --steps) and the u-substitution (with --substitution);
    None when the budget is spent (one report note says so, not one per variable)."""
    from gradcli import steps as explaining

    if sym.expr is None or budget.spent:
        return None
    try:
        tree = explaining.explain(graph, root, name, time_budget=budget.share(parts))
    except explaining.StepCheckError as exc:  # a bug in a rule: the answer still prints
        tree = explaining.skipped(name, M("explanation skipped: a rule step disagreed with "
                                          "SymPy ({detail})", detail=str(exc)))
    sub = explaining.substitution_of(tree) if substitution else None
    if sub is not None and not budget.spent:
        explaining.complete(sub, at, budget.share(parts))
    return explaining.Explanation(name, tree if steps else None, sub, sym.order)


def _unexplained(name: str, sym: _Symbolic):
    from gradcli import steps as explaining

    return explaining.Explanation(name, None, None, sym.order)


# ------------------------------------------ numeric (the engine's results) ---
def _engine_results(graph: Graph, root: int, targets: list[str], at: dict[str, float],
                    point: str) -> dict[str, dict]:
    """Reverse-mode gradient and central differences for every target, with the kinks
    at the point ("kinks") and those crossed within the finite-difference step ("crossing").

    One forward and one backward pass serve every target; each difference replays
    only the nodes that depend on its variable (`engine.Replay`), so 800 variables
    cost 800 small replays, not 4 x 800 whole forward passes."""
    bindings = {graph.variables[n]: float(v) for n, v in at.items()}
    wrt = [graph.variables[n] for n in targets]
    values = engine.forward(graph, bindings, root, point)
    back = engine.backward(graph, values, root, wrt, point=point)
    users = graph.consumers(root)
    replay = engine.Replay(graph, values, root, point)
    kinks = set(back.kinks)
    results = {}
    for name, node_id in zip(targets, wrt):
        adjoint = back.adjoint[node_id] if node_id <= root else None
        grad = 0.0 if adjoint is None else adjoint
        dependents = graph.dependents(node_id, users) if node_id <= root else []
        # Only kinks on a path from this variable affect its derivative.
        kink_ops = sorted({graph.nodes[k].op for k in dependents if k in kinks})
        replay.use(dependents)
        watch = numeric.KinkWatch(graph, values, dependents)

        def f(t: float, node_id=node_id, watch=watch) -> float:
            new = replay({node_id: t})
            watch.seen(new)
            return new[root]

        try:
            diff = numeric.central_difference(f, bindings[node_id], f0=values[root])
            found, error, skipped = diff.value, diff.error, None
        except NonFiniteError as exc:  # the point is fine; the FD step is not
            found, error = None, None
            skipped = M("numeric skipped: every finite-difference step leaves the domain "
                        "({reason})", reason=exc.what)
        results[name] = {"reverse": grad, "numeric": found, "error": error,
                         "kinks": kink_ops, "crossing": sorted(watch.ops), "skipped": skipped}
    replay.restore()
    return results


def _fill_values(row: DerivativeRow, raw, engine_row: dict, at: dict[str, float],
                 rtol: float, atol: float, left) -> None:
    """The value three ways, and the one verdict on them (`verdict.compare`)."""
    from gradcli import symbolic

    row.value = None
    if raw is not None:
        try:
            with symbolic.time_limit(left()):
                row.value = symbolic.evaluate(raw, _sympy_point(tuple(at.items())))
        except symbolic.SymbolicTimeout as exc:
            row.note = M("symbolic value skipped: {reason}", reason=exc.reason)
    row.reverse = float(engine_row["reverse"])
    if engine_row["numeric"] is not None:
        row.numeric = float(engine_row["numeric"])
        row.numeric_error = float(engine_row["error"])
    kinks = engine_row["kinks"] or engine_row["crossing"]
    v = verdict.compare(row.reverse, row.numeric, row.numeric_error, row.value, bool(kinks),
                        rtol, atol)
    row.verdict = v
    row.ok, row.band, row.rel_error, row.kink = v.ok, v.band, v.rel_error, bool(kinks)
    if kinks:
        ops = " and ".join(kinks)
        if engine_row["kinks"]:
            row.note = M("{ops} is at its kink (argument 0): the engine uses the subgradient "
                         "0; the numeric value is not a derivative there", ops=ops)
        else:
            row.note = M("{ops} is within the finite-difference step of its kink (argument "
                         "0): the engine uses the subgradient 0; the numeric value is not a "
                         "derivative there", ops=ops)
    elif engine_row["skipped"] is not None:
        row.note = engine_row["skipped"]
    elif v.cause is not None:
        row.note = v.attribution
    elif row.value is None and raw is not None and not row.note:
        row.note = M("the symbolic derivative has no real value here")
    elif v.note is not None and not row.note:
        row.note = v.note




@functools.lru_cache(maxsize=4)
def _sympy_point(items: tuple[tuple[str, float], ...]) -> dict:
    """The point as SymPy symbols -> values, made once for every variable's row (800
    variables made 640,000 symbols when each row built its own)."""
    from gradcli import symbolic

    return {symbolic.symbol(k): symbolic.exact_float(v) for k, v in items}
