"""Why a piece of text is refused: one exception and the messages it carries.

The lexer, the parser and the folding all raise `Refused(what, offset)`;
`gradcli.parse.parse` turns it into the user-facing error (column, caret,
`where`), so each message is written once, next to the rule it explains.
"""
from __future__ import annotations

import unicodedata

from gradcli.i18n import M, Msg

#: Offsets are 0-based positions in the user's original text.


class Refused(Exception):
    """Text the language does not accept, at `offset` (None: the whole text).

    `limit` marks a size, depth or magnitude limit (LimitError, exit 2) rather
    than a mistake in the expression (ExpressionError, exit 2).
    """

    def __init__(self, what: Msg, offset: int | None, limit: bool = False):
        super().__init__(str(what))
        self.what = what
        self.offset = offset
        self.limit = limit


def shown(snippet: str, keep: int = 40) -> str:
    """A piece of the user's text short enough to quote in a one-line message."""
    if len(snippet) <= keep:
        return snippet
    return f"{snippet[:keep // 2]}…{snippet[-keep // 4:]}"


def char_name(ch: str) -> str:
    """`'σ' (GREEK SMALL LETTER SIGMA)`-style description of one character."""
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}"
    return f"{code} {name}" if name else code


# Python keywords, each with the reason it cannot appear in an expression.
_KEYWORD_REASON = {
    "lambda": M("'lambda' is not allowed: lambdas are not expressions here "
                "(for a variable, write lam or λ)"),
    "if": M("conditional expressions ('if'/'else') are not allowed"),
    "else": M("conditional expressions ('if'/'else') are not allowed"),
    "and": M("'and'/'or'/'not' are not allowed: expressions have no logic operators"),
    "or": M("'and'/'or'/'not' are not allowed: expressions have no logic operators"),
    "not": M("'and'/'or'/'not' are not allowed: expressions have no logic operators"),
    "is": M("comparisons are not allowed ('is')"),
    "in": M("comparisons are not allowed ('in')"),
    "for": M("comprehensions are not allowed ('for')"),
    "True": M("'True' is not allowed: only numbers and names"),
    "False": M("'False' is not allowed: only numbers and names"),
    "None": M("'None' is not allowed: only numbers and names"),
    "await": M("'await' is not allowed"),
    "yield": M("'yield' is not allowed"),
}


def keyword(word: str) -> Msg:
    reason = _KEYWORD_REASON.get(word)
    if reason is not None:
        return reason
    return M("'{word}' is a Python keyword, not allowed in an expression", word=word)


# Symbols the language refuses.  `after` is the message when the symbol
# follows an operand (x.real, x[0]), `alone` when it starts one ([x], .5.).

def symbol(sym: str, after_operand: bool, in_call: str | None) -> Msg:
    """The refusal for a symbol token; `in_call` is the function whose
    argument list is open (for `exp(x=1)`)."""
    if sym == "." and after_operand:
        return M("attribute access is not allowed")
    if sym == "...":
        return M("'...' (Ellipsis) is not allowed; expected a number, a name or '('")
    if sym == "[":
        if after_operand:
            return M("indexing and slicing are not allowed")
        return M("lists are not allowed in an expression (put tensors in the YAML values)")
    if sym in ("{", "}"):
        return M("dictionaries and sets are not allowed")
    if sym == "=":
        if in_call:
            return M("{name}() takes no keyword arguments", name=in_call)
        return M("assignment is not allowed: write one expression, without '='")
    if sym == ":=":
        return M("assignment is not allowed (':=')")
    if sym in ("==", "!=", "<", ">", "<=", ">=", "<>"):
        return M("comparisons are not allowed ('{op}')", op=sym)
    if sym in ("%", "//", "|", "&", "<<", ">>", "~", "!", "->"):
        return M("operator '{op}' is not supported (use + - * / ** ^ @)", op=sym)
    if sym == ";":
        return M("only one expression is allowed: ';' separates statements")
    if sym == ":":
        return M("':' is not allowed (no lambdas, slices or dictionaries)")
    if sym == "#":
        return M("comments ('#') are not allowed")
    if sym == "\\":
        return M("backslashes are not allowed (a line break inside an expression is a space)")
    if sym in ("]", ")"):
        return M("unbalanced brackets: '{sym}' has no matching opening bracket", sym=sym)
    return M("unexpected '{sym}'", sym=sym)


def strings(prefix: str) -> Msg:
    """A quote, or a string prefix (f, b, r, ...) right before one."""
    p = prefix.lower()
    if "f" in p:
        return M("f-strings are not allowed; only numbers and names")
    if "b" in p:
        return M("bytes literals are not allowed; only numbers and names")
    return M("strings are not allowed: expressions have no quotes "
             "(and no primes, as in y'); only numbers and names")


# Characters that look like an operator the language has.
_LOOKALIKE = {"–": "-", "—": "-", "‐": "-", "‑": "-", "∗": "*", "∕": "/",
              "⁄": "/", "‘": "'", "’": "'", "“": '"', "”": '"'}


def character(ch: str) -> Msg:
    """A character no token can start with."""
    if unicodedata.category(ch) == "Cc":
        return M("control character {char} is not allowed", char=char_name(ch))
    if unicodedata.category(ch) == "Cf":
        return M("invisible character {char} is not allowed", char=char_name(ch))
    similar = _LOOKALIKE.get(ch)
    if similar is None:
        norm = unicodedata.normalize("NFKC", ch)
        if norm != ch and norm.isascii() and norm.isprintable():
            similar = norm
    if similar is not None:
        return M("character '{ch}' ({char}) is not allowed; did you mean '{similar}'?",
                 ch=ch, char=char_name(ch), similar=similar)
    return M("character '{ch}' ({char}) is not allowed", ch=ch, char=char_name(ch))


def expected_operand(after: str | None, found: str | None) -> Msg:
    """Where a number, a name or '(' was needed; `after` and `found` are the
    tokens as written (None: the start / the end of the expression)."""
    if found is None:
        if after is None:
            return M("empty expression")
        return M("invalid syntax: expected a number, a name or '(' after '{after}', "
                 "found the end of the expression", after=after)
    if after is None:
        return M("invalid syntax: expected a number, a name or '(' at the start, "
                 "found '{found}'", found=found)
    return M("invalid syntax: expected a number, a name or '(' after '{after}', "
             "found '{found}'", after=after, found=found)
