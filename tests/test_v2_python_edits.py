"""Reuse, services and imports in v2 submission scripts, built for real with azure-ai-ml.

Each row is a small submission script; after ``add`` it is executed in-process
(azure-ai-ml builds the job objects offline) and the objects are checked;
``strip`` must give the script back byte for byte.
"""

from __future__ import annotations

import pytest

from instrument.codemods.fences import markers
from instrument.process import ADD, STRIP, Job, add_options, process_bytes

SCRIPT = "from azure.ai.ml import command, dsl, Input\n"
JOB = "command(code='.', command='python t.py --x ${{inputs.x}}', inputs={'x': Input(type='uri_folder')}, environment='azureml:e@latest')"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTestsxxxxxxxxxxxxxxxxxxxx me@laptop"


def added(source: str, **options) -> tuple[str, dict]:
    """(the instrumented text, the globals it builds)."""
    outcome = process_bytes(Job(ADD, options=add_options(**options)), source.encode(), "submit.py")
    assert outcome.error is None and outcome.changed, outcome
    text = outcome.output.decode()
    stripped = process_bytes(Job(STRIP), outcome.output, "submit.py").output
    if options.get("take_over"):  # hand-written debug arguments are gone for good; the rest is as it was
        assert b"remote_debug" not in stripped and b"debugpy" not in stripped
        assert process_bytes(Job(ADD, options=add_options(**dict(options, take_over=False))), stripped, "submit.py").output == outcome.output
    else:
        assert stripped == source.encode()
    scope: dict = {"__name__": "submission"}
    exec(compile(text, "submit.py", "exec"), scope)
    return text, scope


def test_force_rerun_false_becomes_true():
    source = SCRIPT + f"train = {JOB}\n\n@dsl.pipeline(force_rerun=False, compute='cpu')\ndef p(x):\n    t = train(x=x)\n\njob = p(Input(path='.'))\n"
    text, scope = added(source)
    assert "force_rerun=True, compute='cpu'" in text
    assert scope["job"].settings.force_rerun is True


def test_pipeline_decorator_applied_as_a_function():
    source = SCRIPT + f"train = {JOB}\n\ndef body(x):\n    t = train(x=x)\n\nbuild = dsl.pipeline(compute='cpu')(body)\njob = build(Input(path='.'))\n"
    text, scope = added(source)
    assert scope["job"].settings.force_rerun is True
    assert scope["job"].jobs["t"].command.endswith("--remote_debug_port 5678")


def test_vs_code_service_on_a_node_built_inside_the_pipeline():
    source = SCRIPT + f"\n@dsl.pipeline()\ndef p(x):\n    t = {JOB}(x=x)\n\njob = p(Input(path='.'))\n"
    outcome = process_bytes(Job(ADD, options=add_options(service="vs_code")), source.encode(), "submit.py")
    assert [note for note in outcome.notes if "environment is a reference" not in note] == []
    text, scope = added(source, service="vs_code")
    node = scope["job"].jobs["t"]
    assert {k: (v.type, v.nodes) for k, v in node.services.items()} == {"vscode": ("vs_code", "all")}
    assert node.command.endswith(" --remote_debug_host 127.0.0.1")


def test_service_class_already_imported_under_an_alias_is_reused():
    source = "from azure.ai.ml.entities import VsCodeJobService as VS\n" + SCRIPT + f"job = {JOB}\n"
    text, scope = added(source, service="vs_code")
    assert "services={'vscode': VS(nodes='all')}" in text
    assert len(markers.find_blocks(text)) == 1  # no import block
    assert scope["job"].services["vscode"].type == "vs_code"


def test_service_class_name_taken_by_something_else_gets_a_free_name():
    source = SCRIPT + "SshJobService = None\n" + f"job = {JOB}\n"
    text, scope = added(source, service="ssh", ssh_public_key=KEY)
    assert "from azure.ai.ml.entities import SshJobService as SshJobService_2\n" in text
    assert scope["job"].services["ssh"].ssh_public_keys == KEY
    assert scope["SshJobService"] is None


def test_ssh_key_is_a_python_literal():
    from instrument.codemods.core.errors import InstrumentError
    from instrument.codemods.core.options import Options

    with pytest.raises(InstrumentError):
        Options(service="ssh", ssh_public_key="ssh-ed25519 AAAA'); import os #")


