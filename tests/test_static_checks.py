"""ruff and mypy over the project: a new finding fails the tests.

Their configuration, with every rule or error code switched off and why, is in
pyproject.toml ([tool.ruff], [tool.mypy]).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.caches import cache_root, locked  # noqa: E402

pytestmark = pytest.mark.lint


def run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MYPY", "RUFF"))}
    return subprocess.run([sys.executable, "-m", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_ruff_finds_nothing():
    result = run(["ruff", "check", "--no-cache", "--output-format", "concise", "."], ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_checks_for_python_3_9(tmp_path):
    """The configured target is the lowest supported Python: newer syntax is an error."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    (tmp_path / "new.py").write_text("match 1:\n    case 1:\n        pass\n", encoding="utf-8")
    result = run(["ruff", "check", "--no-cache", "--output-format", "concise", "."], tmp_path)
    assert result.returncode == 1 and "new.py:1:1" in result.stdout, result.stdout + result.stderr


def installed_layout(tmp_path: Path) -> Path:
    """instrument/ with codemods/ inside it, as pip installs them (symbolic links)."""
    package = tmp_path / "instrument"
    package.mkdir()
    for entry in (ROOT / "instrument").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "codemods").symlink_to(ROOT / "codemods")
    return tmp_path


def test_mypy_finds_nothing(tmp_path):
    # mypy's incremental cache, kept between runs: a minute of checking the standard library's
    # stubs and the typed dependencies (LibCST, debugpy, MLflow) on the first run, seconds after.
    # mypy rechecks whatever changed, its own version included, and repeats a cached module's errors.
    with locked(cache_root() / "mypy" / "package") as cache:
        result = run(["mypy", "--config-file", ROOT / "pyproject.toml", "--cache-dir", cache,
                      "-p", "instrument"], installed_layout(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    checked = re.search(r"Success: no issues found in (\d+) source files", result.stdout)
    sources = list((ROOT / "instrument").glob("*.py")) + list((ROOT / "codemods").rglob("*.py"))
    assert checked and int(checked.group(1)) == len(sources), result.stdout  # all of them, no fewer
