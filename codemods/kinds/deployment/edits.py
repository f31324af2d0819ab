"""Settings of an Azure ML v2 online deployment raised for a debugging session, by fenced lines.

A deployment whose scoring script waits for VS Code in ``init()`` and then
stops at breakpoints in ``run()`` needs three of its settings to allow for it:

- ``request_settings.request_timeout_ms``: the endpoint gives a request up
  after it (default 5 s), so the client sees an error after a few seconds of
  stepping. Raised to the largest value Azure ML accepts, 180,000 ms.
- ``liveness_probe`` and ``readiness_probe``: a container that answers no
  probe for ``failure_threshold`` x ``period`` seconds is restarted (liveness)
  or taken out of the endpoint (readiness). A worker paused in a debugger
  answers nothing, and ``init()`` answers nothing while it waits. The first
  probe comes ``initial_delay`` seconds after the container starts: raised to
  the debug timeout plus the default 10 s; ``failure_threshold`` raised so
  that the probes' patience covers a paused request (180 s) and the wait.
  ``period`` and ``timeout`` stay as written: a longer period only makes a
  restart after a real failure slower, and a probe's own timeout does not
  help a worker that answers nothing.
- ``instance_count``: one container to attach to (a request goes to any of
  them), with a note.

A value already large enough is left alone; a smaller one is replaced in a
fenced block that keeps the original line behind ``#:``; a missing key or
section is added in a fenced block of its own. Values are read from the
loaded document, positions from its composed nodes, as in
:mod:`instrument.codemods.v2.yaml_edits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from instrument.codemods.fences import markers
from instrument.codemods.v2 import anchors as v2_anchors, deployment_settings as settings_needed
from instrument.codemods.v2 import yaml_edits as v2_yaml
from instrument.codemods.core.errors import InstrumentError

LABEL = markers.LABEL_YAML_DEPLOYMENT
MAX_REQUEST_TIMEOUT_MS = settings_needed.MAX_REQUEST_TIMEOUT_MS
DEFAULT_REQUEST_TIMEOUT_MS = settings_needed.DEFAULT_REQUEST_TIMEOUT_MS
DEFAULT_PERIOD = settings_needed.DEFAULT_PERIOD
DEFAULT_INITIAL_DELAY = settings_needed.DEFAULT_INITIAL_DELAY
DEFAULT_FAILURE_THRESHOLD = settings_needed.DEFAULT_FAILURE_THRESHOLD
UNLIMITED_WAIT_COVERED = settings_needed.UNLIMITED_WAIT_COVERED
WORKER_TIMEOUT = settings_needed.WORKER_TIMEOUT
PROBES = settings_needed.PROBES


def _written(value: int, text: bool) -> str:
    """How a value is written: a number, or (an environment variable) a double-quoted string."""
    return f'"{value}"' if text else str(value)


def _whole_number(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class Settings:
    """The raised values of one deployment file, collected, then turned into fenced blocks."""

    builder: Any
    #: The loaded document (values), whose composed nodes are ``builder.root``.
    data: Any
    #: (start, end, new text) of values replaced where they are written.
    replaced: dict = field(default_factory=dict)
    #: id(block mapping) -> (node, [lines]) of keys added to a section that is there.
    added: dict = field(default_factory=dict)
    #: id(flow mapping) -> (node, [entries]) of keys added to a ``{...}`` section.
    added_inline: dict = field(default_factory=dict)
    #: section -> [lines] of sections that are not there.
    new_sections: dict = field(default_factory=dict)

    def at_least(self, path: tuple, needed: int, default: Optional[int] = None, text: bool = False) -> Optional[int]:
        """``path`` (one key, or section and key) set to ``needed`` unless it is already that much.

        ``default`` is what Azure ML uses when the key is missing: a missing key
        is written whatever its default, so the file says what the session needs.
        ``text``: the value is a string of digits (an environment variable), written quoted.
        Returns the value the key has afterwards, None when it could not be read.
        """
        builder = self.builder
        data, node = self.data, builder.root
        *sections, key = path
        missing = max(needed, default or 0)  # never below what Azure ML would use without the key
        for section in sections:
            found = v2_anchors.child(node, section)
            value = data.get(section) if isinstance(data, dict) else None
            if found is None:
                self.new_sections.setdefault(section, []).append(f"  {key}: {_written(missing, text)}")
                builder.expected.append((path, str(missing) if text else missing))
                return missing
            if not isinstance(value, dict) or found[1].id != "mapping":
                builder.note(found[0], f"{section}: is not a mapping; set {key}: {needed} there by hand")
                return None
            data, node = value, found[1]
        found = v2_anchors.child(node, key)
        if found is None:
            self._add(node, key, _written(missing, text))
            builder.expected.append((path, str(missing) if text else missing))
            return missing
        current = _whole_number(data.get(key))
        if text and isinstance(data.get(key), str) and data.get(key).strip().isdigit():
            current = int(data.get(key).strip())  # an environment variable: a string of digits
        if current is None or found[1].id != "scalar":
            builder.note(found[0], f"{'.'.join(path)} is not a whole number; set it to {needed} by hand")
            return None
        if current >= needed:
            return current
        self.replace(found[1], _written(needed, text))
        builder.expected.append((path, str(needed) if text else needed))
        return needed

    def replace(self, value_node: Any, new: Any) -> None:
        start, end = value_node.start_mark.index, value_node.end_mark.index
        if value_node.anchor:  # `&name 3`: the mark is at the anchor
            start = end - len(self.builder.text[start:end].split()[-1])
        self.replaced[(start, end)] = str(new)  # an aliased node is written once

    def _add(self, node: Any, key: str, value: Any) -> None:
        line = f"{key}: {value}"
        if node.flow_style:
            lines = self.added_inline.setdefault(id(node), (node, []))[1]
        else:
            lines = self.added.setdefault(id(node), (node, []))[1]
        if line not in lines:
            lines.append(line)

    def insertions(self) -> list:
        """The fenced blocks, in an order that keeps blocks at one place in the order written."""
        builder = self.builder
        text, lines = builder.text, builder.lines
        edits = dict(self.replaced)
        for node, entries in self.added_inline.values():
            close = node.end_mark.index - 1
            if text[close : close + 1] != "}":
                raise InstrumentError(f"line {node.start_mark.line + 1}: cannot follow this {{...}} mapping; "
                                      f"add {', '.join(entries)} by hand")
            separator = ", " if node.value else ""
            edits[(close, close)] = separator + ", ".join(entries)
        found = [self._replacing(edits)] if edits else []
        insertions = [insertion for group in found for insertion in group]
        for node, body in self.added.values():
            insertions.append(v2_yaml.add_keys(text, lines, node, body, LABEL))
        if self.new_sections:
            body = []
            for section, entries in self.new_sections.items():
                body += [f"{section}:"] + entries
            insertions.append(v2_yaml.add_keys(text, lines, builder.root, body, LABEL))
        return insertions

    def _replacing(self, edits: dict) -> list:
        """One block per run of lines that holds edits, each keeping its lines behind ``#:``."""
        lines = self.builder.lines
        runs: list = []  # [first line, last line, [(start, end, new)]]
        for (start, end), new in sorted(edits.items()):
            first, last = lines.line_of(start), lines.line_of(max(start, end - 1))
            if runs and first <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], last)
                runs[-1][2].append((start, end, new))
            else:
                runs.append([first, last, [(start, end, new)]])
        blocks = []
        for first, last, changes in runs:
            begin = lines.starts[first]
            new_text = lines.text[begin : lines.starts[last + 1]]
            for start, end, new in sorted(changes, reverse=True):
                new_text = new_text[: start - begin] + new + new_text[end - begin :]
            blocks.append(v2_yaml.replacing(lines, first, last, new_text, LABEL))
        return blocks


