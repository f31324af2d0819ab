"""Parsing a source for a codemod, and checking what a codemod wrote.

Every codemod starts the same way (take out earlier instrument blocks, so
that add is idempotent and picks up new options, then parse) and ends the
same way (refuse to hand back text that does not parse or does not strip
back to its input).
"""

from __future__ import annotations

import ast

import libcst as cst

from instrument.codemods import grammar, markers
from instrument.codemods.errors import CodemodError


def parse_module(source: str) -> cst.Module:
    """LibCST's parse, with a one-line error naming line and column."""
    if source.startswith("\ufeff"):
        # A second byte order mark (the first one the decoding took): CPython
        # refuses it, and LibCST would drop it, so no codemod could give it back.
        raise CodemodError(f"cannot parse: {_python_syntax_error(source)}")
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        # LibCST places some errors at the end of the statement, or at line 1;
        # CPython's parser names the line the user must fix, with its reason.
        reason = _python_syntax_error(source)
        if reason is None:
            first = str(exc).strip().splitlines()[0]
            reason = f"{first} (line {exc.raw_line}, column {exc.raw_column + 1})"
        raise CodemodError(f"cannot parse: {reason}") from None
    except (SyntaxError, ValueError) as exc:
        raise CodemodError(f"cannot parse: {_python_syntax_error(source) or exc}") from None


def _python_syntax_error(source: str):
    """CPython's one-line reason for rejecting ``source`` (None if it accepts it)."""
    return grammar.syntax_error_reason(source)


def parse_clean(source: str) -> tuple[str, cst.Module]:
    """(source without instrument blocks, its parse)."""
    try:
        clean = markers.remove_blocks(source)
    except markers.MarkerError as exc:
        raise CodemodError(str(exc)) from None
    return clean, parse_module(clean)


def verify(result: str, original: str) -> None:
    """Refuse text that does not strip back to ``original`` or does not parse.

    CPython's own parser checks the result when it accepts the original
    (it is many times faster); otherwise LibCST's, which knows more grammars.
    """
    if not markers.strips_back_to(result, original):
        raise CodemodError("internal error: the instrumented code does not strip back to the original")
    try:
        ast.parse(result)
        return  # the common case: one CPython parse, not two
    except (SyntaxError, ValueError) as exc:
        error = exc
    try:
        ast.parse(original)
    except (SyntaxError, ValueError):
        try:
            cst.parse_module(result)
        except cst.ParserSyntaxError as exc:
            raise CodemodError(f"internal error: the instrumented code does not parse: {exc}") from None
        return
    raise CodemodError(f"internal error: the instrumented code does not parse: {error}")
