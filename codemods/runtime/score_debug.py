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

#: Chosen at add time (``instrument add --host/--port/--timeout/--client-ip``); an empty
#: CLIENT_IP listens, an address connects out to a VS Code listening there.
HOST = "0.0.0.0"
PORT = 5678
TIMEOUT = 30
CLIENT_IP = ""

#: Longest wait for a debugger, in seconds (a day; see remote_debug.py).
LONGEST_WAIT = 86400

#: Public addresses the routing table is asked about (see remote_debug.py).
ROUTE_PROBE_V4 = "8.8.8.8"
ROUTE_PROBE_V6 = "2001:4860:4860::8888"

#: Environment variables the injected scoring code reads at run time.
ENV_SWITCH = "INSTRUMENT_DEBUG"
ENV_PORT = "INSTRUMENT_DEBUG_PORT"
ENV_TIMEOUT = "INSTRUMENT_DEBUG_TIMEOUT"
ENV_CLIENT = "INSTRUMENT_DEBUG_CLIENT_IP"


def _instrument_remote_debug(host=HOST, port=PORT, timeout=TIMEOUT, client_ip=CLIENT_IP):
    """Wait for VS Code (debugpy) while the service starts, then go on.

    Added by `instrument add`, removed by `instrument strip`. Runs once per
    server worker. Environment variables change it at run time:
    INSTRUMENT_DEBUG=0 switches it off,
    INSTRUMENT_DEBUG_PORT is the port to listen on,
    INSTRUMENT_DEBUG_TIMEOUT the seconds to wait (0: no limit),
    INSTRUMENT_DEBUG_CLIENT_IP a VS Code listening there to connect out to
    (nothing listens in the container).
    """
    import io
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
        print("Remote debugging: ignoring {}={!r}, using {}".format(variable, text, default), file=sys.stderr, flush=True)
        return default

    def reachable_address(host):
        # The address a client uses to reach a listener on host. For all
        # interfaces: the one the routing table sends traffic out of (also
        # where the node's name resolves to loopback only), else the first
        # address of the node's name that is not loopback.
        import socket

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        if host not in ("0.0.0.0", "::", ""):
            try:
                return str(socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)[0][4][0])
            except (OSError, IndexError):
                return host
        address = ""
        try:
            probe = socket.socket(family, socket.SOCK_DGRAM)
            try:
                probe.connect((ROUTE_PROBE_V6 if family == socket.AF_INET6 else ROUTE_PROBE_V4, 9))
                address = str(probe.getsockname()[0])
            finally:
                probe.close()
        except OSError:
            pass
        if address and not is_loopback(address) and address not in ("0.0.0.0", "::"):
            return address
        try:
            addresses = [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, family)]
        except OSError:
            addresses = []
        return next((a for a in addresses if not is_loopback(a)), "::1" if family == socket.AF_INET6 else "127.0.0.1")

    def is_loopback(address):
        return address.startswith("127.") or address in ("::1", "localhost")

    port = setting(ENV_PORT, port, 1, 65535)
    timeout = setting(ENV_TIMEOUT, timeout, 0, LONGEST_WAIT)
    print(TIMEOUT_LINE.format(seconds=timeout), flush=True)
    ip = reachable_address(host)
    print(ADDRESS_LINE.format(address=ip), flush=True)
    # debugpy warns about frozen modules on Python 3.11+ at import; the
    # validation it skips only matters for the standard library's own code.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        import debugpy
    except ImportError:
        print("Remote debugging: debugpy is not installed in this environment", file=sys.stderr, flush=True)
        print(ATTACHED_LINE.format(verdict=False), flush=True)
        return
    client_ip = os.environ.get(ENV_CLIENT, "").strip() or client_ip
    if client_ip:
        # A reverse connection: VS Code listens (`instrument launch --listen`), the worker connects.
        print("Remote debugging: connecting to VS Code at {}:{} (process {})".format(client_ip, port, os.getpid()), flush=True)
        outcome: list = []

        def connect():
            try:
                debugpy.connect((client_ip, port))
                outcome.append(None)
            except Exception as exc:
                outcome.append(exc)

        real_stderr = sys.stderr
        sys.stderr = held = io.StringIO()  # a refused connect prints a traceback first
        try:
            # A peer that accepts but never answers would hold debugpy.connect forever.
            connecting = threading.Thread(target=connect, name="remote-debug-connect", daemon=True)
            connecting.start()
            connecting.join(timeout if timeout > 0 else None)
        finally:
            sys.stderr = real_stderr
        if outcome and outcome[0] is None:
            real_stderr.write(held.getvalue())
        else:
            reason = "no answer within {} seconds".format(timeout) if not outcome else " ".join(str(outcome[0]).split()) or type(outcome[0]).__name__
            print("Remote debugging: cannot connect to {}:{}: {}".format(client_ip, port, reason), file=sys.stderr, flush=True)
        print(ATTACHED_LINE.format(verdict=debugpy.is_client_connected()), flush=True)
        return
    try:
        port = debugpy.listen((host, port))[1]
    except Exception as exc:
        reason = " ".join(str(exc).split())
        print("Remote debugging: cannot listen on {}:{} (is the port in use?): {}".format(host, port, reason), file=sys.stderr, flush=True)
        print(ATTACHED_LINE.format(verdict=False), flush=True)
        return
    print(LISTENING_LINE.format(address=ip, port=port) + " (process {})".format(os.getpid()), flush=True)
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
