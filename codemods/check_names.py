"""What a call in Python source means, for ``instrument check``: qualified
names resolved through the module's imports, and the calls that start or
reach a debugger.

Names are resolved as LibCST's ``QualifiedNameProvider`` would for imports,
without its scope analysis (several parses' worth of time): a name bound by
several imports may mean any of them, and a name bound by none means what it
spells. Beyond imports: ``from debugpy import *`` binds debugpy's calls;
``importlib.import_module("debugpy")``, ``__import__("debugpy")``,
``sys.modules["debugpy"]`` and ``getattr(debugpy, "listen")`` stand for what
they return; a plain assignment (``l = debugpy.listen``) makes an alias.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from instrument.codemods import check_commands

_LISTEN = "opens a debug listener"
_CONNECT = "connects out to a debugger"
_WAIT = "waits for a debugger to attach"
_BREAK = "breaks into an attached debugger"
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
#: Modules whose names a finding needs somewhere in the decoded source.
MODULE_NAMES = ("debugpy", "ptvsd", "pydevd")
#: Calls that return the module named by their first argument.
_DYNAMIC_IMPORTS = frozenset({"importlib.import_module", "__import__", "builtins.__import__", "importlib.__import__"})
#: Calls that run a module as ``python -m`` would.
_RUN_MODULE = frozenset({"runpy.run_module", "runpy._run_module_as_main"})
#: Calls that run a command line (a string for a shell, or a list of words).
_SPAWN_CALLS = frozenset(
    {f"subprocess.{name}" for name in ("run", "call", "check_call", "check_output", "Popen", "getoutput",
                                       "getstatusoutput")}
    | {f"os.{name}" for name in ("system", "popen", "execv", "execve", "execl", "execle", "execlp", "execlpe",
                                 "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv",
                                 "spawnve", "spawnvp", "spawnvpe", "posix_spawn", "posix_spawnp")}
    | {"asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "pty.spawn"}
)
#: Roots of the names an assignment may alias (``l = debugpy.listen``).
_ALIASED_ROOTS = frozenset({*MODULE_NAMES, "pydevd_pycharm", "runpy", "importlib", "subprocess", "os", "asyncio",
                            "pty", "builtins", "__import__"})


def _string(node: Optional[ast.AST]) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _resolve(node: ast.AST, table: dict[str, set[str]]) -> set[str]:
    """The qualified names an expression may stand for (empty: none known).

    A name bound by imports (or an aliasing assignment) means what they bind;
    one bound by none means what it spells.
    """
    if isinstance(node, ast.Name):
        return table.get(node.id) or {node.id}
    if isinstance(node, ast.Attribute):
        return {f"{base}.{node.attr}" for base in _resolve(node.value, table)}
    if isinstance(node, ast.Call):
        callee = _resolve(node.func, table)
        first = _string(node.args[0]) if node.args else _string(_keyword(node, "name"))
        if callee & _DYNAMIC_IMPORTS and first:
            from_list = node.args[3] if len(node.args) > 3 else _keyword(node, "fromlist")
            whole = "importlib.import_module" in callee or (from_list is not None and _truthy(from_list))
            return {first if whole else first.split(".", 1)[0]}
        if "getattr" in callee and len(node.args) >= 2 and _string(node.args[1]):
            return {f"{base}.{node.args[1].value}" for base in _resolve(node.args[0], table)}
        return set()
    if isinstance(node, ast.Subscript) and _string(node.slice) and "sys.modules" in _resolve(node.value, table):
        return {node.slice.value}
    return set()


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _truthy(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return bool(node.value)
    return not (isinstance(node, (ast.List, ast.Tuple)) and not node.elts)


def imports_and_calls(tree: ast.Module) -> tuple[dict[str, set[str]], list[ast.Call]]:
    """Local name -> the qualified names its imports (anywhere in the module)
    and aliasing assignments bind it to; and every call, in one walk of the tree."""
    table: dict[str, set[str]] = {}
    calls: list[ast.Call] = []
    assignments: list[tuple[list[ast.expr], ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table.setdefault(alias.asname, set()).add(alias.name)
                else:
                    top = alias.name.split(".", 1)[0]
                    table.setdefault(top, set()).add(top)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                if alias.name != "*":
                    table.setdefault(alias.asname or alias.name, set()).add(f"{node.module}.{alias.name}")
                    continue
                prefix = f"{node.module}."
                for name in DEBUG_CALLS:  # what a star import of a debugger module binds
                    if name.startswith(prefix) and "." not in name[len(prefix):]:
                        table.setdefault(name[len(prefix):], set()).add(name)
        elif isinstance(node, ast.Assign):
            assignments.append((node.targets, node.value))
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            assignments.append(([node.target], node.value))
    for _ in range(2):  # an alias of an alias
        for targets, value in assignments:
            meanings = {m for m in _resolve(value, table) if m.split(".", 1)[0] in _ALIASED_ROOTS}
            for target in targets:
                if meanings and isinstance(target, ast.Name):
                    table.setdefault(target.id, set()).update(meanings)
    return table, calls


def _call_message(name: str, spelling: str) -> str:
    alias = f" (called as {spelling}())" if spelling != name else ""
    return f"{name}(){alias} {DEBUG_CALLS[name]}"


def _spelling(node: ast.expr) -> str:
    """The callee as written, kept short and on one line for a message."""
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def call_findings(node: ast.Call, table: dict[str, set[str]]) -> Iterator[tuple[str, str]]:
    """(qualified name, message) for each reason a call must not ship."""
    callee = _resolve(node.func, table)
    for name in sorted(callee & DEBUG_CALLS.keys()):
        yield name, _call_message(name, _spelling(node.func))
    if callee & _RUN_MODULE:
        module = _string(node.args[0]) if node.args else _string(_keyword(node, "mod_name"))
        if module and module.split(".", 1)[0] in check_commands.DEBUGGER_MODULES:
            yield f"{module}.__main__", f"{_spelling(node.func)}({module!r}) runs `python -m {module}`, a debugger"
    if callee & _SPAWN_CALLS:
        words = list(_command_words(node))
        started = check_commands.debugger_command(words)
        if started is not None:
            module = started.split()[2]
            yield f"{module}.__main__", f"{_spelling(node.func)}() runs `{started}`, a debugger"
    if callee & _JOB_COMMANDS:
        text = _literal_text(_keyword(node, "command"))
        message = check_commands.command_message(check_commands.tokens(text)) if text is not None else None
        if message is not None:
            yield "azure.ai.ml.command", f"{message} (the command= of {_spelling(node.func)}())"
    if any(name == "PythonScriptStep" or name.endswith(".PythonScriptStep") for name in callee):
        if any(_string(inner) == check_commands.REMOTE_DEBUG_FLAG for inner in ast.walk(node)):
            yield ("azureml.pipeline.steps.PythonScriptStep",
                   f"'{check_commands.REMOTE_DEBUG_FLAG}' in the arguments of {_spelling(node.func)}() "
                   "starts the step in debug mode")


#: azure-ai-ml's job and component builders whose ``command=`` runs on the cluster.
_JOB_COMMANDS = frozenset({
    "azure.ai.ml.command", "azure.ai.ml.entities.CommandComponent", "azure.ai.ml.entities.CommandJob",
    "azure.ai.ml.entities.Command",
})


def _literal_text(node: Optional[ast.AST]) -> Optional[str]:
    """A command string as far as the source spells it: a literal, a ``+`` of
    literals, or an f-string (each placeholder read as one plain word)."""
    text = _string(node)
    if text is not None:
        return text
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left), _literal_text(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "X"
            for part in node.values
        )
    return None


def _command_words(node: ast.Call) -> Iterator[str]:
    """The words of the literal command lines among a call's arguments."""
    for argument in [*node.args, *(k.value for k in node.keywords)]:
        if _string(argument) is not None:
            yield from check_commands.tokens(argument.value)
        elif isinstance(argument, (ast.List, ast.Tuple)):
            for item in argument.elts:
                text = _string(item)
                yield text if text is not None else "\0"  # a word not known, keeps positions
