"""The other Python interpreters the injected code is proven on, and debugpy venvs for them.

Azure ML images run the instrumented script on their own interpreter (older
curated images carry 3.7 or 3.8), so the tests run it on every CPython from
3.6 to 3.13. Each minor version is looked up as ``python3.X`` on PATH, then
in pyenv's versions folder (``$PYENV_ROOT``, default ``~/.pyenv``); a missing
one is an error naming where it was looked for, never a silent skip.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Every version the injected code is run on, with debugging off and on. With
# debugging on, pip picks the newest debugpy that supports the version: 1.8.x
# from 3.8 on, 1.7.0 on 3.7, 1.5.1 on 3.6.
VERSIONS = ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


class MissingInterpreter(LookupError):
    pass


def pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def find_python(version: str) -> Path:
    """The interpreter for ``version`` ("3.9"); raises MissingInterpreter."""
    candidates = [shutil.which(f"python{version}")]
    # Newest patch release first: sort by the numeric parts of the folder name.
    found = glob.glob(str(pyenv_root() / "versions" / f"{version}.*" / "bin" / "python"))
    candidates += sorted(found, key=lambda p: [int(n) for n in Path(p).parts[-3].split(".") if n.isdigit()],
                         reverse=True)
    for candidate in filter(None, candidates):
        if reported_version(Path(candidate)) == version:
            return Path(candidate)
    raise MissingInterpreter(
        f"no Python {version}: not on PATH as python{version} and not in {pyenv_root()}/versions "
        f"(install it with `pyenv install {version}`, or deselect these tests with -m 'not pythons')"
    )


def reported_version(python: Path) -> str | None:
    try:
        result = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def full_version(python: Path) -> str:
    return subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, timeout=30, check=True).stdout.strip()


def cache_dir() -> Path:
    """Where the debugpy venvs are kept between runs (they take ~10 s each to make)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "instrument-tests" / "debugpy-venvs"


def debugpy_venv(python: Path) -> Path:
    """A venv of ``python`` with debugpy from PyPI; its interpreter's path.

    Cached by the interpreter's full version and path. Built under a lock
    (pytest-xdist's workers, or two runs at once, build it once and never
    replace it under one another) in a temporary folder renamed into place,
    so a run killed half way leaves no broken venv behind.
    """
    version = full_version(python)
    key = f"{version}-{hashlib.sha256(str(python.resolve()).encode()).hexdigest()[:8]}"
    target = cache_dir() / key
    interpreter = target / "bin" / "python"
    if interpreter.exists() and _imports_debugpy(interpreter):
        return interpreter
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, or the process dies
        if interpreter.exists() and _imports_debugpy(interpreter):  # built while we waited
            return interpreter
        building = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=cache_dir()))
        try:
            _run([str(python), "-m", "venv", str(building)])
            _run([str(building / "bin" / "python"), "-m", "pip", "install", "--quiet", "debugpy"])
            if target.exists():
                shutil.rmtree(target)
            os.rename(building, target)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return interpreter


def debugpy_version(interpreter: Path) -> str:
    return subprocess.run([str(interpreter), "-c", "import debugpy; print(debugpy.__version__)"],
                          capture_output=True, text=True, timeout=60, check=True).stdout.strip()


def _imports_debugpy(interpreter: Path) -> bool:
    try:
        return subprocess.run([str(interpreter), "-c", "import debugpy"], capture_output=True,
                              timeout=60).returncode == 0
    except OSError:
        return False


def _run(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


if __name__ == "__main__":  # list what the tests would use
    for v in VERSIONS:
        try:
            print(v, find_python(v))
        except MissingInterpreter as exc:
            print(v, exc, file=sys.stderr)
