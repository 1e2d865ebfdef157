"""Expression graphs: nodes in construction order.

A node's arguments always come earlier in `Graph.nodes`, so the list order is
a topological order by construction and every traversal is a plain loop (no
recursion: a 10,000-deep chain is as easy as a short one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcli.errors import LimitError
from gradcli.i18n import M
from gradcli.ops import OPS

CONST = "const"
VAR = "var"

#: Refused at this many nodes or more (the contract's limit).
MAX_NODES = 50_000


class GraphTooLarge(LimitError):
    """MAX_NODES reached while building (`where` is "expression" until a caller that
    knows the file, such as the spec loader, names the place)."""


@dataclass(slots=True)
class Node:
    op: str  # CONST, VAR, or a key of ops.OPS
    args: tuple[int, ...] = ()
    value: Any = None  # the constant's value, for CONST
    name: str | None = None  # the variable's name, for VAR
    col: int | None = None  # 1-based column in the source text, for errors


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    variables: dict[str, int] = field(default_factory=dict)
    #: node id -> the name a file gave it (graph form) or a layer value name
    labels: dict[int, str] = field(default_factory=dict)
    max_nodes: int = MAX_NODES

    def _append(self, node: Node) -> int:
        if len(self.nodes) + 1 >= self.max_nodes:
            raise GraphTooLarge(M("graph too large: {limit:,} nodes or more are refused",
                                  limit=self.max_nodes), "expression")
        self.nodes.append(node)
        return len(self.nodes) - 1

    def const(self, value: Any, col: int | None = None) -> int:
        return self._append(Node(CONST, (), value, None, col))

    def var(self, name: str, col: int | None = None) -> int:
        """The variable node called `name`, created on first use."""
        if name not in self.variables:
            self.variables[name] = self._append(Node(VAR, (), None, name, col))
        return self.variables[name]

    def apply(self, op: str, *args: int, col: int | None = None) -> int:
        spec = OPS[op]
        if len(args) != spec.arity:
            raise ValueError(f"{op} takes {spec.arity} arguments, got {len(args)}")
        return self._append(Node(op, tuple(args), None, None, col))

    def __len__(self) -> int:
        return len(self.nodes)

    def ancestors(self, root: int) -> list[int]:
        """Ids of the nodes `root` depends on (itself included), in topological order."""
        needed = bytearray(root + 1)
        needed[root] = 1
        for i in range(root, -1, -1):
            if needed[i]:
                for a in self.nodes[i].args:
                    needed[a] = 1
        return [i for i in range(root + 1) if needed[i]]

    def depends_on(self, targets: set[int], upto: int | None = None) -> bytes:
        """Flag per node: does it depend on any node in `targets`?

        Within a batch, same-shaped files ask the same questions of their
        structure's nodes (`structure_cache.memo`): answered once."""
        from gradcli.structure_cache import memo_upto

        last = len(self.nodes) if upto is None else upto + 1
        shared = memo_upto(self, last - 1)
        if shared is None:
            return self._depends_on(targets, last)
        key = ("depends_on", frozenset(targets), last)
        flags = shared.get(key)
        if flags is None:
            flags = shared[key] = self._depends_on(targets, last)
        return flags

    def _depends_on(self, targets: set[int], last: int) -> bytes:
        flags = bytearray(last)
        for i in range(last):
            if i in targets:
                flags[i] = 1
            else:
                for a in self.nodes[i].args:
                    if flags[a]:
                        flags[i] = 1
                        break
        return bytes(flags)

    def dependents(self, start: int, users: list[list[int]]) -> list[int]:
        """The nodes that depend on node `start` (itself excluded), in order, found by
        walking `users` (from `consumers`) forward: the cost is the size of the answer,
        not of the graph, so asking for every parameter stays linear in the work."""
        seen = {start}
        stack = [start]
        while stack:
            for u in users[stack.pop()]:
                if u not in seen:
                    seen.add(u)
                    stack.append(u)
        seen.discard(start)
        return sorted(seen)

    def consumers(self, upto: int | None = None) -> list[list[int]]:
        """For each node, the nodes that use it as an argument."""
        last = len(self.nodes) if upto is None else upto + 1
        users: list[list[int]] = [[] for _ in range(last)]
        for i in range(last):
            for a in self.nodes[i].args:
                users[a].append(i)
        return users

    def first_tensor_op(self, root: int, start: int = 0) -> int | None:
        """The first node (from `start`) that `root` uses whose op needs tensors (`@`,
        sum, softmax, ...): scalar-only commands refuse it with their own reason."""
        for i in self.ancestors(root):
            node = self.nodes[i]
            if i >= start and node.op in OPS and not OPS[node.op].elementwise:
                return i
        return None

    def free_variables(self, root: int) -> list[str]:
        return [self.nodes[i].name for i in self.ancestors(root) if self.nodes[i].op == VAR]
