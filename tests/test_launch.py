"""`instrument launch`: attach configurations, driver logs, launch.json merging.

Fixtures: ``fixtures/launch/<case>/`` holds ``before.json`` (absent: the
file does not exist yet), ``after.json``, ``case.json`` (the command line)
and any log (or folder of logs) the command line names; ``fixtures/launch/logs/``
holds sample run logs. The last test feeds a written configuration to a real debugpy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.layout import instrument_file  # noqa: E402
from instrument import jsonc, launch  # noqa: E402
from instrument.cli import main  # noqa: E402
from instrument.driver_log import LogError, Node, read_nodes  # noqa: E402
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect  # noqa: E402
from tests.debuggees import WITH_PARSER  # noqa: E402
from tests.ports import free_port  # noqa: E402

FIXTURES = ROOT / "fixtures" / "launch"
LOGS = FIXTURES / "logs"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "case.json").is_file())


def run_launch(workspace: Path, monkeypatch, *args: str) -> int:
    monkeypatch.chdir(workspace)
    return main(["launch", *args])


def launch_file(workspace: Path) -> Path:
    return workspace / ".vscode" / "launch.json"


# -- launch.json fixtures: merge byte for byte --------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_fixture(case, tmp_path, monkeypatch, capsys):
    folder = FIXTURES / case
    meta = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    args = meta["args"]
    for log in folder.glob("*.txt"):
        shutil.copy(log, tmp_path / log.name)
    for logs in (p for p in folder.iterdir() if p.is_dir()):  # a folder of run logs
        shutil.copytree(logs, tmp_path / logs.name)
    target = launch_file(tmp_path)
    if (folder / "before.json").exists():
        target.parent.mkdir()
        shutil.copy(folder / "before.json", target)
    expected = (folder / "after.json").read_bytes()

    assert run_launch(tmp_path, monkeypatch, *args) == 0, capsys.readouterr().err
    assert target.read_bytes() == expected
    assert capsys.readouterr().err.splitlines() == meta["stderr"]

    # Again: the same names are replaced by the same text, nothing is added.
    assert run_launch(tmp_path, monkeypatch, *args) == 0
    assert target.read_bytes() == expected
    again = [re.sub(r"^added ", "replaced ", line) for line in meta["stderr"]]
    assert capsys.readouterr().err.splitlines() == again


@pytest.mark.parametrize("case", CASES)
def test_fixture_keeps_what_was_there(case):
    """Every configuration of before.json is in after.json, unchanged unless replaced by name."""
    folder = FIXTURES / case
    after = jsonc.value_of((folder / "after.json").read_text(encoding="utf-8-sig"))
    for configuration in after["configurations"]:
        if configuration["request"] == "attach" and "Azure ML" in configuration["name"]:
            launch.validate(configuration)
    names = {c["name"] for c in after["configurations"]}
    for group in after.get("compounds", []):  # VS Code starts a compound by these names
        assert set(group["configurations"]) <= names, group
    if not (folder / "before.json").exists():
        return
    before = jsonc.value_of((folder / "before.json").read_text(encoding="utf-8-sig"))
    for key in ("configurations", "compounds"):
        kept = {c["name"] for c in before.get(key, [])} & {c["name"] for c in after.get(key, [])}
        assert len(kept) == len(before.get(key, []))
    arrays = ("configurations", "compounds")
    assert {k: v for k, v in after.items() if k not in arrays} == {k: v for k, v in before.items() if k not in arrays}


# -- bad launch.json: one line, exit 123, file untouched -----------------------------

BROKEN = [
    pytest.param('{\n    "configurations": [\n        {"name": "a"}\n        {"name": "b"}\n    ]\n}\n', id="missing_comma"),
    pytest.param('{\n    "configurations": [\n', id="cut_short"),
    pytest.param('{"configurations": [] /* unclosed comment\n', id="unclosed_comment"),
    pytest.param('[{"name": "a"}]\n', id="top_level_array"),
    pytest.param('{"configurations": {"name": "a"}}\n', id="configurations_object"),
    pytest.param('// only a comment\n', id="comment_only"),
]


@pytest.mark.parametrize("text", BROKEN)
def test_unparseable_launch_json_is_left_alone(text, tmp_path, monkeypatch, capsys):
    target = launch_file(tmp_path)
    target.parent.mkdir()
    target.write_text(text, encoding="utf-8")
    before = target.stat()

    assert run_launch(tmp_path, monkeypatch, "--host", "10.3.0.5") == 123
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(str(Path(".vscode/launch.json")) + ": "), err
    assert target.read_text(encoding="utf-8") == text
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in target.parent.iterdir()) == ["launch.json"]  # no temp file left


def test_empty_launch_json_is_filled(tmp_path, monkeypatch):
    target = launch_file(tmp_path)
    target.parent.mkdir()
    target.write_bytes(b"\r\n")
    assert run_launch(tmp_path, monkeypatch, "--host", "10.3.0.5") == 0
    text = target.read_bytes().decode()
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    assert [c["connect"]["host"] for c in jsonc.value_of(text)["configurations"]] == ["10.3.0.5"]


# -- small merges -------------------------------------------------------------------

NEW = {"name": "new", "type": "debugpy", "request": "attach", "connect": {"port": 1}}
NEW_TEXT = '{\n{i}"name": "new",\n{i}"type": "debugpy",\n{i}"request": "attach",\n{i}"connect": {\n{i}{i}"port": 1\n{i}}\n}'


def new_text(indent: str, unit: str = "    ") -> str:
    return NEW_TEXT.replace("\n", "\n" + indent).replace("{i}", unit)


@pytest.mark.parametrize(("before", "after"), [
    pytest.param('{"configurations": [\n    {"name": "new"} // same name\n]}',
                 '{"configurations": [\n    ' + new_text("    ") + ' // same name\n]}', id="replace_keeps_comment"),
    pytest.param('{"configurations": [\n    {"name": "a"}, // a\n]}',
                 '{"configurations": [\n    {"name": "a"}, // a\n    ' + new_text("    ") + ',\n]}', id="trailing_comma_kept"),
    pytest.param('{"configurations": [\n    {"name": "a"} // a, not b\n]}',
                 '{"configurations": [\n    {"name": "a"}, // a, not b\n    ' + new_text("    ") + '\n]}', id="comma_in_comment"),
    pytest.param('{\n    "configurations": [\n        // nothing yet\n    ]\n}',
                 '{\n    "configurations": [\n        // nothing yet\n        ' + new_text("        ") + '\n    ]\n}',
                 id="empty_with_comment"),
    pytest.param('{\n\t"configurations": [\n\t]\n}',
                 '{\n\t"configurations": [\n\t\t' + new_text("\t\t", "\t") + '\n\t]\n}', id="empty_tabs"),
    pytest.param('{\n  "a": 1, /* b */\n}',
                 '{\n  "a": 1, /* b */\n  "configurations": [\n    ' + new_text("    ", "  ") + '\n  ],\n}',
                 id="no_configurations_trailing_comma"),
    pytest.param('{\n  "configurations": [\n    {"name": "a"},\n    {"name": "new", "x": 1},\n    {"name": "c"}\n  ]\n}',
                 '{\n  "configurations": [\n    {"name": "a"},\n    ' + new_text("    ", "  ") + ',\n    {"name": "c"}\n  ]\n}',
                 id="replace_in_the_middle"),
])
def test_merge(before, after):
    assert jsonc.merge(before, [NEW]) == (after, [] if '"new"' not in before else ["new"])
    assert jsonc.merge(after, [NEW]) == (after, ["new"])


# -- configurations and the schema --------------------------------------------------


def test_schema_is_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(launch.schema())


VALID = {
    "name": "n", "type": "debugpy", "request": "attach", "connect": {"host": "10.3.0.5", "port": 5678},
    "pathMappings": [{"localRoot": "${workspaceFolder}", "remoteRoot": "."}], "justMyCode": True,
    "redirectOutput": True,
}


@pytest.mark.parametrize(("change", "message"), [
    ({"connect": {"host": "10.3.0.5", "port": 0}}, "connect/port"),
    ({"connect": {"host": "10.3.0.5", "port": "5678"}}, "connect/port"),
    ({"connect": {"host": "10.3.0.5"}}, "'port' is a required property"),
    ({"listen": {"port": 5678}}, "exactly one of connect, listen or processId"),
    ({"connect": None}, "connect"),
    ({"pathMappings": [{"localRoot": "${workspaceFolder}"}]}, "'remoteRoot' is a required property"),
    ({"pathMapping": []}, "'pathMapping' was unexpected"),
    ({"justMyCode": "yes"}, "justMyCode"),
    ({"type": "node"}, "type"),
    ({"request": "launch"}, "request"),
    ({"name": ""}, "name"),
])
def test_schema_refuses_a_broken_configuration(change, message):
    configuration = {**VALID, **change}
    configuration = {k: v for k, v in configuration.items() if v is not None}
    with pytest.raises(launch.LaunchError, match="invalid attach configuration") as info:
        launch.validate(configuration)
    assert message in str(info.value)


@pytest.mark.parametrize("change", [
    {}, {"type": "python"}, {"connect": {"port": "${input:port}"}}, {"subProcess": True, "logToFile": False},
])
def test_schema_accepts(change):
    launch.validate({**VALID, **change})


@pytest.mark.parametrize(("request_", "connect", "mapping"), [
    (launch.Request(host="10.3.0.5"), ("connect", "10.3.0.5", 5678), ("${workspaceFolder}", ".")),
    (launch.Request(host="10.3.0.5", port=6000, remote_root="/code"), ("connect", "10.3.0.5", 6000),
     ("${workspaceFolder}", "/code")),
    (launch.Request(docker=True), ("connect", "localhost", 5678), ("${workspaceFolder}", "/var/azureml-app")),
    (launch.Request(docker=True, host="10.0.0.2", remote_root="/app"), ("connect", "10.0.0.2", 5678),
     ("${workspaceFolder}", "/app")),
    (launch.Request(listen=True, port=5690), ("listen", "0.0.0.0", 5690), ("${workspaceFolder}", ".")),
    (launch.Request(listen=True, host="192.168.1.20"), ("listen", "192.168.1.20", 5678), ("${workspaceFolder}", ".")),
])
def test_configuration_for_each_situation(request_, connect, mapping):
    [configuration], compounds, notes = launch.configurations_for(request_)
    kind, host, port = connect
    assert configuration[kind] == {"host": host, "port": port}
    assert configuration["pathMappings"] == [{"localRoot": mapping[0], "remoteRoot": mapping[1]}]
    assert (configuration["type"], configuration["request"]) == ("debugpy", "attach")
    assert configuration["redirectOutput"] is True and configuration["justMyCode"] is True
    assert notes == [] and compounds == []


@pytest.mark.parametrize(("local_root", "launch_json", "expected"), [
    (".", ".vscode/launch.json", "${workspaceFolder}"),
    ("code/step1", ".vscode/launch.json", "${workspaceFolder}/code/step1"),
    ("./code/step1/", ".vscode/launch.json", "${workspaceFolder}/code/step1"),
    ("{ws}/code/step2", ".vscode/launch.json", "${workspaceFolder}/code/step2"),
    ("code", "other/.vscode/launch.json", "{ws}/code"),  # outside that workspace: absolute
    ("code", "other/launch.json", "${workspaceFolder}/code"),  # not in .vscode: the current folder
])
def test_local_root(local_root, launch_json, expected, tmp_path):
    value = launch.local_root_value(local_root.replace("{ws}", str(tmp_path)),
                                    launch.workspace_folder(Path(launch_json), tmp_path), tmp_path)
    assert value == expected.replace("{ws}", tmp_path.as_posix())


# -- run logs -----------------------------------------------------------------------


@pytest.mark.parametrize(("log", "nodes"), [
    ("70_driver_log.txt", [Node("10.3.0.5", 5678, 300, True)]),
    ("std_log.txt", [Node("10.0.0.12", None, 600, None)]),  # the guide's recipe prints no port
    ("two_nodes.txt", [Node("10.0.1.4", 5678, 120, None), Node("10.0.1.5", 5679, 120, False)]),
    ("prefixed_and_retried.txt", [Node("10.2.0.8", 6000, 300, True)]),
    ("ipv6.txt", [Node("fd00::1:5", 5678, 0, None)]),
])
def test_read_nodes(log, nodes):
    assert read_nodes((LOGS / log).read_text(encoding="utf-8")) == nodes


@pytest.mark.parametrize("text", ["", "ip_address: None\n", "Remote debugging: listening on nowhere:99999\n",
                                  "Timeout for debug connection: 300\nDebugger attached = False\n"])
def test_log_without_an_address(text):
    with pytest.raises(LogError, match="no `ip_address:` line"):
        read_nodes(text)


def test_from_log_without_an_address(tmp_path, monkeypatch, capsys):
    shutil.copy(LOGS / "no_address.txt", tmp_path / "70_driver_log.txt")
    assert run_launch(tmp_path, monkeypatch, "--from-log", "70_driver_log.txt") == 123
    assert capsys.readouterr().err == (
        "70_driver_log.txt: no `ip_address:` line: was the script run with --remote_debug?\n"
    )
    assert not (tmp_path / ".vscode").exists()


@pytest.mark.parametrize(("args", "code", "out", "err"), [
    (["--node", "2"], 0, [("10.0.1.5", 5679)], ["using node 2 of 2: 10.0.1.5:5679", "warning: 10.0.1.5:5679 logged"]),
    (["--rank", "0"], 123, [], ["--rank 0: the log has no rank lines"]),
    (["--node", "2", "--port", "7000"], 0, [("10.0.1.5", 7000)], ["using node 2 of 2: 10.0.1.5:7000"]),
    ([], 0, [("10.0.1.4", 5678), ("10.0.1.5", 5679)], ["the log names 2 nodes: one configuration each"]),
    (["--node", "3"], 123, [], ["--node 3: the log names 2 nodes"]),
])
def test_from_log_nodes(args, code, out, err, tmp_path, monkeypatch, capsys):
    shutil.copy(LOGS / "two_nodes.txt", tmp_path / "std_log.txt")
    assert run_launch(tmp_path, monkeypatch, "--from-log", "std_log.txt", "--print", *args) == code
    captured = capsys.readouterr()
    configurations, _, compounds = captured.out.partition(launch.COMPOUNDS_HEADER)
    printed = jsonc.value_of(f"[{configurations}]")
    assert [(c["connect"]["host"], c["connect"]["port"]) for c in printed] == out
    if len(out) > 1:  # and a compound of them, for the other array
        [group] = jsonc.value_of(f"[{compounds}]")
        assert group["configurations"] == [c["name"] for c in printed]
    else:
        assert compounds == ""
    for line in err:
        assert line in captured.err
    assert not (tmp_path / ".vscode").exists()  # --print writes nothing


@pytest.mark.parametrize("args", [
    [],
    ["--host", "10.3.0.5", "--from-log", "log.txt"],
    ["--docker", "--listen"],
    ["--from-log", "log.txt", "--docker"],
    ["--host", "10.3.0.5", "--node", "1"],
    ["--host", "10.3.0.5; rm -rf /"],
    ["--host", "10.3.0.5", "--port", "70000"],
])
def test_usage_errors(args, tmp_path, monkeypatch):
    (tmp_path / "log.txt").write_text("ip_address: 10.3.0.5\n")
    assert run_launch(tmp_path, monkeypatch, *args) == 2
    assert not (tmp_path / ".vscode").exists()


# -- end to end: the written configuration, a DAP client and a real debugpy ---------

SCRIPT = WITH_PARSER  # an argparse script: the flags join its parser
WAIT = 60  # seconds: the bound on any single wait, a guard against a hang, not a claim of speed


def substitute(value, workspace: Path):
    """What VS Code does to ${workspaceFolder} before it sends the attach request."""
    if isinstance(value, str):
        return value.replace("${workspaceFolder}", str(workspace))
    if isinstance(value, list):
        return [substitute(v, workspace) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, workspace) for k, v in value.items()}
    return value


def test_written_configuration_attaches_and_maps_the_local_path(tmp_path, monkeypatch):
    workspace = tmp_path.resolve() / "workspace"
    node_folder = tmp_path.resolve() / "node" / "snapshot"  # where Azure ML runs the step
    port = free_port()
    local_script = workspace / "code" / "step1" / "train.py"
    local_script.parent.mkdir(parents=True)
    local_script.write_text(SCRIPT, encoding="utf-8")
    text = instrument_file(local_script, "--host", "127.0.0.1", "--port", str(port), "--timeout", "60")
    [line] = [n for n, s in enumerate(text.splitlines(), 1) if s.endswith("# BREAK")]
    node_folder.mkdir(parents=True)
    for name in ("train.py", "_instrument_debug.py"):  # the snapshot Azure ML uploads: the folder
        (node_folder / name).write_bytes((local_script.parent / name).read_bytes())
    (workspace / ".vscode").mkdir()
    launch_file(workspace).write_text('{\n\t// mine\n\t"configurations": [],\n}\n', encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY"))}
    proc = subprocess.Popen(
        [sys.executable, "-Xfrozen_modules=off", "train.py", "--remote_debug"], cwd=node_folder, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    client = None
    try:
        assert run_launch(workspace, monkeypatch, "--host", "127.0.0.1", "--port", str(port),
                          "--local-root", "code/step1") == 0
        written = jsonc.value_of(launch_file(workspace).read_text(encoding="utf-8"))
        [configuration] = written["configurations"]
        assert configuration["pathMappings"] == [{"localRoot": "${workspaceFolder}/code/step1", "remoteRoot": "."}]
        arguments = substitute(configuration, workspace)

        client = DapClient.connect(arguments["connect"]["host"], arguments["connect"]["port"], timeout=WAIT)
        local = attach_and_stop(client, arguments, local_script, line, timeout=WAIT)
        assert client.stopped["reason"] == "breakpoint"
        assert (client.frame["name"], client.frame["line"]) == ("train", line)
        # debugpy mapped the remote file back to the local copy.
        assert Path(client.frame["source"]["path"]) == local_script
        assert local["learning_rate"] == "0.125"
        assert local["epochs"] == "3"
        continue_and_disconnect(client, timeout=WAIT)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        if client is not None:
            client.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 0, err
    assert "Debugger attached = True" in out.splitlines(), out
    assert "final result 0.375" in out.splitlines(), out


# -- distributed jobs: rank lines, several logs, compounds ---------------------------


@pytest.mark.parametrize(("text", "nodes"), [
    pytest.param((LOGS / "torchrun_interleaved.txt").read_text(encoding="utf-8"),
                 # Each rank line finds its process; an unprefixed verdict can only go to the latest.
                 [Node("10.0.3.9", 5678, 60, None, 0, 0), Node("10.0.3.9", 5679, 60, True, 1, 1)], id="interleaved"),
    pytest.param("Remote debugging: rank=3 local_rank=1 address=10.0.0.5 port=5679\n",
                 [Node("10.0.0.5", 5679, rank=3, local_rank=1)], id="rank_line_alone"),
    pytest.param("[1,0]<stdout>:ip_address: 10.0.0.4\n[1,0]<stdout>:Remote debugging: listening on 10.0.0.4:5678\n"
                 "[1,0]<stdout>:Remote debugging: rank=0 local_rank=0 address=10.0.0.4 port=5678\n"
                 "[1,0]<stdout>:Debugger attached = False\nretry\n"
                 "[1,0]<stdout>:ip_address: 10.0.0.6\n[1,0]<stdout>:Remote debugging: listening on 10.0.0.6:5678\n"
                 "[1,0]<stdout>:Remote debugging: rank=0 local_rank=0 address=10.0.0.6 port=5678\n",
                 [Node("10.0.0.6", 5678, None, None, 0, 0)], id="retried_on_another_node"),
    pytest.param("ip_address: 10.0.0.4\nRemote debugging: connecting to VS Code at 10.9.9.9:5681\n"
                 "Remote debugging: rank=3 local_rank=0 client=10.9.9.9 port=5681\n",
                 [Node("10.0.0.4")], id="reverse_connection_is_no_rank_to_attach_to"),
])
def test_read_rank_lines(text, nodes):
    assert read_nodes(text) == nodes


def test_from_log_several_files_as_arguments(tmp_path, monkeypatch, capsys):
    logs = FIXTURES / "from_log_folder_ranks" / "logs" / "user_logs"
    for log in logs.iterdir():
        shutil.copy(log, tmp_path / log.name)
    (tmp_path / "notes.txt").write_text("nothing to see\n")
    # What the shell hands over for `--from-log std_log_process_0*.txt notes.txt`.
    names = sorted(p.name for p in logs.iterdir())
    assert run_launch(tmp_path, monkeypatch, "--print", "--from-log", *names, "notes.txt") == 0
    configurations, _, compounds = capsys.readouterr().out.partition(launch.COMPOUNDS_HEADER)
    printed = jsonc.value_of(f"[{configurations}]")
    assert [c["name"] for c in printed] == [f"Azure ML compute [rank {r}]" for r in range(4)]
    assert [(c["connect"]["host"], c["connect"]["port"]) for c in printed] == [
        ("10.0.0.4", 5678), ("10.0.0.4", 5679), ("10.0.0.5", 5678), ("10.0.0.5", 5679)]
    [group] = jsonc.value_of(f"[{compounds}]")
    assert group == {"name": "Azure ML compute [all ranks]", "configurations": [c["name"] for c in printed],
                     "stopAll": True}


@pytest.mark.parametrize(("args", "message"), [
    (["--from-log", "std_log_process_*.txt"], "std_log_process_*.txt: no file matches"),
    (["--from-log", "empty"], "empty: no log files (*.txt, *.log)"),
    (["--from-log", "a.txt", "b.txt"], "no `ip_address:` line in 2 logs: was the script run with --remote_debug?"),
    (["--from-log", "a.txt"], "a.txt: no `ip_address:` line: was the script run with --remote_debug?"),
    (["--from-log", "ranks.txt", "--rank", "2"], "--rank 2: the logs name ranks 0, 1"),
    (["--from-log", "ranks.txt", "--node", "3"], "--node 3: the logs name 2 ranks"),
])
def test_from_log_errors(args, message, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "a.txt").write_text("no address\n")
    (tmp_path / "b.txt").write_text("none here either\n")
    shutil.copy(LOGS / "torchrun_interleaved.txt", tmp_path / "ranks.txt")
    assert run_launch(tmp_path, monkeypatch, *args) == 123
    assert capsys.readouterr().err == message + "\n"
    assert not (tmp_path / ".vscode").exists()


@pytest.mark.parametrize("args", [
    ["--host", "10.3.0.5", "--rank", "1"],
    ["--from-log", "log.txt", "--rank", "1", "--node", "1"],
    ["--from-log", "log.txt", "--rank", "-1"],
    ["--host", "10.3.0.5", "log.txt"],
])
def test_rank_usage_errors(args, tmp_path, monkeypatch):
    (tmp_path / "log.txt").write_text("Remote debugging: rank=1 local_rank=0 address=10.3.0.5 port=5678\n")
    assert run_launch(tmp_path, monkeypatch, *args) == 2
    assert not (tmp_path / ".vscode").exists()


def test_single_process_keeps_the_plain_name(tmp_path, monkeypatch, capsys):
    (tmp_path / "std_log.txt").write_text(
        "Timeout for debug connection: 300\nip_address: 10.3.0.5\nRemote debugging: listening on 10.3.0.5:5678\n"
        "Remote debugging: rank=0 local_rank=0 address=10.3.0.5 port=5678\n")
    assert run_launch(tmp_path, monkeypatch, "--from-log", "std_log.txt") == 0
    written = jsonc.value_of(launch_file(tmp_path).read_text(encoding="utf-8"))
    assert [c["name"] for c in written["configurations"]] == ["Azure ML compute"]
    assert "compounds" not in written


COMPOUND = {"name": "all", "configurations": ["new"], "stopAll": True}


@pytest.mark.parametrize(("before", "after"), [
    pytest.param('{\n  "version": "0.2.0"\n}',
                 '{\n  "version": "0.2.0",\n  "configurations": [\n    ' + new_text("    ", "  ") + '\n  ],\n'
                 '  "compounds": [\n    {\n      "name": "all",\n      "configurations": [\n        "new"\n      ],\n'
                 '      "stopAll": true\n    }\n  ]\n}', id="both_arrays_created"),
    pytest.param('{"configurations": [], "compounds": [{"name": "all"}, {"name": "mine"}]}',
                 '{"configurations": [\n    ' + new_text("    ") + '\n], "compounds": [{\n    "name": "all",\n'
                 '    "configurations": [\n        "new"\n    ],\n    "stopAll": true\n}, {"name": "mine"}]}',
                 id="compound_replaced_by_name"),
])
def test_merge_compounds(before, after):
    assert jsonc.merge(before, [NEW], [COMPOUND])[0] == after
    assert jsonc.merge(after, [NEW], [COMPOUND]) == (after, ["new", "all"])
