"""Loading the before/after fixture folders shared by the codemod tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True)
class Case:
    name: str
    before: bytes
    after: bytes
    suffix: str
    meta: dict = field(default_factory=dict)
    #: ``stripped.<suffix>``: what strip makes of ``after`` when add took hand-written
    #: debug code out for good (``--take-over``); else strip gives ``before`` back.
    stripped: Optional[bytes] = None

    @property
    def restored(self) -> bytes:
        """What ``strip`` must make of ``after``."""
        return self.before if self.stripped is None else self.stripped

    @property
    def folder(self) -> Path:
        return self.meta["_folder"]


#: The helper module's file name beside a fixture's script (case.json ``"inline": true``: none).
HELPER_FILE = "_instrument_debug.py"


def case_options(kind: str, meta: dict, action: str = "add"):
    """The :class:`Options` a case is made with: its ``case.json`` options, and for the kinds
    whose scripts load the helper module, that module beside them unless the case is inline."""
    from instrument.codemods import kinds
    from instrument.process import ADD, add_options

    options = dict(meta.get("options", {})) if action == ADD else {}
    if "steps" in options:
        options["steps"] = tuple(options["steps"])
    if action == ADD and kinds.get(kind).helper and not meta.get("inline"):
        options["helper"] = HELPER_FILE
    return add_options(**options)


def write_helper(case, folder: Path) -> None:
    """The helper module beside a case's script in ``folder``, as add writes it (none for an inline case)."""
    if not case.meta.get("inline"):
        from instrument.codemods.helper import module as helper_module

        (folder / HELPER_FILE).write_text(helper_module.module_text(), encoding="utf-8")


def takes_over(meta: dict) -> bool:
    return bool(meta.get("options", {}).get("take_over", False))


def load_cases(kind: str, take_over: Optional[bool] = None) -> list:
    """pytest params, one per ``fixtures/<kind>/<case>/`` with before/after files.

    ``take_over`` True or False: only the cases made with ``--take-over``
    (``case.json`` options), or only those made without it; None: all.
    """
    params = []
    for folder in sorted((FIXTURES / kind).iterdir()):
        if not folder.is_dir():
            continue
        befores = sorted(folder.glob("before.*"))
        if not befores:
            continue
        before = befores[0]
        after = folder / ("after" + before.suffix)
        meta_file = folder / "case.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        if take_over is not None and takes_over(meta) != take_over:
            continue
        meta["_folder"] = folder
        stripped = folder / ("stripped" + before.suffix)
        case = Case(folder.name, before.read_bytes(), after.read_bytes(), before.suffix, meta,
                    stripped.read_bytes() if stripped.exists() else None)
        params.append(pytest.param(case, id=folder.name))
    return params


def runnable(params: list) -> list:
    """``params`` for a test that runs the scripts: a case whose script needs a
    newer Python than the oldest supported (case.json ``"python": "3.10"``, a
    match statement) carries the marker ``py310``."""
    marked = []
    for param in params:
        case = param.values[0]
        if tuple(int(part) for part in case.meta.get("python", "3.9").split(".")) >= (3, 10):
            param = pytest.param(case, id=param.id, marks=pytest.mark.py310)
        marked.append(param)
    return marked


def transformed(job, data: bytes, name: str) -> bytes:
    """The bytes ``job`` turns ``data`` into; the test fails on an error outcome."""
    from instrument.process import process_bytes

    outcome = process_bytes(job, data, name)
    assert outcome.error is None, outcome.error
    return outcome.output
