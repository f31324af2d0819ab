"""The kind registry: one module per kind, read by the CLI, the walker and the README."""

from __future__ import annotations

import shutil

from pathlib import Path

import pytest

from instrument import files
from instrument.cli import KIND_CHOICES, main
from instrument.codemods import kinds
from instrument.codemods.kinds import base
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.core.options import FLAGS, Options

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_kind_module_is_registered_once():
    folder = Path(kinds.__file__).parent
    modules = sorted([p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "base")]
                     + [p.parent.name for p in folder.glob("*/__init__.py")])  # a kind that is a package
    assert sorted(kinds.MODULES) == modules
    names = [kind.name for kind in kinds.all_kinds()]
    assert len(set(names)) == len(names)
    assert KIND_CHOICES == tuple(names)


@pytest.mark.parametrize("kind", kinds.all_kinds(), ids=lambda kind: kind.name)
def test_kind_declares_what_the_runner_needs(kind):
    assert kind.language in (base.PYTHON, base.YAML, base.TEXT)
    assert kind.suffixes or kind.names, "a kind is found by suffix while walking, or by its file names"
    assert all(suffix.startswith(".") for suffix in kind.suffixes)
    for pattern in kind.names:  # a named file's language is the kind's
        assert kinds.language_of(pattern.replace("*", "x")) == kind.language
    assert kind.options <= set(FLAGS), "every option a kind takes has a command-line flag"
    assert kind.summary and "\n" not in kind.summary


def test_readme_table_of_kinds_is_the_registry():
    text = README.read_text(encoding="utf-8")
    assert kinds.markdown_table() in text, "README's table of kinds is stale: paste kinds.markdown_table()"


# Mis-detections a text search made: a comment or a string is not code.
DETECTION = [
    ("# the old pipeline used PythonScriptStep here\nimport sys\nprint(sys.argv)\n", "train"),
    ('"""Replaces CondaDependencies."""\nif __name__ == "__main__":\n    print(1)\n', "train"),
    ("from azureml.pipeline.steps import PythonScriptStep as S\nstep = S(script_name='t.py')\n", "pipeline"),
    ("import azureml.core.conda_dependencies as cd\nenv = cd.CondaDependencies()\n", "pipeline"),
    ("def init():\n    pass\n\n\ndef run(data):\n    return data\n", "score"),
    ("# parser.parse_args()\nX = 1\n", None),
    ("import argparse\n\n\ndef build():\n    return argparse.ArgumentParser()\n", None),
]


@pytest.mark.parametrize(("source", "expected"), DETECTION)
def test_detection_comes_from_the_syntax_tree(source, expected):
    assert kinds.detect_python_kind(source) == expected


# Import shapes the bringing kinds' detection takes (each must pass the CPython pre-test), and
# imports near them that it does not (the pre-test need not refuse those: it is a necessary condition).
IMPORT_SHAPES = [
    "from azureml.pipeline.steps import PythonScriptStep\n",
    "from azureml.pipeline.steps import PythonScriptStep as S\n",
    "import azureml.pipeline.steps as steps\n",
    "import azureml.pipeline.steps\n",
    "from azureml.pipeline import steps\n",
    "from azureml.core.conda_dependencies import CondaDependencies\n",
    "from azureml.core.runconfig import CondaDependencies\n",
    "try:\n    from azureml.core.conda_dependencies import CondaDependencies\nexcept ImportError:\n    pass\n",
    "def build():\n    from azureml.pipeline.steps import PythonScriptStep\n    return PythonScriptStep\n",
    "class B:\n    def f(self):\n        import azure.ai.ml as aml\n        return aml.command\n",
    "from azure.ai.ml import command\n",
    "from azure.ai.ml import *\n",
    "from azure.ai import ml\n",
    "import azure.ai.ml\n",
    "from azure.ai.ml.entities import Environment\n",
    "from azure.ai.ml.dsl import pipeline\n",
    "from azureml.core import Run\n",
    "import azureml.core\n",
    "from azure.identity import DefaultAzureCredential\n",
    "from . import azure\n",
    "# from azure.ai.ml import command\nimport os\n",
    "x = 'from azureml.pipeline.steps import PythonScriptStep'\n",
    "print 'python 2'\nfrom azure.ai.ml import command\n",  # CPython cannot parse it: the pre-test says True
]


