"""The code that ``instrument add`` injects, readable as plain Python.

Each template is written with four-space indentation and ``$placeholders``;
:func:`render` substitutes validated literals (never raw user text) and
re-indents to the target file's own indent unit, so tabs stay tabs.

The injected code fixes the source document's recipe (see the README):
it imports debugpy and azureml only when debugging is switched on, really
applies the connection timeout (``debugpy.wait_for_client.cancel()`` from a
timer), listens on the node's interface instead of the client's address,
uses ``debugpy.connect`` for the reverse connection, and reports a busy port
in one line instead of a traceback. It keeps the log lines users search
for: ``Timeout for debug connection: N``, ``ip_address: A.B.C.D`` and
``Debugger attached = True|False``. It runs on Python 3.6 and later.

Distributed jobs start the script once per process. The helper reads the
process's rank from the launcher's environment (:data:`LOCAL_RANK_VARIABLES`,
:data:`RANK_VARIABLES`, first match wins), listens on ``port + local rank``
(unique on each node; a reverse connection goes to ``port + rank``), and logs
``Remote debugging: rank=R local_rank=L address=A.B.C.D port=P`` (``client=``
instead of ``address=`` for a reverse connection) for ``instrument launch
--from-log``. ``--remote_debug_ranks`` says which ranks wait for a debugger;
the others print one line and run on without a listener.
"""

from __future__ import annotations

import functools
from string import Template

from instrument.codemods.options import (  # noqa: F401  (re-exported: the codemods' names)
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_RANKS,
    DEFAULT_TIMEOUT,
    DebugOptions,
    TemplateError,
    validate_host,
    validate_identifier,
    validate_port,
    validate_ranks,
    validate_timeout,
)

#: Function name of the injected helper (a suffix is added on a clash).
HELPER_NAME = "_instrument_remote_debug"

#: Where each launcher puts the process's rank on its node (torchrun, Open MPI,
#: Intel MPI / MPICH) and in the whole job (torchrun, Open MPI, TensorFlow's
#: TF_CONFIG task index, Azure ML's older task index); first match wins.
LOCAL_RANK_VARIABLES = ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID")
RANK_VARIABLES = ("RANK", "OMPI_COMM_WORLD_RANK", "TF_CONFIG", "AZ_BATCHAI_TASK_INDEX")

#: The label after ``# >>> instrument:`` for each kind of block.
LABEL_HELPER = "remote debugging helper (remove with `instrument strip`)"
LABEL_FLAGS = "remote debugging flags"
LABEL_CALL = "start remote debugging"

# The four flags of the source document, as they join the script's parser.
#: The flags the injected code understands (the document's four, and ranks).
DEBUG_FLAGS = (
    "--remote_debug",
    "--remote_debug_connection_timeout",
    "--remote_debug_client_ip",
    "--remote_debug_port",
    "--remote_debug_ranks",
)

# Shared by the training helper and the scoring block (each is self-contained
# in the file it goes to, so the text is repeated there, written once here).
NODE_ADDRESS = """\
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
"""

IMPORT_DEBUGPY = """\
    try:
        import debugpy
    except ImportError:
        print("Remote debugging: debugpy is not installed in this environment", file=sys.stderr, flush=True)
        print("Debugger attached = False", flush=True)
        return
"""

WAIT_FOR_CLIENT = """\
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
    print(f"Debugger attached = {debugpy.is_client_connected()}", flush=True)
"""

FLAGS = Template(
    """\
$parser.add_argument("--remote_debug", action="store_true", help="wait for a VS Code debugger (debugpy) to attach")
$parser.add_argument("--remote_debug_connection_timeout", type=int, default=$timeout, help="seconds to wait for the debugger; 0 waits without limit")
$parser.add_argument("--remote_debug_client_ip", type=str, help="connect to a VS Code listening at this address instead of listening")
$parser.add_argument("--remote_debug_port", type=int, default=$port, help="debug port")
$parser.add_argument("--remote_debug_ranks", type=str, default=$ranks, help="global ranks that wait for the debugger: all, or a list like 0,3")
"""
)

