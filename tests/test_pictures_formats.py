"""DOT (accepted by Graphviz), Mermaid, SVG (well-formed, both layouts, every
box's name and value in it) and the minimal HTML page, including hostile
names that must not break out of their labels."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradcli.pictures import build, dot, html, mermaid, svg
from gradcli.pictures.model import Box, Edge, Picture

SPECS = Path(__file__).resolve().parent.parent / "specs"
SVG_NS = "{http://www.w3.org/2000/svg}"
NASTY = ['a"b', "back\\slash \\N \\l", "<tag>&amp;", "]}[{", "line\nbreak", "가중치",
         "#35; |pipe| `tick`", "x\x1b[31m", "-->", "%% comment"]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is required under CI=true")
        pytest.skip(f"{tool} is not installed")
    return path


def pictures():
    wrong = SPECS / "sigmoid_121.yaml"
    yield "sigmoid_121", build.from_spec(str(wrong))
    yield "net_231", build.from_spec(str(SPECS / "net_231_sigmoid.yaml"))
    yield "tensor_softmax", build.from_spec(str(SPECS / "tensor_softmax.yaml"))
    yield "cube", build.from_expression("(2*x+1)**3", ["x=1"])
    yield "no-point", build.from_expression("sin(x)*y", [])
    yield "nasty", nasty_picture()


def nasty_picture() -> Picture:
    p = Picture("title <&> \"q\"", "L", notes=["note & <b>"])
    for i, name in enumerate(NASTY):
        p.boxes.append(Box(f"n{i}", name, "op<", "1.5", "-2", "node" if i else "param",
                           marked=i == 3, reasons=["wrong & <why>"] if i == 3 else []))
    for i in range(1, len(NASTY)):
        p.edges.append(Edge(f"n{i - 1}", f"n{i}", NASTY[i]))
    return p


PICTURES = list(pictures())
IDS = [name for name, _ in PICTURES]


def texts(svg_text: str) -> list[str]:
    root = ET.fromstring(svg_text.encode("utf-8"))
    assert root.tag == SVG_NS + "svg"
    return ["".join(el.itertext()) for el in root.iter(SVG_NS + "text")]


def clean(s: str) -> str:
    """What a drawing shows of a string: control characters become spaces."""
    return "".join(ch if ch.isprintable() else " " for ch in s)


def assert_complete(picture: Picture, drawing: str) -> None:
    shown = texts(drawing)
    joined = "\n".join(shown)
    for box in picture.boxes:
        assert clean(box.name) in shown, box.name
        if box.value:
            assert f"value {box.value}" in shown
        if box.gradient:
            assert f"grad {box.gradient}" in shown
    for edge in picture.edges:
        if edge.label:
            assert clean(edge.label).strip() in joined, edge.label
    assert "legend" in shown
    assert "parameter (differentiated)" in joined
    assert f"d{picture.output}/d(box)" in joined  # a total; edges are local (∂)
    self_contained(drawing)


def self_contained(document: str) -> None:
    """Nothing to fetch: no scripts, links, images, external DTDs or fonts."""
    lowered = document.lower()
    for bad in ("<script", "href=", "<image", "<!doctype svg", "@import", "url(http",
                "<foreignobject"):
        assert bad not in lowered, bad
    assert re.findall(r"https?://[^\s\"']+", document) in ([], ["http://www.w3.org/2000/svg"]) \
        or set(re.findall(r"https?://[^\s\"']+", document)) <= {
            "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


# -------------------------------------------------------------------- DOT ---
@pytest.mark.parametrize("name,picture", PICTURES, ids=IDS)
def test_dot_is_accepted_by_graphviz(name, picture):
    exe = need("dot")
    done = subprocess.run([exe, "-Tsvg"], input=dot.render(picture).encode("utf-8"),
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b"", done.stderr.decode()
    assert_complete(picture, svg.render_dot(picture))


def test_dot_escapes_user_strings():
    text = dot.render(nasty_picture())
    labels = "\n".join(re.findall(r"label=(<.*?>), fillcolor", text))
    quoted = "\n".join(re.findall(r'tooltip=("(?:[^"\\]|\\.)*")\];', text))
    assert labels.count("<b>") == len(NASTY) and quoted.count("tooltip") == 0
    for raw in NASTY:  # no user string reaches an HTML-like label unescaped
        if any(c in raw for c in '"<>&[]\n'):
            assert raw not in labels
        assert '"' not in raw or raw not in quoted
    assert "\x1b" not in text
    # backslashes are literal inside HTML-like labels and doubled in quoted strings
    assert "<b>back\\slash \\N \\l</b>" in text
    assert 'tooltip="back\\\\slash \\\\N \\\\l' in text
    assert dot.html('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert dot.quoted('say "hi" \\N\nnext') == '"say \\"hi\\" \\\\N\\nnext"'


# ---------------------------------------------------------------- Mermaid ---
LINE = re.compile(r'^(graph LR|    %% [^\n]*|    n\d+\["[^"]*"\]|    n\d+ -->(\|"[^"]*"\|)? n\d+'
                  r'|    classDef k\w+ [^"]+|    class [n\d,]+ k\w+|    linkStyle default \S+)$')


def unescape(s: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), s)


@pytest.mark.parametrize("name,picture", PICTURES, ids=IDS)
def test_mermaid_structure(name, picture):
    text = mermaid.render(picture)
    lines = text.splitlines()
    assert lines[0] == "graph LR"
    for line in lines:
        assert LINE.match(line), line
    labels = dict(re.findall(r'^    (n\d+)\["([^"]*)"\]$', text, re.M))
    assert set(labels) == {b.id for b in picture.boxes}
    for box in picture.boxes:
        shown = unescape(labels[box.id]).split("<br/>")
        assert shown[0] == f"<b>{clean(box.name)}</b>"
        if box.value:
            assert f"value {box.value}" in shown
    arrows = re.findall(r'^    (n\d+) -->(?:\|"([^"]*)"\|)? (n\d+)$', text, re.M)
    assert [(s, unescape(lab), t) for s, lab, t in arrows] == \
        [(e.source, clean(e.label), e.target) for e in picture.edges]
    marked = [b.id for b in picture.boxes if b.marked]
    if marked:
        assert f"    class {','.join(marked)} kmarked" in lines


def test_mermaid_labels_cannot_break_out():
    text = mermaid.render(nasty_picture())
    for raw in ('a"b', "]}[{", "-->", "<tag>"):
        assert raw not in text.split("\n", 2)[2].replace("-->|", "").replace(" --> ", "")


# -------------------------------------------------------------------- SVG ---
@pytest.mark.parametrize("name,picture", PICTURES, ids=IDS)
def test_builtin_svg_is_well_formed_and_complete(name, picture):
    drawing = svg.render(picture, "builtin")
    assert drawing.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert_complete(picture, drawing)


def test_svg_styles_per_kind_and_for_marked_boxes():
    p = build.from_spec(str(SPECS / "sigmoid_121.yaml"))
    p.by_name("yhat").marked = True
    p.by_name("yhat").reasons.append("expected yhat = 0.78, actual 0.8351")
    for drawing in [svg.render(p, "builtin")] + ([svg.render_dot(p)] if shutil.which("dot")
                                                  else []):
        root = ET.fromstring(drawing.encode())
        fills = {}
        for g in root.iter(SVG_NS + "g"):
            if g.get("class", "").startswith("box"):
                fills[g.get("class")] = g.find(SVG_NS + "rect").get("fill")
        if fills:  # the built-in drawing names its groups by kind
            assert fills["box param"] != fills["box input"] != fills["box node"]
            assert fills["box loss"] not in (fills["box node"], fills["box param"])
            assert fills["box node marked"] == "#fee2e2"
        assert "#dc2626" in drawing  # the marked border
        assert "✗ expected yhat = 0.78, actual 0.8351" in texts(drawing)


def test_dot_layout_svg_matches_builtin_information():
    need("dot")
    p = build.from_spec(str(SPECS / "sigmoid_121.yaml"))
    builtin = set(texts(svg.render(p, "builtin")))
    via_dot = set(texts(svg.render(p, "dot")))
    boxes_and_labels = {t for t in builtin if t.startswith(("value ", "grad "))}
    assert boxes_and_labels and boxes_and_labels <= via_dot
    assert {b.name for b in p.boxes} <= via_dot


def test_auto_layout_uses_dot_only_when_present_and_small(monkeypatch):
    p = build.from_expression("(2*x+1)**3", ["x=1"])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert "<!-- Generated by graphviz" not in svg.render(p, "auto")
    assert 'class="box param"' in svg.render(p, "auto")  # the built-in drawing
    from gradcli.errors import GradcliError

    with pytest.raises(GradcliError, match="'dot' is not installed"):
        svg.render(p, "dot")


def test_svg_size_is_bounded_per_box(tmp_path):
    """Never a 50 MB SVG: at most 2 kB per box here, so even the --max-boxes
    ceiling (10,000 boxes) stays near 20 MB."""
    lines = ["params: {p: 0.5, q: 0.25}", "nodes:", "  n0: p*q"]
    lines += [f"  n{i}: tanh(p*n{i - 1} + n{i // 2})" for i in range(1, 500)]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines + ["loss: n499"]) + "\n")
    p = build.from_spec(str(path))
    assert len(p.boxes) > 1400
    assert len(svg.render(p, "builtin").encode()) < 2000 * len(p.boxes)
    assert build.MAX_BOXES_CEILING * 2000 < 50_000_000


# ------------------------------------------------------------------- HTML ---
def test_html_page_is_self_contained():
    p = build.from_spec(str(SPECS / "sigmoid_121.yaml"))
    page = html.page(p, svg.render(p, "builtin"))
    assert page.startswith("<!DOCTYPE html>") and "<?xml" not in page
    assert page.count("<svg") == 1 and "<style>" in page
    self_contained(page)
    assert "value 0.8351" in page and "grad -0.01704" in page


def test_html_opens_in_chromium(tmp_path):
    exe = need("chromium")
    p = build.from_spec(str(SPECS / "sigmoid_121.yaml"))
    page = tmp_path / "graph.html"
    page.write_text(html.page(p, svg.render(p, "builtin")), encoding="utf-8")
    shot = tmp_path / "shot.png"
    done = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                           "--enable-logging=stderr", "--v=0", f"--screenshot={shot}",
                           "--window-size=1200,800", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console


def test_committed_readme_picture_is_a_real_run(monkeypatch):
    """docs/sigmoid_121.svg is exactly what the documented command draws today."""
    from gradcli.pictures import command

    monkeypatch.chdir(SPECS.parent)
    fresh = command.draw("specs/sigmoid_121.yaml", fmt="svg", layout="builtin")
    committed = (SPECS.parent / "docs" / "sigmoid_121.svg").read_text(encoding="utf-8")
    assert fresh == committed, "regenerate: gradcli graph specs/sigmoid_121.yaml " \
                               "-o docs/sigmoid_121.svg --layout builtin"
    assert "grad -0.01704" in committed
