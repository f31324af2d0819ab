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


#: Generated inputs per kind and size for bench/run.py's per-kind rows:
#: ``(suffix, make(rng, index))``; kinds without one are measured on their fixtures.
GENERATED = {
    ("train", "small"): (".py", lambda rng, i: training_script(rng, TRAIN_SHAPES[i % len(TRAIN_SHAPES)], 0)),
    ("train", "large"): (".py", lambda rng, i: training_script(rng, TRAIN_SHAPES[i % len(TRAIN_SHAPES)], rng.randint(8, 24))),
    ("score", "small"): (".py", lambda rng, i: scoring_script(rng)),
    ("score", "large"): (".py", lambda rng, i: large_scoring_script(rng)),
    ("pipeline", "small"): (".py", lambda rng, i: pipeline_script(rng)),
    ("pipeline", "large"): (".py", lambda rng, i: large_pipeline_script(rng)),
    ("env", "small"): (".yml", lambda rng, i: conda_env(rng, rng.randint(2, 5))),
    ("env", "large"): (".yml", lambda rng, i: conda_env(rng, rng.randint(40, 120))),
    ("requirements", "small"): (".txt", lambda rng, i: requirements_file(rng, rng.randint(4, 20), hashes=False)),
    ("requirements", "large"): (".txt", lambda rng, i: requirements_file(rng, rng.randint(40, 120), hashes=True)),
    ("dockerfile", "small"): (".Dockerfile", lambda rng, i: dockerfile(rng, 1, rng.randint(2, 6))),
    ("dockerfile", "large"): (".Dockerfile", lambda rng, i: dockerfile(rng, rng.randint(3, 6), rng.randint(20, 50))),
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
