"""A definition brings the files it runs and names: its entry script and its conda file are
instrumented with it and stripped with it; an entry that cannot take the flags keeps them off
its command; any other failure leaves every file of the graph as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from instrument.cli import main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "job" / "folded_comment_line"
FLAG = b"--remote_debug_port"


def _job_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(FIXTURE, folder)
    (folder / "after.yml").unlink()
    (folder / "before.yml").rename(folder / "job.yml")
    return folder


def _tree(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_add_and_strip_follow_the_jobs_entry_script_and_conda_file(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    originals = _tree(folder)
    assert main(["add", str(folder / "job.yml")]) == 0
    err = capsys.readouterr().err
    assert f"instrumented {folder / 'conda.yml'} (named by job.yml)" in err
    assert f"instrumented {folder / 'src' / 'train.py'} (entry of job.yml)" in err
    assert "3 files instrumented." in err
    assert b"- debugpy" in (folder / "conda.yml").read_bytes()
    assert b'_instrument.remote_debug' in (folder / "src" / "train.py").read_bytes()
    assert main(["strip", str(folder / "job.yml")]) == 0
    err = capsys.readouterr().err
    assert f"stripped {folder / 'conda.yml'}" in err and "3 files stripped, 1 helper module removed." in err
    assert _tree(folder) == originals


def test_a_file_named_too_is_processed_once(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    assert main(["add", str(folder / "job.yml"), str(folder / "conda.yml"), str(folder / "src")]) == 0
    err = capsys.readouterr().err
    assert err.count(f"instrumented {folder / 'conda.yml'}") == 1
    assert err.count(f"instrumented {folder / 'src' / 'train.py'}") == 1
    assert "3 files instrumented." in err


def test_a_missing_conda_file_fails_and_changes_nothing(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    (folder / "conda.yml").unlink()
    originals = _tree(folder)
    assert main(["add", str(folder / "job.yml")]) == 123
    err = capsys.readouterr().err
    assert f"{folder / 'conda.yml'}: named by {folder / 'job.yml'}, but there is no such file" in err
    assert "left as it is, with every file it brings" in err
    assert _tree(folder) == originals  # neither the job nor its script was written


@pytest.mark.parametrize(
    ("break_entry", "why"),
    [
        (lambda script: script.unlink(), "there is no such file"),
        (lambda script: script.write_text("def broken(:\n"), "cannot be instrumented: cannot parse"),
        (lambda script: script.write_text("import argparse\np = argparse.ArgumentParser()\n"
                                          "p.add_argument('--remote_debug_port')\np.parse_args()\n"),
         "already defines --remote_debug_port"),
    ],
    ids=["missing", "does_not_parse", "hand_written_flags"],
)
def test_an_entry_that_cannot_take_the_flags_keeps_them_off_the_command(tmp_path, capsys, break_entry, why):
    folder = _job_folder(tmp_path)
    break_entry(folder / "src" / "train.py")
    originals = _tree(folder)
    assert main(["add", str(folder / "job.yml")]) == 0
    err = capsys.readouterr().err
    [note] = [line for line in err.splitlines() if "note: entry train.py" in line]
    assert note.startswith(f"{folder / 'job.yml'}:3:1: note: entry train.py:") and why in note
    assert "no debug flags on this command" in note
    assert _tree(folder) == originals  # nothing to debug: not even the conda file


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("azureml:my-code:1", "code: azureml:my-code:1 is not a local folder"),
        ("git+https://github.com/org/repo", "is not a local folder"),
        (None, "has no code: folder"),
    ],
)
def test_a_code_folder_that_is_not_local_keeps_the_flags_off(tmp_path, capsys, code, why):
    folder = _job_folder(tmp_path)
    job = folder / "job.yml"
    text = job.read_text().replace("code: src\n", f"code: {code}\n" if code else "")
    job.write_text(text)
    originals = _tree(folder)
    assert main(["add", str(job)]) == 0
    err = capsys.readouterr().err
    assert why in err and "no debug flags on this command" in err
    assert _tree(folder) == originals


def test_the_entry_of_a_cd_prefix_and_a_module(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    (folder / "src" / "pkg").mkdir()
    shutil.copy(folder / "src" / "train.py", folder / "src" / "pkg" / "main.py")
    job = folder / "job.yml"
    job.write_text(job.read_text().replace("python train.py ", "cd pkg && python -m main"))
    assert main(["add", str(job)]) == 0
    err = capsys.readouterr().err
    assert f"instrumented {folder / 'src' / 'pkg' / 'main.py'} (entry of job.yml)" in err
    assert b"# >>> instrument" not in (folder / "src" / "train.py").read_bytes()


def test_a_pipeline_brings_its_component_files_and_their_scripts(tmp_path, capsys):
    source = Path(__file__).resolve().parents[1] / "fixtures" / "pipeline_job" / "local_and_registered_components"
    folder = tmp_path / "pipeline"
    shutil.copytree(source, folder)
    (folder / "after.yml").unlink()
    (folder / "before.yml").rename(folder / "pipeline.yml")
    originals = _tree(folder)
    assert main(["add", str(folder / "pipeline.yml")]) == 0
    err = capsys.readouterr().err
    assert f"instrumented {folder / 'train.yml'} (named by pipeline.yml)" in err
    assert f"instrumented {folder / 'train_src' / 'train.py'} (entry of train.yml)" in err
    assert main(["strip", str(folder / "pipeline.yml")]) == 0
    assert _tree(folder) == originals


def test_a_pipeline_whose_component_runs_nothing_to_debug_is_left_alone(tmp_path, capsys):
    source = Path(__file__).resolve().parents[1] / "fixtures" / "pipeline_job" / "local_and_registered_components"
    folder = tmp_path / "pipeline"
    shutil.copytree(source, folder)
    (folder / "after.yml").unlink()
    (folder / "before.yml").rename(folder / "pipeline.yml")
    (folder / "train_src" / "train.py").unlink()
    originals = _tree(folder)
    assert main(["add", str(folder / "pipeline.yml")]) == 0
    err = capsys.readouterr().err
    assert "runs no Python entry script that can take the flags" in err
    assert _tree(folder) == originals  # no force_rerun for a pipeline with nothing to debug


SPARK_COMPONENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/sparkComponent.schema.json
name: wrangle
type: spark
code: ./src
entry:
  file: wrangle.py
conf:
  spark.driver.cores: 1
"""
SPARK_PIPELINE = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
jobs:
  wrangle:
    type: spark
    component: ./spark.yml
  inline:
    type: spark
    code: ./src
    entry:
      file: wrangle.py
