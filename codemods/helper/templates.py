"""The code that ``instrument add`` injects, and the names the codemods use for it.

The injected code itself is real Python in :mod:`instrument.codemods.runtime`
(the training helper in ``remote_debug.py``, the scoring block in
``score_debug.py``), imported and tested like any other module. This module
renders it for one file (:mod:`instrument.codemods.runtime.render`): the
values chosen at add time go in as validated literals, and the text is
re-indented to the target file's own indent unit, so tabs stay tabs.

The helper keeps the log lines users search for (``Timeout for debug
connection: N``, ``ip_address: A.B.C.D``, ``Debugger attached = True|False``)
and adds ``Remote debugging: rank=R local_rank=L address=A.B.C.D port=P``
for ``instrument launch --from-log``; see
:mod:`instrument.codemods.runtime.log_lines`.
"""

from __future__ import annotations

import functools
from typing import Optional

from instrument.codemods.fences import markers
from instrument.codemods.core.options import (
    DEFAULT_RANKS,
    DEFAULT_TIMEOUT,
    Options,
    validate_host,
    validate_identifier,
    validate_port,
    validate_ranks,
    validate_timeout,
)
from instrument.codemods.runtime import remote_debug, render, score_debug

#: Function name of the injected helper (a suffix is added on a clash).
HELPER_NAME = "_instrument_remote_debug"

#: Where each launcher puts the process's rank (see the runtime module).
LOCAL_RANK_VARIABLES = remote_debug.LOCAL_RANK_VARIABLES
RANK_VARIABLES = remote_debug.RANK_VARIABLES

#: The label after ``# >>> instrument:`` for each kind of block.
LABEL_HELPER = markers.LABEL_HELPER
LABEL_FLAGS = markers.LABEL_FLAGS
LABEL_CALL = markers.LABEL_CALL
LABEL_SCORE = markers.LABEL_SCORE

#: The flags the injected code understands (the document's four, ranks, and
#: the run-time host and worker-process switches).
DEBUG_FLAGS = remote_debug.FLAGS

#: Environment variables the injected scoring code reads at run time.
ENV_SWITCH = score_debug.ENV_SWITCH
ENV_PORT = score_debug.ENV_PORT
ENV_TIMEOUT = score_debug.ENV_TIMEOUT

_HELPER_MODULE = remote_debug.__name__
_SCORE_MODULE = score_debug.__name__


def _chosen(options: Options, ranks: bool = True) -> dict:
    """The add-time values, validated, by the runtime modules' constant names."""
    values = {
        "HOST": validate_host(options.host),
        "PORT": validate_port(options.port),
        "TIMEOUT": validate_timeout(options.timeout if options.timeout is not None else DEFAULT_TIMEOUT),
    }
    if ranks:
        values["RANKS"] = validate_ranks(options.ranks or DEFAULT_RANKS)
    else:  # the scoring block: a reverse connection when --client-ip is given
        values["CLIENT_IP"] = validate_host(options.client_ip) if options.client_ip else ""
    return values


def flag_lines(parser: str, options: Options, indent_unit: str) -> list[str]:
    """The ``parser.add_argument`` lines for the script's own parser."""
    return list(_flag_lines(parser, options, indent_unit))


@functools.lru_cache(maxsize=64)  # the same for every file of one run (the parser is nearly always "parser")
def _flag_lines(parser: str, options: Options, indent_unit: str) -> tuple[str, ...]:
    return tuple(render.argument_lines(
        _HELPER_MODULE, HELPER_NAME, validate_identifier(parser), _chosen(options), indent_unit
    ))


@functools.lru_cache(maxsize=64)  # the same for every file of one run
def _helper_lines(name: str, options: Options, indent_unit: str) -> tuple[str, ...]:
    return tuple(helper_lines_uncached(name, options, indent_unit))


def helper_lines(name: str, options: Options, indent_unit: str) -> list[str]:
    """The helper function definition, at module level."""
    return list(_helper_lines(name, options, indent_unit))


def helper_lines_uncached(name: str, options: Options, indent_unit: str) -> list[str]:
    return render.function_lines(
        _HELPER_MODULE, HELPER_NAME, validate_identifier(name), _chosen(options), indent_unit
    )


def call_lines(name: str, namespace: Optional[str], run: Optional[str] = None) -> list[str]:
    """The call after the arguments are parsed (namespace None: standalone)."""
    arguments = ""
    if namespace is not None:
        arguments = validate_identifier(namespace)
        if run is not None:
            arguments += f", run={validate_identifier(run)}"
    return [f"{validate_identifier(name)}({arguments})"]


def score_lines(name: str, options: Options, indent_unit: str) -> list[str]:
    """The block at the start of init(): the nested helper and its call."""
    name = validate_identifier(name)
    lines = render.function_lines(_SCORE_MODULE, HELPER_NAME, name, _chosen(options, ranks=False), indent_unit)
    return lines + ["", f"{name}()"]
