"""What an Azure ML SDK v2 submission script (azure-ai-ml) defines, from its syntax tree.

A script that builds jobs with ``command(...)``, ``CommandComponent(...)``,
``load_component(...)`` or ``@dsl.pipeline`` is not the training script: the
job's *command* is. Names are resolved through the module's imports
(:class:`~instrument.codemods.python.names.ImportTable`), so ``from azure.ai.ml
import command as cmd`` and ``import azure.ai.ml as aml; aml.command(...)``
count and a local function called ``command`` does not. The edits are made
by :mod:`instrument.codemods.kinds.sdk_job.planner`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Optional, Protocol, TypeVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from instrument.codemods.python.names import ImportTable
from instrument.codemods.python.sdk_modules import AZURE_AI_ML
from instrument.codemods.python.syntax_kinds import imported_modules, imports

PACKAGE = AZURE_AI_ML
COMMAND_BUILDER = "azure.ai.ml.command"
COMMAND_CLASSES = frozenset({"azure.ai.ml.entities.CommandComponent", "azure.ai.ml.entities.CommandJob"})
LOAD_COMPONENT = "azure.ai.ml.load_component"
PIPELINE_DECORATORS = frozenset({"azure.ai.ml.dsl.pipeline"})
ENVIRONMENT = "azure.ai.ml.entities.Environment"
PIPELINE_JOB = "azure.ai.ml.entities.PipelineJob"
SERVICE_CLASSES = {"vs_code": "VsCodeJobService", "ssh": "SshJobService"}
SUBMIT_METHODS = frozenset({"create_or_update", "begin_create_or_update"})
#: Online deployments and the settings objects they take (azure.ai.ml.entities).
DEPLOYMENT_CLASSES = frozenset({"azure.ai.ml.entities.ManagedOnlineDeployment",
                                "azure.ai.ml.entities.KubernetesOnlineDeployment"})
CODE_CONFIGURATION = "azure.ai.ml.entities.CodeConfiguration"
REQUEST_SETTINGS = "azure.ai.ml.entities.OnlineRequestSettings"
PROBE_SETTINGS = "azure.ai.ml.entities.ProbeSettings"


_Found = TypeVar("_Found", covariant=True)


class NodeLookup(Protocol[_Found]):
    """Where a node's position or parent is looked up: LibCST's metadata, or the lazy
    lookups of :mod:`instrument.codemods.kinds.sdk_job.places` (the statements looked at only)."""

    def __getitem__(self, node: cst.CSTNode, /) -> _Found: ...


def uses_azure_ai_ml(module: cst.Module) -> bool:
    """Imports azure.ai.ml (or anything inside it)."""
    return any(name == PACKAGE or name.startswith(PACKAGE + ".") for name in imported_modules(module)) or any(
        value == PACKAGE or value.startswith(PACKAGE + ".") for value in imports(module).aliases.values()
    )


@dataclass
class JobDef:
    """A ``command(...)``/``CommandComponent(...)``/``load_component(...)`` call."""

    call: cst.Call
    qualified: str
    function: Optional[cst.FunctionDef]
    statement: Optional[cst.CSTNode]  # the SimpleStatementLine holding it (None: elsewhere)
    names: set = field(default_factory=set)  # node names: variable, name=, dict key, nodes built from it
    variable: Optional[str] = None

    @property
    def is_builder(self) -> bool:
        return self.qualified == COMMAND_BUILDER

    @property
    def is_loaded(self) -> bool:
        return self.qualified == LOAD_COMPONENT


@dataclass
class Analysis:
    table: ImportTable
    jobs: list = field(default_factory=list)  # JobDef, in source order
    decorators: list = field(default_factory=list)  # (Decorator, FunctionDef)
    pipeline_calls: list = field(default_factory=list)  # dsl.pipeline(...) used as a function
    environments: list = field(default_factory=list)  # (Environment Call, statement)
    deployments: list = field(default_factory=list)  # (ManagedOnlineDeployment Call, function)
    #: (function, name) -> the values bound to it (None for a binding that is no plain `name = value`).
    bindings: dict = field(default_factory=dict)
    #: (function, name) -> statements assigning ``name.settings.<x>`` (pipeline jobs).
    settings: dict = field(default_factory=dict)
    submitted: set = field(default_factory=set)  # names and calls passed to create_or_update
    node_calls: list = field(default_factory=list)  # (target name, callee name)
    keyed: list = field(default_factory=list)  # (key, value expression) of dict literals
    #: Set once the module is read (analyse(), or the fast path's reader).
    positions: NodeLookup[CodeRange] = field(default_factory=dict)
    parents: NodeLookup[cst.CSTNode] = field(default_factory=dict)

    def line(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.positions[node].start
        return start.line, start.column + 1

    def bound_value(self, function, name: str) -> tuple[Optional[cst.BaseExpression], int]:
        """The one value ``name`` is bound to in ``function`` (else at module level), and how many bindings."""
        values = self.bindings.get((function, name))
        if values is None and function is not None:
            values = self.bindings.get((None, name))
        if not values:
            return None, 0
        return (values[0] if len(values) == 1 else None), len(values)

    def text_of(self, node: Optional[cst.BaseExpression], function, depth: int = 0) -> Optional[str]:
        """The string a path expression surely is: literals, names bound once to one, ``+``, ``os.path.join``."""
        if node is None or depth > 8:
            return None
        text = string_value(node)
        if text is not None:
            return text
        if isinstance(node, cst.Name):
            bound, _ = self.bound_value(function, node.value)
            return self.text_of(bound, None if bound is None else function, depth + 1)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left, right = self.text_of(node.left, function, depth + 1), self.text_of(node.right, function, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(node, cst.Call) and self.table.qualified_name(node.func) == "os.path.join" and node.args:
            parts = [None if arg.star or arg.keyword else self.text_of(arg.value, function, depth + 1) for arg in node.args]
            texts = [part for part in parts if part is not None]
            return None if len(texts) < len(parts) else posixpath.join(*texts)
        return None

    def statement_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The SimpleStatementLine or Decorator holding ``node`` (None: in a compound statement's header)."""
        while not isinstance(node, cst.Module):
            if isinstance(node, (cst.SimpleStatementLine, cst.Decorator)):
                return node
            if isinstance(node, (cst.BaseCompoundStatement, cst.SimpleStatementSuite)):
                return None
            node = self.parents[node]
        return None


