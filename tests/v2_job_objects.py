"""Run a submission script with the real azure-ai-ml and print the jobs it builds, as JSON.

Usage (from the scripts' folder): ``python v2_job_objects.py script.py...``. The
script runs as a module named ``submission`` (not ``__main__``), so its
guarded ``ml_client.jobs.create_or_update(...)`` does not run; every job,
component and pipeline job it leaves in its globals (or returns from a
``build_jobs()`` function, when it has one) is described by what would be
submitted: command, environment, services, reuse settings.
"""

from __future__ import annotations

import json
import os
import runpy
import sys


def describe(obj):
    from azure.ai.ml.entities import CommandComponent, OnlineDeployment, PipelineJob
    from azure.ai.ml.entities._builders.command import Command

    if isinstance(obj, OnlineDeployment):
        probes = {name: getattr(obj, name) for name in ("liveness_probe", "readiness_probe")}
        return {
            "type": "deployment",
            "code": obj.code_configuration.code if obj.code_configuration else None,
            "scoring_script": obj.code_configuration.scoring_script if obj.code_configuration else None,
            "instance_count": obj.instance_count,
            "request_timeout_ms": obj.request_settings.request_timeout_ms if obj.request_settings else None,
            "environment_variables": dict(obj.environment_variables or {}),
            **{name: {key: getattr(probe, key) for key in ("initial_delay", "period", "failure_threshold")}
               for name, probe in probes.items() if probe is not None},
        }
    if isinstance(obj, PipelineJob):
        return {
            "type": "pipeline",
            "force_rerun": obj.settings.force_rerun,
            "jobs": {name: describe(node) for name, node in obj.jobs.items()},
        }
    if isinstance(obj, Command):
        component = obj.component
        return {
            "type": "command",
            "command": obj.command,
            "environment": _environment(obj.environment),
            "services": {k: _service(v) for k, v in (obj.services or {}).items()},
            "is_deterministic": getattr(component, "is_deterministic", None) if not isinstance(component, str) else None,
        }
    if isinstance(obj, CommandComponent):
        return {
            "type": "component",
            "command": obj.command,
            "environment": _environment(obj.environment),
            "is_deterministic": obj.is_deterministic,
        }
    return None


def _service(service):
    found = {"class": type(service).__name__, "type": service.type, "nodes": service.nodes}
    if getattr(service, "ssh_public_keys", None):
        found["ssh_public_keys"] = service.ssh_public_keys
    return found


def _environment(environment):
    if environment is None or isinstance(environment, str):
        return environment
    return {"image": environment.image, "conda_file": environment.conda_file}


def objects_of(path: str) -> dict:
    scope = runpy.run_path(path, run_name="submission")
    objects = dict(scope)
    if callable(scope.get("build_jobs")):
        objects.update(scope["build_jobs"]())
    described = {}
    for name, value in objects.items():
        try:
            found = describe(value)
        except Exception as exc:  # pragma: no cover - shows up as a test failure
            found = {"error": f"{type(exc).__name__}: {exc}"}
        if found is not None:
            described[name] = found
    return described


def main(paths: list) -> None:
    sys.path.insert(0, os.getcwd())
    json.dump({path: objects_of(path) for path in paths}, sys.stdout, indent=1, sort_keys=True, default=str)


if __name__ == "__main__":
    main(sys.argv[1:])
