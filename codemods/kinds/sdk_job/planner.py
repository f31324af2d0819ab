"""Instrument an Azure ML SDK v2 submission script (azure-ai-ml).

For each job definition (``command(...)``, ``CommandComponent(...)``; with
``--step`` only those whose node name is listed):

* the debug flags go after the Python entry of its ``command=`` string,
  in place (see :mod:`instrument.codemods.v2.strings`), also when the command
  is bound to a name once in the same function or at module level;
* an environment referenced by name (``azureml:...``, a registry, a curated
  image) cannot get debugpy here: a note says so, and ``--install-debugpy``
  puts ``pip install debugpy && `` before the entry;
* ``--service`` adds ``services={...: VsCodeJobService(nodes="all")}`` (or
  ``SshJobService``) to ``command(...)`` jobs, with its import;
* reuse is turned off: ``force_rerun=True`` on ``@dsl.pipeline(...)``, else
  ``<job>.settings.force_rerun = True`` after a pipeline job's settings, else
  ``is_deterministic=False`` on components that are not submitted here.

Every ``Environment(conda_file=...)`` gets debugpy: a local file is a
companion (the ``env`` kind edits it), a dict literal is edited in place.
Changed statements are swapped whole-line for fenced blocks that keep the
original lines behind ``#:``, as for SDK v1 pipelines.
"""

from __future__ import annotations

import dataclasses
import posixpath
from typing import Optional

import libcst as cst

from instrument.codemods.fences import markers
from instrument.codemods.v2 import yaml_edits as v2_yaml
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.python.parsing import parse_module
from instrument.codemods.python.call_arguments import preferred_quote, quoted
from instrument.codemods.kinds.base import Companion, Note, Plan
from instrument.codemods.python.names import free_name
from instrument.codemods.core.options import Options
from instrument.codemods.kinds.sdk_job.python import (
    CODE_CONFIGURATION,
    PROBE_SETTINGS,
    REQUEST_SETTINGS,
    SERVICE_CLASSES,
    Analysis,
    JobDef,
    analyse,
    defines_jobs,
    keyword,
    string_value,
    uses_azure_ai_ml,
)
from instrument.codemods.kinds.sdk_job.command import instrument_command
from instrument.codemods.kinds.sdk_job.conda import appended_element, with_debugpy
from instrument.codemods.kinds.sdk_job.rewrite import assemble
from instrument.codemods.runtime import score_debug
from instrument.codemods.v2 import deployment_settings as needed

LABEL_JOB = "debug flags for this job (remove with `instrument strip`)"
LABEL_ENV = "debugpy in this environment"
LABEL_REUSE = "no reuse while debugging"
LABEL_SERVICE = "interactive service for the debugger"
LABEL_IMPORT = "import for the interactive service"


class _Edits:
    """The changes to make: node replacements, keywords per call, statements touched."""

    label_job = LABEL_JOB
    lines: list[str]  # the script's lines, set by plan_from

    def __init__(self, analysis: Analysis, options: Options, quote) -> None:
        self.analysis, self.options = analysis, options
        self._quote = quote  # the quote style, or how to find it (asked only when a string is written)
        self.nodes: dict = {}  # original node -> new node
        self.keywords: dict = {}  # original Call -> [(keyword, code)]
        self.statements: dict = {}  # original statement -> label
        self.notes: list[Note] = []
        self.companions: list[Companion] = []
        self.entries = 0  # job commands that carry the flags
        self.service_class: str | None = None
        self.taken: dict = {}  # --take-over: original string node -> the node without hand-written debug arguments
        self.taken_expressions: set = set()
        self.classes: dict = {}  # azure.ai.ml.entities class the deployment settings need -> its local name

    @property
    def quote(self) -> str:
        if callable(self._quote):
            self._quote = self._quote()
        return self._quote

    def note(self, node: cst.CSTNode, message: str) -> None:
        line, col = self.analysis.line(node)
        self.notes.append(Note(line, col, message))

    def touch(self, node: cst.CSTNode, label: str) -> bool:
        statement = self.analysis.statement_of(node)
        if statement is None:
            self.note(node, "in a compound statement's header (if/for/with): not instrumented; move it to a line of its own")
            return False
        if self.statements.get(statement) != LABEL_JOB:
            self.statements[statement] = label
        return True

    def set_keyword(self, call: cst.Call, name: str, code: str, label: str) -> None:
        if self.touch(call, label):
            self.keywords.setdefault(call, []).append((name, code))


