"""Azure ML SDK v1 pipeline definitions (``PythonScriptStep``, ``CondaDependencies``).

SDK v1's support ended on 2026-06-30; its pipelines still run. Each step gets
the debug arguments and ``allow_reuse=False``, each step environment debugpy;
see :mod:`instrument.codemods.kinds.pipeline.steps`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from instrument.codemods.kinds import base
from instrument.codemods.kinds.base import LISTENER_OPTIONS, PYTHON, Kind
from instrument.codemods.core.options import Options
from instrument.codemods.python.sdk_modules import V1_PIPELINE_MODULES

if TYPE_CHECKING:
    import libcst as cst


def detect(text: str, module: cst.Module) -> bool:
    from instrument.codemods.python.syntax_kinds import uses_v1_pipeline_sdk

    return uses_v1_pipeline_sdk(module)


def plan(text, module, options):
    from instrument.codemods.kinds.pipeline import entries as pipeline_entries

    return pipeline_entries.with_entries(plan_steps, text, module, options)


def plan_steps(clean, module, options):
    """Debug arguments and allow_reuse=False for each step, debugpy for each environment: the
    cheapest way that takes the file (the text, the statements, else LibCST's metadata)."""
    from instrument.codemods.kinds.pipeline import steps as pipeline, statements as pipeline_statements, text as pipeline_text

    for way in (pipeline_text.plan_by_text, pipeline_statements.plan_by_statement):
        found = way(clean, module, options)
        if found is not None:
            return found
    return pipeline.plan_with_metadata(clean, module, options)


def verify(result, clean, plan):
    from instrument.codemods.python import parsing

    parsing.verify_rewritten(result, clean, plan.expected)


def take_over(text, module, options):
    from instrument.codemods.kinds.pipeline import step_take_over

    return step_take_over.take_over(text, module, options)


KIND = Kind(
    name="pipeline",
    language=PYTHON,
    summary="an SDK v1 pipeline definition (PythonScriptStep, CondaDependencies)",
    detect=detect,
    plan=plan,
    verify=verify,
    default_timeout=300,
    options=LISTENER_OPTIONS | {"client_ip", "steps", "take_over"},
    take_over=take_over,
    suffixes=(".py",),
    priority=20,
    brings=True,
    imports=V1_PIPELINE_MODULES,
)


def add(source: str, options: Optional[Options] = None) -> str:
    """Instrument a pipeline definition; instrumenting twice gives the same text."""
    return base.apply(KIND, source, options or Options()).text
