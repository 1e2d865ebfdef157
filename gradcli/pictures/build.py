"""Pictures from an expression at a point, or from a YAML spec.

One box per value of the computation: every parameter and input, every
operation's result (named by the file, or shown as its sub-expression, as in
seed note 003's picture of y = (a + b)c with its (+) and (×) boxes), and
the loss.  Literal constants get no box of their own: they are written into
their operation (`× 0.5`, `^ 2`).  A layer network is drawn the same way, and
its graph already has one node per tensor operation (W1ᵀ, x @ W1ᵀ, z1, a1,
..., loss), so it is never one box per scalar.

Values and gradients come from the engine's forward and backward passes
(`adapter.engine()`), never from SymPy.  When the file has `expect` answers
(or a check is asked for) the check runs, without SymPy, and marks the
boxes whose answer is wrong and the parameters whose gradient check fails.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcli.errors import GradcliError, LimitError
from gradcli.i18n import M, _
from gradcli.pictures import adapter
from gradcli.pictures.labels import (clip, constant_text, number, operation_text,
                                     shape_text, subexpressions, value_text)
from gradcli.pictures.local import edge_label
from gradcli.pictures.model import (CONSTANT, INPUT, LOSS, NODE, PARAM, Box, Edge,
                                    Picture)

MAX_BOXES = 2_000  # drawn in full; more is refused unless --max-boxes allows it
MAX_BOXES_CEILING = 10_000  # --max-boxes cannot go beyond this (SVGs stay near 20 MB at most)


@dataclass
class Evaluated:
    """A graph with everything the picture shows, before formatting."""

    graph: Any
    root: int  # the differentiated value (loss, or the expression)
    last: int  # the last node drawn
    output: str  # the root's name in gradients: L, loss, f
    title: str
    names: dict[int, list[str]]
    params: set[int]
    inputs: set[int]
    values: list | None = None  # None: no point to evaluate at
    adjoint: list | None = None
    notes: list[Any] = field(default_factory=list)
    expression: bool = False  # a command-line expression: its variables are differentiated
    undefined: set[int] = field(default_factory=set)  # gradients undefined at the point


# ------------------------------------------------------------ entry points ---
def from_expression(text: str, at: list[str] | None = None,
                    max_boxes: int = MAX_BOXES) -> Picture:
    """`gradcli graph "(2*x+1)**3" --at x=1`: gradients are df/dnode."""
    bindings = adapter.parse_bindings(at or [])
    parsed = adapter.parse_expression(text, bound=bindings)
    g, root = parsed.graph, parsed.root
    variables = sorted(g.variables, key=adapter.natural_key)
    unknown = [n for n in bindings if n not in g.variables]
    if unknown:  # the same refusal as derive's
        raise GradcliError(M("'{name}' is not a variable of the expression "
                             "(variables: {variables})", name=unknown[0],
                             variables=", ".join(variables) or "none"), "--at")
    adapter.refuse_tensor_ops(g, root)
    output = next(n for n in ("f", "F", "f_out", "f_value") if n not in g.variables)
    names: dict[int, list[str]] = {nid: [name] for name, nid in g.variables.items()}
    names.setdefault(root, []).append(output)
    ev = Evaluated(g, root, root, output, " ".join(text.split()), names,
                   params=set(g.variables.values()), inputs=set(), expression=True)
    _check_size(ev, max_boxes, "expression")
    missing = [v for v in variables if v not in bindings]
    if missing:
        ev.notes.append(M("no values: every variable needs --at (missing: {names})",
                          names=", ".join(missing)))
        return assemble(ev)
    point = ", ".join(f"{k}={v:.10g}" for k, v in bindings.items())
    engine = adapter.engine()
    ids = {g.variables[n]: float(v) for n, v in bindings.items()}
    try:
        ev.values = engine.forward(g, ids, root, point)
    except GradcliError as exc:  # point at the operation, as derive does
        _caret(exc, text)
        raise
    try:
        ev.adjoint = engine.backward(g, ev.values, root, list(ev.params), point=point).adjoint
    except engine.EngineError as exc:
        # the function has a value here but a derivative does not (sqrt at 0): derive
        # reports it for that variable alone, and the picture shows it undefined
        ev.adjoint, ev.undefined = tolerant_adjoint(engine, g, ev.values, root, ev.params)
        ev.notes.append(M("the gradient is undefined here: {why}", why=exc.what))
    return assemble(ev)


def _caret(exc: GradcliError, text: str) -> None:
    """An error at a column of a one-line expression gets the caret line."""
    if exc.where and str(exc.where).startswith("column ") and not exc.detail \
            and "\n" not in text and len(text) <= 200:
        col = int(str(exc.where).split()[1])
        exc.detail = f"  {text}\n  {' ' * (col - 1)}^"


def tolerant_adjoint(engine: Any, g: Any, values: list, root: int,
                     params: set[int]) -> tuple[list, set[int]]:
    """The backward pass, where a local derivative that does not exist (an exception,
    or not finite) makes its argument's gradient undefined, and everything upstream
    of it, instead of ending the pass: (adjoints, undefined node ids)."""
    import math

    from gradcli.ops import OPS

    needs = g.depends_on(params, root)
    adjoint: list[Any] = [None] * (root + 1)
    adjoint[root] = 1.0
    undefined: set[int] = set()
    for i in range(root, -1, -1):
        node = g.nodes[i]
        if not node.args or (adjoint[i] is None and i not in undefined):
            continue
        args = [values[a] for a in node.args]
        for k, a in enumerate(node.args):
            if not needs[a] or a in undefined:
                continue
            if i in undefined:
                undefined.add(a)
                continue
            try:
                part = engine.unbroadcast(OPS[node.op].vjp[k](adjoint[i], values[i], *args),
                                          args[k])
                finite = math.isfinite(part) if isinstance(part, float) else \
                    bool(__import__("numpy").isfinite(part).all())
            except (ArithmeticError, ValueError):
                finite = False
            if not finite:
                undefined.add(a)
                adjoint[a] = None
                continue
            adjoint[a] = part if adjoint[a] is None else adjoint[a] + part
    return adjoint, undefined


def from_spec(path: str, check: bool | None = None, max_boxes: int = MAX_BOXES,
              budget=None) -> Picture:
    """A YAML spec: gradients are dL/dnode; `check=None` checks when it has expect answers;
    `budget` (gradcli.budget.Budget) is what loading and checking may cost."""
    spec = adapter.load_spec(path, budget)
    report = None
    if check or (check is None and spec.expect):
        _check_size(_evaluated(spec, path), max_boxes, path)  # before the check's work
        report = adapter.run_check(spec)  # refuses what check refuses, the same way
    return from_loaded(spec, report, max_boxes, path)


def from_loaded(spec: Any, report: Any = None, max_boxes: int = MAX_BOXES,
                title: str | None = None) -> Picture:
    """A loaded spec, marked from a CheckReport already computed (`gradcli check
    --format html` draws what it checked without checking twice)."""
    path = title or spec.file
    ev = _evaluated(spec, path)
    _check_size(ev, max_boxes, path)
    g = spec.graph
    engine = adapter.engine()
    try:
        ev.values = engine.forward(g, spec.bindings, ev.last, point=adapter.point_text(spec))
        if not isinstance(ev.values[spec.loss], float):
            raise GradcliError(M("the loss must be a scalar, but it has shape {shape} "
                                 "(use sum() or mean())",
                                 shape=list(ev.values[spec.loss].shape)), spec.where("loss"))
        ev.adjoint = engine.backward(g, ev.values, spec.loss, list(ev.params)).adjoint
    except GradcliError as exc:
        adapter.locate_error(spec, exc)
        raise
    picture = assemble(ev)
    if report is not None:
        mark(picture, ev, spec, report)
    return picture


def _evaluated(spec: Any, path: str) -> Evaluated:
    g = spec.graph
    last = max([spec.loss, *spec.named.values()])
    names: dict[int, list[str]] = {}
    for name, nid in spec.named.items():
        names.setdefault(nid, []).append(name)
    if spec.loss_name not in names.get(spec.loss, []):
        names.setdefault(spec.loss, []).append(spec.loss_name)
    return Evaluated(g, spec.loss, last, spec.loss_name, path, names,
                     params=set(spec.params.values()), inputs=set(spec.inputs.values()))


# ------------------------------------------------------------------ sizing ---
def shown_nodes(ev: Evaluated) -> list[int]:
    """Node ids that get a box: everything but unnamed literal constants."""
    nodes = ev.graph.nodes
    return [i for i in range(ev.last + 1) if nodes[i].op != "const" or i in ev.names]


def _check_size(ev: Evaluated, max_boxes: int, where: str) -> None:
    count = len(shown_nodes(ev))
    if count > max_boxes:
        raise LimitError(M("the graph has {count} boxes; at most {limit} are drawn "
                           "(--max-boxes N draws more, up to {ceiling})",
                           count=f"{count:,}", limit=f"{max_boxes:,}",
                           ceiling=f"{MAX_BOXES_CEILING:,}"), where)


# ---------------------------------------------------------------- assembly ---
def assemble(ev: Evaluated) -> Picture:
    """Boxes and edges with their texts, from an evaluated graph."""
    g = ev.graph
    shown = shown_nodes(ev)
    shown_set = set(shown)
    display = {i: " = ".join(n) for i, n in ev.names.items()}
    text_of = subexpressions(g, {i: n[-1] for i, n in ev.names.items()}, ev.last)
    depends = g.depends_on(ev.params, ev.last)  # values that are differentiated
    picture = Picture(ev.title, ev.output, notes=list(ev.notes))
    for i in shown:
        picture.boxes.append(_box(ev, i, display.get(i) or text_of[i], shown_set, depends))
    if ev.values is None:
        engine = None
    else:
        engine = adapter.engine()
    for i in shown:
        node = g.nodes[i]
        merged: dict[int, list[str]] = {}
        for k, a in enumerate(node.args):
            if a not in shown_set:
                continue
            label = "" if engine is None else edge_label(engine, g, ev.values, i, k, text_of)
            merged.setdefault(a, []).append(label)
        for a, labels in merged.items():
            picture.edges.append(Edge(f"n{a}", f"n{i}", _merge(labels)))
    return picture


def _merge(labels: list[str]) -> str:
    """Parallel edges (x*x uses x twice) are one edge whose local derivative is the sum."""
    if len(labels) == 1:
        return labels[0]
    try:
        return number(sum(float(t) for t in labels))
    except ValueError:
        return " + ".join(labels)


def _box(ev: Evaluated, i: int, name: str, shown: set[int], depends: bytearray) -> Box:
    g = ev.graph
    node = g.nodes[i]
    if i == ev.root:
        kind = LOSS
    elif i in ev.params:
        kind = PARAM
    elif i in ev.inputs:
        kind = INPUT
    elif node.op == "const" or not depends[i]:
        kind = CONSTANT
    else:
        kind = NODE
    if node.op == "var":
        operation = ("input" if i not in ev.params else
                     "variable" if ev.expression else "param")
    elif node.op == "const":
        operation = constant_text(g, i)
    else:
        operation = operation_text(g, i, shown)
    value = gradient = shape = ""
    if ev.values is not None:
        v = ev.values[i]
        value, shape = value_text(v), shape_text(v)
        adj = ev.adjoint[i] if i <= ev.root else None
        if i in ev.undefined:
            gradient = _("undefined")
        elif adj is not None:
            gradient = value_text(adj)
        elif depends[i]:
            gradient = "0"  # the output does not depend on this value
    return Box(f"n{i}", clip(name), operation, value, gradient, kind, shape)


# ----------------------------------------------------------------- marking ---
def mark(picture: Picture, ev: Evaluated, spec: Any, report: Any) -> None:
    """Mark boxes with a wrong expect answer and parameters whose gradient check fails."""
    def box_of(name: str) -> Box | None:
        if name in ("loss", "loss_after"):
            return picture.box(f"n{ev.root}")
        for prefix in ("grad.", "update."):
            if name.startswith(prefix):
                name = name[len(prefix):]
        nid = spec.named.get(name)
        return None if nid is None else picture.box(f"n{nid}")

    wrong = 0
    for entry in report.expect:
        if entry.ok:
            continue
        wrong += 1
        box = box_of(entry.name)
        if box is None:
            continue
        box.marked = True
        box.reasons.append(M("expected {name} = {expected}, actual {actual}",
                             name=entry.name, expected=value_text(entry.expected),
                             actual=value_text(entry.actual)))
        if entry.diagnosis:
            box.reasons.append(entry.diagnosis)
    failed = [p for p in report.params if not p.ok]
    for p in failed:
        box = picture.box(f"n{spec.params[p.name]}")
        box.marked = True
        box.reasons.append(M("gradient check failed: {why}",
                             why=p.attribution or "reverse and numeric disagree"))
    if report.expect:
        picture.notes.append(M("expect answers: {right} right, {wrong} wrong",
                               right=len(report.expect) - wrong, wrong=wrong))
    picture.notes.append(M("gradient check: {failed} of {total} parameters failed",
                           failed=len(failed), total=len(report.params))
                         if failed else M("gradient check: every parameter passed"))
