"""Escaping for HTML, Markdown tables and XML (one place for each)."""
from __future__ import annotations


def escape(s: str) -> str:
    """Text for HTML/XML content and attribute values; control characters as spaces."""
    s = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in str(s))
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def md_cell(s: str) -> str:
    """Text for one Markdown table cell: `|` escaped (else `max |diff|` splits the
    cell and shifts the row), and `*`, `<`, backticks and backslashes kept literal."""
    out = []
    for ch in str(s).replace("\n", " ").strip():
        out.append("\\" + ch if ch in "\\|*<`" else ch)
    return "".join(out)


def md_code_cell(s: str) -> str:
    """Inline code in a table cell: GitHub removes the backslash of `\\|` before reading
    the code span, so the pipe stays in the code and out of the table's syntax."""
    return md_code(s).replace("|", "\\|")


def md_code(s: str) -> str:
    """Inline code that survives any backticks inside it (and pipes in tables)."""
    s = str(s).replace("\n", " ")
    fence = "`"
    while fence in s:
        fence += "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def md_text(s: str) -> str:
    """Text outside tables: characters that would start Markdown markup are escaped
    (`_` inside words never does on GitHub, and stays readable)."""
    out = []
    for k, ch in enumerate(str(s)):
        if ch in "\\`*<>|" or (ch == "#" and k == 0):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)
