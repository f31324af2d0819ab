"""What a name or a value in Python source stands for, for ``instrument check``.

Names are resolved as LibCST's ``QualifiedNameProvider`` would for imports,
without its scope analysis (several parses' worth of time): a name bound by
several imports may mean any of them, and a name bound by none means what it
spells. Beyond imports, the ways a module or a function travels as a value:
``from debugpy import *``; ``importlib.import_module``, ``__import__``,
``sys.modules[...]``, ``pkgutil.resolve_name("debugpy:listen")``,
``getattr``/``operator.attrgetter``/``operator.methodcaller``,
``vars(debugpy)["listen"]``, ``debugpy.__dict__["listen"]``,
``globals()["debugpy"]`` and ``functools.partial`` stand for what they
return; an assignment (``l = debugpy.listen``, ``self.dbg = debugpy``, a
class attribute, a dict or list of them) makes an alias. Strings are read
with :mod:`.values`, so ``import_module("de" + "bugpy")`` is debugpy.
"""

from __future__ import annotations

import ast
from typing import Optional

from instrument.codemods.check.values import Bindings

_LISTEN = "opens a debug listener"
_CONNECT = "connects out to a debugger"
_WAIT = "waits for a debugger to attach"
_BREAK = "breaks into an attached debugger"
_NETWORK = "opens a debugger on the network"
#: The calls that make a process reachable by (or reach out to) a debugger,
#: with why each one is dangerous in production: the public names and the
#: modules that implement them (``debugpy.server.api``, ptvsd's
#: ``attach_server``, the pydevd underneath both).
DEBUG_CALLS = {
    "debugpy.listen": _LISTEN,
    "debugpy.connect": _CONNECT,
    "debugpy.wait_for_client": _WAIT,
    "debugpy.breakpoint": _BREAK,
    "ptvsd.enable_attach": _LISTEN,
    "ptvsd.wait_for_attach": _WAIT,
    "ptvsd.break_into_debugger": _BREAK,
    **{f"debugpy.{module}.{name}": why for module in ("public_api", "server.api")
       for name, why in (("listen", _LISTEN), ("connect", _CONNECT), ("wait_for_client", _WAIT),
                         ("breakpoint", _BREAK))},
    **{f"ptvsd.attach_server.{name}": why for name, why in (("enable_attach", _LISTEN),
                                                           ("wait_for_attach", _WAIT),
                                                           ("break_into_debugger", _BREAK))},
    "debugpy.server.cli.main": "runs the debugpy command line (a debug listener)",
    "pydevd.settrace": _CONNECT,
    "pydevd_pycharm.settrace": _CONNECT,
}
#: Debuggers that only exist to be reached over the network: everything they
#: define that is called (or passed on to be called) is a finding.
NETWORK_DEBUGGERS = ("remote_pdb", "web_pdb", "madbg")
#: Modules whose names a finding needs somewhere in the decoded source.
MODULE_NAMES = ("debugpy", "ptvsd", "pydevd", "remote_pdb", "web_pdb", "madbg")
#: The last parts of the debugger functions (what ``methodcaller("listen")`` names).
DEBUG_ATTRIBUTES = frozenset(name.rsplit(".", 1)[1] for name in DEBUG_CALLS) | {"set_trace", "RemotePdb", "WebPdb"}
#: Calls that return the module named by their first argument.
DYNAMIC_IMPORTS = frozenset({"importlib.import_module", "__import__", "builtins.__import__", "importlib.__import__"})
_ATTRIBUTE_GETTERS = frozenset({"getattr", "builtins.getattr", "inspect.getattr_static"})
_NAMESPACES = frozenset({"vars", "builtins.vars", "globals", "locals", "builtins.globals"})
_PASS_THROUGH = frozenset({"functools.partial", "functools.partialmethod", "staticmethod", "classmethod",
                           "functools.wraps", "functools.lru_cache", "functools.cache"})
#: Roots of the names an assignment may alias (``l = debugpy.listen``).
ALIASED_ROOTS = frozenset({*MODULE_NAMES, "pydevd_pycharm", "runpy", "importlib", "subprocess", "os", "asyncio",
                           "pty", "builtins", "__import__", "exec", "eval", "compile", "functools", "operator",
                           "pkgutil", "shlex", "sys", "getattr", "vars", "azure", "azureml", "threading"})
_MAX_DEPTH = 10


def debug_message(name: str) -> Optional[str]:
    """Why calling the function ``name`` (a qualified name) must not ship, or None."""
    if name in DEBUG_CALLS:
        return DEBUG_CALLS[name]
    for module in NETWORK_DEBUGGERS:
        if name.startswith(module + ".") and not name.rsplit(".", 1)[1].startswith("_"):
            return f"{_NETWORK} ({module})"
    return None


