"""Editing a shell command written as a Python string expression, in place.

A v2 job's ``command=`` is written as a literal, a ``+`` or implicit
concatenation, a triple-quoted string or an f-string (often a mix:
``"python infer.py " f"--model {name} " "--out ${{outputs.o}}"``). The
command is rendered from the syntax tree, piece by piece: each literal piece
with its escapes (and an f-string's doubled braces) resolved, each expression
(``{name}``, a variable operand of ``+``) as one opaque word. The shell
scanner of :mod:`instrument.codemods.shell.commands` says at which offset of the
rendered command the flags go; that offset is mapped back to a place in the
source of one piece, between two escape sequences, where the text is inserted
as written (it holds no quote, backslash, brace or newline, so it means the
same in every kind of literal). The rest of each literal keeps its spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import libcst as cst

#: What an expression inside the command renders as while scanning: one word.
OPAQUE = "_"
_UNSAFE = re.compile(r"[\\'\"{}\r\n]")
_ESCAPE = re.compile(r"\\(?:\r\n|\r|\n|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|N\{[^}]*\}|[0-7]{1,3}|['\"\\abfnrtv])")

Host = Union[cst.SimpleString, cst.FormattedString, cst.BaseExpression]


@dataclass(frozen=True)
class Piece:
    """One piece of the rendered command.

    ``node`` is a ``SimpleString``, a ``FormattedStringText`` or
    ``FormattedStringExpression`` (then ``host`` is its f-string), or an
    opaque operand of ``+``.
    """

    text: str
    node: cst.CSTNode
    literal: bool
    host: Optional[cst.FormattedString] = None


def pieces(expression: cst.BaseExpression) -> Optional[list[Piece]]:
    """The pieces of a string expression, or None when it is not one we can edit."""
    found = _pieces(expression, top=True)
    if found is None or not any(piece.literal for piece in found):
        return None
    return found


def _pieces(node: cst.BaseExpression, top: bool = False) -> Optional[list[Piece]]:
    if isinstance(node, cst.SimpleString):
        if "b" in node.prefix.lower():
            return None
        value = node.evaluated_value
        assert isinstance(value, str), "not a bytes literal (its prefix says)"
        return [Piece(value, node, True)]
    if isinstance(node, cst.ConcatenatedString):
        left, right = _pieces(node.left), _pieces(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        raw = "r" in node.prefix.lower()
        found = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                found.append(Piece(_render(part.value, raw, fstring=True), part, True, node))
            else:
                found.append(Piece(OPAQUE, part, False, node))
        return found
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left, right = _pieces(node.left), _pieces(node.right)
        if left is None or right is None:
            return None
        return left + right
    if top:
        return None
    return [Piece(OPAQUE, node, False)]


def rendered(found: Sequence[Piece]) -> str:
    return "".join(piece.text for piece in found)


def _tokens(body: str, raw: bool, fstring: bool) -> list[tuple[int, int]]:
    """(source length, rendered length) of each unit of a literal's body."""
    units = []
    i = 0
    while i < len(body):
        if fstring and body.startswith(("{{", "}}"), i):
            units.append((2, 1))
            i += 2
            continue
        if not raw and body[i] == "\\":
            match = _ESCAPE.match(body, i)
            if match:
                continuation = match.group(0)[1:] in ("\n", "\r", "\r\n")
                units.append((match.end() - i, 0 if continuation else 1))
                i = match.end()
                continue
        units.append((1, 1))
        i += 1
    return units


def _render(body: str, raw: bool, fstring: bool) -> str:
    if fstring:
        body = body.replace("{{", "{").replace("}}", "}")
    if raw:
        return body
    return _ESCAPE.sub(lambda m: _unescape(m.group(0)), body)


def _unescape(escape: str) -> str:
    if escape[1:] in ("\n", "\r", "\r\n"):
        return ""
    import ast

    return ast.literal_eval(f'"{escape}"')


def _source_offset(body: str, raw: bool, fstring: bool, offset: int) -> int:
    """Where rendered offset ``offset`` is in the literal's body (a unit boundary)."""
    if "\\" not in body and not (fstring and ("{{" in body or "}}" in body)):
        return min(offset, len(body))  # every character stands for itself
    source = rendered_position = 0
    for length, width in _tokens(body, raw, fstring):
        if rendered_position >= offset:
            break
        source += length
        rendered_position += width
    return source


@dataclass(frozen=True)
class Edit:
    """Put ``text`` at rendered offset ``offset``; ``after`` the character before it (a word's end).

    With ``remove`` > 0 the text replaces that many rendered characters (hand-written flags
    taken over), which must all be in one literal piece or be one whole f-string expression.
    """

    offset: int
    text: str
    after: bool
    remove: int = 0


