"""Which files ``instrument check`` reads, and one file through the check.

The click layer (``cli.py``) only parses options and prints; choosing the
files a check must read and turning one file into finding lines live here,
so that they run in worker processes and are tested without a terminal.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path, PurePath
import sys
from typing import Callable, Iterable, Iterator, Optional, Sequence

from instrument import files, walk


#: What a file is, for check: how it runs code.
PYTHON, PTH, NOTEBOOK, SHELL, DOCKERFILE, YAML, TEXT = "python", "pth", "notebook", "shell", "dockerfile", "yaml", "text"
_SUFFIXES = {".py": PYTHON, ".pyw": PYTHON, ".pth": PTH, ".ipynb": NOTEBOOK, ".sh": SHELL, ".bash": SHELL,
             ".yml": YAML, ".yaml": YAML}
_DOCKERFILES = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile", "Containerfile.*")
_SHEBANG_SHELLS = (b"sh", b"bash", b"zsh", b"dash", b"ksh")
#: ``kinds.block_names()`` (the requirements kind's names), written out: reading it from the
#: registry imports every kind, LibCST and ruamel.yaml with them, a tenth of a second that a
#: clean check never needs (tests/test_check_speed.py keeps the two equal).
BLOCK_NAMES = ("requirements*.txt",)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), pattern.lower()) for pattern in patterns)


def file_type(path: Path, head: bytes = b"") -> Optional[str]:
    """How a file runs code, from its name, or from its ``#!`` line (``head``: its first bytes)."""
    name = path.name
    for suffix, kind in _SUFFIXES.items():
        if name.lower().endswith(suffix):
            return kind
    if _matches(name, _DOCKERFILES):
        return DOCKERFILE
    if _matches(name, BLOCK_NAMES):
        return TEXT
    if head.startswith(b"#!"):
        words = head[2:].split(b"\n", 1)[0].split()
        programs = [w.rsplit(b"/", 1)[-1] for w in words if not w.startswith(b"-") and b"=" not in w]
        programs = programs[1:] if programs[:1] == [b"env"] else programs
        program = programs[0] if programs else b""
        if program.startswith((b"python", b"pypy")):
            return PYTHON
        if program in _SHEBANG_SHELLS:
            return SHELL
    return None


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(256)
    except OSError:
        return b""


def _could_have_findings(kind: str, data: bytes) -> bool:
    # The byte test alone: the readers (findings and what it loads) only for a file it keeps.
    from instrument.codemods.check import prefilter

    if kind in (PYTHON, PTH):
        return prefilter.could_have_findings(data)
    if kind in (YAML, TEXT):
        return prefilter.could_have_findings(data, yaml=True)
    # A shell runs every command, and a notebook's cells run shell lines too: no sink word needed.
    return prefilter.could_have_findings_text(data.decode("utf-8", "replace"), shell=True)


def check_candidates(paths: Sequence[str], allow: Sequence[str]) -> Iterator[tuple[Path, Optional[str]]]:
    """(path, None) for each file that may hold a finding, (path, reason) for one that cannot be read.

    Walking finds Python (``.py``, ``.pyw``, ``.pth``), notebooks, YAML,
    shell scripts, Dockerfiles, requirements files, and the files without a
    dot in their name whose ``#!`` line runs Python or a shell. Files whose
    path matches an ``allow`` glob are skipped; the others are read and
    searched for the bytes every finding needs, so most files of a tree are
    never decoded, let alone parsed.
    """
    names = (*BLOCK_NAMES, *_DOCKERFILES)
    for path, explicit in _with_brought_files(walk.iter_files(paths, tuple(_SUFFIXES), names, extensionless=True)):
        if any(PurePath(path).match(pattern) for pattern in allow):
            continue
        kind = file_type(path) or (None if explicit else file_type(path, _head(path)))
        if kind is None and not explicit:
            continue  # a file without a dot that no #! line says runs code
        try:
            data = files.read_bytes(path, remember=False)
        except files.FileError as exc:
            yield path, str(exc)
            continue
        if _could_have_findings(kind or file_type(path, data[:256]) or PYTHON, data):
            yield path, None


def _with_brought_files(found: Iterator[tuple[Path, bool]]) -> Iterator[tuple[Path, bool]]:
    """The files to check, and after each definition named on the command line the files it brings
    (its entry scripts, conda and component files: what ``add DEFINITION`` changed), each once."""
    seen: set = set()
    for path, explicit in found:
        key = os.path.normpath(str(path))  # graph.key_of
        if key in seen:
            continue
        seen.add(key)
        yield path, explicit
        if not explicit or not _may_bring(path):
            continue
        from instrument import graph
        from instrument.process import STRIP, Job, Outcome

        for brought in graph.files_of(Job(STRIP), Outcome(str(path))):
            if graph.key_of(brought) not in seen:
                seen.add(graph.key_of(brought))
                yield brought, True


