"""The pipeline plan statement by statement, without LibCST's metadata.

LibCST's metadata providers (qualified names, parents, positions) cost many
parses per file. A pipeline definition changes in a few statements only, so:

* CPython's tree (shared with :mod:`positions`) says which statements hold a
  call that may matter (a ``PythonScriptStep``, ``CondaDependencies``, an
  ``add_pip_package``), names resolved through the module's imports;
* only those LibCST statement lines are analysed and rewritten, with the same
  decisions as :mod:`pipeline` makes (its ``_Analysis`` and ``_Rewriter``);
* each rewritten statement is generated on its own, after a check that its
  original regenerates to exactly the lines it stands on.

Anything outside that shape (such a call in a compound statement's header or
a one-line suite, grammar CPython does not know, a statement that does not
regenerate to its lines) gives None, and :func:`pipeline.plan_with_metadata`
decides instead.
"""

from __future__ import annotations

import ast
import functools
from typing import Optional

import libcst as cst

from instrument.codemods.fences import markers
from instrument.codemods.python.call_arguments import majority_quote, preferred_quote, quoted
from instrument.codemods.core.packages import DEBUGPY
from instrument.codemods.kinds.base import Plan
from instrument.codemods.python import cst_walk
from instrument.codemods.python.names import ImportTable
from instrument.codemods.python.positions import ast_tree, paired, statement_code, statement_of
from instrument.codemods.python.syntax_kinds import import_statements

