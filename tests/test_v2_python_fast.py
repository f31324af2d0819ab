"""The statement-by-statement plan of a v2 submission script equals the metadata plan.

:mod:`instrument.codemods.kinds.sdk_job.fast` plans from CPython's tree and the
few statements that matter; :func:`v2_python_plan.plan_with_metadata` from a
LibCST metadata pass over the whole module. Wherever the first takes a file,
the two plans must be the same: the same blocks, notes, companions, reason.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from instrument import files
from instrument.codemods.fences import markers
from instrument.codemods.kinds.sdk_job import fast as v2_python_fast, planner as v2_python_plan
from instrument.codemods.kinds import sdk_job
from instrument.codemods.core.options import Options
from tests.fixture_cases import load_cases
from tests.test_v2_python import options_of


_SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTestsxxxxxxxxxxxxxxxxxxxx me@laptop"


def _facts(plan) -> tuple:
    return (sorted(map(repr, plan.insertions)), list(plan.notes), list(plan.companions), plan.reason,
            list(plan.warnings), (plan.expected or "").splitlines(), plan.source)


def _agree(text: str, options: Options) -> bool:
    """Does the statement way take ``text``? Its plan must equal the metadata way's."""
    module = sdk_job.KIND.parse(text)
    fast = v2_python_fast.plan_by_statement(text, module, options)
    if fast is None:
        return False
    assert _facts(fast) == _facts(v2_python_plan.plan_with_metadata(text, module, options))
    return True


@pytest.mark.parametrize("case", load_cases("sdk_job"))
def test_the_statement_way_agrees_on_fixtures(case):
    text = markers.remove_blocks(files.decode(case.before).text)
    options = Options(**options_of(case)).for_kind(300)
    deployments = "OnlineDeployment" in text  # online deployments are planned the metadata way
    taken = _agree(text, options)
    assert taken is not (bool(options.take_over) or deployments)  # taking over is planned again, the metadata way
    assert _agree(text, Options().for_kind(300)) is not deployments
    _agree(text, Options(service="vs_code", install_debugpy=True, timeout=45, ranks="0").for_kind(300))


def test_the_statement_way_agrees_on_generated_scripts():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import corpus

    inputs = corpus.kind_inputs("sdk_job", "small", 12) + corpus.kind_inputs("sdk_job", "large", 6)
    for _, data in inputs:
        text = data.decode()
        assert _agree(text, Options().for_kind(300))
        assert _agree(text, Options(steps=("train_step",), service="ssh", ssh_public_key=_SSH_KEY,
                                    install_debugpy=True).for_kind(300))


_HEAD = "from azure.ai.ml import command, Input\n"
_JOB = 'job = command(\n    code="./src",\n    command="python train.py --data ${{inputs.data}}",\n    environment="azureml:env@latest",\n)\n'
#: Layouts the statement way takes (True) or leaves to the metadata way (False); either way the plans agree.
SHAPES = [
    pytest.param(_HEAD + _JOB, True, id="multi_line_call"),
    pytest.param(_HEAD + _JOB.replace('"', "'"), True, id="single_quotes"),
    pytest.param((_HEAD + _JOB).replace("\n", "\r\n"), True, id="crlf"),
    pytest.param(_HEAD + "def build():\n\tjob = command(\n\t\tcommand='python t.py',\n\t\tenvironment=ENV,\n\t)\n\treturn job\n",
                 True, id="tabs"),
    pytest.param(_HEAD + "job = command(  # the job\n    # the entry\n    command='python t.py'  # here\n    ,\n)\n",
                 True, id="comments_inside_the_call"),
    pytest.param(_HEAD + "N = 3\njob = command(code='.', command=f'python t.py --n {N} --d ${{{{inputs.d}}}}', code='.')\n",
                 True, id="f_string"),
    pytest.param(_HEAD + "job = command(code='.', command=('python t.py '\n    '--a 1'), code='.')\n", True,
                 id="parenthesised_concatenation"),
    pytest.param("from azure.ai.ml import command as c\nline = 'python t.py'\njob = c(command=line, code='é')\n",
                 True, id="alias_and_bound_command"),
    pytest.param("import azure.ai.ml as aml\nx = 1; job = aml.command(code='.', command='python t.py')\n", True, id="two_statements_a_line"),
    pytest.param(_HEAD + "from azure.ai.ml import dsl, load_component\nprep = load_component('./prep.yml')\n\n\n"
                 "@dsl.pipeline(compute='cpu')\ndef pipe(d):\n    step = command(code='.', command='python t.py')(d=d)\n"
                 "    return {'out': step.outputs.o}\n\n\npj = pipe(Input(path='.'))\npj.settings.default_compute = 'c'\n",
                 True, id="dsl_pipeline"),
    pytest.param("from azure.ai.ml import command\nfrom azure.ai.ml.entities import Environment\n"
                 "env = Environment(image='i', conda_file={'dependencies': ['python=3.10', {'pip': ['numpy']}]})\n"
                 "job = command(code='.', command='python t.py', environment=env, services={'a': 1})\n", True, id="conda_dict"),
    pytest.param("from azure.ai.ml import command, load_component\nc = 1\njobs = {'a': command(code='.', command='python a.py', "
                 "name='a') if c else load_component('./b.yml'), 'b': command(code='.', command='python b.py')}\n",
                 True, id="conditional_expression"),
    pytest.param(_HEAD + "make = lambda a=command(code='.', command='python a.py'), /, b=command(code='.', command='python b.py'): (a, b)\n",
                 True, id="lambda_defaults_positional_only"),
    pytest.param(_HEAD + "for command_line in ['python a.py', 'python b.py']:\n    job = command(code='.', command=command_line)\n",
                 True, id="a_header_naming_but_not_calling"),
    pytest.param(_HEAD + "if True: job = command(code='.', command='python t.py')\n", False, id="one_line_suite"),
    pytest.param(_HEAD + "for job in [command(code='.', command='python t.py')]:\n    pass\n", False, id="compound_header"),
    pytest.param("from azure.ai.ml import command, dsl\n@(\n    dsl.pipeline())\ndef f():\n    pass\n"
                 "job = command(code='.', command='python t.py')\n", False, id="decorator_on_two_lines"),
]


