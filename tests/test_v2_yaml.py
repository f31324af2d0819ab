"""The Azure ML v2 YAML kinds (job, component, pipeline_job, environment), from fixtures.

Each ``fixtures/<kind>/<case>/`` holds before.yml, after.yml, case.json (the
add options) and the local files the YAML names (code folders, conda files,
components), so that azure-ai-ml can load both files offline and say what Azure
ML would run.
"""

from __future__ import annotations

import json
import logging
import shutil
import warnings

import pytest

from instrument.cli import main
from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.v2 import take_over as v2_take_over
from instrument.codemods.core.options import Options
from instrument.process import ADD, STRIP, Job, add_options, process_bytes
from tests.fixture_cases import FIXTURES, load_cases, transformed

V2_KINDS = ("job", "component", "pipeline_job", "environment", "deployment")
CASES = [(kind, param) for kind in V2_KINDS for param in load_cases(kind)]
PARAMS = [pytest.param(kind, param.values[0], id=f"{kind}-{param.id}") for kind, param in CASES]
LOADABLE = [p for p in PARAMS if p.values[0] not in ("environment", "deployment")]  # deployments: test_deployment.py


def job_for(case, action: str = ADD, kind=None) -> Job:
    options = dict(case.meta.get("options", {}))
    if "steps" in options:
        options["steps"] = tuple(options["steps"])
    return Job(action, kind=kind, options=add_options(**(options if action == ADD else {})))


def options_of(case) -> Options:
    options = dict(case.meta.get("options", {}))
    options.pop("steps", None)
    options.pop("install_debugpy", None)
    return Options(**options)


def test_there_are_enough_cases():
    assert len(PARAMS) >= 18






def azure_load(path):
    """azure-ai-ml's own reading of a job or component file (offline)."""
    from azure.ai.ml import load_component, load_job

    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return load_job(path)
        except Exception:
            return load_component(path)
        finally:
            logging.disable(logging.NOTSET)


def holders(entity):
    """(name, object with .command) for a job, a sweep's trial, a component, each pipeline node."""
    if hasattr(entity, "trial"):
        return [("trial", entity.trial)]
    jobs = getattr(entity, "jobs", None)
    if jobs:
        return [(name, node) for name, node in jobs.items() if isinstance(getattr(node, "command", None), str)]
    return [("", entity)]


@pytest.mark.parametrize(("kind", "case"), LOADABLE)
def test_after_loads_with_azure_ai_ml_and_runs_the_flags(kind, case):
    """azure-ai-ml reads the flags right after the entry's own arguments; nothing else changed."""
    before = azure_load(case.folder / "before.yml")
    after = azure_load(case.folder / "after.yml")
    options = options_of(case)
    install = case.meta.get("options", {}).get("install_debugpy", False)
    steps = case.meta.get("options", {}).get("steps")
    old = dict(holders(before))
    inline = inline_commands(case.before)
    for name, holder in holders(after):
        if name not in inline:  # a component file of its own (a companion, instrumented on its own)
            continue
        runs = v2_commands.flag_insertion(v2_take_over.blanked(old[name].command, v2_take_over.hand_written(old[name].command)))
        if steps and name not in steps or runs is None:
            assert holder.command == old[name].command
            continue
        command = old[name].command
        if options.take_over:  # hand-written debug arguments go; spacing may differ where they were
            command = v2_take_over.blanked(command, v2_take_over.hand_written(command))
            expected = v2_commands.add_flags(command, options, install)
            assert v2_take_over.shell_words(holder.command) == v2_take_over.shell_words(expected)
            assert "debugpy" not in holder.command
            continue
        expected = v2_commands.add_flags(command, options, install)
        assert holder.command.rstrip("\n") == expected.rstrip("\n")
        assert v2_commands.debug_flags(options) in holder.command


def inline_commands(data: bytes) -> set:
    """Names of the holders whose command is written in this file."""
    from instrument.codemods.yamltext.yaml_text import load

    document = load(data.decode("utf-8"))
    names = {"", "trial"} if "command" in document or "trial" in document else set()
    for name, node in (document.get("jobs") or {}).items():
        if "command" in node:
            names.add(name)
    return names


