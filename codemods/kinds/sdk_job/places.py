"""Positions of the nodes of a few statements, without LibCST's PositionProvider.

The provider generates the whole module with a position for every node;
:mod:`v2_python_fast` needs the lines of a few statements (CPython's tree
has them), the start of an expression now and then (found from its code
when its statement holds that code once, else from generating the statement
up to it), and seldom every node of one statement (the statement generated
alone, with the indentation of its line). Each answer is the provider's.
"""

from __future__ import annotations

import re
from typing import Any, Optional

import libcst as cst
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

from instrument.codemods.fences import markers
from instrument.codemods.python import positions

_LINE_END = re.compile(r"\r\n|\r|\n")


class Unusual(Exception):
    """A shape left to the metadata way."""


class Parents(dict):
    def __missing__(self, node):
        raise Unusual  # a node of a statement not looked at


_LEAVES = frozenset({cst.SimpleString, cst.Name, cst.Integer, cst.Float, cst.Imaginary})


class Positions:
    """Syntactic positions of the nodes of the statements looked at, as PositionProvider gives them."""

    def __init__(self, module: cst.Module, lines: list[str], parents: Parents, pairing: dict) -> None:
        self.module, self.lines, self.parents, self.pairing = module, lines, parents, pairing
        self.computed: dict = {}
        self.done: set = set()

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        if node not in self.computed and isinstance(node, cst.SimpleStatementLine) and id(node) in self.pairing:
            return self.lines_of(node)  # lines are all asked of a statement: CPython's tree has them
        if node not in self.computed:
            holder = node
            while not isinstance(holder, (cst.SimpleStatementLine, cst.Decorator)):
                if isinstance(holder, (cst.BaseCompoundStatement, cst.SimpleStatementSuite, cst.Module)):
                    raise Unusual
                holder = self.parents[holder]
            found = (None if node is holder else self.searched(holder, node)) or self.marked(holder, node)
            if found is not None:
                return found
            if id(holder) in self.done:
                raise Unusual
            self.done.add(id(holder))
            found, _, _ = self.generate(holder)
            self.computed.update(found)
        return self.computed[node]

    def lines_of(self, statement: cst.SimpleStatementLine) -> CodeRange:
        """The first and last line of a statement line (columns: of its first and last token)."""
        nodes = self.pairing[id(statement)]
        first, last = nodes[0], nodes[-1]
        end = self.lines[last.end_lineno - 1].encode("utf-8")[: last.end_col_offset].decode("utf-8", "replace")
        return CodeRange(CodePosition(first.lineno, len(self.indent(statement))), CodePosition(last.end_lineno, len(end)))

    def searched(self, holder: Any, node: cst.CSTNode) -> Optional[Any]:
        """Where a node starts, when the first line of its code is in its statement once (then it
        can only be there); None when not, or when parentheses come before its start."""
        nodes = self.pairing.get(id(holder))
        if nodes is None or getattr(node, "lpar", None):
            return None
        # A leaf's code is its value (no parentheses, checked above): no generation needed.
        code = node.value if type(node) in _LEAVES else self.module.code_for_node(node)  # type: ignore[attr-defined]
        head = _LINE_END.split(code, 1)[0]
        first, last = nodes[0].lineno, nodes[-1].end_lineno
        found = [(number, line.find(head)) for number, line in enumerate(self.lines[first - 1 : last], first)
                 if head in line]
        if not head.strip() or sum(self.lines[number - 1].count(head) for number, _ in found) != 1:
            return None
        return _Start(CodePosition(*found[0]))

    def marked(self, holder: Any, node: cst.CSTNode) -> Optional[CodeRange]:
        """The position of one node, from generating its statement up to the node's end only
        (None for a node that has only a position including its whitespace)."""
        state = positions.MarkingState(self.module, [node])
        state.indent_tokens = [self.indent(holder)]
        try:
            holder._codegen(state)
        except positions._AllFound:
            pass
        if id(node) not in state.marks:
            return None
        first = self.pairing[id(holder)][0].lineno - len(holder.leading_lines)
        return CodeRange(*(_place(state.tokens, index, first) for index in state.marks[id(node)]))

    def generate(self, holder: Any) -> tuple[dict, list[str], int]:
        """({node: position}, lines) of ``holder`` (a statement line or decorator) generated alone."""
        return generate(self.module, holder, self.indent(holder), self.pairing[id(holder)][0].lineno)

    def indent(self, holder: Any) -> str:
        """The indentation of the statement's (or decorator's) line; a layout where that is not
        all there is before its first token (``@`` and an expression on another line), or where
        the line above is joined to it by a backslash, is unusual."""
        nodes = self.pairing.get(id(holder))
        if not nodes:
            raise Unusual
        line = self.lines[nodes[0].lineno - 1]
        indent = line[: len(line) - len(line.lstrip(" \t\f"))]
        before = line.encode("utf-8")[: nodes[0].col_offset].decode("utf-8", "replace")
        if isinstance(holder, cst.Decorator):
            before = before.rstrip(" \t\f")[:-1] if before.rstrip(" \t\f").endswith("@") else "@"
        if before != indent:
            raise Unusual
        if nodes[0].lineno > 1 and self.lines[nodes[0].lineno - 2].rstrip("\r\n").endswith("\\"):
            raise Unusual  # a line joined to it: LibCST starts the statement there
        return indent


class _Start:
    """A position known at its start only (what is asked of an expression's)."""

    def __init__(self, start: CodePosition) -> None:
        self.start = start

    @property
    def end(self) -> CodePosition:
        raise Unusual


class _Provider:
    def __init__(self) -> None:
        self._computed: dict = {}


def generate(module: cst.Module, holder: Any, indent: str, line: int) -> tuple[dict, list[str], int]:
    """A statement line or decorator generated alone with the indentation of its line: the
    positions of its nodes, shifted so that its first token is on ``line``, its text (leading
    comment lines included) and the shift."""
    provider = _Provider()
    state = PositionProvidingCodegenState(default_indent=module.default_indent, default_newline=module.default_newline,
                                          provider=provider)  # type: ignore[arg-type]  # it only keeps positions there
    state.indent_tokens = [indent] if indent else []
    holder._codegen(state)
    anchor: Any = holder.body[0] if isinstance(holder, cst.SimpleStatementLine) else holder.decorator
    shift = line - provider._computed[anchor].start.line
    found = {node: CodeRange(CodePosition(place.start.line + shift, place.start.column),
                             CodePosition(place.end.line + shift, place.end.column))
             for node, place in provider._computed.items()}
    return found, markers.split_lines("".join(state.tokens)), shift


def _place(tokens: list[str], index: int, first: int) -> CodePosition:
    """The position after ``tokens[:index]``, the first token being on line ``first``."""
    text = "".join(tokens[:index])
    lines = markers.split_lines(text)
    if not lines:
        return CodePosition(first, 0)
    last = lines[-1]
    ended = last.endswith(("\n", "\r"))
    return CodePosition(first + len(lines) - (0 if ended else 1), 0 if ended else len(last))
