"""The pipeline plan for the common layouts, from CPython's tree and the text.

A pipeline definition changes in a few calls, and in the usual layouts the
change is a few characters at places CPython's tree knows exactly: ``+ [...]``
after the ``arguments=`` list, ``False`` for the ``allow_reuse=`` value, new
keywords on lines of their own before the ``)`` of a call written one
argument per line, ``'debugpy', `` at the front of a one-line
``pip_packages=`` list. Made as text edits they cost nothing next to a
parse, where LibCST's visitors and transformers over the same statements
cost several parses.

The decisions are :mod:`pipeline`'s, on the same facts: names resolved
through the module's imports, the quote style of the call's own strings, the
call's own ``=`` spacing and indentation. The text written is the text
:mod:`pipeline`'s LibCST rewrite generates for these layouts (a test holds
the two equal over every fixture and the benchmark's inputs). Anything else
(positional or ``*``/``**`` arguments, other layouts, ``CondaDependencies()``
objects, hand-written flags, f-strings in the call, grammar CPython does not
know) gives None, and :func:`pipeline_statements.plan_by_statement` decides.
"""

from __future__ import annotations

import ast
from typing import Any, Optional

import libcst as cst

from instrument.codemods.fences import markers
from instrument.codemods.python.call_arguments import majority_quote, quoted
from instrument.codemods.core.packages import DEBUGPY, requirement_name
from instrument.codemods.kinds.base import Plan
from instrument.codemods.kinds.pipeline.statements import WANTED_TAILS, dotted_name, statements_that_may_matter
from instrument.codemods.python.positions import ast_tree
from instrument.codemods.python.source_facts import nodes_of
from instrument.codemods.helper.templates import DEBUG_FLAGS

_STEP = "PythonScriptStep"
_CREATE = "CondaDependencies.create"
_CONSTRUCTOR = "CondaDependencies"
_PREFIXES = frozenset("rRbBuU")


class _Unusual(Exception):
    """A shape this module leaves to the LibCST plan."""


def _is(name: Optional[str], suffix: str) -> bool:
    return name is not None and (name == suffix or name.endswith("." + suffix))


