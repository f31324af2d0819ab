"""Resolve names through a module's imports, the cheap part of qualified names.

``from argparse import ArgumentParser as AP`` makes ``AP`` mean
``argparse.ArgumentParser``; ``import azureml.core as core`` makes
``core.Run.get_context`` mean ``azureml.core.Run.get_context``. This is what
LibCST's ``QualifiedNameProvider`` answers for imported names, at a fraction
of the cost: the codemods only ask about a few call targets per file, and
a full metadata pass costs several parses (see bench/run.py).
"""

from __future__ import annotations

import ast
import textwrap
from typing import Optional, Union

import libcst as cst
from libcst.helpers import get_full_name_for_node


#: What ``from <module> import *`` binds that matters here (the parser class).
STAR_EXPORTS = {"argparse": frozenset({"ArgumentParser"})}


def import_name(node: cst.BaseExpression) -> Optional[str]:
    """The dotted name an import statement names (``a.b.c``): a ``Name`` or
    a chain of ``Attribute`` on one, the only shapes imports have, read
    without LibCST's general helper (imports are read for every file)."""
    parts = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return get_full_name_for_node(node)
    parts.append(node.value)
    return ".".join(reversed(parts))


class ImportTable:
    """Local name -> fully qualified name, from every import in the module."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}

    @property
    def bound_names(self) -> set[str]:
        return set(self.aliases)

    def add(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = import_name(alias.name)
                if dotted is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.aliases[alias.asname.name.value] = dotted
                else:
                    top = dotted.split(".", 1)[0]
                    self.aliases.setdefault(top, top)
            return
        if node.relative or node.module is None:
            return
        module = import_name(node.module)
        if module is None:
            return
        if isinstance(node.names, cst.ImportStar):
            for name in STAR_EXPORTS.get(module, ()):
                self.aliases[name] = f"{module}.{name}"
            return
        for alias in node.names:
            imported = import_name(alias.name)
            if imported is None:
                continue
            # `as` takes a plain name in `from ... import` (the grammar allows nothing else)
            asname = alias.asname.name if alias.asname is not None else None
            local = asname.value if isinstance(asname, cst.Name) else imported
            self.aliases[local] = f"{module}.{imported}"

    def qualified_name(self, node: cst.BaseExpression) -> Optional[str]:
        """``argparse.ArgumentParser`` for ``ap.ArgumentParser`` after ``import argparse as ap``."""
        dotted = get_full_name_for_node(node)
        return None if dotted is None else self.qualified_dotted(dotted)

    def qualified_dotted(self, dotted: str) -> Optional[str]:
        """:meth:`qualified_name` for a name already spelled out (``ap.ArgumentParser``)."""
        head, _, rest = dotted.partition(".")
        if head not in self.aliases:
            return None
        base = self.aliases[head]
        return f"{base}.{rest}" if rest else base


def free_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not taken."""
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def binds_locally(function_code: str, name: str) -> bool:
    """Could ``name`` be a local variable of this function (or of one inside it)?

    Any binding counts: a parameter, an assignment or ``for``/``with``/
    ``except``/``import`` target, a nested ``def``; a ``global`` statement
    for the name makes it not local. When in doubt (the text does not parse
    on its own), True.
    """
    try:
        tree = ast.parse(textwrap.dedent(function_code))
    except (SyntaxError, ValueError):
        return True
    return binds_locally_in(tree, name)


def binds_locally_in(function: ast.AST, name: str) -> bool:
    """:func:`binds_locally` for a function's ``ast`` node (no second parse)."""
    from instrument.codemods.python.source_facts import nodes_of

    bound = False
    for node in nodes_of(function):
        kind = type(node)
        if kind in _DECLARING and name in node.names:
            return False
        if kind is ast.Name:
            bound = bound or (node.id == name and type(node.ctx) is not ast.Load)
        elif kind is ast.arg:
            bound = bound or node.arg == name
        elif kind is ast.alias:
            bound = bound or (node.asname or node.name.partition(".")[0]) == name
        elif kind in _NAMED_BINDINGS:
            bound = bound or getattr(node, "name", None) == name
    return bound


_DECLARING = (ast.Global, ast.Nonlocal)
_NAMED_BINDINGS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)
