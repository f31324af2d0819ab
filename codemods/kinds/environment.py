"""Azure ML v2 environment definitions: debugpy into the conda file they name.

An environment YAML (``image`` + ``conda_file``, or a ``build`` context) that
a job names by local path (``environment: file:./env.yml``). Its local conda
file is handed to the ``env`` kind; an inline conda mapping gets debugpy in
place; a build context or a bare image gets a note.
"""

from __future__ import annotations

from instrument.codemods.kinds.base import YAML, Kind, Plan
from instrument.codemods.v2.registry import detect_as, verify


def plan(text: str, data, options) -> Plan:
    from instrument.codemods.v2 import plan as v2_plan

    builder = v2_plan.Builder(text, options)
    v2_plan.plan_environment_mapping(builder, data, builder.root)
    return builder.plan("debugpy cannot be added in this file")


KIND = Kind(
    name="environment",
    language=YAML,
    summary="an Azure ML v2 environment (image with conda_file, or build)",
    detect=detect_as("environment"),
    plan=plan,
    verify=verify,
    default_timeout=None,
    options=frozenset(),
    suffixes=(".yml", ".yaml"),
    priority=72,
    brings=True,
)
