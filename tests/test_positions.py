"""Statement lines: the ast way and the code-generation way agree."""

from __future__ import annotations

import libcst as cst
import pytest

from instrument.codemods.python.positions import _from_ast, _from_codegen, first_line_above, statement_lines
from instrument import files
from tests.fixture_cases import FIXTURES

SHAPES = '''\
"""doc"""
import os
@dec
@dec2(
  1)
def f(a,
      b):
    x = 1; y = 2
    if a: z = 3
    elif b:
        w = 4
    else:
        pass
    try:
        q = 1
    except E:
        r = 2
    else:
        s = 3
    finally:
        t = 4
    return x
class C:
    async def g(self):
        async with a: pass
        async for i in x:
            yield i
while True:
    break
else:
    pass
match x:
    case 1:
        v = 1
    case _:
        v = 2
'''


def _statements(module):
    found = []

    def walk(node):
        for child in node.children:
            if isinstance(child, (cst.SimpleStatementLine, cst.BaseCompoundStatement, cst.Decorator)):
                found.append(child)
            walk(child)

    walk(module)
    return found


SOURCES = [pytest.param(SHAPES, id="shapes")] + [
    pytest.param(files.decode(path.read_bytes()).text, id=f"{path.parent.parent.name}/{path.parent.name}")
    for path in sorted(FIXTURES.glob("*/*/after.py"))
]


@pytest.mark.parametrize("source", SOURCES)
def test_both_ways_agree(source):
    module = cst.parse_module(source)
    nodes = _statements(module)
    by_ast = _from_ast(module, nodes, source)
    assert by_ast is not None, "the ast way gave up on valid code"
    assert by_ast == _from_codegen(module, nodes)


def test_grammar_this_python_may_not_know():
    # A type alias statement (3.12): on older Pythons only LibCST parses it and
    # the code-generation way answers; on newer ones both ways must agree.
    source = "type Point = tuple[float, float]\nx = 1\n"
    module = cst.parse_module(source)
    last = module.body[-1]
    assert statement_lines(module, [last], source) == {id(last): (2, 2)}


def test_first_line_above_skips_decorators_and_comments():
    source = "x = 1\n\n# about f\n@a\n@b\ndef f():\n    pass\n"
    module = cst.parse_module(source)
    assert first_line_above(module, module.body[1], source) == 1
