"""The one marker convention that ``add``, ``strip`` and ``check`` share.

Everything ``instrument add`` puts into a Python file is a run of whole lines
fenced by two comment lines::

    # >>> instrument: <what this block is>
    ...inserted lines...
    # <<< instrument

``strip`` deletes every fenced run, fences included, and nothing else, so
``strip(add(x)) == x`` holds byte for byte whatever else the user changed.
Inserting whole lines (never editing an existing one) is what makes that
possible; the insertion helpers below are the only way add writes text.

Where add has to change existing lines (a call that gets new arguments), the
block *replaces* them and keeps each original line behind ``#:``, at the
block's indentation; strip puts those lines back::

    # >>> instrument: debug arguments for this step
    #:step = PythonScriptStep(script_name="train.py", allow_reuse=True)
    step = PythonScriptStep(script_name="train.py", allow_reuse=False, ...)
    # <<< instrument

A file that had no final newline keeps none: when a block is appended after
such a last line, the newline that separates them is part of the block, and
strip removes it with the block.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Sequence

from instrument.codemods.errors import InstrumentError

BEGIN = "# >>> instrument"
END = "# <<< instrument"
SAVED = "#:"
#: The name every injected Python helper starts with, so that check and the
#: human reader can tell it apart from the script's own code.
NAME_PREFIX = "_instrument_"

_BEGIN_RE = re.compile(r"^[ \t\f]*# >>> instrument\b")
_END_RE = re.compile(r"^[ \t\f]*# <<< instrument[ \t]*$")
_SAVED_RE = re.compile(r"^[ \t\f]*#:")


class MarkerError(InstrumentError):
    """The markers in a file are broken (an unterminated or nested block)."""


@dataclass(frozen=True)
class Block:
    """A fenced block: 0-based line indexes of its two fence lines."""

    begin: int
    end: int


@dataclass(frozen=True)
class Insertion:
    """Lines to insert before line ``before`` (0-based; len(lines) = at end).

    With ``replaces`` > 0 the block takes the place of that many original
    lines, which it keeps (behind ``#:``) for strip to restore.
    """

    before: int
    indent: str
    label: str
    body: Sequence[str]
    replaces: int = 0


def split_lines(source: str) -> list[str]:
    """Lines with their own line endings; ''.join() gives the source back."""
    # Not str.splitlines: form feeds and U+2028 inside a line are not line ends.
    return io.StringIO(source, newline="").readlines()


def _comment_lines(source: str) -> set[int] | None:
    """0-based indexes of lines holding a comment token, or None if untokenizable."""
    lines: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source, newline="").readline):
            if token.type == tokenize.COMMENT:
                lines.add(token.start[0] - 1)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return lines


def has_markers(source: str) -> bool:
    """Cheap test: could this text hold an instrument block at all?"""
    return BEGIN in source or END in source


def find_blocks(source: str, trusted: bool = False) -> list[Block]:
    """All fenced blocks, in order. Raises MarkerError on broken fences.

    Fence look-alikes inside string literals are told apart by tokenizing;
    ``trusted`` skips that for text add has just written, whose verification
    falls back to the exact way if the quick way disagrees.
    """
    if not has_markers(source):
        return []
    lines = split_lines(source)
    comments = None if trusted else _comment_lines(source)
    blocks: list[Block] = []
    begin: int | None = None
    for index, line in enumerate(lines):
        if comments is not None and index not in comments:
            continue  # a fence look-alike inside a string literal
        text = line.rstrip("\r\n")
        if _BEGIN_RE.match(text):
            if begin is not None:
                raise MarkerError(
                    f"line {index + 1}: instrument block opened inside the block "
                    f"opened at line {begin + 1}"
                )
            begin = index
        elif _END_RE.match(text):
            if begin is None:
                raise MarkerError(f"line {index + 1}: '{END}' without a matching '{BEGIN}'")
            blocks.append(Block(begin, index))
            begin = None
    if begin is not None:
        raise MarkerError(f"line {begin + 1}: instrument block is never closed ('{END}' missing)")
    return blocks


def remove_blocks(source: str) -> str:
    """The source with every fenced block removed (the inverse of insert)."""
    return remove_blocks_from(source, find_blocks(source))


def strips_back_to(result: str, original: str) -> bool:
    """Does strip turn ``result`` (just written by add) into ``original``?"""
    try:
        if remove_blocks_from(result, find_blocks(result, trusted=True)) == original:
            return True
    except MarkerError:
        pass
    return remove_blocks(result) == original


def remove_blocks_from(source: str, blocks: Sequence[Block]) -> str:
    if not blocks:
        return source
    lines = split_lines(source)
    kept: list[str] = []
    position = 0
    for block in blocks:
        kept.extend(lines[position : block.begin])
        for line in lines[block.begin + 1 : block.end]:
            saved = _SAVED_RE.match(line)
            if saved:
                kept.append(line[saved.end() :])
        position = block.end + 1
    kept.extend(lines[position:])
    result = "".join(kept)
    last = blocks[-1]
    if last.end == len(lines) - 1 and not lines[-1].endswith(("\n", "\r")) and kept:
        # The block was appended to a file without a final newline: the
        # newline before it belongs to the block.
        result = _drop_final_newline(result)
    return result


def _drop_final_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith(("\n", "\r")):
        return text[:-1]
    return text


def render_block(insertion: Insertion, newline: str, saved: Sequence[str] = ()) -> list[str]:
    """The lines of one fenced block, each ending with ``newline``."""
    out = [f"{insertion.indent}{BEGIN}: {insertion.label}{newline}"]
    for line in saved:
        out.append(f"{insertion.indent}{SAVED}{line}")
        if not line.endswith(("\n", "\r")):
            out[-1] += newline
    for line in insertion.body:
        out.append(f"{insertion.indent}{line}{newline}" if line else newline)
    out.append(f"{insertion.indent}{END}{newline}")
    return out


def insert_blocks(source: str, insertions: Sequence[Insertion], newline: str) -> str:
    """Insert fenced blocks of whole lines; the only way add writes text.

    Blocks at the same place keep their order. A replacing block may not
    overlap another replacing block or have an insertion inside its run.
    """
    lines = split_lines(source)
    by_position: dict[int, list[Insertion]] = {}
    for insertion in insertions:
        if not 0 <= insertion.before <= len(lines) - insertion.replaces:
            raise ValueError(f"insertion point {insertion.before} outside the file")
        by_position.setdefault(insertion.before, []).append(insertion)
    ends_open = bool(lines) and not lines[-1].endswith(("\n", "\r"))
    out: list[str] = []
    index = 0
    for position in sorted(by_position):
        if position < index:
            raise ValueError(f"insertion at line {position + 1} falls inside a replaced run")
        out.extend(lines[index:position])
        index = position
        group = by_position[position]
        if sum(1 for insertion in group if insertion.replaces) > 1:
            raise ValueError(f"two blocks replace line {position + 1}")
        for insertion in group:
            saved = lines[position : position + insertion.replaces]
            block = render_block(insertion, newline, saved)
            if ends_open and position + len(saved) == len(lines):
                if not saved and out:  # appending after a last line without newline
                    out[-1] += newline
                block[-1] = _drop_final_newline(block[-1])
            out.extend(block)
            index = max(index, position + len(saved))
    out.extend(lines[index:])
    return "".join(out)
