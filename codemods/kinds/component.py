"""Azure ML v2 command components: flags on the entry command, no reuse.

Like a command job (see :mod:`instrument.codemods.kinds.job`), and
``is_deterministic: false`` so that a pipeline runs the component again
instead of reusing an earlier result. Interactive services belong to the job
or pipeline node that runs the component; with ``--service`` the flags still
make the script listen on loopback only, for the node's service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from instrument.codemods.kinds.base import YAML, Kind
from instrument.codemods.v2.registry import V2_OPTIONS, detect_as, planner, verify

if TYPE_CHECKING:
    from instrument.codemods.v2 import plan as v2_plan


def _walk(builder: v2_plan.Builder, data) -> str:
    from instrument.codemods.v2 import plan as v2_plan

    if v2_plan.plan_command(builder, data, ()):
        v2_plan.set_flag(builder, (), None, "is_deterministic", False)
    return "the command runs no Python entry script"


KIND = Kind(
    name="component",
    language=YAML,
    summary="an Azure ML v2 command component",
    detect=detect_as("component"),
    plan=planner(_walk),
    verify=verify,
    options=frozenset(V2_OPTIONS),
    suffixes=(".yml", ".yaml"),
    priority=71,
    brings=True,
    runs_commands=True,
)
