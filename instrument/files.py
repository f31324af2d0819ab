"""Reading and writing the files the codemods work on, as careful editors do.

Source text is decoded exactly as Python would (UTF-8 BOM, PEP 263 coding
line) without newline translation, so CRLF stays CRLF; writing encodes it
back the same way. Only regular files of at most :data:`MAX_BYTES` are read
(a FIFO, a device or a huge file is one line of error, never a hang or a
memory blow-up). A write goes through a symlink to its target, keeps mode,
owner, group and hard links, is refused for a file this user may not write,
and is refused when the file changed since it was read; no failure leaves a
file cut off (:mod:`instrument.writes`). Every message holding a path is on
one line (:func:`printable`).
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import tokenize
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from instrument import writes

from instrument.codemods.core.errors import InstrumentError

#: Files larger than this are refused unread (a source file this large is
#: generated data, and parsing it would take minutes and gigabytes).
MAX_BYTES = 10 * 1024 * 1024


class FileError(InstrumentError):
    """A file that cannot be read or written; str() is the one-line reason."""


@dataclass(frozen=True)
class SourceText:
    """Decoded file contents plus what is needed to write them back."""

    text: str
    encoding: str  # "utf-8-sig" keeps a BOM


def printable(text: str) -> str:
    """``text`` on one printable line: control, format and line-separator
    characters and undecodable bytes (surrogate escapes) become backslash escapes.

    Applied to every message line that holds a path, so a file called
    ``"x\n+++ other.py"`` cannot add lines to the output.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        elif 0xDC80 <= ord(char) <= 0xDCFF:  # a byte os.fsdecode could not decode
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            out.append(repr(char)[1:-1] if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return "".join(out)


_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
              "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def diff_label(name: str) -> str:
    """``name`` for a ``---``/``+++`` line: as it is when patch reads it back
    unchanged, else C-quoted (as git quotes paths; GNU patch unquotes them)."""
    if name.isprintable() and not any(char in name for char in '"\\') and name.strip() == name:
        return name
    out = []
    for char in name:
        if char in _C_ESCAPES:
            out.append(_C_ESCAPES[char])
        elif char.isprintable() or char == " ":
            out.append(char)
        else:
            out.append("".join(f"\\{byte:03o}" for byte in os.fsencode(char)))
    return '"' + "".join(out) + '"'


def decode(data: bytes, name: str = "<stdin>") -> SourceText:
    """Decode Python source bytes as the interpreter would, keeping newlines.

    A coding line naming something Python refuses (a bytes-to-bytes codec such
    as ``rot13`` or ``hex``, an encoding in which the coding line itself reads
    differently, such as ``utf-16``) is one line of error, as it is for Python.
    """
    name = printable(name)
    try:
        encoding, first_lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # detect_encoding says "invalid or missing encoding declaration" when
        # the first lines are not UTF-8; the decode below names the byte.
        encoding, first_lines = "utf-8", []
        if "encoding problem" in str(exc) or "unknown encoding" in str(exc):
            raise FileError(f"{name}: {printable(str(exc))}") from None
    if encoding not in ("utf-8", "utf-8-sig"):
        _check_source_encoding(encoding, b"".join(first_lines), name)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileError(f"{name}: cannot decode as {encoding}: {exc.reason} at byte {exc.start}") from None
    except (LookupError, ValueError, TypeError) as exc:
        raise FileError(f"{name}: encoding problem: {encoding}: {printable(str(exc))}") from None
    return SourceText(text, encoding)


def _check_source_encoding(encoding: str, declared: bytes, name: str) -> None:
    """Refuse what Python refuses: a codec that is not a text encoding, or one
    in which the coding line does not read as itself (``utf-16``, EBCDIC)."""
    probe = declared if declared.isascii() and declared else b"# -*- coding: x -*-\n"
    try:
        text_encoding = codecs.lookup(encoding)._is_text_encoding
    except LookupError:
        text_encoding = False
    try:
        same = text_encoding and probe.decode(encoding) == probe.decode("ascii")
    except (LookupError, ValueError, TypeError):
        same = False
    if not text_encoding:
        raise FileError(f"{name}: encoding problem: {encoding} is not a text encoding")
    if not same:
        raise FileError(f"{name}: encoding problem: {encoding} (the coding line does not read as itself in it)")


def decode_text(data: bytes, name: str = "<stdin>") -> SourceText:
    """Decode a non-Python text file (YAML): UTF-8, with or without BOM."""
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return SourceText(data.decode(encoding), encoding)
    except UnicodeDecodeError as exc:
        raise FileError(f"{printable(name)}: cannot decode as UTF-8: {exc.reason}") from None


def encode(source: SourceText, text: str, name: str = "<stdout>") -> bytes:
    try:
        return text.encode(source.encoding)
    except UnicodeEncodeError as exc:
        raise FileError(f"{printable(name)}: result cannot be encoded as {source.encoding}: {exc.reason}") from None


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)

