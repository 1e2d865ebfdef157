"""Printing reports: the only module that imports Rich.

`text` uses Rich tables on the terminal; `markdown` and `latex` print plain
text for homework write-ups.  Numbers keep enough digits to compare with a
hand calculation and with each other.
"""
from __future__ import annotations

from typing import Any, Iterable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gradcli.i18n import _, text
from gradcli.report import DeriveReport

console = Console(highlight=False, soft_wrap=True, markup=False)
if not console.is_terminal:  # files and pipes: wide enough that numbers never truncate
    console.width = 200


def num(value: Any, digits: int = 10) -> str:
    """A number as a student would copy it: 10 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def err(value: float | None) -> str:
    return "—" if value is None else f"{value:.1e}"


def ok_mark(ok: bool, kink: bool = False) -> Text:
    if kink:
        return Text("kink", style="yellow")
    return Text("ok", style="green") if ok else Text("FAIL", style="bold red")


def _table(title: str, headers: Iterable[str]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left",
                  title_style="bold")
    for h in headers:
        left = h in {"wrt", "name", "node", "diagnosis", "expression", "layer",
                     "delta_k = dL/dz_k"}
        table.add_column(h, justify="left" if left else "right",
                         overflow="fold")
    return table


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------- derive ---
def derive_report(report: DeriveReport, fmt: str) -> None:
    if fmt == "markdown":
        print(derive_markdown(report))
    elif fmt == "latex":
        print(derive_latex(report))
    else:
        derive_text(report)


def _check_word(r) -> str:
    if r.undefined:
        return _("undefined")
    if r.kink:
        return _("kink")
    return _("ok") if r.ok else _("FAIL")


def _value_headers() -> list[str]:
    return [_("wrt"), _("symbolic"), _("reverse"), _("numeric"), _("rel error"), _("check")]


def _value_rows(report: DeriveReport) -> list[list[str]]:
    return [[r.wrt, num(r.value), num(r.reverse), num(r.numeric), err(r.rel_error),
             _check_word(r)] for r in report.gradient if r.evaluated]


def _point(report: DeriveReport) -> str:
    return ", ".join(f"{k} = {num(v)}" for k, v in report.at.items())


def _derivative(r) -> str:
    """`∂f/∂x = 18*x + 6 = 6*(3*x + 1)`: the derivative, and its factored form."""
    if r.derivative is None:
        return f"∂f/∂{r.wrt} = " + _("(symbolic skipped: time budget)")
    shown = f"∂f/∂{r.wrt} = {r.derivative}"
    return f"{shown} = {r.factored}" if r.factored else shown


def answer_lines(row) -> list[str]:
    """The student's --answer for one derivative: the verdict, and for a wrong one
    the counterexample and the diagnosis (empty without an answer)."""
    a = getattr(row, "answer", None)
    if a is None:
        return []
    if a.equivalent:
        how = _("symbolic: the difference simplifies to 0") if a.method == "symbolic" else \
            _("numeric: equal at {points} random points, seed {seed}", points=a.points,
              seed=a.seed)
        return [_("your answer {given}: right ({how})", given=a.given, how=how)]
    lines = [_("your answer {given}: WRONG (compared at {points} random points, seed {seed})",
               given=a.given, points=a.points, seed=a.seed)]
    c = a.counterexample
    if c:
        point = ", ".join(f"{k} = {num(v)}" for k, v in c["at"].items())
        lines.append(_("  at {point}: the derivative is {expected}, your answer gives "
                       "{given}", point=point, expected=num(c["expected"]),
                       given=num(c["given"])))
    if a.diagnosis:
        lines.append(_("  diagnosis: {diagnosis}", diagnosis=text(a.diagnosis)))
    return lines


def _verdict(report: DeriveReport) -> str:
    if not all(r.ok for r in report.gradient):
        return _("the methods DISAGREE")
    if any(r.kink for r in report.gradient):
        return _("ok (at a kink the methods need not agree; see the note)")
    if any(r.undefined for r in report.gradient):
        return _("ok where the derivative is defined (see the note)")
    return _("all three methods agree")


def _substitution_lines(explanation, point: str) -> list[str]:
    """The u-substitution lines, and their values at the point."""
    from gradcli import steps as explaining

    sub = explanation.substitution
    lines = explaining.substitution_view(sub, explanation.order) or []
    values = explaining.substitution_values(sub) if sub is not None else None
    if lines and values:
        lines.append(_("at {point}: {values}", point=point, values=values))
    return lines


def derive_text(report: DeriveReport) -> None:
    from gradcli import steps as explaining

    console.print(Text(f"f = {report.expression}", style="bold"))
    by_var = {e.wrt: e for e in report.steps}
    for r in report.gradient:
        console.print()
        console.print(Text(_derivative(r), style="bold cyan"))
        for line in answer_lines(r):
            console.print(Text("  " + line, style="green" if r.answer.equivalent else "red"))
        if r.note and not r.kink:
            console.print(Text("  " + _("note: {note}", note=text(r.note)), style="yellow"))
        e = by_var.get(r.wrt)
        if e is None:
            continue
        lines = _substitution_lines(e, _point(report))
        if lines:
            console.print(Text("  " + _("u-substitution:"), style="bold"))
            for line in lines:
                console.print(Text(f"    {line}"))
        if e.tree is not None:
            console.print(Text("  " + _("steps:"), style="bold"))
            for line in explaining.format_text(e.tree, e.order).splitlines():
                console.print(Text(f"    {line}"))
    rows = _value_rows(report)
    if rows:
        console.print()
        table = _table(_("Values at {point}", point=_point(report)), _value_headers())
        for row, r in zip(rows, [g for g in report.gradient if g.evaluated]):
            mark = Text(row[-1], style="yellow") if r.undefined else ok_mark(r.ok, r.kink)
            table.add_row(*row[:-1], mark)
        console.print(table)
        for r in report.gradient:
            if r.kink and r.note:
                console.print(Text(f"∂f/∂{r.wrt}: {text(r.note)}", style="yellow"))
    for note in report.notes:
        console.print(Text(_("note: {note}", note=text(note)), style="yellow"))
    if rows:
        console.print(Text(_verdict(report), style="green" if report.ok else "bold red"))


def derive_markdown(report: DeriveReport) -> str:
    from gradcli import steps as explaining

    out = ["## " + _("Derivative of {expression}", expression=f"`{report.expression}`"), ""]
    by_var = {e.wrt: e for e in report.steps}
    for r in report.gradient:
        out += [f"### ∂f/∂{r.wrt}", "", f"`{_derivative(r)}`", ""]
        out += [f"> {line.strip()}" for line in answer_lines(r)] + ([""] if r.answer else [])
        if r.note:
            out += [f"> {text(r.note)}", ""]
        e = by_var.get(r.wrt)
        if e is None:
            continue
        lines = _substitution_lines(e, _point(report))
        if lines:
            out += [_("u-substitution:"), "", "```"] + lines + ["```", ""]
        if e.tree is not None:
            out += [explaining.format_markdown(e.tree, e.order), ""]
    rows = _value_rows(report)
    if rows:
        out += ["### " + _("Values at {point}", point=_point(report)), "",
                _md_table(_value_headers(), rows), "", _verdict(report), ""]
    out += ["> " + _("note: {note}", note=text(n)) for n in report.notes]
    return "\n".join(out).rstrip() + "\n"


def _align(rows: list[str]) -> list[str]:
    """An `align*` that may break across pages (a long explanation is taller than one)."""
    return [r"{\allowdisplaybreaks", r"\begin{align*}", " \\\\\n".join(rows),
            r"\end{align*}}"]


def derive_latex(report: DeriveReport) -> str:
    from gradcli import steps as explaining
    from gradcli.symbolic import symbol, to_latex

    out = []
    by_var = {e.wrt: e for e in report.steps}
    for r in report.gradient:
        lhs = rf"\frac{{\partial f}}{{\partial {to_latex(symbol(r.wrt))}}}"
        if r.expr is not None:  # one row, or several when it would run off the page
            rows = explaining.latex_equation(lhs, [r.expr, r.factored_expr], report.order)
            out += _align(rows)
        else:
            shown = r.latex or rf"\text{{{explaining.latex_escape(_('skipped'))}}}"
            out.append(rf"\[ {lhs} = {shown} \]")
        out += [explaining.latex_escape(line.strip()) + "\n" for line in answer_lines(r)]
        e = by_var.get(r.wrt)
        if e is None:
            continue
        if e.substitution is not None:
            out += _align(explaining.substitution_latex(e.substitution, e.order))
            values = explaining.substitution_values(e.substitution)
            if values:
                out += [explaining.latex_escape(_("at {point}: {values}", point=_point(report),
                                                  values=values)), ""]
        if e.tree is not None:
            out += _align([explaining.format_latex(e.tree, e.order)])
    rows = _value_rows(report)
    if rows:
        out += [r"\begin{tabular}{lrrrrl}",
                " & ".join(explaining.latex_escape(h) for h in _value_headers())
                + r" \\ \hline"]
        out += [" & ".join(explaining.latex_escape(c) for c in row) + r" \\" for row in rows]
        out.append(r"\end{tabular}")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ check ---
def check_json(report) -> dict:
    """The report as JSON-ready data (see `report.CheckReport.to_json`)."""
    return report.to_json()


def tensor(value: Any, digits: int = 6) -> str:
    """Small tensors in full, large ones as shape, norm, min and max."""
    if value is None or isinstance(value, (float, int)):
        return num(value, digits if digits != 6 else 10)
    import numpy as np

    a = np.asarray(value, dtype=float)
    if a.size <= 16:
        return np.array2string(a, precision=digits, separator=", ", suppress_small=False,
                               max_line_width=10_000).replace("\n", "")
    return (f"shape {list(a.shape)}, norm {np.linalg.norm(a):.4g}, "
            f"min {np.nanmin(a):.4g}, max {np.nanmax(a):.4g}")


def _forward_rows(report, spec_texts: dict[str, str]) -> list[list[str]]:
    rows = []
    for name, value in report.nodes.items():
        rows.append([name, spec_texts.get(name, ""), tensor(value)])
    if report.loss_name not in report.nodes:
        rows.append([report.loss_name, spec_texts.get("__loss__", ""), num(report.loss)])
    return rows


def _gradient_rows(report) -> list[list[str]]:
    rows = []
    for p in report.params:
        check = "ok" if p.ok else "FAIL"
        if p.band in ("kink", "fd-artefact") and p.ok:
            check = p.band
        rows.append([p.name, tensor(p.reverse), tensor(p.numeric), tensor(p.symbolic)
                     if p.symbolic is not None else "skipped", err(p.rel_error), check])
    return rows


def _chain_lines(report, show_paths: bool) -> list[str]:
    from gradcli.ledger import chain_line

    lines = []
    for p in report.params:
        if not p.chain:
            continue
        if show_paths:
            for path in p.chain:
                lines.append(f"path {' -> '.join(path.path)}:")
                for f in path.factors:
                    expr = f" = {f.expr}" if f.expr else ""
                    lines.append(f"    {f.edge}{expr} = {f.value:.6g}")
                lines.append(f"    product = {path.product:.6g}")
        lines.append(chain_line(p.chain, p.name, report.loss_name))
    return lines


def _edge_definitions(report) -> list[str]:
    seen, lines = set(), []
    for p in report.params:
        for path in p.chain:
            for f in path.factors:
                if f.edge not in seen and f.expr:
                    seen.add(f.edge)
                    value = f"{f.value:.6g}"
                    rhs = value if f.expr == value else f"{f.expr} = {value}"
                    lines.append(f"{f.edge} = {rhs}")
    return lines


def _recurrence_lines(report) -> list[str]:
    lines = []
    root = report.loss_name
    for row in report.recurrence:
        terms = " + ".join(f"d{root}/d{t.consumer} · d{t.consumer}/d{row.node}"
                           for t in row.terms)
        nums = " + ".join(f"({tensor(t.upstream, 4)})({tensor(t.local, 4)})"
                          if t.local is not None else f"[{tensor(t.upstream, 4)}]"
                          for t in row.terms)
        rhs = f" = {nums}" if nums and all(t.local is not None for t in row.terms) else ""
        value = row.value
        shape = "" if value is None or isinstance(value, float) else \
            f" [{'×'.join(str(n) for n in getattr(value, 'shape', ()))}]"
        lines.append(f"d{root}/d{row.node}{shape} = {terms}{rhs} = {tensor(value, 4)}")
    return lines


def _expect_rows(report) -> list[list[str]]:
    return [[e.name, expected_text(e), tensor(e.actual),
             "ok" if e.ok else "WRONG", text(e.diagnosis)] for e in report.expect]


def _update_rows(report) -> list[list[str]]:
    return [[u.name, tensor(u.old), tensor(u.grad), tensor(u.new)] for u in report.update]


LAYER_HEADERS = ["layer", "delta_k = dL/dz_k", "delta_k", "dW_k = delta_kᵀ @ a_(k-1)",
                 "db_k = Σ_batch delta_k"]


def layer_headers(report) -> list[str]:
    """The per-layer table's headers, with dW_k's formula in the file's layout."""
    if getattr(report, "weight_layout", None) == "in_out":
        return LAYER_HEADERS[:3] + ["dW_k = a_(k-1)ᵀ @ delta_k", LAYER_HEADERS[4]]
    return LAYER_HEADERS


