"""What every benchmark script shares: a clean child environment and the
rule that a report never fails its caller."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable


def clean_env() -> dict[str, str]:
    """The environment for timed child processes, without debugging switches."""
    env = dict(os.environ)
    for var in ("PYTHONPROFILEIMPORTTIME", "PYTHONDEVMODE", "PYTHONTRACEMALLOC",
                "PYTHONWARNINGS", "PYTHONBREAKPOINT"):
        env.pop(var, None)
    env["COLUMNS"] = "100"
    return env


def gradcli_argv() -> list[str]:
    """The console script beside this interpreter (as users run it), else `-m gradcli`."""
    bindir = Path(sys.executable).parent
    for name in ("gradcli", "gradcli.exe"):
        path = bindir / name
        if path.is_file() and os.access(path, os.X_OK):
            return [str(path)]
    return [sys.executable, "-m", "gradcli"]


def run_report(main: Callable[[], object]) -> None:
    """Run a benchmark's main and exit 0 whatever happens (it is a report)."""
    try:
        main()
    except Exception as exc:  # a report: never fail the caller
        print(f"benchmark error: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(0)
