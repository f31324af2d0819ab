"""What a v2 definition kind hands the kind registry: its options, and functions that load the
v2 planner (and ruamel.yaml with it) only when they are called.

The registry loads every kind module on every run, and most runs name Python files only: a
``job`` or ``component`` module that imported :mod:`.plan` at its top would cost each of them
the YAML library's import, about a tenth of Python's own start. ``tests/test_kinds.py`` holds
a run over Python files to never loading it.
"""

from __future__ import annotations

from typing import Any, Callable

from instrument.codemods.kinds.base import LISTENER_OPTIONS, Plan

#: The options a v2 job definition takes (``--host`` is decided by ``--service``).
V2_OPTIONS = (LISTENER_OPTIONS - {"host"}) | {"client_ip", "install_debugpy", "service", "ssh_public_key", "take_over",
                                              "entry"}


def detect_as(name: str) -> Callable[[str, Any], bool]:
    """A kind's ``detect``: whether the loaded YAML is the v2 definition ``name`` (:func:`.plan.v2_kind`)."""

    def detect(text: str, data: Any) -> bool:
        from instrument.codemods.v2 import plan as v2_plan

        return v2_plan.v2_kind(data) == name

    return detect


def planner(walk: Callable[..., Any]) -> Callable[[str, Any, Any], Plan]:
    """A kind's ``plan`` from its ``walk(builder, data)`` (:func:`.plan.planner`)."""

    def plan(text: str, data: Any, options: Any) -> Plan:
        from instrument.codemods.v2 import plan as v2_plan

        return v2_plan.planner(walk)(text, data, options)

    return plan


def verify(result: str, clean: str, plan: Plan) -> None:
    """A v2 kind's ``verify`` (:func:`.verify.verify`)."""
    from instrument.codemods.v2 import verify as v2_verify

    v2_verify.verify(result, clean, plan)
