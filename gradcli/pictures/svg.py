"""SVG of a picture: drawn from gradcli's own layout, or by Graphviz `dot -Tsvg`.

Either way the drawing holds the same information (every box's lines from
`view.box_lines`, the edge labels, a style per kind and for marked boxes,
the title, notes and legend), is one self-contained XML document (no
scripts, no external fonts, images or DTDs) and uses a monospace font,
whose widths are predictable enough to size the boxes.
"""
from __future__ import annotations

import re
import shutil
import subprocess

from gradcli.errors import GradcliError
from gradcli.i18n import M, _, text
from gradcli.pictures import layout as layered
from gradcli.pictures.model import Picture
from gradcli.pictures.view import (EDGE_COLOR, LABEL_COLOR, MARK_COLOR, box_lines, columns,
                                   legend, legend_note, style_of, tooltip)

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
CHAR = 0.61  # advance of a monospace character, in em
SIZES = {"name": 12.0, "op": 11.0, "value": 11.0, "grad": 11.0, "mark": 11.0}
LINE = 1.3  # line height, in em
PAD_X, PAD_Y = 8.0, 5.0
LABEL_SIZE = 10.5
TITLE_SIZE = 14.0
NOTE_SIZE = 11.0
DOT_TIMEOUT = 60.0  # seconds, for --layout dot
#: With --layout auto, larger graphs use the built-in layout: Graphviz's time
#: grows steeply with labelled edges (measured: 60 boxes 0.7 s, 100 boxes 7 s,
#: 250 boxes of long skip edges over 5 minutes), the built-in layout's does not.
AUTO_DOT_MAX_BOXES = 80
AUTO_DOT_TIMEOUT = 10.0  # past this, auto falls back to the built-in layout


def xml(s: str, lines: bool = False) -> str:
    """Text for XML content and attributes: markup escaped, control characters (and
    line breaks, unless `lines`) shown as spaces."""
    s = "".join(ch if ch.isprintable() or (lines and ch == "\n") else " " for ch in str(s))
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def text_width(s: str, size: float) -> float:
    return columns(s) * CHAR * size


def box_size(box) -> tuple[float, float]:
    lines = box_lines(box)
    w = max(text_width(line.text, SIZES[line.role]) for line in lines) + 2 * PAD_X
    h = sum(SIZES[line.role] * LINE for line in lines) + 2 * PAD_Y
    return max(w, 40.0), h


def label_size(label: str) -> tuple[float, float]:
    if not label:
        return 0.0, 0.0
    return text_width(label, LABEL_SIZE) + 6.0, LABEL_SIZE * LINE + 2.0


# ------------------------------------------------------------------ choice ---
def render(picture: Picture, how: str = "auto") -> str:
    """`how`: "builtin", "dot" (Graphviz required) or "auto"."""
    if how == "builtin":
        return render_builtin(picture)
    has_dot = shutil.which("dot") is not None
    if how == "dot":
        if not has_dot:
            raise GradcliError(M("Graphviz 'dot' is not installed (use --layout builtin or "
                                 "auto)"), "--layout")
        return render_dot(picture)
    if has_dot and len(picture.boxes) <= AUTO_DOT_MAX_BOXES:
        try:
            return render_dot(picture, AUTO_DOT_TIMEOUT)
        except GradcliError:
            pass  # a failing or slow Graphviz: the built-in layout draws it
    return render_builtin(picture)


