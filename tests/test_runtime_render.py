"""The renderer that copies the runtime functions into users' files."""

from __future__ import annotations

import ast
import builtins

import pytest

from instrument.codemods.helper import templates
from instrument.codemods.core.options import Options
from instrument.codemods.runtime import remote_debug, render, score_debug
from instrument.codemods.core.errors import InstrumentError


@pytest.mark.parametrize(
    "value",
    ["0.0.0.0", "it's", 'say "hi"', "tab\there", "é", "", 0, 5678, ("RANK",), ("A", "B"), ()],
)
def test_literals_read_back_as_the_value(value):
    text = render.literal(value)
    assert ast.literal_eval(text) == value
    assert type(ast.literal_eval(text)) is type(value)


@pytest.mark.parametrize("value", [True, 1.5, None, ["list"], b"bytes"])
def test_values_without_a_literal_are_refused(value):
    with pytest.raises(TypeError):
        render.literal(value)


def _free_globals(source: str) -> set[str]:
    """Names a function reads that it neither binds nor gets from builtins."""
    tree = ast.parse(source)
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bound.add(node.name)
            bound.update(a.arg for a in node.args.args + node.args.kwonlyargs)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - bound - set(dir(builtins))


@pytest.mark.parametrize("unit", ["    ", "  ", "\t"])
def test_the_helper_is_self_contained_and_takes_the_chosen_values(unit):
    options = Options(host="10.1.2.3", port=6001, timeout=42, ranks="0,3")
    lines = templates.helper_lines("_helper_2", options, unit)
    source = "\n".join(lines) + "\n"
    assert _free_globals(source) == set()
    [function] = ast.parse(source).body
    assert isinstance(function, ast.FunctionDef) and function.name == "_helper_2"
    constants = [n.value for n in ast.walk(function) if isinstance(n, ast.Constant)]
    assert "10.1.2.3" in constants and 6001 in constants and 42 in constants and "0,3" in constants
    assert remote_debug.LOCAL_RANK_VARIABLES in [
        ast.literal_eval(n) for n in ast.walk(function) if isinstance(n, ast.Tuple) and all(isinstance(e, ast.Constant) for e in n.elts) and n.elts
    ]
    indents = {line[: len(line) - len(line.lstrip())] for line in lines if line.strip()}
    assert all(indent == unit * (len(indent) // len(unit)) for indent in indents)
    assert "_instrument_remote_debug" not in source  # renamed everywhere


def test_the_scoring_block_is_self_contained():
    lines = templates.score_lines("_dbg", Options(port=7000, timeout=9), "\t")
    source = "\n".join(lines) + "\n"
    assert _free_globals(source) == set()
    function, call = ast.parse(source).body
    assert isinstance(function, ast.FunctionDef) and function.name == "_dbg"
    assert ast.unparse(call) == "_dbg()"
    constants = {n.value for n in ast.walk(function) if isinstance(n, ast.Constant)}
    assert {score_debug.ENV_SWITCH, score_debug.ENV_PORT, score_debug.ENV_TIMEOUT, 7000, 9} <= constants


def test_the_flag_lines_are_the_helpers_own_flags():
    lines = templates.flag_lines("p", Options(port=6001, timeout=42, ranks="1"), "  ")
    guards = ast.parse("\n".join(lines)).body
    # each flag is added only where the parser does not have it yet (a parent parser's)
    assert all(ast.unparse(guard.test) == f"{guard.body[0].value.args[0].value!r} not in p._option_string_actions"
               for guard in guards)
    calls = [guard.body[0].value for guard in guards]
    assert all(ast.unparse(call.func) == "p.add_argument" for call in calls)
    assert tuple(call.args[0].value for call in calls) == templates.DEBUG_FLAGS
    assert all(line.startswith(("if ", "  p.add_argument(")) for line in lines)
    defaults = {call.args[0].value: ast.literal_eval(k.value) for call in calls for k in call.keywords if k.arg == "default"}
    assert defaults["--remote_debug_port"] == 6001
    assert defaults["--remote_debug_connection_timeout"] == 42
    assert defaults["--remote_debug_ranks"] == "1"


@pytest.mark.parametrize("name", ["not an identifier", "x; import os", ""])
def test_names_that_are_no_identifiers_are_refused(name):
    with pytest.raises(InstrumentError):
        templates.helper_lines_uncached(name, Options(), "    ")
    with pytest.raises(InstrumentError):
        templates.flag_lines(name, Options(), "    ")


def test_a_constant_the_function_does_not_read_is_refused():
    with pytest.raises(ValueError, match="NOT_THERE"):
        render.function_lines(remote_debug.__name__, "_instrument_remote_debug", "f", {"NOT_THERE": 1}, "    ")


def test_the_source_is_read_once():
    render.function_source.cache_clear()
    templates.helper_lines_uncached("a", Options(), "    ")
    templates.helper_lines_uncached("b", Options(port=1), "\t")
    assert render.function_source.cache_info().misses == 1
