"""Helpers for driving `gradcli check-code` (shared by the check-code tests)."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gradcli.cli import app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def code(*args):
    return CliRunner().invoke(app, ["check-code", *map(str, args)])


def code_json(*args) -> tuple[int, list[dict], str]:
    """Exit code, the JSON lines and stderr of `gradcli check-code ARGS --json`."""
    result = code(*args, "--json")
    assert "Traceback" not in result.stderr + result.stdout
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines, result.stderr


def checks_of(lines: list[dict], target: str) -> dict[str, dict]:
    """The checks of one component, by name."""
    for line in lines:
        if line.get("target") == target:
            return {c["name"]: c for c in line["checks"]}
    raise AssertionError("no component {!r} in {}".format(target, [l.get("target") for l in lines]))


def failing(lines: list[dict]) -> list[tuple[str, str, str | None]]:
    return [(line["target"], c["name"], c["diagnosis"]) for line in lines
            for c in line["checks"] if not c["ok"]]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
