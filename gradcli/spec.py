"""YAML network definitions -> one expression graph (no derivative code here).

Two forms share everything downstream:
- graph form: `inputs`, `params`, `nodes` (named expressions, in order), `loss`;
- layer form: `inputs` (x, y), `layers` (dense), `loss` (a name), `seed`,
  optional `params`; layers expand into the named nodes z1, a1, ..., yhat, loss
  built from the same op table (see `layers.expand`).
Both may carry `expect` (hand answers), `tolerance` and `lr`.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from gradcli.errors import GradcliError, NonFiniteError
from gradcli.graph import Graph
from gradcli.ops import CONSTANTS, FUNCTIONS
from gradcli.parse import parse
from gradcli.yamlio import KEY, Loaded, load_file

GRAPH_KEYS = ("inputs", "params", "nodes", "loss", "expect", "tolerance", "lr",
              "name", "description")
LAYER_KEYS = ("inputs", "params", "layers", "loss", "seed", "expect", "tolerance", "lr",
              "name", "description")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
MAX_PARAMS = 100_000_000


@dataclass
class ExpectItem:
    name: str  # "loss", a node name, or "grad.<param>"
    value: Any  # float or ndarray
    where: str


@dataclass
class Spec:
    file: str
    form: str  # "graph" or "layers"
    graph: Graph
    inputs: dict[str, int] = field(default_factory=dict)  # name -> var node id
    params: dict[str, int] = field(default_factory=dict)
    bindings: dict[int, Any] = field(default_factory=dict)  # var node id -> value
    named: dict[str, int] = field(default_factory=dict)  # every name -> node id
    node_names: list[str] = field(default_factory=list)  # named nodes, in order
    node_text: dict[str, str] = field(default_factory=dict)  # name -> expression text
    uses: dict[str, list[str]] = field(default_factory=dict)  # name -> names it uses
    loss: int = -1
    loss_name: str = "L"  # how the ledger calls the loss
    loss_text: str = ""
    expect: list[ExpectItem] = field(default_factory=list)
    rtol: float = 0.01
    atol: float = 1e-8
    lr: float | None = None
    layers: Any = None  # layers.Network for the layer form
    numeric_mode: str = "full"  # layer form: "full" or "fast" (set by the numeric check)
    directional_failed: bool = False  # layer form, fast mode: a random direction failed

    def where(self, *path) -> str:
        return self._loaded.where(*path)

    _loaded: Loaded | None = None


def load(path: str) -> Spec:
    loaded = load_file(path)
    data = loaded.data
    form = "layers" if "layers" in data else "graph"
    allowed = LAYER_KEYS if form == "layers" else GRAPH_KEYS
    for key in data:
        if key not in allowed:
            raise GradcliError(_unknown(key, allowed, "section"), loaded.where(key, KEY))
    spec = Spec(path, form, Graph())
    spec._loaded = loaded
    if form == "layers":
        from gradcli import layers

        layers.build(spec, loaded)
    else:
        _build_graph_form(spec, loaded)
    _read_options(spec, loaded)
    _read_expect(spec, loaded)
    return spec


def _unknown(name: str, known, what: str) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(map(str, known))})"
    return f"unknown {what} '{name}'{hint}"


def check_name(name: Any, loaded: Loaded, *path) -> str:
    where = loaded.where(*path, KEY)
    if not isinstance(name, str) or not NAME.match(name):
        raise GradcliError(f"'{name}' is not a valid name (letters, digits and _, "
                           f"starting with a letter)", where)
    if name in FUNCTIONS:
        raise GradcliError(f"'{name}' is a function name and cannot name a value", where)
    if name in CONSTANTS:
        raise GradcliError(f"'{name}' is a constant ({name} = {CONSTANTS[name]:.6g}) "
                           f"and cannot name a value", where)
    return name


def section(loaded: Loaded, key: str, required: bool = True) -> dict:
    data = loaded.data.get(key)
    if data is None:
        if required:
            raise GradcliError(f"missing section '{key}'", loaded.path)
        return {}
    if not isinstance(data, dict):
        raise GradcliError(f"'{key}' must be a mapping of names to values",
                           loaded.where(key))
    return data


def to_value(raw: Any, where: str, what: str = "value") -> Any:
    """A YAML scalar or nested list -> float or float ndarray (finite, rectangular)."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, (str, dict)):
        shown = "a string" if isinstance(raw, str) else repr(raw)
        raise GradcliError(f"{what} must be a number or a nested list of numbers, "
                           f"not {shown}", where)
    if isinstance(raw, (int, float)):
        value = float(raw)
        if not math.isfinite(value):
            raise NonFiniteError(f"{what} must be finite, got {raw}", where)
        return value
    import numpy as np

    _check_nested(raw, where, what)
    try:
        array = np.array(raw, dtype=float)
    except (ValueError, TypeError):
        raise GradcliError(f"{what} is not a rectangular nested list of numbers "
                           f"(rows of different lengths?)", where) from None
    if array.dtype == object or array.size == 0:
        raise GradcliError(f"{what} must be a non-empty rectangular list of numbers", where)
    if not np.isfinite(array).all():
        raise NonFiniteError(f"{what} must be finite (found NaN or infinity)", where)
    return array


