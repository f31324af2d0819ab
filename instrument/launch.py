"""VS Code attach configurations for ``instrument launch``.

Builds the debugpy attach configurations of the three situations of Azure
ML's guide (a compute node, a local Docker deployment, and the reverse
connection where VS Code listens), validates each against the schema kept
beside this module (``launch_schema.json``, written from the VS Code Python
debugger's documented attach properties) and merges them into launch.json
with :mod:`instrument.jsonc`. Logs of a distributed job (one per node or
process) give one configuration per rank and a compound that attaches to all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePath
from typing import Optional, Sequence

import jsonschema

from instrument import files, jsonc
from instrument.codemods.core.errors import InstrumentError
from instrument.driver_log import Node

DEFAULT_PORT = 5678
DOCKER_HOST = "localhost"  # portable, unlike the guide's "0.0.0.0"
DOCKER_REMOTE_ROOT = "/var/azureml-app"  # where the scoring image keeps score.py
LISTEN_HOST = "0.0.0.0"  # VS Code must be reachable from the compute node
#: Through a tunnel (a port forwarded over Azure ML's SSH service, or VS Code
#: connected to the job) the listener is reached on this machine.
TUNNEL_HOST = "localhost"
WORKSPACE = "${workspaceFolder}"


class LaunchError(InstrumentError):
    """A configuration or launch.json that cannot be written; str() is one line."""


@dataclass(frozen=True)
class Target:
    """Where VS Code connects (or listens) and how files map between the machines."""

    host: Optional[str]  # None: none of its own (reading logs: each node names its address)
    port: int = DEFAULT_PORT
    local_root: str = WORKSPACE  # a localRoot value, ${workspaceFolder}-relative when it can be
    remote_root: str = "."
    listen: bool = False


def workspace_folder(launch_file: Path, cwd: Path) -> Path:
    """The folder VS Code calls ${workspaceFolder}: the one holding ``.vscode/``."""
    launch_file = Path(os.path.abspath(cwd / launch_file))
    return launch_file.parent.parent if launch_file.parent.name == ".vscode" else cwd


def local_root_value(local_root: str, workspace: Path, cwd: Path) -> str:
    """``local_root`` (relative to ``cwd``) as a localRoot, through ${workspaceFolder} inside it."""
    absolute = PurePath(os.path.abspath(cwd / local_root))
    try:
        relative = absolute.relative_to(os.path.abspath(workspace)).as_posix()
    except ValueError:
        return absolute.as_posix()  # outside the workspace: only an absolute path says where
    return WORKSPACE if relative == "." else f"{WORKSPACE}/{relative}"


def describe_root(local_root: str) -> str:
    """The step directory a localRoot names, for the configuration's name."""
    if local_root == WORKSPACE:
        return ""
    return local_root[len(WORKSPACE) + 1:] if local_root.startswith(WORKSPACE + "/") else local_root


def default_name(target: Target, docker: bool, tunnel: bool = False) -> str:
    step = describe_root(target.local_root)
    if tunnel:
        return "Azure ML job through a tunnel" + (f": {step}" if step else "")
    if docker:
        return "Azure ML deployment: Docker" + (f" ({step})" if step else "")
    name = "Azure ML compute" + (f": {step}" if step else "")
    return name + " (VS Code listens)" if target.listen else name


def attach_configuration(name: str, target: Target, legacy_type: bool = False,
                         just_my_code: bool = True) -> dict:
    """One debugpy attach configuration, in the key order VS Code shows."""
    endpoint = {"host": target.host, "port": target.port}
    configuration = {
        "name": name,
        # "python" is the name older Python extensions used; VS Code now says "debugpy".
        "type": "python" if legacy_type else "debugpy",
        "request": "attach",
        "listen" if target.listen else "connect": endpoint,
        "pathMappings": [{"localRoot": target.local_root, "remoteRoot": target.remote_root}],
        "justMyCode": just_my_code,
        # Show the remote script's print output in VS Code's debug console.
        "redirectOutput": True,
    }
    validate(configuration)
    return configuration


