"""Every shipped spec passes `gradcli check` (exit 0), hand answers included."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcli.cli import app

SPECS = sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.yaml"))


def test_specs_found():
    names = {p.name for p in SPECS}
    assert {"sigmoid_121.yaml", "net_231_sigmoid.yaml", "xor_relu_softmax.yaml",
            "sigmoid_neuron.yaml", "xy_plus_x.yaml", "add_mul.yaml", "linear_sq.yaml",
            "tensor_softmax.yaml", "tanh_mse.yaml", "bce_classifier.yaml",
            "mnist_784_128_10.yaml"} <= names


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_spec_passes(path):
    result = CliRunner().invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stderr == ""
    [line] = result.stdout.splitlines()
    report = json.loads(line)
    assert report["ok"] is True
    assert all(p["ok"] for p in report["params"])
    assert all(e["ok"] for e in report["expect"]), report["expect"]
