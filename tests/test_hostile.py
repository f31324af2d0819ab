"""Hostile inputs: the file system, names, encodings and spellings an attacker
(or an unlucky tree) can present, one class per section.

Whatever could hang or blow up runs in a subprocess with a generous timeout,
so a regression fails the test instead of stalling the suite; nothing here
asserts a duration.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from instrument import files, walk
from instrument.cli import main
from instrument.codemods.check import findings as check

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TRAIN = (FIXTURES / "train" / "seed_train" / "before.py").read_bytes()
LISTENER = "import debugpy\ndebugpy.listen(5678)\n"
ROOT = os.geteuid() == 0


def _instrument(*argv: str, cwd: Path | None = None, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "instrument", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- 1. file handling --------------------------------------------------------


@pytest.mark.parametrize("command", ["add", "strip", "check"])
def test_a_fifo_in_a_walked_folder_is_reported_not_read(command: str, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(TRAIN)
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "z.py").write_text(LISTENER)
    done = _instrument(command, str(tmp_path), timeout=60)
    assert done.returncode == 123
    assert f"{tmp_path / 'pipe.py'}: not a regular file (a FIFO); skipped" in done.stderr.splitlines()
    if command == "add":
        assert (tmp_path / "a.py").read_bytes() != TRAIN  # the others are still processed
    if command == "check":
        assert f"{tmp_path / 'z.py'}:2:1:" in done.stdout


def test_dev_zero_named_directly_is_one_line(tmp_path: Path) -> None:
    for command in ("add", "check"):
        done = _instrument(command, "/dev/zero", timeout=60)
        assert done.returncode == 123
        assert done.stderr.splitlines()[0] == "/dev/zero: not a regular file (a character device); skipped"
        assert "Traceback" not in done.stderr


def test_a_file_over_the_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    line = b"x = 1  # " + b"#" * 90 + b"\n"
    with open(big, "wb") as handle:
        for _ in range(50 * 1024 * 1024 // len(line)):
            handle.write(line)
    before = big.stat()
    # The peak of this process's own memory (VmHWM): ru_maxrss would also count
    # the forked copy of a large test runner that the new program replaced.
    script = (
        "import sys\nfrom instrument.cli import main\n"
        "code = main(['add', sys.argv[1]])\n"
        "peak = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]\n"
        "print(code, peak)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(big)], capture_output=True, text=True, timeout=120)
    code, max_rss_kib = map(int, done.stdout.split())
    assert code == 123
    assert done.stderr.splitlines()[0] == (
        f"{big}: too large ({before.st_size:,} bytes; the limit is {files.MAX_BYTES:,}); skipped"
    )
    assert max_rss_kib < 300 * 1024
    assert big.stat().st_mtime_ns == before.st_mtime_ns


def test_a_symlinked_script_stays_a_symlink_and_its_target_changes(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "src" / "train.py"
    real.parent.mkdir()
    real.write_bytes(TRAIN)
    link = tmp_path / "train.py"
    link.symlink_to(real)
    assert _run(capsys, "add", str(link))[0] == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() != TRAIN
    assert [p.name for p in real.parent.iterdir()] == ["train.py"]  # no temporary file left
    assert _run(capsys, "strip", str(link))[0] == 0
    assert real.read_bytes() == TRAIN


def test_a_symlinked_launch_json_stays_a_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared-launch.json"
    shared.write_text('{"version": "0.2.0", "configurations": []}\n')
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "launch.json").symlink_to(shared)
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, "launch", "--host", "10.0.0.5")[0] == 0
    assert (tmp_path / ".vscode" / "launch.json").is_symlink()
    assert '"10.0.0.5"' in shared.read_text()


@pytest.mark.skipif(not ROOT, reason="giving a file to another owner needs root")
def test_owner_group_and_hard_links_are_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    owned = tmp_path / "owned.py"
    owned.write_bytes(TRAIN)
    os.chown(owned, 1234, 5678)
    os.chmod(owned, 0o640)
    linked = tmp_path / "linked.py"
    linked.write_bytes(TRAIN)
    os.link(linked, tmp_path / "other-name.py")
    assert _run(capsys, "add", str(owned), str(linked))[0] == 0
    info = owned.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 5678, 0o640)
    assert owned.read_bytes() != TRAIN
    assert (tmp_path / "other-name.py").read_bytes() == linked.read_bytes() != TRAIN
    assert linked.stat().st_nlink == 2


_AS_NOBODY = """
import os, sys
from instrument.cli import main
warm = sys.argv[1]
main(['add', '--diff', '-q', warm]); main(['check', warm])  # load every module while they are readable
import hashlib, tempfile  # (loaded when a file is written, and --diff writes none)
os.setgroups([]); os.setgid(65534); os.setuid(65534)
sys.exit(main(sys.argv[2:]))
"""


def _as_nobody(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    warm = tmp_path / "warm" / "warm.py"
    warm.parent.mkdir(exist_ok=True)
    warm.write_bytes(TRAIN)
    return subprocess.run([sys.executable, "-c", _AS_NOBODY, str(warm), *argv], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A world-writable folder (sticky, as /tmp) that the unprivileged user can reach."""
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"instrument-hostile-{os.getpid()}-{time.monotonic_ns()}"
    folder.mkdir(mode=0o1777)
    os.chmod(folder, 0o1777)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.skipif(not ROOT, reason="needs root to act as another user")
