"""`--save OUT.yaml`: the trained file, ready for `gradcli check`.

The output is the input file's text with its `params` section replaced by the
final parameters (every trained tensor written out, seeded ones included)
and its `expect` section left out (hand answers about the starting weights
no longer hold after training); every other line, comments included, is
kept.  Numbers are written with `repr`, which reads back to the same float.
Before replacing OUT the new text is loaded with the spec loader, so a saved
file always loads; it is written to a temporary file in OUT's folder and
moved into place (an interrupted save never leaves half a file).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

from gradcli.errors import GradcliError
from gradcli.i18n import M, _

#: Largest network --save writes (the YAML reader's practical limit).
MAX_SAVE_PARAMS = 200_000


def check_options(target: str, lrs: list[float], path: str) -> None:
    from gradcli.train.source import is_file

    if not is_file(target):
        raise GradcliError(M("--save writes a YAML file with the trained params; "
                             "an expression has no file to save (train a YAML file)"),
                           "--save")
    if len(lrs) > 1:
        raise GradcliError(M("--save keeps one run: give one --lr (got {count})",
                             count=len(lrs)), "--save")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise GradcliError(M("folder {folder} does not exist", folder=folder), "--save")


def check_problem(problem) -> None:
    size = problem.size()
    if size > MAX_SAVE_PARAMS:
        raise GradcliError(M("the network has {size:,} parameters; --save writes at most "
                             "{limit:,} (the limit for reading YAML back)",
                             size=size, limit=MAX_SAVE_PARAMS), "--save")


# ------------------------------------------------------------- formatting ---
def _number(v: float) -> str:
    return repr(float(v))


def _flow(value: Any) -> str:
    """A nested list in YAML flow style: [[1.0, 2.0], [3.0, 4.0]]."""
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _number(value)


def params_block(names: list[str], values: list[Any]) -> list[str]:
    """`params:` with one entry per parameter; matrices one row per line."""
    lines = ["params:"]
    for name, value in zip(names, values):
        if isinstance(value, float):
            lines.append(f"  {name}: {_number(value)}")
        elif value.ndim <= 1:
            lines.append(f"  {name}: {_flow(value.tolist())}")
        else:
            lines.append(f"  {name}:")
            lines += [f"    - {_flow(row)}" for row in value.tolist()]
    return lines


# ---------------------------------------------------------------- writing ---
def _section_lines(loaded, lines: list[str], key: str) -> tuple[int, int] | None:
    """0-based [start, end) of a top-level block section `key`, or None if absent.

    The section runs from its key to the next top-level key; comment and blank
    lines just before that key stay with it."""
    from gradcli.yamlio import KEY

    if key not in loaded.data:
        return None
    line, col = loaded.positions[(key, KEY)]
    if col != 1:
        raise ValueError("not a block mapping")
    start = line - 1
    later = [loaded.positions[(k, KEY)][0] - 1 for k in loaded.data
             if loaded.positions[(k, KEY)][0] - 1 > start]
    end = min(later, default=len(lines))
    while end > start + 1 and (not lines[end - 1].strip()
                               or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return start, end


def trained_text(path: str, names: list[str], values: list[Any], header: str) -> str:
    from gradcli.yamlio import load_file

    loaded = load_file(path)
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    block = params_block(names, values)
    try:
        sections = {k: _section_lines(loaded, lines, k) for k in ("params", "expect")}
    except (ValueError, KeyError):  # not a plain block mapping: write it out whole
        return _dump(loaded.data, block, header)
    cuts = sorted(((span, k) for k, span in sections.items() if span), reverse=True)
    for (start, end), key in cuts:  # bottom-up, so earlier line numbers stay valid
        lines[start:end] = block if key == "params" else []
    if sections["params"] is None:
        lines += block
    return "\n".join([header] + lines) + "\n"


def _dump(data: dict, block: list[str], header: str) -> str:
    import yaml

    rest = {k: v for k, v in data.items() if k not in ("params", "expect")}
    text = yaml.safe_dump(rest, sort_keys=False, default_flow_style=False,
                          allow_unicode=True)
    return "\n".join([header, text.rstrip("\n")] + block) + "\n"


def write(problem, result, path: str) -> str:
    """Write the trained file to `path` atomically; the path written."""
    header = "# " + _("trained by gradcli train: {optimizer}, lr {lr}, steps taken: {steps}, "
                      "final loss {loss}, status {status}",
                      optimizer=result.optimizer, lr=f"{result.lr:g}", steps=result.steps,
                      loss=f"{result.final_loss:.6g}", status=result.status)
    text = trained_text(problem.label, result.names, result.params, header)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        _replace(path, folder, text)
    except OSError as exc:
        raise GradcliError(M("cannot write {path}: {reason}", path=path,
                             reason=exc.strerror or str(exc)), "--save") from None
    return path


def _replace(path: str, folder: str, text: str) -> None:
    from gradcli.train.source import load_spec

    fd, tmp = tempfile.mkstemp(prefix=".gradcli-save-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            load_spec(tmp)  # the saved file must load
        except GradcliError as exc:
            raise GradcliError(M("{path} not written: the trained file would not load "
                                 "({reason})", path=path, reason=exc.what), "--save") from None
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else _default_mode()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
