"""gradcli's tensor-formula notation typeset: the per-layer ledger's
`(delta_2 @ W2) ⊙ (z1 > 0)`, `delta_1ᵀ @ x`, `Σ_batch delta_2`, `(yhat - y)/B`.

These texts are gradcli's own (the dense-network table writes them), never
user input: names, numbers, `@` (matrix product, typeset by juxtaposition),
`⊙`, `ᵀ`, `**`, `*`, `/`, `+`, `-`, `>`, parentheses and `Σ_batch`.
"""
from __future__ import annotations

import re

from gradcli.render import names
from gradcli.render.markup import escape

_DERIV = re.compile(r"d([A-Za-z]\w*)/d([A-Za-z]\w*)")
_TOKEN = re.compile(r"\s*(Σ_batch|d[A-Za-z]\w*/d[A-Za-z]\w*|[A-Za-z_][A-Za-z0-9_]*'?"
                    r"|\d+(?:\.\d+)?|\*\*|[-+*/@()⊙ᵀ>])")
_FUNCTIONS = {"sigmoid": (r"\sigma", "<mi>σ</mi>"),
              "softmax": (r"\operatorname{softmax}", '<mi mathvariant="normal">softmax</mi>'),
              "relu": (r"\operatorname{relu}", '<mi mathvariant="normal">relu</mi>'),
              "tanh": (r"\tanh", '<mi mathvariant="normal">tanh</mi>')}
_TEX_OPS = {"@": r"\,", "⊙": r"\odot", "*": r"\,", "/": "/", "+": "+", "-": "-", ">": ">",
            "(": r"\left(", ")": r"\right)"}
_ML_OPS = {"@": "<mo>&#x2062;</mo>", "⊙": "<mo>⊙</mo>", "*": "<mo>&#x2062;</mo>",
           "/": "<mo>/</mo>", "+": "<mo>+</mo>", "-": "<mo>−</mo>", ">": "<mo>&gt;</mo>",
           "(": "<mo>(</mo>", ")": "<mo>)</mo>"}


def tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:  # a character outside the notation: kept as a symbol of its own
            out.append(text[pos])
            pos += 1
            continue
        out.append(m.group(1))
        pos = m.end()
    return out


def to_tex(text: str) -> str:
    atoms: list[str] = []
    items = tokens(text)
    k = 0
    while k < len(items):
        t = items[k]
        if t == "ᵀ" and atoms:
            atoms[-1] = _power(atoms[-1], r"\top")
        elif t == "**" and atoms and k + 1 < len(items):
            k += 1
            atoms[-1] = _power(atoms[-1], _tex_name(items[k]))
        elif t == "Σ_batch":
            atoms.append(r"\sum_{\text{batch}}")
        elif t in _TEX_OPS:
            atoms.append(_TEX_OPS[t])
        else:
            atoms.append(_tex_name(t))
        k += 1
    return " ".join(atoms).replace(r"\left( ", r"\left(").replace(r" \right)", r"\right)")


def _power(base: str, exponent: str) -> str:
    """`base^{exponent}`; a closing \\right) takes it as it is (a group would unbalance
    the \\left( ... \\right) pair)."""
    if base == r"\right)":
        return f"{base}^{{{exponent}}}"
    return f"{{{base}}}^{{{exponent}}}"


def _tex_name(t: str) -> str:
    deriv = _DERIV.fullmatch(t)
    if deriv:
        return rf"\frac{{\mathrm{{d}}{names.latex(deriv.group(1))}}}" \
               rf"{{\mathrm{{d}}{names.latex(deriv.group(2))}}}"
    prime = "'" if t.endswith("'") else ""
    word = t.rstrip("'")
    if word in _FUNCTIONS:
        return _FUNCTIONS[word][0] + prime
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return word
    from gradcli.render.texchars import tex_text

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word):
        return r"\text{" + tex_text(word) + "}"
    return names.latex(word) + prime


def to_mathml(text: str) -> str:
    atoms: list[str] = []
    items = tokens(text)
    k = 0
    while k < len(items):
        t = items[k]
        if t == "ᵀ" and atoms:
            atoms[-1] = f"<msup>{atoms[-1]}<mi>T</mi></msup>"
        elif t == "**" and atoms and k + 1 < len(items):
            k += 1
            atoms[-1] = f"<msup>{atoms[-1]}{_ml_name(items[k])}</msup>"
        elif t == "Σ_batch":
            atoms.append("<munder><mo>∑</mo><mtext>batch</mtext></munder>")
        elif t in _ML_OPS:
            atoms.append(_ML_OPS[t])
        else:
            atoms.append(_ml_name(t))
        k += 1
    return "<mrow>" + "".join(atoms) + "</mrow>"


def _ml_name(t: str) -> str:
    deriv = _DERIV.fullmatch(t)
    if deriv:
        return (f"<mfrac><mrow><mi>d</mi>{names.mathml(deriv.group(1))}</mrow>"
                f"<mrow><mi>d</mi>{names.mathml(deriv.group(2))}</mrow></mfrac>")
    prime = "<mo>′</mo>" if t.endswith("'") else ""
    word = t.rstrip("'")
    if word in _FUNCTIONS:
        return _FUNCTIONS[word][1] + prime
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return f"<mn>{word}</mn>"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word):
        return f"<mi>{escape(word)}</mi>"
    return names.mathml(word) + prime