def layer_formula_lines(report) -> list[str]:
    """Per layer, the matrix formulas in the file's layout, and the error signal passed
    down (dL/da_{k-1}) in full where small (as shape and norms where large)."""
    lines = []
    for row in report.layers:
        k = row.layer
        lines.append(_("layer {k}: dW_{k} = {dW} {shape};  db_{k} = {db}", k=k, dW=row.dW_how,
                       shape=row.dW_shape, db=row.db_how))
        if row.da_how is not None:
            lines.append(f"  dL/da_{k - 1} = {row.da_how} = {tensor(row.da_prev, 4)}")
    return lines


def expected_text(e) -> str:
    """An expect answer as given: the number, or the formula and its value."""
    if getattr(e, "formula", None) is None:
        return tensor(e.expected)
    return f"{e.formula} = {tensor(e.expected)}"


def _layer_rows(report) -> list[list[str]]:
    rows = []
    for layer in report.layers:
        how = layer.how
        if layer.formula_max_diff is not None:  # the textbook shortcut, checked
            how += f"  (checked: max |diff| {layer.formula_max_diff:.1e})"
        rows.append([f"layer {layer.layer}", how, tensor(layer.delta, 4),
                     tensor(layer.dW, 4), tensor(layer.db, 4)])
    return rows


