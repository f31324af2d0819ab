"""``add --take-over``: hand-written remote debugging replaced by instrument's own.

Table-driven from the fixtures made with ``"options": {"take_over": true}``
(fixtures/train/take_over_*, fixtures/pipeline/take_over_*): each has its
``before`` (the guide's recipe, ptvsd or debugpy applied by hand), its
``after`` and its ``stripped`` file (what strip leaves: no debug code at all).
"""

from __future__ import annotations

import dataclasses

import shutil

import ast
import os
import socket
import subprocess
import sys

import libcst as cst
import pytest

from instrument.cli import main
from instrument.codemods.check import findings as check
from instrument.codemods.fences import markers
from instrument.codemods.kinds.pipeline import step_take_over
from instrument.codemods.kinds.train import hand_written as take_over
from instrument.codemods.python import debug_statements
from instrument.codemods.core.errors import InstrumentError
from instrument.process import ADD, STRIP, Job, add_options, process_bytes
from tests.fixture_cases import load_cases, transformed, case_options, write_helper

TRAIN = load_cases("train", take_over=True)
PIPELINE = load_cases("pipeline", take_over=True)
ALL = TRAIN + PIPELINE


def kind_of(case) -> str:
    return case.folder.parent.name


def job(case, action: str = ADD, take_over: bool = True) -> Job:
    options = case_options(kind_of(case), case.meta, action)
    return Job(action, kind=kind_of(case), options=dataclasses.replace(options, take_over=take_over and action == ADD))


def test_there_are_take_over_cases():
    assert len(TRAIN) >= 3 and len(PIPELINE) >= 1


@pytest.mark.parametrize("case", ALL)
def test_add_takes_over_the_hand_written_debugging(case):
    assert transformed(job(case), case.before, "x.py") == case.after


@pytest.mark.parametrize("case", ALL)
def test_strip_leaves_no_debug_code_at_all(case):
    stripped = transformed(job(case, STRIP), case.after, "x.py")
    assert stripped == case.stripped
    text = stripped.decode("utf-8")
    assert check.check_python(text) == []
    assert check.check_python(case.before.decode("utf-8")) != [] or debug_code(case.before.decode("utf-8"))
    assert not debug_code(text)


