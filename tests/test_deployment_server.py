"""End to end: a deployment instrumented by ``instrument add deployment.yml``, served by the real azmlinfsrv.

The scoring script the deployment names is served with the deployment's own
environment variables and its scoring timeout (azmlinfsrv's
``SCORING_TIMEOUT_MS``, read from ``request_settings.request_timeout_ms``, as
azure-ai-ml loads it from the file). A DAP client attaches as VS Code does
and holds a request at a breakpoint in ``run()`` for longer than the
deployment's original request timeout; the request is still answered once
the debugger continues. The same pause under the original timeout fails,
which is why ``add`` raises it.

The route that needs no open port: VS Code listens (the configuration
``instrument launch --listen`` writes) and the scoring process connects out to
it, through azmlinfsrv's own hook ``AZUREML_DEBUG_PORT`` (127.0.0.1 of where the
server runs), with the instrumented block switched off (``INSTRUMENT_DEBUG=0``).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from instrument.cli import main
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect
from tests.fixture_cases import FIXTURES
from tests.test_deployment import load_online
from tests.test_score_server import REPLY, WAIT, Server, free_port

pytestmark = pytest.mark.server

CASE = FIXTURES / "deployment" / "managed_conda_file_existing_settings"


def deployed(tmp_path: Path, *add_options: str) -> tuple[Path, dict, int]:
    """The case instrumented as a user does (``add`` on the deployment alone); (scoring script,
    the environment the server gets from the deployment, the original request timeout in ms)."""
    folder = tmp_path / "deployment"
    shutil.copytree(CASE, folder)
    (folder / "after.yml").unlink()
    original = load_online(folder / "before.yml").request_settings.request_timeout_ms
    assert main(["add", *add_options, str(folder / "before.yml")]) == 0
    deployment = load_online(folder / "before.yml")
    environment = {key: str(value) for key, value in (deployment.environment_variables or {}).items()}
    environment["SCORING_TIMEOUT_MS"] = str(deployment.request_settings.request_timeout_ms)
    script = folder / deployment.code_configuration.code / deployment.code_configuration.scoring_script
    return script.resolve(), environment, original


def break_line(script: Path) -> int:
    [line] = [n for n, s in enumerate(script.read_text().splitlines(), 1) if s.endswith("# BREAK")]
    return line


def serve_and_hold(script: Path, environment: dict, hold: float) -> tuple[list, list, str]:
    """Serve ``script``, attach, stop in run() during a request, hold ``hold`` s, continue:
    (replies while held, replies in the end, the server's log)."""
    debug_port = free_port()
    server = Server(script.parent, {**environment, "INSTRUMENT_DEBUG_PORT": str(debug_port)}, entry=script)
    replies: list = []

    def ask() -> None:
        try:
            server.wait_until_ready()
            replies.append(server.score(timeout=WAIT + hold))
        except (AssertionError, OSError, ValueError) as exc:
            replies.append(exc)

    try:
        server.wait_for(f"Remote debugging: listening on 127.0.0.1:{debug_port}")
        client = DapClient.connect("127.0.0.1", debug_port, timeout=WAIT)
        try:
            local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": debug_port}}, script,
                                    break_line(script), timeout=WAIT,
                                    on_attach_sent=lambda: threading.Thread(target=ask, daemon=True).start())
            assert (client.frame["name"], client.frame["line"]) == ("run", break_line(script))
            assert local["data"] == "[1, 2]"
            time.sleep(hold)
            held = list(replies)
            if not held:  # a request given up is no longer stopped there: closing lets the worker go
                continue_and_disconnect(client, timeout=WAIT)
        finally:
            client.close()
        deadline = time.monotonic() + WAIT
        while not replies and time.monotonic() < deadline:
            time.sleep(0.1)
        return held, replies, server.log
    finally:
        server.stop()


def test_a_request_held_at_a_breakpoint_past_the_original_timeout_is_answered(tmp_path):
    script, environment, original_ms = deployed(tmp_path, "--host", "127.0.0.1", f"--timeout={WAIT}")
    assert original_ms == 3000 and int(environment["SCORING_TIMEOUT_MS"]) == 180000
    assert environment["WORKER_COUNT"] == "1" and environment["WORKER_TIMEOUT"] == "3600"  # the file had 600
    held, replies, log = serve_and_hold(script, environment, hold=original_ms / 1000 + 2)
    assert held == [] and replies == [(200, REPLY)], log
    assert "Debugger attached = True" in log and "Traceback" not in log, log
    assert "Worker Timeout (seconds): 3600" in log  # gunicorn leaves a worker held at a breakpoint alone