def check_report(report, fmt: str, show_paths: bool = False,
                 show_recurrence: bool = False) -> None:
    if fmt == "markdown":
        print(check_markdown(report, show_paths, show_recurrence))
    elif fmt == "latex":
        print(check_latex(report))
    else:
        check_text(report, show_paths, show_recurrence)


def check_text(report, show_paths: bool = False, show_recurrence: bool = False) -> None:
    texts = report.expressions
    console.print(Text(f"{report.file}  ({report.form} form)", style="bold underline"))
    table = _table("Forward pass", ["name", "expression", "value"])
    for row in _forward_rows(report, texts):
        table.add_row(*row)
    console.print(table)
    console.print(f"{report.loss_name} = {num(report.loss)}")
    table = _table(f"Gradients of {report.loss_name}",
                   ["name", "reverse", "numeric", "symbolic", "rel error", "check"])
    for row, p in zip(_gradient_rows(report), report.params):
        mark = ok_mark(p.ok, p.band == "kink")
        table.add_row(*row[:-1], mark if p.band != "fd-artefact" else Text("fd-artefact"))
    console.print(table)
    if report.symbolic_note:
        console.print(Text(f"symbolic: {text(report.symbolic_note)}", style="yellow"))
    for p in report.params:
        if p.attribution:
            console.print(Text(f"{p.name}: {text(p.attribution)}",
                               style="yellow" if p.ok else "red"))
        if p.note:
            console.print(Text(f"{p.name}: {text(p.note)}", style="yellow"))
    for note in report.notes:
        console.print(Text(f"note: {text(note)}", style="yellow"))
    chain = _chain_lines(report, show_paths)
    if chain:
        console.print(Text("Chain rule", style="bold"))
        if not show_paths:
            for line in _edge_definitions(report):
                console.print(f"  {line}")
            console.print()
        for line in chain:
            console.print(f"  {line}")
    capped = [p.name for p in report.params if p.paths_total > 16 and not p.chain
              and report.form == "graph"]
    tensors = [p.name for p in report.params if p.paths_total and not p.chain
               and p.paths_total <= 16 and report.form == "graph"]
    if capped:
        console.print(Text(f"too many paths to list for {', '.join(capped)}: "
                           f"the backprop recurrence follows", style="yellow"))
    if tensors:
        console.print(Text("tensor values: local derivatives are Jacobians, so the ledger "
                           "is the backprop recurrence", style="yellow"))
        capped = capped + tensors
    if report.recurrence and (show_recurrence or capped or not chain):
        console.print(Text("Backprop recurrence (dL/dnode = Σ dL/dconsumer · "
                           "dconsumer/dnode)", style="bold"))
        for line in _recurrence_lines(report):
            console.print(f"  {line}")
    rows = _layer_rows(report)
    if rows:
        table = _table("Per-layer ledger", layer_headers(report))
        for row in rows:
            table.add_row(*row)
        console.print(table)
        for line in layer_formula_lines(report):
            console.print(f"  {line}")
        for line in report.flow_lines:
            console.print(f"  {line}")
    if report.expect:
        table = _table("Hand answers (expect)", ["name", "expected", "actual", "check",
                                                  "diagnosis"])
        for row, e in zip(_expect_rows(report), report.expect):
            table.add_row(*row[:3], ok_mark(e.ok) if e.ok else Text("WRONG", style="bold red"),
                          row[4])
        console.print(table)
        for e in report.expect:
            if not e.ok and e.ledger:
                console.print(f"  {e.name}: {e.ledger}")
    if report.update:
        table = _table(f"One gradient-descent step (lr = {report.lr:g})",
                       ["name", "old", "gradient", "new"])
        for row in _update_rows(report):
            table.add_row(*row)
        console.print(table)
        console.print(f"{report.loss_name}: {num(report.loss)} -> {num(report.loss_after)}")
    console.print(Text("ok" if report.ok else "FAILED", style="bold green" if report.ok
                       else "bold red"))