class JobVisitor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis
        self.functions: list = []

    @property
    def function(self):
        return self.functions[-1] if self.functions else None

    def qualified(self, node: cst.BaseExpression) -> Optional[str]:
        return self.analysis.table.qualified_name(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            target = decorator.decorator
            func = target.func if isinstance(target, cst.Call) else target
            if self.qualified(func) in PIPELINE_DECORATORS:
                self.analysis.decorators.append((decorator, node))
        self.functions.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()

    def _bind(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression]) -> None:
        if isinstance(target, cst.Name):
            self.analysis.bindings.setdefault((self.function, target.value), []).append(value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value if len(node.targets) == 1 else None)
            settings = target.target
            if (  # ``job.settings.x = ...``
                isinstance(settings, cst.Attribute)
                and isinstance(settings.value, cst.Attribute)
                and isinstance(settings.value.value, cst.Name)
                and settings.value.attr.value == "settings"
            ):
                key = (self.function, settings.value.value.value)
                self.analysis.settings.setdefault(key, []).append(self.analysis.statement_of(node))
        value = node.value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and len(node.targets) == 1:
            if isinstance(node.targets[0].target, cst.Name):
                self.analysis.node_calls.append((node.targets[0].target.value, value.func.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)

    def visit_Dict(self, node: cst.Dict) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                self.analysis.keyed.append((element.key.evaluated_value, element.value))

    def visit_Call(self, node: cst.Call) -> None:
        # Not `command(...)(x=1)`: LibCST names a call by its callee, and that outer call is a node, not a job.
        qualified = self.qualified(node.func) if isinstance(node.func, (cst.Name, cst.Attribute)) else None
        analysis = self.analysis
        if qualified == COMMAND_BUILDER or qualified in COMMAND_CLASSES or qualified == LOAD_COMPONENT:
            analysis.jobs.append(JobDef(node, qualified, self.function, analysis.statement_of(node)))
        elif qualified in PIPELINE_DECORATORS and not isinstance(analysis.parents[node], cst.Decorator):
            analysis.pipeline_calls.append(node)
        elif qualified == ENVIRONMENT:
            analysis.environments.append((node, analysis.statement_of(node), self.function))
        elif qualified in DEPLOYMENT_CLASSES:
            analysis.deployments.append((node, self.function))
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in SUBMIT_METHODS and node.args:
            first = node.args[0].value
            analysis.submitted.add(first.value if isinstance(first, cst.Name) else first)
        if qualified == PIPELINE_JOB:
            parent = analysis.parents[node]
            if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
                key = (self.function, parent.targets[0].target.value)
                analysis.settings.setdefault(key, []).append(analysis.statement_of(parent))


def string_value(node: Optional[cst.BaseExpression]) -> Optional[str]:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    return next((arg for arg in call.args if arg.keyword is not None and arg.keyword.value == name), None)


def _name_job(analysis: Analysis, job: JobDef) -> None:
    named = keyword(job.call, "name")
    if named is not None and string_value(named.value):
        job.names.add(string_value(named.value))
    node: cst.CSTNode = job.call
    parent = analysis.parents[node]
    if isinstance(parent, cst.Call) and parent.func is node:  # command(...)(inputs...): a node right away
        node, parent = parent, analysis.parents[parent]
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        name = parent.targets[0].target.value
        job.names.add(name)
        if node is job.call:
            job.variable = name


def analyse(module: cst.Module) -> Analysis:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    analysis = Analysis(imports(module))
    analysis.positions = wrapper.resolve(PositionProvider)
    analysis.parents = wrapper.resolve(ParentNodeProvider)
    wrapper.visit(JobVisitor(analysis))
    return named(analysis)


def named(analysis: Analysis) -> Analysis:
    """Each job's node names, once every call and binding is collected."""
    for job in analysis.jobs:
        _name_job(analysis, job)
    by_variable = {job.variable: job for job in analysis.jobs if job.variable}
    for target, callee in analysis.node_calls:
        if callee in by_variable:
            by_variable[callee].names.add(target)
    for key, value in analysis.keyed:
        callee = value.func if isinstance(value, cst.Call) else value
        for job in analysis.jobs:
            if value is job.call or (isinstance(callee, cst.Name) and callee.value == job.variable):
                job.names.add(key)
    return analysis


def defines_jobs(analysis: Analysis) -> bool:
    return bool(analysis.jobs or analysis.decorators or analysis.pipeline_calls or analysis.settings
                or analysis.deployments)
