"""The registry of target kinds: every module here that defines ``KIND``.

The CLI's ``--kind`` choices, the file walker's suffixes, the runner's
detection and the README's table of kinds all read :data:`NAMES` and
:func:`get`; adding a kind is adding its module to :data:`MODULES`.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Optional

from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.languages import PYTHON, YAML

if TYPE_CHECKING:
    from instrument.codemods.kinds.base import Kind

#: Kind modules, in the order of the README's table.
MODULES = ("train", "score", "pipeline", "sdk_job", "env", "job", "component", "pipeline_job", "environment",
           "deployment", "dockerfile", "requirements")


@lru_cache(maxsize=None)
def all_kinds() -> tuple[Kind, ...]:
    return tuple(importlib.import_module(f"{__name__}.{module}").KIND for module in MODULES)


#: Kind names; each module is named after its kind.
NAMES = MODULES


def get(name: str) -> Kind:
    for kind in all_kinds():
        if kind.name == name:
            return kind
    raise InstrumentError(f"unknown kind {name!r} (known: {', '.join(NAMES)})")


@lru_cache(maxsize=None)
def suffixes(language: Optional[str] = None) -> tuple[str, ...]:
    """File suffixes some kind is looked for in (of one language, or all)."""
    found: dict[str, None] = {}
    for kind in all_kinds():
        if language is None or kind.language == language:
            found.update(dict.fromkeys(kind.suffixes))
    return tuple(found)


def language_of(name: str) -> Optional[str]:
    """The language a file name says (by suffix, or a kind's name pattern), or None."""
    import fnmatch
    import os

    lowered = name.lower()
    base_name = os.path.basename(lowered)
    for kind in all_kinds():
        if any(fnmatch.fnmatchcase(base_name, pattern.lower()) for pattern in kind.names):
            return kind.language
    if lowered.endswith(suffixes(YAML)):
        return YAML
    if lowered.endswith(suffixes(PYTHON)) or name == "-":
        return PYTHON
    return None


def script_kind() -> Kind:
    """The kind a Python file is taken as when named although no kind detects it (an entry script)."""
    return next(kind for kind in all_kinds() if kind.any_script)


def bringing(name: Optional[str]) -> bool:
    """Whether files of the kind ``name`` name other files that change with them."""
    return name is not None and get(name).brings


def may_bring(source: str) -> bool:
    """Whether a Python source can be of a kind that brings other files, from CPython's tree (a
    fraction of LibCST's parse): each such kind accepts only a file that imports one of its
    ``imports`` modules (or from one, or one inside it), anywhere. True when CPython cannot parse
    the source: LibCST knows more grammars, and its detection decides."""
    import ast

    wanted = _bringing_imports()
    if wanted is None:
        return True
    try:
        tree = compile(source, "<source>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(name == module or name.startswith(module + ".") for name in names for module in wanted):
            return True
    return False


@lru_cache(maxsize=None)
def _bringing_imports() -> Optional[tuple[str, ...]]:
    """The ``imports`` of every Python kind that brings; None: one of them names none."""
    bringing = [kind for kind in all_kinds() if kind.language == PYTHON and kind.brings]
    if any(not kind.imports for kind in bringing):
        return None
    return tuple(module for kind in bringing for module in kind.imports)


def runs_commands(name: Optional[str]) -> bool:
    """Whether the kind ``name`` is a definition whose commands run entry scripts."""
    return name is not None and get(name).runs_commands


def block_names() -> tuple[str, ...]:
    """Name patterns of files that add writes blocks into only when a job names them
    (``requirements*.txt``): strip and check look at them while walking, add does not."""
    return get("requirements").names


def by_priority(language: str) -> list[Kind]:
    return sorted((k for k in all_kinds() if k.language == language), key=lambda k: k.priority)


def detect(text: str, tree: Any, language: str) -> Optional[Kind]:
    """The first kind of the language whose ``detect`` accepts the file, or None."""
    for kind in by_priority(language):
        if kind.detect(text, tree):
            return kind
    return None


# The names the tests and the runner use for Python sources.


def parse(source: str) -> Any:
    """A Python source's LibCST tree (one-line error)."""
    from instrument.codemods.python.parsing import parse_module

    return parse_module(source)


def detect_python_kind(source: str, module: Any = None) -> Optional[str]:
    """``score``, ``pipeline``, ``train`` (an entry script) or None (a library module)."""
    kind = detect(source, module if module is not None else parse(source), PYTHON)
    return kind.name if kind is not None else None


def strip(source: str, kind: str) -> str:
    """Remove every instrument block; a Python result must still parse."""
    from instrument.codemods.kinds import base

    return base.strip(get(kind).language, source)


def get_language_parser(language: str):
    """The parse function of a language (one parse per file, shared by detection and plan)."""
    from instrument.codemods.languages import parser

    return parser(language)


def described(language: str) -> str:
    """The kinds of a language, for a message: ``a conda environment ..., a job ...``."""
    return "; ".join(kind.summary for kind in by_priority(language))


def markdown_table() -> str:
    """The README's table of kinds, from the registry (a test keeps the README in step)."""
    rows = ["| kind | what | looked for in | default timeout | options beyond port, timeout, host, ranks |",
            "| --- | --- | --- | --- | --- |"]
    from instrument.codemods.kinds.base import LISTENER_OPTIONS
    from instrument.codemods.core.options import FLAGS

    for kind in all_kinds():
        named = ", ".join(f"`{pattern}`" for pattern in kind.names)
        suffixes = ", ".join(f"`*{suffix}`" for suffix in kind.suffixes) or f"named files only ({named})"
        timeout = f"{kind.default_timeout} s" if kind.default_timeout else "—"
        extra = sorted(kind.options - LISTENER_OPTIONS)
        options = ", ".join(f"`{FLAGS[option]}`" for option in extra) or "—"
        if not kind.options:
            options = "none (no listener)"
        rows.append(f"| `{kind.name}` | {kind.summary} | {suffixes} | {timeout} | {options} |")
    return "\n".join(rows) + "\n"
