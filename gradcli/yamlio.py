"""Safe YAML loading with source positions, for untrusted input files.

The text is composed into a node graph by a `yaml.SafeLoader` subclass and
plain values (dict/list/str/int/float/bool/None) are built from the nodes
here, recording `(line, col)` (1-based) of every value under its path and of
every mapping key under path + ("<key>",).  (A mapping that itself has a key
named "<key>" makes those two paths meet; the key's position is kept.)

Refused with a GradcliError (never a traceback): any tag other than the
standard str/int/float/bool/null/seq/map (so `!!python/...` never reaches a
constructor), aliases (`*name`: no billion laughs), more than MAX_NODES nodes
or MAX_DEPTH levels of nesting (LimitError), duplicate keys, keys that are
mappings or lists, several documents, and a top level that is not a mapping.

Resolution is YAML 1.1 as in SafeLoader, with these changes:
* exponent forms without a dot or a signed exponent (`1e-3`, `2E5`, `1.5e3`,
  `-1.5e+2`), which PyYAML leaves as strings, resolve as floats;
* plain timestamps (`2020-01-01`), `=` and `<<` stay strings (no dates, no
  merge keys);
* numbers must be finite float64 values: `.nan`, `.inf`, `1e999` and
  integers beyond 1e300 in magnitude are refused, saying what was written;
  base-60 numbers (`1:30`, which YAML 1.1 reads as 90) are refused; a key
  spelled `on`/`off`/`yes`/`no`/`y`/`n` (YAML 1.1 booleans) is refused with
  the advice to quote it.

Speed (a file may hold millions of numbers): before any YAML parsing, a scan
of the text finds large flow lists made only of plain decimal numbers
(`[0.1, -2e-3, [4, 5]]`, MIN_BLOB_CHARS characters or more), counts their
values (refusing past MAX_NODES at once) and reads them directly; the rest
of the document goes through libyaml's composer when PyYAML has it (and the
text has no aliases and no deep nesting, which the pure-Python composer
refuses with exact positions), else through PyYAML's pure-Python composer.
Numbers read directly are floats.  The scan also counts the lines under each
top-level key (`Prescan`), so a caller can refuse an oversized section
before the document is composed.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import yaml
from yaml.events import AliasEvent, StreamEndEvent
from yaml.nodes import ScalarNode, SequenceNode

from gradcli import yamlscan
from gradcli.errors import GradcliError, LimitError, NonFiniteError
from gradcli.i18n import M, Msg
from gradcli.i18n.foreign import YAML, as_message

if TYPE_CHECKING:
    from gradcli.yamltemplate import Templates

MAX_BYTES = 5_000_000
MAX_NODES = 2_000_000
MAX_DEPTH = 100
#: Flow lists of plain numbers at least this long are read without YAML.
MIN_BLOB_CHARS = 2_000
#: Largest magnitude of a number in a file (numbers are finite float64 values).
MAX_MAGNITUDE = 1e300
KEY = "<key>"  # path suffix under which a mapping key's position is kept

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null")}
_TOP_LEVEL = M("the top level must be a mapping of sections (inputs, params, ...)")


class _Refused(Exception):
    """Raised inside the loader; turned into a GradcliError with the file name."""

    def __init__(self, what: Msg, mark, cls=GradcliError):
        super().__init__(what)
        self.what, self.mark, self.cls = what, mark, cls


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and caps node count and depth while composing."""

    def __init__(self, text: str, budget: int | None = None):
        super().__init__(text)
        self._depth = 0
        self._nodes = 0
        self._budget = MAX_NODES if budget is None else budget

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            raise _Refused(_ALIAS, self.peek_event().start_mark)
        self._nodes += 1
        if self._nodes > self._budget:
            raise _Refused(_too_many(), self.peek_event().start_mark, LimitError)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(_too_deep(), self.peek_event().start_mark, LimitError)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# Keep only the resolvers for the standard scalar tags, then add the exponent floats.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag in _SCALAR_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(
    _STD + "float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))

if getattr(yaml, "__with_libyaml__", False):
    class _CLoader(yaml.CSafeLoader):
        """libyaml's parser and composer with the same resolution as _Loader."""

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
else:  # pragma: no cover - PyYAML built without libyaml
    _CLoader = None

#: YAML 1.1 spellings of booleans other than true/false: refused as keys.
_YAML11_BOOLS = {"on", "off", "yes", "no", "y", "n"}


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag


