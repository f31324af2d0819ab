"""Where the ``--remote_debug*`` flags go in an Azure ML v2 job's shell command.

A v2 command job (YAML ``command:``, or ``command(command=...)`` in Python)
runs its command with bash in the code folder, after azure-ai-ml substitutes
``${{inputs.x}}`` and drops or keeps each optional group ``$[[ ... ]]``. The
flags belong at the end of the simple command that runs the Python entry
script (``python train.py ...``, ``python -m pkg.train``, through
``torchrun``/``accelerate launch``/``deepspeed``/``mpirun``), after its own
arguments and optional groups, before any ``&&``, ``|``, ``;``, redirect or
newline that follows it.

The command is read with a small linear scanner (no regular expression runs
over user text with backtracking): words with their quoting, control
operators, redirects with their targets, comments. Placeholders and optional
groups are word text; an optional group is one word, so nothing is ever put
inside one.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import Any, Optional

from instrument.codemods.kinds.base import Companion
from instrument.codemods.core.options import Options, validate_host, validate_port, validate_ranks, validate_timeout
# Re-exported: callers read commands through this module.
from instrument.codemods.shell.shell_tokens import COMMENT, OPERATOR, REDIRECT, WORD, Token, tokenize  # noqa: F401


#: Loopback: with an interactive service VS Code reaches the script through
#: Azure ML's tunnel, so the script listens on the node's loopback only.
SERVICE_HOST = "127.0.0.1"

#: ``python -m`` modules that are tools, not an entry script.
TOOL_MODULES = frozenset(
    {"pip", "venv", "ensurepip", "pytest", "site", "compileall", "py_compile", "http.server", "json.tool",
     "pip._internal", "conda", "virtualenv", "build", "twine", "unittest", "timeit", "ipykernel", "jupyter",
     "spacy", "nltk.downloader", "debugpy"}
)
#: Launchers that run a Python script given later on their command line.
LAUNCHERS = frozenset({"torchrun", "deepspeed", "horovodrun"})
#: Commands that run the rest of their command line (``nohup python x.py``).
PREFIX_COMMANDS = frozenset({"env", "time", "nohup", "exec", "command", "stdbuf", "nice", "ionice"})
#: Script files that are never an entry (``python setup.py install``).
NOT_ENTRY_SCRIPTS = frozenset({"setup.py", "get-pip.py"})
#: Interpreter options that take a value as the next word.
_PYTHON_OPTIONS_WITH_VALUE = frozenset({"-W", "-X", "--check-hash-based-pycs"})

_INTERPRETER_RE = re.compile(r"python(?:[0-9]+(?:\.[0-9]+)?)?[wm]?")
_ASSIGNMENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\+)?=")


@dataclass(frozen=True)
class SimpleCommand:
    """One simple command: its argument words (redirects and their targets left out)."""

    words: tuple
    #: Its first token, and the first token of the and-or list (``a && b || c``) it is in.
    first: Token
    list_start: Token


def simple_commands(command: str) -> list[SimpleCommand]:
    """The simple commands of ``command``, in order (the flags' place, hand-written flags and
    the install's place are all asked of one command in turn: the last answer is kept)."""
    if _last_scan[0] != command:
        _last_scan[:] = [command, tuple(_simple_commands(command))]
    return list(_last_scan[1])


_last_scan: list = [None, ()]


#: Reserved words that may open a command list's clause (``then python x.py``): the
#: simple command, and the and-or list the install goes in front of, start after them.
RESERVED_OPENERS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{"})


def _simple_commands(command: str) -> list[SimpleCommand]:
    tokens = tokenize(command)
    found: list[SimpleCommand] = []
    words: list[Token] = []
    first: Optional[Token] = None
    list_start: Optional[Token] = None
    redirect_target = False
    for token in tokens + [Token(OPERATOR, len(command), len(command), "\n")]:
        if token.kind == COMMENT:
            continue
        if token.kind == OPERATOR:
            if first is not None:
                found.append(SimpleCommand(tuple(words), first, list_start or first))
            words, first, redirect_target = [], None, False
            if token.value not in ("&&", "||", "|", "|&"):
                list_start = None  # ; & newline ( ) end an and-or list
            continue
        if first is None and token.kind == WORD and token.value in RESERVED_OPENERS and not words:
            if command[token.start] not in "'\"\\":  # a quoted word is no reserved word
                list_start = None  # `if`, `then`, `do`: the command list starts after it
                continue
        if first is None:
            first = token
            list_start = list_start or token
        if token.kind == REDIRECT:
            redirect_target = True
            continue
        if redirect_target:
            redirect_target = False  # the redirect's file (or fd) is no argument
            continue
        words.append(token)
    return found


def _basename(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def _is_interpreter(value: str) -> bool:
    return len(value) < 200 and _INTERPRETER_RE.fullmatch(_basename(value)) is not None


@dataclass(frozen=True)
class Entry:
    """The Python entry of a command: the simple command, the file it runs and where its flags go."""

    simple: SimpleCommand
    #: The script (``train.py``, ``pkg/train.py``) or module (``pkg.train``) as written; None: computed.
    script: Optional[str]
    module: Optional[str]
    #: The folder the command is in when the entry starts (``cd pkg && ...``), relative to where it
    #: began (``""``); None when a ``cd`` goes somewhere that cannot be told from the text.
    folder: Optional[str]
    #: Offset of the flags in the command.
    flags_at: int
    #: How many commands of the command line run a Python entry (this one chosen among them).
    count: int = 1
    #: Why no local file can be named for it (a computed or absolute script), else None.
    unresolved: Optional[str] = None

    @property
    def name(self) -> str:
        return self.script or self.module or "the entry"

    def candidates(self) -> tuple[str, ...]:
        """Paths (relative to the command's starting folder) the entry's file may be at, in order."""
        if self.unresolved is not None or self.folder is None:
            return ()
        if self.script is not None:
            paths = [self.script]
        elif self.module is not None:
            base = self.module.replace(".", "/")
            paths = [base + ".py", base + "/__main__.py"]
        else:
            return ()
        return tuple(posixpath.normpath(posixpath.join(self.folder, path)) for path in paths)


#: ``python -m`` modules that launch a script given later on their command line.
LAUNCHER_MODULES = frozenset({"torch.distributed.run", "torch.distributed.launch", "accelerate.commands.launch",
                              "deepspeed.launcher.runner", "horovod.runner.launch"})
#: Commands that take their command line from their input (the flags must come before what they append).
_APPENDERS = frozenset({"xargs", "parallel"})
_COMPUTED = ("$", "`")


#: Where a simple command's entry is: (index of its script or module word, the script, the module);
#: None for each that cannot be told (a launcher whose script comes later, say).
Target = tuple[Optional[int], Optional[str], Optional[str]]


def _entry_target(words: list[str]) -> Optional[Target]:
    """Where the Python entry of a simple command (its unquoted words) is; None: it runs none."""
    start = 0
    while start < len(words) and (_ASSIGNMENT_RE.match(words[start]) or _basename(words[start]) in PREFIX_COMMANDS):
        start += 1
    for j in range(start, len(words)):
        if _is_interpreter(words[j]):
            return _interpreter_target(words, j + 1)
    if start >= len(words):
        return None
    program = _basename(words[start])
    first = start + 2 if program == "accelerate" and words[start + 1 : start + 2] == ["launch"] else start + 1
    if not (program == "accelerate" and first == start + 2 or program in LAUNCHERS):
        return None
    if not any(word.endswith(".py") or word in ("-m", "--module") for word in words[start + 1 :]):
        return None
    return _launched_target(words, first)


def _interpreter_target(words: list[str], i: int) -> Optional[Target]:
    """The entry the interpreter's arguments (from ``words[i]``) run; None for ``-c``, ``--version``,
    a tool module (``-m pip``) or a script that is no entry (``setup.py``)."""
    while i < len(words):
        arg = words[i]
        if arg == "-c" or arg.startswith("-c") and not arg.startswith("--"):
            return None
        if arg == "-m" or (arg.startswith("-m") and len(arg) > 2):
            module_at = i + 1 if arg == "-m" else i
            module = arg[2:] or (words[i + 1] if i + 1 < len(words) else "")
            if not module or module in TOOL_MODULES or module.split(".")[0] == "pip":
                return None
            if module in LAUNCHER_MODULES:
                return _launched_target(words, module_at + 1)
            return module_at, None, module
        if arg in _PYTHON_OPTIONS_WITH_VALUE:
            i += 2
            continue
        if arg.startswith("-") and arg != "-":
            if arg in ("-V", "--version", "-h", "--help"):
                return None
            i += 1
            continue
        if arg == "-" or _basename(arg) in NOT_ENTRY_SCRIPTS:
            return None
        return i, arg, None
    return None


def _launched_target(words: list[str], i: int) -> Target:
    """A launcher's script: its first ``.py`` word, or the module after ``-m``/``--module``."""
    for j in range(i, len(words)):
        if words[j].endswith(".py"):
            return j, words[j], None
        if words[j] in ("-m", "--module") and j + 1 < len(words) and not words[j + 1].startswith("-"):
            return j + 1, None, words[j + 1]
    return None, None, None


def _unresolved(script: Optional[str], module: Optional[str]) -> Optional[str]:
    written = script if script is not None else module
    if written is None:
        return "its script cannot be told from the command"
    if any(mark in written for mark in _COMPUTED):
        return f"its script {written} is computed when the job runs"
    if script is not None and script.startswith(("/", "~")):
        return f"its script {script} is an absolute path, not a file of the code folder"
    return None


def _folder_after_cd(folder: Optional[str], words: list[str]) -> Optional[str]:
    if folder is None or len(words) != 2 or any(mark in words[1] for mark in _COMPUTED + ("~",)):
        return None
    if words[1].startswith("/") or words[1] == "-":
        return None
    return posixpath.normpath(posixpath.join(folder, words[1])) if folder else posixpath.normpath(words[1])


def _preferred(entries: list[Entry], wanted: Optional[str] = None) -> Entry:
    """Of several entries, the one ``--entry`` names (its script or module, or their file name), else the
    training one: the only one whose name says ``train``, else the last."""
    named = [entry for entry in entries if wanted is not None and wanted in (
        entry.name, posixpath.basename(entry.name), entry.name.rsplit(".", 1)[-1])]
    training = [entry for entry in entries if "train" in posixpath.basename(entry.name).lower()]
    chosen = named[0] if named else training[0] if len(training) == 1 else entries[-1]
    return dataclasses.replace(chosen, count=len(entries))


def entry(command: str, wanted: Optional[str] = None) -> Optional[Entry]:
    """The Python entry the flags go on (of several, :func:`_preferred`), or None."""
    found: list[Entry] = []
    folder: Optional[str] = ""
    for simple in simple_commands(command):
        values = [word.value for word in simple.words]
        if values and values[0] == "cd":
            folder = _folder_after_cd(folder, values)
            continue
        target = _entry_target(values)
        if target is None:
            continue
        index, script, module = target
        words = simple.words
        if not words:
            continue
        if index is not None and any(_basename(value) in _APPENDERS for value in values[:index]):
            at = words[index].end  # xargs appends its input at the end: the flags go right after the script
        else:
            # After `--` the flags would be positionals: before it.
            at = next((words[k].start for k in range(index + 1 if index is not None else 0, len(words))
                       if command[words[k].start : words[k].end] == "--"), words[-1].end)
        found.append(Entry(simple, script, module, folder, at, unresolved=_unresolved(script, module)))
    return _preferred(found, wanted) if found else None


#: ``code:`` values that name no local folder (an asset, a datastore, a repository).
_REMOTE_CODE = ("azureml:", "http:", "https:", "git+", "wasbs:", "abfss:", "adl:", "gs:", "s3:")


def entry_files(code: Any, entry: Entry) -> tuple[tuple[str, ...], Optional[str]]:
    """(the paths, relative to the definition's folder, the entry's file may be at; why none can be
    named): the ``code:`` folder joined with the command's script, module and ``cd`` folder."""
    if entry.unresolved is not None:
        return (), entry.unresolved
    if entry.folder is None:
        return (), f"the command changes folder (cd) before running {entry.name} in a way that cannot be followed"
    if code is None:
        return (), f"the definition has no code: folder, so {entry.name} is not uploaded with it"
    if not isinstance(code, str) or not code.strip() or "${{" in code:
        return (), f"code: {code!s} is not a folder named in the file"
    code = code[len("file:"):] if code.startswith("file:") else code
    if code.lower().startswith(_REMOTE_CODE) or "://" in code:
        return (), f"code: {code} is not a local folder"
    code = code.rstrip("/") or "/"
    if code.lower().endswith(".py"):  # code: names the script itself
        named = [path for path in entry.candidates() if path == posixpath.basename(code)]
        if not named:
            return (), f"code: {code} uploads that one file, not {entry.name}"
        return (posixpath.normpath(code),), None
    return tuple(posixpath.normpath(posixpath.join(code, path)) for path in entry.candidates()), None


def entry_companion(entry: Entry, code: Any, unavailable: tuple, code_unreadable: bool = False):
    """(the entry's script as a ``train`` companion, or None; the notes to give) for one command:
    ``code`` joined with its script, unless that cannot be named or the runner found it unavailable."""
    notes = []
    if entry.count > 1:
        notes.append(f"the command runs {entry.count} Python entry scripts; the flags go on {entry.name} "
                     "(--entry, else the one named for training, else the last)")
    paths, why = ((), "code= is not a path written in this file") if code_unreadable else entry_files(code, entry)
    why = why or dict(unavailable).get(paths[0])
    if why:
        notes.append(f"entry {entry.name}: {why}; no debug flags on this command (the script could not take them)")
        return None, notes
    alone = isinstance(code, str) and code.rstrip("/").lower().endswith(".py")  # code: names the script itself
    return Companion(paths[0], "train", entry=True, alternatives=paths[1:], alone=alone), notes


def flag_insertion(command: str, wanted: Optional[str] = None) -> Optional[int]:
    """Where the flags go: see :func:`entry`; None: no entry."""
    found = entry(command, wanted)
    return None if found is None else found.flags_at


def flag_text(command: str, options: Options) -> Optional[tuple[int, str]]:
    """(offset, text) of the flags in ``command``, blanks around them as the place needs (never
    touching a redirect: ``5678>log`` would redirect descriptor 5678); None: no entry."""
    found = entry(command, options.entry)
    if found is None:
        return None
    at = found.flags_at
    before = "" if command[at - 1 : at] in (" ", "\t") else " "
    after = " " if at < len(command) and command[at] in "<>-" else ""
    return at, before + debug_flags(options) + after


def install_insertion(command: str, wanted: Optional[str] = None) -> Optional[int]:
    """Where ``pip install debugpy && `` goes: the start of the entry's and-or list; None: no entry."""
    found = entry(command, wanted)
    return found.simple.list_start.start if found is not None else None


def remote_debug_spans(command: str) -> list[tuple[int, int]]:
    """Hand-written ``--remote_debug*`` flags (with their value words): ``(start, end)`` offsets."""
    spans: list[tuple[int, int]] = []
    for simple in simple_commands(command):
        words = simple.words
        i = 0
        while i < len(words):
            value = words[i].value
            if value.startswith("--remote_debug") or value.startswith("--remote-debug"):
                takes_value = value not in ("--remote_debug", "--remote-debug") and "=" not in value
                end_word = words[i + 1] if takes_value and i + 1 < len(words) else words[i]
                spans.append((words[i].start, end_word.end))
                i += 2 if end_word is not words[i] else 1
                continue
            i += 1
    return spans


def debug_flag_tokens(options: Options) -> list[str]:
    """The tokens appended to the entry command, each shell-safe."""
    tokens = [
        "--remote_debug",
        "--remote_debug_connection_timeout",
        str(validate_timeout(options.timeout if options.timeout is not None else 300)),
        "--remote_debug_port",
        str(validate_port(options.port)),
    ]
    if options.client_ip:
        tokens += ["--remote_debug_client_ip", validate_host(options.client_ip)]
    if options.ranks:
        tokens += ["--remote_debug_ranks", validate_ranks(options.ranks)]
    if options.service:
        tokens += ["--remote_debug_host", SERVICE_HOST]
    return [shlex.quote(token) for token in tokens]


def debug_flags(options: Options) -> str:
    return " ".join(debug_flag_tokens(options))


def add_flags(command: str, options: Options, install_debugpy: bool = False) -> Optional[str]:
    """The command with the flags after its entry (and ``pip install debugpy &&`` before); None: no entry."""
    placed = flag_text(command, options)
    if placed is None:
        return None
    at, text = placed
    result = command[:at] + text + command[at:]
    if install_debugpy:
        start = install_insertion(command, options.entry)
        result = result[:start] + "pip install debugpy && " + result[start:]
    return result
