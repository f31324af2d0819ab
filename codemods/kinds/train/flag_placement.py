"""Where the ``--remote_debug*`` flags join a script's parser: after its own options.

argparse lists options in ``--help`` in the order they were added, so flags
added right after ``parser = argparse.ArgumentParser()`` would read first,
above the script's own. They go instead after the last statement that only
adds to that parser (``parser.add_argument(...)``, ``parser.set_defaults(...)``,
``group = parser.add_argument_group(...)``, a loop of such calls) in the
statement list the parser is built in, and never past a statement that does
anything else with it (parses it, returns it, rebinds the name): from there
on the flags might come too late for the parse. A call that passes the parser
on (``shared.add_common_args(parser)``) is passed too when the same list parses
the parser later, since such a helper may add ``--remote_debug`` itself (the
flags block adds only what the parser lacks); otherwise it ends the search.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

import libcst as cst

from instrument.codemods.python.positions import paired
from instrument.codemods.python.source_facts import PARSE_METHODS, nodes_of

#: Parser methods that only add to it; anything else done with the parser ends the search.
ADDING_METHODS = frozenset(
    {"add_argument", "add_argument_group", "add_mutually_exclusive_group", "set_defaults", "add_subparsers"}
)


class _ParserUses(cst.CSTVisitor):
    """Counts the uses of one name, and those that only add to the parser it names."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.uses = self.adding = 0

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.name
            and func.attr.value in ADDING_METHODS
        ):
            self.adding += 1

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False  # ``x.parser`` is another object's attribute, not the name

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False  # ``f(parser=1)``: a keyword, not the name

    def visit_Name(self, node: cst.Name) -> None:
        self.uses += node.value == self.name


