"""Where the debug flags go in a v2 job's shell command (codemods/v2_commands.py)."""

from __future__ import annotations

import shlex

import pytest

from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.core.options import Options

F = "<F>"


def placed(command: str) -> str:
    """The command with ``<F>`` where the flags go (or the command unchanged: no entry)."""
    at = v2_commands.flag_insertion(command)
    return command if at is None else command[:at] + " " + F + command[at:]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("python train.py", "python train.py <F>"),
        ("python3 src/x.py --lr 0.1", "python3 src/x.py --lr 0.1 <F>"),
        ("python -m pkg.train --epochs 3", "python -m pkg.train --epochs 3 <F>"),
        ("/usr/bin/python3.10 -u train.py", "/usr/bin/python3.10 -u train.py <F>"),
        (
            "python train.py --data ${{inputs.data}} --out ${{outputs.model}}",
            "python train.py --data ${{inputs.data}} --out ${{outputs.model}} <F>",
        ),
        (
            "python train.py --a ${{inputs.a}} $[[--b ${{inputs.b}}]]",
            "python train.py --a ${{inputs.a}} $[[--b ${{inputs.b}}]] <F>",
        ),
        (
            "python train.py $[[--b ${{inputs.b}}]] $[[--c ${{inputs.c}}]] && echo done",
            "python train.py $[[--b ${{inputs.b}}]] $[[--c ${{inputs.c}}]] <F> && echo done",
        ),
        ("pip install -r requirements.txt && python train.py", "pip install -r requirements.txt && python train.py <F>"),
        ("python train.py > log.txt 2>&1", "python train.py <F> > log.txt 2>&1"),
        ("python train.py 2>&1 | tee out.log", "python train.py <F> 2>&1 | tee out.log"),
        ("python train.py &>out.log", "python train.py <F> &>out.log"),
        ("python train.py < in.txt", "python train.py <F> < in.txt"),
        ("python train.py; echo done", "python train.py <F>; echo done"),
        ("python train.py || exit 1", "python train.py <F> || exit 1"),
        ("python serve.py &", "python serve.py <F> &"),
        ("python train.py\necho done", "python train.py <F>\necho done"),
        ("python train.py # a comment", "python train.py <F> # a comment"),
        ("cd src\npython train.py --x 1\n", "cd src\npython train.py --x 1 <F>\n"),
        ("python -m pip install debugpy && python -m pkg.train", "python -m pip install debugpy && python -m pkg.train <F>"),
        ("python setup.py install && python run.py", "python setup.py install && python run.py <F>"),
        ('python -c "import x" && python train.py', 'python -c "import x" && python train.py <F>'),
        ("torchrun --nproc_per_node 2 train.py --b 8", "torchrun --nproc_per_node 2 train.py --b 8 <F>"),
        ("accelerate launch --config_file c.yaml train.py", "accelerate launch --config_file c.yaml train.py <F>"),
        ("deepspeed train.py --deepspeed ds.json", "deepspeed train.py --deepspeed ds.json <F>"),
        ("mpirun -np 4 python x.py --a 1", "mpirun -np 4 python x.py --a 1 <F>"),
        ("python -m torch.distributed.run --nproc_per_node 2 t.py", "python -m torch.distributed.run --nproc_per_node 2 t.py <F>"),
        ("CUDA_VISIBLE_DEVICES=0 python train.py", "CUDA_VISIBLE_DEVICES=0 python train.py <F>"),
        ("nohup python train.py", "nohup python train.py <F>"),
        ("python 'my train.py' --name \"a b\"", "python 'my train.py' --name \"a b\" <F>"),
        ("python train.py --msg 'a && b; c'", "python train.py --msg 'a && b; c' <F>"),
        ("python train.py --x $(date +%s) --y `pwd`", "python train.py --x $(date +%s) --y `pwd` <F>"),
        ("python train.py \\\n  --lr 1", "python train.py \\\n  --lr 1 <F>"),
        ("python train.py && python eval.py", "python train.py <F> && python eval.py"),
        ("(cd src && python train.py)", "(cd src && python train.py <F>)"),
        ("python train.py --tag a#b", "python train.py --tag a#b <F>"),
        ("python train.py\r\n", "python train.py <F>\r\n"),
    ],
)
def test_flags_go_after_the_entry(command, expected):
    assert placed(command) == expected


@pytest.mark.parametrize(
    "command",
    [
        "echo hello",
        "pip install debugpy",
        "python -m pip install -r requirements.txt",
        "python setup.py bdist_wheel",
        'python -c "print(1)"',
        "python --version",
        "bash start-deepspeed.sh --x train.py",
        "which python",
        "conda create -n x python=3.10 -y",
        "# python train.py",
        "echo 'python train.py'",
        "",
        "Rscript train.R --data ${{inputs.data}}",
        "python -m pytest tests",
    ],
)
def test_no_python_entry(command):
    assert v2_commands.flag_insertion(command) is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("python train.py", "pip install debugpy && python train.py <F>"),
        ("cd src && python train.py", "pip install debugpy && cd src && python train.py <F>"),
        ("echo start; python train.py", "echo start; pip install debugpy && python train.py <F>"),
        ("cd src\npython train.py\n", "cd src\npip install debugpy && python train.py <F>\n"),
    ],
)
def test_install_debugpy_goes_before_the_entry_list(command, expected):
    options = Options(timeout=1, port=2)
    result = v2_commands.add_flags(command, options, install_debugpy=True)
    assert result.replace(v2_commands.debug_flags(options), F) == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (Options(), "--remote_debug --remote_debug_connection_timeout 300 --remote_debug_port 5678"),
        (
            Options(timeout=60, port=5679, client_ip="10.0.0.4", ranks="0, 3"),
            "--remote_debug --remote_debug_connection_timeout 60 --remote_debug_port 5679"
            " --remote_debug_client_ip 10.0.0.4 --remote_debug_ranks 0,3",
        ),
        (
            Options(service="vs_code"),
            "--remote_debug --remote_debug_connection_timeout 300 --remote_debug_port 5678"
            " --remote_debug_host 127.0.0.1",
        ),
        (Options(client_ip="fe80::1"), None),
    ],
)
def test_debug_flag_tokens(options, expected):
    tokens = v2_commands.debug_flag_tokens(options)
    for token in tokens:
        assert shlex.split(token) == [token]  # each one shell word, nothing to expand
    if expected is not None:
        assert " ".join(tokens) == expected
    else:
        assert tokens[-2:] == ["--remote_debug_client_ip", "fe80::1"]


@pytest.mark.parametrize(
    ("command", "found"),
    [
        ("python train.py --remote_debug", ["--remote_debug"]),
        (
            "python train.py --remote_debug --remote_debug_port 5679 --lr 1",
            ["--remote_debug", "--remote_debug_port 5679"],
        ),
        ("python train.py --remote_debug_connection_timeout=60", ["--remote_debug_connection_timeout=60"]),
        ("python train.py --remote_debug_client_ip '10.0.0.1' && x", ["--remote_debug_client_ip '10.0.0.1'"]),
        ("python train.py --no_remote_debug", []),
        ("python train.py --msg=--remote_debug", []),
        ("python train.py '--remote_debug'", ["'--remote_debug'"]),
    ],
)
def test_finds_hand_written_flags(command, found):
    spans = v2_commands.remote_debug_spans(command)
    assert [command[start:end] for start, end in spans] == found


def test_long_hostile_command_is_linear():
    command = "python train.py " + "'a" + "\\" * 100000 + " $[[" * 1000 + "${{" * 1000
    assert v2_commands.flag_insertion(command) is not None
