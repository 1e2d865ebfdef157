"""gradcli's own layered layout, left to right (used for SVG without Graphviz).

The classic Sugiyama steps, each one a plain loop (no recursion):

1. layers: longest path from the sources, then every value moved as late as
   its consumers allow (a parameter sits next to its first consumer);
2. long edges: an edge spanning a few layers gets a dummy slot in each
   layer it crosses; longer ones (or past a budget of dummies) run on a
   horizontal track above or below all boxes;
3. order within layers: barycentre sweeps down and up, keeping the order
   with the fewest crossings (never worse than the initial order);
4. coordinates: columns as wide as their widest box, gaps as wide as their
   widest edge label; y by repeated pulls toward neighbours, made
   non-overlapping by isotonic regression (pool adjacent violators);
5. routes: inside a column an edge only runs horizontally in its own slot,
   and it bends only in the gaps between columns, where no box is.  Edge
   labels sit on the last bend, inside the gap, so they never overlap a box,
   and are moved along their curve to avoid each other.

Work is linear in boxes + edges + dummies per sweep, and crossings are
counted in O(E log V) per layer pair.
"""
from __future__ import annotations

from gradcli.pictures.routes import (LABEL_PAD, MARGIN, Graph, Layout, Rect, Route,
                                     route_edges)

__all__ = ["MARGIN", "Layout", "Rect", "Route", "layout"]

MIN_GAP = 36.0  # between columns, without labels
V_GAP = 18.0  # between boxes in a column
DUMMY_H = 4.0  # the slot of an edge passing through a column
DUMMY_GAP = 6.0
MAX_SPAN = 6  # edges spanning more layers run on tracks
SWEEPS = 8
Y_PASSES = 8


def layout(boxes: list[tuple[str, float, float]],
           edges: list[tuple[str, str, float, float]],
           dummy_budget: int | None = None) -> Layout:
    """Place `boxes` (id, width, height) and route `edges` (source, target,
    label width, label height; a width of 0 means no label)."""
    ids = [b[0] for b in boxes]
    index = {b: i for i, b in enumerate(ids)}
    pairs = [(index[s], index[t]) for s, t, _, _ in edges]
    layer = _layers(len(ids), pairs)
    budget = max(10_000, 8 * len(ids)) if dummy_budget is None else dummy_budget
    g = _expand(layer, [b[2] for b in boxes], pairs, budget)
    rows = _initial_order(g)
    before = _crossings(g, rows)
    rows, after = _reduce_crossings(g, rows, before)
    widths = [b[1] for b in boxes]
    left, col_w = _columns(g, rows, widths, edges)
    ys = _vertical(g, rows)
    return route_edges(g, rows, ids, widths, edges, left, col_w, ys, before, after)


# ------------------------------------------------------------------ layers ---
def _layers(n: int, pairs: list[tuple[int, int]]) -> list[int]:
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for s, t in pairs:
        succs[s].append(t)
        preds[t].append(s)
        indegree[t] += 1
    order = [i for i in range(n) if indegree[i] == 0]
    for i in order:  # Kahn's algorithm; `order` grows while it is read
        for t in succs[i]:
            indegree[t] -= 1
            if indegree[t] == 0:
                order.append(t)
    if len(order) != n:
        raise ValueError("the graph has a cycle")
    layer = [0] * n
    for i in order:
        for s in preds[i]:
            layer[i] = max(layer[i], layer[s] + 1)
    # then as late as possible: a value sits just before its first consumer, so
    # parameters and their side branches (W2 -> W2ᵀ) are drawn where they are used
    for i in reversed(order):
        if succs[i]:
            layer[i] = max(layer[i], min(layer[t] for t in succs[i]) - 1)
    return layer


def _expand(layer: list[int], heights: list[float], pairs: list[tuple[int, int]],
            budget: int) -> Graph:
    n = len(layer)
    g = Graph(n, list(layer), list(heights), [[] for _ in range(n)], [[] for _ in range(n)],
               [[] for _ in pairs], [False] * len(pairs))
    by_span = sorted(range(len(pairs)), key=lambda e: layer[pairs[e][1]] - layer[pairs[e][0]])
    used = 0
    for e in by_span:  # short edges get dummies first
        s, t = pairs[e]
        span = layer[t] - layer[s]
        if span > 1 and (span > MAX_SPAN or used + span - 1 > budget):
            g.on_track[e] = True
            g.chains[e] = [s, t]
            continue
        chain = [s]
        for lay in range(layer[s] + 1, layer[t]):
            d = len(g.layer)
            g.layer.append(lay)
            g.height.append(DUMMY_H)
            g.up.append([])
            g.down.append([])
            chain.append(d)
            used += 1
        chain.append(t)
        for a, b in zip(chain, chain[1:]):
            g.down[a].append(b)
            g.up[b].append(a)
        g.chains[e] = chain
    return g


