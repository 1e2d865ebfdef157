"""The user's names typeset: `w1` -> w₁, `z_out` -> z_out with `out` below,
`yhat` and `ŷ` -> y with a hat, `theta` and `θ` -> θ, `가중치` as it is.

The rules are SymPy's (so a name looks the same in a ledger line and inside
a SymPy expression): trailing digits and what follows `_` are subscripts,
Greek letters spelled out become the letter, and the suffixes hat, bar,
tilde, dot, vec put their accent on the letter.
"""
from __future__ import annotations

import re
import unicodedata

GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
         "rho sigma tau upsilon phi chi psi omega").split()
_GREEK_LOWER = {name: chr(0x3B1 + k + (1 if k >= 17 else 0)) for k, name in enumerate(GREEK)}
_GREEK_UPPER = {name.capitalize(): chr(0x391 + k + (1 if k >= 17 else 0))
                for k, name in enumerate(GREEK)}
#: Greek letters as LaTeX commands (capitals that look Latin are Latin letters)
_LATIN_CAPITALS = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H",
                   "Iota": "I", "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P",
                   "Tau": "T", "Chi": "X"}
_LATEX_GREEK = {**{n: "\\" + n for n in GREEK if n != "omicron"}, "omicron": "o",
                **{n.capitalize(): _LATIN_CAPITALS.get(n.capitalize(), "\\" + n.capitalize())
                   for n in GREEK}}
_UNICODE_GREEK = {v: k for k, v in {**_GREEK_LOWER, **_GREEK_UPPER}.items()}
ACCENTS = {"hat": ("\\hat", "\u0302", "ˆ"), "bar": ("\\bar", "\u0304", "¯"),
           "tilde": ("\\tilde", "\u0303", "˜"), "dot": ("\\dot", "\u0307", "˙"),
           "vec": ("\\vec", "\u20d7", "→")}
_COMBINING = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot"}
_DIGITS = re.compile(r"^([^\d]*?)(\d+)$")


def split(name: str) -> tuple[str, list[str]]:
    """`z_out` -> ("z", ["out"]); `w10` -> ("w", ["10"]); `a_h1` -> ("a", ["h1"])."""
    parts = name.split("_")
    base, subs = parts[0], [p for p in parts[1:] if p]
    m = _DIGITS.match(base)
    if m and m.group(1):
        base, subs = m.group(1), [m.group(2)] + subs
    return base, subs


def letter(base: str) -> tuple[str, str | None]:
    """The base letter and its accent: `yhat` -> ("y", "hat"), `ŷ` -> ("y", "hat")."""
    decomposed = unicodedata.normalize("NFD", base)
    if len(decomposed) == 2 and decomposed[1] in _COMBINING:
        return decomposed[0], _COMBINING[decomposed[1]]
    for accent in ACCENTS:
        if base.endswith(accent) and len(base) > len(accent):
            return base[: -len(accent)], accent
    return base, None


# ----------------------------------------------------------------- LaTeX ---
def latex(name: str) -> str:
    """The name in LaTeX math mode."""
    base, subs = split(name)
    core, accent = letter(base)
    shown = _latex_word(core)
    if accent:
        shown = f"{ACCENTS[accent][0]}{{{shown}}}"
    if subs:
        shown += "_{" + " ".join(_latex_word(s) for s in subs) + "}"
    return shown


def _latex_word(word: str) -> str:
    if word in _LATEX_GREEK:
        return _LATEX_GREEK[word]
    if word in _UNICODE_GREEK:
        return _LATEX_GREEK[_UNICODE_GREEK[word]]
    if word.isascii():
        return word
    from gradcli.render.texchars import tex_text

    return "\\text{" + tex_text(word) + "}"  # Hangul (kotex), accented Latin letters


# --------------------------------------------------------------- MathML ---
def mathml(name: str) -> str:
    """The name as a MathML element (`<mi>`, `<msub>`, `<mover>`)."""
    base, subs = split(name)
    core, accent = letter(base)
    shown = _mi(_unicode_word(core))
    if accent:
        shown = f'<mover accent="true">{shown}<mo>{ACCENTS[accent][2]}</mo></mover>'
    if subs:
        sub = _mi(" ".join(_unicode_word(s) for s in subs))
        shown = f"<msub>{shown}{sub}</msub>"
    return shown


def _unicode_word(word: str) -> str:
    return _GREEK_LOWER.get(word) or _GREEK_UPPER.get(word) or word


def _mi(word: str) -> str:
    from gradcli.render.markup import escape

    return f"<mn>{word}</mn>" if word.isdigit() else f"<mi>{escape(word)}</mi>"
