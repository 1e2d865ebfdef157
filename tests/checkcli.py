"""Helpers for driving `gradcli check` in-process (shared by the check tests)."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gradcli.cli import app


def cli(*args):
    return CliRunner().invoke(app, ["check", *map(str, args)])


def json_lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def check_json(*args) -> tuple[int, dict]:
    """Exit code and the one JSON report of `gradcli check ARGS --json`."""
    result = cli(*args, "--json")
    assert "Traceback" not in result.stderr
    lines = json_lines(result)
    assert len(lines) == 1, result.stdout + result.stderr
    return result.exit_code, lines[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
