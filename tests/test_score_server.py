"""End to end: an instrumented score.py in Azure ML's real inference server.

``azmlinfsrv`` (azureml-inference-server-http) runs score.py in gunicorn
workers, as in Azure ML's images. The tests attach the DAP client of
:mod:`tests.dap` the way VS Code does, stop in ``run()`` during a real
``POST /score`` and check the reply; without a debugger the service must
start once the timeout has passed; with two workers the second one finds
the port taken and the server must stay up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

import pytest

from tests.layout import instrument_file
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect
from tests.ports import free_port

pytestmark = pytest.mark.server

WAIT = 60  # seconds: the bound on any single wait; a passing test takes a few seconds
SERVER = shutil.which("azmlinfsrv", path=str(Path(sys.executable).parent)) or "azmlinfsrv"
SCORE = '''\
import json


def init():
    global weights
    weights = [0.5, 2.0]


def run(raw_data):
    data = json.loads(raw_data)["data"]
    total = sum(w * x for w, x in zip(weights, data))  # BREAK
    return {"total": total}
'''
REQUEST = {"data": [1, 2]}
REPLY = {"total": 4.5}


def http(method: str, url: str, body: dict | None = None, timeout: float = 2.0) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class Server:
    """``azmlinfsrv`` in its own session, output (both streams) in one log file."""

    def __init__(self, tmp_path: Path, debug_env: dict, *args: str, entry: Optional[Path] = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYDEVD", "DEBUGPY", "INSTRUMENT_"))}
        env.update(GUNICORN_CMD_ARGS="--no-control-socket", PYTHONUNBUFFERED="1",
                   PYDEVD_DISABLE_FILE_VALIDATION="1", **debug_env)
        self.started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(
                [SERVER, "--entry_script", str(entry or tmp_path / "src" / "score.py"), "--port", str(self.port), *args],
                cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def report(self) -> str:
        return f"--- server log\n{self.log}"

    def wait_for(self, text: str, count: int = 1) -> None:
        deadline = time.monotonic() + WAIT
        while self.log.count(text) < count:
            assert self.popen.poll() is None, f"server exited ({self.popen.returncode})\n{self.report()}"
            assert time.monotonic() < deadline, f"no {text!r} x{count} within {WAIT} s\n{self.report()}"
            time.sleep(0.1)

    def wait_until_ready(self) -> None:
        """Poll ``GET /`` until 200: the port opens before a worker has run init()."""
        deadline = time.monotonic() + WAIT
        while True:
            assert self.popen.poll() is None, f"server exited ({self.popen.returncode})\n{self.report()}"
            try:
                if http("GET", self.url + "/", timeout=1.0)[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"GET / not 200 within {WAIT} s\n{self.report()}"
            time.sleep(0.2)

    def score(self, timeout: float = WAIT) -> tuple[int, dict]:
        status, body = http("POST", self.url + "/score", REQUEST, timeout=timeout)
        return status, json.loads(body)

    def stop(self) -> None:
        """Terminate the whole process group (master, workers), then kill what is left."""
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.popen.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.popen.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue


def write_score(tmp_path: Path, timeout: int = 30) -> tuple[Path, int]:
    """Instrumented SCORE in tmp_path/src/score.py, the helper module beside it (the server runs in
    tmp_path and loads the script by path); (path, line of ``# BREAK``)."""
    path = (tmp_path / "src" / "score.py").resolve()
    path.parent.mkdir()
    path.write_text(SCORE, encoding="utf-8")
    text = instrument_file(path, "--host", "127.0.0.1", "--timeout", str(timeout))
    [line] = [n for n, s in enumerate(text.splitlines(), 1) if s.endswith("# BREAK")]
    return path, line


def test_attach_break_in_run_during_a_request(tmp_path):
    script, line = write_score(tmp_path, timeout=WAIT)
    debug_port = free_port()
    server = Server(tmp_path, {"INSTRUMENT_DEBUG_PORT": str(debug_port)})
    replies: list = []

    def ask() -> None:
        try:
            server.wait_until_ready()
            replies.append(server.score())
        except (AssertionError, OSError, ValueError) as exc:
            replies.append(exc)

    def request_in_background() -> None:
        # init() waits for us: the service gets ready only once we have attached.
        threading.Thread(target=ask, daemon=True).start()

    try:
        server.wait_for(f"Remote debugging: listening on 127.0.0.1:{debug_port}")
        assert "Debugger attached" not in server.log  # really waiting for us
        client = DapClient.connect("127.0.0.1", debug_port, timeout=WAIT)
        try:
            local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": debug_port}},
                                    script, line, on_attach_sent=request_in_background, timeout=WAIT)
            assert client.stopped["reason"] == "breakpoint"
            assert (client.frame["name"], client.frame["line"]) == ("run", line)
            assert Path(client.frame["source"]["path"]).resolve() == script
            assert local["data"] == "[1, 2]"
            assert local["raw_data"] == repr(json.dumps(REQUEST))
            assert "total" not in local  # stopped before the line ran
            assert replies == []  # the request is held at the breakpoint
            continue_and_disconnect(client, timeout=WAIT)
        finally:
            client.close()
        deadline = time.monotonic() + WAIT
        while not replies and time.monotonic() < deadline:
            time.sleep(0.1)
        assert replies == [(200, REPLY)], server.report()
        assert "Debugger attached = True" in server.log
        assert server.score() == (200, REPLY)  # and it keeps serving after we left
        assert "Traceback" not in server.log, server.report()
    finally:
        server.stop()


def test_nobody_attaches_the_service_starts_after_the_timeout(tmp_path):
    write_score(tmp_path)  # 30 s at add time; the environment makes it 3
    server = Server(tmp_path, {"INSTRUMENT_DEBUG_PORT": str(free_port()), "INSTRUMENT_DEBUG_TIMEOUT": "3"})
    try:
        server.wait_until_ready()
        assert 3 <= time.monotonic() - server.started < WAIT
        assert server.score() == (200, REPLY)
        log = server.log
        assert "Timeout for debug connection: 3" in log
        assert "ip_address: 127.0.0.1" in log
        assert log.index("Debugger attached = False") < log.index("ready for serving traffic")
        assert "Traceback" not in log, server.report()
    finally:
        server.stop()


def test_two_workers_the_second_reports_the_busy_port_and_serves(tmp_path):
    write_score(tmp_path)
    debug_port = free_port()
    server = Server(tmp_path, {"INSTRUMENT_DEBUG_PORT": str(debug_port), "INSTRUMENT_DEBUG_TIMEOUT": "2"},
                    "--worker_count", "2")
    try:
        server.wait_for("ready for serving traffic", count=2)
        server.wait_until_ready()
        for _ in range(4):
            assert server.score() == (200, REPLY)
        assert server.popen.poll() is None
        log = server.log.splitlines()
        busy = [entry for entry in log if "cannot listen on" in entry]
        assert len(busy) == 1, server.report()
        assert f"Remote debugging: cannot listen on 127.0.0.1:{debug_port} (is the port in use?)" in busy[0]
        assert sum("Debugger attached = False" in entry for entry in log) == 2, server.report()
        assert sum(f"listening on 127.0.0.1:{debug_port}" in entry for entry in log) == 1
        assert "Traceback" not in server.log, server.report()
    finally:
        server.stop()
