"""Generated graph-form files of a given size, for tests that count work as size grows."""
from __future__ import annotations


def chain(n: int) -> str:
    """One parameter, then n named nodes each applying sin to the one before."""
    lines = ["params:", "  w: 0.5", "nodes:", "  n0: sin(w)"]
    lines += [f"  n{i}: sin(n{i - 1})" for i in range(1, n)]
    lines.append(f"loss: n{n - 1}")
    return "\n".join(lines) + "\n"


def scalar_tree(p: int) -> str:
    """p scalar parameters, t_i = tanh(w_i * x_i), summed by a balanced tree of named
    nodes (each parameter has ~log2(p) dependents)."""
    lines = ["inputs:"] + [f"  x{i}: {1 + i % 7}" for i in range(p)]
    lines += ["params:"] + [f"  w{i}: {0.01 * (i % 13)}" for i in range(p)]
    lines += ["nodes:"] + [f"  t{i}: tanh(w{i}*x{i})" for i in range(p)]
    level, k = [f"t{i}" for i in range(p)], 0
    while len(level) > 1:
        nxt = []
        for j in range(0, len(level) - 1, 2):
            lines.append(f"  u{k}: {level[j]} + {level[j + 1]}")
            nxt.append(f"u{k}")
            k += 1
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    lines.append(f"loss: 0.5*{level[0]}**2")
    return "\n".join(lines) + "\n"


def scalar_sum_chain(p: int) -> str:
    """p scalar parameters whose terms are added one after another (s_i = s_{i-1} + t_i):
    parameter i has p - i dependents, so central differences cost ~p^2/2 evaluations."""
    lines = ["inputs:"] + [f"  x{i}: {1 + i % 7}" for i in range(p)]
    lines += ["params:"] + [f"  w{i}: {0.01 * (i % 13)}" for i in range(p)]
    lines += ["nodes:"] + [f"  t{i}: tanh(w{i}*x{i})" for i in range(p)]
    lines += ["  s0: t0"] + [f"  s{i}: s{i - 1} + t{i}" for i in range(1, p)]
    lines.append(f"loss: 0.5*s{p - 1}**2")
    return "\n".join(lines) + "\n"


def balanced_sum(terms: list[str]) -> str:
    """The terms added as a balanced tree with parentheses: ((a + b) + (c + d))."""
    while len(terms) > 1:
        terms = [f"({terms[j]} + {terms[j + 1]})" if j + 1 < len(terms) else terms[j]
                 for j in range(0, len(terms), 2)]
    return terms[0]
