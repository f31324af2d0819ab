"""Azure ML SDK v2 submission scripts (kind ``sdk_job``), table-driven from fixtures/sdk_job/.

The last part runs every fixture's before.py and after.py with the real
azure-ai-ml (offline: jobs are built, never submitted) and compares the job
objects: the commands carry the flags where the shell runs them, f-string
braces still render ``${{inputs.x}}``, and environments, services and reuse
settings are what the case says.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from instrument.cli import main
from instrument.codemods.fences import markers
from instrument.codemods.core.options import Options
from instrument.codemods.shell.commands import debug_flags
from instrument.process import ADD, Job, add_options, process_bytes
from tests.fixture_cases import load_cases, transformed

CASES = load_cases("sdk_job")
RUNNER = Path(__file__).resolve().parent / "v2_job_objects.py"
INSTALL = "pip install debugpy && "


def options_of(case) -> dict:
    options = dict(case.meta.get("options", {}))
    if "steps" in options:
        options["steps"] = tuple(options["steps"])
    return options


def job_for(case, action: str = ADD, kind="sdk_job") -> Job:
    return Job(action, kind=kind, options=add_options(**(options_of(case) if action == ADD else {})))


def run(job: Job, data: bytes) -> bytes:
    return transformed(job, data, "submit.py")


def test_there_are_enough_cases():
    assert len(CASES) >= 9






@pytest.mark.parametrize("case", CASES)
def test_after_file_parses_keeps_line_endings_and_has_blocks(case):
    text = case.after.decode("utf-8")
    ast.parse(text)
    assert markers.find_blocks(text)
    assert (b"\r\n" in case.before) == (b"\r\n" in case.after)
    assert case.before.endswith(b"\n") == case.after.endswith(b"\n")


@pytest.mark.parametrize("case", CASES)
def test_notes_and_companions(case):
    outcome = process_bytes(job_for(case), case.before, "submit.py")
    for expected in case.meta.get("notes", []):
        assert any(note.startswith(f"submit.py:{expected}") for note in outcome.notes), (expected, outcome.notes)
    if case.meta.get("no_notes"):
        assert outcome.notes == ()
    assert [[c.path, c.kind] for c in outcome.companions if not c.entry] == case.meta.get("companions", [])


# -- the real azure-ai-ml builds the jobs of before.py and after.py ------------

@pytest.fixture(scope="module")
def built():
    """{case: {"before.py": jobs, "after.py": jobs, "stripped.py": jobs (take-over cases)}}, each folder
    in an interpreter of its own (in parallel)."""
    from concurrent.futures import ThreadPoolExecutor

    def build(case):
        done = subprocess.run(
            [sys.executable, str(RUNNER), "before.py", "after.py"] + (["stripped.py"] if case.stripped else []),
            cwd=case.folder, capture_output=True,
            text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return case.name, json.loads(done.stdout[done.stdout.index("{"):])

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return dict(pool.map(build, [param.values[0] for param in CASES]))


def contains(expected, actual, where="") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: no {key!r} in {sorted(actual)}"
            contains(value, actual[key], f"{where}.{key}")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("case", CASES)
def test_jobs_built_by_after_file_are_as_expected(case, built):
    contains(case.meta["jobs"], built[case.name]["after.py"], case.name)


def _commands(jobs: dict, prefix: str = "") -> dict:
    found = {}
    for name, job in jobs.items():
        if "command" in job:
            found[prefix + name] = job["command"]
        found.update(_commands(job.get("jobs", {}), f"{prefix}{name}."))
    return found


@pytest.mark.parametrize("case", CASES)
def test_after_commands_are_before_commands_with_flags_inserted(case, built):
    # strip gives back before.py, or stripped.py when add took hand-written debug arguments out for good
    restored = built[case.name]["stripped.py" if case.stripped else "before.py"]
    before, after = _commands(restored), _commands(built[case.name]["after.py"])
    assert before.keys() == after.keys()
    flags = " " + debug_flags(Options(**options_of(case)))
    changed = 0
    for name, command in after.items():
        if command != before[name]:
            changed += 1
            assert command.count(flags) == 1, command
            assert command.replace(flags, "").replace(INSTALL, "") == before[name]
            assert "${inputs" not in command and "${outputs" not in command  # f-string braces stay doubled
    assert bool(changed) != case.meta.get("commands_elsewhere", False)


def test_force_rerun_is_off_before_and_on_after(built):
    for _name, results in built.items():
        for job_name, job in results["after.py"].items():
            if job.get("type") == "pipeline":
                assert job["force_rerun"] is True
                assert results["before.py"][job_name]["force_rerun"] in (None, False)


# -- the command line: a submission script is no training script --------------

def test_cli_add_names_the_kind_and_edits_the_jobs_not_the_script(tmp_path):
    case = next(p.values[0] for p in CASES if p.values[0].name == "single_command")
    script = tmp_path / "submit.py"
    script.write_bytes(case.before)
    (tmp_path / "src").mkdir()
    entry = tmp_path / "src" / "main.py"
    entry.write_text("import argparse\nparser = argparse.ArgumentParser()\nargs = parser.parse_known_args()\n")
    done = subprocess.run([sys.executable, "-m", "instrument", "add", "-v", str(script)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"instrumented {script} (sdk_job)" in done.stderr  # the report goes to stderr
    assert f"instrumented {entry} (entry of submit.py) (train)" in done.stderr
    assert f"{script}:14:5: note: environment is a reference" in done.stderr
    assert script.read_bytes() == case.after
    # The submission script itself does not wait for a debugger.
    assert b"debugpy" not in case.after and b"argparse" not in case.after


def test_cli_add_with_companion_conda_file(tmp_path):
    case = next(p.values[0] for p in CASES if p.values[0].name == "alias_fstring_crlf")
    folder = tmp_path / "job"
    shutil.copytree(case.folder, folder)
    conda = folder / "src" / "env" / "conda.yml"
    assert main(["add", "-q", "--client-ip", "10.3.0.5", "--ranks", "0", "--port", "5679", "--timeout", "120",
                 str(folder / "before.py")]) == 0
    assert (folder / "before.py").read_bytes() == case.after
    assert b"    - debugpy\r\n" in conda.read_bytes()
    assert main(["strip", "-q", str(folder / "before.py"), str(conda)]) == 0
    assert (folder / "before.py").read_bytes() == case.before
    assert conda.read_bytes() == (case.folder / "src" / "env" / "conda.yml").read_bytes()


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param("from azure.ai.ml import MLClient\nclient = MLClient.from_config()\nprint(client.jobs.list())\n",
                     "defines no job", id="mlclient_only"),
        pytest.param("import azure.ai.ml as aml\n\nfor job in aml.MLClient.from_config().jobs.list():\n    print(job.name)\n",
                     "defines no job", id="module_alias_mlclient_only"),
    ],
)
def test_files_without_job_definitions_are_left_alone_with_a_reason(source, reason):
    outcome = process_bytes(Job(ADD), source.encode(), "submit.py")
    assert outcome.kind == "sdk_job" and not outcome.changed and reason in outcome.reason


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("def command(**kw):\n    return kw\n\njob = command(code='.', command='python train.py')\n", id="own_function_named_command"),
        pytest.param("# from azure.ai.ml import command\nprint('azure.ai.ml')\n", id="mentioned_in_comment_and_string"),
        pytest.param("from azureml.core import Run\nrun = Run.get_context()\n", id="sdk_v1_run_context"),
    ],
)
def test_other_scripts_are_not_this_kind(source):
    outcome = process_bytes(Job(ADD), source.encode(), "train.py")
    assert outcome.kind != "sdk_job"


def test_step_that_matches_nothing_is_a_warning():
    case = next(p.values[0] for p in CASES if p.values[0].name == "step_filter")
    outcome = process_bytes(Job(ADD, options=add_options(steps=("evaluate",))), case.before, "submit.py")
    assert not outcome.changed
    assert outcome.warnings == ("--step evaluate: no such job or pipeline node here",)


@pytest.mark.parametrize("step", ["train_model", "train_with_sample_data"])
def test_step_selects_by_variable_name_or_node(step):
    case = next(p.values[0] for p in CASES if p.values[0].name == "pipeline_components")
    outcome = process_bytes(Job(ADD, options=add_options(steps=(step,))), case.before, "submit.py")
    text = outcome.output.decode()
    assert text.count("--remote_debug_port 5678") == 1
    assert "--model_output ${{outputs.model_output}} --remote_debug " in text


LOADER = "from azure.ai.ml import load_component\nfrom azure.ai.ml import dsl\n"


@pytest.mark.parametrize(
    ("call", "companions", "note"),
    [
        pytest.param('load_component(source="./components/train.yml")', [["./components/train.yml", "component"]],
                     None, id="keyword_literal"),
        pytest.param("load_component('train.yaml')", [["train.yaml", "component"]], None, id="positional"),
        pytest.param('load_component(source=os.path.join("components", "train.yml"))',
                     [["components/train.yml", "component"]], None, id="os_path_join"),
        pytest.param('load_component(source="azureml:train_component:1")', [], "azureml:train_component:1",
                     id="registered"),
        pytest.param("load_component(source=sys.argv[1])", [], "its YAML file", id="computed"),
        pytest.param('load_component(source="https://example.com/train.yml")', [], "https://example.com/train.yml",
                     id="remote"),
    ],
)
def test_loaded_component_files_are_companions(call, companions, note):
    source = f"import os\nimport sys\n{LOADER}\ntrain = {call}\n"
    outcome = process_bytes(Job(ADD), source.encode(), "submit.py")
    assert outcome.error is None and outcome.kind == "sdk_job"
    assert [[c.path, c.kind] for c in outcome.companions if not c.entry] == companions
    if note is None:
        assert not any("component's command" in n for n in outcome.notes)
    else:
        assert any(note in n and "run instrument add on" in n for n in outcome.notes), outcome.notes


def test_cli_add_follows_a_loaded_component_and_strip_restores_it(tmp_path):
    case = next(p.values[0] for p in CASES if p.values[0].name == "pipeline_components")
    folder = tmp_path / "job"
    shutil.copytree(case.folder, folder)
    component = folder / "components" / "prep.yml"
    original = component.read_bytes()
    assert main(["add", "-q", str(folder / "before.py")]) == 0
    text = component.read_text()
    assert "--remote_debug" in text and "is_deterministic: false" in text
    assert main(["strip", "-q", str(folder / "before.py")]) == 0
    assert component.read_bytes() == original and (folder / "before.py").read_bytes() == case.before
