"""Read where the debugger listens from a run's log.

The injected helper (``codemods/templates.py``) prints, per process::

    Timeout for debug connection: 300
    ip_address: 10.3.0.5
    Remote debugging: listening on 10.3.0.5:5678
    Debugger attached = False

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
from dataclasses import dataclass, replace
from typing import Callable, Optional

from codemods.templates import TemplateError, validate_port


@dataclass(frozen=True)
class Node:
    """One process waiting for a debugger, as its log lines describe it."""

    address: str
    port: Optional[int] = None  # None: the log does not say (the default applies)
    timeout: Optional[int] = None
    attached: Optional[bool] = None  # the `Debugger attached = ...` verdict, once logged


class LogError(ValueError):
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
    except (TemplateError, ValueError):
        return None


def _on_timeout(nodes: list[Node], pending: dict, match: re.Match) -> None:
    # Printed before `ip_address:`, so it belongs to the node that comes next.
    pending["timeout"] = int(match["seconds"])


def _on_address(nodes: list[Node], pending: dict, match: re.Match) -> None:
    address = _address(match["address"])
    if address is not None:
        nodes.append(Node(address, timeout=pending.pop("timeout", None)))


def _on_listening(nodes: list[Node], pending: dict, match: re.Match) -> None:
    address, port = _address(match["address"]), _port(match["port"])
    if address is None or port is None:
        return
    if nodes and nodes[-1].address == address and nodes[-1].port is None:
        nodes[-1] = replace(nodes[-1], port=port)
    else:  # a log cut before its `ip_address:` line
        nodes.append(Node(address, port=port, timeout=pending.pop("timeout", None)))


def _on_attached(nodes: list[Node], pending: dict, match: re.Match) -> None:
    if nodes:
        nodes[-1] = replace(nodes[-1], attached=match["verdict"] == "True")


LineRule = Callable[[list, dict, re.Match], None]

#: (pattern, what a matching line means), tried in order on every line.
LINE_RULES: list[tuple[re.Pattern, LineRule]] = [
    (re.compile(r"Timeout for debug connection: (?P<seconds>\d+)\s*$"), _on_timeout),
    (re.compile(r"\bip_address: (?P<address>\S+)\s*$"), _on_address),
    # The address part is greedy so that an IPv6 address keeps its colons.
    (re.compile(r"Remote debugging: listening on (?P<address>\S+):(?P<port>\d+)\s*$"), _on_listening),
    (re.compile(r"Debugger attached = (?P<verdict>True|False)\b"), _on_attached),
]


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
    unique: dict[tuple[str, Optional[int]], Node] = {}
    for node in nodes:
        # A retried run logs the same node again: first place, latest verdict.
        unique[(node.address, node.port)] = node
    if not unique:
        raise LogError("no `ip_address:` line: was the script run with --remote_debug?")
    return list(unique.values())
