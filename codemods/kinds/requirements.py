"""pip requirements files: ``debugpy`` in a fenced block at the end.

A v2 environment's build context that installs a requirements file
(``pip install -r requirements.txt`` in its Dockerfile) gets debugpy there.
Found as such a companion, by ``--kind requirements``, or by a file named
``requirements*.txt``; never while walking folders (a project's own
requirements file is not a job's environment).
"""

from __future__ import annotations

from instrument.codemods.fences import markers
from instrument.codemods.core.packages import DEBUGPY, requirement_name
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds.base import TEXT, Kind, Plan, remove_blocks


def requirement_lines(text: str) -> list[str]:
    """The logical lines pip reads: continuations (a trailing ``\\``) joined, comments removed."""
    logical, current = [], ""
    for line in markers.split_lines(text):
        line = line.rstrip("\r\n")
        if line.endswith("\\"):
            current += line[:-1]
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    found = []
    for line in logical:
        # pip: ``#`` starts a comment at the start of a line or after whitespace
        cut = next((i for i, char in enumerate(line) if char == "#" and (i == 0 or line[i - 1] in " \t")), len(line))
        if line[:cut].strip():
            found.append(line[:cut].strip())
    return found


def detect(text: str, tree) -> bool:
    from instrument.codemods.shell import dockerfile  # here: the registry loads this module on every run

    return not dockerfile.is_dockerfile(text)


def plan(text: str, tree, options) -> Plan:
    if any(requirement_name(line) == DEBUGPY for line in requirement_lines(text)):
        return Plan(reason=f"{DEBUGPY} is already required")
    lines = markers.split_lines(text)
    if lines and lines[-1].rstrip("\r\n").endswith("\\"):
        raise InstrumentError(f"line {len(lines)}: the last line is continued with a backslash; "
                              f"add {DEBUGPY} by hand")
    return Plan([markers.Insertion(len(lines), "", markers.LABEL_CONDA, [DEBUGPY])])


def verify(result: str, clean: str, plan: Plan) -> None:
    if remove_blocks(result, TEXT) != clean:
        raise InstrumentError("internal error: the result does not strip back to the original")
    if DEBUGPY not in (requirement_name(line) for line in requirement_lines(result)):
        raise InstrumentError(f"internal error: pip would not read {DEBUGPY} from the result")


KIND = Kind(
    name="requirements",
    language=TEXT,
    summary="a pip requirements file (debugpy at the end)",
    detect=detect,
    plan=plan,
    verify=verify,
    default_timeout=None,
    options=frozenset(),
    names=("requirements*.txt",),
    priority=90,
)
