"""The proof that an edited v2 YAML file loads and means the original plus the intended edits.

Three checks, all of which must hold:

- the result strips back to the text the plan was made on (outside the
  fenced blocks not one byte changed);
- the result loads, with no duplicate key, and holds every value the plan
  meant to write (``Plan.expected``: ``(path of keys, value)``);
- loaded side by side, the result and the original differ only at those
  paths: a value the plan rewrote, a key it added (and what lies under it),
  or debugpy put into an inline conda file's pip list.

Both texts are loaded with libyaml through PyYAML's ``CSafeLoader`` when it
is there: the safe loader is how Azure ML itself reads these files
(``azure.ai.ml`` loads YAML with ``yaml.safe_load``), and in C it costs a
few per cent of the round-trip load the plan needs. Where the C extension
is missing, or libyaml cannot read one of the texts (a YAML 1.2 form it does
not know), the same checks run on ruamel.yaml's round-trip loads: slower,
equally strict.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from instrument.codemods.fences import markers
from instrument.codemods.yamltext import yaml_text
from instrument.codemods.core.errors import InstrumentError


class _DebugpyInPip:
    """The expected value of an inline ``conda_file:`` that gets debugpy in its pip list."""

    def __repr__(self) -> str:
        return "the conda file with debugpy in its pip list"


DEBUGPY_IN_PIP = _DebugpyInPip()


def verify(result: str, clean: str, plan: Any) -> None:
    """Raise unless ``result`` strips back to ``clean``, loads, and means ``clean`` plus the plan's edits."""
    if not markers.strips_back_to(result, clean, yaml=True):
        raise InstrumentError("internal error: the result does not strip back to the original")
    expected = list(plan.expected or ())
    try:
        before, after = yaml_text.libyaml_load(clean), yaml_text.libyaml_load(result)
        problem = _problem(before, after, expected)
    except yaml_text.Unreadable:
        problem = "libyaml"
    if problem is None:
        return
    # The round-trip loader has the last word (and the error message); the
    # original's values are those the plan was made from.
    before = yaml_text.loaded(clean)
    try:
        after = yaml_text.load(result)
    except InstrumentError as exc:
        raise InstrumentError(f"internal error: the result is not valid YAML: {exc}") from None
    problem = _problem(before, after, expected)
    if problem is not None:
        raise InstrumentError(f"internal error: {problem}")


def _problem(before: Any, after: Any, expected: list) -> Optional[str]:
    """What is wrong with ``after`` as ``before`` plus the expected edits, or None."""
    for path, value in expected:
        found = _at(after, path)
        if value is DEBUGPY_IN_PIP:
            if not _debugpy_added(_at(before, path), found):
                return f"{_spelled(path)} would not load as {value!r}"
            continue
        if path[-1] == "command" and isinstance(found, str):
            # A clipped block scalar that ended the file without a newline gains one
            # when the block's closing fence follows it; bash does not care.
            found, value = str(found).rstrip("\n"), value.rstrip("\n")
        if found != value or type(found) is not type(value) and not isinstance(value, str):
            return f"{_spelled(path)} would load as {found!r}, not {value!r}"
    edited = [path for path, _ in expected]
    for path, added in _differences(before, after, ()):
        # a rewritten value and what is under it; a new key on the way to one
        if not any(path[: len(e)] == e or added and e[: len(path)] == path for e in edited):
            return f"the result changes {_spelled(path)}, which the plan does not edit"
    return None


def _at(data: Any, path: tuple) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _spelled(path: tuple) -> str:
    return ".".join(str(key) for key in path) or "the document"


def _differences(before: Any, after: Any, path: tuple) -> Iterator[tuple[tuple, bool]]:
    """(path, whether the key is new) of each place where two loaded documents differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in after:
            if key not in before:
                yield path + (key,), True
            else:
                yield from _differences(before[key], after[key], path + (key,))
        for key in before:
            if key not in after:
                yield path + (key,), False
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after)):
            yield from _differences(old, new, path + (index,))
    elif (before != after and not (before != before and after != after)  # .nan is not .nan
          or type(before) is not type(after)):
        yield path, False


def _without_debugpy(dependencies: Any) -> Any:
    """A conda dependency list with ``debugpy`` taken out of its pip lists (an empty pip list: [])."""
    if not isinstance(dependencies, list):
        return dependencies
    return [{**item, "pip": [p for p in (item["pip"] or []) if p != "debugpy"]}
            if isinstance(item, dict) and "pip" in item else item for item in dependencies]


def _debugpy_added(before: Any, after: Any) -> bool:
    """``after`` is the conda mapping ``before`` with debugpy in the last pip list (made when there was none)."""
    if not isinstance(before, dict) or not isinstance(after, dict) or set(before) != set(after):
        return False
    if any(before[key] != after[key] for key in before if key != "dependencies"):
        return False
    old, new = before.get("dependencies"), after.get("dependencies")
    pips = [item for item in new if isinstance(item, dict) and "pip" in item] if isinstance(new, list) else []
    if not pips or "debugpy" not in (pips[-1]["pip"] or []):
        return False
    stripped, kept = _without_debugpy(new), _without_debugpy(old)
    if stripped == kept:
        return True
    # a new pip section at the end: `- pip` (unless there) and `- pip: [debugpy]`
    added = stripped[len(kept):] if isinstance(kept, list) and stripped[: len(kept)] == kept else None
    return added in ([{"pip": []}], ["pip", {"pip": []}])
