"""Run ``instrument add``/``strip`` over real CLI v2 YAML and report what happened.

Usage::

    python scripts/v2_examples.py GIT_DIR [--under cli] [--service vs_code] [--install-debugpy] [-v]

``GIT_DIR`` is a clone (or bare mirror) of a repository of Azure ML samples,
such as Azure/azureml-examples. Its tree under ``--under`` is copied to a
temporary folder; every YAML file there goes through ``add`` as the walker
would see it (kind detected, companions followed), and the report says how many
files run Python in a command, how many got instrumented, how many of those
still load with azure-ai-ml (``load_job``/``load_component``, offline), and how
many ``strip`` gives back byte for byte. Not a unit test: it needs the samples.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from instrument import graph, process
from instrument.codemods.fences import markers
from instrument.codemods.shell import commands as v2_commands
from instrument.codemods.yamltext import yaml_text
from instrument.codemods.core.options import Options

JOB_SCHEMAS = ("commandjob", "sweepjob", "pipelinejob")
COMPONENT_SCHEMAS = ("commandcomponent", "pipelinecomponent")


def export(git_dir: str, under: str, target: Path) -> None:
    """Copy the files under a tree path (large files that are absent are left out)."""
    names = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", "HEAD", under],
                           check=True, capture_output=True).stdout.split(b"\0")
    for entry in names:
        if not entry:
            continue
        meta, name = entry.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind != b"blob" or mode == b"120000":
            continue
        shown = subprocess.run(["git", "--git-dir", git_dir, "cat-file", "blob", sha.decode()], capture_output=True)
        if shown.returncode:
            continue
        path = target / name.decode()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(shown.stdout)


def command_holders(data) -> list:
    """Every mapping of a v2 document that holds a command string (job, trial, nodes, inline components)."""
    if not isinstance(data, CommentedMap):
        return []
    jobs = data.get("jobs")
    nodes = list(jobs.values()) if isinstance(jobs, CommentedMap) else []
    found = []
    for holder in [data, data.get("trial")] + nodes:
        if isinstance(holder, CommentedMap):
            for inner in (holder, holder.get("component"), holder.get("trial")):
                if isinstance(inner, CommentedMap) and isinstance(inner.get("command"), str):
                    found.append(inner)
    return found


def commands(data) -> list:
    """Every command string of a v2 document."""
    return [str(holder["command"]) for holder in command_holders(data)]


def runs_python(command: str) -> bool:
    """A generous reading: any word that names Python or a .py file (not our own parser)."""
    words = command.replace("\n", " ").split()
    launchers = ("python", "torchrun", "deepspeed")
    return any(w.startswith(launchers) or w.endswith(".py") or w == "accelerate" for w in words)


def azure_load(path: Path):
    """The loaded entity, or None when the file is not a job/component; raises when it does not load."""
    from azure.ai.ml import load_component, load_job

    data = yaml_text.load(path.read_text(encoding="utf-8-sig"))
    schema = str(data.get("$schema", "")).rsplit("/", 1)[-1].lower() if isinstance(data, CommentedMap) else ""
    schema = schema.replace(".schema.json", "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if schema in JOB_SCHEMAS:
            return load_job(path)
        if schema in COMPONENT_SCHEMAS:
            return load_component(path)
    return None


def loaded_commands(entity) -> dict:
    """{holder name: command} as azure-ai-ml reads them (job, sweep trial, pipeline nodes)."""
    if entity is None:
        return {}
    if hasattr(entity, "trial"):
        return {"trial": getattr(entity.trial, "command", None)}
    jobs = getattr(entity, "jobs", None)
    if jobs:
        return {name: getattr(node, "command", None) for name, node in jobs.items()}
    return {"": getattr(entity, "command", None)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("git_dir")
    parser.add_argument("--under", default="cli")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--service", choices=("vs_code",), help="add with --service vs_code")
    parser.add_argument("--install-debugpy", action="store_true", help="add with --install-debugpy")
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        export(args.git_dir, args.under, root)
        yamls = sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        originals = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}  # companions too (requirements)
        python_files, loaded_before, before_commands = [], set(), {}
        for path in yamls:
            try:
                data = yaml_text.load(path.read_text(encoding="utf-8-sig"))
            except Exception:
                continue
            found = commands(data)
            if any(runs_python(c) for c in found):
                python_files.append(path)
            try:
                entity = azure_load(path)
            except Exception:
                continue
            if entity is not None:
                loaded_before.add(path)
                before_commands[path] = loaded_commands(entity)
        job = process.Job(
            process.ADD, options=process.add_options(service=args.service, install_debugpy=args.install_debugpy)
        )
        strip = process.Job(process.STRIP)
        # Each definition alone, as a user names it (`instrument add job.yml`), on the original tree.
        changed, errors, refused, kinds, not_back = set(), [], set(), {}, []
        load_failures, entry_commands, flagged, entries_ok, entries_missing = [], 0, 0, set(), []
        failed_runs_that_wrote = []
        flags = v2_commands.debug_flags(Options(timeout=300, service=args.service))
        for path in yamls:
            outcomes = run(job, path)
            run_changed = {Path(o.path) for o in outcomes if o.changed}
            run_errors = [o.error for o in outcomes if o.error]
            if run_errors:
                errors.extend(run_errors)
                refused.add(path)
                if any(originals.get(p) != p.read_bytes() for p in run_changed | {path}):
                    failed_runs_that_wrote.append(str(path.relative_to(root)))
            for outcome in outcomes:
                if outcome.changed:
                    kinds[Path(outcome.path)] = outcome.kind
            changed |= run_changed
            for member in sorted(p for p in run_changed if p.suffix in (".yml", ".yaml")):
                for script in flagged_entries(member, flags):
                    if script is not None and script.is_file() and markers.has_markers(script.read_text("utf-8")):
                        entries_ok.add(script)
                    else:
                        entries_missing.append(f"{member.relative_to(root)}: {script}")
            if path in loaded_before and path in run_changed:
                try:
                    after = loaded_commands(azure_load(path))
                except Exception as exc:
                    load_failures.append(f"{path.relative_to(root)}: {str(exc).splitlines()[0][:200]}")
                else:
                    for name, command in before_commands[path].items():
                        if isinstance(command, str) and v2_commands.flag_insertion(command) is not None:
                            entry_commands += 1
                            flagged += flags in (after.get(name) or "")
            run(strip, path)
            for touched in run_changed:
                if touched.read_bytes() != originals.get(touched):
                    not_back.append(f"{touched.relative_to(root)} (strip {path.relative_to(root)})")
                    touched.write_bytes(originals[touched])
            for left in {p.parent for p in run_changed}:
                for extra in sorted(left.glob("_instrument_debug*.py")):
                    if extra not in originals:
                        not_back.append(f"{extra.relative_to(root)} left behind (strip {path.relative_to(root)})")
                        extra.unlink()
        python_set = set(python_files)
        instrumented_python = python_set & changed
        print(f"YAML files: {len(yamls)}")
        print(f"with a command that runs Python: {len(python_set)}")
        share = 100 * len(instrumented_python) / max(1, len(python_set))
        print(f"  instrumented: {len(instrumented_python)} ({share:.1f}%)")
        yaml_set = set(yamls)
        print(f"YAML files changed (job, component, environment, conda): {len(changed & yaml_set)}; left alone: "
              f"{len(yaml_set - changed - refused)}; refused: {len(refused)}")
        print(f"files changed in all (conda files, components, environments, requirements included): {len(changed)}"
              f" ({len(changed - yaml_set)} not YAML: {', '.join(sorted(p.name for p in changed - yaml_set))})")
        print(f"changed files that loaded with azure-ai-ml before: {len(changed & loaded_before)}; "
              f"still load: {len(changed & loaded_before) - len(load_failures)}")
        print(f"commands azure-ai-ml reads with a Python entry: {entry_commands}; "
              f"with the flags after add: {flagged}")
        print(f"entry scripts instrumented with the definition that runs them: {len(entries_ok)}; commands with "
              f"the flags whose entry is not instrumented: {len(entries_missing)}")
        print(f"strip DEFINITION gives back every file add DEFINITION changed: "
              f"{'yes' if not not_back else f'no, {len(not_back)} files differ'}")
        print(f"runs that failed and still changed a file: {len(failed_runs_that_wrote)}")
        print(f"errors: {len(errors)}")
        for line in (errors + load_failures + [f"not restored: {p}" for p in not_back]
                     + [f"flags without an instrumented entry: {p}" for p in entries_missing]
                     + [f"failed but changed files: {p}" for p in failed_runs_that_wrote]):
            print("  " + line)
        if args.verbose:
            for path in sorted(python_set - changed):
                cmds = [c for c in commands(yaml_text.load(path.read_text(encoding='utf-8-sig'))) if runs_python(c)]
                entry = [v2_commands.flag_insertion(c) is not None for c in cmds]
                print(f"  not instrumented: {path.relative_to(root)} entries={entry} {cmds[0][:100]!r}")
    return 1 if load_failures or not_back or entries_missing or failed_runs_that_wrote else 0


def run(job: process.Job, path: Path) -> list:
    """``instrument add|strip PATH`` for one named file: its outcome and those of the files it brings.

    ``add`` reads each YAML of the tree as the walk would (most are no definition); ``strip`` as a
    user names the definition they added."""
    from instrument import helpers

    outcome = process.process_path(job, path, explicit=job.action == process.STRIP)
    outcomes = list(graph.settle(job, outcome, set())) if outcome.held else [outcome]
    if job.action == process.STRIP:  # the helper modules go with the last script that loads them
        stripped = {graph.key_of(Path(o.path)) for o in outcomes if o.changed}
        helpers.sweep({Path(o.path).parent for o in outcomes if o.path.endswith(".py")}, stripped, job.write)
    return outcomes


def flagged_entries(path: Path, flags: str) -> list:
    """The local entry script of each command of a definition that carries the flags (None: none named)."""
    found = []
    for holder in command_holders(yaml_text.load(path.read_text(encoding="utf-8-sig"))):
        if flags not in str(holder["command"]):
            continue
        entry = v2_commands.entry(str(holder["command"]))
        paths, _ = v2_commands.entry_files(holder.get("code"), entry) if entry else ((), None)
        located = [path.parent / p for p in paths if (path.parent / p).is_file()]
        found.append(Path(os.path.normpath(located[0])) if located else None)
    return found


if __name__ == "__main__":
    sys.exit(main())
