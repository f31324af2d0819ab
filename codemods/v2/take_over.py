"""Hand-written debug arguments in a v2 command, and taking them out for good.

A command written by hand for remote debugging carries ``--remote_debug*``
flags (with their values), an optional group ``$[[--remote_debug_port
${{inputs.port}}]]`` that holds only such flags, or runs its entry through
debugpy's launcher (``python -m debugpy --listen 5678 --wait-for-client
train.py``). ``add`` refuses such a command unless ``--take-over`` is given;
then these words are removed from the file itself (the entry runs as plain
``python train.py ...``) and the usual flags are added, so that ``strip``
leaves a command with no debug arguments at all.

The words are found by the shell scanner (:mod:`instrument.codemods.shell.shell_tokens`)
and cut out of the YAML source at the characters they are written with; every
other byte stays as it was.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

from ruamel.yaml.comments import CommentedMap

from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.v2 import yaml_edits as v2_yaml
from instrument.codemods.yamltext import yaml_text
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds.base import Plan
from instrument.codemods.core.options import Options
from instrument.codemods.shell.commands import OPERATOR, WORD, Token, tokenize

#: debugpy launcher options that take a value, and those that do not.
_LAUNCHER_VALUES = frozenset({"--listen", "--connect", "--log-to", "--adapter-access-token"})
_LAUNCHER_SWITCHES = frozenset({"--wait-for-client", "--log-to-stderr"})
_PYTHON_OPTIONS_WITH_VALUE = frozenset({"-W", "-X", "--check-hash-based-pycs"})


def hand_written(command: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the hand-written debug arguments of ``command``, in order.

    Raises InstrumentError for an optional group that mixes debug flags with
    other arguments (removing it whole would drop those, keeping it keeps the flags).
    """
    spans = list(v2_commands.remote_debug_spans(command))
    for simple in v2_commands.simple_commands(command):
        spans += [group for group in map(lambda word: _debug_group(command, word), simple.words) if group]
        launcher = _debugpy_launcher(list(simple.words))
        if launcher is not None:
            spans.append(launcher)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and not command[merged[-1][1] : start].strip(" \t"):  # one run of words: cut once
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _debug_group(command: str, word: Token) -> Optional[tuple[int, int]]:
    """An optional group ``$[[ ... ]]`` that only holds ``--remote_debug*`` flags: the whole word."""
    written = command[word.start : word.end]
    if not (written.startswith("$[[") and written.endswith("]]")):
        return None
    inner = written[3:-2]
    flags = v2_commands.remote_debug_spans(inner)
    if not flags:
        return None
    words = [token for token in tokenize(inner) if token.kind == WORD]
    if all(any(start <= t.start and t.end <= end for start, end in flags) for t in words):
        return word.start, word.end
    raise InstrumentError(f"the optional group {written} holds --remote_debug flags and other arguments; "
                          "take the flags out of it by hand")


def _debugpy_launcher(words: list[Token]) -> Optional[tuple[int, int]]:
    """``-m debugpy --listen X [--wait-for-client] ...`` before a script or ``-m module``: its extent."""
    values = [word.value for word in words]
    interpreter = next((i for i, value in enumerate(values) if v2_commands._is_interpreter(value)), None)
    if interpreter is None:
        return None
    i = interpreter + 1
    while i < len(values) and values[i].startswith("-") and not values[i].startswith(("-m", "-c")):
        i += 2 if values[i] in _PYTHON_OPTIONS_WITH_VALUE else 1
    if values[i : i + 2] == ["-m", "debugpy"]:
        start, k = i, i + 2
    elif values[i : i + 1] == ["-mdebugpy"]:
        start, k = i, i + 1
    else:
        return None
    while k < len(values):
        option = values[k].split("=", 1)[0]
        if option in _LAUNCHER_VALUES or option.startswith("--configure-"):
            k += 1 if "=" in values[k] else 2
        elif option in _LAUNCHER_SWITCHES:
            k += 1
        else:
            break
    entry = values[k:]
    if k >= len(values) or k == start + (2 if values[start] == "-m" else 1):
        return None  # `python -m debugpy` alone, or with no option: not a launcher line we know
    if entry[0] == "-m" and len(entry) > 1 or not entry[0].startswith("-"):
        return words[start].start, words[k - 1].end
    return None  # --pid, -c: debugpy attaches to something else; no entry to keep


def blanked(command: str, spans: list[tuple[int, int]]) -> str:
    """``command`` with the spans' characters turned into blanks (offsets stay)."""
    for start, end in spans:
        command = command[:start] + " " * (end - start) + command[end:]
    return command


def yaml_cut(text: str, lines: v2_yaml.Lines, key_node: Any, value_node: Any, value: str,
             spans: list[tuple[int, int]]) -> tuple[int, int, str]:
    """``(begin, end, new)``: the ``command:`` key's lines ``text[begin:end]`` with the spans cut out.

    Each span goes with the blanks before it on its line (those after it when
    it starts the line's content); a line left with nothing goes whole, and a
    ``\\`` that continued the previous line into it goes too when the line was
    the last of its continued command.
    """
    characters = v2_yaml.value_characters(text, value_node)
    if [found[0] for found in characters] != [char for char in value if char not in v2_yaml.BLANK]:
        raise InstrumentError(f"line {key_node.start_mark.line + 1}: cannot follow this command's quoting; "
                              "take the hand-written debug arguments out by hand")
    first_line = key_node.start_mark.line
    last_line = lines.line_of(v2_yaml.last_content(text, value_node))
    begin, end = lines.starts[first_line], lines.starts[last_line + 1]
    cuts, dropped = [], []
    for start, stop in spans:
        cut, whole_line = _cut(text, characters[_non_blank(value[:start])][1],
                               characters[_non_blank(value[:stop]) - 1][2] + 1)
        cuts.append(cut)
        if whole_line:
            dropped.append(cut)
    cuts += _continuations(text, begin, dropped)
    joined: list[tuple[int, int]] = []
    for cut_start, cut_end in sorted(cuts):
        if joined and cut_start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(cut_end, joined[-1][1]))
        else:
            joined.append((cut_start, cut_end))
    new = text[begin:end]
    for cut_start, cut_end in reversed(joined):
        new = new[: cut_start - begin] + new[cut_end - begin :]
    return begin, end, new


