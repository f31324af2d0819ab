"""What a Python module is, decided from its syntax tree (never from its text).

A comment or a string that mentions ``PythonScriptStep`` does not make a
pipeline, and a comment holding ``parser.parse_args()`` does not make an entry
script: only statements and the names they import count. These tests walk
statement lists only (imports are statements), a small fraction of a parse.
"""

from __future__ import annotations

import libcst as cst

from instrument.codemods.python.names import ImportTable, import_name
from instrument.codemods.python.sdk_modules import V1_PIPELINE_MODULES, V1_PIPELINE_NAMES
from instrument.codemods.python.statements import walk

_PARSE_METHODS = ("parse_args", "parse_known_args")


def imports(module: cst.Module) -> ImportTable:
    """Every import of the module, at any depth (in functions, under ``try``); read, not changed."""
    if _last_table[0] is not module:
        table = ImportTable()
        for node in import_statements(module):
            table.add(node)
        _last_table[:] = [module, table]
    return _last_table[1]


#: The last module asked about and its import statements: detection asks each
#: kind in turn (score, sdk_job, pipeline, train), and each asks about imports.
_last_imports: list = [None, ()]
_last_table: list = [None, None]
_last_modules: list = [None, frozenset()]


def import_statements(module: cst.Module) -> tuple:
    """Every ``import``/``from`` statement of the module, at any depth, in order."""
    if _last_imports[0] is not module:
        found = []
        for kind, statement, *_ in walk(module.body, None, None):
            if kind == "def":
                continue
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    found.append(small)
        _last_imports[:] = [module, tuple(found)]  # the module is kept: its id stays its own
    return _last_imports[1]


def imported_modules(module: cst.Module) -> frozenset[str]:
    """Dotted names of every module imported, and of every ``from`` module."""
    if _last_modules[0] is not module:
        _last_modules[:] = [module, frozenset(_imported_modules(module))]
    return _last_modules[1]


def _imported_modules(module: cst.Module) -> set[str]:
    found: set[str] = set()
    for node in import_statements(module):
        if isinstance(node, cst.Import):
            for alias in node.names:
                name = import_name(alias.name)
                if name:
                    found.add(name)
        elif node.module is not None and not node.relative:
            name = import_name(node.module)
            if name:
                found.add(name)
    return found


def _within(name: str, packages: tuple) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def uses_v1_pipeline_sdk(module: cst.Module) -> bool:
    """Imports the SDK v1 step or environment API (``PythonScriptStep``, ``CondaDependencies``)."""
    table = imports(module)
    for qualified in table.aliases.values():
        if _within(qualified, V1_PIPELINE_MODULES) and qualified.rsplit(".", 1)[-1] in V1_PIPELINE_NAMES:
            return True
    # ``import azureml.pipeline.steps as steps`` then ``steps.PythonScriptStep(...)``
    return any(_within(name, ("azureml.pipeline.steps", "azureml.core.conda_dependencies"))
               for name in imported_modules(module))


def uses_package(module: cst.Module, package: str) -> bool:
    """Whether the module imports ``package`` or anything inside it."""
    return any(_within(name, (package,)) for name in imported_modules(module))


def top_level_functions(module: cst.Module) -> set[str]:
    return {s.name.value for s in module.body if isinstance(s, cst.FunctionDef)}


def is_docstring(statement: cst.CSTNode) -> bool:
    """A statement line holding one string literal and nothing else (a docstring where it leads a body)."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def is_main_guard(statement: cst.If) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    test = statement.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    operands = (test.left, test.comparisons[0].comparator)
    return any(isinstance(o, cst.Name) and o.value == "__name__" for o in operands) and any(
        isinstance(o, cst.SimpleString) for o in operands
    )


def _is_script_statement(statement: cst.BaseStatement) -> bool:
    """Top-level code a library module would not have."""
    if isinstance(statement, (cst.For, cst.While, cst.With)):
        return True
    if isinstance(statement, cst.If):
        return is_main_guard(statement)
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


def is_entry_script(module: cst.Module) -> bool:
    """Top-level code or a ``__main__`` guard: a script a job runs, not a library module."""
    return any(_is_script_statement(statement) for statement in module.body)