def _add_service(edits: _Edits, job: JobDef) -> None:
    options = edits.options
    local = edits.service_class or _service_class(edits)
    edits.service_class = local
    if options.service == "ssh":
        public_key = options.ssh_public_key
        assert public_key is not None, "Options requires the key with --service ssh"
        entry = f"{local}(ssh_public_keys={quoted(public_key, edits.quote)}, nodes={quoted('all', edits.quote)})"
        key = "ssh"
    else:
        entry = f"{local}(nodes={quoted('all', edits.quote)})"
        key = "vscode"
    existing = keyword(job.call, "services")
    if existing is None:
        edits.set_keyword(job.call, "services", "{" + f"{quoted(key, edits.quote)}: {entry}" + "}", LABEL_SERVICE)
        return
    value = existing.value
    if not isinstance(value, cst.Dict):
        edits.note(value, "services= is not a dict literal; add the interactive service by hand")
        return
    keys = {string_value(e.key) for e in value.elements if isinstance(e, cst.DictElement)}
    key = free_name(key, {k for k in keys if k})
    element = cst.DictElement(cst.parse_expression(quoted(key, edits.quote)), cst.parse_expression(entry))
    if edits.touch(value, LABEL_SERVICE):
        edits.nodes[value] = appended_element(value, element)


def _local_class(edits: _Edits, qualified: str) -> tuple[str, bool]:
    """(the name a class of azure.ai.ml has in the script, whether the script imports it): its own
    import's, else a name free in the script and among the classes this plan imports."""
    table = edits.analysis.table
    for local, name in table.aliases.items():
        if name == qualified:
            return local, True
    taken = table.bound_names | {name for _, name in edits.analysis.bindings} | set(edits.classes.values())
    return free_name(qualified.rsplit(".", 1)[1], taken), False


def _service_class(edits: _Edits) -> str:
    service = edits.options.service
    assert service is not None, "a service is added with --service only"
    return _local_class(edits, f"azure.ai.ml.entities.{SERVICE_CLASSES[service]}")[0]


def _needs_import(edits: _Edits) -> bool:
    local = edits.service_class
    return local is not None and local not in edits.analysis.table.aliases


def _environments(edits: _Edits) -> None:
    for call, _statement, function in edits.analysis.environments:
        arg = keyword(call, "conda_file")
        if arg is None:
            continue
        value = arg.value
        path = edits.analysis.text_of(value, function)
        if isinstance(value, cst.Name):
            bound, _ = edits.analysis.bound_value(function, value.value)
            value = bound if bound is not None else value
        if path is not None:
            if not path.startswith("azureml:"):
                edits.companions.append(Companion(path, "env"))
            continue
        if isinstance(value, cst.Dict):
            new = with_debugpy(value, edits.quote)
            if new is not None and edits.touch(value, LABEL_ENV):
                edits.nodes[value] = new
            continue
        edits.note(value, "conda_file is neither a path nor a dict literal here; add debugpy to it by hand")


def _reuse(edits: _Edits, instrumented: list) -> list:
    """Turn off reuse; returns the pure insertions (settings lines)."""
    analysis = edits.analysis
    for decorator, _ in analysis.decorators:
        target = decorator.decorator
        if isinstance(target, cst.Call):
            edits.set_keyword(target, "force_rerun", "True", LABEL_REUSE)
        elif edits.touch(decorator, LABEL_REUSE):
            edits.nodes[target] = cst.Call(target, args=[cst.Arg(cst.Name("True"), keyword=cst.Name("force_rerun"),
                                                                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))])
    for call in analysis.pipeline_calls:
        edits.set_keyword(call, "force_rerun", "True", LABEL_REUSE)
    if analysis.decorators or analysis.pipeline_calls:
        return []
    insertions = []
    lines = edits.lines
    for (_function, name), statements in analysis.settings.items():
        statement = statements[-1]
        if statement is None:
            continue
        end = analysis.positions[statement].end.line
        text = lines[analysis.positions[statement].start.line - 1]
        indent = text[: len(text) - len(text.lstrip(" \t\f"))]
        insertions.append(markers.Insertion(end, indent, LABEL_REUSE, [f"{name}.settings.force_rerun = True"]))
    if insertions:
        return insertions
    for job in instrumented:
        submitted = job.call in analysis.submitted or (job.variable in analysis.submitted)
        if not submitted and not job.is_loaded and job.qualified != "azure.ai.ml.entities.CommandJob":
            edits.set_keyword(job.call, "is_deterministic", "False", LABEL_REUSE)
    return []


