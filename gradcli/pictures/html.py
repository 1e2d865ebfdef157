"""A minimal self-contained HTML page around the SVG picture (inline SVG and
CSS, no scripts, nothing fetched from the network).  The full HTML report of
`check` and `derive` builds on the same SVG."""
from __future__ import annotations

import re

from gradcli.i18n import _, language, text
from gradcli.pictures.model import Picture
from gradcli.pictures.svg import xml

STYLE = ("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;"
         "color:#0f172a}figure{margin:0;overflow-x:auto}h1{font-size:1.2em}"
         "p.note{margin:.2em 0;color:#334155}")


def inline(svg: str) -> str:
    """The SVG document as an element for HTML: no XML declaration."""
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)


def page(picture: Picture, svg: str) -> str:
    title = _("Computation graph: {name}", name=picture.title)
    notes = "".join(f'<p class="note">{xml(text(n))}</p>' for n in picture.notes)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{language()}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{xml(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            f"<h1>{xml(title)}</h1>{notes}\n<figure>\n{inline(svg)}</figure>\n"
            "</body></html>\n")
