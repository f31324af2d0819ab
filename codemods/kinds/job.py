"""Azure ML v2 command and sweep jobs (CLI v2 YAML): flags on the entry command.

``command:`` (a sweep job's ``trial.command:``) gets the ``--remote_debug*``
flags after the arguments of the Python entry; debugpy goes into the
environment (its local conda file, an inline conda_file, or a note for a
reference); ``--service`` adds a VS Code or SSH service. See
:mod:`instrument.codemods.v2.plan`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from instrument.codemods.kinds.base import YAML, Companion, Kind
from instrument.codemods.v2.registry import V2_OPTIONS, detect_as, planner, verify

if TYPE_CHECKING:
    from instrument.codemods.v2 import plan as v2_plan


def _walk(builder: v2_plan.Builder, data) -> str:
    from ruamel.yaml.comments import CommentedMap

    from instrument.codemods.v2 import plan as v2_plan, yaml_edits as v2_yaml

    if data.get("type") == "sweep":
        trial = data.get("trial")
        local = v2_yaml.local_path(trial) if isinstance(trial, str) else None
        if local is not None and v2_plan.unavailable(builder, local):
            builder.note(v2_plan.node_at(builder.root, ("trial",)),
                         f"trial: {v2_plan.unavailable(builder, local)}; nothing to debug there")
        elif local is not None:
            builder.companions.append(Companion(local, "component"))
        elif isinstance(trial, CommentedMap):
            v2_plan.plan_command(builder, trial, ("trial",))
        if builder.companions or builder.entries:
            v2_plan.plan_service(builder, data, ())
        return "the trial runs no Python entry script"
    if v2_plan.plan_command(builder, data, ()):
        v2_plan.plan_service(builder, data, ())
    return "the command runs no Python entry script"


KIND = Kind(
    name="job",
    language=YAML,
    summary="an Azure ML v2 command or sweep job (command: python ...)",
    detect=detect_as("job"),
    plan=planner(_walk),
    verify=verify,
    options=frozenset(V2_OPTIONS),
    suffixes=(".yml", ".yaml"),
    priority=70,
    brings=True,
    runs_commands=True,
)
