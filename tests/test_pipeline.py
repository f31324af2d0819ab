"""The pipeline-definition codemod, table-driven from fixtures/pipeline/.

The last part runs the fixtures' step and environment definitions against the
real Azure ML SDK (offline: only Workspace, ComputeTarget, Pipeline and
Experiment, which need a workspace, get stand-ins).
"""

from __future__ import annotations

import shutil

import ast
import json

import pytest

from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.fences import markers
from instrument.codemods.kinds.pipeline import steps as pipeline
from instrument.codemods.python import parsing
from instrument.codemods.kinds import pipeline as pipeline_kind
from instrument.codemods.core.options import Options
from instrument import files
from instrument.cli import main
from instrument.process import ADD, Job, add_options
from tests.fixture_cases import load_cases, transformed

CASES = load_cases("pipeline", take_over=False)
SEED = next(p.values[0] for p in CASES if p.values[0].name == "seed_single_step")


def job_for(case, action: str = ADD, kind="pipeline") -> Job:
    options = dict(case.meta.get("options", {}))
    if "steps" in options:
        options["steps"] = tuple(options["steps"])
    return Job(action, kind=kind, options=add_options(**(options if action == ADD else {})))


def run(job: Job, data: bytes, name: str = "pipeline.py") -> bytes:
    return transformed(job, data, name)


def test_there_are_enough_cases():
    assert len(CASES) >= 15






@pytest.mark.parametrize("case", CASES)
def test_after_file_parses_and_has_blocks(case):
    ast.parse(case.after)  # bytes: the coding cookie is honoured, as when Python runs it
    text = files.decode(case.after).text
    assert markers.find_blocks(text)


# -- the debug argument list ---------------------------------------------------

@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (Options(), ["--remote_debug", "--remote_debug_connection_timeout", 300, "--remote_debug_port", 5678]),
        (
            Options(port=6000, timeout=0, client_ip="10.3.0.5"),
            ["--remote_debug", "--remote_debug_connection_timeout", 0,
             "--remote_debug_client_ip", "10.3.0.5", "--remote_debug_port", 6000],
        ),
        (
            Options(client_ip="vscode.example.org"),
            ["--remote_debug", "--remote_debug_connection_timeout", 300,
             "--remote_debug_client_ip", "vscode.example.org", "--remote_debug_port", 5678],
        ),
    ],
)
def test_debug_arguments_are_literals_with_int_port_and_timeout(options, expected):
    for quote in ("'", '"'):
        text = pipeline.debug_arguments(options, quote)
        assert ast.literal_eval(text) == expected
        assert f"{quote}--remote_debug{quote}" in text


@pytest.mark.parametrize("client_ip", ["10.0.0.1; rm -rf /", "'); import os #", "", "a b"])
def test_client_ip_is_validated(client_ip):
    with pytest.raises(InstrumentError):
        Options(client_ip=client_ip)


@pytest.mark.parametrize("steps", ["train", ("train", ""), (1,)])
def test_step_names_are_validated(steps):
    with pytest.raises(InstrumentError):
        Options(steps=steps)


# -- unusual layouts: still whole-line blocks that run and strip back ----------

HEADER = "from azureml.pipeline.steps import PythonScriptStep as S\n"
LAYOUTS = [
    pytest.param("if True: s = S('a.py')\n", id="one_line_suite"),
    pytest.param("for s in [S('a.py', arguments=['x'])]:\n    t = S('b.py')\n", id="step_in_a_for_header"),
    pytest.param("s = S('a.py', arguments = args, allow_reuse = True)\n", id="spaces_around_equals"),
    pytest.param("s = S(\n    'a.py',\n    arguments=[\'\'\'x\ny\'\'\'],\n)\n", id="multi_line_string"),
    pytest.param("s = \\\n    S('a.py')\nt = 1\n", id="backslash_continuation"),
    pytest.param("make = lambda n: S(n, compute_target='c')\n", id="lambda"),
    pytest.param("def f(s=S('a.py')):\n    return s\n", id="default_argument"),
    pytest.param("def f():\n    s = S(\n'a.py',\n    )\n    return s\n", id="dedented_continuation_line"),
    pytest.param("def f():\n    s = S(\n        'a.py',\n    \n    )\n", id="whitespace_only_line_in_call"),
    pytest.param("s = S('a.py', arguments=a if b else c)\n", id="conditional_arguments"),
    pytest.param("a = 1; s = S('a.py'); b = 2\n", id="semicolons"),
    pytest.param(
        "from azureml.core.conda_dependencies import CondaDependencies as C\n"
        "from azureml.core.runconfig import RunConfiguration as R\n"
        "s = S('a.py', runconfig=R(conda_dependencies=C.create(\n    pip_packages=['x'])))\n",
        id="environment_inside_the_step",
    ),
]


