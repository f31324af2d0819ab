"""What a run did, said once: counts, messages and the exit code (as black's Report).

Every command reports through one :class:`Report`, so none of them can say a
file changed when it did not, or stay silent about a file it skipped, an
option it could not apply, or a ``--step`` that matched nothing.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Optional

EXIT_OK = 0
#: ``--check``: a file would change; ``add``: a warning (an option selected nothing).
EXIT_WOULD_CHANGE = 1
EXIT_USAGE = 2
EXIT_FAILED = 123


def _echo(message: str) -> None:
    from instrument.files import printable  # a path may hold a newline: one message, one line

    print(printable(message), file=sys.stderr, flush=True)


def plural(count: int, word: str = "file") -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


@dataclass
class Report:
    """Counts and messages of one ``add`` or ``strip`` run."""

    action: str  # "add" or "strip"
    check: bool = False
    diff: bool = False
    quiet: bool = False
    verbose: bool = False
    echo: Callable[[str], None] = _echo
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: Counter = field(default_factory=Counter)
    warnings: list = field(default_factory=list)
    #: ``add``: the options given on the command line (names of Options fields), and those
    #: some file of the run took; one given that no file took is a warning at the end.
    given: frozenset = frozenset()
    applied: set = field(default_factory=set)
    kinds_seen: set = field(default_factory=set)
    #: ``strip``: helper modules removed (or that would be) once no script loads them.
    helpers_removed: int = 0
    helpers_written: set = field(default_factory=set)

    @property
    def done_word(self) -> str:
        done = "instrumented" if self.action == "add" else "stripped"
        return f"would be {done}" if self.check or self.diff else done

    def outcome(self, outcome) -> None:
        """Count one file's outcome and say what happened to it."""
        path = outcome.path
        self.applied.update(outcome.applied)
        if outcome.kind and not outcome.error and not outcome.skipped:
            self.kinds_seen.add(outcome.kind)
        if not self.quiet:
            for note in outcome.notes:
                self.echo(note)
        for warning in outcome.warnings:
            self.warn(f"{path}: warning: {warning}")
        if outcome.error:
            self.failed += 1
            self.echo(outcome.error)
        elif outcome.skipped:
            reason = outcome.reason or "not a file of any known kind"
            self.skipped[reason] += 1
            if self.verbose:
                self.echo(f"skipped {path}: {reason}")
        elif outcome.changed:
            self.changed += 1
            if not self.quiet:
                via = f" ({outcome.via})" if outcome.via else ""
                self.echo(f"{self.done_word} {path}{via}" + (f" ({outcome.kind})" if self.verbose and outcome.kind else ""))
        else:
            self.unchanged += 1
            if self.verbose:
                self.echo(f"unchanged {path}: {self._unchanged_reason(outcome)}")

    def helper_written(self, path: str, status: str) -> None:
        """``add`` wrote the helper module beside a script (said once per file)."""
        if path in self.helpers_written:
            return  # two scripts of one folder, each in a worker process
        self.helpers_written.add(path)
        if not self.quiet:
            done = {"created": "wrote", "replaced": "updated", "pending": "would write"}[status]
            self.echo(f"{done} {path} (the helper module the scripts beside it load)")

    def helper_removed(self, path: str, error: Optional[str] = None) -> None:
        """``strip`` removed a helper module no script loads any more, or refused to."""
        if error is not None:
            self.failed += 1
            self.echo(error)
            return
        self.helpers_removed += 1
        if not self.quiet:
            done = "would be removed" if self.check or self.diff else "removed"
            self.echo(f"{done} {path} (no script beside it loads the helper any more)")

    def _unchanged_reason(self, outcome) -> str:
        if outcome.reason:
            return outcome.reason
        return "already clean" if self.action == "strip" else "already instrumented as asked"

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.echo(message)

    def summary(self) -> str:
        parts = [f"{plural(self.changed)} {self.done_word}"]
        if self.helpers_removed:
            removed = "would be removed" if self.check or self.diff else "removed"
            parts.append(f"{plural(self.helpers_removed, 'helper module')} {removed}")
        if self.unchanged:
            parts.append(f"{plural(self.unchanged)} left unchanged")
        for reason, count in sorted(self.skipped.items()):
            parts.append(f"{plural(count)} skipped ({reason})")
        if self.failed:
            parts.append(f"{plural(self.failed)} failed")
        if self.warnings:
            parts.append(plural(len(self.warnings), "warning"))
        return ", ".join(parts) + "."

    def unused_options(self) -> None:
        """Warn once for each option given that no file of the run took (as ruff and black say
        of a setting that selects nothing); an option some file took is simply not used by the others."""
        from instrument.codemods.core.options import FLAGS

        if not self.kinds_seen:
            return
        kinds = ", ".join(sorted(self.kinds_seen))
        for option in sorted(self.given - self.applied):
            self.warn(f"warning: {FLAGS[option]} does not apply to any file of this run ({kinds}); ignored")

    def finish(self) -> int:
        self.unused_options()
        if not self.quiet:
            self.echo(self.summary())
        return self.exit_code

    @property
    def exit_code(self) -> int:
        if self.failed:
            return EXIT_FAILED
        if self.warnings or (self.check and (self.changed or self.helpers_removed or self.helpers_written)):
            return EXIT_WOULD_CHANGE
        return EXIT_OK


class Progress:
    """``[n/total]`` on a terminal for long runs; nothing otherwise."""

    #: Runs shorter than this many files show no progress.
    THRESHOLD = 50

    def __init__(self, total: int, stream=None, enabled: Optional[bool] = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = total >= self.THRESHOLD and getattr(self.stream, "isatty", lambda: False)()
        self.enabled = enabled
        self.total = total
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            self.stream.write(f"\r[{self.done}/{self.total}]")
            self.stream.flush()

    def clear(self) -> None:
        """Erase the counter before a message line, and at the end."""
        if self.enabled:
            self.stream.write("\r" + " " * (len(str(self.total)) * 2 + 3) + "\r")
            self.stream.flush()
