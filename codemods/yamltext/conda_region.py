"""The cheap proof that an edited conda environment means the original plus debugpy.

``add`` changes a conda file by inserting fenced lines into its
``dependencies:`` list (:mod:`instrument.codemods.yamltext.conda_env`). Loading the
whole result again to check it would cost as much as the load that planned
the edit, so verification loads only the *region* the edit is in: the
dependencies from the first one the edit touches (the ``- pip:`` entry, or
the last dependency when a pip section is appended) to the line that ended
them in the original (the next dependency, the next top-level key, or the
end of the file). The result proves itself when

1. stripping its blocks gives the original back (checked by the caller),
2. every line before and after the region is the original's, unchanged,
3. the region, loaded on its own, is the original dependencies of the
   region with debugpy added, and
4. nothing outside the region can make the region read differently in
   place than on its own: no ``%`` directive (a YAML version or tag handle
   changes how scalars resolve), no line break but ``\\r`` and ``\\n``
   (ruamel.yaml may count ``\\x85``, ``\\u2028``, ``\\u2029`` as line breaks, so
   its line numbers would not be ours), the region starts at a line whose
   only text before the item is its ``- ``, and no line of the region (but
   comments and blank lines) is indented less than that dash, so none ends
   the list or belongs to a parent in place but not on its own. An alias to
   an anchor outside the region does not load on its own.

The region is read with libyaml first (PyYAML's C safe loader, a few per
cent of a round-trip load, and how conda itself reads the file): where it
reads as 3 says, scalar for scalar equal to what the round-trip load of the
original made of them, the block structure both loaders share is proven.
Where libyaml is missing, refuses the region or reads anything else (a
scalar YAML 1.1 resolves otherwise, a tag), ruamel.yaml's round-trip load
of the region decides.

Where 4 does not hold, or the region does not load, the caller loads the
whole result; a region that loads to anything else is an internal error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Optional

from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.fences import markers

_DASH_RE = re.compile(r"( *)-[ \t]+")
_INDENT_RE = re.compile(r" *")
#: Line breaks of YAML that are not line breaks of ``markers.split_lines``.
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")


@dataclass(frozen=True)
class Edited:
    """Where the edited dependencies are in the original, and what they must load as."""

    first: int  # the line of the first dependency the edit touches (its dash on that line)
    end: Optional[int]  # the line that ended them in the original; None: the end of the file
    dash: int  # the column of that dependency's dash
    items: list  # what the region loads as with debugpy added


def edited(root: Any, dependencies: CommentedSeq, index: int, items: list, lines: list[str]) -> Optional[Edited]:
    """The region of ``root``'s dependencies from ``index`` on, or None when it cannot be told
    (a flow-style list, an item not on its dash's line, positions missing)."""
    if not isinstance(root, CommentedMap) or dependencies.fa.flow_style():
        return None
    try:
        first, column = dependencies.lc.item(index)
        if index + 1 < len(dependencies):
            end: Optional[tuple] = dependencies.lc.item(index + 1)
            starts = _DASH_RE
        else:
            below = root.lc.key("dependencies")[0]
            end = min((position for position in map(root.lc.key, root) if position[0] > below), default=None)
            starts = _INDENT_RE
    except (KeyError, IndexError, TypeError):
        return None
    dash = _DASH_RE.fullmatch(lines[first][:column]) if first < len(lines) else None
    if dash is None or end is not None and not (end[0] < len(lines) and starts.fullmatch(lines[end[0]][: end[1]])):
        return None  # the next item's dash or the next key is not the first thing on its line
    return Edited(first, None if end is None else end[0], len(dash.group(1)), items)


def proves(result: str, original: str, edited: Edited) -> bool:
    """True when the region proves the result (see the module docstring); False when the
    whole result must be loaded instead. Raises when the region means something else."""
    from instrument.codemods.yamltext import yaml_text

    if original.startswith("%") or "\n%" in original or "\r%" in original:
        return False
    if any(mark in result for mark in _OTHER_BREAKS):
        return False
    before, after = markers.split_lines(original), markers.split_lines(result)
    end = len(before) if edited.end is None else edited.end
    stop = end + len(after) - len(before)
    if not edited.first <= stop <= len(after) or after[: edited.first] != before[: edited.first] \
            or after[stop:] != before[end:]:
        return False
    region = after[edited.first : stop]
    for line in region:
        text = line.lstrip(" ")
        if text.strip() and not text.startswith("#") and len(line) - len(text) < edited.dash:
            return False
        if text.startswith("\t"):
            return False
    text = "".join(region)
    try:
        if same(yaml_text.libyaml_load(text), edited.items):
            return True  # libyaml reads it as intended (see the module docstring)
    except yaml_text.Unreadable:
        pass
    try:
        loaded = yaml_text.load(text)
    except InstrumentError:
        return False
    if not same(loaded, edited.items):
        raise InstrumentError("internal error: the edited dependencies do not read as the original plus debugpy")
    return True


def same(loaded: Any, expected: Any) -> bool:
    """Equal YAML values, where ``==`` is not enough: a tagged scalar (``!!str 1``,
    ``!custom x``) compares by identity, and ``.nan`` is not equal to itself."""
    if isinstance(loaded, TaggedScalar) or isinstance(expected, TaggedScalar):
        return type(loaded) is type(expected) and str(loaded.tag) == str(expected.tag) and \
            loaded.value == expected.value
    if isinstance(loaded, float) and isinstance(expected, float) and math.isnan(loaded) and math.isnan(expected):
        return True
    if isinstance(loaded, dict) and isinstance(expected, dict):
        return loaded.keys() == expected.keys() and all(same(loaded[key], expected[key]) for key in loaded)
    if isinstance(loaded, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(loaded) == len(expected) and all(map(same, loaded, expected))
    return bool(loaded == expected)
