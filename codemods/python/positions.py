"""Line numbers of chosen statements, without LibCST's PositionProvider.

``PositionProvider`` computes a position for every node of the tree, which
costs several times a parse; the codemods only need the lines of the few
statements they insert next to. Two cheaper ways, same answers (the
provider's syntactic lines: leading comments and decorators excluded):

* CPython's own parser (``ast``, a tenth of a LibCST parse) gives every
  statement its lines; the two trees are walked side by side, statement by
  statement, and any disagreement in shape abandons this way;
* otherwise LibCST's code generator runs once with a hook on the same
  ``record_syntactic_position`` call the provider uses.

The ``ast`` tree and the pairing are kept for the last source asked about
(:func:`ast_tree`, :func:`paired`), so that a codemod's analysis, its
positions and its checks share one CPython parse per file.
"""

from __future__ import annotations

import ast
import re
from contextlib import nullcontext
from typing import Collection, Iterator, Optional

import libcst as cst

from instrument.codemods.python import grammar
from libcst._nodes.internal import CodegenState  # the hook PositionProvider uses

_NEWLINE = re.compile(r"\r\n|\r|\n")


class _AllFound(Exception):
    """Raised to stop code generation once every statement has been seen."""


class _Mark:
    """Context manager noting the token span of one wanted statement."""

    __slots__ = ("state", "node_id", "start")

    def __init__(self, state: "MarkingState", node_id: int) -> None:
        self.state, self.node_id, self.start = state, node_id, 0

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is None:
            self.state.found(self.node_id, self.start)


