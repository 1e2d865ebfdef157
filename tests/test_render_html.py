"""`--format html`: one self-contained page (inline CSS and SVG, MathML, no script,
nothing fetched) holding everything the text report holds, the chain rule as
math and the computation graph; opened in headless Chromium, screenshotted,
with no console message."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rendering import SIGMOID_121, XOR, gradcli, open_page, png_size


class _Page(HTMLParser):
    """Tags, attributes and text of a page (the standard library's parser)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def count(self, tag: str, **attrs) -> int:
        return sum(1 for t, a in self.tags if t == tag
                   and all(a.get(k) == v for k, v in attrs.items()))

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def assert_self_contained(html: str) -> None:
    page = _Page(html)
    assert page.count("script") == 0 and page.count("link") == 0
    assert page.count("img") == 0 and page.count("iframe") == 0
    for _tag, attrs in page.tags:
        for key in ("src", "href", "xlink:href"):
            value = attrs.get(key) or ""
            assert not value or value.startswith("#"), (key, value)
    assert not re.search(r"url\((?!#)", html) and "@import" not in html
    # the only URLs are XML namespaces, which are names, not fetched
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


@pytest.fixture(scope="module")
def page121() -> str:
    run = gradcli("check", SIGMOID_121, "--format", "html")
    assert run.code == 0 and run.err == ""
    return run.out


def test_check_page_is_self_contained_and_holds_the_text_report(page121):
    assert page121.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert_self_contained(page121)
    page = _Page(page121)
    words = page.words
    text = gradcli("check", SIGMOID_121).out
    # every number of the text report is on the page (MathML writes −, then the digits)
    shown = re.sub(r"−\s*", "-", words)
    for number in set(re.findall(r"-?\d+\.\d{4,}", text)):
        assert number in shown, number
    for title in ("Forward pass", "Gradients of L", "Chain rule", "Hand answers (expect)",
                  "One gradient-descent step (lr = 0.5)", "Computation graph"):
        assert title in words, title
    assert page.count("table") == 4 and page.count("svg") == 1
    assert page.count("math") >= 13 + 7 + 1  # 13 edges, 7 chain lines, the loss
    assert page.count("mi") and "∂" in page121 and page.count("mfrac") >= 20
    assert 'class="verdict ok"' in page121


def test_several_files_are_one_document(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("params: {w: 1}\nloss: w*nope\n")
    run = gradcli("check", SIGMOID_121, XOR, bad, "--format", "html")
    assert run.code == 2  # the worst of the files
    assert run.err.startswith(f"error: {bad}:")
    html = run.out
    assert html.count("<!DOCTYPE html>") == 1 and html.count("</html>") == 1
    sections = re.findall(r'<section class="report (\w+)" id="report-(\d)">', html)
    assert sections == [("passed", "1"), ("passed", "2"), ("unusable", "3")]
    assert "the loss uses 'nope', which is not defined" in html
    # two drawings in one page: their ids never clash
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert_self_contained(html)


def test_failed_check_is_marked(tmp_path):
    path = tmp_path / "wrong.yaml"
    path.write_text(SIGMOID_121.read_text().replace("w3: -0.017", "w3: 0.017"))
    run = gradcli("check", path, "--format", "html")
    assert run.code == 1
    assert '<section class="report failed"' in run.out
    assert '<p class="verdict error">FAILED</p>' in run.out
    # the chain rule under the wrong answer's row, as math
    note = re.search(r'<tr class="note error"><td colspan="5"><b>grad.w3</b>: <math>(.*?)'
                     r"</math></td></tr>", run.out)
    assert note and "<mfrac>" in note.group(1)


def test_derive_page(tmp_path):
    run = gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--format", "html")
    assert run.code == 0
    html = run.out
    assert_self_contained(html)
    words = _Page(html).words
    for part in ("u-substitution:", "at x = 2: u = 5, du/dx = 4, dy/du = 75, dy/dx = 300",
                 "steps:", "chain", "power", "Values at x = 2", "all three methods agree",
                 "by d(g + h) = dg + dh", "value 125", "grad 300"):
        assert part in words, part
    assert html.count('<ol class="steps">') == 1 and html.count("<li") == 5
    assert "<svg" in html


def test_derive_page_with_an_undefined_derivative():
    run = gradcli("derive", "sqrt(x)", "--at", "x=0", "--format", "html")
    assert run.code == 0
    assert "grad undefined" in run.out and "undefined" in _Page(run.out).words


def test_korean_font_stack():
    from gradcli.render.page import CSS

    assert '"NanumGothic"' in CSS


# ---------------------------------------------------------------- chromium ---
PAGES = {
    "sigmoid_121": ("check", SIGMOID_121),
    "xor_relu_softmax": ("check", XOR),
    "derive_x2": ("derive", "(x**2+1)**3", "--at", "x=2"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_chromium_opens_the_page_without_console_messages(tmp_path, name):
    run = gradcli(*PAGES[name], "--format", "html")
    assert run.code == 0
    path = tmp_path / f"{name}.html"
    path.write_text(run.out, encoding="utf-8")
    opened = open_page(path, tmp_path, dom=name == "sigmoid_121")
    assert opened.console == []
    width, height = png_size(opened.screenshot)
    assert (width, height) == (1200, 1800)
    if opened.dom is not None:  # Chromium parsed the math and the drawing as such
        assert opened.dom.count("<math") == run.out.count("<math")
        assert "<svg" in opened.dom and "<mfrac>" in opened.dom


def test_the_console_check_can_fail(tmp_path):
    """A page with a broken SVG path gets a console error: the check above would see it."""
    path = tmp_path / "broken.html"
    path.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>'
                    '<body><svg width="10" height="10"><path d="M0,0 L x"/></svg></body>'
                    "</html>", encoding="utf-8")
    assert open_page(path, tmp_path).console


def test_train_page(tmp_path):
    run = gradcli("train", "x**2", "--from", "x=5", "--lr", "0.1", "--lr", "0.001",
                  "--lr", "1.1", "--steps", "30", "--format", "html")
    assert run.code == 0, run.err
    html = run.out
    assert_self_contained(html)
    page = _Page(html)
    assert page.count("svg") == 1 and page.count("polyline") == 3
    words = page.words
    for part in ("lr 0.1", "lr 0.001", "lr 1.1", "final loss", "Loss every 3 steps",
                 "log scale"):
        assert part in words, part
    path = tmp_path / "train.html"
    path.write_text(html, encoding="utf-8")
    assert open_page(path, tmp_path).console == []


def test_docs_screenshots_exist():
    docs = Path(__file__).resolve().parent.parent / "docs"
    for name in ("check_sigmoid_121_html.png", "check_sigmoid_121_latex.png"):
        assert (docs / name).exists(), name


@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_the_picture_is_drawn_from_the_file_checked_not_a_second_load(monkeypatch, fmt):
    """In one process the report's graph comes from the Spec the check loaded: the file
    is read once (a second load doubled the time and memory of a big net's report)."""
    from typer.testing import CliRunner

    from gradcli import spec as specs
    from gradcli.cli import app

    loads = []
    real = specs.load
    monkeypatch.setattr(specs, "load", lambda *a, **k: loads.append(a[0]) or real(*a, **k))
    result = CliRunner().invoke(app, ["check", str(SIGMOID_121), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert loads == [str(SIGMOID_121)]
    assert "z_out" in result.output and ("<svg" in result.output or "mermaid" in result.output)
