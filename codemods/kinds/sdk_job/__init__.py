"""Azure ML SDK v2 submission scripts (azure-ai-ml): the jobs they define get the flags.

SDK v1's support ended on 2026-06-30; v2 defines jobs with ``command(...)``,
``@dsl.pipeline`` and ``load_component(...)``. Such a script runs on the
user's machine and only submits: it is never the training script (that would
make the submitter wait for a debugger). Its jobs' commands get the debug
flags, their environments debugpy, their pipelines no reuse; see
:mod:`instrument.codemods.kinds.sdk_job.planner`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from instrument.codemods.kinds.base import PYTHON, Kind
from instrument.codemods.python.sdk_modules import AZURE_AI_ML

if TYPE_CHECKING:
    import libcst as cst


def detect(text: str, module: cst.Module) -> bool:
    from instrument.codemods.kinds.sdk_job.python import uses_azure_ai_ml

    return uses_azure_ai_ml(module)


def plan(text, module, options):
    """The usual layouts are planned from CPython's tree and edited statement by statement
    (:mod:`v2_python_fast`); the rest from LibCST's metadata (:mod:`v2_python_plan`). With
    ``--take-over`` and hand-written debug arguments, the plan is for the script without them
    (``Plan.source``), which is what strip then gives back."""
    from instrument.codemods.kinds.sdk_job import fast as v2_python_fast, planner as v2_python_plan

    found = v2_python_fast.plan_by_statement(text, module, options)
    return found if found is not None else v2_python_plan.plan_with_metadata(text, module, options)


def verify(result, clean, plan):
    from instrument.codemods.kinds.sdk_job import planner as v2_python_plan

    v2_python_plan.verify(result, clean, plan)


KIND = Kind(
    name="sdk_job",
    language=PYTHON,
    summary="an Azure ML SDK v2 submission script (azure-ai-ml: command, dsl.pipeline, load_component, ManagedOnlineDeployment)",
    detect=detect,
    plan=plan,
    verify=verify,
    default_timeout=300,
    # No --host: the job's script listens where its own flags say (loopback with --service).
    options=frozenset({"port", "timeout", "ranks", "client_ip", "steps", "install_debugpy", "service", "ssh_public_key", "take_over",
                       "entry"}),
    suffixes=(".py",),
    priority=15,
    brings=True,
    imports=(AZURE_AI_ML,),
)
