"""Scoring scripts: ``init()`` and ``run()`` hosted by azmlinfsrv in a deployment.

A block at the start of ``init()`` waits for VS Code when the service starts
with ``INSTRUMENT_DEBUG=1``; see :mod:`instrument.codemods.kinds.score.script`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from instrument.codemods.kinds import base
from instrument.codemods.kinds.base import LISTENER_OPTIONS, PYTHON, Kind
from instrument.codemods.core.options import Options

if TYPE_CHECKING:
    import libcst as cst


def detect(text: str, module: cst.Module) -> bool:
    from instrument.codemods.python.syntax_kinds import top_level_functions

    return {"init", "run"} <= top_level_functions(module)


def plan(text, module, options):
    from instrument.codemods.kinds.score import script as score_script

    return score_script.plan(text, module, options)


def verify(result, clean, plan):
    from instrument.codemods.kinds.score import script as score_script

    score_script.verify(result, clean, plan)


KIND = Kind(
    name="score",
    language=PYTHON,
    summary="a scoring script (top-level init() and run(), served by azmlinfsrv)",
    detect=detect,
    plan=plan,
    verify=verify,
    # A scoring service must answer its health probe soon: wait less.
    default_timeout=30,
    # --client-ip: the worker connects out to a VS Code that listens (nothing listens in the container).
    options=LISTENER_OPTIONS | {"client_ip"},
    suffixes=(".py",),
    helper=True,
    priority=10,
)


def add(source: str, options: Optional[Options] = None) -> str:
    """Instrument a scoring script; instrumenting twice gives the same text."""
    return base.apply(KIND, source, options or Options()).text
