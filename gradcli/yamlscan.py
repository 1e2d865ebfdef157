"""A fast look at YAML text before it is parsed: big number lists, sections, depth.

PyYAML's pure-Python parser costs about 150 µs per value, so a file with a
million numbers would take minutes.  Network files hold their bulk in flow
lists of plain numbers (`W1: [[0.1, 0.2], [0.3, 0.4]]`), so this module:

- finds such lists (`Blob`: at least `min_chars` characters of digits, signs,
  dots, exponents, commas, brackets and whitespace, balanced, in a value
  position) and reads them directly into nested lists of floats, checking the
  flow-sequence grammar (`[a, b, [c, d],]`) as YAML would;
- counts values before reading them, so an oversized file is refused at once;
- counts the lines under each top-level key (`Prescan.sections`), and
  estimates the nesting depth and whether aliases may occur, so the loader
  can pick libyaml's fast composer only where it is safe.

Anything it is not sure about is left to YAML: a list with a comment, a
string, `1_000`, `0x1F` or a sexagesimal number inside is not a blob.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from gradcli.i18n import M, Msg

_BLOB_CHARS = re.compile(r"[0-9eE+\-.,\s\[\]]*")
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_TOKEN = re.compile(rf"\s*(\[|\]|,|{_NUMBER})\s*")
_ALIAS_OR_ANCHOR = re.compile(r"(?:^|[\s\[\{,])[&*][^\s,\[\]\{\}]", re.M)
_SECTION = re.compile(r"^([^\s#\-][^:#]*?)\s*:(?:\s|$)")


@dataclass
class Blob:
    start: int  # offset of '['
    end: int  # offset after the matching ']'
    count: int  # number of values
    value: list | None = None  # filled by `read`


@dataclass
class Prescan:
    #: top-level key text -> (1-based line, number of non-blank, non-comment lines under it)
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: top-level key text -> `key:` lines at the indentation of its first line: the
    #: entries of a block mapping (values' own lines are deeper, or are list items or
    #: flow rows, which are not `key:` lines)
    entries: dict[str, int] = field(default_factory=dict)
    blobs: list[Blob] = field(default_factory=list)
    may_alias: bool = False  # an `&name` or `*name` may be in the text
    depth_estimate: int = 0  # an upper bound on the nesting of the rest of the text


class BlobError(Exception):
    """A number in a blob that cannot be used (not finite, or too large)."""

    def __init__(self, what: Msg, offset: int):
        super().__init__(what)
        self.what, self.offset = what, offset


def prescan(text: str, min_chars: int, max_values: int | None = None,
            check: Callable[[Prescan], None] | None = None) -> Prescan:
    """The scan; `check(scan)` runs once the sections are counted, before the
    slower estimates, so a caller's refusal costs little."""
    scan = Prescan()
    scan.blobs = find_blobs(text, min_chars, max_values)
    scan.sections, scan.entries = _sections(text)
    if check is not None:
        check(scan)
    rest = _without_blobs(text, scan.blobs)
    scan.may_alias = bool(_ALIAS_OR_ANCHOR.search(rest))
    scan.depth_estimate = _depth_estimate(rest)
    return scan


def placeholder(index: int) -> str:
    return f"GRADCLIBLOB{index:07d}"


def replace_blobs(text: str, blobs: list[Blob]) -> str:
    """The text with each blob replaced by its placeholder, padded to keep every
    other character at its line and column."""
    out, pos = [], 0
    for i, blob in enumerate(blobs):
        out.append(text[pos:blob.start])
        span = text[blob.start:blob.end]
        name = placeholder(i)
        first, sep, tail = span.partition("\n")
        out.append(name + " " * (len(first) - len(name)))
        if sep:
            out.append("".join("\n" if ch == "\n" else " " for ch in sep + tail))
        pos = blob.end
    out.append(text[pos:])
    return "".join(out)


def _without_blobs(text: str, blobs: list[Blob]) -> str:
    if not blobs:
        return text
    parts, pos = [], 0
    for blob in blobs:
        parts.append(text[pos:blob.start])
        pos = blob.end
    parts.append(text[pos:])
    return " ".join(parts)


