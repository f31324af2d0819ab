"""The byte pre-filter cannot hide a finding: ``check`` with it and with it forced off agree.

The fast path is what ``instrument check`` does: a file is read, the byte pre-test
(:mod:`instrument.codemods.check.prefilter`) decides whether it can hold a finding, and only
then is it decoded and analysed (where the pre-test runs again on code given to ``exec`` or
``-c``). The slow path forces every pre-test to say "maybe": every file, and every piece of
code a file runs, goes through the whole analysis. Both must print the same finding lines on
every fixture under ``fixtures/``, on a sample of the standard library (the whole of it:
``python bench/check_speed.py --equivalence``), and on generated adversarial files that build
a debugger's name from pieces and escapes in the encodings ``check`` reads (a PEP 263 coding
line, a BOM, latin-1, fullwidth identifiers).

The speed side of the pre-filter's work (no LibCST or ruamel.yaml import for a clean check,
no definition graph for a Python file that names no Azure ML SDK) is tested here too.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Iterator, Optional

import pytest
from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import strategies as st

from instrument import checking
from instrument.codemods.check import findings as check, prefilter

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
STDLIB = Path(sysconfig.get_paths()["stdlib"])


@contextlib.contextmanager
def prefilter_off() -> Iterator[None]:
    """Every pre-test says "maybe" (by the names ``check`` calls them, and ``checking`` on ``prefilter``)."""
    saved = [(module, name, getattr(module, name)) for module in (check, prefilter)
             for name in ("could_have_findings", "could_have_findings_text")]
    for module, name, _ in saved:
        setattr(module, name, lambda *args, **kwargs: True)
    try:
        yield
    finally:
        for module, name, function in saved:
            setattr(module, name, function)


def _kind(path: Path, data: bytes) -> Optional[str]:
    return checking.file_type(path, data[:256])


def fast(path: Path) -> list[str]:
    """The finding lines ``check`` prints for one file, pre-filter on."""
    data = path.read_bytes()
    if not checking._could_have_findings(_kind(path, data) or checking.PYTHON, data):
        return []
    return checking.check_path(str(path))[0]


def slow(path: Path) -> list[str]:
    """The finding lines with every pre-test forced off."""
    with prefilter_off():
        return checking.check_path(str(path))[0]


def differences(paths: list[Path]) -> list[str]:
    """One line per file whose findings differ between the two paths (empty: none)."""
    found = []
    for path in paths:
        if _kind(path, path.read_bytes()[:256]) is None and path.suffix != ".py":
            continue  # not a file check reads while walking
        quick, full = fast(path), slow(path)
        if quick != full:
            found.append(f"{path}: pre-filter on {quick!r} != off {full!r}")
    return found


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_every_fixture_file_gives_the_same_findings_either_way() -> None:
    paths = _fixture_files()
    assert len(paths) > 100
    assert differences(paths) == []


def test_the_slow_path_really_analyses_what_the_fast_path_clears(tmp_path: Path) -> None:
    """The forced-off path is not a no-op: every gate file is found by it, and a file the
    pre-filter clears is parsed by it (its parse error shows)."""
    gate = sorted(p for p in (FIXTURES / "check" / "gate").iterdir() if p.is_file())
    assert all(slow(p) for p in gate)
    broken = tmp_path / "broken.py"
    broken.write_text("x = (\n")
    assert fast(broken) == []
    assert checking.check_path(str(broken))[1] is None
    with prefilter_off():
        assert "cannot parse" in (checking.check_path(str(broken))[1] or "")


def _stdlib_sample() -> list[Path]:
    """Every 25th module of the standard library, and every one whose bytes the pre-filter
    keeps without their spelling a debugger (the files where the pieces test decides)."""
    every = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts)
    kept = [p for p in every[:400] if checking._could_have_findings(checking.PYTHON, p.read_bytes())]
    return sorted(set(every[::25]) | set(kept[:12]))


@pytest.mark.parametrize("path", _stdlib_sample(), ids=lambda p: str(p.relative_to(STDLIB)))
def test_a_sample_of_the_standard_library_gives_the_same_findings(path: Path) -> None:
    assert fast(path) == slow(path)


# --- generated adversarial files ------------------------------------------------------------

NEEDLES = ("debugpy", "ptvsd", "pydevd", "remote_pdb", "web_pdb", "madbg", "--remote_debug", "AZUREML_DEBUG_PORT",
           "PYTHONBREAKPOINT")


def _split(needle: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(needle) + 1) for c in cuts} | {0, len(needle)})
    return [needle[a:b] for a, b in zip(points, points[1:])]


def _escape(piece: str, how: int) -> str:
    """A literal's body spelling ``piece``: as is, or with a character escaped."""
    if not piece or how == 0:
        return piece
    char = piece[0]
    escaped = {1: f"\\x{ord(char):02x}", 2: f"\\u{ord(char):04x}", 3: f"\\{ord(char):o}",
               4: f"\\N{{LATIN SMALL LETTER {char.upper()}}}" if char.isalpha() and char.islower() else char}[how % 5]
    return escaped + piece[1:]


