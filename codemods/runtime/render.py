"""Place a function of this package into a user's file.

A function is read from its module's source file (positions from :mod:`ast`,
read once per process) and copied as text, so what users get is exactly
what is linted and tested here. Only names change: the module-level
constants the function reads become literals (the chosen values passed in,
else the module's own), and the function's name becomes the free name the
codemod picked. Every literal is built from a validated value and checked
to read back as that value. Indentation is re-expressed in the target file's
unit (four spaces here; tabs stay tabs there).
"""

from __future__ import annotations

import ast
import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

#: Values a constant may have: what ``repr`` writes back as a literal that
#: ``ast.literal_eval`` reads as the same value.
Constant = object


def string_literal(value: str) -> str:
    """A double-quoted Python literal for ``value`` (escapes everything needed)."""
    literal = repr(value)
    if literal.startswith("'") and '"' not in value:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def literal(value: Constant) -> str:
    """The Python literal for a constant's value: str, int, or a tuple of those."""
    if isinstance(value, str):
        text = string_literal(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, tuple):
        items = [literal(item) for item in value]
        text = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    else:
        raise TypeError(f"no literal for a constant of type {type(value).__name__}")
    if ast.literal_eval(text) != value:  # pragma: no cover - a bug in the lines above
        raise AssertionError(f"{text} does not read back as {value!r}")
    return text


@dataclass(frozen=True)
class _Name:
    """A name to replace: 0-based line in the function, byte columns, the name."""

    line: int
    start: int
    end: int
    name: str


@dataclass(frozen=True)
class FunctionSource:
    """One function's lines (as in its file) and where its replaceable names are."""

    module: str
    name: str
    lines: tuple[bytes, ...]  # UTF-8: ast columns count bytes
    names: tuple[_Name, ...]
    #: (first line, last line, column, option string) of each ``receiver.add_argument("--x", ...)`` statement.
    arguments: tuple[tuple[int, int, int, str], ...]
    #: The receiver name of those statements, by the statement's first line.
    receivers: tuple[_Name, ...]
    #: The parameters those statements read (``default=port``), each named by the
    #: constant that is its default (``port=PORT``): values where the statements are
    #: copied alone (a script's own parser), parameters in :func:`flags_function_lines`.
    argument_names: tuple[_Name, ...] = ()
    #: (parameter, constant) for each parameter whose default is a module constant.
    parameters: tuple[tuple[str, str], ...] = ()


def _module_constants(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            found.update(t.id for t in statement.targets if isinstance(t, ast.Name))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            found.add(statement.target.id)
        elif isinstance(statement, ast.ImportFrom) and statement.module and statement.module.endswith(".log_lines"):
            # The log lines are shared with the log reader: constants too.
            found.update(alias.asname or alias.name for alias in statement.names)
    return found


@functools.lru_cache(maxsize=None)
def function_source(module_name: str, function_name: str) -> FunctionSource:
    """The function ``function_name`` of ``module_name`` (imported), read from its file."""
    module = importlib.import_module(module_name)
    text = Path(module.__file__ or "").read_text(encoding="utf-8")
    tree = ast.parse(text)
    constants = _module_constants(tree)
    [function] = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == function_name]
    first = function.lineno - 1
    end = function.end_lineno or function.lineno
    lines = tuple(line.encode("utf-8") for line in text.splitlines()[first:end])
    if function.decorator_list or function.col_offset:
        raise ValueError(f"{module_name}.{function_name} must be an undecorated top-level function")
    def_line = lines[0]
    start = def_line.index(b"def ") + len(b"def ")
    names = [_Name(0, start, start + len(function_name.encode()), function_name)]
    replaced = constants | {function_name}
    positional = function.args.args[len(function.args.args) - len(function.args.defaults):]
    defaults = list(zip(positional, function.args.defaults)) + list(zip(function.args.kwonlyargs, function.args.kw_defaults))
    parameters = {
        arg.arg: default.id
        for arg, default in defaults
        if isinstance(default, ast.Name) and default.id in constants
    }
    arguments, receivers, parameter_names = [], [], []
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in parameters and isinstance(node.ctx, ast.Load):
            parameter_names.append(
                _Name(node.lineno - 1 - first, node.col_offset, node.end_col_offset or 0, parameters[node.id])
            )
        if isinstance(node, ast.Name) and node.id in replaced:
            if not isinstance(node.ctx, ast.Load):
                raise ValueError(f"{module_name}.{function_name} assigns the constant {node.id}")
            names.append(_Name(node.lineno - 1 - first, node.col_offset, node.end_col_offset or 0, node.id))
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "add_argument"
            and isinstance(node.value.func.value, ast.Name)
        ):
            receiver = node.value.func.value
            option = node.value.args[0] if node.value.args else None
            if not (isinstance(option, ast.Constant) and isinstance(option.value, str)):
                raise ValueError(f"{module_name}.{function_name}: an add_argument call without a literal option string")
            last_line = (node.end_lineno or node.lineno) - 1 - first
            arguments.append((node.lineno - 1 - first, last_line, node.col_offset, option.value))
            receivers.append(_Name(receiver.lineno - 1 - first, receiver.col_offset, receiver.end_col_offset or 0, receiver.id))
    return FunctionSource(
        module_name,
        function_name,
        lines,
        tuple(sorted(names, key=lambda n: (n.line, n.start))),
        tuple(sorted(arguments)),
        tuple(sorted(receivers, key=lambda n: (n.line, n.start))),
        tuple(
            sorted(
                (n for n in parameter_names if any(a[0] <= n.line <= a[1] for a in arguments)),
                key=lambda n: (n.line, n.start),
            )
        ),
        tuple(parameters.items()),
    )


