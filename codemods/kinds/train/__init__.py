"""Training scripts: an entry script that a job or a pipeline step runs.

The flags join the script's own argparse parser (or a standalone helper parses
them), and the helper waits for VS Code; see :mod:`instrument.codemods.kinds.train.script`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from instrument.codemods.kinds import base
from instrument.codemods.kinds.base import LISTENER_OPTIONS, PYTHON, Kind
from instrument.codemods.core.options import Options

if TYPE_CHECKING:
    import libcst as cst


def detect(text: str, module: cst.Module) -> bool:
    from instrument.codemods.python.syntax_kinds import is_entry_script

    return is_entry_script(module)


def plan(text, module, options):
    from instrument.codemods.kinds.train import script as train_script

    return train_script.plan(text, module, options)


def verify(result, clean, plan):
    from instrument.codemods.kinds.train import script as train_script

    train_script.verify(result, clean, plan)


def take_over(text, module, options):
    from instrument.codemods.kinds.train import hand_written as take_over

    return take_over.take_over(text, module)


KIND = Kind(
    name="train",
    language=PYTHON,
    summary="a training script (an entry script: top-level code or a main guard)",
    detect=detect,
    plan=plan,
    verify=verify,
    default_timeout=300,
    options=LISTENER_OPTIONS | {"take_over"},
    take_over=take_over,
    suffixes=(".py",),
    helper=True,
    priority=90,
    any_script=True,
)


def add(source: str, options: Optional[Options] = None, module: Optional[cst.Module] = None) -> str:
    """Instrument a training script; instrumenting twice gives the same text."""
    return base.apply(KIND, source, options or Options(), module).text
