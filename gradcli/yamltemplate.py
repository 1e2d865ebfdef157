"""Same-skeleton YAML files parsed once: a batch's files differ only in numbers.

A class hands in thousands of files that are the same text except for the
numbers written after the keys (`w1: 0.608`).  The *skeleton* of a text is
the text with every such number taken out: a plain decimal integer or
decimal fraction (`-12`, `0.608`; no exponent, no leading zeros, at most 15
digits before the point and 17 after) that follows a space and ends its
line.  The first file of a skeleton is composed by YAML as usual
(`yamlio.load_text`) and kept as a `Template` when every number taken out
is a plain scalar of exactly that text, an integer where it was written
without a point and a float where it was written with one; the next files
of the skeleton get a copy of the template's values with their own numbers
put in, and the same positions (a number ends its line, so nothing after it
moves).

Why that is the same as composing the file: YAML's scanner reads digits,
`-` and `.` alike inside a plain scalar, and a line's end ends the number,
so a file whose skeleton is equal parses into the same nodes with the other
numbers in them; the numbers are then read as YAML reads those forms
(`int(text)`, `float(text)`, all finite).  A skeleton whose template does
not meet the conditions (a number inside a block of text, a `!!str` tag, a
key written as a number...) is remembered as *not templated* and its files
are always composed.  Errors are never remembered: a file that fails is
composed, and fails as before.  Files over MAX_TEXT characters, or with the
long number lists the loader reads without YAML, are always composed; the
skeletons remembered are bounded in number and in characters (memory).
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

#: Numbers taken out of the skeleton (the capturing group), see the module doc.
_NUMBER = re.compile(r"(?<= )(-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,17})?)(?=[ \t]*$)", re.M)
MAX_TEXT = 20_000  # characters: larger files are always composed
MAX_SKELETONS = 256  # skeletons remembered (least recently used first out) ...
MAX_CHARS = 500_000  # ... and the characters of all of them together (memory: ~30 MB)
_NOT_TEMPLATED = None  # the cache's value for a skeleton whose files are composed
_KEY = "<key>"  # yamlio.KEY (the suffix of a mapping key's position)


@dataclass
class Skeleton:
    key: tuple
    numbers: list[str]  # the numbers taken out, in the text's order
    chunks: list[str]  # the text around them (len(numbers) + 1 pieces)


@dataclass
class Template:
    data: Any
    positions: dict
    text_offsets: dict
    sources: dict
    prescan: Any
    paths: list[tuple]  # where each number taken out sits in `data`


@dataclass
class Stats:
    composed: int = 0  # files composed by YAML
    reused: int = 0  # files filled into a template


class Templates:
    """The skeletons met in one batch (see the module doc)."""

    def __init__(self) -> None:
        self._table: OrderedDict[tuple, Template | None] = OrderedDict()
        self._chars = 0  # len(skeleton text) over the table
        self.stats = Stats()

    @staticmethod
    def skeleton(text: str) -> Skeleton | None:
        if len(text) > MAX_TEXT:
            return None
        parts = _NUMBER.split(text)
        numbers, chunks = parts[1::2], parts[0::2]
        kinds = "".join("f" if "." in n else "i" for n in numbers)
        return Skeleton(("\0".join(chunks), kinds), numbers, chunks)

    def fill(self, skeleton: Skeleton, name: str):
        """The Loaded of a file of a known, templated skeleton; None otherwise."""
        from gradcli.yamlio import Loaded

        template = self._table.get(skeleton.key)
        if template is None:
            return None
        self._table.move_to_end(skeleton.key)
        data = _copy(template.data)
        sources = dict(template.sources)
        for path, written in zip(template.paths, skeleton.numbers):
            value = float(written) if "." in written else int(written)
            _put(data, path, value)
            sources[path] = written
        self.stats.reused += 1
        return Loaded(data, dict(template.positions), name, dict(template.text_offsets),
                      sources, template.prescan)

    def remember(self, skeleton: Skeleton, loaded) -> None:
        """After composing a file of a new skeleton: keep it as the template when it
        meets the module doc's conditions, else remember the skeleton as not templated."""
        self.stats.composed += 1
        if skeleton.key in self._table:
            return
        self._table[skeleton.key] = _template(skeleton, loaded)
        self._chars += len(skeleton.key[0])
        while len(self._table) > MAX_SKELETONS or self._chars > MAX_CHARS:
            oldest, _ = self._table.popitem(last=False)
            self._chars -= len(oldest[0])


def _template(skeleton: Skeleton, loaded) -> Template | None:
    if loaded.prescan is None or loaded.prescan.blobs:
        return _NOT_TEMPLATED
    at: dict[tuple[int, int], tuple | None] = {}
    for path, pos in loaded.positions.items():
        if path and path[-1] == _KEY:
            continue
        at[pos] = None if pos in at else path  # two values at one place: ambiguous
    paths = []
    line, col = 1, 1
    for chunk, written in zip(skeleton.chunks, skeleton.numbers):
        breaks = chunk.count("\n")
        line, col = (line + breaks, len(chunk) - chunk.rfind("\n")) if breaks else \
            (line, col + len(chunk))
        path = at.get((line, col))
        if path is None or not _is_number_as_written(loaded, path, written):
            return _NOT_TEMPLATED
        paths.append(path)
        col += len(written)
    return Template(_copy(loaded.data), dict(loaded.positions), dict(loaded.text_offsets),
                    dict(loaded.sources), loaded.prescan, paths)


def _is_number_as_written(loaded, path: tuple, written: str) -> bool:
    try:
        value = _get(loaded.data, path)
    except (KeyError, IndexError, TypeError):
        return False
    kind = float if "." in written else int
    return (type(value) is kind and loaded.sources.get(path) == written
            and loaded.text_offsets.get(path) == 0)


def _copy(value: Any) -> Any:
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value


def _get(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data


def _put(data: Any, path: tuple, value: Any) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value
