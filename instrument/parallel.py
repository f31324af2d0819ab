"""Map a function over many files in worker processes, results in input order.

``add``, ``strip`` and ``check`` hand each worker one file at a time (a path,
not its contents), so memory stays flat however large the tree is, and the
parent prints each result as soon as it and every earlier one are done.
Starting workers costs tens of milliseconds (a fork each, and LibCST's
import), so small inputs are processed in this process instead: a pool is
only started when every worker gets at least ``per_worker`` items.

Workers never outlive the run: SIGTERM to the parent terminates them before
the parent dies of the same signal, Ctrl-C (which the whole process group
gets) is left to the parent, which stops them, and a worker whose parent
vanished anyway (SIGKILL) exits quietly, at its next result or within a second.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from typing import Callable, Iterator, Sequence, TypeVar

Result = TypeVar("Result")


def default_jobs() -> int:
    """The number of CPUs this process may run on (what ``--jobs`` defaults to)."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        count = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS, Windows
        count = os.cpu_count()
    return count or 1


def worker_count(items: int, jobs: int, per_worker: int) -> int:
    """Workers worth starting for ``items`` items; 1 means no pool."""
    return max(1, min(jobs, items // max(1, per_worker)))


class _Terminated(BaseException):
    """SIGTERM (or SIGHUP) arrived while workers were running."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame) -> None:
    raise _Terminated(signum)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)  # the parent died without stopping us: nobody wants the results


def _worker_started() -> None:
    """In each worker: Ctrl-C is the parent's to handle, SIGTERM kills at once
    (a forked worker inherits the parent's Python-level handlers), and so does
    a write to the parent's pipe once the parent is gone (SIGKILL): Python
    ignores SIGPIPE, which would make that write a BrokenPipeError and the
    pool print its traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()


def _call_row(function: Callable[..., Result], row: tuple) -> Result:
    return function(*row)


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def map_in_order(
    function: Callable[..., Result], *columns: Sequence, jobs: int, per_worker: int
) -> Iterator[Result]:
    """``function(*row)`` for each row of ``columns``, yielded in input order.

    ``function`` and the items must pickle (module-level functions,
    ``functools.partial`` of them) when a pool is used.
    """
    workers = worker_count(len(columns[0]), jobs, per_worker)
    if workers == 1:
        yield from map(function, *columns)
        return
    import multiprocessing

    # Several files per task keeps the pipe traffic low; at most a few tasks'
    # worth per worker keeps the load even when some files are slow.
    chunksize = max(1, min(16, len(columns[0]) // (workers * 4)))
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {}
    pool = multiprocessing.Pool(workers, initializer=_worker_started)
    try:
        if in_main_thread:
            previous = {signum: signal.signal(signum, _raise_terminated) for signum in _STOP_SIGNALS}
        yield from pool.imap(functools.partial(_call_row, function), zip(*columns), chunksize)
        pool.close()
    except _Terminated as stop:
        pool.terminate()
        pool.join()
        signal.signal(stop.signum, signal.SIG_DFL)
        os.kill(os.getpid(), stop.signum)  # die of the signal, as without workers
        raise SystemExit(128 + stop.signum) from None  # pragma: no cover - not reached
    finally:
        pool.terminate()  # a no-op after close(); stops the workers on any exception
        pool.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
