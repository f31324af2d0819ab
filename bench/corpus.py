"""Generated inputs for the benchmarks: realistic Python modules of varied shapes.

Everything is built from a seeded ``random.Random`` so two runs measure the
same text. The shapes follow what an Azure ML repository holds: library
modules (classes, dataclasses, typed functions, docstrings), training scripts
(a parser in ``main()``, at module level, in a helper; plain scripts; an
existing run context), scoring scripts, pipeline definitions and tests.
"""

from __future__ import annotations

import random
from pathlib import Path

_WORDS = (
    "data batch model score metric loss label feature sample epoch weight layer "
    "table frame row column record token vector matrix window split fold step "
    "output input config path name value count index offset limit result cache"
).split()


def _name(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(_WORDS) for _ in range(parts))


def _class_name(rng: random.Random) -> str:
    return "".join(rng.choice(_WORDS).title() for _ in range(2))


def _statements(rng: random.Random, indent: str, count: int) -> list[str]:
    """A function body: assignments, loops, comprehensions, branches, f-strings."""
    lines: list[str] = []
    for _ in range(count):
        a, b, c = _name(rng), _name(rng), _name(rng, 1)
        shape = rng.randrange(9)
        if shape == 0:
            lines.append(f"{indent}{a} = [{c} * {rng.randint(2, 9)} for {c} in range({rng.randint(3, 99)}) if {c} % 2]")
        elif shape == 1:
            lines += [
                f"{indent}for {c}, {b} in enumerate({a}):",
                f"{indent}    if {b} is None:",
                f"{indent}        continue",
                f"{indent}    total += {b} * {rng.random():.3f}",
            ]
        elif shape == 2:
            lines += [
                f"{indent}try:",
                f"{indent}    {a} = json.loads({b})",
                f"{indent}except (ValueError, KeyError) as exc:",
                f'{indent}    logger.warning("cannot read %s: %s", {b!r}, exc)',
                f"{indent}    {a} = {{}}",
            ]
        elif shape == 3:
            lines.append(f'{indent}logger.info(f"{a}={{{a}!r}} {b}={{len({b}):d}}")')
        elif shape == 4:
            lines += [
                f"{indent}if {a} > {rng.randint(0, 100)} and not {b}:",
                f"{indent}    {c} = {{k: v for k, v in {a}.items() if v}}",
                f"{indent}elif {b}:",
                f"{indent}    {c} = dict({b}, {_name(rng, 1)}={rng.randint(0, 9)})",
                f"{indent}else:",
                f"{indent}    {c} = None",
            ]
        elif shape == 5:
            lines += [
                f"{indent}with open(os.path.join({a}, {c!r} + '.json'), encoding='utf-8') as handle:",
                f"{indent}    {b} = json.load(handle)",
            ]
        elif shape == 6:
            lines.append(f"{indent}{a} = sorted({b}, key=lambda item: (item[{rng.randint(0, 3)}], -item[1]), reverse=True)")
        elif shape == 7:
            lines.append(f"{indent}{a}: dict[str, float] = {{{c!r}: {rng.random():.4f}, 'total': total / max(1, len({b}))}}")
        else:
            lines.append(f"{indent}# {' '.join(rng.choice(_WORDS) for _ in range(rng.randint(4, 10)))}")
            lines.append(f"{indent}{a} = math.sqrt(abs({b})) + {rng.randint(1, 1000)}")
    return lines


def _function(rng: random.Random, indent: str = "", method: bool = False) -> list[str]:
    name = _name(rng)
    params = ", ".join(f"{_name(rng, 1)}_{i}: int = {i}" for i in range(rng.randint(0, 3)))
    self = "self, " if method else ""
    lines = [] if rng.random() < 0.7 else [f"{indent}@functools.lru_cache(maxsize=None)"] if not method else []
    lines += [
        f"{indent}def {name}({self}{params}) -> Optional[dict]:",
        f'{indent}    """{" ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 14))).capitalize()}."""',
        f"{indent}    total = 0.0",
    ]
    lines += _statements(rng, indent + "    ", rng.randint(3, 10))
    lines.append(f"{indent}    return {{'total': total}}")
    return lines + [""]


