"""The command line: files, directories, stdin, --diff, --check, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from instrument.cli import main
from instrument.report import EXIT_FAILED, EXIT_OK, EXIT_WOULD_CHANGE

TRAIN = "import argparse\nparser = argparse.ArgumentParser()\nargs = parser.parse_args()\n"
LIBRARY = "def helper():\n    return 1\n"
BROKEN = "def broken(:\n"


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN)
    (tmp_path / "src" / "utils.py").write_text(LIBRARY)
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("")
    (tmp_path / ".venv" / "site.py").write_text(TRAIN)
    return tmp_path


def test_add_then_strip_in_place(tree, capsys):
    train = tree / "src" / "train.py"
    assert main(["add", str(tree)]) == EXIT_OK
    assert '_instrument.remote_debug(args)' in train.read_text()
    assert (tree / "src" / "_instrument_debug.py").is_file()  # the helper module, beside the script
    assert (tree / "src" / "utils.py").read_text() == LIBRARY  # not an entry script
    assert (tree / ".venv" / "site.py").read_text() == TRAIN  # virtualenvs are skipped
    err = capsys.readouterr().err
    assert f"instrumented {train}" in err and "1 file instrumented, 1 file skipped (not an entry script)." in err
    assert main(["strip", str(tree)]) == EXIT_OK
    assert train.read_text() == TRAIN
    assert not (tree / "src" / "_instrument_debug.py").exists()
    assert "1 file stripped, 1 helper module removed" in capsys.readouterr().err


def test_explicit_library_module_is_instrumented(tree):
    utils = tree / "src" / "utils.py"
    assert main(["add", str(utils)]) == EXIT_OK
    assert '\n_instrument.remote_debug()\n' in utils.read_text()


def test_diff_writes_nothing(tree, capsys):
    train = tree / "src" / "train.py"
    assert main(["add", "--diff", str(train)]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"--- {train}\t(original)\n+++ {train}\t(instrumented)\n")
    assert '+_instrument.remote_debug(args)\n' in out
    helper = train.parent / "_instrument_debug.py"
    assert f"--- /dev/null\n+++ {helper}\t(instrumented)\n" in out  # the helper module, a new file
    assert train.read_text() == TRAIN and not helper.exists()


@pytest.mark.parametrize(("action", "content", "code"), [
    ("add", TRAIN, EXIT_WOULD_CHANGE),
    ("strip", TRAIN, EXIT_OK),
])
def test_check_exit_codes(tmp_path, action, content, code):
    path = tmp_path / "train.py"
    path.write_text(content)
    assert main([action, "--check", str(path)]) == code
    assert path.read_text() == content


def test_check_after_add(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    main(["add", str(path)])
    assert main(["add", "--check", str(path)]) == EXIT_OK
    assert main(["strip", "--check", str(path)]) == EXIT_WOULD_CHANGE


def test_failure_is_one_line_and_others_still_run(tmp_path, capsys):
    bad, good = tmp_path / "bad.py", tmp_path / "good.py"
    bad.write_text(BROKEN)
    good.write_text(TRAIN)
    os.chmod(bad, 0o640)
    assert main(["add", str(bad), str(good), str(tmp_path / "missing.py")]) == EXIT_FAILED
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"{bad}: cannot parse") for line in err)
    assert f"{tmp_path / 'missing.py'}: no such file or folder" in err
    assert err[-1] == "1 file instrumented, 2 files failed."
    assert bad.read_text() == BROKEN and oct(bad.stat().st_mode & 0o777) == "0o640"
    assert '_instrument.remote_debug' in good.read_text()


def test_add_keeps_file_mode(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    os.chmod(path, 0o755)
    assert main(["add", str(path)]) == EXIT_OK
    assert oct(path.stat().st_mode & 0o777) == "0o755"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "--port", "70000", "x.py"], "Invalid value for '--port'"),
        (["add", "--timeout", "-3", "x.py"], "Invalid value for '--timeout'"),
        (["add", "--host", "1.2.3.4'; import os", "x.py"], "not an IP address or host name"),
        (["add"], "Missing argument"),
        (["add", "--kind", "notebook", "x.py"], "Invalid value for '--kind'"),
    ],
)
def test_bad_options_exit_2_before_touching_anything(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_options_reach_the_code(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    assert main(["add", "--port", "6001", "--timeout", "42", "--host", "127.0.0.1", str(path)]) == EXIT_OK
    text = path.read_text()
    assert '_instrument.add_flags(parser, host="127.0.0.1", port=6001, timeout=42)' in text
    assert main(["add", "--inline", "--port", "6001", "--timeout", "42", "--host", "127.0.0.1", str(path)]) == EXIT_OK
    text = path.read_text()
    assert "default=6001" in text and "default=42" in text and '"--remote_debug_host", type=str, default="127.0.0.1"' in text


def _instrument(*argv, stdin=b""):
    return subprocess.run(
        [sys.executable, "-m", "instrument", *argv], input=stdin, capture_output=True, timeout=60
    )


def test_stdin_to_stdout_keeps_crlf():
    source = TRAIN.replace("\n", "\r\n").encode()
    added = _instrument("add", "-", stdin=source)
    assert added.returncode == 0, added.stderr
    assert b"_instrument_remote_debug(args)\r\n" in added.stdout and b"\n" not in added.stdout.replace(b"\r\n", b"")
    stripped = _instrument("strip", "-", stdin=added.stdout)
    assert stripped.stdout == source


def test_stdin_errors_and_check():
    result = _instrument("add", "-", stdin=BROKEN.encode())
    assert result.returncode == EXIT_FAILED and result.stderr.decode().startswith("-: cannot parse")
    assert _instrument("add", "--check", "-", stdin=TRAIN.encode()).returncode == EXIT_WOULD_CHANGE


def test_version_and_help():
    assert _instrument("--version").stdout.decode().startswith("instrument, version ")
    help_text = _instrument("add", "--help").stdout.decode()
    for option in ("--port", "--timeout", "--host", "--diff", "--check", "--kind"):
        assert option in help_text


def test_verbose_names_skipped_and_unchanged_files(tmp_path, capsys):
    (tmp_path / "utils.py").write_text(LIBRARY)
    (tmp_path / "config.yml").write_text("key: value\n")
    (tmp_path / "train.py").write_text(TRAIN)
    assert main(["strip", "-v", str(tmp_path)]) == EXIT_OK
    err = capsys.readouterr().err
    assert f"unchanged {tmp_path / 'train.py'}: no instrument blocks" in err
    assert main(["add", "-v", str(tmp_path)]) == EXIT_OK
    err = capsys.readouterr().err
    assert f"skipped {tmp_path / 'utils.py'}: not an entry script" in err
    assert f"skipped {tmp_path / 'config.yml'}: not a file of any known kind" in err


def test_add_notes_hand_written_debug_code_and_leaves_it(tmp_path, capsys):
    legacy = (
        "import os\n"
        "import ptvsd as p\n"
        "if os.environ.get('DEBUG'):\n"
        "    p.enable_attach(address=('0.0.0.0', 3000))\n"
        "print('training')\n"
    )
    path = tmp_path / "train.py"
    path.write_text(legacy)
    assert main(["add", str(path)]) == EXIT_OK
    err = capsys.readouterr().err.splitlines()
    assert f"{path}:4:5: note: hand-written remote debugging (ptvsd.enable_attach) left as it is; " \
        "`instrument check` reports it (--take-over replaces it)" in err
    assert "    p.enable_attach(address=('0.0.0.0', 3000))\n" in path.read_text()
    assert main(["add", "-q", str(path)]) == EXIT_OK
    assert capsys.readouterr().err == ""
    assert main(["add", "--take-over", str(path)]) == EXIT_OK
    assert "hand-written" not in capsys.readouterr().err
    assert main(["strip", str(path)]) == EXIT_OK
    assert path.read_text() == "import os\nprint('training')\n"


def test_help_loads_no_kind_and_no_libcst():
    """``instrument --help`` (and every click parse) pays for click and the options record only."""
    code = (
        "import sys\nfrom instrument.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(name for name in sys.modules if name == 'libcst' or name.startswith('instrument.codemods.kinds.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=os.path.dirname(sys.executable))
    assert done.stdout.splitlines()[-1] == "[]"


def test_a_missing_folder_is_said_as_such(tmp_path, capsys):
    assert main(["add", str(tmp_path / "nodir") + "/"]) == 123
    assert f"{tmp_path / 'nodir'}: no such file or folder" in capsys.readouterr().err


def test_a_yaml_kind_forced_on_python_is_one_line_without_the_parsers_dump(tmp_path, capsys):
    path = tmp_path / "train.py"
    path.write_text("import os\n\ndef main(a: int) -> None:\n    print({'a': [1, 2]})\n")
    assert main(["add", "--kind", "env", str(path)]) == 123
    [line] = [line for line in capsys.readouterr().err.splitlines() if str(path) in line]
    assert line == (f"{path}: not a conda environment file (dependencies: with a pip list) (--kind env): "
                    "cannot parse YAML: line 3, column 11: mapping values are not allowed here")
    assert "<unicode string>" not in line and "^" not in line


def test_a_library_module_named_is_instrumented_with_a_note_the_walk_skips_it(tmp_path, capsys):
    path = tmp_path / "lib.py"
    path.write_text("def helper():\n    return 1\n")
    assert main(["add", str(tmp_path)]) == 0
    assert "1 file skipped (not an entry script)" in capsys.readouterr().err
    assert main(["add", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"{path}:1:1: note: not an entry script (it only defines, and runs nothing), which a walk skips" in err


def test_check_of_a_file_it_cannot_read_does_not_call_it_clean(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.py")]) == 123
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{tmp_path / 'missing.py'}: no such file or folder",
                   "no findings in the files read, 1 file failed (not checked)."]
