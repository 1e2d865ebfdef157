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
        value = to_value(raw, loaded.where("tolerance", key), M("tolerance {key}", key=key))
        if not isinstance(value, float) or value < 0:
            raise GradcliError(M("tolerance {key} must be a number >= 0", key=key),
                               loaded.where("tolerance", key))
        setattr(spec, key, value)
    if "lr" in loaded.data:
        lr = to_value(loaded.data["lr"], loaded.where("lr"), "lr")
        if not isinstance(lr, float) or lr <= 0:
            raise GradcliError(M("lr must be a positive number"), loaded.where("lr"))
        spec.lr = lr


def read_expect(spec: Spec, loaded: Loaded) -> None:
    expect = section(loaded, "expect", required=False)
    for key, raw in expect.items():
        if key == "grad":
            if not isinstance(raw, dict):
                raise GradcliError(M("'expect: grad' must map parameter names to values"),
                                   loaded.where("expect", "grad"))
            for pname, praw in raw.items():
                _add_grad_expect(spec, loaded, str(pname), praw, ("expect", "grad", pname))
            continue
        key = str(key)
        if key == spec.loss_name and key not in spec.named:
            key = "loss"  # the tables call the loss L: accept that name too
        if key.startswith("grad."):
            _add_grad_expect(spec, loaded, key[5:], raw, ("expect", key))
            continue
        if key != "loss" and key not in spec.named:
            known = ["loss", "grad.<param>"] + list(spec.named)
            raise GradcliError(unknown(key, known, M("name in expect")),
                               loaded.where("expect", key, KEY))
        where = loaded.where("expect", key)
        value = to_value(raw, where, M("expected {name}", name=key))
        spec.expect.append(ExpectItem(key, value, where))


def _add_grad_expect(spec: Spec, loaded: Loaded, pname: str, raw: Any, path: tuple) -> None:
    if pname not in spec.params:
        raise GradcliError(unknown(pname, list(spec.params), M("parameter in expect")),
                           loaded.where(*path, KEY))
    where = loaded.where(*path)
    name = f"grad.{pname}"
    spec.expect.append(ExpectItem(name, to_value(raw, where, M("expected {name}", name=name)),
                                  where))