# ------------------------------------------------------------------- blobs ---
class TooManyValues(Exception):
    """More values than allowed, found by counting separators (before reading)."""

    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


def find_blobs(text: str, min_chars: int, max_values: int | None = None) -> list[Blob]:
    """Candidate number lists, each read and checked against the flow grammar.

    With `max_values`, raises TooManyValues as soon as a lower bound of the
    values seen (commas + 1 - brackets per list) passes it, before reading.
    """
    blobs: list[Blob] = []
    pos, lower = 0, 0
    while True:
        i = text.find("[", pos)
        if i < 0:
            return blobs
        run_end = _BLOB_CHARS.match(text, i).end()
        pos = run_end if run_end > i + 1 else i + 1
        if run_end - i < min_chars or not _value_position(text, i):
            continue
        end = _matching_bracket(text, i, run_end)
        if end is None or end - i < min_chars or not _ends_cleanly(text, end):
            continue
        lower += text.count(",", i, end) + 1 - text.count("[", i, end)
        if max_values is not None and lower > max_values:
            raise TooManyValues(i)
        blob = Blob(i, end, 0)
        try:
            blob.value, blob.count = _read(text, i, end)
        except ValueError:  # not a plain list of numbers: YAML reads it
            continue
        blobs.append(blob)
        pos = end


def _value_position(text: str, i: int) -> bool:
    """Is the '[' at i where a YAML value starts (not in a string or a comment)?"""
    line_start = text.rfind("\n", 0, i) + 1
    prefix = text[line_start:i]
    if "#" in prefix or '"' in prefix or "'" in prefix:
        return False
    stripped = prefix.rstrip()
    return stripped == "" or stripped.endswith((":", "-", "[", ","))


def _matching_bracket(text: str, i: int, limit: int) -> int | None:
    depth = 0
    for m in re.finditer(r"[\[\]]", text[i:limit]):
        depth += 1 if m.group() == "[" else -1
        if depth == 0:
            return i + m.end()
    return None


_CLEAN_END = re.compile(r"[ \t]*(#.*)?(?:\r?\n|$)|[ \t]*[,\]\}]")
#: A number with a leading zero (`012`, `-05`) is octal or text in YAML 1.1.
_LEADING_ZERO = re.compile(r"(?:^|[\s,\[])[-+]?0[0-9]")


def _ends_cleanly(text: str, end: int) -> bool:
    return _CLEAN_END.match(text, end) is not None


def _read(text: str, start: int, end: int) -> tuple[list, int]:
    """(nested list of floats, count) of text[start:end]; ValueError if it is not
    a flow list of plain decimal numbers."""
    span = text[start:end]
    if _LEADING_ZERO.search(span):
        raise ValueError("leading zero")
    inner = span[1:-1]
    if "[" not in inner and "]" not in inner:
        parts = inner.split(",")
        if len(parts) > 1 and not parts[-1].strip():
            parts.pop()  # a trailing comma
        if len(parts) == 1 and not parts[0].strip():
            return [], 0
        return [float(p) for p in parts], len(parts)  # float() refuses '', '1 2', '1e'
    return _read_nested(span)


def _read_nested(span: str) -> tuple[list, int]:
    stack: list[list] = []
    value: list = []
    count, expect_item = 0, True  # expect_item: after '[' or ','
    pos, end = 0, len(span)
    while pos < end:
        m = _TOKEN.match(span, pos)
        if m is None:
            raise ValueError("not a number list")
        tok = m.group(1)
        pos = m.end()
        if tok == "[":
            if not expect_item or len(stack) >= MAX_BLOB_DEPTH:
                raise ValueError("misplaced or too deep '['")
            stack.append([])
        elif tok == "]":
            if not stack:
                raise ValueError("unbalanced")
            done = stack.pop()
            if stack:
                stack[-1].append(done)
            else:
                value = done
            expect_item = False
        elif tok == ",":
            if expect_item:  # `[,` or `,,`
                raise ValueError("empty item")
            expect_item = True
        else:
            if not expect_item or not stack:
                raise ValueError("missing comma")
            stack[-1].append(float(tok))
            count += 1
            expect_item = False
    if stack:
        raise ValueError("unbalanced")
    return value, count


