"""Markers for tests that need something only some Pythons can install.

The full test extra (``pip install -e '.[test,distributed]'``) installs all of
it on the main CI Python. The extra runs on the lowest and highest supported
Pythons install ``.[test-core]`` (plus whatever else installs there) and
*deselect* what they lack with ``-m "not ..."``. A marked test that runs
without its package fails with the extra to install; it is never skipped.
"""

from __future__ import annotations

import importlib.util
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


def _find_spec_safely(check) -> bool:
    try:
        return bool(check())
    except ImportError:  # a parent package is missing
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, (what, check) in NEEDS.items():
        if item.get_closest_marker(marker) is not None and not _find_spec_safely(check):
            pytest.fail(f"needs {what}: install it, or deselect these tests with -m 'not {marker}'",
                        pytrace=False)