#: What the files read in this process were (device, inode, size, mtime and
#: digest), by path, so that :func:`write_atomic` replaces a file only if it
#: is still what was read. Bounded: a file is written right after it is read.
_READ: "OrderedDict[str, writes.Snapshot]" = OrderedDict()
_READ_MEMORY = 256


def _what(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _read_regular(path: Path, limit: int = MAX_BYTES) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most ``limit`` bytes, and its status.

    Opened without blocking (a FIFO would wait for a writer) and checked with
    fstat before anything is read; at most ``limit + 1`` bytes are ever read,
    so a file that grows, or ``/dev/zero``, costs no memory.
    """
    name = printable(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise FileError(f"{name}: no such file or folder") from None
    except IsADirectoryError:
        raise FileError(f"{name}: is a directory") from None
    except OSError as exc:
        raise FileError(f"{name}: cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            try:
                os.listdir(path)
            except OSError as exc:
                raise FileError(f"{name}: cannot list folder: {exc.strerror}") from None
            raise FileError(f"{name}: is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise FileError(f"{name}: not a regular file ({_what(info.st_mode)}); skipped")
        if info.st_size > limit:
            raise FileError(f"{name}: too large ({info.st_size:,} bytes; the limit is {limit:,}); skipped")
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileError(f"{name}: too large (more than {limit:,} bytes); skipped")
        return b"".join(chunks), info
    except OSError as exc:
        raise FileError(f"{name}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def read_snapshot(path: Path) -> Optional[tuple]:
    """What :func:`read_bytes` saw of ``path`` in this process (for another process to
    :func:`remember`), None if it has not read it."""
    found = _READ.get(str(path))
    return (found.identity, found.digest) if found is not None else None


def forget(path: Path) -> None:
    """Drop this process's read of ``path`` (the file was removed: a new one is not a change)."""
    _READ.pop(str(path), None)


def remember(path: Path, snapshot: tuple) -> None:
    """Take ``snapshot`` (from :func:`read_snapshot` in a worker process) as this process's
    read of ``path``: a write checks the file against it."""
    from instrument import writes  # loaded by the runs that write (``check`` never does)

    _READ[str(path)] = writes.Snapshot(*snapshot)
    _READ.move_to_end(str(path))
    while len(_READ) > _READ_MEMORY:
        _READ.popitem(last=False)


def read_bytes(path: Path, remember: bool = True) -> bytes:
    """The contents of the regular file ``path`` (at most :data:`MAX_BYTES`).

    Raises :class:`FileError` with one line for anything else: missing,
    unreadable, a FIFO or device, too large. What was read is remembered
    so that :func:`write_atomic` can tell whether the file changed since
    (``remember=False``: a reader that never writes, ``check``).
    """
    data, info = _read_regular(path)
    if not remember:
        return data
    from instrument import writes

    key = str(path)
    _READ[key] = writes.snapshot(info, data)
    _READ.move_to_end(key)
    while len(_READ) > _READ_MEMORY:
        _READ.popitem(last=False)
    return data


def write_atomic(path: Path, data: bytes) -> None:
    """Replace the file at ``path`` with ``data``, as an editor that keeps what
    the file is: a symlink stays a symlink (its target is written), and the
    target keeps its mode, owner, group and hard links.

    Written so that no failure can lose the file (see :mod:`instrument.writes`):
    it is its original or ``data``, whole. Refused, with one line and nothing
    written: a file this user may not write (even in a folder where a rename
    would succeed), and a file that changed since :func:`read_bytes` read it.
    """
    from instrument import writes

    name = printable(str(path))
    target = Path(os.path.realpath(path))
    try:
        info: Optional[os.stat_result] = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise FileError(f"{name}: cannot write: {exc.strerror}") from None
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            raise FileError(f"{name}: cannot write: not a regular file ({_what(info.st_mode)})")
        if not os.access(target, os.W_OK):
            raise FileError(f"{name}: cannot write: the file is read-only for this user")
    expected = _READ.pop(str(path), None)
    try:
        if info is None:
            if expected is not None:
                raise FileError(f"{name}: changed while instrument ran; left as it is (run again)")
            writes.create_file(target, data, name)
        else:
            writes.replace_contents(target, data, name, info, expected, MAX_BYTES)
    except writes.WriteFailed as exc:
        kept = f" {printable(exc.kept)}" if exc.kept else ""
        raise FileError(f"{exc}{kept}") from None