@pytest.mark.parametrize("body", LAYOUTS)
def test_unusual_layouts_round_trip(body):
    source = HEADER + body
    result = pipeline_kind.add(source)
    compile(result, "pipeline.py", "exec")
    assert markers.remove_blocks(result) == source
    assert pipeline_kind.add(result) == result
    active = [line for line in result.splitlines() if not line.lstrip().startswith("#")]
    assert sum(line.count("allow_reuse=False") + line.count("allow_reuse = False") for line in active) == body.count("S(")
    if "(a if b else c) + [" not in result:
        assert "if b else c" not in body


# -- sources that come back unchanged -----------------------------------------

NOOP = [
    pytest.param("from azureml.core import Workspace\nws = Workspace.from_config()\n", Options(), id="no_steps"),
    pytest.param(
        "from azureml.pipeline.steps import PythonScriptStep\ns = PythonScriptStep(script_name='a.py', name='a')\n",
        Options(steps=("b",)),
        id="no_step_of_that_name",
    ),
    pytest.param(
        "from azureml.core.conda_dependencies import CondaDependencies\n"
        "d = CondaDependencies.create(pip_packages=['debugpy>=1.6'])\n",
        Options(),
        id="debugpy_already_in_create",
    ),
    pytest.param(
        "from azureml.core.conda_dependencies import CondaDependencies\n"
        "d = CondaDependencies()\nd.add_pip_package('debugpy')\n",
        Options(),
        id="debugpy_already_added",
    ),
    pytest.param(
        "from azureml.pipeline.steps import PythonScriptStep\n"
        "s = PythonScriptStep(script_name='a.py', name=f'{x}')\n",
        Options(steps=("a",)),
        id="name_not_a_literal",
    ),
]


@pytest.mark.parametrize(("source", "options"), NOOP)
def test_noop(source, options):
    assert pipeline_kind.add(source, options) == source


def test_step_filter_leaves_other_steps_alone():
    source = (
        "from azureml.pipeline.steps import PythonScriptStep\n"
        "a = PythonScriptStep(script_name='a.py', name='a')\n"
        "b = PythonScriptStep(script_name='b.py', name='b')\n"
    )
    result = pipeline_kind.add(source, Options(steps=("b",)))
    lines = result.splitlines()
    assert lines[1] == source.splitlines()[1]
    assert "allow_reuse=False" in lines[4] and lines[3].startswith("#:b = ")
    assert markers.remove_blocks(result) == source


# -- errors --------------------------------------------------------------------

ERRORS = [
    pytest.param(
        "from azureml.pipeline.steps import PythonScriptStep\n"
        "s = PythonScriptStep(script_name='a.py', arguments=['--remote_debug', '--remote_debug_port', 5678])\n",
        "line 2: the step already passes --remote_debug flags",
        id="hand_written_flags",
    ),
    pytest.param(
        "from azureml.pipeline.steps import PythonScriptStep\ns = PythonScriptStep(script_name='a.py', **common())\n",
        "line 2: cannot tell whether **common() passes arguments",
        id="double_star_kwargs_from_a_call",
    ),
    pytest.param(
        "from azureml.pipeline.steps import PythonScriptStep\ns = PythonScriptStep(*positional)\n",
        "line 2: cannot tell whether *positional passes arguments",
        id="star_args",
    ),
    pytest.param(
        "from azureml.core.conda_dependencies import CondaDependencies\n"
        "from azureml.pipeline.steps import PythonScriptStep\n"
        "d = CondaDependencies(); s = PythonScriptStep('a.py')\n",
        "line 3: put `d = CondaDependencies()` on a line of its own",
        id="constructor_shares_a_line",
    ),
    pytest.param("from azureml.pipeline.steps import PythonScriptStep\ns = PythonScriptStep(\n", "cannot parse", id="syntax_error"),
    # A comment that reads as a fence would end (or nest) the block replacing its statement.
    pytest.param(
        "from azureml.pipeline.steps import PythonScriptStep\n\ns = PythonScriptStep(\n    'a.py',\n"
        "    # <<< instrument\n)\n",
        "line 3: a comment in the lines add rewrites reads as an instrument fence ('# <<< instrument')",
        id="end_fence_lookalike_in_a_step",
    ),
    pytest.param(
        "from azureml.pipeline.steps import PythonScriptStep\ns = PythonScriptStep(\r\n"
        "    # >>> instrument: start remote debugging\r\n    'a.py')\n",
        "line 3: instrument block is never closed",
        id="begin_fence_lookalike_in_a_step",
    ),
    # Python refuses a byte order mark after the one the decoding takes; LibCST would drop it.
    pytest.param("\ufefffrom azureml.pipeline.steps import PythonScriptStep\ns = PythonScriptStep('a.py')\n",
                 "cannot parse: invalid non-printable character U+FEFF (line 1, column 1)", id="second_byte_order_mark"),
]


