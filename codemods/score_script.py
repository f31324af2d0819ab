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

from instrument.codemods import markers, templates
from instrument.codemods.check import find_debug_calls
from instrument.codemods.errors import CodemodError
from instrument.codemods.kinds.base import Plan
from instrument.codemods.names import free_name
from instrument.codemods.parsing import parse_clean, verify
from instrument.codemods.positions import first_line_above, statement_lines
from instrument.codemods.templates import DebugOptions

#: Calls that mean the script already has hand-written remote debugging.
HAND_WRITTEN = {"debugpy.listen", "debugpy.connect", "debugpy.wait_for_client"}

_DOCSTRING = m.SimpleStatementLine(body=[m.Expr(m.SimpleString() | m.ConcatenatedString())])


InstrumentError = CodemodError


def _top_level_function(module: cst.Module, name: str) -> Optional[cst.FunctionDef]:
    """The definition that wins at import time: the last one of that name."""
    found = None
    for statement in module.body:
        if m.matches(statement, m.FunctionDef(name=m.Name(name))):
            found = statement
    return found


def _block_position(module: cst.Module, init: cst.FunctionDef, source: str) -> int:
    """0-based line before which the block goes: after the docstring, else first."""
    first = init.body.body[0]
    if m.matches(first, _DOCSTRING):
        return statement_lines(module, [first], source)[id(first)][1]
    return first_line_above(module, first, source)


def plan(clean: str, module: cst.Module, options: DebugOptions) -> Plan:
    """The block at the start of ``init()`` (blocks already removed)."""
    init = _top_level_function(module, "init")
    if init is None or _top_level_function(module, "run") is None:
        raise InstrumentError("not a scoring script: it needs top-level init() and run() functions")
    calls = [f for f in find_debug_calls(clean) if f.name in HAND_WRITTEN]
    if calls:
        raise InstrumentError(
            f"line {calls[0].line}: the script already calls {calls[0].name} (hand-written remote "
            "debugging); remove it before running instrument add"
        )
    if not isinstance(init.body, cst.IndentedBlock):
        raise InstrumentError(
            f"line {statement_lines(module, [init], clean)[id(init)][0]}: init() has its body on the 'def' line; "
            "put the body on lines of its own"
        )
    indent = init.body.indent if init.body.indent is not None else module.default_indent
    taken = {node.value for node in m.findall(module, m.Name())}
    name = free_name(templates.HELPER_NAME, taken)
    block = markers.Insertion(
        _block_position(module, init, clean),
        indent,
        templates.LABEL_SCORE,
        templates.score_lines(name, options, indent),
    )
    return Plan(insertions=[block])


def add(source: str, options: DebugOptions = DebugOptions()) -> str:
    """Instrument a scoring script; instrumenting twice gives the same text."""
    from instrument.codemods.kinds import base, score

    return base.apply(score.KIND, source, options).text