"""


def test_a_pipeline_of_spark_nodes_only_is_left_byte_for_byte_with_a_note(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "wrangle.py").write_text("print('spark')\n")
    (tmp_path / "spark.yml").write_text(SPARK_COMPONENT)
    (tmp_path / "pipeline.yml").write_text(SPARK_PIPELINE)
    originals = _tree(tmp_path)
    assert main(["add", str(tmp_path / "pipeline.yml")]) == 0
    err = capsys.readouterr().err
    assert "node wrangle:" in err and "nothing to debug there" in err
    assert "1 file left unchanged" in err
    assert _tree(tmp_path) == originals  # no settings.force_rerun for a pipeline with nothing to debug


def test_check_of_a_definition_names_every_file_add_changed(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    assert main(["add", "-q", str(folder / "job.yml")]) == 0
    capsys.readouterr()
    assert main(["check", str(folder / "job.yml")]) == 1
    out = capsys.readouterr().out
    for changed in ("job.yml", "src/train.py", "conda.yml"):
        assert f"{folder / changed}:" in out
    assert main(["strip", "-q", str(folder / "job.yml")]) == 0
    assert main(["check", str(folder / "job.yml")]) == 0


def test_a_missing_module_entry_names_both_places_it_was_looked_for(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    job = folder / "job.yml"
    job.write_text(job.read_text().replace("python train.py ", "python -m pkg.main"))
    assert main(["add", str(job)]) == 0
    err = capsys.readouterr().err
    src = folder / "src"
    assert f"there is no such file ({src / 'pkg' / 'main.py'} or {src / 'pkg' / 'main' / '__main__.py'})" in err


PIPELINE_TWO_NODES = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
jobs:
  prep:
    type: command
    code: src
    command: python prep.py
    environment: azureml:e@1
  train:
    type: command
    code: src
    command: python train.py
    environment: azureml:e@1
"""