def check_markdown(report, show_paths: bool = False, show_recurrence: bool = False) -> str:
    texts = report.expressions
    out = [f"## `{report.file}`", "", "### Forward pass", "",
           _md_table(["name", "expression", "value"],
                     [[r[0], f"`{r[1]}`" if r[1] else "", r[2]]
                      for r in _forward_rows(report, texts)]),
           "", f"**{report.loss_name} = {num(report.loss)}**", "",
           "### Gradients", "",
           _md_table(["name", "reverse", "numeric", "symbolic", "rel error", "check"],
                     _gradient_rows(report)), ""]
    if report.symbolic_note:
        out += [f"> symbolic: {text(report.symbolic_note)}", ""]
    chain = _chain_lines(report, show_paths)
    if chain:
        out += ["### Chain rule", "", "```"] + _edge_definitions(report) + [""] + chain + \
            ["```", ""]
    if report.recurrence and (show_recurrence or not chain):
        out += ["### Backprop recurrence", "", "```"] + _recurrence_lines(report) + ["```", ""]
    rows = _layer_rows(report)
    if rows:
        out += ["### Per-layer ledger", "",
                _md_table(layer_headers(report), rows), "", "```"]
        out += layer_formula_lines(report) + ["```", ""]
    if report.expect:
        out += ["### Hand answers", "",
                _md_table(["name", "expected", "actual", "check", "diagnosis"],
                          _expect_rows(report)), ""]
    if report.update:
        out += [f"### One gradient-descent step (lr = {report.lr:g})", "",
                _md_table(["name", "old", "gradient", "new"], _update_rows(report)), "",
                f"{report.loss_name}: {num(report.loss)} → {num(report.loss_after)}", ""]
    out.append("**ok**" if report.ok else "**FAILED**")
    return "\n".join(out) + "\n"


