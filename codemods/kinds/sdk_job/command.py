"""The command string of one v2 job: where it is written, and the flags put into it.

``command=`` is followed to the one string expression it is (a literal, a
concatenation, an f-string, or a name bound once in the same function or at
module level); the shell scanner of :mod:`instrument.codemods.shell.commands`
says where the flags go, :mod:`instrument.codemods.v2.strings` puts them
there. Hand-written debug arguments (``--remote_debug`` flags, ``python -m
debugpy``) are left alone with a note, or removed for good with ``--take-over``.
"""

from __future__ import annotations

import re

import libcst as cst

from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.v2 import strings as v2_strings, take_over as v2_take_over
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds.sdk_job.python import ENVIRONMENT, JobDef, keyword, string_value

INSTALL = "pip install debugpy && "
#: ``${inputs.x}``: what ``f"${{inputs.x}}"`` renders (a bug in real samples).
_SINGLE_BRACED = re.compile(r"\$\{(?!\{)\s*(?:inputs|outputs)\.")


def _command_expression(edits, job: JobDef):
    """The string expression of the job's command, or None (with a note)."""
    arg = keyword(job.call, "command")
    if arg is None:
        edits.note(job.call, "no command= string here; nothing to add the debug flags to")
        return None
    value = arg.value
    if isinstance(value, cst.Name):
        bound, count = edits.analysis.bound_value(job.function, value.value)
        if bound is None:
            edits.note(value, f"`{value.value}` is bound {'more than once' if count else 'elsewhere'}; "
                              "add the debug flags to the command by hand")
            return None
        value = bound
    return value


def _environment(edits, job: JobDef) -> bool:
    """Whether the job's environment may lack debugpy where it cannot be added here (notes why)."""
    arg = keyword(job.call, "environment")
    if arg is None:
        return False
    value = arg.value
    if isinstance(value, cst.Name):
        bound, _ = edits.analysis.bound_value(job.function, value.value)
        value = bound if bound is not None else value
    reference = string_value(value)
    if isinstance(value, cst.Call) and edits.analysis.table.qualified_name(value.func) == ENVIRONMENT:
        if keyword(value, "conda_file") is not None:
            return False
        what = "an image without a conda file"
    elif reference is not None:
        what = f"a reference ({reference})"
    else:
        what = "not defined in this file"
    if not edits.options.install_debugpy:
        edits.note(arg, f"environment is {what}: debugpy cannot be added to it here; make sure it has debugpy, "
                        "or pass --install-debugpy (the command then runs `pip install debugpy` first)")
    return True


def instrument_command(edits, job: JobDef, done: set) -> bool:
    """Flags (and ``pip install debugpy &&``) in the job's command string; False, with a note, when not."""
    expression = _command_expression(edits, job)
    if expression is None:
        return False
    found = v2_strings.pieces(expression)
    if found is None:
        edits.note(expression, "the command is not built from string literals here; add the debug flags by hand")
        return False
    command = v2_strings.rendered(found)
    if any(piece.host is not None and _SINGLE_BRACED.search(piece.text) for piece in found):
        edits.note(expression, "this f-string renders ${inputs.x}/${outputs.x} with single braces, which Azure ML "
                               "does not replace: write ${{{{inputs.x}}}} inside an f-string")
    try:
        removed = _hand_written(command, found)
    except InstrumentError as exc:
        edits.note(expression, f"{exc}; left as it is")
        return False
    if removed:
        return _take_over(edits, expression, found, command, removed)
    placed = v2_commands.flag_text(command, edits.options)
    if placed is None:
        edits.note(expression, "the command runs no Python entry script; left as it is")
        return False
    at, flags = placed
    if not _entry(edits, job, expression, command):
        return False
    install = _environment(edits, job) and edits.options.install_debugpy
    if expression in done:
        return True  # a command bound to one name and used by several jobs
    done.add(expression)
    changes = [v2_strings.Edit(at, flags, after=True)]
    install_at = v2_commands.install_insertion(command, edits.options.entry) if install else None
    if install_at is not None:  # the entry found above: its and-or list starts somewhere
        changes.append(v2_strings.Edit(install_at, INSTALL, after=False))
    replaced = v2_strings.replacements(found, changes, lambda: edits.quote)
    if not edits.touch(expression, edits.label_job):
        return False
    edits.nodes.update(replaced)
    edits.entries += 1
    return True


def _entry(edits, job: JobDef, expression, command: str) -> bool:
    """The job's entry script as a companion (``code=`` joined with the command's script); False,
    with a note, when the command must not get the flags (the script could not take them)."""
    entry = v2_commands.entry(command, edits.options.entry)
    if entry is None:
        return False
    code = keyword(job.call, "code")
    where = edits.analysis.text_of(code.value, job.function) if code is not None else None
    companion, notes = v2_commands.entry_companion(entry, where, edits.options.unavailable,
                                                   code_unreadable=code is not None and where is None)
    for message in notes:
        edits.note(expression, message)
    if companion is not None:
        edits.companions.append(companion)
    return companion is not None


def _take_over(edits, expression, found, command: str, removed: list) -> bool:
    """Hand-written debug arguments: a note, or (``--take-over``) their removal for good.

    The removal goes into ``edits.taken``; the plan is then made again on the
    script without them (see :func:`instrument.codemods.kinds.sdk_job.planner.plan_from`).
    """
    if not edits.options.take_over:
        edits.note(expression, "the command already has hand-written debug arguments (--remote_debug flags or "
                               "python -m debugpy); left as it is (--take-over removes them for good)")
        return False
    kept = v2_take_over.blanked(command, removed)
    if v2_commands.flag_insertion(kept) is None:
        edits.note(expression, "without its hand-written debug arguments the command runs no Python entry "
                               "script; left as it is")
        return False
    if expression in edits.taken_expressions:
        return True
    changes = []
    for start, end in removed:
        changes += _removals(found, start, end)
    try:
        replaced = v2_strings.replacements(found, changes, lambda: edits.quote)
    except ValueError:
        edits.note(expression, "the hand-written debug arguments are spread over expressions other than an "
                               "f-string's; take them out by hand")
        return False
    edits.taken_expressions.add(expression)
    edits.taken.update(replaced)
    edits.note(expression, "hand-written debug arguments removed for good (--take-over); strip leaves them out")
    return True


def _removals(found, start: int, end: int) -> list:
    """The rendered range ``start``..``end`` as one removal per piece it covers."""
    edits, position = [], 0
    for piece in found:
        low, high = max(start, position), min(end, position + len(piece.text))
        if low < high:
            edits.append(v2_strings.Edit(low, "", after=False, remove=high - low))
        position += len(piece.text)
    return edits


def _hand_written(command: str, found) -> list:
    """Rendered ranges of hand-written flags, each with the blanks before it in its own piece
    (what --take-over removes)."""
    starts, position = [], 0
    for piece in found:
        starts.append(position)
        position += len(piece.text)
    ranges = []
    for start, end in v2_take_over.hand_written(command):
        piece_start = max(s for s in starts if s <= start)
        while start > piece_start and command[start - 1] in " \t":
            start -= 1
        ranges.append((start, end))
    return ranges
