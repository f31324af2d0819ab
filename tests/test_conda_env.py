"""The conda environment codemod, table-driven from fixtures/env/."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from instrument.codemods.kinds import env as env_kind
from instrument.codemods.fences import markers
from instrument.codemods.yamltext import conda_env
from instrument.cli import main
from instrument.process import ADD, Job, process_bytes
from tests.fixture_cases import load_cases

CASES = load_cases("env")
SEED = next(p.values[0] for p in CASES if p.values[0].name == "seed_myenv")


def run(action: str, data: bytes, name: str = "env.yml", explicit: bool = True):
    # add detects the kind from the suffix; strip of a clean file needs it named
    return process_bytes(Job(action, kind=None if action == ADD else "env"), data, name, explicit)


def output(action: str, data: bytes, name: str = "env.yml") -> bytes:
    outcome = run(action, data, name)
    assert outcome.error is None, outcome.error
    return outcome.output


def pip_list(data: bytes) -> list:
    """The pip packages as azureml-core reads them: the last `pip:` entry."""
    entries = [d for d in YAML(typ="safe").load(data.decode("utf-8"))["dependencies"] if isinstance(d, dict) and "pip" in d]
    return (entries[-1]["pip"] or []) if entries else []


def test_there_are_enough_cases():
    assert len(CASES) >= 8





@pytest.mark.parametrize("case", CASES)
def test_only_debugpy_is_added(case):
    """The YAML means the same, plus debugpy in the pip list (and pip itself)."""
    yaml = YAML(typ="safe")
    before, after = yaml.load(case.before.decode()), yaml.load(case.after.decode())
    assert {k: v for k, v in before.items() if k != "dependencies"} == {
        k: v for k, v in after.items() if k != "dependencies"
    }
    assert any(conda_env.requirement_name(p) == "debugpy" for p in pip_list(case.after))
    if not any(isinstance(d, dict) for d in before["dependencies"]):  # the pip section is new: so is pip
        conda = [d for d in after["dependencies"] if isinstance(d, str)]
        assert "pip" in {conda_env.requirement_name(d) for d in conda}
    added = [p for p in pip_list(case.after) if p not in pip_list(case.before)]
    assert added in ([], ["debugpy"])


@pytest.mark.azureml
@pytest.mark.parametrize("case", CASES)
def test_the_sdk_reads_debugpy_from_the_file(case, tmp_path):
    """azureml-core's own CondaDependencies loads the instrumented file."""
    from azureml.core.conda_dependencies import CondaDependencies

    path = tmp_path / "env.yml"
    path.write_bytes(case.after)
    dependencies = CondaDependencies(conda_dependencies_file_path=str(path))
    assert any(conda_env.requirement_name(p) == "debugpy" for p in dependencies.pip_packages)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("debugpy", "debugpy"),
        ("DebugPy==1.8.0", "debugpy"),
        ("debugpy>=1.6; python_version>'3.7'", "debugpy"),
        ("conda-forge::debugpy=1.8", "debugpy"),
        ("git+https://github.com/microsoft/debugpy#egg=debugpy", "debugpy"),
        ("debugpy-extras", "debugpy-extras"),
        ("azureml_defaults", "azureml-defaults"),
        ("pip>=22", "pip"),
        ("--index-url https://example.org", None),
        (3.8, None),
    ],
)
def test_requirement_name(spec, name):
    assert conda_env.requirement_name(spec) == name


from instrument.codemods import kinds as _kinds  # noqa: E402
from instrument.codemods import languages  # noqa: E402

KNOWN = _kinds.described(languages.YAML)  # every YAML kind, as the message lists them

ERRORS = [
    pytest.param("name: x\nchannels: [defaults]\n", "not a conda environment file (no `dependencies:` list)", id="no_dependencies"),
    pytest.param("dependencies: numpy\n", "not a conda environment file (no `dependencies:` list)", id="dependencies_not_a_list"),
    pytest.param("- a\n- b\n", "not a file of any known kind", id="top_level_list"),
    pytest.param("name: x\ndependencies:\n", "`dependencies:` is empty", id="empty_dependencies"),
    pytest.param("dependencies: [\n", "cannot parse YAML:", id="broken_yaml"),
    pytest.param("dependencies:\n  - pip: debugpy\n", "line 2: `pip:` is not a list", id="pip_not_a_list"),
    pytest.param("dependencies: [python, numpy]\n", "`dependencies:` is written in [...] style", id="flow_dependencies"),
    pytest.param("dependencies:\n  - pip: [a,\n     b]\n", "line 2: a pip list over several lines", id="flow_pip_over_lines"),
    pytest.param("# >>> instrument: debugpy in this environment\ndependencies:\n  - a\n", "line 1: instrument block is never closed", id="broken_markers"),
]


@pytest.mark.parametrize(("source", "message"), ERRORS)
def test_errors_are_one_line_path_and_reason(source, message):
    outcome = run(ADD, source.encode(), "conf.yml")
    assert outcome.error.startswith(f"conf.yml: {message}")
    assert "\n" not in outcome.error


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (SEED.before.decode(), True),
        ("dependencies:\n  - numpy\n", True),
        ("name: x\n", False),
        ("on: push\njobs: {}\n", False),
        ("key: {{ template }}\n: :\n", False),
        ("", False),
    ],
)
def test_is_conda_env(source, expected):
    assert conda_env.is_conda_env(source) is expected


def test_walking_skips_yaml_that_is_not_an_environment(tmp_path, capsys):
    workflow = b"on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    broken = b"key: [unclosed\n"
    (tmp_path / "ci.yml").write_bytes(workflow)
    (tmp_path / "broken.yaml").write_bytes(broken)
    (tmp_path / "env.yml").write_bytes(SEED.before)
    assert main(["add", str(tmp_path)]) == 0
    assert (tmp_path / "env.yml").read_bytes() == SEED.after
    assert (tmp_path / "ci.yml").read_bytes() == workflow
    assert (tmp_path / "broken.yaml").read_bytes() == broken
    assert main(["strip", str(tmp_path)]) == 0
    assert (tmp_path / "env.yml").read_bytes() == SEED.before


def test_a_named_yaml_that_is_not_an_environment_is_an_error(tmp_path, capsys):
    path = tmp_path / "ci.yml"
    path.write_bytes(b"on: push\n")
    assert main(["add", str(path)]) == 123
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{path}: not a file of any known kind ({KNOWN})"
    )
    assert path.read_bytes() == b"on: push\n"


def test_add_writes_only_fenced_lines():
    result = env_kind.add(SEED.before.decode())
    blocks = markers.find_blocks(result)
    assert len(blocks) == 1
    lines = markers.split_lines(result)
    assert [line.strip() for line in lines[blocks[0].begin + 1 : blocks[0].end]] == ["- debugpy"]


@pytest.mark.parametrize(
    "source",
    [
        "dependencies:\n  - python=3.8\n  - debugpy\n",
        "dependencies:\n  - conda-forge::debugpy=1.8\n  - pip:\n      - numpy\n",
        "dependencies:\n  - pip:\n      - numpy\n      - debugpy>=1.6  # pinned\n",
    ],
    ids=["conda_package", "conda_package_from_a_channel", "pip_package_with_comment"],
)
def test_noop_when_debugpy_is_already_a_dependency(source):
    assert env_kind.add(source) == source
