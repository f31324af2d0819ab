"""Find remote-debug code that must not reach production (``instrument check``).

Two kinds of finding, each a :class:`Finding` at a 1-based line and column:

* an instrument block (the fences of :mod:`instrument.codemods.markers`), in Python and in
  conda YAML: exactly what ``instrument strip`` would remove, reported once at
  its ``# >>> instrument`` line however many debug calls it holds;
* a hand-written call that opens, waits on or breaks into a remote debugger
  (``debugpy.listen`` and friends, see :data:`DEBUG_CALLS`), found by its
  qualified name, resolved through the module's imports (also ``from debugpy
  import *``, ``importlib.import_module("debugpy")``, ``__import__``,
  ``getattr`` with a literal name and plain assignments), so
  ``from debugpy import listen as l; l()`` counts and ``socket.listen()`` or a
  string mentioning ``debugpy.listen`` does not;
* a debugger started another way: ``runpy.run_module("debugpy")``,
  ``python -m debugpy`` run by ``subprocess``/``os.system``/``os.popen``
  (:mod:`instrument.codemods.check_commands`), ``'--remote_debug'`` among a
  ``PythonScriptStep``'s arguments; in YAML, a job's ``command:`` or
  ``AZUREML_DEBUG_PORT`` (see :func:`check_yaml`).

What is looked at is the source as Python runs it: decoded by its coding line
(``# coding: utf-7`` included) and with identifiers NFKC-normalised, as the
parser does (``ｄｅｂｕｇｐｙ`` is ``debugpy``). Names computed at run time
(``__import__("de" + "bugpy")``, ``exec`` of a string) are beyond a reading of
the source, and a file whose decoded text spells none of the module names is
not parsed (:func:`could_have_findings`).

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
import unicodedata
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

from instrument.codemods import check_commands, markers
from instrument.codemods.errors import CodemodError

_LISTEN = "opens a debug listener"
_CONNECT = "connects out to a debugger"
_WAIT = "waits for a debugger to attach"
_BREAK = "breaks into an attached debugger"
#: The calls that make a process reachable by (or reach out to) a debugger,
#: with why each one is dangerous in production: the public names and the
#: modules that implement them (``debugpy.server.api``, ptvsd's
#: ``attach_server``, the pydevd underneath both).
DEBUG_CALLS = {
    "debugpy.listen": _LISTEN,
    "debugpy.connect": _CONNECT,
    "debugpy.wait_for_client": _WAIT,
    "debugpy.breakpoint": _BREAK,
    "ptvsd.enable_attach": _LISTEN,
    "ptvsd.wait_for_attach": _WAIT,
    "ptvsd.break_into_debugger": _BREAK,
    **{f"debugpy.{module}.{name}": why for module in ("public_api", "server.api")
       for name, why in (("listen", _LISTEN), ("connect", _CONNECT), ("wait_for_client", _WAIT),
                         ("breakpoint", _BREAK))},
    **{f"ptvsd.attach_server.{name}": why for name, why in (("enable_attach", _LISTEN),
                                                           ("wait_for_attach", _WAIT),
                                                           ("break_into_debugger", _BREAK))},
    "debugpy.server.cli.main": "runs the debugpy command line (a debug listener)",
    "pydevd.settrace": _CONNECT,
    "pydevd_pycharm.settrace": _CONNECT,
}
#: Modules whose names a finding needs somewhere in the decoded source.
_MODULE_NAMES = ("debugpy", "ptvsd", "pydevd")
BLOCK_MESSAGE = "instrument block (remove with `instrument strip`)"
ALLOW_COMMENT = "# instrument: allow"

# Any of these must occur in a file for it to hold a finding: a call needs its
# module's name somewhere (an import, a string), a block its fence, a step
# argument the flag.
_PYTHON_NEEDLES = (*_MODULE_NAMES, check_commands.REMOTE_DEBUG_FLAG, markers.BEGIN, markers.END)
_YAML_NEEDLES = tuple(n.encode() for n in (check_commands.DEBUG_PORT_VARIABLE, markers.BEGIN, markers.END))
_YAML_COMMAND_NEEDLES = tuple(n.encode() for n in (*_MODULE_NAMES, check_commands.REMOTE_DEBUG_FLAG))
_ALLOW_RE = re.compile(r"#\s*instrument:\s*allow(?![\w-])")
_MARKER_LINE_RE = re.compile(r"^line (\d+): ")
_COOKIE_RE = re.compile(rb"^[ \t\f]*#[^\r\n]*?coding[:=]", re.MULTILINE)

#: Calls that return the module named by their first argument.
_DYNAMIC_IMPORTS = frozenset({"importlib.import_module", "__import__", "builtins.__import__", "importlib.__import__"})
#: Calls that run a module as ``python -m`` would.
_RUN_MODULE = frozenset({"runpy.run_module", "runpy._run_module_as_main"})
#: Calls that run a command line (a string for a shell, or a list of words).
_SPAWN_CALLS = frozenset(
    {f"subprocess.{name}" for name in ("run", "call", "check_call", "check_output", "Popen", "getoutput",
                                       "getstatusoutput")}
    | {f"os.{name}" for name in ("system", "popen", "execv", "execve", "execl", "execle", "execlp", "execlpe",
                                 "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv",
                                 "spawnve", "spawnvp", "spawnvpe", "posix_spawn", "posix_spawnp")}
    | {"asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "pty.spawn"}
)
#: Roots of the names an assignment may alias (``l = debugpy.listen``).
_ALIASED_ROOTS = frozenset({*_MODULE_NAMES, "pydevd_pycharm", "runpy", "importlib", "subprocess", "os", "asyncio",
                            "pty", "builtins", "__import__"})


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

    Most files are ASCII, without a coding line: there a byte search is the
    search of the text Python reads. A file with other bytes, or a coding
    line, is decoded and its identifiers normalised first (as Python's
    parser does), so ``# coding: utf-7`` or fullwidth letters hide nothing.
    A file Python cannot decode cannot run, so it holds no finding.
    """
    if yaml:  # UTF-8 only, and YAML does not normalise: the bytes are the text
        return any(needle in data for needle in _YAML_NEEDLES) or (
            b"command" in data and any(needle in data for needle in _YAML_COMMAND_NEEDLES)
        )
    if any(needle.encode() in data for needle in _PYTHON_NEEDLES):
        return True
    if data.isascii() and not _COOKIE_RE.search(data, 0, _cookie_span(data)):
        return False
    try:
        text = _decode_python(data)
    except (UnicodeDecodeError, ValueError, LookupError):
        return False  # Python cannot read it either: it runs nothing
    return _mentions(text, _PYTHON_NEEDLES)


