"""Find remote-debug code that must not reach production (``instrument check``).

Two kinds of finding, each a :class:`Finding` at a 1-based line and column:

* an instrument block (the fences of :mod:`instrument.codemods.markers`), in Python and in
  conda YAML: exactly what ``instrument strip`` would remove, reported once at
  its ``# >>> instrument`` line however many debug calls it holds;
* a hand-written call that opens, waits on or breaks into a remote debugger
  (``debugpy.listen`` and friends, see :data:`DEBUG_CALLS`), found by its
  qualified name, resolved through the module's imports, so
  ``from debugpy import listen as l; l()`` counts and ``socket.listen()`` or a
  string mentioning ``debugpy.listen`` does not.

Check reads code, it never rewrites it, so it parses with Python's own
:mod:`ast` (about a tenth of LibCST's parse, and no LibCST import at all):
``instrument check`` runs on every commit and must cost less than the
``debug-statements`` hook it sits next to (see bench/run.py). Names are
resolved as LibCST's ``QualifiedNameProvider`` would for imports, without its
scope analysis (several parses' worth of time): a name bound by several
imports may mean any of them, and a name bound by no import means what it
spells.

A call is accepted when its lines carry a ``# instrument: allow`` comment or
its qualified name matches an ``allow`` pattern. Everything here is pure:
text in, findings out; reading files and matching paths is the CLI's job.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Optional, Sequence

from instrument.codemods import markers
from instrument.codemods.errors import CodemodError

#: The calls that make a process reachable by (or reach out to) a debugger,
#: with why each one is dangerous in production.
DEBUG_CALLS = {
    "debugpy.listen": "opens a debug listener",
    "debugpy.connect": "connects out to a debugger",
    "debugpy.wait_for_client": "waits for a debugger to attach",
    "debugpy.breakpoint": "breaks into an attached debugger",
    "ptvsd.enable_attach": "opens a debug listener",
    "ptvsd.wait_for_attach": "waits for a debugger to attach",
    "ptvsd.break_into_debugger": "breaks into an attached debugger",
}
BLOCK_MESSAGE = "instrument block (remove with `instrument strip`)"
ALLOW_COMMENT = "# instrument: allow"

# Any of these byte strings must occur for a file to hold a finding: a call
# needs its module's name somewhere (an import, at least), a block its fence.
_PYTHON_NEEDLES = (b"debugpy", b"ptvsd", markers.BEGIN.encode(), markers.END.encode())
_YAML_NEEDLES = (markers.BEGIN.encode(), markers.END.encode())
_ALLOW_RE = re.compile(r"#\s*instrument:\s*allow(?![\w-])")
_MARKER_LINE_RE = re.compile(r"^line (\d+): ")


@dataclass(frozen=True)
class Finding:
    line: int  # 1-based
    col: int  # 1-based, as editors count
    message: str
    #: The qualified name of a debug call (what ``allow`` patterns match);
    #: empty for an instrument block.
    name: str = ""


def could_have_findings(data: bytes, yaml: bool = False) -> bool:
    """Cheap pre-test on raw bytes: False means no finding is possible.

    Python source is ASCII-compatible in every encoding PEP 263 allows, so a
    byte search is enough and most files of a big tree are never decoded.
    """
    return any(needle in data for needle in (_YAML_NEEDLES if yaml else _PYTHON_NEEDLES))


def _block_lines(source: str) -> tuple[list[Finding], set[int]]:
    """Findings for the instrument blocks, and the 1-based lines they cover."""
    try:
        blocks = markers.find_blocks(source)
    except markers.MarkerError as exc:
        # Broken fences are still instrumentation (and strip refuses them).
        found = _MARKER_LINE_RE.match(str(exc))
        line = int(found.group(1)) if found else 1
        reason = str(exc)[found.end() :] if found else str(exc)
        return [Finding(line, 1, f"broken instrument block: {reason}")], set()
    findings: list[Finding] = []
    covered: set[int] = set()
    lines = markers.split_lines(source) if blocks else []
    for block in blocks:
        line = lines[block.begin]
        col = len(line) - len(line.lstrip(" \t\f")) + 1
        findings.append(Finding(block.begin + 1, col, BLOCK_MESSAGE))
        covered.update(range(block.begin + 1, block.end + 2))
    return findings, covered


def _allow_comment_lines(source: str) -> set[int]:
    """1-based lines holding a ``# instrument: allow`` comment (not a string)."""
    lines: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source, newline="").readline):
            if token.type == tokenize.COMMENT and _ALLOW_RE.search(token.string):
                lines.add(token.start[0])
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # only reached for source that LibCST parsed; be lenient anyway
    return lines


