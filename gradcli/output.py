"""Writing to terminals that cannot show every character.

gradcli prints ∂, ŷ, ᵀ, ⊙, σ and Korean text.  Where the output encoding
cannot show a character (an ASCII terminal, `LC_ALL=C`, a cp949 console),
that character alone is replaced by an ASCII form (`∂` -> `d`, `ŷ` -> `yhat`,
`ᵀ` -> `^T`); the rest of the output is unchanged, so Korean survives on a
cp949 terminal.  This is a codec error handler installed on stdout and
stderr, so every writer (print, Rich) goes through it.
"""
from __future__ import annotations

import codecs
import sys
import unicodedata

HANDLER = "gradcli-ascii"

#: ASCII forms of the characters gradcli prints (others fall back to their
#: decomposition without accents, then to '?').
ASCII_FORMS = {
    "∂": "d", "ŷ": "yhat", "ᵀ": "^T", "⊙": "*", "σ": "sigma", "Σ": "sum", "∑": "sum",
    "‖": "||", "→": "->", "←": "<-", "×": "x", "·": "*", "⋅": "*", "÷": "/", "−": "-",
    "—": "-", "–": "-", "≈": "~", "≤": "<=", "≥": ">=", "≠": "!=", "±": "+/-", "√": "sqrt",
    "∞": "inf", "θ": "theta", "η": "eta", "δ": "delta", "Δ": "Delta", "λ": "lambda",
    "μ": "mu", "ε": "eps", "α": "alpha", "β": "beta", "γ": "gamma", "π": "pi",
    "²": "^2", "³": "^3", "¹": "^1", "⁰": "^0", "⁻": "^-", "…": "...", "•": "*",
    "✓": "ok", "✗": "x", "“": '"', "”": '"', "‘": "'", "’": "'", "│": "|", "─": "-",
    "━": "-", "┃": "|", "╸": "-", "╺": "-", "▁": "_", "█": "#", "▏": "|", "⠀": " ",
    "\u0302": "hat", "\u0303": "tilde", "\u0304": "bar",  # combining accents: y + ^ = yhat
}
for _k in range(10):
    ASCII_FORMS[chr(0x2080 + _k)] = f"_{_k}"  # subscript digits


def ascii_form(ch: str) -> str:
    if ch in ASCII_FORMS:
        return ASCII_FORMS[ch]
    decomposed = unicodedata.normalize("NFKD", ch)
    plain = "".join(c for c in decomposed if c.isascii() and not unicodedata.combining(c))
    return plain or "?"


def _handler(error: UnicodeError):
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start:error.end]
    return "".join(ascii_form(ch) for ch in bad), error.end


codecs.register_error(HANDLER, _handler)


def install() -> None:
    """Route unencodable characters of stdout and stderr through the ASCII forms."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors=HANDLER)
        except (ValueError, OSError):  # a closed or detached stream
            pass
