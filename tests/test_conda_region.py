"""The cheap proof of an edited conda file: the edited dependencies loaded on their own."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from instrument.codemods.yamltext import conda_env, conda_region, yaml_text
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.kinds import base, env
from tests.fixture_cases import load_cases

CHANGED = [case for case in load_cases("env") if case.values[0].before != case.values[0].after]


def added(source: str) -> tuple[str, object]:
    """add's result and the plan's region, by the kind's own steps."""
    result = base.apply(env.KIND, source, base.Options())
    return result.text, result.plan.expected


@pytest.fixture(params=["libyaml", "ruamel"])
def region_loader(request, monkeypatch):
    """Each proof both ways: libyaml first (where installed), and ruamel.yaml's round trip alone."""
    if request.param == "ruamel":
        monkeypatch.setattr(yaml_text, "libyaml_loader", lambda: None)
    elif yaml_text.libyaml_loader() is None:
        pytest.skip("PyYAML has no libyaml here (its C extension is not built): the round trip decides")
    return request.param


@pytest.mark.parametrize("case", CHANGED)
def test_every_fixture_is_proven_by_its_region(case, region_loader):
    before = case.before.decode()
    result, edited = added(before)
    assert isinstance(edited, conda_region.Edited)
    assert conda_region.proves(result, before, edited) is True


@pytest.mark.parametrize("case", CHANGED)
def test_libyaml_proves_the_fixtures_without_the_round_trip_load(case, monkeypatch):
    if yaml_text.libyaml_loader() is None:
        pytest.skip("PyYAML has no libyaml here (its C extension is not built): the round trip decides")
    before = case.before.decode()
    result, edited = added(before)

    def no_round_trip(text):
        raise AssertionError("the region was loaded with ruamel.yaml")

    monkeypatch.setattr(yaml_text, "load", no_round_trip)
    assert conda_region.proves(result, before, edited) is True


@pytest.mark.parametrize("scalar", ["on", "yes", "010", "1:20", "2001-12-14", "~", "0o14"])
def test_a_scalar_libyaml_reads_otherwise_is_left_to_the_round_trip(scalar, region_loader):
    """YAML 1.1 (libyaml) and 1.2 (ruamel.yaml) read these differently: the proof still holds,
    by the round-trip load, and never on libyaml's reading."""
    source = f"dependencies:\n  - python\n  - pip:\n    - {scalar}\n    - numpy\n"
    result, edited = added(source)
    assert conda_region.proves(result, source, edited) is True


@pytest.mark.parametrize("case", CHANGED)
def test_the_region_is_what_the_edit_touched(case):
    """The region's dependencies, loaded in place, are the expected items."""
    before = case.before.decode()
    result, edited = added(before)
    original = YAML(typ="rt").load(before)["dependencies"]
    start = [original.lc.item(index)[0] for index in range(len(original))].index(edited.first)
    in_place = YAML(typ="rt").load(result)["dependencies"]
    assert list(in_place)[start : start + len(edited.items)] == edited.items


@pytest.mark.parametrize(
    ("wrong", "right"),
    [("- debugpy\n", "- debugpz\n"), ("- debugpy\n", "- debugpy: 1\n"), ("- debugpy\n", "- [debugpy]\n")],
    ids=["other_name", "a_mapping", "a_list"],
)
def test_a_region_that_means_something_else_is_an_internal_error(wrong, right):
    """A block that strips back but reads differently (a bug in a plan) is refused."""
    before = "name: x\ndependencies:\n  - python\n  - pip:\n    - numpy\nchannels:\n  - c\n"
    result, edited = added(before)
    tampered = result.replace(wrong, right, 1)
    assert tampered != result
    with pytest.raises(InstrumentError, match="do not read as the original plus debugpy"):
        conda_region.proves(tampered, before, edited)
    with pytest.raises(InstrumentError, match="internal error"):
        conda_env.verify(tampered, before, base.Plan(expected=edited))


def test_a_region_that_does_not_load_is_left_to_the_whole_load_which_refuses_it():
    before = "name: x\ndependencies:\n  - python\n  - pip:\n    - numpy\n"
    result, edited = added(before)
    nested_deeper = result.replace("- debugpy\n", "  - debugpy\n", 1)
    assert conda_region.proves(nested_deeper, before, edited) is False
    with pytest.raises(InstrumentError, match="internal error: the result is not a conda environment"):
        conda_env.verify(nested_deeper, before, base.Plan(expected=edited))


def test_a_change_outside_the_region_is_left_to_the_whole_load():
    before = "name: x\ndependencies:\n  - python\n  - pip:\n    - numpy\n"
    result, edited = added(before)
    assert conda_region.proves(result.replace("name: x", "name: y"), before, edited) is False


