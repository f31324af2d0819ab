"""``instrument check`` against its I/O floor and against pre-commit-hooks' ``debug-statement-hook``.

Two trees: the running Python's standard library (``site-packages`` left out; a copy, so that
nothing of the interpreter is touched) and a generated tree of 1,500 modules of which 15 entry
scripts are instrumented with ``instrument add``. For each: the I/O floor (``python -c pass``
plus ``grep -rlE 'debugpy|ptvsd|instrument'`` over the tree), ``instrument check`` on the
folder, ``debug-statement-hook`` given every ``.py`` file, and a bound: what any checker in
Python does at least (start, read every file, and parse the files ``check`` reports findings in
with CPython's parser; a finding has a line, and a fence inside a string is none). Each command runs ``--repeat``
times, interleaved, after one warm-up; CPU seconds (user + sys, of the process and the
children it waited for) and wall seconds are printed as minimum and median, with the machine's
load average, since a shared machine's wall time says little.

    python bench/check_speed.py [--repeat 7] [--root /tmp/check-speed] [--only stdlib,generated]

``--equivalence`` instead runs every file of both trees through ``check`` with the byte
pre-filter on and forced off and prints any file where the findings differ (the whole
standard library; the test suite runs a sample).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402  (bench/ is not a package)

PYTHON = sys.executable
BIN = Path(sys.executable).parent
_RUN_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def stdlib_tree(root: Path) -> Path:
    tree = root / "stdlib"
    if not tree.exists():
        source = Path(sysconfig.get_paths()["stdlib"])
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns("site-packages", "__pycache__"))
    return tree


def generated_tree(root: Path, count: int = 1500, instrumented: int = 15) -> Path:
    tree = root / "generated"
    if not tree.exists():
        roles = corpus.repository(tree, count)
        entries = [p for p in roles["entry"] if p.name.startswith("entry_")][:instrumented]
        subprocess.run([str(BIN / "instrument"), "add", "-q", *map(str, entries)], check=True, env=_RUN_ENV)
    return tree


def run(command: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_RUN_ENV)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1, 123):
        sys.exit(f"check_speed: {' '.join(command[:3])} ... exited {os.waitstatus_to_exitcode(status)}")
    return usage.ru_utime + usage.ru_stime, wall


def floor_command(tree: Path) -> list[str]:
    return ["sh", "-c", f"{PYTHON} -c pass && grep -rlE 'debugpy|ptvsd|instrument' {tree} >/dev/null; true"]


#: The bound: start, read every file, and parse the files that hold a finding with CPython's parser.
BOUND = """\
import ast, os, sys
for folder, _, names in os.walk(sys.argv[1]):
    for name in names:
        with open(os.path.join(folder, name), "rb") as handle:
            handle.read()
for path in sys.argv[2:]:
    with open(path, "rb") as handle:
        ast.parse(handle.read())
"""


def with_findings(tree: Path) -> list[str]:
    """The Python files ``instrument check`` reports findings in."""
    done = subprocess.run([str(BIN / "instrument"), "check", str(tree)], capture_output=True, text=True, env=_RUN_ENV)
    found = (re.match(r"(.*?):\d+:\d+: ", line) for line in done.stdout.splitlines())
    return sorted({match.group(1) for match in found if match and match.group(1).endswith(".py")})


def measure(tree: Path, repeat: int) -> None:
    python_files = sorted(str(p) for p in tree.rglob("*.py"))
    reported = with_findings(tree)
    commands = {
        "floor (python -c pass + grep -rlE)": floor_command(tree),
        "instrument check": [str(BIN / "instrument"), "check", str(tree)],
        "debug-statement-hook": [str(BIN / "debug-statement-hook"), *python_files],
        f"bound (read all, parse the {len(reported)} with findings)": [PYTHON, "-c", BOUND, str(tree), *reported],
    }
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    wall: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeat + 1):
        for name, command in commands.items():
            seconds, elapsed = run(command)
            if round_:  # the first round warms the caches up
                cpu[name].append(seconds)
                wall[name].append(elapsed)
    print(f"\n{tree} ({len(python_files):,} .py files), {repeat} runs each, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'command':48} {'cpu min':>8} {'cpu med':>8} {'wall min':>9} {'wall med':>9}")
    for name in commands:
        print(f"{name:48} {min(cpu[name]):8.3f} {statistics.median(cpu[name]):8.3f} "
              f"{min(wall[name]):9.3f} {statistics.median(wall[name]):9.3f}")
    floor, ours, hook, bound = (statistics.median(cpu[name]) for name in commands)
    print(f"check / floor (cpu medians): {ours / floor:.2f}x; hook / check: {hook / ours:.1f}x; "
          f"bound / floor: {bound / floor:.2f}x; check / bound: {ours / bound:.2f}x")


def equivalence(trees: list[Path]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_check_fast_path import differences  # type: ignore[import-not-found]

    paths = [p for tree in trees for p in sorted(tree.rglob("*")) if p.is_file()]
    start = time.perf_counter()
    found = differences(paths)
    for line in found:
        print(line)
    print(f"{len(paths):,} files, {len(found)} differences, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 1 if found else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/check-speed"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", default="stdlib,generated")
    parser.add_argument("--equivalence", action="store_true")
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    trees = [make(args.root) for name, make in (("stdlib", stdlib_tree), ("generated", generated_tree))
             if name in args.only.split(",")]
    if args.equivalence:
        return equivalence(trees)
    for tree in trees:
        measure(tree, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