def plan_settings(builder: Any, data: Any, timeout: int) -> None:
    """Raise the request timeout and the probes for a debug wait of ``timeout`` seconds (0: no limit);
    one instance."""
    settings = Settings(builder, data)
    if not timeout:
        builder.note(builder.root, "--timeout 0: the scoring script waits for VS Code without limit; the probes "
                                   f"cover {UNLIMITED_WAIT_COVERED} s of it")
    request_ms = settings.at_least(("request_settings", "request_timeout_ms"), MAX_REQUEST_TIMEOUT_MS,
                                   DEFAULT_REQUEST_TIMEOUT_MS) or MAX_REQUEST_TIMEOUT_MS
    for probe in PROBES:
        settings.at_least((probe, "initial_delay"), settings_needed.initial_delay(timeout), DEFAULT_INITIAL_DELAY)
        given = data.get(probe)
        period = _whole_number(given.get("period")) if isinstance(given, dict) else None
        period = period if period and period > 0 else DEFAULT_PERIOD
        settings.at_least((probe, "failure_threshold"), settings_needed.failure_threshold(timeout, period, request_ms),
                          DEFAULT_FAILURE_THRESHOLD)
    # A worker held at a breakpoint past gunicorn's WORKER_TIMEOUT is killed, and the session with it.
    settings.at_least(("environment_variables", "WORKER_TIMEOUT"), settings_needed.worker_timeout(timeout, request_ms),
                      300, text=True)
    found = v2_anchors.child(builder.root, "instance_count")
    count = _whole_number(data.get("instance_count"))
    if found is not None and count is not None and count > 1 and found[1].id == "scalar":
        settings.replace(found[1], 1)
        builder.expected.append((("instance_count",), 1))
        builder.note(found[0], f"instance_count {count} -> 1 while debugging: one container to attach to "
                               "(`instrument strip` puts it back)")
    scale = data.get("scale_settings")
    scale_key = v2_anchors.child(builder.root, "scale_settings")
    if scale_key and isinstance(scale, dict) and _whole_number(scale.get("max_instances")) not in (None, 0, 1):
        builder.note(scale_key[0], "scale_settings may start more than one instance: set max_instances to 1 "
                                   "while debugging")
    builder.insertions.extend(settings.insertions())
