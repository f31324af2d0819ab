"""Find remote-debug code that must not reach production (``instrument check``).

Two kinds of finding, each a :class:`Finding` at a 1-based line and column:

* an instrument block (the fences of :mod:`instrument.codemods.fences.markers`), in Python and in
  conda YAML: exactly what ``instrument strip`` would remove, reported once at
  its ``# >>> instrument`` line however many debug calls it holds;
* a hand-written call that opens, waits on or breaks into a remote debugger
  (``debugpy.listen`` and friends, see :data:`DEBUG_CALLS`), found by its
  qualified name, resolved through the module's imports (also ``from debugpy
  import *``, ``importlib.import_module("debugpy")``, ``__import__``,
  ``getattr`` with a literal name and plain assignments), so
  ``from debugpy import listen as l; l()`` counts and ``socket.listen()`` or a
  string mentioning ``debugpy.listen`` does not;
* a debugger reached another way (:mod:`.sinks`): a debugger function passed on as a
  value, code given to ``exec``/``eval``/``compile``, a command line given to ``subprocess``,
  ``os.system`` and friends (:mod:`.commands`), azure-ai-ml's and SDK v1's job values, a
  debug variable set in code, with strings and lists followed through names
  (:mod:`.values`); in YAML, what Azure ML runs or exports (:mod:`.yaml_files`); in
  ``.pth`` files, notebooks, shell scripts and Dockerfiles (:mod:`.formats`).

What is looked at is the source as Python runs it: decoded by its coding line
(``# coding: utf-7`` included) and with identifiers NFKC-normalised, as the
parser does (``ｄｅｂｕｇｐｙ`` is ``debugpy``). A file that holds nothing a
finding needs is not parsed (:mod:`.prefilter`).

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

from instrument.codemods.check.values import nodes_by_type
from instrument.codemods.fences import marker_scan, markers
from instrument.codemods.helper import header as helper_header
from instrument.codemods.python import grammar
from instrument.codemods.check.names import DEBUG_CALLS, MODULE_NAMES  # noqa: F401 (the public tables)
from instrument.codemods.check.prefilter import could_have_findings, could_have_findings_text  # noqa: F401
from instrument.codemods.core.errors import InstrumentError

BLOCK_MESSAGE = "instrument block (remove with `instrument strip`)"
ALLOW_COMMENT = "# instrument: allow"

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


def _block_lines(source: str, yaml: bool = False,
                 strings: Optional[Sequence[tuple[int, int]]] = None) -> tuple[list[Finding], set[int]]:
    """Findings for the instrument blocks, and the 1-based lines they cover (``strings``: the
    Python source's string spans, :func:`marker_scan.string_spans`)."""
    try:
        blocks = markers.find_blocks(source, yaml=yaml, strings=strings)
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
        text = lines[block.begin]
        col = len(text) - len(text.lstrip(" \t\f")) + 1
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


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    """1-based column in characters, as editors count, from ast's UTF-8 byte offset."""
    text = lines[line - 1] if line <= len(lines) else ""
    if text.isascii():
        return byte_offset + 1
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def parse(source: str) -> ast.Module:
    """Python's own parser: a tenth of LibCST's cost, and check needs no round trip.

    Raises ``InstrumentError`` ("cannot parse: ...") for invalid Python.
    """
    return _parsed(source)[0]


def _parsed(source: str) -> tuple[ast.Module, bool]:
    """:func:`parse`'s tree, and whether this Python's parser made it from ``source`` itself
    (not from a lowered copy of a newer grammar, whose lines may differ)."""
    try:
        return ast.parse(source), True
    except (SyntaxError, ValueError):  # ValueError: null bytes
        # A grammar newer than this Python's (match on 3.9) is checked as on
        # the newer Python; the reason for a real error is worded alike.
        tree = grammar.lowered_tree(source)
        if tree is not None:
            return tree, False
        reason = grammar.syntax_error_reason(source)
    except (RecursionError, MemoryError):
        reason = "nested too deeply to analyse"
    raise InstrumentError(f"cannot parse: {reason}")


def find_debug_calls(source: str, module: Optional[ast.Module] = None) -> list[Finding]:
    """Hand-written remote-debug calls and debugger starts: outside instrument
    blocks, not allowed inline (a ``PythonScriptStep``'s ``--remote_debug`` is
    the pipeline kind's business, not reported here).

    Raises ``InstrumentError`` ("cannot parse: ...") for invalid Python.
    ``module`` may be passed when the caller has already parsed ``source``
    with :func:`ast.parse`; any other tree (a LibCST one) is not used.
    """
    if not could_have_findings_text(source):
        return []
    tree = module if isinstance(module, ast.Module) else None
    return [f for f in _blocks_and_calls(source, tree)[1] if not f.name.endswith("PythonScriptStep")]


def _blocks_and_calls(source: str, tree: Optional[ast.Module] = None) -> tuple[list[Finding], list[Finding]]:
    """The findings of the blocks and of the calls outside them. One walk of CPython's tree
    serves both: the fences' test (a fence outside every string literal that spans lines is a
    comment, no tokenizer needed) and the readers of calls. ``tree``: ``source`` as
    :func:`ast.parse` read it, when the caller has it."""
    native = tree is not None
    if tree is None:
        tree, native = _parsed(source)
    nodes = nodes_by_type(tree)
    blocks, in_blocks = _block_lines(source, strings=marker_scan.string_spans(nodes) if native else None)
    return blocks, _findings(source, tree, in_blocks, nodes)


def _findings(source: str, tree: ast.Module, in_blocks: set[int], nodes: Optional[dict] = None) -> list[Finding]:
    # Loaded here, not above: a file the byte test clears (nearly every file a commit holds)
    # never needs the readers, and ``instrument check`` runs on every commit.
    from instrument.codemods.check.sinks import Finder

    found: dict[tuple[int, str], tuple[int, int, int, str, str]] = {}
    for node, name, message in Finder(tree, source, code_pairs, nodes).findings():
        line = getattr(node, "lineno", 1)
        if line in in_blocks:
            continue
        key = (line, name)  # a value passed on and the call it is passed to: one finding
        entry = (line, getattr(node, "col_offset", 0), getattr(node, "end_lineno", None) or line, name, message)
        if key not in found or entry < found[key]:
            found[key] = entry
    if not found:
        return []  # the common case for instrumented files: every call is in a block
    allowed = _allow_comment_lines(source)
    lines = markers.split_lines(source)
    findings = []
    for line, offset, end_line, name, message in sorted(found.values()):
        if not allowed.intersection(range(line, end_line + 1)):
            findings.append(Finding(line, _column(lines, line, offset), message, name))
    return findings


def code_findings(code: str) -> list[Finding]:
    """The findings in a piece of code that something runs (``exec``, ``python -c``); none
    when it is not Python, or holds nothing a finding needs."""
    if not could_have_findings_text(code):
        return []
    try:
        tree = ast.parse(code)
        return _findings(code, tree, set())
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []


def code_pairs(code: str) -> list[tuple[str, str]]:
    """(qualified name, message) of each finding in a piece of code (:data:`check_commands.PythonCode`)."""
    return [(finding.name, finding.message) for finding in code_findings(code)]


def _is_allowed(finding: Finding, allow: Sequence[str]) -> bool:
    return bool(finding.name) and any(fnmatch.fnmatchcase(finding.name, pattern) for pattern in allow)


#: What ``check`` says of the helper module ``add`` writes beside scripts.
HELPER_MESSAGE = "instrument's helper module (`instrument strip` removes it with the last script that loads it)"
EDITED_HELPER_MESSAGE = "instrument's helper module, edited by hand (delete it when done debugging)"


def check_python(source: str, allow: Sequence[str] = ()) -> list[Finding]:
    """Every finding in a Python source, in line order (the helper module: one)."""
    if source.startswith(helper_header.FIRST_LINE):
        helper = helper_header.examine(source)
        return [Finding(1, 1, EDITED_HELPER_MESSAGE if helper.edited else HELPER_MESSAGE)]
    if not could_have_findings_text(source):
        return _block_lines(source)[0]
    try:
        blocks, found = _blocks_and_calls(source)
    except RecursionError:
        raise InstrumentError("cannot parse: nested too deeply to analyse") from None
    calls = [f for f in found if not _is_allowed(f, allow)]
    return sorted(blocks + calls, key=lambda f: (f.line, f.col))


def check_text(source: str) -> list[Finding]:
    """Every instrument block in a line-based file (a requirements file): every ``#`` line is a comment."""
    lines = markers.split_lines(source)
    try:
        blocks = markers.find_blocks(source, trusted=True)
    except markers.MarkerError as exc:
        return [Finding(1, 1, f"broken instrument block: {exc}")]
    return [Finding(b.begin + 1, len(lines[b.begin]) - len(lines[b.begin].lstrip(" \t")) + 1, BLOCK_MESSAGE)
            for b in blocks]


def check_yaml(source: str, allow: Sequence[str] = ()) -> list[Finding]:
    """Every instrument block in a YAML file, and, read as Azure ML reads the file
    (:mod:`.yaml_files`), every ``command:`` that starts a debugger or passes
    ``--remote_debug`` and every debug variable in ``environment_variables:``
    outside them.

    A YAML file that does not load cannot be run as a job either: only its
    blocks are reported.
    """
    blocks, in_blocks = _block_lines(source, yaml=True)
    if not could_have_findings(source.encode("utf-8", "surrogatepass"), yaml=True):
        return blocks
    from instrument.codemods.check import yaml_files as reader  # as Finder above

    try:
        found_values = reader.yaml_findings(source, code_pairs)
    except (reader.LoadError, RecursionError):
        return blocks
    lines = markers.split_lines(source)
    found = []
    for line, col, message in found_values:
        if line + 1 in in_blocks or (line < len(lines) and _ALLOW_RE.search(lines[line])):
            continue
        finding = Finding(line + 1, col + 1, message, "azureml.job.command")
        if not _is_allowed(finding, allow):
            found.append(finding)
    return sorted(blocks + found, key=lambda f: (f.line, f.col))


def allowed_line(line: str) -> bool:
    """Whether a line of a shell script or Dockerfile carries ``# instrument: allow``."""
    return bool(_ALLOW_RE.search(line))
