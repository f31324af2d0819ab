"""Azure ML YAML as Azure ML reads it, for ``instrument check``.

azure-ai-ml loads a job, component or environment file with PyYAML's safe
loader, so this reads it with the same loader's composer (libyaml's when
PyYAML has it): a duplicate key is allowed and the last one wins, merge keys
(``<<: *base``) are flattened as the constructor flattens them, tags such as
``!!str`` are read for what they are, and a double-quoted scalar's escapes
(``\\x64ebugpy``, ``d\\u0065bugpy``, an escaped line break) are resolved
before anything is looked at. Nodes keep their marks, so each finding has
the line and column of the value that holds it.

Looked at, at any depth: every ``command:`` (a job, a component, a
pipeline's jobs, a sweep's trial) and every ``args:`` of a Spark job, read as
bash reads them with ``${{inputs.x}}`` replaced by the literal value given
beside it, and every variable of ``environment_variables:``.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from instrument.codemods.check import commands as check_commands

_COMMAND_KEYS = ("command", "args")
_INPUT_RE = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}")
#: What a message names that can be found on a line of the value (the column of a block scalar's finding).
_NEEDLES = (*check_commands.DEBUGGER_MODULES, check_commands.REMOTE_DEBUG_FLAG, check_commands.DEBUG_PORT_VARIABLE,
            check_commands.BREAKPOINT_VARIABLE)

YamlFinding = tuple[int, int, str]  # 0-based line and column, message


class LoadError(Exception):
    """The text is not one YAML document the safe loader composes."""


def _compose(text: str) -> Any:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        return loader, loader.get_single_node()
    except yaml.YAMLError as exc:
        raise LoadError(str(exc).splitlines()[0]) from None
    finally:
        loader.dispose()


def _pairs(loader: Any, node: Any) -> dict:
    """A mapping node's effective pairs: merge keys flattened, the last of duplicate keys kept."""
    import yaml

    try:
        loader.flatten_mapping(node)
    except yaml.YAMLError:
        pass
    pairs: dict = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            pairs[key.value] = (key, value)
    return pairs


def yaml_findings(text: str, python: check_commands.PythonCode) -> list[YamlFinding]:
    """Every finding of a YAML text (``python`` reads code a command gives a Python).

    Raises :class:`LoadError` when the safe loader cannot read it."""
    import yaml

    loader, root = _compose(text)
    lines = text.splitlines()
    found: list[YamlFinding] = []
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        if not isinstance(node, yaml.MappingNode):
            continue
        pairs = _pairs(loader, node)
        inputs = _inputs(loader, pairs)
        for key, (_, value) in pairs.items():
            if key in _COMMAND_KEYS and isinstance(value, yaml.ScalarNode):
                command = _substituted(value.value, inputs)
                for message in dict.fromkeys(check_commands.shell_findings(command, python=python)):
                    found.append(_at(lines, value, f"{key}: {message}"))
            elif key == "environment_variables" and isinstance(value, yaml.MappingNode):
                for name, (name_node, setting) in _pairs(loader, value).items():
                    given: Optional[str] = setting.value if isinstance(setting, yaml.ScalarNode) else None
                    why = check_commands.variable_message(str(name), given)
                    if why is not None:
                        found.append((name_node.start_mark.line, name_node.start_mark.column, why))
            stack.append(value)
    return sorted(set(found))


def _substituted(command: str, inputs: dict[str, str]) -> str:
    """``${{inputs.x}}`` replaced by the literal value of input ``x``, where it is given."""
    return _INPUT_RE.sub(lambda match: inputs.get(match.group(1), match.group(0)), command)


def _inputs(loader: Any, pairs: dict) -> dict[str, str]:
    """``inputs:`` given as literal values beside a command (``${{inputs.x}}`` becomes one)."""
    import yaml

    entry = pairs.get("inputs")
    if entry is None or not isinstance(entry[1], yaml.MappingNode):
        return {}
    values = {}
    for name, (_, value) in _pairs(loader, entry[1]).items():
        if isinstance(value, yaml.MappingNode):
            value = next((v for k, (_, v) in _pairs(loader, value).items() if k in ("default", "value")), None)
        if isinstance(value, yaml.ScalarNode):
            values[str(name)] = value.value
    return values


def _at(lines: list[str], node: Any, message: str) -> YamlFinding:
    """The line and column of the needle a message names within the value, else the value's start."""
    start, end = node.start_mark, node.end_mark
    needle = next((n for n in _NEEDLES if n in message), "")
    for line in range(start.line, min(end.line, len(lines) - 1) + 1) if needle else ():
        column = lines[line].find(needle, start.column if line == start.line else 0)
        if column >= 0:
            return line, column, message
    return start.line, start.column, message

