"""``instrument check`` as a gate: the ways around it that a hostile review found (issue 21).

``fixtures/check/gate`` holds one file per class (a listener passed as a
value, strings that run, job values reached through names, YAML read as Azure
ML reads it, other network debuggers, files that are not ``.py``);
``fixtures/check/gate_expected.txt`` has every line check must print for it.
``fixtures/check/gate_clean`` holds what must stay clean: mentions in
comments, docstrings and help texts, ``pip install debugpy``, a local
``breakpoint()``. Tables of small sources follow, one row per case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from instrument import checking
from instrument.cli import main
from instrument.codemods.check import findings as check, formats as check_formats

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "check"
GATE = FIXTURES / "gate"
EXPECTED = (FIXTURES / "gate_expected.txt").read_text(encoding="utf-8").splitlines()


def test_every_class_is_found_in_the_tree(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(GATE)
    assert main(["check", "."]) == 1
    assert capsys.readouterr().out.splitlines() == EXPECTED


@pytest.mark.parametrize("name", sorted({line.split(":", 1)[0] for line in EXPECTED}))
def test_each_file_named_alone(name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(GATE)
    assert main(["check", name]) == 1
    assert capsys.readouterr().out.splitlines() == [line for line in EXPECTED if line.split(":", 1)[0] == name]


def test_what_is_fine_stays_fine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FIXTURES / "gate_clean")]) == 0
    assert capsys.readouterr() == ("", "no findings.\n")


@pytest.mark.parametrize("path", sorted(p for p in GATE.rglob("*") if p.is_file()), ids=lambda p: p.name)
def test_the_byte_pretest_keeps_every_gate_file(path: Path) -> None:
    kind = checking.file_type(path, path.read_bytes()[:256])
    assert kind is not None
    assert checking._could_have_findings(kind, path.read_bytes())


FOUND = [
    pytest.param("import debugpy, functools\nf = functools.partial(debugpy.listen, 5678)\n", 2, id="partial"),
    pytest.param("import debugpy\nfrom threading import Thread\nThread(target=debugpy.listen).start()\n", 3,
                 id="thread-target"),
    pytest.param("import debugpy\nlist(map(debugpy.listen, [5678]))\n", 2, id="map"),
    pytest.param("import debugpy\nvars(debugpy)['listen'](5678)\n", 2, id="vars"),
    pytest.param("import debugpy\ndebugpy.__dict__['wait_for_client']()\n", 2, id="module-dict"),
    pytest.param("import operator, debugpy\noperator.methodcaller('listen', 5678)(debugpy)\n", 2, id="methodcaller"),
    pytest.param("import pkgutil\npkgutil.resolve_name('debugpy:listen')(5678)\n", 2, id="resolve-name"),
    pytest.param("import debugpy\nclass C:\n    d = debugpy\nC.d.listen(1)\n", 4, id="class-attribute"),
    pytest.param("import debugpy\nclass C:\n    def __init__(self):\n        self.d = debugpy\n"
                 "    def go(self):\n        self.d.listen(1)\n", 6, id="self-attribute"),
    pytest.param("import sys, remote_pdb\nsys.breakpointhook = remote_pdb.set_trace\n", 2, id="breakpointhook"),
    pytest.param("exec('import de' + 'bugpy; debugpy.listen(1)')\n", 1, id="exec-concatenation"),
    pytest.param("CODE = 'import debugpy\\ndebugpy.listen(1)'\nexec(CODE)\n", 2, id="exec-name"),
    pytest.param("eval(compile(\"__import__('debugpy').listen(1)\", 'x', 'eval'))\n", 1, id="eval-compile"),
    pytest.param("import importlib\nimportlib.import_module('\\x64ebugpy').listen(1)\n", 2, id="hex-escape"),
    pytest.param("import subprocess, shlex\nsubprocess.run(shlex.split('python -m debugpy --listen 1 t.py'))\n", 2,
                 id="shlex-split"),
    pytest.param("import subprocess\nsubprocess.run(['python3', '-c', 'import debugpy; debugpy.listen(1)'])\n", 2,
                 id="python-c"),
    pytest.param("import os\nos.system('bash -c \"debugpy --listen 5678 t.py\"')\n", 2, id="bash-c-console-script"),
    pytest.param("import subprocess\nsubprocess.Popen('sh -c \"python -m de\\'bug\\'py t.py\"', shell=True)\n", 2,
                 id="shell-quotes-inside"),
    pytest.param("from azure.ai.ml import command\nCMD = 'python -m debugpy --listen 5678 t.py'\n"
                 "job = command(command=CMD)\n", 3, id="sdk-v2-command-name"),
    pytest.param("from azure.ai.ml import command\njob = command(command='python t.py',\n"
                 "    environment_variables={'AZUREML_DEBUG_PORT': '5678'})\n", 3, id="sdk-v2-environment"),
    pytest.param("from azureml.pipeline.steps import PythonScriptStep\nARGS = ['--remote_debug', '--x', 1]\n"
                 "s = PythonScriptStep(script_name='t.py', arguments=ARGS)\n", 3, id="sdk-v1-arguments-name"),
    pytest.param("from remote_pdb import RemotePdb\nRemotePdb('0.0.0.0', 4444).set_trace()\n", 2, id="remote-pdb"),
    pytest.param("import web_pdb\nweb_pdb.set_trace()\n", 2, id="web-pdb"),
    pytest.param("import madbg\nmadbg.set_trace(ip='0.0.0.0')\n", 2, id="madbg"),
    pytest.param("import pydevd_pycharm\npydevd_pycharm.settrace('h', port=1)\n", 2, id="pydevd-pycharm"),
    pytest.param("import os\nos.environ['PYTHONBREAKPOINT'] = 'remote_pdb.set_trace'\n", 2, id="pythonbreakpoint"),
]


@pytest.mark.parametrize(("src", "line"), FOUND)
def test_found(src: str, line: int) -> None:
    assert line in [f.line for f in check.check_python(src)]
    assert check.could_have_findings(src.encode())


NOOP = [
    pytest.param('"""Run python -m debugpy --listen 5678 to attach."""\n', id="docstring"),
    pytest.param("# exec('import debugpy; debugpy.listen(1)')\n", id="comment"),
    pytest.param("breakpoint()\nimport pdb\npdb.set_trace()\n", id="local-debuggers"),
    pytest.param("import subprocess\nsubprocess.run(['pip', 'install', 'debugpy'])\n", id="pip-install"),
    pytest.param("import os\nos.system('echo python -m debugpy --listen 5678')\n", id="echo"),
    pytest.param("exec('print(\"debugpy\")')\n", id="exec-of-a-mention"),
    pytest.param("import os\nos.environ['PYTHONBREAKPOINT'] = 'pdb.set_trace'\n", id="pythonbreakpoint-pdb"),
    pytest.param("from azure.ai.ml import command\njob = command(command='python train.py --lr 1')\n", id="clean-job"),
    pytest.param("import debugpy\nprint(debugpy.__version__)\n", id="version"),
]


@pytest.mark.parametrize("src", NOOP)
def test_noop(src: str) -> None:
    assert check.check_python(src) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('command: "python -m \\x64ebugpy --listen 1 t.py"\n', [1]),
        ("command: python -m debugpy t.py\ncommand: python t.py\n", []),  # the last duplicate key wins
        ("base: &b\n  command: python -m debugpy t.py\njob:\n  <<: *b\n", [2]),
        ("command: echo debugpy\n", []),
        ("environment_variables:\n  PYTHONBREAKPOINT: web_pdb.set_trace\n", [2]),
    ],
)
def test_yaml(text: str, expected: list[int]) -> None:
    assert [f.line for f in check.check_yaml(text)] == expected


def test_shell_heredoc_and_dockerfile_forms() -> None:
    script = "#!/bin/sh\npython - <<EOF\nimport debugpy\ndebugpy.listen(5678)\nEOF\n"
    assert [f.line for f in check_formats.check_shell(script)] == [4]
    dockerfile = 'FROM python\nENTRYPOINT ["python", "-m"]\nCMD ["debugpy", "--listen", "5678", "t.py"]\n'
    assert {f.line for f in check_formats.check_dockerfile(dockerfile)} == {3}
    assert check_formats.check_dockerfile("FROM python\nENV PYTHONBREAKPOINT=0\nRUN pip install debugpy\n") == []
