"""v2 environments built from a Docker context: the Dockerfile says which file gets debugpy.

The ``dockerfile`` kind (fixtures/dockerfile/) reads the instructions and names
the requirements or conda file of the context the image installs; the
``requirements`` kind (fixtures/requirements/) adds debugpy to a pip
requirements file, read back with pip's own parser.
"""

from __future__ import annotations

import shutil

import pytest

from instrument.cli import main
from instrument.codemods.shell import dockerfile
from instrument.process import ADD, STRIP, Job, add_options, process_bytes
from tests.fixture_cases import FIXTURES, load_cases, transformed

DOCKERFILES = load_cases("dockerfile")
REQUIREMENTS = load_cases("requirements")


def test_there_are_enough_cases():
    assert len(DOCKERFILES) >= 5 and len(REQUIREMENTS) >= 3


@pytest.mark.parametrize("case", DOCKERFILES)
def test_dockerfile_names_the_file_it_installs_and_is_never_changed(case):
    outcome = process_bytes(Job(ADD, kind="dockerfile"), case.before, "Dockerfile")
    assert outcome.error is None and not outcome.changed and outcome.output == case.before == case.after
    assert [[c.path, c.kind] for c in outcome.companions if not c.entry] == case.meta["companions"]
    for note in case.meta.get("notes", []):
        assert any(n.startswith(f"Dockerfile:{note}") for n in outcome.notes), outcome.notes
    if not case.meta.get("notes"):
        assert outcome.notes == ()


@pytest.mark.parametrize("case", DOCKERFILES)
def test_a_dockerfile_is_detected_by_its_name_and_first_instruction(case):
    assert process_bytes(Job(ADD), case.before, "docker/Dockerfile").kind == "dockerfile"
    assert process_bytes(Job(ADD), case.before, "train.Dockerfile").kind == "dockerfile"


@pytest.mark.parametrize("case", REQUIREMENTS)
def test_requirements_add_strip_idempotent(case):
    job = Job(ADD, kind="requirements")
    assert transformed(job, case.before, "deps.txt") == case.after
    assert transformed(job, case.after, "deps.txt") == case.after
    assert transformed(Job(STRIP, kind="requirements"), case.after, "deps.txt") == case.before
    assert process_bytes(Job(ADD), case.before, "requirements-train.txt").kind == "requirements"


@pytest.mark.parametrize("case", REQUIREMENTS)
def test_pip_reads_debugpy_from_the_result(case):
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements

    path = case.folder / "after.txt"
    names = [str(r.requirement).split(";")[0].strip().lower() for r in parse_requirements(str(path), session=PipSession())]
    assert sum(name.startswith("debugpy") for name in names) == 1, names


def test_a_continued_last_line_is_refused_untouched():
    outcome = process_bytes(Job(ADD, kind="requirements"), b"numpy \\\n", "requirements.txt")
    assert outcome.error and "backslash" in outcome.error and "\n" not in outcome.error and outcome.output is None


INSTRUCTIONS = [
    pytest.param("FROM a\nRUN x \\\n  # dropped\n\n  y\n", [("FROM", "a", 1), ("RUN", "x  y", 2)], id="continuation_comment"),
    pytest.param("# escape=`\nFROM a\nRUN x `\n  y\n", [("FROM", "a", 2), ("RUN", "x  y", 3)], id="escape_directive"),
    pytest.param("from a\r\n  run  b\r\n", [("FROM", "a", 1), ("RUN", "b", 2)], id="lower_case_crlf"),
    pytest.param("FROM a\nRUN <<EOF\nRUN not an instruction\nEOF\nCMD c\n", [("FROM", "a", 1), ("RUN", "<<EOF", 2),
                                                                            ("CMD", "c", 5)], id="heredoc"),
    pytest.param("# a comment \\\nFROM a\n", [("FROM", "a", 2)], id="comment_with_backslash"),
]


@pytest.mark.parametrize(("text", "expected"), INSTRUCTIONS)
def test_instructions_are_read_as_docker_reads_them(text, expected):
    assert [(i.keyword, i.arguments, i.line) for i in dockerfile.instructions(text)] == expected


INSTALLS = [
    ("pip install -r requirements.txt && rm requirements.txt", [("requirements.txt", "requirements")]),
    ("pip3 install --no-cache-dir --requirement=r.txt", [("r.txt", "requirements")]),
    ("/opt/conda/bin/python -m pip install -rr.txt", [("r.txt", "requirements")]),
    ("conda run -n train pip install -r r.txt", [("r.txt", "requirements")]),
    ("conda env create -n x -f environment.yml", [("environment.yml", "env")]),
    ("mamba env update --file=env.yml", [("env.yml", "env")]),
    ("micromamba install -y -n base -f env.yaml", [("env.yaml", "env")]),
    ("PIP_NO_CACHE=1 pip install -c constraints.txt numpy", []),
    ("pip download -r requirements.txt", []),
    ("echo pip install -r requirements.txt", []),
    ("conda create --file spec.txt", []),
]


