"""Commands of every shape a job may have, run as Azure ML runs them after ``add job.yml`` alone.

Each ``fixtures/job/shape_*`` case is a job whose command has a shape the flags
must be placed in by the shell's grammar: several entries, a clause opened by
``then``, a redirect touching the last word, ``xargs``, ``--``, a ``cd`` and a
subcommand CLI. ``instrument add job.yml`` (the one file a user names) edits
the command and the entry script; the command azure-ai-ml reads then runs under
bash in the code folder with the real instrumented script, which must start
listening (a real debugpy, on loopback) and finish with exit code 0.
``strip job.yml`` gives every byte of the folder back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from instrument.cli import main
from tests.fixture_cases import FIXTURES
from tests.test_v2_e2e import azure_command, free_port

SHAPES = sorted(path.name for path in (FIXTURES / "job").iterdir() if path.name.startswith("shape_"))
WAIT = 120  # seconds: a guard against a hang


def _tree(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_command_of_each_shape_runs_and_listens(tmp_path, shape):
    folder = tmp_path / shape
    shutil.copytree(FIXTURES / "job" / shape, folder)
    (folder / "after.yml").unlink()
    (folder / "case.json").unlink()
    (folder / "before.yml").rename(folder / "job.yml")
    originals = _tree(folder)
    port = free_port()
    assert main(["add", "-q", "--install-debugpy", "--port", str(port), "--timeout", "1", "--host", "127.0.0.1",
                 str(folder / "job.yml")]) == 0
    command = azure_command(folder / "job.yml")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "pip").write_text("#!/bin/sh\necho pip \"$@\" >&2\n")  # debugpy is installed here already
    (stubs / "pip").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY"))}
    env["PATH"] = os.pathsep.join([str(stubs), os.path.dirname(sys.executable), env.get("PATH", "")])
    done = subprocess.run([shutil.which("bash"), "-c", command], cwd=folder / "src", env=env, capture_output=True,
                          text=True, timeout=WAIT)
    out = done.stdout + done.stderr + "".join(p.read_text() for p in (folder / "src").rglob("*.log"))
    assert done.returncode == 0, (command, out)
    assert f"Remote debugging: listening on 127.0.0.1:{port}" in out, (command, out)
    assert "Debugger attached = False" in out  # the wait timed out, and the script went on
    assert "unrecognized arguments" not in out
    for log in (folder / "src").rglob("*.log"):
        log.unlink()
    assert main(["strip", "-q", str(folder / "job.yml")]) == 0
    assert _tree(folder) == originals


def test_entry_chooses_among_several_entries(tmp_path, capsys):
    folder = tmp_path / "two"
    shutil.copytree(FIXTURES / "job" / "shape_two_entries", folder)
    shutil.copy(folder / "src" / "train.py", folder / "src" / "prep.py")
    job = folder / "before.yml"
    assert main(["add", "--entry", "prep.py", str(job)]) == 0
    err = capsys.readouterr().err
    assert "the flags go on prep.py (--entry" in err
    assert "python prep.py --out data --remote_debug " in job.read_text()
    assert f"instrumented {folder / 'src' / 'prep.py'} (entry of before.yml)" in err
    assert b"remote_debug" not in (folder / "src" / "train.py").read_bytes()