def _class(rng: random.Random) -> list[str]:
    name = _class_name(rng)
    lines = ["@dataclasses.dataclass", f"class {name}Config:"]
    for _ in range(rng.randint(2, 6)):
        lines.append(f"    {_name(rng)}: int = {rng.randint(0, 512)}")
    lines += ["", "", f"class {name}:", f'    """{name} over {_name(rng)} records."""', ""]
    lines += [f"    def __init__(self, config: {name}Config) -> None:", "        self.config = config", ""]
    for _ in range(rng.randint(1, 4)):
        lines += _function(rng, "    ", method=True)
    return lines + [""]


_IMPORTS = [
    "import dataclasses",
    "import functools",
    "import json",
    "import logging",
    "import math",
    "import os",
    "from typing import Optional",
    "",
    "logger = logging.getLogger(__name__)",
    "",
]


def library_module(rng: random.Random, blocks: int) -> str:
    lines = [f'"""{_class_name(rng)} helpers."""', "", *_IMPORTS]
    for _ in range(blocks):
        lines += _class(rng) if rng.random() < 0.4 else _function(rng)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


TRAIN_SHAPES = ("main_parser", "module_parser", "helper_parser", "plain", "run_context")


def training_script(rng: random.Random, shape: str, blocks: int) -> str:
    """An entry script; ``shape`` says how it reads its command line."""
    head = ['"""Train a model on Azure ML compute."""', "", "import argparse", *_IMPORTS]
    if shape == "run_context":
        head.insert(3, "from azureml.core import Run")
    body: list[str] = []
    for _ in range(blocks):
        body += _function(rng) + [""]
    flags = [f'    parser.add_argument("--{_name(rng)}", type=int, default={rng.randint(1, 99)})' for _ in range(rng.randint(2, 6))]
    loop = ["    for epoch in range(3):", '        logger.info("epoch %d", epoch)']
    if shape == "main_parser":
        tail = ["def main():", "    parser = argparse.ArgumentParser()", *flags, "    args = parser.parse_args()", *loop,
                "", "", 'if __name__ == "__main__":', "    main()"]
    elif shape == "run_context":
        tail = ["run = Run.get_context()", "", "", "def main():", "    parser = argparse.ArgumentParser()", *flags,
                "    args = parser.parse_args()", '    run.log("started", 1)', *loop, "", "", 'if __name__ == "__main__":', "    main()"]
    elif shape == "module_parser":
        tail = ["parser = argparse.ArgumentParser()", *(f[4:] for f in flags), "args = parser.parse_args()",
                *(line[4:] for line in loop)]
    elif shape == "helper_parser":
        tail = ["def get_args():", "    parser = argparse.ArgumentParser(description='train')", *flags,
                "    return parser.parse_args()", "", "", "def main():", "    args = get_args()", *loop, "", "",
                'if __name__ == "__main__":', "    main()"]
    else:
        tail = ['logger.info("training with %s", os.environ.get("DATA", "data"))', *(line[4:] for line in loop)]
    return "\n".join(head + body + tail) + "\n"


def scoring_script(rng: random.Random) -> str:
    lines = ['"""Score requests for a deployed model."""', "", *_IMPORTS, "model = None", "", "",
             "def init():", "    global model", "    model = {'weights': [1, 2, 3]}", "", "",
             "def run(raw_data):", "    data = json.loads(raw_data)['data']",
             "    return [sum(row) * model['weights'][0] for row in data]", ""]
    return "\n".join(lines + _function(rng))


def pipeline_script(rng: random.Random) -> str:
    steps = []
    for index in range(rng.randint(1, 4)):
        steps += [f"step{index} = PythonScriptStep(", f'    name="step{index}",', f'    script_name="train{index}.py",',
                  '    arguments=["--data", data],', "    compute_target=cluster,", f"    source_directory='code/step{index}',",
                  ")", ""]
    lines = ["from azureml.core import Workspace", "from azureml.pipeline.core import Pipeline",
             "from azureml.pipeline.steps import PythonScriptStep", "", "ws = Workspace.from_config()",
             "cluster = ws.compute_targets['cpu']", "data = 'input'", "", *steps,
             f"pipeline = Pipeline(ws, steps=[{', '.join(f'step{i}' for i in range(len(steps) // 8))}])",
             "pipeline.submit('experiment')"]
    return "\n".join(lines) + "\n"


