"""The Azure ML SDK modules a Python file's kind is told by (no LibCST here: the kind registry
reads them at every start, YAML-only runs included)."""

from __future__ import annotations

#: Modules of the SDK v1 pipeline API (steps and their environments).
V1_PIPELINE_MODULES = (
    "azureml.pipeline",
    "azureml.core.conda_dependencies",
    "azureml.core.runconfig",
)
#: Names whose import makes a v1 pipeline definition, wherever they come from.
V1_PIPELINE_NAMES = frozenset({"PythonScriptStep", "CondaDependencies"})
#: The SDK v2 package (azure-ai-ml).
AZURE_AI_ML = "azure.ai.ml"
