"""Ports for the processes a test starts to listen on.

A port the system gave a bound socket (``bind(("127.0.0.1", 0))``) is one of
its ephemeral ports: closed again for the child to take, it can be handed at
once to any other socket that asks for one (another test's debugpy adapter,
a client's connection), and with several test workers listening and
connecting at once that happens. So the ports here come from below the
system's ephemeral range, where it never picks one by itself, chosen at
random and tried on every address (the tool's listener takes 0.0.0.0).
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

#: Below the ephemeral range of Linux (32768-60999), macOS and Windows (49152-65535).
_LOW, _HIGH = 20000, 32767


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _HIGH + 1


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


def free_ports(count: int = 1) -> int:
    """A port ``base`` such that ``base`` .. ``base + count - 1`` are free now, outside the ephemeral range."""
    high = min(_HIGH, _ephemeral_start() - 1) - count
    for _ in range(200):
        base = random.randint(_LOW, high)
        if all(_free(port) for port in range(base, base + count)):
            return base
    raise RuntimeError(f"no {count} free ports in a row from {_LOW} to {high + count}")


def free_port() -> int:
    """A port free now, outside the ephemeral range."""
    return free_ports(1)
