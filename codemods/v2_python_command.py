"""The command string of one v2 job: where it is written, and the flags put into it.

``command=`` is followed to the one string expression it is (a literal, a
concatenation, an f-string, or a name bound once in the same function or at
module level); the shell scanner of :mod:`instrument.codemods.v2_commands`
says where the flags go, :mod:`instrument.codemods.v2_strings` puts them
there. Hand-written ``--remote_debug`` flags are left alone with a note, or
replaced with ``--take-over``.
"""

from __future__ import annotations

import re

import libcst as cst

from instrument.codemods import v2_commands, v2_strings
from instrument.codemods.v2_python import ENVIRONMENT, JobDef, keyword, string_value

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
    removed = _hand_written(command, found)
    if removed and not edits.options.take_over:
        edits.note(expression, "the command already passes --remote_debug flags (hand-written); left as it is "
                               "(--take-over replaces them)")
        return False
    at = _flag_offset(command, removed)
    if at is None:
        edits.note(expression, "the command runs no Python entry script; left as it is")
        return False
    install = _environment(edits, job) and edits.options.install_debugpy
    if expression in done:
        return True  # a command bound to one name and used by several jobs
    done.add(expression)
    changes = [v2_strings.Edit(at, " " + " ".join(v2_commands.debug_flag_tokens(edits.options)), after=True)]
    if install:
        changes.append(v2_strings.Edit(v2_commands.install_insertion(command), INSTALL, after=False))
    changes += [v2_strings.Edit(start, "", after=False, remove=end - start) for start, end in removed]
    try:
        replaced = v2_strings.replacements(found, changes, edits.quote)
    except ValueError:
        edits.note(expression, "the hand-written --remote_debug flags are spread over expressions; replace them by hand")
        return False
    if not edits.touch(expression, edits.label_job):
        return False
    edits.nodes.update(replaced)
    return True


def _hand_written(command: str, found) -> list:
    """Rendered ranges of hand-written flags, each with the blanks before it in its own piece
    (what --take-over removes)."""
    starts, position = [], 0
    for piece in found:
        starts.append(position)
        position += len(piece.text)
    ranges = []
    for start, end in v2_commands.remote_debug_spans(command):
        piece_start = max(s for s in starts if s <= start)
        while start > piece_start and command[start - 1] in " \t":
            start -= 1
        ranges.append((start, end))
    return ranges


def _flag_offset(command: str, removed: list):
    """Where the flags go in ``command`` once the ``removed`` ranges are gone (an offset of ``command``)."""
    kept, position = [], 0
    for start, end in removed:
        kept.append(command[position:start])
        position = end
    at = v2_commands.flag_insertion("".join(kept) + command[position:])
    if at is None:
        return None
    for start, end in removed:
        if at > start:
            at += end - start
    return at
