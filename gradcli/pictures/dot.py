"""Graphviz DOT text of a picture (`dot -Tsvg` draws it).

Every user string goes into an HTML-like label (`<...>`) with `& < > "`
escaped and control characters removed, so no name can break out of a
label or trigger one of DOT's backslash escapes (`\\N`, `\\l`); tooltips,
the only quoted strings with user text, escape `\\` and `"`.
"""
from __future__ import annotations

from gradcli.i18n import _, text
from gradcli.pictures.model import Picture
from gradcli.pictures.view import (EDGE_COLOR, LABEL_COLOR, MARK_COLOR, box_lines, legend,
                                   legend_note, style_of, tooltip)

FONT = "DejaVu Sans Mono,Menlo,Consolas,monospace"


def html(s: str) -> str:
    """Text for an HTML-like label: markup characters escaped, control characters dropped."""
    s = "".join(ch if ch.isprintable() else " " for ch in str(s))
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("]", "&#93;").replace("[", "&#91;"))


def quoted(s: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, lines as \\n."""
    s = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in str(s))
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def _box_label(box) -> str:
    rows = []
    for line in box_lines(box):
        t = html(line.text)
        if line.role == "name":
            rows.append(f"<b>{t}</b>")
        elif line.role == "mark":
            rows.append(f'<font color="{MARK_COLOR}">{t}</font>')
        else:
            rows.append(t)
    return "<" + "<br/>".join(rows) + ">"


def _edge_label(label: str) -> str:
    # a white cell behind the number keeps it readable where it crosses a line
    return (f'<<table border="0" cellborder="0" cellpadding="1" bgcolor="white">'
            f'<tr><td><font color="{LABEL_COLOR}">{html(label)}</font></td></tr></table>>')


def _legend(picture: Picture) -> str:
    """One row of swatches, as in the built-in drawing (part of the graph's title)."""
    cells = [f"<td><b>{html(_('legend'))}</b></td>"]
    for words, style in legend(picture):
        cells.append(f'<td border="1" color="{style.stroke}" bgcolor="{style.fill}">'
                     f"{html(words)}</td>")
    return '<table border="0" cellspacing="4"><tr>' + "".join(cells) + "</tr></table>"


def render(picture: Picture) -> str:
    lines = [f"<b>{html(picture.title)}</b>"] + [html(text(n)) for n in picture.notes]
    lines.append(html(legend_note(picture)))
    # each line left-aligned; the legend table closes the title
    title = ['<table border="0" cellpadding="1" cellspacing="0">']
    title += [f'<tr><td align="left">{line}</td></tr>' for line in lines]
    title += [f'<tr><td align="left">{_legend(picture)}</td></tr>', "</table>"]
    out = [
        "digraph gradcli {",
        f'  graph [rankdir=LR, fontname="{FONT}", fontsize=12, labelloc=t, labeljust=l, '
        f'nodesep=0.25, ranksep=0.45, label=<{"".join(title)}>];',
        f'  node [shape=box, style="rounded,filled", fontname="{FONT}", fontsize=11, '
        f'margin="0.12,0.05"];',
        f'  edge [fontname="{FONT}", fontsize=10, color="{EDGE_COLOR}", arrowsize=0.7];',
    ]
    for box in picture.boxes:
        st = style_of(box)
        style = "rounded,filled" + (",dashed" if st.dash else "")
        out.append(f"  {box.id} [label={_box_label(box)}, fillcolor=\"{st.fill}\", "
                   f"color=\"{st.stroke}\", penwidth={st.width:g}, style=\"{style}\", "
                   f"tooltip={quoted(tooltip(box))}];")
    for edge in picture.edges:
        attrs = f" [label={_edge_label(edge.label)}]" if edge.label else ""
        out.append(f"  {edge.source} -> {edge.target}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"
