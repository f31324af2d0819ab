"""Which files ``instrument check`` reads, and one file through the check.

The click layer (``cli.py``) only parses options and prints; choosing the
files a check must read and turning one file into finding lines live here,
so that they run in worker processes and are tested without a terminal.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Iterator, Optional, Sequence

from instrument import files
from instrument.codemods import kinds


def _is_text(name: str) -> bool:
    """YAML or a line-based file (requirements, Dockerfile): UTF-8, not Python's coding rules."""
    return kinds.language_of(name) in (kinds.YAML, kinds.TEXT)


def check_candidates(paths: Sequence[str], allow: Sequence[str]) -> Iterator[tuple[Path, Optional[str]]]:
    """(path, None) for each file that may hold a finding, (path, reason) for one that cannot be read.

    Files whose path matches an ``allow`` glob are skipped; the others are read
    and searched for the bytes every finding needs, so most files of a tree
    are never decoded, let alone parsed.
    """
    from instrument.codemods.check import could_have_findings

    for path, _ in files.iter_files(paths, files.PYTHON_SUFFIXES + files.YAML_SUFFIXES, kinds.block_names()):
        if any(PurePath(path).match(pattern) for pattern in allow):
            continue
        try:
            data = files.read_bytes(path)
        except files.FileError as exc:
            yield path, str(exc)
            continue
        if could_have_findings(data, yaml=_is_text(path.name)):
            yield path, None


def check_path(name: str, allow: Sequence[str] = ()) -> tuple[list[str], Optional[str]]:
    """(``path:line:col: message`` lines, error) for one candidate file; runs in workers too.

    The file is read again here so that only its name travels to a worker.
    """
    from instrument.codemods import check
    from instrument.codemods.errors import CodemodError

    try:
        data = files.read_bytes(Path(name))
        language = kinds.language_of(name)
        if language == kinds.TEXT:
            return _finding_lines(name, check.check_text(files.decode_text(data, name).text)), None
        if language == kinds.YAML:
            return _finding_lines(name, check.check_yaml(files.decode_text(data, name).text)), None
        return _finding_lines(name, check.check_python(files.decode(data, name).text, allow)), None
    except files.FileError as exc:
        return [], str(exc)
    except CodemodError as exc:
        return [], f"{name}: {exc}"


def _finding_lines(name: str, found) -> list[str]:
    return [f"{name}:{f.line}:{f.col}: {f.message}" for f in found]