def _service_types(services) -> list:
    return sorted(getattr(s, "type", None) or s.get("type") for s in (services or {}).values())


@pytest.mark.parametrize(("kind", "case"), LOADABLE)
def test_after_has_services_reuse_off(kind, case):
    after = azure_load(case.folder / "after.yml")
    service = case.meta.get("options", {}).get("service")
    if kind == "pipeline_job":
        if hasattr(after, "settings"):  # a pipeline job, not a pipeline component
            assert after.settings.force_rerun is True
        if service:  # in what would be submitted, not only in the loaded object
            submitted = after._to_dict()["jobs"]
            python_nodes = [name for name, n in after.jobs.items() if "python" in (getattr(n, "command", "") or "")]
            assert python_nodes
            assert all(service in _service_types(submitted[name].get("services")) for name in python_nodes)
    elif kind == "component":
        assert after.is_deterministic is False
    elif service:
        assert service in _service_types(after.services)
        assert service in _service_types(after._to_dict().get("services"))
        if service == "ssh":
            [ssh] = [s for s in after.services.values() if getattr(s, "type", None) == "ssh"]
            assert ssh.ssh_public_keys == case.meta["options"]["ssh_public_key"]


def test_no_python_leaves_the_file_and_says_why():
    [case] = [c for k, c in ((k, p.values[0]) for k, p in CASES) if c.name == "no_python"]
    outcome = process_bytes(job_for(case), case.before, "job.yml")
    assert not outcome.changed
    assert any("runs no Python entry script" in note for note in outcome.notes)


@pytest.mark.parametrize(
    ("kind", "name", "companions"),
    [
        ("job", "folded_comment_line", (("conda.yml", "env"),)),
        ("job", "sweep_trial_env_file", (("./environments/env.yml", "environment"),)),
        ("job", "inline_conda", ()),
        ("component", "is_deterministic_true", (("./conda.yml", "env"),)),
        ("pipeline_job", "local_and_registered_components", (("./train.yml", "component"),)),
        ("pipeline_job", "inline_nodes_service", (("conda.yml", "env"),)),
        ("job", "build_context_requirements", (("docker-context/Dockerfile", "dockerfile"),)),
        ("component", "build_context_tabs", (("docker-context/Dockerfile", "dockerfile"),)),
        ("environment", "build_context_conda", (("./ctx/Dockerfile", "dockerfile"),)),
    ],
)
def test_companions(kind, name, companions):
    case = next(c for k, c in ((k, p.values[0]) for k, p in CASES) if k == kind and c.name == name)
    outcome = process_bytes(job_for(case), case.before, "x.yml")
    assert tuple((c.path, c.kind) for c in outcome.companions if not c.entry) == companions
    assert all(c.kind == "train" for c in outcome.companions if c.entry)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("plain_registry_env", ["debugpy", "--install-debugpy", "azureml://registries"]),
        ("literal_install_debugpy", ["installs it first"]),
        ("double_quoted_crlf", ["AzureML-sklearn-1.5@latest", "--install-debugpy"]),
    ],
)
def test_reference_environments_get_a_note(name, words):
    case = next(c for k, c in ((k, p.values[0]) for k, p in CASES) if k == "job" and c.name == name)
    notes = process_bytes(job_for(case), case.before, "job.yml").notes
    assert len(notes) == 1 and all(word in notes[0] for word in words), notes


def test_registered_component_node_gets_a_note():
    case = next(c for k, c in ((k, p.values[0]) for k, p in CASES) if c.name == "local_and_registered_components")
    notes = process_bytes(job_for(case), case.before, "pipe.yml").notes
    assert any("azureml:my_score@latest" in note and "score_job" in note for note in notes)


