"""Text for boxes and edges: numbers, tensors, operations, sub-expressions.

Numbers have 4 significant digits, as in the chain-rule ledger
(`(-0.1649)(0.1377)(0.7503) = -0.01704`).  Tensors show their values when
they have at most 4 entries and their norm otherwise (never one box per
scalar).  Every text is capped in length, so a box has a bounded size
whatever the input.
"""
from __future__ import annotations

import math
from typing import Any

DIGITS = 4
MAX_NAME = 32  # characters of a box name or sub-expression shown
SMALL_TENSOR = 4  # at most this many entries are shown one by one

#: how each op is written in a box; binary ops get their constant operand added
OP_TEXT = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "neg": "−", "pow": "^",
           "matmul": "@", "heaviside": "Heaviside"}
_INFIX = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "pow": "**", "matmul": " @ "}
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}
_ATOM = 9


def number(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    text = f"{v:.{DIGITS}g}"
    return text.replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")


def is_scalar(v: Any) -> bool:
    return isinstance(v, float)


def shape_text(v: Any) -> str:
    return "" if is_scalar(v) or v is None else "[" + ", ".join(map(str, v.shape)) + "]"


def value_text(v: Any) -> str:
    """A scalar as a number; a tensor by its entries (small) or its norm."""
    if v is None:
        return ""
    if is_scalar(v):
        return number(v)
    import numpy as np

    a = np.asarray(v, dtype=float)
    if a.size <= SMALL_TENSOR:
        return _nested(a.tolist())
    return "‖·‖ " + number(float(np.linalg.norm(a)))


def _nested(items: list) -> str:
    """[[0.5, -0.3], [0.2, 0.4]]: the rows of a small tensor (at most 4 entries)."""
    return "[" + ", ".join(_nested(x) if isinstance(x, list) else number(float(x))
                           for x in items) + "]"


def clip(text: str, limit: int = MAX_NAME) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def constant_text(graph: Any, node_id: int) -> str:
    v = graph.nodes[node_id].value
    return number(v) if is_scalar(v) else "const" + shape_text(v)


def operation_text(graph: Any, node_id: int, shown: set[int]) -> str:
    """`+`, `× 0.5`, `^ 2`, `2 − ·`, `sigmoid`: the op, with operands that have no box.

    Constant operands are folded into the op's text instead of getting a box
    of their own (a picture of `0.5*(y - yhat)**2` needs no boxes for 0.5 and 2).
    """
    node = graph.nodes[node_id]
    op = OP_TEXT.get(node.op, node.op)
    hidden = [k for k, a in enumerate(node.args) if a not in shown]
    if len(node.args) != 2 or not hidden:
        return op
    if len(hidden) == 2:  # both operands constant (an unfolded constant expression)
        return " ".join((constant_text(graph, node.args[0]), op,
                         constant_text(graph, node.args[1])))
    k = hidden[0]
    const = constant_text(graph, node.args[k])
    if k == 1:
        return f"{op} {const}"
    if node.op in ("add", "mul"):  # commutative: read as "× 0.5"
        return f"{op} {const}"
    return f"{const} {op} ·"


def subexpressions(graph: Any, names: dict[int, str], last: int) -> list[str]:
    """Readable text of every node 0..last in terms of the named values.

    Built in one loop in construction order (arguments come first); each text
    is capped, so the work stays linear however deep the expression.
    """
    text: list[str] = [""] * (last + 1)
    prec: list[int] = [_ATOM] * (last + 1)
    for i in range(last + 1):
        node = graph.nodes[i]
        if i in names:
            text[i], prec[i] = names[i], _ATOM
        elif node.op == "const":
            text[i] = constant_text(graph, i)
            prec[i] = _ATOM if not text[i].startswith("-") else 3
        elif node.op == "var":
            text[i] = node.name
        else:
            text[i], prec[i] = _compose(node, text, prec)
    return text


def _compose(node: Any, text: list[str], prec: list[int]) -> tuple[str, int]:
    args = node.args

    def wrap(a: int, need: int) -> str:
        return f"({text[a]})" if prec[a] < need else text[a]

    p = _PRECEDENCE.get(node.op)
    if node.op == "neg":
        out = "-" + wrap(args[0], 4)
    elif node.op == "transpose":
        out = wrap(args[0], _ATOM) + "ᵀ"
        p = _ATOM
    elif node.op == "pow":
        out = wrap(args[0], 5) + "**" + wrap(args[1], 4)
    elif node.op in _INFIX:
        # left-associative: the right operand needs parentheses at equal precedence
        out = wrap(args[0], p) + _INFIX[node.op] + wrap(args[1], p + 1)
    else:
        out = f"{node.op}(" + ", ".join(text[a] for a in args) + ")"
        p = _ATOM
    return clip(out, MAX_NAME + 8), p
