"""``--jobs``: worker processes give the same files, output, order and exit codes as ``-j 1``.

Pools are forced on small trees by lowering the per-worker thresholds, so
every test here really runs workers. No timings: bench/run.py measures speed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from instrument import checking, parallel, process, report
from instrument.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Cases made with --take-over (a stripped.py) are refused without it: not in a plain run.
TRAIN_CASES = sorted(
    p for p in (FIXTURES / "train").iterdir() if (p / "before.py").is_file() and not (p / "stripped.py").exists()
)
BROKEN = "import argparse\nparser = argparse.ArgumentParser(\n"


@pytest.fixture(autouse=True)
def pool_for_every_few_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "FILES_PER_WORKER", 2)
    monkeypatch.setattr(checking, "POOL_THRESHOLD", 2)


def _tree(root: Path, broken: bool = False) -> Path:
    """Every training fixture twice, in nested folders; optionally two bad files among them."""
    for copy in range(2):
        for case in TRAIN_CASES:
            target = root / f"copy{copy}" / case.name / "train.py"
            target.parent.mkdir(parents=True)
            shutil.copyfile(case / "before.py", target)
    if broken:
        (root / "copy0" / "a_broken.py").write_text(BROKEN)
        (root / "copy1" / "z_undecodable.py").write_bytes(b"x = '\xff\xfe'\n")
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def square(number: int) -> int:
    return number * number


def pid(_: int) -> int:
    return os.getpid()


@pytest.mark.parametrize(
    ("items", "jobs", "per_worker", "expected"),
    [
        (0, 8, 16, 1),
        (15, 8, 16, 1),  # too few to share: no pool
        (32, 8, 16, 2),
        (1000, 8, 16, 8),  # never more than asked for
        (1000, 1, 16, 1),  # -j 1: always in this process
        (5, 4, 0, 4),
    ],
)
def test_worker_count(items: int, jobs: int, per_worker: int, expected: int) -> None:
    assert parallel.worker_count(items, jobs, per_worker) == expected


def test_map_in_order_keeps_input_order_and_uses_workers() -> None:
    numbers = list(range(200, 0, -1))
    assert list(parallel.map_in_order(square, numbers, jobs=2, per_worker=1)) == [n * n for n in numbers]
    assert os.getpid() not in set(parallel.map_in_order(pid, numbers, jobs=2, per_worker=1))
    assert set(parallel.map_in_order(pid, numbers, jobs=1, per_worker=1)) == {os.getpid()}


def test_default_jobs_is_the_cpu_count() -> None:
    assert parallel.default_jobs() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("action", ["add", "strip"])
def test_jobs_give_the_same_files_output_and_exit_code(
    action: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serial, pooled = _tree(tmp_path / "serial"), _tree(tmp_path / "pooled")
    if action == "strip":
        for root in (serial, pooled):
            assert main(["add", "-q", "-j", "1", str(root)]) == 0
        capsys.readouterr()
    code_1, out_1, err_1 = _run(capsys, action, "-v", "-j", "1", str(serial))
    code_2, out_2, err_2 = _run(capsys, action, "-v", "--jobs", "2", str(pooled))
    assert (code_1, code_2) == (0, 0)
    assert _snapshot(serial) == _snapshot(pooled)
    assert _snapshot(serial) != _snapshot(_tree(tmp_path / "fresh")) or action == "strip"
    assert err_2 == err_1.replace(str(serial), str(pooled))  # same lines, same (input) order
    assert out_1 == out_2 == ""
    names = [line.split(" ", 1)[-1] for line in err_2.splitlines()[:-1]
             if ": note: " not in line and "(the helper module" not in line and "(no script beside" not in line]
    assert names == sorted(names)  # the walk's order, whichever worker finished first


def test_diff_and_check_with_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path)
    before = _snapshot(root)
    code_1, diff_1, _ = _run(capsys, "add", "--diff", "-j", "1", str(root))
    code_2, diff_2, _ = _run(capsys, "add", "--diff", "-j", "2", str(root))
    assert (code_1, code_2) == (0, 0)
    assert diff_1 == diff_2
    assert diff_1.count("\n+++ ") == 4 * len(TRAIN_CASES)  # two copies of each script, and the helper beside it
    assert _run(capsys, "add", "--check", "-j", "2", str(root))[0] == report.EXIT_WOULD_CHANGE
    assert _snapshot(root) == before  # --diff and --check write nothing


def test_errors_stay_one_line_each_in_input_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serial, pooled = _tree(tmp_path / "serial", broken=True), _tree(tmp_path / "pooled", broken=True)
    code_1, _, err_1 = _run(capsys, "add", "-q", "-j", "1", str(serial))
    code_2, _, err_2 = _run(capsys, "add", "-q", "-j", "2", str(pooled))
    assert code_1 == code_2 == report.EXIT_FAILED
    lines = err_2.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{pooled / 'copy0' / 'a_broken.py'}: cannot parse")
    assert lines[1].startswith(f"{pooled / 'copy1' / 'z_undecodable.py'}: cannot decode")
    assert err_1.replace(str(serial), str(pooled)) == err_2
    assert (pooled / "copy0" / "a_broken.py").read_text() == BROKEN  # untouched
    assert _snapshot(serial) == _snapshot(pooled)  # the other files were instrumented


def test_check_with_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path, broken=True)
    (root / "copy0" / "a_broken.py").write_text("import debugpy\n" + BROKEN)
    assert main(["add", "-q", "-j", "1", str(root / "copy1")]) == report.EXIT_FAILED  # z_undecodable
    capsys.readouterr()
    serial = _run(capsys, "check", "-j", "1", str(root))
    pooled = _run(capsys, "check", "-j", "2", str(root))
    assert serial == pooled
    code, out, err = pooled
    assert code == report.EXIT_FAILED
    assert err.splitlines()[:-1] == [
        f"{root / 'copy0' / 'a_broken.py'}: cannot parse: '(' was never closed (line 3, column 33)"
    ]
    assert err.splitlines()[-1].endswith(", 1 file failed (not checked).")
    files = [line.split(":", 1)[0] for line in out.splitlines()]
    assert files == sorted(files)  # the walk's order
    instrumented = {str(root / "copy1" / case.name / name) for case in TRAIN_CASES
                    for name in ("train.py", "_instrument_debug.py")}
    assert {name for name in files if "copy1" in name} == instrumented


@pytest.mark.parametrize("command", ["add", "strip", "check"])
def test_jobs_must_be_positive(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "-j", "0", str(tmp_path)]) == 2
    assert "-j" in capsys.readouterr().err


def test_a_stop_signal_noted_before_a_wait_ends_the_waiting() -> None:
    """A signal noted before the wait for the next result (the wait is not even started)."""
    assert parallel._wait(object(), [2]) is None


# Ctrl-C while the caller works on a result: noted by the pool's handler, then raised again as
# KeyboardInterrupt where the caller next asks for one, with every worker already stopped.
_INTERRUPTED_CALLER = """\
import multiprocessing, os, signal, sys
from instrument import parallel


