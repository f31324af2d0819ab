"""The training helper and the scoring block, run in this process.

The runtime functions are called as the rendered code calls them: with a
patched sys.argv and environment. ``import debugpy`` is made to fail (the
one thing patched) so that no listener starts in the test process; the real
debugpy runs in tests/test_debug_e2e.py.
"""

from __future__ import annotations

import argparse
import ast
import socket
import sys

import pytest

from instrument.codemods.helper import templates
from instrument.codemods.core.options import MAX_TIMEOUT, Options
from instrument.codemods.runtime import remote_debug, render, score_debug

HELPER = remote_debug._instrument_remote_debug


@pytest.fixture(autouse=True)
def no_debugpy(monkeypatch):
    vars(HELPER).pop("started", None)
    monkeypatch.setitem(sys.modules, "debugpy", None)  # import debugpy raises ImportError
    monkeypatch.delenv("PYDEVD_DISABLE_FILE_VALIDATION", raising=False)
    for variable in remote_debug.LOCAL_RANK_VARIABLES + remote_debug.RANK_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    yield
    vars(HELPER).pop("started", None)


def run_with(monkeypatch, argv, args=None):
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    HELPER(args, run=object())


def namespace(**given) -> argparse.Namespace:
    values = dict(remote_debug=True, remote_debug_connection_timeout=300, remote_debug_client_ip=None,
                  remote_debug_port=5678, remote_debug_ranks="all", remote_debug_host="0.0.0.0",
                  remote_debug_subprocesses=False)
    values.update(given)
    return argparse.Namespace(**values)


def routing_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((remote_debug.ROUTE_PROBE_V4, 9))
        return probe.getsockname()[0]


# -- fail fast on a misspelled flag ----------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--remote_debug", "--remote_debug_timeout", "2"],
        ["--remote_debug_timeout=2"],
        ["x.csv", "--remote_debug_prot", "6000", "--remote_debug"],
        ["--remote_debug_conn", "5"],  # the helper's own parser takes no abbreviations
    ],
)
def test_standalone_a_misspelled_flag_stops_the_script_in_one_line(monkeypatch, capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        run_with(monkeypatch, argv)
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing listened, nothing was logged
    [line] = err.splitlines()
    flag = next(a for a in argv if a.startswith("--remote_debug_")).split("=")[0]
    assert line.startswith(f"Remote debugging: unknown flag {flag} (the flags are ")
    assert all(known in line for known in templates.DEBUG_FLAGS)
    assert sys.argv[1:] == argv  # untouched


def test_parser_mode_a_misspelled_flag_in_argv_stops_the_script(monkeypatch, capsys):
    # parse_known_args scripts keep unknown arguments; the helper still sees them.
    with pytest.raises(SystemExit) as stopped:
        run_with(monkeypatch, ["--remote_debug", "--remote_debug_timout", "2"], namespace())
    assert stopped.value.code == 2
    assert "unknown flag --remote_debug_timout" in capsys.readouterr().err


def test_parser_mode_takes_what_the_scripts_parser_takes(monkeypatch, capsys):
    # argparse accepted the abbreviation; the value is already in the namespace.
    run_with(monkeypatch, ["--remote_debug", "--remote_debug_conn", "5"], namespace(remote_debug_connection_timeout=5))
    out = capsys.readouterr().out
    assert "Timeout for debug connection: 5" in out and "Debugger attached = False" in out


def test_flags_after_a_double_dash_are_the_scripts(monkeypatch, capsys):
    run_with(monkeypatch, ["--", "--remote_debug_whatever"])
    assert capsys.readouterr() == ("", "")
    assert sys.argv[1:] == ["--", "--remote_debug_whatever"]


def test_without_flags_the_helper_returns_before_importing_anything(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "argparse")
    run_with(monkeypatch, ["--epochs", "2"])
    assert "argparse" not in sys.modules
    assert capsys.readouterr() == ("", "")


# -- the timeout -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "waits"),
    [(-1, remote_debug.TIMEOUT), (10**12, remote_debug.LONGEST_WAIT), (2**70, remote_debug.LONGEST_WAIT)],
)
def test_a_timeout_out_of_range_is_one_line_and_never_forever(monkeypatch, capsys, given, waits):
    run_with(monkeypatch, ["--remote_debug", "--remote_debug_connection_timeout", str(given)])
    out, err = capsys.readouterr()
    assert f"Timeout for debug connection: {waits}\n" in out
    assert err.splitlines()[0] == (
        f"Remote debugging: --remote_debug_connection_timeout {given} is not from 0 to "
        f"{remote_debug.LONGEST_WAIT} seconds: waiting {waits}"
    )


