"""Reading, walking and writing files."""

from __future__ import annotations

import os
import stat

import pytest

from instrument import files, walk


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        (b"x = 1\r\n", "utf-8", "x = 1\r\n"),
        (b"\xef\xbb\xbfx = '\xc3\xa9'\n", "utf-8-sig", "x = 'é'\n"),
        (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "iso-8859-1", "# -*- coding: latin-1 -*-\nx = 'é'\n"),
        (b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x80'\n", "cp1252", None),
        (b"x = 1\ry = 2\r", "utf-8", "x = 1\ry = 2\r"),
    ],
)
def test_decode_encode_round_trip(data, encoding, text):
    source = files.decode(data, "f.py")
    assert source.encoding == encoding
    if text is not None:
        assert source.text == text
    assert files.encode(source, source.text) == data


def test_encode_refuses_what_the_encoding_cannot_hold():
    source = files.decode(b"# coding: latin-1\nx = 1\n")
    with pytest.raises(files.FileError, match="f.py: result cannot be encoded as iso-8859-1"):
        files.encode(source, source.text + "y = '\u20ac'\n", "f.py")


def test_write_atomic_keeps_mode_and_leaves_no_temp(tmp_path):
    path = tmp_path / "train.py"
    path.write_bytes(b"old\n")
    os.chmod(path, 0o751)
    files.write_atomic(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]


def test_write_into_a_read_only_directory_fails_cleanly(tmp_path):
    if os.geteuid() == 0:
        # root may write anywhere: use a path whose directory does not exist
        path = tmp_path / "missing" / "train.py"
    else:
        os.chmod(tmp_path, 0o555)
        path = tmp_path / "train.py"
    with pytest.raises(files.FileError, match="train.py: cannot write"):
        files.write_atomic(path, b"x\n")


def test_walk_skips_vcs_venvs_and_caches(tmp_path):
    for relative in [
        "a.py",
        "pkg/b.py",
        "pkg/notes.txt",
        "env.yml",
        ".git/hooks/c.py",
        "__pycache__/d.py",
        "myenv/lib/e.py",
        "node_modules/f.py",
        "x.egg-info/g.py",
    ]:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    found = [(p.relative_to(tmp_path).as_posix(), explicit) for p, explicit in walk.iter_files([str(tmp_path)])]
    assert found == [("a.py", False), ("pkg/b.py", False)]
    with_yaml = [p.name for p, _ in walk.iter_files([str(tmp_path)], walk.PYTHON_SUFFIXES + walk.YAML_SUFFIXES)]
    assert with_yaml == ["a.py", "env.yml", "b.py"]
    assert list(walk.iter_files([str(tmp_path / "pkg" / "notes.txt")])) == [(tmp_path / "pkg" / "notes.txt", True)]


def test_read_errors_are_one_line(tmp_path):
    with pytest.raises(files.FileError, match=r"missing.py: no such file or folder$"):
        files.read_bytes(tmp_path / "missing.py")


def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path):
    umask = os.umask(0o027)
    try:
        files.write_atomic(tmp_path / "new.json", b"{}\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640
