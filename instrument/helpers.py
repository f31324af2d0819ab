"""The helper module beside instrumented scripts, on disk: where it goes, writing it, removing it.

``add`` puts the helper (:mod:`instrument.codemods.helper.module`) next to
each script it instruments, as ``_instrument_debug.py``: a module of the
user's with that name keeps it, and the helper takes the next free name
(``_instrument_debug_2.py``). Where Azure ML would not upload it (the
folder's ``.amlignore``, else ``.gitignore``, or one in a folder above it up
to the repository's root when it is in one, leaves it out of the snapshot), the helper goes in
the script instead, and ``add`` says why.

``strip`` removes a helper once no script beside it loads it any more
(:func:`sweep`, after every script of the run is stripped), and refuses with
one line to remove one whose text was edited since ``add`` wrote it.
"""

from __future__ import annotations

import difflib
import functools
import os
import stat
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from instrument import files
from instrument.codemods.fences import markers
from instrument.codemods.helper import header as helper_header, module as helper_module

#: The files Azure ML reads to leave files out of a job's snapshot, in the order it prefers them.
IGNORE_FILES = (".amlignore", ".gitignore")


@functools.lru_cache(maxsize=256)
def _spec(path: str, mtime_ns: int, size: int):
    """The patterns of one ignore file (read once per version of it in a run)."""
    import pathspec

    with open(path, encoding="utf-8", errors="replace") as stream:
        return pathspec.GitIgnoreSpec.from_lines(stream.read().splitlines())


def _ignored_by(folder: Path, name: str) -> Optional[str]:
    """The ignore file that leaves ``folder/name`` out of an upload, else None."""
    current = folder.resolve()
    # In a repository, the ignore files up to its root (as git reads them); outside one, the folder's own.
    top = next((above for above in (current, *current.parents) if (above / ".git").exists()), current)
    relative = [name]
    while True:
        for ignore in IGNORE_FILES:
            candidate = current / ignore
            try:
                info = candidate.stat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            try:
                spec = _spec(str(candidate), info.st_mtime_ns, info.st_size)
            except OSError:
                break
            if spec.match_file("/".join(relative)):
                return str(candidate)
            break  # .amlignore, where there is one, replaces .gitignore
        if current == top or current.parent == current:
            return None
        relative.insert(0, current.name)
        current = current.parent


@dataclass(frozen=True)
class Choice:
    """Where one script's helper goes: ``name`` beside it, or inline (``name`` None, ``why``)."""

    name: Optional[str]
    why: Optional[str] = None


def choose(folder: Path) -> Choice:
    """The helper's file name in ``folder``: the first that is free or holds a helper
    written by add; None (with the reason) when the helper must go in the script."""
    for name in helper_module.file_names():
        path = folder / name
        if not path.exists():
            break
        try:
            found = helper_header.examine(files.read_bytes(path).decode("utf-8", errors="replace"))
        except files.FileError:
            continue
        if found.ours:  # any version of add's, edited or not: install() decides what to do with it
            break
    else:  # pragma: no cover - a hundred modules of that name
        return Choice(None, "every helper file name is taken in this folder")
    ignored = _ignored_by(folder, name)
    if ignored is not None:
        return Choice(None, f"{files.printable(ignored)} leaves {name} out of the upload")
    return Choice(name)


def install(folder: Path, name: str, text: str) -> Optional[str]:
    """Write the helper ``folder/name`` unless it is already this text: "created", "replaced" or None.

    An older helper of add's is replaced; an edited one, or a file that is not a helper,
    is refused (:class:`files.FileError`), and nothing is written.
    """
    path = folder / name
    label = files.printable(str(path))
    try:
        current = files.read_bytes(path)
    except files.FileError:
        if path.exists() or path.is_symlink():
            raise
        current = None
        files.forget(path)  # a helper read before and removed since (strip): a new file now
    if current is not None:
        found = helper_module.examine(current.decode("utf-8", errors="replace"))
        if not found.ours:
            raise files.FileError(f"{label}: not instrument's helper module; left as it is")
        if found.edited:
            raise files.FileError(f"{label}: the helper module was edited by hand; left as it is "
                                  "(delete it, or undo the edit, and run add again)")
        if found.current:
            return None
    files.write_atomic(path, text.encode("utf-8"))
    return "created" if current is None else "replaced"


def _file_diff(path: Path, old: Optional[str], new: Optional[str]) -> str:
    """A unified diff of a whole helper file; None on one side: the file is created or removed."""
    label = files.diff_label(str(path))
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"{label}\t(original)",
        tofile="/dev/null" if new is None else f"{label}\t(instrumented)",
    )
    return "".join(lines)