def _tex(text: str) -> str:
    return text.replace("_", r"\_")


def check_latex(report) -> str:
    loss = _tex(report.loss_name)
    out = [rf"\section*{{\texttt{{{_tex(report.file)}}}}}", r"\begin{tabular}{llr}",
           r"name & expression & value \\ \hline"]
    for name, expr, value in _forward_rows(report, report.expressions):
        out.append(rf"\texttt{{{_tex(name)}}} & \texttt{{{_tex(expr)}}} & {value} \\")
    out += [r"\end{tabular}", "", r"\begin{tabular}{lrrrrl}",
            r"param & reverse & numeric & symbolic & rel.\ error & check \\ \hline"]
    out += [" & ".join(_tex(c) for c in row) + r" \\" for row in _gradient_rows(report)]
    out.append(r"\end{tabular}")
    lines = _chain_lines(report, False)
    if lines:
        out += [r"\begin{align*}"]
        for line in lines:
            lhs, _, rhs = line.partition(" = ")
            top, _, bottom = lhs[1:].partition("/d")
            rhs = rhs.replace("·", r"\cdot")
            out.append(rf"\frac{{\partial {_tex(top)}}}{{\partial {_tex(bottom)}}} "
                       rf"&= {_tex(rhs)} \\")
        out.append(r"\end{align*}")
    if report.expect:
        out += [r"\begin{tabular}{lrrll}",
                r"name & expected & actual & check & diagnosis \\ \hline"]
        out += [rf"{_tex(r[0])} & {r[1]} & {r[2]} & {r[3]} & {_tex(r[4])} \\"
                for r in _expect_rows(report)]
        out.append(r"\end{tabular}")
    if report.update:
        out += [rf"One gradient-descent step, $\eta = {report.lr:g}$:", "",
                r"\begin{tabular}{lrrr}", r"param & old & gradient & new \\ \hline"]
        out += [" & ".join(_tex(c) for c in row) + r" \\" for row in _update_rows(report)]
        out += [r"\end{tabular}", "",
                rf"${loss}$: {num(report.loss)} $\to$ {num(report.loss_after)}"]
    return "\n".join(out) + "\n"


def progress_callback():
    """A progress bar on stderr, drawn only for work that takes over a second."""
    import time

    from rich.progress import Progress

    state: dict[str, Any] = {"start": time.monotonic(), "bar": None, "task": None}

    def update(done: int, total: int) -> None:
        if state["bar"] is None:
            if time.monotonic() - state["start"] < 1.0:
                return
            state["bar"] = Progress(console=Console(stderr=True), transient=True)
            state["bar"].start()
            state["task"] = state["bar"].add_task("numeric check", total=total)
        state["bar"].update(state["task"], completed=done)
        if done >= total:
            state["bar"].stop()

    return update
