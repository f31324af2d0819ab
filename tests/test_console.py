"""The console script's shortcut: ``instrument check FILE...`` without click, same output as click's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from instrument import cli, console

ROOT = Path(__file__).resolve().parent.parent
CLEAN = "import argparse\n\nprint('hello')\n"
FOUND = "import debugpy\n\ndebugpy.listen(5678)\ndebugpy.wait_for_client()\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "clean.py").write_text(CLEAN)
    (tmp_path / "found.py").write_text(FOUND)
    (tmp_path / "env.yml").write_text("dependencies:\n  - python=3.10\n")
    (tmp_path / "job.yml").write_text("command: python -m debugpy --listen 5678 train.py\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(FOUND)
    (tmp_path / "broken.py").write_text("def f(:\n    import debugpy\n")
    return tmp_path


def _both(capsys, names: list[str]) -> tuple[tuple, tuple]:
    fast = console.main(["check", *names])
    fast_out = capsys.readouterr()
    slow = cli.main(["check", "--", *names])  # "--": click parses it
    slow_out = capsys.readouterr()
    return (fast, fast_out.out, fast_out.err), (slow, slow_out.out, slow_out.err)


@pytest.mark.parametrize(("names", "status"), [
    (["clean.py"], 0),
    (["found.py"], 1),
    (["clean.py", "found.py", "job.yml", "env.yml"], 1),
    (["."], 123),  # a folder, walked: broken.py fails
    (["pkg"], 1),
    (["missing.py"], 123),
    (["broken.py", "clean.py"], 123),
])
def test_the_shortcut_prints_and_exits_as_the_click_command(tree, capsys, monkeypatch, names, status):
    monkeypatch.chdir(tree)
    fast, slow = _both(capsys, names)
    assert fast == slow
    assert fast[0] == status


@pytest.mark.parametrize("argv", [
    ["check"],  # no file: click's usage error
    ["check", "--allow", "found.py", "found.py"],
    ["check", "-j", "1", "found.py"],
    ["check", "-x.py"],
    ["check", ""],
    ["--help"],
    ["add", "--check", "clean.py"],
])
def test_anything_else_goes_through_click(tree, capsys, monkeypatch, argv):
    monkeypatch.chdir(tree)
    fast = console.main(argv), *capsys.readouterr()
    slow = cli.main(argv), *capsys.readouterr()
    assert fast == slow and (fast[1] or fast[2])


def test_the_shortcut_does_not_load_click(tree):
    code = ("import sys\nfrom instrument.console import main\n"
            "status = main(['check', 'clean.py', 'found.py'])\n"
            "print(status, 'click' in sys.modules, 'libcst' in sys.modules, 'instrument.parallel' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1] == "1 False False False", done.stderr  # two files: no pool either


def test_the_console_script_and_python_m_use_the_shortcut():
    assert "instrument.console:main" in (ROOT / "pyproject.toml").read_text()
    assert "from instrument.console import main" in (ROOT / "instrument" / "__main__.py").read_text()
