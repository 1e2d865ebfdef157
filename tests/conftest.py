"""Shared test data: the hostile expressions every front end must refuse, and hostile
network files.

Any test with a `hostile` argument is run once per expression below
(test_parse.py checks the parser, test_derive_cli.py the whole CLI); any test with a
`hostile_spec` argument once per file of HOSTILE_SPECS (test_hostile_specs.py).
"""
from __future__ import annotations

from typing import Callable

import pytest

#: (id, text): each must be refused with a GradcliError (exit 2), quickly.
HOSTILE: list[tuple[str, str]] = [
    ("import-call", "__import__('os').system('ls')"),
    ("class-bases", "().__class__.__bases__[0]"),
    ("attribute", "x.real"),
    ("dunder-attribute", "x.__class__"),
    ("subscript", "x[0]"),
    ("subscript-call", "exp(x)[0]"),
    ("lambda", "lambda: 1"),
    ("string", "'a'"),
    ("f-string", "f'{x}'"),
    ("bytes", "b'x'"),
    ("builtins", "__builtins__"),
    ("underscore-name", "_x"),
    ("ifexp", "x if y else z"),
    ("compare", "x < y"),
    ("is", "x is y"),
    ("boolop", "x and y"),
    ("list", "[x]"),
    ("tuple", "(x, y)"),
    ("dict", "{}"),
    ("set", "{x}"),
    ("comprehension", "[i for i in x]"),
    ("mod", "x % 2"),
    ("floordiv", "x // 2"),
    ("bitor", "x | y"),
    ("bitand", "x & y"),
    ("shift", "x << 2"),
    ("invert", "~x"),
    ("not", "not x"),
    ("unknown-function", "foo(x)"),
    ("eval", "eval('1')"),
    ("getattr", "getattr(x, 'y')"),
    ("two-args", "exp(x, y)"),
    ("keyword-arg", "exp(x=1)"),
    ("star-arg", "exp(*x)"),
    ("bare-function", "exp"),
    ("exp-10-10", "x**10**10"),
    ("power-tower", "9**9**9**9"),
    ("exp-100001", "x**100001"),
    ("exp-neg-20000", "2**-20000*x"),
    ("exp-caret", "x^20000"),
    ("exp-folded", "x**(100*100*100)"),
    ("exp-float", "x**1e5"),
    ("parens-10000", "(" * 10000 + "x" + ")" * 10000),
    ("parens-1001", "(" * 1001 + "x" + ")" * 1001),
    ("neg-100000", "-" * 99_990 + "x"),
    ("over-1MB", "x+" * 600_000 + "x"),
    ("over-100k", "x" * 100_001),
    ("nodes-50000", "x+" * 49_999 + "x"),
    ("empty", ""),
    ("whitespace", "   \t  "),
    ("unclosed", "(x+1"),
    ("unopened", "x+1)"),
    ("inf-literal", "1e999*x"),
    ("assign", "x = 1"),
    ("walrus", "(x := 1)"),
    ("semicolon", "x;y"),
    ("newline-statements", "x\ny"),
    ("import", "import os"),
    ("nul-byte", "x\x00"),
    ("complex", "1j*x"),
    ("bool", "True*x"),
    ("none", "None"),
    ("ellipsis", "..."),
    ("double-matmul", "x@@y"),
    ("digits-5000", "1" * 5000),
    ("digits-5000-times-x", "1" * 5000 + "*x"),
    ("await", "await x"),
    ("yield", "(yield x)"),
    # Issue 8: constant parts must be finite real float64 values.
    ("folded-9-9999", "9**9999"),
    ("folded-x-9-5000", "x*9**5000"),
    ("digits-401", "1" * 401),
    ("digits-401-times-x", "x*" + "1" * 401),
    ("log-0", "x + log(0)"),
    ("zero-over-zero", "x + 0/0"),
    ("one-over-zero", "x + 1/0"),
    ("bare-zero-over-zero", "0/0"),
    ("bare-log-0", "log(0)"),
    ("zero-to-negative", "0**-1"),
    ("times-nan", "x*(0/0)"),
    ("sqrt-negative", "x*sqrt(-4)"),
    ("log-negative", "x*log(-2)"),
    ("cube-root-negative", "(-8)**(1/3)"),
    ("exp-overflow", "x*exp(1000)"),
    ("escape-sequence", "x + \x1b[31m"),
    ("bidi-override", "x\u202e + y"),
    ("zero-width-space", "x\u200b + y"),
    # Issue 9: student notation that stays refused.
    ("function-without-parens", "sin x"),
    ("function-superscript", "sin²x"),
    ("function-caret-power", "sin^2(x)"),
    ("function-typo", "sinn(x)"),
    ("multi-letter-call", "xy(x+1)"),
    ("name-starting-with-digit", "٣x"),
    ("superscript-letter", "xⁿ"),
    ("hexadecimal", "0x1f"),
    ("number-after-operand", "x 2"),
    ("en-dash", "x – y"),
    ("operands-across-lines", "w x\n b"),
    # Issue 8: refused with stderr closed too, printing nothing on stdout.
    ("attribute-x-y", "x.y"),
]

