"""Add remote debugging to a training script (section 2 of the source document).

``add(source, options)`` returns the instrumented source. It finds how the
script parses its arguments and then:

* parser mode: the four ``--remote_debug*`` flags join the script's own
  argparse parser right after it is built (so they show in ``--help``), and
  ``_instrument_remote_debug(args)`` runs right after every parse, with the
  namespace variable the script uses;
* standalone mode (no parser it can follow: plain scripts, click, typer,
  ``sys.argv``): the helper is called right after it is defined, parses only
  the four flags and takes them out of ``sys.argv``.

The helper itself is defined once, after the module's leading imports. All
inserted text is fenced whole lines (see :mod:`codemods.markers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import libcst as cst
import libcst.matchers as m
from libcst.metadata import (
    GlobalScope,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    Scope,
    ScopeProvider,
)

from codemods import markers, templates
from codemods.templates import DebugOptions

ARGUMENT_PARSER = "argparse.ArgumentParser"
RUN_CLASSES = {"azureml.core.Run", "azureml.core.run.Run"}
PARSE_METHODS = {
    "parse_args",
    "parse_known_args",
    "parse_intermixed_args",
    "parse_known_intermixed_args",
}
DEBUG_FLAGS = (
    "--remote_debug",
    "--remote_debug_connection_timeout",
    "--remote_debug_client_ip",
    "--remote_debug_port",
)


class InstrumentError(ValueError):
    """The script cannot be instrumented; the message says why."""


@dataclass
class _Anchor:
    """A statement after which the debug call goes, and the namespace name."""

    statement: cst.SimpleStatementLine
    namespace: str
    scope: Scope


@dataclass
class _Analysis:
    parser_statements: list[tuple[cst.SimpleStatementLine, str]] = field(default_factory=list)
    anchors: list[_Anchor] = field(default_factory=list)
    unfollowable: list[str] = field(default_factory=list)
    run_contexts: dict[tuple[Scope, str], int] = field(default_factory=dict)


def _target_name(target: cst.BaseAssignTargetExpression) -> Optional[str]:
    """``args`` for ``args = ...`` and ``args, rest = ...`` (tuple: first element)."""
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, (cst.Tuple, cst.List)) and target.elements:
        first = target.elements[0].value
        if isinstance(first, cst.Name):
            return first.value
    return None


def _assignment(statement: cst.CSTNode) -> Optional[tuple[str, cst.BaseExpression]]:
    """(name, value) when ``statement`` is a one-statement line ``name = value``."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and small.value is not None:
        name = _target_name(small.targets[0].target)
        return (name, small.value) if name else None
    if isinstance(small, cst.AnnAssign) and small.value is not None:
        name = _target_name(small.target)
        return (name, small.value) if name else None
    return None