def test_standalone_submitted_job_keeps_reuse_settings():
    source = SCRIPT + "from azure.ai.ml import MLClient\n" + f"job = {JOB}\n\ndef submit():\n    MLClient.from_config().jobs.create_or_update(job)\n"
    text, scope = added(source)
    assert "is_deterministic" not in text
    assert scope["job"].command.endswith("--remote_debug_port 5678")


def test_component_of_a_pipeline_kept_elsewhere_is_not_deterministic():
    source = SCRIPT + f"train = {JOB}\n"
    text, scope = added(source)
    assert scope["train"].component.is_deterministic is False


def test_settings_of_a_pipeline_job_built_from_pipeline_job_class():
    source = (
        "from azure.ai.ml.entities import PipelineJob\nfrom azure.ai.ml import command\n"
        "job = PipelineJob(jobs={'train': command(code='.', command='python t.py', environment='azureml:e@latest')})\n"
    )
    text, scope = added(source, steps=("train",))
    assert scope["job"].settings.force_rerun is True
    assert scope["job"].jobs["train"].command == "python t.py --remote_debug --remote_debug_connection_timeout 300 --remote_debug_port 5678"


def test_options_that_do_not_apply_are_reported():
    outcome = process_bytes(Job(ADD, options=add_options(host="127.0.0.1", given=frozenset({"host"}))), (SCRIPT + f"job = {JOB}\n").encode(), "submit.py")
    assert outcome.warnings == () and outcome.applied == frozenset()  # the run says it, once, at its end


FLAGS = "--remote_debug --remote_debug_connection_timeout 300 --remote_debug_port 5678"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("'python t.py --remote_debug --remote_debug_port 5679 --lr 1'", f"python t.py --lr 1 {FLAGS}", id="middle"),
        pytest.param("'python t.py --lr 1 --remote_debug --remote_debug_connection_timeout=60'", f"python t.py --lr 1 {FLAGS}", id="end"),
        pytest.param("('python t.py --lr 1 '\n '--remote_debug && echo ok')", f"python t.py --lr 1 {FLAGS}  && echo ok", id="own_literal"),
        pytest.param("f'python t.py --n {n} --remote_debug_port 1234'", f"python t.py --n 2 {FLAGS}", id="fstring"),
        pytest.param("f'python -m debugpy --listen 0.0.0.0:{n} --wait-for-client t.py --lr 1'", f"python t.py --lr 1 {FLAGS}",
                     id="launcher-fstring-port"),
        pytest.param("f'python t.py --lr 1 --remote_debug_port {n}'", f"python t.py --lr 1 {FLAGS}", id="fstring-value"),
        pytest.param("'python t.py $[[--remote_debug_port ${{inputs.p}}]] --lr 1'", f"python t.py --lr 1 {FLAGS}",
                     id="optional-group"),
    ],
)
def test_take_over_replaces_hand_written_flags(command, expected):
    source = SCRIPT + f"n = 2\njob = command(code='.', command={command}, environment='azureml:e@latest')\n"
    refused = process_bytes(Job(ADD), source.encode(), "submit.py")
    assert not refused.changed and any("--take-over removes them" in note for note in refused.notes)
    text, scope = added(source, take_over=True)
    assert scope["job"].command == expected


def test_take_over_of_flags_spread_over_expressions_is_refused_with_a_note():
    source = SCRIPT + "port = '5679'\njob = command(code='.', command='python t.py --remote_debug_port ' + port, environment='e')\n"
    outcome = process_bytes(Job(ADD, options=add_options(take_over=True)), source.encode(), "submit.py")
    assert not outcome.changed and any("spread over expressions" in note for note in outcome.notes)


def test_a_command_set_again_after_the_job_is_built_gets_no_flags_and_a_note():
    source = (SCRIPT + "job = command(code='.', command='python t.py', environment='azureml:e@1')\n"
              "job.command = 'python other.py --x 1'\n")
    outcome = process_bytes(Job(ADD), source.encode(), "submit.py")
    assert not outcome.changed
    assert any("job.command is set again at line" in note and "replaces this command" in note
               for note in outcome.notes)