HELPER = Template(
    '''\
def $name(args=None, run=None):
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
$flags
        args, rest = parser.parse_known_args(argv[:cut])
        sys.argv[1:] = rest + argv[cut:]
    if not getattr(args, "remote_debug", False) or getattr($name, "started", False):
        return
    $name.started = True
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

    local_rank = rank_from($local_rank_variables)
    rank = rank_from($rank_variables)
    wanted = str(getattr(args, "remote_debug_ranks", None) or "all").strip()
    if wanted.lower() != "all":
        listed = [part.strip() for part in wanted.split(",")]
        if all(part and part.strip("0123456789") == "" for part in listed):
            if rank not in {int(part) for part in listed}:
                print(f"Remote debugging: rank {rank} (local rank {local_rank}) is not in --remote_debug_ranks {wanted}: running without a debugger", flush=True)
                return
        else:
            print(f"Remote debugging: ignoring --remote_debug_ranks {wanted!r} (all, or ranks like 0,3): every rank waits", file=sys.stderr, flush=True)
    host = $host
    timeout = args.remote_debug_connection_timeout
    client_ip = args.remote_debug_client_ip
    # One port per process: ranks on one node listen side by side, and each
    # rank reaches its own port of a VS Code that listens.
    port = args.remote_debug_port + (rank if client_ip else local_rank)
    print(f"Timeout for debug connection: {timeout}", flush=True)
$node_address
    print(f"ip_address: {ip}", flush=True)
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
$import_debugpy
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
            print(f"Remote debugging: rank={rank} local_rank={local_rank} client={client_ip} port={port}", flush=True)
        else:
            debugpy.listen((host, port))
            print(f"Remote debugging: listening on {ip}:{port}", flush=True)
            print(f"Remote debugging: rank={rank} local_rank={local_rank} address={ip} port={port}", flush=True)
    except Exception as exc:
        where = f"connect to {client_ip}:{port}" if client_ip else f"listen on {host}:{port} (is the port in use?)"
        print(f"Remote debugging: cannot {where}: {exc}", file=sys.stderr, flush=True)
        print("Debugger attached = False", flush=True)
        return
$wait_for_client
'''
)

STANDALONE_CALL = Template("$name()\n")
CALL = Template("$name($arguments)\n")


def string_literal(value: str) -> str:
    """A double-quoted Python literal for ``value`` (escapes everything needed)."""
    literal = repr(value)
    if literal.startswith("'") and '"' not in value:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def _reindent(text: str, indent_unit: str) -> list[str]:
    """Template lines (4-space indents) re-indented with the file's unit."""
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        depth = (len(line) - len(stripped)) // 4
        lines.append(indent_unit * depth + stripped if stripped else "")
    return lines


def _flags(parser: str, options: DebugOptions) -> str:
    return FLAGS.substitute(
        parser=validate_identifier(parser),
        port=validate_port(options.port),
        timeout=validate_timeout(options.timeout),
        ranks=string_literal(validate_ranks(options.ranks or DEFAULT_RANKS)),
    )


def _tuple_literal(values: tuple) -> str:
    return "(" + ", ".join(string_literal(value) for value in values) + ")"


def flag_lines(parser: str, options: DebugOptions, indent_unit: str) -> list[str]:
    """The ``parser.add_argument`` lines for the script's own parser."""
    return _reindent(_flags(parser, options), indent_unit)


@functools.lru_cache(maxsize=64)  # the same for every file of one run
def _helper_lines(name: str, options: DebugOptions, indent_unit: str) -> tuple[str, ...]:
    return tuple(helper_lines_uncached(name, options, indent_unit))


def helper_lines(name: str, options: DebugOptions, indent_unit: str) -> list[str]:
    """The helper function definition, at module level."""
    return list(_helper_lines(name, options, indent_unit))


