"""End to end: the injected debug code against a real debugpy, no mocks.

Each test instruments a small training script with ``instrument.codemods.kinds.train.script.add``,
runs it in a subprocess and, where a debugger is involved, drives it with the
DAP client in :mod:`tests.dap` the way VS Code does: break in ``train()``,
read a local variable, continue, and check the script finishes normally.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.layout import instrument_file  # noqa: E402
from tests.dap import DapClient, DapClosed, DapError, attach_and_stop, continue_and_disconnect  # noqa: E402
from tests.debuggees import FINAL, STANDALONE, WITH_PARSER  # noqa: E402
from tests.processes import Proc  # noqa: E402
from tests.ports import free_port  # noqa: E402

PYTHON = [sys.executable, "-Xfrozen_modules=off"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY"))}
ENV["PYTHONUNBUFFERED"] = "1"
# seconds: the bound on any single wait, a guard against a hang and never a claim of speed (a
# passing test takes 0.1-4 s on an idle machine, several times that on a loaded one)
WAIT = 60
# seconds: a connection timeout no passing test waits out (the test attaches, or nothing listens)
NEVER = 86400


def build_script(tmp_path: Path, body: str = STANDALONE, host: str = "127.0.0.1",
                 timeout: int = 300) -> tuple[Path, int]:
    """Instrument ``body`` into tmp_path/train.py; returns (path, line of ``# BREAK``)."""
    path = (tmp_path / "train.py").resolve()
    path.write_text(body, encoding="utf-8")
    text = instrument_file(path, "--host", host, "--timeout", str(timeout))  # the helper module goes beside it
    [line] = [n for n, s in enumerate(text.splitlines(), 1) if s.endswith("# BREAK")]
    return path, line


@pytest.fixture
def start(tmp_path):
    """start(*args, python=PYTHON) runs a process in tmp_path; all are killed after the test."""
    procs: list[Proc] = []

    def _start(*args, python=PYTHON) -> Proc:
        proc = Proc([*python, *map(str, args)], tmp_path, ENV, wait=WAIT)
        procs.append(proc)
        return proc

    yield _start
    for proc in procs:
        proc.kill()


def assert_ran_to_the_end(proc: Proc, attached: bool) -> None:
    assert proc.finish() == 0, proc.report()
    assert f"Debugger attached = {attached}" in proc.out, proc.report()
    assert proc.out[-1] == FINAL, proc.report()
    assert "Traceback" not in proc.stdout + proc.stderr, proc.report()


def test_dap_client_keeps_messages_that_arrive_early(tmp_path):
    """Split frames, events before the response, events claimed out of order."""
    ours, theirs = socket.socketpair()
    client = DapClient(ours)
    try:
        def frame(message: dict) -> bytes:
            body = json.dumps(message).encode()
            return b"Content-Length: %d\r\n\r\n" % len(body) + body

        wire = b"".join([
            frame({"seq": 1, "type": "event", "event": "first", "body": {"n": 1}}),
            frame({"seq": 2, "type": "event", "event": "second", "body": {"n": 2}}),
            frame({"seq": 3, "type": "response", "request_seq": 1, "command": "ping",
                   "success": True, "body": {"pong": "é"}}),
            frame({"seq": 4, "type": "response", "request_seq": 2, "command": "bad",
                   "success": False, "message": "no such thing"}),
        ])
        seq = client.send_request("ping")
        for i in range(0, len(wire), 7):  # dribble it out across frame boundaries
            theirs.sendall(wire[i:i + 7])
        assert client.wait_response(seq, timeout=5) == {"pong": "é"}
        assert client.wait_event("second", timeout=5) == {"n": 2}
        assert client.wait_event("first", timeout=5) == {"n": 1}
        with pytest.raises(DapError, match="no such thing"):
            client.request("bad", timeout=5)
        started = time.monotonic()
        with pytest.raises(DapError, match="timed out"):
            client.wait_event("never", timeout=0.3)
        assert time.monotonic() - started < WAIT  # not forever
        theirs.close()
        with pytest.raises(DapClosed):
            client.wait_event("never", timeout=5)
    finally:
        client.close()
        theirs.close()


@pytest.mark.parametrize("body", [STANDALONE, WITH_PARSER], ids=["standalone", "argparse"])
def test_listen_attach_break_and_read_a_local(tmp_path, start, body):
    script, line = build_script(tmp_path, body)
    port = free_port()
    proc = start(script, "--remote_debug", "--remote_debug_port", port,
                 "--remote_debug_connection_timeout", NEVER)
    assert proc.wait_for_line("Remote debugging: listening on").endswith(f" 127.0.0.1:{port}")
    assert "Debugger attached = True" not in proc.out  # really waiting for us

    client = DapClient.connect("127.0.0.1", port, timeout=WAIT)
    try:
        local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": port}},
                                script, line, timeout=WAIT)
        assert client.stopped["reason"] == "breakpoint"
        assert (client.frame["name"], client.frame["line"]) == ("train", line)
        assert Path(client.frame["source"]["path"]).resolve() == script
        assert local["learning_rate"] == "0.125"
        assert local["epochs"] == "3"
        assert "result" not in local  # stopped before the line ran
        assert FINAL not in proc.out
        continue_and_disconnect(client, timeout=WAIT)
    finally:
        client.close()
    assert_ran_to_the_end(proc, attached=True)
    if body is STANDALONE:
        assert "argv []" in proc.out  # the debug flags were taken off sys.argv


