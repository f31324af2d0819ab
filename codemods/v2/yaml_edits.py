"""Text edits of Azure ML v2 YAML (jobs, components, environments) by whole fenced lines.

The document is read once, with ruamel.yaml's round-trip loader: the values
it builds (a folded ``command:`` already joined as bash will see it) and the
node graph it composed them from, with the exact extent of every node (start
and end offsets), so an edit knows which lines a key occupies. Nothing is
re-dumped.

A ``command:`` value is never edited in place: a comment line inside a folded
block would become part of the command, so the fenced block replaces the
key's lines and keeps them behind ``#:``. The new value is the old source
text with the flags put after the source character that ends the entry's last
argument; folding, quoting and indentation only move whitespace, so the
n-th non-blank character of the value is the n-th non-blank character of its
source text (escapes in quoted scalars are read as one character).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from instrument.codemods.fences import markers
from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.core.options import Options

COMMAND_LABEL = "debug flags for the entry script (remove with `instrument strip`)"
BLANK = " \t\r\n"
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
            "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
            "L": "\u2028", "P": "\u2029"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def compose(text: str) -> Any:
    """The composed node graph (marks with offsets) of a text that has loaded: that load's own."""
    from instrument.codemods.yamltext.yaml_text import composed

    return composed(text)


def child(node: Any, key: str) -> Optional[tuple[Any, Any]]:
    """(key node, value node) of a block or flow mapping, or None."""
    if node is None or getattr(node, "id", None) != "mapping":
        return None
    for key_node, value_node in node.value:
        if getattr(key_node, "value", None) == key:
            return key_node, value_node
    return None


def last_content(text: str, node: Any) -> int:
    """The offset of the last character that belongs to a node (comments after it excluded)."""
    if node.id == "mapping" and not node.flow_style and node.value:
        key_node, value_node = node.value[-1]
        return max(last_content(text, key_node), last_content(text, value_node))
    if node.id == "sequence" and not node.flow_style and node.value:
        return max(last_content(text, node.value[-1]), node.start_mark.index)
    if node.id == "scalar" and node.value == "" and node.style is None:
        return -1  # `key:` with nothing: its marks point at whatever token comes next
    index = node.end_mark.index
    while index > node.start_mark.index and text[index - 1] in BLANK:
        index -= 1
    return min(max(index - 1, node.start_mark.index), len(text) - 1)


class Lines:
    """The text as lines, with offset <-> line conversions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = markers.split_lines(text)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def line_of(self, offset: int) -> int:
        from bisect import bisect_right

        return min(bisect_right(self.starts, offset), len(self.lines)) - 1


def value_characters(text: str, node: Any) -> list[tuple[str, int, int]]:
    """(character, first, last source offset) of each non-blank character of a scalar's value."""
    start, end, style = node.start_mark.index, node.end_mark.index, node.style
    if getattr(node, "anchor", None) and text[start : start + 1] == "&":  # `&name value`: the mark is at the anchor
        while start < end and text[start] not in BLANK:
            start += 1
        while start < end and text[start] in BLANK:
            start += 1
    if style in (">", "|"):
        header_end = text.find("\n", start, end)
        start = end if header_end < 0 else header_end
    if style in (">", "|", None):
        return [(text[i], i, i) for i in range(start, end) if text[i] not in BLANK]
    found: list[tuple[str, int, int]] = []
    i, stop = start + 1, end - 1  # inside the quotes
    while i < stop:
        char, width, value = text[i], 1, text[i]
        if style == "'" and char == "'":
            width = 2  # '' is one quote
        elif style == '"' and char == "\\":
            escape = text[i + 1 : i + 2]
            if escape in ("\n", "\r"):
                value, width = "", 2  # an escaped line break joins the lines
            elif escape in _HEX_ESCAPES:
                digits = _HEX_ESCAPES[escape]
                value, width = chr(int(text[i + 2 : i + 2 + digits], 16)), 2 + digits
            else:
                value, width = _ESCAPES.get(escape, escape), 2
        if value and value not in BLANK:
            found.append((value, i, i + width - 1))
        i += width
    return found


def _count_non_blank(text: str) -> int:
    return sum(1 for char in text if char not in BLANK)


@dataclass(frozen=True)
class CommandEdit:
    """A replaced ``command:`` key: the insertion, and the value it must load as."""

    insertion: markers.Insertion
    expected: str


