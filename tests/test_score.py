"""The scoring-script codemod, table-driven from fixtures/score/.

Each fixture's ``case.json`` holds ``run_args``: the instrumented script must
answer ``run(*run_args)`` exactly as the original does. The injected code
itself is run for real (subprocesses, a real debugpy) in the tests at the
end; tests/test_score_server.py runs it inside azmlinfsrv.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from instrument.codemods.kinds import score as score_kind
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods import kinds
from instrument.codemods.fences import markers
from instrument.codemods.helper import templates
from instrument.codemods.core.options import Options
from instrument import files
from instrument.cli import main
from instrument.process import ADD, STRIP, Job, process_bytes
from instrument.codemods.helper import module as helper_module
from tests.fixture_cases import case_options, load_cases, transformed, write_helper
from tests.ports import free_port

CASES = load_cases("score")
ADD_JOB = Job(ADD, kind="score")
STRIP_JOB = Job(STRIP, kind="score")
HELPER = templates.HELPER_NAME
PLAIN = next(param.values[0] for param in CASES if param.id == "plain")
#: A script's loading statements: the helper module beside it, by path, with the source loader.
LOADER = (
    '_instrument = __import__("types").ModuleType("")\n'
    '__import__("importlib.machinery").machinery.SourceFileLoader('
    '"", __import__("os").path.normpath(__file__ + "/../_instrument_debug.py")).exec_module(_instrument)\n'
)
WAIT = 60  # seconds: the bound on any subprocess here, a guard against a hang, not a claim of speed
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY", "INSTRUMENT_"))}
ENV["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # no frozen-modules warning on stderr


def transform(job: Job, data: bytes) -> bytes:
    return transformed(job, data, "score.py")


def text_of(data: bytes) -> str:
    return files.decode(data).text


def test_there_are_enough_cases():
    assert len(CASES) >= 9


@pytest.mark.parametrize("case", CASES)
def test_detected_as_a_scoring_script_with_a_30_second_default(case):
    assert kinds.detect_python_kind(text_of(case.before)) == "score"
    detected = process_bytes(Job(ADD, options=case_options("score", case.meta)), case.before, "score.py")
    assert detected.output == case.after
    if case.meta.get("inline"):
        assert 'port=5678, timeout=30, client_ip=""):' in text_of(case.after)
    else:  # the helper's own default: the call passes nothing
        assert '_instrument.score_debug()' in text_of(case.after)
        assert 'def score_debug(host="0.0.0.0", port=5678, timeout=30, client_ip=""):' in helper_module.module_text()


@pytest.mark.parametrize("case", CASES)
def test_strip_survives_edits_elsewhere(case):
    before, after = text_of(case.before), text_of(case.after)
    newline = "\r\n" if "\r\n" in before else "\n"
    prefix = f"# a comment the user added later{newline}"
    assert kinds.strip(prefix + after, "score") == prefix + before


def _init_of(module: ast.Module) -> ast.FunctionDef:
    return [s for s in module.body if isinstance(s, ast.FunctionDef) and s.name == "init"][-1]


@pytest.mark.parametrize("case", CASES)
def test_only_init_changes_and_the_block_comes_first(case):
    """After the docstring: the nested helper and its call; nothing else moved."""
    before = ast.parse(case.before)
    after = ast.parse(case.after)  # also proves CPython compiles it, not only LibCST
    compile(case.after, "score.py", "exec", dont_inherit=True)  # symbol table: global statements
    body = _init_of(after).body
    start = 1 if ast.get_docstring(_init_of(before), clean=False) is not None else 0
    inline = bool(case.meta.get("inline"))
    helper, call = body[start], body[start + (1 if inline else 2)]
    if inline:
        assert isinstance(helper, ast.FunctionDef) and helper.name == HELPER
        assert ast.dump(call) == ast.dump(ast.parse(f"{HELPER}()").body[0])
    else:  # the helper module beside the script, loaded by path, and its scoring function called
        loader = ast.parse(LOADER).body
        assert [ast.dump(s) for s in body[start : start + 2]] == [ast.dump(s) for s in loader]
        assert ast.dump(call) == ast.dump(ast.parse("_instrument.score_debug()").body[0])
    del body[start : start + (2 if inline else 3)]
    assert ast.dump(after) == ast.dump(before)  # run, imports, globals: all untouched
    names = {n.id for n in ast.walk(helper) if isinstance(n, ast.Name)}
    assert "run" not in names and "Run" not in names


@pytest.mark.parametrize("case", CASES)
def test_block_is_indented_one_level_below_def_init(case):
    text = text_of(case.after)
    unit = "\t" if case.name.endswith("tabs") else "    "
    begin = next(line for line in text.splitlines() if markers.BEGIN in line)
    assert begin == unit + f"{markers.BEGIN}: {templates.LABEL_SCORE}"
    if case.meta.get("inline"):
        assert f"\n{unit}def {HELPER}(host=" in text.replace("\r\n", "\n")
        assert f"\n{unit * 3}import debugpy\n" in text.replace("\r\n", "\n")  # in a try
    else:
        assert f"\n{unit}_instrument = __import__(\"types\")" in text.replace("\r\n", "\n")
        assert f"\n{unit * 2}\"\", __import__(\"os\")" in text.replace("\r\n", "\n")


def run_script(path: Path, run_args: list, env: dict, python=(sys.executable,)) -> subprocess.CompletedProcess:
    """Load a scoring script as azmlinfsrv does, call init() and run(*run_args)."""
    program = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('entry_module', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "module.init()\n"
        "print('reply', json.dumps(module.run(*json.loads(sys.argv[2]))))\n"
    )
    return subprocess.run(
        [*python, "-c", program, str(path), json.dumps(run_args)],
        env={**ENV, **env}, capture_output=True, text=True, timeout=WAIT,
    )


@pytest.mark.parametrize("case", CASES)
def test_switched_off_it_answers_exactly_as_before(case, tmp_path):
    (tmp_path / "before.py").write_bytes(case.before)
    (tmp_path / "after.py").write_bytes(case.after)
    write_helper(case, tmp_path)
    args = case.meta["run_args"]
    before = run_script(tmp_path / "before.py", args, {})
    after = run_script(tmp_path / "after.py", args, {"INSTRUMENT_DEBUG": "0"})
    assert before.returncode == 0, before.stderr
    assert (after.returncode, after.stdout, after.stderr) == (0, before.stdout, before.stderr)
    assert before.stdout.startswith("reply ")


def instrumented(tmp_path: Path, **options) -> Path:
    path = tmp_path / "score.py"
    path.write_bytes(PLAIN.before)
    assert main(["add", "-q", "--host", "127.0.0.1", *options.get("argv", []), str(path)]) == 0
    return path


def test_nobody_attaches_init_goes_on_after_the_timeout(tmp_path):
    path = instrumented(tmp_path)
    port = free_port()
    started = time.monotonic()
    result = run_script(path, ['{"data": [[1, 2]]}'],
                        {"INSTRUMENT_DEBUG_TIMEOUT": "1", "INSTRUMENT_DEBUG_PORT": str(port)})
    assert 1 <= time.monotonic() - started < WAIT
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Timeout for debug connection: 1", "ip_address: 127.0.0.1"]
    assert lines[2].startswith(f"Remote debugging: listening on 127.0.0.1:{port} (process ")
    assert lines[3:] == ["Debugger attached = False", "reply [4.5]"]
    assert result.stderr == ""


def test_busy_port_is_one_line_and_init_goes_on(tmp_path):
    path = instrumented(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_script(path, ['{"data": [[1, 2]]}'], {"INSTRUMENT_DEBUG_PORT": str(port)})
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
    assert f"cannot listen on 127.0.0.1:{port} (is the port in use?)" in result.stderr
    assert result.stdout.splitlines()[-2:] == ["Debugger attached = False", "reply [4.5]"]


def test_bad_environment_values_are_reported_and_the_add_time_values_used(tmp_path):
    port = free_port()
    path = instrumented(tmp_path, argv=["--port", str(port), "--timeout", "1"])
    result = run_script(path, ['{"data": [[1, 2]]}'],
                        {"INSTRUMENT_DEBUG_PORT": "70000", "INSTRUMENT_DEBUG_TIMEOUT": "soon"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"Remote debugging: ignoring INSTRUMENT_DEBUG_PORT='70000', using {port}",
        "Remote debugging: ignoring INSTRUMENT_DEBUG_TIMEOUT='soon', using 1",
    ]
    assert "Timeout for debug connection: 1" in result.stdout.splitlines()
    assert f"Remote debugging: listening on 127.0.0.1:{port}" in result.stdout


@pytest.mark.parametrize("value", ["0", "off", "False", " no "])
def test_switched_off_by_the_environment(tmp_path, value):
    path = instrumented(tmp_path)
    result = run_script(path, ['{"data": [[1, 2]]}'], {"INSTRUMENT_DEBUG": value})
    assert (result.returncode, result.stdout, result.stderr) == (0, "reply [4.5]\n", "")


def test_without_debugpy_init_goes_on(tmp_path):
    """python -S: debugpy cannot be imported; one line, then the service starts."""
    path = instrumented(tmp_path)
    result = run_script(path, ['{"data": [[1, 2]]}'], {}, python=(sys.executable, "-S"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "Remote debugging: debugpy is not installed in this environment\n"
    assert result.stdout.splitlines()[-2:] == ["Debugger attached = False", "reply [4.5]"]


# -- small cases: where the block goes ----------------------------------------------

RUN = "\n\ndef run(data):\n    return data\n"


@pytest.mark.parametrize(
    ("src", "block_line"),
    [
        ("def init():\n    pass\n" + RUN, 1),
        ("def init():\n    # a comment\n\n    pass\n" + RUN, 1),
        ("def init(\n    a=1,\n    b=2,\n):\n    pass\n" + RUN, 4),
        ('def init():\n    """One line."""\n    pass\n' + RUN, 2),
        ('def init():\n    "a" "b"\n    pass\n' + RUN, 2),
        ("def run(data):\n  return data\n\n\ndef init():\n    pass\n", 5),
        ("def init():\n    pass\n\n\ndef init():\n    x = 1\n" + RUN, 5),
        ("@decorated\ndef init():\n    pass\n" + RUN, 2),
        ("async def init():\n    pass\n" + RUN, 1),
        ("def init():\n    # cached\n    @cache\n    def load():\n        pass\n" + RUN, 1),
        ("def init():\n\n    @route(\n        'x',\n    )\n    # between\n    @other\n    class Load:\n        pass\n"
         + RUN, 1),
    ],
    ids=["plain", "comment_first", "multiline_header", "docstring", "concatenated_docstring",
         "other_indent_elsewhere", "redefined_last_wins", "decorated_init", "async_init",
         "decorated_first_statement", "multiline_decorators_first"],
)
def test_block_position(src, block_line):
    """0-based line of the opening fence; always indented like init's body."""
    out = score_kind.add(src)
    lines = out.splitlines()
    assert lines[block_line] == f"    {markers.BEGIN}: {templates.LABEL_SCORE}"
    assert lines.count(f"    {markers.BEGIN}: {templates.LABEL_SCORE}") == 1
    assert markers.remove_blocks(out) == src
    compile(out, "score.py", "exec")


