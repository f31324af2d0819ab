"""YAML anchors, aliases and merge keys in v2 job definitions: who else uses a node.

A ``command:`` (or an inline ``conda_file:``) that reaches a holder through an
alias (``command: *train_cmd``) or a merge key (``<<: *node_defaults``) is
written once, at its anchor. Editing it there changes every user of the
anchor, so ``add`` edits it only when every user is a holder that this run
instruments the same way (the node's flags are then written once and every
node gets them); otherwise it refuses with one line that names the anchor.

Users are found on ruamel.yaml's composed node graph, where an alias is the
very node object of its anchor: the document is walked by *logical* paths (the
keys a loader sees, merge keys resolved as YAML 1.1 says: a mapping's own keys
first, then each merged mapping in order), and a node's users are every path
at which that same object shows up.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from instrument.codemods.core.errors import InstrumentError

MERGE_TAG = "tag:yaml.org,2002:merge"


def _is_merge(key: Any) -> bool:
    return getattr(key, "tag", None) == MERGE_TAG or getattr(key, "value", None) == "<<"


def _merged(value: Any) -> list:
    """The mappings a merge key brings in: one mapping, or a sequence of them."""
    if getattr(value, "id", None) == "mapping":
        return [value]
    if getattr(value, "id", None) == "sequence":
        return [item for item in value.value if getattr(item, "id", None) == "mapping"]
    return []


def items(node: Any, depth: int = 0) -> Iterator[tuple[Any, Any]]:
    """(key node, value node) of a mapping as a loader sees it: own keys, then merged ones not yet seen."""
    if getattr(node, "id", None) != "mapping" or depth > 32:
        return
    seen: set = set()
    merges = []
    for key, value in node.value:
        if _is_merge(key):
            merges.extend(_merged(value))
            continue
        seen.add(key.value)
        yield key, value
    for source in merges:
        for key, value in items(source, depth + 1):
            if key.value not in seen:
                seen.add(key.value)
                yield key, value


def child(node: Any, key: str) -> Optional[tuple[Any, Any]]:
    """(key node, value node) of ``key`` in a mapping, merge keys resolved; the key node is where it is written."""
    return next(((k, v) for k, v in items(node) if getattr(k, "value", None) == key), None)


class Users:
    """Every logical path at which each node of a document shows up."""

    def __init__(self, root: Any) -> None:
        self.paths: dict[int, list[tuple]] = {}
        self._walk(root, (), 0)

    def _walk(self, node: Any, path: tuple, depth: int) -> None:
        if node is None or depth > 64:
            return
        self.paths.setdefault(id(node), []).append(path)
        if node.id == "mapping":
            for key, value in items(node):
                self._walk(value, path + (key.value,), depth + 1)
        elif node.id == "sequence":
            for index, item in enumerate(node.value):
                self._walk(item, path + (index,), depth + 1)

    def of(self, node: Any) -> list[tuple]:
        return self.paths.get(id(node), [])


def definition(root: Any, node: Any) -> tuple[Any, Any]:
    """(key node, anchored node) of the place a node is written.

    The key whose value it is where it is written (None for a sequence item or
    the root), and its own anchor's node, else the nearest anchored mapping or
    sequence around it (None: not anchored). The first time a walk in
    document order meets a node is where it is written: an anchor always comes
    before its aliases.
    """
    stack: list = [(root, None, None)]
    seen: set = set()
    while stack:
        current, key, anchored = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if getattr(current, "anchor", None):
            anchored = current
        if current is node:
            return key, anchored
        if current.id == "mapping":
            stack.extend((value, k, anchored) for k, value in reversed(current.value))
        elif current.id == "sequence":
            stack.extend((item, None, anchored) for item in reversed(current.value))
    return None, None


def spelled(path: tuple) -> str:
    return ".".join(str(key) for key in path) or "the document"


class Claims:
    """The nodes a plan edits, each with the logical paths it is edited for.

    A node reached at several paths (an alias, a merge key) is edited once;
    :meth:`check` refuses the plan when some path that also uses it is not
    one the plan edits it for.
    """

    def __init__(self, root: Any) -> None:
        self.root = root
        self.claimed: dict[int, tuple[Any, list, list]] = {}  # id -> (node, paths, edits)

    def claim(self, node: Any, path: tuple, edit: Any = None) -> bool:
        """Record that ``path`` edits ``node``; True the first time (write the edit), False after.

        A later claim with another ``edit`` than the first is refused: one
        text cannot carry two different edits.
        """
        entry = self.claimed.setdefault(id(node), (node, [], []))
        entry[1].append(path)
        if entry[2] and edit is not None and entry[2][0] != edit:
            name, line = self._anchor(node)
            raise InstrumentError(f"line {line}: {spelled(entry[1][0])} and {spelled(path)} share the anchor "
                                  f"&{name} but need different edits; add the flags by hand")
        first = not entry[2]
        entry[2].append(edit)
        return first

    def _anchor(self, node: Any) -> tuple[str, int]:
        _, anchored = definition(self.root, node)
        if anchored is None:
            return "?", node.start_mark.line + 1
        return anchored.anchor, anchored.start_mark.line + 1

    def check(self) -> None:
        """Raise unless every user of every edited node is a path the plan edits it for."""
        if not self.claimed:
            return
        users = Users(self.root)
        for node, paths, _ in self.claimed.values():
            others = [path for path in users.of(node) if path not in paths]
            if others:
                name, line = self._anchor(node)
                raise InstrumentError(
                    f"line {line}: {spelled(paths[0])} comes through an alias or merge key of the anchor &{name}, "
                    f"which {spelled(others[0])} also uses and this run does not instrument; editing it would "
                    "change both: add the flags by hand, or instrument every user of the anchor")
