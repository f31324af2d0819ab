"""Debuggers started from command lines, for ``instrument check``.

A command line reaches a debugger by running one (``python -m debugpy
--listen``, the ``debugpy`` console script), by running code that starts one
(``python -c "import debugpy; ..."``, ``bash -c "..."``, ``$(...)``), by
passing the instrument recipe's ``--remote_debug`` flag to a job's script, or
by exporting a variable that makes a server or ``breakpoint()`` reach one
(``AZUREML_DEBUG_PORT``, ``PYTHONBREAKPOINT=remote_pdb.set_trace``).

Commands are read as bash reads them (:mod:`shell_tokens`: quotes removed,
control operators, redirects, comments), one simple command at a time, so a
mention in a comment, an ``echo`` or a ``pip install debugpy`` is not a
finding. Code given to ``-c`` is checked as Python (by the reader the
caller passes, :data:`PythonCode`) and as a shell command when the program
is a shell or not known.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Callable, Iterator, Optional, Sequence

from instrument.codemods.shell.shell_tokens import COMMENT, OPERATOR, REDIRECT, tokenize

#: What reads the Python code a command gives a Python (``python -c CODE``): the (qualified
#: name, message) of each finding in it. The caller passes it (:func:`instrument.codemods.check.
#: findings.code_pairs`): Python code may run commands in turn, and this module stays below.
PythonCode = Callable[[str], list[tuple[str, str]]]

#: Modules that, run with ``python -m``, make the process reachable by a debugger.
DEBUGGER_MODULES = ("debugpy", "ptvsd", "pydevd", "pydevd_pycharm", "remote_pdb", "web_pdb", "madbg")
#: Console scripts that start a debug listener (debugpy 1.8 installs ``bin/debugpy``).
DEBUGGER_SCRIPTS = frozenset({"debugpy", "madbg", "pydevd"})
#: Modules whose functions make ``breakpoint()`` listen on the network when PYTHONBREAKPOINT names them.
NETWORK_DEBUGGERS = DEBUGGER_MODULES
#: The job flag of the instrument recipe: a job passing it waits for a debugger.
REMOTE_DEBUG_FLAG = "--remote_debug"
#: azmlinfsrv connects every worker to a debugger when this is set.
DEBUG_PORT_VARIABLE = "AZUREML_DEBUG_PORT"
BREAKPOINT_VARIABLE = "PYTHONBREAKPOINT"
_DEBUGGER_FLAGS = ("--listen", "--connect", "--wait-for-client", "--host", "--port", "--pid")
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "busybox"})
#: Programs that run the command given after their own options.
_WRAPPERS = frozenset({"env", "exec", "nohup", "sudo", "time", "nice", "command", "builtin", "stdbuf", "timeout",
                       "setsid", "ionice", "taskset", "xargs", "eval", "then", "do", "else", "!", "{", "("})
#: Programs that only print or search their arguments.
_PRINTERS = frozenset({"echo", "printf", "grep", "egrep", "fgrep", "logger", ":", "true", "test", "["})
_PYTHON_RE = re.compile(r"(?:python|pypy|pythonw)[\d.]*(?:\.exe)?$|py$")
_ASSIGNMENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_MAX_DEPTH = 8


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


def variable_message(name: str, value: Optional[str]) -> Optional[str]:
    """Why exporting ``name`` (with ``value``, None: not known) must not ship, or None."""
    if name == DEBUG_PORT_VARIABLE:
        return f"{DEBUG_PORT_VARIABLE} makes the inference server connect to a debugger"
    if name == BREAKPOINT_VARIABLE and value is not None:
        target = value.strip().rsplit(".", 1)[0]
        if any(target == m or target.startswith(m + ".") for m in NETWORK_DEBUGGERS):
            return f"{BREAKPOINT_VARIABLE}={value.strip()} makes breakpoint() open a network debugger"
    return None


def _program(words: Sequence[str]) -> int:
    """The index of the word naming the program a simple command runs (after assignments and wrappers)."""
    index = 0
    while index < len(words):
        word = words[index]
        if _ASSIGNMENT_RE.match(word) or word.startswith("-") or word.isdigit():
            index += 1
        elif posixpath.basename(word) in _WRAPPERS:
            index += 1
        else:
            return index
    return len(words)


def _opened_groups(words: Sequence[str]) -> list[str]:
    """The words with each optional group ``$[[--flag ${{inputs.x}}]]`` (one word) opened into its words."""
    opened: list[str] = []
    for word in words:
        if word.startswith("$[[") and word.endswith("]]"):
            opened += tokens(word[3:-2])
        else:
            opened.append(word)
    return opened


def argv_findings(words: Sequence[str], *, python: PythonCode, depth: int = 0) -> list[str]:
    """Why one program's argument vector (an exec form, a simple command's words) must not ship."""
    found: list[str] = []
    if any(word.startswith("$[[") for word in words):
        words = _opened_groups(words)
    for word in words[: _program(words)]:
        name, equals, value = word.partition("=")
        message = variable_message(name, value) if equals and _ASSIGNMENT_RE.match(word) else None
        if message:
            found.append(message)
    for word in words:  # $(...) and `...` inside a word run commands too
        for inner in re.findall(r"\$\((.*)\)|`([^`]*)`", word, re.DOTALL):
            found += shell_findings(inner[0] or inner[1], python=python, depth=depth + 1)
    program = _program(words)
    if program < len(words) and posixpath.basename(words[program]) in _PRINTERS:
        return found  # ``echo python -m debugpy``: a mention
    started = debugger_command(words)
    if started is not None:
        found.append(f"`{started}` starts a debugger")
    for index, word in enumerate(words if started is None else ()):
        if posixpath.basename(word) in DEBUGGER_SCRIPTS and (
            index == program or (index + 1 < len(words) and words[index + 1].split("=", 1)[0] in _DEBUGGER_FLAGS)
        ):
            found.append(f"`{posixpath.basename(word)}` (the console script) starts a debugger")
            break
    if remote_debug_flag(words):
        found.append(f"`{REMOTE_DEBUG_FLAG}` in a job command starts the script in debug mode")
    if depth < _MAX_DEPTH and program < len(words):
        found += _code_findings(words, program, depth, python)
    return found


def _code_findings(words: Sequence[str], program: int, depth: int, python_code: PythonCode) -> list[str]:
    """Findings in the code a program is given with ``-c`` (a shell's or Python's)."""
    name = posixpath.basename(words[program])
    shell = name in _SHELLS
    python = bool(_PYTHON_RE.match(name))
    for index in range(program + 1, len(words)):
        word = words[index]
        if word == "--" or not word.startswith("-") or word.startswith("--"):
            if not python and not shell:
                continue  # a launcher's own arguments (torchrun script.py ...): keep looking
            break
        code = None
        if re.fullmatch(r"-[a-zA-Z]*c", word) and index + 1 < len(words):
            code = words[index + 1]
        elif word.startswith("-c") and len(word) > 2 and not shell:
            code = word[2:]
        if code is None:
            continue
        found = [] if python else [f"`{name} -c`: {m}" for m in shell_findings(code, python=python_code,
                                                                                 depth=depth + 1)]
        if not shell:
            found += [f"`{name} -c` code: {message}" for _, message in python_code(code)]
        return found
    return []


def simple_commands(command: str) -> Iterator[tuple[int, list[str]]]:
    """(offset, words) of each simple command of a shell text, redirects and comments left out."""
    words: list[str] = []
    start = 0
    skip = False
    for token in tokenize(command):
        if token.kind == COMMENT:
            continue
        if token.kind == OPERATOR:
            if words:
                yield start, words
            words, skip = [], False
        elif token.kind == REDIRECT:
            skip = True  # its target is a file name, not an argument
        elif skip:
            skip = False
        else:
            if not words:
                start = token.start
            words.append(token.value)
    if words:
        yield start, words


def located_shell_findings(command: str, *, python: PythonCode, depth: int = 0) -> list[tuple[int, str]]:
    """(offset of the simple command, message) for each reason a shell text must not ship."""
    if depth > _MAX_DEPTH:
        return []
    found: list[tuple[int, str]] = []
    for start, words in simple_commands(command):
        if words[0] in ("export", "declare", "typeset", "readonly", "local"):
            messages = [m for w in words[1:] if not w.startswith("-") and (m := _assignment_message(w))]
        else:
            messages = argv_findings(words, python=python, depth=depth)
        found += [(start, message) for message in dict.fromkeys(messages)]
    return found


def shell_findings(command: str, *, python: PythonCode, depth: int = 0) -> list[str]:
    """Why a shell text (a job's command, a script, a RUN) must not ship: one message per reason."""
    return [message for _, message in located_shell_findings(command, python=python, depth=depth)]


def _assignment_message(word: str) -> Optional[str]:
    name, equals, value = word.partition("=")
    return variable_message(name, value if equals else None) if _ASSIGNMENT_RE.match(word) or not equals else None
