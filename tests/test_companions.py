"""Files a job names (its conda file) are instrumented with it, and stripped with it."""

from __future__ import annotations

import shutil
from pathlib import Path

from instrument.cli import main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "job" / "folded_comment_line"


def _job_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(FIXTURE, folder)
    (folder / "after.yml").unlink()
    (folder / "before.yml").rename(folder / "job.yml")
    return folder


def test_add_and_strip_follow_the_jobs_conda_file(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    originals = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert main(["add", str(folder / "job.yml")]) == 0
    err = capsys.readouterr().err
    assert f"instrumented {folder / 'conda.yml'}" in err and "2 files instrumented." in err
    assert b"- debugpy" in (folder / "conda.yml").read_bytes()
    assert main(["strip", str(folder / "job.yml")]) == 0
    err = capsys.readouterr().err
    assert f"stripped {folder / 'conda.yml'}" in err and "2 files stripped." in err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == originals


def test_a_conda_file_named_too_is_processed_once(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    assert main(["add", str(folder / "job.yml"), str(folder / "conda.yml")]) == 0
    err = capsys.readouterr().err
    assert err.count(f"instrumented {folder / 'conda.yml'}") == 1


def test_a_missing_conda_file_is_one_failure(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    (folder / "conda.yml").unlink()
    job = (folder / "job.yml").read_bytes()
    assert main(["add", str(folder / "job.yml")]) == 123
    err = capsys.readouterr().err
    assert f"{folder / 'conda.yml'}: named by a job definition, but there is no such file" in err
    assert (folder / "job.yml").read_bytes() != job  # the job itself was instrumented
