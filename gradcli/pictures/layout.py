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

import bisect
import heapq
from dataclasses import dataclass, field

MIN_GAP = 36.0  # between columns, without labels
LABEL_PAD = 5.0  # between a label and the columns around it
V_GAP = 18.0  # between boxes in a column
DUMMY_H = 4.0  # the slot of an edge passing through a column
DUMMY_GAP = 6.0
MAX_SPAN = 6  # edges spanning more layers run on tracks
TRACK_MARGIN = 18.0
TRACK_GAP = 8.0
SWEEPS = 8
Y_PASSES = 8
MARGIN = 12.0


@dataclass
class Rect:
    x: float  # left
    y: float  # top
    w: float
    h: float

    def overlaps(self, other: "Rect", eps: float = 1e-6) -> bool:
        return (self.x < other.x + other.w - eps and other.x < self.x + self.w - eps
                and self.y < other.y + other.h - eps and other.y < self.y + self.h - eps)


@dataclass
class Route:
    source: str
    target: str
    #: SVG-like path: ("M", x, y), ("L", x, y), ("C", x1, y1, x2, y2, x, y)
    path: list[tuple] = field(default_factory=list)
    label: Rect | None = None


@dataclass
class Layout:
    width: float
    height: float
    boxes: dict[str, Rect]
    layer: dict[str, int]
    routes: list[Route]
    crossings_before: int
    crossings_after: int
    tracks: int = 0  # edges drawn on tracks