def test_the_longest_wait_is_what_add_accepts_and_threading_can_do():
    import threading

    assert remote_debug.LONGEST_WAIT == score_debug.LONGEST_WAIT == MAX_TIMEOUT < threading.TIMEOUT_MAX


# -- the address ---------------------------------------------------------------------


def test_all_interfaces_log_the_routing_tables_address(monkeypatch, capsys):
    real = socket.getaddrinfo

    def name_is_loopback(host, *rest, **kw):  # Debian-style hosts files, containers
        return real("127.0.1.1", *rest, **kw) if host == socket.gethostname() else real(host, *rest, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", name_is_loopback)
    run_with(monkeypatch, ["--remote_debug"])
    out = capsys.readouterr().out
    assert f"ip_address: {routing_address()}\n" in out
    assert not routing_address().startswith("127.")


def test_without_a_route_the_first_address_of_the_name_that_is_not_loopback(monkeypatch, capsys):
    def no_route(self, address):
        raise OSError(101, "Network is unreachable")

    real = socket.getaddrinfo

    def name(host, *rest, **kw):
        if host == socket.gethostname():
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in ("127.0.1.1", "10.3.0.5")]
        return real(host, *rest, **kw)

    monkeypatch.setattr(socket.socket, "connect", no_route)
    monkeypatch.setattr(socket, "getaddrinfo", name)
    run_with(monkeypatch, ["--remote_debug"])
    assert "ip_address: 10.3.0.5\n" in capsys.readouterr().out


@pytest.mark.parametrize(("host", "logged"), [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("::1", "::1")])
def test_a_chosen_host_is_logged_as_the_address_it_binds(monkeypatch, capsys, host, logged):
    run_with(monkeypatch, ["--remote_debug", "--remote_debug_host", host])
    assert f"ip_address: {logged}\n" in capsys.readouterr().out


def test_the_host_flag_defaults_to_the_add_time_host(monkeypatch, capsys):
    lines = templates.helper_lines_uncached("_h", Options(host="127.0.0.1"), "    ")
    namespace_ = {}
    exec(compile("\n".join(lines), "<helper>", "exec"), namespace_)
    monkeypatch.setattr(sys, "argv", ["train.py", "--remote_debug"])
    namespace_["_h"](run=object())
    assert "ip_address: 127.0.0.1\n" in capsys.readouterr().out


# -- the quiet log ------------------------------------------------------------------------


def test_debugpys_file_validation_is_off_before_it_is_imported(monkeypatch, capsys):
    import os

    run_with(monkeypatch, ["--remote_debug"])
    assert os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] == "1"
    out, err = capsys.readouterr()
    assert err == "Remote debugging: debugpy is not installed in this environment\n"


# -- the scoring block shares the training helper's address code ----------------------------


def _nested(module, name: str) -> str:
    source = render.function_source(module.__name__, "_instrument_remote_debug")
    tree = ast.parse(b"\n".join(source.lines).decode())
    [function] = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    return ast.dump(function)


@pytest.mark.parametrize("name", ["reachable_address", "is_loopback", "cancel_wait"])
def test_the_scoring_block_and_the_helper_share_their_parts(name):
    assert _nested(remote_debug, name) == _nested(score_debug, name)


def test_the_flags_tuple_is_what_the_helpers_parser_declares():
    lines = templates.flag_lines("parser", Options(), "    ")
    guards = ast.parse("\n".join(lines)).body
    assert tuple(guard.body[0].value.args[0].value for guard in guards) == remote_debug.FLAGS


def test_score_block_runs_in_process_without_debugpy(monkeypatch, capsys):
    monkeypatch.setenv("INSTRUMENT_DEBUG_TIMEOUT", "-5")
    score_debug._instrument_remote_debug()
    out, err = capsys.readouterr()
    assert f"Timeout for debug connection: {score_debug.TIMEOUT}\n" in out
    assert f"ip_address: {routing_address()}\n" in out
    assert "ignoring INSTRUMENT_DEBUG_TIMEOUT='-5'" in err