def test_step_that_matches_no_node_warns_and_changes_nothing():
    case = next(c for k, c in ((k, p.values[0]) for k, p in CASES) if c.name == "inline_nodes_service")
    outcome = process_bytes(Job(ADD, options=add_options(steps=("evaluate",))), case.before, "pipe.yml")
    assert not outcome.changed and outcome.output == case.before
    assert outcome.warnings and "evaluate" in outcome.warnings[0] and "train_job" in outcome.warnings[0]


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "v2_not_jobs").iterdir()))
def test_other_yaml_with_jobs_or_command_is_skipped_while_walking(name):
    data = (FIXTURES / "v2_not_jobs" / name).read_bytes()
    outcome = process_bytes(Job(ADD), data, name, explicit=False)
    assert outcome.skipped and outcome.error is None


@pytest.mark.parametrize(
    "command",
    [
        "python train.py --remote_debug",
        "python train.py --remote_debug_port 5679 --lr 1",
    ],
)
def test_hand_written_flags_are_refused_with_one_line(command):
    text = f"$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncommand: {command}\n" \
           "environment: azureml:env@1\n"
    outcome = process_bytes(Job(ADD), text.encode(), "job.yml")
    assert outcome.error and "\n" not in outcome.error and "job.yml" in outcome.error
    assert "line 2" in outcome.error and "--remote_debug" in outcome.error


def test_cli_follows_companions_and_strip_restores_every_byte(tmp_path):
    folder = tmp_path / "sweep"
    shutil.copytree(FIXTURES / "job" / "sweep_trial_env_file", folder)
    (folder / "after.yml").unlink()
    originals = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert main(["add", "--service", "vs_code", str(folder / "before.yml")]) == 0
    conda = folder / "environments" / "conda.yml"
    assert "debugpy" in conda.read_text()
    assert (folder / "before.yml").read_bytes() == (FIXTURES / "job" / "sweep_trial_env_file" / "after.yml").read_bytes()
    assert main(["strip", str(folder)]) == 0
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == originals


def test_a_yaml_that_azure_would_reject_stays_untouched():
    text = b"$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncommand: [python, x.py]\n"
    outcome = process_bytes(Job(ADD), text, "job.yml")
    assert outcome.error is None and outcome.output == text


def test_case_options_are_valid_json():
    for kind in V2_KINDS:
        for meta in (FIXTURES / kind).glob("*/case.json"):
            assert isinstance(json.loads(meta.read_text())["options"], dict)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x-cmd: &cmd python train.py\ncode: .\ncommand: *cmd\nenvironment: azureml:e@1\n", "alias"),
        ("command: python train.py --remote_debug_port 1\nenvironment: azureml:e@1\n", "--take-over"),
    ],
)
def test_commands_it_cannot_edit_safely_are_one_line_errors(text, message):
    data = ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n" + text).encode()
    outcome = process_bytes(Job(ADD), data, "job.yml")
    assert outcome.error is not None and message in outcome.error and "\n" not in outcome.error
    assert outcome.output is None


def test_a_tagged_command_is_left_alone():
    data = (b"$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            b"command: !!str python train.py\nenvironment: azureml:e@1\n")
    outcome = process_bytes(Job(ADD), data, "job.yml")
    assert outcome.error is None and outcome.output == data and not outcome.changed


@pytest.mark.parametrize(
    ("services", "written"),
    [
        ("services: {}", "services: {instrument_vs_code: {type: vs_code, nodes: all}}"),
        ("services: {jl: {type: jupyter_lab}}  # lab",
         "services: {jl: {type: jupyter_lab}, instrument_vs_code: {type: vs_code, nodes: all}}  # lab"),
    ],
)
def test_services_written_inline_get_one_more_entry(tmp_path, services, written):
    head = ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "code: .\ncommand: python train.py\nenvironment: azureml:e@1\ncompute: azureml:cpu\n")
    before = (head + services + "\n").encode()
    outcome = process_bytes(Job(ADD, options=add_options(service="vs_code")), before, "job.yml")
    assert outcome.error is None and written in outcome.output.decode()
    (tmp_path / "job.yml").write_bytes(outcome.output)
    assert "vs_code" in _service_types(azure_load(tmp_path / "job.yml")._to_dict()["services"])
    assert transformed(Job(STRIP), outcome.output, "job.yml") == before