@dataclass(frozen=True)
class Request:
    """The options of ``instrument launch``; None means "the situation's default"."""

    host: Optional[str] = None
    port: Optional[int] = None
    local_root: str = WORKSPACE
    remote_root: Optional[str] = None
    name: Optional[str] = None
    docker: bool = False
    listen: bool = False
    node: Optional[int] = None  # 1-based, in the order of the log
    legacy_type: bool = False
    just_my_code: bool = True
    rank: Optional[int] = None  # a global rank the logs name
    tunnel: bool = False  # the node listens on its loopback; the port is forwarded here


def compound(name: str, configurations: list[dict]) -> dict:
    """A VS Code compound that starts (attaches) all ``configurations`` at once."""
    return {"name": name, "configurations": [c["name"] for c in configurations], "stopAll": True}


def configurations_for(request: Request, nodes: Optional[list[Node]] = None) -> tuple[list[dict], list[dict], list[str]]:
    """(configurations, compounds, notes for the user) for ``request``, or for each node read from logs."""
    host: Optional[str]
    if request.docker:
        host, remote_root = DOCKER_HOST, DOCKER_REMOTE_ROOT
    elif request.tunnel:
        host, remote_root = TUNNEL_HOST, "."
    else:
        host, remote_root = LISTEN_HOST if request.listen else None, "."
    target = Target(request.host or host, request.port or DEFAULT_PORT, request.local_root,
                    request.remote_root or remote_root, request.listen)
    name = request.name or default_name(target, request.docker, request.tunnel)
    if nodes is not None and request.tunnel:
        # The log says which port each process listens on (on its loopback);
        # through the forward, each is reached here.
        nodes = [replace(node, address=TUNNEL_HOST) for node in nodes]
    if nodes is None:
        return [attach_configuration(name, target, request.legacy_type, request.just_my_code)], [], []
    if nodes and all(node.rank is not None for node in nodes):
        return _rank_configurations(request, name, target, sorted(nodes, key=_rank_of))
    if request.rank is not None:
        raise LaunchError(f"--rank {request.rank}: the log has no rank lines (logged by scripts "
                          "instrumented before distributed support); --node N picks a node")
    notes = []
    numbered = list(enumerate(nodes, 1))
    if request.node is not None:
        if request.node > len(nodes):
            raise LaunchError(f"--node {request.node}: the log names {len(nodes)} node{'s' if len(nodes) != 1 else ''}")
        numbered = [numbered[request.node - 1]]
    configurations = []
    for number, node in numbered:
        # An explicit --port wins over the log: it may be a forwarded port.
        node_target = Target(node.address, request.port or node.port or DEFAULT_PORT,
                             target.local_root, target.remote_root)
        node_name = name if len(numbered) == 1 else f"{name} [node {number}]"
        configurations.append(attach_configuration(node_name, node_target, request.legacy_type, request.just_my_code))
        where = f"{node_target.host}:{node_target.port}"
        if request.node is not None:
            notes.append(f"using node {number} of {len(nodes)}: {where}")
        elif len(nodes) > 1:
            notes.append(f"node {number} of {len(nodes)}: {where} -> {node_name!r}")
        else:
            notes.append(f"the log names {where}")
        if node.attached is False:
            notes.append(f"warning: {where} logged `Debugger attached = False`: it stopped waiting; "
                         "run the step again before attaching")
    compounds = []
    if len(nodes) > 1 and request.node is None:
        compounds.append(compound(f"{name} [all nodes]", configurations))
        notes.insert(0, f"the log names {len(nodes)} nodes: one configuration each and the compound "
                        f"{compounds[0]['name']!r} (--node N picks one)")
    return configurations, compounds, notes


def _rank_of(node: Node) -> int:
    assert node.rank is not None, "nodes are sorted by rank only when every one has a rank"
    return node.rank