@pytest.mark.parametrize(("source", "taken"), SHAPES)
def test_the_statement_way_agrees_on_layouts(source, taken):
    assert _agree(source, Options().for_kind(300)) is taken
    _agree(source, Options(service="vs_code", install_debugpy=True, client_ip="10.0.0.1").for_kind(300))
    _agree(source, Options(steps=("job",)).for_kind(300))


def _last_swapped(text: str, old: str, new: str) -> str:
    at = text.rindex(old)
    return text[:at] + new + text[at + len(old):]


@pytest.mark.parametrize("source", [
    _HEAD + _JOB,
    "from azure.ai.ml import command, dsl\n\n\nclass Pipelines:\n\t@dsl.pipeline()\n\tdef p(self):\n\t\treturn command(code='.', command='python a.py')\n",
], ids=["statement", "decorator"])
def test_the_statement_way_refuses_a_rewritten_statement_that_does_not_parse(source):
    from instrument.codemods.core.errors import InstrumentError
    from instrument.codemods.kinds import base
    from instrument.codemods.kinds.sdk_job.blocks import Rewritten, verify_statements

    done = base.apply(sdk_job.KIND, source, Options())
    expected = done.plan.expected
    assert isinstance(expected, Rewritten) and expected.statements  # checked statement by statement
    verify_statements(done.text, source, expected)
    indent, body, decorator, start = expected.statements[-1]
    broken = _last_swapped("\n".join(body), "(", "((")
    bad = Rewritten(_last_swapped(expected, "\n".join(body), broken), [(indent, tuple(broken.split("\n")), decorator, start)])
    with pytest.raises(InstrumentError, match="does not parse"):
        verify_statements(_last_swapped(done.text, "\n".join(body), broken), source, bad)


def test_a_line_joined_to_a_statement_is_left_to_the_metadata_way():
    source = _HEAD + "\\\n" + _JOB  # a line of a backslash alone: LibCST starts the statement there
    assert v2_python_fast.plan_by_statement(source, sdk_job.KIND.parse(source), Options().for_kind(300)) is None


def test_a_block_that_only_adds_lines_is_proven_by_a_parse_of_the_whole_result():
    from instrument.codemods.fences import markers
    from instrument.codemods.core.errors import InstrumentError
    from instrument.codemods.kinds import base
    from instrument.codemods.kinds.sdk_job.planner import LABEL_IMPORT, verify

    source = _HEAD + "settings = dict(\n    retries=1,\n)\n" + _JOB
    done = base.apply(sdk_job.KIND, source, Options(service="vs_code"))
    added = [insertion for insertion in done.plan.insertions if not insertion.replaces]
    assert added and done.plan.expected.statements  # the service's import, and the rewritten job
    verify(done.text, source, done.plan)
    # The same import put inside another statement's call (a misplaced block): the rewritten
    # statements alone still parse, the result does not.
    inside = next(number for number, line in enumerate(markers.split_lines(source)) if line.rstrip().endswith("("))
    misplaced = markers.Insertion(inside + 1, "", LABEL_IMPORT, added[0].body)
    moved = [misplaced if insertion is added[0] else insertion for insertion in done.plan.insertions]
    result = markers.insert_blocks(source, sorted(moved, key=lambda i: (i.before, i.replaces)), "\n")
    with pytest.raises(InstrumentError, match="does not parse"):
        verify(result, source, dataclasses.replace(done.plan, insertions=moved))