def _dotted_name(node: ast.expr) -> Optional[str]:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _imports_and_calls(tree: ast.Module) -> tuple[dict[str, set[str]], list[ast.Call]]:
    """Local name -> the qualified names its imports (anywhere in the module)
    bind it to; and every call, in one walk of the tree."""
    table: dict[str, set[str]] = {}
    calls: list[ast.Call] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table.setdefault(alias.asname, set()).add(alias.name)
                else:
                    top = alias.name.split(".", 1)[0]
                    table.setdefault(top, set()).add(top)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                if alias.name != "*":
                    table.setdefault(alias.asname or alias.name, set()).add(f"{node.module}.{alias.name}")
    return table, calls


def _qualified_names(spelling: str, table: dict[str, set[str]]) -> set[str]:
    """What a called name may mean: through the imports, else as spelled."""
    head, _, rest = spelling.partition(".")
    if head not in table:
        return {spelling}  # bound otherwise (assignment, def) or not at all
    return {f"{base}.{rest}" if rest else base for base in table[head]}


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    """1-based column in characters, as editors count, from ast's UTF-8 byte offset."""
    text = lines[line - 1] if line <= len(lines) else ""
    if text.isascii():
        return byte_offset + 1
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def _call_message(name: str, spelling: str) -> str:
    alias = f" (called as {spelling}())" if spelling != name else ""
    return f"{name}(){alias} {DEBUG_CALLS[name]}"


def parse(source: str) -> ast.Module:
    """Python's own parser: a tenth of LibCST's cost, and check needs no round trip.

    Raises ``CodemodError`` ("cannot parse: ...") for invalid Python.
    """
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes
        reason = f"{exc.msg} (line {exc.lineno}, column {exc.offset})" if isinstance(exc, SyntaxError) else exc
    raise CodemodError(f"cannot parse: {reason}")


def find_debug_calls(source: str, module: Optional[ast.Module] = None) -> list[Finding]:
    """Hand-written remote-debug calls: outside instrument blocks, not allowed inline.

    Raises ``CodemodError`` ("cannot parse: ...") for invalid Python.
    ``module`` may be passed when the caller has already parsed ``source``
    with :func:`ast.parse`; any other tree (a LibCST one) is not used.
    """
    if "debugpy" not in source and "ptvsd" not in source:
        return []
    return _debug_calls(source, module if isinstance(module, ast.Module) else parse(source), _block_lines(source)[1])


def _debug_calls(source: str, tree: ast.Module, in_blocks: set[int]) -> list[Finding]:
    table, calls = _imports_and_calls(tree)
    found = []
    for node in calls:
        spelling = _dotted_name(node.func)
        if spelling is None or node.lineno in in_blocks:
            continue
        for name in sorted(_qualified_names(spelling, table) & DEBUG_CALLS.keys()):
            found.append((node.lineno, node.col_offset, node.end_lineno or node.lineno, name, spelling))
    if not found:
        return []  # the common case for instrumented files: every call is in a block
    allowed = _allow_comment_lines(source)
    lines = markers.split_lines(source)
    findings = []
    for line, offset, end_line, name, spelling in sorted(found):
        if not allowed.intersection(range(line, end_line + 1)):
            findings.append(Finding(line, _column(lines, line, offset), _call_message(name, spelling), name))
    return findings


def _is_allowed(finding: Finding, allow: Sequence[str]) -> bool:
    return bool(finding.name) and any(fnmatch.fnmatchcase(finding.name, pattern) for pattern in allow)


def check_python(source: str, allow: Sequence[str] = ()) -> list[Finding]:
    """Every finding in a Python source, in line order."""
    blocks, in_blocks = _block_lines(source)
    calls = []
    if "debugpy" in source or "ptvsd" in source:
        calls = [f for f in _debug_calls(source, parse(source), in_blocks) if not _is_allowed(f, allow)]
    return sorted(blocks + calls, key=lambda f: (f.line, f.col))


def check_yaml(source: str) -> list[Finding]:
    """Every instrument block in a (conda environment) YAML file."""
    blocks, _ = _block_lines(source)
    return blocks
