"""Mermaid `graph LR` text of a picture (GitHub renders it in a ```mermaid block).

Labels are double-quoted; every character that Mermaid's grammar or its
HTML labels could read as syntax (`" # < > & | [ ] { } ( ) ; ` and the
backtick) is written as a Mermaid entity code `#NN;`, and control
characters are dropped, so a name cannot end a label or inject markup.
Boxes lines are joined with `<br/>` (Mermaid's line break).
"""
from __future__ import annotations

from gradcli.i18n import text
from gradcli.pictures.model import KINDS, Picture
from gradcli.pictures.view import (EDGE_COLOR, MARKED, STYLES, box_lines, legend_note)

_SPECIAL = set('"#<>&|[]{}();`\\*_~')


def escape(s: str) -> str:
    out = []
    for ch in str(s):
        if not ch.isprintable():
            out.append(" ")
        elif ch in _SPECIAL:
            out.append(f"#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def _comment(s: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in str(s))


def _class_def(name: str, fill: str, stroke: str, width: float, dash: str) -> str:
    dashes = f",stroke-dasharray:{dash.replace(',', ' ')}" if dash else ""
    return (f"    classDef {name} fill:{fill},stroke:{stroke},"
            f"stroke-width:{width:g}px,color:#0f172a{dashes}")


def render(picture: Picture) -> str:
    # comments after the header: the diagram type must come first
    lines = ["graph LR", f"    %% {_comment(picture.title)}"]
    lines += [f"    %% {_comment(text(n))}" for n in picture.notes]
    lines.append(f"    %% {_comment(legend_note(picture))}")
    for box in picture.boxes:
        rows = []
        for line in box_lines(box):
            t = escape(line.text)
            rows.append(f"<b>{t}</b>" if line.role == "name" else t)
        lines.append(f'    {box.id}["{"<br/>".join(rows)}"]')
    for edge in picture.edges:
        label = f'|"{escape(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} -->{label} {edge.target}")
    for kind in KINDS:
        st = STYLES[kind]
        lines.append(_class_def("k" + kind, st.fill, st.stroke, st.width, st.dash))
    lines.append(_class_def("kmarked", MARKED.fill, MARKED.stroke, MARKED.width, ""))
    for kind in KINDS:
        ids = [b.id for b in picture.boxes if b.kind == kind and not b.marked]
        if ids:
            lines.append(f"    class {','.join(ids)} k{kind}")
    marked = [b.id for b in picture.boxes if b.marked]
    if marked:
        lines.append(f"    class {','.join(marked)} kmarked")
    if picture.edges:
        lines.append(f"    linkStyle default stroke:{EDGE_COLOR}")
    return "\n".join(lines) + "\n"
