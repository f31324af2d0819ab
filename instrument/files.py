"""Finding, reading and writing the files the codemods work on.

Source text is decoded exactly as Python would (UTF-8 BOM, PEP 263 coding
line) without newline translation, so CRLF stays CRLF; writing encodes it
back the same way, into a temporary file beside the target that replaces it
atomically and keeps its mode.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from instrument.codemods.errors import InstrumentError

#: Folders never walked into.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        "node_modules",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "build",
        "dist",
        "site-packages",
    }
)
PYTHON_SUFFIXES = (".py",)
YAML_SUFFIXES = (".yml", ".yaml")


class FileError(InstrumentError):
    """A file that cannot be read or written; str() is the one-line reason."""


@dataclass(frozen=True)
class SourceText:
    """Decoded file contents plus what is needed to write them back."""

    text: str
    encoding: str  # "utf-8-sig" keeps a BOM


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def iter_files(paths: Iterable[str], suffixes: tuple[str, ...] = PYTHON_SUFFIXES) -> Iterator[tuple[Path, bool]]:
    """Yield (path, named_explicitly) for every file given or found by walking.

    Directories are walked in sorted order, skipping version-control folders,
    virtualenvs and caches. Files named on the command line are yielded
    whatever their suffix.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                root_path = Path(root)
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if d not in SKIP_DIRS
                    and not d.endswith(".egg-info")
                    and not _is_virtualenv(root_path / d)
                )
                for name in sorted(files):
                    if name.endswith(suffixes):
                        yield root_path / name, False
        else:
            yield path, True


def decode(data: bytes, name: str = "<stdin>") -> SourceText:
    """Decode Python source bytes as the interpreter would, keeping newlines."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # detect_encoding says "invalid or missing encoding declaration" when
        # the first lines are not UTF-8; the decode below names the byte.
        encoding = "utf-8"
        if "encoding problem" in str(exc) or "unknown encoding" in str(exc):
            raise FileError(f"{name}: {exc}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileError(f"{name}: cannot decode as {encoding}: {exc.reason} at byte {exc.start}") from None
    return SourceText(text, encoding)


def decode_text(data: bytes, name: str = "<stdin>") -> SourceText:
    """Decode a non-Python text file (YAML): UTF-8, with or without BOM."""
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return SourceText(data.decode(encoding), encoding)
    except UnicodeDecodeError as exc:
        raise FileError(f"{name}: cannot decode as UTF-8: {exc.reason}") from None


def encode(source: SourceText, text: str, name: str = "<stdout>") -> bytes:
    try:
        return text.encode(source.encoding)
    except UnicodeEncodeError as exc:
        raise FileError(f"{name}: result cannot be encoded as {source.encoding}: {exc.reason}") from None


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileError(f"{path}: is a directory") from None
    except OSError as exc:
        raise FileError(f"{path}: cannot read: {exc.strerror}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` via a temporary file; keep the mode."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    directory = path.parent
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".instrument-tmp", dir=directory)
    except OSError as exc:
        raise FileError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)  # no fsync: as black and ruff, atomic but not durable
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except OSError as exc:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        raise FileError(f"{path}: cannot write: {exc.strerror}") from None
