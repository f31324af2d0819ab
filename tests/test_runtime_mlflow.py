"""The address on the job's MLflow run: tags next to the log lines.

Azure ML v2 jobs track with MLflow: the job sets MLFLOW_TRACKING_URI and
MLFLOW_RUN_ID, and the script's MLflow calls go to that run. A listening
process puts its address and port on the run as tags, on a real MLflow
tracking store (the file store in tmp_path). In this process the listener is
a stand-in for debugpy (a real one would make pytest a debuggee); the end to
end tests run real debugpy, real MLflow and a DAP client, and a script that
cannot import MLflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from instrument.codemods.runtime import remote_debug
from tests.layout import instrument_file
from tests.dap import DapClient, attach_and_stop, continue_and_disconnect
from tests.debuggees import FINAL, STANDALONE
from tests.processes import Proc
from tests.test_runtime_helper import HELPER, namespace
from tests.ports import free_port

TAGGER = "remote-debug-mlflow-tags"
WAIT = 60  # seconds: the bound on any single wait (importing MLflow alone takes 1-4 s; more on a loaded machine)


@pytest.fixture
def store(tmp_path, monkeypatch) -> MlflowClient:
    """A tracking store in tmp_path, named by MLFLOW_TRACKING_URI as Azure ML names its own."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store behind this switch
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    for variable in ("MLFLOW_RUN_ID", *remote_debug.LOCAL_RANK_VARIABLES, *remote_debug.RANK_VARIABLES):
        monkeypatch.delenv(variable, raising=False)
    return MlflowClient()


def job_run(store: MlflowClient, monkeypatch) -> str:
    """A run created as the job creates it, named by MLFLOW_RUN_ID."""
    run_id = store.create_run("0").info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", run_id)
    return run_id


def our_tags(store: MlflowClient, run_id: str) -> dict:
    return {k: v for k, v in store.get_run(run_id).data.tags.items() if k.startswith("remote_debug")}


@pytest.fixture
def listener(monkeypatch):
    """debugpy's listening calls, standing in for it: listen binds the asked port, nobody attaches."""
    stand_in = types.ModuleType("debugpy")
    stand_in.configure = lambda **options: None
    stand_in.listen = lambda address: address
    stand_in.wait_for_client = lambda: None
    stand_in.wait_for_client.cancel = lambda: None
    stand_in.is_client_connected = lambda: False
    monkeypatch.setitem(sys.modules, "debugpy", stand_in)


def debug(capsys, port: int = 6123) -> tuple[str, str]:
    """The helper in this process, listening on loopback; (stdout, stderr) once it has tagged."""
    vars(HELPER).pop("started", None)
    HELPER(namespace(remote_debug_port=port, remote_debug_host="127.0.0.1", remote_debug_connection_timeout=5))
    for thread in threading.enumerate():
        if thread.name == TAGGER:
            thread.join(WAIT)
            assert not thread.is_alive()
    return capsys.readouterr()


# -- in this process ------------------------------------------------------------------


def test_the_run_the_job_names_gets_the_address_and_nothing_else_changes(store, monkeypatch, listener, capsys):
    plain_out, plain_err = debug(capsys)  # no run: the lines users read today
    run_id = job_run(store, monkeypatch)
    out, err = debug(capsys)
    assert our_tags(store, run_id) == {"remote_debug.address": "127.0.0.1", "remote_debug.port": "6123"}
    assert (out, err) == (plain_out, plain_err)
    assert "Remote debugging: listening on 127.0.0.1:6123\n" in out
    # No run was started for the script: MLflow's own start_run resumes the job's run.
    assert os.environ["MLFLOW_RUN_ID"] == run_id
    assert mlflow.active_run() is None
    with mlflow.start_run() as run:
        assert run.info.run_id == run_id


def test_why_not_mlflow_set_tag_it_would_take_the_run_from_the_script(store, monkeypatch):
    run_id = job_run(store, monkeypatch)
    try:
        mlflow.set_tag("probe", "1")
        assert mlflow.active_run().info.run_id == run_id  # MLflow 3 also takes MLFLOW_RUN_ID out of os.environ
        with pytest.raises(Exception, match="already active"):
            mlflow.start_run()
    finally:
        mlflow.end_run()


def test_each_rank_has_its_own_tags_on_the_shared_run(store, monkeypatch, listener, capsys):
    run_id = job_run(store, monkeypatch)
    for rank in ("0", "3"):
        monkeypatch.setenv("RANK", rank)
        debug(capsys, port=6200)
    assert our_tags(store, run_id) == {
        "remote_debug.address": "127.0.0.1", "remote_debug.port": "6200",
        "remote_debug.rank3.address": "127.0.0.1", "remote_debug.rank3.port": "6200",
    }


def test_the_scripts_active_run_is_tagged_before_the_one_the_job_names(store, monkeypatch, listener, capsys):
    named = job_run(store, monkeypatch)
    other = store.create_run("0").info.run_id
    with mlflow.start_run(run_id=other):
        debug(capsys)
        assert mlflow.active_run().info.run_id == other  # still the script's run
    assert our_tags(store, other) == {"remote_debug.address": "127.0.0.1", "remote_debug.port": "6123"}
    assert our_tags(store, named) == {}


