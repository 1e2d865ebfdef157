"""`--format latex`: a complete document that pdflatex compiles with amsmath alone
(kotex when it holds Hangul), with nothing wider than the page (no overfull box
over 5 pt), for every spec in specs/ and for derive of the seed notes'
expressions; `--latex-body` prints the body only."""
from __future__ import annotations

import re

import pytest

from rendering import SIGMOID_121, SPECS, XOR, assert_compiles, gradcli

#: expressions of the seed notes (000: the chain rule and L = (y-1)², y = σ(wx);
#: 001: z = x*y + x, tanh, sigmoid; 003: (3x+1)², y = (a+b)c, sin(x²), (2x+1)³, x²),
#: some as students type them
SEED_EXPRESSIONS = [
    ("(x² + 1)³", "x=2"), ("(3x + 1)^2", "x=1"), ("(a + b)c", "a=2,b=1,c=3"),
    ("sin(x^2)", "x=0.5"), ("(2x+1)^3", "x=1"), ("x^2", "x=3"),
    ("(sigmoid(w*x) - 1)^2", "w=0.5,x=2"), ("x*y + x", "x=2,y=3"),
    ("0.5*(sigmoid(w*x+b)-y)**2", "w=0.5,x=2,b=0.1,y=1"), ("tanh(x)", "x=0.3"),
    ("1/(1+exp(-x))", "x=0.5"), ("relu(x)*y", "x=0,y=2"), ("a**n", "a=0,n=2"),
    ("sigmoid(w2*sigmoid(w1*x+b1)+b2)", None),
]


def _body(document: str) -> str:
    return document.split("\\begin{document}\n", 1)[1].rsplit("\\end{document}", 1)[0]


def test_every_spec_compiles_without_overfull_boxes(tmp_path):
    """All of specs/ in one run: one document, one section per file."""
    files = sorted(SPECS.glob("*.yaml"))
    run = gradcli("check", *files, "--format", "latex")
    assert run.code == 0, run.err
    tex = run.out
    assert tex.startswith("\\documentclass{article}\n\\usepackage{amsmath}\n")
    assert "kotex" not in tex  # no Hangul here
    packages = re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", tex)
    assert packages == ["amsmath"]
    assert tex.count("\\section*{") == len(files)
    assert tex.count("\\begin{document}") == 1 and tex.rstrip().endswith("\\end{document}")
    assert_compiles(tex, tmp_path, "specs")


def test_derive_of_the_seed_expressions_compiles(tmp_path):
    bodies, preamble = [], None
    for text, at in SEED_EXPRESSIONS:
        run = gradcli("derive", text, "--format", "latex", *(("--at", at) if at else ()))
        assert run.code == 0, (text, run.err)
        preamble = run.out.split("\\begin{document}\n", 1)[0]
        body = gradcli("derive", text, "--format", "latex", "--latex-body",
                       *(("--at", at) if at else ())).out
        assert body == _body(run.out), text  # --latex-body: the same body, alone
        bodies.append(body)
    assert_compiles(preamble + "\\begin{document}\n" + "\n".join(bodies) + "\\end{document}\n",
                    tmp_path, "seeds")


def test_the_ledger_is_typeset():
    tex = gradcli("check", SIGMOID_121, "--format", "latex").out
    body = _body(tex)
    assert (r"\frac{\mathrm{d}L}{\mathrm{d}w_{3}} &= \frac{\partial L}{\partial \hat{y}} \cdot "
            r"\frac{\partial \hat{y}}{\partial z_{out}} \cdot "
            r"\frac{\partial z_{out}}{\partial w_{3}}") in body
    assert r"\frac{\partial L}{\partial \hat{y}} &= \hat{y} - y = -0.164905" in body
    assert r"\left(-0.1649\right)\left(0.1377\right)\left(0.7503\right)" in body
    assert "0.8350946755" in body and "-0.01703793375" in body  # yhat, dL/dw3
    assert "dL/d" not in body  # every derivative typeset, none as plain text


