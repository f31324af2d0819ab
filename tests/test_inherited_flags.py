"""A script whose parser has --remote_debug* flags before ``instrument add`` runs.

The flags come from a module instrument never edits (a parent parser, a
helper that built the parser, a click option): the instrumented script must
start as before, and with ``--remote_debug`` time out cleanly and go on.
Real runs: the CLI instruments the script on disk, real interpreters run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from instrument.cli import main
from tests.ports import free_port

TRAIN = """\
import argparse

from shared import common_parser

parser = argparse.ArgumentParser(parents=[common_parser]{handler})
parser.add_argument("--epochs", type=int, default=2)
args = parser.parse_args()
print("epochs", args.epochs, "seed", args.seed)
"""

SHARED = """\
import argparse

common_parser = argparse.ArgumentParser(add_help=False{handler})
common_parser.add_argument("--seed", type=int, default=0)
{flags}"""

#: (shared module's debug flags, parser's conflict handler, extra argv with --remote_debug)
PARENTS = {
    "parent-has-remote-debug": ('common_parser.add_argument("--remote_debug", action="store_true")\n', "", []),
    "parent-has-every-flag": (
        "".join(f'common_parser.add_argument("{flag}")\n' for flag in (
            "--remote_debug_connection_timeout", "--remote_debug_client_ip", "--remote_debug_port",
            "--remote_debug_ranks", "--remote_debug_host"))
        + 'common_parser.add_argument("--remote_debug", "--rd", action="store_true")\n'
        + 'common_parser.add_argument("--remote_debug_subprocesses", action="store_true")\n', "", []),
    "resolve-handler": ('common_parser.add_argument("--remote_debug", action="count", default=0)\n',
                        ', conflict_handler="resolve"', []),
    "parent-timeout-is-a-string": (
        'common_parser.add_argument("--remote_debug_connection_timeout", default="300")\n'
        'common_parser.add_argument("--remote_debug_port", type=float)\n', "", []),
    "parent-has-a-flag-of-its-own": (
        'common_parser.add_argument("--remote_debug_verbose", action="store_true")\n', "",
        ["--remote_debug_verbose"]),
}


def _run(script: Path, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-Xfrozen_modules=off", str(script), *argv], capture_output=True,
                          text=True, timeout=90, cwd=script.parent, env=env)


def _instrumented(tmp_path: Path, train: str, shared: str, capsys: pytest.CaptureFixture[str],
                  *options: str) -> tuple[Path, str]:
    (tmp_path / "shared.py").write_text(shared)
    script = tmp_path / "train.py"
    script.write_text(train)
    before = _run(script, "--epochs", "3").stdout
    assert main(["add", "-q", *options, str(script)]) == 0, capsys.readouterr().err
    assert (tmp_path / "shared.py").read_text() == shared  # the parent's module is not edited
    assert script.read_text() != train
    return script, before


@pytest.mark.parametrize(("flags", "handler", "extra"), list(PARENTS.values()), ids=list(PARENTS))
def test_a_parser_with_inherited_flags_starts_and_times_out(flags, handler, extra, tmp_path, capsys):
    train = TRAIN.format(handler=handler)
    script, before = _instrumented(tmp_path, train, SHARED.format(handler=handler, flags=flags), capsys)
    assert '_instrument.add_flags(parser)' in script.read_text()  # the helper adds the flags the parser lacks
    plain = _run(script, "--epochs", "3")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == before == "epochs 3 seed 0\n"
    port = str(free_port())
    debug = _run(script, "--remote_debug", "--remote_debug_connection_timeout", "1", "--remote_debug_port", port,
                 *extra, "--epochs", "3")
    assert debug.returncode == 0, debug.stderr
    lines = debug.stdout.splitlines()
    assert lines.count("Timeout for debug connection: 1") == 1
    assert f"Remote debugging: listening on {lines[1].split()[-1]}:{port}" in lines, debug.stderr
    assert lines.count("Debugger attached = False") == 1
    assert lines[-1] == "epochs 3 seed 0"  # the script went on
    assert "Traceback" not in debug.stderr and "unknown flag" not in debug.stderr


HELPER_TRAIN = """\
import argparse
import shared

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=2)
shared.add_common_args(parser)
{more}args = parser.parse_args()
print("epochs", args.epochs, "seed", args.seed)
"""

HELPER_SHARED = """\
def add_common_args(parser):
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--remote_debug", action="store_true")
"""


@pytest.mark.parametrize("more", ["", 'parser.add_argument("--lr", type=float)\n'], ids=["parse-next", "more-own"])
def test_a_helper_that_adds_the_flag_after_the_parser_is_built(more, tmp_path, capsys):
    script, before = _instrumented(tmp_path, HELPER_TRAIN.format(more=more), HELPER_SHARED, capsys)
    text = script.read_text()
    # the flags block comes after the helper's call, so the parser has --remote_debug by then
    assert text.index("shared.add_common_args(parser)") < text.index('_instrument.add_flags(parser)')
    plain = _run(script, "--epochs", "3")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == before == "epochs 3 seed 0\n"
    debug = _run(script, "--remote_debug", "--remote_debug_connection_timeout", "1",
                 "--remote_debug_port", str(free_port()), "--epochs", "3")
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout.splitlines().count("Debugger attached = False") == 1
    assert debug.stdout.splitlines()[-1] == "epochs 3 seed 0"


PASSED_ON_AND_PARSED_THERE = """\
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=2)
run(parser)
"""


def test_a_parser_passed_on_and_not_parsed_here_gets_the_flags_before_the_call():
    from instrument.codemods.kinds.train import flag_placement
    import libcst as cst

    module = cst.parse_module(PASSED_ON_AND_PARSED_THERE)
    anchor = flag_placement.flags_anchor(module, module.body[1], "parser")
    assert module.code_for_node(anchor).strip() == 'parser.add_argument("--epochs", type=int, default=2)'


def test_an_inherited_flag_that_holds_no_number_is_one_line(tmp_path, capsys):
    flags = 'common_parser.add_argument("--remote_debug_connection_timeout", default="soon")\n'
    script, _ = _instrumented(tmp_path, TRAIN.format(handler=""), SHARED.format(handler="", flags=flags), capsys,
                              "--timeout", "1")  # what the helper waits instead
    debug = _run(script, "--remote_debug", "--remote_debug_port", str(free_port()))
    assert debug.returncode == 0, debug.stderr
    assert debug.stderr.splitlines() == ["Remote debugging: ignoring --remote_debug_connection_timeout 'soon': "
                                         "not a whole number"]
    assert "Timeout for debug connection: 1" in debug.stdout.splitlines()
    assert debug.stdout.splitlines()[-1] == "epochs 2 seed 0"


CLICK = """\
import click

from shared import debug_option


@click.command()
@click.option("--epochs", default=2)
@debug_option
def main(epochs, remote_debug):
    print("epochs", epochs)


if __name__ == "__main__":
    main()
"""


def test_a_click_option_from_another_module_keeps_the_script_running(tmp_path, capsys):
    # Standalone mode: the helper's own parser reads the flags, so nothing
    # is added to the script's options and nothing can conflict.
    shared = 'import click\n\ndebug_option = click.option("--remote_debug", is_flag=True)\n'
    (tmp_path / "shared.py").write_text(shared)
    script = tmp_path / "cli.py"
    script.write_text(CLICK)
    assert main(["add", "-q", str(script)]) == 0, capsys.readouterr().err
    assert '\n_instrument.remote_debug()\n' in script.read_text()
    plain = _run(script, "--epochs", "3")
    assert (plain.returncode, plain.stdout) == (0, "epochs 3\n"), plain.stderr
    debug = _run(script, "--remote_debug", "--remote_debug_connection_timeout", "1",
                 "--remote_debug_port", str(free_port()), "--epochs", "3")
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout.splitlines().count("Debugger attached = False") == 1
    assert debug.stdout.splitlines()[-1] == "epochs 3"
