"""The cheap ways add checks and places things agree with the exact ways.

Two shortcuts on the per-file path of ``add``, each held equal to what it
replaces:

* verification parses the result with ``pass`` standing in for each block
  add inserted (:func:`parsing.with_stand_ins`); for a block at every line
  of a messy script, at every indentation, a stand-in text that parses
  proves the real one does, and verify accepts exactly the results that
  parse: a misplaced block is still refused;
* the flags block's place (:mod:`flag_placement`) is read from CPython's
  tree paired with LibCST's; on every statement of every training fixture
  and of hostile layouts, for every name in them, the answers are LibCST's.
"""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from fixture_cases import load_cases
from instrument.codemods.fences import markers
from instrument.codemods.helper import templates
from instrument.codemods.kinds.train import flag_placement
from instrument.codemods.kinds.base import Plan
from instrument.codemods.python.parsing import with_stand_ins
from instrument.codemods.python.positions import paired
from instrument.codemods.core.options import Options
from instrument.codemods.kinds.train.script import verify
from instrument.codemods.core.errors import InstrumentError

TRAIN_CASES = load_cases("train")

SCRIPT = """\
import argparse


def build(
    lr=0.1,
):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=lr)
    if lr > 1:
        parser.set_defaults(lr=1)
    text = '''
    a string that spans lines
    '''
    return parser, text


class Trainer:
\tdef fit(self):
\t\tfor epoch in range(2):
\t\t\tprint(epoch, [
\t\t\t\t1, 2])
\t\treturn self


if __name__ == "__main__":
    print(build()[0].parse_args())
"""


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def _blocks(newline: str) -> list:
    """Bodies add inserts: the flags (compound statements), a call, the helper."""
    options = Options()
    return [
        templates.flag_lines("parser", options, "    "),
        templates.call_lines("_instrument_remote_debug", "args"),
        ["", *templates.helper_lines("_instrument_remote_debug", options, "\t"), "", ""],
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_stand_in_that_parses_proves_the_block_does(newline):
    source = SCRIPT.replace("\n", newline)
    lines = markers.split_lines(source)
    compared = refused = 0
    for body in _blocks(newline):
        for indent in ("", "    ", "\t", "        ", "\t\t", "  "):
            for before in range(len(lines) + 1):
                insertion = markers.Insertion(before, indent, templates.LABEL_FLAGS, body)
                result = markers.insert_blocks(source, [insertion], newline)
                checked = with_stand_ins(result, [insertion], newline)
                where = (before, repr(indent), body[:1])
                if _parses(checked):  # what verify's shortcut relies on
                    assert _parses(result), where
                assert _verified(result, source, insertion, newline) == _parses(result), where
                compared += checked != result
                refused += not _parses(result)
    assert compared > 300 and refused > 100  # the table exercised both answers


def _verified(result: str, source: str, insertion, newline: str) -> bool:
    try:
        verify(result, source, Plan(insertions=[insertion], expected=newline))
    except InstrumentError:
        return False
    return True


def test_a_block_the_file_also_holds_is_parsed_as_it_is():
    body = ["x = 1"]
    source = "x = 1\n"
    insertion = markers.Insertion(1, "", templates.LABEL_CALL, body)
    result = markers.insert_blocks(source, [insertion], "\n")
    assert with_stand_ins(result, [insertion], "\n") == result


@pytest.mark.parametrize("body", [
    ["    x = 1"],  # deeper than the block's place: an unexpected indent in the file
    ["if x:"],  # not complete statements
    ["# <<< instrument", "x = 1"],  # strip would read a fence
    ["#: saved", "x = 1"],  # strip would read a saved original line
    ["", ""],  # nothing to stand for
])
def test_blocks_that_cannot_be_stood_in_for_are_left_as_they_are(body):
    from instrument.codemods.python import parsing

    assert parsing._stand_in("    ", tuple(body), "\n") is None
    assert parsing._stand_in("    ", ("y = 2",), "\n") == "    y = 2\n"  # the same place takes a complete one


def test_verify_refuses_a_block_placed_inside_a_statement():
    source = 'print(\n    "a",\n)\n'
    insertion = markers.Insertion(1, "", templates.LABEL_CALL, templates.call_lines("_instrument_remote_debug", "args"))
    result = markers.insert_blocks(source, [insertion], "\n")
    with pytest.raises(InstrumentError, match="does not parse"):
        verify(result, source, Plan(insertions=[insertion], expected="\n"))


def test_verify_refuses_a_result_that_does_not_strip_back():
    source = "x = 1\n"
    insertion = markers.Insertion(1, "", templates.LABEL_CALL, ["y = 2"])
    result = markers.insert_blocks(source, [insertion], "\n") + "z = 3\n"
    with pytest.raises(InstrumentError, match="strip back"):
        verify(result, source, Plan(insertions=[insertion], expected="\n"))


# -- the flags' place: CPython's tree against LibCST's ------------------------------

LAYOUTS = {
    "names-that-bind": """\
import argparse
import parser.sub
from parser import x as y
parser = argparse.ArgumentParser()
parser.add_argument("--a")
def parser(parser=1, *parser2, **kw): return parser
class parser: pass
try:
    pass
except ValueError as parser:
    pass
global_value = lambda parser: parser
def g():
    global parser
    nonlocal_free = 1
args = parser.parse_args()
""",
    "passes-on": """\
import argparse
p = argparse.ArgumentParser()
p.add_argument("--a")
helpers.add(p)
helpers.add(*p)
helpers.add(x=p)
helpers.add(**p)
p.helpers.add(p)
helpers[p](p)
f"{p}"
opts = p.parse_known_args()
""",
    "loops-and-groups": """\
import argparse
parser = argparse.ArgumentParser()
group = parser.add_argument_group("g")
for name in ("a", "b"):
    parser.add_argument("--" + name)
with ctx() as parser2:
    parser.set_defaults(a=1)
x.parser = 1
f(parser=2)
print(parser.prog)
""",
    "match-and-types": """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--a")
match command:
    case {"k": 1, **parser}:
        pass
    case Point(parser=1):
        pass
    case [*parser]:
        pass
    case parser:
        pass
args = parser.parse_args()
""",
}


def _names(tree: ast.AST) -> set:
    found = {"parser", "p", "args", "ap", "group"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
    return found


def _every_statement_list(module: cst.Module):
    yield from flag_placement._bodies(module)
    for body in list(flag_placement._bodies(module)):
        for statement in body:
            yield from _nested(statement)


def _nested(statement):
    for body in flag_placement._bodies(statement):
        yield body
        for inner in body:
            yield from _nested(inner)


def _sources():
    for param in TRAIN_CASES:
        case = param.values[0]
        marks = [pytest.mark.py310] if case.meta.get("python", "3.9") >= "3.10" else []
        yield pytest.param(param.id, case.before, id=param.id, marks=marks)
    for name, text in LAYOUTS.items():
        yield pytest.param(name, text.encode(), id=name, marks=[pytest.mark.py310] if "match" in name else [])


@pytest.mark.parametrize("name,data", list(_sources()))
def test_the_flags_place_from_cpythons_tree_is_libcsts(name, data):
    from instrument import files

    text = files.decode(data, name).text if isinstance(data, bytes) else data
    text = markers.remove_blocks(text)
    module = cst.parse_module(text)
    pairing = paired(module, text)
    assert pairing is not None  # else flags_anchor takes the LibCST way alone
    only_adds, passes_on, parsed_later = flag_placement._ast_questions(pairing)
    names = _names(ast.parse(text))
    compared = 0
    for body in _every_statement_list(module):
        for index, statement in enumerate(body):
            for candidate in names:
                assert only_adds(statement, candidate) == flag_placement._only_adds(statement, candidate), (
                    candidate, module.code_for_node(statement))
                assert passes_on(statement, candidate) == flag_placement._passes_on(statement, candidate)
                assert parsed_later(body[index:], candidate) == flag_placement._parsed_later(body[index:], candidate)
                assert flag_placement.flags_anchor(module, statement, candidate, text) is \
                    flag_placement.flags_anchor(module, statement, candidate)
                compared += 1
    assert compared
