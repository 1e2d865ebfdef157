"""Shared test data: the hostile expressions every front end must refuse.

Any test with a `hostile` argument is run once per expression below
(test_parse.py checks the parser, test_derive_cli.py the whole CLI).
"""
from __future__ import annotations

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
    ("call-result", "sin(x)(y)"),
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
    ("non-ascii", "σ(x)"),
    ("nul-byte", "x\x00"),
    ("complex", "1j*x"),
    ("bool", "True*x"),
    ("none", "None"),
    ("ellipsis", "..."),
    ("double-matmul", "x@@y"),
    ("digits-5000", "1" * 5000),
    ("digits-5000-times-x", "1" * 5000 + "*x"),
    ("juxtaposed", "2x"),
    ("juxtaposed-paren", "2(x+1)"),
    ("await", "await x"),
    ("yield", "(yield x)"),
]

HOSTILE_TEXTS = [text for _, text in HOSTILE]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hostile" in metafunc.fixturenames:
        metafunc.parametrize("hostile", HOSTILE_TEXTS, ids=[i for i, _ in HOSTILE])

