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

Run-time choices need no new ``instrument add``: ``--remote_debug_host``
(``127.0.0.1`` listens for this node only, as behind Azure ML's VS Code
service) and ``--remote_debug_subprocesses`` (debug worker processes too;
off by default, so a multiprocessing ``DataLoader`` runs undisturbed).

Where the job tracks with MLflow (Azure ML v2: ``mlflow`` and
``azureml-mlflow`` in the environment, ``MLFLOW_RUN_ID`` set), a listening
process also puts its address and port on the run as tags
(``remote_debug.address``/``.port``; ``remote_debug.rank<N>.`` for rank N).
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

#: The flags the helper understands: its own parser's and the script's.
FLAGS = (
    "--remote_debug",
    "--remote_debug_connection_timeout",
    "--remote_debug_client_ip",
    "--remote_debug_port",
    "--remote_debug_ranks",
    "--remote_debug_host",
    "--remote_debug_subprocesses",
)

#: Longest wait for a debugger, in seconds: a day, as ``instrument add
#: --timeout`` allows (well below threading.TIMEOUT_MAX everywhere).
LONGEST_WAIT = 86400

#: Public addresses the routing table is asked about to find the address
#: other machines reach this node at (a UDP connect sends no packet).
ROUTE_PROBE_V4 = "8.8.8.8"
ROUTE_PROBE_V6 = "2001:4860:4860::8888"

#: Where each launcher puts the process's rank on its node (torchrun, Open MPI,
#: Intel MPI / MPICH) and in the whole job (torchrun, Open MPI, TensorFlow's
#: TF_CONFIG task index, Azure ML's older task index); first match wins.
LOCAL_RANK_VARIABLES = ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID")
RANK_VARIABLES = ("RANK", "OMPI_COMM_WORLD_RANK", "TF_CONFIG", "AZ_BATCHAI_TASK_INDEX")


