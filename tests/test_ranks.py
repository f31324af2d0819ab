"""Distributed jobs: rank detection, one port per process, attach to one rank.

Every test runs the instrumented script in real subprocesses with a
controlled environment (the variables a launcher sets), no mocks: rank
detection through the line a rank that is not selected prints (it returns
before debugpy is imported, so those runs are fast), the ports through real
debugpy listeners, and the last test under PyTorch's own launcher
(``python -m torch.distributed.run``, gloo on CPU).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from instrument.codemods.helper.templates import LOCAL_RANK_VARIABLES, RANK_VARIABLES  # noqa: E402
from instrument.codemods.core.options import validate_ranks  # noqa: E402
from instrument.codemods.core.options import Options  # noqa: E402
from instrument.codemods.core.errors import InstrumentError  # noqa: E402
from tests.layout import instrument_file, options_argv  # noqa: E402
from instrument import jsonc  # noqa: E402
from instrument.cli import main  # noqa: E402
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect  # noqa: E402
from tests.processes import Proc  # noqa: E402
from tests.ports import free_ports  # noqa: E402

PYTHON = [sys.executable, "-Xfrozen_modules=off"]
# No launcher's variables leak in from the machine running the tests.
BASE_ENV = {
    k: v for k, v in os.environ.items()
    if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY")) and k not in LOCAL_RANK_VARIABLES + RANK_VARIABLES
}
BASE_ENV["PYTHONUNBUFFERED"] = "1"
WAIT = 60  # seconds: the bound on any single wait, a guard against a hang, not a claim of speed

SCRIPT = '''\
import argparse
import os


def train(args):
    rank = int(os.environ.get("RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")))
    learning_rate = args.learning_rate
    result = learning_rate * (rank + 1)  # BREAK
    return result


parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=0.125)
args = parser.parse_args()
print("final result", train(args))
'''

NOT_SELECTED = re.compile(r"^Remote debugging: rank (\d+) \(local rank (\d+)\) is not in --remote_debug_ranks (\S+): "
                          r"running without a debugger$")


def instrument(folder: Path, source: str = SCRIPT, **options) -> tuple[Path, int]:
    """The instrumented script in ``folder`` and the line of its ``# BREAK``."""
    path = (folder / "train.py").resolve()
    path.write_text(source, encoding="utf-8")
    text = instrument_file(path, *options_argv(host="127.0.0.1", **options))
    lines = [n for n, s in enumerate(text.splitlines(), 1) if s.endswith("# BREAK")]
    return path, lines[0] if lines else 0


# Whatever the variables hold, the script's own code runs on.
PLAIN = """\
import argparse

parser = argparse.ArgumentParser()
args = parser.parse_args()
print("final result")
"""


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    return instrument(tmp_path_factory.mktemp("ranks"), PLAIN)[0]


def run_quick(script: Path, env: dict, *args: str, python=PYTHON) -> subprocess.CompletedProcess:
    return subprocess.run([*python, str(script), "--remote_debug", *args], env={**BASE_ENV, **env},
                          capture_output=True, text=True, timeout=WAIT, cwd=script.parent)


def detected(script: Path, env: dict) -> tuple[tuple[int, int], list[str]]:
    """((rank, local rank), stderr lines) the helper finds in ``env``."""
    # No rank is 99999: the helper reports the rank it found and runs on at once.
    result = run_quick(script, env, "--remote_debug_ranks", "99999")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("final result"), result.stdout
    [match] = [m for m in map(NOT_SELECTED.match, lines) if m]
    assert not any(line.startswith(("Timeout for debug connection", "ip_address")) for line in lines)
    return (int(match[1]), int(match[2])), result.stderr.splitlines()


TF_WORKER_2 = json.dumps({"cluster": {"worker": ["w0:2222", "w1:2222", "w2:2222"]},
                          "task": {"type": "worker", "index": 2}})

