"""One file through one transform: read, transform, verify, write or report.

The click layer (``cli.py``) only parses options and prints; everything that
decides what happens to a file lives here so that it can be tested without a
terminal and run in worker processes.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

from instrument import files, walk
from instrument.codemods import kinds, languages
from instrument.codemods.helper import header as helper_header
from instrument.codemods.core.options import Options

ADD = "add"
STRIP = "strip"


#: ``add``'s options when none are chosen: each kind waits its own default timeout.
DEFAULT_OPTIONS = Options(timeout=None)


def add_options(**chosen) -> Options:
    """The options record for ``add``; the kind's default timeout unless ``timeout`` is chosen."""
    return Options(**{"timeout": None, **chosen})


@dataclass(frozen=True)
class Job:
    """What to do with every file: the action, its options and where the result goes."""

    action: str  # ADD or STRIP
    kind: Optional[str] = None  # None: detect
    write: bool = True
    diff: bool = False
    #: What the user chose for ``add`` (built and validated once per run, not per file).
    options: Options = DEFAULT_OPTIONS
    #: The file is the entry script of a command: instrumented as a training script whatever
    #: else it looks like (the command passes it the flags).
    entry: bool = False
    #: ``add --inline``: the whole helper in each script, no helper module beside it.
    inline: bool = False
    #: The file is uploaded alone (a job's ``code:`` names it): the helper goes in it.
    alone: bool = False


@dataclass(frozen=True)
class Outcome:
    path: str
    changed: bool = False
    skipped: bool = False  # not a file of a kind this action handles
    error: Optional[str] = None
    diff: str = ""
    output: Optional[bytes] = None  # the new bytes (for stdin/stdout)
    notes: tuple = ()  # one-line remarks that are not failures (hand-written debug code)
    kind: Optional[str] = None
    reason: Optional[str] = None  # why the file was skipped or did not change
    warnings: tuple = ()  # an option that selected nothing or does not apply: exit non-zero
    companions: tuple = ()  # the Companions: other files that change with this one
    entries: int = 0  # commands or steps of this file that carry the debug flags
    via: Optional[str] = None  # how the file was reached ("entry of job.yml"), when not named
    held: bool = False  # not written yet: it brings other files, written with them (instrument.graph)
    #: The given options that mean something for this file's kind (a run reports those no file took).
    applied: frozenset = frozenset()
    #: Files the new text needs beside it: (file name, text) (the helper module).
    generated: tuple = ()
    #: ``--diff``: (path, diff) of each generated file that would change.
    generated_diffs: tuple = ()
    #: Generated files this outcome wrote: (path, "created" or "replaced").
    wrote: tuple = ()
    #: A held outcome: the bytes it was made from and what the read saw of the file
    #: (:func:`files.read_snapshot`), so that its graph need not read and transform it again.
    original: Optional[bytes] = None
    snapshot: Optional[tuple] = None


def _language(name: str, kind: Optional[str] = None) -> Optional[str]:
    """The language of a file: its forced kind's, else the one its name says."""
    return kinds.get(kind).language if kind else kinds.language_of(name)


def _is_text(name: str, kind: Optional[str] = None) -> bool:
    """YAML or a line-based file (requirements, Dockerfile): UTF-8, not Python's coding rules."""
    return _language(name, kind) in (languages.YAML, languages.TEXT)


@dataclass(frozen=True)
class Transformed:
    """One source through one action: the new text and what was decided."""

    text: str
    kind: Optional[str] = None  # None: skipped (not a file of any kind)
    reason: Optional[str] = None  # why it was skipped or did not change
    notes: tuple = ()  # (line, col, message)
    warnings: tuple = ()
    companions: tuple = ()  # Companions
    entries: int = 0
    applied: frozenset = frozenset()  # the given options that mean something for the file's kind
    generated: tuple = ()  # (file name, text): files the text needs beside it


