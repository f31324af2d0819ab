"""End to end from the one file a user names: a submission script and an SDK v1 pipeline.

``instrument add submit.py`` (or ``pipeline.py``) alone; the job azure-ai-ml
builds offline (or the step's script and arguments) runs as Azure ML runs it,
in the code folder under bash; a real DAP client attaches, stops at a
breakpoint in the user's script and lets it finish. ``strip`` of the same one
file gives every byte back.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from instrument.cli import main
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect
from tests.fixture_cases import FIXTURES
from tests.processes import Proc
from tests.test_v2_e2e import ENV, WAIT, free_port

RUNNER = Path(__file__).resolve().parent / "v2_job_objects.py"
SCRIPT = """\
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--iris-csv")
parser.add_argument("--learning-rate", type=float)
parser.add_argument("--boosting")
args = parser.parse_args()
rate = args.learning_rate
print("trained with", rate)  # BREAK
"""
INPUTS = {"iris_csv": "iris.csv", "learning_rate": "0.9", "boosting": "gbdt"}


def _tree(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_add_submit_py_alone_gives_a_job_whose_command_attaches(tmp_path):
    folder = tmp_path / "project"
    shutil.copytree(FIXTURES / "sdk_job" / "single_command", folder)
    for leftover in ("after.py", "case.json"):
        (folder / leftover).unlink()
    (folder / "before.py").rename(folder / "submit.py")
    script = folder / "src" / "main.py"
    script.write_text(SCRIPT)
    originals = _tree(folder)
    port = free_port()
    assert main(["add", "-q", "--port", str(port), "--timeout", "60", "--host", "127.0.0.1",
                 str(folder / "submit.py")]) == 0
    built = subprocess.run([sys.executable, str(RUNNER), "submit.py"], cwd=folder, capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    jobs = json.loads(built.stdout[built.stdout.index("{"):])["submit.py"]
    command = re.sub(r"\$\{\{inputs\.(\w+)\}\}", lambda m: INPUTS[m.group(1)], jobs["job"]["command"])
    assert f"--remote_debug_port {port}" in command
    [line] = [n for n, text in enumerate(script.read_text().splitlines(), 1) if text.endswith("# BREAK")]
    proc = Proc([shutil.which("bash"), "-c", command], folder / "src", ENV, wait=WAIT)
    try:
        proc.wait_for_line("Remote debugging: listening on")
        client = DapClient.connect("127.0.0.1", port, timeout=WAIT)
        try:
            local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": port}}, script.resolve(), line,
                                    timeout=WAIT)
            assert local["rate"] == "0.9"
            continue_and_disconnect(client, timeout=WAIT)
        finally:
            client.close()
        assert proc.finish() == 0, proc.report()
    finally:
        proc.kill()
    assert "trained with 0.9" in proc.out[-1], proc.report()
    assert main(["strip", "-q", str(folder / "submit.py")]) == 0
    assert _tree(folder) == originals
