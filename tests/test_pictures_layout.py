"""gradcli's own layered layout, checked geometrically: no overlapping boxes,
edge labels clear of every box, edges that never run through a box, layers
that follow the edges, and crossing reduction never worse than the input
order.  The amount of drawing work is counted, not timed."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from gradcli.pictures import build, layout as layered, svg

SPECS = Path(__file__).resolve().parent.parent / "specs"


def random_dag(n: int, seed: int, fan: int = 2) -> tuple[list, list]:
    rng = random.Random(seed)
    boxes = [(f"b{i}", rng.uniform(40, 160), rng.uniform(30, 80)) for i in range(n)]
    edges, seen = [], set()
    for t in range(1, n):
        for _ in range(rng.randint(1, fan)):
            s = rng.randrange(0, t)
            if (s, t) not in seen:
                seen.add((s, t))
                width = rng.choice([0.0, rng.uniform(10, 70)])
                edges.append((f"b{s}", f"b{t}", width, 15.0 if width else 0.0))
    return boxes, edges


def picture_input(path: Path):
    p = build.from_spec(str(path))
    boxes = [(b.id, *svg.box_size(b)) for b in p.boxes]
    edges = [(e.source, e.target, *svg.label_size(e.label)) for e in p.edges]
    return boxes, edges


def cases():
    yield "sigmoid_121", *picture_input(SPECS / "sigmoid_121.yaml")
    yield "net_231", *picture_input(SPECS / "net_231_sigmoid.yaml")
    yield "xor", *picture_input(SPECS / "xor_relu_softmax.yaml")
    for seed in range(4):
        yield f"random{seed}", *random_dag(60, seed)
    yield "wide-fan", [("hub", 60.0, 30.0)] + [(f"l{i}", 50.0, 30.0) for i in range(30)], \
        [("hub", f"l{i}", 30.0, 15.0) for i in range(30)]
    yield "long-edges", *random_dag(40, 7, fan=4)


CASES = list(cases())


def sample(path: list[tuple], steps: int = 24):
    """Points along a path (lines and cubic curves)."""
    x, y = path[0][1], path[0][2]
    for op in path[1:]:
        if op[0] == "L":
            for k in range(1, steps + 1):
                t = k / steps
                yield x + (op[1] - x) * t, y + (op[2] - y) * t
        else:
            x1, y1, x2, y2, x3, y3 = op[1:]
            for k in range(1, steps + 1):
                t = k / steps
                u = 1 - t
                yield (u ** 3 * x + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t ** 3 * x3,
                       u ** 3 * y + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t ** 3 * y3)
        x, y = op[-2], op[-1]


def inside(r: layered.Rect, px: float, py: float, margin: float = 0.5) -> bool:
    return r.x + margin < px < r.x + r.w - margin and r.y + margin < py < r.y + r.h - margin


@pytest.mark.parametrize("name,boxes,edges", CASES, ids=[c[0] for c in CASES])
def test_geometry(name, boxes, edges):
    placed = layered.layout(boxes, edges)
    rects = list(placed.boxes.values())
    assert len(rects) == len(boxes)
    for (bid, w, h) in boxes:  # boxes keep their size
        assert placed.boxes[bid].w == pytest.approx(w) and placed.boxes[bid].h == pytest.approx(h)
    for i, a in enumerate(rects):  # no two boxes overlap
        for b in rects[i + 1:]:
            assert not a.overlaps(b), (name, a, b)
    for (s, t, lw, _), route in zip(edges, placed.routes):
        assert placed.layer[t] > placed.layer[s]  # layers follow the edges
        if lw:  # every label is placed, clear of every box
            assert route.label is not None
            assert all(not route.label.overlaps(r) for r in rects), (name, route.label)
        else:
            assert route.label is None
        # the edge starts at its source's right side and ends at its target's left side
        src, dst = placed.boxes[s], placed.boxes[t]
        assert route.path[0][1] == pytest.approx(src.x + src.w)
        assert route.path[-1][-2] == pytest.approx(dst.x)
        for px, py in sample(route.path):  # and never runs through a box
            assert not any(inside(r, px, py) for r in rects), (name, s, t, px, py)
    assert placed.crossings_after <= placed.crossings_before
    # everything lies inside the drawing
    for r in rects + [rt.label for rt in placed.routes if rt.label]:
        assert r.x >= 0 and r.y >= 0 and r.x + r.w <= placed.width and r.y + r.h <= placed.height


def test_labels_sit_on_their_own_edge():
    boxes, edges = CASES[0][1], CASES[0][2]
    placed = layered.layout(boxes, edges)
    for route in placed.routes:
        if route.label:
            cx, cy = route.label.x + route.label.w / 2, route.label.y + route.label.h / 2
            nearest = min((px - cx) ** 2 + (py - cy) ** 2 for px, py in sample(route.path, 200))
            assert nearest < 4.0


def test_labels_do_not_overlap_each_other_on_the_worked_examples():
    for path in ("sigmoid_121.yaml", "net_231_sigmoid.yaml", "add_mul.yaml"):
        boxes, edges = picture_input(SPECS / path)
        labels = [r.label for r in layered.layout(boxes, edges).routes if r.label]
        for i, a in enumerate(labels):
            assert not any(a.overlaps(b) for b in labels[i + 1:]), path


def test_crossing_reduction_improves_a_scrambled_order():
    """Two layers wired in reverse: the input order has n(n-1)/2 crossings, the sweeps
    remove all of them."""
    n = 12
    boxes = [(f"a{i}", 40.0, 30.0) for i in range(n)] + [(f"b{i}", 40.0, 30.0) for i in range(n)]
    edges = [(f"a{i}", f"b{n - 1 - i}", 0.0, 0.0) for i in range(n)]
    placed = layered.layout(boxes, edges)
    assert placed.crossings_before == n * (n - 1) // 2
    assert placed.crossings_after == 0


def test_inversion_count_against_brute_force():
    rng = random.Random(5)
    for _ in range(50):
        seq = [rng.randrange(0, 9) for _ in range(rng.randrange(0, 30))]
        brute = sum(1 for i in range(len(seq)) for j in range(i + 1, len(seq)) if seq[i] > seq[j])
        assert layered._inversions(seq, 9) == brute


def test_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        layered.layout([("a", 10, 10), ("b", 10, 10)], [("a", "b", 0, 0), ("b", "a", 0, 0)])


def skip_chain(n: int) -> tuple[list, list]:
    """Node i uses node i-1 and node i//2: long edges everywhere."""
    boxes = [(f"n{i}", 80.0, 50.0) for i in range(n)]
    edges = [(f"n{i - 1}", f"n{i}", 30.0, 15.0) for i in range(1, n)]
    edges += [(f"n{i // 2}", f"n{i}", 30.0, 15.0) for i in range(3, n) if i // 2 != i - 1]
    return boxes, edges


def test_drawing_work_grows_linearly():
    """Path commands per edge stay bounded (a long edge is one track, not one
    segment per column it passes), and dummies stay within the budget."""
    for n in (250, 1000):
        boxes, edges = skip_chain(n)
        placed = layered.layout(boxes, edges)
        commands = sum(len(r.path) for r in placed.routes)
        assert commands <= (layered.MAX_SPAN + 4) * len(edges)
        assert placed.tracks > 0


def test_dummy_budget_sends_long_edges_to_tracks():
    boxes, edges = skip_chain(200)
    tight = layered.layout(boxes, edges, dummy_budget=0)
    # every edge spanning more than one layer is on a track, still clear of boxes
    spans = [tight.layer[t] - tight.layer[s] for s, t, _, _ in edges]
    assert tight.tracks == sum(1 for s in spans if s > 1)
    rects = list(tight.boxes.values())
    for route in tight.routes:
        for px, py in sample(route.path, 8):
            assert not any(inside(r, px, py) for r in rects)
