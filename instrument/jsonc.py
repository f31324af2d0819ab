"""Put configurations into a launch.json (JSON with comments) as a text edit.

VS Code's launch.json allows comments and trailing commas. json-five (a
JSON5 parser, JSON5 being a superset of that) parses it into a model that
knows where every value starts and ends; the edit itself is textual: a
configuration of the same name is replaced where it stands, new ones are
appended after the last one with the file's own indentation and newlines,
and every other byte (comments, other configurations and compounds) stays
as it was. ``compounds`` (VS Code's "start these together") are merged the
same way, by name. The result is parsed again and compared with what was intended
before anyone writes it.
"""

from __future__ import annotations

import json
import re
from typing import Optional, Sequence

import json5
from json5 import model
from json5.loader import ModelLoader

from instrument.codemods.core.errors import InstrumentError

DEFAULT_INDENT = "    "  # what VS Code writes into a new launch.json


class JsoncError(InstrumentError):
    """Text that is not a launch.json this module can edit; str() is one line."""


def _one_line(exc: Exception) -> str:
    message = str(exc)
    primary = re.search(r"primary error was:\s*(.+)", message)  # json-five lists several
    return " ".join((primary.group(1) if primary else message).split())


def parse(text: str) -> model.JSONText:
    try:
        return json5.loads(text, loader=ModelLoader())
    except (ValueError, RecursionError) as exc:
        raise JsoncError(f"not valid JSON with comments: {_one_line(exc)}") from None


def value_of(text: str) -> object:
    """The plain Python value of JSON-with-comments text."""
    try:
        return json5.loads(text)
    except (ValueError, RecursionError) as exc:
        raise JsoncError(f"not valid JSON with comments: {_one_line(exc)}") from None


