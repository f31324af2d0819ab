"""The user's script keeps its shape: a few short lines in it, the helper module beside it.

Over every training and scoring fixture made with the helper beside the
script (the default): add only inserts lines, at most :data:`MOST_ADDED`
of them (the README states these figures), none longer than 88 columns, and
``ruff check`` and ``black --check`` report nothing on the instrumented file
that they did not report on the original.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from instrument import files
from tests.fixture_cases import load_cases

#: Most lines add puts in a script of each kind with one parser (a script that parses with two gets
#: the flags on each, and a call after each parse: see the cases named below).
MOST_ADDED = {"train": 12, "score": 7}
#: Lines of the loading statement, the flags call and the start call for the common shapes.
EXPECTED = {
    ("train", "seed_train"): 12,  # loader 6 (4 and the fence), flags 3, call 3
    ("train", "main_function"): 12,
    ("train", "plain_script"): 7,  # standalone: loader and call, 7
    ("score", "plain"): 7,
}
LINE_LENGTH = 88


def _beside(kind: str) -> list:
    return [param for param in load_cases(kind) if not param.values[0].meta.get("inline")]


CASES = [pytest.param(kind, param.values[0], id=f"{kind}-{param.id}") for kind in MOST_ADDED for param in _beside(kind)]


def _text(data: bytes) -> str:
    return files.decode(data, "x.py").text


def _added(case) -> list[str]:
    before = _text(case.restored).splitlines()
    after = _text(case.after).splitlines()
    opcodes = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    assert {tag for tag, *_ in opcodes} <= {"equal", "insert"}, "add changed or removed lines of the user's own"
    return [line for tag, _, _, j1, j2 in opcodes if tag == "insert" for line in after[j1:j2]]


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_add_puts_a_few_short_lines_in_the_script(kind, case):
    added = _added(case)
    assert 0 < len(added) <= MOST_ADDED[kind]
    if (kind, case.name) in EXPECTED:
        assert len(added) == EXPECTED[kind, case.name]
    too_long = [line for line in added if len(line.expandtabs(4)) > LINE_LENGTH]
    assert too_long == []
    assert not any("._" in line for line in added if not line.lstrip().startswith("#")), "a private attribute"


def test_the_figures_hold_for_every_fixture():
    assert len(CASES) >= 40
    assert {kind for kind, _ in EXPECTED} == set(MOST_ADDED)


def _tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.skip(f"{name} is not installed (the 'lint' and 'test' extras)")
    return str(path)


def _write_cases(root: Path, which: str) -> dict[str, tuple[str, str]]:
    names = {}
    for param in CASES:
        kind, case = param.values
        folder = root / which / f"{kind}-{case.name}"
        folder.mkdir(parents=True)
        (folder / "script.py").write_bytes(case.restored if which == "before" else case.after)
        names[f"{kind}-{case.name}"] = (kind, case.name)
    return names


def _ruff_codes(root: Path) -> dict[str, Counter]:
    done = subprocess.run(
        [_tool("ruff"), "check", "--isolated", "--no-cache", "--select", "E,W,F", "--line-length", str(LINE_LENGTH),
         "--output-format", "json", "--exit-zero", str(root)],
        capture_output=True, text=True, check=True,
    )
    found: dict[str, Counter] = {}
    for item in json.loads(done.stdout):
        case = Path(item["filename"]).parent.name
        found.setdefault(case, Counter())[item["code"]] += 1
    return found


@pytest.mark.lint
def test_ruff_reports_nothing_new_on_the_instrumented_scripts(tmp_path):
    _write_cases(tmp_path, "before")
    _write_cases(tmp_path, "after")
    before, after = _ruff_codes(tmp_path / "before"), _ruff_codes(tmp_path / "after")
    # A kind of report the original already has (W191: tabs, in a file indented with tabs) is not new.
    new = {case: set(codes) - set(before.get(case, Counter())) for case, codes in after.items()}
    assert {case: codes for case, codes in new.items() if codes} == {}
    assert any(before.values())  # the fixtures hold ruff reports: the comparison can fail


def _black_unclean(root: Path) -> set[str]:
    done = subprocess.run([_tool("black"), "--check", "--quiet", "--verbose", str(root)], capture_output=True, text=True)
    assert done.returncode in (0, 1, 123), done.stderr
    unclean = set()
    for line in done.stderr.splitlines():
        if line.startswith("would reformat ") or line.startswith("error: cannot format "):
            path = line.split(" ", 2)[2].split(":", 1)[0]
            unclean.add(Path(path).parent.name)
    return unclean


@pytest.mark.lint
def test_black_finds_an_instrumented_script_as_clean_as_its_original(tmp_path):
    _write_cases(tmp_path, "before")
    _write_cases(tmp_path, "after")
    before, after = _black_unclean(tmp_path / "before"), _black_unclean(tmp_path / "after")
    assert len(before) < len(CASES)  # most fixtures are black-clean: the test can fail
    assert after - before == set()
