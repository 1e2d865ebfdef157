"""Is a student's derivative equivalent to the true one?

Symbolic first, cheaply: the answer minus the derivative is 0 as SymPy
builds it (`3(x²+1)²·2x` and `6*x*(x**2 + 1)**2` are the same product).
Otherwise numeric: 20 random points where both are defined (seeded, up to
200 draws; see `sampling`), equal when the relative difference is at most
1e-8.  When every point agrees, SymPy gets the rest of the time budget to
prove it (cancel for rational functions, else simplify): method `symbolic`
when the difference simplifies to 0, `numeric` otherwise.  A point that
disagrees makes the answer wrong: it is reported as the counterexample
(the `--at` point when the answer is wrong there, else the first random
point, rounded to two significant digits where it still disagrees), and the
sample points go to `diagnose`.  SymPy's proof is not attempted for an
answer the numbers have already refuted.
"""
from __future__ import annotations

import random
from typing import Any

from typing import TYPE_CHECKING

from gradcli.answers.reading import ANSWER, Answer, Answers
from gradcli.errors import GradcliError
from gradcli.i18n import M
from gradcli.report import AnswerResult, DerivativeRow

if TYPE_CHECKING:  # the points are drawn only when SymPy has not settled it at once
    from gradcli.answers.sampling import Point, Sampler


def judge(answers: Answers, var: str, graph, root: int, row: DerivativeRow,
          at: dict[str, float], seed: int, budget, order: dict | None = None) -> AnswerResult:
    """The verdict on the answer for `var` (exit 2 when it cannot be decided)."""
    answer = answers.by_var[var]
    result = AnswerResult(answer.given, True, "symbolic", seed=seed)
    proof = _Proof(answers, answer, row, budget)
    if proof.quick():
        return result
    from gradcli.answers.diagnose import diagnose
    from gradcli.answers.sampling import Sampler, same

    sampler = Sampler(graph, root, answers.graph, answer.root, var)
    points, at_point = _points(sampler, at, seed)
    result.points = len(points)
    checked = ([at_point] if at_point is not None else []) + points
    wrong = [p for p in checked if not same(p.given, p.truth)]
    if not wrong:
        result.method = "symbolic" if proof.thorough() else "numeric"
        return result
    result.equivalent, result.method = False, "numeric"
    shown = wrong[0] if wrong[0] is at_point else _rounded(sampler, wrong[0])
    result.counterexample = {"at": shown.at, "expected": shown.truth, "given": shown.given}
    result.diagnosis = diagnose(sampler, checked, order)
    return result


def _points(sampler: "Sampler", at: dict[str, float], seed: int) -> tuple[list["Point"],
                                                                          "Point | None"]:
    """POINTS valid random points (exit 2 when TRIES draws do not give them), and the
    `--at` point when it binds every variable and both are defined there."""
    from gradcli.answers.sampling import POINTS, TRIES

    at_point = None
    if at and all(name in at for name in sampler.ids):
        at_point = sampler.evaluate(at)
        sampler.function_failures = sampler.answer_failures = 0
    rng = random.Random(seed)
    points: list = []
    tries = 0
    while len(points) < POINTS and tries < TRIES:
        tries += 1
        p = sampler.evaluate(sampler.draw(rng, at))
        if p is not None:
            points.append(p)
    if len(points) < POINTS:
        raise _undecided(sampler, len(points), tries, seed)
    return points, at_point


def _undecided(sampler: "Sampler", valid: int, tries: int, seed: int) -> GradcliError:
    if sampler.answer_failures >= sampler.function_failures:
        return GradcliError(M("cannot decide: the answer is undefined almost everywhere (it "
                              "has a value at only {valid} of {tries} random points, seed "
                              "{seed})", valid=valid, tries=tries, seed=seed), ANSWER)
    return GradcliError(M("cannot decide: the derivative is undefined at most random points "
                          "({valid} of {tries} usable, seed {seed}); give --at with a point "
                          "where it is defined, the points are then drawn around it",
                          valid=valid, tries=tries, seed=seed), ANSWER)


def _rounded(sampler: "Sampler", p: "Point") -> "Point":
    """The point with its coordinates rounded (1.3 rather than 1.2739...) where the
    answer is still clearly wrong there."""
    for digits in (2, 3, 4):
        at = {name: float(f"{v:.{digits}g}") for name, v in p.at.items()}
        q = sampler.evaluate(at)
        if q is not None and abs(q.given - q.truth) > 1e-6 * max(abs(q.given), abs(q.truth)):
            return q
    return p


class _Proof:
    """SymPy's part: the answer minus the derivative, simplified within the budget."""

    def __init__(self, answers: Answers, answer: Answer, row: DerivativeRow, budget):
        self.answers, self.answer, self.row, self.budget = answers, answer, row, budget
        self.truths = [t for t in (row.expr, row.raw) if t is not None]
        self.given: Any = None

    def _usable(self) -> bool:
        return bool(self.truths) and not self.budget.spent

    def quick(self) -> bool:
        """Is the difference 0 as SymPy builds it (no simplification)?"""
        if not self._usable():
            return False
        from gradcli import symbolic

        try:
            with symbolic.time_limit(self.budget.limit()):
                self.given = symbolic.to_sympy(self.answers.graph, self.answer.root)
                return any(self.given - t == 0 for t in self.truths)
        except Exception:  # noqa: BLE001 - SymPy timing out or failing: the numbers decide
            return False

    def thorough(self) -> bool:
        """Does the difference simplify to 0 within what is left of the budget?"""
        if not self._usable() or self.given is None:
            return False
        import sympy as sp

        from gradcli import symbolic

        try:
            with symbolic.time_limit(self.budget.limit()):
                d = _plain(self.given - self.truths[-1])
                if d.is_rational_function():
                    return sp.cancel(d) == 0
                return sp.simplify(d) == 0
        except Exception:  # noqa: BLE001 - past the budget the numbers decide
            return False


def _plain(expr):
    """sigmoid and softplus written with exp, so that simplify can work on them."""
    import sympy as sp

    from gradcli.symbolic import sigmoid, softplus

    return expr.replace(sigmoid, lambda a: 1 / (1 + sp.exp(-a))).replace(
        softplus, lambda a: sp.log(1 + sp.exp(a)))
