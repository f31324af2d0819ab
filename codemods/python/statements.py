"""Walking a LibCST module statement by statement, knowing what runs before what.

The training-script analysis looks at statements only (assignments,
returns, imports), never at every expression node: a walk over statement
lists is a small fraction of a full visit. Each statement comes with its
*path*, from which :func:`runs_before` tells whether one statement has
surely run when another one does (what a run context passed to the debug
helper needs).
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

Scope = Optional[cst.CSTNode]  # the enclosing FunctionDef/ClassDef, None for the module


def walk(body, scope: Scope, function, path: tuple = ()) -> Iterator[tuple]:
    """Yield (kind, node, scope, function, in_suite, path) for every statement, in order.

    ``path`` says where a statement is: one ``(id of a statement list, index,
    runs whenever its parent does)`` per level of nesting, from the module's
    body down; the last is true for the bodies of ``try`` and ``with``.
    """
    for index, statement in enumerate(body):
        here = path[:-1] + ((path[-1][0] if path else id(body), index, path[-1][2] if path else True),)
        if isinstance(statement, cst.SimpleStatementLine):
            yield ("line", statement, scope, function, False, here)
        elif isinstance(statement, cst.FunctionDef):
            yield ("def", statement, scope, function, False, here)
            yield from _walk_suite(statement.body, statement, statement, here, False)
        elif isinstance(statement, cst.ClassDef):
            yield from _walk_suite(statement.body, statement, None, here, False)
        elif isinstance(statement, cst.BaseCompoundStatement):
            always = isinstance(statement, (cst.Try, cst.TryStar, cst.With))
            for suite in _suites(statement):
                yield from _walk_suite(suite, scope, function, here, always)


def _walk_suite(suite, scope: Scope, function, path: tuple, always: bool) -> Iterator[tuple]:
    inner = path + ((id(suite), 0, always),)
    if isinstance(suite, cst.SimpleStatementSuite):
        fake = cst.SimpleStatementLine(body=suite.body)
        yield ("suite", fake, scope, function, True, inner)
    else:
        yield from walk(suite.body, scope, function, inner)


def _suites(statement: cst.BaseCompoundStatement) -> Iterator:
    if not isinstance(statement, cst.Match):  # a match has only its cases' bodies
        yield statement.body
    for name in ("orelse", "finalbody"):
        extra = getattr(statement, name, None)
        while extra is not None:
            yield extra.body
            extra = getattr(extra, "orelse", None) if isinstance(extra, cst.If) else None
    for handler in getattr(statement, "handlers", ()):
        yield handler.body
    for case in getattr(statement, "cases", ()):
        yield case.body


def runs_before(earlier: tuple, later: tuple) -> bool:
    """Has the statement at path ``earlier`` surely run when the one at ``later`` runs?

    True when it comes first in the same statement list, or in the list of
    a statement that encloses ``later``, and only ``try``/``with`` bodies
    (which run whenever their statement does) stand between.
    """
    while len(earlier) > 1 and earlier[-1][2]:
        earlier = earlier[:-1]  # inside a try/with: stands for the try/with itself
    if len(earlier) > len(later):
        return False
    *outer, last = earlier
    if any((a[0], a[1]) != (b[0], b[1]) for a, b in zip(outer, later)):
        return False
    there = later[len(earlier) - 1]
    return last[0] == there[0] and last[1] < there[1]
