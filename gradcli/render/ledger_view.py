"""The chain rule of a check as equations: edge definitions, one line per
parameter (or every path with --paths), the backprop recurrence and the
per-layer ledger of a layer network.  Notation in `equations.py`."""
from __future__ import annotations

from typing import Any

from gradcli.i18n import _
from gradcli.render.equations import (Deriv, Equation, Expr, Formula, Name, Number, Product,
                                      Shaped, Sum, Tensor, Words)
from gradcli.render.model import (ERROR, INFO, WARN, Cell, Column, EquationGroup, Equations,
                                  LayerEntry, Ledger, Line, Note, Row, Table)
from gradcli.render.numbers import err, g, short, tensor_view

PATHS_SHOWN = 16  # the ledger lists at most this many paths per parameter (ledger.attach)


def _local(f) -> Deriv:
    consumer, producer = f.consumer, f.producer
    if not consumer:  # a factor from an older report: "dyhat/dz_out"
        consumer, producer = f.edge.replace("∂", "")[1:].split("/d", 1)
    return Deriv(consumer, producer, partial=True)


def edge_equation(f) -> Equation:
    """∂yhat/∂z_out = yhat*(1 - yhat) = 0.137712 (no `= 1 = 1` when the expression is
    the number itself)."""
    value = g(f.value, 6)
    if not f.expr or f.expr == value:
        return Equation(_local(f), Number(value))
    return Equation(_local(f), Expr(f.expr, f.sym, f.order), Number(value))


def chain_equation(chain: list, param: str, root: str) -> Equation:
    """dL/dw3 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3 = (-0.1649)(0.1377)(0.7503) = -0.01704,
    summed over paths (the same text as `ledger.chain_line`)."""
    lhs = Deriv(root, param)
    total = Number(short(sum(p.product for p in chain)))
    if all(len(p.factors) == 1 for p in chain):  # direct edges: nothing to multiply
        names = [_local(p.factors[0]) for p in chain]
        if len(chain) == 1:
            return Equation(lhs, names[0], total)
        return Equation(lhs, Sum(tuple(names)),
                        Sum(tuple(Number(short(p.product)) for p in chain)), total)
    names = [Product(tuple(_local(f) for f in p.factors)) for p in chain]
    nums = [Product(tuple(Number(short(f.value)) for f in p.factors), numbers=True)
            for p in chain]
    if len(chain) == 1:
        return Equation(lhs, names[0], nums[0], total)
    return Equation(lhs, Sum(tuple(names)), Sum(tuple(nums)), total)


def chain_block(report, show_paths: bool) -> Equations | None:
    params = [p for p in report.params if p.chain]
    if not params:
        return None
    root = report.loss_name
    groups: list[EquationGroup] = []
    if not show_paths:
        seen, defined = set(), []
        for p in params:
            for path in p.chain:
                for f in path.factors:
                    if f.edge not in seen and f.expr:
                        seen.add(f.edge)
                        defined.append(edge_equation(f))
        groups.append(EquationGroup(defined, indent=2))
        groups.append(EquationGroup([chain_equation(p.chain, p.name, root) for p in params],
                                    indent=2))
        return Equations("chain", _("Chain rule"), groups, gap=bool(defined))
    for p in params:
        for path in p.chain:
            lines = [edge_equation(f) for f in path.factors]
            lines.append(Equation(Words(_("product")), Number(g(path.product, 6))))
            groups.append(EquationGroup(lines, caption=_("path {path}:",
                                                         path=" -> ".join(path.path)),
                                        indent=6))
        groups.append(EquationGroup([chain_equation(p.chain, p.name, root)], indent=2))
    return Equations("chain", _("Chain rule"), groups)


def unlisted(report) -> tuple[list[str], list[str]]:
    """Parameters whose paths are not listed: too many, or tensor-valued."""
    if report.form != "graph":
        return [], []
    capped = [p.name for p in report.params if p.paths_total > PATHS_SHOWN and not p.chain]
    tensors = [p.name for p in report.params
               if p.paths_total and not p.chain and p.paths_total <= PATHS_SHOWN]
    return capped, tensors


def unlisted_lines(capped: list[str], tensors: list[str]) -> list[Line]:
    lines = []
    if capped:
        lines.append(Line(_("too many paths to list for {names}: the backprop recurrence "
                            "follows", names=", ".join(capped)), WARN))
    if tensors:
        lines.append(Line(_("tensor values: local derivatives are Jacobians, so the ledger "
                            "is the backprop recurrence"), WARN))
    return lines


def _value(value: Any) -> Any:
    return Number(short(value)) if value is None or isinstance(value, float) \
        else Tensor(tensor_view(value, 4))


