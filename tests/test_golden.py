"""The golden cases of every kind, in one table: (kind, case) for each ``fixtures/<kind>/<case>/``.

For each: ``add`` gives ``after`` (with the case's options), ``strip`` gives
``before`` back (``stripped`` where ``--take-over`` removed hand-written code
for good), ``add`` of ``after`` changes nothing, ``strip`` of ``before``
changes nothing, and without ``--kind`` the kind is detected from the text.
The kind test files keep only what is particular to their kind.
"""

from __future__ import annotations

import pytest

from instrument.codemods import kinds
from instrument.process import ADD, STRIP, Job, process_bytes
from tests.fixture_cases import FIXTURES, case_options, load_cases, transformed

#: Every registered kind that has fixtures (a kind without any fails below).
KINDS = [kind.name for kind in kinds.all_kinds()]
#: File names a kind is found by (Dockerfiles, requirements files are told by name, not by suffix).
NAMES = {"dockerfile": "Dockerfile", "requirements": "requirements.txt"}
CASES = [pytest.param(kind, param.values[0], id=f"{kind}-{param.id}")
         for kind in KINDS if (FIXTURES / kind).is_dir() for param in load_cases(kind)]


def _job(kind: str, case, action: str, forced: bool = True) -> Job:
    return Job(action, kind=kind if forced else None, options=case_options(kind, case.meta, action))


def _name(kind: str, case) -> str:
    return NAMES.get(kind, kind + case.suffix)


def test_every_kind_has_golden_cases():
    assert {kind for kind in KINDS if not (FIXTURES / kind).is_dir() or not load_cases(kind)} == set()


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_add_gives_the_after_file(kind, case):
    assert transformed(_job(kind, case, ADD), case.before, _name(kind, case)) == case.after


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_strip_gives_the_before_file_back(kind, case):
    assert transformed(_job(kind, case, STRIP), case.after, _name(kind, case)) == case.restored


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_add_is_idempotent(kind, case):
    assert transformed(_job(kind, case, ADD), case.after, _name(kind, case)) == case.after


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_strip_leaves_a_clean_file_alone(kind, case):
    assert transformed(_job(kind, case, STRIP), case.restored, _name(kind, case)) == case.restored


#: Detection: every kind but the one any Python file may be taken as (a training script's cases
#: include files no kind detects, which add takes as one when named).
DETECTED = [param for param in CASES if not kinds.get(param.values[0]).any_script]


@pytest.mark.parametrize(("kind", "case"), DETECTED)
def test_the_kind_is_detected(kind, case):
    outcome = process_bytes(_job(kind, case, ADD, forced=False), case.before, _name(kind, case))
    assert (outcome.kind, outcome.error) == (kind, None)
    assert outcome.output == case.after
