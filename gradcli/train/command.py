"""`gradcli train` as a library call: options in, runs printed, exit code out.

Everything that can be refused is refused before the first run (so `--json`
never leaves partial output for bad input): the options, then the file or
expression, then the loss and gradient at the start (a NaN there is an error,
as in `check`).  The runs share that first evaluation and run one after the
other; with `--json` each run's line is written as soon as it ends.  Ctrl-C
ends the current run as `interrupted`, prints what was computed and exits 130.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

from gradcli.errors import GradcliError
from gradcli.i18n import M, _
from gradcli.train.loop import DEFAULT_TOL, INTERRUPTED, MAX_STEPS, RunResult

EXIT_INTERRUPTED = 130
SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMG])?B?\s*\Z", re.IGNORECASE)


@dataclass
class TrainOptions:
    target: str  # FILE.yaml or EXPR
    lrs: list[float] = field(default_factory=list)
    steps: int = 100
    start: list[str] = field(default_factory=list)  # --from items
    optimizer: str = "sgd"
    clip: float | None = None
    every: int | None = None
    tol: float = DEFAULT_TOL
    plot: bool | None = None  # None: on when stdout is a terminal
    as_json: bool = False
    save: str | None = None
    max_memory: str | None = None
    fmt: str = "text"  # text (tables and a terminal plot) or html (a page with a chart)


def parse_size(text: str, option: str = "--max-memory") -> int:
    """`512M`, `2G`, `100K` or a number of bytes -> bytes (exit 2 for anything else)."""
    match = SIZE.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise GradcliError(M("expected a size such as 512M or 2G (a positive number with "
                             "an optional K, M or G), got '{text}'", text=text), option)
    factor = {None: 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[
        match.group(2).upper() if match.group(2) else None]
    return int(float(match.group(1)) * factor)


def validate(opts: TrainOptions) -> None:
    """Refuse unusable options before anything is loaded or computed."""
    for lr in opts.lrs:
        if not (lr > 0 and math.isfinite(lr)):
            raise GradcliError(M("the learning rate must be a positive finite number, "
                                 "got {value}", value=lr), "--lr")
    if not 1 <= opts.steps <= MAX_STEPS:
        raise GradcliError(M("must be between 1 and {limit:,}, got {value}",
                             limit=MAX_STEPS, value=opts.steps), "--steps")
    if opts.clip is not None and not (opts.clip > 0 and math.isfinite(opts.clip)):
        raise GradcliError(M("the largest gradient norm must be a positive finite number, "
                             "got {value}", value=opts.clip), "--clip")
    if opts.every is not None and opts.every < 1:
        raise GradcliError(M("must be a positive number of steps, got {value}",
                             value=opts.every), "--every")
    if not (opts.tol >= 0 and math.isfinite(opts.tol)):
        raise GradcliError(M("must be a finite number >= 0, got {value}", value=opts.tol),
                           "--tol")
    if opts.max_memory is not None:
        parse_size(opts.max_memory)
    if opts.save is not None:
        from gradcli.train import save

        save.check_options(opts.target, opts.lrs, opts.save)


def load(opts: TrainOptions):
    """The Problem for FILE or EXPR, and the learning rates to run."""
    from gradcli.train import source

    if source.is_file(opts.target):
        problem = source.from_file(opts.target, _budget(opts))
        lrs = list(opts.lrs) or ([problem.lr] if problem.lr is not None else [])
        if not lrs:
            raise GradcliError(M("no learning rate: give --lr RATE or put lr: in the file"),
                               "--lr")
    else:
        if not opts.lrs and not opts.start:
            raise GradcliError(M("an expression needs --lr RATE and --from VAR=VALUE "
                                 "(the learning rate and the start point)"), "--lr")
        if not opts.lrs:
            raise GradcliError(M("an expression needs --lr RATE (a learning rate; a file "
                                 "can give lr:)"), "--lr")
        problem = source.from_expression(opts.target, opts.start)
        lrs = list(opts.lrs)
    if opts.save is not None:
        from gradcli.train import save

        save.check_problem(problem)
    return problem, lrs


def _budget(opts: TrainOptions):
    """What a file may cost: --max-memory (default 2G) for training's own peak."""
    from gradcli.budget import DEFAULT_MEMORY, Budget

    memory = DEFAULT_MEMORY if opts.max_memory is None else parse_size(opts.max_memory)
    return Budget(memory=memory, purpose="train", optimizer=opts.optimizer)


def run(opts: TrainOptions, emit_json: Callable[[dict], None]) -> int:
    """Train, print, save; the exit code (0, or 130 after Ctrl-C)."""
    from gradcli.train import loop

    validate(opts)
    problem, lrs = load(opts)
    start = problem.first()
    results: list[RunResult] = []
    for lr in lrs:
        progress = None
        if not opts.as_json and sys.stderr.isatty():
            from gradcli.train.show import progress_line

            progress = progress_line(lr)
        result = loop.run(problem, lr, opts.steps, opts.optimizer, opts.clip, opts.tol,
                          start=start, progress=progress)
        if progress is not None:
            progress(-1, opts.steps)  # clear the line
        results.append(result)
        if opts.as_json:
            emit_json(result.to_json())
        if result.status == INTERRUPTED:
            break
    saved = None
    if opts.save is not None:
        from gradcli.train import save

        saved = save.write(problem, results[0], opts.save)
    if not opts.as_json and opts.fmt == "html":
        from gradcli.render.train_view import train_html

        sys.stdout.write(train_html(problem, results, opts, saved=saved))
    elif not opts.as_json:
        from gradcli.train import show

        show.report(problem, results, opts, saved=saved)
    elif saved is not None:
        from gradcli.train import show

        show.saved_note(saved)
    interrupted = any(r.status == INTERRUPTED for r in results)
    if interrupted and opts.as_json:  # stdout holds the runs so far, as JSON lines
        print(_("interrupted (Ctrl-C): the runs so far are printed"), file=sys.stderr)
    return EXIT_INTERRUPTED if interrupted else 0
