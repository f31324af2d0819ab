"""The scoring block: a nested ``_instrument_remote_debug()`` and its call.

azmlinfsrv runs score.py in gunicorn workers and calls ``init()`` once per
worker, so the listener starts inside ``init()``. ``instrument add`` puts
:func:`_instrument_remote_debug` at the start of ``init()``'s body followed
by a call to it, one block: no name of the user's ``init()`` is bound or
shadowed (a name assigned in ``init()`` would turn the user's reads of a
global of that name into reads of a local, and break a later ``global``
statement for it). The constants below are replaced by the values chosen at
add time; the environment variables change them at run time.
"""

from instrument.codemods.runtime.log_lines import (  # printed, and read back by `instrument launch --from-log`
    ADDRESS_LINE,
    ATTACHED_LINE,
    LISTENING_LINE,
    TIMEOUT_LINE,
)

#: Chosen at add time (``instrument add --host/--port/--timeout``).
HOST = "0.0.0.0"
PORT = 5678
TIMEOUT = 30

#: Environment variables the injected scoring code reads at run time.
ENV_SWITCH = "INSTRUMENT_DEBUG"
ENV_PORT = "INSTRUMENT_DEBUG_PORT"
ENV_TIMEOUT = "INSTRUMENT_DEBUG_TIMEOUT"


def _instrument_remote_debug():
    """Wait for VS Code (debugpy) while the service starts, then go on.

    Added by `instrument add`, removed by `instrument strip`. Runs once per
    server worker. Environment variables change it at run time:
    INSTRUMENT_DEBUG=0 switches it off,
    INSTRUMENT_DEBUG_PORT is the port to listen on,
    INSTRUMENT_DEBUG_TIMEOUT the seconds to wait (0: no limit).
    """
    import os
    import sys
    import threading

    if os.environ.get(ENV_SWITCH, "").strip().lower() in ("0", "false", "no", "off"):
        return

    def setting(variable, default, lowest, highest):
        text = os.environ.get(variable, "").strip()
        if not text:
            return default
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is not None and lowest <= value <= highest:
            return value
        print(f"Remote debugging: ignoring {variable}={text!r}, using {default}", file=sys.stderr, flush=True)
        return default

    host = HOST
    port = setting(ENV_PORT, PORT, 1, 65535)
    timeout = setting(ENV_TIMEOUT, TIMEOUT, 0, 10**9)
    print(TIMEOUT_LINE.format(seconds=timeout), flush=True)
    ip = host
    if host in ("0.0.0.0", "::", ""):
        # The node's own address, for the log: the first one of its name that is
        # not loopback (Debian-style hosts map their name to 127.0.1.1 first).
        import socket

        try:
            addresses = [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
        except OSError:
            addresses = []
        ip = next((a for a in addresses if not a.startswith("127.")), addresses[0] if addresses else "127.0.0.1")
    print(ADDRESS_LINE.format(address=ip), flush=True)
    try:
        import debugpy
    except ImportError:
        print("Remote debugging: debugpy is not installed in this environment", file=sys.stderr, flush=True)
        print(ATTACHED_LINE.format(verdict=False), flush=True)
        return
    try:
        debugpy.listen((host, port))
    except Exception as exc:
        reason = " ".join(str(exc).split())
        print(f"Remote debugging: cannot listen on {host}:{port} (is the port in use?): {reason}", file=sys.stderr, flush=True)
        print(ATTACHED_LINE.format(verdict=False), flush=True)
        return
    print(LISTENING_LINE.format(address=ip, port=port) + f" (process {os.getpid()})", flush=True)
    waited = threading.Event()

    def cancel_wait():
        while not waited.is_set():
            try:
                debugpy.wait_for_client.cancel()
                return
            except RuntimeError:  # the wait has not started yet
                waited.wait(0.05)

    timer = threading.Timer(timeout, cancel_wait) if timeout > 0 else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        debugpy.wait_for_client()
    finally:
        waited.set()
        if timer is not None:
            timer.cancel()
    print(ATTACHED_LINE.format(verdict=debugpy.is_client_connected()), flush=True)
