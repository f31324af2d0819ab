"""Azure ML v2 online deployments (managed and Kubernetes): the scoring script, its environment, its timeouts.

``code_configuration: {code: ./src, scoring_script: score.py}`` names the
scoring script: a companion of the ``score`` kind (the block in ``init()``
that waits for VS Code). The environment gets debugpy as a job's does (its
local conda file, an inline conda_file, an environment file; a note for a
registered one). The request timeout and the probes are raised to allow for
the wait and for a request paused at a breakpoint, and the instance count
lowered to one (:mod:`instrument.codemods.kinds.deployment.edits`). A deployment that
runs no scoring script of its own (a custom container, a registered code
asset, a script that cannot be instrumented) is left as it is, with a note.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any, Optional

from instrument.codemods.kinds.base import LISTENER_OPTIONS, YAML, Companion, Kind, Note, Plan
from instrument.codemods.v2.registry import verify

if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap

    from instrument.codemods.v2 import plan as v2_plan

#: ``$schema`` names (lower case, without ``.schema.json``) of online deployments.
SCHEMAS = frozenset({"managedonlinedeployment", "kubernetesonlinedeployment"})
#: Keys only a batch deployment has (it too names an endpoint and a scoring script).
BATCH_KEYS = frozenset({"compute", "mini_batch_size", "output_action", "output_file_name", "retry_settings",
                        "max_concurrency_per_instance", "error_threshold", "logging_level", "settings", "job_definition"})
#: Keys of an online deployment besides ``endpoint_name``: one of them goes with it.
ONLINE_KEYS = frozenset({"code_configuration", "instance_type", "instance_count", "request_settings",
                         "liveness_probe", "readiness_probe", "model", "environment", "app_insights_enabled"})
#: What a job's note about debugpy suggests, and what is true of a scoring script instead.
_JOB_ADVICE = ", or use --install-debugpy to install it before the entry script"
_SCORE_ADVICE = " (without it the scoring script says so in one line and serves without a debugger)"


def detect(text: str, data: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap

    from instrument.codemods.v2 import plan as v2_plan

    if not isinstance(data, CommentedMap):
        return False
    schema = v2_plan.schema_name(data)
    if schema is not None:
        return schema in SCHEMAS
    keys = set(data)
    return ("endpoint_name" in keys and bool(ONLINE_KEYS & keys) and not BATCH_KEYS & keys
            and "command" not in keys and data.get("type") in (None, "managed", "kubernetes"))


def scoring_script(data: CommentedMap) -> tuple[Optional[str], Optional[str]]:
    """(path of the scoring script as the deployment names it, None) or (None, why there is none here)."""
    from ruamel.yaml.comments import CommentedMap

    configuration = data.get("code_configuration")
    if not isinstance(configuration, CommentedMap):
        return None, "no code_configuration: the deployment runs no scoring script of its own"
    code, script = configuration.get("code"), configuration.get("scoring_script")
    if isinstance(code, CommentedMap):  # early samples: code: {local_path: ./src}
        code = code.get("local_path")
    if not isinstance(script, str) or not script.strip():
        return None, "code_configuration names no scoring_script"
    folder = code[len("file:"):] if isinstance(code, str) and code.startswith("file:") else code
    if not isinstance(folder, str) or folder.startswith(("azureml:", "git+")) or ":" in folder.split("/")[0]:
        return None, f"code_configuration.code {code!s} is not a local folder: the scoring script is not here"
    return posixpath.normpath(posixpath.join(folder, script)), None


def _walk(builder: v2_plan.Builder, data: CommentedMap) -> str:
    from instrument.codemods.kinds.deployment import edits as v2_deployment
    from instrument.codemods.v2 import anchors as v2_anchors, plan as v2_plan

    configuration = v2_anchors.child(builder.root, "code_configuration")
    where = configuration[0] if configuration else builder.root
    script, why = scoring_script(data)
    why = why or v2_plan.unavailable(builder, script or "")
    if script is None or why:
        builder.note(where, f"{why}; nothing to debug here, the deployment is left as it is")
        return "the deployment runs no scoring script that can be instrumented"
    builder.companions.append(Companion(script, "score", entry=True))
    v2_plan.plan_environment(builder, data, ())
    v2_deployment.plan_settings(builder, data, builder.options.timeout or 0)
    return "its settings already allow for debugging"


def plan(text: str, data: Any, options) -> Plan:
    from instrument.codemods.v2 import plan as v2_plan

    builder = v2_plan.Builder(text, options)
    reason = _walk(builder, data)
    result = builder.plan(reason)
    notes = [Note(n.line, n.col, n.message.replace(_JOB_ADVICE, _SCORE_ADVICE).replace(
        "the image that runs the command", "the image that serves the model")) for n in result.notes]
    return Plan(result.insertions, notes, result.companions, result.reason, result.warnings, result.expected)


KIND = Kind(
    name="deployment",
    language=YAML,
    summary="an Azure ML v2 online deployment, managed or Kubernetes (code_configuration: scoring_script)",
    detect=detect,
    plan=plan,
    verify=verify,
    # The scoring script's wait (the score kind's): a service must answer its probes soon.
    default_timeout=30,
    options=frozenset(LISTENER_OPTIONS - {"ranks"}),
    suffixes=(".yml", ".yaml"),
    priority=74,
    brings=True,
)
