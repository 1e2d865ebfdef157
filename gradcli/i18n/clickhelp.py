"""`--help` and usage errors in the chosen language (Typer's and Click's words too).

Loaded only when a language other than English is chosen, after the command
tree is built and before the command line is parsed:

- `install()` puts gradcli's translation where Typer (and a non-vendored
  Click) call `gettext`: the module-level `_`/`gettext`/`ngettext` of their
  modules ("Options", "Arguments", "default: {default}", "Missing command.").
- `translate_tree(command)` translates every command's and option's help
  text (they are English literals, evaluated when cli.py was imported, so they
  are looked up in the catalog here, by their English text), and gives every
  command a context whose help formatter translates the words Click writes
  itself ("Usage: ", "Show this message and exit.") and wraps by display
  width (a Korean letter takes two columns).
- `usage_error(text)` is a Click usage error's first line as a message
  (see `foreign`).
"""
from __future__ import annotations

import inspect
import sys
from typing import Any

from gradcli.i18n import _, text, translate
from gradcli.i18n.foreign import CLICK, as_message
from gradcli.i18n.width import display_width, wrap

#: Columns for a command's one-line summary in `gradcli --help`.
SHORT_HELP_COLUMNS = 58


def _click_package() -> str:
    import typer

    return typer.BadParameter.__module__.rpartition(".")[0]  # "typer._click" or "click"


def _gettext(message: str) -> str:
    return translate(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translate(singular if n == 1 else plural)


def install() -> None:
    """Route Typer's (and Click's, where it uses gettext) `_()` through gradcli's catalog."""
    package = _click_package()
    names = ["typer.core", "typer.main", "typer.rich_utils"] + [
        f"{package}.{m}" for m in ("core", "decorators", "exceptions", "formatting",
                                   "parser", "types", "termui", "utils")]
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        for attr, fn in (("_", _gettext), ("gettext", _gettext), ("ngettext", _ngettext)):
            if callable(getattr(module, attr, None)) and attr in vars(module):
                setattr(module, attr, fn)


def _formatter_class(base: type) -> type:
    class TranslatingHelpFormatter(base):
        """Click's help formatter, translating its own words, wrapping by display width."""

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            prefix = _("Usage: ") if prefix is None else translate(prefix)
            head = f"{prefix:>{self.current_indent}}{prog} "
            room = max(self.width - self.current_indent - display_width(head), 20)
            lines = wrap(args, room)
            indent = " " * display_width(head)
            self.write(head + lines[0] + "".join(f"\n{indent}{line}" for line in lines[1:])
                       + "\n")

        def write_heading(self, heading: str) -> None:
            super().write_heading(translate(heading))

        def write_text(self, body: str) -> None:
            indent = " " * self.current_indent
            room = max(self.width - self.current_indent, 11)
            out = []
            for paragraph in translate(body).split("\n\n"):
                if paragraph.startswith("\b"):  # Click's "do not rewrap" marker
                    out.extend(indent + line for line in paragraph[1:].strip("\n").splitlines())
                else:
                    out.extend(indent + line for line in wrap(paragraph, room))
                out.append("")
            self.write("\n".join(out[:-1]) + "\n")

        def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
            rows = [(first, _help_text(second)) for first, second in rows]
            first_col = min(max((display_width(f) for f, _s in rows), default=0),
                            col_max) + col_spacing
            for first, second in rows:
                self.write(f"{'':>{self.current_indent}}{first}")
                if not second:
                    self.write("\n")
                    continue
                if display_width(first) <= first_col - col_spacing:
                    self.write(" " * (first_col - display_width(first)))
                else:
                    self.write("\n" + " " * (first_col + self.current_indent))
                lines = wrap(second, max(self.width - first_col - 2, 10))
                pad = " " * (first_col + self.current_indent)
                self.write(lines[0] + "\n" + "".join(f"{pad}{line}\n" for line in lines[1:]))

    return TranslatingHelpFormatter


def _help_text(second: str) -> str:
    """An option's help column: its text translated, then Typer's `[default: ...]`."""
    shown = translate(second)
    if shown == second and "  [" in second:
        head, sep, tail = second.rpartition("  [")
        shown = translate(head) + sep + tail
    return shown


def _context_class(base: type) -> type:
    formatter = _formatter_class(base.formatter_class)

    class TranslatingContext(base):
        formatter_class = formatter

    return TranslatingContext


def short_help(help_text: str, columns: int = SHORT_HELP_COLUMNS) -> str:
    """The first sentence of `help_text`, cut to `columns` (display width) with '...'
    (Click's own cut counts characters, so Korean would run twice as wide)."""
    first = " ".join(help_text.split("\n\n")[0].split())
    if ". " in first:
        first = first[:first.index(". ") + 1]
    if display_width(first) <= columns:
        return first
    return wrap(first, columns - 3)[0].rstrip(",:;") + "..."


def translate_tree(root: Any) -> None:
    """Translate the help texts of `root` and its commands, and their formatter."""
    context = _context_class(type(root).context_class)
    todo = [root]
    while todo:
        command = todo.pop()
        command.context_class = context
        if command.help:
            command.help = translate(inspect.cleandoc(command.help).partition("\f")[0])
            if command is not root and not command.short_help:
                command.short_help = short_help(command.help)
        for param in command.params:
            if getattr(param, "help", None):
                param.help = translate(param.help)
        todo.extend(getattr(command, "commands", {}).values())


def usage_error(first_line: str) -> str:
    """A Click usage error's first line in the current language."""
    return text(as_message(first_line, CLICK))
