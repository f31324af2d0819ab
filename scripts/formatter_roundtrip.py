"""Does ``strip`` undo ``add`` after a formatter ran on the instrumented file?

For each Python file x (fixtures' ``before`` files, or any files named) that
``instrument add`` changes, and for black and ``ruff format``::

    strip(fmt(add(x))) == fmt(x)

or, where a block replaced lines (which fmt reformatted inside the block,
while the saved originals behind ``#:`` keep their own format),
``fmt(strip(fmt(add(x)))) == fmt(x)``. Besides the fixtures it tries the
:data:`PLACEMENTS` of the helper block (under imports, a module docstring or
comment, above code or a definition), where the formatters decide the blank
lines around the begin fence. Prints one line per file that strips back to
the formatted original only after formatting again for its blank lines (or
not at all) and a summary per formatter::

    python scripts/formatter_roundtrip.py                 # the fixtures
    python scripts/formatter_roundtrip.py /usr/lib/python3.11/*.py
    python scripts/formatter_roundtrip.py --inline        # the whole helper in the script
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def black_format(text: str) -> str:
    import black

    crlf = "\r\n" in text  # black's own CLI formats with \n and writes the file's newline back
    out = black.format_str(text.replace("\r\n", "\n") if crlf else text, mode=black.Mode())
    return out.replace("\n", "\r\n") if crlf else out


def ruff_format(text: str) -> str:
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run([str(ruff), "format", "--no-cache", "-"], input=text, capture_output=True, text=True, check=True)
    return done.stdout


#: The helper module's name beside the script (add's default layout); None: the whole helper
#: in the script (``add --inline``).
HELPER = "_instrument_debug.py"


def transformed(action: str, text: str, name: str, kind, helper=HELPER):
    from instrument.process import ADD, Job, add_options, process_bytes

    options = add_options(helper=helper) if action == ADD else add_options()
    outcome = process_bytes(Job(action, kind=kind, options=options), text.encode("utf-8"), name)
    return None if outcome.error is not None else outcome.output.decode("utf-8")


#: Where the helper block lands and what a formatter does around it: under
#: imports, a module docstring or comment, a try block, with 0 to 2 blank
#: lines, above code, a compound statement, a class, a decorated function,
#: or a function with comments above it (the formatters add one or two blank
#: lines before the fence by what comes after it). Training scripts.
PLACEMENTS = {
    "imports-then-code": 'import sys\nprint(sys.argv)\n',
    "docstring-imports-then-code": '"""Train."""\nimport sys\nprint(sys.argv)\n',
    "docstring-blank-imports": '"""Train."""\n\nimport sys\nprint(sys.argv)\n',
    "docstring-then-code": '"""Train."""\nprint(1)\n',
    "docstring-blank-code": '"""Train."""\n\nprint(1)\n',
    "docstring-two-blank-code": '"""Train."""\n\n\nprint(1)\n',
    "docstring-then-comment": '"""Train."""\n# the work\nprint(1)\n',
    "docstring-blank-comment": '"""Train."""\n\n# the work\nprint(1)\n',
    "comment-then-code": "# Train a model.\nprint(1)\n",
    "comment-blank-code": "# Train a model.\n\nprint(1)\n",
    "shebang-and-comment": "#!/usr/bin/env python\n# Train a model.\nx = 1\n",
    "comment-then-imports": "# Train.\nimport sys\nprint(sys.argv)\n",
    "imports-then-comment": "import sys\n# the work\nprint(sys.argv)\n",
    "imports-blank-comment": "import sys\n\n# the work\nprint(sys.argv)\n",
    "imports-two-blank-comment": "import sys\n\n\n# the work\nprint(sys.argv)\n",
    "imports-then-def": "import sys\ndef main():\n    print(sys.argv)\nmain()\n",
    "imports-blank-decorated": "import sys\n\n@dec\ndef main():\n    print(sys.argv)\nmain()\n",
    "imports-blank-class": "import sys\n\nclass A:\n    pass\nprint(sys.argv)\n",
    "imports-blank-comment-def": "import sys\n\n# entry\ndef main():\n    print(sys.argv)\nmain()\n",
    "imports-comment-blank-def": "import sys\n\n# section\n\ndef main():\n    print(sys.argv)\nmain()\n",
    "try-import-then-code": "try:\n    import sys\nexcept ImportError:\n    sys = None\nprint(sys)\n",
    "imports-then-if": "import sys\nif True:\n    print(sys.argv)\n",
}


def cases(argv: list[str]):
    """(what, text, kind) of each file to try: the named files, else the fixtures and placements."""
    if argv:
        for name in argv:
            try:
                yield name, Path(name).read_bytes().decode("utf-8"), None
            except (OSError, UnicodeDecodeError):
                continue
        return
    for kind in ("train", "score", "pipeline", "sdk_job"):
        for before in sorted((ROOT / "fixtures" / kind).glob("*/before.py")):
            try:
                yield str(before), before.read_bytes().decode("utf-8"), kind
            except UnicodeDecodeError:
                continue
    for name, text in PLACEMENTS.items():
        yield f"placement {name}", text, "train"


def _nonblank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


#: What strip(fmt(add(x))) is, compared with fmt(x).
EXACT = "exact"  # the same text
REFORMAT_CODE = "same after formatting again: lines a block replaced"  # saved originals keep their format
REFORMAT_BLANK = "same after formatting again: blank lines at a fence"
DIFFERENT = "different"


def outcome(text: str, name: str, kind, fmt, helper=HELPER) -> str | None:
    """How ``strip(fmt(add(text)))`` compares with ``fmt(text)``; None if add or fmt does not apply."""
    from instrument.process import ADD, STRIP

    added = transformed(ADD, text, name, kind, helper)
    if added is None or added == text:
        return None
    try:
        want, formatted = fmt(text), fmt(added)
    except Exception:  # the formatter does not take the file (old syntax)
        return None
    stripped = transformed(STRIP, formatted, name, kind)
    if stripped == want:
        return EXACT
    if stripped is None or fmt(stripped) != want:
        return DIFFERENT
    return REFORMAT_BLANK if _nonblank(stripped) == _nonblank(want) else REFORMAT_CODE


def main(argv: list[str]) -> int:
    helper = None if "--inline" in argv else HELPER
    argv = [arg for arg in argv if arg != "--inline"]
    counts: dict[str, dict[str, int]] = {"black": {}, "ruff": {}}
    for path, text, kind in cases(argv):
        name = "train.py" if kind is None else f"{kind}.py"
        for label, fmt in (("black", black_format), ("ruff", ruff_format)):
            found = outcome(text, name, kind, fmt, helper)
            if found is None:
                continue
            counts[label][found] = counts[label].get(found, 0) + 1
            if found in (DIFFERENT, REFORMAT_BLANK):
                print(f"{path}: {label}: strip(fmt(add(x))) is {found}")
    for label, found in counts.items():
        tried = sum(found.values())
        parts = "; ".join(f"{found.get(what, 0)} {what}" for what in (REFORMAT_CODE, REFORMAT_BLANK, DIFFERENT))
        print(f"{label}: {found.get(EXACT, 0)}/{tried} files strip back exactly to the formatted original ({parts})")
    return 1 if any(found.get(DIFFERENT) for found in counts.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
