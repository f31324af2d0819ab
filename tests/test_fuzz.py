"""Seeded fuzzing of add/strip/check over mutated real scripts (the fixtures' before files).

Mutations: marker-like comments (begin, end, saved-line prefixes) at random
lines, indentation changes, coding cookies, a BOM, CRLF, tabs, a missing
final newline. Invariants, whatever the input: no traceback and no "internal
error"; when ``add`` exits 0 the file strips back to its input byte for byte;
``strip`` exits 0 only without changing a file that has no blocks; ``check``
never crashes. Each case runs under an alarm, so a hang fails the case.
"""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest

from instrument.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = 150
SECONDS_PER_CASE = 30
MARKERS = ["# >>> instrument: start remote debugging", "# <<< instrument", "#:x = 1", "# >>> instrument",
           "#: ", "# <<< instrument  ", "# >>> instrumented", "    # <<< instrument"]
COOKIES = [b"# -*- coding: latin-1 -*-\n", b"# coding: utf-8\n", b"# vim: set fileencoding=cp1252 :\n",
           b"#!/usr/bin/env python\n# coding=ascii\n"]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        at = rng.randrange(len(lines) + 1)
        if choice == 0:
            indent = lines[at - 1][: len(lines[at - 1]) - len(lines[at - 1].lstrip())] if at else b""
            lines.insert(at, indent + rng.choice(MARKERS).encode())
        elif choice == 1 and at < len(lines):
            lines[at] = rng.choice([b" ", b"\t", b""]) + lines[at]
        elif choice == 2 and at < len(lines):
            lines[at] = lines[at].replace(b"    ", b"\t")
        elif choice == 3:
            lines = rng.choice(COOKIES).rstrip(b"\n").split(b"\n") + lines
        elif choice == 4:
            lines[0] = b"\xef\xbb\xbf" + lines[0]
        elif choice == 5:
            lines = [line + b"\r" for line in lines[:-1]] + lines[-1:]
        elif choice == 6:
            lines.insert(at, b"import debugpy; debugpy.listen(5678)")
    out = b"\n".join(lines)
    if rng.random() < 0.3:
        out = out.rstrip(b"\r\n")
    return out


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


@pytest.mark.parametrize("kind", ["train", "score", "pipeline"])
def test_fuzz_add_strip_check(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(20261129)
    sources = sorted((FIXTURES / kind).glob("*/before.py"))
    previous = signal.signal(signal.SIGALRM, _alarm)
    held = added = refused = 0
    broken: list[str] = []
    try:
        for case in range(CASES):
            source = rng.choice(sources)
            data = _mutate(source.read_bytes(), rng)
            path = tmp_path / f"case{case}.py"
            path.write_bytes(data)
            signal.alarm(SECONDS_PER_CASE)
            try:
                code = main(["add", "-q", "-j", "1", str(path)])
                after_add = path.read_bytes()
                if code == 0:
                    added += 1
                    assert main(["strip", "-q", "-j", "1", str(path)]) == 0, (source, data)
                    assert path.read_bytes() == data, f"strip(add(x)) != x for {source} mutation {case}"
                else:
                    refused += 1
                    assert after_add == data, "a failed add must not touch the file"
                main(["check", str(path)])
            except _Timeout:
                pytest.fail(f"case {case} ({source}) took over {SECONDS_PER_CASE} s")
            finally:
                signal.alarm(0)
            out, err = capsys.readouterr()
            if "Traceback" in err or "internal error" in err:
                broken.append(f"{source.parent.parent.name}/{source.parent.name} case {case}: {err.strip()[-200:]}")
            else:
                held += 1
    finally:
        signal.signal(signal.SIGALRM, previous)
    print(f"fuzz {kind}: {held} of {CASES} cases held, {added} instrumented and stripped back, {refused} refused")
    assert not broken, "\n".join(broken)
