"""The standard streams when they misbehave: closed pipes, closed streams, full disks.

A command's result keeps its exit code when its reader goes away (`gradcli
check spec.yaml | head -1` is 0 for a passing check); a write that fails for
lack of space is an error naming stdout; with stderr closed, error lines are
dropped instead of falling back to stdout (print(file=None) writes there).
"""
from __future__ import annotations

import errno
import os
import sys
from typing import Callable

#: errno values of a write that cannot go on (a full disk, a quota, an I/O error)
WRITE_ERRORS = {errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EDQUOT}


def err(line: str) -> None:
    """A line on stderr; nothing at all when stderr is closed (`2>&-`): with no
    stderr, print() would fall back to stdout and mix the error into the output."""
    if sys.stderr is None:
        return
    try:
        print(line, file=sys.stderr)
    except (OSError, ValueError):
        pass


def pipe_closed(exc: BaseException) -> bool:
    """stdout's reader has gone: a BrokenPipeError, or Rich's SystemExit(1) after it
    met one (Rich points stdout at /dev/null first, which is how it is recognised)."""
    if isinstance(exc, BrokenPipeError):
        return True
    if isinstance(exc, SystemExit) and exc.code == 1:
        try:
            out, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
        except (OSError, ValueError, AttributeError):
            return False
        return (out.st_rdev, out.st_ino) == (null.st_rdev, null.st_ino)
    return False


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that what is still buffered is dropped quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def printed(show: Callable[[], object], code: int) -> int:
    """Run the printer `show`; the result's own exit code `code` survives a closed pipe
    (`| head -1` after a passing check is 0)."""
    try:
        show()
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - SystemExit: Rich's closed pipe
        if not pipe_closed(exc):
            raise
        silence_stdout()
    return code


def flush_stdout() -> None:
    """Write what is buffered now, so that a full disk or a closed pipe is reported
    (or ends quietly) here instead of as Python's message at exit."""
    if sys.stdout is not None:
        sys.stdout.flush()