def _python_sources():
    from tests.fixture_cases import FIXTURES

    for path in sorted(FIXTURES.rglob("*.py")):
        try:
            text = files.decode(path.read_bytes(), str(path)).text
        except (files.FileError, UnicodeDecodeError, ValueError, LookupError):
            continue
        yield str(path.relative_to(FIXTURES)), text
    for index, source in enumerate(IMPORT_SHAPES):
        yield f"shape-{index}", source


def test_the_cpython_pre_test_never_passes_over_a_file_that_brings():
    """``kinds.may_bring`` (CPython's tree) lets ``strip`` and ``check`` skip LibCST's parse of a file
    that cannot bring others: it must say True for every file a bringing kind detects."""
    bringing = [kind for kind in kinds.all_kinds() if kind.language == base.PYTHON and kind.brings]
    assert {kind.name for kind in bringing} == {"pipeline", "sdk_job"}
    detected = passed_over = 0
    for name, source in _python_sources():
        try:
            clean = kinds.strip(source, "train")
            tree = kinds.parse(clean)
        except InstrumentError:
            continue
        if any(kind.detect(clean, tree) for kind in bringing):
            detected += 1
            assert kinds.may_bring(clean), f"{name}: detected as a definition, passed over by the pre-test"
        elif not kinds.may_bring(clean):
            passed_over += 1
    assert detected >= 40 and passed_over >= 200, (detected, passed_over)  # both sides are exercised


@pytest.mark.parametrize(("source", "expected"), [
    ("from azureml.core import Run\nrun = Run.get_context()\n", False),
    ("import argparse\nimport azure.storage.blob\n", False),
    ("from azureml.pipeline.steps import PythonScriptStep\n", True),
    ("def f():\n    from azure.ai.ml import command\n", True),
    ("print 'python 2'\n", True),
])
def test_the_cpython_pre_test(source, expected):
    assert kinds.may_bring(source) is expected


def test_unknown_kind_is_one_line():
    with pytest.raises(base.InstrumentError, match=r"^unknown kind 'nope' \(known: train, "):
        kinds.get("nope")


def test_apply_leaves_the_file_as_it_was_when_the_plan_changes_nothing():
    source = "from azureml.pipeline.steps import PythonScriptStep\ns = PythonScriptStep(name='a', script_name='t.py')\n"
    instrumented = base.apply(kinds.get("pipeline"), source, Options()).text
    assert instrumented != source
    # --step that matches nothing: the old blocks stay, and the plan says why
    result = base.apply(kinds.get("pipeline"), instrumented, Options(steps=("nosuch",)))
    assert result.text == instrumented
    assert result.plan.warnings and "nosuch" in result.plan.reason


