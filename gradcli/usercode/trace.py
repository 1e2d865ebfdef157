"""Where in the user's file an exception came from: `mylayers.py:14: ValueError: ...`.

The innermost frame in the user's file is named (not gradcli's, not numpy's),
with the path as the user gave it.
"""
from __future__ import annotations

import os
import traceback

from gradcli.i18n import M, Msg


def user_line(exc: BaseException, path: str) -> int | None:
    """The line of the innermost traceback frame in `path`, or None."""
    real = os.path.realpath(path)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and os.path.realpath(frame.filename) == real:
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename \
            and os.path.realpath(exc.filename) == real:
        line = exc.lineno
    return line


def where(exc: BaseException, path: str, shown: str) -> str:
    line = user_line(exc, path)
    return shown if line is None else "{}:{}".format(shown, line)


def what(exc: BaseException) -> Msg:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(message) > 300:
        message = message[:297] + "..."
    if message:
        return M("{type}: {message}", type=type(exc).__name__, message=message)
    return M("{type}", type=type(exc).__name__)


def located(exc: BaseException, path: str, shown: str) -> Msg:
    """`file.py:LINE: Type: message` as one message (for an item's error)."""
    return M("{where}: {what}", where=where(exc, path, shown), what=what(exc))