def _non_blank(text: str) -> int:
    return sum(1 for char in text if char not in v2_yaml.BLANK)


def _cut(text: str, first: int, last: int) -> tuple[tuple[int, int], bool]:
    """The source range removed for a span written at ``text[first:last]``, and whether it is a whole line."""
    line_start = max(text.rfind("\n", 0, first), text.rfind("\r", 0, first)) + 1
    line_end = _line_end(text, last)
    before, after = text[line_start:first], text[last:line_end]
    if not before.strip(" \t") and after.strip(" \t") in ("", "\\"):  # the line held only this
        return (line_start, _next_line(text, line_end)), True
    while first > line_start and text[first - 1] in " \t" and before.strip(" \t"):
        first -= 1
    if not before.strip(" \t"):
        while last < line_end and text[last] in " \t":
            last += 1
    return (first, last), False


def _continuations(text: str, begin: int, dropped: list) -> list[tuple[int, int]]:
    """A dropped line that ended a ``\\``-continued command: the ``\\`` of the kept line
    before it goes too, else that line would run on into the next command."""
    starts = {start for start, _ in dropped}
    cuts = []
    for start, end in dropped:
        if text[start:end].rstrip("\r\n").rstrip(" \t").endswith("\\"):
            continue  # it continued itself: the line before it still runs on into the one after
        previous = start
        while previous > begin:
            above = text[:previous].rstrip("\r\n")
            previous = max(above.rfind("\n"), above.rfind("\r")) + 1
            if previous not in starts:
                content = text[previous:_line_end(text, previous)].rstrip(" \t")
                if content.endswith("\\"):
                    cuts.append((previous + len(content[:-1].rstrip(" \t")), previous + len(content)))
                break
    return cuts


def _next_line(text: str, line_end: int) -> int:
    return line_end + (2 if text.startswith("\r\n", line_end) else 1 if line_end < len(text) else 0)


def _line_end(text: str, offset: int) -> int:
    ends = [i for i in (text.find("\n", offset), text.find("\r", offset)) if i >= 0]
    return min(ends) if ends else len(text)


def take_over(builder, found: tuple, written: Any, path: tuple, command: str, spans: list) -> bool:
    """Hand-written debug arguments: refused, or (``--take-over``) cut out of the file for good."""
    line = found[0].start_mark.line + 1
    if not builder.options.take_over:
        raise InstrumentError(f"line {line}: the command already has hand-written debug arguments "
                              "(--remote_debug flags or python -m debugpy); remove them, or use --take-over "
                              "to remove them for good")
    cut = yaml_cut(builder.text, builder.lines, written or found[0], found[1], command, spans)
    if cut not in builder.taken:  # an anchored command used by several holders: cut once
        builder.taken.append(cut)
    builder.taken_commands.append((path + ("command",), blanked(command, spans), line))
    builder.note(found[0], "hand-written debug arguments removed for good (--take-over); strip leaves them out")
    builder.entries += 1
    return True


def planner(walk: Callable[[Any, Any], Any], builder_class: Any) -> Callable[[str, Any, Options], Plan]:
    """A kind's ``plan`` from its ``walk(builder, data)`` (which returns a Plan, or why nothing changes).

    With ``--take-over``, hand-written debug arguments found by a first walk
    are cut out of the text, and the plan is made again on that text.
    """
    def plan(text: str, data: Any, options: Options) -> Plan:
        builder = builder_class(text, options)
        outcome = walk(builder, data)
        if not builder.taken:
            return outcome if isinstance(outcome, Plan) else builder.plan(outcome)
        clean = _cut_out(text, builder.taken)
        _check_taken_over(clean, builder.taken_commands)
        again = builder_class(clean, options)
        outcome = walk(again, yaml_text.load(clean))
        if again.taken:
            raise InstrumentError("internal error: hand-written debug arguments left after taking them over")
        result = outcome if isinstance(outcome, Plan) else again.plan(outcome)
        if not result.insertions:  # nothing to instrument without them: the file stays as it is, said truly
            return result
        taken_notes = [n for n in builder.notes if "--take-over" in n.message]
        return dataclasses.replace(result, source=clean, notes=list(result.notes) + taken_notes)

    return plan


def _cut_out(text: str, cuts: list) -> str:
    for begin, end, new in sorted(cuts, reverse=True):
        text = text[:begin] + new + text[end:]
    return text


def _check_taken_over(clean: str, commands: list) -> None:
    """The text without the hand-written words loads, each command as its words minus those."""
    data = yaml_text.load(clean)
    for path, value, line in commands:
        found = data
        for key in path:
            found = found.get(key) if isinstance(found, CommentedMap) else None
        if not isinstance(found, str) or shell_words(found) != shell_words(value):
            raise InstrumentError(f"line {line}: cannot take the hand-written debug arguments out of this "
                                  "command safely; take them out by hand")


def shell_words(command: str) -> list:
    """The command's tokens (blank lines and spacing left out), to compare two spellings of one command."""
    tokens = [(t.kind, " ".join(t.value.split())) for t in tokenize(command)]
    return [t for i, t in enumerate(tokens) if t != (OPERATOR, "") or i == 0 or tokens[i - 1] != t]
