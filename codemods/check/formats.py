"""``instrument check`` for the files that run code without being ``.py`` files.

* a ``.pth`` file: site.py executes each line that starts with ``import``;
* a notebook (``.ipynb``): its code cells are Python, ``!command`` lines and
  ``%%bash``/``%%sh``/``%%script`` cells are shell;
* a shell script: every simple command, and the code of a ``python`` here-document;
* a Dockerfile: ``RUN``, ``CMD`` and ``ENTRYPOINT`` (shell or exec form,
  here-documents, ``ENTRYPOINT`` and ``CMD`` together), and the variables of ``ENV``.

Each function takes the decoded text and returns findings at the file's own
lines; a line with ``# instrument: allow`` is accepted.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from instrument.codemods.check import commands as check_commands
from instrument.codemods.check.findings import Finding, allowed_line, check_python, code_findings, code_pairs
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.shell.dockerfile import instructions

_SHELL_NAME = "shell.command"
_HEREDOC_RE = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_PYTHON_RE = re.compile(r"(?:^|[\s/])(?:python[\d.]*|pypy[\d.]*)(?:\s|$)")
_CELL_SHELLS = ("%%bash", "%%sh", "%%script bash", "%%script sh", "%%system")


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def check_pth(source: str) -> list[Finding]:
    """The lines of a ``.pth`` file that site.py runs (those starting with ``import``)."""
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        if line.startswith(("import ", "import\t")) and not allowed_line(line):
            found += [Finding(number, 1, f"run at every start of Python (.pth): {f.message}", f.name)
                      for f in code_findings(line)]
    return found


def check_shell(source: str) -> list[Finding]:
    """Every simple command of a shell script, and Python here-documents (``python - <<EOF``)."""
    lines = source.splitlines()
    found = []
    for offset, message in check_commands.located_shell_findings(source, python=code_pairs):
        line = _line_of(source, offset)
        if not allowed_line(lines[line - 1] if line <= len(lines) else ""):
            found.append(Finding(line, offset - source.rfind("\n", 0, offset), message, _name(message)))
    for line, code in _python_heredocs(lines):
        found += [Finding(line + f.line, f.col, f"python here-document: {f.message}", f.name)
                  for f in code_findings(code)]
    return sorted(set(found), key=lambda f: (f.line, f.col))


def _python_heredocs(lines: list[str]) -> list[tuple[int, str]]:
    """(line before the body, body) of each here-document given to a Python."""
    found = []
    for index, line in enumerate(lines):
        match = _HEREDOC_RE.search(line)
        if match is None or not _PYTHON_RE.search(line):
            continue
        body = []
        for inner in lines[index + 1:]:
            if inner.strip("\t") == match.group(2):
                break
            body.append(inner)
        found.append((index + 1, "\n".join(body) + "\n"))
    return found


def _name(message: str) -> str:
    for module in check_commands.DEBUGGER_MODULES:
        if module in message:
            return f"{module}.__main__"
    return _SHELL_NAME


def check_dockerfile(source: str) -> list[Finding]:
    """``RUN``/``CMD``/``ENTRYPOINT`` that start a debugger and ``ENV`` that exports a debug variable."""
    lines = source.splitlines()
    found = []
    entrypoint: Optional[list[str]] = None
    for instruction in instructions(source):
        keyword, arguments = instruction.keyword, instruction.arguments
        if allowed_line(lines[instruction.line - 1] if instruction.line <= len(lines) else ""):
            continue
        messages: list[str] = []
        if keyword in ("RUN", "CMD", "ENTRYPOINT"):
            while keyword == "RUN" and arguments.startswith("--"):  # RUN --mount=... flags
                arguments = arguments.partition(" ")[2].lstrip()
            words = _exec_form(arguments)
            if words is not None:
                messages += check_commands.argv_findings(words, python=code_pairs)
                if keyword == "ENTRYPOINT":
                    entrypoint = words
                elif keyword == "CMD" and entrypoint:
                    messages += check_commands.argv_findings(entrypoint + words, python=code_pairs)
            else:
                messages += check_commands.shell_findings(arguments, python=code_pairs)
            for body in instruction.heredocs:
                messages += check_commands.shell_findings(body, python=code_pairs)
                messages += [f"here-document: {f.message}" for f in code_findings(body)]
        elif keyword == "ENV":
            for name, value in _env_pairs(arguments):
                message = check_commands.variable_message(name, value)
                if message:
                    messages.append(message)
        found += [Finding(instruction.line, 1, f"{keyword}: {m}", _name(m)) for m in dict.fromkeys(messages)]
    return found


def _exec_form(arguments: str) -> Optional[list[str]]:
    if not arguments.startswith("["):
        return None
    try:
        words = json.loads(arguments)
    except ValueError:
        return None
    return words if isinstance(words, list) and all(isinstance(w, str) for w in words) else None


def _env_pairs(arguments: str) -> list[tuple[str, str]]:
    """``ENV A=1 B=2`` or the old ``ENV A 1``."""
    words = check_commands.tokens(arguments)
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    return [(w.partition("=")[0], w.partition("=")[2]) for w in words if "=" in w]


def check_notebook(source: str, allow: tuple = ()) -> list[Finding]:
    """The code cells of a notebook, at the lines of the ``.ipynb`` file that hold them.

    Raises ``InstrumentError`` when the file is not a notebook's JSON (Jupyter cannot open it either).
    """
    try:
        notebook = json.loads(source)
    except ValueError as exc:
        raise InstrumentError(f"cannot parse: not a notebook ({exc})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):  # nbformat 3 keeps them in worksheets
        sheets = notebook.get("worksheets") if isinstance(notebook, dict) else None
        cells = [c for s in sheets or () if isinstance(s, dict) for c in s.get("cells", ())]
    found: list[Finding] = []
    cursor = 0
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        pieces = _source_lines(cell.get("source", cell.get("input", "")))
        file_lines = []
        for piece in pieces:  # where each line of the cell is in the file, for the finding's line
            at = source.find(json.dumps(piece, ensure_ascii=False)[1:-1], cursor) if piece.strip() else -1
            if at < 0:
                at = source.find(json.dumps(piece)[1:-1], cursor) if piece.strip() else -1
            cursor = at if at >= 0 else cursor
            file_lines.append(_line_of(source, at) if at >= 0 else _line_of(source, cursor))
        for line, message, name in _cell_findings("".join(pieces), allow):
            at = file_lines[line - 1] if 0 < line <= len(file_lines) else _line_of(source, cursor)
            found.append(Finding(at, 1, f"cell {number}: {message}", name))
    return found


def _source_lines(source: Any) -> list[str]:
    if isinstance(source, str):
        return source.splitlines(keepends=True)
    return [piece for piece in source if isinstance(piece, str)] if isinstance(source, list) else []


def _cell_findings(code: str, allow: tuple) -> list[tuple[int, str, str]]:
    """(line in the cell, message, name): IPython's ``!`` lines and shell cells as shell, the rest as Python."""
    lines = code.splitlines()
    if lines and lines[0].strip().startswith(_CELL_SHELLS):
        return [(f.line + 1, f.message, f.name) for f in check_shell("\n".join(lines[1:]) + "\n")]
    found = []
    python = []
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip()
        if stripped.startswith("!") or stripped.startswith("%system") or stripped.startswith("%sx"):
            command = stripped[1:] if stripped.startswith("!") else stripped.partition(" ")[2]
            found += [(number, f.message, f.name) for f in check_shell(command + "\n")]
            python.append("")
        elif stripped.startswith(("%", "?")) or stripped.endswith("?"):
            python.append("")  # a line magic or a help request: not Python
        else:
            python.append(line)
    try:
        found += [(f.line, f.message, f.name) for f in check_python("\n".join(python) + "\n", allow)]
    except InstrumentError:
        pass  # a cell with IPython syntax beyond these: the rest of the notebook is still read
    return found
