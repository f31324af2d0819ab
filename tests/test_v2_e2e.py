"""End to end: a v2 command job's instrumented command, run the way Azure ML runs it.

``instrument add`` edits the job YAML and the training script in its code
folder; azure-ai-ml loads the job offline; its command, with the inputs
substituted and optional groups resolved, runs under bash in the code folder
(as on the compute node); a real DAP client attaches, stops at a breakpoint
and lets the script finish. The original command runs the same instrumented
script straight through.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import sys
import warnings
from pathlib import Path

import pytest

from instrument.cli import main
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect
from tests.debuggees import FINAL, WITH_PARSER
from tests.processes import Proc

WAIT = 60  # seconds: the bound on any single wait, a guard against a hang, not a claim of speed
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY"))}
ENV["PYTHONUNBUFFERED"] = "1"
ENV["PATH"] = os.path.dirname(sys.executable) + os.pathsep + ENV.get("PATH", "")  # `python` is this venv's

JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: src
command: >-
  python train.py
  --learning_rate ${{inputs.learning_rate}}
  # a note: this line is part of the command, and a bash comment
  $[[--epochs ${{inputs.epochs}}]] 2>&1 | tee train.log
inputs:
  learning_rate: 0.125
environment:
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04
  conda_file: conda.yml
compute: azureml:cpu-cluster
"""
CONDA = "name: train\ndependencies:\n  - python=3.11\n  - pip:\n    - numpy\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def azure_command(path: Path) -> str:
    """The command Azure ML would run: azure-ai-ml's reading, inputs put in, optional groups resolved."""
    from azure.ai.ml import load_job

    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            job = load_job(path)
    finally:
        logging.disable(logging.NOTSET)
    values = {name: str(getattr(value, "_data", value)) for name, value in job.inputs.items()}

    def group(match: re.Match) -> str:
        names = re.findall(r"\$\{\{inputs\.(\w+)\}\}", match.group(1))
        return match.group(1) if all(n in values for n in names) else ""

    command = re.sub(r"\$\[\[(.*?)\]\]", group, job.command)
    return re.sub(r"\$\{\{inputs\.(\w+)\}\}", lambda m: values[m.group(1)], command)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(WITH_PARSER, encoding="utf-8")
    (tmp_path / "job.yml").write_text(JOB, encoding="utf-8")
    (tmp_path / "conda.yml").write_text(CONDA, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("service", [None, "vs_code"])
def test_instrumented_job_command_lets_a_debugger_attach(project, service):
    """Plain: the script listens where it was instrumented to; with a service, on loopback (the job's flag)."""
    original = azure_command(project / "job.yml")
    port = free_port()
    service_option = ["--service", service] if service else []
    host = "0.0.0.0" if service else "127.0.0.1"  # with a service the job's flag says where to listen
    # The job alone, as a user names it: its entry script and conda file come with it.
    assert main(["add", "-q", "--port", str(port), "--timeout", "60", "--host", host, *service_option,
                 str(project / "job.yml")]) == 0
    assert "debugpy" in (project / "conda.yml").read_text()  # the job's conda file, followed
    command = azure_command(project / "job.yml")
    assert command.startswith("python train.py --learning_rate 0.125 --remote_debug ")
    last_flag = "--remote_debug_host 127.0.0.1" if service else f"--remote_debug_port {port}"
    assert command.endswith(f"{last_flag} # a note: this line is part of the command, and a bash "
                            "comment  2>&1 | tee train.log")
    script = (project / "src" / "train.py").resolve()
    [line] = [n for n, s in enumerate(script.read_text().splitlines(), 1) if s.endswith("# BREAK")]

    proc = Proc([shutil.which("bash"), "-c", command], project / "src", ENV, wait=WAIT)
    try:
        listening = proc.wait_for_line("Remote debugging: listening on")
        if service:
            assert "127.0.0.1" in listening and "0.0.0.0" not in listening, listening
        client = DapClient.connect("127.0.0.1", port, timeout=WAIT)
        try:
            local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": port}}, script, line,
                                    timeout=WAIT)
            assert local["learning_rate"] == "0.125"
            continue_and_disconnect(client, timeout=WAIT)
        finally:
            client.close()
        assert proc.finish() == 0, proc.report()
    finally:
        proc.kill()
    assert "Debugger attached = True" in proc.out, proc.report()
    assert proc.out[-1] == FINAL, proc.report()

    # The command as it was: the same instrumented script runs straight through.
    plain = Proc([shutil.which("bash"), "-c", original], project / "src", ENV, wait=WAIT)
    try:
        assert plain.finish() == 0, plain.report()
    finally:
        plain.kill()
    assert plain.out[-1] == FINAL and not any("Remote debugging" in line for line in plain.out), plain.report()

    assert main(["strip", "-q", str(project)]) == 0
    assert (project / "job.yml").read_text() == JOB
    assert (project / "conda.yml").read_text() == CONDA
    assert (project / "src" / "train.py").read_text() == WITH_PARSER
