"""``add --take-over`` on Azure ML v2 commands: hand-written debug arguments go for good.

Every take-over case of the v2 kinds (a ``stripped.*`` file beside before/after)
is checked from both ends: ``strip(add(before))`` is ``stripped``, in which
``instrument check`` finds nothing; ``add`` of ``stripped`` without
``--take-over`` gives the same ``after`` (the block holds nothing but the usual
flags); without ``--take-over`` the file is refused (YAML) or left alone with a
note (Python), both naming ``--take-over``.
"""

from __future__ import annotations

import pytest

from instrument.codemods.check import findings as check
from instrument.codemods.v2 import take_over as v2_take_over
from instrument.codemods.core.errors import InstrumentError
from instrument.process import ADD, STRIP, Job, add_options, process_bytes
from tests.fixture_cases import load_cases, transformed
from tests.test_v2_yaml import azure_load, holders

KINDS = ("job", "component", "pipeline_job", "sdk_job")
CASES = [pytest.param(kind, p.values[0], id=f"{kind}-{p.id}")
         for kind in KINDS for p in load_cases(kind) if p.values[0].stripped is not None]


def name_of(kind: str, case) -> str:
    return ("submit" if kind == "sdk_job" else "job") + case.suffix


def add(case, data: bytes, kind: str, take_over: bool = True) -> bytes:
    options = dict(case.meta.get("options", {}), take_over=take_over)
    return transformed(Job(ADD, kind=kind, options=add_options(**options)), data, name_of(kind, case))


def findings(case, data: bytes) -> list:
    text = data.decode("utf-8")
    return check.check_python(text) if case.suffix == ".py" else check.check_yaml(text)


def only_deletions(original: bytes, stripped: bytes) -> bool:
    """Is ``stripped`` ``original`` with some bytes cut out (every other byte as it was, in order)?"""
    rest = iter(original)
    return stripped != original and all(byte in rest for byte in stripped)


def test_only_deletions():
    assert only_deletions(b"python -m debugpy t.py", b"python t.py")
    assert not only_deletions(b"python t.py", b"python  t.py") and not only_deletions(b"a", b"a")


def test_every_v2_kind_has_a_take_over_case():
    assert {kind for kind, *_ in (p.values for p in CASES)} == set(KINDS)


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_strip_after_add_leaves_no_debug_code(kind, case):
    after = add(case, case.before, kind)
    assert after == case.after
    stripped = transformed(Job(STRIP), after, name_of(kind, case))
    assert stripped == case.stripped
    assert findings(case, case.before)  # the hand-written debugging was there
    assert findings(case, stripped) == []
    assert only_deletions(case.before, stripped)


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_add_is_idempotent_and_after_is_add_of_stripped(kind, case):
    assert add(case, case.after, kind) == case.after
    assert add(case, case.stripped, kind, take_over=False) == case.after


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_without_take_over_the_file_is_left_as_it_is_and_the_message_names_take_over(kind, case):
    options = dict(case.meta.get("options", {}), take_over=False)
    outcome = process_bytes(Job(ADD, kind=kind, options=add_options(**options)), case.before, name_of(kind, case))
    if kind == "sdk_job":
        assert outcome.error is None and not outcome.changed and outcome.output == case.before
        assert any("--take-over" in note for note in outcome.notes)
    else:
        assert outcome.output is None and "\n" not in outcome.error and "--take-over" in outcome.error


@pytest.mark.parametrize(("kind", "case"), [p for p in CASES if p.values[0] != "sdk_job"])
def test_stripped_yaml_loads_with_azure_ai_ml_with_commands_free_of_debug_arguments(kind, case):
    before = dict(holders(azure_load(case.folder / "before.yml")))
    stripped = dict(holders(azure_load(case.folder / "stripped.yml")))
    assert stripped.keys() == before.keys()
    for name, holder in stripped.items():
        old = before[name].command
        kept = v2_take_over.blanked(old, v2_take_over.hand_written(old))
        assert v2_take_over.shell_words(holder.command) == v2_take_over.shell_words(kept)
        assert v2_take_over.hand_written(holder.command) == []
        assert "remote_debug" not in holder.command and "debugpy" not in holder.command


