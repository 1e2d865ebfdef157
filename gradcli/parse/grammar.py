"""Tokens -> graph nodes, by operator precedence with two explicit stacks.

A shunting-yard parser: `operands` holds finished sub-expressions, `frames`
the operators, parentheses and calls still open.  Nothing recurses, so a
10,000-term sum or 1,000 nested parentheses cost one loop step per token
on any thread's stack; nesting is counted (parentheses, calls, signs and
powers each open one level) and refused past MAX_DEPTH.

Python's precedence and associativity, lowest first:

    + -  (binary)              left
    * / @  and juxtaposition   left    (`1/2x` is `(1/2)*x`)
    - + √  (prefix)                    (`-x**2` is `-(x**2)`, `√2x` is `sqrt(2)*x`)
    ** ^                       right   (`2**x**2` is `2**(x**2)`; `x**-2` allowed)
    ² ᵀ    (postfix)                   bind to the operand just read

Each operator becomes a node as soon as both its operands are known, in
the order the user wrote them (arguments before their users, as
`gradcli.graph` requires); constant parts are folded alongside
(`gradcli.parse.fold`) to check them and to limit exponents.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable, Collection

from gradcli.errors import LimitError
from gradcli.graph import Graph
from gradcli.i18n import M, Msg
from gradcli.ops import CONSTANTS, FUNCTIONS, OPS, function_names
from gradcli.parse import fold, refusals
from gradcli.parse.lexer import (COMMA, CONSTANT_ALIASES, END, FUNCTION_ALIASES, LPAREN, NAME,
                                 NUM, OP, RPAREN, SQRT, SUP, SYM, TRANSPOSE, Token, tokens)
from gradcli.parse.limits import MAX_DEPTH, MAX_EXPONENT, MAX_NUMBER
from gradcli.parse.refusals import Refused, shown

Resolver = Callable[[str, int], int]

BIN, UNARY, PAREN, CALL = "bin", "unary", "paren", "call"
_BINARY = {"+": ("add", 1), "-": ("sub", 1), "*": ("mul", 2), "/": ("div", 2),
           "@": ("matmul", 2), "**": ("pow", 4)}
_PREFIX = {"-": "neg", "+": "pos", "√": "sqrt"}
_PREFIX_PRECEDENCE = 3
_PRODUCT_PRECEDENCE = 2
_STARTS_OPERAND = (NUM, NAME, LPAREN, SQRT)


@dataclass(slots=True)
class Operand:
    node: int
    value: float | None  # the folded value of a constant part, else None
    start: int  # its span in the text, for messages that quote it
    end: int


@dataclass(slots=True)
class Frame:
    kind: str  # BIN, UNARY, PAREN or CALL
    op: str  # the graph op ("add", "neg", "sin", ...); "pos" adds no node
    prec: int
    start: int  # offset of the operator, '(' or function name
    label: str  # CALL: the function as written ('σ', 'ln'); else '' or '('
    base: int = 0  # PAREN and CALL: the operand count when opened
    paren: int = 0  # CALL: offset of its '('
    nests: bool = False  # opens a nesting level (counted against MAX_DEPTH)


class Parser:
    """One use: `Parser(...).run()` returns the root node id."""

    def __init__(self, text: str, graph: Graph, resolve: Resolver, bound: Collection[str]):
        self.text = text
        self.graph = graph
        self.resolve = resolve
        # normalised on first use only: a file's 50,000 names are passed to every one
        # of its expressions, and most never ask (`NAME(` is rare)
        self._bound_given = bound
        self._bound: frozenset[str] | None = None
        self.operands: list[Operand] = []
        self.frames: list[Frame] = []
        self.depth = 0
        self.steps = 0  # tokens read plus operators applied: the work done
        self.stream = tokens(text)
        self.peeked: Token | None = None
        self.prev: Token | None = None  # the token before the current one
        self.pending_call: Token | None = None  # a function name waiting for its '('
        self.closed_call = False  # the last ')' closed a function call

    # ------------------------------------------------------------ driver ---
    def run(self) -> int:
        tok = self.next()
        want_operand = True
        while True:
            if want_operand:
                want_operand = self.operand(tok)
            elif tok.kind == END:
                break
            else:
                want_operand, again = self.after(tok)
                if again:  # juxtaposition: read the same token as the next factor
                    continue
            self.prev = tok
            tok = self.next()
        while self.frames:
            frame = self.frames.pop()
            if frame.kind in (PAREN, CALL):
                raise Refused(M("unbalanced parentheses: '(' is never closed"),
                              frame.paren if frame.kind == CALL else frame.start)
            self.apply(frame)
        return self.operands[-1].node

    def next(self) -> Token:
        self.steps += 1
        if self.peeked is not None:
            tok, self.peeked = self.peeked, None
            return tok
        return next(self.stream)

    def peek(self) -> Token:
        if self.peeked is None:
            self.peeked = next(self.stream)
        return self.peeked

    def written(self, tok: Token | None) -> str | None:
        return None if tok is None or tok.kind == END else shown(self.text[tok.start:tok.end])

    # ---------------------------------------------- where an operand goes ---
    def operand(self, tok: Token) -> bool:
        """Read `tok` where an operand must start; True while one is still needed."""
        kind = tok.kind
        if kind == NUM:
            self.number(tok)
            return False
        if kind == NAME:
            return self.name(tok)
        if kind == LPAREN:
            self.open(tok)
            return True
        if (kind == OP and tok.text in "+-") or kind == SQRT:
            self.push(Frame(UNARY, _PREFIX[tok.text], _PREFIX_PRECEDENCE, tok.start, "",
                            nests=True))
            return True
        top = self.frames[-1] if self.frames else None
        if kind == RPAREN and top is not None and self.prev is not None and self.prev.kind == LPAREN:
            if top.kind == CALL:
                self.close(tok)
                return False
            raise Refused(M("empty parentheses: expected an expression inside '()'"), top.start)
        if kind == SYM:
            raise Refused(refusals.symbol(tok.text, False, self.open_call()), tok.start)
        if (kind == OP and tok.text in ("*", "**") and top is not None and top.kind == CALL
                and self.prev is not None and self.prev.kind in (LPAREN, COMMA)):
            raise Refused(M("starred arguments are not allowed"), tok.start)
        if kind == SUP or kind == TRANSPOSE:
            raise Refused(M("a superscript must follow a number, a name or ')'"), tok.start)
        if kind == END and self.prev is None:
            raise Refused(refusals.expected_operand(None, None), None)
        at = self.prev.end if kind == END else tok.start  # the end: right after the last token
        raise Refused(refusals.expected_operand(self.written(self.prev), self.written(tok)), at)

    def number(self, tok: Token) -> None:
        value = tok.value
        if not abs(value) <= MAX_NUMBER:
            raise Refused(fold.number_message(tok.text, value), tok.start, limit=True)
        node = self.new_node(self.graph.const, value, tok.start + 1, at=tok.start)
        self.operands.append(Operand(node, value, tok.start, tok.end))

    def name(self, tok: Token) -> bool:
        name = tok.text
        function = FUNCTIONS.get(FUNCTION_ALIASES.get(name, name))
        nxt = self.peek()
        if function is not None:
            if nxt.kind != LPAREN:
                raise Refused(self.uncalled(tok, nxt), tok.start)
            self.pending_call = tok
            return True
        constant = CONSTANT_ALIASES.get(name, name)
        if constant in CONSTANTS:
            value = CONSTANTS[constant]
            node = self.new_node(self.graph.const, value, tok.start + 1, at=tok.start)
            self.graph.nodes[node].name = constant
            self.operands.append(Operand(node, value, tok.start, tok.end))
            return False
        if nxt.kind == LPAREN and not self.multiplies(name):
            raise Refused(unknown_function(name), tok.start)
        node = self.new_node(self.resolve, name, tok.start + 1, at=tok.start)
        self.operands.append(Operand(node, None, tok.start, tok.end))
        return False

    def multiplies(self, name: str) -> bool:
        """`NAME(` is a product: a single letter with optional digits (`x(x+1)`,
        `w1(x+1)`) or a name the caller binds."""
        single = name[0].isalpha() and (len(name) == 1 or name[1:].isdigit() and name[1:].isascii())
        # the names as given first: file names are ASCII, which NFKC leaves unchanged
        return single or name in self._bound_given or name in self.bound

    @property
    def bound(self) -> frozenset[str]:
        if self._bound is None:
            self._bound = frozenset(unicodedata.normalize("NFKC", b) for b in self._bound_given)
        return self._bound

    def uncalled(self, tok: Token, nxt: Token) -> Msg:
        """A function name not followed by '(' (`sin x`, `sin²x`, `sin^2(x)`, `exp + 1`)."""
        fn = self.written(tok)
        if nxt.kind == SUP or (nxt.kind == OP and nxt.text == "**"):
            return M("a power of a function is written after the call: write {fn}(x)**2, "
                     "not {fn}{power}...", fn=fn, power=self.written(nxt))
        if nxt.kind in _STARTS_OPERAND:
            return M("'{fn}' needs parentheses around its argument: write {fn}(x) "
                     "(and {fn}(x)**2 for its square)", fn=fn)
        return M("'{fn}' is a function: call it as {fn}(...)", fn=fn)

    def open(self, tok: Token) -> None:
        call, self.pending_call = self.pending_call, None
        base = len(self.operands)
        if call is None:
            self.push(Frame(PAREN, "", 0, tok.start, "(", base=base, nests=True))
        else:
            op = FUNCTIONS[FUNCTION_ALIASES.get(call.text, call.text)]
            self.push(Frame(CALL, op, 0, call.start, self.written(call), base=base,
                            paren=tok.start, nests=True))

    def push(self, frame: Frame) -> None:
        if frame.nests:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise Refused(M("expression nested too deeply: more than {limit} levels of "
                                "parentheses, calls, signs or powers",
                                limit=f"{MAX_DEPTH:,}"), frame.start, limit=True)
        self.frames.append(frame)

    def open_call(self) -> str | None:
        """The function whose argument list is innermost open, if any."""
        for frame in reversed(self.frames):
            if frame.kind in (PAREN, CALL):
                return frame.label if frame.kind == CALL else None
        return None

    # ------------------------------------------------ after an operand ---
    def after(self, tok: Token) -> tuple[bool, bool]:
        """Read `tok` right after an operand: (operand needed next, read `tok` again)."""
        kind = tok.kind
        if kind == OP:
            op, prec = _BINARY[tok.text]
            self.reduce(prec, right=(op == "pow"))
            self.push(Frame(BIN, op, prec, tok.start, "", nests=(op == "pow")))
            return True, False
        if kind == SUP or kind == TRANSPOSE:
            self.postfix(tok)
            return False, False
        if kind == RPAREN:
            self.close(tok)
            return False, False
        if kind == COMMA:
            self.reduce_group(tok)
            if self.frames[-1].kind != CALL:
                raise Refused(M("tuples are not allowed (one expression at a time)"), tok.start)
            return True, False
        if kind in _STARTS_OPERAND:
            self.juxtapose(tok)
            return True, True
        # SYM: `x.real` and `x[0]` are blamed on the operand they follow
        at = self.operands[-1].start if tok.text in (".", "[") else tok.start
        raise Refused(refusals.symbol(tok.text, True, self.open_call()), at)

    def juxtapose(self, tok: Token) -> None:
        """Operands side by side multiply (`2x`, `w x`, `(x+1)(x-1)`), like `*`."""
        if tok.newline:
            raise Refused(M("two operands on separate lines: write an operator between them "
                            "(a line break does not multiply)"), tok.start)
        if tok.kind == NUM:
            raise Refused(M("expected an operator before the number {number} (a number "
                            "multiplies without '*' only in front, as in 2x)",
                            number=self.written(tok)), tok.start)
        self.reduce(_PRODUCT_PRECEDENCE, right=False)
        self.push(Frame(BIN, "mul", _PRODUCT_PRECEDENCE, tok.start, ""))

    def postfix(self, tok: Token) -> None:
        """`x²` (a power with a literal exponent) or `xᵀ`: bind to the last operand."""
        base = self.operands.pop()
        if tok.kind == TRANSPOSE:
            node = self.new_node(self.graph.apply, "transpose", base.node,
                                 col=tok.start + 1, at=tok.start)
            value = self.folded("transpose", (base.value,), base.start, tok.end, tok.start)
        else:
            exponent = tok.value
            if abs(exponent) > MAX_EXPONENT:
                raise Refused(exponent_message(exponent), tok.start, limit=True)
            power = self.new_node(self.graph.const, exponent, tok.start + 1, at=tok.start)
            node = self.new_node(self.graph.apply, "pow", base.node, power,
                                 col=tok.start + 1, at=tok.start)
            value = self.folded("pow", (base.value, exponent), base.start, tok.end, tok.start)
        self.operands.append(Operand(node, value, base.start, tok.end))

    def close(self, tok: Token) -> None:
        """')': finish the innermost group or call."""
        self.reduce_group(tok)
        frame = self.frames.pop()
        self.depth -= 1
        if frame.kind == PAREN:
            inner = self.operands[-1]
            inner.start, inner.end = frame.start, tok.end
            self.closed_call = False
            return
        self.call(frame, tok)
        self.closed_call = True

    def call(self, frame: Frame, tok: Token) -> None:
        got = len(self.operands) - frame.base
        arity = OPS[frame.op].arity
        if got != arity:
            what = (M("{name}() takes 1 argument, got {got}", name=frame.label, got=got)
                    if arity == 1 else
                    M("{name}() takes {arity} arguments, got {got}", name=frame.label,
                      arity=arity, got=got))
            raise Refused(what, frame.start)
        args = self.operands[frame.base:]
        del self.operands[frame.base:]
        node = self.new_node(self.graph.apply, frame.op, *(a.node for a in args),
                             col=frame.start + 1, at=frame.start)
        value = self.folded(frame.op, [a.value for a in args], frame.start, tok.end, frame.start)
        self.operands.append(Operand(node, value, frame.start, tok.end))

    # --------------------------------------------------------- reducing ---
    def reduce(self, prec: int, right: bool) -> None:
        """Apply the pending operators that bind tighter than an incoming one."""
        frames = self.frames
        while frames:
            top = frames[-1]
            if top.kind not in (BIN, UNARY) or top.prec < prec or (top.prec == prec and right):
                return
            self.apply(frames.pop())

    def reduce_group(self, tok: Token) -> None:
        """Apply every operator inside the innermost '(' (for ')' and ',')."""
        frames = self.frames
        while frames and frames[-1].kind in (BIN, UNARY):
            self.apply(frames.pop())
        if not frames:
            raise Refused(M("unbalanced parentheses: ')' has no matching '('"), tok.start)

    def apply(self, frame: Frame) -> None:
        self.steps += 1
        if frame.nests:
            self.depth -= 1
        if frame.kind == UNARY:
            arg = self.operands.pop()
            if frame.op == "pos":
                self.operands.append(Operand(arg.node, arg.value, frame.start, arg.end))
                return
            node = self.new_node(self.graph.apply, frame.op, arg.node,
                                 col=frame.start + 1, at=frame.start)
            value = self.folded(frame.op, (arg.value,), frame.start, arg.end, frame.start)
            self.operands.append(Operand(node, value, frame.start, arg.end))
            return
        right = self.operands.pop()
        left = self.operands.pop()
        if frame.op == "pow" and right.value is not None and abs(right.value) > MAX_EXPONENT:
            raise Refused(exponent_message(right.value), right.start, limit=True)
        node = self.new_node(self.graph.apply, frame.op, left.node, right.node,
                             col=frame.start + 1, at=frame.start)
        value = self.folded(frame.op, (left.value, right.value), left.start, right.end,
                            frame.start)
        self.operands.append(Operand(node, value, left.start, right.end))

    def folded(self, op: str, values, start: int, end: int, at: int) -> float | None:
        try:
            return fold.fold(op, values)
        except fold.NoValue as problem:
            what = fold.message(problem, shown(self.text[start:end].strip()))
            raise Refused(what, at, limit=problem.kind == "large") from None

    def new_node(self, make: Callable[..., int], *args, at: int, **kw) -> int:
        """A graph node; the graph's size limit is reported at `at` in the text."""
        try:
            return make(*args, **kw)
        except LimitError as exc:
            raise Refused(exc.what, at, limit=True) from None


def exponent_message(value: float) -> Msg:
    return M("exponent too large: {value} (literal exponents are limited to {limit} "
             "in magnitude)", value=f"{value:.6g}", limit=f"{MAX_EXPONENT:,}")


def unknown_function(name: str) -> Msg:
    import difflib  # only on this error path: keeps it off the start-up path

    known = function_names()
    close = difflib.get_close_matches(name, known, n=1)
    hint = M("did you mean {close}? ", close=close[0]) if close else ""
    return M("unknown function '{name}'; {hint}known functions: {known}; to multiply, "
             "write {name}*(...)", name=name, hint=hint, known=", ".join(known))