DETECTION = [
    pytest.param({}, (0, 0), [], id="single_process"),
    pytest.param({"RANK": "3", "LOCAL_RANK": "1"}, (3, 1), [], id="torchrun"),
    pytest.param({"OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_LOCAL_RANK": "2"}, (5, 2), [], id="open_mpi"),
    pytest.param({"MPI_LOCALRANKID": "3", "AZ_BATCHAI_TASK_INDEX": "4"}, (4, 3), [], id="intel_mpi_and_task_index"),
    pytest.param({"TF_CONFIG": TF_WORKER_2}, (2, 0), [], id="tf_config"),
    pytest.param({"TF_CONFIG": json.dumps({"task": {"type": "chief", "index": "1"}})}, (1, 0), [],
                 id="tf_config_index_as_text"),
    pytest.param({"RANK": "1", "OMPI_COMM_WORLD_RANK": "2", "TF_CONFIG": TF_WORKER_2, "AZ_BATCHAI_TASK_INDEX": "4",
                  "LOCAL_RANK": "0", "OMPI_COMM_WORLD_LOCAL_RANK": "1", "MPI_LOCALRANKID": "2"}, (1, 0), [],
                 id="first_match_wins_even_zero"),
    pytest.param({"OMPI_COMM_WORLD_RANK": "2", "TF_CONFIG": TF_WORKER_2}, (2, 0), [], id="open_mpi_before_tf_config"),
    pytest.param({"TF_CONFIG": TF_WORKER_2, "AZ_BATCHAI_TASK_INDEX": "4"}, (2, 0), [], id="tf_config_before_task_index"),
    pytest.param({"RANK": " 7 ", "LOCAL_RANK": ""}, (7, 0), [], id="spaces_and_empty"),
    pytest.param({"TF_CONFIG": "{not json", "AZ_BATCHAI_TASK_INDEX": "6"}, (6, 0),
                 ["Remote debugging: ignoring TF_CONFIG: no task index in it"], id="malformed_tf_config"),
    pytest.param({"TF_CONFIG": json.dumps({"cluster": {}})}, (0, 0),
                 ["Remote debugging: ignoring TF_CONFIG: no task index in it"], id="tf_config_without_task"),
    pytest.param({"TF_CONFIG": "[1, 2]"}, (0, 0),
                 ["Remote debugging: ignoring TF_CONFIG: no task index in it"], id="tf_config_not_an_object"),
    pytest.param({"TF_CONFIG": json.dumps({"task": {"index": -1}})}, (0, 0),
                 ["Remote debugging: ignoring TF_CONFIG='-1': not a rank"], id="tf_config_negative_index"),
    pytest.param({"RANK": "abc", "OMPI_COMM_WORLD_RANK": "2", "LOCAL_RANK": "\u00b2"}, (2, 0),
                 ["Remote debugging: ignoring LOCAL_RANK='\u00b2': not a rank",
                  "Remote debugging: ignoring RANK='abc': not a rank"], id="malformed_values_are_skipped"),
]


@pytest.mark.parametrize(("env", "ranks", "warnings"), DETECTION)
def test_rank_detection(script, env, ranks, warnings):
    assert detected(script, env) == (ranks, warnings)


