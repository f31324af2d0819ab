"""Subprocesses whose output lines the end-to-end tests read as they come."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Optional


class Proc:
    """A subprocess in its own session, its stdout and stderr collected line by line.

    With ``merge_stderr`` both streams go to :attr:`out` (also :attr:`lines`),
    in the order they were written.
    """

    def __init__(self, args: list[str], cwd: Path, env: dict, merge_stderr: bool = False,
                 wait: float = 20) -> None:
        self.args = args
        self.wait = wait  # seconds: the default bound on any single wait
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            args, cwd=cwd, env=env, text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, start_new_session=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._cond = threading.Condition()
        streams = [(self.popen.stdout, self.out)]
        if not merge_stderr:
            streams.append((self.popen.stderr, self.err))
        self._readers = [threading.Thread(target=self._read, args=pair, daemon=True) for pair in streams]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, lines: list[str]) -> None:
        for line in stream:
            with self._cond:
                lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def lines(self) -> list[str]:
        return self.out

    @property
    def stdout(self) -> str:
        return "\n".join(self.out)

    @property
    def stderr(self) -> str:
        return "\n".join(self.err)

    def report(self) -> str:
        return f"{self.args}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"

    def _wait_until(self, find: Callable[[str], Optional[object]], what: str, timeout: Optional[float]):
        timeout = self.wait if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.out:
                    found = find(line)
                    if found:
                        return found
                if self.popen.poll() is not None and not any(r.is_alive() for r in self._readers):
                    raise AssertionError(f"exited without printing {what}\n{self.report()}")
                if time.monotonic() >= deadline:
                    raise AssertionError(f"no {what} within {timeout} s\n{self.report()}")
                self._cond.wait(0.1)

    def wait_for_line(self, text: str, timeout: Optional[float] = None) -> str:
        """The first stdout line containing ``text``, once it is printed."""
        return self._wait_until(lambda line: line if text in line else None, repr(text), timeout)

    def wait_for(self, pattern: str, timeout: Optional[float] = None) -> re.Match:
        """The first match of the regular expression ``pattern`` in a stdout line."""
        return self._wait_until(lambda line: re.search(pattern, line), repr(pattern), timeout)

    def finish(self, timeout: Optional[float] = None) -> int:
        """Wait for the exit and for all output; the return code."""
        timeout = self.wait if timeout is None else timeout
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running after {timeout} s\n{self.report()}") from None
        for reader in self._readers:
            reader.join(timeout)
        return code

    def kill(self) -> None:
        """Kill the process and anything it started (its own session)."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.popen.wait(10)
