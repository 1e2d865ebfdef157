"""Terminal columns of text with wide characters (Korean takes two columns a letter).

One measure for every plain-text printer (help text, the train plot and
tables, caret lines under expressions): East Asian wide and full-width
characters count 2, combining marks and format characters 0, the rest 1,
as `wcwidth` does for the characters gradcli prints.  Rich measures its own
table cells the same way.
"""
from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Columns taken by `text` on a terminal."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int, align: str = "<") -> str:
    """`text` padded with spaces to `width` columns (`<` left, `>` right, `^` centre)."""
    room = max(0, width - display_width(text))
    if align == ">":
        return " " * room + text
    if align == "^":
        return " " * (room // 2) + text + " " * (room - room // 2)
    return text + " " * room


def wrap(text: str, width: int) -> list[str]:
    """`text` broken at spaces into lines of at most `width` columns (a longer
    word is cut).  Korean separates words with spaces, so this is enough."""
    lines: list[str] = []
    current, used = "", 0
    width = max(1, width)
    for word in text.split():
        w = display_width(word)
        if current and used + 1 + w > width:
            lines.append(current)
            current, used = "", 0
        while w > width:  # a word longer than a line: cut it (at least one letter a line)
            cut, cw = word[0], display_width(word[0])
            for ch in word[1:]:
                if cw + display_width(ch) > width:
                    break
                cut, cw = cut + ch, cw + display_width(ch)
            lines.append(cut)
            word, w = word[len(cut):], w - cw
        if word:
            current, used = (current + " " + word, used + 1 + w) if current else (word, w)
    if current or not lines:
        lines.append(current)
    return lines
