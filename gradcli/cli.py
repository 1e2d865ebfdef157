"""Typer commands, a few lines each; every failure becomes an exit code.

Exit codes: 0 all computed and every check passed; 1 a check failed;
2 the input could not be used.  Errors are one `error: <where>: <what>` line
on stderr, never a traceback (unless --debug).  SymPy, numpy and Rich are
imported inside the commands, so `gradcli --help` starts fast.
"""
from __future__ import annotations

import copy
import json
import re
import sys
from enum import Enum
from typing import List, Optional

import typer
import typer.core

from gradcli import __version__, streams
from gradcli.errors import GradcliError, escape
from gradcli.i18n import LANGUAGES, M, N_, _, language

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Gradient checker and backprop calculator: symbolic, reverse-mode and "
         "numeric derivatives, explained step by step.",
)


class Format(str, Enum):
    text = "text"
    markdown = "markdown"
    latex = "latex"
    html = "html"


FORMAT_HELP = N_("text, markdown, latex (a complete document) or html (a self-contained page).")
CHECK_FORMAT_HELP = N_("text, markdown, latex (a complete document) or html (a self-contained "
                       "page). With several files, one document.")
LATEX_BODY_HELP = N_("LaTeX without the preamble: only the body, for pasting into a document.")


def _report_format(fmt: "Format", latex_body: bool) -> str:
    """--latex-body is LaTeX: it selects it, and refuses another explicit format."""
    if not latex_body or fmt == Format.latex:
        return fmt.value
    if fmt == Format.text:
        return Format.latex.value
    raise GradcliError(M("--latex-body goes with --format latex, not {fmt}", fmt=fmt.value),
                       "--latex-body")


_debug = False


def _fail(exc: BaseException) -> int:
    """Print one error line (and any caret detail) to stderr; return the exit code."""
    if streams.pipe_closed(exc):  # `gradcli ... | head`: quiet (the caller keeps its code)
        streams.silence_stdout()
        return 0
    if isinstance(exc, OSError) and exc.errno in streams.WRITE_ERRORS:  # `> /dev/full`
        streams.silence_stdout()  # the unwritten rest must not fail again at exit
        exc = GradcliError(M("cannot write: {reason}", reason=exc.strerror or exc), "stdout")
    if isinstance(exc, GradcliError):
        streams.err(exc.line())
        if exc.detail:
            streams.err(exc.detail)
        code = exc.exit_code
    elif isinstance(exc, KeyboardInterrupt):
        streams.err("error: gradcli: " + _("interrupted"))
        code = 130
    elif isinstance(exc, RecursionError):
        streams.err("error: input: " + _("nested too deeply for this machine"))
        code = 2
    elif isinstance(exc, MemoryError):
        streams.err("error: input: " + _("too large (out of memory)"))
        code = 2
    else:
        streams.err("error: internal: " + _("{kind}: {what} (rerun with --debug for a "
                                            "traceback)", kind=type(exc).__name__,
                                            what=escape(exc)))
        code = 2
    if _debug and sys.stderr is not None:
        import traceback

        traceback.print_exception(exc)
    return code


def _emit_json(obj: dict) -> None:
    if sys.stdout is None:  # stdout closed (`>&-`): like a closed pipe, nothing to say
        return
    sys.stdout.write(json.dumps(obj, allow_nan=False, default=_json_default) + "\n")


def _json_default(value):
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


