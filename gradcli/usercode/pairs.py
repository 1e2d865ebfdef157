"""Function pairs: `f` beside `f_grad`/`grad_f`, and CS231n `NAME_forward`/`NAME_backward`.

- `f(*args)` returns a number; the gradient function takes the same
  arguments and returns the gradient of each (one array, or a tuple in
  argument order).
- `NAME_forward(x, w, ...)` returns `(out, cache)`; `NAME_backward(dout,
  cache)` returns the gradient of each array argument in order; the
  objective is `sum(out * dout)` per batch row.

Float arrays and Python floats are perturbed; integers, integer arrays
(labels, indices), dicts (`conv_param`) and other values are passed through
unchanged.  Shapes come from `--input NAME=4x3,3x2,2`, else from a few
guesses (CS231n names: x (4, 3), w (3, 5), b (5,); all (4, 3); numbers).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gradcli.i18n import M
from gradcli.usercode.arrays import Target
from gradcli.usercode.context import Context
from gradcli.usercode.layers import (Unusable, _scalar, as_output, nondeterministic,
                                     per_row, run_target, same_twice)
from gradcli.usercode.results import ComponentResult, GradCheck


@dataclass
class Arg:
    name: str
    value: Any  # a float64 buffer when perturbed, else the value passed as is
    perturb: bool
    scalar: bool = False  # a Python float: passed as float(buffer)

    def passed(self) -> Any:
        if not self.perturb:
            return self.value
        return float(self.value) if self.scalar else self.value.copy()


def make_args(names: list[str], values: list[Any]) -> list[Arg]:
    """Arguments as given: float arrays and floats perturbed, the rest passed through."""
    out = []
    for name, value in zip(names, values):
        if isinstance(value, float):
            out.append(Arg(name, np.array(value), True, scalar=True))
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            out.append(Arg(name, np.array(value, dtype=np.float64), True))
        else:
            out.append(Arg(name, value, False))
    return out


def _call(fn: Callable[..., Any], args: list[Arg]) -> Any:
    return fn(*[a.passed() for a in args])


def split_grads(value: Any, args: list[Arg], who: Any) -> list[Any]:
    """The returned gradients, one per perturbed argument."""
    free = [a for a in args if a.perturb]
    if isinstance(value, (tuple, list)) and len(value) == len(args) and len(args) > 1:
        return [g for g, a in zip(value, args) if a.perturb]
    if isinstance(value, (tuple, list)) and len(value) == len(free) and len(free) > 1:
        return list(value)
    if len(free) == 1:
        if isinstance(value, tuple) and len(value) == 1:
            return [value[0]]
        return [value]
    count = len(value) if isinstance(value, (tuple, list)) else 1
    raise Unusable(M("{who} returned {count} gradients for {args} arguments ({names})",
                     who=who, count=count, args=len(free), names=", ".join(a.name for a in free)))


# --------------------------------------------------------------- functions ---
def check_function(f: Callable[..., Any], grad: Callable[..., Any] | None, args: list[Arg],
                   ctx: Context, target: str, kind: str = "function") -> ComponentResult:
    """`f` against its gradient function (or, without one, `f` returning (value, grad))."""
    comp = ComponentResult(ctx.shown, target, kind, seed=ctx.seed)
    comp.shapes = {a.name: list(np.shape(a.value)) for a in args if a.perturb}
    try:
        _check_function(f, grad, args, ctx, comp)
    except Unusable as exc:
        comp.error = exc.what
    except Exception as exc:  # noqa: BLE001
        comp.checks.append(GradCheck(target, False, error=ctx.error(exc)))
    return comp


def _check_function(f: Callable[..., Any], grad: Callable[..., Any] | None, args: list[Arg],
                    ctx: Context, comp: ComponentResult) -> None:
    if not any(a.perturb for a in args):
        raise Unusable(M("no float argument to differentiate"))
    first = _call(f, args)
    second = _call(f, args)
    if grad is None:
        if not (isinstance(first, tuple) and len(first) == 2):
            raise Unusable(M("without grad=, f must return (value, gradient)"))
        value, grads = first
        again = second[0]
        evaluate = lambda: np.asarray(_scalar(_call(f, args)[0]))  # noqa: E731
    else:
        value, again = first, second
        grads = _call(grad, args)
        evaluate = lambda: np.asarray(_scalar(_call(f, args)))  # noqa: E731
    _scalar(value)
    if not same_twice(value, again):
        raise Unusable(nondeterministic(M("the function")))
    prec = ctx.precision()
    free = [a for a in args if a.perturb]
    for arg, g in zip(free, split_grads(grads, args, M("the gradient"))):
        comp.checks.append(run_target(ctx, Target("d" + arg.name, arg.value, g), evaluate,
                                      prec, None, arg.name))


# ------------------------------------------------------------------- pairs ---
def check_pair(forward: Callable[..., Any], backward: Callable[..., Any], args: list[Arg],
               ctx: Context, target: str) -> ComponentResult:
    comp = ComponentResult(ctx.shown, target, "pair", seed=ctx.seed)
    comp.shapes = {a.name: list(np.shape(a.value)) for a in args if a.perturb}
    try:
        _check_pair(forward, backward, args, ctx, comp)
    except Unusable as exc:
        comp.error = exc.what
    except Exception as exc:  # noqa: BLE001
        comp.checks.append(GradCheck(target, False, error=ctx.error(exc)))
    return comp


def _out_cache(result: Any, name: str) -> tuple[Any, Any]:
    if not (isinstance(result, tuple) and len(result) == 2):
        raise Unusable(M("{name} must return (out, cache), got {type}", name=name,
                         type=type(result).__name__))
    return result


def _check_pair(forward: Callable[..., Any], backward: Callable[..., Any], args: list[Arg],
                ctx: Context, comp: ComponentResult) -> None:
    fname = getattr(forward, "__name__", "forward")
    out, cache = _out_cache(_call(forward, args), fname)
    again, _ = _out_cache(_call(forward, args), fname)
    if not same_twice(out, again):
        raise Unusable(nondeterministic(fname))
    out = as_output(out, fname)
    free = [a for a in args if a.perturb]
    lead = np.shape(free[0].value) if free else ()
    batch = out.shape[0] if out.ndim >= 1 and len(lead) >= 1 and lead[0] == out.shape[0] \
        else None
    dout = ctx.rng("dout").standard_normal(out.shape)
    out, cache = _out_cache(_call(forward, args), fname)
    grads = split_grads(backward(dout.copy(), cache), args,
                        getattr(backward, "__name__", "backward"))

    def evaluate() -> np.ndarray:
        return per_row(_out_cache(_call(forward, args), fname)[0], dout, batch)

    prec = ctx.precision()
    for i, (arg, g) in enumerate(zip(free, grads)):
        comp.checks.append(run_target(ctx, Target("d" + arg.name, arg.value, g,
                                                  rowwise=(i == 0)), evaluate, prec, batch,
                                      arg.name))


# ---------------------------------------------------------------- drawing ---
def required_params(fn: Callable[..., Any]) -> tuple[list[str], dict[str, Any]]:
    """Positional parameter names without defaults, and the defaults of the others."""
    sig = inspect.signature(fn)
    names, defaults = [], {}
    for p in sig.parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        if p.default is p.empty:
            names.append(p.name)
        else:
            defaults[p.name] = p.default
    return names, defaults


_NAMED = {"x": (4, 3), "w": (3, 5), "b": (5,), "gamma": (3,), "beta": (3,)}


def shape_guesses(names: list[str], pair: bool) -> list[list[tuple[int, ...]]]:
    guesses = []
    if pair:
        guesses.append([_NAMED.get(n.lower(), _NAMED.get(n.lower()[:1], (4, 3))) for n in names])
        guesses.append([(4, 3)] * len(names))
        guesses.append([()] * len(names))
    else:
        guesses += [[()] * len(names), [(3,)] * len(names), [(4, 3)] * len(names)]
    return guesses


def draw_args(names: list[str], shapes: list[tuple[int, ...]], rng: np.random.Generator,
              positive: bool) -> list[Arg]:
    values: list[Any] = []
    for shape in shapes:
        a = rng.uniform(0.5, 1.5, size=shape) if positive else rng.standard_normal(shape)
        values.append(float(a) if shape == () else a)
    return make_args(names, values)


def find_args(names: list[str], shapes: list[list[tuple[int, ...]]], ctx: Context,
              runs: Callable[[list[Arg]], bool], salt: str) -> list[Arg] | None:
    """The first drawn argument list on which `runs` succeeds (normal, then positive draws)."""
    for candidate in shapes:
        for positive in (False, True):
            args = draw_args(names, candidate, ctx.rng(salt), positive)
            try:
                if runs(args):
                    return args
            except Exception:  # noqa: BLE001 - a wrong guess: try the next
                continue
    return None


def function_runs(f: Callable[..., Any]) -> Callable[[list[Arg]], bool]:
    def runs(args: list[Arg]) -> bool:
        value = _call(f, args)
        value = value[0] if isinstance(value, tuple) and len(value) == 2 else value
        return bool(np.isfinite(_scalar(value)))
    return runs


def pair_runs(forward: Callable[..., Any]) -> Callable[[list[Arg]], bool]:
    def runs(args: list[Arg]) -> bool:
        out, _ = _out_cache(_call(forward, args), "forward")
        arr = np.asarray(out, dtype=float)
        return bool(arr.size and np.all(np.isfinite(arr)))
    return runs