@pytest.mark.parametrize(("source", "message"), ERRORS)
def test_errors_are_one_line_reasons(source, message):
    with pytest.raises(InstrumentError) as info:
        pipeline_kind.add(source)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


# -- the command line ----------------------------------------------------------

def test_cli_options_reach_the_steps(tmp_path, capsys):
    shutil.copytree(SEED.folder, tmp_path, dirs_exist_ok=True)  # the step's script beside it
    path = tmp_path / "pipeline.py"
    path.write_bytes(SEED.before)
    script = tmp_path / "code" / "step1" / "train.py"
    original_script = script.read_bytes()
    assert main(["add", "-q", "--client-ip", "10.3.0.5", "--step", "train_step", "--port", "5679", str(path)]) == 0
    text = path.read_text()
    assert "'--remote_debug_client_ip', '10.3.0.5', '--remote_debug_port', 5679]" in text.replace('"', "'")
    assert b'_instrument.remote_debug' in script.read_bytes()  # the step's entry script, brought along
    assert main(["strip", "-q", str(path)]) == 0
    assert path.read_bytes() == SEED.before and script.read_bytes() == original_script


def test_a_step_whose_script_is_missing_gets_no_debug_arguments(tmp_path, capsys):
    path = tmp_path / "pipeline.py"
    path.write_bytes(SEED.before)
    assert main(["add", str(path)]) == 0
    err = capsys.readouterr().err
    assert "its script code/step1/train.py: there is no such file" in err and "no debug arguments for this step" in err
    assert path.read_bytes() == SEED.before


@pytest.mark.parametrize("bad", ["not an ip!", "10.0.0.1'", "-x"])
def test_cli_refuses_a_bad_client_ip_and_leaves_the_file(tmp_path, capsys, bad):
    path = tmp_path / "pipeline.py"
    path.write_bytes(SEED.before)
    assert main(["add", "--client-ip", bad, str(path)]) == 2
    assert path.read_bytes() == SEED.before
    assert "client-ip" in capsys.readouterr().err


def test_cli_error_is_one_line_and_the_file_is_untouched(tmp_path, capsys):
    path = tmp_path / "pipeline.py"
    source = ERRORS[1].values[0].encode()
    path.write_bytes(source)
    assert main(["add", "--kind", "pipeline", str(path)]) == 123
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{path}: line 2: cannot tell whether **common() passes arguments; pass arguments= explicitly"
    assert path.read_bytes() == source


# -- against the real SDK ------------------------------------------------------

class StandIn:
    """Whatever needs a workspace: accepts any call, attribute or item."""

    built: list = []

    def __init__(self, *args, **kwargs):
        StandIn.built.append(kwargs)

    @classmethod
    def from_config(cls, *args, **kwargs):
        return cls()

    def __getattr__(self, name):
        return StandIn()

    def __getitem__(self, key):
        return StandIn()

    def __call__(self, *args, **kwargs):
        return StandIn()


def run_definition(code: bytes, monkeypatch) -> tuple[list, list]:
    """(steps given to Pipeline(...), CondaDependencies objects) after running ``code``."""
    import azureml.core
    import azureml.core.compute
    import azureml.pipeline.core
    from azureml.core.conda_dependencies import CondaDependencies
    from azureml.core.runconfig import RunConfiguration

    for module, name in [
        (azureml.core, "Workspace"),
        (azureml.core, "Experiment"),
        (azureml.core.compute, "ComputeTarget"),
        (azureml.pipeline.core, "Pipeline"),
    ]:
        monkeypatch.setattr(module, name, StandIn)
    StandIn.built = []
    namespace = {"__name__": "pipeline_definition"}
    exec(compile(code, "pipeline_definition.py", "exec"), namespace)
    steps = [step for built in StandIn.built for step in built.get("steps", [])]
    environments = []
    for value in list(namespace.values()) + [getattr(step, "_runconfig", None) for step in steps]:
        if isinstance(value, RunConfiguration):
            value = value.environment.python.conda_dependencies
        if isinstance(value, CondaDependencies) and all(value is not e for e in environments):
            environments.append(value)
    return steps, environments


