"""Debuggers started from command lines: ``python -m debugpy --listen`` run by
``subprocess``/``os.system``, and Azure ML job definitions in YAML whose
``command:`` starts a debugger or passes ``--remote_debug``, or whose
``environment_variables:`` set ``AZUREML_DEBUG_PORT``.

Commands are read as the shell would split them (:func:`shlex.split`), so a
mention in a comment, an ``echo`` or a help text outside these keys and calls
is not a finding, and ``python -m debugpy`` in any spelling of its arguments
(a string, a list, ``-mdebugpy``) is.
"""

from __future__ import annotations

import shlex
from typing import Any, Iterator, Optional, Sequence

#: Modules that, run with ``python -m``, make the process reachable by a debugger.
DEBUGGER_MODULES = ("debugpy", "ptvsd")
#: The job flag of the instrument recipe: a job passing it waits for a debugger.
REMOTE_DEBUG_FLAG = "--remote_debug"
#: azmlinfsrv connects every worker to a debugger when this is set.
DEBUG_PORT_VARIABLE = "AZUREML_DEBUG_PORT"
_DEBUGGER_FLAGS = ("--listen", "--connect", "--wait-for-client", "--host", "--port")


def tokens(command: str) -> list[str]:
    """``command`` split as a POSIX shell would (tolerant of unbalanced quotes)."""
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


def debugger_command(words: Sequence[str]) -> Optional[str]:
    """``python -m debugpy --listen`` (as written) if the words run a debugger module, else None."""
    for index, word in enumerate(words):
        module = None
        if word == "-m" and index + 1 < len(words):
            module = words[index + 1]
        elif word.startswith("-m") and len(word) > 2 and not word.startswith("--"):
            module = word[2:]
        if module is not None and module.split(".", 1)[0] in DEBUGGER_MODULES:
            flag = next((w.split("=", 1)[0] for w in words[index:] if w.split("=", 1)[0] in _DEBUGGER_FLAGS), "")
            return f"python -m {module}" + (f" {flag}" if flag else "")
    return None


def remote_debug_flag(words: Sequence[str]) -> bool:
    # An optional group ``$[[--remote_debug ...]]`` splits into words too; its first keeps the ``$[[``.
    words = [word[3:] if word.startswith("$[[") else word for word in words]
    return any(word == REMOTE_DEBUG_FLAG or word.startswith(REMOTE_DEBUG_FLAG + "=") for word in words)


def command_message(words: Sequence[str]) -> Optional[str]:
    """Why a command that runs in a job must not ship, or None."""
    started = debugger_command(words)
    if started is not None:
        return f"`{started}` starts a debugger"
    if remote_debug_flag(words):
        return f"`{REMOTE_DEBUG_FLAG}` in a job command starts the script in debug mode"
    return None


def yaml_findings(document: Any) -> Iterator[tuple[int, int, str, str]]:
    """(0-based line, 0-based column, message, text to find on the line) for a
    loaded (round-trip) YAML document: every ``command:`` (a job, a component,
    a pipeline's jobs) and every ``environment_variables:``, at any depth."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, CommentedMap):
            for key, value in node.items():
                if key == "command" and isinstance(value, str):
                    message = command_message(tokens(value))
                    if message is not None:
                        line, col = node.lc.value(key)
                        needle = "debugpy" if "debugpy" in message else "ptvsd" if "ptvsd" in message else REMOTE_DEBUG_FLAG
                        yield line, col, f"command: {message}", needle
                elif key == "environment_variables" and isinstance(value, CommentedMap) and DEBUG_PORT_VARIABLE in value:
                    line, col = value.lc.key(DEBUG_PORT_VARIABLE)
                    yield line, col, f"{DEBUG_PORT_VARIABLE} makes the inference server connect to a debugger", ""
                if isinstance(value, (CommentedMap, CommentedSeq)):
                    stack.append(value)
        elif isinstance(node, CommentedSeq):
            stack.extend(item for item in node if isinstance(item, (CommentedMap, CommentedSeq)))
