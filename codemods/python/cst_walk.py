"""A LibCST statement read and rewritten without rebuilding it.

``node.visit(visitor)`` rebuilds every node it passes (LibCST's
``_visit_and_replace_children`` constructs each node again, with its
validation), a visitor that changes nothing included; ``node.children``
does the same. A planner that reads a few statements of a module, and edits
a few calls in them, needs neither:

* :func:`walk` gives a statement's nodes in the order a visit takes them
  (source order, each after its parent) by reading the nodes' fields;
* :func:`rewritten` calls a transformer's ``on_leave`` on the edited nodes
  and the nodes between them and the statement only, the rest kept as they
  are (the same nodes a visit would have left equal).

Whitespace, parentheses, commas and operators are not walked: they hold no
expression. ``tests/test_cst_walk.py`` holds the walk equal to a visit's
order on every fixture.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator, Optional

import libcst as cst

#: Nodes without children that matter: skipped after they are given.
LEAVES = frozenset({cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.FormattedStringText})
_SKIPPED = frozenset({
    "lpar", "rpar", "leading_lines", "trailing_whitespace", "comma", "equal", "dot", "operator", "keyword",
    "lbrace", "rbrace", "lbracket", "rbracket", "colon", "semicolon", "first_colon", "second_colon",
})
_FIELDS: dict = {}
#: Nodes whose fields are not declared in the order a LibCST visit takes them (source order).
_VISIT_ORDER: dict = {
    cst.IfExp: ("body", "test", "orelse"),
    cst.Parameters: ("posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.CompFor: ("asynchronous", "target", "iter", "ifs", "inner_for_in"),
    cst.Slice: ("lower", "upper", "step"),
}
if hasattr(cst, "TypeAlias"):  # `type X[T] = ...` (3.12)
    _VISIT_ORDER[cst.TypeAlias] = ("name", "type_parameters", "value")
_NODE_CLASSES: dict[type, bool] = {}


def fields(kind: type) -> tuple:
    """The fields of a node that may hold an expression, in the order a LibCST visit takes them."""
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(field.name for field in dataclasses.fields(kind)
                      if field.name not in _SKIPPED and not field.name.startswith("whitespace"))
        if kind in _VISIT_ORDER:
            names = tuple(sorted(names, key=_VISIT_ORDER[kind].index))
        _FIELDS[kind] = names
    return names


def is_node(kind: type) -> bool:
    known = _NODE_CLASSES.get(kind)
    if known is None:
        known = _NODE_CLASSES[kind] = issubclass(kind, cst.CSTNode)
    return known


def walk(node: Any, parent: Any = None) -> Iterator[tuple[Any, Any]]:
    """``(node, its parent)`` for ``node`` and every node in it that may hold an expression: in a
    visit's order inside a statement line or a decorator (a compound statement's own fields, its
    decorators and its body, come in an order of their own). LibCST's node classes are never
    subclassed: the type is compared, not tested."""
    stack = [(node, parent)]
    while stack:
        node, parent = stack.pop()
        yield node, parent
        kind = type(node)
        if kind in LEAVES:
            continue
        children: list[tuple[Any, Any]] = []
        for name in fields(kind):
            value = getattr(node, name)
            held = type(value)
            if held is tuple or held is list:
                children.extend((item, node) for item in value if is_node(type(item)))
            elif is_node(held):
                children.append((value, node))
        stack.extend(reversed(children))


def path_to(targets, top: Any, parents: dict) -> Optional[set]:
    """``targets``, ``top`` and every node between them (None: a target's way up does not reach ``top``)."""
    path: set = {top}
    for target in targets:
        chain, node = [], target
        while node not in path:
            chain.append(node)
            node = parents.get(node)
            if node is None:
                return None
        path.update(chain)
    return path


def rewritten(statement: Any, path: set, rewriter: cst.CSTTransformer) -> Any:
    """The statement as ``statement.visit(rewriter)`` gives it, for a rewriter that changes nodes of
    ``path`` only: its ``on_leave`` on each node of the path, from the deepest up."""

    def rebuild(node: Any) -> Any:
        changes: dict = {}
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if isinstance(value, cst.CSTNode) and value in path:
                changes[field.name] = rebuild(value)
            elif isinstance(value, (list, tuple)) and any(isinstance(item, cst.CSTNode) and item in path for item in value):
                changes[field.name] = type(value)(rebuild(item) if isinstance(item, cst.CSTNode) and item in path
                                                  else item for item in value)
        return rewriter.on_leave(node, node.with_changes(**changes) if changes else node)

    return rebuild(statement)
