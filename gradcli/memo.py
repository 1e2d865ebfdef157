"""SymPy results that depend only on a network, remembered across the files of one run.

A grader checks one exercise for many students (`gradcli check s*.yaml`):
the files share the network and its point and differ in their `expect`
answers.  The SymPy parts of a check -- the symbolic gradients at the point
and the ledger's local derivatives as text -- are the slow ones, and they
are the same for every such file, so each is computed once per process.

The store is active only between `begin()` and `end()` (or inside
`session()`), which `gradcli check` opens around its files: a library call (`check.run`, `gradcli.check_file`, the
pytest plugin) computes everything afresh, as before.

A key holds everything the result depends on: the graph's structure (each
node's op, arguments, constant value and name) and, for values at a point,
the point itself; files that differ in anything get their own entry.  Only
finished results are stored (a SymPy timeout is tried again for the next
file), at most MAX_ENTRIES of them (the oldest go first), and callers get
copies, so no report shares an array with another.
"""
from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Hashable, Iterator

MAX_ENTRIES = 64
_store: OrderedDict[Hashable, Any] = OrderedDict()
_active = 0  # open sessions


def begin() -> None:
    """Start sharing results between the files checked from here (see `session`)."""
    global _active
    _active += 1


def end() -> None:
    """Stop sharing (the last `end` forgets every result)."""
    global _active
    _active = max(_active - 1, 0)
    if not _active:
        _store.clear()


@contextmanager
def session() -> Iterator[None]:
    """Share results between the files checked inside the block; forget them after."""
    begin()
    try:
        yield
    finally:
        end()


def value_key(value: Any) -> Hashable:
    """A float as itself; an array by its dtype, shape and bytes."""
    if value is None or isinstance(value, (float, int, str)):
        return value
    return (str(value.dtype), value.shape, value.tobytes())


def graph_key(graph, upto: int) -> tuple:
    """The structure of nodes 0..upto: what any result computed from them depends on."""
    return tuple((n.op, n.args, value_key(n.value), n.name) for n in graph.nodes[:upto + 1])


def get(key: Hashable) -> Any:
    """A copy of the stored result, or None (always None outside a session)."""
    if not _active:
        return None
    found = _store.get(key)
    if found is None:
        return None
    _store.move_to_end(key)
    return _copy(found)


def put(key: Hashable, result: Any) -> None:
    if not _active:
        return
    _store[key] = _copy(result)
    _store.move_to_end(key)
    while len(_store) > MAX_ENTRIES:
        _store.popitem(last=False)


def clear() -> None:
    _store.clear()


def _copy(result: Any) -> Any:
    if isinstance(result, dict):
        return {k: v.copy() if hasattr(v, "copy") and not isinstance(v, (str, dict)) else v
                for k, v in result.items()}
    return result