def render_dot(picture: Picture, timeout: float = DOT_TIMEOUT) -> str:
    from gradcli.pictures import dot

    try:
        done = subprocess.run(["dot", "-Tsvg"], input=dot.render(picture).encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GradcliError(M("Graphviz 'dot' took longer than {seconds} s (--layout builtin "
                             "draws large graphs quickly)", seconds=f"{timeout:g}"),
                           "--layout") from None
    except OSError as exc:
        raise GradcliError(M("cannot run Graphviz 'dot': {why}", why=str(exc)),
                           "--layout") from None
    if done.returncode != 0:
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise GradcliError(M("Graphviz 'dot' failed: {why}", why=first[0] if first else "?"),
                           "--layout")
    out = done.stdout.decode("utf-8")
    # self-contained: no DOCTYPE pointing at an external DTD, no generator comments
    out = re.sub(r"<!DOCTYPE[^>]*>\s*", "", out)
    return re.sub(r"<!--.*?-->\s*", "", out, flags=re.S)


# ----------------------------------------------------------------- builtin ---
def render_builtin(picture: Picture) -> str:
    sizes = {b.id: box_size(b) for b in picture.boxes}
    edges = [(e.source, e.target, *label_size(e.label)) for e in picture.edges]
    placed = layered.layout([(b.id, *sizes[b.id]) for b in picture.boxes], edges)
    header, header_h, header_w = _header(picture)
    width = max(placed.width, header_w)
    height = placed.height + header_h
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" '
           f'height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" '
           f'font-family="{FONT}" xml:space="preserve">',
           f"<title>{xml(picture.title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           f'<path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOR}"/></marker></defs>',
           f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height)}" fill="#ffffff"/>']
    out += header
    out.append(f'<g transform="translate(0,{_f(header_h)})">')
    out += _edges(picture, placed)
    out += _boxes(picture, placed)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _header(picture: Picture) -> tuple[list[str], float, float]:
    """Title, notes and the legend above the graph; returns (svg, height, width)."""
    x, y = layered.MARGIN, layered.MARGIN + TITLE_SIZE
    out = [f'<text x="{_f(x)}" y="{_f(y)}" font-size="{TITLE_SIZE:g}" font-weight="bold">'
           f"{xml(picture.title)}</text>"]
    width = x + text_width(picture.title, TITLE_SIZE)
    for note in [text(n) for n in picture.notes] + [legend_note(picture)]:
        y += NOTE_SIZE * LINE
        out.append(f'<text x="{_f(x)}" y="{_f(y)}" font-size="{NOTE_SIZE:g}">{xml(note)}</text>')
        width = max(width, x + text_width(note, NOTE_SIZE))
    y += NOTE_SIZE * LINE + 4
    lx = x
    out.append(f'<text x="{_f(lx)}" y="{_f(y + NOTE_SIZE * 0.9)}" font-size="{NOTE_SIZE:g}" '
               f'font-weight="bold">{xml(_("legend"))}</text>')
    lx += text_width(_("legend"), NOTE_SIZE) + 10
    for words, st in legend(picture):
        dash = f' stroke-dasharray="{st.dash}"' if st.dash else ""
        out.append(f'<rect x="{_f(lx)}" y="{_f(y)}" width="22" height="13" rx="3" '
                   f'fill="{st.fill}" stroke="{st.stroke}" stroke-width="{st.width:g}"{dash}/>')
        lx += 28
        out.append(f'<text x="{_f(lx)}" y="{_f(y + NOTE_SIZE * 0.9)}" '
                   f'font-size="{NOTE_SIZE:g}">{xml(words)}</text>')
        lx += text_width(words, NOTE_SIZE) + 16
    width = max(width, lx)
    return out, y + 13 + 8, width + layered.MARGIN


def _path(ops: list[tuple]) -> str:
    parts = []
    for op in ops:
        parts.append(op[0] + " ".join(_f(v) for v in op[1:]))
    return " ".join(parts)


def _edges(picture: Picture, placed) -> list[str]:
    out = [f'<g fill="none" stroke="{EDGE_COLOR}" stroke-width="1.2">']
    for route in placed.routes:
        out.append(f'<path d="{_path(route.path)}" marker-end="url(#arrow)"/>')
    out.append("</g>")
    out.append(f'<g font-size="{LABEL_SIZE:g}" fill="{LABEL_COLOR}" text-anchor="middle">')
    for edge, route in zip(picture.edges, placed.routes):
        r = route.label
        if r is None:
            continue
        out.append(f'<rect x="{_f(r.x)}" y="{_f(r.y)}" width="{_f(r.w)}" height="{_f(r.h)}" '
                   f'fill="#ffffff" fill-opacity="0.9" stroke="none"/>')
        out.append(f'<text x="{_f(r.x + r.w / 2)}" y="{_f(r.y + r.h / 2 + LABEL_SIZE * 0.35)}">'
                   f"{xml(edge.label)}</text>")
    out.append("</g>")
    return out


def _boxes(picture: Picture, placed) -> list[str]:
    out = []
    for box in picture.boxes:
        r = placed.boxes[box.id]
        st = style_of(box)
        dash = f' stroke-dasharray="{st.dash}"' if st.dash else ""
        out.append(f'<g id="{box.id}" class="box {box.kind}'
                   f'{" marked" if box.marked else ""}"><title>{xml(tooltip(box), lines=True)}</title>')
        out.append(f'<rect x="{_f(r.x)}" y="{_f(r.y)}" width="{_f(r.w)}" height="{_f(r.h)}" '
                   f'rx="5" fill="{st.fill}" stroke="{st.stroke}" '
                   f'stroke-width="{st.width:g}"{dash}/>')
        y = r.y + PAD_Y
        cx = r.x + r.w / 2
        for line in box_lines(box):
            size = SIZES[line.role]
            y += size * LINE
            attrs = ' font-weight="bold"' if line.role == "name" else ""
            if line.role == "mark":
                attrs += f' fill="{MARK_COLOR}"'
            out.append(f'<text x="{_f(cx)}" y="{_f(y - size * 0.3)}" font-size="{size:g}" '
                       f'text-anchor="middle"{attrs}>{xml(line.text)}</text>')
        out.append("</g>")
    return out
