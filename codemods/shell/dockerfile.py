"""Which dependency file of a Docker build context its Dockerfile installs.

An Azure ML v2 environment built from a context (``build: {path: ./ctx}``)
gets debugpy where the image installs its packages: the requirements file of
a ``pip install -r FILE`` or the conda file of a ``conda env create/update -f
FILE``, found by reading the Dockerfile's instructions, never by file names
alone. The file the ``RUN`` names is a path inside the image; the ``COPY`` /
``ADD`` instructions before it (and ``WORKDIR``) say which file of the context
it is. A file the image fetches another way (``COPY --from``, a URL) is none
of the context's.

The Dockerfile is read as Docker reads it: parser directives (``# escape=``),
comment lines (dropped, also inside a continued instruction), lines continued
with the escape character, here-documents (``RUN <<EOF``), exec form
(``RUN ["pip", ...]``) and build stages (``FROM base AS build``; a stage built
``FROM`` an earlier one inherits its files).
"""

from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Iterator, Optional

from instrument.codemods.shell.shell_tokens import REDIRECT, WORD, tokenize
from instrument.codemods.shell.commands import simple_commands

REQUIREMENTS, CONDA = "requirements", "env"


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword (upper case), arguments and 1-based first line."""

    keyword: str
    arguments: str
    line: int
    heredocs: tuple = ()  # the bodies of its here-documents


@dataclass(frozen=True)
class Found:
    """A dependency file of the context: its path there, the kind that edits it, the RUN's line."""

    path: str
    kind: str
    line: int


def _escape_directive(lines: list[str]) -> str:
    """The escape character: ``\\`` unless a parser directive at the top says ``#escape=```."""
    for line in lines:
        text = line.strip()
        if not text.startswith("#"):
            break
        name, equals, value = text[1:].partition("=")
        if not equals or " " in name.strip():
            break  # a comment: directives end here
        if name.strip().lower() == "escape" and value.strip() in ("`", "\\"):
            return value.strip()
    return "\\"


def _heredoc_delimiters(arguments: str) -> list[str]:
    """``<<EOF``/``<<-"EOF"`` words of an instruction line, in order."""
    tokens = tokenize(arguments)
    found = []
    for token, following in zip(tokens, tokens[1:]):
        if token.kind == REDIRECT and token.value == "<<" and following.kind == WORD:
            found.append(following.value.lstrip("-"))
    return found


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    return list(_each_instruction(text))


def _each_instruction(text: str) -> Iterator[Instruction]:
    """:func:`instructions` one by one (whether a file is a Dockerfile needs the first only)."""
    lines = text.splitlines()
    escape = _escape_directive(lines)
    i = 0
    while i < len(lines):
        start, stripped = i, lines[i].strip()
        i += 1
        if not stripped or stripped.startswith("#"):
            continue
        parts = [stripped]
        while parts[-1].endswith(escape) and i < len(lines):
            parts[-1] = parts[-1][: -len(escape)]
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1  # comment and empty lines inside a continued instruction are dropped
            if i < len(lines):
                parts.append(lines[i].strip())
                i += 1
        if parts[-1].endswith(escape):
            parts[-1] = parts[-1][: -len(escape)]
        keyword, _, arguments = " ".join(parts).partition(" ")
        bodies = []
        # Only an instruction holding ``<<`` can open a here-document (tokenizing each is costly).
        heredocs = "<<" in arguments and keyword.upper() in ("RUN", "COPY", "ADD")
        for delimiter in _heredoc_delimiters(arguments) if heredocs else ():
            body = []
            while i < len(lines) and lines[i].strip("\t") != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            bodies.append("\n".join(body))
        yield Instruction(keyword.upper(), arguments.strip(), start + 1, tuple(bodies))


def _split_flags(arguments: str) -> tuple[dict, str]:
    """Leading ``--name=value`` flags of an instruction, and the rest."""
    flags = {}
    rest = arguments
    while rest.startswith("--"):
        word, _, rest = rest.partition(" ")
        name, _, value = word[2:].partition("=")
        flags[name.lower()] = value
        rest = rest.lstrip()
    return flags, rest


def _words(arguments: str) -> Optional[list[str]]:
    """Exec form (a JSON array of strings) or shell form's words."""
    if arguments.startswith("["):
        try:
            parsed = json.loads(arguments)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(word, str) for word in parsed):
            return parsed
    return None


@dataclass
class _Stage:
    name: str = ""
    workdir: str = "/"
    #: (destination in the image, context source, destination is a folder), latest last
    copies: list = field(default_factory=list)


def _image_path(stage: _Stage, path: str) -> str:
    return posixpath.normpath(posixpath.join(stage.workdir, path))