# An expression may start with '-' (`-x**2`): derive has no short options, so
# such an argument is the expression, not an unknown option.  Extra arguments
# are collected instead of refused by the parser, so that an unknown option
# (`--lr 0.1`) can be named as one (`_refuse_extra`).
@app.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def derive(
    ctx: typer.Context,
    expression: str = typer.Argument(..., help="The expression, e.g. \"(x**2+1)**3\"."),
    wrt: Optional[List[str]] = typer.Option(
        None, "--wrt", help="Differentiate with respect to VAR (repeatable; default: "
                            "every variable, w2 before w10)."),
    at: Optional[List[str]] = typer.Option(
        None, "--at", help="Evaluate at VAR=VALUE (repeatable, or x=1,y=2)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    steps: bool = typer.Option(True, "--steps/--no-steps", help="Show the rule steps."),
    substitution: bool = typer.Option(
        True, "--substitution/--no-substitution",
        help="Show the u-substitution view (u = ..., du/dx, dy/du), with its values at "
             "--at."),
    fmt: Format = typer.Option(Format.text, "--format", help=FORMAT_HELP),
    latex_body: bool = typer.Option(False, "--latex-body", help=LATEX_BODY_HELP),
    rtol: float = typer.Option(1e-6, "--rtol", help="Relative tolerance of the check."),
    atol: float = typer.Option(1e-9, "--atol", help="Absolute tolerance of the check."),
    timeout: float = typer.Option(5.0, "--timeout",
                                  help="Seconds allowed for all SymPy work; past it the "
                                       "symbolic parts are skipped, the numbers still come."),
    answer: Optional[List[str]] = typer.Option(
        None, "--answer", metavar="[VAR=]ANSWER",
        help="Check your derivative, e.g. \"6x(x^2+1)^2\" or \"x=dy/dx = ...\" "
             "(repeatable, one per variable)."),
    let: Optional[List[str]] = typer.Option(
        None, "--let", metavar="NAME=EXPR",
        help="A name your answers may use, e.g. u=x**2+1 (repeatable)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random points that check "
                                                "--answer."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of failures."),
) -> None:
    """Differentiate EXPR: simplified derivative, rule steps, and (with --at) the
    value three ways: symbolic, reverse mode and central differences; with
    --answer, whether your derivative is right (and if not, what went wrong)."""
    global _debug
    _debug = debug
    _refuse_extra([expression, *ctx.args], ctx)
    try:
        _check_tolerances(rtol, atol, timeout)
        shown = _report_format(fmt, latex_body)
        from gradcli.derive import derive as run_derive, parse_bindings

        report = run_derive(expression, wrt=wrt, at=parse_bindings(at or []),
                            steps=steps, substitution=substitution, rtol=rtol, atol=atol,
                            time_budget=timeout, answers=answer, lets=let, seed=seed)
        if as_json:
            code = streams.printed(lambda: _emit_json(report.to_json()), 0 if report.ok else 1)
        else:
            from gradcli import render

            code = streams.printed(
                lambda: render.derive_report(report, shown, source=expression, at=at,
                                             body_only=latex_body),
                0 if report.ok else 1)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - one exit path
        raise typer.Exit(_fail(exc))
    raise typer.Exit(code)


def _refuse_extra(args: list[str], ctx) -> None:
    """An unknown option is named as one; any other extra argument is refused."""
    # click's exceptions, wherever this typer takes click from (vendored or not)
    exceptions = sys.modules[typer.BadParameter.__module__]
    for arg in args:
        if _OPTION.fullmatch(arg):
            raise exceptions.NoSuchOption(arg.split("=")[0], ctx=ctx)
    if len(args) > 1:
        raise exceptions.UsageError(_("unexpected extra argument(s): {args}",
                                      args=" ".join(args[1:])), ctx=ctx)


#: `--name` or `--name=value`: an option, never an expression (`--x` would be -(-x))
_OPTION = re.compile(r"--[A-Za-z][\w-]*(=.*)?")


# Options for graders, shared by `check` and `check-code` (declared once).
_JOBS = typer.Option(1, "--jobs", metavar="N", help=_(
    "Check the files in N worker processes (output still in the order given)."))
_UNORDERED = typer.Option(False, "--unordered", help=_(
    "With --jobs: print each file as soon as it is checked."))
_SUMMARY = typer.Option(False, "--summary", help=_(
    "End with a summary table: one row per file, then the totals."))
_SUMMARY_ONLY = typer.Option(False, "--summary-only", help=_(
    "Print only the summary table (error lines still go to stderr)."))
_SUMMARY_CSV = typer.Option(None, "--summary-csv", metavar="PATH", help=_(
    "Also write the summary as CSV to PATH (atomically), for a gradebook."))


class _FileArgsCommand(typer.core.TyperCommand):
    """Usage `gradcli check [OPTIONS] FILE...` (typer writes a required list `{FILE...}`)."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("...}") else p
                for p in super().collect_usage_pieces(ctx)]


@app.command(cls=_FileArgsCommand)
def check(
    files: List[str] = typer.Argument(..., metavar="FILE...",
                                      help="Network definitions (YAML)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file, per line."),
    rtol: float = typer.Option(1e-5, "--rtol", help="Relative tolerance of the gradient check."),
    atol: float = typer.Option(1e-8, "--atol", help="Absolute tolerance of the gradient check."),
    fmt: Format = typer.Option(Format.text, "--format", help=CHECK_FORMAT_HELP),
    latex_body: bool = typer.Option(False, "--latex-body", help=LATEX_BODY_HELP),
    lr: Optional[float] = typer.Option(None, "--lr", help="Show one gradient-descent update."),
    paths: bool = typer.Option(False, "--paths/--no-paths",
                               help="Ledger: list every path (default: the short view)."),
    recurrence: bool = typer.Option(False, "--recurrence",
                                    help="Ledger: show the backprop recurrence node by node."),
    full: bool = typer.Option(False, "--full", help="Layer form: force the full "
                                                    "element-by-element numeric check."),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds allowed for SymPy per file."),
    backward: Optional[str] = typer.Option(
        None, "--backward", metavar="FILE.py:FUNC",
        help="Check your backward: FUNC(params, inputs) returns a dict of gradients by "
             "parameter name (run in a child process)."),
    code_timeout: float = typer.Option(60.0, "--code-timeout",
                                       help="Seconds allowed for --backward's file."),
    jobs: int = _JOBS,
    unordered: bool = _UNORDERED,
    summary: bool = _SUMMARY,
    summary_only: bool = _SUMMARY_ONLY,
    summary_csv: Optional[str] = _SUMMARY_CSV,
    max_memory: str = typer.Option("2G", "--max-memory", metavar="SIZE",
                                   help="Memory budget per file (K, M, G suffixes); a file "
                                        "estimated to need more is refused."),
    json_full: bool = typer.Option(False, "--json-full",
                                   help="With --json, write every tensor in full (tensors of "
                                        "more than 10,000 entries are summarised otherwise)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of failures."),
) -> None:
    """Check FILE...: forward values, every parameter's gradient three ways, the
    chain-rule ledger, and grading of hand answers (expect)."""
    global _debug
    _debug = debug
    try:
        _check_lr(lr)
        _check_tolerances(rtol, atol, timeout)
        shown = _report_format(fmt, latex_body)
        limits = _budget(max_memory, full=full, json_full=as_json and json_full)
    except GradcliError as exc:
        raise typer.Exit(_fail(exc))
    try:
        from gradcli.batch import BatchSettings, CheckSettings, run_check
        from gradcli.render import CheckPrinter

        # text and markdown print file by file; latex and html one document at the end
        printer = CheckPrinter(shown, paths, recurrence, latex_body)

        def show(report, spec) -> None:
            printer.add(report, spec if spec is not None else
                        _picture_spec(report.file, shown, limits))
            if report.backward is not None:
                from gradcli.usercode import backward as user_backward

                user_backward.show(report, shown)

        code = run_check(files, CheckSettings(rtol, atol, lr, timeout, full, debug=debug,
                                              backward=backward, code_timeout=code_timeout,
                                              budget=limits, json_full=json_full),
                         BatchSettings(jobs, not unordered, summary, summary_only, summary_csv,
                                       as_json, shown), show,
                         on_error=lambda outcome: printer.failed(outcome.file, outcome.error),
                         finish=printer.finish)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - one exit path
        code = _fail(exc)
    raise typer.Exit(code)


def _picture_spec(path: str, fmt: str, budget):
    """The file loaded again (within the same budget), for the graph picture of HTML
    and markdown reports made by a worker process, which keeps its Spec."""
    if fmt not in ("html", "markdown"):
        return None
    from gradcli import spec as specs

    try:
        return specs.load(path, budget)
    except Exception:  # noqa: BLE001 - the report stands without its picture
        return None


def _check_lr(lr: float | None) -> None:
    """`--lr` must be a positive finite number (named as the place, not the file)."""
    import math

    if lr is not None and not (lr > 0 and math.isfinite(lr)):
        raise GradcliError(M("the learning rate must be a positive finite number, got "
                             "{value}", value=lr), "--lr")


def _budget(max_memory: str, **options):
    """The memory and work budget of `--max-memory SIZE` (exit 2 for a bad size)."""
    from gradcli.budget import Budget
    from gradcli.usercode.make import parse_size

    return Budget(memory=parse_size(max_memory, "--max-memory"), **options)


def _check_tolerances(rtol: float, atol: float, timeout: float = 0.0) -> None:
    for name, value in (("--rtol", rtol), ("--atol", atol), ("--timeout", timeout)):
        if not value >= 0 or value == float("inf"):
            raise GradcliError(M("must be a finite number >= 0, got {value}", value=value), name)


# ---------------------------------------------------------------- check-code ---
@app.command("check-code")
def check_code(
    files: List[str] = typer.Argument(..., help="The user's Python files."),
    make: Optional[List[str]] = typer.Option(
        None, "--make", help="Build a class with literal arguments, e.g. \"Linear(3, 2)\" "
                             "(repeatable; read with ast, never evaluated)."),
    inputs: Optional[List[str]] = typer.Option(
        None, "--input", help="Input shapes, e.g. Linear=4x3 or affine=4x3,3x2,2 (repeatable)."),
    only: Optional[List[str]] = typer.Option(None, "--only", help="Check only NAME (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per component, per line."),
    rtol: float = typer.Option(1e-5, "--rtol", help="Relative tolerance of the gradient check."),
    atol: float = typer.Option(1e-8, "--atol", help="Absolute tolerance of the gradient check."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds allowed per file."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random inputs and directions."),
    max_memory: str = typer.Option("2G", "--max-memory", help="Memory budget per file "
                                                              "(K, M, G suffixes)."),
    jobs: int = _JOBS,
    unordered: bool = _UNORDERED,
    summary: bool = _SUMMARY,
    summary_only: bool = _SUMMARY_ONLY,
    summary_csv: Optional[str] = _SUMMARY_CSV,
    fmt: Format = typer.Option(Format.text, "--format",
                               help=_("The summary table: text or markdown.")),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of failures."),
) -> None:
    """Check the backward code in FILE.py...: Value classes, layer and loss classes,
    f/f_grad functions and NAME_forward/NAME_backward pairs, against central differences.
    The code runs in a child process: this isolates mistakes, not malice."""
    global _debug
    _debug = debug
    try:
        from gradcli.usercode import command

        opts = command.options(make or [], inputs or [], only or [], rtol, atol, timeout, seed,
                               max_memory)
        from gradcli.batch import BatchSettings, run_check_code

        code = run_check_code(files, opts, BatchSettings(jobs, not unordered, summary,
                                                         summary_only, summary_csv, as_json,
                                                         fmt.value))
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - one exit path
        code = _fail(exc)
    raise typer.Exit(code)


# ------------------------------------------------------------------ graph ---
@app.command(context_settings={"ignore_unknown_options": True})
def graph(
    target: str = typer.Argument(..., help="A YAML file (ends in .yaml/.yml or contains /) "
                                           "or an expression."),
    at: Optional[List[str]] = typer.Option(
        None, "--at", help="Expression: evaluate at VAR=VALUE (repeatable, or x=1,y=2)."),
    fmt: Optional[str] = typer.Option(
        None, "--format", help="dot, mermaid, svg or html (default: from the --output "
                               "extension, else dot)."),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write to PATH (atomically) instead of stdout."),
    layout: str = typer.Option("auto", "--layout", help="SVG layout: auto (Graphviz when "
                                                        "installed), dot or builtin."),
    max_boxes: int = typer.Option(2000, "--max-boxes", help="Draw graphs of up to N boxes."),
    check_answers: Optional[bool] = typer.Option(
        None, "--check/--no-check", help="Run the check and mark wrong answers and failed "
                                         "gradients (default: when the file has expect)."),
    max_memory: str = typer.Option("2G", "--max-memory", metavar="SIZE",
                                   help="Memory budget of a file (K, M, G suffixes)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of failures."),
) -> None:
    """Draw the computation graph: a box per value (name, operation, value,
    gradient), edges labelled with local derivatives."""
    global _debug
    _debug = debug
    try:
        from gradcli.pictures import command

        drawing = command.draw(target, at, fmt, output, layout, max_boxes, check_answers,
                               budget=_budget(max_memory))
        code = 0
        if drawing is not None:
            code = streams.printed(lambda: command.print_text(drawing), 0)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - one exit path
        raise typer.Exit(_fail(exc))
    raise typer.Exit(code)
# ------------------------------------------------------------------ train ---
class TrainFormat(str, Enum):
    text = "text"
    html = "html"


class Optimizer(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"


@app.command(context_settings={"ignore_unknown_options": True})
def train(
    target: str = typer.Argument(..., metavar="FILE.yaml|EXPR",
                                 help=_("A network file (ending .yaml/.yml or containing /) "
                                        "or an expression whose variables are trained.")),
    lr: Optional[List[float]] = typer.Option(
        None, "--lr", metavar="RATE", help=_("Learning rate (repeatable: one run per rate, side by side; "
                             "default: the file's lr:).")),
    steps: int = typer.Option(100, "--steps", metavar="N", help=_("Steps per run (1 to 10,000,000).")),
    start: Optional[List[str]] = typer.Option(
        None, "--from", metavar="VAR=VALUE", help=_("Start point VAR=VALUE of an expression (repeatable or "
                               "x=1,y=2).")),
    optimizer: Optimizer = typer.Option(Optimizer.sgd, "--optimizer",
                                        help=_("sgd, momentum (0.9) or adam (PyTorch's "
                                               "defaults).")),
    clip: Optional[float] = typer.Option(None, "--clip", metavar="NORM",
                                         help=_("Scale the gradient to global L2 norm at "
                                                "most NORM (as clip_grad_norm_).")),
    every: Optional[int] = typer.Option(None, "--every", metavar="K",
                                        help=_("Rows of the step table every K steps "
                                               "(default: steps/10).")),
    tol: float = typer.Option(1e-8, "--tol", metavar="T", help=_("Converged when the gradient norm is "
                                                    "below this (checked before each step).")),
    plot: Optional[bool] = typer.Option(None, "--plot/--no-plot",
                                        help=_("Plot the loss curves (default: on when "
                                               "stdout is a terminal).")),
    as_json: bool = typer.Option(False, "--json", help=_("One JSON object per run, per line "
                                                         "(no plot).")),
    save: Optional[str] = typer.Option(None, "--save", metavar="OUT.yaml",
                                       help=_("Write the file with the trained params (one "
                                              "--lr only).")),
    max_memory: Optional[str] = typer.Option(None, "--max-memory", metavar="SIZE",
                                             help=_("Memory budget, e.g. 512M or 2G.")),
    fmt: TrainFormat = typer.Option(TrainFormat.text, "--format",
                                    help=_("text, or html: a self-contained page with the "
                                           "loss curves as a chart.")),
    debug: bool = typer.Option(False, "--debug", help=_("Show tracebacks of failures.")),
) -> None:
    """Gradient descent on FILE.yaml or EXPR: one run per learning rate, side by side."""
    global _debug
    _debug = debug
    try:
        from gradcli.train.command import TrainOptions, run

        code = run(TrainOptions(target, list(lr or []), steps, list(start or []),
                                optimizer.value, clip, every, tol, plot, as_json, save,
                                max_memory, fmt.value), _emit_json)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - one exit path
        raise typer.Exit(_fail(exc))
    raise typer.Exit(code)


# ------------------------------------------------------------ entry point ---
def _version(value: bool) -> None:
    if value:
        print(f"gradcli {__version__}")
        raise typer.Exit(0)


def _lang_option(value: Optional[str]) -> None:
    """`--lang` met by the parser (only when `main` did not take it first, as with
    Typer's CliRunner): the same check, the same effect."""
    if value is not None:
        from gradcli.i18n import set_language

        if value not in LANGUAGES:
            raise typer.BadParameter(_("choose en or ko, not {lang}", lang=repr(value)))
        set_language(value)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version,
                                       is_eager=True, help="Show the version."),
          lang: Optional[str] = typer.Option(
              None, "--lang", metavar="en|ko", callback=_lang_option, is_eager=True,
              expose_value=False,
              help="Language of messages and help, before or after the command name "
                   "(default: from GRADCLI_LANG, LC_ALL, LC_MESSAGES, LANG; --json output "
                   "is English in every language).")) -> None:
    """Gradient checker and backprop calculator."""


def _take_language(args: list[str]) -> list[str]:
    """Set the language from `--lang X` / `--lang=X` anywhere before `--` (else from
    the environment) and return the other arguments; an unknown language is exit 2."""
    from gradcli.i18n import language_from_environment, set_language

    set_language(language_from_environment())
    chosen, rest, i = None, [], 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == "--lang" or arg.startswith("--lang="):
            if arg == "--lang":
                if i + 1 >= len(args):
                    raise GradcliError(M("a language is needed: en or ko"), "--lang")
                chosen, i = args[i + 1], i + 2
            else:
                chosen, i = arg[len("--lang="):], i + 1
            if chosen not in LANGUAGES:
                raise GradcliError(M("unknown language {lang}: choose en or ko",
                                     lang=repr(chosen)), "--lang")
            continue
        rest.append(arg)
        i += 1
    if chosen is not None:
        set_language(chosen)
    return rest


def _prepare(command) -> None:
    """Show `--lang` in every command's help, and translate the tree when not English."""
    lang_option = next(p for p in command.params if p.name == "lang")
    for sub in getattr(command, "commands", {}).values():
        if all(p.name != "lang" for p in sub.params):
            shown = copy.copy(lang_option)
            shown.callback = None  # `main` has taken the value already
            sub.params.append(shown)
    from gradcli.i18n import language

    if language() != "en":
        from gradcli.i18n import clickhelp

        clickhelp.install()
        clickhelp.translate_tree(command)


def _command_name(args: list[str]) -> str | None:
    """The command word of a command line (`--lang X` and other options skipped)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--lang":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


# An expression may start with '-' (`-x**2`), as for derive.
def main(argv: list[str] | None = None) -> None:
    from gradcli import output

    output.install()
    try:
        args = _take_language(list(sys.argv[1:] if argv is None else argv))
    except GradcliError as exc:
        sys.exit(_fail(exc))
    # One BLAS thread: on a shared 2-core machine threaded BLAS makes the many
    # small products of a finite-difference check far slower, not faster.
    # `train` is the exception: it runs big products one after another, where the
    # machine's threads pay off, so it leaves these unset (decided before numpy loads).
    import os

    if _command_name(args) != "train":
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
    from gradcli import output

    output.install()  # characters the terminal cannot show become ASCII forms
    command = typer.main.get_command(app)
    _prepare(command)
    try:
        code = command.main(args=args, prog_name="gradcli", standalone_mode=False)
        code = streams.printed(streams.flush_stdout, code if isinstance(code, int) else 0)
    except Exception as exc:  # usage errors from the option parser
        message = getattr(exc, "format_message", None)
        if message is None:
            sys.exit(_fail(exc))
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `gradcli`: help is the message
            print(message())
            print("error: usage: " + _("no command given (see gradcli --help)"), file=sys.stderr)
            sys.exit(2)
        first = (message().strip().splitlines() or [""])[0]
        if language() != "en":
            from gradcli.i18n.clickhelp import usage_error

            first = usage_error(first)
        print("error: usage: " + _("{message} (see gradcli --help)", message=first),
              file=sys.stderr)
        code = 2
    except KeyboardInterrupt as exc:
        code = _fail(exc)
    sys.exit(code if isinstance(code, int) else 0)