def _current_text(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def differs(folder: Path, name: str, text: str) -> bool:
    """Is ``folder/name`` missing, or other than ``text`` (``add`` must write it, or refuse to)?"""
    return _current_text(folder / name) != text


def diff(folder: Path, name: str, text: str) -> str:
    """The helper as ``--diff`` shows it: a new file, or the change from an older version."""
    path = folder / name
    old = _current_text(path)
    return "" if old == text else _file_diff(path, old, text)


def is_ours(path: Path) -> bool:
    """Is ``path`` a helper module ``add`` wrote (edited or not)?"""
    if not helper_module.is_file_name(path.name):
        return False
    try:
        with open(path, "rb") as stream:
            start = stream.read(len(helper_header.FIRST_LINE))
    except OSError:
        return False
    return start == helper_header.FIRST_LINE.encode()


def loaded_by(text: str) -> set[str]:
    """The helper files the instrument blocks of a script load."""
    if not markers.has_markers(text):
        return set()
    try:
        blocks = markers.find_blocks(text)
    except markers.MarkerError:
        return {"*"}  # broken fences: it may load any of them
    lines = markers.split_lines(text)
    found = set()
    for block in blocks:
        inside = textwrap.dedent("".join(lines[block.begin + 1 : block.end]).replace("\r\n", "\n"))
        name = helper_module.loaded_file(inside)
        if name is not None:
            found.add(name)
    return found


def _beside(script: Path, data: bytes) -> list[Path]:
    """The helper files a script's blocks load, where they would be: beside it."""
    return [script.parent / name for name in sorted(loaded_by(data.decode("utf-8", errors="replace")) - {"*"})]


def edited_helper_of(script: Path, data: bytes) -> Optional[str]:
    """Why ``strip`` must leave ``script`` alone: a helper it loads was edited by hand
    (stripping the script would leave that edit behind, loaded by nothing); else None."""
    for helper in _beside(script, data):
        try:
            text = files.read_bytes(helper).decode("utf-8", errors="replace")
        except files.FileError:
            continue
        if helper_header.examine(text).edited:
            return f"{files.printable(str(helper))}, the helper it loads, was edited by hand"
    return None


def loaded_beside(scripts: list) -> list:
    """The helper modules on disk that the instrument blocks of ``scripts`` load, once each."""
    found: dict = {}
    for script in scripts:
        if script.suffix != ".py":
            continue
        try:
            data = files.read_bytes(script)
        except files.FileError:
            continue
        for helper in _beside(script, data):
            if helper.is_file():
                found.setdefault(os.path.normpath(str(helper)), helper)
    return list(found.values())


@dataclass(frozen=True)
class Swept:
    """One helper ``strip`` looked at: removed (or would be), or refused."""

    path: str
    removed: bool = False
    error: Optional[str] = None
    diff: str = ""


def sweep(folders: Iterable[Path], stripped: set, write: bool, show_diff: bool = False) -> list[Swept]:
    """Remove each helper in ``folders`` that no script there loads any more.

    ``stripped`` holds the keys (normalised paths) of the scripts this run stripped: they load
    nothing whatever is on disk (``--check`` and ``--diff`` write nothing).
    """
    results = []
    for folder in sorted(set(folders)):
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        helpers: list[Path] = []
        scripts: list[Path] = []
        for entry in entries:
            if not entry.name.endswith(".py") or not entry.is_file():
                continue
            (helpers if helper_module.is_file_name(entry.name) else scripts).append(Path(entry.path))
        if not helpers:
            continue
        used: set = set()
        for script in scripts:
            if os.path.normpath(str(script)) in stripped:
                continue
            try:
                used |= loaded_by(script.read_bytes().decode("utf-8", errors="replace"))
            except OSError:
                used.add("*")
        for helper in helpers:
            if helper.name in used or "*" in used:
                continue
            try:
                text = files.read_bytes(helper).decode("utf-8", errors="replace")
            except files.FileError as exc:
                results.append(Swept(str(helper), error=str(exc)))
                continue
            found = helper_header.examine(text)
            if not found.ours:
                continue  # the user's own module of that name
            label = files.printable(str(helper))
            if found.edited:
                results.append(Swept(str(helper), error=f"{label}: the helper module was edited by hand; "
                                                         "left in place (delete it yourself when done with it)"))
                continue
            shown = _file_diff(helper, text, None) if show_diff else ""
            if write:
                try:
                    os.unlink(helper)
                except OSError as exc:
                    results.append(Swept(str(helper), error=f"{label}: cannot remove: {exc.strerror}"))
                    continue
                files.forget(helper)
                _remove_bytecode(helper)
            results.append(Swept(str(helper), removed=True, diff=shown))
    return results


def _remove_bytecode(helper: Path) -> None:
    """Remove what Python cached of ``helper`` (``__pycache__/<name>.<tag>.pyc``, written when a script
    loaded it), and ``__pycache__`` if that leaves it empty; another module's bytecode stays."""
    cache = helper.parent / "__pycache__"
    prefix = helper.name[: -len(".py")] + "."
    try:
        entries = list(os.scandir(cache))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith(".pyc") and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError:
                pass  # bytecode only: Python writes it again, and checks it against the source
    try:
        os.rmdir(cache)
    except OSError:
        pass  # not empty: the user's own bytecode is there too

