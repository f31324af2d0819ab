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
from typing import Callable, Iterator, Optional, Sequence, TypeVar

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


def _call_rows(function: Callable[..., Result], rows: list) -> list:
    """One task: a few rows, each through :func:`_call_row`."""
    return [_call_row(function, row) for row in rows]


#: Signals that stop a run. While workers run, their handler only notes them: an exception raised
#: from a signal handler lands anywhere, inside the pool's locks too, and a pool left with a lock
#: held never stops (the run hung, or finished quietly, after Ctrl-C). The noted signal is
#: raised again once the workers are stopped, where it does what it would have done.
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
#: Seconds between looks at the noted signals while waiting for a result.
_POLL = 0.1


def _wait(results, noted: list) -> Optional[list]:
    """The next task's results; None once a stop signal is noted (before or while waiting)."""
    import multiprocessing

    while not noted:
        try:
            return results.next(_POLL)
        except multiprocessing.TimeoutError:
            continue
    return None


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
    previous = {}
    noted: list[int] = []
    pool = multiprocessing.Pool(workers, initializer=_worker_started)
    try:
        if threading.current_thread() is threading.main_thread():
            # A signal this process ignores (a run started in the background) stays ignored.
            previous = {signum: signal.signal(signum, lambda signum, frame: noted.append(signum))
                        for signum in _STOP_SIGNALS if signal.getsignal(signum) is not signal.SIG_IGN}
        rows = list(zip(*columns))
        tasks = [rows[start : start + chunksize] for start in range(0, len(rows), chunksize)]
        results = pool.imap(functools.partial(_call_rows, function), tasks)  # one task at a time: waits time out
        for _ in tasks:
            done = _wait(results, noted)
            if done is None:
                break
            for result in done:
                if noted:
                    break
                yield result
        else:
            pool.close()
    finally:
        pool.terminate()  # a no-op after close(); stops the workers on any exception
        pool.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if noted:
            # As if it came now: Ctrl-C raises KeyboardInterrupt, SIGTERM ends the process as it
            # would have without workers (or runs the handler the caller had).
            signal.raise_signal(noted[0])
