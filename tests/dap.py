"""A small Debug Adapter Protocol client for the end-to-end tests.

Standard library only. One socket, read on the caller's thread: every
message that is not the one being waited for is kept (events in arrival
order, responses by request ``seq``), so nothing that arrives early or out
of order is lost. Every wait has a deadline; nothing blocks forever.
"""

from __future__ import annotations

import json
import socket
import time

DEFAULT_TIMEOUT = 20.0


class DapError(RuntimeError):
    """A request failed, the adapter went away, or a wait timed out."""


class DapClosed(DapError):
    """The adapter closed the connection."""


class DapClient:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""
        self._seq = 0
        self._events: list[dict] = []  # unclaimed events, oldest first
        self._responses: dict[int, dict] = {}  # request_seq -> response
        self.log: list[dict] = []  # every message received, for failure reports
        self.stopped: dict | None = None  # set by attach_and_stop
        self.frame: dict | None = None

    @classmethod
    def connect(cls, host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> "DapClient":
        """Connect, retrying until the port accepts or ``timeout`` runs out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return cls(socket.create_connection((host, port), timeout=1.0))
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise DapError(f"cannot connect to {host}:{port}: {exc}") from exc
                time.sleep(0.05)

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass

    # -- requests -------------------------------------------------------------------

    def send_request(self, command: str, arguments: dict | None = None) -> int:
        """Send a request without waiting; returns its ``seq``."""
        self._seq += 1
        message = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        body = json.dumps(message).encode("utf-8")
        self._sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self._seq

    def wait_response(self, seq: int, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """The body of the response to request ``seq``; raises if it failed."""
        deadline = time.monotonic() + timeout
        while seq not in self._responses:
            self._read_one(deadline, f"the response to request {seq}")
        response = self._responses.pop(seq)
        if not response.get("success"):
            raise DapError(f"{response.get('command')} failed: {response.get('message')}")
        return response.get("body") or {}

    def request(self, command: str, arguments: dict | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> dict:
        return self.wait_response(self.send_request(command, arguments), timeout)

    def wait_event(self, name: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """The body of the oldest unclaimed event ``name`` (waiting for one)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self._events):
                if event.get("event") == name:
                    del self._events[i]
                    return event.get("body") or {}
            self._read_one(deadline, f"event {name!r}")

    # -- wire format ----------------------------------------------------------------

    def _read_one(self, deadline: float, waiting_for: str) -> None:
        header, _, self._buffer = self._read_until(b"\r\n\r\n", deadline, waiting_for)
        length = None
        for line in header.decode("ascii").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise DapError(f"message without Content-Length: {header!r}")
        while len(self._buffer) < length:
            self._recv(deadline, waiting_for)
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        message = json.loads(body.decode("utf-8"))
        self.log.append(message)
        if message.get("type") == "response":
            self._responses[message["request_seq"]] = message
        elif message.get("type") == "event":
            self._events.append(message)
        # Reverse requests (runInTerminal, startDebugging) are not used by attach.

    def _read_until(self, marker: bytes, deadline: float, waiting_for: str):
        while marker not in self._buffer:
            self._recv(deadline, waiting_for)
        return self._buffer.partition(marker)

    def _recv(self, deadline: float, waiting_for: str) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DapError(f"timed out waiting for {waiting_for}; received: {self._summary()}")
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(65536)
        except socket.timeout:
            raise DapError(f"timed out waiting for {waiting_for}; received: {self._summary()}") from None
        except OSError as exc:
            raise DapClosed(f"connection error waiting for {waiting_for}: {exc}") from exc
        if not data:
            raise DapClosed(f"connection closed waiting for {waiting_for}; received: {self._summary()}")
        self._buffer += data

    def _summary(self) -> str:
        names = [m.get("event") or m.get("command") for m in self.log if m.get("event") != "output"]
        return ", ".join(map(str, names)) or "nothing"


# -- the sequence VS Code goes through ----------------------------------------------


def attach_and_stop(client: DapClient, attach_arguments: dict, source_path, line: int,
                    on_attach_sent=None, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Attach, break at ``source_path:line`` and return the top frame's locals.

    The attach response only comes after ``configurationDone``, so the attach
    request is sent first and its response collected at the end; the adapter
    sends ``initialized`` once it has a debuggee. ``on_attach_sent`` runs right
    after the attach request is sent (e.g. to start a debuggee that connects
    to the adapter). The stop event body and top frame are kept on the client
    as ``stopped`` and ``frame``; ``{name: value}`` of the locals is returned.
    """
    client.request("initialize", {
        "clientID": "instrument-tests", "adapterID": "debugpy", "pathFormat": "path",
        "linesStartAt1": True, "columnsStartAt1": True,
    }, timeout)
    attach_seq = client.send_request("attach", attach_arguments)
    if on_attach_sent is not None:
        on_attach_sent()
    client.wait_event("initialized", timeout)
    result = client.request("setBreakpoints", {
        "source": {"path": str(source_path)}, "breakpoints": [{"line": line}],
    }, timeout)
    if not result["breakpoints"][0].get("verified"):
        raise DapError(f"breakpoint not verified: {result}")
    client.request("configurationDone", {}, timeout)
    client.wait_response(attach_seq, timeout)
    client.stopped = client.wait_event("stopped", timeout)
    # startFrame as VS Code sends it: debugpy 1.5 (the last for Python 3.6) fails without it.
    frames = client.request("stackTrace", {"threadId": client.stopped["threadId"], "startFrame": 0,
                                           "levels": 1}, timeout)["stackFrames"]
    client.frame = frames[0]
    scopes = client.request("scopes", {"frameId": client.frame["id"]}, timeout)["scopes"]
    local_scope = next((s for s in scopes if s["name"] == "Locals"), scopes[0])
    variables = client.request("variables", {
        "variablesReference": local_scope["variablesReference"],
    }, timeout)["variables"]
    return {v["name"]: v["value"] for v in variables}


def continue_and_disconnect(client: DapClient, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Resume the stopped thread, leave the debuggee running and close."""
    try:
        client.request("continue", {"threadId": client.stopped["threadId"]}, timeout)
        try:
            client.request("disconnect", {"terminateDebuggee": False}, timeout)
        except DapClosed:
            pass  # the debuggee may finish and take its adapter down first
    finally:
        client.close()
