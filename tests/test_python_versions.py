"""The injected code on every Python an Azure ML image may run it with.

The instrumented script runs on the image's interpreter, not on the one that
ran ``instrument add``: older curated images carry 3.7 or 3.8. So the text the
tool generates now (not the committed after files) is run with CPython 3.6 to
3.13 (see tests/interpreters.py for where they are found):

* debugging off, it behaves exactly like the original: same exit code, same
  stdout, same stderr, in argparse (parser) mode, in standalone ``sys.argv``
  mode, and for a scoring script whose ``init()``/``run()`` are called directly;
* debugging on, in a venv with the debugpy pip installs from PyPI for that
  version (1.5.1 on 3.6, 1.7.0 on 3.7, 1.8.x after), a real DAP client attaches,
  stops at a breakpoint, reads a local and continues, and the script finishes;
  nobody attaching, the timeout is honoured.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from instrument.process import ADD, Job, add_options  # noqa: E402
from tests import interpreters  # noqa: E402
from tests.dap import DapClient, DapError, attach_and_stop, continue_and_disconnect  # noqa: E402
from tests.debuggees import FINAL, STANDALONE, WITH_PARSER  # noqa: E402
from instrument.codemods.helper import module as helper_module  # noqa: E402
from tests.fixture_cases import HELPER_FILE as HELPER  # noqa: E402
from tests.fixture_cases import load_cases, transformed  # noqa: E402
from tests.processes import Proc  # noqa: E402
from tests.ports import free_port  # noqa: E402

pytestmark = pytest.mark.pythons

WAIT = 60  # seconds: the bound on any single wait (old debugpy releases start slower)
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY", "INSTRUMENT_"))}
ENV.update(PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")

# Fixtures that together cover the ways the helper is wired in; all of them
# are plain enough Python to run on 3.6.
TRAIN_CASES = {
    "seed_train": "parser mode: flags join the script's argparse parser",
    "main_guard": "parser mode, the parser built under if __name__ == '__main__'",
    "parse_known_args": "parser mode through parse_known_args",
    "sys_argv": "standalone mode: the script reads sys.argv itself",
    "plain_script": "standalone mode, no arguments at all",
    "crlf": "CRLF line endings",
    "latin1_coding": "a PEP 263 coding line",
}
SCORE_CASES = {"plain": "init()/run() called directly", "crlf": "CRLF line endings"}


def pick(kind: str, names: dict) -> list:
    cases = {param.id: param.values[0] for param in load_cases(kind)}
    return [pytest.param(cases[name], id=name) for name in names]


def python_params(versions: list[str]) -> list:
    return [pytest.param(version, id=f"py{version}") for version in versions]


@pytest.fixture(scope="module")
def pythons() -> dict:
    """version -> interpreter; the test of a missing one fails with where it looked."""
    found = {}
    for version in interpreters.VERSIONS:
        try:
            found[version] = interpreters.find_python(version)
        except interpreters.MissingInterpreter as exc:
            found[version] = exc
    return found


def interpreter(pythons: dict, version: str) -> Path:
    python = pythons[version]
    if isinstance(python, Exception):
        pytest.fail(str(python), pytrace=False)
    return python


def instrumented(kind: str, source: bytes, folder: Path, inline: bool = False) -> bytes:
    """``source`` as add writes it, and (unless ``inline``) the helper module beside it in ``folder``."""
    options = add_options(host="127.0.0.1", helper=None if inline else HELPER)
    if not inline:
        (folder / HELPER).write_text(helper_module.module_text(), encoding="utf-8")
    return transformed(Job(ADD, kind=kind, options=options), source, f"{kind}.py")


def run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env={**ENV, **(env or {})}, capture_output=True,
                          text=True, encoding="utf-8", timeout=WAIT)


# -- debugging off: exactly the original behaviour ------------------------------------


@pytest.mark.parametrize("version", python_params(interpreters.VERSIONS))
@pytest.mark.parametrize("case", pick("train", TRAIN_CASES) + pick("train", {"inline_seed_train": "inline"}))
def test_training_script_without_debugging_behaves_as_before(pythons, version, case, tmp_path):
    python = interpreter(pythons, version)
    (tmp_path / "before.py").write_bytes(case.before)
    (tmp_path / "after.py").write_bytes(instrumented("train", case.before, tmp_path, case.meta.get("inline", False)))
    argv = case.meta["argv"]
    before = run([python, "before.py", *argv], tmp_path)
    after = run([python, "after.py", *argv], tmp_path)
    assert before.returncode == 0, before.stderr  # the fixture itself runs on this version
    assert (after.returncode, after.stdout, after.stderr) == (0, before.stdout, before.stderr)
    # and the flags are really there: asking for them runs the debug path
    debug = run([python, "after.py", "--remote_debug", "--remote_debug_connection_timeout", "1",
                 "--remote_debug_port", str(free_port()), *argv], tmp_path)
    assert debug.returncode == 0, debug.stderr
    assert "Timeout for debug connection: 1" in debug.stdout.splitlines()
    assert "Debugger attached = False" in debug.stdout.splitlines()


SCORE_LOADER = (  # how azmlinfsrv loads score.py, then one request
    "import importlib.util, json, sys\n"
    "spec = importlib.util.spec_from_file_location('entry_module', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module.init()\n"
    "print('reply', json.dumps(module.run(*json.loads(sys.argv[2]))))\n"
)


@pytest.mark.parametrize("version", python_params(interpreters.VERSIONS))
@pytest.mark.parametrize("case", pick("score", SCORE_CASES))
def test_scoring_script_switched_off_answers_as_before(pythons, version, case, tmp_path):
    python = interpreter(pythons, version)
    (tmp_path / "before.py").write_bytes(case.before)
    (tmp_path / "after.py").write_bytes(instrumented("score", case.before, tmp_path))
    request = json.dumps(case.meta["run_args"])
    before = run([python, "-c", SCORE_LOADER, "before.py", request], tmp_path)
    after = run([python, "-c", SCORE_LOADER, "after.py", request], tmp_path, {"INSTRUMENT_DEBUG": "0"})
    assert before.returncode == 0, before.stderr
    assert before.stdout.startswith("reply ")
    assert (after.returncode, after.stdout, after.stderr) == (0, before.stdout, before.stderr)


# -- debugging on: a real debugpy from PyPI and a real DAP client ----------------------


@pytest.fixture(scope="module")
def debugpy_pythons(pythons) -> dict:
    """version -> interpreter of a cached venv with debugpy, all built at once."""
    versions = interpreters.VERSIONS
    wanted = {v: pythons[v] for v in versions if not isinstance(pythons[v], Exception)}
    with concurrent.futures.ThreadPoolExecutor(len(wanted) or 1) as pool:
        futures = {v: pool.submit(interpreters.debugpy_venv, python) for v, python in wanted.items()}
    built = {}
    for version in versions:
        if version not in futures:
            built[version] = pythons[version]
        elif futures[version].exception() is not None:
            built[version] = futures[version].exception()
        else:
            built[version] = futures[version].result()
    return built


def build_script(tmp_path: Path, body: str) -> tuple[Path, int]:
    """``body`` instrumented by the tool into tmp_path/train.py; (path, line of ``# BREAK``)."""
    data = instrumented("train", body.encode(), tmp_path)
    path = (tmp_path / "train.py").resolve()
    path.write_bytes(data)
    [line] = [n for n, s in enumerate(data.decode().splitlines(), 1) if s.endswith("# BREAK")]
    return path, line


@pytest.fixture
def start(tmp_path):
    procs: list[Proc] = []

    def _start(python: Path, *args) -> Proc:
        proc = Proc([str(python), "-Xfrozen_modules=off", *map(str, args)], tmp_path, ENV, wait=WAIT)
        procs.append(proc)
        return proc

    yield _start
    for proc in procs:
        proc.kill()


ATTACH_VERSIONS = python_params(interpreters.VERSIONS)


@pytest.mark.parametrize("version", ATTACH_VERSIONS)
@pytest.mark.parametrize("body", [WITH_PARSER, STANDALONE], ids=["argparse", "standalone"])
def test_attach_break_read_a_local_and_continue(debugpy_pythons, version, body, tmp_path, start):
    python = interpreter(debugpy_pythons, version)
    script, line = build_script(tmp_path, body)
    port = free_port()
    proc = start(python, script, "--remote_debug", "--remote_debug_connection_timeout", 30,
                 "--remote_debug_port", port)
    assert proc.wait_for_line("Remote debugging: listening on").endswith(f" 127.0.0.1:{port}")
    client = DapClient.connect("127.0.0.1", port, timeout=WAIT)
    try:
        try:
            local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": port}}, script, line,
                                    timeout=WAIT)
        except DapError as exc:
            proc.kill()
            raise AssertionError(f"{exc}\n{proc.report()}") from exc
        assert client.stopped["reason"] == "breakpoint"
        assert (client.frame["name"], client.frame["line"]) == ("train", line)
        assert local["learning_rate"] == "0.125"
        assert "result" not in local  # stopped before the line ran
        assert FINAL not in proc.out
        continue_and_disconnect(client, timeout=WAIT)
    finally:
        client.close()
    assert proc.finish() == 0, proc.report()
    assert "Debugger attached = True" in proc.out, proc.report()
    assert proc.out[-1] == FINAL, proc.report()
    assert "Traceback" not in proc.stdout + proc.stderr, proc.report()
    if body is STANDALONE:
        assert "argv []" in proc.out  # the debug flags were taken off sys.argv


