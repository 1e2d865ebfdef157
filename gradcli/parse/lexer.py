"""Text -> tokens, read left to right from the user's original text.

Offsets are positions in the text as given, so columns and carets need no
map back.  The student notation is read here: superscript digits are powers
(`x²`), `ᵀ` is a transpose, `· × ⋅ ÷ − √` are operators, and names are
identifiers in any script after NFKC (`ŷ`, `θ`, `가중치`; `w₁` is `w1`, as in
Python).  Superscripts are read before NFKC, so `x²` is never the name `x2`.

Refusals that need no context (strings, control characters, keywords, names
that are not identifiers) are raised here; symbols whose message depends on
what comes before them (`x.real` vs `...`, `x[0]` vs `[x]`, `exp(x=1)` vs
`x = 1`) come out as SYM tokens for the parser to refuse.
"""
from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

from gradcli.i18n import M, Msg
from gradcli.parse import refusals
from gradcli.parse.refusals import Refused

NUM, NAME, OP, LPAREN, RPAREN, COMMA = "NUM", "NAME", "OP", "LPAREN", "RPAREN", "COMMA"
SUP, TRANSPOSE, SQRT, SYM, END = "SUP", "TRANSPOSE", "SQRT", "SYM", "END"


@dataclass(slots=True)
class Token:
    kind: str
    text: str  # NAME: the NFKC name; OP: '+', '-', '*', '/', '**', '@'; SUP: '-1'
    start: int  # offset of the first character in the original text
    end: int  # offset just past the last character
    space: bool = False  # whitespace right before it
    newline: bool = False  # a line break right before it
    value: float | None = None  # NUM and SUP


# The common tokens of plain ASCII text, in one match each.
_FAST = re.compile(r"""
    (?P<ws>[ \t\r\n]*)
    (?:(?P<num>(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)
               (?:[eE][+-]?[0-9](?:_?[0-9])*)?)
      |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<op>\*\*|[-+*^@(),]|/(?!/))
    )?""", re.VERBOSE)

_OPS = {"+": (OP, "+"), "-": (OP, "-"), "*": (OP, "*"), "/": (OP, "/"), "**": (OP, "**"),
        "^": (OP, "**"), "@": (OP, "@"), "(": (LPAREN, "("), ")": (RPAREN, ")"),
        ",": (COMMA, ","),
        # student notation
        "·": (OP, "*"), "×": (OP, "*"), "⋅": (OP, "*"), "÷": (OP, "/"), "−": (OP, "-"),
        "√": (SQRT, "√"), "ᵀ": (TRANSPOSE, "ᵀ")}
_SUPERSCRIPT = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
                "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-", "⁺": "+"}
# Symbols refused with a message that depends on context (see refusals.symbol),
# longest first.
_SYMBOLS = ("...", "//", "<<", ">>", "<=", ">=", "==", "!=", "<>", ":=", "->",
            ".", "[", "]", "{", "}", "=", "<", ">", "%", "|", "&", "~", "!", ";", ":",
            "#", "\\")
_LINE_BREAKS = "\n\r\u2028\u2029"
_STRING_PREFIXES = {"f", "b", "r", "u", "rb", "br", "fr", "rf"}
_QUOTES = "'\""
_NOT_NAME = set(_OPS) | set(_SUPERSCRIPT)
_KEYWORDS = frozenset(keyword.kwlist)


def is_name_char(ch: str) -> bool:
    """Can `ch` continue a name (Python's XID_Continue after NFKC)?"""
    if ch < "\x80":
        return ch.isalnum() or ch == "_"
    if ch in _NOT_NAME:
        return False
    if unicodedata.category(ch).startswith("M"):
        return True  # combining marks: y + U+0302 is ŷ after NFKC
    norm = unicodedata.normalize("NFKC", ch)
    return norm != "·" and ("a" + norm).isidentifier()


def name_problem(name: str) -> Msg | None:
    """Why the NFKC form `name` of a run of name characters is not a name
    the language reads, or None."""
    if name[0].isdigit() or unicodedata.category(name[0]) == "Nd":
        return M("'{name}' is not a valid name: it starts with a digit", name=name)
    if not name.isidentifier():
        return M("'{name}' is not a valid name: it cannot start with '{ch}'",
                 name=name, ch=name[0])
    if keyword.iskeyword(name):
        return refusals.keyword(name)
    if name.startswith("_"):
        return M("names starting with '_' are not allowed ('{name}')", name=name)
    return None


def tokens(text: str) -> Iterator[Token]:
    """The tokens of `text`, ending with one END token."""
    pos, n = 0, len(text)
    space = newline = False
    while True:
        m = _FAST.match(text, pos)
        ws = m.group("ws")
        if ws:
            space = True
            newline = newline or "\n" in ws or "\r" in ws
        kind = m.lastgroup
        start = m.end("ws")
        if kind == "num":
            tok = _number(text, start, m.end())
        elif kind == "name":
            tok = _name(text, start, m.end())
        elif kind == "op":
            k, canon = _OPS[m.group("op")]
            tok = Token(k, canon, start, m.end())
        elif start >= n:
            yield Token(END, "", n, n, space, newline)
            return
        else:
            ch = text[start]
            if ch in _LINE_BREAKS or (ch > "\x7f" and unicodedata.category(ch) == "Zs"):
                space = True
                newline = newline or ch in _LINE_BREAKS
                pos = start + 1
                continue
            tok = _other(text, start)
        tok.space, tok.newline = space, newline
        space = newline = False
        pos = tok.end
        yield tok


