"""What the fence finder needs to know of a language, and re-indenting saved lines.

A fence is a comment. In Python the tokenizer says which lines hold one; in
YAML ruamel.yaml's scanner says which lines lie inside a scalar (a block
scalar's text, a quoted string over several lines), where ``#`` is text.

A block that replaced lines keeps them behind ``#:`` with the indentation
they had. When the block has been re-indented since (black turning tabs or
two spaces into four, the code moved into a function), its first code line
shows the depth the statement has now: the saved lines are put back at that
depth, except the lines inside a multi-line string, whose text must not
change (formatters leave them alone, too).
"""

from __future__ import annotations

import io
import tokenize
from typing import Iterable, Optional, Sequence


def python_comment_lines(source: str) -> Optional[set[int]]:
    """0-based indexes of lines holding a comment token, or None if untokenizable."""
    lines: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source, newline="").readline):
            if token.type == tokenize.COMMENT:
                lines.add(token.start[0] - 1)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return lines


def string_spans(nodes: dict[type, list]) -> list[tuple[int, int]]:
    """The 1-based (first, last) lines of each string literal that spans lines, from CPython's
    tree (its nodes by class, as ``check`` collects them): implicitly joined literals and
    f-strings are one node each, and every string token lies inside one of these spans."""
    import ast

    spans = []
    for node in (*nodes.get(ast.Constant, ()), *nodes.get(ast.JoinedStr, ())):
        end = getattr(node, "end_lineno", None)
        if end is not None and end > node.lineno:
            spans.append((node.lineno, end))
    return spans


def outside(lines: Iterable[int], spans: Sequence[tuple[int, int]]) -> bool:
    """Whether no 0-based line lies inside a span (after its first line: a line that starts in
    a string token is a line the token began on earlier)."""
    return not any(first < line + 1 <= last for line in lines for first, last in spans)


def yaml_comment_lines(source: str) -> Optional[set[int]]:
    """0-based indexes of lines outside every scalar, or None if the text does not scan.

    A whole-line ``# ...`` on such a line is a comment; inside a block scalar
    or a quoted scalar over several lines it is the scalar's text.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    inside: set[int] = set()
    try:
        for token in YAML(typ="rt").scan(io.StringIO(source)):
            start, end = token.start_mark, token.end_mark
            if type(token).__name__ == "ScalarToken" and end.line > start.line:
                last = end.line if end.column > 0 else end.line - 1
                inside.update(range(start.line + 1, last + 1))
    except (YAMLError, RecursionError):
        return None
    return set(range(source.count("\n") + source.count("\r") + 1)) - inside


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t\f"))]


def _string_lines(text: str) -> set[int]:
    """0-based lines of ``text`` that begin inside a multi-line string literal."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
            if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                inside.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raise ValueError("the block was re-indented and its saved lines do not tokenize") from None
    return inside


def restored(saved: Sequence[str], code: Sequence[str], yaml: bool) -> list[str]:
    """The original lines a block kept (``saved``, behind ``#:``), at the block's depth now.

    ``code`` are the block's other non-blank lines; the first is the rewritten
    first statement, and its indentation is where the statement lives now.
    """
    if not saved or not code:
        return list(saved)
    then, now = _indent(saved[0]), _indent(code[0])
    if then == now:
        return list(saved)
    in_strings = set() if yaml else _string_lines("".join(saved))
    unit = None  # tabs turned into spaces: each leading tab becomes this
    if then and set(then) == {"\t"} and now and set(now) == {" "} and len(now) % len(then) == 0:
        unit = " " * (len(now) // len(then))
    out = []
    for index, line in enumerate(saved):
        if index in in_strings or not line.strip() or not line.startswith(then):
            out.append(line)  # string text, or a bracket continuation left of the statement
            continue
        rest = line[len(then) :]
        if unit is not None:
            deeper = _indent(rest)
            rest = deeper.replace("\t", unit) + rest[len(deeper) :]
        out.append(now + rest)
    return out
