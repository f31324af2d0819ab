"""What a Python expression's value is, as far as the file tells, for ``instrument check``.

A command line or a piece of code can reach the thing that runs it through
names: ``CMD = "python -m debugpy " + PORT; command(command=CMD)``,
``ARGS = ["--remote_debug"]; PythonScriptStep(arguments=ARGS)``. This module
reads such values from the syntax tree: string constants, their
concatenations (``+``, adjacent literals, f-strings, ``str.join``), lists and
tuples (``+``, ``*items``, ``append``/``extend``/``insert``/``+=`` on a name),
``shlex.split`` of a string, and names, through every value a name is bound
to anywhere in the module (an assignment, a parameter's default, the argument
a call of a function of the module passes for it). A name bound several times
may hold any of its values, so each is looked at: a finding in any of them
is a finding. What the file cannot tell (a value read from a file, a call's
result) is an unknown word, never a guess.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional, Union

from instrument.codemods.check.commands import tokens

#: A word whose text the file does not tell (``sys.executable`` is told: a Python).
UNKNOWN = "\0"
#: How many values of one expression are looked at (names bound many times multiply).
_MAX_VALUES = 16
_MAX_DEPTH = 12

Words = tuple[str, ...]
Value = Union[str, Words]


_SKIPPED_FIELDS = frozenset({"ctx", "op", "type_comment"})


def nodes_by_type(tree: ast.AST) -> dict[type, list]:
    """Every node of a tree, by its class: one walk shared by every reading of a file (a
    tenth of :func:`ast.walk`'s cost, which also visits each ``Load()`` and operator)."""
    found: dict[type, list] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        found.setdefault(type(node), []).append(node)
        for field in node._fields:
            if field in _SKIPPED_FIELDS:
                continue
            value = getattr(node, field, None)
            if isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)
    return found