@pytest.mark.parametrize(
    ("command", "taken"),
    [
        pytest.param("python t.py --remote_debug --remote_debug_port 5 --lr 1", ["--remote_debug --remote_debug_port 5"],
                     id="one-run"),
        pytest.param("python -m debugpy --listen 5678 --wait-for-client t.py --lr 1",
                     ["-m debugpy --listen 5678 --wait-for-client"], id="launcher"),
        pytest.param("python3 -u -mdebugpy --listen=0.0.0.0:5678 --log-to /tmp/l -m pkg.train",
                     ["-mdebugpy --listen=0.0.0.0:5678 --log-to /tmp/l"], id="launcher-module"),
        pytest.param("python -m debugpy --listen 5678 --configure-subProcess false t.py",
                     ["-m debugpy --listen 5678 --configure-subProcess false"], id="launcher-configure"),
        pytest.param("python t.py $[[--remote_debug_port ${{inputs.port}}]] $[[--lr ${{inputs.lr}}]]",
                     ["$[[--remote_debug_port ${{inputs.port}}]]"], id="optional-group"),
        pytest.param("cd src && python t.py --lr 1 --remote_debug\necho --remote-debug-port 1",
                     ["--remote_debug", "--remote-debug-port 1"], id="two-commands"),
    ],
)
def test_hand_written_debug_arguments(command, taken):
    assert [command[start:end] for start, end in v2_take_over.hand_written(command)] == taken


@pytest.mark.parametrize(
    "command",
    [
        "python t.py --lr 1",
        "python -m debugpy --listen 5678 --pid 42",  # attaches to a process: no entry to keep
        "python -m debugpy",
        "python -c 'import debugpy' && python t.py",
        "python t.py $[[--epochs ${{inputs.e}}]]",
        "python t.py --note='--remote_debug'",
    ],
)
def test_commands_without_hand_written_debug_arguments(command):
    assert v2_take_over.hand_written(command) == []


def test_an_optional_group_that_mixes_debug_flags_with_other_arguments_is_refused():
    with pytest.raises(InstrumentError, match=r"optional group .* by hand"):
        v2_take_over.hand_written("python t.py $[[--remote_debug_port ${{inputs.p}} --lr 1]]")
    text = ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "command: python t.py $[[--remote_debug_port ${{inputs.p}} --lr 1]]\nenvironment: azureml:e@1\n")
    outcome = process_bytes(Job(ADD, options=add_options(take_over=True)), text.encode(), "job.yml")
    assert outcome.output is None and "line 2" in outcome.error and "optional group" in outcome.error


YAML_HEAD = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\nenvironment: azureml:e@1\ncode: .\n"


@pytest.mark.parametrize(
    ("command", "stripped"),
    [
        pytest.param("command: python t.py --remote_debug_port 5 --lr 1\n", "command: python t.py --lr 1\n",
                     id="plain-middle"),
        pytest.param("command: >-\n  python t.py\n  --remote_debug\n  --lr 1\n", "command: >-\n  python t.py\n  --lr 1\n",
                     id="folded-own-line"),
        pytest.param("command: >-\n  python t.py\n  --remote_debug --lr 1\n", "command: >-\n  python t.py\n  --lr 1\n",
                     id="folded-line-start"),
        pytest.param("command: 'python -m debugpy --listen 5678 t.py'\r\n", "command: 'python t.py'\r\n",
                     id="single-quoted-crlf"),
        pytest.param("command: |\n  python t.py \\\n    --remote_debug \\\n    --lr 1\n",
                     "command: |\n  python t.py \\\n    --lr 1\n", id="literal-continued"),
        pytest.param("command: |\n  python t.py --lr 1 \\\n    --remote_debug\n  echo ok\n",
                     "command: |\n  python t.py --lr 1\n  echo ok\n", id="literal-last-continued"),
        pytest.param('command: "python t.py \\\n  --remote_debug_port 5\\\n  \\ --lr 1"\n',
                     'command: "python t.py \\\n  \\ --lr 1"\n', id="double-quoted-escapes"),
    ],
)
def test_yaml_cuts_only_the_hand_written_words(command, stripped):
    after = add_yaml(YAML_HEAD + command)
    assert transformed(Job(STRIP), after, "job.yml").decode() == YAML_HEAD + stripped


