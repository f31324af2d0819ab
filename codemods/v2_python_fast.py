"""The plan of a v2 submission script without a metadata pass over the whole module.

LibCST's position and parent providers walk every node of the module, and
the rewrite regenerates all of it: several parses' worth of work for a few
changed statements. Here CPython's tree (a tenth of a LibCST parse) finds
the statements that matter: those calling ``command``, ``load_component``,
``dsl.pipeline``, ``Environment``, ``PipelineJob`` or ``create_or_update``
(names resolved through the imports), and those holding a dict with string
keys; every assignment gives its binding from CPython's tree too. Only
those statements' LibCST nodes are visited, by the same visitor as the
metadata way, so every decision is made by the same code on the same nodes.
Positions come from generating each such statement alone, with the
indentation of its line; the changed statements are rewritten and
regenerated alone, and their lines swapped in.

Shapes this leaves to :func:`v2_python_plan.plan_with_metadata` (None):
a wanted call in a compound statement's header or a one-line suite, a
source this Python's own parser does not take, statements the two parsers
pair differently, and ``--take-over`` of hand-written debug arguments. A
test holds the two ways byte-equal on every fixture and on generated layouts.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from typing import Any, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

from instrument.codemods import markers, positions
from instrument.codemods.kinds.base import Plan
from instrument.codemods.syntax_kinds import imports
from instrument.codemods.v2_python import (
    COMMAND_BUILDER, COMMAND_CLASSES, ENVIRONMENT, LOAD_COMPONENT, PIPELINE_DECORATORS, PIPELINE_JOB,
    SUBMIT_METHODS, Analysis, _Visitor, named,
)

_LINE_END = re.compile(r"\r\n|\r|\n")
_WANTED = frozenset({COMMAND_BUILDER, LOAD_COMPONENT, ENVIRONMENT, PIPELINE_JOB}) | COMMAND_CLASSES | PIPELINE_DECORATORS
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NO_EXPRESSIONS = (ast.Import, ast.ImportFrom, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


class _Unusual(Exception):
    """A shape left to the metadata way."""


def plan_by_statement(clean: str, module: cst.Module, options) -> Optional[Plan]:
    """The plan, or None when the file is of a shape left to the metadata way."""
    from instrument.codemods.v2_python_plan import plan_from

    try:
        return plan_from(clean, module, options, _Analyser(clean, module).analysis, _assemble)
    except _Unusual:
        return None


class _Parents(dict):
    def __missing__(self, node):
        raise _Unusual  # a node of a statement not looked at


class _Positions:
    """Syntactic positions of the nodes of the statements looked at, as PositionProvider gives them."""

    def __init__(self, module: cst.Module, lines: list[str], parents: _Parents, pairing: dict) -> None:
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
                    raise _Unusual
                holder = self.parents[holder]
            found = (None if node is holder else self.searched(holder, node)) or self.marked(holder, node)
            if found is not None:
                return found
            if id(holder) in self.done:
                raise _Unusual
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
        head = _LINE_END.split(self.module.code_for_node(node), 1)[0]
        first, last = nodes[0].lineno, nodes[-1].end_lineno
        found = [(number, line.find(head)) for number, line in enumerate(self.lines[first - 1 : last], first)
                 if head in line]
        if not head.strip() or sum(self.lines[number - 1].count(head) for number, _ in found) != 1:
            return None
        return _Start(CodePosition(*found[0]))

    def marked(self, holder: Any, node: cst.CSTNode) -> Optional[CodeRange]:
        """The position of one node, from generating its statement up to the node's end only
        (None for a node that has only a position including its whitespace)."""
        state = positions._MarkingState(self.module, [node])
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
        all there is before its first token (``@`` and an expression on another line) is unusual."""
        nodes = self.pairing.get(id(holder))
        if not nodes:
            raise _Unusual
        line = self.lines[nodes[0].lineno - 1]
        indent = line[: len(line) - len(line.lstrip(" \t\f"))]
        before = line.encode("utf-8")[: nodes[0].col_offset].decode("utf-8", "replace")
        if isinstance(holder, cst.Decorator):
            before = before.rstrip(" \t\f")[:-1] if before.rstrip(" \t\f").endswith("@") else "@"
        if before != indent:
            raise _Unusual
        return indent


class _Start:
    """A position known at its start only (what is asked of an expression's)."""

    def __init__(self, start: CodePosition) -> None:
        self.start = start

    @property
    def end(self) -> CodePosition:
        raise _Unusual


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


def _full_name(node: ast.AST) -> Optional[str]:
    """The dotted name LibCST's ``get_full_name_for_node`` gives the same expression."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _full_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    if isinstance(node, ast.Call):
        return _full_name(node.func)
    if isinstance(node, ast.Subscript):
        return _full_name(node.value)
    return None


class _StatementVisitor(_Visitor):
    """The metadata way's visitor on one statement, keeping the parents itself; bindings,
    settings and node calls come from CPython's tree (:meth:`_Analyser.assignment`)."""

    def __init__(self, analysis: Analysis, parents: _Parents, functions: list, parent: cst.CSTNode) -> None:
        super().__init__(analysis)
        self.parents, self.functions = parents, list(functions)
        self.stack = [parent]

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.parents[node] = self.stack[-1]
        self.stack.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        super().on_leave(original_node)

    def visit_Assign(self, node: cst.Assign) -> None:
        return None

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        return None

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        return None