@dataclass
class _Graph:
    """Items (boxes, then dummies) with their layers and the segments between layers."""

    n: int  # real boxes are items 0..n-1
    layer: list[int]
    height: list[float]
    up: list[list[int]]  # neighbours in the previous layer
    down: list[list[int]]  # neighbours in the next layer
    chains: list[list[int]]  # per edge: the items it passes (source .. target)
    on_track: list[bool]  # per edge


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
    return _route(g, rows, ids, widths, edges, left, col_w, ys, before, after)


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
            budget: int) -> _Graph:
    n = len(layer)
    g = _Graph(n, list(layer), list(heights), [[] for _ in range(n)], [[] for _ in range(n)],
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
def _initial_order(g: _Graph) -> list[list[int]]:
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


def _crossings(g: _Graph, rows: list[list[int]]) -> int:
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


def _reduce_crossings(g: _Graph, rows: list[list[int]], before: int):
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
def _columns(g: _Graph, rows, widths, edges) -> tuple[list[float], list[float]]:
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


def _separation(g: _Graph, a: int, b: int) -> float:
    gap = V_GAP if a < g.n and b < g.n else DUMMY_GAP
    return (g.height[a] + g.height[b]) / 2 + gap


def _vertical(g: _Graph, rows: list[list[int]]) -> list[float]:
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


def _pack(g: _Graph, row: list[int], desired: list[float]) -> list[float]:
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
def _route(g: _Graph, rows, ids, widths, edges, left, col_w, ys, before, after) -> Layout:
    boxes = {ids[i]: Rect(left[g.layer[i]] + (col_w[g.layer[i]] - widths[i]) / 2,
                          ys[i] - g.height[i] / 2, widths[i], g.height[i]) for i in range(g.n)}
    top = min([ys[i] - g.height[i] / 2 for i in range(len(ys))], default=0.0)
    bottom = max([ys[i] + g.height[i] / 2 for i in range(len(ys))], default=0.0)
    track_y = _tracks(g, ys, top, bottom)
    routes, requests = [], []
    for e, (s_id, t_id, lw, lh) in enumerate(edges):
        chain = g.chains[e]
        s, t = chain[0], chain[-1]
        # stations: (first layer, last layer, y) of each horizontal run; a track
        # is one run across every column it passes
        stations = [(g.layer[s], g.layer[s], ys[s])]
        if g.on_track[e]:
            stations.append((g.layer[s] + 1, g.layer[t] - 1, track_y[e]))
        else:
            stations += [(g.layer[d], g.layer[d], ys[d]) for d in chain[1:-1]]
        stations.append((g.layer[t], g.layer[t], ys[t]))
        route = Route(s_id, t_id)
        box_s = boxes[s_id]
        route.path.append(("M", box_s.x + box_s.w, ys[s]))
        last_gap = None
        for (_, la, ya), (lb, _, yb) in zip(stations, stations[1:]):
            x0 = left[la] + col_w[la]
            x1 = left[lb]
            if route.path[-1][-2] != x0 or route.path[-1][-1] != ya:
                route.path.append(("L", x0, ya))
            if abs(ya - yb) >= 0.5:  # bends only in the gap
                xm = (x0 + x1) / 2
                route.path.append(("C", xm, ya, xm, yb, x1, yb))
            last_gap = (x0, ya, x1, yb)
        route.path.append(("L", boxes[t_id].x, ys[t]))
        _merge_straight(route.path)
        if lw > 0 and last_gap is not None:
            requests.append((g.layer[t] - 1, e, last_gap, lw, lh))
        routes.append(route)
    _place_labels(requests, routes)
    return _normalise(boxes, routes, g.layer[:g.n], ids, before, after,
                      sum(g.on_track))


def _merge_straight(path: list[tuple]) -> None:
    """Consecutive horizontal lines at one height become one line."""
    out = [path[0]]
    for op in path[1:]:
        if (op[0] == "L" and out[-1][0] == "L" and len(out) > 1
                and abs(out[-1][2] - op[2]) < 1e-9 and abs(out[-2][-1] - op[2]) < 1e-9):
            out[-1] = op
        else:
            out.append(op)
    path[:] = out


def _tracks(g: _Graph, ys: list[float], top: float, bottom: float) -> dict[int, float]:
    """A horizontal track per long edge, above or below all boxes; edges whose
    spans do not overlap share a track (greedy interval partitioning)."""
    middle = (top + bottom) / 2
    sides: dict[bool, list[tuple[int, int, int]]] = {True: [], False: []}
    for e, chain in enumerate(g.chains):
        if g.on_track[e]:
            s, t = chain[0], chain[-1]
            above = (ys[s] + ys[t]) / 2 <= middle
            sides[above].append((g.layer[s], g.layer[t] - 1, e))
    out: dict[int, float] = {}
    for above, spans in sides.items():
        free: list[tuple[int, int]] = []  # (last gap used, track number)
        count = 0
        for start, end, e in sorted(spans):
            if free and free[0][0] < start:
                _, k = heapq.heappop(free)
            else:
                k, count = count, count + 1
            heapq.heappush(free, (end, k))
            offset = TRACK_MARGIN + k * TRACK_GAP
            out[e] = top - offset if above else bottom + offset
    return out


def _curve_point(x0, y0, x1, y1, t: float) -> tuple[float, float]:
    """The gap curve (cubic, horizontal tangents, control points at mid-x) at t."""
    u = 1 - t
    x = x0 + (x1 - x0) * (1.5 * t * u + t ** 3)
    y = y0 + (y1 - y0) * (3 * t * t - 2 * t ** 3)
    return x, y


def _t_at_x(x0, y0, x1, y1, x: float) -> float:
    lo, hi = 0.0, 1.0
    for _ in range(40):  # x(t) increases with t
        mid = (lo + hi) / 2
        if _curve_point(x0, y0, x1, y1, mid)[0] < x:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


FRACTIONS = (0.5, 0.3, 0.7, 0.15, 0.85, 0.0, 1.0)


def _place_labels(requests, routes: list[Route]) -> None:
    """Each label inside its gap, on its curve, avoiding labels placed before it."""
    by_gap: dict[int, list] = {}
    for req in requests:
        by_gap.setdefault(req[0], []).append(req)
    for reqs in by_gap.values():
        reqs.sort(key=lambda r: (r[2][1] + r[2][3]) / 2)
        tops: list[float] = []
        placed: list[Rect] = []
        for _, e, (x0, y0, x1, y1), lw, lh in reqs:
            lo, hi = x0 + LABEL_PAD + lw / 2, x1 - LABEL_PAD - lw / 2
            first = None
            for f in FRACTIONS:
                cx = lo + (hi - lo) * f if hi > lo else (x0 + x1) / 2
                _, cy = _curve_point(x0, y0, x1, y1, _t_at_x(x0, y0, x1, y1, cx))
                rect = Rect(cx - lw / 2, cy - lh / 2, lw, lh)
                first = first or rect
                if not _hits(rect, tops, placed):
                    break
            else:
                rect = first
            k = bisect.bisect(tops, rect.y)
            tops.insert(k, rect.y)
            placed.insert(k, rect)
            routes[e].label = rect


def _hits(rect: Rect, tops: list[float], placed: list[Rect]) -> bool:
    k = bisect.bisect_left(tops, rect.y - rect.h - 1)
    while k < len(placed) and tops[k] < rect.y + rect.h:
        if rect.overlaps(placed[k]):
            return True
        k += 1
    return False


def _normalise(boxes, routes, layers, ids, before, after, tracks) -> Layout:
    """Shift everything so the drawing starts at (MARGIN, MARGIN)."""
    xs, ys = [], []
    for r in boxes.values():
        xs += [r.x, r.x + r.w]
        ys += [r.y, r.y + r.h]
    for route in routes:
        for op in route.path:
            xs += list(op[1::2])
            ys += list(op[2::2])
        if route.label:
            xs += [route.label.x, route.label.x + route.label.w]
            ys += [route.label.y, route.label.y + route.label.h]
    if not xs:
        return Layout(2 * MARGIN, 2 * MARGIN, {}, {}, [], before, after, tracks)
    dx, dy = MARGIN - min(xs), MARGIN - min(ys)
    for r in boxes.values():
        r.x += dx
        r.y += dy
    for route in routes:
        route.path = [(op[0], *[v + (dx if k % 2 == 0 else dy) for k, v in enumerate(op[1:])])
                      for op in route.path]
        if route.label:
            route.label.x += dx
            route.label.y += dy
    return Layout(max(xs) + dx + MARGIN, max(ys) + dy + MARGIN, boxes,
                  dict(zip(ids, layers)), routes, before, after, tracks)
