"""Edge labels: the local derivative d(target)/d(source) at the point.

For scalars this is one number, the op's vector-Jacobian product with a
seed of 1 (the factor the chain rule multiplies along the edge).  A tensor
edge carries a Jacobian, which no label can hold, so it is written the way
the backward pass applies it: `1` for a sum, `⊙ x` for an elementwise
product, `· @ W1ᵀ` for a matrix product, `diag [..]` (or its norm) for an
elementwise function, and the gradient itself when the target is a scalar
(`sum`, `mean`, a loss).
"""
from __future__ import annotations

from typing import Any

from gradcli.pictures.labels import clip, is_scalar, number, value_text

OTHER_MAX = 14  # characters of an operand's name inside a tensor label


def edge_label(engine: Any, graph: Any, values: list, node_id: int, k: int,
               text_of: list[str]) -> str:
    """The label of the edge from argument `k` of node `node_id` (empty if unknown)."""
    from gradcli.ops import OPS

    node = graph.nodes[node_id]
    op = OPS[node.op]
    args = [values[a] for a in node.args]
    out = values[node_id]
    arg = args[k]
    try:
        if is_scalar(out):
            local = engine.unbroadcast(op.vjp[k](1.0, out, *args), arg)
            return number(local) if is_scalar(local) else value_text(local)
        return _tensor_label(engine, node, op, k, args, out, text_of)
    except (ArithmeticError, ValueError, TypeError):
        return ""  # undefined here (the backward pass reports it where it matters)


def _tensor_label(engine: Any, node: Any, op: Any, k: int, args: list, out: Any,
                  text_of: list[str]) -> str:
    name = node.op
    other = clip(text_of[node.args[1 - k]], OTHER_MAX) if len(node.args) == 2 else ""
    other_value = args[1 - k] if len(node.args) == 2 else None
    if name == "add":
        return "1"
    if name == "sub":
        return "1" if k == 0 else "−1"
    if name == "mul":
        if is_scalar(other_value):
            return number(other_value)
        return other if is_scalar(args[k]) else f"⊙ {other}"
    if name == "div":
        if k == 0:
            return number(1.0 / other_value) if is_scalar(other_value) else f"⊙ 1/{other}"
        return f"⊙ −{clip(text_of[node.args[0]], OTHER_MAX)}/{other}²"
    if name == "matmul":
        return f"· @ {_transposed(other)}" if k == 0 else f"{_transposed(other)} @ ·"
    if name == "transpose":
        return "·ᵀ"
    if name == "softmax":
        return "diag(s) − s sᵀ"
    if name == "log_softmax":
        return "I − 1 sᵀ"
    if op.elementwise and not is_scalar(args[k]) and args[k].shape == out.shape:
        # an elementwise function of this argument: its Jacobian is diagonal,
        # and the VJP of a tensor of ones is that diagonal
        import numpy as np

        diagonal = engine.unbroadcast(op.vjp[k](np.ones(out.shape), out, *args), args[k])
        return "diag " + value_text(diagonal)
    return "J"


def _transposed(name: str) -> str:
    """`W1ᵀ` -> `W1`, `x` -> `xᵀ` (never `W1ᵀᵀ`)."""
    return name[:-1] if name.endswith("ᵀ") else name + "ᵀ"