def replacements(found: Sequence[Piece], edits: Sequence[Edit], quote: Union[str, Callable[[], str]]) -> dict:
    """original node -> new node, for the pieces the edits change.

    ``quote`` (or a function giving it, asked only then) is for the literals
    put around an expression operand of ``+``."""
    for edit in edits:
        if _UNSAFE.search(edit.text):
            raise ValueError(f"unsafe text for a string literal: {edit.text!r}")
    starts, position = [], 0
    for piece in found:
        starts.append(position)
        position += len(piece.text)
    placed: dict[int, list[tuple[int, int, str]]] = {}  # piece index -> (local start, local end, text)
    for edit in edits:
        index = _piece_at(found, starts, edit)
        local = edit.offset - starts[index]
        piece = found[index]
        whole_expression = piece.host is not None and not piece.literal and (local, edit.remove) == (0, len(piece.text))
        if edit.remove and not (piece.literal and local + edit.remove <= len(piece.text) or whole_expression):
            raise ValueError("text to remove is not inside one string literal or f-string")
        placed.setdefault(index, []).append((local, local + edit.remove, edit.text))
    by_host: dict = {}
    for index, inserts in placed.items():
        piece = found[index]
        node = piece.node
        if piece.host is not None:
            by_host.setdefault(piece.host, []).append((index, inserts))
        elif piece.literal:
            assert isinstance(node, cst.SimpleString), "a literal outside an f-string is a SimpleString"
            by_host[node] = _simple(node, inserts)
        else:
            assert isinstance(node, cst.BaseExpression), "an opaque piece outside an f-string is an operand of +"
            by_host[node] = _around(node, inserts, quote() if callable(quote) else quote)
    for host in [h for h in by_host if isinstance(h, cst.FormattedString)]:
        by_host[host] = _fstring(host, found, by_host[host])
    return by_host


def _piece_at(found: Sequence[Piece], starts: list[int], edit: Edit) -> int:
    char = edit.offset - 1 if edit.after else edit.offset
    char = max(0, min(char, len(rendered(found)) - 1))
    for index in range(len(found) - 1, -1, -1):
        if starts[index] <= char and found[index].text:
            return index
    return 0


def _insert(body: str, raw: bool, fstring: bool, inserts: list[tuple[int, int, str]]) -> str:
    # Source offsets of the original body first; then edits from the end, so none moves another.
    spans = [(_source_offset(body, raw, fstring, a), _source_offset(body, raw, fstring, b), t) for a, b, t in inserts]
    for start, end, text in sorted(spans, key=lambda span: (span[0], span[1]), reverse=True):
        body = body[:start] + text + body[end:]
    return body


def _simple(node: cst.SimpleString, inserts: list[tuple[int, int, str]]) -> cst.SimpleString:
    prefix, quote = node.prefix, node.quote
    body = node.value[len(prefix) + len(quote) : len(node.value) - len(quote)]
    new = _insert(body, "r" in prefix.lower(), False, inserts)
    return node.with_changes(value=f"{prefix}{quote}{new}{quote}")


def _around(node: cst.BaseExpression, inserts: list[tuple[int, int, str]], quote: str) -> cst.BaseExpression:
    """An opaque operand of ``+`` with text before and/or after it."""
    if not isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) and not node.lpar:
        node = node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    result: cst.BaseExpression = node
    for local, _, text in inserts:
        literal = cst.SimpleString(f"{quote}{text}{quote}")
        if local == 0:
            result = cst.BinaryOperation(literal, cst.Add(), result)
        else:
            result = cst.BinaryOperation(result, cst.Add(), literal)
    return result


def _fstring(host: cst.FormattedString, found: Sequence[Piece], groups) -> cst.FormattedString:
    raw = "r" in host.prefix.lower()
    changed = {}
    for index, inserts in groups:
        piece = found[index]
        if piece.literal:
            changed[piece.node] = [piece.node.with_changes(value=_insert(piece.node.value, raw, True, inserts))]
        else:
            before = [cst.FormattedStringText(text) for local, end, text in inserts if local == 0 and text]
            after = [cst.FormattedStringText(text) for local, _, text in inserts if local != 0]
            removed = any(end > local for local, end, _ in inserts)  # a taken-over `{port}`
            changed[piece.node] = before + ([] if removed else [piece.node]) + after
    parts = []
    for part in host.parts:
        parts.extend(changed.get(part, [part]))
    return host.with_changes(parts=parts)