def _copy(stage: _Stage, instruction: Instruction) -> None:
    flags, rest = _split_flags(instruction.arguments)
    if "from" in flags or instruction.heredocs:
        return  # from another stage or image, or written inline: not a file of the context
    words = _words(rest) or rest.split()
    if len(words) < 2:
        return
    *sources, destination = words
    folder = destination.endswith("/") or len(sources) > 1 or destination in (".", "./")
    target = _image_path(stage, destination)
    for source in sources:
        if "://" in source or any(char in source for char in "*?[$"):
            continue  # a URL, a wildcard or a variable: not one known file
        stage.copies.append((target, posixpath.normpath(source.lstrip("/")), folder))


def _context_file(stage: _Stage, image_path: str) -> Optional[str]:
    """The context file the latest COPY/ADD that reaches ``image_path`` put there, or None."""
    for target, source, folder in reversed(stage.copies):
        if image_path == target and not folder:
            return source  # COPY env.yml /tmp/conda.yml
        inside = target.rstrip("/")
        if image_path.startswith(inside + "/"):
            rest = image_path[len(inside) + 1 :]
            if folder and source != "." and rest == posixpath.basename(source):
                return source  # COPY env.yml /tmp/: a file copied into a folder keeps its name
            return posixpath.normpath(posixpath.join(source, rest))  # a folder's contents (COPY . /app)
    return None


def _program(words: list[str]) -> list[str]:
    """The words from the program on: assignments, ``python -m`` and ``conda run -n x`` dropped."""
    i = 0
    while i < len(words) and "=" in words[i] and not words[i].startswith("-"):
        i += 1
    words = words[i:]
    if len(words) >= 3 and posixpath.basename(words[0]).startswith("python") and words[1] == "-m":
        return words[2:]
    if len(words) >= 2 and posixpath.basename(words[0]) in ("conda", "mamba", "micromamba") and words[1] == "run":
        j = 2
        while j < len(words) and words[j].startswith("-"):
            j += 2 if words[j] in ("-n", "--name", "-p", "--prefix") else 1
        return _program(words[j:])
    return words


def _option_value(words: list[str], short: str, long: str) -> list[str]:
    """The values of ``-r FILE``, ``-rFILE``, ``--requirement FILE``, ``--requirement=FILE``."""
    values = []
    for i, word in enumerate(words):
        if word in (short, long) and i + 1 < len(words):
            values.append(words[i + 1])
        elif word.startswith(long + "="):
            values.append(word[len(long) + 1 :])
        elif word.startswith(short) and len(word) > len(short) and not word.startswith("--"):
            values.append(word[len(short) :])
    return values


def installed_files(command: str) -> list[tuple[str, str]]:
    """(path as written, kind) of each requirements or conda file a shell command installs."""
    found = []
    for simple in simple_commands(command):
        words = _program([token.value for token in simple.words])
        if not words:
            continue
        program = posixpath.basename(words[0])
        if program.startswith("pip") and "install" in words[1:2]:
            found += [(path, REQUIREMENTS) for path in _option_value(words[2:], "-r", "--requirement")]
        elif program in ("conda", "mamba", "micromamba"):
            action = words[1:3] if words[1:2] == ["env"] else words[1:2]
            if action in (["env", "create"], ["env", "update"]) or program == "micromamba" and action in (
                ["create"], ["install"], ["update"]
            ):
                found += [(path, CONDA) for path in _option_value(words[len(action) + 1 :], "-f", "--file")]
    return found


def dependency_files(text: str) -> list[Found]:
    """The context's dependency files the image installs, of the final stage and those it builds on."""
    stages: list[_Stage] = []
    installs: dict[int, list[Found]] = {}
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            _, rest = _split_flags(instruction.arguments)
            words = rest.split()
            base = next((s for s in stages if words and s.name == words[0].lower()), None)
            stage = _Stage(words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else "")
            if base is not None:
                stage.workdir, stage.copies = base.workdir, list(base.copies)
                installs[len(stages)] = list(installs.get(stages.index(base), []))
            stages.append(stage)
            continue
        if not stages:
            continue  # ARG before the first FROM
        stage, index = stages[-1], len(stages) - 1
        if instruction.keyword == "WORKDIR":
            stage.workdir = _image_path(stage, instruction.arguments.strip("\"'"))
        elif instruction.keyword in ("COPY", "ADD"):
            _copy(stage, instruction)
        elif instruction.keyword == "RUN":
            _, rest = _split_flags(instruction.arguments)
            argv = _words(rest)  # exec form: no shell, the words as given
            command = " ".join(shlex.quote(word) for word in argv) if argv is not None else rest
            for body in instruction.heredocs:
                command += "\n" + body
            for path, kind in installed_files(command):
                source = _context_file(stage, _image_path(stage, path))
                if source is not None:
                    installs.setdefault(index, []).append(Found(source, kind, instruction.line))
    return installs.get(len(stages) - 1, []) if stages else []


def is_dockerfile(text: str) -> bool:
    """A Dockerfile: its first instruction (after ARGs) is FROM."""
    for instruction in _each_instruction(text):
        if instruction.keyword != "ARG":
            return instruction.keyword == "FROM"
    return False
