"""Text -> expression graph, by walking Python's `ast` with a whitelist.

User text is never evaluated: `ast.parse` only builds a syntax tree, and this
module accepts numbers, names, `+ - * / ** @`, unary minus and calls of the
functions in the op table.  Everything else (attributes, subscripts,
lambdas, strings, comparisons, ...) is refused with its column.  `^` is
power, as in the textbooks, so it is rewritten to `**` before parsing (with
a column map back to the user's text).
"""
from __future__ import annotations

import ast
import bisect
import difflib
import math
import re
import sys
from dataclasses import dataclass
from typing import Callable

from gradcli.errors import ExpressionError, LimitError, locate
from gradcli.graph import Graph
from gradcli.ops import CONSTANTS, FUNCTIONS, OPS, function_names

MAX_LENGTH = 100_000  # characters; longer text is refused
MAX_DEPTH = 1_000  # nesting depth; deeper is refused
MAX_EXPONENT = 10_000  # magnitude of a literal exponent; larger is refused

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
           ast.Pow: "pow", ast.MatMult: "matmul"}
_LEFT_ASSOC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.MatMult)
_OPERATOR_TEXT = {ast.Mod: "%", ast.FloorDiv: "//", ast.BitOr: "|", ast.BitAnd: "&",
                  ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
                  ast.Invert: "~", ast.Not: "not"}
_REFUSED = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "indexing and slicing are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.FormattedValue: "strings are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.List: "lists are not allowed in an expression (put tensors in the YAML values)",
    ast.Tuple: "tuples are not allowed (one expression at a time)",
    ast.Dict: "dictionaries are not allowed",
    ast.Set: "sets are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.NamedExpr: "assignment is not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slicing is not allowed",
}

Resolver = Callable[[str, int], int]


@dataclass
class Parsed:
    graph: Graph
    root: int
    text: str


def parse(text: str, graph: Graph | None = None, resolve: Resolver | None = None,
          where=None) -> Parsed:
    """Parse `text` into `graph` (a new one by default) and return its root.

    `resolve(name, col)` maps a name to a node id; by default every name is a
    free variable of the graph.  `where` prefixes error locations (a file and
    line) instead of "column N".
    """
    graph = graph if graph is not None else Graph()
    if resolve is None:
        def resolve(name: str, col: int) -> int:
            return graph.var(name, col)
    source, caret_positions = _prepare(text, where)
    tree = _syntax_tree(text, source, caret_positions, where)
    walker = _Walker(text, caret_positions, graph, resolve, where)
    root = walker.walk(tree.body)
    return Parsed(graph, root, text)


# ------------------------------------------------------------ preparation ---
def _prepare(text: str, where) -> tuple[str, list[int]]:
    if not isinstance(text, str):
        raise ExpressionError("expression must be text", where=where)
    if len(text) > MAX_LENGTH:
        raise LimitError(f"expression too long: {len(text):,} characters "
                         f"(the limit is {MAX_LENGTH:,})", locate(where, None))
    if not text.strip():
        raise ExpressionError("empty expression", where=where)
    for i, ch in enumerate(text):
        if not ch.isascii() or (ord(ch) < 32 and ch not in "\t\n\r"):
            shown = ch.encode("unicode_escape").decode()
            hint = " (spell Greek letters out: sigma, theta)" if ch.isalpha() else ""
            raise ExpressionError(f"character '{shown}' is not allowed{hint}", text, i + 1, where)
    # Line breaks (from multi-line YAML values) are spaces: columns stay put.
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise LimitError(f"expression nested too deeply: more than {MAX_DEPTH:,} "
                                 f"levels of parentheses", _loc(where, i + 1))
        elif ch == ")":
            depth -= 1
    # '^' is power: rewrite to '**' and remember where, to map columns back.
    pieces, carets = [], []
    out_len = 0
    for ch in text:
        if ch == "^":
            carets.append(out_len)
            pieces.append("**")
            out_len += 2
        else:
            pieces.append(ch)
            out_len += 1
    return "".join(pieces), carets


def _loc(where, col: int) -> str:
    return locate(where, col)