def test_the_same_pause_under_the_original_timeout_fails(tmp_path):
    """The control: the deployment as it was (3 s) gives the paused request up."""
    script, environment, original_ms = deployed(tmp_path, "--host", "127.0.0.1", f"--timeout={WAIT}")
    environment["SCORING_TIMEOUT_MS"] = str(original_ms)
    held, replies, log = serve_and_hold(script, environment, hold=original_ms / 1000 + 2)
    assert held == replies == [(500, {"message": f"Scoring timeout after {original_ms} ms"})], log


def _reverse_session(script: Path, server_environment) -> str:
    """VS Code listens (the configuration ``instrument launch --listen`` writes, given to a real
    debugpy adapter); the server started with ``server_environment(listen_port)`` connects out to
    it; a request stops at the breakpoint in run() and is answered after continue. The server's log."""
    import subprocess

    listen_port, adapter_port = free_port(), free_port()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["launch", "--listen", "--host", "127.0.0.1", "--port", str(listen_port),
                     "--remote-root", str(script.parent), "--print"]) == 0
    configuration = json.loads(out.getvalue())
    assert configuration["listen"] == {"host": "127.0.0.1", "port": listen_port}
    arguments = {key: value for key, value in configuration.items() if key not in ("name", "type", "request")}
    arguments["pathMappings"] = [{"localRoot": str(script.parent), "remoteRoot": str(script.parent)}]
    adapter = subprocess.Popen([sys.executable, "-m", "debugpy.adapter", "--host", "127.0.0.1", "--port",
                                str(adapter_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers: list = []
    replies: list = []

    def start_server() -> None:
        client.wait_event("debugpyWaitingForServer", timeout=WAIT)  # VS Code listens now
        server = Server(script.parent, server_environment(listen_port), entry=script)
        servers.append(server)

        def ask() -> None:
            try:
                server.wait_until_ready()
                replies.append(server.score())
            except (AssertionError, OSError, ValueError) as exc:
                replies.append(exc)

        threading.Thread(target=ask, daemon=True).start()

    try:
        client = DapClient.connect("127.0.0.1", adapter_port, timeout=WAIT)
        try:
            local = attach_and_stop(client, arguments, script, break_line(script),
                                    on_attach_sent=start_server, timeout=WAIT)
            assert (client.frame["name"], client.frame["line"]) == ("run", break_line(script))
            assert local["data"] == "[1, 2]"
            continue_and_disconnect(client, timeout=WAIT)
        finally:
            client.close()
        deadline = time.monotonic() + WAIT
        while not replies and time.monotonic() < deadline:
            time.sleep(0.1)
        [server] = servers
        assert replies == [(200, REPLY)], server.report()
        return server.log.replace(f":{listen_port}", ":LISTEN_PORT")
    finally:
        for server in servers:
            server.stop()
        adapter.terminate()
        adapter.wait(10)


def test_reverse_connection_to_a_listening_vs_code_configuration(tmp_path):
    """azmlinfsrv's own hook (AZUREML_DEBUG_PORT) connects out, so nothing listens in the server."""
    script, environment, _ = deployed(tmp_path)
    log = _reverse_session(script, lambda port: {**environment, "AZUREML_DEBUG_PORT": str(port),
                                                 "INSTRUMENT_DEBUG": "0"})
    assert "DEBUGGING mode because AZUREML_DEBUG_PORT is set" in log
    assert "Remote debugging: listening" not in log  # the instrumented block stayed off: no open port


def test_the_scoring_script_connects_out_to_a_listening_vs_code(tmp_path):
    """``add --client-ip`` on the deployment: init() connects out to VS Code listening, so nothing
    listens in the container; a breakpoint in run() stops the request, answered once the debugger continues."""
    script, environment, _ = deployed(tmp_path, "--client-ip", "127.0.0.1")
    assert '_instrument.score_debug(client_ip="127.0.0.1")' in script.read_text()
    log = _reverse_session(script, lambda port: {**environment, "INSTRUMENT_DEBUG_PORT": str(port)})
    assert "Remote debugging: connecting to VS Code at 127.0.0.1:LISTEN_PORT" in log
    assert "Debugger attached = True" in log
    assert "Remote debugging: listening" not in log  # no open port in the container


def test_a_vs_code_that_is_not_listening_is_one_line_and_the_service_starts(tmp_path):
    script, environment, _ = deployed(tmp_path)
    server = Server(script.parent, {**environment, "INSTRUMENT_DEBUG_CLIENT_IP": "127.0.0.1",
                                    "INSTRUMENT_DEBUG_PORT": str(free_port()), "INSTRUMENT_DEBUG_TIMEOUT": "5"},
                    entry=script)
    try:
        server.wait_until_ready()
        assert server.score() == (200, REPLY)
        log = server.log
        assert "Remote debugging: cannot connect to 127.0.0.1:" in log
        assert "Debugger attached = False" in log and "Traceback" not in log, server.report()
    finally:
        server.stop()