class Names:
    """The module's imports and aliases, and what an expression stands for."""

    def __init__(self, nodes: dict[type, list], bindings: Bindings) -> None:
        self.table: dict[str, set[str]] = {}
        self.attributes: dict[str, set[str]] = {}  # attribute name -> what some assignment binds it to
        self.bindings = bindings
        self._memo: dict[int, set[str]] = {}
        self._final = False  # while the aliases are collected, a reading may still change
        for node in nodes.get(ast.Import, ()):
            for alias in node.names:
                if alias.asname:
                    self.table.setdefault(alias.asname, set()).add(alias.name)
                else:
                    top = alias.name.split(".", 1)[0]
                    self.table.setdefault(top, set()).add(top)
        for node in nodes.get(ast.ImportFrom, ()):
            if node.level or not node.module:
                continue
            for alias in node.names:
                if alias.name != "*":
                    self.table.setdefault(alias.asname or alias.name, set()).add(f"{node.module}.{alias.name}")
                else:
                    self._star(node.module)
        assignments: list[tuple[list[ast.expr], ast.expr]] = [(n.targets, n.value) for n in nodes.get(ast.Assign, ())]
        assignments += [([n.target], n.value) for n in [*nodes.get(ast.AnnAssign, ()), *nodes.get(ast.NamedExpr, ())]
                        if n.value is not None]
        for _ in range(2):  # an alias of an alias
            for targets, value in assignments:
                meanings = {m for m in self.resolve(value) if m.split(".", 1)[0] in ALIASED_ROOTS}
                if not meanings:
                    continue
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.table.setdefault(target.id, set()).update(meanings)
                    elif isinstance(target, ast.Attribute):
                        self.attributes.setdefault(target.attr, set()).update(meanings)
                if any(isinstance(t, ast.Name) for t in targets):  # a class attribute is read as C.name
                    for target in targets:
                        if isinstance(target, ast.Name):
                            self.attributes.setdefault(target.id, set()).update(meanings)
        self._final = True

    def _star(self, module: str) -> None:
        prefix = f"{module}."
        for name in DEBUG_CALLS:  # what a star import of a debugger module binds
            if name.startswith(prefix) and "." not in name[len(prefix):]:
                self.table.setdefault(name[len(prefix):], set()).add(name)
        if module in NETWORK_DEBUGGERS:
            for attribute in ("set_trace", "RemotePdb", "WebPdb", "post_mortem", "set_trace_on_connect"):
                self.table.setdefault(attribute, set()).add(f"{module}.{attribute}")

    def strings(self, node: Optional[ast.AST]) -> list[str]:
        return self.bindings.strings(node)

    def resolve(self, node: Optional[ast.AST], depth: int = 0) -> set[str]:
        """The qualified names an expression may stand for (empty: none known); read once per
        expression once the aliases are known."""
        if node is None or depth > _MAX_DEPTH:
            return set()
        if not self._final:
            return self._resolve(node, depth + 1)
        key = id(node)
        if key not in self._memo:
            self._memo[key] = set()  # reached again while being read: adds nothing
            self._memo[key] = self._resolve(node, depth + 1)
        return self._memo[key]

    def _resolve(self, node: ast.AST, depth: int) -> set[str]:
        if isinstance(node, ast.Name):
            found = self.table.get(node.id) or {node.id}
            for value in self.bindings.values.get(node.id, ())[:8] if self._final else ():
                if isinstance(value, (ast.Dict, ast.List, ast.Tuple, ast.Lambda)):
                    found = found | self.resolve(value, depth)
            return found
        if isinstance(node, ast.Attribute):
            found = {f"{base}.{node.attr}" for base in self.resolve(node.value, depth)}
            return found | self.attributes.get(node.attr, set())
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, depth)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return set().union(*(self.resolve(item, depth) for item in node.elts)) if node.elts else set()
        if isinstance(node, ast.Dict):
            return set().union(*(self.resolve(v, depth) for v in node.values)) if node.values else set()
        if isinstance(node, (ast.IfExp, ast.BoolOp)):
            parts = (node.body, node.orelse) if isinstance(node, ast.IfExp) else node.values
            return set().union(*(self.resolve(part, depth) for part in parts))
        if isinstance(node, ast.NamedExpr):
            return self.resolve(node.value, depth)
        if isinstance(node, ast.Lambda):
            return self.resolve(node.body, depth) if isinstance(node.body, ast.Call) else set()
        if isinstance(node, ast.Starred):
            return self.resolve(node.value, depth)
        return set()

    def _call(self, node: ast.Call, depth: int) -> set[str]:
        callee = self.resolve(node.func, depth)
        first = node.args[0] if node.args else None
        if callee & DYNAMIC_IMPORTS:
            from_list = node.args[3] if len(node.args) > 3 else _keyword(node, "fromlist")
            whole = "importlib.import_module" in callee or (from_list is not None and _truthy(from_list))
            texts = self.strings(first if first is not None else _keyword(node, "name"))
            return {text if whole else text.split(".", 1)[0] for text in texts}
        if callee & _ATTRIBUTE_GETTERS and len(node.args) >= 2:
            bases = self.resolve(first, depth)
            return {f"{base}.{attribute}" for base in bases for attribute in self.strings(node.args[1])}
        if "pkgutil.resolve_name" in callee:
            return {text.replace(":", ".") for text in self.strings(first)}
        if callee & _PASS_THROUGH and first is not None:
            return self.resolve(first, depth)
        if isinstance(node.func, ast.Call) and first is not None:  # attrgetter("x")(obj), methodcaller("x")(obj)
            getter = self.resolve(node.func.func, depth)
            if getter & {"operator.attrgetter", "operator.methodcaller"} and node.func.args:
                names = self.strings(node.func.args[0])
                return {f"{base}.{name}" for base in self.resolve(first, depth) for name in names}
        return set()

    def _subscript(self, node: ast.Subscript, depth: int) -> set[str]:
        keys = self.strings(node.slice)
        container = node.value
        if isinstance(container, ast.Attribute) and container.attr == "__dict__":
            return {f"{base}.{key}" for base in self.resolve(container.value, depth) for key in keys}
        if isinstance(container, ast.Call) and self.resolve(container.func, depth) & _NAMESPACES:
            if container.args:  # vars(debugpy)["listen"]
                return {f"{base}.{key}" for base in self.resolve(container.args[0], depth) for key in keys}
            return set().union(*(self.table.get(key) or {key} for key in keys)) if keys else set()
        if "sys.modules" in self.resolve(container, depth):
            return set(keys)
        return self.resolve(container, depth)  # an item of a list or dict of aliases


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _truthy(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return bool(node.value)
    return not (isinstance(node, (ast.List, ast.Tuple)) and not node.elts)