class _Collector(cst.CSTVisitor):
    """Finds parsers, parse calls, helper functions and run contexts."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, ScopeProvider, ParentNodeProvider, PositionProvider)

    def __init__(self) -> None:
        super().__init__()
        self.parse_calls: list[cst.Call] = []
        self.returns: dict[cst.FunctionDef, list[cst.BaseExpression]] = {}
        self.assignments: list[tuple[cst.SimpleStatementLine, str, cst.BaseExpression]] = []
        self.names: set[str] = set()
        self.flag_lines: list[tuple[str, int]] = []
        self._function_stack: list[cst.FunctionDef] = []

    def line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    # -- visitors --------------------------------------------------------------
    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._function_stack.append(node)
        self.returns.setdefault(node, [])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._function_stack.pop()

    def visit_Return(self, node: cst.Return) -> None:
        if self._function_stack and node.value is not None:
            self.returns[self._function_stack[-1]].append(node.value)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        assigned = _assignment(node)
        if assigned:
            self.assignments.append((node, assigned[0], assigned[1]))

    def visit_Call(self, node: cst.Call) -> None:
        if m.matches(node.func, m.Attribute(attr=m.Name())) and node.func.attr.value in PARSE_METHODS:
            self.parse_calls.append(node)
        if m.matches(node.func, m.Attribute(attr=m.Name("add_argument"))):
            for arg in node.args:
                if m.matches(arg.value, m.SimpleString()) and arg.value.evaluated_value in DEBUG_FLAGS:
                    self.flag_lines.append((arg.value.evaluated_value, self.line(node)))


class _Analyzer:
    """Resolves which parser each parse call uses and where its result is named.

    A parser is the result of ``argparse.ArgumentParser(...)`` (under any
    alias) assigned to a name, or of a call to a *factory*: a function that
    returns such a parser. Flags go after the ``ArgumentParser`` statement of
    every parser that is actually parsed, so parent parsers stay untouched.
    """

    def __init__(self, module: cst.Module) -> None:
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.collector = _Collector()
        self.wrapper.visit(self.collector)
        self.scopes = self.wrapper.resolve(ScopeProvider)
        self.parents = self.wrapper.resolve(ParentNodeProvider)
        self.positions = self.wrapper.resolve(PositionProvider)
        self.qualified = self.wrapper.resolve(QualifiedNameProvider)
        # (scope, name) -> statements that built the parser bound to that name
        self.parsers: dict[tuple[Scope, str], frozenset] = {}
        # function name -> statements that built the parser it returns
        self.factories: dict[str, frozenset] = {}

    def names_of(self, node: cst.CSTNode) -> set[str]:
        names = self.qualified.get(node, set())
        if callable(names):  # LibCST resolves qualified names lazily
            names = names()
        return {q.name for q in names}

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        while not isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.Module)):
            node = self.parents[node]
        return node

    def enclosing_function(self, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
        while not isinstance(node, cst.Module):
            node = self.parents[node]
            if isinstance(node, cst.FunctionDef):
                return node
        return None

    def resolve_parser(self, node: cst.CSTNode, scope: Optional[Scope], statement=None):
        """The statements that built the parser ``node`` evaluates to, else None.

        An empty set means "a parser, but built where flags cannot go".
        """
        if isinstance(node, cst.Call):
            if ARGUMENT_PARSER in self.names_of(node.func):
                return frozenset([statement]) if statement is not None else frozenset()
            if isinstance(node.func, cst.Name):
                return self.factories.get(node.func.value)
            return None
        if isinstance(node, cst.Name) and scope is not None:
            found = self.parsers.get((scope, node.value))
            if found is None and not isinstance(scope, GlobalScope):
                found = self.parsers.get((scope.globals, node.value))
            return found
        return None

    def run(self) -> _Analysis:
        c = self.collector
        result = _Analysis()
        changed = True
        while changed:  # parser variables and factories, to a fixpoint
            changed = False
            for statement, name, value in c.assignments:
                key = (self.scopes[statement], name)
                if key not in self.parsers:
                    built = self.resolve_parser(value, key[0], statement)
                    if built is not None:
                        self.parsers[key] = built
                        changed = True
            for function, returned in c.returns.items():
                fname = function.name.value
                if fname not in self.factories:
                    for value in returned:
                        built = self.resolve_parser(value, self.scopes.get(value))
                        if built is not None:
                            self.factories[fname] = built
                            changed = True
                            break
        for statement, name, value in c.assignments:
            if isinstance(value, cst.Call) and RUN_CLASSES & {
                n.rsplit(".", 1)[0] for n in self.names_of(value.func) if n.endswith(".get_context")
            }:
                result.run_contexts[(self.scopes[statement], name)] = self.positions[statement].start.line
        parsed: dict[cst.SimpleStatementLine, None] = {}
        for call in c.parse_calls:
            built = self.resolve_parser(call.func.value, self.scopes.get(call))
            if built is None:
                continue  # not an argparse parser
            if not built:
                result.unfollowable.append(f"line {self.positions[call].start.line}")
                continue
            parsed.update(dict.fromkeys(built))
            self.follow_parse(call, result, depth=0)
        for statement in parsed:
            name = _assignment(statement)
            if name:
                result.parser_statements.append((statement, name[0]))
        return result

    def follow_parse(self, call: cst.Call, result: _Analysis, depth: int) -> None:
        """Find where the namespace produced by ``call`` gets a name."""
        statement = self.statement_of(call)
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            assigned = _assignment(statement)
            if assigned and assigned[1] is call:
                result.anchors.append(_Anchor(statement, assigned[0], self.scopes[statement]))
                return
            if isinstance(small, cst.Return) and small.value is call and depth < 3:
                function = self.enclosing_function(statement)
                callers = self.calls_of(function.name.value) if function is not None else []
                if callers:
                    for caller in callers:
                        self.follow_parse(caller, result, depth + 1)
                    return
        result.unfollowable.append(f"line {self.positions[call].start.line}")

    def calls_of(self, function_name: str) -> list[cst.Call]:
        return [
            node
            for node in self.positions
            if isinstance(node, cst.Call) and m.matches(node.func, m.Name(function_name))
        ]


def _indent_of(lines: list[str], line_number: int) -> str:
    line = lines[line_number - 1]
    return line[: len(line) - len(line.lstrip(" \t\f"))]


def _free_name(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _leading_block_end(module: cst.Module, positions) -> int:
    """0-based line before which the helper goes: after docstring and imports."""
    end = None
    for index, statement in enumerate(module.body):
        if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body
        ):
            end = positions[statement].end.line
            continue
        if index == 0 and m.matches(
            statement, m.SimpleStatementLine(body=[m.Expr(m.SimpleString() | m.ConcatenatedString())])
        ):
            end = positions[statement].end.line
            continue
        if isinstance(statement, cst.Try) and all(
            isinstance(s, cst.SimpleStatementLine)
            and all(isinstance(x, (cst.Import, cst.ImportFrom)) for x in s.body)
            for s in statement.body.body
        ):
            end = positions[statement].end.line
            continue
        if end is None:
            return positions[statement].start.line - 1
        return end
    return end if end is not None else 0


def add(source: str, options: DebugOptions = DebugOptions()) -> str:
    """Instrument a training script; instrumenting twice gives the same text."""
    clean = markers.remove_blocks(source)
    try:
        module = cst.parse_module(clean)
    except cst.ParserSyntaxError as exc:
        raise InstrumentError(f"cannot parse: {str(exc).splitlines()[0]}") from None
    if not module.body:
        return clean
    analyzer = _Analyzer(module)
    analysis = analyzer.run()
    collector = analyzer.collector
    if collector.flag_lines:
        flag, line = collector.flag_lines[0]
        raise InstrumentError(
            f"line {line}: the script already defines {flag} (hand-written remote "
            "debugging); remove it before running instrument add"
        )
    lines = markers.split_lines(clean)
    indent_unit = module.default_indent
    positions = analyzer.positions
    name = _free_name(templates.HELPER_NAME, collector.names)
    standalone = not analysis.anchors or bool(analysis.unfollowable)
    insertions: list[markers.Insertion] = []
    helper_at = _leading_block_end(module, positions)
    helper_body = templates.helper_lines(name, options, indent_unit)
    if standalone:
        helper_body += templates.call_lines(name, None)
    insertions.append(markers.Insertion(helper_at, "", templates.LABEL_HELPER, helper_body))
    if not standalone:
        for statement, parser_name in analysis.parser_statements:
            end = positions[statement].end.line
            insertions.append(
                markers.Insertion(
                    end,
                    _indent_of(lines, positions[statement].start.line),
                    templates.LABEL_FLAGS,
                    templates.flag_lines(parser_name, options, indent_unit),
                )
            )
        seen: set[int] = set()
        for anchor in analysis.anchors:
            start = positions[anchor.statement].start.line
            if start in seen:
                continue
            seen.add(start)
            run = _run_context_for(anchor, analysis, start)
            insertions.append(
                markers.Insertion(
                    positions[anchor.statement].end.line,
                    _indent_of(lines, start),
                    templates.LABEL_CALL,
                    templates.call_lines(name, anchor.namespace, run),
                )
            )
    result = markers.insert_blocks(clean, insertions, module.default_newline)
    _verify(result, clean)
    return result


def _run_context_for(anchor: _Anchor, analysis: _Analysis, line: int) -> Optional[str]:
    for (scope, name), assigned_line in analysis.run_contexts.items():
        if scope is anchor.scope and assigned_line < line:
            return name
        if isinstance(scope, GlobalScope) and scope is not anchor.scope:
            if anchor.scope.globals is scope and name not in anchor.scope.assignments:
                return name
    return None


def _verify(result: str, original: str) -> None:
    """Refuse to hand back text that does not parse or does not strip back."""
    try:
        cst.parse_module(result)
    except cst.ParserSyntaxError as exc:  # pragma: no cover - a bug, not user error
        raise InstrumentError(f"internal error: instrumented code does not parse: {exc}") from None
    if markers.remove_blocks(result) != original:  # pragma: no cover - a bug
        raise InstrumentError("internal error: instrumented code does not strip back to the original")