_LEAVES = (cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.FormattedStringText)
#: Fields that hold no expression (whitespace, parentheses, commas, operators), and a keyword's name.
_FIELDS: dict = {}


def _fields(kind: type) -> tuple:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(kind) if field.name not in (
            "lpar", "rpar", "leading_lines", "trailing_whitespace", "comma", "equal", "dot", "operator", "keyword",
            "lbrace", "rbrace", "lbracket", "rbracket", "colon", "semicolon") and not field.name.startswith("whitespace"))
    return names


def _walk_fields(node: Any, parent: cst.CSTNode, parents: _Parents, visitor: _StatementVisitor) -> None:
    """What a visit of ``node`` records, reading the nodes' fields: a LibCST visit rebuilds every node.

    The fields of LibCST's nodes are in source order where a call or dict can be (``IfExp`` aside)."""
    parents[node] = parent
    if isinstance(node, _LEAVES):
        return
    if isinstance(node, cst.Call):
        visitor.visit_Call(node)
    elif isinstance(node, cst.Dict):
        visitor.visit_Dict(node)
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            _walk_fields(value, node, parents, visitor)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    _walk_fields(item, node, parents, visitor)


class _Analyser:
    """The metadata way's :class:`Analysis`, from CPython's tree and the statements that matter."""

    def __init__(self, clean: str, module: cst.Module) -> None:
        tree = positions.ast_tree(clean)
        if tree is None or not positions.parsed_natively(clean):
            raise _Unusual
        pairing = positions.paired(module, clean)
        if pairing is None:
            raise _Unusual
        self.pairing, self.holders = pairing, positions.statement_of(module, clean) or {}
        self.table = imports(module)
        self.analysis = Analysis(self.table)
        self.parents = self.analysis.parents = _Parents()
        lines = markers.split_lines(clean)
        self.analysis.positions = _Positions(module, lines, self.parents, pairing)
        self.candidates = self.candidate_lines(lines)
        self.conditional = False
        self.walk(tree.body, [])
        named(self.analysis)

    def matters(self, node: Any) -> bool:
        """Whether ``node`` holds a call or dict literal the visitor records (also noting whether
        it holds ``b if a else c``, see :meth:`visit`)."""
        self.conditional = False
        start = getattr(node, "lineno", None)  # none for a header's `arguments`
        if start is not None and not any(number in self.candidates for number in range(start, node.end_lineno + 1)):
            return False
        found = False
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                func = inner.func
                name = _full_name(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
                found = found or (isinstance(func, ast.Attribute) and func.attr in SUBMIT_METHODS) or (
                    name is not None and (not name.isascii() or self.table.qualified_dotted(name) in _WANTED))
            elif isinstance(inner, ast.Dict):
                found = found or any(isinstance(key, ast.Constant) and isinstance(key.value, str) for key in inner.keys)
            elif isinstance(inner, ast.IfExp):
                self.conditional = True
        return found

    def candidate_lines(self, lines: list[str]) -> set:
        """Lines that may hold what :meth:`matters` looks for: a local name of azure.ai.ml (or of a
        module above it), ``{``, ``create_or_update``, or any letter outside ASCII (identifiers are
        normalised). A statement on none of them holds none of it: its tree need not be walked."""
        heads = sorted(local for local, name in self.table.aliases.items()
                       if any(wanted == name or wanted.startswith(name + ".") for wanted in _WANTED))
        pattern = re.compile("|".join([r"\{", "create_or_update", r"[^\x00-\x7f]"] + [rf"\b{re.escape(h)}\b" for h in heads]))
        return {number for number, line in enumerate(lines, 1) if pattern.search(line)}

    def walk(self, body: list, functions: list) -> None:  # noqa: C901
        for statement in body:
            holder = self.holders.get(id(statement))
            if holder is None:
                raise _Unusual
            if not hasattr(statement, "body"):
                self.simple(statement, holder, functions)
                continue
            if any(self.matters(part) for part in _header(statement) if not isinstance(statement, _FUNCTIONS)
                   or part not in statement.decorator_list):
                raise _Unusual  # the metadata way notes it: in a compound statement's header
            if isinstance(statement, _FUNCTIONS):
                self.decorators(statement, holder, functions)
                inner = functions + [holder]
            else:
                inner = functions
            for name in _BODIES:
                item: Any
                for item in getattr(statement, name, None) or ():
                    self.walk(item.body if isinstance(item, (ast.ExceptHandler, _match_case())) else [item], inner)

    def decorators(self, statement: Any, function: cst.FunctionDef, functions: list) -> None:
        inner = functions + [function]
        if len(statement.decorator_list) != len(function.decorators):
            raise _Unusual
        for decorator in function.decorators:
            target = decorator.decorator
            func = target.func if isinstance(target, cst.Call) else target
            if self.table.qualified_name(func) in PIPELINE_DECORATORS:
                self.analysis.decorators.append((decorator, function))
        for expression, decorator in zip(statement.decorator_list, function.decorators):
            if self.matters(expression):
                self.parents[decorator] = function
                self.visit(expression, decorator, inner, function)

    def visit(self, tree: ast.AST, node: cst.CSTNode, functions: list, parent: cst.CSTNode) -> None:
        """:class:`_Visitor`'s calls on ``node`` (the statement or decorator ``tree`` is), in its order."""
        visitor = _StatementVisitor(self.analysis, self.parents, functions, parent)
        if self.conditional:
            node.visit(visitor)  # `b if a else c`: its fields are not in source order
        else:
            _walk_fields(node, parent, self.parents, visitor)

    def simple(self, statement: Any, holder: Any, functions: list) -> None:
        mine = self.pairing[id(holder)]
        small = holder.body[next(i for i, node in enumerate(mine) if node is statement)]
        self.parents[small] = holder
        self.assignment(statement, small, holder, functions[-1] if functions else None)
        if not isinstance(statement, _NO_EXPRESSIONS) and self.matters(statement):
            if not isinstance(holder, cst.SimpleStatementLine):
                raise _Unusual  # a one-line suite: the metadata way notes it
            self.visit(statement, small, functions, holder)

    def assignment(self, statement: Any, small: Any, holder: Any, function) -> None:
        """What :class:`_Visitor`'s ``visit_Assign``/``AnnAssign``/``AugAssign`` record."""
        analysis = self.analysis
        if isinstance(statement, ast.Assign):
            single = len(statement.targets) == 1
            if single:
                self.parents[small.value] = small
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    analysis.bindings.setdefault((function, target.id), []).append(small.value if single else None)
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute)
                        and isinstance(target.value.value, ast.Name) and target.value.attr == "settings"):
                    statement_line = holder if isinstance(holder, cst.SimpleStatementLine) else None
                    analysis.settings.setdefault((function, target.value.value.id), []).append(statement_line)
            value = statement.value
            if single and isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                if isinstance(statement.targets[0], ast.Name):
                    analysis.node_calls.append((statement.targets[0].id, value.func.id))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            if small.value is not None:
                self.parents[small.value] = small
            analysis.bindings.setdefault((function, statement.target.id), []).append(small.value)
        elif isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
            analysis.bindings.setdefault((function, statement.target.id), []).append(None)


