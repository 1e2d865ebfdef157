"""Terminals that cannot show a character get its ASCII form, and only that character."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gradcli import output


@pytest.mark.parametrize("text, encoding, shown", [
    ("∂L/∂ŷ = ŷ - y", "ascii", "dL/dyhat = yhat - y"),
    ("dW = δᵀ @ a", "ascii", "dW = delta^T @ a"),
    ("기울기 ∂L/∂ŷ ⊙ x", "cp949", "기울기 ∂L/∂yhat ⊙ x"),
    ("y\u0302 - y", "ascii", "yhat - y"),
    ("é and ü", "ascii", "e and u"),
    ("plain text", "ascii", "plain text"),
])
def test_only_unencodable_characters_are_replaced(text, encoding, shown):
    encoded = text.encode(encoding, errors=output.HANDLER)
    assert encoded.decode(encoding) == shown


def test_installed_on_a_real_ascii_stdout():
    code = ("from gradcli import output; output.install(); "
            "print('\\u2202L/\\u2202\\u0177 = 1'); import sys; "
            "print('\\u03c3', file=sys.stderr)")
    env = dict(os.environ, PYTHONIOENCODING="ascii", PYTHONUTF8="0")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode("ascii").strip() == "dL/dyhat = 1"
    assert run.stderr.decode("ascii").strip() == "sigma"
