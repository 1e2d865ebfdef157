"""Step-by-step derivative explanations for `gradcli derive`.

- `records`: the typed records (Step, Chain, Substitution, Explanation),
  holding SymPy expressions;
- `build`: `explain(graph, root, var)` builds the rule tree over gradcli's
  graph, each step checked against `sympy.diff` (StepCheckError otherwise);
- `substitution`: the u-substitution view of the outermost chain;
- `letters`: substitution names (u, v, w, u1, ...) and identity letters that
  never clash with the user's names;
- `printers`: text, markdown, LaTeX and JSON from the records.
"""
from __future__ import annotations

from gradcli.steps.build import (FULL_CHECK_SIZE, MAX_DEPENDENT_NODES, MAX_STEPS, explain,
                                 skipped)
from gradcli.steps.printers import (format_latex, format_markdown, format_text, latex_equation,
                                    latex_escape, latex_lines,
                                    substitution_json, substitution_latex,
                                    substitution_values, substitution_view, to_json)
from gradcli.steps.records import Chain, Explanation, Step, Substitution, walk
from gradcli.steps.substitution import complete, substitution_of
from gradcli.steps.verify import StepCheckError

__all__ = [
    "FULL_CHECK_SIZE", "MAX_DEPENDENT_NODES", "MAX_STEPS", "Chain", "Explanation", "Step",
    "StepCheckError", "Substitution", "complete", "explain", "format_latex",
    "format_markdown", "format_text", "latex_equation", "latex_escape", "latex_lines", "skipped", "substitution_json", "substitution_latex",
    "substitution_of", "substitution_values", "substitution_view", "to_json", "walk",
]
