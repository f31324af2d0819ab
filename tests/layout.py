"""Instrumenting a script for a test as a user does: ``instrument add FILE``, the helper module beside it."""

from __future__ import annotations

from pathlib import Path


def instrument_file(path: Path, *argv: str) -> str:
    """``instrument add -q ARGV PATH`` in this process; the script's new text."""
    from instrument.cli import main

    assert main(["add", "-q", *argv, str(path)]) == 0
    return path.read_text(encoding="utf-8")


def options_argv(host: str = "0.0.0.0", port: int = 5678, timeout=None, ranks=None) -> list:
    """The ``add`` options as command-line arguments."""
    argv = ["--host", host, "--port", str(port)]
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    if ranks is not None:
        argv += ["--ranks", ranks]
    return argv
