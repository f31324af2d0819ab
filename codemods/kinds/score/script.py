"""Add remote debugging to a scoring script (section 3 of the source document).

A scoring script (``score.py``) is hosted by Azure ML's inference server
(azmlinfsrv): gunicorn workers import it and call its ``init()`` once each,
then ``run(data)`` for every request. ``add(source, options)`` puts one
fenced block at the start of ``init()``'s body (after its docstring): with
``Options.helper``, a statement that loads the helper module beside the
script and the call of its ``score_debug``; inline, a nested helper and the
call to it. Either listens for VS Code, waits with a real timeout and lets
init go on either way. Nothing runs at import time, so
the server's master process never listens, and nothing outside ``init()``
changes. The name ``run`` is the scoring function and is never touched.
"""

from __future__ import annotations

import ast
from typing import Optional

import libcst as cst

from instrument.codemods.fences import fence_layout, markers
from instrument.codemods.helper import module as helper_module, templates
from instrument.codemods.check.findings import find_debug_calls
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds.base import Plan
from instrument.codemods.python.names import free_name
from instrument.codemods.python.syntax_kinds import is_docstring
from instrument.codemods.kinds import base
from instrument.codemods.python.parsing import verify_with_stand_ins
from instrument.codemods.python.positions import (ast_tree, first_line_above, lines_above, parsed_natively,
                                                  statement_lines)
from instrument.codemods.runtime.render import reindent
from instrument.codemods.core.options import Options

#: Calls that mean the script already has hand-written remote debugging.
HAND_WRITTEN = {"debugpy.listen", "debugpy.connect", "debugpy.wait_for_client"}


class _Names(cst.CSTVisitor):
    """Every ``Name`` node's value."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.found.add(node.value)


def _top_level_function(module: cst.Module, name: str) -> Optional[cst.FunctionDef]:
    """The definition that wins at import time: the last one of that name."""
    found = None
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            found = statement
    return found


def _block_position(module: cst.Module, init: cst.FunctionDef, source: str) -> int:
    """0-based line before which the block goes: after the docstring, else first (above the
    statement's decorators and the comment lines LibCST gives it)."""
    first = init.body.body[0]
    lines = _first_statement_lines(source)
    if lines is None:  # CPython does not parse it itself: the positions of the whole pairing
        if is_docstring(first):
            return statement_lines(module, [first], source)[id(first)][1]
        return first_line_above(module, first, source)
    top, last = lines
    if is_docstring(first):
        return last
    return top - 1 - lines_above(first)


def _first_statement_lines(source: str) -> Optional[tuple[int, int]]:
    """1-based (first line, last line) of the first statement of the last top-level ``init``
    (its first decorator's line for a decorated one), from CPython's tree: the one statement the
    plan needs a place of, without pairing every statement of the file with LibCST's. None
    where this Python's parser does not take the source itself."""
    if not parsed_natively(source):
        return None
    tree = ast_tree(source)
    init = None
    for node in tree.body if tree is not None else ():
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "init":
            init = node
    if init is None or not init.body:
        return None
    first = init.body[0]
    decorators = getattr(first, "decorator_list", None)
    end = first.end_lineno
    if end is None:
        return None
    return (decorators[0].lineno if decorators else first.lineno), end


def _identifiers(module: cst.Module, source: str, base: str = templates.HELPER_NAME) -> set[str]:
    """Every identifier the module spells (names, attributes, parameters, keywords, imports)
    that could clash with the helper's name.

    An ASCII source that never spells ``base`` (the name wanted) has none: the tree
    need not be walked (identifiers are NFKC-normalized, hence ASCII only).
    """
    if source.isascii() and base not in source:
        return set()
    tree = ast_tree(source)
    if tree is None:
        names = _Names()
        module.visit(names)
        return names.found
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, (ast.arg, ast.keyword)):
            found.add(node.arg or "")
        elif isinstance(node, ast.alias):
            found.update(node.name.split("."))
            found.add(node.asname or "")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)):
            found.add(node.name or "")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found.update(node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update((node.module or "").split("."))
    return found


def plan(clean: str, module: cst.Module, options: Options) -> Plan:
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
    indent = markers.counted_indent(init.body.indent if init.body.indent is not None else module.default_indent)
    if options.helper is not None:
        # The helper module beside the script: load it, call it (no definition, no blank lines).
        loaded = free_name(helper_module.LOADED_NAME, _identifiers(module, clean, helper_module.LOADED_NAME))
        lines = helper_module.loader_lines(loaded, options.helper, indent) + helper_module.call_lines(
            helper_module.function(loaded, helper_module.SCORE_FUNCTION), helper_module.score_arguments(options), indent
        )
        block = markers.Insertion(
            _block_position(module, init, clean), indent, templates.LABEL_SCORE, reindent(lines, indent)
        )
        return Plan(insertions=[block], generated=((options.helper, helper_module.module_text()),))
    name = free_name(templates.HELPER_NAME, _identifiers(module, clean))
    # The fence leads the nested helper only above a definition: elsewhere a
    # formatter would give the fence the definition's blank line, outside
    # the block (see fence_layout).
    statements = list(init.body.body)
    below = statements[1:2] if is_docstring(statements[0]) else statements[:1]
    lines = templates.score_lines(name, options, indent)
    first_below = below[0] if below else None
    # A block's statements are statement lines and compound statements, each with its leading lines.
    if not isinstance(first_below, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) or not (
        fence_layout.leads_definition(first_below, first_below.leading_lines)
    ):
        lines = fence_layout.blank_lines_after_fence(1) + lines
    block = markers.Insertion(_block_position(module, init, clean), indent, templates.LABEL_SCORE, lines)
    return Plan(insertions=[block])


def verify(result: str, clean: str, plan: Plan) -> None:
    """Refuse a result that does not strip back or does not parse.

    The block is the same text in every file of a run and longer than many
    scoring scripts: the file is parsed with ``pass`` standing in for it
    (:func:`parsing.verify_with_stand_ins`), and as it is when that fails.
    """
    verify_with_stand_ins(result, clean, plan.insertions, base.newline_of(result))
