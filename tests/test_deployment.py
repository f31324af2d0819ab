"""The ``deployment`` kind: Azure ML v2 online deployment YAML (managed and Kubernetes).

The golden cases (add gives after.yml, strip gives before.yml back, detection,
idempotence) run with the other v2 kinds in test_v2_yaml.py; here: what
azure-ai-ml reads from each after.yml (offline), the whole graph a user gets
from ``instrument add deployment.yml`` (scoring script, conda file), what
``check`` and ``strip`` make of it, and the files left alone.
"""

from __future__ import annotations

import logging
import math
import shutil
import warnings
from pathlib import Path

import pytest

from instrument.cli import main
from instrument.codemods.kinds.deployment import edits as v2_deployment
from instrument.process import ADD, Job, add_options, process_bytes
from tests.fixture_cases import FIXTURES, load_cases

CASES = load_cases("deployment")
RAISED = ("request_settings", "liveness_probe", "readiness_probe", "instance_count", "environment")
HEAD = "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"


def load_online(path: Path):
    from azure.ai.ml import load_online_deployment

    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_online_deployment(path)
    finally:
        logging.disable(logging.NOTSET)


def timeout_of(case) -> int:
    return case.meta.get("options", {}).get("timeout", 30)


def test_there_are_cases_of_both_kinds_of_deployment():
    names = {param.values[0].name for param in CASES}
    assert len(names) >= 5
    assert any(name.startswith("managed") for name in names) and any(name.startswith("kubernetes") for name in names)


@pytest.mark.parametrize("case", CASES)
def test_after_loads_with_azure_ai_ml_with_the_raised_values(case):
    before, after = load_online(case.folder / "before.yml"), load_online(case.folder / "after.yml")
    assert type(after) is type(before)
    timeout = timeout_of(case)
    old_ms = before.request_settings.request_timeout_ms if before.request_settings else None
    assert after.request_settings.request_timeout_ms == max(old_ms or 0, v2_deployment.MAX_REQUEST_TIMEOUT_MS)
    assert after.request_settings.request_timeout_ms <= v2_deployment.MAX_REQUEST_TIMEOUT_MS  # what Azure ML takes
    for name in v2_deployment.PROBES:
        probe, old = getattr(after, name), getattr(before, name)
        period = probe.period or v2_deployment.DEFAULT_PERIOD
        assert probe.initial_delay >= timeout + v2_deployment.DEFAULT_INITIAL_DELAY
        assert probe.failure_threshold * period > v2_deployment.MAX_REQUEST_TIMEOUT_MS // 1000  # a paused request
        assert probe.failure_threshold >= (old.failure_threshold if old and old.failure_threshold else 30)
        if old is not None:  # what the file set and the session does not need is kept
            assert (probe.period, probe.timeout, probe.success_threshold) == (old.period, old.timeout,
                                                                            old.success_threshold)
    assert after.instance_count == min(before.instance_count, 1) or after.instance_count == before.instance_count == 0
    assert after.code_configuration.scoring_script == before.code_configuration.scoring_script
    # Nothing else changed in what would be submitted.
    # gunicorn's worker timeout: a worker held at a breakpoint is not killed for an hour; the file's
    # other variables are kept as they are.
    old_variables, new_variables = dict(before.environment_variables or {}), dict(after.environment_variables)
    worker_timeout = new_variables.pop("WORKER_TIMEOUT")
    assert worker_timeout.isdigit() and int(worker_timeout) >= v2_deployment.WORKER_TIMEOUT
    assert int(worker_timeout) >= int(old_variables.pop("WORKER_TIMEOUT", "0"))
    assert new_variables == old_variables
    kept = [{k: v for k, v in d._to_dict().items() if k not in RAISED + ("environment_variables",)}
            for d in (before, after)]
    assert kept[0] == kept[1]


@pytest.mark.parametrize("case", CASES)
def test_the_whole_graph_add_check_strip(case, tmp_path):
    """``add deployment.yml`` alone: the scoring script and the conda file too; check names them all;
    strip gives every byte of every file back."""
    folder = tmp_path / case.name
    shutil.copytree(case.folder, folder)
    (folder / "after.yml").unlink()
    deployment = folder / "before.yml"
    originals = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    options = [f"--timeout={timeout_of(case)}"] if "timeout" in case.meta.get("options", {}) else []
    assert main(["add", *options, str(deployment)]) == 0
    assert deployment.read_bytes() == case.after
    changed = {p for p, data in originals.items() if p.read_bytes() != data}
    assert folder / "src" / "score.py" in changed
    assert '_instrument.score_debug(' in (folder / "src" / "score.py").read_text()
    conda = [p for p in changed if p.name == "conda.yml"]
    inline = b"conda_file:\n" in case.before.replace(b"\r\n", b"\n").replace(b"    ", b"  ")
    assert len(conda) == (0 if inline or b"azureml:" in case.before.split(b"environment:")[-1][:40] else 1)
    for path in conda:
        assert b"- debugpy" in path.read_bytes()
    assert main(["check", str(deployment)]) == 1
    assert main(["strip", str(deployment)]) == 0
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == originals
    assert main(["check", str(deployment)]) == 0