@pytest.mark.azureml
@pytest.mark.parametrize("case", CASES)
def test_instrumented_steps_and_environments_on_the_real_sdk(case, monkeypatch, tmp_path):
    from azureml.pipeline.steps import PythonScriptStep

    monkeypatch.chdir(tmp_path)
    options = job_for(case).options
    debug = ast.literal_eval(pipeline.debug_arguments(options.for_kind(300)))
    before_steps, before_envs = run_definition(case.before, monkeypatch)
    after_steps, after_envs = run_definition(case.after, monkeypatch)
    assert after_steps and len(after_steps) == len(before_steps)
    for before, after in zip(before_steps, after_steps):
        assert isinstance(after, PythonScriptStep)
        if options.steps and before.name not in options.steps:
            assert (after._arguments, after._allow_reuse) == (before._arguments, before._allow_reuse)
            continue
        assert after._arguments == before._arguments + debug
        assert after._allow_reuse is False
        assert after._script_name == before._script_name
    assert len(after_envs) == len(before_envs)
    for before, after in zip(before_envs, after_envs):
        pip_before, pip_after = list(before.pip_packages), list(after.pip_packages)
        if any(p.lower().startswith("debugpy") for p in pip_before):
            assert pip_after == pip_before
        else:
            assert sorted(pip_after) == sorted(pip_before + ["debugpy"])
        assert list(after.conda_packages) == list(before.conda_packages)


