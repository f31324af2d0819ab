"""What the tests keep between runs, outside the repository: ~/.cache/instrument-tests.

(``$XDG_CACHE_HOME/instrument-tests`` when that is set.) Each entry is used
under a lock, so pytest-xdist's workers, or two runs at once, never build or
write it under one another. Deleting the folder costs only time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "instrument-tests"


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """``folder`` (created), held under an exclusive lock (``folder``.lock beside it) until the end of
    the ``with``; the lock goes with the process if it dies."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder
