"""Find and read the run logs ``instrument launch --from-log`` is given.

A distributed job leaves one log per node or process (Azure ML:
``azureml-logs/70_driver_log_0.txt``, ``user_logs/std_log_process_01.txt``);
``--from-log`` takes files, globs and folders, and every process is read
once however many files name it.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Sequence

from instrument import files
from instrument.driver_log import LogError, Node, read_nodes, unique_nodes
from instrument.launch import LaunchError

#: What a folder given to --from-log is searched for.
LOG_SUFFIXES = (".txt", ".log")


def _read_text(path: Path) -> str:
    # Undecodable bytes (progress bars) do not stop the search.
    try:
        return files.read_bytes(path).decode("utf-8", errors="replace")
    except files.FileError as exc:
        raise LaunchError(str(exc)) from None


def read_log(path: Path) -> list[Node]:
    """The nodes a run log names."""
    text = _read_text(path)
    try:
        return read_nodes(text)
    except LogError as exc:
        raise LaunchError(f"{path}: {exc}") from None


def _natural(path: Path) -> list:
    # std_log_process_2.txt before std_log_process_10.txt
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def _logs_in(folder: Path) -> list[Path]:
    return sorted((p for p in folder.rglob("*") if p.suffix in LOG_SUFFIXES and p.is_file()), key=_natural)


def find_logs(specs: Sequence[str]) -> list[Path]:
    """The log files that files, globs and folders name, in order, each once."""
    found: dict[Path, None] = {}
    for spec in specs:
        path = Path(spec)
        if not path.exists() and any(character in spec for character in "*?["):
            matches = sorted(map(Path, glob.glob(spec, recursive=True)), key=_natural)
            if not matches:
                raise LaunchError(f"{spec}: no file matches")
        else:
            matches = [path]
        for match in matches:
            for log in _logs_in(match) if match.is_dir() else [match]:
                found.setdefault(log)
    return list(found)


def read_logs(specs: Sequence[str]) -> list[Node]:
    """The processes the logs name, each once (a process may be logged in two files).

    One file is read as before: a log without an address is an error. Of
    several, only those with an address count (a folder of run logs holds
    many others); none at all is the error.
    """
    paths = find_logs(specs)
    if not paths:
        raise LaunchError(f"{', '.join(specs)}: no log files ({', '.join('*' + s for s in LOG_SUFFIXES)})")
    if len(paths) == 1:
        return read_log(paths[0])
    nodes: list[Node] = []
    for path in paths:
        try:
            nodes += read_nodes(_read_text(path))
        except LogError:
            continue  # the log of something else
    if not nodes:
        raise LaunchError(f"no `ip_address:` line in {len(paths)} logs: was the script run with --remote_debug?")
    return unique_nodes(nodes)