def _first_string(node: Optional[ast.AST]) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class Bindings:
    """Every value each name of a module is bound to, and what grows its lists."""

    def __init__(self, nodes: dict[type, list]) -> None:
        self.values: dict[str, list[ast.expr]] = {}
        self.grown: dict[str, list[tuple[str, ast.expr]]] = {}  # name -> (how, expr): append/extend/prepend
        self._memo: dict[int, list[Value]] = {}
        functions: dict[str, list[ast.arguments]] = {}
        calls: list[ast.Call] = nodes.get(ast.Call, [])
        for node in nodes.get(ast.Assign, ()):
            for target in node.targets:
                self._bind(target, node.value)
        for node in [*nodes.get(ast.AnnAssign, ()), *nodes.get(ast.NamedExpr, ())]:
            if node.value is not None:
                self._bind(node.target, node.value)
        for node in nodes.get(ast.AugAssign, ()):
            if isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name):
                self.grown.setdefault(node.target.id, []).append(("extend", node.value))
        for node in [*nodes.get(ast.FunctionDef, ()), *nodes.get(ast.AsyncFunctionDef, ()), *nodes.get(ast.Lambda, ())]:
            if not isinstance(node, ast.Lambda):
                functions.setdefault(node.name, []).append(node.args)
            positional = [*node.args.posonlyargs, *node.args.args]
            for arg, default in zip(positional[len(positional) - len(node.args.defaults):], node.args.defaults):
                self.values.setdefault(arg.arg, []).append(default)
            for arg, given in zip(node.args.kwonlyargs, node.args.kw_defaults):
                if given is not None:
                    self.values.setdefault(arg.arg, []).append(given)
        for call in calls:
            self._grow(call)
        for steps in self.grown.values():  # in the order the source makes them
            steps.sort(key=lambda step: (step[1].lineno, step[1].col_offset))
        for call in calls:  # a call of the module's own function binds its parameters
            if isinstance(call.func, ast.Name) and call.func.id in functions:
                for arguments in functions[call.func.id]:
                    positional = [*arguments.posonlyargs, *arguments.args]
                    for arg, value in zip(positional, call.args):
                        if not isinstance(value, ast.Starred):
                            self.values.setdefault(arg.arg, []).append(value)
                    names = {a.arg for a in [*positional, *arguments.kwonlyargs]}
                    for keyword in call.keywords:
                        if keyword.arg is not None and keyword.arg in names:
                            self.values.setdefault(keyword.arg, []).append(keyword.value)

    def _bind(self, target: ast.AST, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.values.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            for inner, item in zip(target.elts, value.elts):
                self._bind(inner, item)

    def _grow(self, call: ast.Call) -> None:
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return
        how = {"append": "append", "extend": "extend", "insert": "insert"}.get(func.attr)
        if how == "insert" and len(call.args) == 2:
            self.grown.setdefault(func.value.id, []).append(("insert", call.args[1]))
        elif how in ("append", "extend") and len(call.args) == 1:
            self.grown.setdefault(func.value.id, []).append((how, call.args[0]))

    # --- values --------------------------------------------------------------

    def strings(self, node: Optional[ast.AST], depth: int = 0) -> list[str]:
        """The texts a string expression may have (placeholders not told: UNKNOWN)."""
        return [value for value in self._values(node, depth) if isinstance(value, str)][:_MAX_VALUES]

    def word_lists(self, node: Optional[ast.AST], depth: int = 0) -> list[Words]:
        """The word lists a list or tuple expression may have."""
        return [value for value in self._values(node, depth) if isinstance(value, tuple)][:_MAX_VALUES]

    def _values(self, node: Optional[ast.AST], depth: int) -> list[Value]:
        """Each expression is read once (a name bound many times, read in many places, stays
        linear); one being read already, reached again through a name, adds nothing."""
        if node is None or depth > _MAX_DEPTH:
            return []
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = []
        found: list[Value] = []
        for value in self._each(node, depth + 1):
            if value not in found:
                found.append(value)
                if len(found) >= _MAX_VALUES:
                    break
        self._memo[key] = found
        return found

    def _each(self, node: ast.AST, depth: int) -> Iterator[Value]:
        text = _first_string(node)
        if text is not None:
            yield text
        elif isinstance(node, ast.JoinedStr):
            yield from self._joined(node.values, depth)
        elif isinstance(node, ast.FormattedValue):
            yield from (v if isinstance(v, str) else " ".join(v) for v in self._values(node.value, depth)) or [UNKNOWN]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            lefts, rights = self._values(node.left, depth), self._values(node.right, depth)
            for left in lefts:
                for right in rights:
                    if type(left) is type(right):
                        yield left + right  # type: ignore[operator]
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            yield from self._sequence(node.elts, depth)
        elif isinstance(node, ast.Name):
            for bound in self.values.get(node.id, ()):
                for value in self._values(bound, depth):
                    yield from self._grown(node.id, value, depth)
        elif isinstance(node, ast.Attribute) and node.attr == "executable":
            yield "python"  # sys.executable
        elif isinstance(node, (ast.IfExp, ast.BoolOp)):
            for part in ((node.body, node.orelse) if isinstance(node, ast.IfExp) else node.values):
                yield from self._values(part, depth)
        elif isinstance(node, ast.NamedExpr):
            yield from self._values(node.value, depth)
        elif isinstance(node, ast.Call):
            yield from self._call(node, depth)

    def _joined(self, parts: list[ast.expr], depth: int) -> Iterator[str]:
        texts = [""]
        for part in parts:
            pieces = self.strings(part, depth) or [UNKNOWN]
            texts = [text + piece for text in texts for piece in pieces][:_MAX_VALUES]
        yield from texts

    def _sequence(self, items: list[ast.expr], depth: int) -> Iterator[Words]:
        lists: list[Words] = [()]
        for item in items:
            if isinstance(item, ast.Starred):
                choices: list[Words] = self.word_lists(item.value, depth) or [(UNKNOWN,)]
            else:
                choices = [(text,) for text in self.strings(item, depth)] or [(UNKNOWN,)]
            lists = [words + choice for words in lists for choice in choices][:_MAX_VALUES]
        yield from lists

    def _grown(self, name: str, value: Value, depth: int) -> Iterator[Value]:
        if name not in self.grown:
            yield value
            return
        for how, expr in self.grown[name]:
            if isinstance(value, str) and how == "extend":
                value = value + (self.strings(expr, depth) or [UNKNOWN])[0]
            elif isinstance(value, tuple):
                if how == "extend":
                    value = value + ((self.word_lists(expr, depth) or [(UNKNOWN,)])[0])
                else:
                    word = (self.strings(expr, depth) or [UNKNOWN])[0]
                    value = (word, *value) if how == "insert" else (*value, word)
        yield value

    def _call(self, node: ast.Call, depth: int) -> Iterator[Value]:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        first = node.args[0] if node.args else None
        if name == "split":  # text.split() or shlex.split(text)
            texts = self.strings(func.value, depth) if isinstance(func, ast.Attribute) else []
            for text in texts or self.strings(first, depth):
                yield tuple(tokens(text))
            return
        if name == "join" and first is not None and isinstance(func, ast.Attribute):
            separators = self.strings(func.value, depth)
            for words in self.word_lists(first, depth):
                for separator in separators:
                    yield separator.join(words)
        elif name in ("list", "tuple") and first is not None:
            yield from self.word_lists(first, depth)
        elif name in ("str", "strip", "format") and first is not None and isinstance(func, ast.Name):
            yield from self.strings(first, depth)
        elif name in ("strip", "lstrip", "rstrip", "lower", "replace") and isinstance(func, ast.Attribute):
            yield from self.strings(func.value, depth)  # the text itself: still holds what matters
        elif name in ("join", "quote") and first is not None:  # shlex.join(words), shlex.quote(text)
            for words in self.word_lists(first, depth):
                yield " ".join(words)
            yield from self.strings(first, depth)
