"""The training helper: ``_instrument_remote_debug(args=None, run=None)``.

``instrument add`` copies :func:`_instrument_remote_debug` into a training
script (see :mod:`instrument.codemods.runtime.render`), with the constants
below replaced by the values chosen at add time. Everything the function
needs is imported inside it, and only when debugging is switched on, so a
script whose environment lacks debugpy or azureml still runs.

What it fixes in the source document's recipe: the connection timeout is
really applied (``debugpy.wait_for_client.cancel()`` from a timer), it
listens on the node's interface instead of the client's address, it uses
``debugpy.connect`` for the reverse connection, and a busy port is one line,
not a traceback.

Distributed jobs start the script once per process: the rank comes from the
launcher's environment (first variable that holds one wins), a process
listens on ``port + local rank`` (unique on its node; a reverse connection
goes to ``port + rank``), and ``--remote_debug_ranks`` says which ranks wait.
"""

from instrument.codemods.runtime.log_lines import (  # printed, and read back by `instrument launch --from-log`
    ADDRESS_LINE,
    ATTACHED_LINE,
    CLIENT_RANK_LINE,
    LISTENING_LINE,
    RANK_LINE,
    TIMEOUT_LINE,
)

#: Chosen at add time (``instrument add --host/--port/--timeout/--ranks``).
HOST = "0.0.0.0"
PORT = 5678
TIMEOUT = 300
RANKS = "all"

#: Where each launcher puts the process's rank on its node (torchrun, Open MPI,
#: Intel MPI / MPICH) and in the whole job (torchrun, Open MPI, TensorFlow's
#: TF_CONFIG task index, Azure ML's older task index); first match wins.
LOCAL_RANK_VARIABLES = ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID")
RANK_VARIABLES = ("RANK", "OMPI_COMM_WORLD_RANK", "TF_CONFIG", "AZ_BATCHAI_TASK_INDEX")


def _instrument_remote_debug(args=None, run=None):
    """Attach point for VS Code (debugpy), active only with --remote_debug.

    Added by `instrument add`, removed by `instrument strip`. With args None
    the --remote_debug* flags are read from sys.argv and taken out of it, so
    the script's own command line keeps working.
    """
    import sys

    if args is None:
        argv = sys.argv[1:]
        cut = argv.index("--") if "--" in argv else len(argv)
        if not any(arg.startswith("--remote_debug") for arg in argv[:cut]):
            return  # the common case costs no import
        import argparse

        parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
        parser.add_argument("--remote_debug", action="store_true", help="wait for a VS Code debugger (debugpy) to attach")
        parser.add_argument("--remote_debug_connection_timeout", type=int, default=TIMEOUT, help="seconds to wait for the debugger; 0 waits without limit")
        parser.add_argument("--remote_debug_client_ip", type=str, help="connect to a VS Code listening at this address instead of listening")
        parser.add_argument("--remote_debug_port", type=int, default=PORT, help="debug port")
        parser.add_argument("--remote_debug_ranks", type=str, default=RANKS, help="global ranks that wait for the debugger: all, or a list like 0,3")
        args, rest = parser.parse_known_args(argv[:cut])
        sys.argv[1:] = rest + argv[cut:]
    if not getattr(args, "remote_debug", False) or getattr(_instrument_remote_debug, "started", False):
        return
    _instrument_remote_debug.started = True
    import io
    import json
    import os
    import threading

    def rank_from(variables):
        # The first variable that holds a rank wins; a malformed one is skipped.
        for variable in variables:
            text = os.environ.get(variable, "").strip()
            if not text:
                continue
            if variable == "TF_CONFIG":
                try:
                    text = str(json.loads(text)["task"]["index"])
                except Exception:
                    print("Remote debugging: ignoring TF_CONFIG: no task index in it", file=sys.stderr, flush=True)
                    continue
            if text.strip("0123456789") == "":  # ASCII digits only: str.isdigit also takes superscripts
                return int(text)
            print(f"Remote debugging: ignoring {variable}={text!r}: not a rank", file=sys.stderr, flush=True)
        return 0

    local_rank = rank_from(LOCAL_RANK_VARIABLES)
    rank = rank_from(RANK_VARIABLES)
    wanted = str(getattr(args, "remote_debug_ranks", None) or "all").strip()
    if wanted.lower() != "all":
        listed = [part.strip() for part in wanted.split(",")]
        if all(part and part.strip("0123456789") == "" for part in listed):
            if rank not in {int(part) for part in listed}:
                print(f"Remote debugging: rank {rank} (local rank {local_rank}) is not in --remote_debug_ranks {wanted}: running without a debugger", flush=True)
                return
        else:
            print(f"Remote debugging: ignoring --remote_debug_ranks {wanted!r} (all, or ranks like 0,3): every rank waits", file=sys.stderr, flush=True)
    host = HOST
    timeout = args.remote_debug_connection_timeout
    client_ip = args.remote_debug_client_ip
    # One port per process: ranks on one node listen side by side, and each
    # rank reaches its own port of a VS Code that listens.
    port = args.remote_debug_port + (rank if client_ip else local_rank)
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
    if run is None:
        try:
            from azureml.core import Run

            run = Run.get_context()
        except Exception:
            run = None
    if run is not None and not str(getattr(run, "id", "")).startswith("OfflineRun"):
        try:
            run.log("ip_address", ip)
        except Exception:
            pass
    try:
        import debugpy
    except ImportError:
        print("Remote debugging: debugpy is not installed in this environment", file=sys.stderr, flush=True)
        print(ATTACHED_LINE.format(verdict=False), flush=True)
        return
    try:
        if client_ip:
            print(f"Remote debugging: connecting to VS Code at {client_ip}:{port}", flush=True)
            real_stderr = sys.stderr
            sys.stderr = held = io.StringIO()  # a refused connect prints a traceback first
            try:
                debugpy.connect((client_ip, port))
            finally:
                sys.stderr = real_stderr
            real_stderr.write(held.getvalue())
            print(CLIENT_RANK_LINE.format(rank=rank, local_rank=local_rank, client=client_ip, port=port), flush=True)
        else:
            debugpy.listen((host, port))
            print(LISTENING_LINE.format(address=ip, port=port), flush=True)
            print(RANK_LINE.format(rank=rank, local_rank=local_rank, address=ip, port=port), flush=True)
    except Exception as exc:
        where = f"connect to {client_ip}:{port}" if client_ip else f"listen on {host}:{port} (is the port in use?)"
        print(f"Remote debugging: cannot {where}: {exc}", file=sys.stderr, flush=True)
        print(ATTACHED_LINE.format(verdict=False), flush=True)
        return
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
