"""The Value-class battery: a micrograd-style class checked through its own operators.

Each case builds a small graph with fresh Values, calls `backward()` on the
result and compares every leaf's `.grad` with the true derivative (central
differences of the same formula in plain floats, and the formula's known
derivative), through `verdict.compare`.  Failures are diagnosed:

- a reused variable (`a*a`, `a + a`) getting half its gradient: overwritten
  instead of accumulated (`=` instead of `+=`);
- composed graphs wrong while every single operation is right: nodes visited
  out of topological order;
- tanh/sigmoid/exp whose local derivative uses x where the output is meant
  (and log using the output where x is meant);
- `2 * a` failing beside a working `a * 2`: the reflected operator is missing;
- sign flips and simple factors.

The deep chain (3,000 operations) is a warning when it hits the recursion
limit (micrograd's recursive topological sort does): the depth where it
breaks is found by bisection and named with the fix.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, Callable

from gradcli import mistakes
from gradcli.i18n import M, Msg
from gradcli.numeric import central_difference
from gradcli.usercode.results import ComponentResult, GradCheck, Skipped
from gradcli.usercode.trace import located
from gradcli.verdict import compare

CHAIN = 3000
RTOL, ATOL = 1e-6, 1e-9
POINT_A, POINT_B, POINT_C = 0.7, -1.3, 0.5

#: operator families: (forward dunder, reflected dunder, name)
FAMILIES = {
    "add": ("__add__", "__radd__", "addition"),
    "sub": ("__sub__", "__rsub__", "subtraction"),
    "mul": ("__mul__", "__rmul__", "multiplication"),
    "div": ("__truediv__", "__rtruediv__", "division"),
    "pow": ("__pow__", None, "power"),
    "neg": ("__neg__", None, "negation"),
}


@dataclass
class Case:
    name: str
    family: str | None  # operator family, or None for a method or a structure
    build: Callable[..., Any]  # works on Values and on floats alike
    grads: Callable[..., tuple[float, ...]]  # the true derivatives, at the point
    point: tuple[float, ...]
    reflected: bool = False  # the number is on the left: needs the reflected operator
    method: str | None = None  # a unary method (tanh, exp, ...)
    composite: bool = False  # several operations: topological order matters


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _unary(name: str) -> Callable[[Any], Any]:
    plain = {"exp": math.exp, "log": math.log, "tanh": math.tanh,
             "relu": lambda x: max(x, 0.0), "sigmoid": _sigmoid}[name]
    return lambda a: plain(a) if isinstance(a, float) else getattr(a, name)()


A, B = (POINT_A, POINT_B), (POINT_A,)
CASES: list[Case] = [
    Case("a + b", "add", lambda a, b: a + b, lambda a, b: (1.0, 1.0), A),
    Case("a + 2", "add", lambda a: a + 2, lambda a: (1.0,), B),
    Case("2 + a", "add", lambda a: 2 + a, lambda a: (1.0,), B, reflected=True),
    Case("a - b", "sub", lambda a, b: a - b, lambda a, b: (1.0, -1.0), A),
    Case("a - 2", "sub", lambda a: a - 2, lambda a: (1.0,), B),
    Case("2 - a", "sub", lambda a: 2 - a, lambda a: (-1.0,), B, reflected=True),
    Case("a * b", "mul", lambda a, b: a * b, lambda a, b: (b, a), A),
    Case("a * 2", "mul", lambda a: a * 2, lambda a: (2.0,), B),
    Case("2 * a", "mul", lambda a: 2 * a, lambda a: (2.0,), B, reflected=True),
    Case("a / b", "div", lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2), A),
    Case("a / 2", "div", lambda a: a / 2, lambda a: (0.5,), B),
    Case("2 / a", "div", lambda a: 2 / a, lambda a: (-2 / a**2,), B, reflected=True),
    Case("a ** 3", "pow", lambda a: a ** 3, lambda a: (3 * a**2,), B),
    Case("a ** -2", "pow", lambda a: a ** -2, lambda a: (-2 * a**-3,), B),
    Case("-a", "neg", lambda a: -a, lambda a: (-1.0,), B),
    Case("exp", None, _unary("exp"), lambda a: (math.exp(a),), (0.5,), method="exp"),
    Case("log", None, _unary("log"), lambda a: (1 / a,), (1.7,), method="log"),
    Case("tanh", None, _unary("tanh"), lambda a: (1 - math.tanh(a)**2,), (0.5,),
         method="tanh"),
    Case("relu", None, _unary("relu"), lambda a: (1.0,), (0.7,), method="relu"),
    Case("relu of a negative", None, _unary("relu"), lambda a: (0.0,), (-0.4,),
         method="relu"),
    Case("sigmoid", None, _unary("sigmoid"),
         lambda a: (_sigmoid(a) * (1 - _sigmoid(a)),), (0.3,), method="sigmoid"),
    Case("a*a", "mul", lambda a: a * a, lambda a: (2 * a,), B, composite=False),
    Case("a + a", "add", lambda a: a + a, lambda a: (2.0,), B),
    Case("diamond", None, lambda a, b, c: (a * b) * c + a * b,
         lambda a, b, c: ((c + 1) * b, (c + 1) * a, a * b), (POINT_A, POINT_B, POINT_C),
         composite=True),
]
REUSE = ("a*a", "a + a")
#: cases that are one node in a micrograd-style class (a - b is a + (-b): two)
PRIMITIVE = ("a + b", "a * b", "a*a", "a + a", "exp", "log", "tanh", "sigmoid", "relu")

#: a local derivative computed from x where the output y = f(x) is meant (or the reverse)
SWAPPED: dict[str, tuple[Callable[[float], float], Msg]] = {
    "tanh": (lambda x: 1 - x * x,
             M("local derivative of tanh uses x instead of the output "
               "(1 - x**2 instead of 1 - tanh(x)**2)")),
    "sigmoid": (lambda x: x * (1 - x),
                M("local derivative of sigmoid uses x instead of the output "
                  "(x*(1 - x) instead of s*(1 - s) with s = sigmoid(x))")),
    "exp": (lambda x: x, M("local derivative of exp uses x instead of the output "
                           "(x instead of exp(x))")),
    "log": (lambda x: 1 / math.log(x), M("local derivative of log uses the output instead "
                                         "of x (1/log(x) instead of 1/x)")),
}


class Battery:
    """Runs the cases on one class; `path`/`shown` locate exceptions in the user's file."""

    def __init__(self, cls: type, path: str, shown: str):
        self.cls, self.path, self.shown = cls, path, shown
        self.result = ComponentResult(shown, cls.__name__, "value")
        self.failed: dict[str, GradCheck] = {}

    def run(self) -> ComponentResult:
        missing = self._missing_families()
        for case in CASES:
            if case.family in missing or (case.method and not callable(
                    getattr(self.cls, case.method, None))):
                continue
            self._add(self._case(case))
        self._add(self._chain())
        self._add(self._second_backward())
        self._topological_diagnosis()
        return self.result

    def _add(self, check: GradCheck) -> None:
        self.result.checks.append(check)
        if not check.ok:
            self.failed[check.name] = check

    def _missing_families(self) -> set[str]:
        missing = set()
        for family, (fwd, refl, word) in FAMILIES.items():
            if not hasattr(self.cls, fwd) and not (refl and hasattr(self.cls, refl)):
                missing.add(family)
                self.result.skipped.append(Skipped(
                    word, M("the class defines no {names}", names=" / ".join(
                        n for n in (fwd, refl) if n))))
        for name in ("exp", "log", "tanh", "relu", "sigmoid"):
            if not callable(getattr(self.cls, name, None)):
                self.result.skipped.append(Skipped(name, M("no method {name}()", name=name)))
        return missing

    # ------------------------------------------------------------- one case ---
    def _case(self, case: Case) -> GradCheck:
        leaves = [self.cls(x) for x in case.point]
        try:
            out = case.build(*leaves)
            out.backward()
        except RecursionError as exc:
            return GradCheck(case.name, False, error=located(exc, self.path, self.shown))
        except Exception as exc:  # noqa: BLE001 - the user's code failed inside this case
            return self._exception(case, exc)
        expected_value = case.build(*case.point)
        value = _number(getattr(out, "data", None))
        if value is None:
            return GradCheck(case.name, False, bad=1, expected=expected_value, diagnosis=M(
                "forward value is not a number: {case} gives .data = {value!r}",
                case=case.name, value=getattr(out, "data", None)))
        if not _close(value, expected_value):
            return GradCheck(case.name, False, bad=1, expected=expected_value, actual=value,
                             diagnosis=M("forward value wrong: {case} gives {actual:.12g}, "
                                         "expected {expected:.12g}", case=case.name,
                                         actual=value, expected=expected_value))
        return self._grads(case, leaves)

    def _exception(self, case: Case, exc: Exception) -> GradCheck:
        check = GradCheck(case.name, False, bad=1, error=located(exc, self.path, self.shown))
        missing = _missing_reflected(exc, self.cls)
        if missing is not None and missing[1] != FAMILIES.get(case.family or "", (0, 0))[1]:
            check.diagnosis = M("missing {reflected}: {case} computes a number {op} {cls} inside "
                                "the class, which needs it", reflected=missing[1],
                                case=case.name, op=missing[0], cls=self.cls.__name__)
            return check
        fwd, refl, _ = FAMILIES.get(case.family or "", (None, None, None))
        if case.reflected and isinstance(exc, TypeError) and refl \
                and not hasattr(self.cls, refl):
            check.diagnosis = M("missing {reflected}: {case} fails (a number on the left "
                                "needs the reflected operator beside {forward})",
                                reflected=refl, case=case.name, forward=fwd)
        elif isinstance(exc, AttributeError) and not case.reflected and len(case.point) == 1 \
                and case.family:
            check.diagnosis = M("{forward} does not accept a plain number: wrap it with "
                                "{cls}(other) when it is not a {cls}", forward=fwd,
                                cls=self.cls.__name__)
        return check

    def _grads(self, case: Case, leaves: list[Any]) -> GradCheck:
        truth = case.grads(*case.point)
        worst: tuple[float, int, Any] | None = None
        bad = 0
        max_abs = max_rel = 0.0
        for i, leaf in enumerate(leaves):
            actual = _number(getattr(leaf, "grad", None))
            if actual is None:
                return GradCheck(case.name, False, count=len(leaves), bad=1, worst_index=[i],
                                 expected=truth[i], diagnosis=M(
                                     "the grad of a leaf is not a number after backward(): "
                                     "{value!r}", value=getattr(leaf, "grad", None)))
            diff = central_difference(_partial(case.build, case.point, i), case.point[i])
            v = compare(reverse=actual, numeric=diff.value, numeric_error=diff.error,
                        symbolic=truth[i], rtol=RTOL, atol=ATOL)
            bad += 0 if v.ok else 1
            max_abs, max_rel = max(max_abs, v.max_abs_error), max(max_rel, v.rel_error)
            key = (0 if v.ok else 1, v.rel_error)
            if worst is None or key > worst[:2]:
                worst = (key[0], key[1], (i, v, actual))
        assert worst is not None
        i, v, actual = worst[2]
        check = GradCheck(case.name, bad == 0, count=len(leaves), bad=bad,
                          worst_index=[i] if len(leaves) > 1 else None,
                          expected=truth[i], actual=actual, max_abs_error=max_abs,
                          max_rel_error=max_rel,
                          tolerance="|grad - true| <= max({:g}*|true|, {:g})".format(RTOL, ATOL))
        if not check.ok:
            check.diagnosis = self._diagnose(case, actual, truth[i])
        return check

    def _diagnose(self, case: Case, actual: float, expected: float) -> Msg | None:
        if case.name in REUSE and _close(actual, expected / 2):
            op = "*" if case.family == "mul" else "+"
            return M("gradient overwritten instead of accumulated (`=` instead of `+=`) "
                     "in {op}", op=op)
        if case.method in SWAPPED:
            wrong, message = SWAPPED[case.method]
            if _close(actual, wrong(case.point[0])):
                return message
        return mistakes.scalar_factor(actual, expected)

    def _topological_diagnosis(self) -> None:
        """Graphs of several nodes wrong while the one-node cases are right: the order.

        Also: a graph where a reused value's gradient is overwritten (see a*a / a + a)."""
        overwrite = any(self.failed.get(n) is not None and self.failed[n].diagnosis is not None
                        and "overwritten" in self.failed[n].diagnosis for n in REUSE)
        one_node = [n for n in PRIMITIVE if any(c.name == n for c in self.result.checks)]
        topo = "diamond" in self.failed and not overwrite \
            and not any(n in self.failed for n in one_node)
        for check in self.failed.values():
            if check.error is not None or check.name in REUSE:
                continue
            if overwrite and check.name in ("diamond", "chain of {}".format(CHAIN),
                                            "second backward"):
                check.diagnosis = OVERWRITTEN_ELSEWHERE
            elif topo and check.diagnosis is None:
                check.diagnosis = TOPO

    # ---------------------------------------------------------- structures ---
    def _chain_grad(self, depth: int) -> tuple[float | None, Any]:
        a = self.cls(POINT_A)
        x = a
        for i in range(depth):
            x = x * 1.001 if i % 2 == 0 else x + 0.001
        x.backward()
        return _number(getattr(a, "grad", None)), x

    def _chain(self) -> GradCheck:
        name = "chain of {}".format(CHAIN)
        if "mul" in self._missing_families_quiet() or "add" in self._missing_families_quiet():
            return GradCheck(name, True, note=M("not run: needs + and *"))
        truth = 1.001 ** (CHAIN // 2)
        try:
            actual, _ = self._chain_grad(CHAIN)
        except RecursionError:
            depth = self._breaking_depth()
            return GradCheck(name, True, count=1, warning=M(
                "recursion limit: the topological sort is recursive and breaks at a depth of "
                "{depth} operations (Python's recursion limit is {limit}); build the order "
                "with an explicit stack (iterative depth-first search) or raise "
                "sys.setrecursionlimit", depth=depth, limit=sys.getrecursionlimit()))
        except Exception as exc:  # noqa: BLE001
            return GradCheck(name, False, error=located(exc, self.path, self.shown))
        if actual is None:
            return GradCheck(name, False, expected=truth, diagnosis=M("grad is not a number"))
        v = compare(reverse=actual, symbolic=truth, rtol=RTOL, atol=ATOL)
        check = GradCheck(name, v.ok, expected=truth, actual=actual,
                          max_abs_error=v.max_abs_error, max_rel_error=v.rel_error,
                          bad=v.bad)
        return check

    def _missing_families_quiet(self) -> set[str]:
        return {f for f, (fwd, refl, _) in FAMILIES.items()
                if not hasattr(self.cls, fwd) and not (refl and hasattr(self.cls, refl))}

    def _breaking_depth(self) -> int:
        """The smallest chain length whose backward hits the recursion limit (bisection)."""
        lo, hi = 1, CHAIN  # lo works, hi breaks
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                self._chain_grad(mid)
                lo = mid
            except RecursionError:
                hi = mid
            except Exception:  # noqa: BLE001 - only the recursion limit is looked for
                hi = mid
        return hi

    def _second_backward(self) -> GradCheck:
        """Two identical new graphs: the second must give the true gradients, and the
        same as the first (a difference means state kept between graphs)."""
        name = "second backward"
        truth = (0.4 + 1.0, 1.1)
        got = []
        try:
            for _ in range(2):
                a, b = self.cls(1.1), self.cls(0.4)
                (a * b + a).backward()
                got.append((_number(a.grad), _number(b.grad)))
        except Exception as exc:  # noqa: BLE001
            return GradCheck(name, False, error=located(exc, self.path, self.shown))
        first, second = got
        for grads in (second, first):
            for i, (g, t) in enumerate(zip(grads, truth)):
                if g is None or not compare(reverse=g, symbolic=t, rtol=RTOL, atol=ATOL).ok:
                    return GradCheck(name, False, count=2, bad=1, worst_index=[i], expected=t,
                                     actual=g, diagnosis=SHARED if first != second else None)
        return GradCheck(name, True, count=2)


SHARED = M("two identical new graphs get different gradients: state is shared between "
           "graphs (a class attribute, a global or a default argument)")
OVERWRITTEN_ELSEWHERE = M("gradient overwritten instead of accumulated (see a*a / a + a)")
TOPO = M("nodes visited out of topological order: every operation is right alone, the "
         "composed graph is not (call each node's _backward in reverse topological order)")


_REFLECTED = {"+": "__radd__", "-": "__rsub__", "*": "__rmul__", "/": "__rtruediv__",
              "**": "__rpow__"}


def _missing_reflected(exc: Exception, cls: type) -> tuple[str, str] | None:
    """(op, dunder) when `exc` is Python's TypeError for `number op cls` and cls lacks it."""
    import re

    m = re.match(r"unsupported operand type\(s\) for (\S+?): '(\w+)' and '(\w+)'", str(exc))
    if not isinstance(exc, TypeError) or m is None or m.group(3) != cls.__name__:
        return None
    dunder = _REFLECTED.get(m.group(1))
    if dunder is None or hasattr(cls, dunder):
        return None
    return m.group(1), dunder


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(1e-6 * max(abs(a), abs(b)), 1e-9)


def _partial(build: Callable[..., Any], point: tuple[float, ...],
             i: int) -> Callable[[float], float]:
    def f(x: float) -> float:
        args = list(point)
        args[i] = x
        return float(build(*args))
    return f


def is_value_class(cls: type) -> bool:
    """C(2.0) has .data == 2.0, a .grad attribute and a backward() method."""
    if not callable(getattr(cls, "backward", None)):
        return False
    try:
        v = cls(2.0)
        return float(v.data) == 2.0 and hasattr(v, "grad")
    except Exception:  # noqa: BLE001 - not constructible from a number: not a Value class
        return False


def check_value_class(cls: type, path: str = "", shown: str = "") -> ComponentResult:
    return Battery(cls, path, shown or getattr(cls, "__module__", "")).run()