def hand_written_debug(rng: random.Random) -> str:
    """A script someone debugged by hand and forgot to clean up."""
    alias = rng.choice(["import debugpy", "import debugpy as dbg", "from debugpy import listen, wait_for_client"])
    call = {"import debugpy": "debugpy.listen(5678)\ndebugpy.wait_for_client()",
            "import debugpy as dbg": "dbg.listen(('0.0.0.0', 5678))",
            "from debugpy import listen, wait_for_client": "listen(5678)\nwait_for_client()"}[alias]
    return library_module(rng, 3).replace("import os\n", f"import os\n{alias}\n", 1) + call + "\n"


def test_module(rng: random.Random) -> str:
    lines = ["import pytest", "", *_IMPORTS]
    for index in range(rng.randint(3, 8)):
        lines += [f"@pytest.mark.parametrize('value', [{index}, {index + 1}])", f"def test_{_name(rng)}(value):",
                  *_statements(rng, "    ", rng.randint(2, 5)), "    assert value >= 0", "", ""]
    return "\n".join(lines).rstrip() + "\n"


def large_pipeline_script(rng: random.Random) -> str:
    """A pipeline definition that also holds helpers and an environment, 150 to 400 lines."""
    head = pipeline_script(rng).replace(
        "from azureml.core import Workspace\n",
        "from azureml.core import Workspace\nfrom azureml.core.conda_dependencies import CondaDependencies\n"
        "from azureml.core.runconfig import RunConfiguration\n" + "\n".join(_IMPORTS) + "\n",
        1,
    )
    body: list[str] = []
    for _ in range(rng.randint(4, 12)):
        body += _function(rng) + [""]
    env = ["run_config = RunConfiguration()",
           "run_config.environment.python.conda_dependencies = CondaDependencies.create(",
           "    conda_packages=['scikit-learn'], pip_packages=['azureml-sdk', 'pandas'])", ""]
    return head + "\n".join(body + env) + "\n"


def large_scoring_script(rng: random.Random) -> str:
    return scoring_script(rng) + "\n" + "\n".join(line for _ in range(rng.randint(4, 12)) for line in _function(rng) + [""])


_SDK_ENVIRONMENTS = (
    '"AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest"',
    '"azureml://registries/azureml/environments/sklearn-1.5/labels/latest"',
    'Environment(image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04", conda_file="./env/conda.yml")',
)


def _sdk_job(rng: random.Random, indent: str, target: str, quote: str) -> list[str]:
    """One ``command(...)`` job as the azureml-examples notebooks write it."""
    script, data, rate = f"{_name(rng, 1)}.py", _name(rng), _name(rng)
    q = quote
    return [
        f"{indent}{target} = command(",
        f"{indent}    code={q}./src{q},  # local path where the code is stored",
        f"{indent}    command={q}python {script} --{data} ${{{{inputs.{data}}}}} --{rate} ${{{{inputs.{rate}}}}}{q},",
        f"{indent}    inputs={{",
        f"{indent}        {q}{data}{q}: Input(type={q}uri_file{q}, path={q}https://azuremlexamples.blob.core.windows.net/datasets/iris.csv{q}),",
        f"{indent}        {q}{rate}{q}: {rng.random():.2f},",
        f"{indent}    }},",
        f"{indent}    environment={rng.choice(_SDK_ENVIRONMENTS).replace(chr(34), q)},",
        f"{indent}    compute={q}cpu-cluster{q},",
        f"{indent}    display_name={q}{_name(rng).replace('_', '-')}{q},",
        f"{indent})",
    ]


def sdk_job_script(rng: random.Random) -> str:
    """A submission script of about 30 lines: one command job, submitted."""
    quote = rng.choice(["'", '"'])
    lines = ["# Train a model on Azure ML: submits one command job.",
             "from azure.ai.ml import MLClient, Input, command",
             "from azure.ai.ml.entities import Environment",
             "from azure.identity import DefaultAzureCredential", "",
             "credential = DefaultAzureCredential()",
             "ml_client = MLClient.from_config(credential=credential)", "",
             *_sdk_job(rng, "", "job", quote), "",
             "returned_job = ml_client.jobs.create_or_update(job)",
             "ml_client.jobs.stream(returned_job.name)",
             "print(returned_job.studio_url)"]
    return "\n".join(lines) + "\n"