def _loaded_component(edits: _Edits, job: JobDef) -> None:
    """``load_component(source="./train.yml")``: the YAML holds the command, so it is a companion.

    The path is taken relative to the submission script's folder (where the
    samples run it from). A source that is not surely one local file (a
    computed path, a registered ``azureml:`` component, a URL) gets a note.
    """
    source = keyword(job.call, "source") or (job.call.args[0] if job.call.args else None)
    where = edits.analysis.text_of(source.value, job.function) if source is not None else None
    local = v2_yaml.local_path(where) if where is not None else None
    if local is not None:
        edits.companions.append(Companion(local, "component"))
        return
    edits.note(job.call, f"the component's command is in {where or 'its YAML file'}: "
                         f"run instrument add on {where or 'that file'} too")


def plan_with_metadata(clean: str, module: cst.Module, options: Options, taken_over: bool = False) -> Plan:
    """The plan from a LibCST metadata pass over the whole module, rewritten whole."""
    found = plan_from(clean, module, options, analyse(module), assemble, taken_over)
    if found is None:  # pragma: no cover  (only another assembler is given None)
        raise InstrumentError("internal error: no plan from the metadata way")
    return found


def plan_from(clean: str, module: cst.Module, options: Options, analysis: Analysis, assembler,
              taken_over: bool = False) -> Optional[Plan]:
    """The plan from an analysis; ``assembler(edits, module, pure, label)`` makes the blocks."""
    if not defines_jobs(analysis):
        return Plan(reason="imports azure.ai.ml but defines no job (command, CommandComponent, load_component, "
                           "dsl.pipeline); a training script that uses the SDK: --kind train")
    edits = _Edits(analysis, options, lambda: preferred_quote(module, '"'))
    edits.lines = markers.split_lines(clean)
    selected = [j for j in analysis.jobs if not options.steps or j.names & set(options.steps)]
    if options.steps and not selected:
        names = ", ".join(options.steps)
        return Plan(reason=f"no job or pipeline node named {names} is defined here",
                    warnings=[f"--step {names}: no such job or pipeline node here"])
    done: set = set()
    instrumented = []
    reassigned = _reassigned_commands(clean) if any(job.variable for job in selected) else {}
    for job in selected:
        if job.is_loaded:
            _loaded_component(edits, job)
            continue
        if job.variable in reassigned:
            edits.note(job.call, f"{job.variable}.command is set again at line {reassigned[job.variable]}, which "
                                 "replaces this command: no debug flags here; put them in that string by hand")
            continue
        if instrument_command(edits, job, done):
            instrumented.append(job)
            if options.service and job.is_builder:
                _add_service(edits, job)
    if edits.taken:
        if assembler is not assemble:
            return None  # taken over: planned again, the metadata way, on the script without them
        if taken_over:
            raise InstrumentError("internal error: hand-written debug arguments left after taking them over")
        source = module.visit(_Replacer(edits.taken)).code
        again = plan_with_metadata(source, parse_module(source), options, taken_over=True)
        if not again.insertions:  # nothing to instrument without them: the file stays as it is, said truly
            return again
        taken_notes = [note for note in edits.notes if "--take-over" in note.message]
        return dataclasses.replace(again, source=source, notes=list(again.notes) + taken_notes)
    for call, function in edits.analysis.deployments:
        _deployment(edits, call, function)
    if instrumented or edits.companions:  # debugpy only where some job here runs a debugged script
        _environments(edits)
    pure = _reuse(edits, instrumented)
    if _needs_import(edits):
        pure.append(_import_insertion(edits, module))
    if edits.classes:
        pure.append(_classes_import(edits, module))
    return assembler(edits, module, pure, LABEL_JOB)


LABEL_DEPLOYMENT = markers.LABEL_YAML_DEPLOYMENT