def recurrence_equation(row, root: str) -> Equation:
    """dL/dz_out = dL/dyhat · ∂yhat/∂z_out = (-0.1649)(0.1377) = -0.02271; a term from the
    loss itself is its local derivative alone (no dL/dL factor)."""
    value = row.value
    lhs: Any = Deriv(root, row.node)
    if value is not None and not isinstance(value, float):
        lhs = Shaped(lhs, "×".join(str(n) for n in getattr(value, "shape", ())))
    names, nums = [], []
    for t in row.terms:
        local = Deriv(t.consumer, row.node, partial=True)
        if t.consumer == root:
            names.append(local)
            nums.append(_value(t.local))
        else:
            names.append(Product((Deriv(root, t.consumer), local)))
            nums.append(Product((_value(t.upstream), _value(t.local)), numbers=True))
    sides: list[Any] = [lhs]
    if names:
        sides.append(names[0] if len(names) == 1 else Sum(tuple(names)))
    numeric = bool(row.terms) and all(t.local is not None for t in row.terms)
    if numeric and not (len(nums) == 1 and isinstance(nums[0], Number)):
        sides.append(nums[0] if len(nums) == 1 else Sum(tuple(nums)))
    sides.append(_value(value))
    return Equation(*sides)


def recurrence_block(report) -> Equations:
    root = report.loss_name
    title = _("Backprop recurrence ({rule})",
              rule=f"d{root}/dnode = Σ d{root}/dconsumer · ∂consumer/∂node")
    return Equations("recurrence", title,
                     [EquationGroup([recurrence_equation(r, root) for r in report.recurrence],
                                    indent=2)])


# ------------------------------------------------------------- layer form ---
LAYER_HEADERS = ("delta_k = dL/dz_k", "delta_k", "dW_k = delta_kᵀ @ a_(k-1)",
                 "db_k = Σ_batch delta_k")
#: dW_k's formula in the notes' layout (`weight_layout: in_out`, z = x @ W + b)
IN_OUT_DW = "dW_k = a_(k-1)ᵀ @ delta_k"


def layer_headers(report) -> tuple[str, ...]:
    """The per-layer table's headers, with dW_k's formula in the file's layout."""
    if getattr(report, "weight_layout", None) == "in_out":
        return LAYER_HEADERS[:2] + (IN_OUT_DW,) + LAYER_HEADERS[3:]
    return LAYER_HEADERS


def layer_ledger(report) -> Ledger | None:
    if not report.layers:
        return None
    headers = layer_headers(report)
    columns = [Column(_("layer"), left=True), Column(headers[0], left=True),
               Column(headers[1]), Column(headers[2]), Column(headers[3])]
    rows, entries = [], []
    for layer in report.layers:
        k = layer.layer
        checked = None
        how = layer.how
        if layer.formula_max_diff is not None:  # the textbook shortcut, checked
            checked = _("checked: max |diff| {diff}", diff=err(layer.formula_max_diff))
            how = f"{how}  ({checked})"
        delta, dW, db = (tensor_view(v, 4) for v in (layer.delta, layer.dW, layer.db))
        rows.append(Row([Cell(_("layer {k}", k=k)), Cell(how), Cell(delta.text, tensor=delta),
                         Cell(dW.text, tensor=dW), Cell(db.text, tensor=db)]))
        entries.append(LayerEntry(_("layer {k}", k=k), [
            Equation(Name(f"delta_{k}"), Formula(layer.how), Tensor(delta)),
            Equation(Deriv("L", f"W{k}"), Formula(layer.dW_how), Tensor(dW)),
            Equation(Deriv("L", f"b{k}"), Formula(layer.db_how), Tensor(db))], checked))
    notes = formula_notes(report)
    notes += [Note(f"‖dL/da_{f.layer}‖ = {g(f.norm, 4)}", INFO) for f in report.gradient_flow]
    from gradcli.i18n import text

    notes += [Note(text(w), WARN) for w in report.flow_warnings]
    table = Table("layers", _("Per-layer ledger"), columns, rows)
    return Ledger(_("Per-layer ledger"), table, entries, notes)


def formula_notes(report) -> list[Note]:
    """Per layer, the matrix formulas in the file's layout, and the error signal passed
    down (dL/da_{k-1}) in full where small (as shape and norms where large)."""
    notes = []
    for row in report.layers:
        k = row.layer
        notes.append(Note(_("layer {k}: dW_{k} = {dW} {shape};  db_{k} = {db}", k=k,
                            dW=row.dW_how, shape=row.dW_shape, db=row.db_how), INFO))
        if row.da_how is not None:
            shown = tensor_view(row.da_prev, 4)
            notes.append(Note(f"dL/da_{k - 1} = {row.da_how} = {shown.text}", INFO))
    return notes


def wrong_gradient_notes(report, entry) -> list[Note]:
    """A wrong `grad.<param>` answer: the chain rule written out under its row."""
    if entry.ok or not entry.name.startswith("grad."):
        return []
    param = next((p for p in report.params if p.name == entry.name[5:]), None)
    if param is not None and param.chain:
        equation = chain_equation(param.chain, param.name, report.loss_name)
        from gradcli.render.equations import plain

        return [Note(plain(equation), ERROR, entry.name, equation)]
    if entry.ledger:
        return [Note(entry.ledger, ERROR, entry.name)]
    return []
