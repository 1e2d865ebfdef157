"""What in an imported module is checkable, how to build it, and why not when it is not.

Recognised (CONTRACT "check-code"): Value classes (C(2.0).data == 2.0, .grad,
backward()), layer classes (forward(x), backward(dout)), loss classes
(forward(pred, target), backward()), functions `f` with `f_grad`/`grad_f`,
and `NAME_forward`/`NAME_backward` pairs.  Everything else that looks like
backward code is listed with the reason it is not checked: a forward without
a backward, a model (backward() without a gradient argument), a constructor
that needs arguments, torch.autograd.Function and jax.custom_vjp.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from gradcli.i18n import M, Msg
from gradcli.usercode import value_battery
from gradcli.usercode.context import Context
from gradcli.usercode.make import Make
from gradcli.usercode.results import ComponentResult, Skipped

#: Constructor arguments tried when a class needs some and no --make is given.
SMALL_SIZES = (3, 2, 2, 2)


@dataclass
class Found:
    name: str  # what --only, --make and --input refer to
    kind: str
    run: Callable[[], ComponentResult]


@dataclass
class Plan:
    found: list[Found] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _required(fn: Any, method: bool) -> int | None:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if method and params and params[0].name in ("self", "cls"):
        params = params[1:]
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.default is p.empty
               and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def _unsupported(obj: Any) -> Msg | None:
    if isinstance(obj, type):
        for base in obj.__mro__[1:]:
            mod = getattr(base, "__module__", "") or ""
            if base.__name__ == "Function" and mod.startswith("torch.autograd"):
                return M("a torch.autograd.Function: not supported (use "
                         "torch.autograd.gradcheck for it)")
        return None
    typ = type(obj)
    if typ.__name__ in ("custom_vjp", "custom_jvp") and typ.__module__.startswith("jax"):
        return M("a jax.{kind} function: not supported (use jax.test_util.check_grads for it)",
                 kind=typ.__name__)
    return None


def plan(module: Any, ctx: Context, makes: list[Make], inputs: dict[str, list[tuple]],
         only: list[str]) -> Plan:
    out = Plan()
    own = [(name, obj) for name, obj in vars(module).items()
           if getattr(obj, "__module__", None) == module.__name__ or _unsupported(obj)]
    functions = {n: o for n, o in own if inspect.isfunction(o)}
    for name, obj in own:
        why = _unsupported(obj)
        if why is not None:
            out.skipped.append(Skipped(name, why))
        elif isinstance(obj, type):
            _plan_class(name, obj, ctx, [m for m in makes if m.name == name],
                        inputs.get(name), out)
    _plan_functions(functions, ctx, inputs, out)
    if only:
        out.skipped += [Skipped(f.name, M("left out by --only")) for f in out.found
                        if f.name not in only]
        out.found = [f for f in out.found if f.name in only]
    return out


# ---------------------------------------------------------------- classes ---
def _plan_class(name: str, cls: type, ctx: Context, makes: list[Make],
                shapes: list[tuple] | None, out: Plan) -> None:
    fwd, bwd = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not callable(bwd):
        if callable(fwd):
            out.skipped.append(Skipped(name, M("forward without backward: nothing to check")))
        return
    if not callable(fwd):
        if value_battery.is_value_class(cls):
            out.found.append(Found(name, "value", lambda: value_battery.check_value_class(
                cls, ctx.path, ctx.shown)))
        else:
            out.skipped.append(Skipped(name, M(
                "backward() without forward, and {name}(2.0) is not a Value with .data and "
                ".grad", name=name)))
        return
    nf, nb = _required(fwd, True), _required(bwd, True)
    kind = {(1, 1): "layer", (2, 0): "loss"}.get((nf, nb))
    if kind is None:
        why = M("a model: backward() takes no gradient; its layers are checked one by one") \
            if (nf, nb) == (1, 0) else M(
            "forward/backward not recognised: expected forward(x) with backward(dout), or "
            "forward(pred, target) with backward()")
        out.skipped.append(Skipped(name, why))
        return
    for make in makes or [None]:
        built = _construct(cls, name, make, ctx)
        if isinstance(built, Skipped):
            out.skipped.append(built)
            continue
        if isinstance(built, ComponentResult):
            out.found.append(Found(name, kind, lambda built=built: built))
            continue
        instance, target = built
        out.found.append(Found(name, kind, _class_runner(kind, instance, target, shapes, ctx)))


def _construct(cls: type, name: str, make: Make | None, ctx: Context) -> Any:
    """(instance, label), a Skipped (arguments needed), or a failed ComponentResult."""
    if make is not None:
        try:
            return cls(*make.args, **make.kwargs), make.text
        except Exception as exc:  # noqa: BLE001 - raised at construction: exit 2
            from gradcli.usercode.trace import what, where

            return ComponentResult(ctx.shown, make.text, "layer", error=what(exc),
                                   where=where(exc, ctx.path, ctx.shown))
    need = _required(cls.__init__, True) if "__init__" in vars(cls) else 0
    if need == 0:
        try:
            return cls(), name
        except Exception:  # noqa: BLE001
            need = None
    if need is not None and 0 < need <= len(SMALL_SIZES):
        args = SMALL_SIZES[:need]
        try:
            return cls(*args), "{}({})".format(name, ", ".join(map(str, args)))
        except Exception:  # noqa: BLE001 - the guess did not fit: ask for --make
            pass
    params = ", ".join(list(inspect.signature(cls.__init__).parameters)[1:]) \
        if "__init__" in vars(cls) else ""
    return Skipped(name, M("the constructor needs arguments ({params}): pass --make "
                           "\"{name}(...)\" with them", params=params, name=name))


def _class_runner(kind: str, instance: Any, target: str, shapes: list[tuple] | None,
                  ctx: Context) -> Callable[[], ComponentResult]:
    def run() -> ComponentResult:
        from gradcli.usercode import layers

        given = shapes[0] if shapes else None
        if kind == "loss":
            return layers.check_loss(instance, given or (4, 3), ctx, target)
        known = set(vars(instance)) if hasattr(instance, "__dict__") else None
        x = layers.infer_input(instance, layers.layer_inputs(instance, given), ctx)
        if x is None:
            return ComponentResult(ctx.shown, target, kind, error=M(
                "no input shape found on which forward runs: pass --input {name}=BxN (e.g. "
                "{name}=4x3)", name=target.split("(")[0]), where=ctx.shown)
        return layers.check_layer(instance, x, ctx, target, known)
    return run


# -------------------------------------------------------------- functions ---
def _plan_functions(functions: dict[str, Any], ctx: Context, inputs: dict[str, list[tuple]],
                    out: Plan) -> None:
    for name, fn in functions.items():
        if name.endswith("_forward"):
            stem = name[: -len("_forward")]
            bwd = functions.get(stem + "_backward")
            if bwd is None:
                out.skipped.append(Skipped(name, M("no {name}_backward beside it", name=stem)))
                continue
            out.found.append(Found(stem, "pair", _pair_runner(stem, fn, bwd, inputs.get(stem),
                                                              ctx)))
        grad = functions.get(name + "_grad") or functions.get("grad_" + name)
        if grad is not None and not name.endswith(("_forward", "_backward")):
            out.found.append(Found(name, "function", _function_runner(
                name, fn, grad, inputs.get(name), ctx)))


def _arguments(name: str, fn: Any, shapes: list[tuple] | None, ctx: Context, pair: bool,
               runs: Callable) -> list[Any] | Msg:
    from gradcli.usercode import pairs

    names, _ = pairs.required_params(fn)
    if shapes is not None:
        if len(shapes) != len(names):
            return M("--input {name} gives {given} shapes for {count} arguments ({names})",
                     name=name, given=len(shapes), count=len(names), names=", ".join(names))
        guesses = [shapes]
    else:
        guesses = pairs.shape_guesses(names, pair)
    args = pairs.find_args(names, guesses, ctx, runs, name)
    if args is None:
        return M("no argument shapes found on which {fn} runs: pass --input {name}={example}",
                 fn=fn.__name__, name=name, example=",".join("4x3" for _ in names) or "4x3")
    return args


def _pair_runner(stem: str, fwd: Any, bwd: Any, shapes: list[tuple] | None,
                 ctx: Context) -> Callable[[], ComponentResult]:
    def run() -> ComponentResult:
        from gradcli.usercode import pairs

        args = _arguments(stem, fwd, shapes, ctx, True, pairs.pair_runs(fwd))
        if not isinstance(args, list):
            return ComponentResult(ctx.shown, stem, "pair", error=args, where=ctx.shown)
        return pairs.check_pair(fwd, bwd, args, ctx, stem)
    return run


def _function_runner(name: str, fn: Any, grad: Any, shapes: list[tuple] | None,
                     ctx: Context) -> Callable[[], ComponentResult]:
    def run() -> ComponentResult:
        from gradcli.usercode import pairs

        args = _arguments(name, fn, shapes, ctx, False, pairs.function_runs(fn))
        if not isinstance(args, list):
            return ComponentResult(ctx.shown, name, "function", error=args, where=ctx.shown)
        return pairs.check_function(fn, grad, args, ctx, name)
    return run
