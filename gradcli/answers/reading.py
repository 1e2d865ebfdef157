"""Reading `derive --answer [VAR=]ANSWER` and `--let NAME=EXPR` into one graph.

An answer is user text like any expression: it goes through the whitelist
parser with every limit, and a bad one is exit 2 with `--answer` as the
place (`error: --answer:7: ...`, the column counted in the option's value).
Students write their derivative the way their notes do, so a leading
`dy/dx =`, `f'(x) =`, `∂f/∂x =` or `d/dx =` is skipped (its variable decides
which derivative the answer is for, when `VAR=` is absent and several are
differentiated); `--let u=x**2+1` names a sub-expression an answer may use
(`3u^2 * 2x`).  Lets may use the expression's variables and earlier lets.

Everything lands in one `Graph` separate from the expression's: the lets
are parsed once and every answer that names one points at its root, so
SymPy sees the substitution already made and the engine evaluates it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from gradcli.errors import ExpressionError, GradcliError
from gradcli.graph import Graph
from gradcli.i18n import M
from gradcli.ops import CONSTANTS, FUNCTIONS
from gradcli.parse import caret_detail, is_identifier, normalize_name, parse

ANSWER, LET = "--answer", "--let"

_NAME = r"[^\W\d]\w*"


@cache
def _patterns() -> tuple[re.Pattern, re.Pattern]:
    """`x=` before an answer (an identifier, then '=' but not '=='), and what students
    write before their derivative: dy/dx =, ∂L/∂w3 =, d/dx =, f'(x) =, y' =
    (compiled on first use: most commands never read an answer)."""
    var = re.compile(rf"\s*({_NAME})\s*=(?!=)")
    prefix = re.compile(rf"""\s*(?:
          [d∂]\s*(?:{_NAME})?\s*/\s*[d∂]\s*(?P<wrt>{_NAME})(?:\s*\([^()=]*\))?
        | (?:{_NAME})\s*['′’]+\s*(?:\(\s*(?P<arg>{_NAME})?[^()=]*\))?
        )\s*=(?!=)""", re.VERBOSE)
    return var, prefix


@dataclass
class Answer:
    """One `--answer`: what was typed, for which variable, and its graph root."""

    item: str  # the option's value as typed
    given: str  # the answer expression itself (VAR= and the dy/dx = prefix removed)
    var: str | None  # VAR= as written (None: to be decided)
    hint: str | None  # the variable named by a dy/dx = prefix
    root: int = -1


@dataclass
class Answers:
    """Every answer and let of one derive call, over one graph."""

    graph: Graph
    by_var: dict[str, Answer] = field(default_factory=dict)  # variable -> its answer
    lets: dict[str, int] = field(default_factory=dict)  # let name -> root node


def read(variables: list[str], targets: list[str], answer_items: list[str],
         let_items: list[str]) -> Answers | None:
    """Parse and validate every `--let` and `--answer` (exit 2 on any problem);
    None when no answer was given."""
    if not answer_items:
        if let_items:
            raise GradcliError(M("names values for --answer, but no --answer was given"),
                               LET)
        return None
    out = Answers(Graph())
    known = set(variables)
    for item in let_items:
        _read_let(out, item, known)
    for item in answer_items:
        answer = _split(item)
        var = _decide(answer, targets, variables)
        if var in out.by_var:
            raise GradcliError(M("a second answer for {var}: give one --answer per variable",
                                 var=var), ANSWER)
        answer.root = _parse(out, item, _blank(item, answer.given), known, ANSWER).root
        out.by_var[var] = answer
    return out


def _split(item: str) -> Answer:
    """`[VAR=][dy/dx =] ANSWER` -> the parts (the answer text keeps its position)."""
    if not isinstance(item, str) or not item.strip():
        raise GradcliError(M("empty answer: write --answer [VAR=]ANSWER, e.g. "
                             "--answer \"x=6x(x^2+1)^2\""), ANSWER)
    var_pattern, prefix_pattern = _patterns()
    var, rest = None, 0
    match = var_pattern.match(item)
    if match:
        var, rest = normalize_name(match.group(1)), match.end()
    hint = None
    prefix = prefix_pattern.match(item, rest)
    if prefix:
        hint = prefix.group("wrt") or prefix.group("arg")
        hint = normalize_name(hint) if hint else None
        rest = prefix.end()
    given = item[rest:]
    if not given.strip():
        raise GradcliError(M("the answer after '=' is empty"), ANSWER)
    eq = given.find("=")
    if eq >= 0:
        col = rest + eq + 1
        raise ExpressionError(M("an answer is one expression: '=' here is not read (write "
                                "[VAR=]ANSWER, e.g. x=6x(x^2+1)^2)"), item, col, ANSWER)
    return Answer(item, given.strip(), var, hint)


def _blank(item: str, given: str) -> str:
    """The item with everything before the answer turned into spaces, so that the
    parser's columns are columns of the option's value."""
    start = item.rfind(given)
    return " " * start + item[start:]


def _decide(answer: Answer, targets: list[str], variables: list[str]) -> str:
    """The variable an answer is for: VAR=, else a dy/dx prefix, else the only one."""
    var = answer.var
    if var is None and answer.hint in targets:
        var = answer.hint
    if var is None:
        if len(targets) == 1:
            return targets[0]
        if not targets:
            raise GradcliError(M("the expression has no variables: there is no derivative to "
                                 "answer"), ANSWER)
        raise GradcliError(M("which derivative is '{answer}' for? Several variables are "
                             "differentiated ({names}): write VAR=ANSWER, e.g. {example}",
                             answer=answer.given, names=", ".join(targets),
                             example=f"{targets[0]}={answer.given}"), ANSWER)
    if var not in targets:
        if var in variables:
            raise GradcliError(M("'{var}' is not differentiated here (--wrt {names}): its "
                                 "answer cannot be checked", var=var,
                                 names=" --wrt ".join(targets)), ANSWER)
        raise GradcliError(M("'{var}' is not a variable of the expression (variables: "
                             "{names}); write VAR=ANSWER for one of them, or dy/dx = ANSWER",
                             var=var, names=", ".join(variables) or "none"), ANSWER)
    return var


def _as_product(name: str, known: set[str]) -> str | None:
    """`xy` -> `x*y` when the name is known names written side by side."""
    best: list[list[str] | None] = [[]] + [None] * len(name)
    for end in range(1, len(name) + 1):
        for start in range(end):
            part = name[start:end]
            if best[start] is not None and part in known:
                best[end] = best[start] + [part]
                break
    parts = best[len(name)]
    return "*".join(parts) if parts and len(parts) > 1 else None


def _read_let(out: Answers, item: str, known: set[str]) -> None:
    name, sep, body = item.partition("=") if isinstance(item, str) else ("", "", "")
    name = name.strip()
    if not sep or not name or not body.strip():
        raise GradcliError(M("expected NAME=EXPR, got '{item}' (e.g. --let u=x**2+1)",
                             item=item), LET)
    why = is_identifier(name)
    if why is not None:
        raise GradcliError(M("'{name}' cannot be a name: {why}", name=name, why=why), LET)
    name = normalize_name(name)
    if name in FUNCTIONS or name in CONSTANTS:
        raise GradcliError(M("'{name}' is a function or constant name and cannot be defined",
                             name=name), LET)
    if name in known:
        raise GradcliError(M("'{name}' is a variable of the expression; --let names a new "
                             "value (e.g. u)", name=name), LET)
    if name in out.lets:
        raise GradcliError(M("'{name}' is defined twice", name=name), LET)
    parsed = _parse(out, item, " " * (len(item) - len(body)) + body, known, LET)
    out.lets[name] = parsed.root


def _parse(out: Answers, item: str, text: str, known: set[str], option: str):
    """Parse `text` (the item with its head blanked) into the answers' graph."""
    graph = out.graph

    def resolve(name: str, col: int) -> int:
        if name in out.lets:
            return out.lets[name]
        if name in known:
            return graph.var(name, col)
        names = sorted(known) + list(out.lets)
        what = M("'{name}' is not a variable of the expression or a --let name (known: "
                 "{names})", name=name, names=", ".join(names) or "none")
        product = _as_product(name, set(names))
        if product:
            what = M("{what}; letters side by side are one name: for a product write "
                     "{product}", what=what, product=product)
        raise ExpressionError(what, item, col, option)

    first = len(graph)
    try:
        parsed = parse(text, graph, resolve, where=option, bound=known | set(out.lets))
        i = graph.first_tensor_op(parsed.root, first)
        if i is not None:
            node = graph.nodes[i]
            raise ExpressionError(M("{op} needs tensors: an answer to derive is a scalar "
                                    "expression", op=node.op), item, node.col, option)
    except GradcliError as exc:
        col = getattr(exc, "col", None)
        if col is not None:  # the caret under the item as typed, not the blanked text
            exc.detail = caret_detail(item, col)
        raise
    return parsed
