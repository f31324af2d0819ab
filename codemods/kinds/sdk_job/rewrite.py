"""Turning the chosen edits of a v2 submission script into fenced blocks.

The syntax tree is rewritten once (node replacements, keywords added or set
on calls); each run of adjacent changed statements is then swapped whole-line
for a block that keeps the original lines behind ``#:``. The new lines are
taken from the rewritten module itself, located by the positions of the
rewritten statements, so no line arithmetic can drift.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from instrument.codemods.fences import markers
from instrument.codemods.python.call_arguments import is_name, with_keywords
from instrument.codemods.kinds.base import Plan


class JobRewriter(cst.CSTTransformer):
    def __init__(self, edits, lines: list[str]) -> None:
        super().__init__()
        self.edits, self.lines = edits, lines
        self.new_statements: dict = {}

    def on_leave(self, original, updated):
        edits = self.edits
        if original in edits.nodes:
            updated = edits.nodes[original]
        if original in edits.keywords:
            updated = _with_keywords(updated, edits.keywords[original], self._arg_indent(original))
        if original in edits.statements:
            self.new_statements[original] = updated
        return updated

    def _arg_indent(self, call: cst.Call) -> str:
        anchor = call.args[-1] if call.args else call
        text = self.lines[self.edits.analysis.positions[anchor].start.line - 1]
        return text[: len(text) - len(text.lstrip(" \t\f"))]


def _with_keywords(call: cst.Call, items: list, arg_indent: str) -> cst.Call:
    args, new = list(call.args), []
    for name, code in items:
        index = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == name), None)
        if index is None:
            new.append((name, code))
        elif not is_name(args[index].value, code):
            args[index] = args[index].with_changes(value=cst.parse_expression(code))
    call = call.with_changes(args=args)
    return with_keywords(call, new, arg_indent) if new else call


def assemble(edits, module: cst.Module, pure: list, job_label: str) -> Plan:
    """The plan: each run of changed statements becomes one block replacing its lines."""
    plan_extra = dict(notes=edits.notes, companions=edits.companions, entries=edits.entries)
    if not edits.statements and not pure:
        return Plan(reason="no job command to add debug flags to", **plan_extra)
    rewriter = JobRewriter(edits, edits.lines)
    new_module = module.visit(rewriter)
    new_positions = MetadataWrapper(new_module, unsafe_skip_copy=True).resolve(PositionProvider)
    new_lines = markers.split_lines(new_module.code)
    positions = edits.analysis.positions
    spans = sorted(
        (positions[s].start.line, positions[s].end.line, new_positions[rewriter.new_statements[s]].start.line,
         new_positions[rewriter.new_statements[s]].end.line, label)
        for s, label in edits.statements.items()
    )
    merged: list[list] = []
    for start, end, new_start, new_end, label in spans:
        if merged and start <= merged[-1][1] + 1:
            last = merged[-1]
            last[1], last[3] = max(last[1], end), max(last[3], new_end)
            last[4] = job_label if job_label in (label, last[4]) else label
        else:
            merged.append([start, end, new_start, new_end, label])
    insertions = list(pure)
    for start, end, new_start, new_end, label in merged:
        body = [line.rstrip("\r\n") for line in new_lines[new_start - 1 : new_end]]
        indent = markers.block_indent(body)
        insertions.append(markers.Insertion(start - 1, indent, label, [line[len(indent):] for line in body], end - start + 1))
    return Plan(insertions=insertions, expected=new_module.code, **plan_extra)