def test_a_file_the_user_cannot_write_is_not_replaced(shared_folder: Path) -> None:
    locked = shared_folder / "locked.py"
    locked.write_bytes(TRAIN)
    os.chmod(locked, 0o644)  # root's, readable by all, in a folder anyone may rename in
    mine = shared_folder / "mine.py"
    mine.write_bytes(TRAIN)
    os.chown(mine, 65534, 65534)
    done = _as_nobody(shared_folder, "add", str(locked), str(mine))
    assert done.returncode == 123, done.stderr
    assert f"{locked}: cannot write: the file is read-only for this user" in done.stderr.splitlines()
    assert locked.read_bytes() == TRAIN and locked.stat().st_uid == 0
    assert mine.read_bytes() != TRAIN


@pytest.mark.skipif(not ROOT, reason="needs root to act as another user")
def test_an_unreadable_file_is_one_failure_not_a_usage_error(shared_folder: Path) -> None:
    secret = shared_folder / "secret.py"
    secret.write_bytes(TRAIN)
    os.chmod(secret, 0o600)
    mine = shared_folder / "mine.py"
    mine.write_bytes(TRAIN)
    os.chown(mine, 65534, 65534)
    done = _as_nobody(shared_folder, "add", str(secret), str(mine))
    assert done.returncode == 123, done.stderr
    assert f"{secret}: cannot read: Permission denied" in done.stderr.splitlines()
    assert mine.read_bytes() != TRAIN
    checked = _as_nobody(shared_folder, "check", str(secret), str(mine))
    assert checked.returncode == 123
    assert f"{secret}: cannot read: Permission denied" in checked.stderr.splitlines()


def test_a_file_changed_after_it_was_read_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_bytes(TRAIN)
    files.read_bytes(path)
    path.write_bytes(TRAIN + b"# edited meanwhile\n")
    with pytest.raises(files.FileError, match=r"train.py: changed while instrument ran; left as it is"):
        files.write_atomic(path, b"new\n")
    assert path.read_bytes() == TRAIN + b"# edited meanwhile\n"
    files.read_bytes(path)
    files.write_atomic(path, b"new\n")  # unchanged since read: written
    assert path.read_bytes() == b"new\n"


