"""Every definition fixture, named alone: what ``add`` changes is whole, and ``strip`` and
``check`` follow it.

For each job, component, pipeline, submission-script and SDK v1 pipeline case
under ``fixtures/``, ``add DEFINITION`` runs on a copy of its folder (the
definition alone, with the case's options, as a user types it). Then:

* no file failed, and no run that failed changed a file;
* every command of every changed YAML definition that carries the flags runs
  an entry script (its ``code:`` joined with the command's script) that is on
  disk and instrumented: the job cannot stop on flags its script refuses;
* ``check DEFINITION`` names every file ``add`` changed;
* ``strip DEFINITION`` gives back every byte of the folder (``stripped.*``
  where ``--take-over`` took hand-written code out for good).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from instrument import graph, process
from instrument.codemods.fences import markers
from instrument.codemods.shell import commands as v2_commands
from tests.fixture_cases import load_cases

KINDS = ("job", "component", "pipeline_job", "sdk_job", "pipeline")
CASES = [pytest.param(kind, param.values[0], id=f"{kind}-{param.id}") for kind in KINDS for param in load_cases(kind)]


def _tree(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _run(job: process.Job, path: Path) -> list:
    outcome = process.process_path(job, path, True)
    return list(graph.settle(job, outcome, set())) if outcome.held else [outcome]


def _flagged_entries(definition: Path) -> list:
    """(command, the entry script it runs) of each command in a YAML definition that carries the flags."""
    data = yaml.safe_load(definition.read_text(encoding="utf-8-sig"))
    jobs = data.get("jobs") if isinstance(data, dict) else None
    holders = [data, data.get("trial")] + (list(jobs.values()) if isinstance(jobs, dict) else [])
    found = []
    for holder in holders:
        for inner in (holder, holder.get("component"), holder.get("trial")) if isinstance(holder, dict) else ():
            if isinstance(inner, dict) and "--remote_debug" in str(inner.get("command", "")):
                entry = v2_commands.entry(str(inner["command"]))
                paths, why = v2_commands.entry_files(inner.get("code"), entry)
                assert why is None, (definition, inner["command"], why)
                located = [definition.parent / p for p in paths if (definition.parent / p).is_file()]
                found.append((inner["command"], Path(os.path.normpath(located[0])) if located else None))
    return found


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_add_definition_alone_brings_what_it_runs(tmp_path, capsys, kind, case):
    folder = tmp_path / case.name
    shutil.copytree(case.folder, folder)
    for leftover in list(folder.glob("after.*")) + list(folder.glob("stripped.*")) + [folder / "case.json"]:
        if leftover.exists():
            leftover.unlink()
    definition = folder / f"before{case.suffix}"
    from instrument.cli import main

    assert main(["strip", "-q", str(folder)]) == 0  # a file the case brings may hold blocks already
    originals = _tree(folder)
    options = {key: value for key, value in case.meta.get("options", {}).items()}
    job = process.Job(process.ADD, kind=kind, options=process.add_options(**options))
    outcomes = _run(job, definition)
    errors = [o.error for o in outcomes if o.error]
    changed = {Path(o.path) for o in outcomes if o.changed}
    if errors:
        assert _tree(folder) == originals, errors  # a failed graph writes nothing
        pytest.fail(f"add {definition.name} failed: {errors}")
    assert definition in changed or not any(o.entries for o in outcomes), outcomes
    for member in sorted(p for p in changed if p.suffix in (".yml", ".yaml")):
        for command, script in _flagged_entries(member):
            assert script is not None, f"{member.name}: {command!r} carries the flags but runs no file here"
            assert markers.has_markers(script.read_text(encoding="latin-1")), f"{script} is not instrumented"
    capsys.readouterr()
    assert main(["check", str(definition)]) == (1 if changed else 0)
    out = capsys.readouterr().out
    for path in changed:
        assert f"{path}:" in out, f"check {definition.name} does not name {path}"
    assert main(["strip", "-q", str(definition)]) == 0  # as a user types it: the helper module goes too
    restored = _tree(folder)
    if case.stripped is not None:
        restored[definition] = originals[definition] if restored[definition] == case.stripped else restored[definition]
    assert restored == originals
