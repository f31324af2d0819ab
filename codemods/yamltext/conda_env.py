"""Add debugpy to a conda environment file (``env.yml``, section 3 of the source document).

``add(source)`` puts ``debugpy`` into the ``- pip:`` sub-list of the
``dependencies:`` list, creating the sub-list (and the ``pip`` package
itself) when absent. ruamel.yaml's round-trip loader says where the nodes are
(line and column); the edit itself is fenced whole lines from
:mod:`instrument.codemods.fences.markers` (YAML comments also start with ``#``), so comments,
indentation style and order stay byte for byte and strip removes exactly what
add wrote.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Optional

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from instrument.codemods.fences import markers
from instrument.codemods.yamltext import conda_region
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.core.packages import DEBUGPY, requirement_name

if TYPE_CHECKING:
    from instrument.codemods.kinds.base import Plan

LABEL = markers.LABEL_CONDA

_ITEM_PREFIX_RE = re.compile(r"([ \t]*)(-[ \t]+)")
_EMPTY_PIP_RE = re.compile(r"[ \t]*-[ \t]+pip[ \t]*:[ \t]*(#.*)?")




def _load(text: str) -> Any:
    from instrument.codemods.yamltext.yaml_text import load

    return load(text)


def _dependencies(data: Any) -> CommentedSeq:
    if isinstance(data, CommentedMap) and isinstance(data.get("dependencies"), CommentedSeq):
        return data["dependencies"]
    if isinstance(data, CommentedMap) and "dependencies" in data and data["dependencies"] is None:
        raise InstrumentError(f"`dependencies:` is empty; add `- pip:` with {DEBUGPY} by hand")
    raise InstrumentError("not a conda environment file (no `dependencies:` list)")


#: The top-level keys of a conda environment file (conda's own spec, and
#: what `conda env export` writes).
CONDA_KEYS = frozenset({"name", "channels", "dependencies", "prefix", "variables", "platforms", "channel_priority"})


def looks_like_conda_env(data: Any) -> bool:
    """A conda environment, told apart from other YAML with ``dependencies:``.

    Only conda's own top-level keys, and a dependency list of package specs
    (strings) and ``pip:`` sub-lists: an Ansible role's ``meta/main.yml``
    (``galaxy_info``) or a Helm ``Chart.yaml`` (``apiVersion``, dependencies
    as mappings) is not one.
    """
    if not isinstance(data, CommentedMap) or not set(data) <= CONDA_KEYS:
        return False
    if "dependencies" not in data:
        return "channels" in data  # an environment with nothing in it yet: plan() says so
    dependencies = data["dependencies"]
    if not isinstance(dependencies, CommentedSeq):
        return True  # plan() says what is wrong with it
    for item in dependencies:
        if isinstance(item, str):
            if requirement_name(item) is None:
                return False
        elif not (isinstance(item, CommentedMap) and set(item) == {"pip"}):
            return False
    return True


def is_conda_env(source: str) -> bool:
    """Whether the text is YAML with a conda ``dependencies:`` list."""
    try:
        _dependencies(_load(markers.remove_blocks(source, yaml=True)))
    except (InstrumentError, markers.MarkerError):
        return False
    return True


def _pip_index(dependencies: CommentedSeq) -> Optional[int]:
    """Where the last ``- pip:`` entry is: with several, the last one wins (as azureml-core reads it)."""
    found = [index for index, item in enumerate(dependencies) if isinstance(item, CommentedMap) and "pip" in item]
    return found[-1] if found else None


def _pip_entry(dependencies: CommentedSeq) -> Optional[CommentedMap]:
    index = _pip_index(dependencies)
    return None if index is None else dependencies[index]


def _item_prefix(lines: list[str], line: int, column: int) -> tuple[str, str]:
    """(indentation, dash with its spaces) of a block sequence item."""
    match = _ITEM_PREFIX_RE.fullmatch(lines[line][:column])
    if not match:
        raise InstrumentError(f"line {line + 1}: unusual list layout; add {DEBUGPY} to the pip list by hand")
    return match.group(1), match.group(2)


def _newline(lines: list[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def plan(clean: str, data: Any, options: object = None) -> Plan:
    """debugpy into the pip list of a conda environment (blocks already removed)."""
    from instrument.codemods.kinds.base import Plan

    dependencies = _dependencies(data)
    if any(requirement_name(d) == DEBUGPY for d in dependencies):
        # a conda package (`- debugpy`, `- conda-forge::debugpy`) is enough
        return Plan(reason="debugpy is already a dependency")
    lines = markers.split_lines(clean)
    index = _pip_index(dependencies)
    if index is None:
        insertion = _new_pip_section(dependencies, lines)
        index = len(dependencies) - 1
        added = [] if any(requirement_name(d) == "pip" for d in dependencies) else ["pip"]
        items = [dependencies[index], *added, {"pip": [DEBUGPY]}]
    else:
        entry = dependencies[index]
        pip = entry["pip"]
        if isinstance(pip, CommentedSeq) and any(requirement_name(p) == DEBUGPY for p in pip):
            return Plan(reason="debugpy is already in the pip list")
        insertion = _into_pip_list(entry, pip, lines)
        items = [{**entry, "pip": [DEBUGPY, *(pip or ())]}]
    return Plan(insertions=[insertion], expected=conda_region.edited(data, dependencies, index, items, lines))



def _into_pip_list(entry: CommentedMap, pip: Any, lines: list[str]) -> markers.Insertion:
    key_line, key_column = entry.lc.key("pip")
    if isinstance(pip, CommentedSeq) and (pip.fa.flow_style() or not len(pip)):  # [...]
        line, column = entry.lc.value("pip")  # the '['
        text = lines[line]
        if "]" not in text[column:]:
            raise InstrumentError(f"line {line + 1}: a pip list over several lines in [...] style; add {DEBUGPY} by hand")
        separator = ", " if len(pip) else ""
        body = (text[: column + 1] + DEBUGPY + separator + text[column + 1 :]).rstrip("\r\n")
        indent = body[: len(body) - len(body.lstrip(" "))]
        return markers.Insertion(line, indent, LABEL, [body[len(indent) :]], replaces=1)
    if isinstance(pip, CommentedSeq):  # before the first item, with its indentation
        line, column = pip.lc.item(0)
        indent, dash = _item_prefix(lines, line, column)
        return markers.Insertion(line, indent, LABEL, [dash + DEBUGPY])
    if pip is None and _EMPTY_PIP_RE.fullmatch(lines[key_line].rstrip("\r\n")):
        return markers.Insertion(key_line + 1, " " * (key_column + 2), LABEL, ["- " + DEBUGPY])
    raise InstrumentError(f"line {key_line + 1}: `pip:` is not a list")


def _new_pip_section(dependencies: CommentedSeq, lines: list[str]) -> markers.Insertion:
    """``- pip`` (unless there) and ``- pip: [debugpy]`` after the last dependency."""
    if dependencies.fa.flow_style() or not len(dependencies):
        raise InstrumentError(f"`dependencies:` is written in [...] style; add `- pip:` with {DEBUGPY} by hand")
    last = len(dependencies) - 1
    line, column = dependencies.lc.item(last)
    if not isinstance(dependencies[last], str):
        raise InstrumentError(f"line {line + 1}: the last dependency is not a package name; add `- pip:` with {DEBUGPY} by hand")
    indent, dash = _item_prefix(lines, line, column)
    body = [] if any(requirement_name(d) == "pip" for d in dependencies) else [dash + "pip"]
    body += [dash + "pip:", " " * (len(dash) + 2) + "- " + DEBUGPY]
    return markers.Insertion(line + 1, indent, LABEL, body)


def verify(result: str, original: str, plan: object = None) -> None:
    """Refuse to hand back YAML that lost its meaning or does not strip back.

    The result is the original plus fenced lines; the edited dependencies are
    then loaded on their own (:mod:`instrument.codemods.yamltext.conda_region`), and
    the whole result only when that cannot prove what it means.
    """
    if not markers.strips_back_to(result, original, yaml=True):  # pragma: no cover - a bug
        raise InstrumentError("internal error: the result does not strip back to the original")
    edited = getattr(plan, "expected", None)
    if isinstance(edited, conda_region.Edited) and conda_region.proves(result, original, edited):
        return
    try:
        entry = _pip_entry(_dependencies(_load(result)))
    except InstrumentError as exc:  # pragma: no cover - a bug, not user error
        raise InstrumentError(f"internal error: the result is not a conda environment: {exc}") from None
    if entry is None or DEBUGPY not in (entry["pip"] or ()):  # pragma: no cover - a bug
        raise InstrumentError(f"internal error: {DEBUGPY} did not land in the pip list")