@pytest.mark.parametrize("version", ATTACH_VERSIONS)
def test_nobody_attaches_and_the_timeout_is_honoured(debugpy_pythons, version, tmp_path, start):
    python = interpreter(debugpy_pythons, version)
    script, _ = build_script(tmp_path, STANDALONE)
    proc = start(python, script, "--remote_debug", "--remote_debug_connection_timeout", 2,
                 "--remote_debug_port", free_port())
    assert proc.finish() == 0, proc.report()
    elapsed = time.monotonic() - proc.started
    assert 2 <= elapsed < WAIT, elapsed  # not the add-time 300 s
    assert proc.out[0] == "Timeout for debug connection: 2", proc.report()
    assert any(line.startswith("Remote debugging: listening on 127.0.0.1:") for line in proc.out), proc.report()
    assert proc.out[-2:] == ["argv []", FINAL] and "Debugger attached = False" in proc.out, proc.report()
    assert "Traceback" not in proc.stdout + proc.stderr, proc.report()


@pytest.mark.parametrize("version", ATTACH_VERSIONS)
def test_the_venv_holds_the_debugpy_pip_chose(debugpy_pythons, version):
    """The venvs are what the attach tests claim: that interpreter, a debugpy from PyPI."""
    python = interpreter(debugpy_pythons, version)
    assert interpreters.reported_version(python) == version
    lowest = {"3.6": (1, 5), "3.7": (1, 7)}.get(version, (1, 8))  # the last release for old ones
    installed = tuple(int(part) for part in interpreters.debugpy_version(python).split(".")[:2])
    assert installed >= lowest