def debug_code(text: str) -> list:
    """Names of the debuggers and --remote_debug* strings in the code (comments do not count)."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name) and node.id in debug_statements.DEBUGGERS:
            found.append(node.id)
        elif isinstance(node, ast.alias) and node.name.split(".")[0] in debug_statements.DEBUGGERS:
            found.append(node.name)
        elif isinstance(node, ast.Attribute) and node.attr.startswith("remote_debug"):
            found.append(node.attr)
        elif isinstance(node, ast.Constant) and str(node.value).startswith("--remote_debug"):
            found.append(node.value)
    return found


@pytest.mark.parametrize("case", ALL)
def test_add_is_idempotent_with_and_without_take_over(case):
    assert transformed(job(case), case.after, "x.py") == case.after
    assert transformed(job(case, take_over=False), case.after, "x.py") == case.after


@pytest.mark.parametrize("case", ALL)
def test_only_instrument_blocks_are_found_after_take_over(case):
    found = check.check_python(case.after.decode("utf-8"))
    assert found and all(not finding.name for finding in found)  # block findings only, no hand-written call


@pytest.mark.parametrize("case", ALL)
def test_without_take_over_the_refusal_names_the_option(case):
    outcome = process_bytes(job(case, take_over=False), case.before, "x.py")
    assert outcome.error is not None and outcome.error.startswith("x.py: line ")
    assert "--take-over" in outcome.error and "\n" not in outcome.error


@pytest.mark.parametrize("case", ALL)
def test_the_diff_shows_exactly_what_goes(case, tmp_path, capsys):
    shutil.copytree(case.folder, tmp_path, dirs_exist_ok=True)  # the scripts its jobs run, beside it
    path = tmp_path / "x.py"
    path.write_bytes(case.before)
    flags = ["--take-over"] + [f"--client-ip={ip}" for ip in [case.meta["options"].get("client_ip")] if ip]
    assert main(["add", "--kind", kind_of(case), "--diff", *flags, str(path)]) == 0
    assert path.read_bytes() == case.before
    diff, err = capsys.readouterr()
    assert "hand-written remote debugging" not in err
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    before_lines = case.before.decode("utf-8").splitlines()
    stripped_lines = case.stripped.decode("utf-8").splitlines()
    # every line that goes is a line of before that stripped does not have (or one a step block saves)
    gone = [line for line in before_lines if line not in stripped_lines]
    assert gone and all(line in removed for line in gone)


# -- the taken-over script runs ----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(path, argv):
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-Xfrozen_modules=off", str(path), *argv], capture_output=True,
                          text=True, encoding="utf-8", timeout=60, cwd=path.parent, env=env)


@pytest.mark.parametrize("case", TRAIN)
def test_the_taken_over_script_runs_with_and_without_debugging(case, tmp_path):
    stripped, after = tmp_path / "stripped.py", tmp_path / "after.py"
    stripped.write_bytes(case.stripped)
    after.write_bytes(case.after)
    write_helper(case, tmp_path)
    argv = case.meta["argv"]
    plain = _run(stripped, argv)
    assert plain.returncode == 0, plain.stderr
    off = _run(after, argv)
    assert off.returncode == 0, off.stderr
    assert off.stdout == plain.stdout
    port = _free_port()
    on = _run(after, ["--remote_debug", "--remote_debug_connection_timeout", "1", "--remote_debug_port", str(port)] + argv)
    assert on.returncode == 0, on.stderr
    lines = on.stdout.splitlines()
    assert lines.count("Timeout for debug connection: 1") == 1
    assert f":{port}" in on.stdout and lines.count("Debugger attached = False") == 1
    debug = ("Timeout for debug connection: ", "ip_address: ", "Remote debugging: ", "Debugger attached = ")
    assert [line for line in lines if not line.startswith(debug)] == plain.stdout.splitlines()


@pytest.mark.azureml
@pytest.mark.parametrize("case", PIPELINE)
def test_taken_over_steps_carry_only_instruments_flags_on_the_real_sdk(case, monkeypatch, tmp_path):
    from instrument.codemods.kinds.pipeline import steps as pipeline
    from instrument.codemods.core.options import Options
    from tests.test_pipeline import run_definition

    monkeypatch.chdir(tmp_path)
    debug = ast.literal_eval(pipeline.debug_arguments(Options(client_ip=case.meta["options"].get("client_ip"))))
    hand_written, _ = run_definition(case.before, monkeypatch)
    clean, _ = run_definition(case.stripped, monkeypatch)
    after, _ = run_definition(case.after, monkeypatch)
    assert any("--remote_debug" in step._arguments for step in hand_written)
    assert all(not any(str(a).startswith("--remote_debug") for a in step._arguments) for step in clean)
    def shown(arguments):
        return [str(a) for a in arguments]  # PipelineData objects differ from run to run

    assert [shown(step._arguments) for step in after] == [shown(step._arguments + debug) for step in clean]
    assert all(step._allow_reuse is False for step in after)


# -- what is taken over, what is refused ---------------------------------------------------

def taken(source: str) -> str:
    return take_over.take_over(source, cst.parse_module(source))


HF_STYLE = (
    "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--server_ip')\n"
    "parser.add_argument('--server_port')\nargs = parser.parse_args()\n\n"
    "# Setup distant debugging if needed\n"
    "if args.server_ip and args.server_port:\n"
    "    # Distant debugging - see https://code.visualstudio.com/docs/python/debugging\n"
    "    import ptvsd\n\n"
    "    print(\"Waiting for debugger attach\")\n"
    "    ptvsd.enable_attach(address=(args.server_ip, args.server_port), redirect_output=True)\n"
    "    ptvsd.wait_for_attach()\n\n"
    "print(args)\n"
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(HF_STYLE, HF_STYLE.split("\n# Setup")[0] + "\nprint(args)\n", id="transformers-style-ptvsd-block"),
        pytest.param("import debugpy as dbg\ndbg.listen(5678)\ndbg.wait_for_client()\nx = 1\n", "x = 1\n",
                     id="module-alias"),
        pytest.param("from debugpy import breakpoint as stop\nfor i in range(3):\n    stop()\n    print(i)\n",
                     "for i in range(3):\n    print(i)\n", id="imported-function-alias"),
        pytest.param("import os, debugpy\ndebugpy.listen(1); x = os.sep\n", "import os, debugpy\nx = os.sep\n",
                     id="import-shared-with-another-module-stays"),
        pytest.param("import debugpy\nconnected = debugpy.is_client_connected()\ndebugpy.breakpoint()\n",
                     "import debugpy\nconnected = debugpy.is_client_connected()\n", id="still-used-import-stays"),
        pytest.param("import os\nif os.environ.get('DEBUG'):\n    import debugpy; debugpy.listen(5678)\nprint(1)\n",
                     "import os\nprint(1)\n", id="environment-switch"),
        pytest.param("import debugpy\n\ndebugpy.listen(5678)\nx = 1\n", "\nx = 1\n", id="blank-line-kept"),
        pytest.param("x = 1\n", "x = 1\n", id="nothing-to-take-over"),
        pytest.param("def f():\n    breakpoint()\n    return 1\n", "def f():\n    breakpoint()\n    return 1\n",
                     id="builtin-breakpoint-is-the-users"),
        pytest.param("import argparse\np = argparse.ArgumentParser()\np.add_argument('--remote_debugger_x')\n"
                     "p.add_argument('--remote', '-r')\n",
                     "import argparse\np = argparse.ArgumentParser()\np.add_argument('--remote', '-r')\n",
                     id="only-remote-debug-options"),
    ],
)
def test_take_over_removes_only_what_debugs(source, expected):
    assert taken(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("import debugpy\nif args.remote_debug:\n    debugpy.listen(5678)\n    train()\n",
                     "line 2: this `if` on --remote_debug also does work", id="mixed-if"),
        pytest.param("import debugpy\nif args.remote_debug:\n    debugpy.listen(1)\nelse:\n    print(2)\n",
                     "line 2: this `if` on --remote_debug", id="if-with-else"),
        pytest.param("import debugpy\ndef start():\n    debugpy.listen(5678)\n    debugpy.wait_for_client()\n",
                     "line 3: taking over the hand-written debugging would leave this block empty", id="empty-def"),
        pytest.param("import debugpy\nif args.remote_debug:\n    ip = '1.2.3.4'\n    debugpy.listen((ip, 1))\nprint(ip)\n",
                     "line 2: this `if` on --remote_debug", id="name-used-later"),
        pytest.param("port = args.remote_debug_port + 1\n", "line 1: the script still reads args.remote_debug_port",
                     id="flag-read-elsewhere"),
        pytest.param("import debugpy\ndebugpy.listen(1)\nif args.remote_debug_ranks: print(1)\nrun(args.remote_debug_port)\n",
                     "line 4: the script still reads args.remote_debug_port", id="line-of-the-original"),
    ],
)
def test_mixed_code_is_refused_never_half_removed(source, message):
    with pytest.raises(InstrumentError, match="^" + message.replace("(", r"\(").replace("`", "`")):
        taken(source)


def test_a_refusal_is_one_line_and_leaves_the_file_alone(tmp_path, capsys):
    source = b"import argparse\nimport debugpy\np = argparse.ArgumentParser()\np.add_argument('--remote_debug')\n" \
             b"a = p.parse_args()\nif a.remote_debug:\n    debugpy.listen(5678)\n    print('training')\n    a.x = 1\n"
    path = tmp_path / "train.py"
    path.write_bytes(source)
    assert main(["add", "--take-over", str(path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"{path}: line 6: this `if` on --remote_debug also does work that is not debugging; take it over by hand"
    assert path.read_bytes() == source


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ("['a', '--remote_debug', '--remote_debug_port', 5678]", "['a']"),
        ("['--remote_debug_client_ip', ip, 'b']", "['b']"),
        ("('a', '--remote_debug')", "('a',)"),
        ("('--remote_debug',)", "()"),
        ("['--remote_debug_port=5678', '--remote_debug_subprocesses', 'c']", "['c']"),
        ("['--remote_debug_port', '--epochs', 3]", "['--epochs', 3]"),
        ("[\n    'a',\n    '--remote_debug',  # by hand\n]", "[\n    'a',\n]"),
        ("['a', *rest, '--remote_debug']", "['a', *rest]"),
        ("['--remote', 'x']", "['--remote', 'x']"),
    ],
)
def test_step_arguments_lose_their_hand_written_flags(items, expected):
    value = cst.parse_expression(items)
    result = cst.Module([]).code_for_node(step_take_over.without_debug_flags(value))
    assert result == expected
    compile(result, "<arguments>", "eval")


def test_only_selected_steps_are_taken_over():
    source = (
        "from azureml.pipeline.steps import PythonScriptStep as S\n"
        "a = S('a.py', name='a', arguments=['--remote_debug'])\n"
        "b = S('b.py', name='b', arguments=['x', '--remote_debug'])\n"
    )
    outcome = process_bytes(Job(ADD, kind="pipeline", options=add_options(take_over=True, steps=("b",))), source.encode(), "p.py")
    assert outcome.error is None
    stripped = markers.remove_blocks(outcome.output.decode())
    assert stripped == source.replace("['x', '--remote_debug']", "['x']")
