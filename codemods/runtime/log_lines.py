"""The lines the injected code prints, and the patterns that read them back.

Users search their run logs for the first three (the source document's),
and ``instrument launch --from-log`` (:mod:`instrument.driver_log`) reads
them all to find where each process waits. Both sides use the templates
below: the runtime modules print ``TEMPLATE.format(...)`` (the renderer
puts the template in as a literal), the log reader compiles
:func:`pattern` of the same template. One place, so they cannot drift.
"""

from __future__ import annotations

import re
import string

TIMEOUT_LINE = "Timeout for debug connection: {seconds}"
ADDRESS_LINE = "ip_address: {address}"
LISTENING_LINE = "Remote debugging: listening on {address}:{port}"
RANK_LINE = "Remote debugging: rank={rank} local_rank={local_rank} address={address} port={port}"
CLIENT_RANK_LINE = "Remote debugging: rank={rank} local_rank={local_rank} client={client} port={port}"
ATTACHED_LINE = "Debugger attached = {verdict}"

#: What each field of a template matches when the line is read back. An
#: address is greedy so that an IPv6 address keeps its colons.
FIELDS = {
    "seconds": r"\d+",
    "address": r"\S+",
    "client": r"\S+",
    "port": r"\d+",
    "rank": r"\d+",
    "local_rank": r"\d+",
    "verdict": r"True|False",
}


def pattern(template: str, start: str = "", end: str = r"\s*$") -> re.Pattern:
    """A regular expression for lines printed from ``template`` (searched, not anchored at the start).

    Logs often carry other output around these lines, and sometimes a prefix
    before each line; ``start`` and ``end`` say how the line must be bounded.
    """
    parts = [start]
    for text, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(text))
        if field is not None:
            parts.append(f"(?P<{field}>{FIELDS[field]})")
    parts.append(end)
    return re.compile("".join(parts))
