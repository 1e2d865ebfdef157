"""The view model and the text and Markdown reports: the ledger's notation (d for
totals, ∂ for local derivatives) in every format, no negative zero, every
Markdown cell escaped, row notes (kinks, verdicts) in every format, and every
word going through the message catalog."""
from __future__ import annotations

import re

import pytest

from gradcli import check, ledger, spec
from gradcli.render import check_view, derive_view, ledger_view, markup
from gradcli.render import model as vm
from gradcli.render.equations import plain
from gradcli.render.numbers import g, tensor
from rendering import SIGMOID_121, SPECS, XOR, gradcli

KINK = """\
inputs:
  x: 2
params:
  w: 0.0
  b: 0.5
nodes:
  z: w*x
  a: relu(z)
loss: a*b + b*b
"""
KINK_NOTE = "kink: a relu/abs argument is at or near 0"


@pytest.fixture(scope="module")
def report121():
    return check.run(spec.load(str(SIGMOID_121)))


@pytest.fixture
def kink_file(tmp_path):
    path = tmp_path / "kink.yaml"
    path.write_text(KINK)
    return path


# --------------------------------------------------------------- notation ---
def test_chain_rule_uses_d_for_totals_and_partial_for_local_derivatives():
    out = gradcli("check", SIGMOID_121).out
    assert "dL/dw3 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3 = (-0.1649)(0.1377)(0.7503) = " \
           "-0.01704" in out
    assert "∂yhat/∂z_out = yhat*(1 - yhat) = 0.137712" in out
    # no line writes a total and a local derivative with the same symbol
    assert not re.search(r"\bdyhat/dz_out\b|\bdL/dyhat ·", out)


def test_local_derivatives_print_in_the_users_order():
    out = gradcli("check", SIGMOID_121).out
    assert "∂L/∂yhat = yhat - y = -0.164905" in out  # not SymPy's -y + yhat
    assert "-y + yhat" not in out


def test_recurrence_has_no_trivial_dL_dL_factor():
    out = gradcli("check", SIGMOID_121, "--recurrence").out
    assert "dL/dL" not in out
    assert "  dL/dyhat = ∂L/∂yhat = -0.1649\n" in out
    assert "dL/dz_out = dL/dyhat · ∂yhat/∂z_out = (-0.1649)(0.1377) = -0.02271" in out


def test_paths_never_say_one_equals_one():
    out = gradcli("check", SIGMOID_121, "--paths").out
    assert "= 1 = 1" not in out
    assert "      ∂z_h1/∂b1 = 1\n" in out
    assert "  path L -> yhat -> z_out -> a_h1 -> z_h1 -> b1:\n" in out
    assert "      product = -0.00340404\n" in out


def test_chain_line_of_the_ledger_is_the_view_models_equation(report121):
    """Graders read `ledger.chain_line` (the JSON ledger of a wrong answer); the reports
    typeset `ledger_view.chain_equation`: the same text, from the same data."""
    for xy in (report121, check.run(spec.load(str(SPECS / "xy_plus_x.yaml")))):
        for p in xy.params:
            if p.chain:
                assert ledger.chain_line(p.chain, p.name, xy.loss_name) == \
                    plain(ledger_view.chain_equation(p.chain, p.name, xy.loss_name))


def test_two_paths_and_a_direct_edge():
    out = gradcli("check", SPECS / "xy_plus_x.yaml").out
    # z = xy + x: two paths to x, one through xy and the direct edge
    assert re.search(r"dz/dx = ∂z/∂xy · ∂xy/∂x \+ ∂z/∂x = \(1\)\(\S+\) \+ \(1\) = \S+", out), out


# ------------------------------------------------------------- numbers ---
@pytest.mark.parametrize("value, shown", [(-0.0, "0"), (0.0, "0"), (-1e-20, "-1e-20"),
                                          (-0.006808, "-0.006808"), (-3.0, "-3")])
def test_numbers_never_show_a_negative_zero(value, shown):
    assert g(value, 4) == shown


def test_tensors_never_show_a_negative_zero():
    import numpy as np

    shown = tensor(np.array([[-0.0, 0.5], [-0.25, 0.0]]), 4)
    assert "-0." not in shown.replace("-0.25", "")
    assert shown == "[[0, 0.5], [-0.25, 0]]"


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_no_negative_zero_in_any_format(fmt):
    """relu's mask times a negative upstream gives -0.0 entries in delta_1 of the XOR net
    (the text report printed `-0.`)."""
    out = gradcli("check", XOR, "--format", fmt).out
    assert not re.search(r"(?<![\w.])-0(\.0*)?(?![\d.e])", out), \
        re.search(r".{40}(?<![\w.])-0(\.0*)?(?![\d.e]).{10}", out).group(0)


# ------------------------------------------------------------- markdown ---
def _table_rows(markdown: str, title: str) -> list[str]:
    block = markdown.split(f"### {title}\n\n", 1)[1].split("\n\n", 1)[0]
    return block.splitlines()


def _cells(row: str) -> list[str]:
    """The cells of a Markdown table row, as GitHub splits them (escaped pipes stay)."""
    return re.split(r"(?<!\\)\|", row.strip())[1:-1]


