"""Add remote debugging to a scoring script (section 3 of the source document).

A scoring script (``score.py``) is hosted by Azure ML's inference server
(azmlinfsrv): gunicorn workers import it and call its ``init()`` once each,
then ``run(data)`` for every request. ``add(source, options)`` puts one
fenced block at the start of ``init()``'s body (after its docstring): a
nested helper that listens for VS Code, waits with a real timeout and lets
init go on either way, and the call to it. Nothing runs at import time, so
the server's master process never listens, and nothing outside ``init()``
changes. The name ``run`` is the scoring function and is never touched.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from codemods.errors import CodemodError
from codemods import markers, templates
from codemods.names import free_name
from codemods.parsing import parse_clean, verify
from codemods.positions import statement_lines
from codemods.templates import DebugOptions

#: Calls that mean the script already has hand-written remote debugging.
HAND_WRITTEN = {"debugpy.listen", "debugpy.connect", "debugpy.wait_for_client"}

_DOCSTRING = m.SimpleStatementLine(body=[m.Expr(m.SimpleString() | m.ConcatenatedString())])


class InstrumentError(CodemodError):
    """The script cannot be instrumented; the message says why."""


def _top_level_function(module: cst.Module, name: str) -> Optional[cst.FunctionDef]:
    """The definition that wins at import time: the last one of that name."""
    found = None
    for statement in module.body:
        if m.matches(statement, m.FunctionDef(name=m.Name(name))):
            found = statement
    return found


class _HandWrittenDebugging(cst.CSTVisitor):
    """Finds debugpy listen/connect/wait calls under any import alias."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[int, str]] = []  # (line, qualified name)

    def visit_Call(self, node: cst.Call) -> None:
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, node.func, set())}
        for name in names & HAND_WRITTEN:
            self.found.append((self.get_metadata(PositionProvider, node).start.line, name))


def _block_position(module: cst.Module, init: cst.FunctionDef) -> int:
    """0-based line before which the block goes: after the docstring, else first."""
    first = init.body.body[0]
    if m.matches(first, _DOCSTRING):
        return statement_lines(module, [first])[id(first)][1]
    # Comments between ``def init():`` and the first statement belong to that
    # statement (its leading lines, and those of its first decorator, whose
    # line is where a decorated statement begins); the block goes above them.
    top = first.decorators[0] if getattr(first, "decorators", ()) else first
    above = len(first.leading_lines) + (len(top.leading_lines) if top is not first else 0)
    return statement_lines(module, [top])[id(top)][0] - 1 - above


def add(source: str, options: DebugOptions = DebugOptions()) -> str:
    """Instrument a scoring script; instrumenting twice gives the same text."""
    clean, module = parse_clean(source)
    init = _top_level_function(module, "init")
    if init is None or _top_level_function(module, "run") is None:
        raise InstrumentError("not a scoring script: it needs top-level init() and run() functions")
    calls = _HandWrittenDebugging()
    if "debugpy" in clean:  # resolving names is costly; skip it when it cannot find anything
        MetadataWrapper(module, unsafe_skip_copy=True).visit(calls)
    if calls.found:
        line, call = min(calls.found)
        raise InstrumentError(
            f"line {line}: the script already calls {call} (hand-written remote "
            "debugging); remove it before running instrument add"
        )
    if not isinstance(init.body, cst.IndentedBlock):
        raise InstrumentError(
            f"line {statement_lines(module, [init])[id(init)][0]}: init() has its body on the 'def' line; "
            "put the body on lines of its own"
        )
    indent = init.body.indent if init.body.indent is not None else module.default_indent
    taken = {node.value for node in m.findall(module, m.Name())}
    name = free_name(templates.HELPER_NAME, taken)
    block = markers.Insertion(
        _block_position(module, init),
        indent,
        templates.LABEL_SCORE,
        templates.score_lines(name, options, indent),
    )
    result = markers.insert_blocks(clean, [block], module.default_newline)
    verify(result, clean)
    return result
