"""`gradcli graph` as a library call: arguments in, the drawing out (or written)."""
from __future__ import annotations

import os
import sys

from gradcli.errors import GradcliError
from gradcli.i18n import M
from gradcli.pictures import build, output

#: what an ASCII (or other narrow) terminal gets instead of these characters
ASCII = {"∂": "d", "ᵀ": "^T", "‖": "|", "×": "*", "−": "-", "÷": "/", "⊙": "*", "·": ".",
         "✗": "x", "…": "...", "²": "^2", "σ": "sigmoid", "ŷ": "yhat"}


def is_file(target: str) -> bool:
    """An argument ending in .yaml/.yml or containing `/` is a file; anything else an
    expression."""
    return target.lower().endswith((".yaml", ".yml")) or "/" in target


def draw(target: str, at: list[str] | None = None, fmt: str | None = None,
         out: str | None = None, layout: str = "auto",
         max_boxes: int = build.MAX_BOXES, check: bool | None = None,
         budget=None) -> str | None:
    """Build and render the picture; write it to `out` (atomically) or return the text.
    `budget` (gradcli.budget.Budget, from --max-memory) bounds a file's memory and work."""
    if out == "-":  # the Unix convention: standard output
        out = None
    chosen = output.choose_format(fmt, out)
    if layout not in output.LAYOUTS:
        raise GradcliError(M("unknown layout '{layout}' (known: {known})", layout=layout,
                             known=", ".join(output.LAYOUTS)), "--layout")
    if not 1 <= max_boxes <= build.MAX_BOXES_CEILING:
        raise GradcliError(M("must be between 1 and {ceiling}",
                             ceiling=f"{build.MAX_BOXES_CEILING:,}"), "--max-boxes")
    if out is not None:
        output.check_output_path(out)  # before any work
    if is_file(target):
        if not target.lower().endswith((".yaml", ".yml")) and not os.path.exists(target):
            # `x/2` is a file by the rule above: say why it was not read as an expression
            raise GradcliError(M("no such file (an argument containing '/' is read as a "
                                 "file, not as an expression)"), target)
        if at:
            raise GradcliError(M("--at is for an expression; a file sets its own values"),
                               "--at")
        picture = build.from_spec(target, check=check, max_boxes=max_boxes, budget=budget)
    else:
        picture = build.from_expression(target, at, max_boxes=max_boxes)
    drawing = output.render(picture, chosen, layout)
    if out is None:
        return drawing
    output.write_atomic(out, drawing)
    return None


def print_text(content: str) -> None:
    """Print to stdout; characters the terminal's encoding lacks get ASCII forms."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        content.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        for ch, plain in ASCII.items():
            content = content.replace(ch, plain)
        content = content.encode(encoding, "replace").decode(encoding)
    sys.stdout.write(content)
    sys.stdout.flush()
