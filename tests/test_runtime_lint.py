"""The injected code is ordinary, checked Python: linted, type-checked, and valid on old Pythons.

Azure ML images carry old interpreters; the rendered code must at least
parse and run with debugging off (and fail soft with it on) on Python 3.6.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from instrument.codemods.helper import templates
from instrument.codemods.core.options import Options

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.caches import cache_root, locked  # noqa: E402

RUNTIME = ROOT / "codemods" / "runtime"


@pytest.mark.lint
def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(RUNTIME)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.lint
def test_mypy_finds_nothing_also_in_the_untyped_injected_functions():
    # mypy's incremental cache, kept between runs (as in tests/test_static_checks.py): it
    # rechecks whatever changed and repeats a cached module's errors.
    with locked(cache_root() / "mypy" / "runtime") as cache:
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--check-untyped-defs", "--ignore-missing-imports",
             "--cache-dir", str(cache), *sorted(str(p) for p in RUNTIME.glob("*.py"))],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
        )
    assert result.returncode == 0, result.stdout + result.stderr


def rendered_sources() -> list[tuple[str, str]]:
    options = Options(host="10.0.0.4", port=6000, timeout=12, ranks="0,2")
    helper = "\n".join(templates.helper_lines_uncached("_instrument_remote_debug", options, "\t"))
    score = "\n".join(templates.score_lines("_instrument_remote_debug", options, "  "))
    flags = "\n".join(templates.flag_lines("parser", options, "    "))
    return [("helper", helper), ("score", score), ("flags", flags)]


@pytest.mark.py310  # 3.9's parser ignores feature_version: the check could not fail there
@pytest.mark.parametrize(("what", "source"), rendered_sources(), ids=lambda v: v if len(v) < 10 else "")
def test_the_rendered_code_is_python_3_6_syntax(what, source):
    ast.parse(source, feature_version=(3, 6))
    with pytest.raises(SyntaxError):  # the check itself can fail
        ast.parse(source + "\nif (x := 1):\n    pass\n", feature_version=(3, 6))


def _old_pythons() -> list[str]:
    roots = [Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"]
    found = [str(p / "bin" / "python") for root in roots if root.is_dir() for p in sorted(root.glob("3.[67].*"))]
    found += [path for name in ("python3.6", "python3.7") if (path := shutil.which(name))]
    return [p for p in dict.fromkeys(found) if Path(p).exists()]


SCRIPT = '''\
import sys

print("argv", sys.argv[1:])
'''


def test_an_instrumented_script_runs_on_the_oldest_python_at_hand(tmp_path):
    pythons = _old_pythons()
    if not pythons:
        pytest.skip("no Python 3.6 or 3.7 interpreter on this machine")
    from instrument.codemods.kinds.train import add

    script = tmp_path / "train.py"
    script.write_text(add(SCRIPT, Options(timeout=1)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    python = pythons[0]
    version = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    assert version.stdout.strip() in ("(3, 6)", "(3, 7)")

    def run(*argv):
        return subprocess.run([python, "-S", str(script), *argv], capture_output=True, text=True, env=env, timeout=60)

    off = run("--epochs", "2")
    assert (off.returncode, off.stdout, off.stderr) == (0, "argv ['--epochs', '2']\n", "")
    on = run("--remote_debug", "x")  # -S: no debugpy there; one line, and the script goes on
    assert on.returncode == 0, on.stderr
    assert on.stdout.splitlines()[-2:] == ["Debugger attached = False", "argv ['x']"]
    assert on.stderr == "Remote debugging: debugpy is not installed in this environment\n"
    typo = run("--remote_debug_prot", "1")
    assert typo.returncode == 2 and typo.stdout == ""
    assert typo.stderr.startswith("Remote debugging: unknown flag --remote_debug_prot (the flags are ")
