"""Files checked in N worker processes, each file's Outcome back as it finishes.

Why not multiprocessing.Pool or concurrent.futures: when a worker dies (the
kernel's out-of-memory killer, a signal, `os._exit` in a library), Pool
hangs and ProcessPoolExecutor fails every pending file.  Here the parent
knows which file each worker holds: a worker processes its files in order,
so when one dies, the oldest file it had not answered is the one that
killed it.  That file becomes unusable ("the worker process died: killed by
SIGKILL"), the others it held go back to the queue, a new worker starts,
and the run goes on.

Workers are forked where that is safe (Linux), after the parent has imported
the checking code, so they start in milliseconds; elsewhere they are spawned.
Each opens its own structure cache (`structure_cache.scope`) for its life.
Workers ignore Ctrl-C: the parent stops them and reports what was done.
"""
from __future__ import annotations

import signal
import sys
from collections import deque
from typing import Any, Callable, Iterator

from gradcli.batch.outcome import Outcome, failure, unusable
from gradcli.i18n import M

#: files handed to a worker before it answers the first (hides the round trip)
DEPTH = 2


def start_method() -> str:
    import multiprocessing

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _worker(conn, task: Callable[[str, Any], Outcome], settings: Any, language: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    from gradcli import i18n, structure_cache

    i18n.set_language(language)  # a spawned worker does not inherit --lang

    with structure_cache.scope():
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            index, path = message
            outcome = task(path, settings)
            try:
                conn.send((index, outcome))
            except (EOFError, OSError, BrokenPipeError):
                return
            except Exception as exc:  # noqa: BLE001 - an unpicklable result: say so
                conn.send((index, failure(path, exc)))


class _Worker:
    def __init__(self, context, task, settings) -> None:
        # a forked child would print what this process has not flushed yet
        sys.stdout.flush()
        sys.stderr.flush()
        self.conn, child = context.Pipe(duplex=True)
        from gradcli.i18n import language

        self.process = context.Process(target=_worker, daemon=True,
                                       args=(child, task, settings, language()))
        self.process.start()
        child.close()
        self.held: deque[int] = deque()  # indices sent and not yet answered, in order

    def stop(self, kill: bool = False) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        self.process.join(timeout=None if kill else 5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run(paths: list[str], jobs: int, task: Callable[[str, Any], Outcome],
        settings: Any) -> Iterator[tuple[int, Outcome]]:
    """(index, Outcome) for every path, in the order they finish."""
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context(start_method())
    queue = deque(range(len(paths)))
    workers: list[_Worker] = []
    try:
        workers = [_Worker(context, task, settings) for _ in range(min(jobs, len(paths)))]
        remaining = len(paths)
        while remaining:
            fed = [_feed(w, paths, queue) for w in workers]
            busy = [w for w in workers if w.held]
            if all(fed) and busy:
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for k, w in enumerate(workers):
                for answer in _answers(w):
                    remaining -= 1
                    yield answer
                if fed[k] and w.process.is_alive():
                    continue
                dead = _bury(w, paths, queue)  # a broken pipe or an ended process
                if dead is not None:
                    remaining -= 1
                    yield dead
                workers[k] = _Worker(context, task, settings)
    finally:
        for w in workers:
            w.stop(kill=bool(w.held))


def _feed(w: _Worker, paths: list[str], queue: deque) -> bool:
    """Hand the worker files up to DEPTH; False when its pipe is broken."""
    while len(w.held) < DEPTH and queue:
        index = queue.popleft()
        try:
            w.conn.send((index, paths[index]))
        except (OSError, BrokenPipeError):
            queue.appendleft(index)
            return False
        w.held.append(index)
    return True


def _answers(w: _Worker) -> Iterator[tuple[int, Outcome]]:
    """Every answer waiting in the worker's pipe."""
    while w.held:
        try:
            if not w.conn.poll():
                return
            index, outcome = w.conn.recv()
        except (EOFError, OSError):
            return
        w.held.remove(index)
        yield index, outcome


def _bury(w: _Worker, paths: list[str], queue: deque) -> tuple[int, Outcome] | None:
    """A worker died: the file it was on is unusable; the rest go back to the queue."""
    if w.process.is_alive():  # its pipe broke: it is on its way out
        w.process.kill()
    w.process.join()
    code = w.process.exitcode
    w.conn.close()
    if not w.held:
        return None
    culprit = w.held.popleft()
    queue.extendleft(reversed(w.held))
    w.held.clear()
    return culprit, unusable(paths[culprit], M("the worker process died while checking "
                                               "this file: {why}", why=_why(code)))


def _why(exitcode: int | None) -> Any:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = str(-exitcode)
        return M("killed by {signal} (out of memory?)", signal=name)
    return M("it exited with status {status}", status=exitcode)
