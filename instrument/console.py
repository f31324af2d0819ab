"""The ``instrument`` console script: the command line of ``cli.py``, with one shortcut.

``instrument check FILE...`` (file names and nothing else: how the pre-commit
hook calls it, on every commit) is run without loading click, which costs a
start as much as Python's own start does; the output and exit code are the
click command's (``checking.run``), and ``tests/test_console.py`` compares
the two. Any option, ``--`` or a name starting with ``-`` goes through click.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 and args[0] == "check" and not any(arg.startswith("-") or not arg for arg in args[1:]):
        from instrument import checking

        return checking.run(args[1:])
    from instrument import cli

    return cli.main(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