def edit_command(
    text: str,
    lines: Lines,
    key_node: Any,
    value_node: Any,
    value: str,
    options: Options,
    install_debugpy: bool,
) -> Optional[CommandEdit]:
    """The fenced block that replaces a ``command:`` key with the flags added; None: no Python entry."""
    expected = v2_commands.add_flags(value, options, install_debugpy)
    if expected is None:
        return None
    if value_node.start_mark.index < key_node.start_mark.index:  # *alias: its text is elsewhere
        raise InstrumentError(f"line {key_node.start_mark.line + 1}: the command is an alias; "
                              "add the --remote_debug flags by hand")
    characters = value_characters(text, value_node)
    if [found[0] for found in characters] != [char for char in value if char not in BLANK]:
        raise InstrumentError(f"line {key_node.start_mark.line + 1}: cannot follow this command's quoting; "
                              "add the --remote_debug flags by hand")
    edits: list[tuple[int, int, str]] = []  # (offset, characters deleted, text inserted)
    at = v2_commands.flag_insertion(value, options.entry)
    if at is None:  # pragma: no cover  (add_flags found the entry above)
        return None
    before_flags = _count_non_blank(value[:at]) - 1
    # Right after the last character before the flags' place (blanks between words may be line
    # breaks of a folded scalar); a redirect that touched that word keeps a blank from the flags.
    after = " " if value[at : at + 1] in ("<", ">") else ""
    edits.append((characters[before_flags][2] + 1, 0, " " + v2_commands.debug_flags(options) + after))
    if install_debugpy:
        entry_start = _count_non_blank(value[: v2_commands.install_insertion(value, options.entry)])
        edits.append((characters[entry_start][1], 0, "pip install debugpy && "))
    first = key_node.start_mark.line
    last = lines.line_of(last_content(text, value_node))
    begin, end = lines.starts[first], lines.starts[last + 1]
    new = text[begin:end]
    for offset, deleted, piece in sorted(edits, reverse=True):
        new = new[: offset - begin] + piece + new[offset - begin + deleted :]
    return CommandEdit(replacing(lines, first, last, new, COMMAND_LABEL), expected)


def replacing(lines: Lines, first: int, last: int, new: str, label: str) -> markers.Insertion:
    """A block that replaces lines ``first``..``last`` with ``new`` (their edited text)."""
    old = lines.lines[first : last + 1]
    head = old[0]
    indent = head[: len(head) - len(head.lstrip(" \t"))]
    if not all(line.startswith(indent) or not line.strip() for line in old):
        indent = ""
    body = []
    for line in markers.split_lines(new):
        line = line.rstrip("\r\n")
        body.append(line[len(indent) :] if line.startswith(indent) else line.strip())
    return markers.Insertion(first, indent, label, body, replaces=last - first + 1)


def add_keys(text: str, lines: Lines, mapping: Any, body: Sequence[str], label: str) -> markers.Insertion:
    """New ``key: ...`` lines at the end of a block mapping, at its keys' indentation."""
    if mapping.id != "mapping" or mapping.flow_style or not mapping.value:
        raise InstrumentError(f"line {mapping.start_mark.line + 1}: a mapping in {{...}} style; add keys by hand")
    column = mapping.value[0][0].start_mark.column
    after = lines.line_of(last_content(text, mapping)) + 1
    return markers.Insertion(after, " " * column, label, list(body))


def add_to_flow_mapping(text: str, lines: Lines, mapping: Any, entry: str, label: str) -> markers.Insertion:
    """``{a: 1}`` -> ``{a: 1, entry}`` on its one line (a block that replaces the line)."""
    close = mapping.end_mark.index - 1
    line = lines.line_of(mapping.start_mark.index)
    if text[close : close + 1] != "}" or lines.line_of(close) != line:
        raise InstrumentError(f"line {line + 1}: a {{...}} mapping over several lines; add {entry} by hand")
    begin, end = lines.starts[line], lines.starts[line + 1]
    separator = ", " if mapping.value else ""
    new = text[begin:close] + separator + entry + text[close:end]
    return replacing(lines, line, line, new, label)


def double_quoted(value: str) -> str:
    """A YAML double-quoted scalar for printable text (an SSH key line)."""
    if not value.isprintable():
        raise InstrumentError("cannot write a non-printable value into YAML")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def local_path(reference: str) -> Optional[str]:
    """A local file a job names (``./x.yml``, ``file:x.yml``), or None for a workspace/registry asset."""
    if not isinstance(reference, str):
        return None
    if reference.startswith("file:"):
        return reference[len("file:") :]
    if reference.startswith(("azureml:", "http:", "https:", "git+")) or ":" in reference.split("/")[0]:
        return None
    return reference if reference.lower().endswith((".yml", ".yaml")) else None


def position(node: Any) -> tuple[int, int]:
    """1-based (line, column) of a node, for a note."""
    return node.start_mark.line + 1, node.start_mark.column + 1
