"""The entry scripts of an SDK v1 pipeline's steps: ``source_directory`` joined with ``script_name``.

A ``PythonScriptStep`` that gets the debug arguments runs its script with them,
so the script must be instrumented too: each step's script is a companion of
the pipeline file. A step whose script the runner found cannot be
instrumented (missing, not parseable) loses its flags: the plan is made again
for the other steps (``--step`` by their ``name=``); a step without a literal
``name=`` cannot be left out that way, and the file is refused with one line.
A script named by a computed value is noted: it cannot be followed from here.
"""

from __future__ import annotations

import ast
import dataclasses
import posixpath
from dataclasses import dataclass
from typing import Callable, Optional

from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds.base import Companion, Note, Plan
from instrument.codemods.core.options import Options
from instrument.codemods.kinds.pipeline.steps import STEP_CLASS, STEP_PARAMETERS
from instrument.codemods.python.positions import ast_tree
from instrument.codemods.python.source_facts import nodes_of

@dataclass(frozen=True)
class StepEntry:
    line: int
    col: int
    name: Optional[str]  # the step's literal name=, if any
    script: Optional[str]  # as written
    path: Optional[str]  # relative to the pipeline file's folder; None: cannot be told
    why: Optional[str] = None  # why not (a computed value)


def _literal(node: Optional[ast.expr]) -> tuple[bool, Optional[str]]:
    """(given, its string value or None when it is not a string literal)."""
    if node is None:
        return False, None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True, node.value
    return True, None


def _argument(call: ast.Call, name: str) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    index = STEP_PARAMETERS.index(name)
    positional = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
    return positional[index] if index < len(positional) and len(positional) == len(call.args) else None


def _is_step(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == STEP_CLASS) or (
        isinstance(func, ast.Attribute) and func.attr == STEP_CLASS)


def step_entries(clean: str, options: Options) -> list[StepEntry]:
    """The selected steps' scripts, in source order."""
    found = []
    tree = ast_tree(clean)  # the parse the text and statement planners read too (the last one is kept)
    for node in nodes_of(tree) if tree is not None else ():
        if not (isinstance(node, ast.Call) and _is_step(node.func)):
            continue
        _, name = _literal(_argument(node, "name"))
        if options.steps and name not in options.steps:
            continue
        given, script = _literal(_argument(node, "script_name"))
        folder_given, folder = _literal(_argument(node, "source_directory"))
        why = None
        if script is None:
            why = "its script_name is not a string written here" if given else "it names no script_name"
        elif folder_given and folder is None:
            why = "its source_directory is computed"
        elif script.startswith("/") or (folder or "").startswith(("/", "azureml:")):
            why = "its script is not a file beside this pipeline"
        path = None if why else posixpath.normpath(posixpath.join(folder or ".", script or ""))
        found.append(StepEntry(node.lineno, node.col_offset + 1, name, script, path, why))
    return sorted(found, key=lambda entry: (entry.line, entry.col))


def with_entries(plan: Callable[[str, object, Options], Plan], clean: str, module: object, options: Options) -> Plan:
    """``plan`` with each step's script as a companion, and without the steps whose script is unavailable."""
    steps = step_entries(clean, options)
    unavailable = dict(options.unavailable)
    blocked = [step for step in steps if step.path is not None and step.path in unavailable]
    notes = [Note(step.line, step.col, f"step {step.name or step.script}: its script {step.path}: "
                  f"{unavailable[step.path]}; no debug arguments for this step") for step in blocked]
    if blocked:
        nameless = [step for step in blocked if step.name is None]
        if nameless:
            step = nameless[0]
            raise InstrumentError(f"line {step.line}: the step's script {step.path}: {unavailable[step.path]}; and "
                                  "the step has no name= to leave it out by: fix the script, or give the steps "
                                  "names and choose them with --step")
        kept = [step for step in steps if step not in blocked]
        if not kept:
            return Plan(notes=notes, reason="no step runs a script that can take the debug arguments")
        names = tuple(dict.fromkeys(step.name for step in kept if step.name is not None))
        if len(names) < len(kept):
            step = next(step for step in kept if step.name is None)
            raise InstrumentError(f"line {step.line}: a step without name= cannot be kept apart from the steps "
                                  "whose scripts are unavailable: give the steps names and choose them with --step")
        options = dataclasses.replace(options, steps=names)
        steps = kept
    found = plan(clean, module, options)
    if not found.insertions:
        return dataclasses.replace(found, notes=list(found.notes) + notes)
    for step in steps:
        if step.why is not None:
            notes.append(Note(step.line, step.col, f"step {step.name or step.script or ''}: {step.why}, so its "
                          "script cannot be followed: instrument it too (instrument add SCRIPT), or the step stops "
                          "on the debug arguments"))
    companions = list(dict.fromkeys(Companion(step.path, "train", entry=True) for step in steps if step.path))
    return dataclasses.replace(found, notes=list(found.notes) + notes, companions=list(found.companions) + companions,
                               entries=len(steps))