def _deployment(edits: _Edits, call: cst.Call, function) -> None:
    """``ManagedOnlineDeployment(...)``: its scoring script is a companion (the score kind), and the
    settings a debugging session needs are raised as in a deployment's YAML (v2.deployment_settings)."""
    options = edits.options
    # The scoring script waits its own default unless --timeout was given.
    timeout = options.timeout if "timeout" in options.given and options.timeout is not None else score_debug.TIMEOUT
    code = keyword(call, "code_configuration")
    configuration = _settings_call(edits, code.value, function, CODE_CONFIGURATION) if code else None
    if configuration is None:
        edits.note(call, "code_configuration is not a CodeConfiguration(...) here: run instrument add on the "
                         "scoring script too")
        return
    folder, script = (keyword(configuration, name) for name in ("code", "scoring_script"))
    folder_text = edits.analysis.text_of(folder.value, function) if folder else None
    script_text = edits.analysis.text_of(script.value, function) if script else None
    local = folder_text[len("file:"):] if folder_text and folder_text.startswith("file:") else folder_text
    if not local or ":" in local.split("/")[0] or not script_text:  # azureml:, a URL: not a folder here
        edits.note(configuration, "the scoring script is not a path written here: run instrument add on it too")
        return
    path = posixpath.normpath(posixpath.join(local, script_text))
    why = dict(options.unavailable).get(path)
    if why:
        edits.note(configuration, f"scoring script {script_text}: {why}; the deployment is left as it is")
        return
    edits.companions.append(Companion(path, "score", entry=True))
    count = keyword(call, "instance_count")
    if count is not None and isinstance(count.value, cst.Integer) and int(count.value.value, 0) > 1:
        if edits.touch(count.value, LABEL_DEPLOYMENT):
            edits.nodes[count.value] = count.value.with_changes(value="1")
            edits.note(count.value, f"instance_count {count.value.value} -> 1 while debugging: one container to "
                                    "attach to (`instrument strip` puts it back)")
    request_ms = needed.MAX_REQUEST_TIMEOUT_MS
    _at_least(edits, call, function, "request_settings", REQUEST_SETTINGS, {"request_timeout_ms": request_ms})
    for probe in needed.PROBES:
        given = keyword(call, probe)
        existing = _settings_call(edits, given.value, function, PROBE_SETTINGS) if given else None
        period_arg = keyword(existing, "period") if existing is not None else None
        period = int(period_arg.value.value, 0) if period_arg and isinstance(period_arg.value, cst.Integer) else 0
        period = period or needed.DEFAULT_PERIOD
        _at_least(edits, call, function, probe, PROBE_SETTINGS, {
            "initial_delay": needed.initial_delay(timeout),
            "failure_threshold": needed.failure_threshold(timeout, period, request_ms),
        })
    _worker_timeout(edits, call, str(needed.worker_timeout(timeout, request_ms)))


def _settings_call(edits: _Edits, value: Optional[cst.BaseExpression], function, qualified: str) -> Optional[cst.Call]:
    """The ``qualified(...)`` call ``value`` is, written there or bound once to its name."""
    if isinstance(value, cst.Name):
        value, _ = edits.analysis.bound_value(function, value.value)
    if isinstance(value, cst.Call) and edits.analysis.table.qualified_name(value.func) == qualified:
        return value
    return None


def _class_name(edits: _Edits, qualified: str) -> str:
    """The local name of an azure.ai.ml.entities class: the script's own import, else one to add."""
    if qualified not in edits.classes:
        local, imported = _local_class(edits, qualified)
        if imported:
            return local
        edits.classes[qualified] = local
    return edits.classes[qualified]


def _at_least(edits: _Edits, call: cst.Call, function, name: str, qualified: str, wanted: dict) -> None:
    """``name=Class(key=value, ...)`` with each value at least ``wanted``: added where missing."""
    arg = keyword(call, name)
    if arg is None:
        values = ", ".join(f"{key}={value}" for key, value in wanted.items())
        edits.set_keyword(call, name, f"{_class_name(edits, qualified)}({values})", LABEL_DEPLOYMENT)
        return
    settings = _settings_call(edits, arg.value, function, qualified)
    if settings is None:
        values = ", ".join(f"{key}={value}" for key, value in wanted.items())
        edits.note(arg.value, f"{name} is not a {qualified.rsplit('.', 1)[1]}(...) here: set {values} by hand")
        return
    for key, value in wanted.items():
        given = keyword(settings, key)
        if given is None:
            edits.set_keyword(settings, key, str(value), LABEL_DEPLOYMENT)
        elif isinstance(given.value, cst.Integer):
            if int(given.value.value, 0) < value and edits.touch(given.value, LABEL_DEPLOYMENT):
                edits.nodes[given.value] = given.value.with_changes(value=str(value))
        else:
            edits.note(given.value, f"{name}.{key} is not a number written here: set it to {value} by hand")