class MarkingState(CodegenState):
    stop_when_found = True

    def __init__(self, module: cst.Module, targets: Collection[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = {id(node) for node in targets}
        self.marks: dict[int, tuple[int, int]] = {}

    def record_syntactic_position(self, node: cst.CSTNode, **_: Optional[cst.CSTNode]):
        node_id = id(node)
        return _Mark(self, node_id) if node_id in self.targets else _NOTHING

    def found(self, node_id: int, start: int) -> None:
        self.marks[node_id] = (start, len(self.tokens))
        if self.stop_when_found and len(self.marks) == len(self.targets):
            raise _AllFound  # the rest of the module is not needed


_NOTHING = nullcontext()


def statement_lines(
    module: cst.Module, statements: Collection[cst.CSTNode], source: Optional[str] = None
) -> dict[int, tuple[int, int]]:
    """``{id(statement): (first line, last line)}``, 1-based, for each statement.

    ``statements`` are statement lines, compound statements or decorators of
    ``module``; ``source`` is its text, which enables the ``ast`` way.
    """
    if not statements:
        return {}
    if source is not None:
        found = _from_ast(module, statements, source)
        if found is not None:
            return found
    return _from_codegen(module, statements)


# One entry each: the codemods ask about one file at a time, several times.
_last_tree: list = [None, None, False]  # [source, tree or None, parsed by this Python]
_last_pairing: list = [None, None, None, None]  # [module, source, pairing or None, reverse]


def ast_tree(source: str) -> Optional[ast.Module]:
    """CPython's parse of ``source``; where this Python's grammar is older than
    the file's, the parse of it lowered (see :mod:`grammar`), so that the
    analysis is the same on every Python; None if neither parses."""
    if _last_tree[0] is not source and _last_tree[0] != source:
        native = True
        tree: Optional[ast.Module]
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree, native = grammar.lowered_tree(source), False
        _last_tree[:] = [source, tree, native]
    return _last_tree[1]


def parsed_natively(source: str) -> bool:
    """Whether this Python's own parser accepts ``source``."""
    ast_tree(source)
    return _last_tree[2]


def paired(module: cst.Module, source: str) -> Optional[dict[int, list]]:
    """``{id(LibCST statement or decorator): [its ast nodes]}`` for every statement.

    A statement line holding ``a = 1; b = 2`` maps to two ``ast`` nodes; a
    one-line suite (``if x: a = b``) is itself such a line. None when the two
    parsers disagree on the shape (or CPython cannot parse the source).
    """
    if _last_pairing[0] is module and (_last_pairing[1] is source or _last_pairing[1] == source):
        return _last_pairing[2]
    tree = ast_tree(source)
    pairs: dict[int, list] = {}
    reverse: dict = {}
    found: Optional[dict[int, list]] = pairs
    if tree is None or not _pair(list(module.body), tree.body, pairs, reverse):
        found = None
    _last_pairing[:] = [module, source, found, reverse]
    return found


def statement_of(module: cst.Module, source: str) -> Optional[dict]:
    """``{id(ast statement): the LibCST statement line or compound statement}``."""
    return _last_pairing[3] if paired(module, source) is not None else None


def first_line_above(
    module: cst.Module, statement: cst.CSTNode, source: Optional[str] = None
) -> int:
    """0-based index of the line before which text goes to stand above ``statement``.

    That is above its decorators and above the comment lines LibCST attaches
    to it, so nothing that belongs to the statement is separated from it.
    """
    decorators = getattr(statement, "decorators", ())
    top = decorators[0] if decorators else statement
    return statement_lines(module, [top], source)[id(top)][0] - 1 - lines_above(statement)


def lines_above(statement: cst.CSTNode) -> int:
    """The comment and blank lines LibCST attaches above ``statement`` (its own, and its first
    decorator's where it has one), which belong with it."""
    decorators = getattr(statement, "decorators", ())
    above = len(getattr(statement, "leading_lines", ()))
    return above + (len(decorators[0].leading_lines) if decorators else 0)


def statement_code(module: cst.Module, statement: cst.CSTNode, nodes: Collection[cst.CSTNode] = (), indent: str = ""):
    """(code of a statement from its first token to its end, {id(node): line offset}).

    The code leaves out the lines above the statement and its indentation;
    the offsets count lines from the statement's first line, for ``nodes``
    inside it (their syntactic start). ``indent`` is the indentation of the
    statement's block: its continuation lines that carry the block's
    indentation (LibCST's ``indent=True``) get it, as they do when the whole
    module is generated, where alone they would not.
    """
    state = MarkingState(module, [statement, *nodes])
    state.stop_when_found = False
    if indent:
        state.increase_indent(indent)
    statement._codegen(state)
    begin = state.marks[id(statement)][0]
    offsets = {}
    for node in nodes:
        start = state.marks.get(id(node), (None,))[0]
        if start is not None:
            offsets[id(node)] = sum(len(_NEWLINE.findall(token)) for token in state.tokens[begin:start])
    return "".join(state.tokens[begin:]), offsets


# -- the ast way ---------------------------------------------------------------------

_COMPOUND_NAMES = {
    "FunctionDef": ("FunctionDef", "AsyncFunctionDef"),
    "For": ("For", "AsyncFor"),
    "With": ("With", "AsyncWith"),
}


def _statements(suite: cst.BaseSuite) -> list:
    """An indented block's statements; a one-line suite stands for itself."""
    return list(suite.body) if isinstance(suite, cst.IndentedBlock) else [suite]


def _cst_suites(statement: cst.BaseCompoundStatement) -> Iterator[list]:
    """A compound statement's statement lists, in source order (as ``ast`` has them)."""
    if not isinstance(statement, cst.Match):
        yield _statements(statement.body)
    for handler in getattr(statement, "handlers", ()):
        yield _statements(handler.body)
    for case in getattr(statement, "cases", ()):
        yield _statements(case.body)
    orelse = getattr(statement, "orelse", None)
    if isinstance(orelse, cst.If):
        yield [orelse]  # elif: LibCST nests the If, ast has a one-statement list
    elif orelse is not None:
        yield _statements(orelse.body)
    final = getattr(statement, "finalbody", None)
    if final is not None:
        yield _statements(final.body)


def _ast_suites(statement: ast.stmt) -> Iterator[list]:
    for name in ("body", "handlers", "cases", "orelse", "finalbody"):
        value = getattr(statement, name, None)
        if not value:
            continue
        if name in ("handlers", "cases"):
            for item in value:
                yield item.body
        else:
            yield value


def _pair(cst_statements: list, ast_body: list, found: dict, reverse: dict) -> bool:
    """Walk both statement lists together, noting each statement's ast nodes;
    False when their shapes differ."""
    position = 0
    for statement in cst_statements:
        if isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            smalls = statement.body
            mine = ast_body[position : position + len(smalls)]
            if len(mine) != len(smalls) or any(
                type(small).__name__ != type(node).__name__ for small, node in zip(smalls, mine)
            ):
                return False
            position += len(smalls)
            found[id(statement)] = mine
            for node in mine:
                reverse[id(node)] = statement
            continue
        if position >= len(ast_body):
            return False
        node = ast_body[position]
        position += 1
        name = type(statement).__name__
        if type(node).__name__ not in _COMPOUND_NAMES.get(name, (name,)):
            return False
        found[id(statement)] = [node]
        reverse[id(node)] = statement
        for decorator, expression in zip(getattr(statement, "decorators", ()), getattr(node, "decorator_list", ())):
            found[id(decorator)] = [expression]
        cst_lists, ast_lists = list(_cst_suites(statement)), list(_ast_suites(node))
        if len(cst_lists) != len(ast_lists):
            return False
        for cst_list, ast_list in zip(cst_lists, ast_lists):
            if not _pair(cst_list, ast_list, found, reverse):
                return False
    return position == len(ast_body)


def _from_ast(module: cst.Module, statements, source: str) -> Optional[dict]:
    pairing = paired(module, source)
    if pairing is None:
        return None
    found: dict[int, tuple[int, int]] = {}
    for statement in statements:
        nodes = pairing.get(id(statement))
        if nodes is None:
            return None
        found[id(statement)] = (nodes[0].lineno, nodes[-1].end_lineno)
    return found


# -- the code-generation way --------------------------------------------------------

def _from_codegen(module: cst.Module, statements) -> dict[int, tuple[int, int]]:
    state = MarkingState(module, statements)
    try:
        module._codegen(state)
    except _AllFound:
        pass
    wanted = sorted({index for pair in state.marks.values() for index in pair})
    line_at: dict[int, tuple[int, bool]] = {}
    lines = 1
    position = 0
    ends_with_newline = False
    for index in wanted:
        for token in state.tokens[position:index]:
            count = len(_NEWLINE.findall(token))
            if count:
                lines += count
            if token:
                ends_with_newline = token.endswith(("\n", "\r"))
        position = index
        line_at[index] = (lines, ends_with_newline)
    result = {}
    for node_id, (start, end) in state.marks.items():
        first = line_at[start][0]
        end_line, newline_last = line_at[end]
        result[node_id] = (first, end_line - 1 if newline_last else end_line)
    return result
