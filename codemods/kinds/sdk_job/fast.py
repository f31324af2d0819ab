"""The plan of a v2 submission script without a metadata pass over the whole module.

LibCST's position and parent providers walk every node of the module, and
the rewrite regenerates all of it: several parses' worth of work for a few
changed statements. Here CPython's tree (a tenth of a LibCST parse) finds
the statements that matter: those calling ``command``, ``load_component``,
``dsl.pipeline``, ``Environment``, ``PipelineJob`` or ``create_or_update``
(names resolved through the imports), and those holding a dict with string
keys; every assignment gives its binding from CPython's tree too. Only
those statements' LibCST nodes are read, and :class:`v2_python.JobVisitor`'s
own methods record them, so every decision is made by the same code on the
same nodes as the metadata way. Positions come from
:mod:`v2_python_places`, the blocks from :mod:`v2_python_blocks`.

Shapes this leaves to :func:`v2_python_plan.plan_with_metadata` (None):
a wanted call in a compound statement's header or a one-line suite, a
source this Python's own parser does not take, statements the two parsers
pair differently, and ``--take-over`` of hand-written debug arguments. A
test holds the two ways equal on every fixture and on generated layouts.
"""

from __future__ import annotations

import ast
import bisect
import itertools
from typing import Any, Optional

import libcst as cst

from instrument.codemods.fences import markers
from instrument.codemods.python import cst_walk, positions
from instrument.codemods.kinds.base import Plan
from instrument.codemods.python.syntax_kinds import imports
from instrument.codemods.kinds.sdk_job.blocks import assemble_by_statement
from instrument.codemods.kinds.sdk_job.places import Parents, Positions, Unusual
from instrument.codemods.kinds.sdk_job.python import (
    COMMAND_BUILDER, COMMAND_CLASSES, ENVIRONMENT, LOAD_COMPONENT, PIPELINE_DECORATORS, PIPELINE_JOB,
    SUBMIT_METHODS, Analysis, JobVisitor, named,
)