def _check_nested(raw: Any, where: str, what: str) -> None:
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise GradcliError(f"{what} must contain only numbers, found {item!r}", where)


# -------------------------------------------------------------- graph form ---
def _build_graph_form(spec: Spec, loaded: Loaded) -> None:
    g = spec.graph
    for kind in ("inputs", "params"):
        table = getattr(spec, kind)
        for name, raw in section(loaded, kind, required=(kind == "params")).items():
            check_name(name, loaded, kind, name)
            if name in spec.named:
                raise GradcliError(f"'{name}' is defined twice (in inputs and params)",
                                   loaded.where(kind, name, KEY))
            node_id = g.var(name)
            table[name] = node_id
            spec.named[name] = node_id
            spec.bindings[node_id] = to_value(raw, loaded.where(kind, name), f"'{name}'")
    if not spec.params:
        raise GradcliError("'params' is empty: name at least one parameter to "
                           "differentiate", loaded.where("params"))
    nodes = section(loaded, "nodes", required=False)
    texts = {}
    for name, raw in nodes.items():
        check_name(name, loaded, "nodes", name)
        if name in spec.named:
            raise GradcliError(f"node '{name}' has the name of an input or parameter",
                               loaded.where("nodes", name, KEY))
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise GradcliError(f"node '{name}' must be an expression (text)",
                               loaded.where("nodes", name))
        texts[name] = str(raw)
    uses = {name: _names_in(text) for name, text in texts.items()}
    for name, text in texts.items():
        resolve = _resolver(spec, name, texts, uses, loaded)
        parsed = parse(text, g, resolve, where=_text_where(loaded, ("nodes", name)),
                       bound=spec.named.keys() | texts.keys())
        spec.named[name] = parsed.root
        g.labels.setdefault(parsed.root, name)
        spec.node_names.append(name)
        spec.node_text[name] = text
        spec.uses[name] = [u for u in uses[name] if u in spec.named]
    _build_loss(spec, loaded, texts, uses)


def _text_where(loaded: Loaded, path: tuple):
    """Column N of the expression at `path` -> `file:line:col` in the file."""
    return lambda col: loaded.text_where(path, col)


def _names_in(text: str) -> list[str]:
    """Names an expression uses (a cheap scan, for ordering and cycle messages)."""
    found = re.findall(r"(?<![\w.])([A-Za-z_]\w*)\b(?!\s*\()", text)
    return list(dict.fromkeys(n for n in found if n not in CONSTANTS and n not in FUNCTIONS))


def _resolver(spec: Spec, current: str, texts: dict[str, str], uses: dict[str, list[str]],
              loaded: Loaded):
    def resolve(name: str, col: int) -> int:
        if name in spec.named:
            return spec.named[name]
        path = ("nodes", current) if current != "loss" else ("loss",)
        where = loaded.text_where(path, col)
        if name == current:
            raise GradcliError(f"node '{current}' uses itself", where)
        if name in texts:
            cycle = _cycle(name, current, uses)
            if cycle:
                raise GradcliError(f"cycle: {' -> '.join(cycle)}", where)
            raise GradcliError(f"node '{current}' uses '{name}', which is defined later "
                               f"(line {loaded.where('nodes', name).split(':')[-2]}); "
                               f"nodes must come after what they use", where)
        known = list(spec.named) + list(texts)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        user = f"node '{current}'" if current != "loss" else "the loss"
        raise GradcliError(f"{user} uses '{name}', which is not defined{hint}", where)

    return resolve


