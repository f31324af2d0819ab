"""The import rules of the code base, read with :mod:`ast` (imports inside functions included).

* no import circle between modules;
* no ``_private`` name imported from another module;
* ``codemods`` (text in, text out) never imports ``instrument`` (I/O);
* a kind module never imports another kind module (what two kinds share lives below them).
"""

from __future__ import annotations

import ast
from pathlib import Path


def modules(packages: dict[str, Path]) -> dict[str, Path]:
    """{dotted name: file} for every module of the packages ({package name: folder})."""
    found = {}
    for package, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _imports(name: str, path: Path, known: dict) -> list[tuple[str, str]]:
    """(module imported, name taken from it or "") for each import of a module of ``known``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full, "") if full in known else (base, alias.name))
    resolved = []
    for target, taken in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.append((target, taken))
    return resolved


def _circles(edges: dict[str, set]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set = set()
    groups = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def _kind_of(module: str, kinds: str):
    """The kind a module belongs to (``kinds.sdk_job.plan``: ``sdk_job``), None outside the kinds."""
    if not module.startswith(kinds + "."):
        return None
    return module[len(kinds) + 1 :].split(".")[0]


def problems(packages: dict[str, Path], pure: str, io: str, kinds: str) -> set[str]:
    """Every break of the rules, one line each."""
    known = modules(packages)
    edges: dict[str, set] = {name: set() for name in known}
    found = set()
    for name, path in known.items():
        for target, taken in _imports(name, path, known):
            edges[name].add(target)
            if taken.startswith("_") and not taken.startswith("__"):
                found.add(f"private: {name} imports {target}.{taken}")
            if name.startswith(pure + ".") and not target.startswith(pure) and target.startswith(io):
                found.add(f"layer: {name} imports {target}")
            if _kind_of(name, kinds) and _kind_of(target, kinds) not in (None, "base", _kind_of(name, kinds)):
                found.add(f"kind: {name} imports {target}")
    for group in _circles(edges):
        found.add("circle: " + " -> ".join(group))
    return found
