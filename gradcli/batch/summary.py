"""The closing summary of a batch: one row per file, then the totals.

Printed as a table (text or markdown), as one JSON line
`{"summary": {"files", "ok", "failed", "unusable", "rows": [...]}}`, or
written as CSV for a gradebook (atomically: a reader never sees half a file).
Rows of `gradcli check` count the `expect` answers right and wrong and say
whether every gradient passed; rows of `gradcli check-code` count the
components that passed and failed.  A file that could not be used has no
counts (null, an empty CSV cell) and its English `error:` line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from gradcli.batch.outcome import Row
from gradcli.errors import GradcliError
from gradcli.i18n import M, N_, _

#: JSON keys (and CSV columns) per command, in the contract's order
KEYS = {"check": ("file", "ok", "right", "wrong", "gradients_ok", "error", "exit"),
        "check-code": ("file", "ok", "passed", "failed", "error", "exit")}
#: column headings of the printed table (translated when shown)
HEADINGS = {"file": N_("file"), "ok": N_("result"), "right": N_("right"),
            "wrong": N_("wrong"), "gradients_ok": N_("gradients"), "passed": N_("passed"),
            "failed": N_("failed"), "error": N_("error")}


@dataclass
class Summary:
    command: str  # "check" or "check-code"
    rows: list[Row] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {"files": len(self.rows),
                "ok": sum(1 for r in self.rows if r.exit == 0),
                "failed": sum(1 for r in self.rows if r.exit == 1),
                "unusable": sum(1 for r in self.rows if r.exit >= 2)}

    def row_json(self, row: Row) -> dict[str, Any]:
        data = {"file": row.file, "ok": row.ok, "exit": row.exit, "error": row.error,
                "right": row.right, "wrong": row.wrong, "gradients_ok": row.gradients_ok,
                "passed": row.passed, "failed": row.failed}
        return {key: data[key] for key in KEYS[self.command]}

    def to_json(self) -> dict[str, Any]:
        return {"summary": {**self.totals, "rows": [self.row_json(r) for r in self.rows]}}


# ------------------------------------------------------------------ cells ---
def _result(row: Row) -> str:
    return _("ok") if row.exit == 0 else _("failed") if row.exit == 1 else _("unusable")


def _cell(summary: Summary, row: Row, key: str) -> str:
    if key == "ok":
        return _result(row)
    value = getattr(row, key)
    if value is None:
        return "-"
    if key == "gradients_ok":
        return _("ok") if value else _("FAILED")
    if key == "error":
        return _error_shown(row)
    return str(value)


def _error_shown(row: Row) -> str:
    """The error as the reader's language shows it (the row keeps it in English),
    without the `error: FILE:` the row already says (`7:8: unknown name ...`)."""
    line = row.error_shown or row.error or ""
    for prefix in (f"error: {row.file}: ", f"error: {row.file}:"):
        if line.startswith(prefix):
            return line[len(prefix):]
    return line


def _table_keys(summary: Summary) -> list[str]:
    return [k for k in KEYS[summary.command] if k != "exit"]


def totals_line(summary: Summary) -> str:
    t = summary.totals
    return _("{files} files: {ok} ok, {failed} failed, {unusable} unusable", **t)


# --------------------------------------------------------------- printers ---
def print_text(summary: Summary, console) -> None:
    from rich import box
    from rich.table import Table

    table = Table(title=_("Summary"), box=box.SIMPLE_HEAD, title_justify="left")
    longest = max((len(row.file) for row in summary.rows), default=4)
    for key in _table_keys(summary):
        # file names stay whole where they can; the error column takes what is left
        table.add_column(_(HEADINGS[key]), overflow="fold", no_wrap=key != "error",
                         min_width=min(longest, 48) if key == "file" else None,
                         justify="right" if key in ("right", "wrong", "passed", "failed")
                         else "left")
    for row in summary.rows:
        table.add_row(*(_cell(summary, row, k) for k in _table_keys(summary)))
    console.print(table)
    console.print(totals_line(summary))


def markdown(summary: Summary) -> str:
    keys = _table_keys(summary)
    lines = ["| " + " | ".join(_(HEADINGS[k]) for k in keys) + " |",
             "|" + "|".join("---:" if k in ("right", "wrong", "passed", "failed") else "---"
                            for k in keys) + "|"]
    for row in summary.rows:
        cells = [_md_escape(_cell(summary, row, k)) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + totals_line(summary) + "\n"


def _md_escape(cell: str) -> str:
    return cell.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")


# -------------------------------------------------------------------- CSV ---
def csv_text(summary: Summary) -> str:
    import csv  # only for --summary-csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    keys = KEYS[summary.command]
    writer.writerow(keys)
    for row in summary.rows:
        data = summary.row_json(row)
        writer.writerow([_csv_cell(data[k]) for k in keys])
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: a file named
    # "=HYPERLINK(...).yaml" must stay text in the gradebook (OWASP's advice).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def check_csv_path(path: str) -> None:
    """Refuse, before any file is checked, a CSV path that cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise GradcliError(M("is a directory, not a file for the summary"), path)
    if not os.path.isdir(folder):
        raise GradcliError(M("cannot write the summary: no such folder {folder}",
                             folder=folder), path)
    if not os.access(folder, os.W_OK):
        raise GradcliError(M("cannot write the summary: the folder is not writable"), path)


def write_csv(summary: Summary, path: str) -> None:
    """Write the CSV beside its final name, then rename: never half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".gradcli-summary-", suffix=".csv", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(csv_text(summary))
                fh.flush()
                os.fsync(fh.fileno())
            umask = os.umask(0)  # mkstemp makes 0600; a gradebook file follows the umask
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise GradcliError(M("cannot write the summary: {why}",
                             why=exc.strerror or str(exc)), path) from None