def _number(text: str, start: int, end: int) -> Token:
    n = len(text)
    literal = text[start:end]
    nxt = text[end] if end < n else ""
    if literal.endswith(".") and nxt and is_name_char(nxt):
        end -= 1  # `5.real`: the '.' is an attribute access, refused by the parser
        literal = literal[:-1]
    elif nxt in ("j", "J") and not (end + 1 < n and is_name_char(text[end + 1])):
        raise Refused(M("complex numbers are not supported ('{literal}'); to multiply "
                        "by a variable j, write {number}*j",
                        literal=refusals.shown(literal + nxt), number=refusals.shown(literal)),
                      start)
    elif (literal == "0" and nxt in "xXoObB" and end + 1 < n
          and text[end + 1].isascii() and text[end + 1].isalnum()):
        stop = end + 1
        while stop < n and text[stop].isascii() and (text[stop].isalnum() or text[stop] == "_"):
            stop += 1
        raise Refused(M("'{literal}' looks like a number in base 16, 8 or 2, which "
                        "expressions do not read; write a decimal number",
                        literal=refusals.shown(text[start:stop])), start)
    value = float(literal.replace("_", ""))  # never int(): no 4,300-digit limit
    return Token(NUM, literal, start, end, value=value)


def _name(text: str, start: int, end: int) -> Token:
    n = len(text)
    if end < n and text[end] > "\x7f" and is_name_char(text[end]):
        while end < n and is_name_char(text[end]):
            end += 1
    raw = text[start:end]
    if end < n and text[end] in _QUOTES and raw.lower() in _STRING_PREFIXES:
        raise Refused(refusals.strings(raw), start)
    if raw.isascii():  # the common case: only keywords and '_' to refuse
        if raw in _KEYWORDS or raw[0] == "_":
            raise Refused(name_problem(raw), start)
        return Token(NAME, raw, start, end)
    for i in range(start, end):
        if unicodedata.decomposition(text[i]).startswith("<super>"):
            raise Refused(M("superscript letter '{ch}' is not read as a power: write "
                            "^{letter} (as in x^n)", ch=text[i],
                            letter=unicodedata.normalize("NFKC", text[i])), i)
    name = unicodedata.normalize("NFKC", raw)
    problem = name_problem(name)
    if problem is not None:
        raise Refused(problem, start)
    return Token(NAME, name, start, end)


def _other(text: str, start: int) -> Token:
    """A token that the fast pattern does not cover."""
    ch = text[start]
    if ch in _OPS and not text.startswith("//", start):
        kind, canon = _OPS[ch]
        return Token(kind, canon, start, start + 1)
    if ch in _SUPERSCRIPT:
        return _superscript(text, start)
    if ch > "\x7f" and is_name_char(ch):
        return _name(text, start, start)
    if ch in _QUOTES:
        raise Refused(refusals.strings(""), start)
    for sym in _SYMBOLS:
        if text.startswith(sym, start):
            return Token(SYM, sym, start, start + len(sym))
    raise Refused(refusals.character(ch), start)


def _superscript(text: str, start: int) -> Token:
    end = start
    while end < len(text) and text[end] in _SUPERSCRIPT:
        end += 1
    plain = "".join(_SUPERSCRIPT[c] for c in text[start:end])
    digits = plain.lstrip("+-")
    if not digits or not digits.isdigit() or len(plain) - len(digits) > 1:
        raise Refused(M("superscript '{sup}' is not a power: write digits with at most "
                        "one sign in front, as in x² or x⁻¹",
                        sup=refusals.shown(text[start:end])), start)
    return Token(SUP, plain, start, end, value=float(plain))


def is_identifier(name: str) -> Msg | None:
    """None when `name` is read as one name by the expression language, else the
    reason (a message: "it starts with a digit", "it contains the symbol '-'").

    Names are compared in their NFKC form (`unicodedata.normalize("NFKC", name)`),
    as the parser reads them: callers keep that form when they store a name.
    Function names (also `σ`) and constants (also `π`) are refused too.
    """
    from gradcli.ops import CONSTANTS, FUNCTIONS

    if not isinstance(name, str) or not name:
        return M("it is empty")
    for ch in name:
        if ch in _SUPERSCRIPT or ch == "ᵀ" or unicodedata.decomposition(ch).startswith("<super>"):
            return M("it contains the superscript '{ch}', which expressions read as a power",
                     ch=ch)
        if is_name_char(ch):
            continue
        if ch.isspace():
            return M("it contains a space")
        if not ch.isprintable():
            return M("it contains the control character {char}", char=refusals.char_name(ch))
        return M("it contains the symbol '{ch}'", ch=ch)
    norm = unicodedata.normalize("NFKC", name)
    if norm[0].isdigit() or unicodedata.category(norm[0]) == "Nd":
        return M("it starts with a digit")
    if not norm.isidentifier():
        return M("it cannot start with '{ch}'", ch=norm[0])
    if keyword.iskeyword(norm):
        return M("it is a Python keyword")
    if norm.startswith("_"):
        return M("it starts with '_', which is reserved")
    if norm in FUNCTIONS or norm in FUNCTION_ALIASES:
        return M("it is a function name")
    if norm in CONSTANTS or norm in CONSTANT_ALIASES:
        return M("it is a constant")
    return None


#: Student notation for a function and a constant (the plain names still work).
FUNCTION_ALIASES = {"σ": "sigmoid"}
CONSTANT_ALIASES = {"π": "pi"}
