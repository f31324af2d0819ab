"""The fenced blocks of a v2 submission script's plan, changed statement by changed statement.

:func:`v2_python_rewrite.assemble` rewrites the whole module and locates
the new statements with a metadata pass over it; here each changed
statement is rewritten alone (along the edited nodes only) and its new
lines are its old ones with the edited nodes' text swapped, or, when that
cannot be sure, its generated code. The blocks are the same.
"""

from __future__ import annotations

import ast
from typing import Any, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodeRange

from instrument.codemods.fences import markers
from instrument.codemods.python import cst_walk
from instrument.codemods.kinds.base import Plan
from instrument.codemods.kinds.sdk_job.places import Parents, Positions, Unusual


def assemble_by_statement(edits, module: cst.Module, pure: list, job_label: str) -> Plan:
    """:func:`v2_python_rewrite.assemble`, each changed statement rewritten and generated alone."""
    from instrument.codemods.kinds.sdk_job.rewrite import JobRewriter

    plan_extra = dict(notes=edits.notes, companions=edits.companions, entries=edits.entries)
    if not edits.statements and not pure:
        return Plan(reason="no job command to add debug flags to", **plan_extra)
    places: Positions = edits.analysis.positions
    rewriter = JobRewriter(edits, edits.lines)
    spans, checks = [], []
    for statement, label in edits.statements.items():
        place = places[statement]
        targets = _targets(statement, edits, places.parents)
        body = _replaced(module, edits, targets, place)
        if body is None:
            new = _rewritten(statement, targets, rewriter)
            state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
            state.indent_tokens = [places.indent(statement)]
            new._codegen(state)
            text = markers.split_lines("".join(state.tokens))
            body = [line.rstrip("\r\n") for line in text[len(new.leading_lines):]]
        spans.append((place.start.line, place.end.line, body, label))
        checks.append((places.indent(statement), tuple(body), isinstance(statement, cst.Decorator), place.start.line))
    spans.sort(key=lambda span: span[:2])
    merged: list[list] = []
    for start, end, body, label in spans:
        if merged and start <= merged[-1][1]:
            raise Unusual  # statements sharing a line
        if merged and start == merged[-1][1] + 1:
            last = merged[-1]
            last[1], last[2] = end, last[2] + body
            last[3] = job_label if job_label in (label, last[3]) else label
        else:
            merged.append([start, end, body, label])
    blocks = []
    expected = [line.rstrip("\r\n") for line in edits.lines]
    for start, end, body, label in reversed(merged):
        expected[start - 1 : end] = body
        indent = markers.block_indent(body)
        blocks.append(markers.Insertion(start - 1, indent, label, [line[len(indent):] for line in body], end - start + 1))
    return Plan(insertions=list(pure) + blocks[::-1], expected=Rewritten("\n".join(expected) + "\n", checks),
                **plan_extra)


class Rewritten(str):
    """The code lines the result must run (as the metadata way's ``expected``), and each
    rewritten statement: (indentation, its lines, whether a decorator, its first line)."""

    statements: tuple

    def __new__(cls, text: str, statements: list) -> "Rewritten":
        made = super().__new__(cls, text)
        made.statements = tuple(statements)
        return made


def verify_statements(result: str, clean: str, expected: Rewritten, whole: bool = False) -> None:
    """Refuse a result that does not run the rewritten code, strip back, or parse; the parse
    is of the rewritten statements alone where that says the same as a parse of the result.

    The result's code lines are checked to be the original's with each rewritten statement's
    lines in place of its old ones (the rest are fences and saved lines: comments). CPython
    parsed the original; a statement line (or decorator line) swapped for another at the same
    indentation, complete on its own, leaves the tokens around it and the indentation after it
    as they were, and the grammar takes any simple statements (decorator) where one was. So
    the result parses when each rewritten statement parses alone at its indentation. Not when
    a line before one ends in a backslash (it would join it), nor with a ``__future__`` import
    (which may change the grammar) or lone ``\\r`` line ends: the result is parsed whole then,
    and when the caller asks for it (``whole``: blocks that only add lines).
    """
    from instrument.codemods.python import parsing
    from instrument.codemods.core.errors import InstrumentError
    from instrument.codemods.python.parsing import rewritten_lines

    trusted = markers.END not in clean and not markers.has_markers(clean)
    blocks = markers.find_blocks(result, trusted=trusted)  # one search for both checks below
    if rewritten_lines(result, blocks=blocks) != [line.rstrip("\r\n") for line in markers.split_lines(expected)]:
        raise InstrumentError("internal error: instrumented code differs from the rewritten calls")  # pragma: no cover
    lines = markers.split_lines(clean)
    if (whole or "__future__" in clean or ("\r" in clean and "\r" in clean.replace("\r\n", ""))
            or any(start > 1 and lines[start - 2].rstrip("\r\n").endswith("\\") for *_, start in expected.statements)):
        parsing.verify(result, clean)
        return
    if not markers.strips_back_to(result, clean, blocks=blocks):
        raise InstrumentError("internal error: the instrumented code does not strip back to the original")
    for indent, body, decorator, _ in expected.statements:
        text = "\n".join(body) + "\n" + (f"{indent}def _(): pass\n" if decorator else "")
        try:
            ast.parse(f"if 1:\n{text}" if indent else text)
        except (SyntaxError, ValueError) as exc:
            raise InstrumentError(f"internal error: the instrumented code does not parse: {exc}") from None



def _targets(statement: Any, edits, parents: Parents) -> Optional[set]:
    """The edited nodes in ``statement`` and the nodes between them and it (None: not known)."""
    path: set = {statement}
    for target in list(edits.nodes) + list(edits.keywords):
        chain, node = [], target
        while node not in path and not isinstance(node, (cst.SimpleStatementLine, cst.Decorator)):
            chain.append(node)
            node = parents.get(node)
            if node is None:
                return None
        if node in path:
            path.update(chain)
    return path


def _replaced(module: cst.Module, edits, path: Optional[set], place: CodeRange) -> Optional[list[str]]:
    """The statement's lines with each edited node's text swapped for its replacement's, when
    every edit replaces a node on one line whose text the statement holds once (None: else)."""
    if path is None or any(node in path for node in edits.keywords):
        return None
    lines = edits.lines[place.start.line - 1 : place.end.line]
    text = "".join(lines)
    swaps = []
    for node in path:
        if node not in edits.nodes:
            continue
        old, new = module.code_for_node(node), module.code_for_node(edits.nodes[node])
        if "\n" in old + new or "\r" in old + new or text.count(old) != 1:
            return None
        start = text.index(old)
        swaps.append((start, start + len(old), new))
    swaps.sort()
    if any(a[1] > b[0] for a, b in zip(swaps, swaps[1:])):
        return None  # one edited node inside another
    for start, end, new in reversed(swaps):
        text = text[:start] + new + text[end:]
    return [line.rstrip("\r\n") for line in markers.split_lines(text)]


def _rewritten(statement: Any, path: Optional[set], rewriter) -> Any:
    """The statement with the edits made: along the edited nodes only (:func:`cst_walk.rewritten`),
    or a visit of the whole statement when an edited node's place in it is not known."""
    return statement.visit(rewriter) if path is None else cst_walk.rewritten(statement, path, rewriter)
