"""What every printer shows of a box, and the one palette they share.

A box reads, top to bottom: its name, its operation (with the tensor shape),
`value …`, `grad …` (d output / d this value) and, when marked, one `✗` line
per reason.  DOT, Mermaid and SVG all print these same lines, so the formats
carry the same information.
"""
from __future__ import annotations

from dataclasses import dataclass

from gradcli.i18n import N_, _, text
from gradcli.i18n.width import display_width
from gradcli.pictures.labels import clip
from gradcli.pictures.model import (CONSTANT, INPUT, KIND_LEGEND, LOSS, MARKED_LEGEND, NODE,
                                    PARAM, Box, Picture)

REASON_MAX = 44  # characters of a reason shown in the box (the full text is a tooltip)
_OPERATION_WORDS = {"param": N_("param"), "input": N_("input"), "variable": N_("variable")}


@dataclass(frozen=True)
class Style:
    fill: str
    stroke: str
    dash: str  # SVG stroke-dasharray ("" for solid)
    width: float  # stroke width


STYLES = {
    PARAM: Style("#dbeafe", "#1d4ed8", "", 1.6),
    INPUT: Style("#f1f5f9", "#64748b", "5,3", 1.2),
    NODE: Style("#ffffff", "#334155", "", 1.0),
    LOSS: Style("#fef3c7", "#b45309", "", 2.4),
    CONSTANT: Style("#f8fafc", "#94a3b8", "2,2", 1.0),
}
MARKED = Style("#fee2e2", "#dc2626", "", 3.0)
MARK_COLOR = "#b91c1c"
EDGE_COLOR = "#475569"
LABEL_COLOR = "#1e3a8a"


@dataclass(frozen=True)
class Line:
    text: str
    role: str  # "name", "op", "value", "grad", "mark"


def operation_line(box: Box) -> str:
    op = box.operation
    op = _(_OPERATION_WORDS[op]) if op in _OPERATION_WORDS else op
    return f"{op}  {box.shape}" if box.shape else op


def box_lines(box: Box) -> list[Line]:
    lines = [Line(box.name, "name"), Line(operation_line(box), "op")]
    if box.value:
        lines.append(Line(_("value {value}", value=box.value), "value"))
    if box.gradient:
        lines.append(Line(_("grad {gradient}", gradient=box.gradient), "grad"))
    for reason in box.reasons[:2]:
        lines.append(Line("✗ " + clip(text(reason), REASON_MAX), "mark"))
    return lines


def tooltip(box: Box) -> str:
    """The full text of a box (SVG <title>, DOT tooltip): reasons unclipped."""
    parts = [line.text for line in box_lines(box) if line.role != "mark"]
    parts += ["✗ " + text(r) for r in box.reasons]
    return "\n".join(parts)


def legend(picture: Picture) -> list[tuple[str, Style]]:
    """(text, style) for each kind present, then the marked style when used."""
    rows = [(_(KIND_LEGEND[k]), STYLES[k]) for k in picture.kinds()]
    if any(b.marked for b in picture.boxes):
        rows.append((_(MARKED_LEGEND), MARKED))
    return rows


def legend_note(picture: Picture) -> str:
    return _("grad = d{output}/d(box); edge label = local derivative ∂(head)/∂(tail)",
             output=picture.output)


def style_of(box: Box) -> Style:
    if box.marked:
        base = STYLES[box.kind]
        return Style(MARKED.fill, MARKED.stroke, base.dash, MARKED.width)
    return STYLES[box.kind]


def columns(s: str) -> int:
    """Display width in character cells (East Asian wide characters count 2)."""
    return display_width(s)
