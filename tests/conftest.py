"""Markers for tests that need something only some Pythons can install.

The full test extra (``pip install -e '.[test,distributed]'``) installs all of
it on the main CI Python. The extra runs on the lowest and highest supported
Pythons install ``.[test-core]`` (plus whatever else installs there) and
*deselect* what they lack with ``-m "not ..."``. A marked test that runs
without its package fails with the extra to install; it is never skipped.

A system program is another matter: no extra installs it. A test marked
``programs("sshd", ...)`` is skipped, with the program and the package that
has it, on a machine without them; with INSTRUMENT_REQUIRE_PROGRAMS=1 (as
.ci/run sets it, after installing them) a missing one fails the test instead,
so CI still proves what the test tests.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

# marker -> (what it needs, how to check it is there)
NEEDS = {
    "azureml": ("the Azure ML SDK v1 (the 'azureml' extra; Python < 3.12)",
                lambda: importlib.util.find_spec("azureml.pipeline.steps") is not None),
    "server": ("azureml-inference-server-http (the 'server' extra)",
               lambda: shutil.which("azmlinfsrv", path=str(Path(sys.executable).parent)) is not None),
    "distributed": ("torch (the 'distributed' extra)", lambda: importlib.util.find_spec("torch") is not None),
    "lint": ("ruff and mypy (the 'lint' extra)",
             lambda: all(importlib.util.find_spec(m) is not None for m in ("ruff", "mypy"))),
    # Not a package, the interpreter: running a fixture script with a match
    # statement needs 3.10+ (instrument itself reads such scripts on 3.9 too,
    # codemods/grammar.py; only the tests that execute them need 3.10), and
    # 3.9's parser ignores ast.parse(feature_version=...), so a check of the
    # injected code's 3.6 syntax with it could not fail there (the injected
    # code runs on a real 3.6 in tests/test_python_versions.py).
    "py310": ("Python 3.10 or newer (a match statement in the script; ast's feature_version)",
              lambda: sys.version_info >= (3, 10)),
}


# system program -> the Debian package that has it
PROGRAMS = {
    "sshd": "openssh-server",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
# sshd lives in sbin, which is not on every user's PATH.
PROGRAM_PATH = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"])
REQUIRE_PROGRAMS = "INSTRUMENT_REQUIRE_PROGRAMS"

# Tests and the processes they start must not report to MLflow's telemetry
# service (nor write its installation id to ~/.config/mlflow).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def find_program(name: str) -> str | None:
    return shutil.which(name, path=PROGRAM_PATH)


def _find_spec_safely(check) -> bool:
    try:
        return bool(check())
    except ImportError:  # a parent package is missing
        return False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for programs in item.iter_markers("programs"):
        missing = [name for name in programs.args if find_program(name) is None]
        if missing:
            packages = sorted({PROGRAMS.get(name, name) for name in missing})
            what = f"needs {', '.join(missing)} (Debian: apt-get install {' '.join(packages)})"
            if os.environ.get(REQUIRE_PROGRAMS) == "1":
                pytest.fail(f"{what}: not installed, and {REQUIRE_PROGRAMS}=1 requires it", pytrace=False)
            pytest.skip(f"{what}: not installed; .ci/run installs it")
    for marker, (what, check) in NEEDS.items():
        if item.get_closest_marker(marker) is not None and not _find_spec_safely(check):
            pytest.fail(f"needs {what}: install it, or deselect these tests with -m 'not {marker}'",
                        pytrace=False)


# pytest-xdist (addopts: -n auto) hands tests to its workers one at a time, and each worker
# sets up module- and session-scoped fixtures for itself. The tests of these modules share
# an expensive one, so they go to one worker together and it is built once per run:
# module -> why. (Not with xdist_group marks and --dist loadgroup: pytest-xdist 3.8 groups
# nothing on pytest 9.2, pytest-dev/pytest-xdist#1386.)
SHARED_SETUP = {
    "tests/test_v2_python.py": "azure-ai-ml builds the jobs of every case (fixture `built`, a minute on 2 CPUs)",
    "tests/test_precommit.py": "one pre-commit store and hook repository, so the hook environment is built once",
}


#: Workers beyond the CPUs with ``-n auto``: many tests wait on processes they start (a
#: debugger's timeout, a server's start, a virtualenv's pip), and a worker that waits leaves its
#: CPU to another. On 2 CPUs, 4 workers ran the suite in 4 min 36 s to 5 min 13 s, 2 in 6 to
#: 6.5 min; the tests hold under that load (two whole suites side by side pass too).
EXTRA_WORKERS = 2


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: the CPUs this process may run on, plus :data:`EXTRA_WORKERS`
    (``PYTEST_XDIST_AUTO_NUM_WORKERS`` decides instead, as with pytest-xdist's own count)."""
    given = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if given:
        return int(given)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return cpus + EXTRA_WORKERS


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With xdist's default --dist load: one test per unit of work, except one unit per module
    of SHARED_SETUP (given out first: the largest units go first)."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedSetupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in SHARED_SETUP else nodeid

    return SharedSetupScheduling(config, log)