WANTED_TAILS = ("PythonScriptStep", "CondaDependencies", "create", "add_pip_package", "add_conda_package")
_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def dotted_name(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def may_matter(func: ast.AST, table: ImportTable) -> bool:
    """Could pipeline's analysis act on a call of ``func``? (It decides; this only narrows.)"""
    if isinstance(func, ast.Attribute) and func.attr in ("add_pip_package", "add_conda_package"):
        return True
    dotted = dotted_name(func)
    if dotted is None:
        return False
    name = table.qualified_dotted(dotted) or dotted
    return name.rsplit(".", 1)[-1] in WANTED_TAILS


def statement_calls(statement: ast.stmt):
    """The calls in a statement's own expressions (not in the statements it holds)."""
    stack = [getattr(statement, name, None) for name in statement._fields if name not in _STATEMENT_LISTS]
    while stack:
        value = stack.pop()
        if type(value) is list:
            stack.extend(value)
        elif isinstance(value, ast.AST):
            if type(value) is ast.Call:
                yield value
            stack.extend([getattr(value, name, None) for name in value._fields])  # ast.iter_fields, without its generator


def statements_worth_reading(body: list):
    for statement in body:
        yield statement
        for name in _STATEMENT_LISTS:
            for item in getattr(statement, name, ()) or ():
                if isinstance(item, ast.stmt):
                    yield from statements_worth_reading([item])
                else:  # an except handler or a match case
                    yield from statements_worth_reading(item.body)


#: [tree, module, what :func:`statements_that_may_matter` found]: both planners read one file in turn.
_last_reading: list = [None, None, None]


def statements_that_may_matter(tree: ast.Module, module: cst.Module) -> tuple[ImportTable, list]:
    """The module's imports, and ``(statement, its calls that may matter)`` for each statement
    (in reading order) that has one: the text planner and this one read the same file in turn,
    and walk it once."""
    if _last_reading[0] is tree and _last_reading[1] is module:
        return _last_reading[2]
    table = ImportTable()
    for node in import_statements(module):
        table.add(node)
    found = []
    for statement in statements_worth_reading(tree.body):
        calls = [call for call in statement_calls(statement) if may_matter(call.func, table)]
        if calls:
            found.append((statement, calls))
    _last_reading[:] = [tree, module, (table, found)]
    return table, found


class _LineAnalysis:
    """pipeline.StepAnalysis's decisions, for one statement line with known call lines."""

    @staticmethod
    def make(options, table: ImportTable):
        from instrument.codemods.kinds.pipeline import steps as pipeline

        class Analysis(pipeline.StepAnalysis):
            METADATA_DEPENDENCIES = ()

            def __init__(self) -> None:
                super().__init__(options)
                self.lines: dict[int, int] = {}
                self.statement: Optional[cst.SimpleStatementLine] = None

            def line(self, node: cst.CSTNode) -> int:
                return self.lines[id(node)]

            def _names(self, node: cst.CSTNode) -> set[str]:
                from libcst.helpers import get_full_name_for_node

                spelled = get_full_name_for_node(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
                if spelled is None:
                    return set()
                return {table.qualified_dotted(spelled) or spelled}

            def _constructor(self, call: cst.Call) -> None:
                statement = self.statement
                assert statement is not None, "set before the statement is visited"
                for small in statement.body:
                    if isinstance(small, cst.Assign) and small.value is call and len(small.targets) == 1:
                        target = small.targets[0].target
                        if isinstance(target, (cst.Name, cst.Attribute)):
                            self.constructed.append((statement, pipeline.code_of(target)))
                        return

        return Analysis()


def plan_by_statement(clean: str, module: cst.Module, options) -> Optional[Plan]:
    from instrument.codemods.kinds.pipeline import steps as pipeline

    tree = ast_tree(clean)
    if tree is None:
        return None
    pairing = paired(module, clean)
    if pairing is None:
        return None
    owner = statement_of(module, clean)
    assert owner is not None, "None only where paired() is"
    table, found = statements_that_may_matter(tree, module)
    chosen: dict[int, cst.SimpleStatementLine] = {}
    for statement, _ in found:
        line = owner.get(id(statement))
        if not isinstance(line, cst.SimpleStatementLine):
            return None  # a compound statement's header or a one-line suite
        chosen[id(line)] = line
    lines = markers.split_lines(clean)
    analysis = _LineAnalysis.make(options, table)
    places: dict[int, tuple[int, int, str]] = {}  # id(statement) -> (first, last, indent)
    calls_of: dict[int, list] = {}
    parents_of: dict[int, dict] = {}
    for statement in chosen.values():
        nodes = pairing[id(statement)]
        first, last = nodes[0].lineno, nodes[-1].end_lineno
        parents = parents_of[id(statement)] = dict(cst_walk.walk(statement))
        calls = calls_of[id(statement)] = [node for node in parents if type(node) is cst.Call]
        lasts = [call.args[-1] for call in calls if call.args]
        original = "".join(lines[first - 1 : last])
        indent = original[: len(original) - len(original.lstrip(" \t\f"))]
        code, offsets = statement_code(module, statement, [*calls, *lasts], indent)
        if indent + code.rstrip("\r\n") != original.rstrip("\r\n"):
            return None  # does not regenerate to its own lines: let the metadata way decide
        places[id(statement)] = (first, last, indent)
        analysis.lines.update({key: first + offset for key, offset in offsets.items()})
        analysis.statement = statement
        for call in calls:  # all the analysis visits (a visit would rebuild the statement)
            analysis.visit_Call(call)
    if options.steps and not analysis.steps:
        return pipeline.no_step_named(options)
    # The module's quote style: from CPython's tree where it can tell, else a full visit; only when asked.
    quote = functools.lru_cache(maxsize=None)(lambda: _module_quote(clean, tree) or preferred_quote(module, "'"))
    rewriter = pipeline.StepRewriter(analysis, lines, analysis.line, quote)
    rewritten: dict[int, list[str]] = {}
    steps, creates = set(analysis.steps), set(analysis.creates)
    has_step: dict[int, bool] = {}
    for statement in chosen.values():
        targets = [call for call in calls_of[id(statement)] if call in steps or call in creates]
        if not targets:
            continue  # the rewriter edits these calls only
        path = cst_walk.path_to(targets, statement, parents_of[id(statement)])
        assert path is not None, "the calls were walked from the statement"
        new = cst_walk.rewritten(statement, path, rewriter)
        assert isinstance(new, cst.SimpleStatementLine), "the rewriter edits calls only"
        if not any(call in rewriter.changed for call in targets):
            continue
        first, last, indent = places[id(statement)]
        code, _ = statement_code(module, new, indent=indent)
        rewritten[first] = [line.rstrip("\r\n") for line in markers.split_lines(indent + code)]
        has_step[first] = any(call in steps for call in calls_of[id(statement)])
    insertions: list[markers.Insertion] = []
    ranges = pipeline.merged_ranges([places[id(s)][:2] for s in chosen.values() if places[id(s)][0] in rewritten])
    expected = [line.rstrip("\r\n") for line in lines]
    for start, end in reversed(ranges):
        body = [line for first in sorted(rewritten) if start <= first <= end for line in rewritten[first]]
        expected[start - 1 : end] = body
        indent = pipeline._block_indent(body)
        label = pipeline.LABEL_STEP if any(has_step.get(f) for f in rewritten if start <= f <= end) else pipeline.LABEL_CONDA
        insertions.append(markers.Insertion(start - 1, indent, label, [line[len(indent) :] for line in body], end - start + 1))
    for statement, target in analysis.constructed:
        if target in analysis.with_debugpy:
            continue
        first, after, indent = places[id(statement)]
        if any(start <= after <= end for start, end in ranges):
            raise pipeline.InstrumentError(pipeline._own_line(first, target))
        call = f"{target}.add_pip_package({quoted(DEBUGPY, quote())})"
        insertions.append(markers.Insertion(after, indent, pipeline.LABEL_CONDA, [call]))
    if not insertions:
        return Plan(reason="no PythonScriptStep or step environment to instrument")
    return Plan(insertions=insertions, expected="\n".join(expected) + "\n")


def _string_end(text: str, start: int) -> int:
    """Where the string token whose prefix starts at ``start`` ends (CPython's tokenizer's rule:
    a backslash always takes the next character, raw string or not); -1: not a string."""
    at = start
    while at < len(text) and text[at] in "rRbBuU":
        at += 1
    for quote in ('"""', "'''", '"', "'"):
        if text.startswith(quote, at):
            break
    else:
        return -1
    at += len(quote)
    while at < len(text):
        if text[at] == "\\":
            at += 2
        elif text.startswith(quote, at):
            return at + len(quote)
        else:
            at += 1
    return -1


def _module_quote(clean: str, tree: ast.Module) -> Optional[str]:
    """:func:`call_arguments.preferred_quote` of the whole module (``'`` where it has no
    string), from CPython's tree and the text: each str or bytes constant one string
    token, its quote read at its position. None (ask LibCST) where the tree cannot tell:
    an f-string (LibCST counts the strings inside it), implicitly concatenated strings,
    a tree lowered from newer grammar."""
    from instrument.codemods.python.positions import parsed_natively

    if not parsed_natively(clean):
        return None
    lines: Optional[list[str]] = None
    encoded: dict[int, bytes] = {}
    strings = double = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            return None
        if not isinstance(node, ast.Constant) or not isinstance(node.value, (str, bytes)):
            continue
        if lines is None:
            lines = markers.split_lines(clean)
        first, last = node.lineno, node.end_lineno
        if first is None or last is None or node.end_col_offset is None:
            return None
        for number in range(first, last + 1):
            if number not in encoded:
                encoded[number] = lines[number - 1].encode("utf-8")
        if first == last:
            segment = encoded[first][node.col_offset : node.end_col_offset]
        else:
            segment = encoded[first][node.col_offset :] + b"".join(
                encoded[n] for n in range(first + 1, last)) + encoded[last][: node.end_col_offset]
        text = segment.decode("utf-8")
        if _string_end(text, 0) != len(text):
            return None  # not one token: concatenated strings
        strings += 1
        double += text.endswith('"')
    return majority_quote(strings, double) if strings else "'"