def test_reverse_connection_to_a_listening_adapter(tmp_path, start):
    """VS Code's "listen" attach: the adapter waits, the script calls debugpy.connect."""
    script, line = build_script(tmp_path)
    adapter_port, debuggee_port = free_port(), free_port()
    adapter = start("-m", "debugpy.adapter", "--host", "127.0.0.1", "--port", adapter_port)
    client = DapClient.connect("127.0.0.1", adapter_port, timeout=WAIT)
    procs: list[Proc] = []

    def start_debuggee() -> None:
        # The adapter opens the "listen" port before it says it is waiting.
        waiting = client.wait_event("debugpyWaitingForServer", timeout=WAIT)
        assert waiting["port"] == debuggee_port, waiting
        procs.append(start(script, "--remote_debug", "--remote_debug_client_ip", "127.0.0.1",
                           "--remote_debug_port", debuggee_port,
                           "--remote_debug_connection_timeout", NEVER))

    try:
        local = attach_and_stop(
            client, {"listen": {"host": "127.0.0.1", "port": debuggee_port}}, script, line,
            on_attach_sent=start_debuggee, timeout=WAIT,
        )
        assert client.stopped["reason"] == "breakpoint"
        assert (client.frame["name"], client.frame["line"]) == ("train", line)
        assert local["learning_rate"] == "0.125"
        continue_and_disconnect(client, timeout=WAIT)
    finally:
        client.close()
    [proc] = procs
    assert f"Remote debugging: connecting to VS Code at 127.0.0.1:{debuggee_port}" in proc.out
    assert_ran_to_the_end(proc, attached=True)
    assert adapter.finish() == 0, adapter.report()  # the session ended, so the adapter quits


def test_nobody_attaches_within_the_timeout(tmp_path, start):
    script, _ = build_script(tmp_path)
    proc = start(script, "--remote_debug", "--remote_debug_port", free_port(),
                 "--remote_debug_connection_timeout", 2)
    assert_ran_to_the_end(proc, attached=False)
    elapsed = time.monotonic() - proc.started
    assert 2 <= elapsed < WAIT, elapsed  # not the add-time 300 s
    assert "Timeout for debug connection: 2" in proc.out
    assert any(line.startswith("Remote debugging: listening on") for line in proc.out)
    assert proc.err == [], proc.report()