def test_step_that_matches_nothing_warns_and_exits_non_zero(tmp_path, capsys):
    path = tmp_path / "pipeline.py"
    source = "from azureml.pipeline.steps import PythonScriptStep\ns = PythonScriptStep(name='a', script_name='t.py')\n"
    path.write_text(source)
    assert main(["add", "--step", "nosuch", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: warning: --step nosuch: no such step here" in err
    assert "0 files instrumented, 1 file left unchanged, 1 warning." in err
    assert path.read_text() == source


def test_an_option_that_does_not_apply_is_reported(tmp_path, capsys):
    path = tmp_path / "train.py"
    path.write_text("import sys\nprint(sys.argv)\n")
    assert main(["add", "--client-ip", "10.0.0.4", "--step", "x", str(path)]) == 1
    err = capsys.readouterr().err
    assert "warning: --client-ip does not apply to any file of this run (train); ignored" in err
    assert "warning: --step does not apply to any file of this run (train); ignored" in err
    assert '_instrument.remote_debug' in path.read_text()


def test_an_option_that_applies_to_some_file_of_the_run_is_no_warning(tmp_path, capsys):
    """A job folder: --port means something for the job and its script, nothing for its conda file."""
    source = Path(__file__).resolve().parents[1] / "fixtures" / "job" / "folded_comment_line"
    folder = tmp_path / "project"
    shutil.copytree(source, folder)
    (folder / "after.yml").unlink()
    (folder / "before.yml").rename(folder / "job.yml")
    assert main(["add", "--port", "5679", "--timeout", "60", "--host", "127.0.0.1", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "3 files instrumented." in err
    assert main(["strip", str(folder)]) == 0
    assert main(["add", "--port", "5679", str(folder / "conda.yml")]) == 1
    assert "warning: --port does not apply to any file of this run (env); ignored" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "source", "message"),
    [
        ("pipeline", "import sys\nprint(sys.argv)\n", "not an SDK v1 pipeline definition"),
        ("env", "import sys\nprint(sys.argv)\n", "not a conda environment file"),
        ("score", "import sys\nprint(sys.argv)\n", "not a scoring script"),
        ("train", "from azureml.pipeline.steps import PythonScriptStep\n", "it looks like an SDK v1 pipeline"),
    ],
)
def test_a_wrong_kind_is_one_clear_line(tmp_path, capsys, kind, source, message):
    path = tmp_path / "file.py"
    path.write_text(source)
    assert main(["add", "--kind", kind, str(path)]) == 123
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}: ") and message in err[0]
    assert path.read_text() == source


def test_summary_counts_skipped_files_by_reason(tmp_path, capsys):
    (tmp_path / "lib.py").write_text("def f():\n    return 1\n")
    (tmp_path / "ci.yml").write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n")
    (tmp_path / "train.py").write_text("print('hi')\n")
    assert main(["add", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "1 file instrumented, 1 file skipped (not a file of any known kind), 1 file skipped (not an entry script)."
    )
    assert main(["add", "-v", str(tmp_path)]) == 0
    assert f"unchanged {tmp_path / 'train.py'}: already instrumented as asked" in capsys.readouterr().err


def test_check_ends_with_a_total(tmp_path, capsys):
    (tmp_path / "a.py").write_text("import debugpy\ndebugpy.listen(5678)\n")
    assert main(["check", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "1 finding in 1 file."
    (tmp_path / "a.py").write_text("print(1)\n")
    assert main(["check", str(tmp_path)]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "no findings."


def _loaded_by_add(target, prefix: str) -> list[str]:
    """The modules named ``prefix...`` that a process loading the kind registry and running
    ``add`` on ``target`` (which it must change) has loaded."""
    import subprocess
    import sys

    before = target.read_bytes()
    code = ("import sys\nfrom instrument.cli import main\nfrom instrument.codemods import kinds\n"
            "kinds.all_kinds()\nstatus = main(['add', '-q', sys.argv[1]])\n"
            "print(status, *sorted(name for name in sys.modules if name.startswith(sys.argv[2])))\n")
    done = subprocess.run([sys.executable, "-c", code, str(target), prefix], capture_output=True, text=True,
                          timeout=120)
    status, *loaded = done.stdout.splitlines()[-1].split(" ")
    assert status == "0", done.stderr
    assert target.read_bytes() != before
    return loaded


@pytest.mark.parametrize("fixture", ["env/channel_pinned_pip/before.yml", "environment/inline_conda_crlf/before.yml"])
def test_files_that_are_not_python_never_load_libcst(fixture, tmp_path):
    """LibCST's import alone costs about as much as Python's start: the kind registry and the
    runs over files of other languages do without it."""
    from tests.fixture_cases import FIXTURES

    source = FIXTURES / fixture
    target = tmp_path / source.name
    shutil.copyfile(source, target)
    assert _loaded_by_add(target, "libcst") == []


@pytest.mark.parametrize("fixture", ["train/crlf/before.py", "pipeline/arguments_variable/before.py", None])
def test_files_that_are_not_yaml_never_load_the_yaml_library(fixture, tmp_path):
    """ruamel.yaml's import costs a tenth of Python's start: the kind registry, and the runs over
    Python files (a pipeline and the scripts it brings included) and requirements files, do without
    it (as YAML runs do without LibCST)."""
    from tests.fixture_cases import FIXTURES

    if fixture is None:
        target = tmp_path / "requirements.txt"
        target.write_bytes(b"numpy==1.26\r\nscikit-learn\r\n")
    else:
        source = FIXTURES / fixture
        shutil.copytree(source.parent, tmp_path / "case")
        target = tmp_path / "case" / source.name
    assert _loaded_by_add(target, "ruamel") == []
