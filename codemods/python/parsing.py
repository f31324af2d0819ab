"""Parsing a source for a codemod, and checking what a codemod wrote.

Every codemod starts the same way (take out earlier instrument blocks, so
that add is idempotent and picks up new options, then parse) and ends the
same way (refuse to hand back text that does not parse or does not strip
back to its input).
"""

from __future__ import annotations

import ast
import functools
from collections import Counter
from typing import Optional, Sequence

import libcst as cst

from instrument.codemods.fences import markers
from instrument.codemods.python import grammar, native_parse
from instrument.codemods.core.errors import InstrumentError


def parse_module(source: str) -> cst.Module:
    """LibCST's parse, with a one-line error naming line and column."""
    if source.startswith("\ufeff"):
        # A second byte order mark (the first one the decoding took): CPython
        # refuses it, and LibCST would drop it, so no codemod could give it back.
        raise InstrumentError(f"cannot parse: {_python_syntax_error(source)}")
    try:
        return native_parse.parse_module(source)
    except cst.ParserSyntaxError as exc:
        # LibCST places some errors at the end of the statement, or at line 1;
        # CPython's parser names the line the user must fix, with its reason.
        reason = _python_syntax_error(source)
        if reason is None:
            first = str(exc).strip().splitlines()[0]
            reason = f"{first} (line {exc.raw_line}, column {exc.raw_column + 1})"
        raise InstrumentError(f"cannot parse: {reason}") from None
    except InstrumentError:
        raise  # not enough memory (native_parse): not a fault of the file
    except (SyntaxError, ValueError) as exc:
        raise InstrumentError(f"cannot parse: {_python_syntax_error(source) or exc}") from None


def _python_syntax_error(source: str):
    """CPython's one-line reason for rejecting ``source`` (None if it accepts it)."""
    return grammar.syntax_error_reason(source)


def parse_clean(source: str) -> tuple[str, cst.Module]:
    """(source without instrument blocks, its parse)."""
    try:
        clean = markers.remove_blocks(source)
    except markers.MarkerError as exc:
        raise InstrumentError(str(exc)) from None
    return clean, parse_module(clean)


def verify(result: str, original: str) -> None:
    """Refuse text that does not strip back to ``original`` or does not parse.

    CPython's own parser checks the result when it accepts the original
    (it is many times faster); otherwise LibCST's, which knows more grammars.
    """
    if not markers.strips_back_to(result, original):
        raise InstrumentError("internal error: the instrumented code does not strip back to the original")
    try:
        ast.parse(result)
        return  # the common case: one CPython parse, not two
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        error = exc
    try:
        ast.parse(original)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        if beyond_cpython_limits(exc):
            # No Python runs this file, whatever its version: refused as CPython refuses it.
            raise InstrumentError(f"cannot parse: {_python_syntax_error(original) or type(exc).__name__}") from None
        try:
            native_parse.parse_module(result)
        except cst.ParserSyntaxError as exc:
            raise InstrumentError(f"internal error: the instrumented code does not parse: {exc}") from None
        return
    if beyond_cpython_limits(error):
        reason = getattr(error, "msg", None) or str(error) or type(error).__name__
        raise InstrumentError(f"cannot instrument: Python would refuse the file with the added lines ({reason})")
    raise InstrumentError(f"internal error: the instrumented code does not parse: {error}")


#: CPython's refusals that no version of Python lifts, unlike a grammar newer
#: than the running Python's (which LibCST reads): nesting limits, NUL bytes.
_LIMITS = ("too many levels of indentation", "too many nested parentheses", "too many statically nested blocks",
           "too complex", "cannot contain null bytes")


def beyond_cpython_limits(error: BaseException) -> bool:
    """Whether ``error`` (from ``ast.parse``) is one of CPython's limits rather than grammar it does not know."""
    if isinstance(error, (RecursionError, MemoryError)):
        return True
    message = getattr(error, "msg", None) or str(error)
    return any(limit in message for limit in _LIMITS)


def verify_with_stand_ins(result: str, original: str, insertions: Sequence[markers.Insertion], newline: str) -> None:
    """:func:`verify`, with ``pass`` standing in for the inserted blocks first (:func:`with_stand_ins`).

    A stand-in text that strips back and parses proves the result does; one
    that does not proves nothing, and the result itself is checked, with the
    exact message.
    """
    checked = with_stand_ins(result, insertions, newline)
    if checked != result and markers.strips_back_to(checked, original):
        try:
            ast.parse(checked)
            return
        except (SyntaxError, ValueError):
            pass
    verify(result, original)