def _original_col(offset: int, carets: list[int]) -> int:
    """1-based column in the user's text of a 0-based offset in the rewritten text."""
    return offset - bisect.bisect_left(carets, offset) + 1


_JUXTAPOSED = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)([A-Za-z_]\w*|\()")


def _syntax_tree(text: str, source: str, carets: list[int], where) -> ast.Expression:
    old_limit = sys.getrecursionlimit()
    try:
        # CPython builds long left-leaning chains (x+x+...+x) recursively.
        sys.setrecursionlimit(max(old_limit, 60_000))
        return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if "nested parentheses" in str(exc.msg):
            raise LimitError("expression nested too deeply (at most 200 levels of "
                             "parentheses are supported)", locate(where, None)) from None
        col = _original_col((exc.offset or 1) - 1, carets) if exc.offset else None
        col = min(col, len(text)) if col else len(text.rstrip()) or 1
        m = _JUXTAPOSED.search(text)
        if m and (col is None or m.start() <= col):
            raise ExpressionError(
                f"'{m.group(0)}' is not valid: did you mean {m.group(1)}*{m.group(2)}?",
                text, m.start(2) + 1, where) from None
        msg = exc.msg or "invalid syntax"
        if "digits" in msg:
            msg = "number literal too long"
        elif msg.startswith("invalid syntax"):
            msg = "invalid syntax"
        elif "was never closed" in msg or "unmatched" in msg or "does not match" in msg:
            msg = f"unbalanced parentheses: {msg}"
        raise ExpressionError(msg, text, col, where) from None
    except (MemoryError, RecursionError):
        raise LimitError(f"expression nested too deeply (the limit is {MAX_DEPTH:,} levels)",
                         locate(where, None)) from None
    finally:
        sys.setrecursionlimit(old_limit)


# ------------------------------------------------------------------ walker ---
class _Walker:
    """Iterative post-order walk from the AST to graph nodes."""

    def __init__(self, text: str, carets: list[int], graph: Graph,
                 resolve: Resolver, where):
        self.text = text
        self.carets = carets
        self.graph = graph
        self.resolve = resolve
        self.where = where

    def col(self, node: ast.AST) -> int:
        return _original_col(getattr(node, "col_offset", 0), self.carets)

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(message, self.text, self.col(node), self.where)

    def walk(self, top: ast.AST) -> int:
        # result[id(ast node)] = (graph node id, constant value or None)
        result: dict[int, tuple[int, float | None]] = {}
        stack: list[tuple[ast.AST, int, bool]] = [(top, 1, False)]
        while stack:
            node, depth, expanded = stack.pop()
            if depth > MAX_DEPTH:
                raise LimitError(f"expression nested too deeply (the limit is "
                                 f"{MAX_DEPTH:,} levels)", _loc(self.where, self.col(node)))
            if not expanded:
                children = self.children(node)
                stack.append((node, depth, True))
                for child in reversed(children):
                    same_level = (isinstance(node, ast.BinOp) and child is node.left
                                  and isinstance(node.op, _LEFT_ASSOC)
                                  and isinstance(child, ast.BinOp)
                                  and isinstance(child.op, _LEFT_ASSOC))
                    stack.append((child, depth if same_level else depth + 1, False))
            else:
                result[id(node)] = self.build(node, result)
                for child in self.children(node):
                    del result[id(child)]
        return result[id(top)][0]

    def children(self, node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.BinOp):
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            return [node.operand]
        if isinstance(node, ast.Call):
            self.check_call(node)
            return list(node.args)
        if isinstance(node, (ast.Constant, ast.Name)):
            return []
        raise self.fail(self.refusal(node), node)

    def refusal(self, node: ast.AST) -> str:
        for kind, message in _REFUSED.items():
            if isinstance(node, kind):
                return message
        return f"'{type(node).__name__}' is not allowed in an expression"

    def check_call(self, node: ast.Call) -> None:
        func = node.func
        if (isinstance(func, ast.Constant) and isinstance(func.value, (int, float))
                and not isinstance(func.value, bool)):
            start = self.col(func) - 1
            end = _original_col(getattr(func, "end_col_offset", 0), self.carets) - 1
            number = self.text[start:end] if end > start else repr(func.value)
            raise ExpressionError(f"'{number}(' is not valid: did you mean {number}*(...)?",
                                  self.text, end + 1 if end > start else self.col(node),
                                  self.where)
        if not isinstance(func, ast.Name):
            raise self.fail("only plain function calls like exp(x) are allowed", node)
        name = func.id
        if name.startswith("_"):
            raise self.fail(f"names starting with '_' are not allowed ('{name}')", node)
        if name not in FUNCTIONS:
            close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise self.fail(f"unknown function '{name}'; {hint}known functions: "
                            f"{', '.join(function_names())}", node)
        if node.keywords:
            raise self.fail(f"{name}() takes no keyword arguments", node)
        arity = OPS[FUNCTIONS[name]].arity
        if len(node.args) != arity:
            raise self.fail(f"{name}() takes {arity} argument{'s' if arity > 1 else ''}, "
                            f"got {len(node.args)}", node)

    def build(self, node: ast.AST, result: dict) -> tuple[int, float | None]:
        g = self.graph
        col = self.col(node)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                kind = "strings are" if isinstance(value, (str, bytes)) else f"'{value!r}' is"
                raise self.fail(f"{kind} not allowed; only numbers", node)
            number = float(value)
            if not math.isfinite(number):
                raise self.fail("number too large (not finite)", node)
            return g.const(number, col), number
        if isinstance(node, ast.Name):
            name = node.id
            if name.startswith("_"):
                raise self.fail(f"names starting with '_' are not allowed ('{name}')", node)
            if name in CONSTANTS:
                nid = g.const(CONSTANTS[name], col)
                g.nodes[nid].name = name
                return nid, CONSTANTS[name]
            if name in FUNCTIONS:
                raise self.fail(f"'{name}' is a function: call it as {name}(...)", node)
            return self.resolve(name, col), None
        if isinstance(node, ast.UnaryOp):
            arg, value = result[id(node.operand)]
            if isinstance(node.op, ast.USub):
                return g.apply("neg", arg, col=col), (None if value is None else -value)
            if isinstance(node.op, ast.UAdd):
                return arg, value
            raise self.fail(f"operator '{_OPERATOR_TEXT.get(type(node.op), '?')}' "
                            f"is not supported", node)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                text = _OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)
                raise ExpressionError(f"operator '{text}' is not supported "
                                      f"(use + - * / ** ^ @)", self.text, self.op_col(node),
                                      self.where)
            left, lvalue = result[id(node.left)]
            right, rvalue = result[id(node.right)]
            if op == "pow" and rvalue is not None and abs(rvalue) > MAX_EXPONENT:
                raise LimitError(f"exponent too large: {rvalue:.6g} (literal exponents "
                                 f"are limited to {MAX_EXPONENT:,} in magnitude)",
                                 _loc(self.where, self.col(node.right)))
            nid = g.apply(op, left, right, col=self.op_col(node))
            return nid, _fold(op, lvalue, rvalue)
        if isinstance(node, ast.Call):
            name = node.func.id  # checked in check_call
            args = [result[id(a)][0] for a in node.args]
            return g.apply(FUNCTIONS[name], *args, col=col), None
        raise self.fail(self.refusal(node), node)

    def op_col(self, node: ast.BinOp) -> int:
        """Column of a binary operator's symbol, for errors at that operation."""
        start = getattr(node.left, "end_col_offset", None)
        if start is None:
            return self.col(node)
        i = _original_col(start, self.carets) - 1
        while i < len(self.text) and self.text[i] in " )\t":
            i += 1
        return i + 1


def _fold(op: str, a: float | None, b: float | None) -> float | None:
    """The value of a constant subexpression, if cheap and finite (else None)."""
    if a is None or b is None:
        return None
    try:
        if op == "add":
            v = a + b
        elif op == "sub":
            v = a - b
        elif op == "mul":
            v = a * b
        elif op == "div":
            v = a / b
        elif op == "pow":
            v = math.pow(a, b)
        else:
            return None
    except (ArithmeticError, ValueError):
        return math.inf  # e.g. 10**400: never a usable exponent
    return v