def _cycle(start: str, target: str, uses: dict[str, list[str]]) -> list[str] | None:
    """A path target -> start -> ... -> target through `uses`, if any."""
    stack = [(start, [target, start])]
    seen = set()
    while stack:
        name, path = stack.pop()
        for nxt in uses.get(name, []):
            if nxt == target:
                return path + [target]
            if nxt in uses and nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def _build_loss(spec: Spec, loaded: Loaded, texts: dict[str, str],
                uses: dict[str, list[str]]) -> None:
    raw = loaded.data.get("loss")
    if raw is None:
        raise GradcliError("missing 'loss': an expression or the name of a node", loaded.path)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise GradcliError("'loss' must be an expression or the name of a node",
                           loaded.where("loss"))
    text = str(raw).strip()
    spec.loss_text = text
    if text in spec.named:
        spec.loss = spec.named[text]
        spec.loss_name = text
        return
    if NAME.match(text) and text not in CONSTANTS:
        close = difflib.get_close_matches(text, list(spec.named), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise GradcliError(f"loss names '{text}', which is not defined{hint}",
                           loaded.where("loss"))
    resolve = _resolver(spec, "loss", {}, uses, loaded)
    parsed = parse(text, spec.graph, resolve, where=_text_where(loaded, ("loss",)),
                   bound=spec.named.keys() | texts.keys())
    spec.loss = parsed.root
    # The ledger calls the loss L, unless the file already uses that name.
    spec.loss_name = next(n for n in ("L", "loss", "L_total", "L_loss") if n not in spec.named
                          and n not in texts)
    spec.uses[spec.loss_name] = [u for u in _names_in(text) if u in spec.named]
    spec.graph.labels.setdefault(parsed.root, spec.loss_name)


# ---------------------------------------------------------------- options ---
def _read_options(spec: Spec, loaded: Loaded) -> None:
    tol = section(loaded, "tolerance", required=False)
    for key, raw in tol.items():
        if key not in ("rtol", "atol"):
            raise GradcliError(_unknown(key, ("rtol", "atol"), "tolerance key"),
                               loaded.where("tolerance", key, KEY))
        value = to_value(raw, loaded.where("tolerance", key), f"tolerance {key}")
        if not isinstance(value, float) or value < 0:
            raise GradcliError(f"tolerance {key} must be a number >= 0",
                               loaded.where("tolerance", key))
        setattr(spec, key, value)
    if "lr" in loaded.data:
        lr = to_value(loaded.data["lr"], loaded.where("lr"), "lr")
        if not isinstance(lr, float) or lr <= 0:
            raise GradcliError("lr must be a positive number", loaded.where("lr"))
        spec.lr = lr


def _read_expect(spec: Spec, loaded: Loaded) -> None:
    expect = section(loaded, "expect", required=False)
    for key, raw in expect.items():
        if key == "grad":
            if not isinstance(raw, dict):
                raise GradcliError("'expect: grad' must map parameter names to values",
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
            raise GradcliError(_unknown(key, known, "name in expect"),
                               loaded.where("expect", key, KEY))
        where = loaded.where("expect", key)
        spec.expect.append(ExpectItem(key, to_value(raw, where, f"expected {key}"), where))


def _add_grad_expect(spec: Spec, loaded: Loaded, pname: str, raw: Any, path: tuple) -> None:
    if pname not in spec.params:
        raise GradcliError(_unknown(pname, list(spec.params), "parameter in expect"),
                           loaded.where(*path, KEY))
    where = loaded.where(*path)
    spec.expect.append(ExpectItem(f"grad.{pname}", to_value(raw, where, f"expected grad.{pname}"),
                                  where))