def test_free_helper_name():
    src = "_instrument_remote_debug = 1\n\ndef init():\n    pass\n" + RUN
    out = score_kind.add(src)
    assert "def _instrument_remote_debug_2(host=" in out
    assert "    _instrument_remote_debug_2()\n" in out


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (Options(port=6000), 'def _instrument_remote_debug(host="0.0.0.0", port=6000, timeout=300, client_ip=""):'),
        (Options(timeout=0), 'def _instrument_remote_debug(host="0.0.0.0", port=5678, timeout=0, client_ip=""):'),
        (Options(host="::1"), 'def _instrument_remote_debug(host="::1", port=5678, timeout=300, client_ip=""):'),
        (Options(host="node-1.example"), '(host="node-1.example", port=5678, timeout=300, client_ip=""):'),
    ],
)
def test_options_become_literals(options, expected):
    assert expected in score_kind.add("def init():\n    pass\n" + RUN, options)


# -- errors: one line, nothing written ------------------------------------------------


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("def init():\n    pass\n", "not a scoring script: it needs top-level init() and run()"),
        ("x = 1\n" + RUN, "not a scoring script"),
        ("def init(): pass\n" + RUN, "line 1: init() has its body on the 'def' line"),
        ("import debugpy\ndebugpy.listen(5678)\n\ndef init():\n    pass\n" + RUN,
         "line 2: the script already calls debugpy.listen"),
        ("from debugpy import connect as c\n\ndef init():\n    c(5678)\n" + RUN,
         "line 4: the script already calls debugpy.connect"),
        ("def init():\n    import debugpy\n    debugpy.wait_for_client()\n" + RUN,
         "line 3: the script already calls debugpy.wait_for_client"),
        ("def init(:\n" + RUN, "cannot parse"),
    ],
    ids=["no_run", "no_init", "one_line_init", "listen", "aliased_connect", "wait", "syntax"],
)
def test_refused_with_a_one_line_reason(tmp_path, capsys, src, reason):
    with pytest.raises(InstrumentError, match="^" + reason.replace("(", r"\(").replace(")", r"\)")):
        score_kind.add(src)
    path = tmp_path / "score.py"
    path.write_text(src, encoding="utf-8")
    assert main(["add", "--kind", "score", str(path)]) == 123
    assert path.read_text(encoding="utf-8") == src
    error = capsys.readouterr().err.splitlines()[0]
    # The command line refuses a file that is no scoring script before the codemod sees it.
    assert error.startswith(f"{path}: {reason.split(': it needs')[0]}")


