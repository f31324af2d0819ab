"""Instrument a pipeline definition (section 2 of the source document).

``add(source, options)`` returns the instrumented source:

* every ``PythonScriptStep(...)`` (any alias, keyword or positional use; with
  ``options.steps`` only those whose ``name=`` is listed) gets the debug flags
  appended as a list of their own, ``arguments=<original> + [...]`` (or
  ``arguments=[...]``), and ``allow_reuse=False`` so the step really reruns;
* ``CondaDependencies.create(...)`` gets ``'debugpy'`` in ``pip_packages``, and
  an object built with ``CondaDependencies()`` gets
  ``.add_pip_package('debugpy')``, unless a debugpy requirement is there.

Changed calls are rewritten in the syntax tree; the statements holding them
are then swapped whole-line for marker blocks with ``replaces=N``, which keep
the original lines behind ``#:`` so strip restores them byte for byte.
"""

from __future__ import annotations

from typing import Callable, ClassVar, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, QualifiedNameProvider

from instrument.codemods.fences import markers
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds.base import Plan
from instrument.codemods.python.call_arguments import (
    appended,
    argument_index,
    code_of,
    double_star,
    is_name,
    merged_into_mapping,
    preferred_quote,
    quoted,
    string_items,
    with_keywords,
)
from instrument.codemods.core.packages import DEBUGPY, requirement_name
from instrument.codemods.helper.templates import DEBUG_FLAGS
from instrument.codemods.core.options import Options

STEP_CLASS = "PythonScriptStep"
# Positional parameters, as in azureml-pipeline-steps and azureml-core.
STEP_PARAMETERS = (
    "script_name", "name", "arguments", "compute_target", "runconfig", "runconfig_pipeline_params",
    "inputs", "outputs", "params", "source_directory", "allow_reuse", "version", "hash_paths",
)
SDK_DEFAULT_PIP_PACKAGE = "azureml-defaults"  # what CondaDependencies.create installs by default
CREATE_PARAMETERS = ("pip_indexurl", "pip_packages", "conda_packages", "python_version", "pin_sdk_version")
LABEL_STEP = "debug arguments and allow_reuse=False for this step"
LABEL_CONDA = "debugpy in this step environment"




def debug_arguments(options: Options, quote: str = "'") -> str:
    """The debug flags as a Python list literal (ints for port and timeout, as the seed)."""
    assert options.timeout is not None, "the kind's default is filled in first (Options.for_kind)"
    items: list[Union[str, int]] = ["--remote_debug", "--remote_debug_connection_timeout", int(options.timeout)]
    if options.client_ip:
        items += ["--remote_debug_client_ip", options.client_ip]
    items += ["--remote_debug_port", int(options.port)]
    if options.ranks is not None:  # validated: "all" or digits and commas
        items += ["--remote_debug_ranks", options.ranks]
    return "[" + ", ".join(str(i) if isinstance(i, int) else quoted(i, quote) for i in items) + "]"


class StepAnalysis(cst.CSTVisitor):
    """Finds the calls to change; decisions are made on the original nodes."""

    METADATA_DEPENDENCIES: ClassVar[tuple] = (QualifiedNameProvider, ParentNodeProvider, PositionProvider)

    def __init__(self, options: Options) -> None:
        super().__init__()
        self.options = options
        self.steps: list[cst.Call] = []  # selected PythonScriptStep calls
        self.creates: list[cst.Call] = []  # CondaDependencies.create calls
        self.constructed: list[tuple[cst.SimpleStatementLine, str]] = []  # (statement, target code)
        self.with_debugpy: set[str] = set()  # targets that already add_pip_package debugpy

    def line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _names(self, node: cst.CSTNode) -> set[str]:
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, node, set())}
        if not names and isinstance(node, (cst.Name, cst.Attribute)):
            names = {cst.Module([]).code_for_node(node)}  # e.g. after a star import
        return names

    def _is(self, node: cst.CSTNode, suffix: str) -> bool:
        return any(n == suffix or n.endswith("." + suffix) for n in self._names(node))

    def visit_Call(self, node: cst.Call) -> None:
        if self._is(node.func, STEP_CLASS):
            if self._selected(node):
                self.steps.append(node)
        elif self._is(node.func, "CondaDependencies.create"):
            self.creates.append(node)
        elif self._is(node.func, "CondaDependencies"):
            self._constructor(node)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in ("add_pip_package", "add_conda_package"):
            first = node.args[0].value if node.args else None
            if isinstance(first, cst.SimpleString) and requirement_name(first.evaluated_value) == DEBUGPY:
                self.with_debugpy.add(code_of(node.func.value))

    def _selected(self, call: cst.Call) -> bool:
        if not self.options.steps:
            return True
        index = argument_index(call, "name", STEP_PARAMETERS, self.line(call), required=False)
        value = call.args[index].value if index is not None else None
        name = value.evaluated_value if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)) else None
        return name in self.options.steps

    def _constructor(self, call: cst.Call) -> None:
        assign = self.get_metadata(ParentNodeProvider, call)
        if not (isinstance(assign, cst.Assign) and assign.value is call and len(assign.targets) == 1):
            return  # an unnamed object (e.g. passed straight on) cannot be given a package
        target = assign.targets[0].target
        statement = self.get_metadata(ParentNodeProvider, assign)
        if not isinstance(target, (cst.Name, cst.Attribute)):
            return
        if not isinstance(statement, cst.SimpleStatementLine):
            raise InstrumentError(_own_line(self.line(call), code_of(target)))
        self.constructed.append((statement, code_of(target)))


