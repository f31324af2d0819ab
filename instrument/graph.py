"""A definition and every file it brings, processed together: all written, or none.

``add job.yml`` changes the job, the conda file its environment names and the
entry script its command runs (the command's new flags need the script's
parser to take them); a pipeline brings its component files, and they bring
theirs. :func:`settle` follows that graph from one file's outcome, with the
same plans ``add`` made (``strip`` and ``check`` follow the plans of the text
without its blocks, so they reach every file ``add`` reached).

An entry script (or a component file) that cannot be instrumented (missing,
not parseable, refused) makes the definition that names it be planned again
without the flags on that command, with a note saying why: a job never gets
flags its script would stop on. Any other failure in the graph (a conda file
that cannot be read, say) leaves every file of the graph as it was. Writes
happen only once the whole graph is known, the files a definition brings
before the definition, and a write that fails puts back the files written
before it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

from instrument import files
from instrument.codemods import kinds
from instrument.codemods.kinds.base import Companion
from instrument.process import ADD, Job, Outcome, companion_job, process_prepared, write_outcome

#: Rounds of planning again without unavailable entries: one per level of nesting is enough.
MAX_ROUNDS = 8


@dataclass
class Member:
    """One file of the graph: its outcome (not written yet) and who named it how."""

    path: Path
    outcome: Outcome
    original: Optional[bytes] = None  # the bytes the outcome was made from
    parent: Optional[str] = None  # key of the member that named it
    companion: Optional[Companion] = None  # as the parent wrote it
    children: list = field(default_factory=list)  # keys of the members it names


def _kind_of(member: Member) -> Optional[str]:
    return member.companion.kind if member.companion is not None else None


def key_of(path: Path) -> str:
    return os.path.normpath(str(path))


def locate(folder: Path, companion) -> Optional[Path]:
    """The first of a companion's places that is a file, resolved lexically (``envs/../x.yml``
    as azure-ai-ml reads it); None: none is."""
    for relative in (companion.path, *companion.alternatives):
        path = Path(os.path.normpath(folder / relative))
        if path.is_file():
            return path
    return None


def read_and_process(job: Job, path: Path) -> tuple[Outcome, Optional[bytes]]:
    """One file through the job in memory (nothing written), with the bytes it was made from."""
    try:
        data = files.read_bytes(path)
    except files.FileError as exc:
        return Outcome(str(path), error=str(exc)), None
    return process_prepared(job, path, data, True), data


def _why(outcome: Outcome) -> str:
    """A member's failure without its path, for the note of the definition that names it."""
    reason = outcome.error or outcome.reason or "it cannot be instrumented"
    prefix = f"{outcome.path}: "
    return reason[len(prefix):] if reason.startswith(prefix) else reason