#: Deeper lists are left to YAML (which refuses too deep nesting with its position).
MAX_BLOB_DEPTH = 32


def check_blob(text: str, blob: Blob, limit: float) -> None:
    """Refuse a number that is not finite or beyond `limit` (BlobError with its offset)."""
    if _is_flat(blob.value):
        _check_numbers(blob.value, text, blob, limit)
    else:
        _check_nested(blob.value, text, blob, limit)


def _is_flat(value: list) -> bool:
    return not value or not isinstance(value[0], list)


def _check_numbers(values: list[float], text: str, blob: Blob, limit: float) -> None:
    if not values or (max(values) <= limit and min(values) >= -limit):
        return
    for k, v in enumerate(values):
        if not -limit <= v <= limit:  # also False for NaN
            raise BlobError(_number_problem(_nth_number(text, blob, k)),
                            _offset_of_nth(text, blob, k))


def _check_nested(value: list, text: str, blob: Blob, limit: float) -> None:
    k, stack = 0, [iter(value)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item, list):
            stack.append(iter(item))
        else:
            if not -limit <= item <= limit:
                raise BlobError(_number_problem(_nth_number(text, blob, k)),
                                _offset_of_nth(text, blob, k))
            k += 1


def _nth_number(text: str, blob: Blob, k: int) -> str:
    for j, m in enumerate(re.finditer(_NUMBER, text[blob.start:blob.end])):
        if j == k:
            return m.group()
    return "?"


def _offset_of_nth(text: str, blob: Blob, k: int) -> int:
    for j, m in enumerate(re.finditer(_NUMBER, text[blob.start:blob.end])):
        if j == k:
            return blob.start + m.start()
    return blob.start


def _number_problem(written: str) -> Msg:
    digits = sum(ch.isdigit() for ch in written.partition("e")[0].partition("E")[0])
    if "." not in written and "e" not in written.lower() and digits > 300:
        return integer_too_large(written)
    return M("'{written}' is not a finite number within ±1e300 (numbers must be finite)",
             written=written)


def integer_too_large(written: str) -> Msg:
    digits = sum(ch.isdigit() for ch in written)
    return M("integer too large: {digits} digits (numbers must be finite float64 values, at "
             "most 1e300 in magnitude)", digits=f"{digits:,}")


# ------------------------------------------------------------ rest of text ---
def _depth_estimate(text: str) -> int:
    """An upper bound on YAML nesting: indentation levels + dashes + flow brackets."""
    worst = 0
    indents: list[int] = [0]
    for line in text.splitlines():
        body = line.lstrip(" ")
        if not body or body.startswith("#"):
            continue
        indent = len(line) - len(body)
        while indents and indent < indents[-1]:
            indents.pop()
        if not indents or indent > indents[-1]:
            indents.append(indent)
        dashes = len(body) - len(body.lstrip("- ")) if body[0] == "-" else 0
        brackets = _max_bracket_depth(body) if ("[" in body or "{" in body) else 0
        worst = max(worst, len(indents) + dashes + brackets)
    return worst


def _max_bracket_depth(line: str) -> int:
    depth = best = 0
    for ch in line:
        if ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return best


def _sections(text: str) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Top-level key -> (line, non-blank non-comment lines until the next top-level key),
    and top-level key -> its entries (`key:` lines at the indentation of its first line)."""
    sections: dict[str, tuple[int, int]] = {}
    entries: dict[str, int] = {}
    current, line_no, count, indent, at_indent = None, 0, 0, -1, 0
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            m = _SECTION.match(line)
            if current is not None:
                sections[current] = (line_no, count)
                entries[current] = at_indent
            current, line_no, count = (m.group(1).strip("'\"") if m else None), n, 0
            indent, at_indent = -1, 0
            continue
        count += 1
        width = len(line) - len(line.lstrip())
        if indent < 0:
            indent = width
        if width == indent and _SECTION.match(line[width:]):
            at_indent += 1
    if current is not None:
        sections[current] = (line_no, count)
        entries[current] = at_indent
    return sections, entries
