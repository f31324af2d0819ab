"""What kind of file a source is, and the add/strip transform for each kind.

One codemod per target kind; this module only chooses between them. All
functions are pure: text in, text out.
"""

from __future__ import annotations

import ast
import importlib
from typing import Optional

import libcst as cst

from instrument.codemods import markers
from instrument.codemods.errors import CodemodError
from instrument.codemods.parsing import parse_module
from instrument.codemods.templates import DebugOptions

TRAIN = "train"
SCORE = "score"
PIPELINE = "pipeline"
ENV = "env"
PYTHON_KINDS = (TRAIN, SCORE, PIPELINE)
ALL_KINDS = (TRAIN, SCORE, PIPELINE, ENV)
#: Seconds to wait for the debugger when --timeout is not given.
DEFAULT_TIMEOUTS = {TRAIN: 300, PIPELINE: 300, SCORE: 30}


TransformError = CodemodError


def parse(source: str) -> cst.Module:
    return parse_module(source)


def _is_main_guard(statement: cst.If) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    test = statement.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    operands = (test.left, test.comparisons[0].comparator)
    return any(isinstance(o, cst.Name) and o.value == "__name__" for o in operands) and any(
        isinstance(o, cst.SimpleString) for o in operands
    )


_PARSE_METHODS = ("parse_args", "parse_known_args")


def _is_script_statement(statement: cst.BaseStatement) -> bool:
    """Top-level code a library module would not have.

    Plain isinstance tests rather than LibCST matchers: this runs for every
    file, and importing libcst.matchers alone costs several Python start-ups.
    """
    if isinstance(statement, (cst.For, cst.While, cst.With)):
        return True
    if isinstance(statement, cst.If):
        return _is_main_guard(statement)
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            value = getattr(small, "value", None)
            if not isinstance(value, cst.Call):
                continue
            if isinstance(small, cst.Expr):
                return True  # a call at module level: main(), print(...), model.fit()
            func = value.func
            if isinstance(small, cst.Assign) and isinstance(func, cst.Attribute) and func.attr.value in _PARSE_METHODS:
                return True
    return False


def _top_level_functions(module: cst.Module) -> set[str]:
    return {s.name.value for s in module.body if isinstance(s, cst.FunctionDef)}


def detect_python_kind(source: str, module: Optional[cst.Module] = None) -> Optional[str]:
    """``score``, ``pipeline``, ``train`` (an entry script) or None (a library module)."""
    module = module if module is not None else parse(source)
    if {"init", "run"} <= _top_level_functions(module):
        return SCORE
    if "PythonScriptStep" in source or "CondaDependencies" in source:
        return PIPELINE
    for statement in module.body:
        if _is_script_statement(statement):
            return TRAIN
    return None


def is_conda_env(source: str) -> bool:
    """Whether a YAML text is a conda environment (met while walking: else skipped)."""
    from instrument.codemods import conda_env

    return conda_env.is_conda_env(source)


#: The codemod module for each kind; each has ``add(source, options)``.
CODEMODS = {TRAIN: "train_script", SCORE: "score_script", PIPELINE: "pipeline", ENV: "conda_env"}


def add(source: str, kind: str, options: DebugOptions, module: Optional[cst.Module] = None) -> str:
    """Instrument ``source`` as ``kind``; ``module``: its parse, when already at hand."""
    if kind not in CODEMODS:
        raise TransformError(f"unknown kind {kind!r}")
    codemod = importlib.import_module(f"instrument.codemods.{CODEMODS[kind]}")  # only what is used
    if kind == TRAIN:
        return codemod.add(source, options, module)
    return codemod.add(source, options)


def strip(source: str, kind: str) -> str:
    """Remove every instrument block; the result must still parse."""
    try:
        result = markers.remove_blocks(source)
    except markers.MarkerError as exc:
        raise TransformError(str(exc)) from None
    if result != source and kind in PYTHON_KINDS:
        try:
            compile(result, "<stripped>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError):
            parse(result)  # LibCST knows more grammars; it raises if the result is broken
    return result
