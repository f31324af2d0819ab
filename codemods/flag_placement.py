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

from typing import Iterator, Optional

import libcst as cst

from instrument.codemods.source_facts import PARSE_METHODS

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


def flags_anchor(module: cst.Module, parser_statement: cst.CSTNode, name: str) -> cst.CSTNode:
    """The statement after which the flags block goes (the parser's own statement at the latest)."""
    body = _statement_list(module, parser_statement)
    if body is None:
        return parser_statement
    anchor = parser_statement
    following = body[body.index(parser_statement) + 1 :]
    for position, statement in enumerate(following):
        adds = _only_adds(statement, name)
        if adds is False and _passes_on(statement, name) and _parsed_later(following[position + 1 :], name):
            adds = True
        if adds is False:
            break
        if adds:
            anchor = statement
    return anchor