def test_services_over_several_lines_in_braces_are_left_to_the_user():
    data = (b"$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            b"code: .\ncommand: python train.py\nenvironment: azureml:e@1\nservices: {\n  a: {type: ssh}}\n")
    outcome = process_bytes(Job(ADD, options=add_options(service="vs_code")), data, "job.yml")
    assert outcome.error is not None and "by hand" in outcome.error and outcome.output is None


def test_a_node_that_ends_with_an_empty_value_gets_its_own_service(tmp_path):
    """``key:`` with nothing is marked where the next node starts; the service stays in its node."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("print(1)\n")
    node = ("    type: command\n    code: src\n    command: python train.py --out ${{outputs.out}}\n"
            "    environment: azureml:e@1\n    outputs:\n      out:\n")
    before = ("$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\ntype: pipeline\n"
              "settings:\n  force_rerun:\njobs:\n  first:\n" + node + "  second:\n" + node).encode()
    outcome = process_bytes(Job(ADD, options=add_options(service="vs_code")), before, "pipe.yml")
    assert outcome.error is None
    (tmp_path / "pipe.yml").write_bytes(outcome.output)
    submitted = azure_load(tmp_path / "pipe.yml")._to_dict()
    assert submitted["settings"]["force_rerun"] is True
    for name in ("first", "second"):
        assert _service_types(submitted["jobs"][name]["services"]) == ["vs_code"]
    assert transformed(Job(STRIP), outcome.output, "pipe.yml") == before


@pytest.mark.parametrize(
    ("name", "steps", "line", "anchor", "other"),
    [
        ("alias_one_step_selected.yml", ("seed_1",), 11, "train_cmd", "jobs.seed_2.command"),
        ("merge_one_step_selected.yml", ("train_small",), 4, "node_defaults", "jobs.train_large."),
        ("command_reused_as_description.yml", (), 3, "cmd", "description"),
    ],
)
def test_an_anchored_value_with_a_user_that_is_not_instrumented_is_refused(name, steps, line, anchor, other):
    """Editing an anchor's text changes every alias and merge of it: only when all of them are instrumented."""
    data = (FIXTURES / "v2_anchor_refusals" / name).read_bytes()
    outcome = process_bytes(Job(ADD, options=add_options(steps=steps)), data, name)
    assert outcome.error is not None and outcome.output is None and "\n" not in outcome.error
    assert outcome.error.startswith(f"{name}: line {line}: ") and f"&{anchor}" in outcome.error
    assert other in outcome.error


def test_a_node_merged_into_others_is_edited_once_and_each_node_runs_the_flags():
    case = next(c for k, c in ((k, p.values[0]) for k, p in CASES) if c.name == "merge_key_nodes")
    after = azure_load(case.folder / "after.yml")
    flags = v2_commands.debug_flags(options_of(case))
    assert all(flags in node.command for node in after.jobs.values()) and len(after.jobs) == 2
    assert case.after.count(b"# >>> instrument: debug flags") == 1
    for node in after.jobs.values():
        pip = [d for d in node.component.environment.conda_file["dependencies"] if isinstance(d, dict)][0]["pip"]
        assert pip.count("debugpy") == 1


def test_services_reached_through_a_merge_key_are_refused_with_one_line(tmp_path, capsys):
    job = tmp_path / "job.yml"
    job.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
        "base: &base\n"
        "  services:\n"
        "    my_jupyter:\n"
        "      type: jupyter_lab\n"
        "<<: *base\n"
        "command: python train.py\n"
        "code: src\n"
        "environment: azureml:env@1\n"
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("import argparse\n\nargparse.ArgumentParser().parse_args()\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["add", "--service", "vs_code", str(job)]) == 123
    err = capsys.readouterr().err
    assert f"{job}: services: comes through a merge key (<<:); add a vs_code service by hand" in err.splitlines()
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
