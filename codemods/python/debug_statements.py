"""Which statements of a script only serve remote debugging written by hand.

Read by :mod:`take_over` (``add --take-over``), which removes them. Decided
from the syntax tree, names resolved through the module's imports (any alias
of ``debugpy`` or ``ptvsd``): a statement serves debugging when it calls or
imports the debugger, declares a ``--remote_debug*`` option, or, inside a
block that debugs, only logs or computes names that nothing else reads
(``ip = socket.gethostbyname(...)``). Anything that might change what the
script computes (a call to the script's own code, an attribute set on an
object, an ``else``) is work, and makes the block mixed.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from instrument.codemods.python.names import ImportTable

DEBUGGERS = frozenset({"debugpy", "ptvsd"})
FLAG_PREFIX = "--remote_debug"
ATTRIBUTE_PREFIX = FLAG_PREFIX[2:]
#: Calls a debug-only block may make besides the debugger's: logging and
#: finding the node's address, nothing that changes what the script computes.
_QUIET_BUILTINS = frozenset({"print", "str", "int", "float", "bool", "len", "repr", "format"})
_QUIET_CALLS = frozenset({"os.environ.get", "os.getenv"})
_QUIET_MODULES = frozenset({"socket"}) | DEBUGGERS
_LOGGER_NAMES = frozenset({"log", "logger", "logging", "LOGGER", "LOG", "_logger"})
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception"})

def _module_of(qualified: Optional[str]) -> Optional[str]:
    return qualified.split(".", 1)[0] if qualified else None


def _strings(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


class Names(cst.CSTVisitor):
    """Every name a piece of code reads or writes (attribute and keyword names excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.remote_debug_attributes: list[cst.Attribute] = []

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if node.attr.value.startswith(ATTRIBUTE_PREFIX):
            self.remote_debug_attributes.append(node)
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)

    def visit_Import(self, node: cst.Import) -> bool:
        return False  # an import binds; only what reads the name counts as a use

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False


def names_in(node: cst.CSTNode) -> Names:
    found = Names()
    node.visit(found)
    return found


class Classifier:
    """Which statements only serve debugging, with the module's imports resolved."""

    def __init__(self, module: cst.Module) -> None:
        self.table = ImportTable()
        module.visit(_ImportCollector(self.table))
        self.uses = names_in(module).names

    def qualified(self, node: cst.BaseExpression) -> Optional[str]:
        return self.table.qualified_name(node)

    def debugger_call(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Call) and _module_of(self.qualified(node.func)) in DEBUGGERS

    def debugger_import(self, small: cst.BaseSmallStatement) -> bool:
        if isinstance(small, cst.Import):
            return all(_module_of(cst.helpers.get_full_name_for_node(a.name)) in DEBUGGERS for a in small.names)
        if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            return _module_of(cst.helpers.get_full_name_for_node(small.module)) in DEBUGGERS
        return False

    def flag_argument(self, small: cst.BaseSmallStatement) -> bool:
        """``parser.add_argument('--remote_debug_port', ...)``: every option string one of ours."""
        if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
            return False
        call = small.value
        if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_argument"):
            return False
        options = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        texts = [_strings(option) for option in options]
        return bool(texts) and all(text is not None and text.startswith(FLAG_PREFIX) for text in texts)

    def quiet(self, node: cst.CSTNode) -> bool:
        """Does evaluating ``node`` only read values, log, or ask the debugger or the resolver?"""
        checker = _Quiet(self)
        node.visit(checker)
        return checker.ok

    def quiet_call(self, call: cst.Call) -> bool:
        func = call.func
        if isinstance(func, cst.Name) and func.value in _QUIET_BUILTINS and func.value not in self.table.aliases:
            return True
        qualified = self.qualified(func)
        if qualified in _QUIET_CALLS or _module_of(qualified) in _QUIET_MODULES:
            return True
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value in _LOG_METHODS
            and isinstance(func.value, cst.Name)
            and func.value.value in _LOGGER_NAMES
        )

    def serves_debugging(self, statement: cst.CSTNode, assigned: list) -> bool:
        """Only debugs, logs or computes names for that (collected in ``assigned``)."""
        if isinstance(statement, cst.SimpleStatementLine):
            return all(self._small_serves(small, assigned) for small in statement.body)
        if isinstance(statement, cst.SimpleStatementSuite):
            return all(self._small_serves(small, assigned) for small in statement.body)
        if isinstance(statement, cst.IndentedBlock):
            return all(self.serves_debugging(s, assigned) for s in statement.body)
        if isinstance(statement, cst.If):
            return (
                self.quiet(statement.test)
                and self.serves_debugging(statement.body, assigned)
                and (statement.orelse is None or self.serves_debugging(statement.orelse, assigned))
            )
        if isinstance(statement, cst.Else):
            return self.serves_debugging(statement.body, assigned)
        if isinstance(statement, cst.Try):
            parts = [statement.body, *(h.body for h in statement.handlers)]
            parts += [p.body for p in (statement.orelse, statement.finalbody) if p is not None]
            return all(self.serves_debugging(part, assigned) for part in parts)
        return False

    def _small_serves(self, small: cst.BaseSmallStatement, assigned: list) -> bool:
        if isinstance(small, cst.Pass) or self.debugger_import(small):
            return True
        if isinstance(small, cst.Import):
            return all(_module_of(cst.helpers.get_full_name_for_node(a.name)) in _QUIET_MODULES for a in small.names)
        if isinstance(small, cst.Expr):
            return isinstance(small.value, cst.Call) and self.quiet(small.value)
        if isinstance(small, cst.Assign):
            names = [t.target for t in small.targets if isinstance(t.target, cst.Name)]
            if len(names) != len(small.targets):
                return False  # an attribute or item set on some object is work
            assigned.extend(name.value for name in names)
            return self.quiet(small.value)
        return False

    def debug_if(self, node: cst.If) -> bool:
        """An ``if`` (no ``elif``/``else``) that only debugs: removed whole."""
        if node.orelse is not None or not self.quiet(node.test):
            return False
        if not (names_in(node.test).remote_debug_attributes or self.calls_debugger(node.body)):
            return False
        assigned: list = []
        if not self.serves_debugging(node.body, assigned):
            return False
        inside = names_in(node).names
        # A name the block computes that is read elsewhere would be unbound without it.
        return all(self.uses.count(name) == inside.count(name) for name in set(assigned))

    def calls_debugger(self, node: cst.CSTNode) -> bool:
        finder = _DebuggerUse(self)
        node.visit(finder)
        return finder.found


class _ImportCollector(cst.CSTVisitor):
    def __init__(self, table: ImportTable) -> None:
        super().__init__()
        self.table = table

    def visit_Import(self, node: cst.Import) -> None:
        self.table.add(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.table.add(node)


class _Quiet(cst.CSTVisitor):
    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier, self.ok = classifier, True

    def visit_Call(self, node: cst.Call) -> None:
        self.ok = self.ok and self.classifier.quiet_call(node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.ok = False

    def visit_Await(self, node: cst.Await) -> None:
        self.ok = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.ok = False


class _DebuggerUse(cst.CSTVisitor):
    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier, self.found = classifier, False

    def visit_Call(self, node: cst.Call) -> None:
        self.found = self.found or self.classifier.debugger_call(node)

    def visit_Import(self, node: cst.Import) -> None:
        self.found = self.found or self.classifier.debugger_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.found = self.found or self.classifier.debugger_import(node)
