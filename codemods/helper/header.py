"""The header of the helper module ``add`` writes beside scripts: whose it is, and whether it was edited.

Kept apart from :mod:`instrument.codemods.helper.module` (which renders the
module) so that ``check`` can tell the helper from the user's code without
importing the renderer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from instrument.codemods import __version__

FIRST_LINE = "# Remote debugging helper, written by `instrument add`"
_HASH_RE = re.compile(r"# instrument-helper sha256=([0-9a-f]{64})\r?\n")


def _digest(body: str) -> str:
    # Line endings as git may have turned them (core.autocrlf) are not an edit.
    import hashlib  # here: a file that starts with the header is rare, OpenSSL's load is not free

    return hashlib.sha256(body.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def header(body: str) -> str:
    return (
        f"{FIRST_LINE} {__version__}: `instrument strip` deletes it\n"
        "# once no script beside it loads it, and only while it is unedited (the hash below).\n"
        f"# instrument-helper sha256={_digest(body)}\n"
    )


@dataclass(frozen=True)
class Found:
    """What a file that may be the helper is."""

    ours: bool  # written by add (its header is the helper's)
    edited: bool = False  # ours, but its text no longer matches its hash
    current: bool = False  # exactly what this version writes (helper_module.examine says)


def examine(text: str) -> Found:
    """Is ``text`` a helper written by ``add``, edited since, or this version's?"""
    if not text.startswith(FIRST_LINE):
        return Found(ours=False)
    lines = text.split("\n", 3)
    match = _HASH_RE.fullmatch(lines[2] + "\n") if len(lines) == 4 else None
    if match is None:
        return Found(ours=True, edited=True)
    body = lines[3]
    if _digest(body) != match.group(1):
        return Found(ours=True, edited=True)
    return Found(ours=True)