class Graph:
    """One definition's graph for one job (action and options)."""

    def __init__(self, job: Job, root: Outcome,
                 process: Callable[[Job, Path], tuple[Outcome, Optional[bytes]]] = read_and_process) -> None:
        self.job = job
        self.root = root
        self.process = process
        #: (key, job) -> what processing gave: a round plans again only the files whose job changed.
        self._processed: dict[tuple[str, Job], tuple[Outcome, Optional[bytes]]] = {}
        self.members: dict[str, Member] = {}
        self.missing: list[tuple[str, Companion, Path]] = []  # (parent key, companion, place tried)
        #: (definition key) -> {path as the definition names it: why it cannot be instrumented}
        self.unavailable: dict[str, dict[str, str]] = {}
        if root.held and root.original is not None and root.snapshot is not None:
            # The root as the run already made it (maybe in a worker): not read and transformed again.
            files.remember(Path(root.path), root.snapshot)
            made = dataclasses.replace(root, held=False, original=None, snapshot=None)
            self._processed[key_of(Path(root.path)), job] = (made, root.original)

    def collect(self) -> None:
        """Every member, processed in memory with the unavailable entries known so far."""
        root_key = key_of(Path(self.root.path))
        # The root again, here: the bytes a write is checked against are those read in this process.
        root, original = self._process(self._with_unavailable(self.job, root_key), Path(self.root.path), root_key)
        self.members = {root_key: Member(Path(self.root.path), root, original)}
        self.missing = []
        queue = [root_key]
        while queue:
            parent = self.members[queue.pop(0)]
            parent_key = key_of(parent.path)
            for companion in parent.outcome.companions:
                path = locate(parent.path.parent, companion)
                if path is None:
                    self.missing.append((parent_key, companion, parent.path.parent / companion.path))
                    continue
                key = key_of(path)
                parent.children.append(key)
                if key in self.members:
                    continue
                job = self._with_unavailable(companion_job(self.job, companion), key)
                outcome, original = self._process(job, path, key)
                self.members[key] = Member(path, outcome, original, parent_key, companion)
                queue.append(key)

    def _process(self, job: Job, path: Path, key: str) -> tuple[Outcome, Optional[bytes]]:
        if (key, job) not in self._processed:
            self._processed[key, job] = self.process(job, path)
        return self._processed[key, job]

    def _with_unavailable(self, job: Job, key: str) -> Job:
        found = self.unavailable.get(key)
        if not found or job.action != ADD:
            return job
        options = dataclasses.replace(job.options, unavailable=tuple(sorted(found.items())))
        return dataclasses.replace(job, options=options)

    def _runs_debug(self, key: str, seen: frozenset = frozenset()) -> bool:
        member = self.members[key]
        if member.outcome.error or member.outcome.skipped:
            return False
        if member.outcome.entries:
            return True
        return any(
            self._runs_debug(child, seen | {key}) for child in member.children
            if child not in seen and kinds.runs_commands(_kind_of(self.members[child]))
        )

    def newly_unavailable(self) -> dict[str, dict[str, str]]:
        """Entries and component files found unusable in this round, by the definition naming them."""
        found: dict[str, dict[str, str]] = {}
        for parent_key, companion, _ in self.missing:
            if companion.entry or kinds.runs_commands(companion.kind):
                folder = self.members[parent_key].path.parent
                tried = " or ".join(os.path.normpath(folder / path) for path in (companion.path, *companion.alternatives))
                found.setdefault(parent_key, {})[companion.path] = f"there is no such file ({tried})"
        for key, member in self.members.items():
            brought = member.companion
            if brought is None or member.parent is None:
                continue
            if brought.entry and (member.outcome.error or member.outcome.skipped):
                found.setdefault(member.parent, {})[brought.path] = f"{member.path} cannot be instrumented: " \
                    f"{_why(member.outcome)}"
            elif brought.entry and self.job.action == ADD and not member.outcome.changed and member.outcome.reason:
                # Planned nothing (an empty file): there is nothing to debug in it.
                found.setdefault(member.parent, {})[brought.path] = f"{member.path}: {member.outcome.reason}"
            elif kinds.runs_commands(brought.kind) and self.job.action == ADD and not self._runs_debug(key):
                why = _why(member.outcome) if member.outcome.error else "it runs no Python entry script " \
                    "that can take the flags"
                found.setdefault(member.parent, {})[brought.path] = f"{member.path}: {why}"
        new: dict[str, dict[str, str]] = {}
        for parent, entries in found.items():
            known = self.unavailable.get(parent, {})
            fresh = {path: why for path, why in entries.items() if path not in known}
            if fresh:
                new[parent] = fresh
        return new

    def settle(self) -> None:
        self.collect()
        if self.job.action != ADD:
            return
        for _ in range(MAX_ROUNDS):
            new = self.newly_unavailable()
            if not new:
                return
            for parent, entries in new.items():
                self.unavailable.setdefault(parent, {}).update(entries)
            self.collect()

    def unavailable_keys(self) -> set:
        """Members that stay unchanged because their definition no longer needs them."""
        keys = set()
        for key, member in self.members.items():
            companion = member.companion
            if companion is not None and member.parent is not None \
                    and companion.path in self.unavailable.get(member.parent, {}):
                keys.add(key)
        return keys

    def failures(self) -> list[Outcome]:
        """What fails the whole graph: members that failed (not an unavailable entry) and missing files."""
        failed = []
        skip = self.unavailable_keys()
        for key, member in self.members.items():
            if member.outcome.error and key not in skip:
                failed.append(member.outcome)
        for parent_key, companion, place in self.missing:
            if self.job.action == ADD and not companion.entry and not kinds.runs_commands(companion.kind):
                name = files.printable(str(Path(os.path.normpath(place))))
                failed.append(Outcome(str(place), error=f"{name}: named by {self.members[parent_key].path}, "
                                                        "but there is no such file"))
        return failed


def settle(job: Job, root: Outcome, already: set) -> Iterator[Outcome]:
    """The outcomes of ``root``'s graph (the root's first), each file written as asked, all or none.

    ``already`` holds the keys of files this run reports elsewhere (named or walked): they are
    followed, but neither reported nor written here again.
    """
    graph = Graph(job, root)
    graph.settle()
    root_key = key_of(Path(root.path))
    failures = graph.failures()
    if failures:
        for failure in failures:
            yield dataclasses.replace(failure, output=None)
        if not graph.members[root_key].outcome.error:
            yield Outcome(root.path, error=f"{files.printable(root.path)}: left as it is, with every file it "
                                           f"brings: {len(failures)} of them failed")
        return
    skip = graph.unavailable_keys()
    order = [key for key in reversed(list(graph.members)) if key not in skip]  # brought files first
    written: list[tuple[Path, Optional[bytes]]] = []
    if job.write:
        for key in order:
            member = graph.members[key]
            outcome = member.outcome
            if not (outcome.changed or outcome.generated) or outcome.output is None \
                    or (key in already and key != root_key):
                continue
            try:
                member.outcome = write_outcome(member.path, member.outcome)
            except files.FileError as exc:
                _put_back(written)
                yield Outcome(str(member.path), error=str(exc))
                yield Outcome(root.path, error=f"{files.printable(root.path)}: left as it is, with every file "
                                               "it brings: a write failed")
                return
            written.append((member.path, member.original))
    for key in reversed(order):
        member = graph.members[key]
        if key in already and key != root_key:
            continue
        via = None
        if member.parent is not None and member.companion is not None:
            bringer = graph.members[member.parent].path.name
            via = f"entry of {bringer}" if member.companion.entry else f"named by {bringer}"
        yield dataclasses.replace(member.outcome, output=None, via=via)


def _put_back(written: list) -> None:
    for path, original in reversed(written):
        try:
            files.read_bytes(path)  # what this run wrote: the file to replace again
            files.write_atomic(path, original)
        except files.FileError:
            pass


def files_of(job: Job, root: Outcome) -> list[Path]:
    """Every file of ``root``'s graph other than itself (``check`` reads them too), and the helper
    modules its scripts load beside them."""
    from instrument import helpers

    graph = Graph(job, root)
    graph.collect()
    found = [member.path for key, member in graph.members.items() if member.parent is not None]
    return found + helpers.loaded_beside([Path(root.path), *found])
