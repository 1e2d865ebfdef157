"""A progress bar on stderr for long batches.

Drawn only when stderr is a terminal, only for several files, and only once
the batch has run for DELAY seconds (a short run stays quiet).  Redrawn at
most ten times a second; `clear()` wipes it before anything else is written
to the same terminal, and the next update draws it again.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

from gradcli.i18n import _

DELAY = 2.0  # seconds before the bar appears
INTERVAL = 0.1  # seconds between redraws
WIDTH = 24  # characters of the bar itself


class ProgressBar:
    def __init__(self, total: int, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.clock = clock
        self.start = clock()
        self.last = -INTERVAL
        self.shown = False
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = total >= 2 and bool(isatty and isatty())

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < DELAY or (now - self.last < INTERVAL and done < self.total):
            return
        self.last = now
        filled = WIDTH * done // max(self.total, 1)
        bar = "#" * filled + "-" * (WIDTH - filled)
        line = _("checking [{bar}] {done}/{total} files", bar=bar, done=done,
                 total=self.total)
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        """Wipe the bar (before other output to the terminal)."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
