"""``cst_walk`` against LibCST's own visit: the same nodes in the same order, the same rewrite."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import libcst
import pytest

from instrument.codemods.python import cst_walk

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
#: The users' files of the fixtures (an ``after`` file adds only the blocks add writes).
SOURCES = sorted(path for path in FIXTURES.rglob("*.py") if not path.name.startswith("after"))
SHAPES = {
    "conditional": "x = f(a) if g(b) else h(c)\n",
    "slice": "y = s[f(1):g(2):h(3)]\n",
    "comprehension": "z = [f(x) for x in g(y) if h(x) for w in k(x)]\n",
    "lambda_defaults": "m = lambda a=f(1), /, b=g(2), *c, d=h(3), **e: k(a)\n",
    "nested": "run(Step(name=n(1), arguments=['--a', f(2)] + g(3)), other(h(4)))\n",
    "decorated": "@d(f(1))\ndef p(a=g(2)):\n    return h(3)\n",
}


def _modules():
    """Parsed in the test (a parse at collection would be paid by every worker)."""
    for path in SOURCES:
        yield pytest.param(path, id=str(path.relative_to(FIXTURES)))
    for name, source in SHAPES.items():
        yield pytest.param(source, id=name)


def _module(given):
    return libcst.parse_module(given if isinstance(given, str) else given.read_text(encoding="utf-8", errors="replace"))


def _calls(node) -> list:
    """The calls the walk gives, in its order."""
    return [found for found, _ in cst_walk.walk(node) if type(found) is libcst.Call]


class _Calls(libcst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[libcst.Call] = []
        self.parents: dict = {}
        self.stack: list = []

    def on_visit(self, node) -> bool:
        self.parents[node] = self.stack[-1] if self.stack else None
        self.stack.append(node)
        if type(node) is libcst.Call:
            self.calls.append(node)
        return True

    def on_leave(self, original_node) -> None:
        self.stack.pop()


def _statements(module: libcst.Module):
    """Every statement line and decorator (what the planners walk)."""
    found: list = []

    class Collect(libcst.CSTVisitor):
        def visit_SimpleStatementLine(self, node) -> None:
            found.append(node)

        def visit_Decorator(self, node) -> None:
            found.append(node)

    module.visit(Collect())
    return found


@pytest.mark.parametrize("given", list(_modules()))
def test_the_walk_and_the_rewrite_agree_with_a_visit(given):
    module = _module(given)
    _calls_in_a_visits_order_with_their_parents(module)
    _rewriting_along_the_path_gives_what_a_visit_gives(module)
    _every_string_of_a_module(module)


def _calls_in_a_visits_order_with_their_parents(module):
    for statement in _statements(module):
        visit = _Calls()
        statement.visit(visit)
        walked = dict(cst_walk.walk(statement))
        assert _calls(statement) == visit.calls
        for call in visit.calls:  # a call's way up, as the visit saw it
            node = call
            while node is not statement:
                assert walked[node] is visit.parents[node]
                node = walked[node]


class _Renamer(libcst.CSTTransformer):
    """Renames the function of the calls it is given, and counts what it is asked."""

    def __init__(self, chosen: set) -> None:
        super().__init__()
        self.chosen, self.asked = chosen, 0

    def leave_Call(self, original_node, updated_node):
        self.asked += 1
        if original_node in self.chosen:
            return updated_node.with_changes(func=libcst.Name("renamed"))
        return updated_node


def _rewriting_along_the_path_gives_what_a_visit_gives(module):
    for statement in _statements(module):
        calls = _calls(statement)
        chosen = set(calls[-1:] + calls[:1])  # the first and the last (the outermost and an inner one)
        if not chosen:
            continue
        parents = dict(cst_walk.walk(statement))
        path = cst_walk.path_to(chosen, statement, parents)
        assert path is not None
        along = cst_walk.rewritten(statement, path, _Renamer(chosen))
        visited = statement.visit(_Renamer(chosen))
        assert module.code_for_node(along) == module.code_for_node(visited)


def test_a_target_outside_the_statement_has_no_path():
    module = libcst.parse_module("a = f(1)\nb = g(2)\n")
    first, second = module.body
    parents = dict(cst_walk.walk(first))
    assert cst_walk.path_to(_calls(second), first, parents) is None


def test_the_fields_read_are_in_the_order_of_a_libcst_visit():
    """The walk reads nodes field by field; a visit's order (LibCST's own
    ``_visit_and_replace_children``) decides the order the planners find things in."""
    checked = 0
    for name in dir(libcst):
        kind = getattr(libcst, name)
        if not (isinstance(kind, type) and issubclass(kind, libcst.CSTNode)) or inspect.isabstract(kind):
            continue
        if issubclass(kind, (libcst.BaseCompoundStatement, libcst.BaseSuite, libcst.Module, libcst.ExceptHandler,
                             libcst.ExceptStarHandler, libcst.MatchCase)) or name.endswith("ImportFrom"):
            continue  # never inside a statement line or decorator the planners read (imports: no expression)
        source = inspect.getsource(kind._visit_and_replace_children)
        visited = [field for field in re.findall(r'visit_\w+\(\s*self,\s*"(\w+)"', source) if field in cst_walk.fields(kind)]
        assert visited == [field for field in cst_walk.fields(kind) if field in visited], name
        checked += 1
    assert checked > 100


class _Strings(libcst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list = []

    def visit_SimpleString(self, node) -> None:
        self.found.append(node)


def _every_string_of_a_module(module):
    """``preferred_quote`` counts strings with the walk: it must see what a visit sees."""
    from instrument.codemods.python.call_arguments import preferred_quote

    visit = _Strings()
    module.visit(visit)
    walked = [node for node, _ in cst_walk.walk(module) if type(node) is libcst.SimpleString]
    # the same strings; in a compound statement (a decorator's strings and the body's) not in a visit's order
    assert sorted(map(id, walked)) == sorted(map(id, visit.found))
    double = sum(node.quote.endswith('"') for node in visit.found)
    expected = "-" if not visit.found else '"' if double > len(visit.found) - double else "'"
    assert preferred_quote(module, "-") == expected
