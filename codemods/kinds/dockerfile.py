"""The Dockerfile of an Azure ML v2 build context: debugpy into what it installs.

A v2 environment built from a Docker context (``build: {path: ./ctx}``)
names the context's Dockerfile as a companion of this kind. Its plan changes
nothing in the Dockerfile: the requirements file (``pip install -r``) or
conda file (``conda env create/update -f``) that the image installs from the
context becomes a companion in turn (see :mod:`instrument.codemods.shell.dockerfile`);
a Dockerfile that installs neither gets a note that names it.
"""

from __future__ import annotations

from instrument.codemods.kinds.base import TEXT, Companion, Kind, Note, Plan

NOTHING_INSTALLED = ("installs no requirements file (pip install -r) or conda file (conda env create/update -f) "
                     "of its context: debugpy must be added to the image by hand (RUN pip install debugpy), "
                     "or use --install-debugpy")


def detect(text: str, tree) -> bool:
    from instrument.codemods.shell import dockerfile  # here: the registry loads this module on every run

    return dockerfile.is_dockerfile(text)


def plan(text: str, tree, options) -> Plan:
    from instrument.codemods.shell import dockerfile

    found = dockerfile.dependency_files(text)
    if not found:
        return Plan(notes=[Note(1, 1, NOTHING_INSTALLED)], reason="no dependency file of the context is installed")
    companions = list(dict.fromkeys(Companion(f.path, f.kind) for f in found))
    return Plan(companions=companions, reason="the files it installs carry the changes")


KIND = Kind(
    name="dockerfile",
    language=TEXT,
    summary="the Dockerfile of an Azure ML v2 build context (debugpy into the file it installs)",
    detect=detect,
    plan=plan,
    default_timeout=None,
    options=frozenset(),
    names=("Dockerfile", "Dockerfile.*", "*.Dockerfile"),
    priority=80,
    brings=True,
)