class _Text:
    """A source's lines, addressed by CPython's (line, byte column) positions."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def line(self, number: int) -> str:
        return self.lines[number - 1]

    def offset(self, number: int, column: int) -> tuple[int, int]:
        """(line, character column) of a byte column."""
        line = self.line(number)
        if not line.isascii():
            column = len(line.encode("utf-8")[:column].decode("utf-8", "replace"))
        return number, column

    def between(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        (line_a, col_a), (line_b, col_b) = start, end
        if line_a == line_b:
            return self.line(line_a)[col_a:col_b]
        middle = "".join(self.lines[line_a : line_b - 1])
        return self.line(line_a)[col_a:] + middle + self.line(line_b)[:col_b]


def _start(text: _Text, node: Any) -> tuple[int, int]:
    return text.offset(node.lineno, node.col_offset)


def _end(text: _Text, node: Any) -> tuple[int, int]:
    return text.offset(node.end_lineno, node.end_col_offset)


def _quote_counts(text: _Text, node: ast.AST) -> tuple[int, int]:
    """(string literals, double-quoted ones) in ``node``, as LibCST counts its SimpleStrings."""
    strings = double = 0
    for inner in nodes_of(node):
        if isinstance(inner, ast.JoinedStr):
            raise _Unusual  # LibCST counts the strings inside an f-string's expressions
        if isinstance(inner, ast.Constant) and isinstance(inner.value, (str, bytes)):
            if inner.lineno != inner.end_lineno:
                raise _Unusual
            literal = text.between(_start(text, inner), _end(text, inner)).lstrip("rRbBuU")
            quote = literal[:1]
            if quote not in ("'", '"') or literal[:3] == quote * 3 or literal.count(quote) != 2 or literal[-1] != quote:
                raise _Unusual  # an implicit concatenation, an escaped quote, a triple-quoted string
            strings += 1
            double += quote == '"'
    return strings, double


def _quote(text: _Text, node: ast.AST) -> str:
    strings, double = _quote_counts(text, node)
    if not strings:
        raise _Unusual  # the module's style decides: a visit of the whole module
    return majority_quote(strings, double)


def _keywords(call: ast.Call) -> dict[str, ast.keyword]:
    if call.args or any(keyword.arg is None for keyword in call.keywords):
        raise _Unusual  # positional, *args or **kwargs: argument_index's rules
    return {str(keyword.arg): keyword for keyword in call.keywords}


def _added_keywords(text: _Text, call: ast.Call, new: list[tuple[str, str]], indent: str, newline: str):
    """The edit that adds ``new`` keywords to a call written one argument per line,
    ``)`` on a line of its own after a trailing comma (call_arguments.with_keywords)."""
    first = call.keywords[0]
    name_end = (first.lineno, first.col_offset + len(str(first.arg)))
    equal = text.between(text.offset(*name_end), _start(text, first.value))
    if equal.strip() != "=" or "\n" in equal or "\r" in equal:
        raise _Unusual
    last = call.keywords[-1].value
    tail = text.between(_end(text, last), _end(text, call))
    head, _, rest = tail.partition("\n")
    if not head.startswith(",") or not rest or head[1:].strip()[:1] not in ("", "#"):
        raise _Unusual
    *middle, closing = rest.split("\n")
    if closing.strip(" \t\f") != ")" or any(line.strip()[:1] not in ("", "#") for line in middle):
        raise _Unusual
    # After the comment and blank lines that follow the last argument, before the ``)`` line.
    position = (call.end_lineno, 0)
    return position, position, "".join(f"{indent}{key}{equal}{value},{newline}" for key, value in new)


def _step(text: _Text, call: ast.Call, options, newline: str) -> list:
    from instrument.codemods.kinds.pipeline.steps import debug_arguments

    keywords = _keywords(call)
    debug = debug_arguments(options, _quote(text, call))
    edits, new = [], []
    arguments = keywords.get("arguments")
    if arguments is None:
        new.append(("arguments", debug))
    else:
        value = arguments.value
        if not isinstance(value, ast.List) or text.between(_start(text, value), _end(text, value))[:1] != "[":
            raise _Unusual  # appended's parentheses and tuples
        if any(isinstance(e, ast.Constant) and e.value in DEBUG_FLAGS for e in value.elts):
            raise _Unusual  # hand-written flags: pipeline says so
        end = _end(text, value)
        edits.append((end, end, f" + {debug}"))
    reuse = keywords.get("allow_reuse")
    if reuse is None:
        new.append(("allow_reuse", "False"))
    elif not (isinstance(reuse.value, ast.Constant) and reuse.value.value is False):
        start, end = _start(text, reuse.value), _end(text, reuse.value)
        before = text.between((reuse.lineno, 0), start)
        if not before.rstrip(" \t").endswith("=") or text.between(end, _end(text, call))[:1] not in (",", ")", " "):
            raise _Unusual  # a parenthesised value: LibCST replaces the parentheses too
        edits.append((start, end, "False"))
    if new:
        line = text.line(call.keywords[-1].lineno)
        indent = line[: len(line) - len(line.lstrip(" \t\f"))]
        edits.append(_added_keywords(text, call, new, indent, newline))
    return edits


def _create(text: _Text, call: ast.Call) -> list:
    keywords = _keywords(call)
    packages = keywords.get("pip_packages")
    if packages is None or not isinstance(packages.value, ast.List):
        raise _Unusual
    value = packages.value
    start, end = _start(text, value), _end(text, value)
    literal = text.between(start, end)
    if start[0] != end[0] or literal[:1] != "[":
        raise _Unusual  # one-per-line lists keep their layout in pipeline's way
    if any(isinstance(e, ast.Constant) and isinstance(e.value, str) and requirement_name(e.value) == DEBUGPY
           for e in value.elts):
        raise _Unusual  # unchanged: pipeline's way says so
    debugpy = quoted(DEBUGPY, _quote(text, value))
    if not value.elts:
        closing = (end[0], end[1] - 1)
        return [(closing, closing, debugpy)]
    first = _start(text, value.elts[0])
    if text.between((start[0], start[1] + 1), first).strip(" \t"):
        raise _Unusual  # a parenthesised first element
    return [(first, first, f"{debugpy}, ")]


def _apply(lines: list[str], first: int, last: int, edits: list) -> list[str]:
    """The statement's lines (without line ends) with the edits made, right to left."""
    text = "".join(lines[first - 1 : last])
    starts = [0]
    for line in lines[first - 1 : last]:
        starts.append(starts[-1] + len(line))

    def at(position: tuple[int, int]) -> int:
        return starts[position[0] - first] + position[1]

    for start, end, new in sorted(edits, key=lambda edit: at(edit[0]), reverse=True):
        text = text[: at(start)] + new + text[at(end) :]
    return [line.rstrip("\r\n") for line in markers.split_lines(text)]


