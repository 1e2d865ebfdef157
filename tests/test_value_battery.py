"""The Value-class battery through the API, on variants of examples/value.py."""
from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import pytest

import gradcli

SOURCE = (Path(__file__).resolve().parent.parent / "examples" / "value.py").read_text()
_count = itertools.count()


def variant(tmp_path: Path, old: str, new: str) -> type:
    assert SOURCE.count(old) >= 1, old
    path = tmp_path / "value_variant_{}.py".format(next(_count))
    path.write_text(SOURCE.replace(old, new))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Value


def failed(result) -> dict:
    return {c.name: c for c in result.checks if not c.ok}


def test_overwrite_in_add_is_named_with_its_operator(tmp_path):
    cls = variant(tmp_path, "            self.grad += 1.0 * out.grad\n            other.grad += 1.0 * out.grad",
                  "            self.grad = 1.0 * out.grad\n            other.grad = 1.0 * out.grad")
    bad = failed(gradcli.check_value_class(cls))
    assert str(bad["a + a"].diagnosis) == ("gradient overwritten instead of accumulated "
                                           "(`=` instead of `+=`) in +")
    assert (bad["a + a"].expected, bad["a + a"].actual) == (2.0, 1.0)


def test_missing_division_family_is_skipped_and_listed(tmp_path):
    cls = variant(tmp_path, "    def __truediv__(self, other):\n        return self * other ** -1\n\n"
                            "    def __rtruediv__(self, other):\n        return other * self ** -1\n",
                  "")
    result = gradcli.check_value_class(cls)
    assert result.ok
    assert not any("/" in c.name for c in result.checks)
    assert [(s.name, str(s.reason)) for s in result.skipped] == [
        ("division", "the class defines no __truediv__ / __rtruediv__")]


def test_methods_not_defined_are_listed(tmp_path):
    cls = variant(tmp_path, "    def sigmoid(self):", "    def _sigmoid(self):")
    result = gradcli.check_value_class(cls)
    assert result.ok and "sigmoid" not in [c.name for c in result.checks]
    assert ("sigmoid", "no method sigmoid()") in [(s.name, str(s.reason)) for s in result.skipped]


def test_state_kept_between_graphs(tmp_path):
    # a class-level counter of backward() calls seeds the output gradient: each graph
    # gets a different seed, so two identical graphs disagree
    cls = variant(tmp_path, "        self.grad = 1.0\n",
                  "        Value.calls = getattr(Value, 'calls', 0) + 1\n"
                  "        self.grad = 1.0 if Value.calls % 2 else 2.0\n")
    bad = failed(gradcli.check_value_class(cls))
    assert str(bad["second backward"].diagnosis).startswith(
        "two identical new graphs get different gradients: state is shared between graphs")


def test_numbers_not_wrapped(tmp_path):
    cls = variant(tmp_path, "    def __mul__(self, other):\n        other = other if isinstance(other, "
                            "Value) else Value(other)\n",
                  "    def __mul__(self, other):\n")
    bad = failed(gradcli.check_value_class(cls))
    assert str(bad["a * 2"].diagnosis) == ("__mul__ does not accept a plain number: wrap it "
                                          "with Value(other) when it is not a Value")
    assert str(bad["a * 2"].error).endswith("AttributeError: 'int' object has no attribute 'data'")
    assert ":" in str(bad["a * 2"].error).split(" ")[0]  # file:line of the user's frame


def test_wrong_forward_value_is_reported(tmp_path):
    cls = variant(tmp_path, "out = Value(self.data ** n, (self,), f\"**{n}\")",
                  "out = Value(self.data ** (n + 1), (self,), f\"**{n}\")")
    bad = failed(gradcli.check_value_class(cls))
    assert str(bad["a ** 3"].diagnosis) == "forward value wrong: a ** 3 gives 0.2401, expected 0.343"


def test_sign_flipped_local_derivative(tmp_path):
    cls = variant(tmp_path, "            self.grad += (1.0 / self.data) * out.grad",
                  "            self.grad += (-1.0 / self.data) * out.grad")
    bad = failed(gradcli.check_value_class(cls))
    assert list(bad) == ["log"] and str(bad["log"].diagnosis) == "sign flipped"
    assert bad["log"].expected == pytest.approx(1 / 1.7)