def _cookie_span(data: bytes) -> int:
    """Where the first two lines end (PEP 263 looks no further)."""
    end = data.find(b"\n")
    end = data.find(b"\n", end + 1) if end >= 0 else -1
    return len(data) if end < 0 else end


def _decode_python(data: bytes) -> str:
    from instrument import files

    return files.decode(data).text


def _mentions(text: str, needles: Sequence[str]) -> bool:
    """Whether ``text``, read as Python reads identifiers (NFKC), holds a needle."""
    if any(needle in text for needle in needles):
        return True
    return not text.isascii() and any(needle in unicodedata.normalize("NFKC", text) for needle in needles)


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


def _string(node: Optional[ast.AST]) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _resolve(node: ast.AST, table: dict[str, set[str]]) -> set[str]:
    """The qualified names an expression may stand for (empty: none known).

    A name bound by imports (or an aliasing assignment) means what they bind;
    one bound by none means what it spells.
    """
    if isinstance(node, ast.Name):
        return table.get(node.id) or {node.id}
    if isinstance(node, ast.Attribute):
        return {f"{base}.{node.attr}" for base in _resolve(node.value, table)}
    if isinstance(node, ast.Call):
        callee = _resolve(node.func, table)
        first = _string(node.args[0]) if node.args else _string(_keyword(node, "name"))
        if callee & _DYNAMIC_IMPORTS and first:
            from_list = node.args[3] if len(node.args) > 3 else _keyword(node, "fromlist")
            whole = "importlib.import_module" in callee or (from_list is not None and _truthy(from_list))
            return {first if whole else first.split(".", 1)[0]}
        if "getattr" in callee and len(node.args) >= 2 and _string(node.args[1]):
            return {f"{base}.{node.args[1].value}" for base in _resolve(node.args[0], table)}
        return set()
    if isinstance(node, ast.Subscript) and _string(node.slice) and "sys.modules" in _resolve(node.value, table):
        return {node.slice.value}
    return set()


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _truthy(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return bool(node.value)
    return not (isinstance(node, (ast.List, ast.Tuple)) and not node.elts)


def _imports_and_calls(tree: ast.Module) -> tuple[dict[str, set[str]], list[ast.Call]]:
    """Local name -> the qualified names its imports (anywhere in the module)
    and aliasing assignments bind it to; and every call, in one walk of the tree."""
    table: dict[str, set[str]] = {}
    calls: list[ast.Call] = []
    assignments: list[tuple[list[ast.expr], ast.expr]] = []
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
                    continue
                prefix = f"{node.module}."
                for name in DEBUG_CALLS:  # what a star import of a debugger module binds
                    if name.startswith(prefix) and "." not in name[len(prefix):]:
                        table.setdefault(name[len(prefix):], set()).add(name)
        elif isinstance(node, ast.Assign):
            assignments.append((node.targets, node.value))
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            assignments.append(([node.target], node.value))
    for _ in range(2):  # an alias of an alias
        for targets, value in assignments:
            meanings = {m for m in _resolve(value, table) if m.split(".", 1)[0] in _ALIASED_ROOTS}
            for target in targets:
                if meanings and isinstance(target, ast.Name):
                    table.setdefault(target.id, set()).update(meanings)
    return table, calls


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    """1-based column in characters, as editors count, from ast's UTF-8 byte offset."""
    text = lines[line - 1] if line <= len(lines) else ""
    if text.isascii():
        return byte_offset + 1
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def _call_message(name: str, spelling: str) -> str:
    alias = f" (called as {spelling}())" if spelling != name else ""
    return f"{name}(){alias} {DEBUG_CALLS[name]}"


def _spelling(node: ast.expr) -> str:
    """The callee as written, kept short and on one line for a message."""
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def parse(source: str) -> ast.Module:
    """Python's own parser: a tenth of LibCST's cost, and check needs no round trip.

    Raises ``CodemodError`` ("cannot parse: ...") for invalid Python.
    """
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes
        reason = f"{exc.msg} (line {exc.lineno}, column {exc.offset})" if isinstance(exc, SyntaxError) else exc
    except (RecursionError, MemoryError):
        reason = "nested too deeply to analyse"
    raise CodemodError(f"cannot parse: {reason}")


def find_debug_calls(source: str, module: Optional[ast.Module] = None) -> list[Finding]:
    """Hand-written remote-debug calls and debugger starts: outside instrument
    blocks, not allowed inline (a ``PythonScriptStep``'s ``--remote_debug`` is
    the pipeline kind's business, not reported here).

    Raises ``CodemodError`` ("cannot parse: ...") for invalid Python.
    ``module`` may be passed when the caller has already parsed ``source``
    with :func:`ast.parse`; any other tree (a LibCST one) is not used.
    """
    if not _mentions(source, _MODULE_NAMES):
        return []
    tree = module if isinstance(module, ast.Module) else parse(source)
    return [f for f in _findings(source, tree, _block_lines(source)[1]) if not f.name.endswith("PythonScriptStep")]


def _call_findings(node: ast.Call, table: dict[str, set[str]]) -> Iterator[tuple[str, str]]:
    """(qualified name, message) for each reason a call must not ship."""
    callee = _resolve(node.func, table)
    for name in sorted(callee & DEBUG_CALLS.keys()):
        yield name, _call_message(name, _spelling(node.func))
    if callee & _RUN_MODULE:
        module = _string(node.args[0]) if node.args else _string(_keyword(node, "mod_name"))
        if module and module.split(".", 1)[0] in check_commands.DEBUGGER_MODULES:
            yield f"{module}.__main__", f"{_spelling(node.func)}({module!r}) runs `python -m {module}`, a debugger"
    if callee & _SPAWN_CALLS:
        words = list(_command_words(node))
        started = check_commands.debugger_command(words)
        if started is not None:
            module = started.split()[2]
            yield f"{module}.__main__", f"{_spelling(node.func)}() runs `{started}`, a debugger"
    if any(name == "PythonScriptStep" or name.endswith(".PythonScriptStep") for name in callee):
        if any(_string(inner) == check_commands.REMOTE_DEBUG_FLAG for inner in ast.walk(node)):
            yield ("azureml.pipeline.steps.PythonScriptStep",
                   f"'{check_commands.REMOTE_DEBUG_FLAG}' in the arguments of {_spelling(node.func)}() "
                   "starts the step in debug mode")


def _command_words(node: ast.Call) -> Iterator[str]:
    """The words of the literal command lines among a call's arguments."""
    for argument in [*node.args, *(k.value for k in node.keywords)]:
        if _string(argument) is not None:
            yield from check_commands.tokens(argument.value)
        elif isinstance(argument, (ast.List, ast.Tuple)):
            for item in argument.elts:
                text = _string(item)
                yield text if text is not None else "\0"  # a word not known, keeps positions


def _findings(source: str, tree: ast.Module, in_blocks: set[int]) -> list[Finding]:
    table, calls = _imports_and_calls(tree)
    found = []
    for node in calls:
        if node.lineno in in_blocks:
            continue
        for name, message in _call_findings(node, table):
            found.append((node.lineno, node.col_offset, node.end_lineno or node.lineno, name, message))
    if not found:
        return []  # the common case for instrumented files: every call is in a block
    allowed = _allow_comment_lines(source)
    lines = markers.split_lines(source)
    findings = []
    for line, offset, end_line, name, message in sorted(found):
        if not allowed.intersection(range(line, end_line + 1)):
            findings.append(Finding(line, _column(lines, line, offset), message, name))
    return findings


def _is_allowed(finding: Finding, allow: Sequence[str]) -> bool:
    return bool(finding.name) and any(fnmatch.fnmatchcase(finding.name, pattern) for pattern in allow)


def check_python(source: str, allow: Sequence[str] = ()) -> list[Finding]:
    """Every finding in a Python source, in line order."""
    blocks, in_blocks = _block_lines(source)
    calls = []
    if _mentions(source, _PYTHON_NEEDLES[:-2]):
        try:
            found = _findings(source, parse(source), in_blocks)
        except RecursionError:
            raise CodemodError("cannot parse: nested too deeply to analyse") from None
        calls = [f for f in found if not _is_allowed(f, allow)]
    return sorted(blocks + calls, key=lambda f: (f.line, f.col))


def check_yaml(source: str, allow: Sequence[str] = ()) -> list[Finding]:
    """Every instrument block in a YAML file, and every job ``command:`` that
    starts a debugger or passes ``--remote_debug`` and every
    ``AZUREML_DEBUG_PORT`` outside them.

    A YAML file that does not load cannot be run as a job either: only its
    blocks are reported.
    """
    blocks, in_blocks = _block_lines(source)
    if not could_have_findings(source.encode("utf-8", "surrogatepass"), yaml=True):
        return blocks
    from instrument.codemods.errors import InstrumentError
    from instrument.codemods.yaml_text import load

    try:
        document = load(source)
    except InstrumentError:
        return blocks
    lines = markers.split_lines(source)
    found = []
    for line, col, message, needle in check_commands.yaml_findings(document):
        if needle:  # the line of the value that holds the flag (a block scalar spans lines)
            at = next((i for i in range(line, len(lines)) if needle in lines[i]), line)
            if at != line:
                line, col = at, lines[at].index(needle)
        if line + 1 in in_blocks or (line < len(lines) and _ALLOW_RE.search(lines[line])):
            continue
        finding = Finding(line + 1, col + 1, message, "azureml.job.command")
        if not _is_allowed(finding, allow):
            found.append(finding)
    return sorted(blocks + found, key=lambda f: (f.line, f.col))