def test_check_names_every_file_add_changed(tmp_path, capsys):
    folder = tmp_path / "d"
    shutil.copytree(FIXTURES / "deployment" / "managed_conda_file_existing_settings", folder)
    assert main(["add", str(folder / "before.yml")]) == 0
    capsys.readouterr()
    assert main(["check", str(folder / "before.yml")]) == 1
    found = capsys.readouterr().out.splitlines()
    assert {Path(line.split(":")[0]).name for line in found} == {"before.yml", "score.py", "conda.yml",
                                                                 "_instrument_debug.py"}
    blocks = (folder / "before.yml").read_text().count("# >>> instrument")
    assert blocks == 5 and sum(Path(line.split(":")[0]).name == "before.yml" for line in found) == blocks


def _outcome(text: str, name: str = "deployment.yml", **options):
    return process_bytes(Job(ADD, options=add_options(**options)), text.encode(), name)


def test_registered_environment_note_says_what_the_scoring_script_does():
    case = next(p.values[0] for p in CASES if p.values[0].name == "registered_environment_comments")
    notes = process_bytes(Job(ADD), case.before, "deployment.yml").notes
    [environment] = [n for n in notes if "fraud-scoring-env" in n]
    assert "must contain debugpy" in environment and "--install-debugpy" not in environment
    assert any("instance_count 4 -> 1" in n for n in notes)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        # a custom container: no scoring script of its own
        ("name: blue\nendpoint_name: e\nenvironment: {image: myimage:1}\ninstance_count: 2\n", "no code_configuration"),
        ("name: blue\nendpoint_name: e\ncode_configuration: {code: azureml:my-code:1, scoring_script: score.py}\n"
         "environment: azureml:env:1\n", "not a local folder"),
        ("name: blue\nendpoint_name: e\ncode_configuration: {code: ./src}\nenvironment: azureml:env:1\n",
         "no scoring_script"),
    ],
)
def test_a_deployment_without_a_local_scoring_script_is_left_alone_with_a_note(body, why):
    outcome = _outcome(HEAD + body)
    assert outcome.error is None and outcome.kind == "deployment" and not outcome.changed
    assert any(why in note for note in outcome.notes), outcome.notes
    assert not outcome.companions


def test_a_missing_scoring_script_leaves_the_deployment_as_it_is(tmp_path, capsys):
    text = HEAD + "name: blue\nendpoint_name: e\ncode_configuration: {code: ./src, scoring_script: score.py}\n" \
                  "environment: azureml:env:1\ninstance_count: 3\n"
    (tmp_path / "d.yml").write_text(text)
    assert main(["add", str(tmp_path / "d.yml")]) == 0
    assert (tmp_path / "d.yml").read_text() == text
    assert "no such file" in capsys.readouterr().err


def test_settings_already_large_enough_are_not_touched():
    body = ("name: blue\nendpoint_name: e\ncode_configuration: {code: ./src, scoring_script: score.py}\n"
            "environment: azureml:env:1\ninstance_count: 1\nrequest_settings:\n  request_timeout_ms: 180000\n"
            "liveness_probe: {initial_delay: 45, failure_threshold: 40}\n"
            "readiness_probe: {initial_delay: 45, failure_threshold: 40}\n"
            "environment_variables:\n  WORKER_TIMEOUT: '7200'\n")
    outcome = _outcome(HEAD + body)
    assert outcome.error is None and not outcome.changed
    assert [c.kind for c in outcome.companions] == ["score"]


@pytest.mark.parametrize(
    ("timeout", "delay", "threshold"),
    [(30, 40, 30), (120, 130, 30), (600, 610, 61), (0, 3610, 361)],
)
def test_the_probes_cover_the_debug_timeout(timeout, delay, threshold):
    body = "name: blue\nendpoint_name: e\ncode_configuration: {code: ./src, scoring_script: score.py}\n" \
           "environment: azureml:env:1\ninstance_type: Standard_DS3_v2\n"
    text = _outcome(HEAD + body, timeout=timeout).output.decode()
    assert f"  initial_delay: {delay}\n" in text and f"  failure_threshold: {threshold}\n" in text
    assert threshold == max(30, math.ceil(max(180, timeout or 3600) / 10) + 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEAD + "name: b\nendpoint_name: e\n", True),
        ("$schema: https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json\nname: b\n",
         True),
        ("name: b\nendpoint_name: e\ncode_configuration: {code: ., scoring_script: s.py}\ninstance_count: 1\n", True),
        ("name: b\ntype: kubernetes\nendpoint_name: e\nmodel: azureml:m:1\n", True),
        # batch deployments name an endpoint and a scoring script too
        ("$schema: https://azuremlschemas.azureedge.net/latest/batchDeployment.schema.json\nname: b\n"
         "endpoint_name: e\n", False),
        ("name: b\nendpoint_name: e\ncompute: azureml:cpu\nmini_batch_size: 10\n"
         "code_configuration: {code: ., scoring_script: s.py}\n", False),
        ("endpoint_name: e\n", False),  # an endpoint name alone says nothing
    ],
)
def test_detection(text, expected):
    from instrument.codemods.kinds import deployment
    from instrument.codemods.yamltext.yaml_text import load

    assert deployment.detect(text, load(text)) is expected
