"""Plain dataclasses of check-code results: what the printers show, `--json` writes,
and the child process hands back to gradcli.

Text fields hold `i18n.Msg` objects (English in JSON, translated when shown).
Between the child and the parent they travel as `{"$msg": template, "args": ...}`
(`to_wire` / `from_wire`), so the parent can still translate them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from gradcli.i18n import N_, NP_, Msg, english, text

#: The labelled lines under a check in `str()`.
_LABELS = (("diagnosis", N_("diagnosis")), ("error", N_("error")), ("note", N_("note")),
           ("warning", N_("warning")))

KINDS = ("value", "layer", "loss", "function", "pair")
#: How each kind is named in human output (JSON keeps the English kind).
#: In the context "kind": "value" here is a Value class, not a number.
KIND_WORDS = {"value": NP_("kind", "value"), "layer": NP_("kind", "layer"),
              "loss": NP_("kind", "loss"), "function": NP_("kind", "function"),
              "pair": NP_("kind", "pair")}


def kind_word(kind: str) -> str:
    """`kind` in the current language."""
    from gradcli.i18n import pgettext

    return pgettext("kind", KIND_WORDS[kind]) if kind in KIND_WORDS else kind


def _num(value: Any) -> Any:
    """A JSON-safe number: NaN and infinity become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass
class GradCheck:
    """One gradient (or one Value-class case) compared with its reference."""

    name: str
    ok: bool
    count: int = 1  # entries compared
    bad: int = 0  # entries beyond tolerance
    worst_index: list[int] | None = None
    expected: float | None = None  # the reference at the worst entry
    actual: float | None = None  # the user's value there
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    diagnosis: Msg | None = None
    note: Msg | None = None  # e.g. a kink excused, a Taylor test decided
    warning: Msg | None = None  # not a failure (deep recursion, float32)
    error: Msg | None = None  # an exception inside the check: "file.py:12: ValueError: ..."
    method: Msg | None = None  # how it was checked ("full: 12 of 12 entries", ...)
    tolerance: str | None = None  # the rule with its numbers
    shape: list[int] | None = None  # the user's gradient's shape
    expected_shape: list[int] | None = None
    kinks: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "ok": self.ok, "count": self.count, "bad": self.bad,
            "worst_index": self.worst_index, "expected": _num(self.expected),
            "actual": _num(self.actual), "max_abs_error": _num(self.max_abs_error),
            "max_rel_error": _num(self.max_rel_error), "diagnosis": english(self.diagnosis)}
        for key in ("note", "warning", "error", "method"):
            value = getattr(self, key)
            if value is not None:
                out[key] = english(value)
        for key in ("tolerance", "shape", "expected_shape"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.kinks:
            out["kinks"] = self.kinks
        return out


@dataclass
class Skipped:
    """Something found but not checked, and why."""

    name: str
    reason: Msg

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "reason": english(self.reason)}


@dataclass
class ComponentResult:
    """One checked component: a Value class, a layer, a loss, a function or a pair."""

    file: str
    target: str  # "Linear(3, 2)", "Value", "affine", "f"
    kind: str
    checks: list[GradCheck] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # e.g. operator families
    error: Msg | None = None  # the component could not be used (exit 2): dropout, ...
    where: str | None = None  # where the error is ("mylayers.py:14"), for its error line
    seed: int | None = None
    shapes: dict[str, list[int]] = field(default_factory=dict)  # what was drawn

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return 2
        return 0 if all(c.ok for c in self.checks) else 1

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "target": self.target, "kind": self.kind,
                               "ok": self.ok, "checks": [c.to_json() for c in self.checks]}
        if self.error is not None:
            out.update(exit=2, error=english(self.error))
        if self.notes:
            out["notes"] = [english(n) for n in self.notes]
        if self.warnings:
            out["warnings"] = [english(w) for w in self.warnings]
        if self.skipped:
            out["skipped"] = [s.to_json() for s in self.skipped]
        if self.seed is not None:
            out["seed"] = self.seed
        if self.shapes:
            out["shapes"] = self.shapes
        return out

    def __str__(self) -> str:
        return plain_text(self)

    def assert_ok(self) -> None:
        if not self.ok:
            raise AssertionError(str(self))


