"""Where Python source reaches a debugger, for ``instrument check``: one walk of the tree.

* a call of a debugger function (:func:`check_names.debug_message`), under any alias;
* such a function passed on as a value to be called later
  (``Thread(target=debugpy.listen)``, ``functools.partial(debugpy.listen, ...)``,
  ``map(...)``, ``sys.breakpointhook = remote_pdb.set_trace``);
* a string that runs: code given to ``exec``/``eval``/``compile``, a command
  line given to ``subprocess``/``os.system``/``os.exec*``/``runpy.run_module``
  (read by :mod:`.commands`), and azure-ai-ml's or SDK v1's job values
  (``command=``, ``arguments=``, ``environment_variables=``) however they
  are reached (:mod:`.values`);
* a variable that reaches a debugger set in code: ``AZUREML_DEBUG_PORT``, or
  ``PYTHONBREAKPOINT`` naming a network debugger (a dict's key, an item set,
  ``os.putenv``, ``setdefault``, a keyword).

Each finding is ``(node, qualified name, message)``; the name is what
``--allow`` patterns match.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from instrument.codemods.check import commands as check_commands
from instrument.codemods.check.names import DEBUG_ATTRIBUTES, MODULE_NAMES, NETWORK_DEBUGGERS, Names, debug_message
from instrument.codemods.check.values import Bindings, nodes_by_type

RawFinding = tuple[ast.AST, str, str]

_RUN_MODULE = frozenset({"runpy.run_module", "runpy._run_module_as_main"})
_RUN_CODE = frozenset({"exec", "eval", "compile", "builtins.exec", "builtins.eval", "builtins.compile"})
_SPAWN_CALLS = frozenset(
    {f"subprocess.{name}" for name in ("run", "call", "check_call", "check_output", "Popen", "getoutput",
                                       "getstatusoutput")}
    | {f"os.{name}" for name in ("system", "popen", "execv", "execve", "execl", "execle", "execlp", "execlpe",
                                 "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv",
                                 "spawnve", "spawnvp", "spawnvpe", "posix_spawn", "posix_spawnp")}
    | {"asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "pty.spawn", "commands.getoutput"}
)
_ENV_SETTERS = frozenset({"putenv", "setdefault", "__setitem__", "update", "dict"})
_NETWORK_ROOTS = frozenset(name.split('.', 1)[0] for name in NETWORK_DEBUGGERS)
_REFERENCES = (ast.Name, ast.Attribute, ast.Subscript, ast.Call)
_VARIABLES = (check_commands.DEBUG_PORT_VARIABLE, check_commands.BREAKPOINT_VARIABLE)


def spelling(node: ast.AST) -> str:
    """An expression as written, kept short and on one line for a message."""
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _name_of(message: str, fallback: str) -> str:
    """The qualified name a command finding is allowed by: the debugger module it starts, if any."""
    for module in check_commands.DEBUGGER_MODULES:
        if f"-m {module}" in message or f"`{module}`" in message:
            return f"{module}.__main__"
    return fallback


class Finder:
    def __init__(self, tree: ast.Module, source: str, python: check_commands.PythonCode,
                 nodes: Optional[dict] = None) -> None:
        self.python = python  # the findings in a piece of Python code (exec's, ``python -c``'s)
        self.nodes = nodes_by_type(tree) if nodes is None else nodes  # one walk, shared by every reading
        self.bindings = Bindings(self.nodes)
        self.names = Names(self.nodes, self.bindings)
        # A variable's name built from pieces is read only where the file names a way to export
        # it (``env``): the byte pre-test keeps such a file (prefilter.SINK_WORDS).
        self.exports = any(word in source for word in ("env", *_VARIABLES))

    def findings(self) -> Iterator[RawFinding]:
        called: set[int] = set()
        inner: set[int] = set()  # the value of an Attribute or Subscript: part of a longer reference
        loaded: set[str] = set()
        aliases: dict[int, str] = {}  # value of ``name = ...`` -> name
        nodes = self.nodes
        calls = nodes.get(ast.Call, [])
        called = {id(node.func) for node in calls}
        inner = {id(node.value) for kind in (ast.Attribute, ast.Subscript) for node in nodes.get(kind, ())}
        loaded = {node.id for node in nodes.get(ast.Name, ()) if isinstance(node.ctx, ast.Load)}
        aliases = {id(node.value): node.targets[0].id for node in nodes.get(ast.Assign, ())
                   if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)}
        debuggers_imported = any(
            meaning.split(".", 1)[0] in MODULE_NAMES for meanings in self.names.table.values() for meaning in meanings
        )
        for node in calls:
            yield from self._call(node, debuggers_imported)
        for node in [*nodes.get(ast.Dict, ()), *nodes.get(ast.Assign, ())]:
            yield from self._variables(node)
        for reference in _REFERENCES:
            for node in nodes.get(reference, ()):
                if id(node) in called or id(node) in inner or isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)):
                    continue
                if aliases.get(id(node)) in loaded:
                    continue  # ``l = debugpy.listen``: what uses ``l`` is reported
                if not self._may_name_something(node):
                    continue
                for name in sorted(self.names.resolve(node)):
                    why = debug_message(name)
                    if why is not None:
                        yield node, name, f"{name} {why} (passed on as a value: {spelling(node)})"
                        break

    def _may_name_something(self, node: ast.AST) -> bool:
        """Cheap test before a reference is resolved: a chain of attributes whose root is a name
        nothing binds, none of whose attributes an assignment binds, means what it spells, and
        no debugger function is spelled with a root that is not a debugger's module."""
        attributes = self.names.attributes
        while isinstance(node, ast.Attribute):
            if node.attr in attributes:
                return True
            node = node.value
        if isinstance(node, ast.Name):
            return node.id in self.names.table or node.id in self.bindings.values or node.id in MODULE_NAMES \
                or node.id in _NETWORK_ROOTS
        return True

    def _call(self, node: ast.Call, debuggers_imported: bool) -> Iterator[RawFinding]:
        callee = self.names.resolve(node.func)
        for name in sorted(callee):
            why = debug_message(name)
            if why is not None:
                written = spelling(node.func)
                alias = f" (called as {written}())" if written != name else ""
                yield node, name, f"{name}(){alias} {why}"
        if callee & _RUN_MODULE:
            for module in self.names.strings(node.args[0] if node.args else _keyword(node, "mod_name")):
                if module.split(".", 1)[0] in check_commands.DEBUGGER_MODULES:
                    yield node, f"{module}.__main__", f"{spelling(node.func)}({module!r}) runs `python -m {module}`, a debugger"
        if callee & _SPAWN_CALLS:
            for message in self._command_messages(node):
                yield node, _name_of(message, "subprocess"), f"{message} (run by {spelling(node.func)}())"
        if callee & _RUN_CODE and node.args:
            for code in self.names.strings(node.args[0]):
                for name, message in self.python(code):
                    yield node, name or "exec", f"{spelling(node.func)}() runs code: {message}"
        if any(name.startswith(("azure.", "azureml.")) or name.endswith("PythonScriptStep") for name in callee):
            yield from self._job(node, callee)
        if callee & {"operator.methodcaller", "operator.attrgetter"} and debuggers_imported:
            for attribute in self.names.strings(node.args[0] if node.args else None):
                if attribute in DEBUG_ATTRIBUTES:
                    yield node, attribute, f"{spelling(node)} calls {attribute}() of the debugger it is given"
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if method in _ENV_SETTERS or callee & {"dict", "os.putenv"}:
            if len(node.args) >= 1:
                yield from self._variable(node, node.args[0], node.args[1] if len(node.args) > 1 else None)
            for keyword in node.keywords:
                if keyword.arg in _VARIABLES:
                    yield from self._variable(node, ast.Constant(keyword.arg), keyword.value)

    def _command_messages(self, node: ast.Call) -> list[str]:
        """Why the command lines among a call's arguments must not ship."""
        messages: list[str] = []
        arguments = [*node.args, *(k.value for k in node.keywords if k.arg in (None, "args", "cmd", "command"))]
        for argument in arguments:
            for text in self.names.strings(argument):
                messages += check_commands.shell_findings(text, python=self.python)
            for words in self.bindings.word_lists(argument):
                messages += check_commands.argv_findings(words, python=self.python)
        singles = [self.names.strings(argument) for argument in node.args]
        if len(singles) > 1 and all(singles):  # os.execl(path, "python", "-m", "debugpy"): the path, then argv
            messages += check_commands.argv_findings([texts[0] for texts in singles], python=self.python)
            messages += check_commands.argv_findings([texts[0] for texts in singles[1:]], python=self.python)
        for argument in node.args[1:2]:  # os.execv(path, argv): argv names its program again
            for words in self.bindings.word_lists(argument):
                messages += check_commands.argv_findings(words[1:], python=self.python)
        return list(dict.fromkeys(messages))

    def _job(self, node: ast.Call, callee: set[str]) -> Iterator[RawFinding]:
        step = next((n for n in sorted(callee) if n.endswith("PythonScriptStep")), None)
        job = next(iter(sorted(callee)))
        for keyword in node.keywords:
            if keyword.arg == "command":
                messages = [m for text in self.names.strings(keyword.value) for m in check_commands.shell_findings(text, python=self.python)]
                messages += [m for words in self.bindings.word_lists(keyword.value)
                             for m in check_commands.argv_findings(words, python=self.python)]
                for message in dict.fromkeys(messages):
                    yield node, _name_of(message, "azure.ai.ml.command"), \
                        f"{message} (the command= of {spelling(node.func)}())"
            elif keyword.arg == "environment_variables":
                yield from self._variables(keyword.value)
        for argument in [*node.args, *(k.value for k in node.keywords if k.arg != "command")]:
            words = [w for ws in self.bindings.word_lists(argument) for w in ws] + self.names.strings(argument)
            if check_commands.remote_debug_flag(words):
                flag = check_commands.REMOTE_DEBUG_FLAG
                yield (node, step or job,
                       f"'{flag}' in the arguments of {spelling(node.func)}() starts the step in debug mode")
                break

    def _variables(self, node: ast.AST) -> Iterator[RawFinding]:
        """A debug variable set as a dict's key or an item (``env["AZUREML_DEBUG_PORT"] = ...``)."""
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is not None:
                    yield from self._variable(key, key, value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    yield from self._variable(target, target.slice, node.value)
        elif isinstance(node, ast.Name):
            for value in self.bindings.values.get(node.id, ())[:8]:
                yield from self._variables(value)

    def _variable(self, at: ast.AST, key: ast.AST, value: Optional[ast.AST]) -> Iterator[RawFinding]:
        if not self.exports:
            return
        for name in self.names.strings(key):
            if name not in _VARIABLES:
                continue
            texts: list[Optional[str]] = [*self.names.strings(value)] if value is not None else []
            for text in texts or [None]:
                message = check_commands.variable_message(name, text)
                if message is None and value is not None:
                    # PYTHONBREAKPOINT set to the function itself (a value, not a string)
                    targets = [n for n in self.names.resolve(value) if debug_message(n)]
                    message = check_commands.variable_message(name, targets[0]) if targets else None
                if message is not None:
                    yield at, f"environ.{name}", message
                    return


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    return next((k.value for k in call.keywords if k.arg == name), None)
