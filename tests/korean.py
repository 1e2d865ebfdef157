"""Helpers for the Korean tests: run the CLI in a language, find English left over.

"Untranslated English" is defined on gradcli's own words: a word of any
English template in the catalog (or a common English function word) that
shows up in the human output outside of

- names: identifiers of the spec or expression (YAML keys, node names), of the
  user's code (classes, functions, checks named after cases), function names
  of the expression language, command and option names, option values
  (`text`, `sgd`), metavars (`FILE`, `<float>`), file paths;
- formulas: a word touching `(`, `_`, `.`, `/`, `*`, `=` or a digit (`relu(x)`,
  `z_out`, `dL/dW`, `x.grad`);
- quoted text and markup (`'abc'`, `<b>name</b>`, `"..."`).

A line with such a word is reported.  English messages are the translations'
whole point, so this is stricter than "no catalog template verbatim": a
heading written as a plain string (not through i18n) is caught too when it
uses any word gradcli uses elsewhere.
"""
from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import i18n as catalog_tool  # noqa: E402  (tools/i18n.py)

#: Short English words that carry sentences; any of them is English prose.
FUNCTION_WORDS = {"the", "of", "and", "is", "to", "in", "at", "by", "with", "for", "not",
                  "are", "from", "per", "or", "no", "ok", "was", "be", "this", "that", "its"}

#: Words allowed everywhere: names of gradcli's languages, formats, optimizers,
#: options' values, proper names and the expression language's functions.
ALLOWED = {
    "gradcli", "derive", "check", "graph", "train", "code", "en", "ko",
    "text", "markdown", "latex", "html", "dot", "mermaid", "svg", "auto", "builtin",
    "sgd", "momentum", "adam", "str", "float", "int", "steps", "substitution", "paths",
    "SymPy", "Graphviz", "PyTorch", "Python", "YAML", "JSON", "NaN", "Ctrl",
    "pi", "e", "inf", "nan", "lr", "Value",
}


def _parameter_names() -> set[str]:
    """Names of the commands' arguments as Click shows them (`expression`, `target`)."""
    import typer

    from gradcli.cli import app

    root = typer.main.get_command(app)
    return {p.name for c in root.commands.values() for p in c.params if p.name}


def _function_names() -> set[str]:
    from gradcli.ops import OPS

    names = set(OPS)
    for op in OPS.values():
        names.add(getattr(op, "name", ""))
    return {n for n in names if n} | {"Heaviside", "sign", "ln", "Max"}


def vocabulary() -> set[str]:
    """Lower-case English words of the catalog's templates (prose only)."""
    entries, _ = catalog_tool.extract()
    words = set(FUNCTION_WORDS)
    for e in entries:
        prose = catalog_tool._NOT_PROSE.sub(" ", e.msgid)
        words.update(w.lower() for w in re.findall(r"[A-Za-z]{2,}", prose))
    return words


_MARKUP = re.compile(r"<b>.*?</b>|<[^<>]*>|&#?\w+;|'[^']*'|\"[^\"]*\"|`[^`]*`|\{[^{}]*\}")
_PATHISH = re.compile(r"\S*[/\\]\S*|\S+\.(?:py|ya?ml|mo|po|svg|html|json)\b|(?<!\w)--?[A-Za-z][\w-]*")
#: A Python exception raised by the user's code, quoted as Python wrote it.
_PYTHON_ERROR = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning): .*")
#: A word: letters only, not touching code punctuation or digits on either side.
_WORD = re.compile(r"(?<![\w.(/*=^-])[A-Za-z][A-Za-z]+(?![\w(./*=^-])")
#: A ```mermaid fenced block of a markdown report: code, not prose.
_MERMAID_BLOCK = re.compile(r"^```mermaid\n.*?^```$", re.M | re.S)
#: The unchanged `error: <where>: ` prefix (where may be `column 4`).
_ERROR_PREFIX = re.compile(r"^\s*error: .+?: ")


def english_lines(output: str, names: set[str] = frozenset(), vocab: set[str] | None = None,
                  ) -> list[str]:
    """Lines of `output` holding an English word of gradcli's vocabulary (see above)."""
    vocab = vocabulary() if vocab is None else vocab
    allowed = ALLOWED | _function_names() | _parameter_names() | set(names)
    bad = []
    output = _MERMAID_BLOCK.sub("", output)  # diagram code (Mermaid keywords), not words
    for line in output.splitlines():
        plain = _ERROR_PREFIX.sub(" ", line)
        plain = _PATHISH.sub(" ", _MARKUP.sub(" ", _PYTHON_ERROR.sub(" ", plain)))
        words = [w for w in _WORD.findall(plain)
                 if w not in allowed and w.lower() not in allowed and w.lower() in vocab
                 and not w.isupper()]
        if words:
            bad.append(f"{line.strip()[:120]}    <- {', '.join(words)}")
    return bad


def spec_names(path: Path) -> set[str]:
    """Every key of a YAML spec (names of inputs, params, nodes) and the layer form's
    named values."""
    import yaml

    data = yaml.safe_load(path.read_text())
    names: set[str] = {"yhat", "loss"} if "layers" in data else set()
    todo = [data]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            names.update(str(k) for k in item)
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return names


def code_names(path: Path) -> set[str]:
    """Classes, functions and methods of a user's Python file, and the names of
    the Value-class checks (named after their cases, as in the JSON)."""
    import ast

    from gradcli.usercode import value_battery

    names = {n.name for n in ast.walk(ast.parse(path.read_text()))
             if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    names |= {re.sub(r"_(forward|backward|grad)$", "", n) for n in names}
    cases = [c.name for c in value_battery.CASES]
    cases += ["diamond", "chain", "second backward", "recursion", "topological"]
    names.update(w for c in cases for w in re.findall(r"[A-Za-z]+", c))
    return names


def svg_text(svg: str) -> str:
    """What a person reads in an SVG picture: its <text> and <title> elements."""
    return "\n".join(re.findall(r"<(?:text|title)[^>]*>(.*?)</(?:text|title)>", svg, re.S))


def run(*argv: str, lang: str = "ko", columns: int = 200) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `gradcli ARGV --lang LANG`, in this process,
    with Rich `columns` wide (no wrapping to split a message); the language is
    English again afterwards."""
    import os

    from gradcli import i18n
    from gradcli.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main([*argv, "--lang", lang])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        i18n.set_language("en")
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before
    return code, out.getvalue(), err.getvalue()