@pytest.mark.parametrize(("spec", "env", "waits"), [
    ("all", {"RANK": "5"}, True),
    ("0,3", {"RANK": "3"}, True),
    ("0,3", {"RANK": "1"}, False),
    ("0", {}, True),
    ("2", {"OMPI_COMM_WORLD_RANK": "2"}, True),
    ("1", {}, False),
])
def test_remote_debug_ranks_selects_who_waits(script, spec, env, waits):
    # python -S: no debugpy, so a selected rank goes as far as the import and reports it.
    result = run_quick(script, env, "--remote_debug_ranks", spec, python=[*PYTHON, "-S"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ("Timeout for debug connection: 300" in lines) is waits, result.stdout
    assert any(NOT_SELECTED.match(line) for line in lines) is not waits, result.stdout
    assert lines[-1].startswith("final result"), result.stdout


def test_a_bad_ranks_value_at_run_time_lets_every_rank_wait(script):
    result = run_quick(script, {"RANK": "1"}, "--remote_debug_ranks", "0,x", python=[*PYTHON, "-S"])
    assert result.returncode == 0
    assert result.stderr.splitlines()[0] == (
        "Remote debugging: ignoring --remote_debug_ranks '0,x' (all, or ranks like 0,3): every rank waits")
    assert "Timeout for debug connection: 300" in result.stdout.splitlines()


@pytest.mark.parametrize(("env", "offset"), [({}, 0), ({"RANK": "3", "LOCAL_RANK": "1"}, 3),
                                             ({"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_LOCAL_RANK": "0"}, 2)])
def test_reverse_connection_goes_to_port_plus_global_rank(script, env, offset):
    base = free_ports(4)  # nobody listens: the refused connection is reported and the script runs on
    result = run_quick(script, env, "--remote_debug_client_ip", "127.0.0.1", "--remote_debug_port", str(base))
    assert result.returncode == 0, result.stderr
    assert f"Remote debugging: connecting to VS Code at 127.0.0.1:{base + offset}" in result.stdout.splitlines()
    assert f"cannot connect to 127.0.0.1:{base + offset}" in result.stderr


@pytest.mark.parametrize(("spec", "expected"), [
    ("all", "all"), (" ALL ", "all"), ("0", "0"), ("0,3", "0,3"), (" 3 , 0 ", "3,0"), ("1,1,2", "1,2"), ("007", "7"),
])
def test_validate_ranks(spec, expected):
    assert validate_ranks(spec) == expected


@pytest.mark.parametrize("spec", ["", "-1", "0,", "1;2", "one", "0 3", "\u00b2", "1.0", "0,3'); import os #"])
def test_validate_ranks_refuses(spec):
    with pytest.raises(InstrumentError):
        Options(ranks=spec)


def test_add_ranks_option_is_the_flags_default(tmp_path, capsys):
    path = tmp_path / "train.py"
    path.write_text(PLAIN, encoding="utf-8")
    assert main(["add", "-q", "--ranks", "0, 3", str(path)]) == 0
    assert '_instrument.add_flags(parser, ranks="0,3")' in path.read_text()
    assert main(["add", "--ranks", "0;3", str(path)]) == 2
    assert "--ranks" in capsys.readouterr().err


# -- end to end: two processes on one machine ----------------------------------------


@pytest.fixture
def start(tmp_path):
    procs: list[Proc] = []

    def _start(args: list[str], env: dict, cwd: Path = tmp_path) -> Proc:
        procs.append(Proc([str(a) for a in args], cwd, {**BASE_ENV, **env}, merge_stderr=True, wait=WAIT))
        return procs[-1]

    yield _start
    for proc in procs:
        proc.kill()


def write_launch(workspace: Path, monkeypatch, *logs: Path) -> dict:
    monkeypatch.chdir(workspace)
    assert main(["launch", "--from-log", *map(str, logs), "--local-root", "code"]) == 0
    return jsonc.value_of((workspace / ".vscode" / "launch.json").read_text(encoding="utf-8"))


def substitute(configuration: dict, workspace: Path) -> dict:
    """What VS Code does to ${workspaceFolder} before it sends the attach request."""
    return json.loads(json.dumps(configuration).replace("${workspaceFolder}", workspace.as_posix()))


LAUNCHERS = {
    "torchrun_variables": [{"RANK": "0", "LOCAL_RANK": "0"}, {"RANK": "1", "LOCAL_RANK": "1"}],
    "open_mpi_variables": [{"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_LOCAL_RANK": "0"},
                           {"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_LOCAL_RANK": "1"}],
}


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_two_processes_listen_side_by_side_and_rank_1_is_debugged(launcher, tmp_path, start, monkeypatch):
    workspace = tmp_path / "workspace"
    (workspace / "code").mkdir(parents=True)
    script, line = instrument(workspace / "code")
    base = free_ports(2)
    # Rank 0: nobody comes, it gives up after its timeout. Rank 1 waits for us however long a
    # loaded machine takes to get there (with one timeout for both, a slow attach could miss it).
    timeout = 8
    procs = [start([*PYTHON, script, "--remote_debug", "--remote_debug_port", base,
                    "--remote_debug_connection_timeout", timeout if rank == 0 else 86400], env, script.parent)
             for rank, env in enumerate(LAUNCHERS[launcher])]  # in the step's folder, as on the node ("remoteRoot": ".")
    for rank, proc in enumerate(procs):
        proc.wait_for(rf"^Remote debugging: listening on 127\.0\.0\.1:{base + rank}$")
        proc.wait_for(rf"^Remote debugging: rank={rank} local_rank={rank} address=127\.0\.0\.1 port={base + rank}$")
    logs = []
    for rank, proc in enumerate(procs):  # what Azure ML collects, one log per process
        logs.append(tmp_path / f"std_log_process_{rank}.txt")
        logs[-1].write_text("\n".join(proc.lines) + "\n", encoding="utf-8")

    written = write_launch(workspace, monkeypatch, *logs)
    configurations = {c["name"]: c for c in written["configurations"]}
    assert {name: c["connect"] for name, c in configurations.items()} == {
        "Azure ML compute: code [rank 0]": {"host": "127.0.0.1", "port": base},
        "Azure ML compute: code [rank 1]": {"host": "127.0.0.1", "port": base + 1},
    }
    assert written["compounds"] == [{"name": "Azure ML compute: code [all ranks]", "stopAll": True,
                                     "configurations": ["Azure ML compute: code [rank 0]",
                                                        "Azure ML compute: code [rank 1]"]}]

    arguments = substitute(configurations["Azure ML compute: code [rank 1]"], workspace)
    client = DapClient.connect("127.0.0.1", base + 1, timeout=WAIT)
    try:
        local = attach_and_stop(client, arguments, script, line, timeout=WAIT)
        assert (client.frame["name"], client.frame["line"]) == ("train", line)
        assert local["rank"] == "1"
        assert local["learning_rate"] == "0.125"
        continue_and_disconnect(client, timeout=WAIT)
    finally:
        client.close()
    assert procs[1].finish() == 0, procs[1].lines
    assert "Debugger attached = True" in procs[1].lines and procs[1].lines[-1] == "final result 0.25"
    assert procs[0].finish(timeout + WAIT) == 0, procs[0].lines
    assert "Debugger attached = False" in procs[0].lines and procs[0].lines[-1] == "final result 0.125"


# -- the real launcher: torchrun, gloo on CPU ---------------------------------------

ALL_REDUCE = '''\
import argparse

import torch
import torch.distributed as dist


def train(args):
    rank = dist.get_rank()
    value = torch.tensor([rank + 1.0])
    dist.all_reduce(value)
    total = value.item()
    return total  # BREAK


parser = argparse.ArgumentParser()
args = parser.parse_args()
dist.init_process_group("gloo")
print(f"rank {dist.get_rank()} total {train(args)}", flush=True)
dist.destroy_process_group()
'''


@pytest.mark.distributed
def test_torchrun_two_processes_attach_to_rank_1(tmp_path, start, monkeypatch):
    workspace = tmp_path / "workspace"
    (workspace / "code").mkdir(parents=True)
    script, line = instrument(workspace / "code", ALL_REDUCE)
    base = free_ports(2)
    # Only rank 1 waits; rank 0 goes on to all_reduce and waits there for rank 1.
    torchrun = start([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                      script, "--remote_debug", "--remote_debug_port", base, "--remote_debug_ranks", "1",
                      "--remote_debug_connection_timeout", 120], {"OMP_NUM_THREADS": "1"}, script.parent)
    torchrun.wait_for(r"^Remote debugging: rank 0 \(local rank 0\) is not in --remote_debug_ranks 1: ", timeout=60)
    torchrun.wait_for(rf"^Remote debugging: rank=1 local_rank=1 address=127\.0\.0\.1 port={base + 1}$", timeout=60)
    log = tmp_path / "std_log.txt"  # both workers' output, interleaved, as torchrun passes it on
    log.write_text("\n".join(torchrun.lines) + "\n", encoding="utf-8")
    written = write_launch(workspace, monkeypatch, log)
    [configuration] = written["configurations"]  # only rank 1 listens
    assert configuration["connect"] == {"host": "127.0.0.1", "port": base + 1}

    client = DapClient.connect("127.0.0.1", base + 1, timeout=WAIT)
    try:
        local = attach_and_stop(client, substitute(configuration, workspace), script, line, timeout=60)
        assert (client.frame["name"], client.frame["line"]) == ("train", line)
        assert local["rank"] == "1"
        assert local["total"] == "3.0"  # the all_reduce of 1.0 and 2.0 has happened
        continue_and_disconnect(client, timeout=WAIT)
    finally:
        client.close()
    assert torchrun.finish(60) == 0, torchrun.lines
    assert "rank 0 total 3.0" in torchrun.lines and "rank 1 total 3.0" in torchrun.lines, torchrun.lines
    assert "Debugger attached = True" in torchrun.lines
