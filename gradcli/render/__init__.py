"""Printing reports: one view model, printers that only format it.

- `check_view.py`, `derive_view.py`, `ledger_view.py` build the view model
  (`model.py`: sections of tables, lines, equations, steps, figures) from a
  CheckReport or a DeriveReport: they decide what is shown and hold every
  word (through `gradcli.i18n`);
- `equations.py` is math as data (the chain rule's fractions, products,
  sums, values), with its text form;
- `text.py` (Rich, the terminal), `markdown.py`, `latex.py` (a complete
  document for pdflatex) and `html.py` (one self-contained page: inline CSS
  and SVG, MathML) only format the view model.

Nothing here is imported by `gradcli --help`; Rich only by the text printer.
"""
from __future__ import annotations

import sys
from typing import Any

from gradcli.render.numbers import err, num, tensor

FORMATS = ("text", "markdown", "latex", "html")
#: formats whose output is one document for every file of a run
DOCUMENT_FORMATS = ("latex", "html")

__all__ = ["FORMATS", "CheckPrinter", "check_json", "check_markdown", "check_report",
           "derive_report", "err", "num", "progress_callback", "render_check", "render_derive",
           "tensor"]


# ----------------------------------------------------------------- derive ---
def render_derive(report, fmt: str, source: str | None = None, at: list[str] | None = None,
                  body_only: bool = False) -> str | None:
    """The derivation in `fmt` (None for text, which prints itself): `source` and `at`
    are the command line's expression and points, for the graph picture."""
    from gradcli.render.derive_view import derive_section
    from gradcli.render.model import Document

    picture = _expression_picture(source, at) if fmt in ("html", "markdown") else None
    section = derive_section(report, picture)
    document = Document(section.subtitle or section.title, [section])
    return _format(document, fmt, body_only)


def derive_report(report, fmt: str = "text", source: str | None = None,
                  at: list[str] | None = None, body_only: bool = False) -> None:
    shown = render_derive(report, fmt, source, at, body_only)
    if shown is not None:
        _write(shown)


# ------------------------------------------------------------------ check ---
class CheckPrinter:
    """Prints the reports of one `gradcli check` run: text and markdown file by file
    as they come, LaTeX and HTML as one document (a section per file) at the end."""

    def __init__(self, fmt: str = "text", show_paths: bool = False,
                 show_recurrence: bool = False, body_only: bool = False):
        self.fmt = fmt
        self.show_paths = show_paths
        self.show_recurrence = show_recurrence
        self.body_only = body_only
        self.sections: list[Any] = []

    def add(self, report, spec: Any = None) -> None:
        """One checked file (`spec`, the loaded Spec, for the graph picture)."""
        from gradcli.render.check_view import check_section

        picture = _spec_picture(spec, report) if self.fmt in ("html", "markdown") else None
        section = check_section(report, self.show_paths, self.show_recurrence, picture)
        if self.fmt in DOCUMENT_FORMATS:
            self.sections.append(section)
            return
        from gradcli.render.model import Document

        shown = _format(Document(section.title, [section]), self.fmt, self.body_only)
        if shown is not None:
            _write(shown)

    def failed(self, path: str, line: str) -> None:
        """A file that could not be used: a section saying so in a document."""
        if self.fmt in DOCUMENT_FORMATS:
            from gradcli.render.check_view import error_section

            self.sections.append(error_section(path, line))

    def finish(self) -> None:
        """Print the document (LaTeX, HTML), if any file could be checked."""
        if self.fmt not in DOCUMENT_FORMATS or not any(s.kind == "check"
                                                        for s in self.sections):
            return
        from gradcli.i18n import _
        from gradcli.render.model import Document

        files = [s.subtitle or s.title for s in self.sections]
        title = _("gradcli check {files}", files=" ".join(files))
        _write(_format(Document(title, self.sections), self.fmt, self.body_only))


def render_check(reports: list, fmt: str, show_paths: bool = False,
                 show_recurrence: bool = False, specs: list | None = None,
                 body_only: bool = False) -> str:
    """Reports (one per file) as one markdown, LaTeX or HTML text."""
    from gradcli.i18n import _
    from gradcli.render.check_view import check_section
    from gradcli.render.model import Document

    specs = specs or [None] * len(reports)
    sections = [check_section(r, show_paths, show_recurrence,
                              _spec_picture(s, r) if fmt in ("html", "markdown") else None)
                for r, s in zip(reports, specs)]
    title = _("gradcli check {files}", files=" ".join(r.file for r in reports))
    return _format(Document(title, sections), fmt, body_only) or ""


def check_report(report, fmt: str = "text", show_paths: bool = False,
                 show_recurrence: bool = False, spec: Any = None) -> None:
    """One report, printed now (a document of its own for LaTeX and HTML)."""
    printer = CheckPrinter(fmt, show_paths, show_recurrence)
    printer.add(report, spec)
    printer.finish()


def check_markdown(report, show_paths: bool = False, show_recurrence: bool = False) -> str:
    return render_check([report], "markdown", show_paths, show_recurrence)


def check_json(report) -> dict:
    """The report as JSON-ready data (see `report.CheckReport.to_json`)."""
    return report.to_json()


# --------------------------------------------------------------- plumbing ---
def _format(document, fmt: str, body_only: bool = False) -> str | None:
    if fmt == "markdown":
        from gradcli.render import markdown

        return markdown.document(document)
    if fmt == "latex":
        from gradcli.render import latex

        return latex.document(document, body_only)
    if fmt == "html":
        from gradcli.render import html

        return html.document(document)
    from gradcli.render import text

    text.print_document(document)
    return None


def _write(shown: str) -> None:
    sys.stdout.write(shown if shown.endswith("\n") else shown + "\n")
    sys.stdout.flush()


def _spec_picture(spec: Any, report: Any) -> Any:
    """The graph of a checked file, marked from its report; a graph too large to draw
    is a note instead (the report itself never fails for its picture)."""
    if spec is None:
        return None
    from gradcli.errors import GradcliError
    from gradcli.pictures.build import from_loaded

    try:
        return from_loaded(spec, report)
    except GradcliError as exc:
        return exc


def _expression_picture(source: str | None, at: list[str] | None) -> Any:
    if source is None:
        return None
    from gradcli.errors import GradcliError
    from gradcli.pictures.build import from_expression

    try:
        return from_expression(source, at)
    except GradcliError as exc:
        return exc


def progress_callback():
    """A progress bar on stderr, drawn only for work that takes over a second."""
    import time

    from rich.console import Console
    from rich.progress import Progress

    state: dict[str, Any] = {"start": time.monotonic(), "bar": None, "task": None}

    def update(done: int, total: int) -> None:
        if state["bar"] is None:
            if time.monotonic() - state["start"] < 1.0:
                return
            state["bar"] = Progress(console=Console(stderr=True), transient=True)
            state["bar"].start()
            from gradcli.i18n import _

            state["task"] = state["bar"].add_task(_("numeric check"), total=total)
        state["bar"].update(state["task"], completed=done)
        if done >= total:
            state["bar"].stop()

    return update
