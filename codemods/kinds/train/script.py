"""Add remote debugging to a training script (section 2 of the source document).

``add(source, options)`` returns the instrumented source. It finds how the
script parses its arguments and then:

* parser mode: the ``--remote_debug*`` flags join the script's own
  argparse parser after the script's own options (so they show in
  ``--help``, below those; see :mod:`instrument.codemods.kinds.train.flag_placement`), and
  ``_instrument_remote_debug(args)`` runs right after every parse, with the
  namespace variable the script uses;
* standalone mode (no parser it can follow: plain scripts, click, typer,
  ``sys.argv``, ``main(parser.parse_args())``): the helper is called right
  after it is defined, parses only the four flags and takes them out of
  ``sys.argv``.

With ``Options.helper`` (what the runner gives by default) the helper is
the module beside the script, loaded by one statement above the module's
first statement that runs; inline, it is defined once, after the module's
leading imports. All inserted text is fenced whole lines (see :mod:`instrument.codemods.fences.markers`).

The analysis walks statements, not every expression node, and resolves
names through the module's imports (:mod:`instrument.codemods.python.names`): a full
metadata pass would cost several parses per file. It tests nodes with
isinstance rather than LibCST matchers because it runs on every file of a
tree, and importing ``libcst.matchers`` alone costs more than 100 ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from instrument.codemods.fences import fence_layout, markers
from instrument.codemods.helper import module as helper_module, templates
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds.train.flag_placement import flags_anchor
from instrument.codemods.kinds.base import Note, Plan
from instrument.codemods.python.names import ImportTable, binds_locally, binds_locally_in, free_name
from instrument.codemods.python.parsing import verify_with_stand_ins
from instrument.codemods.python.positions import ast_tree, first_line_above, paired, statement_lines
from instrument.codemods.python.syntax_kinds import is_docstring
from instrument.codemods.runtime.render import reindent
from instrument.codemods.python.source_facts import PARSE_METHODS, source_facts
from instrument.codemods.python.statements import Scope, runs_before, walk
from instrument.codemods.core.options import validate_identifier
from instrument.codemods.core.options import Options

ARGUMENT_PARSER = "argparse.ArgumentParser"
RUN_CLASSES = ("azureml.core.Run", "azureml.core.run.Run")






@dataclass(eq=False)  # hashed by identity: one per statement
class _Statement:
    """A one-statement line ``target = value`` or ``return value``, where it is."""

    line: cst.SimpleStatementLine
    scope: Scope
    function: Optional[cst.FunctionDef]
    target: Optional[str]  # None for return
    value: cst.BaseExpression
    suite: bool = False  # inside a one-line suite (``if x: a = b``)
    path: tuple = ()  # see statements.walk


@dataclass
class _Analysis:
    parser_statements: dict[int, tuple[cst.SimpleStatementLine, str]] = field(default_factory=dict)
    anchors: list[tuple[cst.SimpleStatementLine, str, Optional[str]]] = field(default_factory=list)
    followed_calls: int = 0
    unfollowable: bool = False


def _target_name(target: cst.BaseExpression) -> Optional[str]:
    """``args`` for ``args = ...`` and ``args, rest = ...`` (tuple: first element)."""
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, (cst.Tuple, cst.List)) and target.elements:
        first = target.elements[0].value
        if isinstance(first, cst.Name):
            return first.value
    return None


class _Analyzer:
    """Which parser each parse call uses, and where its result gets a name.

    A parser is ``argparse.ArgumentParser(...)`` (under any import alias)
    assigned to a name, or the result of a *factory*: a function returning
    such a parser. Flags go after the ``ArgumentParser`` statement of each
    parser that is actually parsed, so parent parsers stay untouched.
    """

    def __init__(self, module: cst.Module, source: str) -> None:
        self.module, self.source = module, source
        self.imports = ImportTable()
        self.statements: list[_Statement] = []
        self.functions: dict[str, cst.FunctionDef] = {}
        self.enclosing: dict[int, Scope] = {}  # id(function) -> the scope it is defined in
        self.names: set[str] = set()
        for kind, node, scope, function, in_suite, path in walk(module.body, None, None):
            if kind == "def":
                self.enclosing[id(node)] = scope
                self.functions.setdefault(node.name.value, node)
                self.names.add(node.name.value)
                continue
            for small in node.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    self.imports.add(small)
            self._record(node, scope, function, in_suite, path)
        # (scope, name) -> parser statements; function name -> parser statements
        self.parsers: dict[tuple[int, str], frozenset] = {}
        self.factories: dict[str, frozenset] = {}

    def _record(self, line, scope, function, in_suite, path) -> None:
        if len(line.body) != 1:
            return
        small = line.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = _target_name(small.targets[0].target)
            if target:
                self.names.add(target)
                self.statements.append(_Statement(line, scope, function, target, small.value, in_suite, path))
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            target = _target_name(small.target)
            if target:
                self.names.add(target)
                self.statements.append(_Statement(line, scope, function, target, small.value, in_suite, path))
        elif isinstance(small, cst.Return) and small.value is not None and function is not None:
            self.statements.append(_Statement(line, scope, function, None, small.value, in_suite, path))

    def resolve_parser(self, node: cst.BaseExpression, scope: Scope, statement=None):
        """The statements that built the parser ``node`` evaluates to, else None.

        An empty set means "a parser, but built where flags cannot go".
        """
        if isinstance(node, cst.Call):
            if self.imports.qualified_name(node.func) == ARGUMENT_PARSER:
                return frozenset([statement]) if statement is not None else frozenset()
            if isinstance(node.func, cst.Name):
                return self.factories.get(node.func.value)
            return None
        if isinstance(node, cst.Name):
            found = self.parsers.get((id(scope), node.value))
            if found is None and scope is not None:
                found = self.parsers.get((id(None), node.value))
            return found
        return None

    def run(self) -> _Analysis:
        changed = True
        while changed:  # parser variables and factories, to a fixpoint
            changed = False
            for s in self.statements:
                if s.target is not None:
                    if (id(s.scope), s.target) not in self.parsers:
                        built = self.resolve_parser(s.value, s.scope, s)
                        if built is not None:
                            self.parsers[(id(s.scope), s.target)] = built
                            changed = True
                    continue
                function = s.function
                assert function is not None, "a return is recorded inside a function only"
                if function.name.value not in self.factories:
                    built = self.resolve_parser(s.value, s.scope)
                    if built is not None:
                        self.factories[function.name.value] = built
                        changed = True
        # A parser variable later bound to something else (``parser =
        # add_my_args(parser)``) may no longer be the parser that is parsed.
        for s in self.statements:
            if s.target is None:
                continue  # a return: parsers are keyed by the names they are bound to
            key = (id(s.scope), s.target)
            if key in self.parsers and self.resolve_parser(s.value, s.scope, s) is None:
                self.parsers[key] = frozenset()
        result = _Analysis()
        for s in self.statements:
            call = s.value
            if not (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in PARSE_METHODS
            ):
                continue
            built = self.resolve_parser(call.func.value, s.scope)
            if built is None:
                continue  # not an argparse parser
            result.followed_calls += 1
            if not built or s.suite or any(parser.suite for parser in built) or _fixed_argv(call):
                result.unfollowable = True
                continue
            for parser in built:
                result.parser_statements[id(parser.line)] = (parser.line, parser.target)
            self._follow(s, result, depth=0)
        return result

    def _follow(self, s: _Statement, result: _Analysis, depth: int) -> None:
        """Anchor the debug call where the namespace from ``s`` gets a name."""
        if s.target is not None:
            result.anchors.append((s.line, s.target, self.run_context(s)))
            return
        function = s.function
        assert function is not None, "a return is recorded inside a function only"
        callers = [
            c
            for c in self.statements
            if c.target is not None and _calls_name(c.value, function.name.value)
        ]
        if not callers or depth >= 3 or any(c.suite for c in callers):
            result.unfollowable = True
            return
        for caller in callers:
            self._follow(caller, result, depth + 1)

    def run_context(self, anchor: _Statement) -> Optional[str]:
        """A run context the script already has, surely bound where the anchor runs.

        Passing a name that is not bound yet would be a NameError (a script
        often parses first and calls ``Run.get_context()`` after), and a
        module-level name that the anchor's function also binds is a local
        there (UnboundLocalError); then the helper makes its own.
        """
        for s in self.statements:
            if s.target is None or not isinstance(s.value, cst.Call):
                continue
            if self.imports.qualified_name(s.value.func) not in {f"{c}.get_context" for c in RUN_CLASSES}:
                continue
            if not runs_before(s.path, anchor.path):
                continue
            if s.scope is anchor.scope:
                return s.target
            function = anchor.function
            if (
                s.scope is None
                and function is not None  # the anchor is not at module level (the same scope as s, above)
                and function is anchor.scope
                and self.enclosing.get(id(function), self) is None
                and not self._binds_locally(function, s.target)
            ):
                return s.target
        return None

    def _binds_locally(self, function: cst.FunctionDef, name: str) -> bool:
        nodes = (paired(self.module, self.source) or {}).get(id(function))
        if nodes:
            return binds_locally_in(nodes[0], name)
        return binds_locally(self.module.code_for_node(function), name)


def _indent_of(lines: list[str], line_number: int) -> str:
    line = lines[line_number - 1]
    return markers.counted_indent(line[: len(line) - len(line.lstrip(" \t\f"))])


def _fixed_argv(call: cst.Call) -> bool:
    """``parse_args([])``, ``parse_args(args=["--x", "1"])``, ``parse_args("--x 1".split())``.

    Such a parse never sees the command line, so flags added to its parser
    could not switch debugging on; the standalone helper reads sys.argv.
    """
    for arg in call.args:
        positional = arg.keyword is None and arg.star == ""
        if not (positional or (arg.keyword is not None and arg.keyword.value == "args")):
            continue
        value = arg.value
        if isinstance(value, (cst.List, cst.Tuple)):
            return True
        return (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "split"
            and isinstance(value.func.value, (cst.SimpleString, cst.ConcatenatedString))
        )
    return False


def _calls_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == name


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _leading_statements(module: cst.Module) -> tuple[Optional[cst.CSTNode], Optional[cst.CSTNode]]:
    """(last docstring/import statement of the module's head, first statement after it)."""
    last = None
    for index, statement in enumerate(module.body):
        is_import_try = isinstance(statement, cst.Try) and all(
            _is_import_line(s) for s in statement.body.body
        )
        if _is_import_line(statement) or is_import_try or (index == 0 and is_docstring(statement)):
            last = statement
            continue
        return last, statement
    return last, None


def _first_code(module: cst.Module) -> Optional[int]:
    """Index in the module's body of its first statement that runs code when the script starts
    (not an import, the docstring, a ``def`` or a ``class``); None: there is none."""
    for index, statement in enumerate(module.body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            continue
        is_import_try = isinstance(statement, cst.Try) and all(_is_import_line(s) for s in statement.body.body)
        if _is_import_line(statement) or is_import_try or (index == 0 and is_docstring(statement)):
            continue
        return index
    return None


def _blank_lines_before(statement: Optional[cst.CSTNode]) -> int:
    """How many blank lines open the lines LibCST attaches above ``statement``."""
    count = 0
    for line in getattr(statement, "leading_lines", ()):
        if line.comment is not None:
            break
        count += 1
    return count


def plan(clean: str, module: cst.Module, options: Options) -> Plan:
    """The helper, the flags and the calls for a training script (blocks already removed)."""
    if not module.body:
        return Plan(reason="the file is empty")
    tree = ast_tree(clean)
    facts = source_facts(tree, module)
    if facts.flag is not None:
        line, flag = facts.flag
        raise InstrumentError(
            f"line {line}: the script already defines {flag} (hand-written "
            "remote debugging); remove it, or use --take-over to replace it"
        )
    analyzer = _Analyzer(module, clean)
    analysis = analyzer.run()
    standalone = (
        not analysis.anchors
        or analysis.unfollowable
        or analysis.followed_calls < facts.parse_calls
        or facts.read_as_mapping
    )
    notes = []
    if not standalone:
        # Flags joining the script's parser would break it: read them on their own.
        if facts.foreign_prefix is not None:
            standalone = True
            notes.append(Note(*facts.foreign_prefix, "a parser's prefix_chars may not take --remote_debug: "
                              "the debug flags are read on their own, not by the script's parser"))
        elif facts.subcommands is not None:
            standalone = True
            notes.append(Note(*facts.subcommands, "the parser has subcommands, whose own parsers refuse the "
                              "top-level parser's options: the debug flags are read on their own, wherever they "
                              "stand on the command line"))
        elif facts.abbreviation_clash is not None and facts.abbreviations_allowed:
            standalone = True
            line, col, option = facts.abbreviation_clash
            notes.append(Note(line, col, f"--remote_debug would make abbreviations of {option} (such as "
                              f"{option[:3]}) ambiguous: the debug flags are read on their own, not by the "
                              "script's parser"))
    parsers = [] if standalone else list(analysis.parser_statements.values())
    anchors = [] if standalone else analysis.anchors
    flag_anchors = {id(statement): flags_anchor(module, statement, name, clean) for statement, name in parsers}
    beside = options.helper is not None
    # (a statement, the one below it): the helper's block goes between them.
    head = _beside_head(module) if beside else _leading_statements(module)
    wanted = [statement for statement in head if statement is not None]
    wanted += [statement for statement, _ in parsers] + list(flag_anchors.values())
    wanted += [statement for statement, _, _ in anchors]
    lines_of = statement_lines(module, wanted, clean)
    lines = markers.split_lines(clean)
    indent_unit = markers.counted_indent(module.default_indent) or "    "
    taken = analyzer.names | analyzer.imports.bound_names
    if beside:
        name = free_name(helper_module.LOADED_NAME, taken)
        helper = _loader_block(module, clean, options, name, standalone, head, lines_of, len(lines), indent_unit)
    else:
        name = free_name(templates.HELPER_NAME, taken)
        helper = _helper_block(module, clean, options, name, standalone, head, lines_of, indent_unit)
    insertions = [helper]
    for statement, parser_name in parsers:
        indent = _indent_of(lines, lines_of[id(statement)][0])
        if beside:
            flags = reindent(helper_module.call_lines(
                helper_module.function(name, helper_module.FLAGS_FUNCTION),
                [parser_name, *helper_module.train_arguments(options)], indent,
            ), indent_unit)
        else:
            flags = templates.flag_lines(parser_name, options, indent_unit)
        last = lines_of[id(flag_anchors[id(statement)])][1]
        insertions.append(markers.Insertion(last, indent, templates.LABEL_FLAGS, flags))
    seen: set[int] = set()
    for statement, namespace, run in anchors:
        first, last = lines_of[id(statement)]
        if first in seen:
            continue
        seen.add(first)
        indent = _indent_of(lines, first)
        if beside:
            # The chosen values again: the fallback for a flag a parent parser defines with a bad value.
            arguments = [validate_identifier(namespace)] + ([f"run={validate_identifier(run)}"] if run else [])
            arguments += helper_module.train_arguments(options)
            call = reindent(helper_module.call_lines(
                helper_module.function(name, helper_module.TRAIN_FUNCTION), arguments, indent
            ), indent_unit)
        else:
            call = templates.call_lines(name, namespace, run)
        insertions.append(markers.Insertion(last, indent, templates.LABEL_CALL, call))
    generated = ((options.helper, helper_module.module_text()),) if options.helper is not None else ()
    # ``expected``: the line ending add writes, for verify's stand-ins.
    return Plan(insertions=insertions, notes=notes, expected=module.default_newline, generated=generated)


def _helper_block(module, clean, options, name, standalone, head, lines_of, indent_unit) -> markers.Insertion:
    """The whole helper, defined after the module's imports (``--inline``).

    The block goes after the imports and the blank lines that follow them,
    above any comment of the next statement, with the blank lines a
    formatter (black, ruff format) wants around a definition inside the
    fences: a formatter run on the instrumented file then adds none outside
    them, where strip would leave them behind (see fence_layout).
    """
    last_head, first_body = head
    blank = _blank_lines_before(first_body) if last_head is not None else 0
    leading_below = list(getattr(first_body, "leading_lines", ()))[blank:]
    leads = fence_layout.leads_definition(first_body, leading_below)
    body = [] if leads else fence_layout.blank_lines_after_fence(0)
    body += templates.helper_lines(name, options, indent_unit) + ["", ""]
    if standalone:
        body += templates.call_lines(name, None) + ["", ""]
    if last_head is not None:
        at = lines_of[id(last_head)][1] + blank
    else:  # no imports: above the first statement, its decorators and comments
        at = first_line_above(module, first_body, clean)
    return markers.Insertion(at, "", templates.LABEL_HELPER, body)


def _beside_head(module: cst.Module) -> tuple:
    """(the statement above the module's first statement that runs code, that statement): the loading
    statement goes between (the definitions above run nothing when the script starts, and a formatter
    wants no blank lines between it and that code)."""
    first = _first_code(module)
    if first is None:
        return None, None
    return (module.body[first - 1] if first > 0 else None), module.body[first]


def _loader_block(module, clean, options, name, standalone, head, lines_of, line_count,
                  indent_unit) -> markers.Insertion:
    """The statement that loads the helper file beside the script (``options.helper``); without a
    parser to follow, the call to the helper right after it, as the inline helper's is."""
    above, first = head
    if first is None:
        at = line_count
    elif above is None:
        at = first_line_above(module, first, clean)
    else:
        at = lines_of[id(above)][1] + _blank_lines_before(first)
    block = helper_module.loader_lines(name, options.helper)
    if standalone:
        block += helper_module.call_lines(
            helper_module.function(name, helper_module.TRAIN_FUNCTION), helper_module.train_arguments(options), ""
        )
    return markers.Insertion(at, "", templates.LABEL_HELPER, reindent(block, indent_unit))


def verify(result: str, clean: str, plan: Plan) -> None:
    """Refuse a result that does not strip back to ``clean`` or does not parse.

    The injected blocks are checked with ``pass`` standing in for them
    (:func:`parsing.verify_with_stand_ins`): the helper alone is several
    times longer than a small script, and the same in every file.
    """
    verify_with_stand_ins(result, clean, plan.insertions, plan.expected)
