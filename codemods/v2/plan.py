"""What ``add`` does to an Azure ML v2 YAML file: the parts the v2 kinds share.

A *command holder* is a mapping with a ``command:`` (a command job, a sweep
trial, a pipeline's inline command node, a command component). It gets the
flags on the command that runs its entry script, debugpy in its environment
(or a note saying how), and with ``--service`` an interactive service. The
kinds under ``codemods/kinds/`` (``job``, ``component``, ``pipeline_job``,
``environment``) put these parts together.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any, Optional

from ruamel.yaml.comments import CommentedMap

from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.v2 import anchors as v2_anchors, take_over as v2_take_over, verify as v2_verify, yaml_edits as v2_yaml
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds.base import Companion, Note, Plan
from instrument.codemods.core.options import Options

SERVICE_LABEL = "interactive service for debugging (remove with `instrument strip`)"
REUSE_LABEL = "no reuse of earlier results while debugging (remove with `instrument strip`)"

#: ``$schema`` file names (lower case, without ``.schema.json``) and the kind each one is.
SCHEMAS = {
    "commandjob": "job", "sweepjob": "job", "commandcomponent": "component",
    "pipelinejob": "pipeline_job", "pipelinecomponent": "pipeline_job", "environment": "environment",
}
#: Keys only an Azure ML job or component has next to ``command:`` (docker-compose has ``command:`` too).
JOB_KEYS = frozenset({"environment", "code", "compute", "inputs", "outputs", "resources", "distribution",
                      "experiment_name", "environment_variables", "services", "limits", "identity", "queue_settings"})
ENVIRONMENT_KEYS = frozenset({"$schema", "name", "version", "image", "build", "conda_file", "description", "tags",
                              "os_type", "inference_config", "datastore", "properties", "intellectual_property"})


def schema_name(data: Any) -> Optional[str]:
    schema = data.get("$schema") if isinstance(data, CommentedMap) else None
    if not isinstance(schema, str):
        return None
    name = schema.rsplit("/", 1)[-1].lower()
    for suffix in (".schema.json", ".json"):  # early samples: .../sdk-2-0/CommandComponent.json
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def v2_kind(data: Any) -> Optional[str]:
    """``job``, ``component``, ``pipeline_job``, ``environment`` or None (not a v2 definition)."""
    if not isinstance(data, CommentedMap):
        return None
    schema = schema_name(data)
    if schema is not None:
        return SCHEMAS.get(schema)
    kind = data.get("type")
    if kind == "pipeline":
        jobs = data.get("jobs")
        nodes = list(jobs.values()) if isinstance(jobs, CommentedMap) else []
        if nodes and all(isinstance(n, CommentedMap) and ({"type", "command", "component"} & set(n)) for n in nodes):
            return "pipeline_job"
        return None
    if kind == "sweep" and isinstance(data.get("trial"), (CommentedMap, str)):
        return "job"
    if isinstance(data.get("command"), str) and kind in (None, "command") and JOB_KEYS & set(data):
        return "component" if {"version", "is_deterministic"} & set(data) else "job"
    if ({"image", "build"} & set(data)) and ({"conda_file", "build"} & set(data)) and set(data) <= ENVIRONMENT_KEYS:
        return "environment" if isinstance(data.get("image", ""), str) else None
    return None


@dataclass
class Builder:
    """The parts of one file's plan, collected while walking it."""

    text: str
    options: Options
    lines: v2_yaml.Lines = field(init=False)  # of text, made after it
    root: Any = None
    insertions: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    companions: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    #: (path of keys, value) the result must load with.
    expected: list = field(default_factory=list)
    entries: int = 0
    #: Nodes edited, with the paths they are edited for (aliases and merge keys: edited once).
    claims: Any = None
    #: ``--take-over``: (begin, end, new text) cuts of hand-written debug arguments, and
    #: (path, command without them, line) each command must then load as.
    taken: list = field(default_factory=list)
    taken_commands: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lines = v2_yaml.Lines(self.text)
        self.root = v2_yaml.compose(self.text)
        self.claims = v2_anchors.Claims(self.root)

    def note(self, node: Any, message: str) -> None:
        line, col = v2_yaml.position(node)
        if Note(line, col, message) not in self.notes:  # a node merged into several holders: said once
            self.notes.append(Note(line, col, message))

    def plan(self, nothing: str) -> Plan:
        self.claims.check()
        if not self.insertions and self.companions:
            nothing = "the files it names carry the changes"
        return Plan(self.insertions, self.notes, self.companions, None if self.insertions else nothing,
                    self.warnings, self.expected, entries=self.entries)


def node_at(root: Any, path: tuple) -> Any:
    node = root
    for key in path:
        found = v2_anchors.child(node, key)
        if found is None:
            return None
        node = found[1]
    return node


