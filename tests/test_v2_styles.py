"""Every way YAML can spell a command: the flags land where they should, as PyYAML reads it.

azure-ai-ml reads job files with PyYAML (``yaml.safe_load``); the kinds find
positions with ruamel.yaml. Each command of the table is written in each style
(plain, folded one line, folded word per line, literal, single and double
quoted, CRLF), instrumented, read back with PyYAML and compared with
:func:`v2_commands.add_flags` of what PyYAML read before.
"""

from __future__ import annotations

import json

import pytest
import yaml

from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.core.options import Options
from instrument.process import ADD, STRIP, Job, add_options, process_bytes
from tests.fixture_cases import transformed

HEAD = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncode: src\n"
TAIL = "environment: azureml:AzureML-sklearn-1.5@latest\ncompute: azureml:cpu-cluster\n"

COMMANDS = [
    "python train.py",
    "python train.py --data ${{inputs.data}} --lr 0.1",
    "python train.py $[[--b ${{inputs.b}}]] && echo done",
    "pip install -r requirements.txt && python -m pkg.train --x 1 > log.txt 2>&1",
    "python train.py --msg 'a && b' | tee out.log",
    'python train.py --name "run #1" --tag a#b',
    "torchrun --nproc_per_node 2 train.py --epochs ${{inputs.epochs}}",
    "cd src; python3 -u main.py --out ${{outputs.model}}",
    "python train.py --path C:\\\\data --q \"it's\"",
]


def plain(command):
    return f"command: {command}\n"


def folded_one_line(command):
    return f"command: >-\n  {command}\n"


def folded_words(command):
    return "command: >-\n" + "".join(f"  {word}\n" for word in command.split(" "))


def literal(command):
    return f"command: |\n  {command}\n"


def single_quoted(command):
    return "command: '" + command.replace("'", "''") + "'\n"


def double_quoted(command):
    return "command: " + json.dumps(command) + "\n"


STYLES = [plain, folded_one_line, folded_words, literal, single_quoted, double_quoted]


def documents():
    """(id, YAML text) for each command in each style that spells it faithfully."""
    for style in STYLES:
        for index, command in enumerate(COMMANDS):
            text = HEAD + style(command) + TAIL
            try:
                read = yaml.safe_load(text)["command"]
            except yaml.YAMLError:
                continue  # not every command can be written in every style (a plain ': ')
            if read.rstrip("\n") == command:
                yield pytest.param(text, id=f"{style.__name__}-{index}")
                yield pytest.param(text.replace("\n", "\r\n"), id=f"{style.__name__}-{index}-crlf")


DOCUMENTS = list(documents())


def test_most_pairs_are_spellable():
    assert len(DOCUMENTS) >= 2 * len(COMMANDS) * (len(STYLES) - 1)


@pytest.mark.parametrize("text", DOCUMENTS)
def test_flags_land_after_the_entry_as_pyyaml_reads_it(text):
    before = yaml.safe_load(text)["command"]
    outcome = process_bytes(Job(ADD, options=add_options(port=5679)), text.encode(), "job.yml")
    assert outcome.error is None and outcome.changed
    after = yaml.safe_load(outcome.output.decode())["command"]
    expected = v2_commands.add_flags(before, Options(port=5679))
    assert after.rstrip("\n") == expected.rstrip("\n")
    assert transformed(Job(STRIP), outcome.output, "job.yml") == text.encode()
    assert transformed(Job(ADD, options=add_options(port=5679)), outcome.output, "job.yml") == outcome.output
