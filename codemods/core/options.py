"""What the user chose at ``add`` time: one record, every default once.

Every value here can end up in generated code or in a job's command line, so
each is validated on construction and refused with one line if it cannot be
placed there as a literal. The click layer only parses; it builds an
:class:`Options` and reports an :class:`~instrument.codemods.core.errors.InstrumentError`
as a usage error (exit 2) before any file is touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Optional

from instrument.codemods.core.errors import InstrumentError

from instrument.codemods.core.defaults import (  # noqa: F401  (this module's names, as before)
    DEFAULT_HOST, DEFAULT_PORT, DEFAULT_RANKS, DEFAULT_TIMEOUT, MAX_RANK, MAX_RANKS_TEXT, MAX_TIMEOUT,
)


_HOSTNAME_RE = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def validate_host(host: str) -> str:
    """An IP address (v4 or v6, no scope id) or an RFC 1123 host name; anything else is refused."""
    if not isinstance(host, str) or not host.isascii() or not host.isprintable():
        raise InstrumentError(f"not an IP address or host name: {host!r}")
    try:
        import ipaddress  # here: the CLI imports this module for --help

        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if getattr(address, "scope_id", None):
            raise InstrumentError(f"IPv6 scope ids are not supported: {host!r}")
        return str(address)
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if (
        0 < len(host) <= 253
        and all(_HOSTNAME_RE.fullmatch(label) for label in labels)
        # 999.999.999.999 is a malformed address, not a host name: a name's
        # last label is never all digits (RFC 1123 section 2.1, RFC 3696).
        and not labels[-1].isdigit()
    ):
        return host
    raise InstrumentError(f"not an IP address or host name: {host!r}")


def validate_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InstrumentError(f"port must be an integer from 1 to 65535, not {port!r}")
    return port


def validate_timeout(timeout: int) -> int:
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout <= MAX_TIMEOUT:
        raise InstrumentError(
            f"timeout must be a whole number of seconds from 0 to {MAX_TIMEOUT}, not {timeout!r}"
        )
    return timeout


def validate_ranks(spec: str) -> str:
    """``all`` or comma-separated global ranks (``0``, ``0,3``), normalised: ``0, 3`` -> ``0,3``."""
    if not isinstance(spec, str) or len(spec) > MAX_RANKS_TEXT:
        raise InstrumentError("ranks must be 'all' or a list like 0,3")
    if spec.strip().lower() == "all":
        return DEFAULT_RANKS
    parts = [part.strip() for part in spec.split(",")]
    if not all(part and part.isascii() and part.isdigit() and len(part) <= 7 for part in parts):
        raise InstrumentError(f"ranks must be 'all' or whole numbers >= 0 separated by commas (0,3), not {spec!r}")
    if any(int(part) > MAX_RANK for part in parts):
        raise InstrumentError(f"ranks must be at most {MAX_RANK}, not {spec!r}")
    return ",".join(dict.fromkeys(str(int(part)) for part in parts))


_HELPER_FILE_RE = re.compile(r"_instrument_debug(?:_[1-9][0-9]{0,3})?\.py")


def validate_helper_file(name: str) -> str:
    """A file name the helper module may have beside a script (``_instrument_debug.py``, ``_2``...)."""
    if not isinstance(name, str) or not _HELPER_FILE_RE.fullmatch(name):
        raise InstrumentError(f"not a helper module file name: {name!r}")
    return name


def validate_identifier(name: str) -> str:
    if not name.isidentifier():
        raise InstrumentError(f"not a Python identifier: {name!r}")
    return name


#: Interactive services a v2 job can carry (the azure-ai-ml ``type`` values).
SERVICES = ("vs_code", "ssh")
_SSH_KEY_RE = re.compile(
    r"(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    r" [A-Za-z0-9+/]{16,16384}={0,3}(?: [\x20-\x7e]{0,256})?"
)


def validate_ssh_public_key(key: str) -> str:
    """One OpenSSH public key line (type, base64, optional comment), trailing newline dropped."""
    key = key.strip() if isinstance(key, str) else key
    if not isinstance(key, str) or "\n" in key or not _SSH_KEY_RE.fullmatch(key):
        raise InstrumentError("not an OpenSSH public key line (ssh-ed25519 AAAA... comment)")
    return key


def validate_step(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise InstrumentError(f"step names must be non-empty printable strings, not {name!r}")
    return name


@dataclass(frozen=True)
class Options:
    """What the user chose at add time; validated on construction.

    ``timeout`` None means "the kind's default" (see :func:`Options.for_kind`).
    """

    port: int = DEFAULT_PORT
    timeout: Optional[int] = DEFAULT_TIMEOUT
    host: str = DEFAULT_HOST
    #: Job definitions: the VS Code address passed as --remote_debug_client_ip.
    client_ip: Optional[str] = None
    #: Job definitions: only the steps / nodes with these names (empty: all).
    steps: tuple = ()
    #: Which global ranks wait for the debugger (``all`` or ``0,3``); None: not
    #: given (training scripts default to all; job definitions pass nothing).
    ranks: Optional[str] = None
    #: Job definitions whose environment is a reference (cannot be edited
    #: here): make the command ``pip install debugpy`` before the entry runs.
    install_debugpy: bool = False
    #: v2 jobs: add an interactive service (``vs_code`` or ``ssh``) and make the
    #: script listen on the loopback interface only (``--remote_debug_host
    #: 127.0.0.1``): VS Code reaches it through Azure ML's tunnel, no VNet.
    service: Optional[str] = None
    #: ``service="ssh"``: the public key (one line, as in ``id_ed25519.pub``).
    ssh_public_key: Optional[str] = None
    #: Replace hand-written debugging (the guide's recipe, ptvsd/debugpy blocks,
    #: debug arguments in steps and commands) instead of refusing the file.
    take_over: bool = False
    #: Job commands that run several Python entries: the one the flags go on (its script or
    #: module as written, or its file name); None: the training one by name, else the last.
    entry: Optional[str] = None
    #: Entry scripts and definition files the runner found cannot be instrumented, as
    #: (path relative to the definition's folder, why): their commands get no flags.
    unavailable: tuple = ()
    #: Training and scoring scripts: the helper module's file name beside the script (the few
    #: lines in the script load it); None: the whole helper goes in the script (inline).
    helper: Optional[str] = None
    #: Which options the user gave explicitly (names of the fields above), so
    #: that an option that does not apply to a file's kind is reported.
    given: frozenset = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        validate_port(self.port)
        if self.timeout is not None:
            validate_timeout(self.timeout)
        object.__setattr__(self, "host", validate_host(self.host))
        if self.client_ip is not None:
            object.__setattr__(self, "client_ip", validate_host(self.client_ip))
        if isinstance(self.steps, str):
            raise InstrumentError(f"step names must be a sequence of names, not {self.steps!r}")
        object.__setattr__(self, "steps", tuple(validate_step(s) for s in self.steps))
        if self.ranks is not None:
            object.__setattr__(self, "ranks", validate_ranks(self.ranks))
        if self.entry is not None and (not isinstance(self.entry, str) or not self.entry.strip()
                                       or not self.entry.isprintable()):
            raise InstrumentError(f"--entry takes a script or module name, not {self.entry!r}")
        if self.helper is not None:
            validate_helper_file(self.helper)
        if self.service is not None and self.service not in SERVICES:
            raise InstrumentError(f"service must be one of {', '.join(SERVICES)}, not {self.service!r}")
        if self.ssh_public_key is not None:
            object.__setattr__(self, "ssh_public_key", validate_ssh_public_key(self.ssh_public_key))
        if self.service == "ssh" and self.ssh_public_key is None:
            raise InstrumentError("--service ssh needs --ssh-public-key (the .pub file of the key you connect with)")

    def for_kind(self, default_timeout: int) -> "Options":
        """These options with the kind's default timeout where none was given.

        Asked once per file; built (and validated) once per kind and record.
        """
        if self.timeout is not None:
            return self
        made = self.__dict__.setdefault("_for_kind", {})
        if default_timeout not in made:
            made[default_timeout] = replace(self, timeout=default_timeout)
        return made[default_timeout]


#: The command-line flag of each option (for messages: "--step does not apply").
FLAGS = {
    "port": "--port", "timeout": "--timeout", "host": "--host", "client_ip": "--client-ip", "steps": "--step",
    "ranks": "--ranks", "install_debugpy": "--install-debugpy", "service": "--service",
    "ssh_public_key": "--ssh-public-key", "take_over": "--take-over", "entry": "--entry",
}