def test_recurrence_and_paths_are_in_the_document(tmp_path):
    """--paths and --recurrence were silently ignored by the LaTeX report."""
    tex = gradcli("check", SIGMOID_121, "--format", "latex", "--paths", "--recurrence").out
    assert "path L -$>$" not in tex  # arrows are typeset, not text
    assert r"path L $\to$ yhat $\to$ z\_out $\to$ w3:" in tex
    assert r"\text{product}" in tex
    assert r"\subsection*{Backprop recurrence" in tex
    assert (r"\frac{\mathrm{d}L}{\mathrm{d}z_{out}} &= \frac{\mathrm{d}L}{\mathrm{d}\hat{y}} "
            r"\cdot \frac{\partial \hat{y}}{\partial z_{out}}") in tex
    assert_compiles(tex, tmp_path, "paths")


def test_per_layer_ledger_small_matrices_as_bmatrix_large_as_norms():
    small = _body(gradcli("check", XOR, "--format", "latex").out)
    assert r"\delta_{2} &= \left(\hat{y} - y\right) / B" in small
    assert r"\begin{bmatrix}-0.1266 & 0.1266 \\ 0.1018 & -0.1018" in small
    assert r"\sum_{\text{batch}} \delta_{2}" in small
    large = _body(gradcli("check", SPECS / "mnist_784_128_10.yaml", "--format", "latex").out)
    assert "shape [128, 784], norm" in large
    assert r"\begin{bmatrix}" not in large.split("Per-layer ledger", 1)[1].split(
        "\\section", 1)[0] or "[128" not in large


def test_derive_document_has_substitution_and_steps_tree():
    body = _body(gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--format", "latex").out)
    assert r"\frac{\partial f}{\partial x} &= 6 x \left(x^{2} + 1\right)^{2}" in body
    assert r"u &= x^{2} + 1" in body
    assert r"\frac{\mathrm{d}y}{\mathrm{d}u} &= 3 u^{2}" in body
    assert "u = 5, du/dx = 4, dy/du = 75, dy/dx = 300" in body
    steps = [line for line in body.splitlines() if line.startswith(r"\noindent\hangindent")]
    indents = [float(re.search(r"\\hspace\*\{([\d.]+)em\}", s).group(1)) for s in steps]
    assert indents == [0, 1.2, 1.2, 2.4, 2.4]  # chain > (power, sum > (power, constant))
    assert r"\textbf{chain}" in steps[0] and r"with $u = x^{2} + 1$" in steps[0]


def test_names_are_typeset():
    body = _body(gradcli("derive", "theta*w1 + z_out*yhat", "--at",
                         "theta=1,w1=2,z_out=3,yhat=4", "--format", "latex").out)
    assert r"\frac{\partial f}{\partial \theta} &= w_{1}" in body
    assert r"\frac{\partial f}{\partial z_{out}} &= \hat{y}" in body


@pytest.mark.parametrize("name, tex", [("w1", "w_{1}"), ("z_out", "z_{out}"), ("a_h1", "a_{h1}"),
                                       ("yhat", r"\hat{y}"), ("ŷ", r"\hat{y}"),
                                       ("theta", r"\theta"), ("θ", r"\theta"),
                                       ("delta_2", r"\delta_{2}"), ("W10", "W_{10}"),
                                       ("Alpha", "A"), ("가중치", r"\text{가중치}")])
def test_name_in_latex(name, tex):
    from gradcli.render import names

    assert names.latex(name) == tex


def test_hangul_uses_kotex(tmp_path):
    """A Korean file name (and later Korean words) puts kotex in the preamble."""
    path = tmp_path / "가중치.yaml"
    path.write_text(SIGMOID_121.read_text(), encoding="utf-8")
    tex = gradcli("check", path, "--format", "latex").out
    assert "\\usepackage{kotex}" in tex and "가중치.yaml" in tex
    assert_compiles(tex, tmp_path, "hangul")


def test_body_only_for_check():
    body = gradcli("check", SIGMOID_121, "--format", "latex", "--latex-body").out
    assert "\\documentclass" not in body and "\\begin{document}" not in body
    assert body.startswith("\\section*{")


def test_latex_body_selects_latex_and_refuses_another_format():
    alone = gradcli("derive", "x**2", "--at", "x=3", "--latex-body")
    assert alone.code == 0 and alone.out.startswith("\\section*{")
    assert "\\documentclass" not in alone.out
    refused = gradcli("check", SIGMOID_121, "--format", "html", "--latex-body")
    assert refused.code == 2 and refused.out == ""
    assert refused.err == ("error: --latex-body: --latex-body goes with --format latex, "
                           "not html\n")
