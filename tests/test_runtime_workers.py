"""Worker processes: a torch DataLoader with num_workers=2 under --remote_debug.

By default (no --remote_debug_subprocesses) the workers are not debugged:
debugpy would otherwise make every forked worker wait for a debugger session
of its own, and the training loop would wait for batches that never come.
With the flag, each worker is announced to the client (``debugpyAttach``)
and is debugged like the main process. Both are driven here with the DAP
client the way VS Code does it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.layout import instrument_file
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect
from tests.processes import Proc
from tests.ports import free_port

WAIT = 60  # seconds: the bound on any single wait (torch starts slowly on a busy machine)
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY"))}
ENV["PYTHONUNBUFFERED"] = "1"

DATALOADER = '''\
import argparse

import torch
from torch.utils.data import DataLoader, Dataset


class Squares(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        square = float(index * index)  # WORKER BREAK
        return torch.tensor([square])


def train(loader):
    learning_rate = 0.125
    total = 0.0
    for batch in loader:
        total += float(batch.sum()) * learning_rate * 8  # BREAK
    return total


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    loader = DataLoader(Squares(), batch_size=2, num_workers=args.workers)
    print("final result", train(loader), flush=True)
'''
FINAL = "final result 140.0"


@pytest.fixture
def debuggee(tmp_path):
    """(start(*flags) -> Proc, script path, {marker: line}); processes are killed after the test."""
    script = (tmp_path / "train.py").resolve()
    script.write_text(DATALOADER, encoding="utf-8")
    text = instrument_file(script, "--host", "127.0.0.1")
    lines = {s.rsplit("# ", 1)[1]: n for n, s in enumerate(text.splitlines(), 1) if s.endswith("BREAK")}
    procs: list[Proc] = []

    def start(*flags) -> Proc:
        proc = Proc([sys.executable, str(script), *map(str, flags)], tmp_path, ENV, wait=WAIT)
        procs.append(proc)
        return proc

    yield start, script, lines
    for proc in procs:
        proc.kill()


def clear_breakpoints(client: DapClient, script: Path) -> None:
    client.request("setBreakpoints", {"source": {"path": str(script)}, "breakpoints": []}, WAIT)


def test_workers_are_not_debugged_by_default_and_the_main_breakpoint_is_hit(debuggee):
    start, script, lines = debuggee
    port = free_port()
    proc = start("--remote_debug", "--remote_debug_port", port, "--remote_debug_connection_timeout", WAIT)
    proc.wait_for_line("Remote debugging: listening on", timeout=WAIT)
    client = DapClient.connect("127.0.0.1", port, timeout=WAIT)
    try:
        local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": port}}, script,
                                lines["BREAK"], timeout=WAIT)
        assert (client.frame["name"], client.frame["line"]) == ("train", lines["BREAK"])
        assert local["total"] == "0.0" and local["learning_rate"] == "0.125"
        clear_breakpoints(client, script)
        continue_and_disconnect(client, timeout=WAIT)
    finally:
        client.close()
    assert proc.finish(WAIT) == 0, proc.report()
    assert proc.out[-1] == FINAL and "Debugger attached = True" in proc.out, proc.report()
    assert "Traceback" not in proc.stderr, proc.report()
    events = [m.get("event") for m in client.log if m.get("type") == "event"]
    assert "debugpyAttach" not in events  # no worker was offered to the debugger


def _attach_without_waiting_for_a_stop(client: DapClient, port: int, script: Path, breakpoint_lines) -> int:
    """VS Code's attach sequence up to configurationDone; returns the attach request's seq."""
    client.request("initialize", {"clientID": "instrument-tests", "adapterID": "debugpy", "pathFormat": "path",
                                  "linesStartAt1": True, "columnsStartAt1": True}, WAIT)
    attach = client.send_request("attach", {"connect": {"host": "127.0.0.1", "port": port}})
    client.wait_event("initialized", WAIT)
    client.request("setBreakpoints", {"source": {"path": str(script)},
                                      "breakpoints": [{"line": n} for n in breakpoint_lines]}, WAIT)
    client.request("configurationDone", {}, WAIT)
    client.wait_response(attach, WAIT)
    return attach


def test_with_the_flag_each_worker_is_debugged_too(debuggee):
    start, script, lines = debuggee
    port = free_port()
    proc = start("--remote_debug", "--remote_debug_subprocesses", "--remote_debug_port", port,
                 "--remote_debug_connection_timeout", WAIT)
    proc.wait_for_line("Remote debugging: listening on", timeout=WAIT)
    main = DapClient.connect("127.0.0.1", port, timeout=WAIT)
    workers: list[DapClient] = []
    try:
        _attach_without_waiting_for_a_stop(main, port, script, [lines["BREAK"]])
        worker_pids = set()
        for _ in range(2):  # num_workers=2: each is offered as a session of its own
            offered = main.wait_event("debugpyAttach", WAIT)
            worker_pids.add(offered["subProcessId"])
            worker = DapClient.connect(offered["connect"]["host"], offered["connect"]["port"], timeout=WAIT)
            workers.append(worker)
            local = attach_and_stop(worker, offered, script, lines["WORKER BREAK"], timeout=WAIT)
            assert (worker.frame["name"], worker.frame["line"]) == ("__getitem__", lines["WORKER BREAK"])
            assert "index" in local and "square" not in local
            clear_breakpoints(worker, script)
            worker.request("continue", {"threadId": worker.stopped["threadId"]}, WAIT)
        assert len(worker_pids) == 2 and proc.popen.pid not in worker_pids
        main.stopped = main.wait_event("stopped", WAIT)  # the main process gets its batch
        frame = main.request("stackTrace", {"threadId": main.stopped["threadId"], "levels": 1}, WAIT)["stackFrames"][0]
        assert (frame["name"], frame["line"]) == ("train", lines["BREAK"])
        clear_breakpoints(main, script)
        continue_and_disconnect(main, timeout=WAIT)
    finally:
        main.close()
        for worker in workers:
            worker.close()
    assert proc.finish(WAIT) == 0, proc.report()
    assert proc.out[-1] == FINAL, proc.report()
