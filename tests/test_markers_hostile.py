"""Hostile input for the fences: look-alike comments, re-indented blocks, formatters, odd YAML."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import black
import pytest
from instrument.codemods.check import findings as check
from instrument.codemods.fences import markers

from instrument.process import ADD, STRIP, Job, process_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TRAIN = "import argparse\n\nparser = argparse.ArgumentParser()\nargs = parser.parse_args()\n"
ENV = "name: it'''s\ndependencies:\n  - python=3.10\n  - pip:\n    - numpy\n"
PIPELINE = (
    "from azureml.pipeline.steps import PythonScriptStep\n"
    "\n"
    "{indent}step = PythonScriptStep(\n"
    "{indent}{unit}script_name='train.py',\n"
    "{indent}{unit}arguments=['--text', '''two\n"
    "    lines'''],\n"
    "{indent})\n"
)


def run(action: str, text: str, name: str, kind: str | None = None) -> str:
    outcome = process_bytes(Job(action, kind=kind), text.encode(), name)
    assert outcome.error is None, outcome.error
    return outcome.output.decode()


LOOK_ALIKES = [
    pytest.param(
        "# >>> instrument cluster setup\nCLUSTER = 'gpu'\n# <<< instrument\n" + TRAIN, id="comment-fence-without-label"
    ),
    pytest.param("# >>> instrument = Instrument()\n# >>> instrument.start()\n" + TRAIN, id="doctest-prompt"),
    pytest.param("# >>> instrument: my own notes\nNOTES = 1\n# <<< instrument\n" + TRAIN, id="unregistered-label"),
    pytest.param(TRAIN + "# <<< instrument\n", id="stray-end-fence"),
]


@pytest.mark.parametrize("source", LOOK_ALIKES)
def test_look_alike_comments_are_the_users(source):
    assert markers.find_blocks(source) == []
    assert check.check_python(source) == []
    assert run(STRIP, source, "train.py") == source
    added = run(ADD, source, "train.py", "train")
    assert added != source and all(line in added for line in source.splitlines())
    assert run(STRIP, added, "train.py") == source


def test_a_real_block_after_a_look_alike_is_still_found():
    source = LOOK_ALIKES[0].values[0]
    added = run(ADD, source, "train.py", "train")
    assert len(markers.find_blocks(added)) == 3
    assert [f.message for f in check.check_python(added)] == [check.BLOCK_MESSAGE] * 3


def test_fences_inside_a_yaml_block_scalar_are_text():
    source = (
        "name: env\nvariables:\n  NOTES: |\n"
        f"    {markers.BEGIN}: {markers.LABEL_CONDA}\n    - debugpy\n    {markers.END}\n"
        "dependencies:\n  - pip:\n    - numpy\n"
    )
    assert check.check_yaml(source) == []
    assert run(STRIP, source, "env.yml", "env") == source
    added = run(ADD, source, "env.yml", "env")
    assert [f.line for f in check.check_yaml(added)] == [9]  # the one in the pip list
    assert run(STRIP, added, "env.yml", "env") == source


def test_yaml_with_python_quotes_in_a_plain_scalar():
    added = run(ADD, ENV, "env.yml", "env")
    assert len(check.check_yaml(added)) == 1
    assert run(STRIP, added, "env.yml", "env") == ENV


def indented(text: str, by: str) -> str:
    """Every line moved ``by`` deeper, except the text of the multi-line string."""
    out = []
    for line in markers.split_lines(text):
        out.append(line if line.startswith("    lines") or not line.strip() else by + line)
    return "".join(out)


def test_a_block_moved_into_a_function_is_restored_there():
    source = PIPELINE.format(indent="", unit="    ")
    added = run(ADD, source, "pipeline.py", "pipeline")
    moved = "def build():\n" + indented(added, "    ")
    stripped = run(STRIP, moved, "pipeline.py", "pipeline")
    assert stripped == "def build():\n" + indented(source, "    ")
    assert "    lines'''" in stripped  # the string's text is unchanged


@pytest.mark.parametrize(("indent", "unit"), [("\t", "\t"), ("  ", "  ")], ids=["tabs", "two-spaces"])
def test_black_reindenting_a_block_then_strip(indent, unit):
    source = "def build():\n" + PIPELINE.format(indent=indent, unit=unit).replace("from azureml", indent + "from azureml")
    ast.parse(source)
    added = run(ADD, source, "pipeline.py", "pipeline")
    formatted = black.format_str(added, mode=black.Mode())
    stripped = run(STRIP, formatted, "pipeline.py", "pipeline")
    assert black.format_str(stripped, mode=black.Mode()) == black.format_str(source, mode=black.Mode())
    assert "\t" not in stripped.replace("'''two\n    lines'''", "")


def test_old_absolute_saved_lines_restore_exactly():
    """Files written before the re-indenting strip: unchanged blocks strip byte for byte."""
    for after in sorted((FIXTURES / "pipeline").glob("*/after.py")):
        original = after.with_name("stripped.py")  # --take-over: the hand-written flags are gone for good
        before = (original if original.exists() else after.with_name("before.py")).read_bytes().decode()
        assert run(STRIP, after.read_bytes().decode(), "pipeline.py", "pipeline") == before, after


@pytest.mark.parametrize("case", ["crlf", "tabs", "no_final_newline"])
def test_black_on_a_training_script_leaves_nothing_outside_the_blocks(case):
    source = (FIXTURES / "train" / case / "before.py").read_bytes().decode().replace("\r\n", "\n")
    added = run(ADD, source, "train.py", "train")
    assert run(STRIP, black.format_str(added, mode=black.Mode()), "train.py") == black.format_str(source, mode=black.Mode())


def emitted_labels() -> set[str]:
    """Every label on a begin fence of a fixture's after file, and every LABEL constant of a codemod."""
    import instrument.codemods as package

    found = set()
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, str) and re.fullmatch(r"(LABEL|LABEL_\w+|\w+_LABEL)", name):
                found.add(value)
    for after in FIXTURES.glob("*/*/after*"):
        for line in after.read_bytes().decode("utf-8", "replace").splitlines():
            begin = re.fullmatch(r"[ \t]*# >>> instrument: (.*?)[ \t]*", line)
            if begin:
                found.add(begin.group(1))
    return found


