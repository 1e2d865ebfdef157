"""`gradcli derive` as a library call: expression text in, DeriveReport out.

The derivative comes three ways: SymPy (from the op table's SymPy forms),
the reverse-mode engine and central differences, compared pairwise.
"""
from __future__ import annotations

import re
import time

from gradcli import engine, numeric
from gradcli.errors import GradcliError, NonFiniteError
from gradcli.graph import Graph
from gradcli.ops import OPS
from gradcli.parse import parse
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
                raise GradcliError(f"expected NAME=VALUE, got '{part}'", option)
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                raise GradcliError(f"'{name}' is not a variable name", option)
            bindings[name] = constant_value(text, f"{option} {name}")
    return bindings


def constant_value(text: str, where: str) -> float:
    """The value of a constant expression (a number, pi/4, 2**-3), finite only."""
    lowered = text.strip().lower()
    if lowered in {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"}:
        raise NonFiniteError(f"value must be finite, got '{text}'", where)

    def no_names(name: str, col: int) -> int:
        raise GradcliError(f"value must be a number, got '{text}'", where)

    parsed = parse(text, resolve=no_names, where=where)
    try:
        return engine.forward(parsed.graph, {}, parsed.root)[parsed.root]
    except NonFiniteError as exc:
        raise NonFiniteError(exc.what, where) from None


def derive(text: str, wrt: list[str] | None = None, at: dict[str, float] | None = None,
           steps: bool = True, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
           time_budget: float = 5.0) -> DeriveReport:
    parsed = parse(text)
    graph, root = parsed.graph, parsed.root
    variables = sorted(graph.variables, key=natural_key)
    at = dict(at or {})
    unknown = [n for n in at if n not in graph.variables]
    if unknown:
        raise GradcliError(f"'{unknown[0]}' is not a variable of the expression "
                           f"(variables: {', '.join(variables) or 'none'})", "--at")
    targets = list(dict.fromkeys(wrt)) if wrt else variables
    for name in targets:
        if name not in graph.variables:
            raise GradcliError(f"'{name}' is not a variable of the expression "
                               f"(variables: {', '.join(variables) or 'none'})", "--wrt")
    _check_tensor_free(graph, root)


    # One budget for all SymPy work (conversion, diff, simplify, steps,
    # evaluation): past it the symbolic parts are skipped; the numbers still come.
    deadline = time.monotonic() + time_budget

    def left() -> float:
        return max(0.01, deadline - time.monotonic())

    expr, shown, skipped = _expression(graph, root, text, time_budget, left)
    report = DeriveReport(shown, variables, at, [])
    if not variables:
        report.notes.append("the expression has no variables: there is nothing to "
                            "differentiate")
    if expr is None:
        report.notes.append(f"symbolic work skipped: {skipped}")
    bound = bool(variables) and all(v in at for v in variables)
    if at and not bound:
        missing = [v for v in variables if v not in at]
        report.notes.append(f"values need every variable bound; missing: {', '.join(missing)}")
    point = ", ".join(f"{k}={_num(v)}" for k, v in at.items())
    try:
        engine = _engine_results(graph, root, targets, at, point) if bound else {}
    except GradcliError as exc:  # point at the operation in the expression
        if exc.where and exc.where.startswith("column ") and not exc.detail and "\n" not in text:
            col = int(exc.where.split()[1])
            exc.detail = f"  {text}\n  {' ' * (col - 1)}^" if len(text) <= 200 else None
        raise

    for i, name in enumerate(targets):
        share = left() / (len(targets) - i)
        row = _symbolic_row(expr, name, share, left)
        if bound:
            _fill_values(row, row.raw, engine[name], at, rtol, atol, left)
        report.gradient.append(row)
        if steps and expr is not None and deadline - time.monotonic() > 0.01:
            report.steps.append(_steps_for(graph, root, name, min(share, left())))
    report.ok = all(r.ok for r in report.gradient)
    return report


def _expression(graph: Graph, root: int, text: str, budget: float, left):
    """The SymPy expression and its printed form, or None and why it was skipped."""
    from gradcli import symbolic

    shown = " ".join(text.split())
    skipped = f"SymPy took longer than the {budget:g} s budget (--timeout)"
    if budget <= 0:
        return None, shown, skipped
    try:
        with symbolic.time_limit(left()):
            expr = symbolic.to_sympy(graph, root)
            return expr, symbolic.to_text(expr), None
    except symbolic.SymbolicTooDeep as exc:
        return None, shown, exc.reason
    except symbolic.SymbolicTimeout:
        return None, shown, skipped


def _symbolic_row(expr, name: str, share: float, left) -> DerivativeRow:
    """The derivative's symbolic form, or a row marking it skipped (time budget)."""
    from gradcli import symbolic

    if expr is None:
        return DerivativeRow(name, None, False, note="symbolic skipped")
    try:
        with symbolic.time_limit(left()):
            raw = expr.diff(symbolic.symbol(name))
            raw_text = symbolic.to_text(raw)
    except symbolic.SymbolicTimeout as exc:
        return DerivativeRow(name, None, False, note=f"symbolic skipped: {exc.reason}")
    simple, finished = symbolic.simplify_bounded(raw, min(share, left()) * 0.8)
    try:
        with symbolic.time_limit(left()):
            row = DerivativeRow(name, symbolic.to_text(simple), finished,
                                symbolic.to_latex(simple))
    except symbolic.SymbolicTimeout:
        row = DerivativeRow(name, raw_text, False)
    if not finished:
        row.note = "simplification ran out of time: unsimplified form shown"
    row.raw = raw
    return row


def _check_tensor_free(graph: Graph, root: int) -> None:
    for i in graph.ancestors(root):
        op = graph.nodes[i].op
        if op in OPS and not OPS[op].elementwise:
            raise GradcliError(f"{op} needs tensors: use it in a `gradcli check` file "
                               f"(derive works on scalar expressions)",
                               f"column {graph.nodes[i].col}")


def _num(v: float) -> str:
    return f"{v:.10g}"


def _engine_results(graph: Graph, root: int, targets: list[str], at: dict[str, float],
                    point: str) -> dict[str, dict]:
    """Reverse-mode gradient and central differences for every target."""
    ids = {name: graph.variables[name] for name in at}
    bindings = {ids[n]: float(v) for n, v in at.items()}
    wrt = [graph.variables[n] for n in targets]
    _, grads, back = engine.gradient(graph, bindings, root, wrt, point=point)
    results = {}
    for name, node_id, grad in zip(targets, wrt, grads):
        # Only kinks on a path from this variable affect its derivative.
        on_path = graph.depends_on({node_id}, root)
        kink_ops = sorted({graph.nodes[k].op for k in back.kinks if on_path[k]})
        def f(t: float, node_id=node_id) -> float:
            moved = dict(bindings)
            moved[node_id] = t
            return engine.forward(graph, moved, root, point)[root]

        try:
            diff = numeric.central_difference(f, bindings[node_id])
            crossing = _kink_crossed(graph, root, bindings, node_id, diff.step)
            found, error = diff.value, diff.error
        except NonFiniteError as exc:  # the point is fine; the FD step is not
            found, error, crossing = None, None, []
            kink_ops = kink_ops + [f"numeric skipped: every finite-difference step leaves "
                                   f"the domain ({exc.what})"]
        results[name] = {"reverse": grad, "numeric": found, "error": error,
                         "kinks": kink_ops, "crossing": crossing}
    return results


def _kink_crossed(graph: Graph, root: int, bindings: dict[int, float], node_id: int,
                  h: float) -> list[str]:
    """Kink ops (relu, abs) whose argument changes sign within the FD step."""
    base = engine.forward(graph, bindings, root)
    crossed = set()
    for t in (bindings[node_id] - h, bindings[node_id] + h):
        moved = dict(bindings)
        moved[node_id] = t
        vals = engine.forward(graph, moved, root)
        for i in range(root + 1):
            node = graph.nodes[i]
            if node.op in OPS and OPS[node.op].kink is not None:
                a, b = base[node.args[0]], vals[node.args[0]]
                if (a > 0) != (b > 0) or (a < 0) != (b < 0):
                    crossed.add(node.op)
    return sorted(crossed)


def _fill_values(row: DerivativeRow, raw, engine: dict, at: dict[str, float],
                 rtol: float, atol: float, left) -> None:
    from gradcli import symbolic

    values = {symbolic.symbol(k): v for k, v in at.items()}
    row.value = None
    if raw is not None:
        try:
            with symbolic.time_limit(left()):
                row.value = symbolic.evaluate(raw, values)
        except symbolic.SymbolicTimeout as exc:
            row.note = f"symbolic value skipped: {exc.reason}"
    row.reverse = float(engine["reverse"])
    skipped = [k for k in engine["kinks"] if k.startswith("numeric skipped")]
    if engine["numeric"] is None:
        row.note = skipped[0]
        agree_numeric = True
        pairs = [] if row.value is None else [(row.value, row.reverse)]
    else:
        row.numeric = float(engine["numeric"])
        row.numeric_error = float(engine["error"])
        pairs = [(row.reverse, row.numeric)]
        if row.value is not None:
            pairs += [(row.value, row.reverse), (row.value, row.numeric)]
        # The numeric estimate is trusted only to its own error estimate.
        slack = max(atol, 4.0 * row.numeric_error)
        agree_numeric = all(numeric.close(a, b, rtol, slack)
                            for a, b in pairs[:1] + pairs[2:])
    row.rel_error = max((numeric.rel_error(a, b) for a, b in pairs), default=0.0)
    agree_symbolic = row.value is None or numeric.close(row.value, row.reverse, rtol, atol)
    row.ok = agree_numeric and agree_symbolic
    row.band = numeric.band(row.rel_error)
    if row.ok and row.band in ("suspicious", "wrong"):
        row.band = "within atol"  # tiny values: the absolute tolerance decided
    if row.value is not None and agree_symbolic and not agree_numeric:
        # reverse = symbolic != numeric: the finite difference is what is off
        row.ok = True
        row.band = "fd-artefact"
        row.note = ("finite-difference artefact (step, precision or kink): reverse mode "
                    "and SymPy agree")
    kinks = [k for k in engine["kinks"] if not k.startswith("numeric skipped")] \
        or engine["crossing"]
    if kinks:
        row.kink = True
        row.band = "kink"
        where = "at" if engine["kinks"] else "within the finite-difference step of"
        row.note = (f"{' and '.join(kinks)} is {where} its kink (argument 0): the engine "
                    f"uses the subgradient 0; the numeric value is not a derivative there")
        row.ok = True  # a kink is reported as such, not as a failed check
    elif row.value is None and raw is not None and not row.note and pairs:
        row.note = "the symbolic derivative has no real value here"


def _steps_for(graph: Graph, root: int, name: str, budget: float) -> dict:
    from gradcli import steps

    tree = steps.explain(graph, root, name, time_budget=budget)
    return {"wrt": name, "tree": tree, "substitution": steps.substitution_view(tree)}
