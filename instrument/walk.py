"""Which files a run looks at: the files named, and those found by walking folders.

Folders are told apart by what they are, not only by their names: a Python
environment is a folder holding ``pyvenv.cfg`` or ``conda-meta/`` (or a
``lib/python*/site-packages``), whatever it is called, so a project's own
``venv/`` package is walked; ``build/`` and ``dist/`` are skipped only when
they hold what packaging tools write there; a folder tagged with
``CACHEDIR.TAG`` is a cache. Version control and tool caches (``.git``,
``__pycache__``, ``.tox``, ``node_modules`` ...) are skipped by name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

#: Folders never walked into, by name: version control, caches and tool
#: state that never hold a project's own code.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".nox",
        "__pycache__",
        "node_modules",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        "dist-packages",
    }
)
#: Folder names that are skipped only when their contents say they are build
#: output (see :func:`is_build_output`): a ``build/`` package of real code is walked.
BUILD_DIRS = frozenset({"build", "dist"})
PYTHON_SUFFIXES = (".py",)
YAML_SUFFIXES = (".yml", ".yaml")
def is_environment(path: Path) -> bool:
    """A Python environment (virtualenv, venv, conda, a prefix with
    site-packages), whatever the folder is called."""
    return (
        (path / "pyvenv.cfg").is_file()
        or (path / "conda-meta").is_dir()
        or any(path.glob("lib/python*/site-packages"))
        or (path / "Lib" / "site-packages").is_dir()
    )


#: What setuptools, pip and wheel put into build/ and dist/.
_BUILD_OUTPUT_GLOBS = ("lib", "lib.*", "bdist.*", "temp.*", "scripts-*", "*.egg-info", "*.dist-info", "*.whl",
                       "*.egg", "*.tar.gz")


def is_build_output(path: Path) -> bool:
    """A ``build/`` or ``dist/`` folder holding what packaging tools write
    (setuptools' ``lib``/``lib.<platform>``/``bdist.*``/``temp.*``, wheel and
    egg metadata or archives); one holding anything else is a project's code."""
    return any(any(path.glob(pattern)) for pattern in _BUILD_OUTPUT_GLOBS)


def is_cache(path: Path) -> bool:
    """A folder tagged as a cache (https://bford.info/cachedir/)."""
    return (path / "CACHEDIR.TAG").is_file()


def skip_folder(path: Path) -> bool:
    """Whether a walk passes over the folder ``path``: by name for version
    control and tool caches, by contents for environments and build output."""
    name = path.name
    if name in SKIP_DIRS or name.endswith(".egg-info"):
        return True
    if name in BUILD_DIRS and is_build_output(path):
        return True
    return is_environment(path) or is_cache(path)


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    import fnmatch

    return any(fnmatch.fnmatchcase(name.lower(), pattern.lower()) for pattern in patterns)


def iter_files(
    paths: Iterable[str], suffixes: tuple[str, ...] = PYTHON_SUFFIXES, names: tuple[str, ...] = (),
    extensionless: bool = False,
) -> Iterator[tuple[Path, bool]]:
    """Yield (path, named_explicitly) for every file given or found by walking.

    Walking yields the files whose name ends with one of ``suffixes`` or
    matches one of the ``names`` patterns (``requirements*.txt``), and, with
    ``extensionless``, the regular files without a dot in their name (scripts
    that say what runs them in a ``#!`` line).

    Directories are walked in sorted order (a folder's files before its
    subfolders), passing over the folders :func:`skip_folder` names and never
    following a symlinked folder. Files named on the command line are yielded
    whatever their suffix. A file reached twice (a symlink and its target, a
    hard link, a name given twice) is yielded once. Entries that are not
    regular files (a FIFO, a socket, a device) are yielded too, so that
    :func:`read_bytes` reports them in one line instead of reading them.
    """
    seen: set[tuple[int, int]] = set()

    def first_time(path: Path) -> bool:
        try:
            info = path.stat()
        except OSError:
            return True  # read_bytes says why
        key = (info.st_dev, info.st_ino)
        if key in seen:
            return False
        seen.add(key)
        return True

    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            if first_time(path):
                yield path, True
            continue
        stack = [path]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as entries:
                    listed = sorted(entries, key=lambda entry: entry.name)
            except OSError:
                yield folder, False  # read_bytes reports the folder as unreadable
                continue
            subfolders = []
            for entry in listed:
                if entry.is_dir(follow_symlinks=False):
                    if not skip_folder(Path(entry.path)):
                        subfolders.append(Path(entry.path))
                elif (
                    entry.name.endswith(suffixes) or _matches(entry.name, names)
                    or (extensionless and "." not in entry.name and entry.is_file())
                ) and first_time(Path(entry.path)):
                    yield Path(entry.path), False
            stack.extend(reversed(subfolders))


