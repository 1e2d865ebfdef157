"""The graph form: `inputs`, `params`, `nodes` (named expressions, in order), `loss`."""
from __future__ import annotations

import difflib
import re

from gradcli.errors import GradcliError
from gradcli.i18n import M
from gradcli.ops import CONSTANTS, FUNCTIONS
from gradcli.parse import parse
from gradcli.spec.common import NAME, Spec, check_name, section, to_value
from gradcli.yamlio import KEY, Loaded

KEYS = ("inputs", "params", "nodes", "loss", "expect", "tolerance", "lr", "name",
        "description")


def build(spec: Spec, loaded: Loaded) -> None:
    g = spec.graph
    for kind in ("inputs", "params"):
        table = getattr(spec, kind)
        for name, raw in section(loaded, kind, required=(kind == "params")).items():
            check_name(name, loaded, kind, name)
            if name in spec.named:
                raise GradcliError(M("'{name}' is defined twice (in inputs and params)",
                                     name=name), loaded.where(kind, name, KEY))
            spec.locations.add(len(g), (kind, name), written=False)
            node_id = g.var(name)
            table[name] = node_id
            spec.named[name] = node_id
            spec.bindings[node_id] = to_value(raw, lambda: loaded.where(kind, name),
                                              f"'{name}'")
    if not spec.params:
        raise GradcliError(M("'params' is empty: name at least one parameter to "
                             "differentiate"), loaded.where("params"))
    from gradcli import structure_cache

    # the expressions are the same in every file of a class: parsed once per call
    structure_cache.shared_nodes(spec, loaded, _build_nodes)


def _build_nodes(spec: Spec, loaded: Loaded) -> None:
    """Nodes and loss -> graph (after the inputs and params, which hold the values)."""
    g = spec.graph
    texts = _node_texts(spec, loaded)
    uses = {name: _names_in(text) for name, text in texts.items()}
    bound = spec.named.keys() | texts.keys()  # once: per node it made loading quadratic
    for name, text in texts.items():
        resolve = _resolver(spec, name, texts, uses, loaded)
        spec.locations.add(len(g), ("nodes", name), written=True)
        parsed = parse(text, g, resolve, where=_text_where(loaded, ("nodes", name)),
                       bound=bound)
        spec.named[name] = parsed.root
        g.labels.setdefault(parsed.root, name)
        spec.node_names.append(name)
        spec.node_text[name] = text
        spec.uses[name] = [u for u in uses[name] if u in spec.named]
    _build_loss(spec, loaded, texts, uses)


def _node_texts(spec: Spec, loaded: Loaded) -> dict[str, str]:
    texts = {}
    for name, raw in section(loaded, "nodes", required=False).items():
        check_name(name, loaded, "nodes", name)
        if name in spec.named:
            raise GradcliError(M("node '{name}' has the name of an input or parameter",
                                 name=name), loaded.where("nodes", name, KEY))
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise GradcliError(M("node '{name}' must be an expression (text)", name=name),
                               loaded.where("nodes", name))
        # a number is read as the user wrote it (`5`, `1.5e3`), so that messages and
        # columns refer to that text, not to Python's spelling of the value
        texts[name] = raw if isinstance(raw, str) else \
            loaded.source("nodes", name) or str(raw)
    return texts


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
            raise GradcliError(M("node '{name}' uses itself", name=current), where)
        if name in texts:
            cycle = _cycle(name, current, uses)
            if cycle:
                raise GradcliError(M("cycle: {cycle}", cycle=" -> ".join(cycle)), where)
            line = loaded.where("nodes", name).split(":")[-2]
            raise GradcliError(M("node '{node}' uses '{name}', which is defined later (line "
                                 "{line}); nodes must come after what they use",
                                 node=current, name=name, line=line), where)
        close = difflib.get_close_matches(name, list(spec.named) + list(texts), n=1)
        if current == "loss":
            what = M("the loss uses '{name}', which is not defined", name=name)
        else:
            what = M("node '{node}' uses '{name}', which is not defined", node=current,
                     name=name)
        if close:
            what = M("{what}; did you mean '{close}'?", what=what, close=close[0])
        raise GradcliError(what, where)

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
        raise GradcliError(M("missing 'loss': an expression or the name of a node"),
                           loaded.path)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise GradcliError(M("'loss' must be an expression or the name of a node"),
                           loaded.where("loss"))
    text = (raw if isinstance(raw, str) else loaded.source("loss") or str(raw)).strip()
    spec.loss_text = text
    if text in spec.named:
        spec.loss = spec.named[text]
        spec.loss_name = text
        return
    if NAME.match(text) and text not in CONSTANTS:
        close = difflib.get_close_matches(text, list(spec.named), n=1)
        what = M("loss names '{name}', which is not defined", name=text)
        if close:
            what = M("{what}; did you mean '{close}'?", what=what, close=close[0])
        raise GradcliError(what, loaded.where("loss"))
    resolve = _resolver(spec, "loss", {}, uses, loaded)
    spec.locations.add(len(spec.graph), ("loss",), written=True)
    parsed = parse(text, spec.graph, resolve, where=_text_where(loaded, ("loss",)),
                   bound=spec.named.keys() | texts.keys())
    spec.loss = parsed.root
    # The ledger calls the loss L, unless the file already uses that name.
    spec.loss_name = next(n for n in ("L", "loss", "L_total", "L_loss") if n not in spec.named
                          and n not in texts)
    spec.uses[spec.loss_name] = [u for u in _names_in(text) if u in spec.named]
    spec.graph.labels.setdefault(parsed.root, spec.loss_name)
