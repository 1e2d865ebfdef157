"""Choosing the format, printing it, and writing `--output` files atomically."""
from __future__ import annotations

import os
import tempfile

from gradcli.errors import GradcliError
from gradcli.i18n import M
from gradcli.pictures.model import Picture

FORMATS = ("dot", "mermaid", "svg", "html")
LAYOUTS = ("auto", "dot", "builtin")
EXTENSIONS = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".svg": "svg",
              ".html": "html", ".htm": "html"}


def choose_format(fmt: str | None, output: str | None) -> str:
    """--format, else the output's extension, else dot; an unknown extension is refused."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise GradcliError(M("unknown format '{fmt}' (known: {known})", fmt=fmt,
                                 known=", ".join(FORMATS)), "--format")
        return fmt
    if output is None:
        return "dot"
    ext = os.path.splitext(output)[1].lower()
    if ext not in EXTENSIONS:
        raise GradcliError(M("unknown extension '{ext}': use {known}, or --format",
                             ext=ext or "(none)", known=" ".join(EXTENSIONS)), output)
    return EXTENSIONS[ext]


def render(picture: Picture, fmt: str, layout: str = "auto") -> str:
    if layout not in LAYOUTS:
        raise GradcliError(M("unknown layout '{layout}' (known: {known})", layout=layout,
                             known=", ".join(LAYOUTS)), "--layout")
    if fmt == "dot":
        from gradcli.pictures import dot

        return dot.render(picture)
    if fmt == "mermaid":
        from gradcli.pictures import mermaid

        return mermaid.render(picture)
    from gradcli.pictures import svg

    drawing = svg.render(picture, layout)
    if fmt == "svg":
        return drawing
    from gradcli.pictures import html

    return html.page(picture, drawing)


def check_output_path(path: str) -> None:
    """Refuse, before any work, an output whose directory is missing or unwritable."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise GradcliError(M("'{folder}' is not a directory", folder=folder), path)
        raise GradcliError(M("directory '{folder}' does not exist", folder=folder), path)
    if os.path.isdir(path):
        raise GradcliError(M("is a directory"), path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise GradcliError(M("directory '{folder}' is not writable", folder=folder), path)


def write_atomic(path: str, content: str) -> None:
    """Write to a temporary file in the same directory, then rename over `path`:
    a reader sees the old file or the whole new one, never a partial file."""
    check_output_path(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".gradcli-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise GradcliError(M("cannot write: {why}", why=exc.strerror or str(exc)), path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise GradcliError(M("cannot write: {why}", why=exc.strerror or str(exc)),
                               path) from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