def plan_environment(builder: Builder, holder: CommentedMap, path: tuple) -> bool:
    """debugpy into the environment a holder runs in; True when it could not be done here."""
    node = node_at(builder.root, path)
    found = v2_anchors.child(node, "environment")
    environment = holder.get("environment")
    if found is None or environment is None:
        return _cannot_add_debugpy(builder, found[0] if found else node, "no environment here: debugpy must be "
                                   "in the image that runs the command")
    if isinstance(environment, str):
        local = v2_yaml.local_path(environment)
        if local is not None:
            builder.companions.append(Companion(local, "environment"))
            return False
        return _cannot_add_debugpy(builder, found[1], f"environment {environment} is a reference that cannot "
                                   "be edited here: it must contain debugpy")
    if isinstance(environment, CommentedMap):
        return plan_environment_mapping(builder, environment, found[1], path + ("environment",))
    return _cannot_add_debugpy(builder, found[1], "environment is not a name or a mapping: debugpy not added")


def _cannot_add_debugpy(builder: Builder, node: Any, why: str) -> bool:
    """A note that debugpy could not go into the environment here, and what instead; returns True."""
    if builder.options.install_debugpy:
        builder.note(node, f"{why}; the command installs it first (--install-debugpy)")
    else:
        builder.note(node, f"{why}, or use --install-debugpy to install it before the entry script")
    return True


def plan_environment_mapping(builder: Builder, environment: CommentedMap, node: Any, path: tuple = ()) -> bool:
    """An inline environment (or an environment file): its conda file, inline conda, build context or image."""
    from instrument.codemods.yamltext import conda_env

    conda = environment.get("conda_file")
    if isinstance(conda, str):
        builder.companions.append(Companion(conda[len("file:"):] if conda.startswith("file:") else conda, "env"))
        return False
    if isinstance(conda, CommentedMap):
        try:
            inline = conda_env.plan(builder.text, conda)
        except InstrumentError as exc:
            return _cannot_add_debugpy(builder, node, f"inline conda_file: {exc}")
        conda_node = v2_anchors.child(node, "conda_file")
        if conda_node is None or builder.claims.claim(conda_node[1], path + ("conda_file",)):
            builder.insertions.extend(inline.insertions)  # once, where an anchored mapping is written
        if inline.insertions:
            builder.expected.append((path + ("conda_file",), v2_verify.DEBUGPY_IN_PIP))
        return False
    build = environment.get("build")
    if isinstance(build, CommentedMap):
        return _plan_build_context(builder, build, node)
    return _cannot_add_debugpy(builder, node, f"environment image {environment.get('image')!s} without a conda "
                               "file: debugpy must be in the image")


def _plan_build_context(builder: Builder, build: CommentedMap, node: Any) -> bool:
    """A Docker build context: its Dockerfile (the ``dockerfile`` kind finds the file it installs)."""
    context, dockerfile = build.get("path"), build.get("dockerfile_path", "Dockerfile")
    why = f"environment built from the Docker context {context!s}: debugpy must be in its Dockerfile"
    if builder.options.install_debugpy:
        return _cannot_add_debugpy(builder, node, why)
    local = isinstance(context, str) and ":" not in context.split("/")[0] and isinstance(dockerfile, str)
    if not local or "/" in posixpath.normpath(dockerfile):
        # A remote context (git, a datastore) or a Dockerfile in a sub-folder (its COPY paths are not
        # relative to its own folder): too far to follow.
        return _cannot_add_debugpy(builder, node, why)
    builder.companions.append(Companion(posixpath.join(context, dockerfile), "dockerfile"))
    return False


def plan_command(builder: Builder, holder: CommentedMap, path: tuple) -> bool:
    """Flags on a holder's command (and debugpy in its environment); True when it runs Python."""
    node = node_at(builder.root, path)
    found = v2_anchors.child(node, "command")
    command = holder.get("command")
    if found is None or not isinstance(command, str):
        return False
    command = str(command)
    try:
        handwritten = v2_take_over.hand_written(command)
    except InstrumentError as exc:
        raise InstrumentError(f"line {found[0].start_mark.line + 1}: {exc}") from None
    entry = v2_commands.entry(v2_take_over.blanked(command, handwritten), builder.options.entry)
    if entry is None:
        builder.note(found[0], "the command runs no Python entry script; no debug flags added")
        return False
    written, _ = v2_anchors.definition(builder.root, found[1])  # an alias's value is written at its anchor
    if handwritten:
        return v2_take_over.take_over(builder, found, written, path, command, handwritten)
    if not plan_entry(builder, holder, entry, found[0]):
        return False
    needs_install = plan_environment(builder, holder, path)
    edit = v2_yaml.edit_command(builder.text, builder.lines, written or found[0], found[1], command,
                                builder.options, builder.options.install_debugpy and needs_install)
    if edit is None:
        return False
    if builder.claims.claim(found[1], path + ("command",), edit.insertion):
        builder.insertions.append(edit.insertion)
    builder.expected.append((path + ("command",), edit.expected))
    builder.entries += 1
    return True


def unavailable(builder: Builder, path: str) -> Optional[str]:
    """Why the runner found a file this definition names cannot be instrumented, or None."""
    return dict(builder.options.unavailable).get(path)


