"""`gradcli derive` as a library call: expression text in, DeriveReport out.

The derivative comes three ways: SymPy (from the op table's SymPy forms),
the reverse-mode engine and central differences, compared pairwise.
"""
from __future__ import annotations

import re
import time

from gradcli import engine, numeric, verdict
from gradcli.errors import GradcliError, NonFiniteError
from gradcli.graph import Graph
from gradcli.i18n import M
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
        engine_rows = _engine_results(graph, root, targets, at, point) if bound else {}
    except GradcliError as exc:  # point at the operation in the expression
        if exc.where and exc.where.startswith("column ") and not exc.detail and "\n" not in text:
            col = int(exc.where.split()[1])
            exc.detail = f"  {text}\n  {' ' * (col - 1)}^" if len(text) <= 200 else None
        raise

    for i, name in enumerate(targets):
        share = left() / (len(targets) - i)
        row = _symbolic_row(expr, name, share, left)
        if bound:
            _fill_values(row, row.raw, engine_rows[name], at, rtol, atol, left)
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
    """Reverse-mode gradient and central differences for every target, with the kinks
    at the point ("kinks") and those crossed within the finite-difference step ("crossing")."""
    ids = {name: graph.variables[name] for name in at}
    bindings = {ids[n]: float(v) for n, v in at.items()}
    wrt = [graph.variables[n] for n in targets]
    _, grads, back = engine.gradient(graph, bindings, root, wrt, point=point)
    base = engine.forward(graph, bindings, root, point)
    results = {}
    for name, node_id, grad in zip(targets, wrt, grads):
        # Only kinks on a path from this variable affect its derivative.
        on_path = graph.depends_on({node_id}, root)
        kink_ops = sorted({graph.nodes[k].op for k in back.kinks if on_path[k]})
        watch = numeric.KinkWatch(graph, base, [i for i in range(root + 1) if on_path[i]])

        def f(t: float, node_id=node_id, watch=watch) -> float:
            moved = dict(bindings)
            moved[node_id] = t
            values = engine.forward(graph, moved, root, point)
            watch.seen(values)
            return values[root]

        try:
            diff = numeric.central_difference(f, bindings[node_id])
            found, error, skipped = diff.value, diff.error, None
        except NonFiniteError as exc:  # the point is fine; the FD step is not
            found, error = None, None
            skipped = M("numeric skipped: every finite-difference step leaves the domain "
                        "({reason})", reason=exc.what)
        results[name] = {"reverse": grad, "numeric": found, "error": error,
                         "kinks": kink_ops, "crossing": sorted(watch.ops), "skipped": skipped}
    return results


def _fill_values(row: DerivativeRow, raw, engine_row: dict, at: dict[str, float],
                 rtol: float, atol: float, left) -> None:
    """The value three ways, and the one verdict on them (`verdict.compare`)."""
    from gradcli import symbolic

    values = {symbolic.symbol(k): v for k, v in at.items()}
    row.value = None
    if raw is not None:
        try:
            with symbolic.time_limit(left()):
                row.value = symbolic.evaluate(raw, values)
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
        where = M("at") if engine_row["kinks"] else M("within the finite-difference step of")
        row.note = M("{ops} is {where} its kink (argument 0): the engine uses the subgradient "
                     "0; the numeric value is not a derivative there", ops=" and ".join(kinks),
                     where=where)
    elif engine_row["skipped"] is not None:
        row.note = engine_row["skipped"]
    elif v.cause is not None:
        row.note = v.attribution
    elif row.value is None and raw is not None and not row.note:
        row.note = M("the symbolic derivative has no real value here")
    elif v.note is not None and not row.note:
        row.note = v.note


def _steps_for(graph: Graph, root: int, name: str, budget: float) -> dict:
    from gradcli import steps

    tree = steps.explain(graph, root, name, time_budget=budget)
    return {"wrt": name, "tree": tree, "substitution": steps.substitution_view(tree)}