def test_without_a_run_mlflow_is_not_even_imported(store, monkeypatch, listener, capsys):
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    out, err = debug(capsys)
    assert "mlflow" not in sys.modules
    assert not any(t.name == TAGGER for t in threading.enumerate())
    assert "Remote debugging: listening on 127.0.0.1:6123\n" in out and err == ""


def test_without_mlflow_nothing_changes(store, monkeypatch, listener, capsys):
    plain = debug(capsys)
    run_id = job_run(store, monkeypatch)
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it raises ImportError
    assert debug(capsys) == plain
    monkeypatch.undo()
    assert our_tags(store, run_id) == {}


@pytest.mark.parametrize(
    ("uri", "run_id", "reason"),
    [
        (None, "0" * 32, "not found"),  # a run the store does not have
        ("azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/x", "1" * 32, "azureml"),  # no azureml-mlflow
    ],
    ids=["unknown run", "no tracking plugin"],
)
def test_a_failure_is_one_line_and_the_script_goes_on(store, monkeypatch, listener, capsys, uri, run_id, reason):
    plain_out, _ = debug(capsys)
    if uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_RUN_ID", run_id)
    out, err = debug(capsys)
    assert out == plain_out
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert err.startswith(f"Remote debugging: cannot tag MLflow run {run_id}: "), err
    assert reason in err.lower(), err


# -- end to end: real debugpy, real MLflow, a DAP client ---------------------------------

ROOT = Path(__file__).resolve().parents[1]
PYTHON = [sys.executable, "-Xfrozen_modules=off"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYDEVD", "DEBUGPY", "MLFLOW"))}
ENV["PYTHONUNBUFFERED"] = "1"

# A script that tracks with MLflow itself, after the helper has run.
TRACKED = STANDALONE.replace(
    'print("final result", train())',
    'import mlflow\n\nwith mlflow.start_run() as run:\n    mlflow.log_param("epochs", 3)\n'
    '    print("mlflow run", run.info.run_id)\n    print("final result", train())',
)


def instrumented(tmp_path: Path, body: str) -> tuple[Path, int]:
    path = tmp_path / "train.py"
    path.write_text(body, encoding="utf-8")
    instrument_file(path, "--host", "127.0.0.1", "--timeout", "300")
    [line] = [n for n, s in enumerate(path.read_text().splitlines(), 1) if s.endswith("# BREAK")]
    return path, line


def test_end_to_end_the_job_run_shows_the_address_while_the_script_waits(tmp_path, store, monkeypatch):
    run_id = job_run(store, monkeypatch)
    script, line = instrumented(tmp_path, TRACKED)
    port = free_port()
    env = {**ENV, "MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"], "MLFLOW_RUN_ID": run_id,
           "MLFLOW_ALLOW_FILE_STORE": "true"}
    proc = Proc([*PYTHON, str(script), "--remote_debug", "--remote_debug_port", str(port)], tmp_path, env, wait=WAIT)
    try:
        proc.wait_for_line(f"listening on 127.0.0.1:{port}")
        deadline = time.monotonic() + WAIT
        while not our_tags(store, run_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert our_tags(store, run_id) == {"remote_debug.address": "127.0.0.1", "remote_debug.port": str(port)}
        client = DapClient.connect("127.0.0.1", port, timeout=WAIT)
        try:
            local = attach_and_stop(client, {"connect": {"host": "127.0.0.1", "port": port}}, script, line, timeout=WAIT)
            assert local["learning_rate"] == "0.125"
            continue_and_disconnect(client, timeout=WAIT)
        finally:
            client.close()
        assert proc.finish() == 0, proc.report()
    finally:
        proc.kill()
    assert proc.err == [], proc.report()
    assert proc.out[-2:] == [f"mlflow run {run_id}", FINAL], proc.report()  # the script's run is the job's
    assert store.get_run(run_id).data.params == {"epochs": "3"}


def without_mlflow(tmp_path: Path) -> tuple[list[str], dict]:
    """An interpreter that has debugpy but cannot import MLflow: no site-packages, debugpy alone on the path."""
    import debugpy

    alone = tmp_path / "only-debugpy"
    alone.mkdir()
    (alone / "debugpy").symlink_to(Path(debugpy.__file__).parent, target_is_directory=True)
    python = [*PYTHON, "-S"]
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(alone), str(ROOT)])}
    for probe, code in (("import debugpy", 0), ("import mlflow", 1)):
        result = subprocess.run([*python, "-c", probe], env=env, capture_output=True, text=True, timeout=WAIT)
        assert result.returncode == code, result.stderr
    return python, env


def test_end_to_end_without_mlflow_nothing_changes(tmp_path, store, monkeypatch):
    run_id = job_run(store, monkeypatch)
    script, _ = instrumented(tmp_path, STANDALONE)
    python, env = without_mlflow(tmp_path)
    port = free_port()
    runs = []
    for extra in ({}, {"MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"], "MLFLOW_RUN_ID": run_id}):
        proc = Proc([*python, str(script), "--remote_debug", "--remote_debug_port", str(port),
                     "--remote_debug_connection_timeout", "1"], tmp_path, {**env, **extra}, wait=WAIT)
        assert proc.finish() == 0, proc.report()
        runs.append((proc.out, proc.err))
    assert runs[0] == runs[1]
    out, err = runs[1]
    assert f"Remote debugging: listening on 127.0.0.1:{port}" in out and out[-1] == FINAL
    assert err == []
    assert our_tags(store, run_id) == {}
