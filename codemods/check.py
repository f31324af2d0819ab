"""Find remote-debug code that must not reach production (``instrument check``).

Two kinds of finding, each a :class:`Finding` at a 1-based line and column:

* an instrument block (the fences of :mod:`codemods.markers`), in Python and in
  conda YAML: exactly what ``instrument strip`` would remove, reported once at
  its ``# >>> instrument`` line however many debug calls it holds;
* a hand-written call that opens, waits on or breaks into a remote debugger
  (``debugpy.listen`` and friends, see :data:`DEBUG_CALLS`), found by the
  qualified name LibCST resolves, so ``from debugpy import listen as l; l()``
  counts and ``socket.listen()`` or a string mentioning ``debugpy.listen`` does
  not.

A call is accepted when its lines carry a ``# instrument: allow`` comment or
its qualified name matches an ``allow`` pattern. Everything here is pure:
text in, findings out; reading files and matching paths is the CLI's job.
"""

from __future__ import annotations

import fnmatch
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Optional, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from codemods import markers
from codemods.kinds import parse

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


class _DebugCallCollector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self) -> None:
        super().__init__()
        #: (qualified name, spelling, start line, start column, end line)
        self.calls: list[tuple[str, str, int, int, int]] = []

    def visit_Call(self, node: cst.Call) -> None:
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, node.func, set())}
        if not names:
            # Unbound (imported by means LibCST cannot follow): go by spelling.
            spelled = get_full_name_for_node(node.func)
            names = {spelled} if spelled else set()
        for name in sorted(names & DEBUG_CALLS.keys()):
            where = self.get_metadata(PositionProvider, node)
            spelling = get_full_name_for_node(node.func) or name
            self.calls.append((name, spelling, where.start.line, where.start.column + 1, where.end.line))


def _call_message(name: str, spelling: str) -> str:
    alias = f" (called as {spelling}())" if spelling != name else ""
    return f"{name}(){alias} {DEBUG_CALLS[name]}"


def find_debug_calls(source: str, module: Optional[cst.Module] = None) -> list[Finding]:
    """Hand-written remote-debug calls: outside instrument blocks, not allowed inline.

    Raises ``kinds.TransformError`` ("cannot parse: ...") for invalid Python.
    ``module`` may be passed when the caller has already parsed ``source``.
    """
    if "debugpy" not in source and "ptvsd" not in source:
        return []
    module = module if module is not None else parse(source)
    collector = _DebugCallCollector()
    MetadataWrapper(module).visit(collector)
    if not collector.calls:
        return []
    _, in_blocks = _block_lines(source)
    allowed = _allow_comment_lines(source)
    findings = []
    for name, spelling, line, col, end_line in collector.calls:
        if line in in_blocks or allowed.intersection(range(line, end_line + 1)):
            continue
        findings.append(Finding(line, col, _call_message(name, spelling), name))
    return findings


def _is_allowed(finding: Finding, allow: Sequence[str]) -> bool:
    return bool(finding.name) and any(fnmatch.fnmatchcase(finding.name, pattern) for pattern in allow)


def check_python(source: str, allow: Sequence[str] = ()) -> list[Finding]:
    """Every finding in a Python source, in line order."""
    blocks, _ = _block_lines(source)
    calls = [f for f in find_debug_calls(source) if not _is_allowed(f, allow)]
    return sorted(blocks + calls, key=lambda f: (f.line, f.col))


def check_yaml(source: str) -> list[Finding]:
    """Every instrument block in a (conda environment) YAML file."""
    blocks, _ = _block_lines(source)
    return blocks
