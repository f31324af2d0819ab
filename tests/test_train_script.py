"""The training-script codemod, table-driven from fixtures/train/."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from instrument.codemods.kinds import train as train_kind
from instrument.codemods import kinds
from instrument.codemods.fences import markers
from instrument.codemods.core.options import Options
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.helper import templates
from instrument import files
from instrument.process import ADD, STRIP, Job, process_bytes
from tests.fixture_cases import load_cases, runnable, transformed, write_helper
from tests.ports import free_port

CASES = load_cases("train", take_over=False)
ADD_JOB = Job(ADD, kind="train")
STRIP_JOB = Job(STRIP, kind="train")


def add_bytes(data: bytes, name: str = "train.py") -> bytes:
    return transformed(ADD_JOB, data, name)


def strip_bytes(data: bytes, name: str = "train.py") -> bytes:
    return transformed(STRIP_JOB, data, name)


def test_there_are_enough_cases():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES)
def test_mode_follows_the_scripts_parser(case):
    text = case.after.decode("latin-1")
    standalone = templates_label("flags") not in text  # the flags join the script's parser, else read alone
    assert ("standalone" if standalone else "parser") == case.meta["mode"]
    if standalone:  # the helper is called where it is loaded (or defined): before the script's own code
        assert re.search(r"\n(_instrument\.remote_debug|_instrument_remote_debug)\(", text)


def templates_label(which: str) -> str:
    from instrument.codemods.helper import templates

    return {"flags": templates.LABEL_FLAGS, "call": templates.LABEL_CALL}[which]


@pytest.mark.parametrize("case", CASES)
def test_strip_survives_edits_elsewhere(case):
    before = files.decode(case.before).text
    after = files.decode(case.after).text
    newline = "\r\n" if "\r\n" in before else "\n"
    prefix = f"# a comment the user added later{newline}"
    assert kinds.strip(prefix + after, "train") == prefix + before
    if before.endswith(newline):
        suffix = f"x_added_later = 1{newline}"
        assert kinds.strip(after + suffix, "train") == before + suffix
        # an edit between two blocks (after the first module-level one, before the rest)
        lines = markers.split_lines(after)
        first_end = next(i for i, line in enumerate(lines) if line.rstrip("\r\n") == markers.END)
        lines.insert(first_end + 1, f"EDITED = True{newline}")
        stripped = kinds.strip("".join(lines), "train")
        assert markers.BEGIN not in stripped and f"EDITED = True{newline}" in stripped
        assert stripped.replace(f"EDITED = True{newline}", "", 1) == before


def _run(path, argv, timeout=60):
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-Xfrozen_modules=off", str(path), *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        cwd=path.parent,
        env=env,
    )


def _scripts(case, folder):
    """before.py and after.py in ``folder``, beside the modules they import.

    A case's other files (``common_args.py``) are modules the script imports,
    as instrument finds them in a real project: never instrumented themselves.
    """
    for companion in case.folder.iterdir():
        if companion.is_file() and companion.stem not in ("before", "after", "case"):
            (folder / companion.name).write_bytes(companion.read_bytes())
    before, after = folder / "before.py", folder / "after.py"
    before.write_bytes(case.before)
    after.write_bytes(case.after)
    write_helper(case, folder)
    return before, after


@pytest.mark.parametrize("case", runnable(CASES))
def test_instrumented_script_behaves_the_same_without_debugging(case, tmp_path):
    before, after = _scripts(case, tmp_path)
    argv = case.meta["argv"]
    original, instrumented = _run(before, argv), _run(after, argv)
    assert original.returncode == instrumented.returncode == 0, instrumented.stderr
    assert instrumented.stdout == original.stdout
    assert "Timeout for debug connection" not in instrumented.stdout


DEBUG_LINES = ("Timeout for debug connection: ", "ip_address: ", "Remote debugging: ", "Debugger attached = ")


@pytest.mark.parametrize("case", runnable(CASES))
def test_debug_block_runs_and_times_out(case, tmp_path):
    before, after = _scripts(case, tmp_path)
    port = free_port()
    flags = ["--remote_debug", "--remote_debug_connection_timeout", "1", "--remote_debug_port", str(port)]
    result = _run(after, flags + case.meta["argv"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines.count("Timeout for debug connection: 1") == 1
    assert any(line.startswith("ip_address: ") for line in lines)
    assert "Remote debugging: listening on" in result.stdout and f":{port}" in result.stdout, result.stderr
    assert lines.count("Debugger attached = False") == 1
    # apart from the debug lines, the script printed exactly what it always did
    own = [line for line in lines if not line.startswith(DEBUG_LINES)]
    assert own == _run(before, case.meta["argv"]).stdout.splitlines()


@pytest.mark.parametrize("case", runnable([c for c in CASES if c.values[0].meta["mode"] == "parser"]))
def test_flags_show_in_help(case, tmp_path):
    _, after = _scripts(case, tmp_path)
    result = _run(after, ["--help"])
    assert result.returncode == 0, result.stderr
    for flag in templates.DEBUG_FLAGS:
        assert flag in result.stdout


_OPTION = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*")


@pytest.mark.parametrize("case", runnable(CASES))
def test_the_scripts_own_options_come_first_in_help(case, tmp_path):
    """``python script.py --help``: the script's options, then the debug flags (argparse and click)."""
    before, after = _scripts(case, tmp_path)
    own, instrumented = _run(before, ["--help"]), _run(after, ["--help"])
    assert instrumented.returncode == own.returncode
    found = dict.fromkeys(_OPTION.findall(own.stdout))
    options = [o for o in found if o != "--help" and not o.startswith("--remote_debug")]
    if case.meta["mode"] == "parser" or case.name == "click_cli":
        assert "--remote_debug" in instrumented.stdout
    if "--remote_debug" not in instrumented.stdout:
        assert instrumented.stdout == own.stdout  # a script that has no --help prints what it always did
        return
    added = [flag for flag in templates.DEBUG_FLAGS if flag + " " not in own.stdout and flag + "]" not in own.stdout]
    first_flag = min(instrumented.stdout.index(flag) for flag in added)  # flags a parent parser has are the script's
    assert all(instrumented.stdout.index(option) < first_flag for option in options), instrumented.stdout


