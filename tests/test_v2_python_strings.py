"""Command strings written in Python, edited in place: every form evaluates to the right command.

Each row is a ``command=`` expression as users write it, the names it uses,
and the command Python must build after the edit; the edited expression is
evaluated for real. A "noop" table lists expressions that are left alone.
"""

from __future__ import annotations

import pytest
import libcst as cst

from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.v2 import strings as v2_strings
from instrument.process import ADD, Job, process_bytes

FLAG = " --remote_debug"
INSTALL = "pip install debugpy && "
NAMES = {"lr": 0.1, "model": "${{inputs.model}}", "script": "train.py", "n": 3, "a": "x", "b": "y", "c": True}


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements):
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original, updated):
        return self.replacements.get(original, updated)


def edited(source: str, install: bool = False) -> tuple[str, str]:
    """(the edited expression's code, the command it evaluates to)."""
    module = cst.parse_module(f"command = {source}\n")
    expression = module.body[0].body[0].value
    found = v2_strings.pieces(expression)
    assert found is not None
    command = v2_strings.rendered(found)
    edits = [v2_strings.Edit(v2_commands.flag_insertion(command), FLAG, after=True)]
    if install:
        edits.append(v2_strings.Edit(v2_commands.install_insertion(command), INSTALL, after=False))
    new = module.visit(_Replace(v2_strings.replacements(found, edits, '"'))).code
    scope = dict(NAMES)
    exec(compile(new, "<edited>", "exec"), scope)
    return new, scope["command"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param('"python train.py --a 1"', "python train.py --a 1 --remote_debug", id="literal"),
        pytest.param(r'"python t.py --x \x41B && echo \"done\""', 'python t.py --x AB --remote_debug && echo "done"', id="escapes"),
        pytest.param(r"r'python t.py --re \d+ > out.log'", r"python t.py --re \d+ --remote_debug > out.log", id="raw"),
        pytest.param('"python t.py " f"--lr {lr}"', "python t.py --lr 0.1 --remote_debug", id="implicit_ending_in_expression"),
        pytest.param('"python t.py --model " + model', "python t.py --model ${{inputs.model}} --remote_debug", id="plus_name_last"),
        pytest.param('"python t.py " + (a if c else b)', "python t.py x --remote_debug", id="plus_conditional"),
        pytest.param('("python t.py" + " --a") + " --b"', "python t.py --a --b --remote_debug", id="nested_plus"),
        pytest.param('"""\npython t.py --a 1 \\\n  --b 2\n"""', "\npython t.py --a 1   --b 2 --remote_debug\n", id="triple_quoted_continuation"),
        pytest.param("f'python t.py --d ${{{{inputs.d}}}} --n {n}'", "python t.py --d ${{inputs.d}} --n 3 --remote_debug", id="fstring_doubled_braces"),
        pytest.param('f"python {script}"', "python train.py --remote_debug", id="fstring_ending_in_expression"),
        pytest.param('f"python {script} --n {n!r:>4}"', "python train.py --n    3 --remote_debug", id="fstring_format_spec"),
        pytest.param('("python t.py "\n "--a 1 ")', "python t.py --a 1 --remote_debug ", id="trailing_space"),
        pytest.param('"python t.py --a \\\n1"', "python t.py --a 1 --remote_debug", id="backslash_newline_in_literal"),
        pytest.param('"python t.py --opt $[[--x ${{inputs.x}}]] | tee log"', "python t.py --opt $[[--x ${{inputs.x}}]] --remote_debug | tee log", id="optional_group_and_pipe"),
        pytest.param(
            '(\n    "python -c \\"import nltk; nltk.download(\'punkt\', quiet=True)\\" "\n    "&& python -m pkg.data "\n    f"--raw-train-path ${{{{inputs.raw}}}} --n {n}"\n)',
            "python -c \"import nltk; nltk.download('punkt', quiet=True)\" && python -m pkg.data --raw-train-path ${{inputs.raw}} --n 3 --remote_debug",
            id="python_c_then_module",
        ),
        pytest.param("rf'python t.py --p \\d --n {n}'", "python t.py --p \\d --n 3 --remote_debug", id="raw_fstring"),
    ],
)
def test_flags_land_after_the_entry(source, expected):
    assert edited(source)[1] == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param('"cd src && python t.py"', "pip install debugpy && cd src && python t.py --remote_debug", id="and_list"),
        pytest.param('"echo start; python t.py"', "echo start; pip install debugpy && python t.py --remote_debug", id="after_semicolon"),
        pytest.param('f"python {script}"', "pip install debugpy && python train.py --remote_debug", id="fstring"),
        pytest.param('model + " && python t.py"', "pip install debugpy && ${{inputs.model}} && python t.py --remote_debug", id="plus"),
    ],
)
def test_install_goes_before_the_entry(source, expected):
    assert edited(source, install=True)[1] == expected