def _instrument_remote_debug(args=None, run=None, *, host=HOST, port=PORT, timeout=TIMEOUT, ranks=RANKS):
    """Attach point for VS Code (debugpy), active only with --remote_debug.

    Added by `instrument add`, removed by `instrument strip`. With args None
    the --remote_debug* flags are read from sys.argv and taken out of it, so
    the script's own command line keeps working. A misspelled --remote_debug*
    flag stops the script (exit 2) before anything listens; any other failure
    is one line, and the script goes on without a debugger.
    """
    import sys

    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    given = [arg.split("=", 1)[0] for arg in argv[:cut] if arg.startswith("--remote_debug")]
    # Standalone, a command-line library (click, typer, argparse) prints the
    # script's --help and exits: the debug flags are listed after it, so the
    # script's own options read first. A script without one keeps its output.
    wants_help = args is None and "--help" in argv[:cut] and any(cli in sys.modules for cli in ("click", "typer", "argparse"))
    if args is None and not given and not wants_help:
        return  # the common case costs no import
    flags = FLAGS
    for flag in given:
        # The script's own parser also takes a flag's unambiguous abbreviation,
        # and may have --remote_debug* flags of its own (a parent parser's).
        own = args is not None and hasattr(args, flag[2:].replace("-", "_"))
        if flag not in flags and not own and (args is None or len([known for known in flags if known.startswith(flag)]) != 1):
            print("Remote debugging: unknown flag {} (the flags are {})".format(flag, " ".join(flags)), file=sys.stderr, flush=True)
            sys.exit(2)
    if args is None:
        import argparse

        parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
        parser.add_argument("--remote_debug", action="store_true", help="wait for a VS Code debugger (debugpy) to attach")
        parser.add_argument("--remote_debug_connection_timeout", type=int, default=timeout, help="seconds to wait for the debugger; 0 waits without limit")
        parser.add_argument("--remote_debug_client_ip", type=str, help="connect to a VS Code listening at this address instead of listening")
        parser.add_argument("--remote_debug_port", type=int, default=port, help="debug port")
        parser.add_argument("--remote_debug_ranks", type=str, default=ranks, help="global ranks that wait for the debugger: all, or a list like 0,3")
        parser.add_argument("--remote_debug_host", type=str, default=host, help="address to listen on (127.0.0.1: reachable from this node only)")
        parser.add_argument("--remote_debug_subprocesses", action="store_true", help="debug the script's worker processes too (multiprocessing, DataLoader workers)")
        if wants_help:
            import atexit

            flags_help = parser.format_help().partition("\n\n")[2].partition("\n")[2]
            atexit.register(print, "\nremote debugging (added by instrument):\n" + flags_help, end="", flush=True)
        args, rest = parser.parse_known_args(argv[:cut])
        sys.argv[1:] = rest + argv[cut:]
    if not getattr(args, "remote_debug", False) or _instrument_remote_debug.__dict__.get("started"):
        return
    _instrument_remote_debug.__dict__["started"] = True
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
            print("Remote debugging: ignoring {}={!r}: not a rank".format(variable, text), file=sys.stderr, flush=True)
        return 0

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

    def tag_mlflow_run(address, port, rank):
        # Azure ML v2 jobs track with MLflow (MLFLOW_RUN_ID names the job's run):
        # the address goes on the run as tags, for the studio. Only a run that
        # exists is tagged (mlflow.set_tag would start one and take MLFLOW_RUN_ID
        # from the script), from a thread: a slow tracking server never delays it.
        run_id = os.environ.get("MLFLOW_RUN_ID", "").strip()
        fluent = sys.modules.get("mlflow")  # active runs are the script's own: only if it imported MLflow
        if fluent is not None:
            try:
                run_id = fluent.active_run().info.run_id
            except Exception:
                pass
        if not run_id:
            return
        prefix = "remote_debug." if rank == 0 else "remote_debug.rank{}.".format(rank)  # ranks share the job's run

        def send():
            try:
                from mlflow.entities import RunTag
                from mlflow.tracking import MlflowClient

                MlflowClient().log_batch(run_id, tags=[RunTag(prefix + "address", address), RunTag(prefix + "port", str(port))])
            except Exception as exc:
                if isinstance(exc, ImportError) and (exc.name or "").split(".")[0] == "mlflow":
                    return  # no MLflow in this environment
                reason = " ".join(str(exc).split()) or type(exc).__name__
                print("Remote debugging: cannot tag MLflow run {}: {}".format(run_id, reason), file=sys.stderr, flush=True)

        threading.Thread(target=send, name="remote-debug-mlflow-tags", daemon=True).start()

    local_rank = rank_from(LOCAL_RANK_VARIABLES)
    rank = rank_from(RANK_VARIABLES)
    wanted = str(getattr(args, "remote_debug_ranks", None) or "all").strip()
    if wanted.lower() != "all":
        listed = [part.strip() for part in wanted.split(",")]
        if all(part and part.strip("0123456789") == "" for part in listed):
            if rank not in {int(part) for part in listed}:
                print("Remote debugging: rank {} (local rank {}) is not in --remote_debug_ranks {}: running without a debugger".format(rank, local_rank, wanted), flush=True)
                return
        else:
            print("Remote debugging: ignoring --remote_debug_ranks {!r} (all, or ranks like 0,3): every rank waits".format(wanted), file=sys.stderr, flush=True)

    def whole_number(name, default):
        # A parser that had a flag before instrument add (a parent parser from
        # another module) may give it another type: take what reads as a number.
        value = getattr(args, name, None)
        if value is None:
            return default
        try:
            return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else int(str(value).strip())
        except (ValueError, OverflowError):
            print("Remote debugging: ignoring --{} {!r}: not a whole number".format(name, value), file=sys.stderr, flush=True)
            return default

    host = str(getattr(args, "remote_debug_host", None) or host).strip()
    chosen = timeout
    timeout = whole_number("remote_debug_connection_timeout", timeout)
    if not 0 <= timeout <= LONGEST_WAIT:
        # A negative or huge wait is a mistake on billed compute: never wait forever for it.
        chosen = LONGEST_WAIT if timeout > LONGEST_WAIT else chosen
        print("Remote debugging: --remote_debug_connection_timeout {} is not from 0 to {} seconds: waiting {}".format(timeout, LONGEST_WAIT, chosen), file=sys.stderr, flush=True)
        timeout = chosen
    client_ip = getattr(args, "remote_debug_client_ip", None)
    # One port per process: ranks on one node listen side by side, and each
    # rank reaches its own port of a VS Code that listens.
    port = whole_number("remote_debug_port", port) + (rank if client_ip else local_rank)
    print(TIMEOUT_LINE.format(seconds=timeout), flush=True)
    ip = reachable_address(host)
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
    # debugpy warns about frozen modules on Python 3.11+ at import; the
    # validation it skips only matters for the standard library's own code.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        import debugpy
    except ImportError:
        print("Remote debugging: debugpy is not installed in this environment", file=sys.stderr, flush=True)
        print(ATTACHED_LINE.format(verdict=False), flush=True)
        return
    try:
        if not 0 <= port <= 65535:
            raise ValueError("the port must be from 0 to 65535")
        # Worker processes (a DataLoader's, multiprocessing pools) would each
        # wait for a debugger of their own: debugged only when asked for.
        debugpy.configure(subProcess=bool(getattr(args, "remote_debug_subprocesses", False)))
        if client_ip:
            print("Remote debugging: connecting to VS Code at {}:{}".format(client_ip, port), flush=True)
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
            if not outcome:
                raise TimeoutError("no answer within {} seconds".format(timeout))
            if outcome[0] is not None:
                raise outcome[0]
            real_stderr.write(held.getvalue())
            print(CLIENT_RANK_LINE.format(rank=rank, local_rank=local_rank, client=client_ip, port=port), flush=True)
        else:
            port = debugpy.listen((host, port))[1]
            print(LISTENING_LINE.format(address=ip, port=port), flush=True)
            print(RANK_LINE.format(rank=rank, local_rank=local_rank, address=ip, port=port), flush=True)
            tag_mlflow_run(ip, port, rank)
            if is_loopback(ip):
                print("Remote debugging: {} is this node's loopback address: only a client on this node can attach (an SSH tunnel, the job's VS Code service)".format(ip), flush=True)
    except Exception as exc:
        where = "connect to {}:{}".format(client_ip, port) if client_ip else "listen on {}:{}".format(host, port)
        if isinstance(exc, OSError) and not client_ip:
            where += " (is the port in use?)"
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print("Remote debugging: cannot {}: {}".format(where, reason), file=sys.stderr, flush=True)
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