class _Source:
    """The text plus conversions from the model's (line, column) to offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.newline = "\r\n" if "\r\n" in text else "\n"

    def span(self, node: model.Node) -> tuple[int, int]:
        lineno, col_offset = node.lineno, node.col_offset
        end_lineno, end_col_offset = node.end_lineno, node.end_col_offset
        # Optional in json-five's model (a node built by hand), always set on a parsed one.
        assert lineno is not None and col_offset is not None, "a parsed node has its position"
        assert end_lineno is not None and end_col_offset is not None, "a parsed node has its position"
        return (
            self._line_starts[lineno - 1] + col_offset,
            self._line_starts[end_lineno - 1] + end_col_offset,
        )

    def line_indent(self, offset: int) -> str:
        start = self.text.rfind("\n", 0, offset) + 1
        indent = re.match(r"[ \t]*", self.text[start:])
        assert indent is not None, "[ \\t]* matches the empty string too"
        return indent.group()

    def starts_line(self, offset: int) -> bool:
        start = self.text.rfind("\n", 0, offset) + 1
        return self.text[start:offset].strip(" \t") == ""


def _key_name(key: model.Node) -> Optional[str]:
    return getattr(key, "characters", None) or getattr(key, "name", None)


def _indent_unit(source: _Source, top: model.JSONObject) -> str:
    for key in top.keys:
        start, _ = source.span(key)
        if source.starts_line(start) and source.line_indent(start):
            return source.line_indent(start)
    found = re.search(r"^([ \t]+)\S", source.text, re.MULTILINE)
    return found.group(1) if found else DEFAULT_INDENT


def _render(value: object, indent: str, unit: str, newline: str) -> str:
    """``value`` as JSON whose lines after the first start with ``indent``."""
    lines = json.dumps(value, indent=unit, ensure_ascii=False).split("\n")
    return (newline + indent).join(lines)


# Between the last item of a container and its closing bracket there can only
# be whitespace, comments and one trailing comma.
_TRIVIA = re.compile(r"(?P<newline>\n)|(?P<comma>,)|//[^\n]*|/\*.*?\*/|[ \t\r]+", re.DOTALL)


def _append(source: _Source, open_at: int, close_at: int, last_end: Optional[int],
            items: list[str], indent: str, closing_indent: str) -> list[tuple[int, int, str]]:
    """Edits (start, end, text) that add rendered ``items`` at the end of a container."""
    nl = source.newline
    joined = ("," + nl + indent).join(items)
    text = source.text
    if last_end is None:
        inner = text[open_at + 1:close_at]
        if inner.strip() == "":
            return [(open_at + 1, close_at, nl + indent + joined + nl + closing_indent)]
        last_newline = text.rfind("\n", open_at, close_at)
        if last_newline != -1 and text[last_newline + 1:close_at].strip() == "":
            at = last_newline - 1 if text[last_newline - 1] == "\r" else last_newline
            return [(at, at, nl + indent + joined)]
        return [(close_at, close_at, nl + indent + joined + nl + closing_indent)]
    comma = end_of_line = None
    for match in _TRIVIA.finditer(text, last_end, close_at):
        if match.group("comma") is not None and comma is None:
            comma = match.start()
        if match.group("newline") is not None:
            end_of_line = match.start() - (1 if text[match.start() - 1] == "\r" else 0)
            break
    if end_of_line is None:  # the container is on one line: [{...}]
        at = comma + 1 if comma is not None else last_end
        return [(at, at, ("" if comma is not None else ",") + nl + indent + joined)]
    if comma is not None:  # keep the trailing-comma style: the new last item gets one
        return [(end_of_line, end_of_line, nl + indent + joined + ",")]
    return [(last_end, last_end, ","), (end_of_line, end_of_line, nl + indent + joined)]


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    # From the end backwards; of two insertions at one place the first listed ends up first.
    for start, end, insert in sorted(reversed(edits), key=lambda edit: edit[0], reverse=True):
        text = text[:start] + insert + text[end:]
    return text


def new_file(configurations: list[dict], newline: str = "\n", compounds: Sequence[dict] = ()) -> str:
    """A launch.json holding only ``configurations`` (and ``compounds``), as VS Code would lay it out."""
    document = {"version": "0.2.0", "configurations": configurations}
    if compounds:
        document["compounds"] = list(compounds)
    return _render(document, "", DEFAULT_INDENT, newline) + newline


def _merge_array(source: _Source, key: str, array: model.Node, items: list[dict],
                 unit: str) -> tuple[list[tuple[int, int, str]], list, list[str]]:
    """(edits, the array's intended value, names replaced) for ``items`` merged by name into ``array``."""
    if not isinstance(array, model.JSONArray):
        raise JsoncError(f'"{key}" is not an array')
    text, nl = source.text, source.newline
    array_open, array_close = source.span(array)
    array_close -= 1
    spans = [source.span(element) for element in array.values]
    existing = [value_of(text[start:end]) for start, end in spans]
    closing_indent = source.line_indent(array_close) if source.starts_line(array_close) else source.line_indent(array_open)
    if spans and source.starts_line(spans[0][0]):
        indent = source.line_indent(spans[0][0])
    else:
        indent = source.line_indent(array_open) + unit
    edits: list[tuple[int, int, str]] = []
    expected = list(existing)
    replaced: list[str] = []
    appended = []
    names = [c.get("name") if isinstance(c, dict) else None for c in existing]
    for item in items:
        if item["name"] in names:
            index = names.index(item["name"])
            start, end = spans[index]
            edits.append((start, end, _render(item, source.line_indent(start), unit, nl)))
            expected[index] = item
            replaced.append(item["name"])
        else:
            appended.append(_render(item, indent, unit, nl))
            expected.append(item)
    if appended:
        edits += _append(source, array_open, array_close, spans[-1][1] if spans else None,
                         appended, indent, closing_indent)
    return edits, expected, replaced


def merge(text: str, configurations: list[dict], compounds: Sequence[dict] = ()) -> tuple[str, list[str]]:
    """(new text, names replaced): ``configurations`` and ``compounds`` merged into launch.json ``text``.

    An item whose ``name`` is already in its array replaces that one; the
    others are appended to the array (created when missing).
    """
    source = _Source(text)
    top = parse(text).value
    if not isinstance(top, model.JSONObject):
        raise JsoncError("the top level is not an object")
    unit = _indent_unit(source, top)
    nl = source.newline
    top_open, top_close = source.span(top)
    top_close -= 1
    members = list(zip(top.keys, top.values))
    member_indent = source.line_indent(source.span(members[0][0])[0]) if members else unit
    edits: list[tuple[int, int, str]] = []
    replaced: list[str] = []
    expected: dict[str, list] = {}
    new_members: list[str] = []
    for key, items in (("configurations", list(configurations)), ("compounds", list(compounds))):
        array = next((v for k, v in members if _key_name(k) == key), None)
        if array is not None:
            array_edits, expected[key], array_replaced = _merge_array(source, key, array, items, unit)
            edits += array_edits
            replaced += array_replaced
        elif items or key == "configurations":
            rendered = [_render(item, member_indent + unit, unit, nl) for item in items]
            separator = "," + nl + member_indent + unit
            new_members.append(f'"{key}": [' + nl + member_indent + unit + separator.join(rendered) + nl + member_indent + "]")
            expected[key] = items
    if new_members:  # one insertion, so that two new members get one comma each
        last_end = source.span(members[-1][1])[1] if members else None
        edits += _append(source, top_open, top_close, last_end, new_members, member_indent,
                         source.line_indent(top_close))
    result = _apply(text, edits)
    _verify(text, result, expected)
    return result, replaced


def _verify(before: str, after: str, expected: dict[str, list]) -> None:
    """Refuse a result that does not say exactly what was intended."""
    old = value_of(before)
    assert isinstance(old, dict), "merge() checked that the top level is an object"
    try:
        new = value_of(after)
    except JsoncError as exc:
        raise JsoncError(f"cannot merge the configurations: the result would not parse ({exc})") from None
    if not isinstance(new, dict):
        raise JsoncError("cannot merge the configurations without changing something else")
    for key, items in expected.items():
        old.pop(key, None)
        if new.pop(key, None) != items:
            raise JsoncError(f"cannot merge the {key} without changing something else")
    if new != old:
        raise JsoncError("cannot merge the configurations without changing something else")
