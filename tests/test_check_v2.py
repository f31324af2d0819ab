"""`check` on azure-ai-ml submission scripts: a job command that starts a debugger
or passes --remote_debug is a finding outside instrument's blocks, never inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from instrument.codemods.check import findings as check

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdk_job"

FOUND = [
    pytest.param(
        'from azure.ai.ml import command\njob = command(command="python -m debugpy --listen 5678 --wait-for-client t.py")\n',
        "`python -m debugpy --listen` starts a debugger", id="debugpy-module"),
    pytest.param(
        'from azure.ai.ml import command as cmd\njob = cmd(command="python t.py " + "--remote_debug")\n',
        "`--remote_debug` in a job command", id="alias-concatenation"),
    pytest.param(
        'import azure.ai.ml as aml\nn = 1\njob = aml.command(command=f"python t.py --n {n} --remote_debug")\n',
        "`--remote_debug` in a job command", id="f-string"),
    pytest.param(
        'from azure.ai.ml.entities import CommandComponent\nc = CommandComponent(command="python -mdebugpy t.py")\n',
        "starts a debugger", id="component"),
]


@pytest.mark.parametrize(("source", "message"), FOUND)
def test_debug_commands_in_job_definitions_are_found(source, message):
    [finding] = check.check_python(source)
    assert message in finding.message and finding.line == source.count("\n")


@pytest.mark.parametrize(
    "source",
    [
        'from azure.ai.ml import command\njob = command(command="python train.py --remote-debugging-off")\n',
        'def command(command):\n    pass\njob = command(command="python t.py --remote_debug")\n',
        'from azure.ai.ml import command\njob = command(command="python t.py  # --remote_debug")\n',
    ],
    ids=["other-flag", "not-azure-ai-ml", "shell-comment"],
)
def test_other_commands_are_not(source):
    assert check.check_python(source) == []


@pytest.mark.parametrize("case", sorted(p.name for p in FIXTURES.iterdir() if (p / "after.py").exists()))
def test_instrumented_submission_scripts_report_only_their_blocks(case):
    after = (FIXTURES / case / "after.py").read_text(encoding="utf-8")
    before = (FIXTURES / case / "before.py").read_text(encoding="utf-8")
    assert all(f.message.startswith("instrument block") for f in check.check_python(after))
    assert check.check_python(after)
    # a take-over case (stripped.py beside it) starts with hand-written debug arguments
    assert (check.check_python(before) == []) != (FIXTURES / case / "stripped.py").exists()
