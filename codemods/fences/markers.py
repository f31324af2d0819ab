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

A begin fence is ours only when its label is exactly one of :data:`LABELS`
(every label add writes, or wrote in earlier versions), and an end fence only
as the ``# <<< instrument`` line that closes such a begin fence: a comment
that merely looks like a fence (``# >>> instrument cluster setup``, a doctest
``# >>> instrument = ...``, a stray ``# <<< instrument``) is the user's and is
left alone with everything after it. Fences are comments: Python's tokenizer
(or, for YAML, ruamel.yaml's scanner) tells them apart from look-alikes inside
string literals and block scalars.

The saved lines keep the indentation they had. A formatter or a person may
re-indent the block afterwards (black turning two spaces or tabs into four,
the code moved into a function); strip then puts the saved lines back at the
block's current depth, which its first code line shows (see
:mod:`instrument.codemods.fences.marker_scan`).
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from instrument.codemods.fences import marker_scan
from instrument.codemods.core.errors import InstrumentError

BEGIN = "# >>> instrument"
END = "# <<< instrument"
SAVED = "#:"
#: The name every injected Python helper starts with, so that check and the
#: human reader can tell it apart from the script's own code.
NAME_PREFIX = "_instrument_"

# The labels of begin fences. The codemods read theirs from here, so that a
# label cannot be written without being recognised; labels of earlier
# versions stay so that their files still strip.
LABEL_HELPER = "remote debugging helper (remove with `instrument strip`)"
LABEL_FLAGS = "remote debugging flags"
LABEL_CALL = "start remote debugging"
LABEL_SCORE = "wait for VS Code at service start (remove with `instrument strip`)"
LABEL_STEP = "debug arguments and allow_reuse=False for this step"
LABEL_STEP_CONDA = "debugpy in this step environment"
LABEL_CONDA = "debugpy for remote debugging (remove with `instrument strip`)"
LABEL_JOB = "debug flags for this job (remove with `instrument strip`)"
LABEL_JOB_CONDA = "debugpy in this environment"
LABEL_JOB_REUSE = "no reuse while debugging"
LABEL_JOB_SERVICE = "interactive service for the debugger"
LABEL_JOB_IMPORT = "import for the interactive service"
LABEL_YAML_COMMAND = "debug flags for the entry script (remove with `instrument strip`)"
LABEL_YAML_SERVICE = "interactive service for debugging (remove with `instrument strip`)"
LABEL_YAML_REUSE = "no reuse of earlier results while debugging (remove with `instrument strip`)"
LABEL_YAML_DEPLOYMENT = "timeouts and one instance while debugging (remove with `instrument strip`)"
LABEL_DEPLOYMENT_IMPORT = "import for the deployment's debug settings"
#: Every label a begin fence may carry; a ``# >>> instrument: ...`` comment
#: with any other text is not a fence.
LABELS = frozenset(
    {
        LABEL_HELPER, LABEL_FLAGS, LABEL_CALL, LABEL_SCORE, LABEL_STEP, LABEL_STEP_CONDA, LABEL_CONDA,
        LABEL_JOB, LABEL_JOB_CONDA, LABEL_JOB_REUSE, LABEL_JOB_SERVICE, LABEL_JOB_IMPORT,
        LABEL_YAML_COMMAND, LABEL_YAML_SERVICE, LABEL_YAML_REUSE, LABEL_YAML_DEPLOYMENT, LABEL_DEPLOYMENT_IMPORT,
    }
)

#: In every fence line, begin or end.
_WORD = " instrument"
_BEGIN_RE = re.compile(r"[ \t\f]*# >>> instrument: (?P<label>.*?)[ \t]*")
_END_RE = re.compile(r"[ \t\f]*# <<< instrument[ \t]*")
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


def counted_indent(indent: str) -> str:
    """The part of an indentation that CPython counts: what follows its last form feed.

    A form feed resets the tokenizer's column, so ``"\\f    "`` is four columns
    deep; a block written deeper than such a line must add to these four, not
    repeat the form feed, which would take it back to column 0.
    """
    return indent.rpartition("\f")[2]


def block_indent(body: Sequence[str]) -> str:
    """The indent every non-blank line of a block's body starts with (its first line's), or ``""``."""
    indent = body[0][: len(body[0]) - len(body[0].lstrip(" \t\f"))]
    if all(line == "" or (line.startswith(indent) and line != indent) for line in body):
        return indent
    return ""


def is_begin(text: str) -> bool:
    """Is this line (without its line end) a begin fence with a registered label?"""
    found = _BEGIN_RE.fullmatch(text)
    return found is not None and found.group("label") in LABELS


def is_end(text: str) -> bool:
    return bool(_END_RE.fullmatch(text))


def has_markers(source: str) -> bool:
    """Cheap test: could this text hold an instrument block at all?"""
    return BEGIN in source


def find_blocks(source: str, trusted: bool = False, yaml: bool = False,
                strings: Optional[Sequence[tuple[int, int]]] = None) -> list[Block]:
    """All fenced blocks, in order. Raises MarkerError on broken fences.

    Only comments count as fences: a fence look-alike inside a Python string
    literal or a YAML scalar is content. ``trusted`` skips that test for
    text add has just written, whose verification falls back to the exact
    way if the quick way disagrees. ``strings``: the 1-based (first, last)
    lines of every string literal of the Python source that spans lines,
    from CPython's tree (:func:`marker_scan.string_spans`); a fence line
    outside all of them is a comment, and the tokenizer is needed only for
    one inside.
    """
    if not has_markers(source):
        return []
    lines = split_lines(source)
    fences = {}
    # Only lines holding the word can be fences: a substring test per line,
    # the regular expressions on those few (the helper alone is many lines).
    for index in [index for index, line in enumerate(lines) if _WORD in line]:
        text = lines[index].rstrip("\r\n")
        if is_begin(text):
            fences[index] = True
        elif is_end(text):
            fences[index] = False
    if not any(fences.values()):
        return []
    if not trusted and not (strings is not None and not yaml and marker_scan.outside(fences, strings)):
        comments = marker_scan.yaml_comment_lines(source) if yaml else marker_scan.python_comment_lines(source)
        if comments is not None:
            fences = {index: begins for index, begins in fences.items() if index in comments}
    blocks: list[Block] = []
    begin: int | None = None
    for index in sorted(fences):
        if fences[index]:
            if begin is not None:
                raise MarkerError(
                    f"line {index + 1}: instrument block opened inside the block "
                    f"opened at line {begin + 1}"
                )
            begin = index
        elif begin is not None:  # an end fence outside a block is the user's comment
            blocks.append(Block(begin, index))
            begin = None
    if begin is not None:
        raise MarkerError(f"line {begin + 1}: instrument block is never closed ('{END}' missing)")
    return blocks


def remove_blocks(source: str, yaml: bool = False) -> str:
    """The source with every fenced block removed (the inverse of insert)."""
    return remove_blocks_from(source, find_blocks(source, yaml=yaml), yaml)


def strips_back_to(result: str, original: str, yaml: bool = False, blocks: Optional[Sequence[Block]] = None) -> bool:
    """Does strip turn ``result`` (just written by add) into ``original``? (``blocks``: the
    result's blocks, when the caller found them already.)"""
    try:
        if remove_blocks_from(result, find_blocks(result, trusted=True) if blocks is None else blocks, yaml) == original:
            return True
    except MarkerError:
        pass
    return remove_blocks(result, yaml) == original


def code_start(inside: Sequence[str]) -> int:
    """Where a block's code starts, below the saved original lines that lead it.

    The saved lines (``#:``) come first, right under the begin fence (see
    :func:`render_block`): a ``#:`` comment among the code lines is a comment
    of the user's that add copied into a rewritten statement, and stays code.
    """
    for index, line in enumerate(inside):
        if line.strip() and not _SAVED_RE.match(line):
            return index
    return len(inside)


def saved_and_code(inside: Sequence[str]) -> tuple[list[str], list[str]]:
    """A block's saved original lines (``#:`` taken off) and its code lines (blank lines in neither)."""
    start = code_start(inside)
    saved = [line[found.end() :] for line in inside[:start] if (found := _SAVED_RE.match(line))]
    return saved, [line for line in inside[start:] if line.strip()]


def remove_blocks_from(source: str, blocks: Sequence[Block], yaml: bool = False) -> str:
    if not blocks:
        return source
    lines = split_lines(source)
    kept: list[str] = []
    position = 0
    for block in blocks:
        kept.extend(lines[position : block.begin])
        try:
            kept.extend(_restored(tuple(lines[block.begin + 1 : block.end]), yaml))
        except ValueError as exc:
            raise MarkerError(f"line {block.begin + 1}: {exc}") from None
        position = block.end + 1
    kept.extend(lines[position:])
    result = "".join(kept)
    last = blocks[-1]
    if last.end == len(lines) - 1 and not lines[-1].endswith(("\n", "\r")) and kept:
        # The block was appended to a file without a final newline: the
        # newline before it belongs to the block.
        result = _drop_final_newline(result)
    return result


@functools.lru_cache(maxsize=256)  # the helper block is the same in every file of a run, and long
def _restored(inside: tuple[str, ...], yaml: bool) -> tuple[str, ...]:
    """The original lines a block's inner lines give back (none for a block that only adds)."""
    saved, code = saved_and_code(inside)
    return tuple(marker_scan.restored(saved, code, yaml))


def _drop_final_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith(("\n", "\r")):
        return text[:-1]
    return text


@functools.lru_cache(maxsize=256)  # the helper's lines are the same in every file of a run
def body_lines(indent: str, body: tuple[str, ...], newline: str) -> tuple[str, ...]:
    """A block's inner lines as :func:`insert_blocks` writes them; ValueError naming a
    line that reads as a fence."""
    for line in body:
        if is_begin(indent + line) or is_end(indent + line):
            raise ValueError(line)
    return tuple(f"{indent}{line}{newline}" if line else newline for line in body)


def render_block(insertion: Insertion, newline: str, saved: Sequence[str] = ()) -> list[str]:
    """The lines of one fenced block, each ending with ``newline``."""
    try:
        body = body_lines(insertion.indent, tuple(insertion.body), newline)
    except ValueError as exc:
        # A rewritten statement holding a comment that reads as a fence:
        # strip would end (or nest) the block there and lose code.
        raise MarkerError(
            f"line {insertion.before + 1}: a comment in the lines add rewrites reads as an instrument "
            f"fence ({str(exc).strip()!r}); reword it and run add again"
        ) from None
    out = [f"{insertion.indent}{BEGIN}: {insertion.label}{newline}"]
    for line in saved:
        out.append(f"{insertion.indent}{SAVED}{line}")
        if not line.endswith(("\n", "\r")):
            out[-1] += newline
    out += body
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