def test_check_and_diff_write_nothing(tmp_path, capsys):
    case = PLAIN
    path = tmp_path / "score.py"
    path.write_bytes(case.before)
    assert main(["add", "--check", str(path)]) == 1
    assert main(["add", "--diff", str(path)]) == 0
    assert path.read_bytes() == case.before
    assert f"+    {markers.BEGIN}: {templates.LABEL_SCORE}" in capsys.readouterr().out
    assert main(["add", str(path)]) == 0
    assert path.read_bytes() == case.after
    assert main(["add", "--check", str(path)]) == 0
    assert main(["strip", str(path)]) == 0
    assert path.read_bytes() == case.before


INIT_SHAPES = [
    'def init():\n    """Doc."""\n    x = 1\n\n\ndef run(d):\n    return d\n',
    'def init():\n    """Doc\n    on lines."""\n    x = 1\n\n\ndef run(d):\n    return d\n',
    "def init():\n    # a comment\n\n    # another\n    x = 1; y = 2\n\n\ndef run(d):\n    return d\n",
    "def init():\n    # above\n    @decorate\n    # between\n    @other(\n        1)\n    def inner():\n        pass\n\n\ndef run(d):\n    return d\n",
    "async def init():\n    (a) = (\n        1)\n\n\ndef run(d):\n    return d\n",
    "def init():\n    pass\n\n\ndef init():\n\n    # the one that counts\n    global model\n    model = 1\n\n\ndef run(d):\n    return d\n",
    "def init():\r\n\tif True:\r\n\t\tx = 1\r\n\r\n\r\ndef run(d):\r\n\treturn d\r\n",
]


@pytest.mark.parametrize("source", INIT_SHAPES)
def test_the_block_position_from_cpythons_tree_is_the_pairings(source):
    """The block's place comes from the one statement CPython's tree gives, not from pairing
    every statement with LibCST's: the same line as the pairing's way."""
    from instrument.codemods.kinds.score import script
    from instrument.codemods.python.parsing import parse_module
    from instrument.codemods.python.positions import first_line_above, statement_lines
    from instrument.codemods.python.syntax_kinds import is_docstring

    module = parse_module(source)
    init = script._top_level_function(module, "init")
    first = init.body.body[0]
    if is_docstring(first):
        expected = statement_lines(module, [first], source)[id(first)][1]
        by_codegen = statement_lines(module, [first])[id(first)][1]  # LibCST's own positions
    else:
        expected = first_line_above(module, first, source)
        by_codegen = first_line_above(module, first)
    assert expected == by_codegen
    assert script._first_statement_lines(source) is not None
    assert script._block_position(module, init, source) == expected
