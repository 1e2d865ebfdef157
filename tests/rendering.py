"""Helpers for the report tests: the real entry point in-process, pdflatex and
headless Chromium (each skipped with a message where absent, unless CI=true)."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from gradcli import cli

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SIGMOID_121 = SPECS / "sigmoid_121.yaml"
XOR = SPECS / "xor_relu_softmax.yaml"
CHROMIUM = "/usr/bin/chromium"


@dataclass
class Run:
    code: int
    out: str
    err: str


def gradcli(*args) -> Run:
    """`gradcli ARGS` through `gradcli.cli.main`, in-process."""
    out, err = io.StringIO(), io.StringIO()
    code = None
    with redirect_stdout(out), redirect_stderr(err):
        try:
            cli.main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    assert isinstance(code, int), code
    return Run(code, out.getvalue(), err.getvalue())


def need(tool: str, path: str | None = None) -> str:
    """The tool's path; skip where it is absent (fail under CI=true)."""
    found = path if path and os.path.exists(path) else shutil.which(tool)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is required on CI")
        pytest.skip(f"{tool} is not installed")
    return found


# ---------------------------------------------------------------- pdflatex ---
OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)")


@dataclass
class Compiled:
    returncode: int
    log: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith("!")]

    @property
    def overfull(self) -> list[float]:
        return [float(w) for w in OVERFULL.findall(self.log)]


def pdflatex(tex: str, folder: Path, name: str = "doc") -> Compiled:
    exe = need("pdflatex")
    (folder / f"{name}.tex").write_text(tex, encoding="utf-8")
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
    return Compiled(proc.returncode, log)


def assert_compiles(tex: str, folder: Path, name: str = "doc") -> Compiled:
    done = pdflatex(tex, folder, name)
    assert done.returncode == 0 and not done.errors, "\n".join(done.errors) or done.log[-3000:]
    too_wide = [w for w in done.overfull if w > 5.0]
    assert not too_wide, f"overfull boxes {too_wide} pt in {name}.tex"
    assert "Overfull \\vbox" not in done.log  # nothing below the page either
    assert (folder / f"{name}.pdf").exists()
    return done


# ---------------------------------------------------------------- chromium ---
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--hide-scrollbars"]


@dataclass
class Opened:
    screenshot: Path
    console: list[str]  # every console message (the pages have no script: any is a fault)
    dom: str | None


def open_page(html_path: Path, folder: Path, dom: bool = False,
              size: tuple[int, int] = (1200, 1800)) -> Opened:
    """Open the page in headless Chromium: a screenshot, the console messages (logged to
    stderr with --enable-logging) and, if asked, the DOM as Chromium parsed it."""
    exe = need("chromium", CHROMIUM)
    shot = folder / (html_path.stem + ".png")
    profile = folder / "chromium-profile"
    proc = subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
         "--v=0", f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}",
         html_path.resolve().as_uri()],
        capture_output=True, text=True, timeout=180)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    parsed = None
    if dom:
        done = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               "--dump-dom", html_path.resolve().as_uri()],
                              capture_output=True, text=True, timeout=180)
        parsed = done.stdout
    assert shot.exists() and shot.stat().st_size > 1000, proc.stderr[-2000:]
    return Opened(shot, console, parsed)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