def _companions_of(clean: str, language: str, kind_name: Optional[str]) -> tuple:
    """The other files add would have changed with this one (a job's conda file and entry
    script): strip restores them too. Best effort: a file no kind recognises has none."""
    from instrument.codemods.core.errors import InstrumentError

    if kind_name is not None and not kinds.bringing(kind_name):
        return ()
    if language == languages.PYTHON and ("azure" not in clean or kind_name is None and not kinds.may_bring(clean)):
        return ()  # a definition imports an Azure ML SDK
    try:
        tree = kinds.get_language_parser(language)(clean)
        kind = kinds.get(kind_name) if kind_name else kinds.detect(clean, tree, language)
        if kind is None or not kind.brings:
            return ()
        plan = kind.plan(clean, tree, DEFAULT_OPTIONS.for_kind(kind.default_timeout or 0))
    except InstrumentError:
        return ()
    return tuple(plan.companions)


def transform_text(job: Job, text: str, name: str, explicit: bool) -> Transformed:
    """One decoded source through the job's action."""
    from instrument.codemods.fences import markers
    from instrument.codemods.kinds import base

    language = kinds.language_of(name) or languages.PYTHON
    if job.kind is not None:
        language = kinds.get(job.kind).language
    if language == languages.PYTHON and helper_header.examine(text).ours:
        return Transformed(text, None, reason="the helper module of instrumented scripts (strip removes it "
                                              "with the last script that loads it)")
    if job.action == STRIP:
        if not markers.has_markers(text):
            # A file named (or brought) may name files that hold blocks (a Dockerfile, a pipeline
            # whose component files were changed): followed as add followed them.
            companions = _companions_of(text, language, job.kind) if explicit or language == languages.TEXT else ()
            return Transformed(text, job.kind or language, reason="no instrument blocks", companions=companions)
        stripped = base.strip(language, text)
        return Transformed(stripped, job.kind or language, companions=_companions_of(stripped, language, job.kind))
    clean = base.remove_blocks(text, language)
    library = False
    if job.kind is not None:
        kind = kinds.get(job.kind)
        try:
            tree = kind.parse(clean)
        except base.InstrumentError as exc:
            if kinds.language_of(name) in (None, kind.language):
                raise
            raise base.InstrumentError(f"not {kind.summary} (--kind {kind.name}): {exc}") from None
        if not job.entry and not kind.detect(clean, tree):
            found = kinds.detect(clean, tree, kind.language)
            if found is not None or not kind.any_script:  # any Python file may be forced to be an entry script
                looks = f"; it looks like {found.summary}" if found else ""
                raise base.InstrumentError(f"not {kind.summary}{looks} (--kind {kind.name})")
    else:
        try:
            tree = kinds.get_language_parser(language)(clean)
        except base.InstrumentError as exc:
            if explicit or language == languages.PYTHON:
                raise
            return Transformed(text, None, reason=str(exc).split(":")[0])  # templated YAML met while walking
        found_kind = kinds.detect(clean, tree, language)
        if found_kind is not None:
            kind = found_kind
        else:
            if language == languages.PYTHON:
                if not explicit:
                    return Transformed(text, None, reason="not an entry script")
                kind = kinds.script_kind()  # named: instrumented, but said to be what the walk skips
                library = True
            elif explicit:
                raise base.InstrumentError(f"not a file of any known kind ({kinds.described(language)})")
            else:
                return Transformed(text, None, reason="not a file of any known kind")
    result = base.apply(kind, text, job.options, tree, clean)
    plan = result.plan
    if library and plan.insertions:
        plan = dataclasses.replace(plan, notes=[base.Note(1, 1, (
            "not an entry script (it only defines, and runs nothing), which a walk skips: its listener starts "
            "when a script imports it; name the script that runs instead, or use --kind train to say it is one"))]
            + list(plan.notes))
    warnings = tuple(plan.warnings)
    applied = frozenset(option for option in job.options.given if option in kind.options)
    notes = tuple((n.line, n.col, n.message) for n in plan.notes)
    return Transformed(
        result.text, kind.name, reason=plan.reason, notes=notes, warnings=warnings,
        companions=tuple(plan.companions), entries=plan.entries, applied=applied,
        generated=tuple(plan.generated),
    )


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff that ``patch -p0`` applies to ``name`` and nothing else.

    Lines are split at ``\\n`` only, as patch reads them (a form feed or a
    lone ``\\r`` inside a line stays in it); a last line without a newline is
    marked as diff marks it; a name holding a tab, a newline, a quote or a
    backslash is written C-quoted, as git writes it and patch reads it.
    """

    def patch_lines(text: str) -> list[str]:
        lines = text.split("\n")
        return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])

    label = files.diff_label(name)
    done = "instrumented" if len(new) >= len(old) else "stripped"
    lines = difflib.unified_diff(
        patch_lines(old), patch_lines(new), fromfile=f"{label}\t(original)", tofile=f"{label}\t({done})"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def process_bytes(job: Job, data: bytes, name: str, explicit: bool = True) -> Outcome:
    """Transform file contents; never raises for bad input."""
    from instrument.codemods.core.errors import InstrumentError

    try:
        source = files.decode_text(data, name) if _is_text(name, job.kind) else files.decode(data, name)
        done = transform_text(job, source.text, name, explicit)
    except files.FileError as exc:
        return Outcome(name, error=str(exc))
    except InstrumentError as exc:
        return Outcome(name, error=f"{name}: {exc}")
    except RecursionError:
        return Outcome(name, error=f"{name}: nested too deeply to analyse")
    except Exception as exc:  # a bug: report it on one line, go on with the other files
        return Outcome(name, error=f"{name}: internal error: {type(exc).__name__}: {exc}")
    if done.kind is None:
        return Outcome(name, skipped=True, reason=done.reason)
    notes = tuple(f"{name}:{line}:{col}: note: {message}" for line, col, message in done.notes)
    notes += _hand_written_notes(job, source.text, name, done.kind, done.text)
    outcome = Outcome(name, notes=notes, kind=done.kind, warnings=done.warnings, companions=done.companions,
                      entries=done.entries, applied=done.applied, generated=done.generated)
    if done.text == source.text:
        return dataclasses.replace(outcome, output=data, reason=done.reason)
    try:
        output = files.encode(source, done.text, name)
    except files.FileError as exc:
        return Outcome(name, error=str(exc))
    diff = unified_diff(source.text, done.text, name) if job.diff else ""
    return dataclasses.replace(outcome, changed=True, diff=diff, output=output)


def _hand_written_notes(job: Job, text: str, name: str, kind: str, result: str) -> tuple:
    """``add`` leaves hand-written debugpy/ptvsd code alone, and says so (none is
    left when ``--take-over`` took it out of the result)."""
    from instrument.codemods.check import findings as check

    if job.action != ADD or kinds.get(kind).language != languages.PYTHON:
        return ()
    try:
        # The original first: it rarely holds any, and the result carries the
        # helper, whose scan would cost more than the rest of add.
        found = check.find_debug_calls(text)
        if found and result != text and not check.find_debug_calls(result):
            found = []  # --take-over took it out
    except ValueError:
        return ()
    return tuple(
        f"{name}:{f.line}:{f.col}: note: hand-written remote debugging ({f.name}) left as it is; "
        "`instrument check` reports it" + ("" if job.options.take_over else " (--take-over replaces it)")
        for f in found
    )


#: Files from which on each worker process gets a share of ``add``/``strip``:
#: below it, starting workers costs more than they save.
FILES_PER_WORKER = 16


def select_files(job: Job, paths: Sequence[str]) -> list[tuple[Path, bool]]:
    """(path, named explicitly) for every file the job should look at."""
    selected = []

    names = kinds.block_names() if job.action == STRIP else ()
    for path, explicit in walk.iter_files(paths, kinds.suffixes(), names):
        # While walking with --kind, only files of that kind's language.
        if not explicit and job.kind is not None and kinds.language_of(path.name) != kinds.get(job.kind).language:
            continue
        selected.append((path, explicit))
    return selected


def process_paths(job: Job, entries: Sequence[tuple[Path, bool]], jobs: Optional[int] = None) -> Iterator[Outcome]:
    """:func:`process_path` for each entry, in order; in ``jobs`` worker processes
    (default: one per CPU) when there are enough files to share."""
    from instrument import parallel

    return parallel.map_in_order(
        functools.partial(process_path, job),
        [path for path, _ in entries],
        [explicit for _, explicit in entries],
        jobs=jobs or parallel.default_jobs(),
        per_worker=FILES_PER_WORKER,
    )


def process_path(job: Job, path: Path, explicit: bool) -> Outcome:
    """Transform one file on disk, writing it back atomically if asked."""
    try:
        data = files.read_bytes(path)
    except files.FileError as exc:
        return Outcome(str(path), error=str(exc))
    outcome = process_prepared(job, path, data, explicit)
    if outcome.companions:  # written with the files it brings, once they are known (instrument.graph)
        return dataclasses.replace(outcome, held=True, original=data, snapshot=files.read_snapshot(path))
    if job.write:
        try:
            outcome = write_outcome(path, outcome)
        except files.FileError as exc:
            return Outcome(str(path), error=str(exc))
    return dataclasses.replace(outcome, output=None)


def process_prepared(job: Job, path: Path, data: bytes, explicit: bool) -> Outcome:
    """:func:`process_bytes` for a file on disk: a script instrumented with ``add`` gets the
    helper module beside it, unless ``--inline`` or the folder's upload would leave it out."""
    why = None
    if job.action == STRIP and _language(path.name, job.kind) == languages.PYTHON:
        from instrument import helpers

        refused = helpers.edited_helper_of(path, data)
        if refused is not None:
            return Outcome(str(path), error=f"{files.printable(str(path))}: {refused}; nothing stripped (undo the "
                                            "edit, or delete the helper, and run strip again)")
    if job.action == ADD and job.alone and not job.inline:
        why = "its definition's code: uploads this one file, not a helper module beside it"
    elif job.action == ADD and not job.inline and job.options.helper is None and _language(path.name, job.kind) == languages.PYTHON:
        from instrument import helpers

        choice = helpers.choose(path.parent)
        why = choice.why
        if choice.name is not None:
            job = dataclasses.replace(job, options=dataclasses.replace(job.options, helper=choice.name))
    outcome = process_bytes(job, data, str(path), explicit)
    if why is not None and outcome.changed and outcome.kind is not None and kinds.get(outcome.kind).helper:
        note = f"{outcome.path}:1:1: note: the remote debugging helper goes in the script: {why}"
        outcome = dataclasses.replace(outcome, notes=outcome.notes + (note,))
    if outcome.generated:
        # Only what is not on disk as it should be: a script instrumented before whose helper was
        # deleted since gets it back, though the script itself does not change.
        from instrument import helpers

        pending = tuple((name, text) for name, text in outcome.generated if helpers.differs(path.parent, name, text))
        outcome = dataclasses.replace(outcome, generated=pending)
        if job.diff:
            shown = tuple((str(path.parent / name), helpers.diff(path.parent, name, text)) for name, text in pending)
            outcome = dataclasses.replace(outcome, generated_diffs=shown)
    return outcome



def write_outcome(path: Path, outcome: Outcome) -> Outcome:
    """Write a changed file, the files it needs beside it first; a failure (:class:`files.FileError`)
    leaves the file as it was and takes back a generated file this call created."""
    if outcome.output is None or not (outcome.changed or outcome.generated):
        return outcome
    from instrument import helpers

    wrote = []
    try:
        for name, text in outcome.generated:
            status = helpers.install(path.parent, name, text)
            if status is not None:
                wrote.append((str(path.parent / name), status))
        if outcome.changed:
            files.write_atomic(path, outcome.output)
    except files.FileError:
        for written, status in wrote:
            if status == "created":
                try:
                    os.unlink(written)
                except OSError:
                    pass
        raise
    return dataclasses.replace(outcome, wrote=tuple(wrote))


def companion_job(job: Job, companion) -> Job:
    """The job for a file another one brings: its kind as the bringer says (the options given
    reach it too: ``--host`` is for the entry script of a job), an entry script taken as one."""
    return dataclasses.replace(job, kind=companion.kind, entry=companion.entry, alone=companion.alone)