def _rank_configurations(request: Request, name: str, target: Target,
                         nodes: list[Node]) -> tuple[list[dict], list[dict], list[str]]:
    """One configuration per rank, named by rank so that the next run's replace them."""
    ranks = [node.rank for node in nodes]
    if request.node is not None:
        if request.node > len(nodes):
            raise LaunchError(f"--node {request.node}: the logs name {len(nodes)} rank{'s' if len(nodes) != 1 else ''}")
        nodes = [nodes[request.node - 1]]
    if request.rank is not None:
        if request.rank not in ranks:
            raise LaunchError(f"--rank {request.rank}: the logs name rank{'s' if len(ranks) != 1 else ''} "
                              + ", ".join(map(str, ranks)))
        nodes = [nodes[ranks.index(request.rank)]]
    configurations, notes = [], []
    for node in nodes:
        node_target = Target(node.address, request.port or node.port or DEFAULT_PORT,
                             target.local_root, target.remote_root)
        # One process alone keeps the plain name (a single-process run, as before ranks).
        node_name = name if len(ranks) == 1 and request.rank is None else f"{name} [rank {node.rank}]"
        configurations.append(attach_configuration(node_name, node_target, request.legacy_type, request.just_my_code))
        where = f"{node_target.host}:{node_target.port}"
        notes.append(f"rank {node.rank} (local rank {node.local_rank}): {where} -> {node_name!r}")
        if node.attached is False:
            notes.append(f"warning: rank {node.rank} at {where} logged `Debugger attached = False`: "
                         "it stopped waiting; run the job again before attaching")
    compounds = []
    if len(configurations) > 1:
        compounds.append(compound(f"{name} [all ranks]", configurations))
        notes.insert(0, f"the logs name {len(ranks)} ranks: one configuration each and the compound "
                        f"{compounds[0]['name']!r} (--rank N picks one)")
    return configurations, compounds, notes


@lru_cache(maxsize=None)
def schema() -> dict:
    text = resources.files("instrument").joinpath("launch_schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate(configuration: dict) -> None:
    """Raise LaunchError unless ``configuration`` is a valid debugpy attach configuration."""
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(configuration))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "configuration"
        if error.validator == "oneOf" and not error.absolute_path:
            error.message = "needs exactly one of connect, listen or processId"
        name = configuration.get("name") if isinstance(configuration, dict) else None
        raise LaunchError(f"invalid attach configuration {name!r}: {where}: {error.message}")


#: Printed by --print before the compounds, which go into another array than the configurations.
COMPOUNDS_HEADER = '// for the "compounds" array:\n'


def render(configurations: list[dict], compounds: Sequence[dict] = ()) -> str:
    """The configurations as text to paste into a ``configurations`` array (then the compounds)."""
    def items(values):
        return ",\n".join(json.dumps(c, indent=4, ensure_ascii=False) for c in values) + "\n"

    return items(configurations) + (COMPOUNDS_HEADER + items(compounds) if compounds else "")


def updated_launch_file(data: Optional[bytes], name: str, configurations: list[dict],
                        compounds: Sequence[dict] = ()) -> tuple[bytes, list[str]]:
    """(new bytes, names replaced) of a launch.json (None: absent) with ``configurations`` in it."""
    if data is None:
        return jsonc.new_file(configurations, compounds=compounds).encode("utf-8"), []
    source = files.decode_text(data, name)
    if source.text.strip() == "":
        newline = "\r\n" if "\r\n" in source.text else "\n"
        return files.encode(source, jsonc.new_file(configurations, newline, compounds), name), []
    try:
        text, replaced = jsonc.merge(source.text, configurations, compounds)
    except jsonc.JsoncError as exc:
        raise LaunchError(f"{name}: {exc}") from None
    return files.encode(source, text, name), replaced


def write_launch_file(path: Path, configurations: list[dict], compounds: Sequence[dict] = ()) -> list[str]:
    """Merge ``configurations`` and ``compounds`` into the file at ``path`` (creating it); the names replaced."""
    try:
        data = path.read_bytes() if path.exists() else None
    except OSError as exc:
        raise LaunchError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        output, replaced = updated_launch_file(data, str(path), configurations, compounds)
        if output != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            files.write_atomic(path, output)
    except files.FileError as exc:
        raise LaunchError(str(exc)) from None
    except OSError as exc:
        raise LaunchError(f"{path.parent}: cannot create: {exc.strerror}") from None
    return replaced
