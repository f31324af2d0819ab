"""Conda environment files: debugpy in the ``- pip:`` list of ``dependencies:``.

See :mod:`instrument.codemods.yamltext.conda_env`.
"""

from __future__ import annotations

from typing import Any

from instrument.codemods.kinds import base
from instrument.codemods.kinds.base import YAML, Kind
from instrument.codemods.core.options import Options


def detect(text: str, data: Any) -> bool:
    from instrument.codemods.yamltext.conda_env import looks_like_conda_env

    return looks_like_conda_env(data)


def plan(text, data, options):
    from instrument.codemods.yamltext import conda_env

    return conda_env.plan(text, data, options)


def verify(result, clean, plan):
    from instrument.codemods.yamltext import conda_env

    conda_env.verify(result, clean, plan)


KIND = Kind(
    name="env",
    language=YAML,
    summary="a conda environment file (dependencies: with a pip list)",
    detect=detect,
    plan=plan,
    verify=verify,
    default_timeout=None,
    options=frozenset(),
    suffixes=(".yml", ".yaml"),
    priority=90,
)


def add(source: str, options: object = None) -> str:
    """``source`` with debugpy in its pip list; adding twice gives the same text."""
    return base.apply(KIND, source, Options()).text