# -- options become literals, and nothing else gets in -------------------------

SIMPLE = "import argparse\nparser = argparse.ArgumentParser()\nargs = parser.parse_args()\n"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (Options(port=6000), 'type=int, default=6000, help="debug port"'),
        (Options(timeout=0), "type=int, default=0, help"),
        (Options(host="127.0.0.1"), '"--remote_debug_host", type=str, default="127.0.0.1"'),
        (Options(host="node-1.example.com"), '"--remote_debug_host", type=str, default="node-1.example.com"'),
        (Options(host="::1"), '"--remote_debug_host", type=str, default="::1"'),
    ],
)
def test_options_become_literals(options, expected):
    assert expected in train_kind.add(SIMPLE, options)


@pytest.mark.parametrize(
    "bad",
    [
        {"host": "0.0.0.0\"); import os; os.system('x'); (\""},
        {"host": "a b"},
        {"host": ""},
        {"host": "-leading.dash"},
        {"port": 0},
        {"port": 65536},
        {"port": True},
        {"timeout": -1},
        {"timeout": 1.5},
    ],
)
def test_bad_options_are_refused(bad):
    with pytest.raises(InstrumentError):
        Options(**bad)


# -- what add refuses ----------------------------------------------------------

HAND_WRITTEN_FLAGS = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument('--remote_debug', action='store_true')
args = parser.parse_args()
"""


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(:\n    pass\n", "cannot parse"),
        (HAND_WRITTEN_FLAGS, "line 3: the script already defines --remote_debug"),
        ("\ufeff\ufeffimport os\n", "cannot parse: invalid non-printable character U+FEFF (line 1, column 1)"),
        ("# >>> instrument: start remote debugging\nimport os\n", "never closed"),
        ("# >>> instrument: start remote debugging\n# >>> instrument: remote debugging flags\n# <<< instrument\n", "opened inside"),
    ],
)
def test_add_refuses(source, message):
    outcome = process_bytes(ADD_JOB, source.encode(), "bad.py")
    assert outcome.error is not None and outcome.error.startswith("bad.py: ")
    assert message in outcome.error
    assert "\n" not in outcome.error


def test_undecodable_file_is_an_error():
    outcome = process_bytes(ADD_JOB, b"x = '\xff\xfe'\n", "bytes.py")
    assert outcome.error == "bytes.py: cannot decode as utf-8: invalid start byte at byte 5"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"# -*- coding: klingon -*-\nx = 1\n", "unknown encoding"),
        (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "encoding problem"),
        (b"x = 1\ny = '\xe9'\n", "cannot decode as utf-8"),
    ],
)
def test_encoding_errors_name_the_file(data, message):
    outcome = process_bytes(ADD_JOB, data, "enc.py")
    assert outcome.error.startswith("enc.py: ") and message in outcome.error


def test_helper_name_does_not_clash():
    source = "import argparse\n_instrument_remote_debug = 1\np = argparse.ArgumentParser()\na = p.parse_args()\n"
    result = train_kind.add(source)
    assert "def _instrument_remote_debug_2(args=None, run=None, *, host=" in result
    assert "_instrument_remote_debug_2(a)" in result
    assert kinds.strip(result, "train") == source


def test_empty_module_is_left_alone():
    assert train_kind.add("") == ""
    assert train_kind.add("# only a comment\n") == "# only a comment\n"


def test_parse_in_a_one_line_block_falls_back_to_standalone():
    source = "import argparse\np = argparse.ArgumentParser()\nif True: a = p.parse_args()\n"
    result = train_kind.add(source)
    assert "\n_instrument_remote_debug()\n" in result
    assert templates_label("flags") not in result


def test_every_parse_site_gets_the_call():
    source = (
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "def a():\n    x = p.parse_args()\n    return x\n"
        "def b():\n    y, _ = p.parse_known_args()\n    return y\n"
    )
    result = train_kind.add(source)
    assert "    _instrument_remote_debug(x)\n" in result
    assert "    _instrument_remote_debug(y)\n" in result
    assert result.count(templates_label("flags")) == 1


@pytest.mark.parametrize(
    ("source", "above"),
    [
        ("@decorate\ndef f():\n    pass\nf()\n", "@decorate\n"),
        # LibCST keeps a file's opening comments in the module header: the helper follows them
        ("# licence header\n\n# about C\n@decorate(\n    1)\nclass C:\n    pass\n", "@decorate(\n"),
        ("x = 1  # no imports at all\n", "x = 1"),
    ],
    ids=["decorated", "header-comments-then-decorated-class", "no-imports"],
)
def test_helper_goes_above_the_first_statement_and_its_decorators(source, above):
    result = train_kind.add(source)
    assert f"{markers.END}\n{above}" in result
    assert kinds.strip(result, "train") == source


# -- found on real training scripts --------------------------------------------

HEAD = "import argparse\nparser = argparse.ArgumentParser()\n"


@pytest.mark.parametrize(
    ("source", "mode"),
    [
        # the parser variable is rebound by a call the analysis cannot see into
        (HEAD + "from plugins import extend\nparser = extend(parser)\nargs = parser.parse_args()\n", "standalone"),
        (HEAD + "args = parser.parse_args('--lr 1'.split())\n", "standalone"),
        (HEAD + "args = parser.parse_args(['--lr', '1'])\n", "standalone"),
        (HEAD + "args = parser.parse_args(sys.argv[1:])\n", "parser"),
        (HEAD + "args = vars(parser.parse_args())\n", "standalone"),
        (HEAD + "args = parser.parse_args()\nconfig = dict(args.__dict__)\n", "standalone"),
        (HEAD + "args = parser.parse_args()\nclass M:\n    def d(self):\n        return vars(self)\n", "parser"),
        (HEAD + "args = parser.parse_args(); print(args)\n", "standalone"),
        ("from argparse import *\nparser = ArgumentParser()\nargs = parser.parse_args()\n", "parser"),
    ],
    ids=["rebound-parser", "split-string-argv", "list-argv", "sys-argv", "vars-of-parse", "namespace-dict",
         "vars-of-self", "parse-and-more-on-one-line", "star-import"],
)
def test_mode_on_real_world_patterns(source, mode):
    result = train_kind.add(source)
    standalone = "\n_instrument_remote_debug()\n" in result
    assert ("standalone" if standalone else "parser") == mode
    assert kinds.strip(result, "train") == source


@pytest.mark.parametrize(
    ("source", "mode"),
    [
        (HEAD + "# again: parser.parse_args()\nargs = parser.parse_args()\n", "parser"),
        (HEAD + "args = parser.parse_args()\nhelp = 'see other.parse_known_args( in eval.py'\n", "parser"),
        (HEAD + "args = parser.parse_args()\n# log(vars(args)) later\n", "parser"),
        (HEAD + "args = parser.parse_args()\ndoc = 'config.__dict__'\n", "parser"),
        (HEAD + "args = parser.parse_args()\nother.parse_args()\n", "standalone"),  # a parse it cannot follow
        (HEAD + "args = parser.parse_args()\nlog(vars(args))\n", "standalone"),
    ],
    ids=["comment-parse", "string-parse", "comment-vars", "string-dict", "code-parse", "code-vars"],
)
def test_mode_is_decided_by_code_not_by_comments_or_strings(source, mode):
    result = train_kind.add(source)
    assert ("standalone" if "\n_instrument_remote_debug()\n" in result else "parser") == mode
    assert kinds.strip(result, "train") == source


@pytest.mark.parametrize(
    "source",
    [
        HEAD + "# run with '--remote_debug' to attach\nargs = parser.parse_args()\n",
        HEAD + "parser.add_argument('--x', help='unlike \"--remote_debug_port\"')\nargs = parser.parse_args()\n",
    ],
    ids=["comment", "inside-a-longer-string"],
)
def test_a_flag_mentioned_in_a_comment_or_string_is_not_hand_written_debugging(source):
    assert templates_label("flags") in train_kind.add(source)


def test_a_long_word_is_read_in_linear_time():
    # A 200 KB hex constant once took a regex over the source minutes (its
    # time grew with the square of the word's length); the tree has no such case.
    source = HEAD + "KEY = '" + "0123456789abcdef" * 12_800 + "'\nargs = parser.parse_args()\n"
    result = train_kind.add(source)
    assert "    _instrument_remote_debug(args)\n" not in result and "\n_instrument_remote_debug(args)\n" in result
    assert kinds.strip(result, "train") == source


RUN_AFTER = "from azureml.core import Run\n" + HEAD


@pytest.mark.parametrize(
    ("source", "call"),
    [
        (RUN_AFTER + "args = parser.parse_args()\nrun = Run.get_context()\n", "_instrument_remote_debug(args)"),
        (RUN_AFTER + "run = Run.get_context()\nargs = parser.parse_args()\n", "_instrument_remote_debug(args, run=run)"),
        (RUN_AFTER + "if x:\n    run = Run.get_context()\nargs = parser.parse_args()\n", "_instrument_remote_debug(args)"),
        (RUN_AFTER + "try:\n    run = Run.get_context()\nexcept Exception:\n    run = None\nargs = parser.parse_args()\n",
         "_instrument_remote_debug(args, run=run)"),
        # a module-level run context read inside a function that binds its own
        (RUN_AFTER + "run = Run.get_context()\ndef main():\n    a = parser.parse_args()\n    run = 1\n",
         "    _instrument_remote_debug(a)"),
        (RUN_AFTER + "run = Run.get_context()\ndef main(run=None):\n    a = parser.parse_args()\n",
         "    _instrument_remote_debug(a)"),
        (RUN_AFTER + "run = Run.get_context()\ndef main():\n    global run\n    a = parser.parse_args()\n    run = 1\n",
         "    _instrument_remote_debug(a, run=run)"),
        (RUN_AFTER + "def main():\n    a = parser.parse_args()\nrun = Run.get_context()\n", "    _instrument_remote_debug(a)"),
        (RUN_AFTER + "def main():\n    run = Run.get_context()\n    a = parser.parse_args()\n",
         "    _instrument_remote_debug(a, run=run)"),
    ],
    ids=["after", "before", "conditional", "in-try", "local-shadow", "parameter-shadow", "global",
         "defined-after-the-function", "local"],
)
def test_run_context_is_passed_only_where_it_is_bound(source, call):
    result = train_kind.add(source)
    assert f"\n{call}\n" in result
    assert kinds.strip(result, "train") == source


def test_form_feed_before_the_parse_stays_out_of_the_block():
    source = "import argparse\ndef main():\n    p = argparse.ArgumentParser()\n\f    a = p.parse_args()\n"
    result = train_kind.add(source)
    assert "\n    _instrument_remote_debug(a)\n" in result
    assert kinds.strip(result, "train") == source


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        (["127.0.1.1", "10.1.2.3"], "10.1.2.3"),  # Debian-style hosts file first, then the node's address
        (["127.0.1.1"], "127.0.0.1"),  # loopback only: said as such
        ([], "127.0.0.1"),  # the name does not resolve
    ],
)
def test_without_a_route_the_logged_ip_address_is_the_names(addresses, expected, tmp_path):
    # The machine's resolver and routes cannot be changed from a test: the
    # script itself replaces socket.getaddrinfo and makes the routing-table
    # question (a UDP connect) fail before the helper asks. With a route, the
    # routing table's answer wins (tests/test_runtime_helper.py).
    script = tmp_path / "train.py"
    patch = (
        "import socket\n"
        "def no_route(self, address):\n"
        "    if self.type == socket.SOCK_DGRAM:\n"
        "        raise OSError(101, 'Network is unreachable')\n"
        "    return real_connect(self, address)\n"
        "real_connect = socket.socket.connect\n"
        "socket.socket.connect = no_route\n"
        "real = socket.getaddrinfo\n"
        "def fake(host, port, family=0, *rest, **options):\n"
        "    if host != socket.gethostname():  # debugpy's own lookups stay real\n"
        "        return real(host, port, family, *rest, **options)\n"
        f"    if not {addresses!r}:\n        raise socket.gaierror('no such name')\n"
        f"    return [(family, 1, 6, '', (a, 0)) for a in {addresses!r}]\n"
        "socket.getaddrinfo = fake\n"
    )
    parse = "import argparse\nparser = argparse.ArgumentParser()\nargs = parser.parse_args()\n"  # the call follows the patch
    script.write_text(train_kind.add(patch + parse))
    port = free_port()
    result = _run(script, ["--remote_debug", "--remote_debug_connection_timeout", "1", "--remote_debug_port", str(port)])
    assert result.returncode == 0, result.stderr
    assert f"ip_address: {expected}" in result.stdout.splitlines()


@pytest.mark.parametrize("case", CASES)
def test_a_formatter_run_after_add_leaves_nothing_behind(case):
    # black (or ruff format) on an instrumented file may reformat the blocks
    # but must find no reason to add blank lines outside them.
    import black
    formatted = black.format_str(files.decode(case.before).text, mode=black.Mode())
    instrumented = train_kind.add(formatted)
    assert kinds.strip(black.format_str(instrumented, mode=black.Mode()), "train") == formatted


# -- flags that would break the script's own parser ------------------------------

@pytest.mark.parametrize(
    ("source", "note"),
    [
        ("import argparse\np = argparse.ArgumentParser(prefix_chars='+')\na = p.parse_args()\n",
         "2:5: note: a parser's prefix_chars may not take --remote_debug"),
        ("import argparse\np = argparse.ArgumentParser(prefix_chars=CHARS)\na = p.parse_args()\n",
         "2:5: note: a parser's prefix_chars may not take --remote_debug"),
        ("import argparse\np = argparse.ArgumentParser()\np.add_argument('--rate')\na = p.parse_args()\n",
         "3:16: note: --remote_debug would make abbreviations of --rate (such as --r) ambiguous"),
    ],
    ids=["plus", "unknown-prefix-chars", "own-option-starting-with-r"],
)
def test_flags_that_would_break_the_parser_are_read_on_their_own(source, note):
    outcome = process_bytes(ADD_JOB, source.encode(), "t.py")
    assert outcome.error is None
    assert "\n_instrument_remote_debug()\n" in outcome.output.decode()
    assert [n for n in outcome.notes if note in n], outcome.notes


@pytest.mark.parametrize(
    "source",
    [
        "import argparse\np = argparse.ArgumentParser(prefix_chars='-+')\na = p.parse_args()\n",
        "import argparse\np = argparse.ArgumentParser(allow_abbrev=False)\np.add_argument('--rate')\na = p.parse_args()\n",
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr')\na = p.parse_args()\n",
    ],
    ids=["prefix-chars-with-dash", "no-abbreviations", "no-option-starting-with-r"],
)
def test_parsers_the_flags_can_join_keep_them(source):
    outcome = process_bytes(ADD_JOB, source.encode(), "t.py")
    assert templates_label("flags") in outcome.output.decode() and not outcome.notes
