"""Checking many files in one call: a grader's batch.

- `runner`: the driver (per-file output in order or as finished, error lines,
  the summary, the CSV, one exit code), `run_check` and `run_check_code`;
- `tasks`: one file's work, in this process or a worker (`CheckSettings`);
- `pool`: worker processes that survive a worker's death;
- `outcome`: what a file's check hands back (plain, picklable data);
- `summary`: the closing table, its JSON line and CSV;
- `progress`: the progress bar on stderr.

Same-shaped files share their SymPy work through `gradcli.structure_cache`.
"""
from __future__ import annotations

from gradcli.batch.runner import BatchSettings, run_check, run_check_code
from gradcli.batch.tasks import CheckSettings

__all__ = ["BatchSettings", "CheckSettings", "run_check", "run_check_code"]