@dataclass
class Loaded:
    data: Any
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    path: str = "<string>"
    #: path -> offset from a scalar's start to its text (1 if quoted), single-line scalars only
    text_offsets: dict[tuple, int] = field(default_factory=dict)
    #: path -> the text as written, for scalars that are not strings (`on`, `1e999`, `0x1F`)
    sources: dict[tuple, str] = field(default_factory=dict)
    #: the fast scan of the text made before parsing
    prescan: yamlscan.Prescan | None = None

    def source(self, *path) -> str | None:
        """How a non-string scalar was written in the file (None if unknown)."""
        return self.sources.get(tuple(path))

    def text_where(self, path: tuple, col: int) -> str:
        """`file:line:col` of column `col` (1-based) inside the text of the scalar at
        `path`, where the scalar is on one line; else the scalar's own position."""
        pos = self.positions.get(path)
        offset = self.text_offsets.get(path)
        if pos is None or offset is None:
            return self.where(*path)
        return f"{self.path}:{pos[0]}:{pos[1] + offset + col - 1}"

    def where(self, *path) -> str:
        """`file:line:col` of the deepest known prefix of `path`; the file name if none."""
        for n in range(len(path), 0, -1):
            try:
                pos = self.positions.get(tuple(path[:n]))
            except TypeError:  # an unhashable path element
                continue
            if pos is not None:
                return f"{self.path}:{pos[0]}:{pos[1]}"
        return self.path