def test_a_name_with_a_newline_cannot_steer_patch(tmp_path: Path) -> None:
    odd = tmp_path / "train.py\n+++ other.py"
    odd.write_bytes(TRAIN)
    other = tmp_path / "other.py"
    other.write_bytes(TRAIN)
    done = _instrument("add", "--diff", odd.name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\n+++ other.py" not in done.stdout
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "train.py").write_bytes(TRAIN)
    assert _instrument("add", "copy/train.py", cwd=tmp_path).returncode == 0
    expected = (tmp_path / "copy" / "train.py").read_text()
    patched = subprocess.run(["patch", "-p0", "--batch"], input=done.stdout, cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    assert patched.returncode == 0, patched.stdout + patched.stderr
    assert other.read_bytes() == TRAIN
    assert odd.read_text() == expected
    assert (tmp_path / "_instrument_debug.py").read_bytes() == (tmp_path / "copy" / "_instrument_debug.py").read_bytes()


def test_a_diff_of_a_file_with_form_feeds_and_no_final_newline_applies(tmp_path: Path) -> None:
    source = b"import argparse  # \x0c page\r\nparser = argparse.ArgumentParser()\r\nargs = parser.parse_args()"
    path = tmp_path / "train.py"
    path.write_bytes(source)
    command = [sys.executable, "-m", "instrument", "add"]
    diff = subprocess.run([*command, "--diff", "train.py"], cwd=tmp_path, capture_output=True, timeout=120).stdout
    assert b"\\ No newline at end of file" in diff and b"\x0c page\r\n" in diff
    subprocess.run(["patch", "-p0", "--batch"], input=diff, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "train.py").write_bytes(source)
    subprocess.run([*command, "copy/train.py"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    assert path.read_bytes() == (tmp_path / "copy" / "train.py").read_bytes()
    assert (tmp_path / "_instrument_debug.py").read_bytes() == (tmp_path / "copy" / "_instrument_debug.py").read_bytes()


def test_odd_names_stay_on_one_line_in_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "bad\nname\x1b[31m.py"
    broken.write_text("import debugpy\nx = (\n")
    code, out, err = _run(capsys, "add", str(broken))
    assert code == 123
    assert err.splitlines()[0].startswith(f"{tmp_path}/bad\\nname\\x1b[31m.py: cannot parse")
    undecodable = Path(os.fsdecode(os.fsencode(tmp_path) + b"/l\xffisten.py"))
    undecodable.write_text(LISTENER)
    code, out, err = _run(capsys, "check", str(broken), str(undecodable))
    assert code == 123
    assert out == f"{tmp_path}/l\\xffisten.py:2:1: debugpy.listen() opens a debug listener\n"
    assert len(err.splitlines()) == 2  # the failure and the total


def _descendants(pid: int) -> set[int]:
    children: dict[int, set[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), set()).add(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# Loaded by every interpreter of the run below (the parent, and each worker however it is
# started): a worker that takes a file says so and then waits to be stopped. The signal thus
# always arrives while the pool is busy; with real work a loaded machine can finish all the
# files before the signal does (exit 0).
_BUSY_WORKERS = """\
import os, pathlib, signal
from instrument import parallel

# Ctrl-C as in a terminal: a test run started in the background passes SIGINT on ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)

def _call_row(function, row):
    pathlib.Path(os.environ["INSTRUMENT_TEST_BUSY"], str(os.getpid())).touch()
    while True:
        signal.pause()

assert hasattr(parallel, "_call_row"), "instrument.parallel no longer calls each row through _call_row"
parallel._call_row = _call_row
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_a_parallel_run_leaves_no_workers(signum: int, tmp_path: Path) -> None:
    tree, busy, hook = tmp_path / "tree", tmp_path / "busy", tmp_path / "hook"
    for folder in (tree, busy, hook):
        folder.mkdir()
    for index in range(400):
        (tree / f"train{index:03}.py").write_bytes(TRAIN)
    (hook / "sitecustomize.py").write_text(_BUSY_WORKERS)
    env = {**os.environ, "PYTHONPATH": str(hook), "INSTRUMENT_TEST_BUSY": str(busy)}
    process = subprocess.Popen([sys.executable, "-m", "instrument", "add", "-j", "2", str(tree)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(busy.iterdir())) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, process.stderr.read()
        busy_workers = {int(entry.name) for entry in busy.iterdir()}
        assert len(busy_workers) == 2, "the two workers never took a file each"
        workers = _descendants(process.pid)
        assert busy_workers <= workers
        os.kill(process.pid, signum)
        process.wait(timeout=60)
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in workers if _alive(pid)]
        assert process.returncode in (-signum, 1, 128 + signum)
        assert b"Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("command", ["add", "strip"])
def test_workers_whose_parent_was_killed_exit_quietly(command: str, tmp_path: Path) -> None:
    folder = tmp_path / "tree"
    folder.mkdir()
    for index in range(400):
        (folder / f"train{index:03}.py").write_bytes(TRAIN)
    if command == "strip":
        assert _instrument("add", "-q", "-j", "2", str(folder)).returncode == 0
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "instrument", command, "-j", "2", str(folder)],
                                   stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
            workers = _descendants(process.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the pool never started"
        time.sleep(0.5)  # results in flight
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in workers if _alive(pid)]
        assert "Traceback" not in log.read_text(errors="replace")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


# --- 2. walking folders by what they are -------------------------------------


def test_folders_are_walked_by_what_they_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = {
        "build/train.py", "dist/train.py", "venv/train.py", "env/train.py", "lib/train.py",
    }
    skipped = {
        "build-out/build/lib/pkg/train.py", "dist-out/dist/pkg.egg-info/train.py", ".venv/lib/train.py",
        "conda/lib/train.py", "cache/train.py", ".git/train.py", "node_modules/x/train.py",
    }
    for relative in code | skipped:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LISTENER)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "conda" / "conda-meta").mkdir()
    (tmp_path / "cache" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    (tmp_path / "dist-out" / "dist" / "pkg-1.0.tar.gz").write_bytes(b"")
    found = {p.relative_to(tmp_path).as_posix() for p, _ in walk.iter_files([str(tmp_path)])}
    assert found == code
    code_, out, _ = _run(capsys, "check", str(tmp_path))
    assert code_ == 1
    assert {line.split(":")[0] for line in out.splitlines()} == {str(tmp_path / p) for p in code}


# --- 3. check bypasses ---------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "line", "name"),
    [
        pytest.param("from debugpy import *\nlisten(5678)\n", 2, "debugpy.listen", id="star-import"),
        pytest.param("import importlib\nd = importlib.import_module('debugpy')\nd.listen(5678)\n", 3,
                     "debugpy.listen", id="import-module"),
        pytest.param("import importlib\nimportlib.import_module('debugpy').listen(5678)\n", 2, "debugpy.listen",
                     id="import-module-chained"),
        pytest.param("__import__('debugpy').wait_for_client()\n", 1, "debugpy.wait_for_client", id="dunder-import"),
        pytest.param("api = __import__('debugpy.server.api', fromlist=['x'])\napi.listen(('0.0.0.0', 1), {})\n", 2,
                     "debugpy.server.api.listen", id="dunder-import-fromlist"),
        pytest.param("from debugpy.server import api\napi.listen(('0.0.0.0', 1), {})\n", 2,
                     "debugpy.server.api.listen", id="implementation"),
        pytest.param("import debugpy\ngetattr(debugpy, 'listen')(5678)\n", 2, "debugpy.listen", id="getattr"),
        pytest.param("import debugpy\nl = debugpy.listen\nl(5678)\n", 3, "debugpy.listen", id="assigned-alias"),
        pytest.param("import sys, debugpy\nsys.modules['debugpy'].listen(1)\n", 2, "debugpy.listen",
                     id="sys-modules"),
        pytest.param("import ｄｅｂｕｇｐｙ\nｄｅｂｕｇｐｙ.listen(5678)\n", 2, "debugpy.listen", id="fullwidth-nfkc"),
        pytest.param("import runpy\nrunpy.run_module('debugpy', run_name='__main__')\n", 2, "debugpy.__main__",
                     id="runpy"),
        pytest.param("import subprocess\nsubprocess.Popen(['python', '-m', 'debugpy', '--listen', '5678', 't.py'])\n",
                     2, "debugpy.__main__", id="subprocess-list"),
        pytest.param("import os\nos.system('python -m debugpy --wait-for-client --listen 0.0.0.0:5678 t.py')\n", 2,
                     "debugpy.__main__", id="os-system"),
        pytest.param("from os import popen as run\nrun('python3 -mdebugpy --listen 5678 t.py')\n", 2,
                     "debugpy.__main__", id="os-popen-alias"),
        pytest.param("from azureml.pipeline.steps import PythonScriptStep\n"
                     "s = PythonScriptStep(script_name='t.py', arguments=['--remote_debug', '--x', 1])\n", 2,
                     "azureml.pipeline.steps.PythonScriptStep", id="pipeline-step-flag"),
    ],
)
def test_bypasses_are_found(src: str, line: int, name: str) -> None:
    found = check.check_python(src)
    assert [(f.line, f.name) for f in found] == [(line, name)]
    assert check.could_have_findings(src.encode()), "the byte pre-test must let it through"


@pytest.mark.parametrize(
    "src",
    [
        pytest.param("print('run python -m debugpy --listen 5678 to debug')\n", id="help-text"),
        pytest.param("import subprocess\nsubprocess.run(['python', '-m', 'pytest', '--listen'])\n", id="other-module"),
        pytest.param("import importlib\nimportlib.import_module('json').listen(1)\n", id="other-import"),
        pytest.param("STEP_ARGS = ['--remote_debug']\n", id="flag-outside-a-step"),
    ],
)
def test_lookalikes_are_not_found(src: str) -> None:
    assert check.check_python(src) == []


def test_a_coding_cookie_hides_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    utf7 = tmp_path / "utf7.py"
    utf7.write_bytes(b"# coding: utf-7\nimport +AGQ-ebugpy\n+AGQ-ebugpy.listen(5678)\n")
    assert b"debugpy" not in utf7.read_bytes()
    escaped = tmp_path / "escape.py"
    escaped.write_bytes(b"# coding: unicode_escape\nimport \\x64ebugpy\n\\x64ebugpy.listen(1)\n")
    wide = tmp_path / "wide.py"
    wide.write_text("import ｄｅｂｕｇｐｙ as d\nd.listen(1)\n", encoding="utf-8")
    rot13 = tmp_path / "rot13.py"
    rot13.write_bytes(b"# coding: rot13\nvzcbeg qrohtcl\n")
    code, out, err = _run(capsys, "check", str(utf7), str(escaped), str(wide), str(rot13))
    assert code == 1
    assert out.splitlines() == [
        f"{utf7}:3:1: debugpy.listen() opens a debug listener",
        f"{escaped}:3:1: debugpy.listen() opens a debug listener",
        f"{wide}:2:1: debugpy.listen() (called as d.listen()) opens a debug listener",
    ]
    assert "rot13" not in err  # Python cannot run it, so it holds nothing to find
    for command in ("add", "strip"):
        code, _, err = _run(capsys, command, str(rot13))
        assert code == 123
        assert err.splitlines()[0] == f"{rot13}: encoding problem: rot13 is not a text encoding"


JOB_YAML = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
command: >-
  python train.py --data ${{inputs.data}}
  --remote_debug --remote_debug_port 5678
environment: azureml:AzureML-sklearn-1.0@latest
"""
PIPELINE_YAML = """\
type: pipeline
jobs:
  train:
    type: command
    command: python -m debugpy --listen 0.0.0.0:5678 --wait-for-client train.py
    environment_variables:
      AZUREML_DEBUG_PORT: "5678"
  score:
    command: echo debugpy is great  # a mention, not a debugger
"""


def test_job_yaml_that_starts_a_debugger_is_found() -> None:
    assert [(f.line, f.col, f.message) for f in check.check_yaml(JOB_YAML)] == [
        (4, 3, "command: `--remote_debug` in a job command starts the script in debug mode"),
    ]
    assert [(f.line, f.message.split(":")[0]) for f in check.check_yaml(PIPELINE_YAML)] == [
        (5, "command"), (7, "AZUREML_DEBUG_PORT makes the inference server connect to a debugger")
    ]
    assert check.check_yaml("dependencies:\n  - pip:\n    - debugpy\n") == []
    assert check.could_have_findings(JOB_YAML.encode(), yaml=True)
    assert not check.could_have_findings(b"dependencies:\n  - pip:\n    - debugpy\n", yaml=True)


# --- 4. regular expressions on user text ---------------------------------------

_PATHOLOGICAL = {
    "env.yml": "dependencies:\n  - pip:\n    - " + "a" * 200_000 + "::\n    - " + "-" * 200_000 + "\n",
    "train.py": "import debugpy\n" + "#" + " " * 200_000 + "instrument\n" + "# coding" * 25_000 + "\n"
    + "x = 1  #" + "\t" * 200_000 + "\n",
    "marks.py": "# >>> instrument" + " " * 200_000 + "x\n" + "#:" * 100_000 + "\n",
    "job.yml": "command: python " + "-m " * 70_000 + "debugpy\n",
    "log.txt": "ip_address: " + "a" * 200_000 + " b\nRemote debugging: listening on " + "1:" * 100_000 + "x\n",
}


@pytest.mark.parametrize("name", sorted(_PATHOLOGICAL))
def test_pathological_inputs_finish(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(_PATHOLOGICAL[name])
    if name.endswith(".txt"):
        done = _instrument("launch", "--print", "--from-log", str(path), cwd=tmp_path, timeout=60)
    else:
        for command in ("add", "strip", "check"):
            done = _instrument(command, str(path), cwd=tmp_path, timeout=60)
            assert "Traceback" not in done.stderr
    assert "Traceback" not in done.stderr


# --- 5. messages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("import os\n\ndef f(:\n    pass\n", "invalid syntax (line 3, column 7)"),
        ("x = 1\ny = (1,\nz = 3\n", "'(' was never closed (line 2, column 5)"),
    ],
)
def test_a_syntax_error_names_the_line_to_fix(src: str, reason: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.py"
    path.write_text(src)
    code, _, err = _run(capsys, "add", str(path))
    assert code == 123
    assert err.splitlines()[0] == f"{path}: cannot parse: {reason}"


# --- 6. what CPython counts and refuses ---------------------------------------

_FORM_FEED_TRAIN = "import argparse\n\ndef main():\n\x0c    parser = argparse.ArgumentParser()\n    return parser.parse_args()\n"
_FORM_FEED_SCORE = "import json\n\n\ndef init():\n\x0c    global weights\n    weights = [0.5]\n\n\ndef run(raw):\n    return json.loads(raw)\n"


@pytest.mark.parametrize("source", [_FORM_FEED_TRAIN, _FORM_FEED_SCORE], ids=["train", "score"])
def test_a_form_feed_in_indentation_counts_as_cpython_counts_it(source: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "script.py"
    path.write_bytes(source.encode())
    code, _, err = _run(capsys, "add", str(path))
    assert code == 0, err
    compile(path.read_bytes(), str(path), "exec")  # a form feed resets the column: no block repeats it
    assert _run(capsys, "strip", str(path))[0] == 0
    assert path.read_bytes() == source.encode()


def _nested(depth: int) -> str:
    lines = ["import argparse"] + [" " * level + "if True:" for level in range(depth)]
    return "\n".join(lines + [" " * depth + "parser = argparse.ArgumentParser()",
                              " " * depth + "args = parser.parse_args()"]) + "\n"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param(_nested(99), "cannot instrument: Python would refuse the file with the added lines "
                     "(too many levels of indentation)", id="flags-block-past-the-indentation-limit"),
        pytest.param(_nested(1) + "x = " + "(" * 500 + "1" + ")" * 500 + "\n",
                     "cannot parse: too many nested parentheses (line 5, column 205)", id="500-parentheses"),
        pytest.param(_nested(1) + "# \0\n", "cannot parse: source code string cannot contain null bytes",
                     id="nul-byte"),
    ],
)
def test_what_cpython_would_refuse_is_refused(source: str, reason: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "train.py"
    path.write_text(source)
    code, _, err = _run(capsys, "add", "--inline", str(path))  # the inline flags block nests one level deeper
    assert (code, err.splitlines()[0]) == (123, f"{path}: {reason}")
    assert path.read_text() == source


def test_a_parser_as_deep_as_cpython_allows_still_gets_its_flags(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "train.py"
    path.write_text(_nested(98))
    assert _run(capsys, "add", str(path))[0] == 0
    compile(path.read_text(), str(path), "exec")


_UNDER_A_MEMORY_LIMIT = """
import resource, sys
from instrument.cli import main
main(['add', '--diff', '-q', sys.argv[1]])  # every module loaded before the limit
size = [int(line.split()[1]) * 1024 for line in open('/proc/self/status') if line.startswith('VmSize:')][0]
resource.setrlimit(resource.RLIMIT_AS, (size + 150 * 1024 * 1024, resource.RLIM_INFINITY))
sys.exit(main(['add', *sys.argv[2:]]))
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process's size from /proc")
def test_a_parse_over_the_memory_limit_is_one_line(tmp_path: Path) -> None:
    """LibCST's native parser aborts the process when an allocation fails; under ``ulimit -v`` that is one line."""
    large = tmp_path / "large.py"
    source = TRAIN + b"f(a)(b)\n" * 40_000  # a parse of about 900 MB
    large.write_bytes(source)
    small = tmp_path / "train.py"
    small.write_bytes(TRAIN)
    done = subprocess.run([sys.executable, "-c", _UNDER_A_MEMORY_LIMIT, str(small), str(large), str(small)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 123, done.stderr
    assert done.stderr.splitlines()[0].startswith(
        f"{large}: not enough memory to parse the file under the memory limit (ulimit -v: ")
    assert "memory allocation" not in done.stderr and "Traceback" not in done.stderr
    assert large.read_bytes() == source
    assert small.read_bytes() != TRAIN  # the other files are still processed