def _worker_timeout(edits: _Edits, call: cst.Call, seconds: str) -> None:
    """``environment_variables={"WORKER_TIMEOUT": "3600"}``: gunicorn leaves a worker held at a breakpoint alone."""
    arg = keyword(call, "environment_variables")
    entry = f"{quoted('WORKER_TIMEOUT', edits.quote)}: {quoted(seconds, edits.quote)}"
    if arg is None:
        edits.set_keyword(call, "environment_variables", "{" + entry + "}", LABEL_DEPLOYMENT)
        return
    value = arg.value
    if not isinstance(value, cst.Dict):
        edits.note(value, f"environment_variables is not a dict literal here: set WORKER_TIMEOUT to {seconds} by hand")
        return
    for element in value.elements:
        if isinstance(element, cst.DictElement) and string_value(element.key) == "WORKER_TIMEOUT":
            current = string_value(element.value)
            if current is not None and current.strip().isdigit() and int(current) >= int(seconds):
                return
            if edits.touch(element.value, LABEL_DEPLOYMENT):
                edits.nodes[element.value] = cst.parse_expression(quoted(seconds, edits.quote))
            return
    element = cst.DictElement(cst.parse_expression(quoted("WORKER_TIMEOUT", edits.quote)),
                              cst.parse_expression(quoted(seconds, edits.quote)))
    if edits.touch(value, LABEL_DEPLOYMENT):
        edits.nodes[value] = appended_element(value, element)


def _classes_import(edits: _Edits, module: cst.Module) -> markers.Insertion:
    """``from azure.ai.ml.entities import OnlineRequestSettings, ...`` after the first azure.ai.ml import."""
    names = []
    for qualified, local in sorted(edits.classes.items()):
        wanted = qualified.rsplit(".", 1)[1]
        names.append(wanted + (f" as {local}" if local != wanted else ""))
    return _after_azure_import(edits, module, markers.LABEL_DEPLOYMENT_IMPORT,
                               "from azure.ai.ml.entities import " + ", ".join(names))


def _reassigned_commands(clean: str) -> dict:
    """{variable: line} of ``variable.command = ...`` assignments (the job's command replaced after it was built)."""
    import ast

    from instrument.codemods.python.positions import ast_tree
    from instrument.codemods.python.source_facts import nodes_of

    tree = ast_tree(clean)  # the parse the statement way reads too (the last one is kept)
    if tree is None:
        return {}
    found: dict = {}
    for node in nodes_of(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "command" and isinstance(target.value, ast.Name):
                found.setdefault(target.value.id, node.lineno)
    return found


class _Replacer(cst.CSTTransformer):
    """Puts the given nodes in place of the originals (the rest of the module keeps every byte)."""

    def __init__(self, nodes: dict) -> None:
        super().__init__()
        self.nodes = nodes

    def on_leave(self, original, updated):
        return self.nodes.get(original, updated)


def _import_insertion(edits: _Edits, module: cst.Module) -> markers.Insertion:
    """``from azure.ai.ml.entities import VsCodeJobService`` after the first azure.ai.ml import."""
    service = edits.options.service
    assert service is not None, "the service class is imported with --service only"
    wanted = SERVICE_CLASSES[service]
    local = edits.service_class
    line = f"from azure.ai.ml.entities import {wanted}" + (f" as {local}" if local != wanted else "")
    return _after_azure_import(edits, module, LABEL_IMPORT, line)


def _after_azure_import(edits: _Edits, module: cst.Module, label: str, line: str) -> markers.Insertion:
    """A fenced import line after the script's first import of azure.ai.ml (else at the top)."""
    for statement in module.body:
        if uses_azure_ai_ml(cst.Module(body=[statement])):
            end = edits.analysis.positions[statement].end.line
            return markers.Insertion(end, "", label, [line])
    return markers.Insertion(0, "", label, [line])


def verify(result: str, clean: str, plan: Plan) -> None:
    from instrument.codemods.python.parsing import verify_rewritten
    from instrument.codemods.kinds.sdk_job.blocks import Rewritten, verify_statements

    if isinstance(plan.expected, Rewritten):  # planned statement by statement
        # A block that only adds lines (an import, a pipeline's force_rerun) is no rewritten
        # statement: only a parse of the whole result proves where it went.
        added = any(not insertion.replaces for insertion in plan.insertions)
        verify_statements(result, clean, plan.expected, whole=added)
    else:
        verify_rewritten(result, clean, plan.expected)