def _two_node_pipeline(folder: Path, prep: str) -> list[str]:
    """pipeline.yml running src/prep.py (``prep``) and src/train.py; the list the graph's reads go to."""
    (folder / "src").mkdir()
    (folder / "src" / "prep.py").write_text(prep)
    (folder / "src" / "train.py").write_text("import sys\nprint(sys.argv)\n")
    (folder / "pipeline.yml").write_text(PIPELINE_TWO_NODES)
    return []


def _counting(calls: list[str]):
    """The graph's read-and-process, noting the name of each file it is given."""
    from instrument import graph as graph_module

    real = graph_module.read_and_process

    def counting(job, path):
        calls.append(Path(path).name)
        return real(job, path)

    return counting


def test_each_file_of_a_graph_is_processed_once_per_plan(tmp_path):
    """The round that plans the pipeline again (prep.py cannot be instrumented) does not process
    train.py again: its job did not change."""
    from instrument import graph as graph_module
    from instrument.process import ADD, Job, add_options, process_path

    calls = _two_node_pipeline(tmp_path, "def broken(:\n")
    job = Job(ADD, options=add_options())
    graph = graph_module.Graph(job, process_path(job, tmp_path / "pipeline.yml", True), process=_counting(calls))
    graph.settle()
    assert graph.unavailable  # prep.py: planned again without it
    assert calls.count("train.py") == 1 and calls.count("prep.py") == 1
    assert calls.count("pipeline.yml") == 1  # the run's outcome first, then planned again once its job changed


def test_the_named_definition_is_not_read_and_transformed_again_by_its_graph(tmp_path):
    from instrument import graph as graph_module
    from instrument.process import ADD, Job, add_options, process_path

    calls = _two_node_pipeline(tmp_path, "import sys\nprint(sys.argv)\n")
    job = Job(ADD, options=add_options())
    root = process_path(job, tmp_path / "pipeline.yml", True)
    assert root.held and root.original == (tmp_path / "pipeline.yml").read_bytes()
    graph = graph_module.Graph(job, root, process=_counting(calls))
    graph.settle()
    assert sorted(calls) == ["prep.py", "train.py"]
    assert not graph.failures()
    # and the write of the root is checked against the read the run made (in a worker, maybe)
    written = {Path(o.path).name for o in graph_module.settle(job, root, set()) if o.changed and not o.error}
    assert written == {"pipeline.yml", "prep.py", "train.py"}
    assert b"--remote_debug" in (tmp_path / "pipeline.yml").read_bytes()


def test_a_definition_edited_between_its_read_and_its_graph_is_left_alone(tmp_path):
    from instrument import graph as graph_module
    from instrument.process import ADD, Job, add_options, process_path

    (tmp_path / "src").mkdir()
    for name in ("prep.py", "train.py"):
        (tmp_path / "src" / name).write_text("import sys\nprint(sys.argv)\n")
    definition = tmp_path / "pipeline.yml"
    definition.write_text(PIPELINE_TWO_NODES)
    job = Job(ADD, options=add_options())
    root = process_path(job, definition, True)
    definition.write_text(PIPELINE_TWO_NODES + "# edited meanwhile\n")
    errors = [o.error for o in graph_module.settle(job, root, set()) if o.error]
    assert any("changed while instrument ran" in error for error in errors), errors
    assert definition.read_text().endswith("# edited meanwhile\n")
    assert b"# >>> instrument" not in (tmp_path / "src" / "train.py").read_bytes()