def add_yaml(text: str) -> bytes:
    return transformed(Job(ADD, options=add_options(take_over=True)), text.encode(), "job.yml")


def test_an_anchored_command_is_cut_once_for_every_node_that_uses_it():
    text = ("$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\ntype: pipeline\njobs:\n"
            "  a:\n    code: .\n    command: &cmd python train.py --remote_debug --lr 1\n    environment: azureml:e@1\n"
            "  b:\n    code: .\n    command: *cmd\n    environment: azureml:e@1\n")
    after = transformed(Job(ADD, options=add_options(take_over=True)), text.encode(), "job.yml")
    stripped = transformed(Job(STRIP), after, "job.yml").decode()
    assert stripped == text.replace(" --remote_debug --lr 1", " --lr 1")
    assert transformed(Job(ADD), stripped.encode(), "job.yml") == after


def test_a_command_it_cannot_cut_safely_is_refused_with_its_line():
    # a more-indented line keeps its line break in a folded block: cutting it would join two commands
    data = (YAML_HEAD + "command: >-\n  python t.py\n    --remote_debug\n  --lr 1\n").encode()
    outcome = process_bytes(Job(ADD, options=add_options(take_over=True)), data, "job.yml")
    assert outcome.output is None and "job.yml: line 4: cannot take" in outcome.error


TAKEN_COMMANDS = [
    "python -m debugpy --listen 0.0.0.0:5678 --wait-for-client train.py --lr 0.1",
    "python train.py --remote_debug --remote_debug_port 5679 --data ${{inputs.data}}",
    "python train.py $[[--remote_debug_port ${{inputs.p}}]] $[[--b ${{inputs.b}}]] && echo done",
    "cd src; python3 -u -m debugpy --listen 5678 main.py --remote_debug_connection_timeout 60 > log.txt 2>&1",
    "python train.py --msg 'a && b' --remote-debug-port=5 | tee out.log",
]


def styled_documents():
    """Each hand-written command in each YAML style (and CRLF) that spells it faithfully."""
    import yaml

    from tests.test_v2_styles import HEAD, STYLES, TAIL

    for style in STYLES:
        for index, command in enumerate(TAKEN_COMMANDS):
            text = HEAD + style(command) + TAIL
            try:
                read = yaml.safe_load(text)["command"]
            except yaml.YAMLError:
                continue
            if read.rstrip("\n") == command:
                yield pytest.param(text, id=f"{style.__name__}-{index}")
                yield pytest.param(text.replace("\n", "\r\n"), id=f"{style.__name__}-{index}-crlf")


STYLED = list(styled_documents())


def test_most_styled_pairs_are_spellable():
    assert len(STYLED) >= 2 * len(TAKEN_COMMANDS) * 4


@pytest.mark.parametrize("text", STYLED)
def test_every_style_loses_exactly_the_hand_written_words(text):
    """As PyYAML (azure-ai-ml's reader) reads it: the stripped command is the old one without those words."""
    import yaml

    before = yaml.safe_load(text)["command"]
    after = transformed(Job(ADD, options=add_options(take_over=True)), text.encode(), "job.yml")
    stripped = transformed(Job(STRIP), after, "job.yml")
    command = yaml.safe_load(stripped.decode())["command"]
    kept = v2_take_over.blanked(before, v2_take_over.hand_written(before))
    assert v2_take_over.shell_words(command) == v2_take_over.shell_words(kept)
    assert v2_take_over.hand_written(command) == [] and "debugpy" not in command
    assert only_deletions(text.encode(), stripped)
    assert transformed(Job(ADD), stripped, "job.yml") == after
    assert transformed(Job(ADD, options=add_options(take_over=True)), after, "job.yml") == after
