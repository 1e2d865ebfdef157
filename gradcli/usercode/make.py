"""Command-line values for check-code, read without evaluating anything.

- `--make "Linear(3, 2)"`: one call of a class name with literal arguments
  (numbers, strings, True/False/None, tuples, lists, dicts, unary minus) and
  keyword arguments.  Python's `ast` only builds the syntax tree; a whitelist
  walker turns it into values.  Nothing is evaluated.
- `--input affine=4x3,3x2,2`: one shape per argument (`scalar` for a number).
- `--max-memory 2G`: a size with an optional K, M or G suffix (powers of 1024).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from gradcli.errors import GradcliError
from gradcli.i18n import M

MAX_MAKE_CHARS = 1000
MAX_DIMS = 8
MAX_ELEMENTS = 10_000_000


@dataclass
class Make:
    """A parsed `--make`: the class name, literal arguments, and the text as given."""

    name: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def parse_make(source: str) -> Make:
    where = "--make"
    text = source.strip()
    if len(text) > MAX_MAKE_CHARS:
        raise GradcliError(M("longer than {limit} characters", limit=MAX_MAKE_CHARS), where)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise GradcliError(M("not a call such as \"Linear(3, 2)\": {why}", why=exc.msg),
                           where) from None
    call = tree.body
    if isinstance(call, ast.Name):
        return Make(call.id, text=text)
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise GradcliError(M("expected one call of a class name, such as \"Linear(3, 2)\""),
                           where)
    args = []
    for node in call.args:
        if isinstance(node, ast.Starred):
            raise GradcliError(M("*arguments are not allowed"), where)
        args.append(literal(node, where))
    kwargs = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise GradcliError(M("**arguments are not allowed"), where)
        kwargs[kw.arg] = literal(kw.value, where)
    return Make(call.func.id, args, kwargs, text)


def literal(node: ast.AST, where: str, depth: int = 0) -> Any:
    """The value of a literal node (whitelist; anything else is refused)."""
    if depth > 20:
        raise GradcliError(M("nested too deeply"), where)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) \
            or isinstance(node, ast.Constant) and node.value is None:
        if isinstance(node.value, int) and not isinstance(node.value, bool) \
                and abs(node.value) > 10**12:
            raise GradcliError(M("the number {value} is too large", value=node.value), where)
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) \
            and not isinstance(node.operand.value, bool):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [literal(e, where, depth + 1) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise GradcliError(M("**arguments are not allowed"), where)
        return {literal(k, where, depth + 1): literal(v, where, depth + 1)
                for k, v in zip(node.keys, node.values)}
    raise GradcliError(M("only literal arguments are allowed (numbers, strings, tuples, "
                         "lists, dicts), not {what}", what=type(node).__name__), where)


_SHAPE = re.compile(r"^\d+(x\d+)*$")


def parse_input(source: str) -> tuple[str, list[tuple[int, ...]]]:
    """`NAME=4x3,3x2,2` -> (NAME, [(4, 3), (3, 2), (2,)]); `scalar` is the shape ()."""
    where = "--input"
    name, sep, shapes = source.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise GradcliError(M("expected NAME=SHAPE,SHAPE,... such as affine=4x3,3x2,2, got "
                             "{text!r}", text=source), where)
    out = []
    for part in shapes.split(","):
        part = part.strip().lower()
        if part in ("scalar", "()"):
            out.append(())
            continue
        if not _SHAPE.match(part):
            raise GradcliError(M("{part!r} is not a shape such as 4x3 (or scalar)", part=part),
                               where)
        dims = tuple(int(d) for d in part.split("x"))
        size = 1
        for d in dims:
            size *= d
        if len(dims) > MAX_DIMS or size > MAX_ELEMENTS or 0 in dims:
            raise GradcliError(M("shape {part} is empty or too large (at most {limit} "
                                 "elements in {dims} dimensions)", part=part,
                                 limit=MAX_ELEMENTS, dims=MAX_DIMS), where)
        out.append(dims)
    return name, out


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*$", re.IGNORECASE)


def parse_size(source: str, where: str = "--max-memory") -> int:
    """`2G` -> 2147483648 bytes (K, M, G are powers of 1024; no suffix: bytes)."""
    m = _SIZE.match(source)
    if not m:
        raise GradcliError(M("expected a size such as 512M or 2G, got {text!r}", text=source),
                           where)
    value = float(m.group(1)) * 1024 ** " KMG".index((m.group(2) or " ").upper())
    if value < 64 * 1024**2:
        raise GradcliError(M("{text} is too small to run Python (at least 64M)", text=source),
                           where)
    return int(value)
