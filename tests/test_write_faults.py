"""Faults on every system call of the write path: no failure can lose a file.

After each fault, for ``add`` and ``strip``, a file with one link and a file
with two: the file (and its other name) is its original or its complete new
text, the run says so on one line, nothing is left beside it but a copy of
the original that the message names, and ``strip`` of a complete result
gives the original back. Three ways in: the os functions of
:mod:`instrument.writes` replaced in this process (every call in turn, once
or from then on, a short write first), a file size limit (``RLIMIT_FSIZE``,
as ``ulimit -f``) in a subprocess, and strace's fault injection into the
real system calls where strace runs.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from instrument import files, writes
from instrument.cli import main

ORIGINAL = (Path(__file__).resolve().parents[1] / "fixtures" / "train" / "seed_train" / "before.py").read_bytes()


def _instrumented(helper: Optional[str] = None) -> bytes:
    from instrument.process import ADD, Job, add_options, process_bytes

    output = process_bytes(Job(ADD, options=add_options(helper=helper)), ORIGINAL, "train.py").output
    assert output is not None and output != ORIGINAL
    return output


#: The faults below are met by the write of one file: the script with the whole helper in it
#: (``add --inline``). The helper module beside a script is written by the same path, first
#: (tests at the end).
INSTRUMENTED = _instrumented()
HELPER = "_instrument_debug.py"
BESIDE = _instrumented(HELPER)


def _argv(command: str, path: Path) -> list:
    return [command, "--inline", str(path)] if command == "add" else [command, str(path)]
#: (before, after) of each command.
TEXTS = {"add": (ORIGINAL, INSTRUMENTED), "strip": (INSTRUMENTED, ORIGINAL)}


def _setup(folder: Path, command: str, links: int) -> Path:
    folder.mkdir()
    path = folder / "train.py"
    path.write_bytes(TEXTS[command][0])
    if links == 2:
        os.link(path, folder / "other-name.py")
    return path


def _assert_whole(path: Path, command: str, links: int, code: int, err: str) -> None:
    """The invariant after a fault (see the module's docstring)."""
    before, after = TEXTS[command]
    assert "Traceback" not in err
    lines = err.splitlines()
    if code != 0:
        assert code == 123, err
        assert lines[0].startswith(f"{path}: cannot write: "), err
    content = path.read_bytes()
    kept = code != 0 and "original contents are kept in" in lines[0]
    # A disk that fails the overwrite and then every write back (a fault that
    # lasts) may leave the file cut off: then the message names a whole copy.
    assert content in (before, after) or kept, f"{command}, {links} link(s): the file is neither whole text\n{err}"
    if links == 2:
        other = path.parent / "other-name.py"
        assert os.path.samefile(path, other), "the hard link was broken"
    left = sorted(p.name for p in path.parent.iterdir() if p.name not in ("train.py", "other-name.py"))
    if kept:
        assert len(left) == 1 and left[0].endswith(".instrument-backup"), left
        assert lines[0].endswith(str(path.parent / left[0]))
        assert (path.parent / left[0]).read_bytes() == before
    else:
        assert left == [], f"left beside the file: {left}\n{err}"
    if content == after == INSTRUMENTED:
        assert main(["strip", "-q", str(path)]) == 0
        assert path.read_bytes() == ORIGINAL


# --- in this process: each os function of the write path fails ------------------


class _FaultyOs:
    """``os`` as :mod:`instrument.writes` sees it, with ``function`` failing with
    ``error`` at its ``nth`` call (from then on when ``lasting``); ``short``: that
    call first writes half its bytes, as a write that reaches a limit does."""

    def __init__(self, function: str, error: int, nth: int, lasting: bool, short: bool) -> None:
        self.function, self.error, self.nth, self.lasting, self.short = function, error, nth, lasting, short
        self.calls = 0

    def __getattr__(self, name: str):
        real = getattr(os, name)
        if name != self.function:
            return real

        def faulty(*args):
            self.calls += 1
            if self.calls == self.nth and self.short and name in ("write", "pwrite") and len(args[1]) > 1:
                half = bytes(args[1][: len(args[1]) // 2])
                return real(args[0], half, *args[2:])
            if self.calls == self.nth + (1 if self.short else 0) or (self.lasting and self.calls > self.nth):
                raise OSError(self.error, os.strerror(self.error))
            return real(*args)

        return faulty


_FAULTS = [
    ("write", errno.EFBIG, False, True),
    ("write", errno.ENOSPC, False, False),
    ("write", errno.EIO, True, False),
    ("pwrite", errno.EFBIG, False, True),
    ("pwrite", errno.ENOSPC, True, True),
    ("pwrite", errno.EIO, True, False),
    ("ftruncate", errno.EIO, False, False),
    ("ftruncate", errno.EIO, True, False),
    ("fsync", errno.EIO, False, False),
    ("fsync", errno.EIO, True, False),
    ("replace", errno.EIO, False, False),
    ("replace", errno.ENOSPC, True, False),
]


@pytest.mark.parametrize("links", [1, 2])
@pytest.mark.parametrize("command", ["add", "strip"])
@pytest.mark.parametrize(
    ("function", "error", "lasting", "short"),
    _FAULTS,
    ids=[f"{f}-{errno.errorcode[e]}{'-lasting' if lasting else ''}{'-short' if short else ''}"
         for f, e, lasting, short in _FAULTS],
)
def test_a_failing_call_loses_nothing(function: str, error: int, lasting: bool, short: bool, command: str,
                                      links: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    failed = 0
    for nth in range(1, 12):  # every call of the function in turn, until one run makes fewer calls
        path = _setup(tmp_path / f"call{nth}", command, links)
        faulty = _FaultyOs(function, error, nth, lasting, short)
        monkeypatch.setattr(writes, "os", faulty)
        code = main(_argv(command, path))
        monkeypatch.setattr(writes, "os", os)
        _, err = capsys.readouterr()
        _assert_whole(path, command, links, code, err)
        failed += code != 0
        if faulty.calls < nth:
            break
    else:
        pytest.fail("the write path made more calls than tried")
    if function == "write" or (function == "replace") == (links == 1):  # the calls this kind of write makes
        assert failed, "no run met the fault"


def test_a_copy_that_could_not_be_put_back_is_named_and_holds_the_original(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = _setup(tmp_path / "folder", "add", 2)
    # Half the new text written, then no write succeeds: the original cannot be written back.
    monkeypatch.setattr(writes, "os", _FaultyOs("pwrite", errno.EIO, 1, lasting=True, short=True))
    code = main(_argv("add", path))
    err = capsys.readouterr().err
    assert code == 123
    backups = list(path.parent.glob(".train.py.*.instrument-backup"))
    assert err.splitlines()[0] == (f"{path}: cannot write: Input/output error; its original contents are kept in "
                                   f"{backups[0]}")
    assert backups[0].read_bytes() == ORIGINAL != path.read_bytes()
    path.write_bytes(backups[0].read_bytes())  # what the message asks for (cat, which keeps the links)
    assert path.read_bytes() == ORIGINAL


# --- another writer ------------------------------------------------------------


class _Appending:
    """``os`` whose ``function``, at its ``nth`` call, lets another writer append through a file it
    opened at the start (before the call when ``first``, else right after it)."""

    APPENDED = b"print('appended meanwhile')\n"

    def __init__(self, path: Path, function: str, nth: int, first: bool) -> None:
        self.handle = open(path, "ab")  # noqa: SIM115 (closed in the call)
        self.function, self.nth, self.first, self.calls = function, nth, first, 0

    def _append(self) -> None:
        self.handle.write(self.APPENDED)
        self.handle.close()

    def __getattr__(self, name: str):
        real = getattr(os, name)
        if name != self.function:
            return real

        def appending(*args):
            self.calls += 1
            if self.calls == self.nth and self.first:
                self._append()
            result = real(*args)
            if self.calls == self.nth and not self.first:
                self._append()
            return result

        return appending


_WRITERS = [
    (1, "write", 1, False),  # while the temporary file is written
    (1, "replace", 1, True),  # between the last check and the rename
    (1, "replace", 1, False),  # right after the rename, into the file it replaced
    (2, "fsync", 1, False),  # while the copy of the original is flushed
]


@pytest.mark.parametrize(("links", "function", "nth", "first"), _WRITERS,
                         ids=[f"{links}-links-{'before' if first else 'after'}-{function}"
                              for links, function, nth, first in _WRITERS])
def test_another_writers_append_is_never_lost(links: int, function: str, nth: int, first: bool, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = _setup(tmp_path / "folder", "add", links)
    files.read_bytes(path)
    appending = _Appending(path, function, nth, first)
    monkeypatch.setattr(writes, "os", appending)
    with pytest.raises(files.FileError, match=r"train.py: changed while instrument ran; left as it is \(run again\)$"):
        files.write_atomic(path, INSTRUMENTED)
    assert appending.calls >= nth
    assert path.read_bytes() == ORIGINAL + _Appending.APPENDED
    assert sorted(p.name for p in path.parent.iterdir()) == ["other-name.py", "train.py"][2 - links:]


# --- a file size limit (ulimit -f) in a subprocess -------------------------------

_LIMITED = """
import resource, sys
from instrument.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("links", [1, 2])
@pytest.mark.parametrize("command", ["add", "strip"])
def test_a_file_size_limit_loses_nothing(command: str, links: int, tmp_path: Path) -> None:
    assert len(ORIGINAL) < 12 * 1024 < len(INSTRUMENTED)
    path = _setup(tmp_path / "folder", command, links)
    done = subprocess.run([sys.executable, "-c", _LIMITED, str(12 * 1024), *_argv(command, path)],
                          capture_output=True, text=True, timeout=120)
    _assert_whole(path, command, links, done.returncode, done.stderr)
    if TEXTS[command][1] == INSTRUMENTED:  # the new text is over the limit
        assert done.returncode == 123 and ": cannot write: File too large" in done.stderr
        assert path.read_bytes() == ORIGINAL


# --- strace's fault injection into the system calls -----------------------------


def _strace_works() -> Optional[str]:
    strace = shutil.which("strace")
    if strace is None:
        return None
    done = subprocess.run([strace, "-f", "-o", os.devnull, "true"], capture_output=True, timeout=60)
    return strace if done.returncode == 0 else None


_INJECTIONS = [
    # (links, system call, error, when): only calls that write of that kind makes
    (1, "write", "EFBIG", "1"),
    (1, "write", "ENOSPC", "1"),
    (1, "write", "EIO", "1"),
    (1, "rename", "EIO", "1"),
    (2, "write", "ENOSPC", "1"),
    (2, "fallocate", "ENOSPC", "1"),
    (2, "fallocate", "EFBIG", "1"),
    (2, "write", "EIO", "1"),
    (2, "pwrite64", "EIO", "1"),
    (2, "pwrite64", "ENOSPC", "1+"),
    (2, "ftruncate", "EIO", "1"),
    (2, "ftruncate", "EIO", "1+"),
    (2, "fsync", "EIO", "1"),
    (2, "fsync", "EIO", "2"),
    (2, "fsync", "EIO", "3"),
    (2, "fsync", "EIO", "3+"),
]


@pytest.mark.programs("strace")
@pytest.mark.parametrize("command", ["add", "strip"])
@pytest.mark.parametrize(("links", "call", "error", "when"), _INJECTIONS,
                         ids=[f"{links}-links-{call}-{error}-{when}" for links, call, error, when in _INJECTIONS])
def test_an_injected_system_call_error_loses_nothing(links: int, call: str, error: str, when: str, command: str,
                                                     tmp_path: Path) -> None:
    strace = _strace_works()
    if strace is None:
        pytest.skip("strace cannot trace here (ptrace is not permitted)")
    path = _setup(tmp_path / "folder", command, links)
    traced = "rename,renameat,renameat2" if call == "rename" else call
    done = subprocess.run(
        [strace, "-f", "-qq", "-o", os.devnull, "-e", f"trace={traced}", "-e", f"inject={traced}:error={error}:when={when}",
         sys.executable, "-m", "instrument", *_argv(command, path)],
        capture_output=True, text=True, timeout=120,
    )
    _assert_whole(path, command, links, done.returncode, done.stderr)


# --- the helper module beside the script: written first, never half --------------


def _assert_helper_and_script(path: Path, code: int, err: str) -> None:
    """The script is its original, or the new text with the complete helper beside it; a helper
    that is there is complete; nothing else is left in the folder."""
    from instrument.codemods.helper import module as helper_module

    helper = path.parent / HELPER
    assert "Traceback" not in err
    assert path.read_bytes() in (ORIGINAL, BESIDE), err
    if helper.exists():
        assert helper_module.examine(helper.read_text(encoding="utf-8")).current, err
    if path.read_bytes() == BESIDE:
        assert code == 0 and helper.exists(), err
    else:
        assert code == 123 and len(err.splitlines()) == 2 and not helper.exists(), err  # one line, and the summary
    assert sorted(p.name for p in path.parent.iterdir() if p.name != HELPER) == ["train.py"]


@pytest.mark.parametrize(("function", "error"), [("write", errno.ENOSPC), ("write", errno.EIO),
                                                 ("replace", errno.EIO), ("replace", errno.ENOSPC)])
def test_a_fault_while_the_helper_or_the_script_is_written_loses_nothing(
        function: str, error: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    failed = 0
    for nth in range(1, 12):
        path = _setup(tmp_path / f"call{nth}", "add", 1)
        faulty = _FaultyOs(function, error, nth, lasting=False, short=False)
        monkeypatch.setattr(writes, "os", faulty)
        code = main(["add", str(path)])
        monkeypatch.setattr(writes, "os", os)
        _, err = capsys.readouterr()
        _assert_helper_and_script(path, code, err)
        failed += code != 0
        if faulty.calls < nth:
            break
    assert failed, "no run met the fault"


def test_a_file_size_limit_below_the_helper_leaves_the_script_as_it_was(tmp_path: Path) -> None:
    path = _setup(tmp_path / "folder", "add", 1)
    done = subprocess.run([sys.executable, "-c", _LIMITED, str(8 * 1024), "add", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert f"{path.parent / HELPER}: cannot write: File too large" in done.stderr
    _assert_helper_and_script(path, done.returncode, done.stderr)
