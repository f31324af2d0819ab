"""Does ``strip`` undo ``add`` after a formatter ran on the instrumented file?

For each Python file x (fixtures' ``before`` files, or any files named) that
``instrument add`` changes, and for black and ``ruff format``::

    strip(fmt(add(x))) == fmt(x)

or, where a block replaced lines (which fmt reformatted inside the block,
while the saved originals behind ``#:`` keep their own format),
``fmt(strip(fmt(add(x)))) == fmt(x)``. Prints one line per failure and a summary per formatter::

    python scripts/formatter_roundtrip.py                 # the fixtures
    python scripts/formatter_roundtrip.py /usr/lib/python3.11/*.py
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


def transformed(action: str, text: str, name: str, kind):
    from instrument.process import Job, process_bytes

    outcome = process_bytes(Job(action, kind=kind), text.encode("utf-8"), name)
    return None if outcome.error is not None else outcome.output.decode("utf-8")


def cases(argv: list[str]):
    if argv:
        for name in argv:
            yield Path(name), None
        return
    for kind in ("train", "score", "pipeline", "sdk_job"):
        for before in sorted((ROOT / "fixtures" / kind).glob("*/before.py")):
            yield before, kind


def _nonblank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def main(argv: list[str]) -> int:
    from instrument.process import ADD, STRIP

    tried: dict[str, int] = {"black": 0, "ruff": 0}
    failed: dict[str, int] = {"black": 0, "ruff": 0}
    strict: dict[str, int] = {"black": 0, "ruff": 0}
    blank: dict[str, int] = {"black": 0, "ruff": 0}
    for path, kind in cases(argv):
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        name = "train.py" if kind is None else f"{kind}.py"
        added = transformed(ADD, text, name, kind)
        if added is None or added == text:
            continue
        for label, fmt in (("black", black_format), ("ruff", ruff_format)):
            try:
                want, formatted = fmt(text), fmt(added)
            except Exception:  # the formatter does not take the file (old syntax)
                continue
            tried[label] += 1
            stripped = transformed(STRIP, formatted, name, kind)
            strict[label] += stripped == want
            if stripped != want and (stripped is None or fmt(stripped) != want):
                failed[label] += 1
                blank_only = stripped is not None and _nonblank(stripped) == _nonblank(want)
                blank[label] += blank_only
                what = "only in blank lines" if blank_only else "in code"
                print(f"{path}: {label}: strip(fmt(add(x))) differs from fmt(x) {what}")
    for label in tried:
        print(
            f"{label}: {tried[label] - failed[label]}/{tried[label]} files strip back to the formatted original"
            f" ({strict[label]} without formatting again; {blank[label]} of the others differ only in blank lines)"
        )
    return 1 if any(failed.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