def large_sdk_job_script(rng: random.Random) -> str:
    """A submission script of 300 lines and more: helpers, command jobs, a ``@dsl.pipeline`` of loaded
    components and command nodes, the submission."""
    quote = rng.choice(["'", '"'])
    head = ["\"\"\"Build and submit the training pipeline.\"\"\"", "", *_IMPORTS,
            "from azure.ai.ml import Input, MLClient, Output, command, dsl, load_component",
            "from azure.ai.ml.entities import Environment",
            "from azure.identity import DefaultAzureCredential", ""]
    body: list[str] = []
    for _ in range(rng.randint(10, 18)):
        body += _function(rng) + [""]
    jobs = []
    for index in range(rng.randint(1, 3)):
        jobs += [*_sdk_job(rng, "", f"job_{index}", quote), ""]
    components = [f"prep = load_component(source={quote}./components/prep.yml{quote})",
                  f"{_name(rng)} = {quote}{_name(rng)}{quote}", ""]
    pipeline = ["@dsl.pipeline(compute='cpu-cluster', description='train and score')".replace("'", quote),
                "def train_pipeline(raw_data):", "    prepared = prep(raw_data=raw_data)",
                *_sdk_job(rng, "    ", "train_step", quote),
                "    trained = train_step(data=prepared.outputs.prep_data)",
                "    return {'model': trained.outputs.model}".replace("'", quote), "", "",
                "def main():",
                "    ml_client = MLClient.from_config(credential=DefaultAzureCredential())",
                f"    pipeline_job = train_pipeline(raw_data=Input(type={quote}uri_folder{quote}, path={quote}./data{quote}))",
                "    ml_client.jobs.create_or_update(pipeline_job, experiment_name='pipelines')".replace("'", quote),
                *[f"    ml_client.jobs.create_or_update(job_{i})" for i in range(len(jobs) // 12)], "", "",
                "if __name__ == '__main__':".replace("'", quote), "    main()"]
    return "\n".join(head + body + jobs + components + pipeline) + "\n"


def conda_env(rng: random.Random, packages: int) -> str:
    """A conda environment file with a pip list, ``packages`` entries in each list."""
    lines = [f"# environment for {_name(rng)}", f"name: {_name(rng)}", "channels:", "  - conda-forge", "dependencies:",
             "  - python=3.10"]
    lines += [f"  - {_name(rng, 1)}{i}={rng.randint(0, 9)}.{rng.randint(0, 20)}  # {_name(rng)}" for i in range(packages)]
    lines += ["  - pip", "  - pip:"]
    lines += [f"    - {_name(rng, 1)}-{i}>={rng.randint(0, 9)}.{rng.randint(0, 9)}" for i in range(packages)]
    return "\n".join(lines) + "\n"


def requirements_file(rng: random.Random, packages: int, hashes: bool) -> str:
    """A pip requirements file: options, comments, extras, markers; with ``hashes`` as
    ``pip-compile --generate-hashes`` writes it (continued ``--hash`` lines, ``# via`` comments)."""
    lines = [f"# requirements for {_name(rng)}", "--index-url https://pypi.org/simple", "-r base-requirements.txt", ""]
    for index in range(packages):
        name = f"{_name(rng, 1)}-{_name(rng, 1)}{index}"
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        if hashes:
            lines.append(f"{name}=={version} \\")
            digests = [f"{rng.getrandbits(256):064x}" for _ in range(rng.randint(1, 3))]
            lines += [f"    --hash=sha256:{digest} \\" for digest in digests[:-1]] + [f"    --hash=sha256:{digests[-1]}"]
            lines += ["    # via", f"    #   {_name(rng, 1)}-{_name(rng, 1)}{rng.randint(0, packages)}"]
            continue
        spec = rng.choice(["", f"=={version}", f">={version},<{rng.randint(10, 20)}", f"~={version}"])
        extras = rng.choice(["", "", f"[{_name(rng, 1)}]"])
        marker = rng.choice(["", "", ' ; python_version >= "3.9"', " ; sys_platform == 'linux'"])
        comment = rng.choice(["", "", f"  # {_name(rng)}"])
        lines.append(f"{name}{extras}{spec}{marker}{comment}")
    return "\n".join(lines) + "\n"


def dockerfile(rng: random.Random, stages: int, packages: int) -> str:
    """A Dockerfile of an Azure ML build context: stages, continued RUNs, the files it installs."""
    lines = ["# escape=\\", "ARG BASE=mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"]
    for stage in range(stages):
        lines += ["", f"# stage {stage}: {_name(rng)}", f"FROM ${{BASE}} AS stage{stage}" if stage == 0 else
                  f"FROM stage{stage - 1} AS stage{stage}", f"ENV {_name(rng).upper()}={rng.randint(0, 99)}"]
        lines += ["RUN apt-get update && apt-get install -y --no-install-recommends \\"]
        lines += [f"        lib{_name(rng, 1)}{i}-dev \\" for i in range(packages)]
        lines += ["    && rm -rf /var/lib/apt/lists/*", f"WORKDIR /opt/{_name(rng, 1)}"]
        lines += [f"COPY {_name(rng, 1)}/ ./{_name(rng, 1)}/", f"RUN python -m compileall -q ./ && echo {_name(rng)}"]
    lines += ["COPY requirements.txt conda.yml ./", "RUN pip install --no-cache-dir -r requirements.txt \\",
              "    && conda env update -n base -f conda.yml && conda clean --all --yes", 'CMD ["python", "train.py"]']
    return "\n".join(lines) + "\n"


# Azure ML v2 YAML (CLI v2), in the shapes of Azure/azureml-examples cli/jobs and cli/assets.
_SCHEMA = "https://azuremlschemas.azureedge.net/latest/"
_IMAGES = ("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest", "python:3.10-slim",
           "mcr.microsoft.com/azureml/curated/acpt-pytorch-2.2-cuda12.1:latest")


def _v2_conda(rng: random.Random, indent: str, packages: int) -> list[str]:
    """An inline ``conda_file:`` mapping's lines (after its key)."""
    lines = [f"{indent}name: {_name(rng)}", f"{indent}channels:", f"{indent}  - conda-forge",
             f"{indent}dependencies:", f"{indent}  - python=3.10", f"{indent}  - pip=23.2"]
    lines += [f"{indent}  - {_name(rng, 1)}{i}={rng.randint(0, 9)}.{rng.randint(0, 20)}" for i in range(packages // 3)]
    lines += [f"{indent}  - pip:"]
    lines += [f"{indent}      - {_name(rng, 1)}-{i}=={rng.randint(0, 9)}.{rng.randint(0, 9)}  # {_name(rng)}"
              for i in range(packages - packages // 3)]
    return lines


def _v2_io(rng: random.Random, indent: str, count: int, outputs: bool = False) -> tuple[list[str], list[str]]:
    """``inputs:``/``outputs:`` entries (lines) and their names."""
    lines, names = [], []
    for index in range(count):
        name = f"{_name(rng)}_{index}"
        names.append(name)
        shape = rng.randrange(4)
        if outputs or shape == 0:
            lines += [f"{indent}{name}:", f"{indent}  type: uri_folder"]
            if not outputs:
                lines.append(f"{indent}  path: azureml://datastores/workspaceblobstore/paths/{_name(rng)}/")
        elif shape == 1:
            lines += [f"{indent}{name}: {rng.randint(1, 500)}"]
        elif shape == 2:
            lines += [f"{indent}{name}:", f"{indent}  type: number", f"{indent}  default: {rng.random():.3f}",
                      f"{indent}  optional: true", f"{indent}  description: {' '.join(_name(rng).split('_'))}"]
        else:
            lines += [f"{indent}{name}: '{_name(rng)}'  # {_name(rng)}"]
    return lines, names


def _v2_command(rng: random.Random, indent: str, inputs: list[str], outputs: list[str], lines_: int) -> list[str]:
    """A ``command:`` key: folded, literal or plain, with ``${{...}}`` and ``$[[...]]`` arguments."""
    args = [f"--{name} ${{{{inputs.{name}}}}}" for name in inputs] + \
           [f"--{name} ${{{{outputs.{name}}}}}" for name in outputs]
    args = [f"$[[{arg}]]" if rng.random() < 0.25 else arg for arg in args][: max(1, lines_)]
    style = rng.randrange(3)
    if style == 0 or not args:
        return [f"{indent}command: python train.py {' '.join(args[:2])}"]
    if style == 1:
        return [f"{indent}command: >-", f"{indent}  python train.py", *(f"{indent}  {arg}" for arg in args)]
    head = [f"{indent}command: |", f"{indent}  echo \"starting on $(hostname)\""]
    if rng.random() < 0.5:
        head.append(f"{indent}  pip install -r requirements.txt")
    return head + [f"{indent}  python -m {_name(rng, 1)}.train \\"] + \
        [f"{indent}    {arg} \\" for arg in args[:-1]] + [f"{indent}    {args[-1]}"]


def _v2_environment(rng: random.Random, indent: str, packages: int) -> list[str]:
    shape = rng.randrange(3)
    if shape == 0:
        return [f"{indent}environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest"]
    if shape == 1:
        return [f"{indent}environment:", f"{indent}  image: {rng.choice(_IMAGES)}",
                f"{indent}  conda_file: ./environment/conda.yml"]
    return [f"{indent}environment:", f"{indent}  image: {rng.choice(_IMAGES)}", f"{indent}  conda_file:",
            *_v2_conda(rng, indent + "    ", packages)]


def v2_command_job(rng: random.Random, large: bool) -> str:
    """A command job (one in five a sweep job): ~30 lines, or ~300 with many inputs and an inline conda file."""
    inputs, names = _v2_io(rng, "  ", rng.randint(40, 60) if large else rng.randint(2, 4))
    outputs, out_names = _v2_io(rng, "  ", rng.randint(4, 10) if large else 1, outputs=True)
    lines = [f"$schema: {_SCHEMA}commandJob.schema.json", f"# {' '.join(_name(rng, 4).split('_'))}",
             "code: ./src"]
    if large:
        lines += [f"# {_name(rng)}: {' '.join(_name(rng, 3).split('_'))}" for _ in range(4)]
    command = _v2_command(rng, "", names, out_names, 40 if large else 4)
    if rng.random() < 0.2:  # a sweep job: the command is the trial's
        lines = [f"$schema: {_SCHEMA}sweepJob.schema.json", "type: sweep", "trial:", "  code: ./src",
                 *("  " + line for line in command), *_v2_environment(rng, "  ", 60 if large else 4),
                 "sampling_algorithm: random", "search_space:",
                 "  learning_rate:", "    type: uniform", "    min_value: 0.001", "    max_value: 0.1",
                 "objective:", "  goal: minimize", "  primary_metric: loss",
                 "limits:", "  max_total_trials: 20", "  max_concurrent_trials: 4"]
    else:
        lines += command + _v2_environment(rng, "", 120 if large else 4)
    lines += ["inputs:", *inputs, "outputs:", *outputs, "compute: azureml:cpu-cluster",
              f"display_name: {_name(rng)}", f"experiment_name: {_name(rng)}",
              f"description: {' '.join(_name(rng, 5).split('_'))}"]
    if large:
        lines += ["environment_variables:", *(f"  {_name(rng).upper()}_{i}: \"{rng.randint(0, 99)}\"" for i in range(20)),
                  "resources:", "  instance_count: 2", "distribution:", "  type: pytorch",
                  "  process_count_per_instance: 4", "tags:", *(f"  {_name(rng)}_{i}: {_name(rng)}" for i in range(30))]
    return "\n".join(lines) + "\n"


def v2_component(rng: random.Random, large: bool) -> str:
    """A command component with inputs and outputs; large: many inputs with descriptions."""
    inputs, names = _v2_io(rng, "  ", rng.randint(60, 80) if large else rng.randint(3, 5))
    outputs, out_names = _v2_io(rng, "  ", rng.randint(6, 12) if large else 2, outputs=True)
    lines = [f"$schema: {_SCHEMA}commandComponent.schema.json", "type: command", "", f"name: {_name(rng)}",
             f"display_name: {_name(rng)}", f"version: 0.0.{rng.randint(1, 40)}", "inputs:", *inputs,
             "outputs:", *outputs, "code: ./train_src",
             *_v2_environment(rng, "", 4), *_v2_command(rng, "", names, out_names, 60 if large else 5)]
    if large:
        lines += ["tags:", *(f"  {_name(rng)}_{i}: {_name(rng)}" for i in range(20))]
    return "\n".join(lines) + "\n"


def _v2_pipeline_node(rng: random.Random, name: str, index: int) -> list[str]:
    inputs, names = _v2_io(rng, "      ", rng.randint(1, 3))
    shape = index % 4
    lines = [f"  {name}:"]
    if shape == 1:
        return lines + ["    type: command", "    component: ./components/train.yml", "    inputs:", *inputs]
    if shape == 2:
        return lines + ["    type: command", "    component: azureml:prep_data@latest", "    inputs:", *inputs,
                        "    outputs:", f"      {_name(rng)}:", "        mode: rw_mount"]
    return lines + ["    type: command", "    code: ./src", *_v2_command(rng, "    ", names, [], 3),
                    *_v2_environment(rng, "    ", 6), "    inputs:", *inputs,
                    f"    compute: azureml:{rng.choice(['cpu-cluster', 'gpu-cluster'])}"]


def v2_pipeline_job(rng: random.Random, nodes: int) -> str:
    """A pipeline job with ``nodes`` jobs: inline command nodes, local and registered components."""
    lines = [f"$schema: {_SCHEMA}pipelineJob.schema.json", "type: pipeline", f"display_name: {_name(rng)}",
             f"experiment_name: {_name(rng)}", f"description: {' '.join(_name(rng, 4).split('_'))}", "",
             "settings:", "  default_datastore: azureml:workspaceblobstore", "  default_compute: azureml:cpu-cluster",
             "  continue_on_step_failure: false", "", "inputs:", "  pipeline_input:", "    type: uri_folder",
             "    path: ./data", "", "jobs:"]
    for index in range(nodes):
        if index and rng.random() < 0.3:
            lines.append(f"  # step {index}: {' '.join(_name(rng, 3).split('_'))}")
        lines += _v2_pipeline_node(rng, f"{_name(rng)}_{index}", index)
    return "\n".join(lines) + "\n"


def v2_environment(rng: random.Random, large: bool) -> str:
    """An environment: image and a conda file by path, or inline (large: a long inline one)."""
    lines = [f"$schema: {_SCHEMA}environment.schema.json", f"name: {_name(rng)}", f"version: {rng.randint(1, 30)}",
             f"image: {rng.choice(_IMAGES)}", f"description: {' '.join(_name(rng, 4).split('_'))}"]
    if large or rng.random() < 0.6:
        lines += ["conda_file:", *_v2_conda(rng, "  ", rng.randint(260, 320) if large else rng.randint(12, 20))]
    else:
        lines += ["conda_file: ./conda.yml", "tags:", *(f"  {_name(rng)}_{i}: {_name(rng)}" for i in range(20))]
    return "\n".join(lines) + "\n"


def crlf_some(make):
    """``make`` with every fourth file's line endings turned into CRLF."""
    return lambda rng, i: make(rng, i).replace("\n", "\r\n") if i % 4 == 3 else make(rng, i)


#: Generated inputs per kind and size for bench/run.py's per-kind rows:
#: ``(suffix, make(rng, index))``; kinds without one are measured on their fixtures.
GENERATED = {
    ("train", "small"): (".py", lambda rng, i: training_script(rng, TRAIN_SHAPES[i % len(TRAIN_SHAPES)], 0)),
    ("train", "large"): (".py", lambda rng, i: training_script(rng, TRAIN_SHAPES[i % len(TRAIN_SHAPES)], rng.randint(8, 24))),
    ("score", "small"): (".py", lambda rng, i: scoring_script(rng)),
    ("score", "large"): (".py", lambda rng, i: large_scoring_script(rng)),
    ("pipeline", "small"): (".py", lambda rng, i: pipeline_script(rng)),
    ("pipeline", "large"): (".py", lambda rng, i: large_pipeline_script(rng)),
    ("sdk_job", "small"): (".py", lambda rng, i: sdk_job_script(rng)),
    ("sdk_job", "large"): (".py", lambda rng, i: large_sdk_job_script(rng)),
    ("env", "small"): (".yml", lambda rng, i: conda_env(rng, rng.randint(2, 5))),
    ("env", "large"): (".yml", lambda rng, i: conda_env(rng, rng.randint(40, 120))),
    ("requirements", "small"): (".txt", lambda rng, i: requirements_file(rng, rng.randint(4, 20), hashes=False)),
    ("requirements", "large"): (".txt", lambda rng, i: requirements_file(rng, rng.randint(40, 120), hashes=True)),
    ("dockerfile", "small"): (".Dockerfile", lambda rng, i: dockerfile(rng, 1, rng.randint(2, 6))),
    ("dockerfile", "large"): (".Dockerfile", lambda rng, i: dockerfile(rng, rng.randint(3, 6), rng.randint(20, 50))),
    ("job", "small"): (".yml", crlf_some(lambda rng, i: v2_command_job(rng, False))),
    ("job", "large"): (".yml", crlf_some(lambda rng, i: v2_command_job(rng, True))),
    ("component", "small"): (".yml", crlf_some(lambda rng, i: v2_component(rng, False))),
    ("component", "large"): (".yml", crlf_some(lambda rng, i: v2_component(rng, True))),
    ("pipeline_job", "small"): (".yml", crlf_some(lambda rng, i: v2_pipeline_job(rng, 2))),
    ("pipeline_job", "large"): (".yml", crlf_some(lambda rng, i: v2_pipeline_job(rng, rng.randint(18, 26)))),
    ("environment", "small"): (".yml", crlf_some(lambda rng, i: v2_environment(rng, False))),
    ("environment", "large"): (".yml", crlf_some(lambda rng, i: v2_environment(rng, True))),
}


GENERATED_KINDS = frozenset(kind for kind, _ in GENERATED)


def fixture_inputs(kind: str) -> list[tuple[str, str]]:
    """(file name, text) of each ``fixtures/<kind>/*/before*`` (a kind's own cases)."""
    folder = Path(__file__).resolve().parents[1] / "fixtures" / kind
    found = []
    for before in sorted(folder.glob("*/before*")):
        try:
            found.append((before.name, before.read_bytes()))
        except OSError:
            continue
    return found


def kind_inputs(kind: str, size: str, count: int, seed: int = 12) -> list[tuple[str, bytes]]:
    """``count`` (file name, bytes) inputs of one kind: generated, else its fixtures over and over."""
    rng = random.Random(seed)
    if (kind, size) in GENERATED:
        suffix, make = GENERATED[kind, size]
        return [(f"{kind}_{index:04}{suffix}", make(rng, index).encode("utf-8")) for index in range(count)]
    cases = fixture_inputs(kind)
    return [cases[index % len(cases)] for index in range(count)] if cases else []


def training_scripts(root: Path, count: int, seed: int = 8) -> list[Path]:
    """``count`` training scripts of every shape, 50 to 300 lines each."""
    rng = random.Random(seed)
    paths = []
    for index in range(count):
        path = root / f"step{index // 25:02}" / f"train_{index:04}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(training_script(rng, TRAIN_SHAPES[index % len(TRAIN_SHAPES)], rng.randint(1, 9)))
        paths.append(path)
    return paths


def repository(root: Path, count: int, seed: int = 15) -> dict[str, list[Path]]:
    """A tree of ``count`` modules: mostly library code, some entry scripts.

    Returns the paths by role; the caller instruments the ``entry`` ones it
    wants with ``instrument add`` so that the blocks are the real ones.
    """
    rng = random.Random(seed)
    roles: dict[str, list[Path]] = {"library": [], "entry": [], "debug": [], "test": []}
    for index in range(count):
        package = root / f"pkg{index % 12:02}" / f"sub{index % 5}"
        package.mkdir(parents=True, exist_ok=True)
        roll = rng.random()
        if index % 300 == 7:
            role, text = "debug", hand_written_debug(rng)
        elif roll < 0.12:
            role, text = "entry", training_script(rng, rng.choice(TRAIN_SHAPES), rng.randint(2, 10))
        elif roll < 0.14:
            role, text = "entry", scoring_script(rng)
        elif roll < 0.15:
            role, text = "entry", pipeline_script(rng)
        elif roll < 0.25:
            role, text = "test", test_module(rng)
        else:
            role, text = "library", library_module(rng, rng.randint(2, 12))
        path = package / f"{role}_{index:04}.py"
        path.write_text(text)
        roles[role].append(path)
    return roles


#: A stdlib-only training script that runs in milliseconds, for the run-time cost.
RUNNABLE_SCRIPT = '''\
"""Tiny training loop: argparse, a few epochs of arithmetic, a JSON report."""
import argparse
import json
import math


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning_rate", type=float, default=0.1)
    args = parser.parse_args()
    weight = 0.0
    for epoch in range(args.epochs):
        loss = sum((weight * x - 2 * x) ** 2 for x in range(50)) / 50
        weight += args.learning_rate * (2 - weight)
    return json.dumps({"loss": round(loss, 4), "weight": round(weight, 4), "sqrt": math.sqrt(weight)})


if __name__ == "__main__":
    main()
'''
