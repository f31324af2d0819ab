"""Replacing a file's contents so that no failure can lose it, hard links included.

Most files are replaced by a new one: the new bytes go to a temporary file
beside the original, which is renamed over it, so any failure
before the rename (a full disk, a file size limit, an I/O error) leaves the
original as it was. A file with other hard links, or whose owner or group a
new file cannot take, must keep its inode and is overwritten instead, but
never without a complete copy of the original beside it, flushed to disk
first, and with the blocks of the new size allocated (so a full disk or a
file size limit refuses before a byte changes): when the overwrite, the truncation, the flush or the read-back fails,
the original is written back and the copy deleted; when even that fails, the
copy stays and the one-line message names it.

Another program may write the file while instrument works on it. The file is
compared with what was read (identity, size, time and a digest of its
contents) when it is opened, again from the same open file right before the
rename or the overwrite, and once more after a rename, through the open
original: a change seen then is put back (the other writer's text replaces
instrument's) and reported, so no writer's lines are lost.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from instrument.codemods.core.errors import InstrumentError

#: Read in pieces of this size from an open file.
_CHUNK = 1 << 20


class WriteFailed(InstrumentError):
    """The file was not written; str() is the one-line reason (with the path), and ``kept``
    the copy of the original left beside it when even putting the original back failed."""

    def __init__(self, message: str, kept: Optional[str] = None) -> None:
        super().__init__(message)
        self.kept = kept


@dataclass(frozen=True)
class Snapshot:
    """What a file was when it was read: device, inode, size, mtime and a digest of its bytes."""

    identity: tuple[int, int, int, int]
    digest: bytes


def snapshot(info: os.stat_result, data: bytes) -> Snapshot:
    return Snapshot((info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns), _digest(data))


def _digest(data: bytes) -> bytes:
    import hashlib  # here: OpenSSL's load costs a start milliseconds that check (no writes) never needs

    return hashlib.blake2b(data, digest_size=16).digest()


def _read_all(fd: int, limit: int) -> bytes:
    """The bytes of the open file ``fd`` from its start (at most ``limit + 1``), whatever its offset."""
    chunks, size = [], 0
    while size <= limit:
        chunk = os.pread(fd, min(_CHUNK, limit + 1 - size), size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _current(fd: int, limit: int) -> tuple[Snapshot, bytes]:
    data = _read_all(fd, limit)
    return snapshot(os.fstat(fd), data), data


def _write_all(fd: int, data: bytes, offset: Optional[int] = None) -> None:
    """All of ``data`` to ``fd`` (at ``offset`` if given): a short write is continued, and its error raised."""
    view, done = memoryview(data), 0
    while done < len(data):
        if offset is None:
            done += os.write(fd, view[done:])
        else:
            done += os.pwrite(fd, view[done:], offset + done)


def _changed(name: str) -> WriteFailed:
    return WriteFailed(f"{name}: changed while instrument ran; left as it is (run again)")


def _failed(name: str, exc: OSError, outcome: str = "") -> WriteFailed:
    return WriteFailed(f"{name}: cannot write: {exc.strerror or exc}{outcome}")


def replace_contents(target: Path, data: bytes, name: str, info: os.stat_result, expected: Optional[Snapshot],
                     limit: int) -> None:
    """Give the existing regular file ``target`` the contents ``data`` (see the module's docstring).

    ``expected`` is the file as it was read (None: not read in this process;
    it is then compared with itself as first opened); ``limit`` bounds what
    is read back from it. Raises :class:`WriteFailed`, the file being its
    original or ``data``, whole.
    """
    if info.st_nlink > 1:
        _overwrite(target, data, name, expected, limit)
        return
    try:
        original_fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _failed(name, exc) from None
    try:
        if not _replace_beside(target, original_fd, data, name, info, expected, limit):
            _overwrite(target, data, name, expected, limit)
    finally:
        os.close(original_fd)


def _replace_beside(target: Path, original_fd: int, data: bytes, name: str, info: os.stat_result,
                    expected: Optional[Snapshot], limit: int) -> bool:
    """A temporary file renamed over ``target``; False (nothing done) when it cannot take the owner or group."""
    try:
        before, original = _current(original_fd, limit)
    except OSError as exc:
        raise _failed(name, exc) from None
    if expected is not None and before != expected:
        raise _changed(name)
    temp = _new_temporary(target, data, name, info)
    if temp is None:
        return False
    try:
        # Right before the rename, from the file that is open: a writer's
        # change up to here leaves the file as that writer left it.
        now = _current(original_fd, limit)[0]
        path_info = os.stat(target)
        if now != before or (path_info.st_dev, path_info.st_ino) != before.identity[:2]:
            raise _changed(name)
        os.replace(temp, target)
    except OSError as exc:
        _remove(temp)
        raise _failed(name, exc) from None
    except WriteFailed:
        _remove(temp)
        raise
    try:
        after, latest = _current(original_fd, limit)
    except OSError:
        return True  # the old file cannot be read back: nothing tells of a change
    if after != before:
        # Written to between the check and the rename: the other writer's text goes back.
        _put_back(target, latest, name, info)
        raise _changed(name)
    return True


def _new_temporary(target: Path, data: bytes, name: str, info: Optional[os.stat_result]) -> Optional[str]:
    """A temporary file beside ``target`` holding ``data``, with the original's
    mode, owner and group (a new file: the mode open() gives); None when the owner or group
    cannot be given."""
    import tempfile  # as hashlib in _digest

    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".instrument-tmp", dir=target.parent)
    except OSError as exc:
        raise _failed(name, exc) from None
    try:
        try:
            _write_all(fd, data)
            if info is not None:
                os.fchmod(fd, stat.S_IMODE(info.st_mode))
                if not _give_owner(fd, info):
                    _remove(temp)
                    return None
            else:
                umask = os.umask(0o022)
                os.umask(umask)
                os.fchmod(fd, 0o666 & ~umask)
            # Not flushed to disk (as black and ruff: atomic, not durable): a
            # flush costs more than a sixth of add's time per file, and
            # ext4 and btrfs order a rename-over after the new file's data.
        finally:
            os.close(fd)
    except OSError as exc:
        _remove(temp)
        raise _failed(name, exc) from None
    return temp


def create_file(target: Path, data: bytes, name: str) -> None:
    """A new file at ``target`` holding ``data`` (created whole, by a rename)."""
    temp = _new_temporary(target, data, name, None)
    assert temp is not None
    try:
        os.replace(temp, target)
    except OSError as exc:
        _remove(temp)
        raise _failed(name, exc) from None


def _put_back(target: Path, data: bytes, name: str, info: os.stat_result) -> None:
    """``data`` (another writer's) at ``target`` again, in place of what instrument renamed there."""
    temp = _new_temporary(target, data, name, info)
    try:
        if temp is None:  # the owner cannot be given: the file instrument wrote is this user's anyway
            with open(target, "r+b") as handle:
                _write_all(handle.fileno(), data, 0)
                handle.truncate(len(data))
                os.fsync(handle.fileno())
        else:
            os.replace(temp, target)
    except OSError as exc:
        if temp is not None:
            _remove(temp)
        raise WriteFailed(f"{name}: changed while instrument ran, and putting that change back failed: "
                          f"{exc.strerror or exc}") from None


def _give_owner(fd: int, info: os.stat_result) -> bool:
    """Give the new file the original's owner and group; False if not allowed."""
    current = os.fstat(fd)
    if (current.st_uid, current.st_gid) == (info.st_uid, info.st_gid):
        return True
    try:
        os.fchown(fd, info.st_uid, info.st_gid)
    except (OSError, AttributeError):
        return False
    return True


def _overwrite(target: Path, data: bytes, name: str, expected: Optional[Snapshot], limit: int) -> None:
    """Overwrite the file itself (its inode, owner, group and links stay), a flushed copy of the original beside it."""
    try:
        fd = os.open(target, os.O_RDWR | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _failed(name, exc) from None
    try:
        try:
            before, original = _current(fd, limit)
        except OSError as exc:
            raise _failed(name, exc) from None
        if expected is not None and before != expected:
            raise _changed(name)
        backup = _backup(target, original, name)
        try:
            unchanged = _current(fd, limit)[0] == before  # right before the overwrite, from the file that is open
        except OSError as exc:
            _remove(backup)
            raise _failed(name, exc) from None
        if not unchanged:
            _remove(backup)
            raise _changed(name)
        try:
            _reserve(fd, len(data))  # a full disk or a size limit refuses here, before a byte changes
            _write_all(fd, data, 0)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
            if _read_all(fd, max(limit, len(data))) != data:
                raise OSError(errno.EIO, "the file does not read back as written")
        except OSError as exc:
            _restore(fd, original, backup, name, exc)
        _remove(backup)
    finally:
        os.close(fd)


def _reserve(fd: int, size: int) -> None:
    """Allocate the file's blocks up to ``size`` (ENOSPC, EFBIG), where the file system can."""
    if not hasattr(os, "posix_fallocate"):  # pragma: no cover - macOS
        return
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)):
            raise


def _backup(target: Path, original: bytes, name: str) -> str:
    """A copy of ``original`` beside ``target``, on disk (its name in the folder too) before anything is overwritten."""
    import tempfile

    try:
        fd, backup = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".instrument-backup", dir=target.parent)
    except OSError as exc:
        raise _failed(name, exc) from None
    try:
        try:
            _write_all(fd, original)
            os.fsync(fd)
        finally:
            os.close(fd)
        _sync_folder(target.parent)
    except OSError as exc:
        _remove(backup)
        raise _failed(name, exc) from None
    return backup


def _restore(fd: int, original: bytes, backup: str, name: str, error: OSError) -> None:
    """Write ``original`` back after a failed overwrite; raise the failure, naming the copy if it had to stay."""
    flushed = True
    for step in (lambda: _write_all(fd, original, 0), lambda: os.ftruncate(fd, len(original)), lambda: os.fsync(fd)):
        try:  # each step on its own: a write that fails may have changed nothing, and the truncation still counts
            step()
        except OSError:
            flushed = False
    try:
        restored = _read_all(fd, len(original)) == original
    except OSError:
        restored = False
    if restored and flushed:
        _remove(backup)
        raise _failed(name, error, "; the file is as it was") from None
    failed = _failed(name, error, "; its original contents are kept in")
    raise WriteFailed(str(failed), kept=backup) from None


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a folder that cannot be opened (no read permission) is synced with the next write
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF):  # a file system whose folders cannot be synced
            raise
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