def square(x):
    return x * x


if __name__ == "__main__":
    # Ctrl-C as in a terminal: a process started in the background inherits it ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN if sys.argv[2:] == ["ignored"] else signal.default_int_handler)
    got = []
    try:
        for value in parallel.map_in_order(square, list(range(400)), jobs=2, per_worker=1):
            got.append(value)
            if len(got) == int(sys.argv[1]):
                os.kill(os.getpid(), signal.SIGINT)
    except KeyboardInterrupt:
        print("interrupted", len(got) < 400, multiprocessing.active_children(),
              signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    else:
        print("finished", len(got), multiprocessing.active_children(), signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
"""


@pytest.mark.parametrize("after", [1, 16, 17, 399])
def test_ctrl_c_while_the_caller_works_stops_the_workers_then_interrupts(after: int, tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "caller.py"
    script.write_text(_INTERRUPTED_CALLER)
    done = subprocess.run([sys.executable, str(script), str(after)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["interrupted", str(after < 400), "[]", "True"], done.stderr


def test_ctrl_c_in_a_process_that_ignores_it_changes_nothing(tmp_path: Path) -> None:
    """A run started in the background ignores SIGINT: its workers are not stopped either."""
    import subprocess
    import sys

    script = tmp_path / "caller.py"
    script.write_text(_INTERRUPTED_CALLER)
    done = subprocess.run([sys.executable, str(script), "1", "ignored"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["finished", "400", "[]", "True"], done.stderr