_WANTED = frozenset({COMMAND_BUILDER, LOAD_COMPONENT, ENVIRONMENT, PIPELINE_JOB}) | COMMAND_CLASSES | PIPELINE_DECORATORS
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NO_EXPRESSIONS = (ast.Import, ast.ImportFrom, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def plan_by_statement(clean: str, module: cst.Module, options) -> Optional[Plan]:
    """The plan, or None when the file is of a shape left to the metadata way."""
    from instrument.codemods.kinds.sdk_job.planner import plan_from

    if "OnlineDeployment" in clean:  # online deployments are planned the metadata way (which decides)
        return None
    try:
        return plan_from(clean, module, options, _Analyser(clean, module).analysis, assemble_by_statement)
    except Unusual:
        return None


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


class _StatementVisitor(JobVisitor):
    """The metadata way's visitor, its ``visit_Call``/``visit_Dict`` called by :func:`_walk_fields`
    in a visit's order; bindings, settings and node calls come from CPython's tree
    (:meth:`_Analyser.assignment`), the parents from the walk."""

    def __init__(self, analysis: Analysis, functions: list) -> None:
        super().__init__(analysis)
        self.functions = list(functions)


def _walk_fields(node: Any, parent: cst.CSTNode, parents: Parents, visitor: _StatementVisitor) -> None:
    """What a visit of ``node`` records, reading the nodes' fields (:func:`cst_walk.walk`): a LibCST
    visit rebuilds every node."""
    for found, above in cst_walk.walk(node, parent):
        parents[found] = above
        kind = type(found)
        if kind is cst.Call:
            visitor.visit_Call(found)
        elif kind is cst.Dict:
            visitor.visit_Dict(found)


class _Analyser:
    """The metadata way's :class:`Analysis`, from CPython's tree and the statements that matter."""

    def __init__(self, clean: str, module: cst.Module) -> None:
        tree = positions.ast_tree(clean)
        if tree is None or not positions.parsed_natively(clean):
            raise Unusual
        pairing = positions.paired(module, clean)
        if pairing is None:
            raise Unusual
        self.pairing, self.holders = pairing, positions.statement_of(module, clean) or {}
        self.table = imports(module)
        self.analysis = Analysis(self.table)
        self.parents = self.analysis.parents = Parents()
        lines = markers.split_lines(clean)
        self.analysis.positions = Positions(module, lines, self.parents, pairing)
        self.named: set = set()  # lines that name what matters: their statements are read without a look at their tree
        self.candidates = self.candidate_lines(lines)
        self.walk(tree.body, [])
        named(self.analysis)

    def matters(self, node: Any, to_read: bool = True) -> bool:
        """Whether ``node`` holds a call or dict literal the visitor records (a statement on no
        candidate line holds none); with ``to_read``, True as well for a statement to be read
        anyway because it names what matters."""
        start = getattr(node, "lineno", None)  # none for a header's `arguments`
        if start is not None:
            lines = range(start, node.end_lineno + 1)
            if to_read and any(number in self.named for number in lines):
                return True  # read: on no call or dict that matters the visitor records nothing
            if not any(number in self.candidates for number in lines):
                return False
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                func = inner.func
                if isinstance(func, ast.Attribute) and func.attr in SUBMIT_METHODS:
                    return True
                name = _full_name(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
                if name is not None and (not name.isascii() or self.table.qualified_dotted(name) in _WANTED):
                    return True
            elif isinstance(inner, ast.Dict):
                if any(isinstance(key, ast.Constant) and isinstance(key.value, str) for key in inner.keys):
                    return True
        return False

    def candidate_lines(self, lines: list[str]) -> set:
        """Lines that may hold what :meth:`matters` looks for: a local name of azure.ai.ml (or of a
        module above it), ``{``, ``create_or_update``, or any letter outside ASCII (identifiers are
        normalised). A statement on none of them holds none of it: its tree need not be walked."""
        heads = sorted(local for local, name in self.table.aliases.items()
                       if any(wanted == name or wanted.startswith(name + ".") for wanted in _WANTED))
        text = "".join(lines)
        ends = list(itertools.accumulate(map(len, lines)))

        def holding(needle: str) -> set:  # the numbers of the lines holding ``needle``: a search of the text
            found, at = set(), text.find(needle)
            while at >= 0:
                found.add(bisect.bisect_right(ends, at) + 1)
                at = text.find(needle, at + 1)
            return found

        self.named = set().union(*map(holding, ["create_or_update", *heads]))
        others = holding("{")
        if not text.isascii():
            others |= {number for number, line in enumerate(lines, 1) if not line.isascii()}
        return self.named | others

    def walk(self, body: list, functions: list) -> None:  # noqa: C901
        for statement in body:
            holder = self.holders.get(id(statement))
            if holder is None:
                raise Unusual
            if not hasattr(statement, "body"):
                self.simple(statement, holder, functions)
                continue
            if any(self.matters(part, to_read=False) for part in _header(statement) if not isinstance(statement, _FUNCTIONS)
                   or part not in statement.decorator_list):
                raise Unusual  # the metadata way notes it: in a compound statement's header
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
            raise Unusual
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
        """:class:`JobVisitor`'s calls on ``node`` (the statement or decorator ``tree`` is), in its order."""
        _walk_fields(node, parent, self.parents, _StatementVisitor(self.analysis, functions))

    def simple(self, statement: Any, holder: Any, functions: list) -> None:
        mine = self.pairing[id(holder)]
        small = holder.body[next(i for i, node in enumerate(mine) if node is statement)]
        self.parents[small] = holder
        self.assignment(statement, small, holder, functions[-1] if functions else None)
        if not isinstance(statement, _NO_EXPRESSIONS) and self.matters(statement):
            if not isinstance(holder, cst.SimpleStatementLine):
                raise Unusual  # a one-line suite: the metadata way notes it
            self.visit(statement, small, functions, holder)

    def assignment(self, statement: Any, small: Any, holder: Any, function) -> None:
        """What :class:`JobVisitor`'s ``visit_Assign``/``AnnAssign``/``AugAssign`` record."""
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


