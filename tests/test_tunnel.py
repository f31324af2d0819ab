"""The no-VNet route, end to end: a listener on the node's loopback only, reached
through a real SSH port forward, attached with the configuration `launch --tunnel`
writes.

Azure ML's job services (``services: {type: ssh}``) give an authenticated SSH
session to the node; here a real OpenSSH server on this machine plays the node.
The script is instrumented to listen on 127.0.0.1, so nothing is exposed on the
node's network; ``ssh -L`` forwards a port of the VS Code machine to it.

Without OpenSSH (sshd, ssh, ssh-keygen) the test is skipped, saying so;
.ci/run installs it and sets INSTRUMENT_REQUIRE_PROGRAMS=1, under which a
missing program fails the test (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from instrument.cli import main  # noqa: E402
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect  # noqa: E402
from tests.debuggees import STANDALONE  # noqa: E402
from tests.processes import Proc  # noqa: E402
from tests.test_debug_e2e import ENV, PYTHON, WAIT, assert_ran_to_the_end, free_port  # noqa: E402

# sshd lives in sbin, which is not on every user's PATH (as in tests/conftest.py).
SSHD = shutil.which("sshd", path=os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin",
                                                  "/usr/sbin", "/sbin"])) or "/usr/sbin/sshd"


def _outward_address() -> str:
    """This machine's address on its network (the route a packet would take; none is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, only looked up
        return probe.getsockname()[0]


def _wait_port(port: int, deadline: float) -> None:
    """Until something listens on 127.0.0.1:port, seen by a failing bind: a test
    connection would take the debugger's one client slot."""
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture
def sshd(tmp_path):
    """A real OpenSSH server on 127.0.0.1 that accepts one key, with TCP forwarding on.

    Its test is marked ``programs("sshd", ...)``: tests/conftest.py skips it (or, in CI, fails it)
    before this runs when OpenSSH is missing."""
    folder = tmp_path / "ssh"
    folder.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "user")], check=True)
    shutil.copy(folder / "user.pub", folder / "authorized_keys")
    os.chmod(folder / "authorized_keys", 0o600)
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "PermitRootLogin yes\nAllowTcpForwarding yes\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation folder
    server = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        _wait_port(port, time.monotonic() + WAIT)
        yield port, folder / "user"
    finally:
        server.kill()
        server.wait()


@pytest.mark.programs("sshd", "ssh", "ssh-keygen")
def test_loopback_listener_attached_through_a_real_ssh_port_forward(tmp_path, sshd, capsys):
    ssh_port, key = sshd
    script = tmp_path / "train.py"
    script.write_text(STANDALONE, encoding="utf-8")
    assert main(["add", "--host", "127.0.0.1", str(script)]) == 0
    [line] = [n for n, s in enumerate(script.read_text().splitlines(), 1) if s.endswith("# BREAK")]
    node_port, local_port = free_port(), free_port()

    proc = Proc([*PYTHON, str(script), "--remote_debug", "--remote_debug_port", str(node_port),
                 "--remote_debug_connection_timeout", "60"], tmp_path, ENV, wait=WAIT)
    forward = None
    try:
        assert proc.wait_for_line("Remote debugging: listening on").endswith(f" 127.0.0.1:{node_port}")
        # Nothing listens on the node's network address: only its loopback.
        with socket.socket() as probe:
            assert probe.connect_ex((_outward_address(), node_port)) != 0

        forward = subprocess.Popen([
            "ssh", "-N", "-p", str(ssh_port), "-i", str(key), "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ExitOnForwardFailure=yes", "-L", f"127.0.0.1:{local_port}:127.0.0.1:{node_port}",
            "root@127.0.0.1",
        ])
        _wait_port(local_port, time.monotonic() + WAIT)

        capsys.readouterr()
        assert main(["launch", "--tunnel", "--port", str(local_port), "--print",
                     "--remote-root", str(tmp_path)]) == 0
        configuration = json.loads(capsys.readouterr().out)
        assert configuration["connect"] == {"host": "localhost", "port": local_port}
        client = DapClient.connect("localhost", local_port, timeout=WAIT)
        try:
            local = attach_and_stop(client, {"connect": configuration["connect"],
                                             "pathMappings": configuration["pathMappings"]},
                                    script, line, timeout=WAIT)
            assert client.stopped["reason"] == "breakpoint"
            assert local["learning_rate"] == "0.125"
            continue_and_disconnect(client, timeout=WAIT)
        finally:
            client.close()
        assert_ran_to_the_end(proc, attached=True)
    finally:
        if forward is not None:
            forward.kill()
            forward.wait()
        proc.kill()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tunnel", "--host", "10.0.0.4"], "--host and --tunnel cannot be combined"),
        (["--tunnel", "--docker"], "cannot be combined"),
        (["--tunnel", "--listen"], "cannot be combined"),
    ],
)
def test_tunnel_refuses_what_cannot_go_with_it(capsys, args, message):
    assert main(["launch", "--print", *args]) == 2
    assert message in capsys.readouterr().err


def test_tunnel_with_logs_keeps_each_process_port_on_localhost(capsys):
    logs = ROOT / "fixtures" / "launch" / "logs" / "torchrun_interleaved.txt"
    assert main(["launch", "--tunnel", "--print", "--from-log", str(logs)]) == 0
    out = capsys.readouterr().out
    hosts = [line.strip() for line in out.splitlines() if '"host"' in line]
    assert hosts and set(hosts) == {'"host": "localhost",'}
