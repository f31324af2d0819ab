"""Resolve names through a module's imports, the cheap part of qualified names.

``from argparse import ArgumentParser as AP`` makes ``AP`` mean
``argparse.ArgumentParser``; ``import azureml.core as core`` makes
``core.Run.get_context`` mean ``azureml.core.Run.get_context``. This is what
LibCST's ``QualifiedNameProvider`` answers for imported names, at a fraction
of the cost: the codemods only ask about a few call targets per file, and
a full metadata pass costs several parses (see bench/run.py).
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst
from libcst.helpers import get_full_name_for_node


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
                dotted = get_full_name_for_node(alias.name)
                if dotted is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.aliases[alias.asname.name.value] = dotted
                else:
                    top = dotted.split(".", 1)[0]
                    self.aliases.setdefault(top, top)
            return
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = get_full_name_for_node(node.module)
        for alias in node.names:
            imported = get_full_name_for_node(alias.name)
            if module is None or imported is None:
                continue
            local = alias.asname.name.value if alias.asname is not None else imported
            self.aliases[local] = f"{module}.{imported}"

    def qualified_name(self, node: cst.BaseExpression) -> Optional[str]:
        """``argparse.ArgumentParser`` for ``ap.ArgumentParser`` after ``import argparse as ap``."""
        dotted = get_full_name_for_node(node)
        if dotted is None:
            return None
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