def _substituted(source: FunctionSource, replacements: Mapping[str, str], extra: tuple[_Name, ...] = ()) -> list[bytes]:
    """The function's lines with every replaceable name (and ``extra``) replaced."""
    lines = list(source.lines)
    names = sorted(source.names + extra, key=lambda n: (n.line, n.start), reverse=True)
    for name in names:  # right to left, so earlier columns stay valid
        line = lines[name.line]
        lines[name.line] = line[: name.start] + replacements[name.name].encode("utf-8") + line[name.end :]
    return lines


def reindent(lines: list[str], indent_unit: str, dedent: int = 0) -> list[str]:
    """Lines indented with four spaces per level, re-indented with ``indent_unit``."""
    result = []
    for original in lines:
        line = original[dedent:] if original[:dedent].strip(" ") == "" else original
        stripped = line.lstrip(" ")
        depth = (len(line) - len(stripped)) // 4
        result.append(indent_unit * depth + stripped if stripped else "")
    return result


def _replacements(source: FunctionSource, name: str, values: Mapping[str, Constant]) -> dict[str, str]:
    module = importlib.import_module(source.module)
    if not name.isidentifier():
        raise ValueError(f"not a Python identifier: {name!r}")
    replacements = {source.name: name}
    for used in {n.name for n in source.names} - {source.name}:
        replacements[used] = literal(values[used] if used in values else getattr(module, used))
    unknown = set(values) - set(replacements)
    if unknown:
        raise ValueError(f"{source.module}.{source.name} reads no constant named {', '.join(sorted(unknown))}")
    return replacements


def function_lines(
    module_name: str, function_name: str, name: str, values: Mapping[str, Constant], indent_unit: str
) -> list[str]:
    """The function, renamed ``name``, with ``values`` in place of its constants."""
    source = function_source(module_name, function_name)
    lines = _substituted(source, _replacements(source, name, values))
    return reindent([line.decode("utf-8") for line in lines], indent_unit)


def argument_lines(
    module_name: str,
    function_name: str,
    receiver: str,
    values: Mapping[str, Constant],
    indent_unit: str,
) -> list[str]:
    """The function's ``parser.add_argument(...)`` statements, called on ``receiver``.

    Each is guarded by ``if "--x" not in receiver._option_string_actions:``:
    a parser that already has an option (from a parent parser defined in
    another module, or a helper that built it) keeps its own, where adding
    it again would raise "conflicting option string" at start-up. argparse
    registers every option string of a parser (its parents' included) in
    that mapping, on every Python version this code runs on. The function's
    parameters that the statements read (``default=port``) become the values.
    """
    return _argument_statements(function_source(module_name, function_name), receiver, values, indent_unit, False)


def _argument_statements(
    source: FunctionSource, receiver: str, values: Mapping[str, Constant], indent_unit: str, parameters: bool
) -> list[str]:
    """:func:`argument_lines`; with ``parameters``, the parameters the statements read stay
    parameters (:func:`flags_function_lines`)."""
    if not receiver.isidentifier():
        raise ValueError(f"not a Python identifier: {receiver!r}")
    replacements = {**_replacements(source, source.name, values), "\0receiver": receiver}
    receivers = tuple(_Name(r.line, r.start, r.end, "\0receiver") for r in source.receivers)
    read = source.argument_names
    if parameters:
        for parameter, constant in source.parameters:
            replacements["\0" + constant] = parameter
        read = tuple(_Name(n.line, n.start, n.end, "\0" + n.name) for n in read)
    lines = _substituted(source, replacements, receivers + read)
    result: list[str] = []
    for first, last, column, option in source.arguments:
        statement = reindent([line.decode("utf-8") for line in lines[first : last + 1]], "    ", dedent=column)
        guard = f"if {string_literal(option)} not in {receiver}._option_string_actions:"
        result += reindent([guard] + ["    " + line if line else "" for line in statement], indent_unit)
    return result


def flags_function_lines(module_name: str, function_name: str, name: str, receiver: str = "parser") -> list[str]:
    """A function ``name(receiver, <the parameters>)`` holding the function's
    ``add_argument`` statements (see :func:`argument_lines`), for the helper module."""
    source = function_source(module_name, function_name)
    module = importlib.import_module(module_name)
    read = {constant for _, constant in source.parameters if any(n.name == constant for n in source.argument_names)}
    signature = ", ".join(
        [receiver, "*"] + [f"{p}={literal(getattr(module, c))}" for p, c in source.parameters if c in read]
    )
    doc = f'"""Add the --remote_debug* flags that {receiver} does not have yet (a parent parser\'s stay)."""'
    body = _argument_statements(source, receiver, {}, "    ", True)
    return [f"def {name}({signature}):", "    " + doc] + ["    " + line if line else "" for line in body]