# ---------------------------------------------------------------- ordering ---
def _initial_order(g: Graph) -> list[list[int]]:
    """Items by layer, in input order; a dummy sits where its edge's source is."""
    first = min(g.layer) if g.layer else 0
    rows: list[list[int]] = [[] for _ in range((max(g.layer) - first + 1) if g.layer else 0)]
    key = list(range(len(g.layer)))
    for chain in g.chains:
        for d in chain[1:-1]:
            key[d] = chain[0]
    for item in sorted(range(len(g.layer)), key=lambda i: (key[i], i)):
        rows[g.layer[item] - first].append(item)
    if first:
        g.layer = [lay - first for lay in g.layer]
    return rows


def _crossings(g: Graph, rows: list[list[int]]) -> int:
    pos = [0] * len(g.layer)
    for row in rows:
        for k, item in enumerate(row):
            pos[item] = k
    total = 0
    for li in range(len(rows) - 1):
        segs = sorted((pos[a], pos[b]) for a in rows[li] for b in g.down[a])
        total += _inversions([b for _, b in segs], len(rows[li + 1]))
    return total


def _inversions(seq: list[int], size: int) -> int:
    """Pairs i < j with seq[i] > seq[j] (a Fenwick tree over positions)."""
    tree = [0] * (size + 1)
    count = 0
    for seen, v in enumerate(seq):
        i, le = v + 1, 0
        while i > 0:  # how many seen so far are <= v
            le += tree[i]
            i -= i & -i
        count += seen - le
        i = v + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return count


def _reduce_crossings(g: Graph, rows: list[list[int]], before: int):
    best, best_count = [list(r) for r in rows], before
    pos = [0.0] * len(g.layer)
    for row in rows:
        for k, item in enumerate(row):
            pos[item] = float(k)
    for sweep in range(SWEEPS):
        if best_count == 0:
            break
        down = sweep % 2 == 0
        order = range(1, len(rows)) if down else range(len(rows) - 2, -1, -1)
        for li in order:
            row = rows[li]

            def centre(item: int) -> float:
                near = g.up[item] if down else g.down[item]
                return sum(pos[a] for a in near) / len(near) if near else pos[item]

            row.sort(key=centre)
            for k, item in enumerate(row):
                pos[item] = float(k)
        count = _crossings(g, rows)
        if count < best_count:
            best, best_count = [list(r) for r in rows], count
    return best, best_count


# ------------------------------------------------------------- coordinates ---
def _columns(g: Graph, rows, widths, edges) -> tuple[list[float], list[float]]:
    col_w = [max([widths[i] for i in row if i < g.n], default=0.0) for row in rows]
    gap = [MIN_GAP] * len(rows)
    for e, (_, _, lw, _) in enumerate(edges):
        target = g.chains[e][-1]
        li = g.layer[target] - 1  # the label sits in the gap before the target
        if lw > 0 and li >= 0:
            gap[li] = max(gap[li], lw + 2 * LABEL_PAD + 12.0)
    left, x = [], 0.0
    for li in range(len(rows)):
        left.append(x)
        x += col_w[li] + gap[li]
    return left, col_w


def _separation(g: Graph, a: int, b: int) -> float:
    gap = V_GAP if a < g.n and b < g.n else DUMMY_GAP
    return (g.height[a] + g.height[b]) / 2 + gap


def _vertical(g: Graph, rows: list[list[int]]) -> list[float]:
    y = [0.0] * len(g.layer)
    for row in rows:  # stacked, centred on 0
        acc = 0.0
        for k, item in enumerate(row):
            if k:
                acc += _separation(g, row[k - 1], item)
            y[item] = acc
        for item in row:
            y[item] -= acc / 2
    for p in range(Y_PASSES):
        final = p == Y_PASSES - 1
        down = p % 2 == 0
        order = range(len(rows)) if down else range(len(rows) - 1, -1, -1)
        for li in order:
            row = rows[li]
            desired = []
            for item in row:
                near = (g.up[item] + g.down[item]) if final else \
                    (g.up[item] if down else g.down[item])
                desired.append(sum(y[a] for a in near) / len(near) if near else y[item])
            for item, v in zip(row, _pack(g, row, desired)):
                y[item] = v
    return y


def _pack(g: Graph, row: list[int], desired: list[float]) -> list[float]:
    """Positions closest to `desired` (least squares) keeping order and separations."""
    offsets = [0.0]
    for k in range(1, len(row)):
        offsets.append(offsets[-1] + _separation(g, row[k - 1], row[k]))
    blocks: list[list[float]] = []  # [sum, count]
    for d, o in zip(desired, offsets):
        blocks.append([d - o, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    out = []
    for s, c in blocks:
        out.extend([s / c] * int(c))
    return [z + o for z, o in zip(out, offsets)]


# ------------------------------------------------------------------ routes ---
