"""``instrument check``: the findings of :mod:`instrument.codemods.check.findings` and the command.

Tables of small sources first (what is found, what is not, what is allowed),
then the command on the tree in ``fixtures/check/tree`` (expected output in
``fixtures/check/tree_expected.txt``) and on generated trees.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from instrument.codemods import kinds
from instrument.codemods.check import findings as check
from instrument.codemods.fences import markers
from instrument.codemods.check.findings import BLOCK_MESSAGE, Finding
from instrument import checking, files
from instrument.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TREE = FIXTURES / "check" / "tree"
BLOCK = "# >>> instrument: start remote debugging\n_instrument_remote_debug(args)\n# <<< instrument\n"


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        pytest.param(
            "import debugpy\ndebugpy.listen(5678)\n",
            [Finding(2, 1, "debugpy.listen() opens a debug listener", "debugpy.listen")],
            id="plain",
        ),
        pytest.param(
            "import debugpy as d\nd.listen(5678)\n",
            [Finding(2, 1, "debugpy.listen() (called as d.listen()) opens a debug listener", "debugpy.listen")],
            id="module-alias",
        ),
        pytest.param(
            "from debugpy import listen as l\nl(5678)\n",
            [Finding(2, 1, "debugpy.listen() (called as l()) opens a debug listener", "debugpy.listen")],
            id="function-alias",
        ),
        pytest.param(
            "import debugpy\nx = 1; debugpy.connect(('10.0.0.4', 5678))\n",
            [Finding(2, 8, "debugpy.connect() connects out to a debugger", "debugpy.connect")],
            id="column-is-1-based",
        ),
        pytest.param(
            "def main():\n    if DEBUG:\n        import debugpy\n        debugpy.wait_for_client()\n",
            [Finding(4, 9, "debugpy.wait_for_client() waits for a debugger to attach", "debugpy.wait_for_client")],
            id="import-inside-function",
        ),
        pytest.param(
            "from debugpy import breakpoint as bp\nbp()\n",
            [Finding(2, 1, "debugpy.breakpoint() (called as bp()) breaks into an attached debugger", "debugpy.breakpoint")],
            id="breakpoint",
        ),
        pytest.param(
            "import ptvsd\nptvsd.enable_attach(('0.0.0.0', 3000))\nptvsd.wait_for_attach()\n"
            "ptvsd.break_into_debugger()\n",
            [
                Finding(2, 1, "ptvsd.enable_attach() opens a debug listener", "ptvsd.enable_attach"),
                Finding(3, 1, "ptvsd.wait_for_attach() waits for a debugger to attach", "ptvsd.wait_for_attach"),
                Finding(4, 1, "ptvsd.break_into_debugger() breaks into an attached debugger", "ptvsd.break_into_debugger"),
            ],
            id="ptvsd",
        ),
        pytest.param(
            "debugpy = __import__('debugpy')\ndebugpy.listen(5678)\n",
            [Finding(2, 1, "debugpy.listen() opens a debug listener", "debugpy.listen")],
            id="bound-by-assignment",
        ),
        pytest.param(
            "debugpy.listen(5678)\n",
            [Finding(1, 1, "debugpy.listen() opens a debug listener", "debugpy.listen")],
            id="unbound-name-by-spelling",
        ),
        pytest.param(
            "import argparse\n" + BLOCK,
            [Finding(2, 1, BLOCK_MESSAGE)],
            id="block",
        ),
        pytest.param(
            "def main():\n    args = 1\n" + "".join("    " + line for line in markers.split_lines(BLOCK)),
            [Finding(3, 5, BLOCK_MESSAGE)],
            id="indented-block",
        ),
        pytest.param(
            "# >>> instrument: remote debugging helper (remove with `instrument strip`)\nimport debugpy\ndebugpy.listen(5678)\ndebugpy.wait_for_client()\n"
            "# <<< instrument\ndebugpy.breakpoint()\n",
            [
                Finding(1, 1, BLOCK_MESSAGE),
                Finding(6, 1, "debugpy.breakpoint() breaks into an attached debugger", "debugpy.breakpoint"),
            ],
            id="calls-in-block-reported-once-as-block",
        ),
        pytest.param(
            "import debugpy\n# >>> instrument: remote debugging helper (remove with `instrument strip`)\ndebugpy.listen(5678)\n",
            [
                Finding(2, 1, "broken instrument block: instrument block is never closed ('# <<< instrument' missing)"),
                Finding(3, 1, "debugpy.listen() opens a debug listener", "debugpy.listen"),
            ],
            id="unterminated-block",
        ),
        pytest.param(
            "import debugpy\ndebugpy.connect(  # instrument: allow-list is not an allow\n    5678)\n",
            [Finding(2, 1, "debugpy.connect() connects out to a debugger", "debugpy.connect")],
            id="allow-must-be-a-word",
        ),
    ],
)
def test_findings(src: str, expected: list[Finding]) -> None:
    assert check.check_python(src) == expected


@pytest.mark.parametrize(
    "src",
    [
        pytest.param('"""Call debugpy.listen(5678) to attach."""\n', id="docstring"),
        pytest.param("HELP = 'debugpy.listen((\"0.0.0.0\", 5678))'\n", id="string"),
        pytest.param("# debugpy.listen(5678)\nx = 1  # ptvsd.enable_attach()\n", id="comments"),
        pytest.param("import socket\ns = socket.socket()\ns.listen()\n", id="socket-listen"),
        pytest.param("import debugpy\ndef listen(port):\n    pass\nlisten(5678)\n", id="local-listen"),
        pytest.param("from server import listen\nlisten(5678)  # debugpy is not involved\n", id="other-module-listen"),
        pytest.param(
            "import debugpy\nclass Server:\n    def listen(self):\n        self.listen()\n", id="method-listen"
        ),
        pytest.param("import debugpy\nprint(debugpy.__version__, debugpy.is_client_connected())\n", id="harmless-api"),
        pytest.param("import debugpy\ndebugpy.listen(5678)  # instrument: allow\n", id="allow-inline"),
        pytest.param("import debugpy\ndebugpy.listen(5678)  #instrument:allow (for the demo)\n", id="allow-tight"),
        pytest.param(
            "import debugpy\ndebugpy.connect(\n    ('10.0.0.4', 5678),  # instrument: allow\n)\n",
            id="allow-on-any-line-of-the-call",
        ),
        pytest.param(
            "TEXT = '''\n# >>> instrument: not a block\n# <<< instrument\n'''\n", id="fences-inside-a-string"
        ),
    ],
)
def test_no_findings(src: str) -> None:
    assert check.check_python(src) == []


@pytest.mark.parametrize(
    ("allow", "expected_names"),
    [
        ((), ["debugpy.listen", "debugpy.connect"]),
        (("debugpy.connect",), ["debugpy.listen"]),
        (("debugpy.*",), []),
        (("ptvsd.*",), ["debugpy.listen", "debugpy.connect"]),
        (("listen",), ["debugpy.listen", "debugpy.connect"]),  # the whole qualified name must match
    ],
)
def test_allow_patterns_match_qualified_names(allow: tuple[str, ...], expected_names: list[str]) -> None:
    src = "import argparse\n" + BLOCK + "import debugpy as d\nd.listen(1)\nd.connect(('h', 2))\n"
    found = check.check_python(src, allow)
    assert found[0] == Finding(2, 1, BLOCK_MESSAGE)  # blocks are not matched by name
    assert [f.name for f in found[1:]] == expected_names


def test_find_debug_calls_reports_only_hand_written_calls() -> None:
    src = BLOCK.replace("_instrument_remote_debug(args)", "debugpy.listen(1)") + "import debugpy\ndebugpy.connect(2)\n"
    assert check.find_debug_calls(src) == [
        Finding(5, 1, "debugpy.connect() connects out to a debugger", "debugpy.connect")
    ]
    assert check.find_debug_calls(src, kinds.parse(src)) == check.find_debug_calls(src)


def test_unparsable_python_is_an_error() -> None:
    with pytest.raises(kinds.InstrumentError, match="cannot parse"):
        check.check_python("import debugpy\nx = (\n")


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("dependencies:\n  - pip:\n    - debugpy\n", []),
        (
            "dependencies:\n  - pip:\n    # >>> instrument: debugpy for remote debugging (remove with `instrument strip`)\n    - debugpy\n    # <<< instrument\n",
            [Finding(3, 5, BLOCK_MESSAGE)],
        ),
    ],
)
def test_yaml(src: str, expected: list[Finding]) -> None:
    assert check.check_yaml(src) == expected


@pytest.mark.parametrize(
    ("data", "yaml", "expected"),
    [
        (b"import os\n", False, False),
        (b"import debugpy\n", False, True),
        (b"import ptvsd\n", False, True),
        (b"x = 1\n# <<< instrument\n", False, False),  # an end fence alone closes nothing
        (b"  - debugpy\n", True, False),  # in YAML only markers can be findings
        (b"  # >>> instrument: debugger\n", True, True),
    ],
)
def test_cheap_pretest(data: bytes, yaml: bool, expected: bool) -> None:
    assert check.could_have_findings(data, yaml) is expected


def _train_cases() -> list[Path]:
    return sorted(p for p in (FIXTURES / "train").iterdir() if (p / "after.py").is_file())


def _decode(path: Path) -> str:
    return files.decode(path.read_bytes(), str(path)).text


def _indent_col(source: str, index: int) -> int:
    line = markers.split_lines(source)[index]
    return len(line) - len(line.lstrip()) + 1


@pytest.mark.parametrize("case", _train_cases(), ids=lambda p: p.name)
def test_everything_add_writes_is_found_and_strip_clears_it(case: Path) -> None:
    """Every training-script fixture: one finding per block; stripped, only hand-written calls remain."""
    after, before = _decode(case / "after.py"), _decode(case / "before.py")
    if (case / "stripped.py").is_file():  # --take-over: the hand-written debugging is gone for good
        before = _decode(case / "stripped.py")
        assert check.check_python(before) == []
    blocks = markers.find_blocks(after)
    assert blocks
    found = check.check_python(after)
    assert [f for f in found if not f.name] == [
        Finding(b.begin + 1, _indent_col(after, b.begin), BLOCK_MESSAGE) for b in blocks
    ]
    hand_written = [f for f in found if f.name]
    assert check.check_python(markers.remove_blocks(after)) == check.check_python(before)
    assert [f.message for f in hand_written] == [f.message for f in check.check_python(before)]


# --- the command -----------------------------------------------------------


def test_command_on_fixture_tree(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(TREE)
    assert main(["check", "."]) == 1
    out, err = capsys.readouterr()
    assert out == (FIXTURES / "check" / "tree_expected.txt").read_text()
    assert err == "6 findings in 3 files.\n"


def test_command_clean_file_prints_only_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(TREE / "clean.py"), str(TREE / "tools")]) == 0
    assert capsys.readouterr() == ("", "no findings.\n")


@pytest.mark.parametrize(
    ("allow", "code", "expected_files"),
    [
        ([], 1, ["train.py", "scoring/myenv.yml", "scoring/score.py"]),
        (["--allow", "scoring/*"], 1, ["train.py"]),
        (["--allow", "score.py", "--allow", "*.yml"], 1, ["train.py"]),
        (["--allow", "train.py", "--allow", "debugpy.*", "--allow", "myenv.yml"], 0, []),
        (["--allow", "debugpy.wait_for_client"], 1, ["train.py", "scoring/myenv.yml", "scoring/score.py"]),
    ],
)
def test_command_allow(
    allow: list[str], code: int, expected_files: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(TREE)
    assert main(["check", *allow, "."]) == code
    lines = capsys.readouterr().out.splitlines()
    assert sorted({line.split(":")[0] for line in lines}) == sorted(expected_files)
    if "debugpy.wait_for_client" in allow:
        assert not any("wait_for_client" in line for line in lines)


def test_command_rejects_empty_allow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--allow", "", str(TREE)]) == 2
    assert "empty pattern" in capsys.readouterr().err


def test_command_unparsable_and_missing_files_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import debugpy\nx = (\n")
    hit = tmp_path / "hit.py"
    hit.write_text("import debugpy\ndebugpy.listen(1)\n")
    before = bad.read_bytes()
    assert main(["check", str(bad), str(hit), str(tmp_path / "missing.py")]) == 123
    out, err = capsys.readouterr()
    assert out == f"{hit}:2:1: debugpy.listen() opens a debug listener\n"
    missing, unparsable, total = err.splitlines()
    assert total == "1 finding in 1 file, 2 files failed (not checked)."
    assert missing == f"{tmp_path / 'missing.py'}: no such file or folder"
    assert unparsable.startswith(f"{bad}: cannot parse: ")
    assert bad.read_bytes() == before  # check never writes


def test_command_skips_what_walks_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listener = "import debugpy\ndebugpy.listen(1)\n"
    for folder in (".venv", "node_modules", "__pycache__", ".git"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.py").write_text(listener)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")  # what makes it an environment
    (tmp_path / "notes.txt").write_text(listener)
    (tmp_path / "app.py").write_text(listener)
    assert main(["check", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"{tmp_path / 'app.py'}:2:1: debugpy.listen() opens a debug listener\n"


def test_command_large_tree_in_parallel_matches_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    count = 3 * checking.POOL_THRESHOLD
    for index in range(count):
        package = tmp_path / f"pkg{index % 7}"
        package.mkdir(exist_ok=True)
        source = "import debugpy as d\n" + "\n" * (index % 5) + "d.listen(1)\n" if index % 3 else "import os\n"
        (package / f"m{index:03}.py").write_text(source)
    assert main(["check", str(tmp_path)]) == 1
    parallel = capsys.readouterr().out
    monkeypatch.setattr(checking, "POOL_THRESHOLD", 10**9)
    assert main(["check", str(tmp_path)]) == 1
    serial = capsys.readouterr().out
    assert parallel == serial
    assert len(parallel.splitlines()) == sum(1 for index in range(count) if index % 3)
