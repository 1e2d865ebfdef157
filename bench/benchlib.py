"""What every benchmark script shares: a clean child environment and the
rule that a report never fails its caller."""
from __future__ import annotations

import os
import sys
from typing import Callable


def clean_env() -> dict[str, str]:
    """The environment for timed child processes, without debugging switches."""
    env = dict(os.environ)
    for var in ("PYTHONPROFILEIMPORTTIME", "PYTHONDEVMODE", "PYTHONTRACEMALLOC",
                "PYTHONWARNINGS", "PYTHONBREAKPOINT"):
        env.pop(var, None)
    env["COLUMNS"] = "100"
    return env


def run_report(main: Callable[[], object]) -> None:
    """Run a benchmark's main and exit 0 whatever happens (it is a report)."""
    try:
        main()
    except Exception as exc:  # a report: never fail the caller
        print(f"benchmark error: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(0)
