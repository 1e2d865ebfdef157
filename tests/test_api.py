"""The Python API (import gradcli) and the pytest plugin (--gradcli-specs)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradcli

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]


def _modules_after(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(REPO / "tests"), timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_gradcli_imports_neither_sympy_nor_numpy():
    assert _modules_after("import sys, gradcli; print('sympy' in sys.modules, "
                          "'numpy' in sys.modules)") == "False False"


def test_api_use_imports_no_sympy():
    code = ("import sys, gradcli, numpy as np\n"
            "r = gradcli.gradcheck(lambda x: float((x**2).sum()), np.ones(3), "
            "grad=lambda x: 2*x)\n"
            "print(r.ok, 'sympy' in sys.modules)")
    assert _modules_after(code) == "True False"


def test_gradcheck_result_shape_text_and_assert():
    def f(x, w):
        return float(np.sum(np.tanh(x @ w)))

    def f_grad(x, w):
        t = 1 - np.tanh(x @ w) ** 2
        return t @ w.T, 2 * x.T @ t  # dw doubled
    rng = np.random.default_rng(0)
    result = gradcli.gradcheck(f, rng.standard_normal((4, 3)), rng.standard_normal((3, 2)),
                               grad=f_grad)
    assert not result.ok
    assert [(c.name, c.ok) for c in result.checks] == [("dx", True), ("dw", False)]
    data = result.to_json()
    assert data["kind"] == "function" and data["ok"] is False
    dw = data["checks"][1]
    assert (dw["count"], dw["bad"], dw["diagnosis"]) == (6, 6, "off by a factor of 2")
    assert dw["actual"] == pytest.approx(2 * dw["expected"], rel=1e-6)
    assert "FAIL dw: 6/6 beyond tolerance" in str(result)
    with pytest.raises(AssertionError, match="off by a factor of 2"):
        result.assert_ok()


def test_check_value_class_on_the_example():
    sys.path.insert(0, str(REPO / "examples"))
    try:
        from value import Value
        from value_bug_tanh import Value as Buggy
    finally:
        sys.path.pop(0)
    assert gradcli.check_value_class(Value).ok
    bad = gradcli.check_value_class(Buggy)
    assert [c.name for c in bad.checks if not c.ok] == ["tanh"]


def test_check_file_on_a_spec():
    good = gradcli.check_file(REPO / "specs" / "sigmoid_121.yaml")
    assert good.ok and good.checks and good.to_json()["ok"] is True
    good.assert_ok()
    missing = gradcli.check_file(REPO / "specs" / "nope.yaml")
    assert not missing.ok
    assert str(missing).startswith("error: ")
    with pytest.raises(AssertionError, match="error: "):
        missing.assert_ok()


WRONG_EXPECT = """\
inputs:
  x: 2
params:
  w: 0.5
nodes:
  y: w*x
loss: y**2
expect:
  grad:
    w: 3.0
"""


def test_plugin_turns_specs_into_tests(pytester):
    pytester.makefile(".yaml", **{"specs/good": (REPO / "specs" / "sigmoid_121.yaml").read_text()})
    pytester.makefile(".yaml", **{"specs/deep/wrong": WRONG_EXPECT})
    pytester.makefile(".yaml", **{"specs/broken": "inputs: [1\n"})
    result = pytester.runpytest_subprocess("--gradcli-specs", "specs/**/*.yaml", "-p",
                                           "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    assert "grad.w" in out  # the gradcli report of the wrong answer is shown
    assert "error: " in out  # the unusable spec fails with its error line


def test_plugin_glob_matching_nothing_fails(pytester):
    result = pytester.runpytest_subprocess("--gradcli-specs", "nothing/*.yaml")
    result.assert_outcomes(failed=1)
    assert "matches no file" in result.stdout.str()


def test_plugin_loads_without_numpy_or_sympy(pytester):
    pytester.makepyfile(test_light="""
        import sys
        def test_light():
            assert "gradcli.pytest_plugin" in sys.modules
            assert "numpy" not in sys.modules and "sympy" not in sys.modules
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