def with_stand_ins(result: str, insertions: Sequence[markers.Insertion], newline: str) -> str:
    """``result`` with ``pass`` in place of the lines of each block add inserted, where that is sound.

    The injected blocks are the same text in every file of a run, and several
    times longer than a small script: each distinct one is checked once on
    its own (:func:`_stand_in`), and the file is then parsed with one
    ``pass`` at the block's indentation in its place. A run of complete
    statements at one indentation stands for any other such run: if the file
    parses with the stand-in, it parses with the block. (Not the other way
    round: a block misplaced above deeper lines may end in a compound
    statement that takes them in; the caller parses the result itself when
    the stand-in fails.) Strip
    drops a block whatever its lines are, so the strip check holds for the
    one exactly when it holds for the other. A block is stood in for only
    when its text occurs in ``result`` just as often as add inserted it.
    """
    counts = Counter((insertion.indent, tuple(insertion.body)) for insertion in insertions if not insertion.replaces)
    checked = result
    for (indent, body), count in counts.items():
        text = _stand_in(indent, body, newline)
        if text is None:
            continue
        found = _occurrences(checked, text, count + 1)
        if len(found) == count:  # str.replace searches twice: this once, on a text as long as the file
            pieces, start = [], 0
            for index in found:
                pieces += [checked[start:index], f"{indent}pass{newline}"]
                start = index + len(text)
            checked = "".join(pieces) + checked[start:]
    return checked


def _occurrences(text: str, part: str, most: int) -> list[int]:
    """Where ``part`` starts in ``text`` (not overlapping), the first ``most`` of them."""
    found: list[int] = []
    start = text.find(part)
    while start >= 0 and len(found) < most:
        found.append(start)
        start = text.find(part, start + len(part))
    return found


#: CPython refuses a 100th level of indentation. Each level takes at least one
#: character, so a block whose indentation and own nesting take fewer
#: characters than this cannot reach it, wherever it is put.
_SAFE_DEPTH = 99


@functools.lru_cache(maxsize=64)  # the same blocks in every file of a run
def _stand_in(indent: str, body: tuple[str, ...], newline: str) -> Optional[str]:
    """A block's lines as inserted, if ``pass`` at ``indent`` may stand in for them.

    They must be complete statements at exactly ``indent`` (parsed here, at
    that indentation, with its own tabs and spaces), and hold no line that
    strip reads as a fence or as a saved original line.
    """
    code = [line for line in body if line.strip()]
    if not code or code[0][:1].isspace():
        return None
    if len(indent) + max(len(line) - len(line.lstrip()) for line in code) >= _SAFE_DEPTH:
        return None  # the block's own nesting may cross CPython's limit where it goes: parse the result
    if any(line.lstrip().startswith(markers.SAVED) for line in code):
        return None
    try:
        text = "".join(markers.body_lines(indent, body, newline))  # as inserted; a fence line raises
    except ValueError:
        return None
    try:
        ast.parse(f"if 1:{newline}{text}" if indent else text)
    except (SyntaxError, ValueError):
        return None
    return text


def rewritten_lines(result: str, trusted: bool = False, blocks: Optional[list] = None) -> list[str]:
    """The lines Python runs, less fences, saved originals and purely added blocks.

    ``trusted``: every fence in ``result`` is one add wrote (the original had
    none), so none needs telling apart from a look-alike in a string.
    ``blocks``: the result's blocks, when the caller found them already.
    """
    lines = markers.split_lines(result)
    dropped: set[int] = set()
    for block in markers.find_blocks(result, trusted=trusted) if blocks is None else blocks:
        inside = range(block.begin + 1, block.end)
        saved, _ = markers.saved_and_code([lines[i] for i in inside])
        start = markers.code_start([lines[i] for i in inside])
        dropped |= {block.begin, block.end} | (set(inside[:start]) if saved else set(inside))
    return [line.rstrip("\r\n") for i, line in enumerate(lines) if i not in dropped]


def verify_rewritten(result: str, original: str, expected: str) -> None:
    """Refuse to hand back text that does not parse, run the rewritten calls or strip back."""
    rewritten = rewritten_lines(result, trusted=markers.END not in original and not markers.has_markers(original))
    if rewritten != [line.rstrip("\r\n") for line in markers.split_lines(expected)]:
        raise InstrumentError("internal error: instrumented code differs from the rewritten calls")  # pragma: no cover
    verify(result, original)