@dataclass
class FileResult:
    """Everything check-code learnt about one file."""

    file: str
    components: list[ComponentResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    error: Msg | None = None  # the file cannot be used: `error: <where>: <what>`
    where: str | None = None  # the error's location ("mylayers.py:14")
    printed_lines: int = 0  # lines the user's code printed (captured, not shown)
    seed: int = 0

    @property
    def exit_code(self) -> int:
        if self.error is not None or not self.components:
            return 2
        return max(c.exit_code for c in self.components)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def checks(self) -> list[GradCheck]:
        return [c for comp in self.components for c in comp.checks]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "ok": self.ok, "exit": self.exit_code,
                "components": [c.to_json() for c in self.components],
                "skipped": [s.to_json() for s in self.skipped],
                "error": None if self.error is None else english(self.error_line())}

    def error_line(self) -> Msg:
        from gradcli.i18n import M

        if self.error is None:
            return M("nothing checkable")
        return M("error: {where}: {what}", where=self.where or self.file, what=self.error)

    def __str__(self) -> str:
        if self.error is not None:
            return text(self.error_line())
        return "\n\n".join(plain_text(c) for c in self.components)

    def assert_ok(self) -> None:
        if not self.ok:
            raise AssertionError(str(self))


def plain_text(comp: ComponentResult) -> str:
    """A readable report of one component without Rich (for str() and pytest)."""
    from gradcli.i18n import _

    head = _("{kind} {target}: {verdict}", kind=kind_word(comp.kind), target=comp.target,
             verdict=_("ok") if comp.ok else _("FAILED"))
    lines = [head]
    if comp.error is not None:
        lines.append("  " + text(comp.error))
    for c in comp.checks:
        mark = _("ok") if c.ok else _("FAIL")
        if not c.ok and c.worst_index is not None and c.expected is not None \
                and c.actual is not None:
            line = _("  {mark:4} {name}: {bad}/{count} beyond tolerance, worst at {index}: "
                     "expected {expected:.6g}, got {actual:.6g}", mark=mark, name=c.name,
                     bad=c.bad, count=c.count, index=tuple(c.worst_index),
                     expected=c.expected, actual=c.actual)
        elif not c.ok and c.expected is not None and c.actual is not None:
            line = _("  {mark:4} {name}: expected {expected:.6g}, got {actual:.6g}",
                     mark=mark, name=c.name, expected=c.expected, actual=c.actual)
        else:
            line = _("  {mark:4} {name}: {bad}/{count} beyond tolerance", mark=mark,
                     name=c.name, bad=c.bad, count=c.count)
        lines.append(line)
        for key, label in _LABELS:
            value = getattr(c, key)
            if value is not None:
                lines.append("       " + _("{key}: {value}", key=_(label), value=text(value)))
    for msg in comp.notes:
        lines.append("  " + _("note: {value}", value=text(msg)))
    for msg in comp.warnings:
        lines.append("  " + _("warning: {value}", value=text(msg)))
    for s in comp.skipped:
        lines.append("  " + _("not checked: {name}: {reason}", name=s.name,
                              reason=text(s.reason)))
    return "\n".join(lines)


# ------------------------------------------------------------------ wire ---
def _enc(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"$msg": value.template, "args": {k: _enc(v) for k, v in value.args.items()}}
    if isinstance(value, (GradCheck, Skipped, ComponentResult, FileResult)):
        return {"$" + type(value).__name__: {f.name: _enc(getattr(value, f.name))
                                              for f in fields(value)}}
    if isinstance(value, (list, tuple)):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        return {k: _enc(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    return value


_CLASSES = {"$GradCheck": GradCheck, "$Skipped": Skipped,
            "$ComponentResult": ComponentResult, "$FileResult": FileResult}


def _dec(value: Any) -> Any:
    if isinstance(value, list):
        return [_dec(v) for v in value]
    if isinstance(value, dict):
        if "$msg" in value:
            return Msg(value["$msg"], **{k: _dec(v) for k, v in value["args"].items()})
        if "$float" in value:
            return float(value["$float"])
        for key, cls in _CLASSES.items():
            if key in value:
                return cls(**{k: _dec(v) for k, v in value[key].items()})
        return {k: _dec(v) for k, v in value.items()}
    return value


def to_wire(value: Any) -> Any:
    """JSON-able form that keeps messages translatable (child -> parent)."""
    return _enc(value)


def from_wire(value: Any) -> Any:
    return _dec(value)