def test_every_label_a_kind_can_emit_is_registered():
    labels = emitted_labels()
    assert markers.LABEL_HELPER in labels and markers.LABEL_STEP in labels
    assert labels - markers.LABELS == set()


def _decoded(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")


def test_the_injected_code_shifts_no_target_version_black_infers():
    """black formats by the Python versions a file's features allow: the blocks add none."""
    pairs = [(after, after.with_name("before.py")) for after in sorted(FIXTURES.glob("*/*/after.py"))]
    checked = 0
    for after, before in pairs:
        try:
            added, source = _decoded(after), _decoded(before)
        except UnicodeDecodeError:
            continue  # a PEP 263 encoding other than UTF-8
        features = black.get_features_used(black.lib2to3_parse(added))
        assert features <= black.get_features_used(black.lib2to3_parse(source)), after
        checked += 1
    assert checked >= 60


def test_black_adds_no_trailing_comma_outside_the_blocks():
    call = (
        "    result = run_the_training_loop_with(*positional_arguments_of_the_training_run_for_everyone,"
        " **keyword_arguments_of_the_training_run_for_everyone)\n"
    )
    source = TRAIN + "\n\ndef main():\n" + call
    added = run(ADD, source, "train.py", "train")
    want = black.format_str(source, mode=black.Mode())
    assert "**keyword_arguments_of_the_training_run_for_everyone\n" in want  # no comma: black assumes Python 3.3 may run it
    assert run(STRIP, black.format_str(added, mode=black.Mode()), "train.py") == want
