"""The check of an edited v2 YAML file: it loads and means the original plus the plan's edits.

The libyaml path (PyYAML's C safe loader) and the round-trip fallback must
accept the same results and refuse the same broken ones; a result is broken
here by writing into its fenced blocks, which strip still takes back out.
"""

from __future__ import annotations

import pytest

from instrument.codemods.v2 import verify as v2_verify
from instrument.codemods.yamltext import yaml_text
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds import base, get
from instrument.process import add_options
from tests.fixture_cases import transformed
from tests.test_v2_yaml import PARAMS, job_for

JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: src
command: python train.py --epochs 3
environment:
  image: python:3.10-slim
  conda_file:
    dependencies:
      - python=3.10
      - pip:
          - torch
compute: azureml:cpu-cluster
"""
END_FENCE = "# <<< instrument\n"


def _added(text: str = JOB):
    result = base.apply(get("job"), text, add_options())
    return result.text, result.plan


def _into_first_block(result: str, line: str) -> str:
    """``line`` written as the last line of the first fenced block (strip takes it out again)."""
    return result.replace(END_FENCE, line + "\n" + END_FENCE, 1)


@pytest.fixture(params=["libyaml", "round-trip"])
def loader(request, monkeypatch):
    if request.param == "round-trip":  # as where PyYAML's C extension is missing
        monkeypatch.setattr(yaml_text, "libyaml_loader", lambda: None)
    return request.param


@pytest.mark.parametrize(("kind", "case"), PARAMS)
def test_every_fixture_gives_the_same_after_file_without_libyaml(kind, case, monkeypatch):
    monkeypatch.setattr(yaml_text, "libyaml_loader", lambda: None)
    assert transformed(job_for(case, kind=kind), case.before, "job.yml") == case.after


@pytest.mark.parametrize(("kind", "case"), PARAMS)
def test_every_fixture_is_proven_by_libyaml_alone(kind, case):
    options = job_for(case, kind=kind).options
    result = base.apply(get(kind), case.before.decode("utf-8"), options)
    if not result.plan.insertions:  # nothing to verify: the file comes back as it was
        assert result.text == case.before.decode("utf-8")
        return
    clean = result.plan.source if result.plan.source is not None else case.before.decode("utf-8")
    before, after = yaml_text.libyaml_load(clean), yaml_text.libyaml_load(result.text)
    assert v2_verify._problem(before, after, list(result.plan.expected)) is None


@pytest.mark.parametrize("extra", ["", "tags: {loss: .nan, seen: 2026-11-30, seed: 0o17}\n", "list: !!set {a, b}\n"])
def test_a_sound_result_passes(loader, extra):
    result, plan = _added(JOB + extra)
    v2_verify.verify(result, JOB + extra, plan)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("display_name: changed", "the result changes display_name, which the plan does not edit"),
        ("compute: azureml:gpu-cluster", "found duplicate key"),
        ("command: python other.py", "found duplicate key"),
        ("  - bad: [", "the result is not valid YAML"),
    ],
)
def test_a_result_that_means_more_than_the_edits_is_refused(loader, line, message):
    result, plan = _added()
    broken = _into_first_block(result, line)
    with pytest.raises(InstrumentError, match=message.replace("[", r"\[")):
        v2_verify.verify(broken, JOB, plan)


def test_a_command_that_lost_its_flags_is_refused(loader):
    result, plan = _added()
    broken = result.replace(" --remote_debug_port 5678\n", "\n", 1)
    with pytest.raises(InstrumentError, match="command would load as 'python train.py --epochs 3 --remote_debug"):
        v2_verify.verify(broken, JOB, plan)


def test_a_result_that_does_not_strip_back_is_refused(loader):
    result, plan = _added()
    with pytest.raises(InstrumentError, match="does not strip back"):
        v2_verify.verify(result.replace("cpu-cluster", "gpu-cluster"), JOB, plan)


@pytest.mark.parametrize(
    ("before", "after", "added"),
    [
        ({"dependencies": ["python", {"pip": ["torch"]}]}, {"dependencies": ["python", {"pip": ["debugpy", "torch"]}]},
         True),
        ({"dependencies": ["python", {"pip": None}]}, {"dependencies": ["python", {"pip": ["debugpy"]}]}, True),
        ({"dependencies": ["python"]}, {"dependencies": ["python", "pip", {"pip": ["debugpy"]}]}, True),
        ({"dependencies": ["python", "pip"]}, {"dependencies": ["python", "pip", {"pip": ["debugpy"]}]}, True),
        # debugpy must be there, in the last pip list, and nothing else may change
        ({"dependencies": [{"pip": ["torch"]}]}, {"dependencies": [{"pip": ["torch"]}]}, False),
        ({"dependencies": [{"pip": ["torch"]}]}, {"dependencies": [{"pip": ["debugpy"]}]}, False),
        ({"dependencies": [{"pip": ["a"]}, {"pip": ["b"]}]}, {"dependencies": [{"pip": ["debugpy", "a"]}, {"pip": ["b"]}]},
         False),
        ({"name": "a", "dependencies": [{"pip": []}]}, {"name": "b", "dependencies": [{"pip": ["debugpy"]}]}, False),
        ({"dependencies": ["python"]}, {"dependencies": ["python", "numpy", {"pip": ["debugpy"]}]}, False),
    ],
)
def test_debugpy_added_to_an_inline_conda_file(before, after, added):
    assert v2_verify._debugpy_added(before, after) is added


def test_an_inline_conda_file_that_changed_beyond_debugpy_is_refused(loader):
    result, plan = _added()
    broken = result.replace("  - debugpy\n", "  - debugpy\n          - numpy\n", 1)
    with pytest.raises(InstrumentError, match="environment.conda_file would not load as the conda file with debugpy"):
        v2_verify.verify(broken, JOB, plan)


def test_the_shared_load_keeps_merge_keys_in_the_composed_nodes():
    text = "defaults: &defaults\n  compute: cpu\n  command: python a.py\njobs:\n  a:\n    <<: *defaults\n    x: 1\n"
    data = yaml_text.load(text)
    assert data["jobs"]["a"]["command"] == "python a.py"  # the values: merged
    node = yaml_text.composed(text)
    jobs = dict((k.value, v) for k, v in node.value)["jobs"]
    a = jobs.value[0][1]
    assert [key.value for key, _ in a.value] == ["<<", "x"]  # the nodes: as written
    assert a.value[0][1] is dict((k.value, v) for k, v in node.value)["defaults"]
