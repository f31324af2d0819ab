"""End to end: this repository's hooks under the real pre-commit framework.

A temporary git repository gets an instrumented training script staged, and
pre-commit installs and runs our hooks from a snapshot of this repository's
working tree, as a user's would from its URL.

Why a snapshot rather than ``try-repo <repo root>`` itself: on a root with
uncommitted changes try-repo clones HEAD plus the changes to *tracked* files,
so new files (a new module, the hook manifest itself) would be missing and the
test would check an older tree than the one under test. The snapshot is the
working tree (tracked and untracked, less what .gitignore ignores) committed
once per session; in CI, a clean clone, it is exactly HEAD.

try-repo builds the hook environment in a throw-away store on every call; the
``.pre-commit-config.yaml`` runs share one store (PRE_COMMIT_HOME) per session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "fixtures" / "train" / "seed_train"
HOOK_TIMEOUT = 600  # seconds: building a hook environment installs libcst and click


def _clean_env(pre_commit_home: Path | None = None) -> dict[str, str]:
    """The environment without git's or pre-commit's variables of an outer run
    (a GIT_INDEX_FILE from a hook running these tests would point elsewhere)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    if pre_commit_home is not None:
        env["PRE_COMMIT_HOME"] = str(pre_commit_home)
        env["PRE_COMMIT_COLOR"] = "never"
        # The hook environment gets the pip virtualenv bundles for its Python:
        # a shared app-data folder can hold a newer pip found by virtualenv's
        # periodic update for another Python (pip 26.2 on 3.9 fails to import).
        env["VIRTUALENV_OVERRIDE_APP_DATA"] = str(pre_commit_home / "virtualenv")
        env["VIRTUALENV_NO_PERIODIC_UPDATE"] = "1"
    return env


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=_clean_env(), check=True, capture_output=True, text=True, timeout=60
    ).stdout


def _git_init(repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q")
    _git(repo, "config", "user.name", "instrument tests")
    _git(repo, "config", "user.email", "tests@instrument.invalid")
    _git(repo, "config", "commit.gpgsign", "false")


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """This repository's working tree, committed into a git repository of its own."""
    listed = _git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    snapshot = tmp_path_factory.mktemp("hook-repo")
    _git_init(snapshot)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # not deleted in the working tree
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    _git(snapshot, "add", "-A")
    _git(snapshot, "commit", "-q", "-m", "snapshot of the working tree")
    return HookRepo(snapshot, _git(snapshot, "rev-parse", "HEAD").strip())


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit store per session, so a hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's repository with an instrumented training script staged."""
    repo = tmp_path / "project"
    _git_init(repo)
    shutil.copyfile(TRAIN / "after.py", repo / "train.py")
    (repo / "README.md").write_text("a project\n")
    _git(repo, "add", "train.py", "README.md")
    return repo


def _pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo,
        env=_clean_env(home),
        capture_output=True,
        text=True,
        timeout=HOOK_TIMEOUT,
    )


def _instrument(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instrument", *args], cwd=repo, capture_output=True, text=True, timeout=60
    )


def _readme_config(hook_repo: HookRepo) -> str:
    """The README's .pre-commit-config.yaml snippet, pointed at the snapshot."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Keeping debug code out of commits") :]
    snippet = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert snippet, "the README shows a .pre-commit-config.yaml snippet"
    config = snippet.group(1)
    assert "<url of this repository>" in config and "<tag or commit>" in config
    return config.replace("<url of this repository>", str(hook_repo.path)).replace("<tag or commit>", hook_repo.rev)


def test_try_repo_check_blocks_an_instrumented_script(
    project: Path, hook_repo: HookRepo, pre_commit_home: Path
) -> None:
    blocked = _pre_commit(project, pre_commit_home, "try-repo", str(hook_repo.path), "instrument-check", "--all-files")
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert re.search(r"^train\.py:\d+:\d+: instrument block", blocked.stdout, re.M), blocked.stdout

    stripped = _instrument(project, "strip", "train.py")
    assert stripped.returncode == 0, stripped.stderr
    assert (project / "train.py").read_bytes() == (TRAIN / "before.py").read_bytes()
    _git(project, "add", "train.py")
    passed = _pre_commit(project, pre_commit_home, "try-repo", str(hook_repo.path), "instrument-check", "--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "train.py" not in passed.stdout


def test_readme_config_strip_hook_fixes_the_commit(project: Path, hook_repo: HookRepo, pre_commit_home: Path) -> None:
    (project / ".pre-commit-config.yaml").write_text(_readme_config(hook_repo))
    _git(project, "add", ".pre-commit-config.yaml")

    blocked = _pre_commit(project, pre_commit_home, "run", "instrument-check", "--all-files")
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "train.py:" in blocked.stdout

    fixed = _pre_commit(project, pre_commit_home, "run", "instrument-strip", "--all-files")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in fixed.stdout
    assert (project / "train.py").read_bytes() == (TRAIN / "before.py").read_bytes()

    _git(project, "add", "train.py")
    clean = _pre_commit(project, pre_commit_home, "run", "--all-files")  # both hooks
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_readme_config_hooks_run_on_commit(project: Path, hook_repo: HookRepo, pre_commit_home: Path) -> None:
    """Installed as a git hook, the check refuses the commit itself."""
    config = _readme_config(hook_repo)
    (project / ".pre-commit-config.yaml").write_text(config)
    _git(project, "add", ".pre-commit-config.yaml")
    installed = _pre_commit(project, pre_commit_home, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    commit = subprocess.run(
        ["git", "commit", "-q", "-m", "add training"],
        cwd=project,
        env=_clean_env(pre_commit_home),
        capture_output=True,
        text=True,
        timeout=HOOK_TIMEOUT,
    )
    assert commit.returncode != 0, commit.stdout + commit.stderr
    assert "train.py:" in commit.stdout + commit.stderr
    with pytest.raises(subprocess.CalledProcessError):
        _git(project, "rev-parse", "--verify", "HEAD")  # nothing was committed


def test_try_repo_check_reads_a_shell_script(project: Path, hook_repo: HookRepo, pre_commit_home: Path) -> None:
    """Shell scripts reach the hook (identify's ``shell`` tag), so a listener started there is found."""
    _instrument(project, "strip", "train.py")
    (project / "launch.sh").write_text("#!/bin/bash\npython -m debugpy --listen 0.0.0.0:5678 train.py\n")
    _git(project, "add", "train.py", "launch.sh")
    blocked = _pre_commit(project, pre_commit_home, "try-repo", str(hook_repo.path), "instrument-check", "--all-files")
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert re.search(r"^launch\.sh:2:1: .*debugpy", blocked.stdout, re.M), blocked.stdout
    assert "train.py:" not in blocked.stdout
