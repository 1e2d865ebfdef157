"""Text for pdflatex: LaTeX's special characters escaped, and every character
gradcli prints (∂, ŷ, ᵀ, ⊙, σ, ‖, →, ...) written as a LaTeX command, so a
document compiles with amsmath alone.  Hangul is kept (the document then
loads kotex); any other character pdflatex cannot show becomes its ASCII
form.
"""
from __future__ import annotations

import re
import unicodedata

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%",
            "$": r"\$", "#": r"\#", "&": r"\&", "^": r"\^{}", "~": r"\~{}",
            "<": r"$<$", ">": r"$>$", "|": r"$|$", '"': "''"}
_SYMBOLS = {
    "∂": r"$\partial$", "ᵀ": r"$^{\top}$", "⊙": r"$\odot$", "Σ": r"$\Sigma$", "∑": r"$\Sigma$",
    "‖": r"$\|$", "→": r"$\to$", "←": r"$\leftarrow$", "×": r"$\times$", "·": r"$\cdot$",
    "⋅": r"$\cdot$", "÷": r"$\div$", "−": "-", "—": "---", "–": "--", "≈": r"$\approx$",
    "≤": r"$\le$", "≥": r"$\ge$", "≠": r"$\neq$", "±": r"$\pm$", "√": r"$\surd$",
    "∞": r"$\infty$", "∇": r"$\nabla$", "²": r"$^{2}$", "³": r"$^{3}$", "¹": r"$^{1}$",
    "⁰": r"$^{0}$", "⁻": r"$^{-}$", "…": r"\ldots{}", "•": r"$\bullet$", "✓": r"$\surd$",
    "✗": r"$\times$", "“": "``", "”": "''", "‘": "`", "’": "'", "ŷ": r"$\hat{y}$",
    "η": r"$\eta$", "δ": r"$\delta$", "σ": r"$\sigma$", "θ": r"$\theta$", "λ": r"$\lambda$",
    "μ": r"$\mu$", "ε": r"$\epsilon$", "α": r"$\alpha$", "β": r"$\beta$", "γ": r"$\gamma$",
    "π": r"$\pi$", "Δ": r"$\Delta$", "ω": r"$\omega$", "φ": r"$\phi$", "τ": r"$\tau$",
}
for _k in range(10):
    _SYMBOLS[chr(0x2080 + _k)] = f"$_{{{_k}}}$"  # subscript digits

#: characters after which a long code text may break across lines
_BREAK_AFTER = set(" +-*/,(@=⊙")  # "/" too: file paths


def is_hangul(ch: str) -> bool:
    code = ord(ch)
    return 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F


def has_hangul(s: str) -> bool:
    return any(is_hangul(ch) for ch in s)


def _char(ch: str) -> str:
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if ch in _SYMBOLS:
        return _SYMBOLS[ch]
    if ch.isascii():
        return ch if ch.isprintable() else " "
    if is_hangul(ch) or ("\u00c0" <= ch <= "\u00ff" and ch not in "×÷"):
        return ch  # kotex; accented Latin letters (utf8 inputenc)
    decomposed = unicodedata.normalize("NFKD", ch)
    plain = "".join(c for c in decomposed if c.isascii() and not unicodedata.combining(c))
    return "".join(_char(c) for c in plain) if plain else "?"


def tex_text(s: str) -> str:
    """`s` for LaTeX text mode."""
    return "".join(_char(ch) for ch in str(s).replace("->", "→"))


def tex_code(s: str) -> str:
    """`s` in \\texttt, allowed to break after operators and spaces."""
    out = []
    for ch in str(s):
        out.append(_char(ch))
        if ch in _BREAK_AFTER:
            out.append(r"\allowbreak{}")
    return r"\texttt{" + "".join(out) + "}"


def math_text(s: str) -> str:
    """Words inside math mode."""
    return r"\text{" + tex_text(s) + "}"


_SCIENTIFIC = re.compile(r"^(-?[\d.]+)e([+-]?)(\d+)$")


def tex_number(text: str) -> str:
    """A formatted number in math mode: `1.2e-05` -> 1.2 \\times 10^{-5}."""
    m = _SCIENTIFIC.match(text)
    if not m:
        if text in ("inf", "-inf", "nan"):
            return {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\text{NaN}"}[text]
        return text if re.fullmatch(r"-?[\d.]+", text) else math_text(text)
    mantissa, sign, exponent = m.groups()
    exponent = str(int(exponent))
    power = f"10^{{{'-' if sign == '-' else ''}{exponent}}}"
    return power if mantissa in ("1", "1.0") else rf"{mantissa} \times {power}"
