"""Line numbers of chosen statements, in one cheap code-generation pass.

LibCST's ``PositionProvider`` computes a position for every node of the
tree, which costs several times a parse; the codemods only need the lines of
the handful of statements they insert next to. This runs LibCST's own code
generator once and notes where those statements begin and end, using the
same ``record_syntactic_position`` hook the provider uses, so the lines are
the provider's lines (leading comments excluded).
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from typing import Collection, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState  # the hook PositionProvider uses

_NEWLINE = re.compile(r"\r\n|\r|\n")


class _AllFound(Exception):
    """Raised to stop code generation once every statement has been seen."""


class _Mark:
    """Context manager noting the token span of one wanted statement."""

    __slots__ = ("state", "node_id", "start")

    def __init__(self, state: "_MarkingState", node_id: int) -> None:
        self.state, self.node_id, self.start = state, node_id, 0

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is None:
            self.state.found(self.node_id, self.start)


class _MarkingState(CodegenState):
    def __init__(self, module: cst.Module, targets: Collection[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = {id(node) for node in targets}
        self.marks: dict[int, tuple[int, int]] = {}

    def record_syntactic_position(self, node: cst.CSTNode, **_: Optional[cst.CSTNode]):
        node_id = id(node)
        return _Mark(self, node_id) if node_id in self.targets else _NOTHING

    def found(self, node_id: int, start: int) -> None:
        self.marks[node_id] = (start, len(self.tokens))
        if len(self.marks) == len(self.targets):
            raise _AllFound  # the rest of the module is not needed


_NOTHING = nullcontext()


def statement_lines(
    module: cst.Module, statements: Collection[cst.CSTNode]
) -> dict[int, tuple[int, int]]:
    """``{id(statement): (first line, last line)}``, 1-based, for each statement."""
    if not statements:
        return {}
    state = _MarkingState(module, statements)
    try:
        module._codegen(state)
    except _AllFound:
        pass
    wanted = sorted({index for pair in state.marks.values() for index in pair})
    line_at: dict[int, int] = {}
    lines = 1
    position = 0
    ends_with_newline = False
    for index in wanted:
        for token in state.tokens[position:index]:
            count = len(_NEWLINE.findall(token))
            if count:
                lines += count
            if token:
                ends_with_newline = bool(_NEWLINE.search(token[-1:])) or token.endswith("\r\n")
        position = index
        line_at[index] = (lines, ends_with_newline)
    result = {}
    for node_id, (start, end) in state.marks.items():
        first = line_at[start][0]
        end_line, newline_last = line_at[end]
        result[node_id] = (first, end_line - 1 if newline_last else end_line)
    return result