def test_escapes_keep_their_spelling():
    code, command = edited(r'"python t.py --x \x41 --tab\t"')
    assert r"\x41 --tab --remote_debug\t" in code  # a tab ends the word, as in the shell
    assert command == "python t.py --x A --tab --remote_debug\t"


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('b"python t.py"', id="bytes"),
        pytest.param('" ".join(["python", "t.py"])', id="join"),
        pytest.param("command_text", id="name_alone"),
        pytest.param('"python {}".format(script)', id="format_method"),
    ],
)
def test_expressions_that_are_not_editable_strings(source):
    module = cst.parse_module(f"command = {source}\n")
    assert v2_strings.pieces(module.body[0].body[0].value) is None


HEADER = "from azure.ai.ml import command\n"
NOOPS = [
    pytest.param("job = command(code='.', command=' '.join(['python', 't.py']))\n", "not built from string literals", id="join"),
    pytest.param("cmd = 'python a.py'\ncmd = 'python b.py'\njob = command(code='.', command=cmd)\n", "bound more than once", id="bound_twice"),
    pytest.param("cmd = 'python a.py'\ncmd += ' --x'\njob = command(code='.', command=cmd)\n", "bound more than once", id="augmented"),
    pytest.param("from settings import cmd\njob = command(code='.', command=cmd)\n", "bound elsewhere", id="imported_name"),
    pytest.param("job = command(code='.', command='bash run.sh')\n", "runs no Python entry", id="no_entry"),
    pytest.param("job = command(code='.', command='python t.py --remote_debug')\n", "already has hand-written debug arguments", id="hand_written"),
    pytest.param("job = command(code='.')\n", "no command= string", id="no_command"),
    pytest.param("if True: job = command(code='.', command='python t.py')\n", "compound statement", id="one_line_suite"),
]


@pytest.mark.parametrize(("body", "note"), NOOPS)
def test_jobs_left_alone_say_why(body, note):
    source = (HEADER + body).encode()
    outcome = process_bytes(Job(ADD), source, "submit.py")
    assert outcome.error is None and outcome.kind == "sdk_job"
    assert outcome.output == source
    assert any(note in line for line in outcome.notes), outcome.notes


def test_single_braced_placeholder_in_fstring_is_noted():
    source = (HEADER + "n = 1\njob = command(code='.', command=f'python t.py --d ${{inputs.d}} --n {n}')\n").encode()
    outcome = process_bytes(Job(ADD), source, "submit.py")
    assert outcome.changed
    assert any("single braces" in line for line in outcome.notes)


def test_shared_command_name_is_edited_once():
    source = HEADER + "cmd = 'python t.py'\na = command(code='.', command=cmd)\nb = command(code='.', command=cmd)\n"
    outcome = process_bytes(Job(ADD), source.encode(), "submit.py")
    text = outcome.output.decode()
    assert text.count("--remote_debug_port") == 1
    scope: dict = {}
    exec(compile(text, "submit.py", "exec"), scope)
    assert scope["a"].command == scope["b"].command == "python t.py " + v2_commands.debug_flags(_options())


def test_name_bound_in_the_same_function_wins_over_module_level():
    source = HEADER + "cmd = 'python module_level.py'\n\ndef build():\n    cmd = 'python local.py'\n    return command(code='.', command=cmd)\n"
    text = process_bytes(Job(ADD), source.encode(), "submit.py").output.decode()
    scope: dict = {}
    exec(compile(text, "submit.py", "exec"), scope)
    assert scope["build"]().command.startswith("python local.py --remote_debug ")
    assert scope["cmd"] == "python module_level.py"


def _options():
    from instrument.codemods.core.options import Options

    return Options()
