"""The limits of the expression language (see CONTRACT.md, "Expressions")."""
from __future__ import annotations

MAX_LENGTH = 100_000  # characters; longer text is refused
MAX_DEPTH = 1_000  # nesting depth (parentheses, calls, signs, powers); deeper is refused
MAX_EXPONENT = 10_000  # magnitude of a literal or constant exponent; larger is refused
MAX_NUMBER = 1e300  # magnitude of a number or a constant sub-expression; larger is refused
