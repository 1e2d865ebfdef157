"""Checking a student's derivative: `gradcli derive EXPR --answer [VAR=]ANSWER`.

- `reading`: the `--answer` and `--let` texts -> one graph (exit 2 on bad input);
- `sampling`: random points and the engine's values there (no SymPy);
- `equivalence`: symbolic, else numeric at 20 points; the counterexample;
- `diagnose`: which rule went wrong, named only when it explains every point.

    read(variables, targets, answer_items, let_items) -> Answers | None
    attach(report, answers, graph, root, at, seed, budget) -> None
"""
from __future__ import annotations

from gradcli.answers.reading import Answers, read

__all__ = ["Answers", "read", "attach"]


def attach(report, answers: Answers, graph, root: int, at: dict[str, float], seed: int,
           budget) -> None:
    """Give each answered row of `report` its AnswerResult; a wrong answer makes the
    report not ok."""
    from gradcli.answers.equivalence import judge

    for row in report.gradient:
        if row.wrt in answers.by_var:
            row.answer = judge(answers, row.wrt, graph, root, row, at, seed, budget,
                               report.order)
            if not row.answer.equivalent:
                report.ok = False
