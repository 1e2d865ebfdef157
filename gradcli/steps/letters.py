"""Letters for substitutions and identities that never clash with the user's names.

Identities are formulas written with placeholder letters (`d(u**n) =
n*u**(n - 1)*du`, `d(c*u) = c*du`, `dc/dx = 0`).  In `(a+b)*c` the letters
`a` and `c` are the user's variables, so `d(c*u) = c*du` would read as a
statement about the user's `c`: each placeholder is renamed to the first
free letter of its kind.  The identity strings are gradcli's own (the op
table's and this package's), never user text.
"""
from __future__ import annotations

import re

#: Substitution names: u, v, w, then u1, u2, ...
SUBSTITUTION_NAMES = ("u", "v", "w")
#: The outer function of a u-substitution (`dy/du`).
FUNCTION_NAMES = ("y", "f", "F", "g")
#: Letters for the functions of an identity, taken in pairs (d(u + v) = du + dv).
FUNCTION_PAIRS = (("u", "v"), ("g", "h"), ("p", "q"), ("r", "s"))
#: Candidates per placeholder letter: a constant exponent, a constant, a
#: constant base, matrices, the variable's function in the chain identity.
CANDIDATES = {"n": "nmkpq", "c": "ckCKq", "a": "abqr", "A": "AMP", "B": "BNQ",
              "y": "yfFg"}
#: Named constants of the language are taken too (`e`, `pi`).
RESERVED = frozenset({"e", "pi"})

CHAIN_IDENTITY = "dy/dx = dy/du * du/dx"
CONSTANT_IDENTITY = "dc/dx = 0"
VARIABLE_IDENTITY = "dx/dx = 1"
CONST_MULTIPLE_IDENTITY = "d(c*u) = c*du"
EXPONENTIAL_IDENTITY = "d(a**u) = a**u*log(a)*du"
GENERAL_POWER_IDENTITY = "d(u**v) = u**v*(log(u)*dv + v*du/u)"

_TOKEN = re.compile(r"\b[A-Za-z]\w*\b")


def next_substitution_name(taken: set[str]) -> str:
    """u, v, w, then u1, u2, ... skipping names already in use."""
    for name in SUBSTITUTION_NAMES:
        if name not in taken:
            return name
    k = 1
    while f"u{k}" in taken:
        k += 1
    return f"u{k}"


def fresh(candidates, taken: set[str]) -> str:
    """The first candidate not taken (the last one if all are)."""
    return next((c for c in candidates if c not in taken), candidates[-1])


class IdentityLetters:
    """Renames an identity's placeholders to letters free in one explanation."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken) | RESERVED  # the user's variables and the substitution names

    def rename(self, identity: str, var: str, own: str | None = None) -> str:
        """`identity` with x -> `var`, u -> `own` (the substitution name of an outer
        step or of a chain) or a free letter, and every other placeholder -> a
        free letter of its kind."""
        used = _placeholders(identity)
        taken = (self.taken - {own}) | {var}
        mapping = {"x": var}
        if own:
            mapping["u"] = own
        elif used & {"u", "v"}:
            pair = next((p for p in FUNCTION_PAIRS if not set(p) & taken), FUNCTION_PAIRS[-1])
            mapping.update(u=pair[0], v=pair[1])
        taken |= set(mapping.values())
        for letter in sorted(used - set(mapping)):
            mapping[letter] = fresh(CANDIDATES.get(letter, letter), taken)
            taken.add(mapping[letter])
        return _substitute(identity, mapping)


def _placeholders(identity: str) -> set[str]:
    letters = set()
    for token in _TOKEN.findall(identity):
        for name in (token, token[1:] if token.startswith("d") else ""):
            if name in CANDIDATES or name in ("u", "v", "x"):
                letters.add(name)
    return letters


def _substitute(identity: str, mapping: dict[str, str]) -> str:
    def rename(match: re.Match) -> str:
        token = match.group(0)
        if token in mapping:
            return mapping[token]
        if token.startswith("d") and token[1:] in mapping:  # du, dx, dc: d of a letter
            return "d" + mapping[token[1:]]
        return token

    return _TOKEN.sub(rename, identity)


def split_identity(identity: str) -> str:
    """The formula of an op-table identity, without its parenthesised remark
    (`d relu(u) = Heaviside(u)*du  (0 at u = 0)`): remarks are notes, translated."""
    return identity.partition("  (")[0].strip()