def plan_by_text(clean: str, module: cst.Module, options) -> Optional[Plan]:
    """The pipeline plan by text edits, or None when the file is not of the usual shape."""
    try:
        return _plan(clean, module, options)
    except _Unusual:
        return None


def _plan(clean: str, module: cst.Module, options) -> Optional[Plan]:
    from instrument.codemods.kinds.pipeline import steps as pipeline

    tree = ast_tree(clean)
    if tree is None or "\r" in clean:
        raise _Unusual
    table, found = statements_that_may_matter(tree, module)
    lines = markers.split_lines(clean)
    text = _Text(lines)
    blocks: list[tuple[int, int, list[str], bool]] = []  # (first, last, new lines, has a step)
    stepped = False
    for statement, calls in found:
        relevant = []
        for call in calls:
            dotted = dotted_name(call.func)
            if dotted is None:
                if isinstance(call.func, ast.Attribute) and call.func.attr in WANTED_TAILS:
                    raise _Unusual  # LibCST spells `a().create` as a.create
                continue
            name = table.qualified_dotted(dotted) or dotted
            if _is(name, _STEP):
                relevant.append((_STEP, call))
            elif _is(name, _CREATE):
                relevant.append((_CREATE, call))
            elif _is(name, _CONSTRUCTOR):
                raise _Unusual  # an object that gets .add_pip_package: pipeline's way
        if not relevant:
            continue
        if len(relevant) > 1 or isinstance(statement, tuple(_COMPOUND)):
            raise _Unusual
        first, last = statement.lineno, statement.end_lineno
        before = lines[first - 1][: text.offset(first, statement.col_offset)[1]]
        after = lines[last - 1][_end(text, statement)[1] :].strip()
        if before.strip(" \t\f") or (after and not after.startswith("#")):
            raise _Unusual  # shares its line with another statement (or a suite's header)
        kind, call = relevant[0]
        if kind == _STEP:
            if options.steps and _step_name(call) not in options.steps:
                continue
            stepped = True
            edits = _step(text, call, options, module.default_newline)
        else:
            edits = _create(text, call)
        if edits:
            blocks.append((first, last, _apply(lines, first, last, edits), kind == _STEP))
    if options.steps and not stepped:
        return pipeline.no_step_named(options)
    if not blocks:
        return Plan(reason="no PythonScriptStep or step environment to instrument")
    return _plan_of(lines, blocks)


# ``match`` (3.10) and ``except*`` (3.11) exist only in the newer ast modules.
_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
             ast.With, ast.AsyncWith, ast.Try) + tuple(
                 getattr(ast, name) for name in ("Match", "TryStar") if hasattr(ast, name))


def _step_name(call: ast.Call) -> Optional[str]:
    for keyword in call.keywords:
        if keyword.arg == "name":
            value = keyword.value
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    return None


def _plan_of(lines: list[str], blocks: list) -> Plan:
    """Insertions as pipeline_statements makes them: adjacent statements share a block."""
    from instrument.codemods.kinds.pipeline import steps as pipeline

    by_first = {first: (new, step) for first, _, new, step in blocks}
    ranges = pipeline.merged_ranges([(first, last) for first, last, _, _ in blocks])
    expected = [line.rstrip("\r\n") for line in lines]
    insertions = []
    for start, end in reversed(ranges):
        body = [line for first in sorted(by_first) if start <= first <= end for line in by_first[first][0]]
        expected[start - 1 : end] = body
        indent = pipeline._block_indent(body)
        has_step = any(by_first[first][1] for first in by_first if start <= first <= end)
        label = pipeline.LABEL_STEP if has_step else pipeline.LABEL_CONDA
        insertions.append(markers.Insertion(start - 1, indent, label, [line[len(indent) :] for line in body], end - start + 1))
    return Plan(insertions=insertions, expected="\n".join(expected) + "\n")