def _own_line(line: int, target: str) -> str:
    return f"line {line}: put `{target} = CondaDependencies()` on a line of its own"


class StepRewriter(cst.CSTTransformer):
    """Applies the edits to the calls the analysis chose."""

    def __init__(
        self, analysis: StepAnalysis, lines: list[str], line_of: Callable[[cst.CSTNode], int], quote: Callable[[], str],
    ) -> None:
        super().__init__()
        self.analysis, self.lines, self.line_of, self.quote = analysis, lines, line_of, quote
        self.steps, self.creates = set(analysis.steps), set(analysis.creates)
        self.changed: dict[cst.Call, cst.Call] = {}  # original -> new, for every call edited

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        line = self.line_of(original)
        if original in self.steps:
            new = self._step(updated, line, self._arg_indent(original))
        elif original in self.creates:
            new = self._create(updated, line, self._arg_indent(original))
        else:
            return updated
        if new is not updated:
            self.changed[original] = new
        return new

    def _quote(self, node: cst.CSTNode) -> str:
        """The quote style of the strings in ``node``, else the module's (``quote()``, asked only then)."""
        return preferred_quote(node, "") or self.quote()

    def _arg_indent(self, call: cst.Call) -> str:
        anchor = call.args[-1] if call.args else call
        text = self.lines[self.line_of(anchor) - 1]
        return text[: len(text) - len(text.lstrip(" \t\f"))]

    def _step(self, call: cst.Call, line: int, arg_indent: str) -> cst.Call:
        debug = debug_arguments(self.analysis.options, self._quote(call))
        args = list(call.args)
        new: list[tuple[str, str]] = []
        through_mapping: list[tuple[str, str]] = []
        index = argument_index(call, "arguments", STEP_PARAMETERS, line, through_mapping=True)
        if index is None:
            (through_mapping if double_star(call) else new).append(("arguments", debug))
        else:
            value = args[index].value
            if set(DEBUG_FLAGS) & set(string_items(value)):
                raise InstrumentError(
                    f"line {line}: the step already passes --remote_debug flags (hand-written remote "
                    "debugging); remove them, or use --take-over to replace them"
                )
            if isinstance(value, cst.Tuple):  # a tuple literal takes a tuple: (...) + [...] fails
                debug = f"({debug[1:-1]})"
            args[index] = args[index].with_changes(value=appended(value, debug))
        index = argument_index(call, "allow_reuse", STEP_PARAMETERS, line, through_mapping=True)
        if index is None:
            (through_mapping if double_star(call) else new).append(("allow_reuse", "False"))
        elif not is_name(args[index].value, "False"):
            args[index] = args[index].with_changes(value=cst.Name("False"))
        if through_mapping:
            args = merged_into_mapping(args, through_mapping, line, self._quote(call))
        call = call.with_changes(args=args)
        return with_keywords(call, new, arg_indent) if new else call

    def _create(self, call: cst.Call, line: int, arg_indent: str) -> cst.Call:
        index = argument_index(call, "pip_packages", CREATE_PARAMETERS, line)
        value = call.args[index].value if index is not None else call
        quote = self._quote(value)
        debugpy = quoted(DEBUGPY, quote)
        # Without pip_packages the SDK installs azureml-defaults; keep it so.
        created = f"[{debugpy}, {quoted(SDK_DEFAULT_PIP_PACKAGE, quote)}]"
        if index is None:
            return with_keywords(call, [("pip_packages", created)], arg_indent)
        if is_name(value, "None"):
            new_value = cst.parse_expression(created)
        elif isinstance(value, cst.List) or (isinstance(value, cst.Tuple) and value.lpar):
            if DEBUGPY in {requirement_name(s) for s in string_items(value)}:
                return call
            # 'debugpy' goes first, as in the seed, on a line of its own in a one-per-line list.
            opening = value.lbracket if isinstance(value, cst.List) else value.lpar[0]
            after = opening.whitespace_after
            separator: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace(" ")
            if isinstance(after, cst.ParenthesizedWhitespace):
                separator = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
            comma = cst.Comma(whitespace_after=separator) if value.elements else cst.MaybeSentinel.DEFAULT
            if isinstance(value, cst.Tuple) and not value.elements:
                comma = cst.Comma()  # ('debugpy',): without the comma it is a string
            new_value = value.with_changes(elements=[cst.Element(cst.parse_expression(debugpy), comma=comma), *value.elements])
        else:
            new_value = appended(value, f"[{debugpy}]")
        args = list(call.args)
        args[index] = args[index].with_changes(value=new_value)
        return call.with_changes(args=args)