HOSTILE_TEXTS = [text for _, text in HOSTILE]


def _net(x_shape: str, units: str, loss: str = "squared_error", y: str = "") -> str:
    y = y or f"{{shape: [{x_shape.split(',')[0].strip('[ ')}, 1]}}"
    layers = "".join(f"  - dense: {{units: {u}, activation: {a}}}\n"
                     for u, a in (part.split(":") for part in units.split()))
    return (f"inputs:\n  x: {{shape: {x_shape}}}\n  y: {y}\nlayers:\n{layers}"
            f"loss: {loss}\n")


def _sum_chain(p: int) -> str:
    terms = [f"  t{i}: tanh(w{i}*{1 + i % 7})\n" for i in range(p)]
    chain = ["  s0: t0\n"] + [f"  s{i}: s{i - 1} + t{i}\n" for i in range(1, p)]
    return ("params:\n" + "".join(f"  w{i}: 0.01\n" for i in range(p)) + "nodes:\n"
            + "".join(terms) + "".join(chain) + f"loss: s{p - 1}**2\n")


#: (id, a function writing the file's text, what its one error line says): hostile and
#: careless network files, each refused with exit 2 and the file named, quickly and
#: within a capped address space (tests/test_hostile_specs.py).
HOSTILE_SPECS: list[tuple[str, Callable[[], str], str]] = [
    # Issue 8: memory and work beyond the budget, refused with the estimate.
    ("batch-40M", lambda: _net("[40000000, 2]", "3:sigmoid 1:sigmoid"), "needs about"),
    ("units-9000-batch-100k", lambda: _net("[100000, 10]", "9000:sigmoid 1:sigmoid"),
     "needs about"),
    ("outer-product-50k", lambda: "inputs:\n  a: " + str([[1.0]] * 50_000)
     + "\nparams:\n  w: 1.0\nnodes:\n  c: a*transpose(a)*w\nloss: sum(c)\n",
     "needs about"),
    ("nodes-300k", lambda: "params:\n  w: 0.5\nnodes:\n"
     + "".join(f"  a{i}: w\n" for i in range(300_000)) + "loss: a0\n",
     "graphs of 50,000 nodes or more are refused"),
    ("inputs-50k-flow", lambda: "inputs: {" + ", ".join(f"a{i}: 1" for i in range(50_000))
     + "}\nparams:\n  w: 1.0\nloss: w*a0\n", "graph too large"),
    ("sum-chain-5000", lambda: _sum_chain(5000), "over the work budget"),
    # Issue 8: targets and outputs that would give wrong verdicts.
    ("ce-not-distribution", lambda: _net("[1, 2]", "3:softmax", "cross_entropy",
                                         "[[0.5, 0.9, 0.7]]"),
     "must be probability distributions"),
    ("softmax-one-unit", lambda: _net("[1, 2]", "1:softmax", "cross_entropy", "[[1]]"),
     "softmax over one unit is always 1"),
    ("bce-linear", lambda: _net("[2, 2]", "1:linear", "binary_cross_entropy", "[1, 0]"),
     "needs a sigmoid output layer"),
    # Issue 8: YAML numbers and keys said as written.
    ("node-hexadecimal", lambda: "params:\n  w: 2\nnodes:\n  n: 0x1F\nloss: n*w\n",
     "'0x1F' looks like a number in base 16"),
    ("value-nan", lambda: "params:\n  w: .nan\nloss: w\n", "'.nan' is not a finite number"),
    ("value-1e999", lambda: "params:\n  w: 1e999\nloss: w\n",
     "'1e999' is not a finite number"),
    ("sexagesimal", lambda: "params:\n  w: 1:30\nloss: w\n", "base-60"),
    ("yaml11-key-on", lambda: "params:\n  on: 1\nloss: on\n",
     "YAML 1.1 reads the key 'on' as true"),
    ("lr-overflow-in-file", lambda: "params:\n  w: 10\nloss: w**2\nlr: 1e300\n",
     "the loss after the gradient-descent update with lr 1e+300 is not a finite number"),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hostile" in metafunc.fixturenames:
        metafunc.parametrize("hostile", HOSTILE_TEXTS, ids=[i for i, _ in HOSTILE])
    if "hostile_spec" in metafunc.fixturenames:
        metafunc.parametrize("hostile_spec", [(make, said) for _, make, said in HOSTILE_SPECS],
                             ids=[i for i, _, _ in HOSTILE_SPECS])