def _may_bring(path: Path) -> bool:
    """Whether a file named on the command line may be a definition that brings other files.

    YAML: any (the kinds decide). Python: only one that imports an Azure ML SDK, so its
    text says ``azure`` (what ``process`` asks before planning a Python file's companions);
    a file that cannot be read or decoded is left to the graph, which reports nothing for it.
    """
    kind = file_type(path)
    if kind == YAML:
        return True
    if kind != PYTHON:
        return False
    try:
        data = files.read_bytes(path, remember=False)
        if data.isascii():
            return b"azure" in data
        return "azure" in files.decode(data, str(path)).text
    except (files.FileError, UnicodeDecodeError, ValueError, LookupError):
        return True


def check_path(name: str, allow: Sequence[str] = ()) -> tuple[list[str], Optional[str]]:
    """(``path:line:col: message`` lines, error) for one candidate file; runs in workers too.

    The file is read again here so that only its name travels to a worker. A
    file named on the command line that is none of the kinds above is read as Python.
    """
    from instrument.codemods.check import findings as check, formats as check_formats
    from instrument.codemods.core.errors import InstrumentError

    try:
        data = files.read_bytes(Path(name), remember=False)
        kind = file_type(Path(name), data[:256]) or PYTHON
        if kind in (PYTHON, PTH):
            text = files.decode(data, name).text
            found = check.check_python(text, allow) if kind == PYTHON else check_formats.check_pth(text)
        elif kind == YAML:
            found = check.check_yaml(files.decode_text(data, name).text, allow)
        else:
            text = files.decode_text(data, name).text
            if kind == NOTEBOOK:
                found = check_formats.check_notebook(text, tuple(allow))
            elif kind == SHELL:
                found = check.check_text(text) + check_formats.check_shell(text)
            elif kind == DOCKERFILE:
                found = check.check_text(text) + check_formats.check_dockerfile(text)
            else:
                found = check.check_text(text)
        found = [f for f in found if not (f.name and any(fnmatch.fnmatchcase(f.name, p) for p in allow))]
        return _finding_lines(name, sorted(found, key=lambda f: (f.line, f.col))), None
    except files.FileError as exc:
        return [], str(exc)
    except InstrumentError as exc:
        return [], f"{name}: {exc}"


def _finding_lines(name: str, found) -> list[str]:
    return [f"{name}:{f.line}:{f.col}: {f.message}" for f in found]


#: Files per worker process below which check reads them all in this process (a pool costs
#: more than it saves on a few small files: the pre-commit hook's usual call).
POOL_THRESHOLD = 64


def _echo(text: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def run(paths: Sequence[str], allow: Sequence[str] = (), jobs: Optional[int] = None,
        echo: Callable[..., None] = _echo) -> int:
    """``instrument check PATHS``: print one ``path:line:col: message`` per finding, a total on
    stderr, and return the exit code (1: findings, 123: a file could not be checked)."""
    import functools

    from instrument import report

    candidates: list[str] = []
    failed = 0
    # Read errors are reported during the walk; findings and parse errors
    # after it, in the order of the files.
    for path, error in check_candidates(paths, allow):
        if error:
            failed += 1
            echo(files.printable(error), err=True)
        else:
            candidates.append(str(path))
    found = 0
    files_with_findings = 0
    check = functools.partial(check_path, allow=allow)
    results: Iterable[tuple[list[str], Optional[str]]]
    if len(candidates) < 2 * POOL_THRESHOLD or jobs == 1:
        results = map(check, candidates)  # one worker (parallel.worker_count): no pool, nothing of it loaded
    else:
        from instrument import parallel

        results = parallel.map_in_order(check, candidates, jobs=jobs or parallel.default_jobs(),
                                        per_worker=POOL_THRESHOLD)
    for lines, error in results:
        if error:
            failed += 1
            echo(files.printable(error), err=True)
        for line in lines:
            echo(files.printable(line))
        found += len(lines)
        files_with_findings += bool(lines)
    if found:
        total = f"{report.plural(found, 'finding')} in {report.plural(files_with_findings)}"
    else:  # a file that could not be read was not found clean
        total = "no findings in the files read" if failed else "no findings"
    echo(total + (f", {report.plural(failed)} failed (not checked)." if failed else "."), err=True)
    return report.EXIT_FAILED if failed else report.EXIT_WOULD_CHANGE if found else report.EXIT_OK