def plan_entry(builder: Builder, holder: CommentedMap, entry: v2_commands.Entry, key: Any) -> bool:
    """The entry's script as a companion (instrumented with the definition); False, with a note
    saying why, when its command must not get the flags (the script could not take them)."""
    companion, notes = v2_commands.entry_companion(entry, holder.get("code"), builder.options.unavailable)
    for message in notes:
        builder.note(key, message)
    if companion is not None:
        builder.companions.append(companion)
    return companion is not None


def _merged_services(kind: str) -> InstrumentError:
    """services: loaded from a merge key (``<<: *defaults``): not written in the holder's own mapping."""
    return InstrumentError(f"services: comes through a merge key (<<:); add a {kind} service by hand")


def plan_service(builder: Builder, holder: CommentedMap, path: tuple) -> None:
    """``services:`` with a VS Code or SSH service (``--service``)."""
    kind = builder.options.service
    if kind is None:
        return
    name = f"instrument_{kind}"
    entry = [f"{name}:", f"  type: {kind}"]
    if kind == "ssh":
        public_key = builder.options.ssh_public_key
        assert public_key is not None, "Options requires the key with --service ssh"
        entry.append(f"  ssh_public_keys: {v2_yaml.double_quoted(public_key)}")
    entry.append("  nodes: all")
    node = node_at(builder.root, path)
    if not builder.claims.claim(node, path, "services"):
        return  # the same node under another name (an alias): its service is there once
    services = holder.get("services")
    found = v2_yaml.child(node, "services")
    if isinstance(services, CommentedMap) and any(
        isinstance(s, CommentedMap) and s.get("type") == kind for s in services.values()
    ):
        if found is None:
            raise _merged_services(kind)
        builder.note(found[0], f"a {kind} service is already there")
        return
    if found is not None and found[1].id == "mapping" and found[1].flow_style:
        flow = f"{name}: {{" + ", ".join(line.strip() for line in entry[1:]) + "}"
        builder.insertions.append(v2_yaml.add_to_flow_mapping(builder.text, builder.lines, found[1], flow,
                                                              SERVICE_LABEL))
    elif isinstance(services, CommentedMap) and len(services):
        if found is None:
            raise _merged_services(kind)
        builder.insertions.append(v2_yaml.add_keys(builder.text, builder.lines, found[1], entry, SERVICE_LABEL))
    elif found is not None:
        raise InstrumentError(f"line {found[0].start_mark.line + 1}: services: is empty or not a mapping; "
                              f"add a {kind} service by hand")
    else:
        body = ["services:"] + ["  " + line for line in entry]
        builder.insertions.append(v2_yaml.add_keys(builder.text, builder.lines, node, body, SERVICE_LABEL))
    builder.expected.append((path + ("services", name, "type"), kind))


def set_flag(builder: Builder, mapping_path: tuple, section: Optional[str], key: str, value: bool) -> None:
    """``key: true|false`` in a mapping (or in its ``section:``, created when absent)."""
    literal = "true" if value else "false"
    holder = node_at(builder.root, mapping_path)
    target = v2_yaml.child(holder, section) if section else (None, holder)
    expected_path = mapping_path + ((section,) if section else ()) + (key,)
    if target is None:
        body = [f"{section}:", f"  {key}: {literal}"]
        builder.insertions.append(v2_yaml.add_keys(builder.text, builder.lines, holder, body, REUSE_LABEL))
    elif target[1].id == "mapping" and target[1].flow_style and v2_yaml.child(target[1], key) is None:
        insertion = v2_yaml.add_to_flow_mapping(builder.text, builder.lines, target[1], f"{key}: {literal}",
                                                REUSE_LABEL)
        builder.insertions.append(insertion)
    elif target[1].id != "mapping" or target[1].flow_style or not target[1].value:
        raise InstrumentError(f"line {target[1].start_mark.line + 1}: {section}: is empty or inline; "
                              f"add `{key}: {literal}` by hand")
    else:
        existing = v2_yaml.child(target[1], key)
        if existing is None:
            insertion = v2_yaml.add_keys(builder.text, builder.lines, target[1], [f"{key}: {literal}"], REUSE_LABEL)
            builder.insertions.append(insertion)
        elif existing[1].id == "scalar" and existing[1].value.lower() == literal:
            return
        else:
            first = existing[0].start_mark.line
            last = max(first, builder.lines.line_of(v2_yaml.last_content(builder.text, existing[1])))
            indent = " " * existing[0].start_mark.column
            new = "".join(indent + line for line in [f"{key}: {literal}\n"])
            builder.insertions.append(v2_yaml.replacing(builder.lines, first, last, new, REUSE_LABEL))
    builder.expected.append((expected_path, value))


def planner(walk: Any) -> Any:
    """A v2 kind's ``plan`` from its ``walk(builder, data)``: see :func:`v2_take_over.planner`."""
    return v2_take_over.planner(walk, Builder)