class _Builder:
    """Plain values from composed nodes, with positions.

    After libyaml's composer (`count=True`) it also enforces what `_Loader`
    enforces while composing: the value budget, the depth, and no aliases (a
    node met twice is an alias).  Placeholders of blobs become their lists.
    """

    def __init__(self, loader, blobs: dict[str, tuple[list, int]], budget: int,
                 count: bool):
        self.loader = loader
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.text_offsets: dict[tuple, int] = {}
        self.sources: dict[tuple, str] = {}
        self.blobs = blobs
        self.budget, self.count = budget, count
        self.nodes = 0
        self.seen: set[int] = set()

    @staticmethod
    def _pos(node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    @staticmethod
    def check_tag(node, allowed) -> None:
        if node.tag not in allowed:
            raise _Refused(M("YAML tag {tag} is not allowed (only plain values, lists and "
                             "mappings)", tag=_show_tag(node.tag)), node.start_mark)

    def scalar(self, node):
        self.check_tag(node, _SCALAR_TAGS)
        name = node.tag[len(_STD):]
        if name in ("int", "float"):
            _check_number_text(node)
        try:
            if name == "str":
                return self.loader.construct_scalar(node)
            value = getattr(self.loader, "construct_yaml_" + name)(node)
        except (ValueError, KeyError, TypeError, OverflowError):
            raise _Refused(M("invalid !!{tag} value {value}", tag=name,
                             value=repr(node.value[:40])), node.start_mark) from None
        if name == "float" and not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
            raise _Refused(M("'{written}' is not a finite number within ±1e300 (NaN and "
                             "infinity cannot be used)", written=node.value[:40]),
                           node.start_mark, NonFiniteError)
        return value

    def _visit(self, node, depth: int) -> None:
        if not self.count:
            return
        if id(node) in self.seen:
            raise _Refused(_ALIAS, node.start_mark)
        self.seen.add(id(node))
        self.nodes += 1
        if self.nodes > self.budget:
            raise _Refused(_too_many(), node.start_mark, LimitError)
        if depth > MAX_DEPTH:
            raise _Refused(_too_deep(), node.start_mark, LimitError)

    def build(self, node, path: tuple, depth: int = 1):
        self._visit(node, depth)
        self.positions[path] = self._pos(node)
        if isinstance(node, ScalarNode):
            plain = not node.style  # None from PyYAML, '' from libyaml
            blob = self.blobs.get(node.value) if plain else None
            if blob is not None:
                return blob[0]
            if node.start_mark.line == node.end_mark.line and (plain or node.style in "'\""):
                self.text_offsets[path] = 0 if plain else 1
            value = self.scalar(node)
            if not isinstance(value, str):
                self.sources[path] = node.value
            return value
        kind = "seq" if isinstance(node, SequenceNode) else "map"
        self.check_tag(node, {_STD + kind})
        if kind == "seq":
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        result: dict = {}
        lines: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._visit(key_node, depth + 1)
                self.check_tag(key_node, {_STD + "seq", _STD + "map"})
                what = (M("a mapping key must be a plain value, not a list")
                        if isinstance(key_node, SequenceNode) else
                        M("a mapping key must be a plain value, not a mapping"))
                raise _Refused(what, key_node.start_mark)
            self._visit(key_node, depth + 1)
            key = self.scalar(key_node)
            if isinstance(key, bool) and not key_node.style \
                    and key_node.value.lower() in _YAML11_BOOLS:
                raise _Refused(M("YAML 1.1 reads the key '{key}' as {value}; quote it "
                                 "(\"{key}\") to use it as a name", key=key_node.value,
                                 value=str(key).lower()), key_node.start_mark)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise _Refused(M("duplicate key {key} (lines {first} and {second})",
                                 key=repr(key), first=lines[key], second=line),
                               key_node.start_mark)
            lines[key] = line
            result[key] = self.build(value_node, path + (key,), depth + 1)
            self.positions[path + (key, KEY)] = self._pos(key_node)
        return result


_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


def _check_number_text(node) -> None:
    """Refuse what YAML 1.1 would silently turn into a surprising number."""
    written = node.value
    if _SEXAGESIMAL.match(written):
        raise _Refused(M("'{written}' is read by YAML 1.1 as a base-60 number; quote it if "
                         "it is text, or write the number itself", written=written),
                       node.start_mark)
    digits = sum(ch.isdigit() for ch in written)
    if node.tag == _STD + "int" and digits > 300:
        raise _Refused(yamlscan.integer_too_large(written), node.start_mark)


def _at(name: str, mark) -> str:
    return f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name


def _yaml_error(exc: yaml.YAMLError, name: str, text: str) -> GradcliError:
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[:exc.position]
        line, col = before.count("\n") + 1, len(before) - before.rfind("\n")
        return GradcliError(_control_character(exc.character)
                            if isinstance(exc.character, int) else str(exc), f"{name}:{line}:{col}")
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = as_message(exc.problem, YAML) if exc.problem else None
        context = as_message(exc.context, YAML) if exc.context else None
        if problem is not None and context is not None:
            mark = exc.context_mark
            what = (M("{problem} ({context} at line {line}, column {column})", problem=problem,
                      context=context, line=mark.line + 1, column=mark.column + 1)
                    if mark is not None else
                    M("{problem} ({context})", problem=problem, context=context))
        else:
            what = problem or context or M("invalid YAML")
        return GradcliError(M("YAML syntax error: {what}", what=what),
                            _at(name, exc.problem_mark or exc.context_mark))
    return GradcliError(M("YAML error: {error}", error=str(exc)), name)


_ALIAS = M("YAML aliases are not supported (*name)")
_EMPTY = M("empty file (no YAML content)")
_NUL = M("not a text file (contains NUL bytes)")
_SEVERAL = M("more than one YAML document (---) in the file; give one")


def _too_many() -> Msg:
    return M("too many YAML values (the limit is {limit})", limit=f"{MAX_NODES:,}")


def _too_deep() -> Msg:
    return M("YAML nested too deeply (the limit is {limit} levels)", limit=MAX_DEPTH)


def _over_limit() -> Msg:
    return M("too many YAML values: more than {limit} (the limit)", limit=f"{MAX_NODES:,}")


def _control_character(code: int) -> Msg:
    return M("not a text file (control character #x{code})", code=f"{code:04x}")


def load_text(text: str, name: str = "<string>",
              check_prescan: Callable[[yamlscan.Prescan], None] | None = None,
              templates: Templates | None = None) -> Loaded:
    """Parse one YAML document whose top level is a mapping; see the module doc.

    `check_prescan`, if given, sees the fast scan of the text before anything
    is parsed and may refuse the file (e.g. a section with too many entries).
    `templates` (a batch's): a file that differs from an earlier one only in
    its numbers is filled into that file's values (`gradcli.yamltemplate`).
    """
    if "\0" in text:
        raise GradcliError(_NUL, name)
    if not text.strip():
        raise GradcliError(_EMPTY, name)
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad:
        before = text[:bad.start()]
        line, col = before.count("\n") + 1, len(before) - before.rfind("\n")
        raise GradcliError(_control_character(ord(bad.group())), f"{name}:{line}:{col}")
    skeleton = templates.skeleton(text) if templates is not None else None
    if skeleton is not None:
        filled = templates.fill(skeleton, name)
        if filled is not None:
            if check_prescan is not None:
                check_prescan(filled.prescan)
            return filled
    loaded = _load_text(text, name, check_prescan)
    if skeleton is not None:
        templates.remember(skeleton, loaded)
    return loaded


def _load_text(text: str, name: str,
               check_prescan: Callable[[yamlscan.Prescan], None] | None) -> Loaded:
    try:
        scan = yamlscan.prescan(text, MIN_BLOB_CHARS, MAX_NODES, check_prescan)
    except yamlscan.TooManyValues as exc:
        raise LimitError(_over_limit(), _offset_where(name, text, exc.offset)) from None
    blobs = _read_blobs(text, scan, name)
    if scan.blobs:
        text = yamlscan.replace_blobs(text, scan.blobs)
    budget = MAX_NODES - sum(b.count for b in scan.blobs)
    fast = _CLoader is not None and not scan.may_alias and scan.depth_estimate < MAX_DEPTH // 2
    root, builder = _compose(text, name, blobs, budget, fast)
    data = builder.data
    if not isinstance(data, dict):
        raise GradcliError(_TOP_LEVEL, _at(name, root.start_mark))
    return Loaded(data, builder.positions, name, builder.text_offsets, builder.sources,
                  scan)


def _read_blobs(text: str, scan: yamlscan.Prescan, name: str) -> dict[str, tuple[list, int]]:
    """The lists read by the scan, by placeholder, after the count and finiteness checks."""
    total = 0
    for blob in scan.blobs:
        total += blob.count
        if total > MAX_NODES:
            raise LimitError(_over_limit(), _offset_where(name, text, blob.start))
    out = {}
    for i, blob in enumerate(scan.blobs):
        try:
            yamlscan.check_blob(text, blob, MAX_MAGNITUDE)
        except yamlscan.BlobError as exc:
            raise NonFiniteError(exc.what, _offset_where(name, text, exc.offset)) from None
        out[yamlscan.placeholder(i)] = (blob.value, blob.count)
    return out


def _offset_where(name: str, text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    col = offset - text.rfind("\n", 0, offset)
    return f"{name}:{line}:{col}"


def _compose(text: str, name: str, blobs: dict, budget: int, fast: bool):
    """The root node, and the builder holding the plain values built from it."""
    loader = _CLoader(text) if fast else _Loader(text, budget)
    try:
        if fast:
            root = loader.get_single_node()
            if root is None:
                raise GradcliError(_EMPTY, name)
        else:
            loader.get_event()  # stream start
            if loader.check_event(StreamEndEvent):
                raise GradcliError(_EMPTY, name)
            root = loader.compose_document()
            if not loader.check_event(StreamEndEvent):
                raise _Refused(_SEVERAL, loader.peek_event().start_mark)
        builder = _Builder(loader, blobs, budget, count=fast)
        builder.data = builder.build(root, ())
    except _Refused as exc:
        raise exc.cls(exc.what, _at(name, exc.mark)) from None
    except yaml.composer.ComposerError as exc:
        if fast and "single document" in f"{exc.problem} {exc.context}":
            raise GradcliError(_SEVERAL, _at(name, exc.problem_mark)) from None
        raise _yaml_error(exc, name, text) from None
    except yaml.YAMLError as exc:
        if fast and len(text) < 200_000:  # the pure-Python parser's messages are clearer
            return _compose(text, name, blobs, budget, fast=False)
        raise _yaml_error(exc, name, text) from None
    except RecursionError:
        raise LimitError(M("YAML nested too deeply"), name) from None
    finally:
        loader.dispose()
    return root, builder


def load_file(path: str, max_bytes: int = MAX_BYTES,
              check_prescan: Callable[[yamlscan.Prescan], None] | None = None,
              templates: Templates | None = None) -> Loaded:
    """Read `path` (size checked before reading, UTF-8 only) and `load_text` it."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise GradcliError(M("is a directory"), path)
        if not stat.S_ISREG(st.st_mode):
            raise GradcliError(M("not a regular file"), path)
        if st.st_size > max_bytes:
            raise LimitError(M("file too large: {size} bytes (the limit is {limit})",
                               size=f"{st.st_size:,}", limit=f"{max_bytes:,}"), path)
        with open(path, "rb") as f:
            data = f.read(st.st_size + 1)  # (not max_bytes: that is allocated at once)
            if len(data) > st.st_size:  # it grew after the stat
                data += f.read(max_bytes + 1 - len(data))
    except (FileNotFoundError, NotADirectoryError):
        raise GradcliError(M("no such file"), path) from None
    except PermissionError:
        raise GradcliError(M("permission denied (cannot read the file)"), path) from None
    except IsADirectoryError:
        raise GradcliError(M("is a directory"), path) from None
    except OSError as exc:
        raise GradcliError(M("cannot read the file: {reason}", reason=exc.strerror or str(exc)),
                           path) from None
    if len(data) > max_bytes:  # it grew after the stat
        raise LimitError(M("file too large: more than {limit} bytes", limit=f"{max_bytes:,}"),
                         path)
    if not data:
        raise GradcliError(M("empty file"), path)
    if b"\0" in data:
        raise GradcliError(_NUL, path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[start:exc.start].decode("utf-8", "replace")) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        raise GradcliError(M("not a text file (not UTF-8)"), f"{path}:{line}:{col}") from None
    return load_text(text, path, check_prescan, templates)
