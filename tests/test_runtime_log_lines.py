"""The log lines: printed by the runtime code, read back by ``instrument launch --from-log``."""

from __future__ import annotations

import sys

import pytest

from instrument.codemods.helper import templates
from instrument.codemods.core.options import Options
from instrument.codemods.runtime import log_lines, remote_debug, render
from instrument.driver_log import LINE_RULES, Node, read_nodes

TEMPLATES = [
    (log_lines.TIMEOUT_LINE, {"seconds": "300"}),
    (log_lines.ADDRESS_LINE, {"address": "10.3.0.5"}),
    (log_lines.LISTENING_LINE, {"address": "fd00::5", "port": "5679"}),
    (log_lines.RANK_LINE, {"rank": "3", "local_rank": "1", "address": "10.3.0.5", "port": "5679"}),
    (log_lines.CLIENT_RANK_LINE, {"rank": "3", "local_rank": "1", "client": "10.0.0.9", "port": "5681"}),
    (log_lines.ATTACHED_LINE, {"verdict": "True"}),
]


@pytest.mark.parametrize(("template", "values"), TEMPLATES)
def test_a_printed_line_is_read_back_with_its_values(template, values):
    line = "2026-11-29 12:00:00 | " + template.format(**values) + "  "
    match = log_lines.pattern(template).search(line)
    assert match is not None and match.groupdict() == values


@pytest.mark.parametrize(
    "line",
    ["Timeout for debug connection: soon", "ip_address: 10.3.0.5 and more", "Remote debugging: listening on 10.3.0.5"],
)
def test_other_lines_are_not_read(line):
    assert not any(pattern.search(line) for pattern, _ in LINE_RULES)


def test_the_log_reader_uses_the_templates():
    patterns = {pattern.pattern for pattern, _ in LINE_RULES}
    for template in (log_lines.TIMEOUT_LINE, log_lines.LISTENING_LINE, log_lines.RANK_LINE):
        assert log_lines.pattern(template).pattern in patterns


def test_the_rendered_helper_prints_with_the_templates():
    source = "\n".join(templates.helper_lines("_h", Options(), "    "))
    for template, _ in TEMPLATES:
        assert render.string_literal(template) + ".format(" in source
    score = "\n".join(templates.score_lines("_h", Options(), "    "))
    assert render.string_literal(log_lines.LISTENING_LINE) + ".format(" in score


@pytest.fixture
def helper(monkeypatch):
    """The runtime helper itself, fresh for each test, in a process without debugpy."""
    function = remote_debug._instrument_remote_debug
    vars(function).pop("started", None)
    monkeypatch.setitem(sys.modules, "debugpy", None)  # import debugpy raises ImportError
    for variable in remote_debug.LOCAL_RANK_VARIABLES + remote_debug.RANK_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    yield function
    vars(function).pop("started", None)


def test_what_the_helper_prints_is_what_the_log_reader_reads(helper, monkeypatch, capsys):
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(sys, "argv", ["train.py", "--remote_debug", "--remote_debug_connection_timeout", "7"])
    helper(run=object())
    out = capsys.readouterr().out
    assert "Debugger attached = False" in out
    [node] = read_nodes(out)
    assert node.timeout == 7 and node.attached is False
    assert node.address == out.split("ip_address: ")[1].split()[0]
    assert isinstance(node, Node)
