"""Azure ML v2 pipeline jobs and pipeline components (CLI v2 YAML).

Each node under ``jobs:`` (or those ``--step`` names) is instrumented where
its command is: an inline command node here, a local component file
(``component: ./train.yml``) as a ``component`` companion, a sweep node's
local trial likewise; a registered component (``azureml:train@1``) has no
command in this file and gets a note. With ``--service`` the command nodes that
run Python get the service (a sweep node cannot carry one). A pipeline job gets ``settings.force_rerun: true``
so that no node is skipped for an earlier result (``is_deterministic`` on a
node is not honoured there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from instrument.codemods.kinds.base import YAML, Companion, Kind, Plan
from instrument.codemods.v2.registry import V2_OPTIONS, detect_as, planner, verify

if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap

    from instrument.codemods.v2 import plan as v2_plan


def _plan_node(builder: v2_plan.Builder, name: str, node: CommentedMap) -> None:
    from ruamel.yaml.comments import CommentedMap

    from instrument.codemods.v2 import plan as v2_plan, yaml_edits as v2_yaml

    path = ("jobs", name)
    kind = node.get("type", "command")
    reference = node.get("trial") if kind == "sweep" else node.get("component")
    local = v2_yaml.local_path(reference) if isinstance(reference, str) else None
    node_at = v2_plan.node_at(builder.root, path)
    if isinstance(node.get("command"), str):
        runs = v2_plan.plan_command(builder, node, path)
    elif local is not None and v2_plan.unavailable(builder, local):
        builder.note(node_at, f"node {name}: {v2_plan.unavailable(builder, local)}; nothing to debug there")
        return
    elif local is not None:
        builder.companions.append(Companion(local, "pipeline_job" if kind == "pipeline" else "component"))
        runs = kind != "pipeline"
    elif isinstance(reference, CommentedMap) and isinstance(reference.get("command"), str):
        runs = v2_plan.plan_command(builder, reference, path + ("trial" if kind == "sweep" else "component",))
    elif isinstance(reference, str):
        builder.note(node_at, f"node {name} runs the registered component {reference}: its command is not in "
                              "this file (instrument the component's own YAML and register it again)")
        runs = kind == "command"
    else:
        return
    if runs and kind == "command":
        v2_plan.plan_service(builder, node, path)
    elif runs and kind == "sweep" and builder.options.service:
        # azure-ai-ml 1.35 reads services: on a sweep node but does not submit them
        builder.note(node_at, f"node {name} is a sweep: Azure ML takes no interactive service there; "
                              "run the trial as a command node to debug it through a service")


def _walk(builder: v2_plan.Builder, data):
    """The plan for --step selecting nothing, else why nothing changes."""
    from ruamel.yaml.comments import CommentedMap

    from instrument.codemods.v2 import plan as v2_plan

    options = builder.options
    jobs = data.get("jobs")
    names = [name for name in jobs if isinstance(jobs[name], CommentedMap)] if isinstance(jobs, CommentedMap) else []
    if options.steps:
        chosen = [name for name in names if name in options.steps]
        if not chosen:
            return Plan(reason="no node matches --step", warnings=[
                f"--step {', '.join(options.steps)} matches no node under jobs: (nodes: {', '.join(names) or 'none'})"])
        names = chosen
    for name in names:
        _plan_node(builder, name, jobs[name])
    if (builder.entries or builder.companions) and v2_plan.schema_name(data) != "pipelinecomponent":
        v2_plan.set_flag(builder, (), "settings", "force_rerun", True)
    return "no node runs a Python entry script"


KIND = Kind(
    name="pipeline_job",
    language=YAML,
    summary="an Azure ML v2 pipeline job or pipeline component (jobs: with command nodes)",
    detect=detect_as("pipeline_job"),
    plan=planner(_walk),
    verify=verify,
    options=frozenset(V2_OPTIONS | {"steps"}),
    suffixes=(".yml", ".yaml"),
    priority=73,
    brings=True,
    runs_commands=True,
)
