"""Benchmarks: ``instrument`` against what users would otherwise run.

    .venv/bin/python bench/run.py            # about 15 minutes on 2 cores (--only for a part)

Generates its inputs in a temporary folder (see ``corpus.py``), runs every
comparison in this one run, each side as a console-script subprocess (so
start-up and imports count on both sides), interleaved and repeated, and
prints a Markdown table: min and median of each side, the ratio of the
medians (of the minimums in brackets), the target and PASS or MISS. Timings
on shared machines are noisy; only the ratios are meant to be compared
across machines.

The per-kind rows (``--only kinds``) time ``add``'s per-file path against the
cheapest tool for the file's language, in the same process on the same
files: ``libcst.parse_module(text).code`` for the Python kinds, a
ruamel.yaml round-trip load and dump (``YAML(typ="rt")``, the loader the
YAML kinds use) for the YAML kinds; for pip requirements files, pip's own
reading of the file (``pip._internal.req.req_file.preprocess``: continuations
joined, comments dropped, then ``break_args_options``) and
``packaging.requirements.Requirement`` for each requirement, which is what
pip does minus the option parser it builds per line. No Dockerfile parser is
installed (``dockerfile``, ``dockerfile-parse`` would be), so the Dockerfile
rows give the time per file with no target. Each row names its floor.

Beside the generated inputs, each kind gets rows over real public files
(``real_files.json`` lists the repositories, commits and paths;
``real_files.py`` takes them from ``--real-from DIR`` or
``$INSTRUMENT_BENCH_REPOS``, else clones them into ~/.cache/instrument-bench):
in process as above (``--only kinds``), and as a user runs it
(``--only real``): ``instrument add -q -j 1`` on a folder of them against the
floor over the same folder, each in a process of its own. See README.md here.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402  (bench/ is not a package)
import real_files  # noqa: E402

PYTHON = sys.executable
BIN = Path(sys.executable).parent
#: The floor of any LibCST tool: parse and regenerate every file, nothing else.
FLOOR = """\
import sys, pathlib, libcst
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    libcst.parse_module(path.read_text(encoding="utf-8")).code
"""
#: The floor of each language over every file of a folder (the real-file rows run as console
#: scripts): what ``_floor_for`` does in process, in a process of its own.
FOLDER_FLOOR = """\
import io, sys, pathlib
root, language = pathlib.Path(sys.argv[1]), sys.argv[2]
paths = sorted(path for path in root.rglob("*") if path.is_file())
if language == "python":
    import libcst
    for path in paths:
        libcst.parse_module(path.read_text(encoding="utf-8")).code
elif language == "yaml":
    from ruamel.yaml import YAML
    for path in paths:
        yaml = YAML(typ="rt")
        yaml.dump(yaml.load(path.read_text(encoding="utf-8")), io.StringIO())
elif language == "requirements":
    from packaging.requirements import InvalidRequirement, Requirement
    from pip._internal.req.req_file import break_args_options, preprocess
    for path in paths:
        for _, line in preprocess(path.read_text(encoding="utf-8")):
            requirement, _ = break_args_options(line)
            if requirement:
                try:
                    Requirement(requirement)
                except InvalidRequirement:
                    pass
"""
#: Real files per kind in the real-file rows: the distinct files of the list, over and over.
REAL_COUNT = 150
#: Runs two scripts in one process, alternately, and prints median and min ms of each.
IN_PROCESS = """\
import io, runpy, statistics, sys, time
scripts, runs = sys.argv[1:3], int(sys.argv[3])
times = {s: [] for s in scripts}
real_out = sys.stdout
for _ in range(runs):
    for script in scripts:
        sys.argv = [script, "--epochs", "2"]
        sys.stdout = io.StringIO()
        start = time.perf_counter()
        runpy.run_path(script, run_name="__main__")
        times[script].append(time.perf_counter() - start)
        sys.stdout = real_out
for script in scripts:
    print(statistics.median(times[script]) * 1000, min(times[script]) * 1000)