def _statement_lines(node: cst.CSTNode, parents, positions) -> tuple[int, int]:
    """1-based first and last line of the statement holding ``node``."""
    while not isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.BaseCompoundStatement)):
        node = parents[node]
    return positions[node].start.line, positions[node].end.line


def _outermost(call: cst.Call, parents, changed) -> bool:
    node = parents[call]
    while not isinstance(node, cst.Module):
        if node in changed:
            return False
        node = parents[node]
    return True


def merged_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        # Adjacent statements share one block: markers.insert_blocks drops an
        # insertion that starts right where a replaced run ends.
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _block_indent(body: list[str]) -> str:
    """The first line's indentation, if the block can carry it without changing a byte."""
    indent = body[0][: len(body[0]) - len(body[0].lstrip(" \t\f"))]
    if all(line == "" or (line.startswith(indent) and line != indent) for line in body):
        return indent
    return ""


def no_step_named(options: Options) -> Plan:
    names = ", ".join(options.steps)
    return Plan(reason=f"no step named {names} is defined here", warnings=[f"--step {names}: no such step here"])


def plan_with_metadata(clean: str, module: cst.Module, options: Options) -> Plan:
    """The plan from LibCST's metadata: for what :mod:`pipeline_statements` leaves
    (calls in a compound statement's header, grammar CPython does not know)."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    analysis = StepAnalysis(options)
    wrapper.visit(analysis)
    if options.steps and not analysis.steps:
        return no_step_named(options)
    positions, parents = wrapper.resolve(PositionProvider), wrapper.resolve(ParentNodeProvider)
    lines = markers.split_lines(clean)
    quote = preferred_quote(module, "'")
    rewriter = StepRewriter(analysis, lines, lambda node: positions[node].start.line, lambda: quote)
    new_module = module.visit(rewriter)
    new_positions = MetadataWrapper(new_module, unsafe_skip_copy=True).resolve(PositionProvider)
    new_lines = markers.split_lines(new_module.code)
    insertions: list[markers.Insertion] = []
    ranges = merged_ranges([_statement_lines(call, parents, positions) for call in rewriter.changed])
    shift = 0
    for start, end in ranges:
        grown = 0
        for original, new in rewriter.changed.items():
            place = positions[original]
            if start <= place.start.line <= end and _outermost(original, parents, rewriter.changed):
                new_place = new_positions[new]
                grown += (new_place.end.line - new_place.start.line) - (place.end.line - place.start.line)
        body = [line.rstrip("\r\n") for line in new_lines[start - 1 + shift : end + shift + grown]]
        shift += grown
        has_step = any(start <= positions[c].start.line <= end for c in analysis.steps)
        indent = _block_indent(body)
        body = [line[len(indent) :] for line in body]
        insertions.append(
            markers.Insertion(start - 1, indent, LABEL_STEP if has_step else LABEL_CONDA, body, end - start + 1)
        )
    for statement, target in analysis.constructed:
        if target in analysis.with_debugpy:
            continue
        first, after = positions[statement].start.line, positions[statement].end.line
        if any(start <= after <= end for start, end in ranges):
            raise InstrumentError(_own_line(first, target))
        text = lines[first - 1]
        indent = text[: len(text) - len(text.lstrip(" \t\f"))]
        call = f"{target}.add_pip_package({quoted(DEBUGPY, quote)})"
        insertions.append(markers.Insertion(after, indent, LABEL_CONDA, [call]))
    if not insertions:
        return Plan(reason="no PythonScriptStep or step environment to instrument")
    return Plan(insertions=insertions, expected=new_module.code)



