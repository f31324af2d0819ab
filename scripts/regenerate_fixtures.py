"""Regenerate every golden ``after`` file of fixtures/<kind>/<case>/ from its ``before``.

A change to the injected code (codemods/runtime/) changes what ``instrument
add`` writes into dozens of fixtures; this makes that one command and one
reviewable diff::

    python scripts/regenerate_fixtures.py          # rewrite the after files that differ
    python scripts/regenerate_fixtures.py --check  # write nothing; exit 1 if any differs

Every kind of the registry (``instrument.codemods.kinds.all_kinds()``) has
its cases in fixtures/<kind>/<case>/ (``before.<suffix>``, ``after.<suffix>``,
``case.json``), so a new kind's fixtures regenerate as soon as it is
registered. Each ``after`` file is what ``instrument add`` makes of
``before`` with the case's options (``case.json`` ``"options"``; ``--kind``
is the folder's kind), exactly as the table-driven tests compute it. A case
that fails to transform is reported and leaves its file alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterator, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _registered_kinds() -> tuple[str, ...]:
    from instrument.codemods.kinds import all_kinds

    return tuple(kind.name for kind in all_kinds())


#: Kinds whose fixtures are (before, after) pairs of ``instrument add``: every registered kind.
KINDS = _registered_kinds()


def cases(fixtures: Path = FIXTURES) -> Iterator[tuple[str, Path, Path]]:
    """(kind, before file, after file) of every case folder, in a stable order."""
    for kind in KINDS:
        if not (fixtures / kind).is_dir():
            continue
        for folder in sorted((fixtures / kind).iterdir()):
            befores = sorted(folder.glob("before.*")) if folder.is_dir() else []
            if befores:
                yield kind, befores[0], folder / ("after" + befores[0].suffix)


def generated_after(kind: str, before: Path) -> bytes:
    """What ``instrument add`` writes for ``before`` with its case's options."""
    from instrument.process import ADD, Job, process_bytes
    from tests.fixture_cases import case_options

    meta_file = before.parent / "case.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    name = kind + before.suffix  # the kind is given, so the name only has to carry the suffix
    outcome = process_bytes(Job(ADD, kind=kind, options=case_options(kind, meta)), before.read_bytes(), name)
    if outcome.error is not None:
        raise ValueError(outcome.error)
    return outcome.output


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if an after file would change")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    changed = failed = 0
    for kind, before, after in cases(args.fixtures):
        shown = after.relative_to(args.fixtures.parent) if args.fixtures.parent in after.parents else after
        try:
            wanted = generated_after(kind, before)
        except ValueError as exc:
            print(f"{shown}: cannot generate: {exc}", file=sys.stderr)
            failed += 1
            continue
        if after.exists() and after.read_bytes() == wanted:
            continue
        changed += 1
        print(f"{shown}: {'would change' if args.check else 'regenerated'}")
        if not args.check:
            after.write_bytes(wanted)
    return 1 if failed or (changed and args.check) else 0


if __name__ == "__main__":
    raise SystemExit(main())
