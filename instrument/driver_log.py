"""Read where the debugger listens from a run's log.

The injected helper (``codemods/runtime/remote_debug.py``) prints, per process
(the templates are in ``codemods/runtime/log_lines.py``)::

    Timeout for debug connection: 300
    ip_address: 10.3.0.5
    Remote debugging: listening on 10.3.0.5:5678
    Remote debugging: rank=1 local_rank=1 address=10.3.0.5 port=5679
    Debugger attached = False

(the rank line since distributed jobs: one per process, self-contained, so
logs where several processes' lines interleave still say who is where).

Azure ML collects that into ``70_driver_log.txt`` (older runtimes) or
``std_log.txt``, often with other output around it and sometimes with a
prefix before each line, so patterns are searched, not anchored at the start.

Each kind of line is one :data:`LINE_RULES` entry: a pattern and a function
that applies a match to the list of nodes read so far. A new log line (a
per-rank line for distributed jobs, say) is one more entry.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, fields, replace
from typing import Callable, Optional

from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.runtime import log_lines
from instrument.codemods.core.options import validate_port


@dataclass(frozen=True)
class Node:
    """One process waiting for a debugger, as its log lines describe it."""

    address: str
    port: Optional[int] = None  # None: the log does not say (the default applies)
    timeout: Optional[int] = None
    attached: Optional[bool] = None  # the `Debugger attached = ...` verdict, once logged
    rank: Optional[int] = None  # global rank in a distributed job (None: the log predates rank lines)
    local_rank: Optional[int] = None


class LogError(InstrumentError):
    """A log that names no address; str() is the reason."""


def _address(text: str) -> Optional[str]:
    # The helper logs an IP address; anything else (`ip_address: None` from
    # other code, say) is not where a debugger waits.
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


def _port(text: str) -> Optional[int]:
    try:
        return validate_port(int(text))
    except (InstrumentError, ValueError):
        return None


def _on_timeout(nodes: list[Node], pending: dict, match: re.Match) -> None:
    # Printed before `ip_address:`, so it belongs to the node that comes next
    # (queued: processes writing to one log print theirs one after the other).
    pending.setdefault("timeouts", []).append(int(match["seconds"]))


def _next_timeout(pending: dict) -> Optional[int]:
    timeouts = pending.get("timeouts")
    return timeouts.pop(0) if timeouts else None


def _on_address(nodes: list[Node], pending: dict, match: re.Match) -> None:
    address = _address(match["address"])
    if address is not None:
        nodes.append(Node(address, timeout=_next_timeout(pending)))


def _latest(nodes: list[Node], address: str, port: int, rank: Optional[int] = None) -> Optional[int]:
    """Index of the latest node at ``address`` this port (and rank) can belong to."""
    for index in range(len(nodes) - 1, -1, -1):
        node = nodes[index]
        if node.address == address and node.port in (None, port) and node.rank in (None, rank):
            return index
    return None


def _on_listening(nodes: list[Node], pending: dict, match: re.Match) -> None:
    address, port = _address(match["address"]), _port(match["port"])
    if address is None or port is None:
        return
    index = _latest(nodes, address, port)
    if index is not None:
        nodes[index] = replace(nodes[index], port=port)
    else:  # a log cut before its `ip_address:` line
        nodes.append(Node(address, port=port, timeout=_next_timeout(pending)))


def _on_rank(nodes: list[Node], pending: dict, match: re.Match) -> None:
    address, port = _address(match["address"]), _port(match["port"])
    if address is None or port is None:
        return
    rank, local_rank = int(match["rank"]), int(match["local_rank"])
    index = _latest(nodes, address, port, rank)
    if index is not None:
        nodes[index] = replace(nodes[index], port=port, rank=rank, local_rank=local_rank)
    else:
        nodes.append(Node(address, port, _next_timeout(pending), rank=rank, local_rank=local_rank))


def _on_attached(nodes: list[Node], pending: dict, match: re.Match) -> None:
    if nodes:
        nodes[-1] = replace(nodes[-1], attached=match["verdict"] == "True")


LineRule = Callable[[list, dict, re.Match], None]

#: (pattern, what a matching line means), tried in order on every line. The
#: patterns come from the templates the injected code prints with.
LINE_RULES: list[tuple[re.Pattern, LineRule]] = [
    (log_lines.pattern(log_lines.TIMEOUT_LINE), _on_timeout),
    (log_lines.pattern(log_lines.ADDRESS_LINE, start=r"\b"), _on_address),
    (log_lines.pattern(log_lines.LISTENING_LINE), _on_listening),
    (log_lines.pattern(log_lines.RANK_LINE), _on_rank),
    (log_lines.pattern(log_lines.ATTACHED_LINE, end=r"\b"), _on_attached),
]


def _merged(earlier: Optional[Node], later: Node) -> Node:
    """``later``, with what only ``earlier`` says filled in (but not its verdict: a retry is waiting again)."""
    if earlier is None:
        return later
    return Node(**{f.name: getattr(earlier, f.name) if getattr(later, f.name) is None and f.name != "attached"
                   else getattr(later, f.name) for f in fields(Node)})


def unique_nodes(nodes: list[Node]) -> list[Node]:
    """One node per rank (or, without rank lines, per address and port): first place, latest news.

    A retried run, or two logs of one process (``70_driver_log_0.txt`` and
    ``std_log_process_0.txt``), name the same process again.
    """
    unique: dict[tuple, Node] = {}
    for node in nodes:
        key = ("rank", node.rank) if node.rank is not None else (node.address, node.port)
        unique[key] = _merged(unique.get(key), node)
    return list(unique.values())


def read_nodes(text: str) -> list[Node]:
    """Every node the log describes, in order; the same node logged twice is kept once."""
    nodes: list[Node] = []
    pending: dict = {}
    for line in text.splitlines():
        for pattern, apply in LINE_RULES:
            match = pattern.search(line)
            if match:
                apply(nodes, pending, match)
                break
    if not nodes:
        raise LogError("no `ip_address:` line: was the script run with --remote_debug?")
    return unique_nodes(nodes)