# Layouts the region cannot speak for: add still works, through loading the whole result.
WHOLE = [
    pytest.param("%YAML 1.1\n---\ndependencies:\n  - python\n  - pip:\n    - a\n", True, id="directive"),
    pytest.param("name: &n x\ndependencies:\n  - python\n  - pip:\n    - a\n    - *n\n", True, id="alias_outside"),
    pytest.param("dependencies:\n  - python\n  - pip:\n    - \"a\n b\"\n", True, id="line_less_indented"),
    pytest.param("dependencies:\n  - python\n  - pip:\n    - \"a\n    \tb\"\n", True, id="tab_in_the_indentation"),
    pytest.param("dependencies:\n  - python\n  -\n    pip:\n    - a\n", False, id="dash_alone_on_its_line"),
    pytest.param("dependencies:\n  - python\n  - pip:\n    - a\n    - \"b\u2028c\"\n", True, id="unicode_line_separator"),
]


@pytest.mark.parametrize(("source", "has_region"), WHOLE)
def test_layouts_the_region_cannot_prove_load_the_whole_result(source, has_region):
    result, edited = added(source)
    assert "debugpy" in result
    if not has_region:
        assert edited is None
    else:
        assert isinstance(edited, conda_region.Edited)
        assert conda_region.proves(result, source, edited) is False
    conda_env.verify(result, source, base.Plan(expected=edited))  # the whole load accepts it


@pytest.mark.parametrize(
    "source",
    [
        "dependencies:\n  - python\n  - pip:\n    - !!str 1\n    - !local x\n",
        "dependencies:\n  - python\n  - pip:\n    - .nan\n",
    ],
    ids=["tagged_scalars", "not_a_number"],
)
def test_values_that_do_not_equal_themselves_are_still_proven(source):
    """A tagged scalar compares by identity and NaN equals nothing: compared by what they say."""
    result, edited = added(source)
    assert conda_region.proves(result, source, edited) is True


def messy_environment(rng) -> str:
    """A conda file of random layout: indentation, CRLF, comments, quoting, tags, flow lists, keys after."""
    indent, nested, newline = rng.choice(["", " ", "  ", "    "]), rng.choice(["", " ", "  ", "    "]), rng.choice(["\n", "\r\n"])
    lines = rng.choice([[], ["%YAML 1.1", "---"], ["# top"]])
    lines += rng.choice([[], ["name: &n x"], ["name: |", "  block", "  text"], ["name: 'q x'"]])
    lines.append("dependencies:" + rng.choice(["", "  # deps"]))
    for _ in range(rng.randint(1, 4)):
        lines.append(indent + "- " + rng.choice(["python=3.8", "'numpy'", '"scipy>=1"', "pandas  # c", "a=1"]))
        lines += rng.choice([[], [], ["# at column 0"], [indent + "  # deeper"], [""]])
    lines += rng.choice([[], [indent + "- pip"]])
    shape = rng.randrange(4)
    if shape < 2:
        lines.append(indent + "- pip:" + rng.choice(["", " # p"]))
        for _ in range(rng.randint(1, 3)):
            lines.append(indent + nested + "- " + rng.choice(
                ["azureml", "'req>=1'", "x[y]", "!!str 1", ".nan", "*n", '"a # b"', "long\n" + indent + nested + "  more",
                 "yes", "010", "1:20"]))
    elif shape == 2:
        lines.append(indent + "- pip: " + rng.choice(["[]", "[a, b]", "['a']"]))
    lines += rng.choice([[], [indent + "- tail"], ["variables:", "  A: 1"], ["# end"]])
    return newline.join(lines).replace("\n", newline) + rng.choice([newline, ""])


def test_what_the_region_proves_is_what_the_whole_result_says(region_loader):
    """On random layouts: a result the region proves reads, loaded whole, as the original
    with only the edited dependencies changed, and those as expected."""
    import random

    rng, proven = random.Random(7), 0
    for _ in range(400):
        source = messy_environment(rng)
        try:
            original = YAML(typ="rt").load(source)
            result, edited = added(source)
        except Exception:
            continue  # not YAML, or refused by the plan (untouched)
        if result == source or edited is None or not conda_region.proves(result, source, edited):
            continue
        proven += 1
        whole = YAML(typ="rt").load(result)
        before, after = list(original["dependencies"]), list(whole["dependencies"])
        start = [original["dependencies"].lc.item(i)[0] for i in range(len(before))].index(edited.first)
        assert conda_region.same(after[:start], before[:start]), source
        assert conda_region.same(after[start : start + len(edited.items)], edited.items), source
        assert conda_region.same(after[start + len(edited.items) :], before[start + 1 :]), source
        assert conda_region.same({**whole, "dependencies": None}, {**original, "dependencies": None}), source
    assert proven > 150