def test_markdown_cells_escape_pipes():
    """`max |diff| 0.0e+00` split the per-layer ledger's cell and shifted the row two
    columns to the right."""
    out = gradcli("check", XOR, "--format", "markdown").out
    rows = _table_rows(out, "Per-layer ledger")
    widths = {len(_cells(r)) for r in rows}
    assert widths == {5}, rows
    assert r"max \|diff\| 0.0e+00" in out


def test_markdown_code_cells_keep_pipes_in_the_code():
    assert markup.md_code_cell("a|b") == r"`a\|b`"
    assert markup.md_cell("x * y <b>") == r"x \* y \<b>"
    assert markup.md_code("uses ` inside") == "``uses ` inside``"


def test_markdown_has_the_kink_notes(kink_file):
    out = gradcli("check", kink_file, "--format", "markdown").out
    assert f"- **w**: {KINK_NOTE}" in out


def test_markdown_has_the_graph_as_mermaid():
    out = gradcli("check", SIGMOID_121, "--format", "markdown").out
    block = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith("graph LR\n")
    for name in ("w3", "x", "yhat", "z#95;out"):  # Mermaid writes `_` as an entity
        assert f"<b>{name}</b>" in block
    assert "value 0.8351" in block  # yhat's box


def test_derive_markdown_has_steps_values_and_graph():
    out = gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--format", "markdown").out
    assert "### `∂f/∂x = 6*x*(x**2 + 1)**2`" in out
    assert "- **chain**: `d/dx (x**2 + 1)**3 = 6*x*(x**2 + 1)**2`" in out
    assert "at x = 2: u = 5, du/dx = 4, dy/du = 75, dy/dx = 300" in out
    assert "| x | 300 | 300 | 300 |" in out
    assert "```mermaid" in out and "grad 300" in out


# ------------------------------------------------------------- row notes ---
@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_kink_note_in_every_format(kink_file, fmt):
    out = gradcli("check", kink_file, "--format", fmt).out
    assert KINK_NOTE in out


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_derive_kink_note_in_every_format(fmt):
    out = gradcli("derive", "relu(x)*y", "--at", "x=0,y=2", "--format", fmt).out
    assert "relu is at its kink (argument 0)" in out


def test_a_wrong_gradient_answer_shows_its_chain_rule(tmp_path):
    text = SIGMOID_121.read_text().replace("w3: -0.017", "w3: 0.017")
    path = tmp_path / "wrong.yaml"
    path.write_text(text)
    section = check_view.check_section(check.run(spec.load(str(path))))
    table = next(b for b in section.blocks if isinstance(b, vm.Table) and b.kind == "expect")
    notes = table.notes
    assert [n.label for n in notes] == ["grad.w3"]
    assert notes[0].text.startswith("dL/dw3 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3")
    assert notes[0].math is not None and not section.ok
    out = gradcli("check", path, "--format", "markdown").out
    assert "- **grad.w3**: `dL/dw3 = ∂L/∂yhat" in out


# ------------------------------------------------------------ view model ---
def test_the_view_model_decides_what_is_shown(report121):
    plain_view = check_view.check_section(report121)
    kinds = [type(b).__name__ + ":" + getattr(b, "kind", "") for b in plain_view.blocks]
    assert kinds == ["Table:forward", "Line:", "Table:gradients", "Equations:chain",
                     "Table:expect", "Table:update", "Line:"]  # the file's lr: one step
    with_more = check_view.check_section(report121, show_paths=True, show_recurrence=True)
    chain = next(b for b in with_more.blocks if getattr(b, "kind", "") == "chain")
    assert sum(1 for grp in chain.groups if grp.caption) == 7  # one path per parameter
    assert any(getattr(b, "kind", "") == "recurrence" for b in with_more.blocks)
    assert plain_view.verdict.text == "ok" and plain_view.ok


class _Marked:
    """A catalog that marks every translated template: what is not marked did not go
    through gradcli.i18n."""

    def gettext(self, template: str) -> str:
        return "‹" + template + "›"


def test_every_word_goes_through_the_catalog(monkeypatch, report121):
    from gradcli import derive, i18n

    monkeypatch.setattr(i18n, "_catalog", _Marked())
    section = check_view.check_section(report121, show_paths=True, show_recurrence=True)
    derived = derive_view.derive_section(derive.derive("(x**2+1)**3", at={"x": 2.0}))
    formulas = set(ledger_view.LAYER_HEADERS)
    for s in (section, derived):
        assert s.title.startswith("‹") or s.kind == "derive"
        assert s.verdict.text.startswith("‹")
        for block in s.blocks:
            title = getattr(block, "title", None)
            if title:
                assert title.startswith("‹"), title
            for column in getattr(block, "columns", []):
                assert column.header.startswith("‹") or column.header in formulas
            for row in getattr(block, "rows", []):
                for cell in row.cells:
                    if cell.level != vm.PLAIN:  # the words ok / FAIL / kink
                        assert cell.text.startswith("‹"), cell.text
    chain = next(b for b in section.blocks if getattr(b, "kind", "") == "chain")
    assert all(grp.caption.startswith("‹") for grp in chain.groups if grp.caption)