def test_port_in_use_is_one_line_not_a_traceback(tmp_path, start):
    script, _ = build_script(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = start(script, "--remote_debug", "--remote_debug_port", port,
                     "--remote_debug_connection_timeout", NEVER)
        assert_ran_to_the_end(proc, attached=False)
    assert len(proc.err) == 1, proc.report()
    assert f"cannot listen on 127.0.0.1:{port}" in proc.err[0], proc.report()
    assert not any("listening on" in line for line in proc.out), proc.report()


def test_without_site_packages(tmp_path, start):
    """python -S: no debugpy, no azureml; the script must still run."""
    script, _ = build_script(tmp_path)
    probe = "import debugpy"
    assert subprocess.run([*PYTHON, "-c", probe], env=ENV, timeout=WAIT).returncode == 0
    hidden = subprocess.run([*PYTHON, "-S", "-c", probe], env=ENV, timeout=WAIT,
                            capture_output=True, text=True)
    assert "ModuleNotFoundError" in hidden.stderr, hidden.stderr

    off = start(script, python=[*PYTHON, "-S"])
    assert off.finish() == 0, off.report()
    assert off.out == ["argv []", FINAL], off.report()
    assert off.err == [], off.report()

    on = start(script, "--remote_debug", "--remote_debug_connection_timeout", NEVER,
               python=[*PYTHON, "-S"])
    assert_ran_to_the_end(on, attached=False)
    assert len(on.err) == 1 and "debugpy is not installed" in on.err[0], on.report()
    assert not any(line.startswith("Remote debugging") for line in on.out), on.report()


def test_reverse_connection_refused_is_one_line(tmp_path, start):
    script, _ = build_script(tmp_path)
    port = free_port()  # nobody listens here
    proc = start(script, "--remote_debug", "--remote_debug_client_ip", "127.0.0.1",
                 "--remote_debug_port", port, "--remote_debug_connection_timeout", NEVER)
    assert_ran_to_the_end(proc, attached=False)
    assert time.monotonic() - proc.started < WAIT  # not the connection timeout
    assert len(proc.err) == 1, proc.report()
    assert f"cannot connect to 127.0.0.1:{port}" in proc.err[0], proc.report()


# -- the debugging session at run time ------------------------------------------------


def routing_address() -> str:
    """The address this machine's routing table sends traffic out of."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("8.8.8.8", 9))  # UDP: no packet is sent
        return probe.getsockname()[0]


def attach_break_and_finish(proc: Proc, host: str, port: int, script: Path, line: int) -> None:
    client = DapClient.connect(host, port, timeout=WAIT)
    try:
        local = attach_and_stop(client, {"connect": {"host": host, "port": port}}, script, line, timeout=WAIT)
        assert (client.frame["name"], client.frame["line"]) == ("train", line)
        assert local["learning_rate"] == "0.125"
        continue_and_disconnect(client, timeout=WAIT)
    finally:
        client.close()
    assert_ran_to_the_end(proc, attached=True)


@pytest.mark.parametrize("body", [STANDALONE, WITH_PARSER], ids=["standalone", "argparse"])
def test_a_misspelled_flag_stops_the_script_before_anything_listens(tmp_path, start, body):
    script, _ = build_script(tmp_path, body)
    proc = start(script, "--remote_debug", "--remote_debug_timeout", 2)
    assert proc.finish() == 2, proc.report()
    assert proc.out == [], proc.report()  # no timeout line, no address: nothing listened
    if body is STANDALONE:
        assert len(proc.err) == 1, proc.report()
        assert proc.err[0].startswith("Remote debugging: unknown flag --remote_debug_timeout (the flags are --remote_debug ")
    else:  # the script's own parse_args refuses it first, with its usage
        assert proc.err[-1].endswith("error: unrecognized arguments: --remote_debug_timeout 2"), proc.report()
        assert "[--remote_debug_connection_timeout REMOTE_DEBUG_CONNECTION_TIMEOUT]" in proc.stderr


def test_the_log_is_quiet_without_frozen_modules_off(tmp_path, start):
    """Python 3.11+ without -Xfrozen_modules=off: debugpy's warning block would be on stderr."""
    probe = start("-c", "import debugpy; debugpy.listen(('127.0.0.1', 0)); print('up')", python=[sys.executable])
    assert probe.finish() == 0, probe.report()
    if sys.version_info >= (3, 11):
        assert any("frozen modules" in line for line in probe.err), probe.report()  # what the helper avoids
    script, _ = build_script(tmp_path, timeout=1)
    proc = start(script, "--remote_debug", "--remote_debug_port", free_port(), python=[sys.executable])
    assert_ran_to_the_end(proc, attached=False)
    assert proc.err == [], proc.report()


def test_all_interfaces_log_the_address_a_client_reaches(tmp_path, start):
    script, line = build_script(tmp_path, host="0.0.0.0")
    port = free_port()
    proc = start(script, "--remote_debug", "--remote_debug_port", port, "--remote_debug_connection_timeout", NEVER)
    listening = proc.wait_for_line("Remote debugging: listening on")
    address = routing_address()
    assert listening == f"Remote debugging: listening on {address}:{port}", proc.report()
    assert f"ip_address: {address}" in proc.out
    assert not address.startswith("127.")
    attach_break_and_finish(proc, address, port, script, line)


def test_the_host_flag_makes_a_script_listen_on_loopback_only(tmp_path, start):
    script, line = build_script(tmp_path, host="0.0.0.0")
    port = free_port()
    proc = start(script, "--remote_debug", "--remote_debug_host", "127.0.0.1", "--remote_debug_port", port,
                 "--remote_debug_connection_timeout", NEVER)
    assert proc.wait_for_line("Remote debugging: listening on") == f"Remote debugging: listening on 127.0.0.1:{port}"
    assert "ip_address: 127.0.0.1" in proc.out
    proc.wait_for_line("is this node's loopback address")
    with pytest.raises(OSError):  # not bound to the outward-facing interface
        socket.create_connection((routing_address(), port), timeout=2).close()
    attach_break_and_finish(proc, "127.0.0.1", port, script, line)


def test_a_negative_timeout_waits_the_add_time_timeout_not_forever(tmp_path, start):
    script, _ = build_script(tmp_path, timeout=2)
    proc = start(script, "--remote_debug", "--remote_debug_port", free_port(),
                 "--remote_debug_connection_timeout", -1)
    assert_ran_to_the_end(proc, attached=False)
    assert 2 <= time.monotonic() - proc.started < WAIT
    assert "Timeout for debug connection: 2" in proc.out
    assert proc.err == ["Remote debugging: --remote_debug_connection_timeout -1 is not from 0 to 86400 "
                        "seconds: waiting 2"], proc.report()


def test_reverse_connection_to_a_peer_that_never_answers_gives_up_after_the_timeout(tmp_path, start):
    script, _ = build_script(tmp_path)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(WAIT)
        port = silent.getsockname()[1]
        proc = start(script, "--remote_debug", "--remote_debug_client_ip", "127.0.0.1",
                     "--remote_debug_port", port, "--remote_debug_connection_timeout", 2)
        accepted, _ = silent.accept()  # the TCP connection is made; then nothing is said
        with accepted:
            assert_ran_to_the_end(proc, attached=False)
    elapsed = time.monotonic() - proc.started
    assert 2 <= elapsed < WAIT, elapsed
    assert proc.err == [f"Remote debugging: cannot connect to 127.0.0.1:{port}: no answer within 2 seconds"], \
        proc.report()


@pytest.mark.parametrize("how", ["cd-code", "module", "another-folder"])
def test_attach_and_break_where_the_script_is_run_from_elsewhere(tmp_path, how):
    """The helper module beside the script is found however Azure ML starts it (``cd code && python
    train.py``, ``python -m pkg.train``, a path from another folder), and the breakpoint stops at the
    line of the user's code that the editor shows."""
    code = tmp_path / "code"
    package = code / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    script = (package / "train.py").resolve()
    script.write_text(WITH_PARSER, encoding="utf-8")
    text = instrument_file(script, "--host", "127.0.0.1")
    [line] = [n for n, s in enumerate(text.splitlines(), 1) if s.endswith("# BREAK")]
    assert line == next(n for n, s in enumerate(WITH_PARSER.splitlines(), 1) if s.endswith("# BREAK"))  # not moved
    argv, cwd = {"cd-code": (["train.py"], package), "module": (["-m", "pkg.train"], code),
                 "another-folder": ([str(script)], tmp_path)}[how]
    port = free_port()
    proc = Proc([*PYTHON, *argv, "--remote_debug", "--remote_debug_port", str(port),
                 "--remote_debug_connection_timeout", str(NEVER)], cwd, ENV, wait=WAIT)
    try:
        proc.wait_for_line("Remote debugging: listening on")
        client = DapClient.connect("127.0.0.1", port, timeout=WAIT)
        try:
            local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": port}},
                                    script, line, timeout=WAIT)
            assert (client.frame["name"], client.frame["line"]) == ("train", line)
            assert Path(client.frame["source"]["path"]).resolve() == script
            assert local["learning_rate"] == "0.125"
            continue_and_disconnect(client, timeout=WAIT)
        finally:
            client.close()
        assert_ran_to_the_end(proc, attached=True)
    finally:
        proc.kill()