"""


@dataclass
class Samples:
    seconds: list[float] = field(default_factory=list)
    peak_kib: list[int] = field(default_factory=list)

    @property
    def min(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def console(name: str) -> list[str]:
    script = BIN / name
    if not script.exists():
        sys.exit(f"bench: {script} not found; install the test extra: pip install -e '.[test]'")
    return [str(script)]


#: The environment of every timed command: this one, with Python's bytecode cache
#: allowed. Users' interpreters write and reuse ``.pyc`` files; where
#: ``PYTHONDONTWRITEBYTECODE`` is set (containers often set it), each run would
#: compile every module that pip did not compile at install, on one side more
#: than the other (an editable install's own modules), and time that instead.
_RUN_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(command: list[str], expect: tuple[int, ...] = (0,),
             env: Optional[dict[str, str]] = None) -> tuple[float, int]:
    """Wall time and peak RSS (KiB, this process and its reaped workers) of one run."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=_RUN_ENV if env is None else env)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode not in expect:
        sys.exit(f"bench: {' '.join(command[:3])} ... exited {child.returncode}:\n{stderr.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss


def compare(
    commands: dict[str, list[str]],
    repeat: int,
    before: Optional[Callable[[str], None]] = None,
    expect: tuple[int, ...] = (0,),
    warm_up: bool = True,
    env: Optional[dict[str, str]] = None,
) -> dict[str, Samples]:
    """Run each command ``repeat`` times, interleaved, after one untimed warm-up each."""
    samples = {name: Samples() for name in commands}
    first = 0 if warm_up else 1
    for round_ in range(first, repeat + 1):
        for name, command in commands.items():
            if before is not None:
                before(name)
            seconds, peak = run_once(command, expect, env)
            if round_:
                samples[name].seconds.append(seconds)
                samples[name].peak_kib.append(peak)
    return samples


@dataclass
class Row:
    figure: str
    ours: str
    baseline: str
    ratio: str
    target: str
    passed: Optional[bool]  # None: for information


def _times(samples: Samples, unit: float = 1.0, suffix: str = "s") -> str:
    digits = 2 if suffix == "s" else 1
    return f"{samples.min * unit:.{digits}f} / {samples.median * unit:.{digits}f} {suffix}"


def timed_row(figure: str, ours: Samples, base: Samples, base_name: str, target: Optional[float],
              faster: bool = False, unit: float = 1.0, suffix: str = "s") -> Row:
    """Ratio ours/base (or base/ours when ``faster``); PASS when it meets ``target``."""
    def ratio(a: float, b: float) -> float:
        return b / a if faster else a / b

    by_median, by_min = ratio(ours.median, base.median), ratio(ours.min, base.min)
    text = f"{by_median:.2f}x{' faster' if faster else ''} ({by_min:.2f}x)"
    if target is None:
        return Row(figure, _times(ours, unit, suffix), f"{base_name}: {_times(base, unit, suffix)}", text, "info", None)
    passed = by_median >= target if faster else by_median <= target
    goal = f"≥ {target:g}x faster" if faster else f"≤ {target:g}x"
    return Row(figure, _times(ours, unit, suffix), f"{base_name}: {_times(base, unit, suffix)}", text, goal, passed)


def render(rows: list[Row], header: str) -> str:
    lines = [
        header,
        "",
        "| figure | instrument (min / median) | baseline (min / median) | ratio of medians (of mins) | target | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        result = "—" if row.passed is None else "PASS" if row.passed else "**MISS**"
        lines.append(f"| {row.figure} | {row.ours} | {row.baseline} | {row.ratio} | {row.target} | {result} |")
    return "\n".join(lines)


def _restore(pristine: Path, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine, work)


def bench_check(root: Path, files: int, repeat: int, rows: list[Row]) -> None:
    tree = root / "repository"
    roles = corpus.repository(tree, files)
    entries = roles["entry"][::4]  # some of them instrumented, with the real blocks
    run_once(console("instrument") + ["add", "-q", *map(str, entries)])
    paths = sorted(str(p) for group in roles.values() for p in group)
    listing = subprocess.run(console("instrument") + ["check", *paths], capture_output=True, text=True)
    findings = len(listing.stdout.splitlines())
    commands = {
        "ours": console("instrument") + ["check", *paths],
        "hook": console("debug-statement-hook") + paths,
    }
    print(f"  check: {len(paths)} files, {len(entries)} instrumented, {findings} findings", file=sys.stderr)
    samples = compare(commands, repeat, expect=(0, 1), warm_up=False)  # the listing warmed up
    rows.append(timed_row(
        f"`check`, {len(paths):,} files ({len(entries)} instrumented, {len(roles['debug'])} hand-written "
        "debugpy), both as console scripts given the same file list",
        samples["ours"], samples["hook"], "`debug-statement-hook`", 3, faster=True))


def bench_add_strip(root: Path, count: int, memory_count: int, repeat: int, jobs: int, rows: list[Row]) -> None:
    pristine, work = root / "train", root / "work"
    corpus.training_scripts(pristine, count)
    floor = [PYTHON, "-c", FLOOR, str(work)]
    instrument = console("instrument")
    add = {
        "floor": floor,
        "add -j 1": instrument + ["add", "-q", "-j", "1", str(work)],
        f"add -j {jobs}": instrument + ["add", "-q", "-j", str(jobs), str(work)],
    }
    print(f"  add: {count} training scripts, -j 1 and -j {jobs}", file=sys.stderr)
    samples = compare(add, repeat, before=lambda name: _restore(pristine, work), warm_up=False)
    floor_samples = samples["floor"]
    floor_name = "`libcst.parse_module(text).code`, one process"
    rows.append(timed_row(f"`add -j 1`, {count} training scripts", samples["add -j 1"], floor_samples, floor_name, 1.3))
    if jobs > 1:
        rows.append(timed_row(f"`add -j {jobs}`, {count} training scripts", samples[f"add -j {jobs}"],
                              floor_samples, floor_name, 1.0))

    instrumented = root / "instrumented"
    _restore(pristine, work)
    run_once(add["add -j 1"])
    shutil.copytree(work, instrumented)
    strip = {
        "floor": floor,
        "strip -j 1": instrument + ["strip", "-q", "-j", "1", str(work)],
        f"strip -j {jobs}": instrument + ["strip", "-q", "-j", str(jobs), str(work)],
    }
    print(f"  strip: {count} instrumented scripts", file=sys.stderr)
    strip_samples = compare(strip, 1, before=lambda name: _restore(instrumented, work), warm_up=False)
    for name in list(strip)[1:]:
        rows.append(timed_row(f"`{name}`, {count} instrumented scripts", strip_samples[name], strip_samples["floor"],
                              floor_name, None))

    print(f"  memory: add -j 1 on {memory_count} scripts", file=sys.stderr)
    big = root / "big"
    corpus.training_scripts(big, memory_count)
    _, big_peak = run_once(instrument + ["add", "-q", "-j", "1", str(big)])
    small_peak = statistics.median(samples["add -j 1"].peak_kib)
    ratio = big_peak / small_peak
    rows.append(Row(
        f"peak memory (max RSS) of `add -j 1`, {memory_count:,} vs {count} scripts",
        f"{big_peak / 1024:.0f} MiB", f"{count} scripts: {small_peak / 1024:.0f} MiB", f"{ratio:.2f}x",
        "≤ 1.1x (flat)", ratio <= 1.1))


#: Sizes of the per-kind rows: (name, files, how the inputs are described).
KIND_SIZES = (("small", 300, "small"), ("large", 60, "large"))


def _floor_for(kind) -> tuple[Optional[Callable[[str], None]], str]:
    """What the cheapest real tool for the kind's language does to a file (parse it, and
    regenerate it where the tool can), and how the row names it; None: no such tool here."""
    if kind.language == "yaml":
        import io

        from ruamel.yaml import YAML

        def yaml_floor(text: str) -> None:
            yaml = YAML(typ="rt")
            yaml.dump(yaml.load(text), io.StringIO())

        return yaml_floor, "`ruamel.yaml` round-trip load + dump"
    if kind.name == "requirements":
        from packaging.requirements import InvalidRequirement, Requirement
        from pip._internal.req.req_file import break_args_options, preprocess

        def requirements_floor(text: str) -> None:
            # pip's own reading of the file (continuations joined, comments dropped), then
            # each requirement parsed; cheaper than pip's parse_requirements, which builds
            # an option parser per line.
            for _, line in preprocess(text):
                requirement, _ = break_args_options(line)
                if requirement:
                    try:
                        Requirement(requirement)
                    except InvalidRequirement:  # a real file pip would refuse: read on, as add does
                        pass

        return requirements_floor, "pip's `preprocess` + `packaging` `Requirement` per line"
    if kind.name == "dockerfile":
        return None, "no Dockerfile parser installed (`dockerfile`, `dockerfile-parse`): absolute time only"
    if kind.language == "text":
        return None, "no parser of these files installed: absolute time only"
    import libcst

    return (lambda text: libcst.parse_module(text).code), "`libcst.parse_module(text).code`"


def measure_kind(kind, inputs: list[tuple[str, bytes]], repeat: int,
                 strict: bool = True) -> tuple[Samples, Samples, str]:
    """CPU time of the floor and of ``add -j 1``'s per-file path over ``inputs``, in this process.

    Each file goes through both, one right after the other (the order
    alternating by round), so that both sides see the same machine; a first
    round is not timed (imports, caches). ``add`` is
    :func:`instrument.process.process_bytes`: decode, detect, plan, insert,
    verify, encode, as ``instrument add -j 1`` does for each file.
    """
    from instrument import files
    from instrument.process import ADD, Job, process_bytes

    floor = _floor_for(kind)[0] or (lambda text: None)
    texts = [files.decode(data, name).text if kind.language == "python" else files.decode_text(data, name).text
             for name, data in inputs]
    job = Job(ADD, write=False)
    ours, base = Samples(), Samples()
    outcomes: dict[str, int] = {}
    clock = time.process_time
    for round_ in range(repeat + 1):
        spent_ours = spent_base = 0.0
        for index, ((name, data), text) in enumerate(zip(inputs, texts)):
            if (round_ + index) % 2:
                start = clock()
                floor(text)
                middle = clock()
                outcome = process_bytes(job, data, name)
                end = clock()
                spent_base, spent_ours = spent_base + middle - start, spent_ours + end - middle
            else:
                start = clock()
                outcome = process_bytes(job, data, name)
                middle = clock()
                floor(text)
                end = clock()
                spent_ours, spent_base = spent_ours + middle - start, spent_base + end - middle
            if round_ == 0:
                state = "error" if outcome.error else "changed" if outcome.changed else \
                    "skipped" if outcome.skipped else "unchanged"
                outcomes[state] = outcomes.get(state, 0) + 1
                if outcome.error and strict and kind.name in corpus.GENERATED_KINDS:
                    sys.exit(f"bench: {name}: {outcome.error}")
        if round_:
            ours.seconds.append(spent_ours)
            base.seconds.append(spent_base)
    described = ", ".join(f"{count} {state}" for state, count in sorted(outcomes.items()))
    return ours, base, described


def real_inputs(real: dict[str, list[tuple[str, bytes]]], kind: str, count: int = REAL_COUNT) -> list[tuple[str, bytes]]:
    """``count`` (file name, bytes) of the kind's real files, the distinct ones over and over."""
    found = real.get(kind) or []
    return [(found[index % len(found)][0].rsplit("/", 1)[-1], found[index % len(found)][1])
            for index in range(max(count, len(found)))] if found else []


def _real_label(real: dict[str, list[tuple[str, bytes]]], kind: str) -> str:
    found = real.get(kind) or []
    repositories = {"/".join(path.split("/")[:2]) for path, _ in found}
    return f"real, {len(found)} distinct from {len(repositories)} repositories, repeated"


def bench_kinds(repeat: int, rows: list[Row], only_kinds: Optional[set] = None,
                real: Optional[dict[str, list[tuple[str, bytes]]]] = None) -> None:
    """One row per kind and size: ``add -j 1`` per file against the floor, both in one process.

    Kinds come from the registry, so a new kind gets its rows without a change
    here: generated inputs where ``corpus.GENERATED`` has them, else the
    kind's own ``fixtures/<kind>/*/before*`` files, over and over.
    """
    from instrument.codemods.kinds import all_kinds

    for kind in all_kinds():
        if only_kinds and kind.name not in only_kinds:
            continue
        for size, count, label in KIND_SIZES:
            inputs = corpus.kind_inputs(kind.name, size, count)
            if not inputs:
                continue
            source = "generated" if (kind.name, size) in corpus.GENERATED else "its fixtures, repeated"
            if source != "generated" and size != KIND_SIZES[0][0]:
                continue  # fixtures have one size
            lines = statistics.mean(data.count(b"\n") + 1 for _, data in inputs)
            print(f"  {kind.name}: {len(inputs)} {label} files ({source})", file=sys.stderr)
            ours, base, outcomes = measure_kind(kind, inputs, repeat)
            tool, floor = _floor_for(kind)
            figure = (f"`add -j 1` per file, {kind.name}: {len(inputs)} {label} files (~{lines:.0f} lines, {source}; "
                      f"{outcomes}), CPU time in one process")
            if tool is None:  # no ratio to a made-up floor: the time per file
                per_file = f"{ours.min / len(inputs) * 1000:.3f} / {ours.median / len(inputs) * 1000:.3f} ms per file"
                rows.append(Row(figure, f"{_times(ours)}; {per_file}", floor, "—", "info", None))
                continue
            rows.append(timed_row(figure, ours, base, floor, 1.3))
        inputs = real_inputs(real or {}, kind.name)
        if not inputs:
            continue
        lines = statistics.mean(data.count(b"\n") + 1 for _, data in inputs)
        source = _real_label(real or {}, kind.name)
        print(f"  {kind.name}: {len(inputs)} real files", file=sys.stderr)
        ours, base, outcomes = measure_kind(kind, inputs, repeat, strict=False)
        tool, floor = _floor_for(kind)
        figure = (f"`add -j 1` per file, {kind.name}: {len(inputs)} real files (~{lines:.0f} lines, {source}; "
                  f"{outcomes}), CPU time in one process")
        if tool is None:
            per_file = f"{ours.min / len(inputs) * 1000:.3f} / {ours.median / len(inputs) * 1000:.3f} ms per file"
            rows.append(Row(figure, f"{_times(ours)}; {per_file}", floor, "—", "info", None))
            continue
        rows.append(timed_row(figure, ours, base, floor, 1.3))


def _folder_language(kind) -> Optional[str]:
    """The language FOLDER_FLOOR takes for the kind's files; None: no floor here."""
    if kind.language in ("python", "yaml"):
        return kind.language
    return "requirements" if kind.name == "requirements" else None


def bench_real_console(root: Path, repeat: int, rows: list[Row], real: dict[str, list[tuple[str, bytes]]],
                       only_kinds: Optional[set] = None) -> None:
    """One row per kind: ``instrument add -q -j 1`` on a folder of its real files, as a user runs it,
    against the floor over the same folder in a process of its own (both wall time, start-up included)."""
    from instrument.codemods.kinds import all_kinds

    for kind in all_kinds():
        if only_kinds and kind.name not in only_kinds:
            continue
        inputs = real_inputs(real, kind.name)
        if not inputs:
            continue
        pristine, work = root / "real" / kind.name, root / "real-work" / kind.name
        for index, (name, data) in enumerate(inputs):  # a folder per file: names are kept (Dockerfile, requirements)
            folder = pristine / f"{index:04}"
            folder.mkdir(parents=True)
            (folder / name).write_bytes(data)
        language = _folder_language(kind)
        commands = {"add": console("instrument") + ["add", "-q", "-j", "1", str(work)]}
        if language:
            commands["floor"] = [PYTHON, "-c", FOLDER_FLOOR, str(work), language]
        print(f"  {kind.name}: add -q -j 1 on a folder of {len(inputs)} real files", file=sys.stderr)
        # A real definition is taken without the files it names (a conda file, a Dockerfile), which add then
        # reports as missing, leaving the definition as it is (exit 123): timed all the same.
        expect = (0, 1, 123) if kind.brings else (0, 1)
        samples = compare(commands, repeat, before=lambda name, pristine=pristine, work=work: _restore(pristine, work),
                          expect=expect)
        figure = (f"`instrument add -q -j 1 DIR`, {kind.name}: {len(inputs)} real files "
                  f"({_real_label(real, kind.name)}), console script, wall time")
        if not language:
            rows.append(Row(figure, _times(samples["add"]), _floor_for(kind)[1], "—", "info", None))
            continue
        floor = _floor_for(kind)[1] + ", one process"
        rows.append(timed_row(figure, samples["add"], samples["floor"], floor, 1.3))


#: The least a click command line's ``--help`` costs: click's import and its help of a group of two commands.
CLICK_HELP = """\
import click
@click.group()
def group():
    "A group."
@group.command()
def one():
    "One command."
@group.command()
def two():
    "Another."
group(["--help"])
"""


def bench_startup(root: Path, repeat: int, rows: list[Row]) -> None:
    print("  start-up", file=sys.stderr)
    clean = root / "clean_one.py"
    clean.write_text(corpus.RUNNABLE_SCRIPT)
    samples = compare({"help": console("instrument") + ["--help"],
                       "check": console("instrument") + ["check", str(clean)],
                       "pass": [PYTHON, "-c", "pass"],
                       "click": [PYTHON, "-c", CLICK_HELP]}, repeat)
    rows.append(timed_row("start-up: `instrument --help`", samples["help"], samples["pass"], "`python -c pass`", 2,
                          unit=1000, suffix="ms"))
    rows.append(timed_row("start-up: `--help` of a click group of two commands (what click alone costs: "
                          "the floor of `instrument --help`)", samples["click"], samples["pass"], "`python -c pass`",
                          None, unit=1000, suffix="ms"))
    rows.append(timed_row("start-up: `instrument --help` against that click group", samples["help"], samples["click"],
                          "the click group's `--help`", None, unit=1000, suffix="ms"))
    rows.append(timed_row("start-up: `instrument check FILE` on one clean file (the pre-commit hook's call)",
                          samples["check"], samples["pass"], "`python -c pass`", 2, unit=1000, suffix="ms"))


def bench_runtime(root: Path, repeat: int, rows: list[Row]) -> None:
    print("  run-time cost of the instrumentation", file=sys.stderr)
    original, instrumented = root / "tiny_train.py", root / "tiny_train_instrumented.py"
    original.write_text(corpus.RUNNABLE_SCRIPT)
    instrumented.write_text(corpus.RUNNABLE_SCRIPT)
    run_once(console("instrument") + ["add", "-q", str(instrumented)])
    argv = ["--epochs", "2"]
    commands = {"ours": [PYTHON, str(instrumented), *argv], "orig": [PYTHON, str(original), *argv]}
    # As a user runs it (bytecode written: the helper is compiled once), then where bytecode is not
    # written (PYTHONDONTWRITEBYTECODE, a read-only folder: the helper is compiled at each start).
    for figure, env, target in [
        ("run time of a training script with debugging off, `python train.py` (a fresh process per run)",
         _RUN_ENV, 5.0),
        ("the same with bytecode not written (`PYTHONDONTWRITEBYTECODE=1`: the helper compiled at each start)",
         {**_RUN_ENV, "PYTHONDONTWRITEBYTECODE": "1"}, None),
    ]:
        shutil.rmtree(root / "__pycache__", ignore_errors=True)
        samples = compare(commands, repeat, env=env)
        ours, orig = samples["ours"], samples["orig"]
        delta = (ours.median - orig.median) * 1000
        rows.append(Row(figure, _times(ours, 1000, "ms"), f"original script: {_times(orig, 1000, 'ms')}",
                        f"{ours.median / orig.median:.2f}x, +{delta:.2f} ms",
                        f"< {target:g} ms" if target else "info", delta < target if target else None))
    shutil.rmtree(root / "__pycache__", ignore_errors=True)
    out = subprocess.run([PYTHON, "-c", IN_PROCESS, str(instrumented), str(original), str(repeat * 10)],
                         capture_output=True, text=True, check=True, env=_RUN_ENV).stdout.split()
    ours_ms, orig_ms = float(out[0]), float(out[2])
    rows.append(Row(
        "the same, run in one process with `runpy` (imports and the helper's bytecode cached), median",
        f"{ours_ms:.2f} ms", f"original script: {orig_ms:.2f} ms",
        f"{ours_ms / orig_ms:.2f}x, +{ours_ms - orig_ms:.2f} ms", "< 5 ms", ours_ms - orig_ms < 5))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the slow comparisons (add, strip)")
    parser.add_argument("--files", type=int, default=300, help="training scripts for add and strip")
    parser.add_argument("--tree", type=int, default=1500, help="files in the tree for check")
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs and print where")
    parser.add_argument("--only", default="kinds,real,check,add,startup,runtime", help="comma-separated subset to run")
    parser.add_argument("--kinds", default="", help="comma-separated kinds for the per-kind rows (default: all)")
    parser.add_argument("--real-from", action="append", default=[], metavar="DIR",
                        help="git directories holding the repositories of real_files.json, or folders of them "
                             f"(also ${real_files.ENVIRONMENT}); else blob-less clones in ~/.cache/instrument-bench")
    parser.add_argument("--no-real", action="store_true", help="generated inputs only: no real-file rows")
    parser.add_argument("--no-clone", action="store_true", help="never clone the real files' repositories")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from instrument.parallel import default_jobs

    jobs = default_jobs()
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="instrument-bench-"))
    rows: list[Row] = []
    try:
        only = set(args.only.split(","))
        only_kinds = set(filter(None, args.kinds.split(",")))
        real: dict[str, list[tuple[str, bytes]]] = {}
        if not args.no_real and only & {"kinds", "real"}:
            real = real_files.extract(args.real_from, clone=not args.no_clone)
            if not any(real.values()):
                print("  real files: none could be had (no --real-from, no network): real-file rows skipped",
                      file=sys.stderr)
        if "kinds" in only:
            bench_kinds(args.repeat * 2 + 1, rows, only_kinds, real)
        if "real" in only and real:
            bench_real_console(root, args.repeat, rows, real, only_kinds)
        if "check" in only:
            bench_check(root, args.tree, args.repeat, rows)
        if "add" in only:
            bench_add_strip(root, args.files, args.files * 4, args.repeat, jobs, rows)
        if "startup" in only:
            bench_startup(root, args.repeat * 7, rows)
        if "runtime" in only:
            bench_runtime(root, args.repeat * 10, rows)
    finally:
        if args.keep:
            print(f"inputs kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    header = (
        f"{datetime.date.today().isoformat()}, {platform.system()} {platform.machine()}, {jobs} CPUs "
        f"(`nproc`), Python {platform.python_version()}; `python bench/run.py` took "
        f"{time.perf_counter() - started:.0f} s"
    )
    print(render(rows, header))
    return 0 if all(row.passed is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