@st.composite
def adversarial_source(draw) -> tuple[str, str]:
    """(Python source, encoding): a needle built from pieces, reaching (or not) a sink."""
    needle = draw(st.sampled_from(NEEDLES))
    pieces = _split(needle, draw(st.lists(st.integers(0, 20), max_size=4)))
    bodies = [_escape(p, draw(st.integers(0, 4))) for p in pieces]
    shape = draw(st.integers(0, 7))
    quote = draw(st.sampled_from(["'", '"']))
    literals = [f"{quote}{b}{quote}" for b in bodies]
    if shape == 0:
        value = " + ".join(literals)
    elif shape == 1:
        value = " ".join(literals)  # adjacent literals
    elif shape == 2:
        names = [f"P{i}" for i in range(len(literals))]
        prelude = "".join(f"{n} = {lit}\n" for n, lit in zip(names, literals))
        value = "(" + " + ".join(names) + ")"
        literals = []
    elif shape == 3:
        value = "''.join([" + ", ".join(literals) + "])"
    elif shape == 4:
        value = "f" + quote + "{E}".join(b.replace("{", "{{").replace("}", "}}") for b in bodies) + quote
    elif shape == 5:
        other = "'" if quote == '"' else '"'
        value = quote + other.join(bodies) + quote  # shell quotes inside one literal: de"bug"py
    elif shape == 6:
        value = quote + "".join(bodies) + quote
    else:
        value = "'x'"  # nothing built: the sink sees no debugger
    if shape != 2:
        prelude = ""
    sink = draw(st.sampled_from([
        "import importlib\nimportlib.import_module({v}).listen(5678)\n",
        "import subprocess\nsubprocess.run('python -m ' + {v} + ' --listen 5678 t.py', shell=True)\n",
        "import subprocess\nsubprocess.run(['python', '-m', {v}, '--listen', '5678'])\n",
        "exec('import ' + {v} + '\\n' + {v} + '.listen(1)')\n",
        "import os\nos.environ[{v}] = '5678'\n",
        "import os\nos.environ['PYTHONBREAKPOINT'] = {v} + '.set_trace'\n",
        "from azure.ai.ml import command\njob = command(command='python t.py ' + {v})\n",
        "getattr(__import__({v}), 'listen')(1)\n",
        "import sys\nsys.modules[{v}].listen(1)\n",
        "print({v})\n",  # no sink: fine either way
    ]))
    code = prelude + "E = ''\n" + sink.format(v=value)
    if draw(st.booleans()):  # the name in an identifier, fullwidth: NFKC makes it the module
        code += "import ｄｅｂｕｇｐｙ\n" if draw(st.booleans()) else "x = 'ｄｅｂｕｇｐｙ'\n"
    if draw(st.booleans()):
        code = "# a comment with a quote ' and d, e, b, u, g\n" + code
    encoding = draw(st.sampled_from(["ascii", "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]))
    if encoding in ("latin-1", "cp1252"):
        code = f"# -*- coding: {encoding} -*-\ns = 'café ÿ'\n" + code.replace("ｄｅｂｕｇｐｙ", "debugpy")
    elif encoding == "utf-16":
        code = "# coding: utf-16\n" + code
    elif encoding == "ascii":
        code = code.replace("ｄｅｂｕｇｐｙ", "debugpy")
    return code, encoding


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=adversarial_source())
def test_generated_adversarial_files_give_the_same_findings(case: tuple[str, str], tmp_path: Path) -> None:
    code, encoding = case
    path = tmp_path / "adversarial.py"
    try:
        path.write_bytes(code.encode(encoding))
    except UnicodeEncodeError:
        return
    assert fast(path) == slow(path), code


def _findings_of(case: tuple[str, str], fast_path: bool) -> list[str]:
    code, encoding = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "adversarial.py"
        try:
            path.write_bytes(code.encode(encoding))
        except UnicodeEncodeError:
            return []
        return [line.replace(str(path), "adversarial.py") for line in (fast(path) if fast_path else slow(path))]


@pytest.mark.parametrize("message", ["starts a debugger", "opens a debug listener", "AZUREML_DEBUG_PORT",
                                     "runs code", "makes breakpoint() open a network debugger"])
def test_the_generator_builds_findings(message: str) -> None:
    """The generated files are not all clean: the comparison above compares findings (hypothesis
    finds a file of each class that the fast path reports too)."""
    case = find(adversarial_source(), lambda c: any(message in line for line in _findings_of(c, False)),
                settings=settings(max_examples=2000, database=None, deadline=None))
    assert _findings_of(case, True) == _findings_of(case, False)


# --- the speed side -------------------------------------------------------------------------


def test_block_names_written_out_match_the_kinds() -> None:
    from instrument.codemods import kinds

    assert checking.BLOCK_NAMES == kinds.block_names()


def test_a_clean_check_imports_neither_libcst_nor_ruamel(tmp_path: Path) -> None:
    clean = tmp_path / "clean.py"
    clean.write_text("import os\nprint(os.environ.get('HOME'))\n")
    probe = (
        "import sys\nfrom instrument.cli import main\n"
        "try:\n    main(['check', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'ruamel')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(clean)], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_brought_files_are_still_followed_from_a_named_definition(tmp_path: Path) -> None:
    """A Python file that names no Azure ML SDK brings nothing; one that does is followed."""
    plain = tmp_path / "plain.py"
    plain.write_text("print('hello')\n")
    assert not checking._may_bring(plain)
    latin = tmp_path / "latin.py"
    latin.write_bytes("# -*- coding: latin-1 -*-\ns = 'café'\nfrom azure.ai.ml import command\n".encode("latin-1"))
    assert checking._may_bring(latin)
    assert checking._may_bring(tmp_path / "job.yml")


def _joins_by_pieces(needle: str, firsts: set, lasts: set, wholes: set) -> bool:
    """The join test by brute force, piece by piece: some end piece ends with the needle's head,
    whole pieces follow, and some start piece starts with what is left."""

    def rest_from(at: int) -> bool:
        if any(last.startswith(needle[at:]) for last in lasts):
            return True
        return any(needle.startswith(whole, at) and at + len(whole) < len(needle) and rest_from(at + len(whole))
                   for whole in wholes)

    return any(any(first.endswith(needle[:i]) for first in firsts) and rest_from(i) for i in range(1, len(needle)))


_PIECES = [needle[i:j] for needle in prefilter.NEEDLES for i in range(len(needle)) for j in range(i + 1, len(needle) + 1)]


def _could_spell_by_pieces(text: str) -> bool:
    """``prefilter.could_spell`` with the join test as first written."""
    if prefilter._ESCAPE_RE.search(text):
        text = prefilter._ESCAPE_RE.sub(prefilter._unescape, text)
        if any(needle in text for needle in prefilter.NEEDLES):
            return True
    first_reversed, last, _ = prefilter._pieces()
    firsts = {piece[::-1] for piece in first_reversed.findall(text[::-1])}
    lasts = set(last.findall(text))
    if not firsts or not lasts:
        return False
    wholes = set(prefilter._WHOLE_RE.findall(text))
    return any(_joins_by_pieces(needle, firsts, lasts, wholes) for needle in prefilter.NEEDLES)


@settings(max_examples=600, deadline=None)
@example(['"', "deb", '"', " + ", '"', "ugpy", '"'])  # a whole end piece
@example(['"', "d", '"', " + ", '"', "ebugpy", '"'])
@example(['"', "debugp", '"', " + ", '"', "y", '"'])
@example(["'", "remote", "'", " + ", "'", "_", "'", " + ", "'", "pdb", "'"])  # a whole piece between
@example(["{", "pt", "}", "vsd", "'"])
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.sampled_from(['"', "'", "{", "}", "\\", " + ", "x", "\n"])),
                max_size=24))
def test_the_join_test_by_sets_is_the_join_test_by_pieces(parts: list) -> None:
    text = "".join(parts)
    assert prefilter.could_spell(text) == _could_spell_by_pieces(text), text
