"""Grammar newer than the running Python: analysed as on a Python that has it.

Each source below uses a statement CPython 3.9 cannot parse. The expected
calls (line, column, dotted name) are where CPython 3.11+ puts them; on those
Pythons the native parse is checked against them too, so the table is
CPython's answer, and the lowered parse must give the same one everywhere.
"""

from __future__ import annotations

import ast
import sys

import pytest

from instrument.codemods.python import grammar
from instrument.codemods.check.findings import check_python

MATCH = (
    "import debugpy\n"
    "match (command,\n"
    "       debugpy.listen(5678)):  # a tuple subject over two lines\n"
    "    case [\n"
    "        'wait',\n"
    "        x,\n"
    "    ] if debugpy.wait_for_client() or x:\n"
    "        print('waited')\n"
    "    case {'k': v, **rest} | Point(x=0) as p:\n"
    "        debugpy.breakpoint()\n"
    "    case(_):\n"
    "        pass\n"
)
MATCH_CALLS = [
    (3, 7, "debugpy.listen"),
    (7, 9, "debugpy.wait_for_client"),
    (8, 8, "print"),
    (10, 8, "debugpy.breakpoint"),
]
TRY_STAR = (
    "import debugpy\n"
    "try:\n"
    "    run()\n"
    "except *ValueError as group:\n"
    "    debugpy.listen(5678)\n"
    "except* (TypeError, KeyError):\n"
    "    pass\n"
)
TRY_STAR_CALLS = [(3, 4, "run"), (5, 4, "debugpy.listen")]
NESTED = (
    "def main(mode):\n"
    "    match mode:\n"
    "        case 'a':\n"
    "            try:\n"
    "                pass\n"
    "            except* OSError:\n"
    "                match mode:\n"
    "                    case _ if mode:\n"
    "                        debugpy.connect(('h', 1))\n"
)
NESTED_CALLS = [(9, 24, "debugpy.connect")]
TYPE_PARAMS = (
    "import debugpy\n"
    "type Pair[T] = tuple[T, T]\n"
    "type Listen=debugpy.listen\n"
    "def first[T: (int,\n"
    "          str)](pair: Pair[T]) -> T:  # a bound over two lines\n"
    "    return debugpy.listen(pair[0])\n"
    "class Box[T]:\n"
    "    def get(self) -> T: return make()\n"
)
TYPE_PARAMS_CALLS = [(6, 11, "debugpy.listen"), (8, 31, "make")]
CASES = {
    "type_params": (TYPE_PARAMS, TYPE_PARAMS_CALLS, (3, 12), {"TypeAlias": 2}),
    "match": (MATCH, MATCH_CALLS, (3, 10), {"Match": 1, "match_case": 3}),
    "try_star": (TRY_STAR, TRY_STAR_CALLS, (3, 11), {"TryStar": 1}),
    "nested": (NESTED, NESTED_CALLS, (3, 11), {"Match": 2, "match_case": 2, "TryStar": 1}),
}


def _calls(tree: ast.Module) -> list[tuple[int, int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found.append((node.lineno, node.col_offset, ast.unparse(node.func)))
    return sorted(found)


def _kinds(tree: ast.Module) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        name = type(node).__name__
        if name in ("Match", "match_case", "TryStar", "TypeAlias"):
            counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_lowered_parse_has_the_native_calls_and_statements(name):
    source, calls, native_from, kinds = CASES[name]
    tree = grammar.lowered_tree(source)
    assert tree is not None
    assert _calls(tree) == calls
    assert _kinds(tree) == kinds
    if sys.version_info >= native_from:  # the expectation is CPython's own
        native = ast.parse(source)
        assert _calls(native) == calls
        assert _kinds(native) == kinds


def test_check_finds_the_calls_inside_newer_statements_on_every_python():
    found = [(f.line, f.col, f.name) for f in check_python(MATCH)]
    assert found == [(3, 8, "debugpy.listen"), (7, 10, "debugpy.wait_for_client"), (10, 9, "debugpy.breakpoint")]
    assert [(f.line, f.name) for f in check_python(NESTED)] == [(9, "debugpy.connect")]


@pytest.mark.parametrize("source", [
    "x = (1,\n",  # no grammar accepts it
    "x = 1\n",  # nothing to lower: the caller's own parse is the answer
    "match x:\n  case 1 2:\n    pass\n",
    'f"{x["key"]}"\n' if sys.version_info < (3, 12) else "x = (\n",  # 3.12's f-strings: not lowered
])
def test_nothing_to_lower_or_nothing_valid_gives_no_tree(source):
    assert grammar.lowered_tree(source) is None


@pytest.mark.parametrize(("source", "reason"), [
    ("x = 1\ny = (1,\nz = 3\n", "'(' was never closed (line 2, column 5)"),
    ("f(a, [b,\n  {c: (d,\n", "'(' was never closed (line 2, column 7)"),
    ("x = [1,\n  2]\nif x:\n", "expected an indented block"),  # brackets closed: CPython's reason
    ("def f(:\n    pass\n", "invalid syntax (line 1, column 7)"),  # the error on the bracket's line
])
def test_a_syntax_error_is_worded_alike_on_every_python(source, reason):
    assert grammar.syntax_error_reason(source).startswith(reason)