def _passes_on(statement: cst.CSTNode, name: str) -> bool:
    """``helper(parser)`` or ``helper(x, parser=parser)`` as a statement of its own."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    expression = statement.body[0]
    if not isinstance(expression, cst.Expr) or not isinstance(expression.value, cst.Call):
        return False
    call = expression.value
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name:
        return False
    uses = _ParserUses(name)
    func.visit(uses)
    if uses.uses:
        return False
    return any(isinstance(arg.value, cst.Name) and arg.value.value == name for arg in call.args)


class _Parses(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        self.found = self.found or (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.name
            and func.attr.value in PARSE_METHODS
        )


def _parsed_later(statements: list, name: str) -> bool:
    parses = _Parses(name)
    for statement in statements:
        statement.visit(parses)
        if parses.found:
            return True
    return False


def _only_adds(statement: cst.CSTNode, name: str) -> Optional[bool]:
    """True: only adds to the parser; False: does something else with it; None: does not use it."""
    uses = _ParserUses(name)
    statement.visit(uses)
    if uses.uses == 0:
        return None
    return uses.uses == uses.adding


def _bodies(statement: cst.CSTNode) -> Iterator[list]:
    """The statement lists directly inside a compound statement (or a module)."""
    if isinstance(statement, cst.Module):
        yield list(statement.body)
        return
    if not isinstance(statement, cst.BaseCompoundStatement):
        return
    parts = [statement, *getattr(statement, "handlers", ()), *getattr(statement, "cases", ()),
             getattr(statement, "orelse", None), getattr(statement, "finalbody", None)]
    for part in parts:
        if isinstance(part, cst.If) and part is not statement:  # elif
            yield from _bodies(part)
            continue
        body = getattr(part, "body", None)
        if isinstance(body, cst.IndentedBlock):
            yield list(body.body)


def _statement_list(root: cst.CSTNode, target: cst.CSTNode) -> Optional[list]:
    for body in _bodies(root):
        if any(statement is target for statement in body):
            return body
        for statement in body:
            found = _statement_list(statement, target)
            if found is not None:
                return found
    return None


def flags_anchor(
    module: cst.Module, parser_statement: cst.CSTNode, name: str, source: Optional[str] = None
) -> cst.CSTNode:
    """The statement after which the flags block goes (the parser's own statement at the latest).

    With ``source`` (the module's text), the statements are read in CPython's
    tree where it pairs with LibCST's (:func:`positions.paired`): walking a
    LibCST node costs several times walking its ``ast`` twin, and the answers
    are the same (see :class:`_AstUses`).
    """
    body = _statement_list(module, parser_statement)
    if body is None:
        return parser_statement
    pairing = paired(module, source) if source is not None else None
    if pairing is not None:
        only_adds, passes_on, parsed_later = _ast_questions(pairing)
    else:
        only_adds, passes_on, parsed_later = _only_adds, _passes_on, _parsed_later
    anchor = parser_statement
    following = body[body.index(parser_statement) + 1 :]
    for position, statement in enumerate(following):
        adds = only_adds(statement, name)
        if adds is False and passes_on(statement, name) and parsed_later(following[position + 1 :], name):
            adds = True
        if adds is False:
            break
        if adds:
            anchor = statement
    return anchor


# -- the same questions in CPython's tree ---------------------------------------------

#: ``ast`` nodes whose identifier fields LibCST holds as ``Name`` nodes (which
#: :class:`_ParserUses` counts): the names a statement binds or declares.
_NAMED = {
    ast.FunctionDef: ("name",), ast.AsyncFunctionDef: ("name",), ast.ClassDef: ("name",),
    ast.arg: ("arg",), ast.alias: ("asname",), ast.ExceptHandler: ("name",),
    **{getattr(ast, kind): ("name",) for kind in ("MatchAs", "MatchStar", "TypeVar", "ParamSpec", "TypeVarTuple")
       if hasattr(ast, kind)},
    **({ast.MatchMapping: ("rest",)} if hasattr(ast, "MatchMapping") else {}),
}
#: Fields holding lists of identifiers, or a dotted name whose first part LibCST
#: holds as a ``Name`` (``import parser.x``: an ``Attribute`` on ``parser``).
_NAME_LISTS: dict[type, str] = {ast.Global: "names", ast.Nonlocal: "names"}
if hasattr(ast, "MatchClass"):  # Python 3.10+
    _NAME_LISTS[ast.MatchClass] = "kwd_attrs"
_DOTTED: dict[type, str] = {ast.alias: "name", ast.ImportFrom: "module"}


def _is_method_call(node: ast.AST, name: str, methods: frozenset) -> bool:
    func = node.func  # type: ignore[attr-defined]
    return (
        type(func) is ast.Attribute and type(func.value) is ast.Name and func.value.id == name
        and func.attr in methods
    )


def _ast_uses(nodes: list, name: str) -> tuple[int, int]:
    """(uses of ``name``, calls that only add to it): :class:`_ParserUses` over ``ast`` nodes."""
    uses = adding = 0
    for root in nodes:
        for node in nodes_of(root):
            kind = type(node)
            if kind is ast.Name:
                uses += node.id == name
            elif kind is ast.Call:
                adding += _is_method_call(node, name, ADDING_METHODS)
            if kind in _NAMED:
                uses += sum(getattr(node, field) == name for field in _NAMED[kind])
            if kind in _NAME_LISTS:
                uses += list(getattr(node, _NAME_LISTS[kind])).count(name)
            if kind in _DOTTED:
                dotted = getattr(node, _DOTTED[kind])
                uses += dotted is not None and dotted.split(".", 1)[0] == name
    return uses, adding


def _ast_questions(pairing: dict):
    """:func:`_only_adds`, :func:`_passes_on` and :func:`_parsed_later` on the paired ``ast`` nodes."""

    def only_adds(statement: cst.CSTNode, name: str) -> Optional[bool]:
        uses, adding = _ast_uses(pairing[id(statement)], name)
        return None if uses == 0 else uses == adding

    def passes_on(statement: cst.CSTNode, name: str) -> bool:
        nodes = pairing[id(statement)]
        if not isinstance(statement, cst.SimpleStatementLine) or len(nodes) != 1:
            return False
        expression = nodes[0]
        if type(expression) is not ast.Expr or type(expression.value) is not ast.Call:
            return False
        call = expression.value
        func = call.func
        if type(func) is ast.Attribute and type(func.value) is ast.Name and func.value.id == name:
            return False  # a method of the parser itself
        if _ast_uses([func], name)[0]:
            return False
        values = [arg.value if type(arg) is ast.Starred else arg for arg in call.args]
        values += [keyword.value for keyword in call.keywords]
        return any(type(value) is ast.Name and value.id == name for value in values)

    def parsed_later(statements: list, name: str) -> bool:
        return any(
            type(node) is ast.Call and _is_method_call(node, name, PARSE_METHODS)
            for statement in statements
            for root in pairing[id(statement)]
            for node in nodes_of(root)
        )

    return only_adds, passes_on, parsed_later
