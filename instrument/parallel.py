"""Map a function over many files in worker processes, results in input order.

``add``, ``strip`` and ``check`` hand each worker one file at a time (a path,
not its contents), so memory stays flat however large the tree is, and the
parent prints each result as soon as it and every earlier one are done.
Starting workers costs tens of milliseconds (a fork each, and LibCST's
import), so small inputs are processed in this process instead: a pool is
only started when every worker gets at least ``per_worker`` items.
"""

from __future__ import annotations

import os
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
    import concurrent.futures

    # Several files per task keeps the pipe traffic low; at most a few tasks'
    # worth per worker keeps the load even when some files are slow.
    chunksize = max(1, min(16, len(columns[0]) // (workers * 4)))
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        yield from pool.map(function, *columns, chunksize=chunksize)
