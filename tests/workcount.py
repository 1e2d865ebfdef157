"""Counting work instead of timing it: lines of gradcli's own code executed.

`lines_run(fn)` runs `fn()` under a tracer that counts the line events of
frames in the gradcli package (comprehensions included, library code such as
numpy or SymPy not).  The count is deterministic, so a test can say that the
work doubles when the input doubles (linear) instead of quadrupling
(quadratic), on any machine and under any load.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

import gradcli

PACKAGE = os.path.dirname(os.path.abspath(gradcli.__file__))


def lines_run(fn: Callable[[], Any]) -> tuple[int, Any]:
    """(line events in gradcli code while `fn()` ran, what `fn()` returned)."""
    count = 0
    mine: dict[Any, bool] = {}

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame, event, arg):
        code = frame.f_code
        inside = mine.get(code)
        if inside is None:
            inside = mine[code] = os.path.abspath(code.co_filename).startswith(PACKAGE)
        return local if inside else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = fn()
    finally:
        sys.settrace(previous)
    return count, result


def growth(make: Callable[[int], Callable[[], Any]], n: int) -> float:
    """lines(2n) / lines(n): about 2 for linear work, 4 for quadratic."""
    small, _ = lines_run(make(n))
    large, _ = lines_run(make(2 * n))
    return large / small
