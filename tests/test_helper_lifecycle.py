"""The helper module beside instrumented scripts, through the commands a user types.

``add`` writes it (or leaves it when it is already this version's, or
replaces an older one of its own, or refuses an edited one); a module of the
user's with its name keeps it; where the upload would leave it out
(``.amlignore``, ``.gitignore``, a job whose ``code:`` is the script itself)
the helper goes in the script, and add says why. ``strip`` removes it with
the last script that loads it and refuses an edited one; ``check`` reports
it; ``--diff`` shows it once as a new file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from instrument.cli import main
from instrument.codemods.fences import markers
from instrument.codemods.helper import module as helper_module

TRAIN = """\
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()
print("lr", args.lr)
"""
OTHER = 'import sys\n\nprint("other", sys.argv[1:])\n'
HELPER = helper_module.FILE_NAME


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "repo" / "src"  # the test's files stay in tmp_path, ignore files above included
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(TRAIN)
    (folder / "other.py").write_text(OTHER)
    return folder


def _older_version() -> str:
    """A helper as an older version of add wrote it: its own header and hash, another body."""
    body = helper_module.module_text().split("\n", 3)[3].replace("debug port", "the debug port")
    from instrument.codemods.helper.header import header

    return header(body) + body


def test_add_writes_the_helper_once_and_the_scripts_load_it(code, capsys):
    status, _, err = _run(capsys, "add", str(code))
    assert status == 0, err
    helper = code / HELPER
    assert helper.read_text() == helper_module.module_text()
    assert err.count(f"wrote {helper} ") == 1
    for name in ("train.py", "other.py"):
        assert '"/../_instrument_debug.py"' in (code / name).read_text()
    before = helper.stat().st_mtime_ns
    status, _, err = _run(capsys, "add", str(code))
    assert (status, helper.stat().st_mtime_ns) == (0, before)  # already this version's: not written again
    assert f"wrote {helper}" not in err and "0 files instrumented, 2 files left unchanged" in err


def test_the_helper_named_alone_is_not_instrumented(code, capsys):
    assert _run(capsys, "add", "-q", str(code / "train.py"))[0] == 0
    status, _, err = _run(capsys, "add", "-v", str(code / HELPER))
    assert status == 0 and "skipped" in err and "helper module" in err
    assert (code / HELPER).read_text() == helper_module.module_text()


def test_an_older_helper_of_add_is_replaced(code, capsys):
    older = _older_version()
    assert helper_module.examine(older).ours and not helper_module.examine(older).edited
    (code / HELPER).write_text(older)
    status, _, err = _run(capsys, "add", str(code / "train.py"))
    assert status == 0, err
    assert f"updated {code / HELPER}" in err
    assert (code / HELPER).read_text() == helper_module.module_text()


def test_an_edited_helper_is_refused_by_add_and_nothing_changes(code, capsys):
    edited = helper_module.module_text().replace("debug port", "my port")
    (code / HELPER).write_text(edited)
    status, _, err = _run(capsys, "add", str(code / "train.py"))
    assert status == 123
    assert err.splitlines()[0] == (f"{code / HELPER}: the helper module was edited by hand; left as it is "
                                   "(delete it, or undo the edit, and run add again)")
    assert (code / "train.py").read_text() == TRAIN and (code / HELPER).read_text() == edited


def test_a_users_module_of_that_name_keeps_it(code, capsys):
    mine = "def util():\n    return 1\n"
    (code / HELPER).write_text(mine)
    assert _run(capsys, "add", "-q", str(code / "train.py"))[0] == 0
    assert (code / HELPER).read_text() == mine
    assert (code / "_instrument_debug_2.py").read_text() == helper_module.module_text()
    assert '"/../_instrument_debug_2.py"' in (code / "train.py").read_text()
    assert _run(capsys, "strip", "-q", str(code))[0] == 0
    assert (code / "train.py").read_text() == TRAIN
    assert sorted(p.name for p in code.iterdir()) == [HELPER, "other.py", "train.py"]
    assert (code / HELPER).read_text() == mine


@pytest.mark.parametrize(
    ("ignores", "inline"),
    [
        ({".amlignore": "_instrument*.py\n"}, True),
        ({".gitignore": "*.py[co]\n_instrument_debug.py\n"}, True),
        ({".gitignore": "_*.py\n", ".amlignore": "*.log\n"}, False),  # .amlignore replaces .gitignore
        ({"../.gitignore": "src/_instrument_debug.py\n", "../.git/HEAD": "ref: refs/heads/main\n"}, True),
        ({"../../.gitignore": "_instrument_debug.py\n", "../.git/HEAD": "ref: refs/heads/main\n"}, False),
        ({".gitignore": "!_instrument_debug.py\n"}, False),
    ],
    ids=["amlignore", "gitignore", "amlignore-wins", "parent-gitignore", "above-the-repository", "negated"],
)
def test_where_the_upload_would_leave_the_helper_out_it_goes_in_the_script(code, capsys, ignores, inline):
    for name, text in ignores.items():
        path = code / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    status, _, err = _run(capsys, "add", str(code / "train.py"))
    assert status == 0, err
    text = (code / "train.py").read_text()
    assert ("def _instrument_remote_debug(" in text) == inline
    assert (code / HELPER).exists() == (not inline)
    if inline:
        assert f"{code / 'train.py'}:1:1: note: the remote debugging helper goes in the script: " in err
        assert "leaves _instrument_debug.py out of the upload" in err
    assert _run(capsys, "strip", "-q", str(code / "train.py"))[0] == 0
    assert (code / "train.py").read_text() == TRAIN and not (code / HELPER).exists()


def test_inline_is_a_choice_too(code, capsys):
    assert _run(capsys, "add", "-q", "--inline", str(code / "train.py"))[0] == 0
    assert "def _instrument_remote_debug(" in (code / "train.py").read_text()
    assert not (code / HELPER).exists()


def test_strip_keeps_the_helper_while_a_script_loads_it_and_removes_it_with_the_last(code, capsys):
    assert _run(capsys, "add", "-q", str(code))[0] == 0
    status, _, err = _run(capsys, "strip", str(code / "train.py"))
    assert status == 0 and (code / HELPER).exists()
    assert err.splitlines()[-1] == "1 file stripped."
    status, _, err = _run(capsys, "strip", "--check", str(code / "other.py"))
    assert status == 1 and f"would be removed {code / HELPER}" in err and (code / HELPER).exists()
    status, _, err = _run(capsys, "strip", str(code / "other.py"))
    assert status == 0 and not (code / HELPER).exists()
    assert f"removed {code / HELPER} (no script beside it loads the helper any more)" in err
    assert err.splitlines()[-1] == "1 file stripped, 1 helper module removed."
    assert (code / "train.py").read_text() == TRAIN and (code / "other.py").read_text() == OTHER


def test_strip_refuses_an_edited_helper_and_changes_nothing(code, capsys):
    assert _run(capsys, "add", "-q", str(code))[0] == 0
    instrumented = {p.name: p.read_bytes() for p in code.iterdir()}
    edited = instrumented[HELPER] + b"# mine\n"
    (code / HELPER).write_bytes(edited)
    status, _, err = _run(capsys, "strip", str(code))
    assert status == 123
    lines = err.splitlines()
    assert lines[0] == (f"{code / 'other.py'}: {code / HELPER}, the helper it loads, was edited by hand; nothing "
                        "stripped (undo the edit, or delete the helper, and run strip again)")
    assert lines[-1] == "0 files stripped, 2 files failed."
    assert {p.name: p.read_bytes() for p in code.iterdir()} == {**instrumented, HELPER: edited}


def test_strip_removes_a_helper_no_script_loads_and_refuses_an_edited_one(code, capsys):
    (code / HELPER).write_text(helper_module.module_text())
    status, _, err = _run(capsys, "strip", str(code))
    assert status == 0 and not (code / HELPER).exists(), err
    (code / HELPER).write_text(helper_module.module_text() + "x = 1\n")
    status, _, err = _run(capsys, "strip", str(code))
    assert status == 123 and (code / HELPER).exists()
    assert f"{code / HELPER}: the helper module was edited by hand; left in place" in err


def test_a_line_ending_change_is_not_an_edit(code, capsys):
    (code / HELPER).write_bytes(helper_module.module_text().replace("\n", "\r\n").encode())
    assert helper_module.examine((code / HELPER).read_bytes().decode()).ours
    assert not helper_module.examine((code / HELPER).read_bytes().decode()).edited
    assert _run(capsys, "strip", "-q", str(code))[0] == 0 and not (code / HELPER).exists()


def test_check_reports_the_helper(code, capsys):
    assert _run(capsys, "add", "-q", str(code))[0] == 0
    status, out, _ = _run(capsys, "check", str(code))
    assert status == 1
    assert (f"{code / HELPER}:1:1: instrument's helper module (`instrument strip` removes it with the last "
            "script that loads it)") in out.splitlines()


def test_diff_shows_the_helper_once_as_a_new_file(code, capsys):
    status, out, _ = _run(capsys, "add", "--diff", str(code))
    assert status == 0
    assert out.count(f"--- /dev/null\n+++ {code / HELPER}\t(instrumented)\n") == 1
    assert sorted(p.name for p in code.iterdir()) == ["other.py", "train.py"]


def test_a_job_whose_code_is_the_script_itself_gets_the_helper_in_the_script(tmp_path, capsys):
    (tmp_path / "train.py").write_text(TRAIN)
    job = tmp_path / "job.yml"
    job.write_text("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
                   "command: python train.py --lr 0.5\ncode: train.py\nenvironment: azureml:env:1\n"
                   "compute: azureml:cpu\n")
    status, _, err = _run(capsys, "add", str(job))
    assert status == 0, err
    assert "def _instrument_remote_debug(" in (tmp_path / "train.py").read_text()
    assert not (tmp_path / HELPER).exists()
    assert "code: uploads this one file" in err


def _python(folder: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_script_finds_its_helper_from_any_folder_and_as_a_module(tmp_path, capsys):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "train.py").write_text(TRAIN)
    assert _run(capsys, "add", "-q", str(package / "train.py"))[0] == 0
    flags = ["--remote_debug", "--remote_debug_connection_timeout", "1", "--remote_debug_port", "0",
             "--remote_debug_host", "127.0.0.1", "--lr", "0.5"]
    for argv, cwd in [(["pkg/train.py"], tmp_path), (["train.py"], package), (["-m", "pkg.train"], tmp_path),
                      ([str(package / "train.py")], Path("/"))]:
        done = _python(tmp_path, *argv, *flags, cwd=cwd)
        assert done.returncode == 0, (argv, done.stderr)
        lines = done.stdout.splitlines()
        assert "Debugger attached = False" in lines and lines[-1] == "lr 0.5", (argv, done.stdout)
    assert markers.BEGIN in (package / "train.py").read_text()


def test_the_helper_is_cached_as_bytecode_and_strip_removes_only_that(code, capsys):
    """Loading the helper caches its bytecode as an import does (a start does not compile 20 KB),
    and strip takes the helper's bytecode with the helper, keeping the user's."""
    assert _run(capsys, "add", "-q", str(code / "train.py"))[0] == 0
    (code / "mine.py").write_text("VALUE = 1\n")
    (code / "train.py").write_text("import mine\n" + (code / "train.py").read_text())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "train.py", "--lr", "0.5"], cwd=code, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "lr 0.5", done.stderr
    cached = sorted(p.name for p in (code / "__pycache__").iterdir())
    tag = sys.implementation.cache_tag
    assert cached == [f"_instrument_debug.{tag}.pyc", f"mine.{tag}.pyc"]
    (code / "train.py").write_text((code / "train.py").read_text().replace("import mine\n", "", 1))
    assert _run(capsys, "strip", "-q", str(code / "train.py"))[0] == 0
    assert (code / "train.py").read_text() == TRAIN and not (code / HELPER).exists()
    assert sorted(p.name for p in (code / "__pycache__").iterdir()) == [f"mine.{tag}.pyc"]
    (code / "__pycache__" / f"mine.{tag}.pyc").unlink()
    assert _run(capsys, "add", "-q", str(code / "train.py"))[0] == 0
    done = subprocess.run([sys.executable, "train.py"], cwd=code, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _run(capsys, "strip", "-q", str(code))[0] == 0
    assert not (code / "__pycache__").exists()  # held only the helper's bytecode


def test_add_strip_add_in_one_process_writes_the_helper_again(code, capsys):
    """A helper read, then removed by strip, is no "change while instrument ran" for the next add
    (a long-lived process: an editor integration, a script over many definitions)."""
    for _ in range(2):
        status, _, err = _run(capsys, "add", str(code / "train.py"))
        assert status == 0, err
        assert (code / HELPER).read_text() == helper_module.module_text()
        assert _run(capsys, "add", "-q", str(code / "other.py"))[0] == 0  # reads the helper: it is there
        assert _run(capsys, "strip", "-q", str(code))[0] == 0
        assert not (code / HELPER).exists()


def test_a_deleted_helper_is_written_again_though_the_script_is_already_instrumented(code, capsys):
    """A script instrumented before loads a helper that is gone (deleted, not committed, a fresh
    clone): its job would stop on the missing file. `add` puts the helper back; `--check` says so."""
    assert _run(capsys, "add", "-q", str(code / "train.py"))[0] == 0
    instrumented = (code / "train.py").read_bytes()
    (code / HELPER).unlink()
    status, _, err = _run(capsys, "add", "--check", str(code / "train.py"))
    assert status == 1 and f"would write {code / HELPER}" in err and not (code / HELPER).exists()
    status, out, _ = _run(capsys, "add", "--diff", str(code / "train.py"))
    assert status == 0 and out.startswith(f"--- /dev/null\n+++ {code / HELPER}\t(instrumented)\n")
    status, _, err = _run(capsys, "add", str(code / "train.py"))
    assert status == 0 and f"wrote {code / HELPER}" in err and "1 file left unchanged" in err
    assert (code / HELPER).read_text() == helper_module.module_text()
    assert (code / "train.py").read_bytes() == instrumented
    assert _run(capsys, "add", "--check", str(code / "train.py"))[0] == 0  # nothing left to do


def test_a_job_whose_entry_lost_its_helper_gets_it_back(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN)
    job = tmp_path / "job.yml"
    job.write_text("command: python train.py --lr 0.5\ncode: src\nenvironment: azureml:env:1\n")
    assert _run(capsys, "add", "-q", str(job))[0] == 0
    (tmp_path / "src" / HELPER).unlink()
    status, _, err = _run(capsys, "add", str(job))
    assert status == 0, err
    assert (tmp_path / "src" / HELPER).read_text() == helper_module.module_text()


@pytest.mark.parametrize(("code_text", "expected"), [
    pytest.param("\n".join(helper_module.loader_lines("_instrument", "_instrument_debug_2.py")), "_instrument_debug_2.py",
                 id="this-version"),
    pytest.param("\n".join(helper_module.loader_lines("_i", "_instrument_debug.py", "\t" * 4)), "_instrument_debug.py",
                 id="this-version-deep"),
    pytest.param('_instrument = __import__("runpy").run_path(\n'
                 '    (__import__("os").path.dirname(__file__) or ".") + "/_instrument_debug.py"\n)',
                 "_instrument_debug.py", id="earlier-runpy-loader"),
    pytest.param('x = __import__("os").path.normpath(__file__ + "/../mine.py")', None, id="not-a-helper"),
    pytest.param('x = __import__("os").path.normpath(here + "/../_instrument_debug.py")', None, id="not-beside"),
])
def test_strip_knows_which_helper_a_loader_loads(code_text, expected):
    assert helper_module.loaded_file(code_text) == expected


@pytest.mark.lint
def test_the_loader_is_as_black_writes_it_at_any_indent():
    import black  # the 'lint' extra
    for indent in ("", "    ", "\t", " " * 8):  # module level, or the body of a top-level init()
        for name in ("_instrument_debug.py", "_instrument_debug_42.py"):
            lines = helper_module.loader_lines("_instrument", name, indent)
            depth = len(indent.expandtabs(4)) // 4  # black writes four spaces a level
            body = "".join(f"{'    ' * level}def f():\n" for level in range(depth))
            body += "".join(f"{'    ' * depth}{line}\n" for line in lines)
            assert black.format_str(body, mode=black.Mode()) == body, (indent, name)
            assert max(len(line) for line in body.splitlines()) <= helper_module.LINE_LENGTH
