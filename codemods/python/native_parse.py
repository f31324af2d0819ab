"""LibCST's parse, where running out of memory is one line, not the end of the process.

LibCST's parser is native (Rust): when one of its allocations fails it aborts
the process (``memory allocation of N bytes failed``, a backtrace, SIGABRT),
which no Python code can catch. An allocation fails that way under a limit
on the process's memory (``ulimit -v``, ``ulimit -d``); without one, Linux
promises the memory and a parse too large meets the OOM killer instead,
which nothing inside the process can turn into a message either. So under
such a limit, and only then, a file is parsed first in a forked copy of this
process, with the same memory and the same limit: a copy that dies (or runs
out of memory) makes the file one line, and one that finishes means the
parse fits here too. The parse the user waits for is never slower without a
limit (two ``getrlimit`` calls); under one, each file is parsed twice.
Whatever a parse needs is not predictable from the file's size (a few
thousand bytes of unary minus signs take a gigabyte), so it is tried, not
estimated.
"""

from __future__ import annotations

import os
import warnings

import libcst as cst

from instrument.codemods.core.errors import InstrumentError

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

#: What the copy exits with when the parse raised MemoryError.
_OUT_OF_MEMORY = 3


def parse_module(source: str) -> cst.Module:
    """``libcst.parse_module(source)``; InstrumentError ("not enough memory ...") where it would abort."""
    limit = _memory_limit()
    if limit is not None and not _fits_in_a_copy(source):
        raise _out_of_memory(limit)
    try:
        return cst.parse_module(source)
    except MemoryError:
        raise _out_of_memory(limit) from None


def _memory_limit():
    """(option, bytes) of the limit on this process's memory, None when there is none."""
    if resource is None or not hasattr(os, "fork"):
        return None
    for option, name in (("-v", "RLIMIT_AS"), ("-d", "RLIMIT_DATA")):
        number = getattr(resource, name, None)
        if number is not None:
            soft = resource.getrlimit(number)[0]
            if soft != resource.RLIM_INFINITY:
                return option, soft
    return None


def _fits_in_a_copy(source: str) -> bool:
    """Whether a forked copy of this process parses ``source`` without dying of it."""
    with warnings.catch_warnings():  # 3.12+ warns of fork with threads; the copy runs only the parse
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            pid = os.fork()
        except OSError:
            return False  # no memory for a copy: none for the parse either
    if pid == 0:  # pragma: no cover - the copy (its coverage is not collected)
        code = 0
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)  # the native parser's own report of the failure
            cst.parse_module(source)
        except MemoryError:
            code = _OUT_OF_MEMORY
        except BaseException:  # noqa: S110 - a syntax error is the parse's own answer, here too
            pass
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _out_of_memory(limit) -> InstrumentError:
    if limit is None:
        return InstrumentError("not enough memory to parse the file")
    option, size = limit
    return InstrumentError(f"not enough memory to parse the file under the memory limit (ulimit {option}: "
                        f"{size // (1024 * 1024):,} MiB)")