def helper_lines_uncached(name: str, options: DebugOptions, indent_unit: str) -> list[str]:
    flags = "".join("        " + line + "\n" for line in _flags("parser", options).splitlines()).rstrip("\n")
    text = HELPER.substitute(
        node_address=NODE_ADDRESS.rstrip("\n"),
        import_debugpy=IMPORT_DEBUGPY.rstrip("\n"),
        wait_for_client=WAIT_FOR_CLIENT.rstrip("\n"),
        name=validate_identifier(name),
        host=string_literal(options.host),
        flags=flags,
        local_rank_variables=_tuple_literal(LOCAL_RANK_VARIABLES),
        rank_variables=_tuple_literal(RANK_VARIABLES),
    )
    return _reindent(text, indent_unit)


def call_lines(name: str, namespace: str | None, run: str | None = None) -> list[str]:
    """The call after the arguments are parsed (namespace None: standalone)."""
    if namespace is None:
        return STANDALONE_CALL.substitute(name=validate_identifier(name)).splitlines()
    arguments = validate_identifier(namespace)
    if run is not None:
        arguments += f", run={validate_identifier(run)}"
    return CALL.substitute(name=validate_identifier(name), arguments=arguments).splitlines()


# -- scoring scripts (score.py) ------------------------------------------------------
#
# azmlinfsrv runs score.py in gunicorn workers and calls init() once per worker,
# so the listener starts inside init(). It is one block there: a nested helper
# and its call, so that no name of the user's init() is bound or shadowed (a
# name assigned in init() would turn the user's reads of a global of that name
# into reads of a local, and break a later ``global`` statement for it).

LABEL_SCORE = "wait for VS Code at service start (remove with `instrument strip`)"

#: Environment variables the injected scoring code reads at run time.
ENV_SWITCH = "INSTRUMENT_DEBUG"
ENV_PORT = "INSTRUMENT_DEBUG_PORT"
ENV_TIMEOUT = "INSTRUMENT_DEBUG_TIMEOUT"

SCORE_BLOCK = Template(
    '''\
def $name():
    """Wait for VS Code (debugpy) while the service starts, then go on.

    Added by `instrument add`, removed by `instrument strip`. Runs once per
    server worker. Environment variables change it at run time:
    $switch=0 switches it off,
    $port_variable is the port to listen on,
    $timeout_variable the seconds to wait (0: no limit).
    """
    import os
    import sys
    import threading

    if os.environ.get($switch_literal, "").strip().lower() in ("0", "false", "no", "off"):
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

    host = $host
    port = setting($port_variable_literal, $port, 1, 65535)
    timeout = setting($timeout_variable_literal, $timeout, 0, 10**9)
    print(f"Timeout for debug connection: {timeout}", flush=True)
$node_address
    print(f"ip_address: {ip}", flush=True)
$import_debugpy
    try:
        debugpy.listen((host, port))
    except Exception as exc:
        reason = " ".join(str(exc).split())
        print(f"Remote debugging: cannot listen on {host}:{port} (is the port in use?): {reason}", file=sys.stderr, flush=True)
        print("Debugger attached = False", flush=True)
        return
    print(f"Remote debugging: listening on {ip}:{port} (process {os.getpid()})", flush=True)
$wait_for_client

$name()
'''
)


def score_lines(name: str, options: DebugOptions, indent_unit: str) -> list[str]:
    """The block at the start of init(): the nested helper and its call."""
    text = SCORE_BLOCK.substitute(
        node_address=NODE_ADDRESS.rstrip("\n"),
        import_debugpy=IMPORT_DEBUGPY.rstrip("\n"),
        wait_for_client=WAIT_FOR_CLIENT.rstrip("\n"),
        name=validate_identifier(name),
        host=string_literal(options.host),
        port=validate_port(options.port),
        timeout=validate_timeout(options.timeout),
        switch=ENV_SWITCH,
        switch_literal=string_literal(ENV_SWITCH),
        port_variable=ENV_PORT,
        port_variable_literal=string_literal(ENV_PORT),
        timeout_variable=ENV_TIMEOUT,
        timeout_variable_literal=string_literal(ENV_TIMEOUT),
    )
    return _reindent(text, indent_unit)