def _match_case():
    return getattr(ast, "match_case", ast.ExceptHandler)


def _header(statement: Any):
    """The parts of a compound statement outside its bodies (decorators included)."""
    for name, value in ast.iter_fields(statement):
        if name in _BODIES:
            item: Any
            for item in value or ():
                if isinstance(item, ast.ExceptHandler) and item.type is not None:
                    yield item.type
                elif isinstance(item, _match_case()):
                    yield item.pattern
                    if item.guard is not None:
                        yield item.guard
        elif isinstance(value, ast.AST):
            yield value
        elif isinstance(value, list):
            yield from (item for item in value if isinstance(item, ast.AST))


def _assemble(edits, module: cst.Module, pure: list, job_label: str) -> Plan:
    """:func:`v2_python_rewrite.assemble`, each changed statement rewritten and generated alone."""
    from instrument.codemods.v2_python_rewrite import _Rewriter, _block_indent

    plan_extra = dict(notes=edits.notes, companions=edits.companions)
    if not edits.statements and not pure:
        return Plan(reason="no job command to add debug flags to", **plan_extra)
    places: _Positions = edits.analysis.positions
    rewriter = _Rewriter(edits, edits.lines)
    spans = []
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
    spans.sort(key=lambda span: span[:2])
    merged: list[list] = []
    for start, end, body, label in spans:
        if merged and start <= merged[-1][1]:
            raise _Unusual  # statements sharing a line
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
        indent = _block_indent(body)
        blocks.append(markers.Insertion(start - 1, indent, label, [line[len(indent):] for line in body], end - start + 1))
    return Plan(insertions=list(pure) + blocks[::-1], expected="\n".join(expected) + "\n", **plan_extra)


def _targets(statement: Any, edits, parents: _Parents) -> Optional[set]:
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
    """The statement with the edits made: the rewriter's ``on_leave`` on the nodes from each
    edited node up to the statement, the rest kept (a visit of the whole statement when an
    edited node's place in it is not known)."""
    if path is None:
        return statement.visit(rewriter)

    def rebuild(node: Any) -> Any:
        changes: dict = {}
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if isinstance(value, cst.CSTNode) and value in path:
                changes[field.name] = rebuild(value)
            elif isinstance(value, (list, tuple)) and any(isinstance(item, cst.CSTNode) and item in path for item in value):
                changes[field.name] = type(value)(rebuild(item) if isinstance(item, cst.CSTNode) and item in path
                                                  else item for item in value)
        return rewriter.on_leave(node, node.with_changes(**changes) if changes else node)

    return rebuild(statement)
