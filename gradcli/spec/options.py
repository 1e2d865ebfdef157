"""The sections both forms share: `tolerance`, `lr` and `expect` (hand answers)."""
from __future__ import annotations

from typing import Any

from gradcli.errors import GradcliError
from gradcli.i18n import M
from gradcli.spec.common import ExpectItem, Spec, section, to_value, unknown
from gradcli.yamlio import KEY, Loaded


def read_options(spec: Spec, loaded: Loaded) -> None:
    tol = section(loaded, "tolerance", required=False)
    for key, raw in tol.items():
        if key not in ("rtol", "atol"):
            raise GradcliError(unknown(key, ("rtol", "atol"), M("tolerance key")),
                               loaded.where("tolerance", key, KEY))
        value = to_value(raw, lambda: loaded.where("tolerance", key),
                         M("tolerance {key}", key=key))
        if not isinstance(value, float) or value < 0:
            raise GradcliError(M("tolerance {key} must be a number >= 0", key=key),
                               loaded.where("tolerance", key))
        setattr(spec, key, value)
    if "lr" in loaded.data:
        lr = to_value(loaded.data["lr"], lambda: loaded.where("lr"), "lr")
        if not isinstance(lr, float) or lr <= 0:
            raise GradcliError(M("lr must be a positive number"), loaded.where("lr"))
        spec.lr = lr


def read_expect(spec: Spec, loaded: Loaded) -> None:
    """`expect`: node values, `loss`, `grad.<node>`, `update.<param>` (also nested as
    `grad:` and `update:` mappings) and `loss_after`; numbers or formula strings."""
    expect = section(loaded, "expect", required=False)
    for original, raw in expect.items():
        key = str(original)
        if key in ("grad", "update"):
            if not isinstance(raw, dict):
                raise GradcliError(M("'expect: {key}' must map names to values", key=key),
                                   loaded.where("expect", original))
            for name, value in raw.items():
                _add(spec, loaded, f"{key}.{name}", value, ("expect", original, name))
            continue
        if key == spec.loss_name and key not in spec.named:
            key = "loss"  # the tables call the loss L: accept that name too
        _add(spec, loaded, key, raw, ("expect", original))


def _add(spec: Spec, loaded: Loaded, name: str, raw: Any, path: tuple) -> None:
    kind, _, target = name.partition(".")
    if kind == "grad" and target:
        known = list(spec.named)
        if target not in spec.named:
            raise GradcliError(unknown(target, known, M("name in expect: grad")),
                               loaded.where(*path, KEY))
    elif kind == "update" and target:
        if target not in spec.params:
            raise GradcliError(unknown(target, list(spec.params),
                                       M("parameter in expect: update")),
                               loaded.where(*path, KEY))
    elif name not in ("loss", "loss_after") and name not in spec.named:
        known = ["loss", "loss_after", "grad.<name>", "update.<param>"] + list(spec.named)
        raise GradcliError(unknown(name, known, M("name in expect")),
                           loaded.where(*path, KEY))
    where = loaded.where(*path)
    if any(item.name == name for item in spec.expect):
        raise GradcliError(M("{name} is answered twice in expect", name=name),
                           loaded.where(*path, KEY))
    if isinstance(raw, str):
        from gradcli.answers import formulas

        formula = formulas.read(raw, spec, lambda col: loaded.text_where(path, col))
        spec.expect.append(ExpectItem(name, formula.value, where, formula))
        return
    spec.expect.append(ExpectItem(name, to_value(raw, where, M("expected {name}", name=name)),
                                  where))
