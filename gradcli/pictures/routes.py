"""Routes of the layered layout: where edges run and where their labels sit.

Inside a column an edge only runs horizontally, in its own slot (its box's
row, or the slot of a dummy); it bends only in the gaps between columns,
where there is no box.  Edges spanning many layers run on one horizontal
track above or below all boxes.  The ends of the edges meeting one side of a
box are spread over that side.  A label sits on its edge's last bend, inside
the gap, so it cannot overlap a box, and slides along its curve to avoid the
labels already placed.
"""
from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field

LABEL_PAD = 5.0  # between a label and the columns around it
TRACK_MARGIN = 18.0
TRACK_GAP = 8.0
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
class Graph:
    """Items (boxes, then dummies) with their layers and the segments between layers."""

    n: int  # real boxes are items 0..n-1
    layer: list[int]
    height: list[float]
    up: list[list[int]]  # neighbours in the previous layer
    down: list[list[int]]  # neighbours in the next layer
    chains: list[list[int]]  # per edge: the items it passes (source .. target)
    on_track: list[bool]  # per edge


def route_edges(g: Graph, rows, ids, widths, edges, left, col_w, ys, before,
                after) -> Layout:
    """Boxes placed at their coordinates, every edge routed and labelled."""
    boxes = {ids[i]: Rect(left[g.layer[i]] + (col_w[g.layer[i]] - widths[i]) / 2,
                          ys[i] - g.height[i] / 2, widths[i], g.height[i]) for i in range(g.n)}
    top = min([ys[i] - g.height[i] / 2 for i in range(len(ys))], default=0.0)
    bottom = max([ys[i] + g.height[i] / 2 for i in range(len(ys))], default=0.0)
    track_y = _tracks(g, ys, top, bottom)
    all_stations = []
    for e in range(len(edges)):
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
        all_stations.append(stations)
    _ports(g, ys, all_stations)
    routes, requests = [], []
    for e, (s_id, t_id, lw, lh) in enumerate(edges):
        stations = all_stations[e]
        route = Route(s_id, t_id)
        box_s = boxes[s_id]
        route.path.append(("M", box_s.x + box_s.w, stations[0][2]))
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
        route.path.append(("L", boxes[t_id].x, stations[-1][2]))
        _merge_straight(route.path)
        if lw > 0 and last_gap is not None:
            requests.append((stations[-1][0] - 1, e, last_gap, lw, lh))
        routes.append(route)
    _place_labels(requests, routes)
    return _normalise(boxes, routes, g.layer[:g.n], ids, before, after,
                      sum(g.on_track))


PORT_GAP = 12.0  # between the ends of edges meeting one side of a box


def _ports(g: Graph, ys: list[float], stations: list[list[tuple]]) -> None:
    """Spread the edges meeting one side of a box over that side, in the order
    of where they come from, so arrows never pile up on one point."""
    incoming: dict[int, list[int]] = {}
    outgoing: dict[int, list[int]] = {}
    for e, chain in enumerate(g.chains):
        outgoing.setdefault(chain[0], []).append(e)
        incoming.setdefault(chain[-1], []).append(e)
    for node, edges_at in incoming.items():
        _spread(g, ys, node, edges_at, stations, -1, -2)
    for node, edges_at in outgoing.items():
        _spread(g, ys, node, edges_at, stations, 0, 1)


def _spread(g: Graph, ys, node: int, edges_at: list[int], stations, end: int,
            other: int) -> None:
    if len(edges_at) < 2:
        return
    edges_at = sorted(edges_at, key=lambda e: stations[e][other][2])
    step = min(PORT_GAP, g.height[node] * 0.7 / (len(edges_at) - 1))
    first = ys[node] - step * (len(edges_at) - 1) / 2
    for k, e in enumerate(edges_at):
        a, b, _ = stations[e][end]
        stations[e][end] = (a, b, first + k * step)


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


def _tracks(g: Graph, ys: list[float], top: float, bottom: float) -> dict[int, float]:
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


def _t_at_x(x0, x1, x: float) -> float:
    """The t where the gap curve reaches x (its x(t) increases; 24 halvings)."""
    lo, hi, span = 0.0, 1.0, x1 - x0
    for _ in range(24):
        mid = (lo + hi) / 2
        if x0 + span * (1.5 * mid * (1 - mid) + mid ** 3) < x:
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
                _, cy = _curve_point(x0, y0, x1, y1, _t_at_x(x0, x1, cx))
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