@pytest.mark.azureml  # it builds the real PythonScriptStep
def test_the_seed_step_shows_the_documents_arguments(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    client_ip = next(p.values[0] for p in CASES if p.values[0].name == "client_ip")
    (step,), (environment,) = run_definition(client_ip.after, monkeypatch)
    assert step._arguments == [
        "--input_data", "data/",
        "--remote_debug", "--remote_debug_connection_timeout", 120,
        "--remote_debug_client_ip", "10.3.0.5", "--remote_debug_port", 5679,
    ]
    assert step._allow_reuse is False
    assert list(environment.pip_packages)[:2] == ["debugpy", "azureml-sdk==1.0.83"]
    assert json.loads(json.dumps(step._arguments)) == step._arguments  # ints, not strings


# -- the statement-by-statement plan agrees with the metadata one --------------

@pytest.mark.parametrize("case", load_cases("pipeline", take_over=False))
def test_plan_by_statement_agrees_with_the_metadata_plan(case):
    from instrument.codemods.kinds.pipeline import statements as pipeline_statements
    from instrument.codemods.kinds import pipeline as pipeline_kind
    from instrument.codemods.core.options import Options

    text = files.decode(case.before).text
    module = pipeline_kind.KIND.parse(text)
    options = Options(steps=tuple(case.meta.get("steps", ()))).for_kind(300)
    fast = pipeline_statements.plan_by_statement(text, module, options)
    slow = pipeline.plan_with_metadata(text, module, options)
    if fast is None:  # the shapes it leaves to the metadata way (see its docstring)
        return
    assert sorted(map(repr, fast.insertions)) == sorted(map(repr, slow.insertions))
    assert fast.reason == slow.reason


def test_a_step_in_a_compound_statements_header_is_left_to_the_metadata_plan():
    from instrument.codemods.kinds.pipeline import statements as pipeline_statements
    from instrument.codemods.core.options import Options
    import libcst

    source = "from azureml.pipeline.steps import PythonScriptStep\nfor s in [PythonScriptStep('a.py')]:\n    s.run()\n"
    assert pipeline_statements.plan_by_statement(source, libcst.parse_module(source), Options().for_kind(300)) is None
    assert "allow_reuse=False" in pipeline_kind.add(source)


# -- the text-edit plan agrees with the metadata one -----------------------------

_STEP_IMPORT = "from azureml.pipeline.steps import PythonScriptStep\n"
_CONDA_IMPORT = "from azureml.core.conda_dependencies import CondaDependencies\n"
#: Layouts the text way takes (True) or leaves to LibCST (False); either way the plans must agree.
TEXT_SHAPES = [
    pytest.param(_STEP_IMPORT + "s = PythonScriptStep(\n    script_name='t.py',\n    arguments=['--a', 1],\n)\n",
                 True, id="one_per_line"),
    pytest.param(_STEP_IMPORT + 's = PythonScriptStep(\n    script_name="t.py",  # the entry\n\n    # end\n)\n',
                 True, id="comment_and_blank_lines_before_the_paren"),
    pytest.param(_STEP_IMPORT + "def f():\n\ts = PythonScriptStep(\n\t\tscript_name = 't.py',\n\t\tallow_reuse = True,\n\t)\n",
                 True, id="tabs_spaced_equals_allow_reuse_true"),
    pytest.param(_STEP_IMPORT + "s = PythonScriptStep(script_name='t.py', arguments=['é'], allow_reuse=False)\n",
                 True, id="one_line_non_ascii"),
    pytest.param(_STEP_IMPORT + "p = Pipeline(ws, steps=[PythonScriptStep(\n    name='x', script_name='t.py',\n)])\n",
                 True, id="step_inside_another_call"),
    pytest.param(_CONDA_IMPORT + "d = CondaDependencies.create(pip_packages=[ 'pandas'], conda_packages=[])\n",
                 True, id="create_one_line_list"),
    pytest.param(_CONDA_IMPORT + 'd = CondaDependencies.create(pip_packages=["a"], python_version="3.8")\n',
                 True, id="create_double_quotes"),
    pytest.param(_STEP_IMPORT + "s = PythonScriptStep(script_name='t.py')\n", False, id="one_line_without_arguments"),
    pytest.param(_STEP_IMPORT + "s = PythonScriptStep(script_name=f'{x}.py',\n    arguments=[],\n)\n",
                 False, id="f_string"),
    pytest.param(_STEP_IMPORT + "s = PythonScriptStep(script_name='t' '.py',\n    arguments=[],\n)\n",
                 False, id="implicit_concatenation"),
    pytest.param(_STEP_IMPORT + "s = PythonScriptStep(\n    script_name='t.py',\n    arguments=(['--a']),\n)\n",
                 False, id="parenthesised_arguments"),
    pytest.param(_STEP_IMPORT + "x = 1; s = PythonScriptStep(\n    script_name='t.py',\n)\n", False, id="two_statements"),
    pytest.param(_STEP_IMPORT + "if x: s = PythonScriptStep(\n    script_name='t.py',\n)\n", False, id="one_line_suite"),
    pytest.param(_CONDA_IMPORT + "d = CondaDependencies.create(pip_packages=[\n    'a',\n])\n", False, id="create_list_per_line"),
    pytest.param(_CONDA_IMPORT + "d = CondaDependencies()\n", False, id="constructed_environment"),
]


def _agree(text: str, options) -> bool:
    """Does the text way take ``text``? Its plan must equal the metadata way's."""
    from instrument.codemods.kinds.pipeline import text as pipeline_text
    from instrument.codemods.kinds import pipeline as pipeline_kind

    module = pipeline_kind.KIND.parse(text)
    fast = pipeline_text.plan_by_text(text, module, options)
    if fast is None:
        return False
    slow = pipeline.plan_with_metadata(text, module, options)
    assert sorted(map(repr, fast.insertions)) == sorted(map(repr, slow.insertions))
    assert (fast.reason, list(fast.warnings), (fast.expected or "").splitlines()) == \
        (slow.reason, list(slow.warnings), (slow.expected or "").splitlines())
    return True


@pytest.mark.parametrize(("source", "taken"), TEXT_SHAPES)
def test_plan_by_text_agrees_with_the_metadata_plan_on_shapes(source, taken):
    from instrument.codemods.core.options import Options

    assert _agree(source, Options().for_kind(300)) is taken
    _agree(source, Options(timeout=45, steps=("x",), client_ip="10.0.0.1", ranks="0"))  # other steps: taken or not


@pytest.mark.parametrize("case", load_cases("pipeline"))
def test_plan_by_text_agrees_with_the_metadata_plan_on_fixtures(case):
    options = job_for(case).options.for_kind(300)
    text = markers.remove_blocks(files.decode(case.before).text)
    try:
        pipeline.plan_with_metadata(text, parsing.parse_clean(text)[1], options)
    except InstrumentError:
        return  # refused files: the text way must leave them to the others
    _agree(text, options)


def test_plan_by_text_agrees_on_generated_pipelines():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import corpus

    inputs = corpus.kind_inputs("pipeline", "small", 10) + corpus.kind_inputs("pipeline", "large", 5)
    assert all(_agree(data.decode(), Options().for_kind(300)) for _, data in inputs)