@pytest.mark.parametrize(("command", "expected"), INSTALLS)
def test_installed_files_come_from_the_install_commands(command, expected):
    assert dockerfile.installed_files(command) == expected


COPIES = [
    ("COPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt", "requirements.txt"),
    ("COPY reqs/train.txt /tmp/r.txt\nRUN pip install -r /tmp/r.txt", "reqs/train.txt"),
    ("WORKDIR /app\nCOPY . .\nRUN pip install -r deps/r.txt", "deps/r.txt"),
    ("COPY deps /app/\nWORKDIR /app\nRUN pip install -r r.txt", "deps/r.txt"),
    ("COPY [\"r one.txt\", \"/x/\"]\nRUN pip install -r '/x/r one.txt'", "r one.txt"),
    ("COPY a.txt /r.txt\nCOPY b.txt /r.txt\nRUN pip install -r /r.txt", "b.txt"),
    ("COPY --from=build /r.txt /r.txt\nRUN pip install -r /r.txt", None),
    ("ADD https://example.com/r.txt /r.txt\nRUN pip install -r /r.txt", None),
    ("RUN pip install -r /etc/r.txt", None),
]


@pytest.mark.parametrize(("body", "source"), COPIES)
def test_the_installed_file_is_traced_back_to_the_context(body, source):
    found = dockerfile.dependency_files("FROM python:3.11\n" + body + "\n")
    assert [f.path for f in found] == ([source] if source else [])


def _job_folder(tmp_path):
    folder = tmp_path / "job"
    shutil.copytree(FIXTURES / "job" / "build_context_requirements", folder)
    (folder / "after.yml").unlink()
    (folder / "before.yml").rename(folder / "job.yml")
    return folder


def test_cli_follows_the_build_context_to_its_requirements_and_back(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    originals = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    requirements = folder / "docker-context" / "requirements.txt"
    assert main(["add", str(folder / "job.yml")]) == 0
    err = capsys.readouterr().err
    assert f"instrumented {requirements}" in err
    assert requirements.read_text().endswith("# >>> instrument: debugpy for remote debugging (remove with "
                                              "`instrument strip`)\ndebugpy\n# <<< instrument\n")
    assert (folder / "docker-context" / "Dockerfile").read_bytes() == originals[folder / "docker-context" / "Dockerfile"]
    assert main(["check", str(folder)]) == 1
    assert f"{requirements}:5:1: instrument block" in capsys.readouterr().out
    assert main(["strip", str(folder / "job.yml")]) == 0
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == originals


def test_strip_of_a_folder_finds_requirements_files_but_add_does_not_walk_to_them(tmp_path):
    folder = _job_folder(tmp_path)
    requirements = folder / "docker-context" / "requirements.txt"
    original = requirements.read_bytes()
    (folder / "job.yml").unlink()
    assert main(["add", str(folder)]) == 0
    assert requirements.read_bytes() == original  # a project's own requirements are not a job's environment
    assert main(["add", str(requirements)]) == 0 and requirements.read_bytes() != original
    assert main(["strip", str(folder)]) == 0
    assert requirements.read_bytes() == original


def test_a_dockerfile_that_installs_nothing_is_named_in_a_note(tmp_path, capsys):
    folder = _job_folder(tmp_path)
    (folder / "docker-context" / "Dockerfile").write_text("FROM python:3.11\nRUN pip install pandas\n")
    assert main(["add", str(folder / "job.yml")]) == 0
    err = capsys.readouterr().err
    assert f"{folder / 'docker-context' / 'Dockerfile'}:1:1: note: installs no requirements file" in err


BUILDS = [
    ("build:\n    path: docker-context\n", (("docker-context/Dockerfile", "dockerfile"),), None),
    ("build:\n    path: ./ctx\n    dockerfile_path: train.Dockerfile\n", (("./ctx/train.Dockerfile", "dockerfile"),), None),
    ("build:\n    path: ctx\n    dockerfile_path: docker/Dockerfile\n", (), "must be in its Dockerfile"),
    ("build:\n    path: https://github.com/example/env.git\n", (), "https://github.com/example/env.git"),
]


@pytest.mark.parametrize(("build", "companions", "note"), BUILDS)
def test_build_contexts_of_a_job(build, companions, note):
    text = ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncode: .\ncommand: python train.py\n"
            "environment:\n  " + build)
    outcome = process_bytes(Job(ADD), text.encode(), "job.yml")
    assert outcome.error is None and tuple((c.path, c.kind) for c in outcome.companions if not c.entry) == companions
    assert (note is None) == (not outcome.notes)
    assert note is None or note in outcome.notes[0]


def test_install_debugpy_installs_in_the_command_and_leaves_the_context():
    text = ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncode: .\ncommand: python train.py\n"
            "environment:\n  build:\n    path: docker-context\n")
    outcome = process_bytes(Job(ADD, options=add_options(install_debugpy=True)), text.encode(), "job.yml")
    assert not [c for c in outcome.companions if not c.entry] and b"pip install debugpy && python train.py" in outcome.output
