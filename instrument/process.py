"""One file through one transform: read, transform, verify, write or report.

The click layer (``cli.py``) only parses options and prints; everything that
decides what happens to a file lives here so that it can be tested without a
terminal and run in worker processes.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Iterator, Optional, Sequence

from instrument import files

ADD = "add"
STRIP = "strip"


@dataclass(frozen=True)
class Job:
    """What to do with every file: the action and its settings."""

    action: str  # ADD or STRIP
    kind: Optional[str] = None  # None: detect
    port: int = 5678
    timeout: Optional[int] = None  # None: the kind's default
    host: str = "0.0.0.0"
    write: bool = True
    diff: bool = False
    client_ip: Optional[str] = None  # pipeline steps: --remote_debug_client_ip
    steps: tuple = ()  # pipeline steps: only these names (empty: all)
    ranks: Optional[str] = None  # global ranks that wait ("all", "0,3"); None: not given


@dataclass(frozen=True)
class Outcome:
    path: str
    changed: bool = False
    skipped: bool = False  # not a file of a kind this action handles
    error: Optional[str] = None
    diff: str = ""
    output: Optional[bytes] = None  # the new bytes (for stdin/stdout)
    notes: tuple = ()  # one-line remarks that are not failures (hand-written debug code)


def _is_yaml(name: str) -> bool:
    return name.endswith(files.YAML_SUFFIXES)


def transform_text(job: Job, text: str, name: str, explicit: bool) -> tuple[str, Optional[str]]:
    """(new text, kind) for one decoded source; kind None means skipped."""
    from instrument.codemods import kinds, markers
    from instrument.codemods.templates import DebugOptions

    if job.action == STRIP:
        kind = job.kind or (kinds.ENV if _is_yaml(name) else kinds.TRAIN)
        if not markers.has_markers(text):
            return text, kind  # clean: nothing to parse
        return kinds.strip(text, kind), kind
    kind = job.kind
    module = None
    if kind is None:
        if _is_yaml(name):
            kind = kinds.ENV
        else:
            module = kinds.parse(text)  # parsed once, for detection and the codemod
            kind = kinds.detect_python_kind(text, module)
            if kind is None:
                if not explicit:
                    return text, None  # a library module met while walking
                kind = kinds.TRAIN
    if kind == kinds.ENV and not explicit and not kinds.is_conda_env(text):
        return text, None  # some other YAML file met while walking
    timeout = job.timeout if job.timeout is not None else kinds.DEFAULT_TIMEOUTS.get(kind, 300)
    options = DebugOptions(
        port=job.port, timeout=timeout, host=job.host, client_ip=job.client_ip, steps=job.steps,
        ranks=job.ranks,
    )
    return kinds.add(text, kind, options, module), kind


def unified_diff(old: str, new: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{name}\t(original)",
            tofile=f"{name}\t({'instrumented' if len(new) >= len(old) else 'stripped'})",
        )
    )


def process_bytes(job: Job, data: bytes, name: str, explicit: bool = True) -> Outcome:
    """Transform file contents; never raises for bad input."""
    from instrument.codemods.errors import CodemodError

    try:
        source = files.decode_text(data, name) if _is_yaml(name) else files.decode(data, name)
        new_text, kind = transform_text(job, source.text, name, explicit)
    except files.FileError as exc:
        return Outcome(name, error=str(exc))
    except CodemodError as exc:
        return Outcome(name, error=f"{name}: {exc}")
    except Exception as exc:  # a bug: report it on one line, go on with the other files
        return Outcome(name, error=f"{name}: internal error: {type(exc).__name__}: {exc}")
    if kind is None:
        return Outcome(name, skipped=True)
    notes = _hand_written_notes(job, source.text, name, kind)
    if new_text == source.text:
        return Outcome(name, output=data, notes=notes)
    try:
        output = files.encode(source, new_text, name)
    except files.FileError as exc:
        return Outcome(name, error=str(exc))
    diff = unified_diff(source.text, new_text, name) if job.diff else ""
    return Outcome(name, changed=True, diff=diff, output=output, notes=notes)


def _hand_written_notes(job: Job, text: str, name: str, kind: str) -> tuple:
    """``add`` leaves hand-written debugpy/ptvsd code alone, and says so."""
    from instrument.codemods import check, kinds

    if job.action != ADD or kind not in kinds.PYTHON_KINDS:
        return ()
    try:
        found = check.find_debug_calls(text)
    except ValueError:
        return ()
    return tuple(
        f"{name}:{f.line}:{f.col}: note: hand-written remote debugging ({f.name}) left as it is; "
        "`instrument check` reports it"
        for f in found
    )


#: Files from which on each worker process gets a share of ``add``/``strip``:
#: below it, starting workers costs more than they save.
FILES_PER_WORKER = 16


def select_files(job: Job, paths: Sequence[str]) -> list[tuple[Path, bool]]:
    """(path, named explicitly) for every file the job should look at."""
    selected = []
    for path, explicit in files.iter_files(paths, files.PYTHON_SUFFIXES + files.YAML_SUFFIXES):
        # While walking, YAML files can only be conda environments (kind env).
        if not explicit and _is_yaml(path.name) and job.action == ADD and job.kind not in (None, "env"):
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
    outcome = process_bytes(job, data, str(path), explicit)
    if outcome.changed and job.write:
        try:
            files.write_atomic(path, outcome.output)
        except files.FileError as exc:
            return Outcome(str(path), error=str(exc))
    return Outcome(outcome.path, outcome.changed, outcome.skipped, outcome.error, outcome.diff, notes=outcome.notes)


def check_candidates(paths: Sequence[str], allow: Sequence[str]) -> Iterator[tuple[Path, Optional[str]]]:
    """(path, None) for each file that may hold a finding, (path, reason) for one that cannot be read.

    Files whose path matches an ``allow`` glob are skipped; the others are read
    and searched for the bytes every finding needs, so most files of a tree
    are never decoded, let alone parsed.
    """
    from instrument.codemods.check import could_have_findings

    for path, _ in files.iter_files(paths, files.PYTHON_SUFFIXES + files.YAML_SUFFIXES):
        if any(PurePath(path).match(pattern) for pattern in allow):
            continue
        try:
            data = files.read_bytes(path)
        except files.FileError as exc:
            yield path, str(exc)
            continue
        if could_have_findings(data, yaml=_is_yaml(path.name)):
            yield path, None


def check_path(name: str, allow: Sequence[str] = ()) -> tuple[list[str], Optional[str]]:
    """(``path:line:col: message`` lines, error) for one candidate file; runs in workers too.

    The file is read again here so that only its name travels to a worker.
    """
    from instrument.codemods import check
    from instrument.codemods.errors import CodemodError

    try:
        data = files.read_bytes(Path(name))
        if _is_yaml(name):
            return _finding_lines(name, check.check_yaml(files.decode_text(data, name).text)), None
        return _finding_lines(name, check.check_python(files.decode(data, name).text, allow)), None
    except files.FileError as exc:
        return [], str(exc)
    except CodemodError as exc:
        return [], f"{name}: {exc}"


def _finding_lines(name: str, found) -> list[str]:
    return [f"{name}:{f.line}:{f.col}: {f.message}" for f in found]
